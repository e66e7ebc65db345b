# RLIMIT_MEMLOCK headroom per VM: type1 charges the pages it pins to the
# VMM's locked_vm and refuses a map (ENOMEM) that would take it past
# RLIMIT_MEMLOCK, unless the VMM has CAP_IPC_LOCK (__account_locked_vm's
# bypass). The collector reads the limit at every charge; vfiotop shows it
# (MEMLOCK) with what is left (HEADROOM), vfiostat in its vm_info row.
# Three VMs on the two edu devices and an NVMe VF, each mapping 4 x 1 MiB
# and holding them:
#   vm-lim    4 MiB + 1 MiB limit, CAP_IPC_LOCK dropped: headroom = limit - VmLck
#   vm-cap    the same limit, CAP_IPC_LOCK kept: type1 is not held to it (unlim)
#   vm-inf    no limit: unlim
# then vm-small, a 2.5 MiB limit without CAP_IPC_LOCK, whose third map
# type1 refuses (ENOMEM): the refusal in its errors.
. "$VFIOSCOPE_REPO/tests/vm/lib.sh"
O=$VFIOSCOPE_OUT
MiB=1048576
set -- $NVME_VFS
[ $# = 2 ] || fail "expected two NVMe VFs in NVME_VFS, got '$NVME_VFS'"
VF1=$1
vfiotop -b -j -d 1 > $O/top.json 2> $O/top.err &
top=$!
wait_for_line $O/top.err attached 90 $top
vfiostat 1 > $O/stat.txt 2> $O/stat.err &
stat=$!
wait_for_line $O/stat.err attached 90 $stat

# without CAP_IPC_LOCK: out of the bounding set, root's exec does not get it
NOCAP="setpriv --inh-caps=-ipc_lock --bounding-set=-ipc_lock"
prlimit --memlock=$((5 * MiB)) $NOCAP vfio-exercise --name vm-lim dma "$EDU_BDF" -n 4 --size 1M \
	--hold 30 > $O/lim.txt 2>&1 &
lim=$!
prlimit --memlock=$((5 * MiB)) vfio-exercise --name vm-cap dma "$EDU2_BDF" -n 4 --size 1M \
	--hold 30 > $O/cap.txt 2>&1 &
cap=$!
prlimit --memlock=unlimited vfio-exercise --name vm-inf dma "$VF1" -n 4 --size 1M \
	--hold 30 > $O/inf.txt 2>&1 &
inf=$!

vmlck() { awk '$1 == "VmLck:" { print $2 * 1024 }' /proc/$1/status; }
row() { last_line $O/top.json | jq -r --argjson p $1 ".vms[] | select(.pid == \$p) | $2"; }
# a frame after all three hold their four buffers (VmLck stops growing)
for i in $(seq 1 60); do
	for p in $lim $cap $inf; do kill -0 $p || fail "a VM exited early: $(cat $O/*.txt)"; done
	if [ "$(vmlck $lim)" -ge $((4 * MiB)) ] && [ "$(vmlck $cap)" -ge $((4 * MiB)) ] &&
	   [ "$(vmlck $inf)" -ge $((4 * MiB)) ]; then
		f=$(wc -l < $O/top.json)
		while [ "$(wc -l < $O/top.json)" -le $((f + 1)) ]; do sleep 0.2; done
		[ "$(row $lim .pinned_bytes)" = "$(vmlck $lim)" ] && break
	fi
	sleep 0.5
done
last_line $O/top.json | jq -c '.vms[] | {pid, name, pinned_bytes, memlock_limit, memlock_headroom}' |
	sed 's/^/-- vfiotop: /'
expect_eq "vm-lim: pinned bytes = VmLck" "$(row $lim .pinned_bytes)" "$(vmlck $lim)"
expect_eq "vm-lim: memlock limit" "$(row $lim .memlock_limit)" $((5 * MiB))
expect_eq "vm-lim: headroom = limit - VmLck" "$(row $lim .memlock_headroom)" $((5 * MiB - $(vmlck $lim)))
expect_eq "vm-cap: memlock limit" "$(row $cap .memlock_limit)" $((5 * MiB))
expect_eq "vm-cap: headroom (CAP_IPC_LOCK: not held to it, -1)" "$(row $cap .memlock_headroom)" -1
expect_eq "vm-inf: memlock limit (unlimited, -1)" "$(row $inf .memlock_limit)" -1
expect_eq "vm-inf: headroom" "$(row $inf .memlock_headroom)" -1

# vfiostat's vm_info rows (its latest dump): the limit as read, the bypass
sleep 1.5
kill -INT $stat
wait $stat || fail "vfiostat: $(cat $O/stat.err)"
stat_vm() { awk -v p=$1 -v k=$2 '$1 == "vm_info" && $2 == p {
	for (i = 3; i < NF; i++) if ($i == k) v = $(i + 1) } END { print v }' $O/stat.txt; }
expect_eq "vfiostat vm-lim memlock" "$(stat_vm $lim memlock)" $((5 * MiB))
expect_eq "vfiostat vm-cap bypass" "$(stat_vm $cap memlock_bypass)" 1
expect_eq "vfiostat vm-inf memlock" "$(stat_vm $inf memlock)" unlimited
kill $lim $cap $inf
wait $lim $cap $inf 2> /dev/null || true

# a limit that runs out: with 2 MiB pinned, 0.5 MiB of headroom, the
# third 1 MiB map is refused (ENOMEM; the exerciser gives up there)
prlimit --memlock=$((2 * MiB + 512 * 1024)) $NOCAP vfio-exercise --name vm-small dma "$EDU_BDF" \
	-n 4 --size 1M --hold 5 > $O/small.txt 2>&1 &
small=$!
wait $small && fail "vm-small mapped past its RLIMIT_MEMLOCK: $(cat $O/small.txt)"
grep -q 'Cannot allocate memory' $O/small.txt || fail "vm-small failed otherwise: $(cat $O/small.txt)"
for i in $(seq 1 20); do
	got=$(row $small .errors)
	[ -n "$got" ] && [ "$got" -ge 1 ] && break
	sleep 0.5
done
expect_eq "vm-small: maps refused, in its errors" "$(row $small .errors)" 1
expect_eq "vm-small: maps that went through" "$(row $small .dma_maps)" 2
kill -INT $top
wait $top || fail "vfiotop: $(cat $O/top.err)"
echo "RLIMIT_MEMLOCK and its headroom per VM, as type1 holds each VMM to it"
