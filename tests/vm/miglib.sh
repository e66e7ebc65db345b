# SPDX-License-Identifier: GPL-2.0
# Helpers for the vfiomig scenarios (sourced after lib.sh): a VM of several
# devices migrated by vfio-exercise, and vfiomig's account of it checked
# against the exerciser's own timestamps.

# mig_within WHAT GOT WANT K: vfiomig's stamps are the kernel's, inside the
# ioctls whose calls and returns the exerciser stamps (its arc lines in
# $MIG_CLIENT). A value from K such stamps (a point 1, an interval 2, two
# intervals 4) lies within K times the longest arc of the exerciser's
# value, plus 0.2 ms for the two clocks, and never less than 2 ms (the
# realtime offset is two clock readings, not arcs). A fixed 2 ms failed when the
# host stole the exerciser's vCPU for 5-9 ms inside an ioctl; the injected
# 20-120 ms sleeps sit between arcs, so a wrong arc is off by far more.
mig_within() {
	local d=$(( $2 > $3 ? $2 - $3 : $3 - $2 )) arc slack
	arc=$(awk '$1 == "arc" && $6 - $5 > m { m = $6 - $5 } END { printf "%d", m }' "$MIG_CLIENT")
	slack=$(( ${4:-2} * arc + 200000 ))
	[ $slack -ge 2000000 ] || slack=2000000
	[ "$d" -le $slack ] || fail "$1: vfiomig $2 ns, exerciser $3 ns: $d ns apart (> ${4:-2} x its longest arc $arc ns + 0.2 ms, or 2 ms)"
	note "$1: vfiomig $2 ns, exerciser $3 ns ($d ns apart, longest arc $arc ns)"
}

# bench_mdacc_create UUID...: mdacc-1q instances
bench_mdacc_create() {
	local u
	for u in "$@"; do
		echo "$u" > "$MDACC_PARENT/mdev_supported_types/mdacc-1q/create" || fail "create mdev $u"
	done
}

bench_mdacc_remove() {
	local u
	for u in "$@"; do
		echo 1 > "/sys/bus/mdev/devices/$u/remove"
	done
}

# bench_edu_variant: both edu devices on the migratable variant driver
bench_edu_variant() {
	local bdf d
	modprobe edu_vfio_pci || fail "modprobe edu_vfio_pci failed"
	for bdf in "$EDU_BDF" "$EDU2_BDF"; do
		d=/sys/bus/pci/devices/$bdf
		[ "$(basename "$(readlink "$d/driver")")" = edu_vfio_pci ] && continue
		echo "$bdf" > "$d/driver/unbind"
		echo edu_vfio_pci > "$d/driver_override"
		echo "$bdf" > /sys/bus/pci/drivers_probe
	done
}

# mig_check_vm MIG_JSON CLIENT_TXT DOMINANT: one migration of every pair
# the exerciser moved; per device and per VM, downtime and share as the
# exerciser's within the time its ioctls took (mig_within), its dominant device (and DOMINANT) named, the
# VM's three parts adding up, data bytes per device exact.
mig_check_vm() {
	local M=$1 C=$2 src dst want got n
	MIG_CLIENT=$C
	expect_eq "migrations" "$(jq -s length "$M")" 1
	expect_eq "status" "$(jq -r .status "$M")" ok
	n=$(awk '$1 == "device_downtime_ns"' "$C" | wc -l)
	expect_eq "devices" "$(jq '.devices | length' "$M")" "$n"
	while read -r _ src dst want; do
		expect_eq "destination of $src" \
			"$(jq -r --arg s "$src" '.devices[] | select(.source == $s) | .destination' "$M")" "$dst"
		got=$(jq -r --arg s "$src" '.devices[] | select(.source == $s) | .downtime_ns' "$M")
		mig_within "downtime of $src" "$got" "$want"
		got=$(jq -r --arg s "$src" '.devices[] | select(.source == $s) | .share_ns' "$M")
		mig_within "share of $src" "$got" \
			"$(awk -v s="$src" '$1 == "device_share_ns" && $2 == s { print $3 }' "$C")" 4
		expect_eq "bytes read from $src" \
			"$(jq -r --arg s "$src" '.devices[] | select(.source == $s) | .bytes_read' "$M")" \
			"$(awk -v s="$src" '$1 == "mig_bytes" && $2 == "src" && $5 == s { t += $4 } END { print t + 0 }' "$C")"
		expect_eq "bytes written to $dst" \
			"$(jq -r --arg s "$src" '.devices[] | select(.source == $s) | .bytes_written' "$M")" \
			"$(awk -v d="$dst" '$1 == "mig_bytes" && $2 == "dst" && $5 == d { t += $4 } END { print t + 0 }' "$C")"
	done < <(awk '$1 == "device_downtime_ns"' "$C")
	mig_within "VM downtime" "$(jq -r .downtime_ns "$M")" "$(awk '$1 == "downtime_ns" { print $2 }' "$C")"
	mig_within "VM first stop" "$(jq -r .stop_ns "$M")" "$(awk '$1 == "vm_stop_ns" { print $2 }' "$C")" 1
	mig_within "VM last running" "$(jq -r .running_ns "$M")" "$(awk '$1 == "vm_running_ns" { print $2 }' "$C")" 1
	expect_eq "exerciser's dominant device" "$(awk '$1 == "dominant_device" { print $2 }' "$C")" "$3"
	expect_eq "vfiomig's dominant device" "$(jq -r .dominant_device "$M")" "$3"
	expect_eq "VM stop-copy + gap + resume" \
		"$(jq '.stop_copy_ns + .transfer_gap_ns + .resume_ns' "$M")" "$(jq .downtime_ns "$M")"
}

# mig_watch CLASSES: vfiosnoop recording CLASSES to $O/rec.json and a live
# vfiomig -j to $O/live.mig.json, both on the second CPU at low priority
# (the nested VMMs keep the first); sets $snoop and $m once both attached
mig_watch() {
	nice -n 19 taskset -c 1 vfiosnoop -j -c "$1" > $O/rec.json 2> $O/snoop.err &
	snoop=$!
	wait_for_line $O/snoop.err attached 90 $snoop
	nice -n 19 taskset -c 1 vfiomig -j > $O/live.mig.json 2> $O/live.err &
	m=$!
	wait_for_line $O/live.err attached 90 $m
}

# qemu_nested NAME [ARGS...]: a small nested QEMU 10 VM named NAME (q35,
# TCG, 64 MiB, no disk: it runs its firmware and boots nothing), QMP on
# $O/NAME.qmp, output in $O/NAME.log, ARGS its devices; in the background
# ($! is its pid)
qemu_nested() {
	local name=$1
	shift
	qemu-system-x86_64 -name guest=$name -machine q35 -accel tcg -m 64 -nographic \
		-nodefaults -serial none -monitor none \
		-qmp unix:$O/$name.qmp,server=on,wait=off "$@" < /dev/null > $O/$name.log 2>&1 &
}

# qemu_vm NAME DEVICE [ARGS...]: qemu_nested owning a VFIO device (DEVICE:
# vfio-pci's host=BDF or sysfsdev=PATH, with its id) with migration enabled
# and its events on
qemu_vm() {
	local name=$1 dev=$2
	shift 2
	qemu_nested $name -device vfio-pci,$dev,migration-events=on,enable-migration=on "$@"
}

# qemu_mig_run NAME SRC_DEVICE DST_DEVICE [LINE_RE]: QEMU NAMEsrc owning
# SRC_DEVICE (qemu_vm's DEVICE) live-migrated over QMP (tests/vm/qmpmig.py,
# its account in $O/qmp.json) to an incoming NAMEdst owning DST_DEVICE;
# once vfiomig printed a line matching LINE_RE (default: any migration)
# while both still run, both QEMUs are killed and mig_watch's readers
# stopped. Sets $src and $dst (the QEMUs' pids).
qemu_mig_run() {
	local n=$1 sdev=$2 ddev=$3 re=${4:-'"status"'}
	qemu_vm ${n}dst "$ddev" -incoming unix:$O/mig.sock
	dst=$!
	qemu_vm ${n}src "$sdev"
	src=$!
	# the source's firmware finds nothing to boot and idles: its vCPU then
	# no longer competes with the migration threads for the guest's two CPUs
	sleep 5
	python3 "$VFIOSCOPE_REPO/tests/vm/qmpmig.py" $O/${n}src.qmp $O/${n}dst.qmp \
		unix:$O/mig.sock $O/qmp.json > $O/qmpmig.txt 2>&1 ||
		fail "$(cat $O/qmpmig.txt); source QEMU: $(tail -n 3 $O/${n}src.log | tr '\n' ' ');" \
			"destination QEMU: $(tail -n 3 $O/${n}dst.log | tr '\n' ' ')"
	note "$(cat $O/qmpmig.txt)"
	note "QEMU's warnings: $(sed 's/^.*: warning: //' $O/${n}src.log | sort -u | tr '\n' ';')"
	# printed live, while both VMs still exist: the destination runs
	wait_for_line $O/live.mig.json "$re" 20 $m
	note "vfiomig printed the migration while the QEMUs still ran"
	kill $src $dst
	wait $src $dst || true
	sleep 0.5
	kill -INT $m
	wait $m || fail "vfiomig exited with status $?: $(cat $O/live.err)"
	kill -INT $snoop
	wait $snoop || fail "vfiosnoop failed: $(cat $O/snoop.err)"
}

# qemu_mig_check DIR SRC_VM DST_VM SRC_PID DST_PID SRC_DEV DST_DEV: what a
# same-host QEMU migration of one device (scenarios 43 and 47) must give,
# from DIR/live.mig.json (vfiomig -j, live, stopped), DIR/qmp.json
# (qmpmig.py's account of a completed migration) and DIR/rec.json
# (vfiosnoop -j -c migration over the same time): ONE migration naming
# both VMs and processes, SRC_DEV -> DST_DEV; the data fd's ENOMSG reads in
# PRE_COPY (if QEMU polled) counted as polls, as many as the kernel
# returned, no data error; the bytes read on the source == written on the destination ==
# QEMU's vfio "transferred"; the downtime and its three parts adding up;
# every VFIO_MIGRATION event between the end of the matching arc and the
# next arc, the median within 5 ms (qmpmig.py --check-arcs); the
# recording, replayed, the same one
# migration. Sets QM_DOWN, QM_SC, QM_GAP, QM_RES (ns) and QM_BYTES.
qemu_mig_check() {
	local O=$1 svm=$2 dvm=$3 spid=$4 dpid=$5 sdev=$6 ddev=$7
	local M=$1/live.mig.json Q=$1/qmp.json enomsg g
	jq -c '{vm, destination_vm, status, downtime_ns, stop_copy_ns, transfer_gap_ns, resume_ns}' $M |
		sed 's/^/-- vfiomig: /'
	expect_eq "migrations reported (source and destination as one)" "$(wc -l < $M)" 1
	expect_eq "status" "$(jq -r .status $M)" ok
	expect_eq "source VM" "$(jq -r .vm $M)" "$svm"
	expect_eq "destination VM" "$(jq -r .destination_vm $M)" "$dvm"
	expect_eq "source pid" "$(jq -r .pid $M)" "$spid"
	expect_eq "destination pid" "$(jq -r .destination_pid $M)" "$dpid"
	expect_eq "devices" "$(jq '.devices | length' $M)" 1
	expect_eq "source device" "$(jq -r '.devices[0].source' $M)" "$sdev"
	expect_eq "destination device" "$(jq -r '.devices[0].destination' $M)" "$ddev"
	expect_eq "device status" "$(jq -r '.devices[0].status' $M)" ok

	# PRE_COPY's ENOMSG reads: polls, as many as the kernel returned, no errors
	enomsg=$(jq -s --arg d "$sdev" '[.[] | select(.event == "mig_data" and .device == $d and
		.ret == -42)] | length' $O/rec.json)
	# how many depends on how many rounds QEMU iterated the device before it
	# converged (one per migration on 6.12 so far, none on 7.2 once); the
	# rule itself is unit-tested (test_migmodel.c)
	note "PRE_COPY polls (ENOMSG reads) recorded: $enomsg"
	expect_eq "data errors" "$(jq '.devices[0].data_errors' $M)" 0
	expect_eq "polls (reads answered ENOMSG in PRE_COPY)" "$(jq '.devices[0].data_polls' $M)" $enomsg

	# bytes: source read == destination wrote == QEMU's vfio "transferred" (bytes)
	QM_BYTES=$(jq '.query_migrate.vfio.transferred' $Q)
	expect_eq "bytes read on the source" "$(jq '.devices[0].bytes_read' $M)" $QM_BYTES
	expect_eq "bytes written on the destination" "$(jq '.devices[0].bytes_written' $M)" $QM_BYTES
	[ "$QM_BYTES" -gt 0 ] || fail "QEMU reports no VFIO bytes transferred"

	# the downtime and its parts
	read -r QM_DOWN QM_SC QM_GAP QM_RES <<< "$(jq -r '.devices[0] | [.downtime_ns, .stop_copy_ns,
		.transfer_gap_ns, .resume_ns] | map(tostring) | join(" ")' $M)"
	case "$QM_DOWN$QM_SC$QM_GAP$QM_RES" in
	*[!0-9]*|"") fail "downtime or a part is not a number: $QM_DOWN $QM_SC $QM_GAP $QM_RES" ;;
	esac
	expect_eq "stop-copy + gap + resume" $((QM_SC + QM_GAP + QM_RES)) $QM_DOWN
	expect_eq "VM downtime (one device)" "$(jq .downtime_ns $M)" $QM_DOWN
	note "vfiomig: device downtime $QM_DOWN ns = source stop-copy $QM_SC + transfer gap $QM_GAP" \
		"+ destination resume $QM_RES"
	note "QEMU: downtime $(jq '.query_migrate.downtime' $Q) ms (VM stop -> the source's" \
		"completion), total-time $(jq '.query_migrate["total-time"]' $Q) ms"

	# every VFIO_MIGRATION event after the end of the arc into its state and
	# before the next arc
	python3 "$VFIOSCOPE_REPO/tests/vm/qmpmig.py" --check-arcs $M $Q ||
		fail "arcs and QEMU's VFIO_MIGRATION events disagree (above)"

	# the recording, replayed, gives the same one migration
	vfiomig --replay $O/rec.json -j > $O/replay.mig.json 2> $O/replay.err ||
		fail "vfiomig --replay: $(cat $O/replay.err)"
	expect_eq "replayed migrations" "$(wc -l < $O/replay.mig.json)" 1
	# vfiosnoop has probes of its own, each reading the clock when it runs,
	# before or after vfiomig's on the same hook: an interrupt, or the host
	# descheduling the guest's vCPU, between the two moves one stamp by up
	# to a host tick (4 ms), so within 5 ms; a wrong arc is tens of ms off
	g=$(jq .downtime_ns $O/replay.mig.json)
	[ $(( g > QM_DOWN ? g - QM_DOWN : QM_DOWN - g )) -le 5000000 ] ||
		fail "replayed downtime $g ns, live $QM_DOWN ns: more than 5 ms apart"
	note "replayed downtime $g ns, live $QM_DOWN ns"
	expect_eq "replayed destination" "$(jq -r .destination_vm $O/replay.mig.json)" qemu-system-x86
	expect_eq "replayed polls" "$(jq '.devices[0].data_polls' $O/replay.mig.json)" $enomsg
}
