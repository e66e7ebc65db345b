# vfiomig against vfio-exercise's own account. An mdacc instance migrates
# to another with 150 ms slept inside STOP_COPY (source) and 80 ms slept
# before the destination asks for RESUMING; vfiosnoop records the
# collectors' events, vfiomig --replay rebuilds the migration from them:
# its downtime must lie inside the exerciser's stamps around the two ioctls
# that bound it (in_bracket), the 150 ms
# sleep must lie inside the source stop-copy part and the 80 ms one inside
# the transfer gap; data bytes equal the exerciser's. A STOP_COPY that
# fails (mdacc debug_fault=fail_stop_copy) must come out as a failed
# migration with EIO. The trace-event export parses with the expected
# slices; the SVG is well-formed XML. Then the edu variant driver, the same
# way without delays.
. "$VFIOSCOPE_REPO/tests/vm/lib.sh"
O=$VFIOSCOPE_OUT
T=$MDACC_PARENT/mdev_supported_types/mdacc-1q
U1=6d646163-0000-4000-8000-000000000401
U2=6d646163-0000-4000-8000-000000000402
U3=6d646163-0000-4000-8000-000000000403
for u in $U1 $U2 $U3; do
	echo $u > $T/create || fail "create $u"
done

# record NAME ARGS...: the exerciser's migration with ARGS, recorded by
# vfiosnoop into $O/NAME.rec.json; the exerciser's exit status in REC_RC.
# The recorder runs on the other CPU at low priority: woken by each event,
# it must not preempt the exerciser between an ioctl's return and the
# exerciser's own timestamps (that would add to the exerciser's
# downtime_ns, not to the device's). Not called inside $(...): fail there
# would only leave a subshell. The recording must be whole: vfiosnoop
# exits 0 and reports no loss, live (-j "lost" records) or at exit.
REC_RC=
record() {
	local name=$1 rc=0 s
	shift
	nice -n 19 taskset -c 1 vfiosnoop -j -c migration > $O/$name.rec.json 2> $O/$name.snoop.err &
	s=$!
	wait_for_line $O/$name.snoop.err attached 90 $s
	taskset -c 0 vfio-exercise migrate "$@" > $O/$name.client.txt 2>&1 || rc=$?
	sleep 0.5
	kill -INT $s
	wait $s || fail "vfiosnoop ($name) exited with $?: $(tail -n 5 $O/$name.snoop.err)"
	if grep -q '"event":"lost"' $O/$name.rec.json; then
		fail "vfiosnoop ($name) lost events: $(grep '"event":"lost"' $O/$name.rec.json | head -n 3)"
	fi
	if grep -qE 'LOST|lost in all' $O/$name.snoop.err; then
		fail "vfiosnoop ($name) lost events: $(grep -E 'LOST|lost in all' $O/$name.snoop.err)"
	fi
	REC_RC=$rc
}

# in_bracket WHAT NS CLIENT_TXT: vfiomig's downtime runs from inside the
# source's first arc out of RUNNING/PRE_COPY to inside the destination's
# arc into RUNNING (kernel-side stamps), so it lies between the
# exerciser's own stamps around those two ioctls: at least from the first
# one's return to the second one's call, at most from the first one's call
# to the second one's return (its downtime_ns), 0.2 ms either side for the
# two clocks. A bound by speed ("within 2 ms of the exerciser's") failed
# when the host stole the exerciser's vCPU for 9 ms inside an ioctl; a
# wrong arc or clock conversion is off by far more than the bracket.
in_bracket() {
	local what=$1 got=$2 lo hi want
	read -r lo hi <<< "$(awk '$1 == "arc" && $2 == "src" && ($3 == "RUNNING" || $3 == "PRE_COPY") && $4 != "PRE_COPY" && !s { s0 = $5; s1 = $6; s = 1 }
		$1 == "arc" && $2 == "dst" && $4 == "RUNNING" { d0 = $5; d1 = $6 }
		END { if (s && d1) printf "%d %d\n", d0 - s1, d1 - s0 }' "$3")"
	want=$(awk '$1 == "downtime_ns" { print $2 }' "$3")
	[ -n "$lo" ] && [ -n "$hi" ] || fail "$what: no source stop or destination running arc in $3"
	expect_eq "$what: the exerciser's downtime_ns is its outer bracket" "$want" "$hi"
	note "$what: vfiomig $got ns, the exerciser's ioctls bracket it in [$lo, $hi] ns"
	[ "$got" -ge $((lo - 200000)) ] && [ "$got" -le $((hi + 200000)) ] ||
		fail "$what $got ns is outside the exerciser's bracket [$lo, $hi] ns"
}

# ---- a good migration with injected delays
record good $U1 $U2 --workload mdacc --delay-stop-copy 150 --delay-resume 80
expect_eq "exerciser exit status" "$REC_RC" 0
grep -q '^migration ok$' $O/good.client.txt || fail "exerciser: $(mig_why $O/good.client.txt)"
vfiomig --replay $O/good.rec.json -j --trace-out $O/good.trace.json --svg $O/good.svg \
	> $O/good.mig.json 2> $O/good.mig.err || fail "vfiomig: $(cat $O/good.mig.err)"
expect_eq "migrations found" "$(wc -l < $O/good.mig.json)" 1
M=$O/good.mig.json
expect_eq "status" "$(jq -r .status $M)" ok
expect_eq "source device" "$(jq -r '.devices[0].source' $M)" $U1
expect_eq "destination device" "$(jq -r '.devices[0].destination' $M)" $U2
expect_eq "dominant device" "$(jq -r .dominant_device $M)" $U1
got=$(jq -r .downtime_ns $M)
in_bracket "downtime" "$got" $O/good.client.txt
# the parts add up, and each sleep lies inside its part
read -r stop sc gap res <<< "$(jq -r '[.stop_ns, .devices[0].stop_copy_ns, .devices[0].transfer_gap_ns, .devices[0].resume_ns] | map(tostring) | join(" ")' $M)"
expect_eq "stop-copy + gap + resume" $((sc + gap + res)) $got
read -r d0 d1 <<< "$(awk '$1 == "delay" && $2 == "src" { print $4, $5 }' $O/good.client.txt)"
[ "$d0" -ge "$stop" ] && [ "$d1" -le $((stop + sc)) ] ||
	fail "the 150 ms stop-copy sleep [$d0, $d1] is not inside the source stop-copy part [$stop, $((stop + sc))]"
read -r d0 d1 <<< "$(awk '$1 == "delay" && $2 == "dst" { print $4, $5 }' $O/good.client.txt)"
[ "$d0" -ge $((stop + sc)) ] && [ "$d1" -le $((stop + sc + gap)) ] ||
	fail "the 80 ms resume sleep [$d0, $d1] is not inside the transfer gap [$((stop + sc)), $((stop + sc + gap))]"
[ "$sc" -ge 150000000 ] && [ "$gap" -ge 80000000 ] && [ "$gap" -lt 150000000 ] ||
	fail "stop-copy $sc ns / transfer gap $gap ns do not carry the 150 / 80 ms sleeps"
note "stop-copy $sc ns, transfer gap $gap ns, resume $res ns"
# arcs: every arc recorded (the kernel's steps: one exerciser request
# RUNNING -> STOP is RUNNING -> RUNNING_P2P -> STOP on a P2P device), none lost
jq -r --arg s $U1 --arg d $U2 'select(.event == "mig_arc" and (.device == $s or .device == $d)) | [.device, .from, .to, .start_ns] | map(tostring) | join(" ")' \
	$O/good.rec.json | sort -s -k1,1 -k4,4n | cut -d' ' -f1-3 > $O/good.want
jq -r '.devices[0].arcs[] | [.device, .from, .to, .start_ns] | map(tostring) | join(" ")' $M |
	sort -s -k1,1 -k4,4n | cut -d' ' -f1-3 > $O/good.got
diff -u $O/good.want $O/good.got || fail "vfiomig's arcs differ from the recorded ones"
want_b=$(awk '$1 == "mig_bytes" && $2 == "src" { s += $4 } END { print s + 0 }' $O/good.client.txt)
expect_eq "bytes read" "$(jq -r '.devices[0].bytes_read' $M)" "$want_b"
expect_eq "bytes written" "$(jq -r '.devices[0].bytes_written' $M)" \
	"$(awk '$1 == "mig_bytes" && $2 == "dst" { s += $4 } END { print s + 0 }' $O/good.client.txt)"
# text mode says the same
vfiomig --replay $O/good.rec.json > $O/good.mig.txt || fail "vfiomig text mode"
grep -q "migration of pid .*: ok, downtime" $O/good.mig.txt || fail "text: $(head -n 3 $O/good.mig.txt)"
grep -q "STOP_COPY *-> STOP" $O/good.mig.txt || fail "text: no STOP_COPY -> STOP arc"

# ---- trace-event export
TR=$O/good.trace.json
jq -e '.traceEvents | length > 0' $TR > /dev/null || fail "trace file does not parse or is empty"
expect_eq "arc slices" "$(jq '[.traceEvents[] | select(.ph == "X" and .cat == "arc")] | length' $TR)" \
	"$(wc -l < $O/good.want)"
expect_eq "STOP_COPY -> STOP slice on the source track" \
	"$(jq -r --arg u "src $U1" '[.traceEvents[] | select(.ph == "M" and .args.name == $u) | .tid] as $t | [.traceEvents[] | select(.ph == "X" and .name == "STOP_COPY -> STOP" and (.tid | IN($t[])))] | length' $TR)" 1
expect_eq "downtime slice (us)" \
	"$(jq -r '.traceEvents[] | select(.ph == "X" and .name == "downtime") | .dur * 1000 | round' $TR)" "$got"
# the VM's breakdown and the device's: one device, the same slices twice
for n in "source stop-copy" "transfer gap" "destination resume"; do
	expect_eq "'$n' slices" "$(jq --arg n "$n" '[.traceEvents[] | select(.ph == "X" and .name == $n)] | length' $TR)" 2
done
if [ "$want_b" -gt 0 ]; then
	jq -e '[.traceEvents[] | select(.ph == "C")] | length > 0' $TR > /dev/null ||
		fail "no byte counter events"
fi
note "trace: $(jq '.traceEvents | length' $TR) events"

# ---- SVG
xmllint --noout $O/good.svg || fail "the SVG is not well-formed"
grep -q "downtime" $O/good.svg || fail "the SVG shows no downtime"
grep -q "$U1" $O/good.svg || fail "the SVG does not name the source"
cp $O/good.svg "$VFIOSCOPE_REPO/build/vm/40-vfiomig-$(uname -r | cut -d. -f1,2).svg" 2>/dev/null || true

# ---- a failing STOP_COPY
echo fail_stop_copy > /sys/bus/mdev/devices/$U1/debug_fault
record fail $U1 $U3 --workload mdacc
echo none > /sys/bus/mdev/devices/$U1/debug_fault
expect_eq "exerciser exit status with fail_stop_copy" "$REC_RC" 3
rc=0; vfiomig --replay $O/fail.rec.json -j > $O/fail.mig.json 2> $O/fail.mig.err || rc=$?
expect_eq "vfiomig's exit status for a failed migration" $rc 3
M=$O/fail.mig.json
expect_eq "failed migrations" "$(jq -s '[.[] | select(.status == "failed")] | length' $M)" 1
expect_eq "failed errno" "$(jq -r 'select(.status == "failed") | .errno' $M)" EIO
expect_eq "failed device" "$(jq -r 'select(.status == "failed") | .failed_device' $M)" $U1
expect_eq "failing arc" "$(jq -r 'select(.status == "failed") | .devices[0].arcs[] | select(.ret < 0) | "\(.from) \(.to) \(.errno)"' $M)" "STOP STOP_COPY EIO"
vfiomig --replay $O/fail.rec.json > $O/fail.mig.txt || [ $? = 3 ] || fail "vfiomig text mode on the failure"
grep -q "failed: EIO" $O/fail.mig.txt || fail "text: $(head -n 2 $O/fail.mig.txt)"

# ---- argument errors are sentences, exit 2
rc=0; vfiomig --replay > /dev/null 2> $O/arg.err || rc=$?
expect_eq "missing --replay value: status" $rc 2
grep -q "needs a value" $O/arg.err || fail "missing value: $(cat $O/arg.err)"
rc=0; vfiomig --replay $O/good.rec.json -d 3 > /dev/null 2> $O/arg.err || rc=$?
expect_eq "-d with --replay: status" $rc 2
: > $O/empty.json
rc=0; vfiomig --replay $O/empty.json > /dev/null 2> $O/arg.err || rc=$?
expect_eq "a recording without a migration: status" $rc 5
echo '{"event":"mig_arc"' > $O/bad.json
rc=0; vfiomig --replay $O/bad.json > /dev/null 2> $O/arg.err || rc=$?
expect_eq "malformed replay: status" $rc 1
grep -q "bad.json:1:" $O/arg.err || fail "malformed replay: $(cat $O/arg.err)"

for u in $U1 $U2 $U3; do
	echo 1 > /sys/bus/mdev/devices/$u/remove
done

# ---- the edu variant driver (part of the build: its absence is a failure)
modprobe edu_vfio_pci || fail "modprobe edu_vfio_pci failed"
for bdf in "$EDU_BDF" "$EDU2_BDF"; do
	d=/sys/bus/pci/devices/$bdf
	echo "$bdf" > $d/driver/unbind
	echo edu_vfio_pci > $d/driver_override
	echo "$bdf" > /sys/bus/pci/drivers_probe
done
record edu "$EDU_BDF" "$EDU2_BDF" --workload edu --delay-stop-copy 30
expect_eq "edu exerciser exit status" "$REC_RC" 0
vfiomig --replay $O/edu.rec.json -j --svg $O/edu.svg > $O/edu.mig.json ||
	fail "vfiomig on edu"
expect_eq "edu status" "$(jq -r .status $O/edu.mig.json)" ok
got=$(jq -r .downtime_ns $O/edu.mig.json)
in_bracket "edu downtime" "$got" $O/edu.client.txt
xmllint --noout $O/edu.svg || fail "edu SVG not well-formed"
echo "vfiomig timelines match the exerciser"
