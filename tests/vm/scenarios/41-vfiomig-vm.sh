# A VM with two devices migrating together (one vfio-exercise process: an
# mdacc instance and an edu device on the edu variant driver), the way QEMU
# does it: both sources stop, each is saved in turn, each destination is
# loaded in turn, both start. vfiosnoop records; vfiomig --replay must give
# one migration of two devices whose per-device and per-VM downtime (first
# device stopped -> last device running) are within 2 ms of the
# exerciser's own timestamps, and name the device that dominates - the one
# whose save and load took the longest, as the exerciser computes it. Run
# twice with the injected STOP_COPY delays swapped, so the dominant device
# is not merely the first or the last. The trace-event export and the SVG
# carry both devices and the VM's three-part breakdown.
. "$VFIOSCOPE_REPO/tests/vm/lib.sh"
. "$VFIOSCOPE_REPO/tests/vm/miglib.sh"
O=$VFIOSCOPE_OUT
U1=6d646163-0000-4000-8000-000000004101
U2=6d646163-0000-4000-8000-000000004102
bench_mdacc_create $U1 $U2
bench_edu_variant

# run NAME DELAYS: record one two-device migration, replay it
run() {
	local name=$1 rc=0 s
	nice -n 19 taskset -c 1 vfiosnoop -j -c migration > $O/$name.rec.json 2> $O/$name.snoop.err &
	s=$!
	wait_for_line $O/$name.snoop.err attached 90 $s
	taskset -c 0 vfio-exercise --name vm41 migrate $U1 $U2 "$EDU_BDF" "$EDU2_BDF" \
		--workload mdacc,edu --delay-stop-copy "$2" --delay-resume 40,0 \
		> $O/$name.client.txt 2>&1 || rc=$?
	sleep 0.5
	kill -INT $s
	wait $s
	expect_eq "$name: exerciser exit status" $rc 0
	grep -qx 'migration ok' $O/$name.client.txt || fail "$name: $(mig_why $O/$name.client.txt)"
	vfiomig --replay $O/$name.rec.json -j --trace-out $O/$name.trace.json --svg $O/$name.svg \
		> $O/$name.mig.json 2> $O/$name.mig.err || fail "vfiomig: $(cat $O/$name.mig.err)"
	expect_eq "$name: VM name" "$(jq -r .comm $O/$name.mig.json)" vm41
}

run mdacc-slow 120,20
mig_check_vm $O/mdacc-slow.mig.json $O/mdacc-slow.client.txt $U1
run edu-slow 20,120
mig_check_vm $O/edu-slow.mig.json $O/edu-slow.client.txt "$EDU_BDF"

# the 120 ms sleep lies in the dominant device's share, inside the VM's
# source stop-copy part; the 40 ms one (before the first RESUMING) in the
# VM's transfer gap
M=$O/edu-slow.mig.json
read -r stop sc gap <<< "$(jq -r '[.stop_ns, .stop_copy_ns, .transfer_gap_ns] | map(tostring) | join(" ")' $M)"
read -r d0 d1 <<< "$(awk -v e="$EDU_BDF" '$1 == "delay" && $2 == "src" && $6 == e { print $4, $5 }' $O/edu-slow.client.txt)"
[ "$d0" -ge "$stop" ] && [ "$d1" -le $((stop + sc)) ] ||
	fail "the edu stop-copy sleep [$d0, $d1] is not inside the VM's stop-copy [$stop, $((stop + sc))]"
read -r d0 d1 <<< "$(awk '$1 == "delay" && $2 == "dst" { print $4, $5 }' $O/edu-slow.client.txt)"
[ "$d0" -ge $((stop + sc)) ] && [ "$d1" -le $((stop + sc + gap)) ] ||
	fail "the resume sleep [$d0, $d1] is not inside the VM's transfer gap"
share=$(jq -r --arg s "$EDU_BDF" '.devices[] | select(.source == $s) | .share_ns' $M)
[ "$share" -ge 120000000 ] || fail "edu's share $share ns does not hold its 120 ms sleep"
vfiomig --replay $O/edu-slow.rec.json > $O/edu-slow.mig.txt
grep -q "2 devices, dominated by $EDU_BDF" $O/edu-slow.mig.txt ||
	fail "text: $(head -n 1 $O/edu-slow.mig.txt)"

# ---- trace export: a track per device per side, the VM's breakdown
TR=$O/edu-slow.trace.json
for t in "src $U1" "dst $U2" "src $EDU_BDF" "dst $EDU2_BDF"; do
	expect_eq "track '$t'" "$(jq --arg t "$t" '[.traceEvents[] | select(.ph == "M" and .args.name == $t)] | length' $TR)" 1
done
# each device side's track holds exactly its recorded arcs, in order, and
# a byte counter ending at the bytes the exerciser moved
python3 - $TR $O/edu-slow.rec.json $O/edu-slow.client.txt <<'PY' || fail "trace tracks"
import json, sys
ev = json.load(open(sys.argv[1]))["traceEvents"]
rec = [json.loads(l) for l in open(sys.argv[2]) if l.strip()]
moved = {}
for l in open(sys.argv[3]):
    f = l.split()
    if f and f[0] == "mig_bytes":
        moved[f[4]] = moved.get(f[4], 0) + int(f[3])
tracks = {e["args"]["name"]: e["tid"] for e in ev if e["ph"] == "M" and e["name"] == "thread_name"}
for name, tid in tracks.items():
    side, _, dev = name.partition(" ")
    if side not in ("src", "dst"):
        continue
    got = [e["name"] for e in sorted((e for e in ev if e["ph"] == "X" and e["tid"] == tid),
                                     key=lambda e: e["ts"])]
    want = ["%s -> %s" % (r["from"], r["to"]) for r in
            sorted((r for r in rec if r.get("event") == "mig_arc" and r["device"] == dev),
                   key=lambda r: r["start_ns"])]
    assert got == want, (name, got, want)
    c = [e for e in ev if e["ph"] == "C" and e["tid"] == tid]
    assert c, "no byte counter on " + name
    last = max(c, key=lambda e: e["ts"])["args"]
    assert list(last.values())[0] == moved[dev], (name, last, moved[dev])
    print("-- track %s: %d arcs, %d byte samples ending at %d" % (name, len(got), len(c), moved[dev]))
PY
for n in "source stop-copy" "transfer gap" "destination resume"; do
	expect_eq "'$n' slices (VM + 2 devices)" \
		"$(jq --arg n "$n" '[.traceEvents[] | select(.ph == "X" and .name == $n)] | length' $TR)" 3
done
xmllint --noout $O/edu-slow.svg || fail "the SVG is not well-formed"
for u in $U1 $U2 "$EDU_BDF" "$EDU2_BDF"; do
	grep -q "$u" $O/edu-slow.svg || fail "the SVG does not name $u"
done
K=$(uname -r | cut -d. -f1,2)
cp $O/edu-slow.svg "$VFIOSCOPE_REPO/build/vm/41-vfiomig-vm-$K.svg" 2>/dev/null || true
cp $O/edu-slow.rec.json "$VFIOSCOPE_REPO/build/vm/41-vfiomig-vm-$K.rec.json" 2>/dev/null || true

# ---- wall-clock time, to join two hosts' outputs: the recording carries
# it, every instant has both clocks, the offset is the exerciser's
mig_within "realtime - monotonic offset" "$(jq .realtime_offset_ns $M)" \
	"$(awk '$1 == "realtime_offset_ns" { print $2 }' $O/edu-slow.client.txt)"
# (python: wall-clock ns exceed 2^53, which jq's doubles round)
python3 - $M $(date +%s%N) <<'PY' || fail "realtime instants"
import json, sys
m = json.loads(open(sys.argv[1]).read())
off, now = m["realtime_offset_ns"], int(sys.argv[2])
for k in ("start", "end", "stop", "running"):
    assert m[k + "_realtime_ns"] - m[k + "_ns"] == off, k
for d in m["devices"]:
    for k in ("source_stop", "source_saved", "destination_resuming", "destination_running"):
        assert d[k + "_realtime_ns"] - d[k + "_ns"] == off, (d["source"], k)
assert 0 < now - m["running_realtime_ns"] < 600 * 10**9, "not within 10 minutes before now"
PY

# ---- one side per host: with --one-side nothing is paired; each device
# side is reported alone with its instants, and joining the sides by
# device order and wall clock gives the paired downtime again
vfiomig --replay $O/edu-slow.rec.json --one-side --migration-id m41 -j > $O/one.mig.json ||
	fail "vfiomig --one-side"
expect_eq "--one-side migrations" "$(jq -s length $O/one.mig.json)" 1
expect_eq "--one-side migration id" "$(jq -r .migration_id $O/one.mig.json)" m41
expect_eq "--one-side: source-only entries" \
	"$(jq '[.devices[] | select(.destination == null and .status == "ok")] | length' $O/one.mig.json)" 2
expect_eq "--one-side: destination-only entries" \
	"$(jq '[.devices[] | select(.source == null and .status == "ok")] | length' $O/one.mig.json)" 2
joined=$(python3 -c '
import json, sys
d = json.loads(open(sys.argv[1]).read())["devices"]
print(max(x["destination_running_realtime_ns"] for x in d if x["destination"]) -
      min(x["source_stop_realtime_ns"] for x in d if x["source"]))' $O/one.mig.json)
expect_eq "joined one-side downtime" "$joined" "$(jq .downtime_ns $M)"

bench_mdacc_remove $U1 $U2
echo "a two-device VM's downtime and dominant device match the exerciser"
