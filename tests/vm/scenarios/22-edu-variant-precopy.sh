# Migration paths and timing with edu_vfio_pci. 6.12: PRE_COPY carries the
# stream header (16 bytes) while the source runs and STOP_COPY the state
# (48 bytes) on the same fd. 6.1 has no PRE_COPY: the exerciser refuses
# --precopy, and a forced RUNNING -> PRE_COPY is refused by the kernel with
# EINVAL, leaving the source RUNNING. On both, injected delays in STOP_COPY
# and before RESUMING show up in the downtime, and the driver's arc
# durations stay short (no arc waits on them).
. "$VFIOSCOPE_REPO/tests/vm/lib.sh"
OUT=$VFIOSCOPE_OUT
T=/sys/kernel/tracing

bind_variant() {	# BDF
	local d=/sys/bus/pci/devices/$1
	echo "$1" > "$d/driver/unbind"
	echo edu_vfio_pci > "$d/driver_override"
	echo "$1" > /sys/bus/pci/drivers_probe
	expect_eq "$1 driver" "$(basename "$(readlink "$d/driver")")" edu_vfio_pci
}

field() {	# FILE KEY [COLUMN]: the value of the first line starting with KEY
	awk -v k="$2" -v c="${3:-2}" '$1 == k { print $c; exit }' "$1"
}

modprobe edu_vfio_pci || fail "modprobe edu_vfio_pci failed"
bind_variant "$EDU_BDF"
bind_variant "$EDU2_BDF"

case $(uname -r) in
6.1.*)
	rc=0
	vfio-exercise migrate "$EDU_BDF" "$EDU2_BDF" --workload edu --precopy \
		> "$OUT/precopy.txt" 2> "$OUT/precopy.err" || rc=$?
	expect_eq "exit status of --precopy on 6.1" "$rc" 1
	grep -q 'does not support PRE_COPY' "$OUT/precopy.err" || fail "no reason given: $(cat "$OUT/precopy.err")"
	rc=0
	vfio-exercise migrate "$EDU_BDF" "$EDU2_BDF" --workload edu --force-precopy \
		> "$OUT/force.txt" 2>&1 || rc=$?
	cat "$OUT/force.txt"
	expect_eq "exit status of --force-precopy on 6.1 (an arc failed)" "$rc" 3
	grep -qx 'migration failed src RUNNING PRE_COPY 22' "$OUT/force.txt" ||
		fail "RUNNING -> PRE_COPY was not refused with EINVAL"
	expect_eq "source state after the refusal" "$(awk '$1 == "state_after_failure" && $2 == "src" { print $3 }' "$OUT/force.txt")" RUNNING
	;;
*)
	echo > $T/trace
	echo 1 > $T/events/vfio/vfio_mig_set_state/enable
	rc=0
	vfio-exercise migrate "$EDU_BDF" "$EDU2_BDF" --workload edu --precopy --seed 99 \
		> "$OUT/precopy.txt" || rc=$?
	echo 0 > $T/events/vfio/enable
	cat "$OUT/precopy.txt"
	[ $rc = 0 ] || fail "migration with PRE_COPY failed with status $rc"
	grep -qx 'migration ok' "$OUT/precopy.txt" || fail "no 'migration ok'"
	expect_eq "mismatching registers" "$(field "$OUT/precopy.txt" wl_edu_mismatches)" 0
	expect_eq "pre-copy bytes" "$(awk '$1 == "mig_bytes" && $3 == "precopy" { print $4 }' "$OUT/precopy.txt")" 16
	expect_eq "stop-copy bytes" "$(awk '$1 == "mig_bytes" && $3 == "stop_copy" { print $4 }' "$OUT/precopy.txt")" 48
	expect_eq "source arcs" "$(awk '$1 == "arc" && $2 == "src" { printf "%s>%s ", $3, $4 }' "$OUT/precopy.txt")" \
		"RUNNING>PRE_COPY PRE_COPY>STOP_COPY STOP_COPY>STOP "
	grep -q "vfio_mig_set_state: dev=$EDU_BDF PRE_COPY -> STOP_COPY ret=0" $T/trace ||
		fail "no PRE_COPY -> STOP_COPY event"
	;;
esac

# delays: 300 ms in STOP_COPY, 200 ms before RESUMING
rc=0
vfio-exercise migrate "$EDU2_BDF" "$EDU_BDF" --workload edu --seed 5 \
	--delay-stop-copy 300 --delay-resume 200 > "$OUT/delay.txt" || rc=$?
cat "$OUT/delay.txt"
[ $rc = 0 ] || fail "migration with delays failed with status $rc"
expect_eq "mismatching registers" "$(field "$OUT/delay.txt" wl_edu_mismatches)" 0
down=$(field "$OUT/delay.txt" downtime_ns)
[ "$down" -ge 500000000 ] || fail "downtime $down ns is shorter than the 500 ms of injected delays"
note "downtime with 500 ms of delays: $down ns"
# no single arc took the delays: each is well under them
slow=$(awk '$1 == "arc" && $6 - $5 >= 200000000 { print $2, $3, $4 }' "$OUT/delay.txt")
[ -z "$slow" ] || fail "arcs took the injected delays: $slow"

c=$(kernel_complaints)
[ -z "$c" ] || fail "kernel complaints: $c"
echo "migration paths and delays OK on $(uname -r)"
