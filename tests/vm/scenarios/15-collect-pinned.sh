# One set of probes shared by every reader: `vfiostat --pin` loads the
# collectors and pins maps and links under /sys/fs/bpf/vfioscope; they keep
# counting after it exits; later readers (two vfiostat, a vfiotop) read the
# same counters (so they see work done before they started), the event stream
# has one reader at a time (the second is told who holds it), and
# `vfiostat --unpin` detaches everything.
. "$VFIOSCOPE_REPO/tests/vm/lib.sh"
O=$VFIOSCOPE_OUT
ROOT=/sys/fs/bpf/vfioscope/collectors

progs() { bpftool prog show | grep -c 'name \(device_ioctl\|mig_next_state\|region_\)' || true; }
before=$(progs)
vfiostat --pin -d 1 > $O/pin.txt 2> $O/pin.err || fail "vfiostat --pin: $(cat $O/pin.err)"
grep -q 'attached (pinned' $O/pin.err || fail "vfiostat --pin did not pin: $(cat $O/pin.err)"
[ -e $ROOT/meta ] && [ -e $ROOT/map-ioctl_stats ] || fail "nothing pinned under $ROOT: $(ls $ROOT 2>&1)"
nlinks=$(ls $ROOT | grep -c '^link-') || true
[ "$nlinks" -gt 0 ] || fail "no links pinned"
note "$nlinks links and $(ls $ROOT | grep -c '^map-') maps pinned"
[ "$(progs)" -gt "$before" ] || fail "the pinned programs are not loaded after vfiostat exited"

# work done while no reader runs is counted by the pinned probes
vfio-exercise edu-dma "$EDU_BDF" -n 3 -s 5 > $O/vm1.txt || fail "edu-dma failed"
pid=$(awk '$1 == "pid" { print $2 }' $O/vm1.txt)

vfiostat > $O/a.txt 2> $O/a.err &
a=$!
vfiostat > $O/b.txt 2> $O/b.err &
b=$!
wait_for_line $O/a.err 'attached (pinned' 60 $a
wait_for_line $O/b.err 'attached (pinned' 60 $b
kill -INT $a $b
wait $a || fail "reader a: $(cat $O/a.err)"
wait $b || fail "reader b: $(cat $O/b.err)"
awk '$1 == "ioctl"' $O/vm1.txt | sort > $O/want
for r in a b; do
	awk -v p=$pid '$1 == "ioctl" && $2 == p' $O/$r.txt | sort > $O/$r.got
	diff -u $O/want $O/$r.got || fail "reader $r: counts of the earlier VM differ"
done
note "two shared readers: $(wc -l < $O/want) commands of a VM that ran before them, equal"
# vmstat's habit: vfiostat INTERVAL COUNT prints COUNT framed dumps and
# exits by itself; each holds the earlier VM's counts
timeout 60 vfiostat 1 2 > $O/periodic.txt 2> $O/periodic.err ||
	fail "vfiostat 1 2: exit $?: $(cat $O/periodic.err)"
expect_eq "vfiostat 1 2: the frames" \
	"$(grep -E '^(dump|end) ' $O/periodic.txt | sed 's/^\(dump [0-9]*\) [0-9]*$/\1 T/' | tr '\n' ' ')" \
	"dump 1 T end 1 dump 2 T end 2 "
for n in 1 2; do
	sed -n "/^dump $n /,/^end $n\$/p" $O/periodic.txt |
		awk -v p=$pid '$1 == "ioctl" && $2 == p' | sort > $O/periodic.$n
	diff -u $O/want $O/periodic.$n || fail "vfiostat 1 2, dump $n: counts of the earlier VM differ"
done
# vfiotop on the same set: the VM that ran before it, with all its ioctls
vfiotop --shared -b -j -n 1 > $O/top.json 2> $O/top.err || fail "vfiotop --shared: $(cat $O/top.err)"
expect_eq "vfiotop --shared: the earlier VM's ioctls" \
	"$(jq -r --argjson p $pid '.vms[] | select(.pid == $p) | .ioctls' $O/top.json)" \
	"$(awk '$1 == "ioctl" { n += $5 } END { print n }' $O/vm1.txt)"

# one stream reader at a time
vfiosnoop --shared > $O/s1.txt 2> $O/s1.err &
s1=$!
sleep 3
vfio-exercise info "$EDU_BDF" > /dev/null || fail "info failed"
vfiosnoop --shared -d 5 > $O/s2.txt 2> $O/s2.err && fail "a second stream reader was let in"
grep -q "read by pid $s1" $O/s2.err || fail "the refusal does not name the holder $s1: $(cat $O/s2.err)"
kill -INT $s1
wait $s1 || fail "first stream reader: $(cat $O/s1.err)"
grep -q "$EDU_BDF" $O/s1.txt || fail "the shared stream showed no event of $EDU_BDF"

vfiostat --unpin || fail "--unpin failed"
[ ! -e $ROOT ] || fail "$ROOT still there: $(ls $ROOT)"
# trampolines are freed after an RCU-tasks grace period: give it time
for i in $(seq 60); do
	[ "$(progs)" = "$before" ] && break
	sleep 0.5
done
expect_eq "our programs after --unpin" "$(progs)" "$before"
echo "pinned collectors shared by readers, removed by --unpin"
