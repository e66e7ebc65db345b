# A VM that dies young keeps its name. VMs that live a few milliseconds
# past their first VFIO call, all gone before any reader looks at /proc:
#   young-b  vfio-exercise runs, one after another, started while vfiotop
#            is still attaching (until it prints "attached"): those its
#            probes saw exited before its first frame;
#   young-a  vfio-exercise, one GET_INFO (name in its argv and comm);
#   young-c  python3 with "-name guest=young-c,debug-threads=on" in its argv
#            (comm "python3"): named from the argv vm_info captured;
#   young-d  python3 without -name in a libvirt machine scope, removed once
#            it exited: named from the cgroup path vm_info captured.
# Each appears by its name, never "?" nor its comm, in every vfiotop JSON
# frame that shows it, in the recording's names and its replay (byte for
# byte the live frames), in vfiosnoop -j's "vm", and in vfio-policyd's
# /metrics; the edu device's owner is named like its last VM.
. "$VFIOSCOPE_REPO/tests/vm/lib.sh"
. "$VFIOSCOPE_REPO/tests/vm/policy-lib.sh"
O=$VFIOSCOPE_OUT
GRACE=600	# nothing is collected while the scenario looks

# young_py ARGS...: a python3 "VM" that opens the VFIO container, asks its
# API version (a container ioctl) and exits at once; prints "pid N"
young_py() {
	python3 - "$@" << 'EOT'
import fcntl, os
print("pid", os.getpid(), flush=True)
fd = os.open("/dev/vfio/vfio", os.O_RDWR)
fcntl.ioctl(fd, 0x3b64)	# VFIO_GET_API_VERSION
EOT
}

# the daemon, with its collectors and /metrics (a rule for nobody here)
ip link set lo up
cat > $O/p.yaml << EOT
mode: monitor
rules:
  - name: none
    match:
      - name: "no-such-vm"
    rate:
      all: {rate: 100000, burst: 100000}
EOT
PD_FLAGS="--metrics-port 0 --gc-grace $GRACE" pd_start $O/p.yaml $O/pd.err
port=$(sed -n 's/.*metrics on 127\.0\.0\.1:\([0-9]*\)$/\1/p' $O/pd.err | tail -n 1)
[ -n "$port" ] || fail "the daemon logged no metrics port: $(cat $O/pd.err)"

vfiosnoop -j > $O/snoop.json 2> $O/snoop.err &
snoop=$!
wait_for_line $O/snoop.err attached 90 $snoop

# young-b: runs until vfiotop says it attached (each started before that)
: > $O/top.err
(
	while ! grep -q attached $O/top.err; do
		vfio-exercise --name young-b ioctls "$EDU_BDF" --cmd get-info -n 1 \
			>> $O/youngb.txt 2>> $O/youngb.err || echo failed >> $O/youngb.txt
	done
) &
loop=$!
sleep 0.2
vfiotop -b -j -d 0.5 --gc-grace $GRACE --record $O/rec.ndjson > $O/live.json 2> $O/top.err &
top=$!
wait_for_line $O/top.err attached 90 $top
wait $loop
grep -q '^failed' $O/youngb.txt && fail "a young-b run failed: $(tail -n 3 $O/youngb.err)"
note "young-b: $(grep -c '^pid ' $O/youngb.txt) runs before vfiotop attached"

vfio-exercise --name young-a ioctls "$EDU_BDF" --cmd get-info -n 1 > $O/younga.txt ||
	fail "vfio-exercise young-a failed"
young_py -name guest=young-c,debug-threads=on > $O/youngc.txt || fail "young-c failed"
scope="/sys/fs/cgroup/machine.slice/machine-qemu\\x2d7\\x2dyoung\\x2dd.scope"
mkdir -p "$scope"
(echo $BASHPID > "$scope/cgroup.procs" && young_py) > $O/youngd.txt || fail "young-d failed"
rmdir "$scope" "$(dirname "$scope")"

pida=$(awk '$1 == "pid" { print $2 }' $O/younga.txt)
pidc=$(awk '$1 == "pid" { print $2 }' $O/youngc.txt)
pidd=$(awk '$1 == "pid" { print $2 }' $O/youngd.txt)
for p in $pida $pidc $pidd; do
	[ -d /proc/$p ] && fail "process $p still lives"
done

top_finish $top $O/live.json $O/top.err
sleep 1
kill -INT $snoop
wait $snoop || fail "vfiosnoop failed: $(cat $O/snoop.err)"
curl -s http://127.0.0.1:$port/metrics > $O/metrics.txt || fail "no /metrics"
kill -TERM $pd
wait $pd || fail "vfio-policyd failed: $(tail -n 5 $O/pd.err)"

# the young-b runs vfiotop's probes saw: some, or the window was missed
awk '$1 == "pid" { print $2 }' $O/youngb.txt | sort -u > $O/youngb.pids
jq -r '.vms[].pid' $O/live.json | sort -u > $O/top.pids
pidsb=$(comm -12 $O/youngb.pids $O/top.pids)
[ -n "$pidsb" ] || fail "vfiotop saw none of the young-b runs: $(tr '\n' ' ' < $O/youngb.pids)"
note "vfiotop saw $(echo $pidsb | wc -w) young-b runs started while it attached"

# names NAME PIDS...: every name each reader gives each of PIDS is NAME,
# and each reader names each of them ("PID NAME" lines, compared whole)
names() {
	local want=$1 ps
	shift
	ps=$(printf '%s\n' "$@" | jq -s -c .)
	printf "%s $want\n" "$@" | sort -u > $O/want.txt
	jq -r --argjson ps "$ps" '.vms[] | select(.pid as $p | $ps | index($p)) |
		"\(.pid) \(.name)"' $O/live.json | sort -u > $O/got.txt
	diff -u $O/want.txt $O/got.txt || fail "vfiotop's live frames misname $want"
	tail -n +2 $O/rec.ndjson | jq -r --argjson ps "$ps" '.names[] |
		select(.[0] as $p | $ps | index($p)) | "\(.[0]) \(.[1])"' | sort -u > $O/got.txt
	diff -u $O/want.txt $O/got.txt || fail "the recording misnames $want"
	jq -r --argjson ps "$ps" '.vms[] | select(.pid as $p | $ps | index($p)) |
		"\(.pid) \(.name)"' $O/replay.json | sort -u > $O/got.txt
	diff -u $O/want.txt $O/got.txt || fail "the replay misnames $want"
	jq -r --argjson ps "$ps" 'select(.pid as $p | $ps | index($p)) |
		"\(.pid) \(.vm // "(no vm)")"' $O/snoop.json | sort -u > $O/got.txt
	diff -u $O/want.txt $O/got.txt || fail "vfiosnoop -j misnames $want"
	sed -n 's/^vfioscope_vm_ioctls_total{vm="\([^"]*\)",pid="\([0-9]*\)"}.*/\2 \1/p' \
		$O/metrics.txt | grep -wF -f <(printf '%s\n' "$@") | sort -u > $O/got.txt || true
	diff -u $O/want.txt $O/got.txt || fail "/metrics misnames $want"
	note "$want (pid $*): named so by vfiotop, its recording and replay, vfiosnoop, /metrics"
}

vfiotop -b -j --replay $O/rec.ndjson > $O/replay.json 2> $O/replay.err ||
	fail "replay failed: $(cat $O/replay.err)"
cmp $O/live.json $O/replay.json || fail "the replayed frames differ from the live ones"
names young-a $pida
names young-b $pidsb
names young-c $pidc
names young-d $pidd
# and what they did is there: one GET_INFO of young-a, on the edu device
expect_eq "young-a's ioctls in the last frame" \
	"$(tail -n 1 $O/live.json | jq --argjson p $pida '.vms[] | select(.pid == $p) | .ioctls')" \
	"$(awk '$1 == "ioctl" { n += $5 } END { print n }' $O/younga.txt)"
expect_eq "young-a, young-c, young-d exited" \
	"$(tail -n 1 $O/live.json | jq -r --argjson a $pida --argjson c $pidc --argjson d $pidd \
		'[.vms[] | select(.pid == $a or .pid == $c or .pid == $d) | .state] | join(" ")')" \
	"exited exited exited"
# the device's owner: the last VM that used it, by that VM's name
owner=$(tail -n 1 $O/live.json | jq -r --arg d "$EDU_BDF" '.devices[] | select(.device == $d) |
	"\(.owner_pid) \(.owner)"')
expect_eq "the edu device's owner" "$owner" "$pida young-a"
echo "VMs that exit within a frame keep their names in every reader"
