# vm-append: lsm=lockdown,capability,landlock,yama
# Missing prerequisites give one clear sentence each and the rest keeps
# working: a kernel booted without BPF LSM, and a subsystem whose module is
# not loaded (mdev). The ioctl collectors still count exactly.
. "$VFIOSCOPE_REPO/tests/vm/lib.sh"
O=$VFIOSCOPE_OUT

grep -qw bpf /sys/kernel/security/lsm && fail "bpf is in the active LSMs: $(cat /sys/kernel/security/lsm)"
# mdacc is the only user of mdev in the bench; without vfioscope_trace (its
# tracepoints) nothing at all reports mdev events
rmmod mdacc && rmmod vfioscope_trace && rmmod mdev ||
	fail "cannot unload mdacc, vfioscope_trace and mdev: $(lsmod | grep -E 'mdev|vfioscope')"

vfiosnoop --features > $O/features.txt 2> $O/features.err || fail "--features: $(cat $O/features.err)"
cat $O/features.txt
grep -q '^bpf-lsm  *inactive  *BPF LSM is not active: add lsm=...,bpf to the kernel command line$' \
	$O/features.txt || fail "no clear sentence for the inactive BPF LSM"
grep -q '^mdev-lifecycle  *unsupported  *module mdev is not loaded$' $O/features.txt ||
	fail "no clear sentence for the missing mdev module"
grep -q '^vfio-ioctl  *fentry ' $O/features.txt || fail "the ioctl class lost its tier"
grep -qi 'libbpf' $O/features.txt $O/features.err && fail "libbpf's own output leaked"

vfiostat > $O/stat.txt 2> $O/stat.err &
stat=$!
wait_for_line $O/stat.err attached 60 $stat
vfio-exercise edu-dma "$EDU_BDF" -n 2 -s 3 > $O/vm.txt || fail "edu-dma failed"
kill -INT $stat
wait $stat || fail "vfiostat failed: $(cat $O/stat.err)"
pid=$(awk '$1 == "pid" { print $2 }' $O/vm.txt)
awk '$1 == "ioctl"' $O/vm.txt | sort > $O/want
awk -v p=$pid '$1 == "ioctl" && $2 == p' $O/stat.txt | sort > $O/got
diff -u $O/want $O/got || fail "ioctl counts differ without mdev and BPF LSM"
echo "clear sentences for the missing prerequisites; the rest counts exactly"
