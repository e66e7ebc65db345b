# A real VMM's migration that fails: 43's set-up (QEMU 10 nested in the
# bench guest, the source VM owning $EDU_BDF on edu_vfio_pci, an incoming
# QEMU owning $EDU2_BDF, driven over QMP by tests/vm/qmpmig.py), but the
# stream is throttled so that it stays in pre-copy, and the destination
# QEMU is killed (SIGKILL) while its device is RESUMING and the source's is
# in PRE_COPY. QEMU's own recovery: the source reports the migration failed
# and brings its device back to RUNNING (VFIO_MIGRATION "running"), its VM
# runs on. vfiomig (live, -j) must report ONE migration naming both VMs,
# status failed, the failing side (dst), its device and the arc it was
# left after (STOP -> RESUMING), the failure ("exited": the process died,
# no arc failed), and the source device back in RUNNING: its last arc
# PRE_COPY -> RUNNING, just before QEMU's "running" event. The replay of
# vfiosnoop's recording (-c migration,vm: arcs, data and VM exits) gives
# the same. If QEMU polls the data fd while it iterates, each ENOMSG read
# counts as a poll, none as a data error.
. "$VFIOSCOPE_REPO/tests/vm/lib.sh"
. "$VFIOSCOPE_REPO/tests/vm/miglib.sh"
O=$VFIOSCOPE_OUT
command -v qemu-system-x86_64 > /dev/null || fail "no qemu-system-x86_64 in the guest (the host's)"
bench_edu_variant

mig_watch migration,vm

qemu_vm vm45dst "host=$EDU2_BDF,id=edu0" -incoming unix:$O/mig.sock
dst=$!
qemu_vm vm45src "host=$EDU_BDF,id=edu0"
src=$!
sleep 5
python3 "$VFIOSCOPE_REPO/tests/vm/qmpmig.py" --kill-destination $dst $O/vm45src.qmp \
	$O/vm45dst.qmp unix:$O/mig.sock $O/qmp.json > $O/qmpmig.txt 2>&1 ||
	fail "$(cat $O/qmpmig.txt); source QEMU: $(tail -n 3 $O/vm45src.log | tr '\n' ' ')"
note "$(cat $O/qmpmig.txt)"
wait $dst 2> /dev/null || true
# printed live, once the source is back in RUNNING (not at vfiomig's exit)
wait_for_line $O/live.mig.json '"status"' 20 $m
note "vfiomig printed the failed migration while the source still ran"
kill -INT $m
rc=0; wait $m || rc=$?
expect_eq "vfiomig's exit status (a migration failed)" $rc 3
kill $src
wait $src || true
kill -INT $snoop
wait $snoop || fail "vfiosnoop failed: $(cat $O/snoop.err)"
M=$O/live.mig.json
Q=$O/qmp.json
jq -c '{vm, destination_vm, status, failed_side, failure, failed_arc, failed_device}' $M |
	sed 's/^/-- vfiomig: /'
expect_eq "QEMU: the migration" "$(jq -r .query_migrate.status $Q)" failed
expect_eq "QEMU: the source VM" "$(jq -r .source_status.status $Q)" running

# check_failed FILE WHAT SRC_VM DST_VM: the one failed migration of FILE
check_failed() {
	local f=$1 w=$2
	expect_eq "$w: migrations reported (source and destination as one)" "$(wc -l < $f)" 1
	expect_eq "$w: status" "$(jq -r .status $f)" failed
	expect_eq "$w: source VM" "$(jq -r .vm $f)" "$3"
	expect_eq "$w: destination VM" "$(jq -r .destination_vm $f)" "$4"
	expect_eq "$w: source pid" "$(jq -r .pid $f)" $src
	expect_eq "$w: destination pid" "$(jq -r .destination_pid $f)" $dst
	expect_eq "$w: the failing side" "$(jq -r .failed_side $f)" dst
	expect_eq "$w: the failure" "$(jq -r .failure $f)" exited
	expect_eq "$w: the failing device" "$(jq -r .failed_device $f)" "$EDU2_BDF"
	expect_eq "$w: the arc it failed after" "$(jq -r '.failed_arc | "\(.from) -> \(.to)"' $f)" \
		"STOP -> RESUMING"
	expect_eq "$w: devices" "$(jq '.devices | length' $f)" 1
	expect_eq "$w: source device" "$(jq -r '.devices[0].source' $f)" "$EDU_BDF"
	expect_eq "$w: destination device" "$(jq -r '.devices[0].destination' $f)" "$EDU2_BDF"
	expect_eq "$w: device status" "$(jq -r '.devices[0].status' $f)" failed
	expect_eq "$w: the source device's state" "$(jq -r '.devices[0].source_state' $f)" RUNNING
	expect_eq "$w: the source's last arc" "$(jq -r '[.devices[0].arcs[] | select(.side == "src")] |
		last | "\(.from) -> \(.to) \(.ret)"' $f)" "PRE_COPY -> RUNNING 0"
	expect_eq "$w: downtime (none: the VM never stopped)" "$(jq -r .downtime_ns $f)" null
}
check_failed $M live vm45src vm45dst

# the data fd's reads in PRE_COPY, if QEMU made any before the failure
# (it may make none: whether it iterates the device is its own timing):
# every ENOMSG read ("no data right now") a poll, none a data error
enomsg=$(jq -s --arg d "$EDU_BDF" '[.[] | select(.event == "mig_data" and .device == $d and
	.ret == -42)] | length' $O/rec.json)
expect_eq "polls (reads answered ENOMSG in PRE_COPY)" "$(jq '.devices[0].data_polls' $M)" $enomsg
expect_eq "data errors" "$(jq '.devices[0].data_errors' $M)" 0

# the source's recovery, as QEMU saw it: its "running" event after the end
# of the arc back to RUNNING (QEMU stamps its event once its ioctl
# returned: never before the arc's end; how late QEMU's thread gets to it
# is QEMU's own, 5 ms seen under load, so bounded at 100 ms, as the last
# arc of a side in qmpmig.py --check-arcs)
python3 - $M $Q <<'EOF2' || fail "the source's recovery and QEMU's event disagree (above)"
import json, sys
mig = json.loads(open(sys.argv[1]).readline())
qmp = json.load(open(sys.argv[2]))
ev = [e for e in qmp["source_events"] if e["event"] == "VFIO_MIGRATION"][-1]
assert ev["data"]["device-state"] == "running", ev
t = (ev["timestamp"]["seconds"] * 1000000 + ev["timestamp"]["microseconds"]) * 1000
arc = [a for a in mig["devices"][0]["arcs"] if a["side"] == "src"][-1]
d = t - (arc["end_ns"] + mig["realtime_offset_ns"])
print(f"-- QEMU's source 'running' event - the arc's end = {d / 1e6:+.3f} ms")
# the kill came before the source's recovery, after the destination's RESUMING
k = int(qmp["killed"] * 1e9)
res = [a for a in mig["devices"][0]["arcs"] if a["side"] == "dst" and a["to"] == "RESUMING"][0]
print(f"-- killed {(k - (res['end_ns'] + mig['realtime_offset_ns'])) / 1e6:+.3f} ms after the "
      f"destination's RESUMING, {(arc['start_ns'] + mig['realtime_offset_ns'] - k) / 1e6:.3f} ms "
      f"before the source's recovery")
sys.exit(0 if -200000 <= d <= 100000000 else 1)
EOF2

# the recording (with the VMs' exits), replayed: the same one migration
rc=0; vfiomig --replay $O/rec.json -j > $O/replay.mig.json 2> $O/replay.err || rc=$?
[ $rc = 3 ] || fail "vfiomig --replay exited $rc, want 3 (a failed migration): $(cat $O/replay.err)"
check_failed $O/replay.mig.json replay qemu-system-x86 qemu-system-x86
rc=0; vfiomig --replay $O/rec.json > $O/replay.txt 2>&1 || rc=$?
[ $rc = 3 ] || fail "vfiomig --replay (text) exited $rc, want 3"
cat $O/replay.txt
grep -q "^migration of pid $src (.*) to pid $dst (.*): failed: the destination's process exited on dst $EDU2_BDF after STOP -> RESUMING" \
	$O/replay.txt || fail "vfiomig's text does not say the destination exited after STOP -> RESUMING"
grep -q "source device left in RUNNING" $O/replay.txt || fail "vfiomig's text does not show the source back in RUNNING"
echo "A destination QEMU killed mid-migration: one failed migration, the side and arc named, the source running"
