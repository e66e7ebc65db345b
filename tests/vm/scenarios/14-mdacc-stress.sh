# mdacc under churn: 50 create/open/remove rounds across both types keep
# available_instances exact; the module unloads with instances present
# (they go away with the parent), reloads, and nothing leaks: no
# instances, IOMMU groups or module references left, no kernel complaint.
. "$VFIOSCOPE_REPO/tests/vm/lib.sh"
OUT=$VFIOSCOPE_OUT
T=$MDACC_PARENT/mdev_supported_types
avail() { echo "$(cat $T/mdacc-1q/available_instances) $(cat $T/mdacc-4q/available_instances)"; }
uuid() { printf '6d646163-0000-4000-8000-%012x' "$1"; }
groups0=$(ls /sys/kernel/iommu_groups | wc -l)
slab() { awk '$1 == "Slab:" { print $2 }' /proc/meminfo; }

expect_eq "capacity at start" "$(avail)" "8 4"
# warm-up round so caches settle before the memory baseline
echo "$(uuid 999)" > $T/mdacc-4q/create && echo 1 > /sys/bus/mdev/devices/$(uuid 999)/remove
slab0=$(slab)
for i in $(seq 1 50); do
	if [ $((i % 2)) = 0 ]; then t=mdacc-4q; want="6 3"; else t=mdacc-1q; want="7 3"; fi
	u=$(uuid $i)
	echo "$u" > $T/$t/create || fail "round $i: create $t"
	[ "$(avail)" = "$want" ] || fail "round $i: available $(avail) with one $t, want $want"
	if [ $((i % 10)) = 0 ]; then
		vfio-exercise mdacc-jobs "$u" -n 20 -s $i --irq > $OUT/round$i.txt ||
			fail "round $i: jobs failed"
	fi
	echo 1 > /sys/bus/mdev/devices/$u/remove || fail "round $i: remove"
	[ "$(avail)" = "8 4" ] || fail "round $i: available $(avail) after remove"
done
note "50 rounds: capacity exact, jobs verified every 10th round"
expect_eq "instances left" "$(ls /sys/bus/mdev/devices | wc -l)" 0
expect_eq "IOMMU groups" "$(ls /sys/kernel/iommu_groups | wc -l)" "$groups0"
slab1=$(slab)
note "Slab: ${slab0} kB before, ${slab1} kB after 50 rounds"
[ $((slab1 - slab0)) -lt 2048 ] || fail "slab grew by $((slab1 - slab0)) kB over 50 rounds"

# unload with live instances: the parent takes them down
echo "$(uuid 100)" > $T/mdacc-1q/create
echo "$(uuid 101)" > $T/mdacc-4q/create
expect_eq "mdacc refcount with instances" "$(cat /sys/module/mdacc/refcnt)" 0
rmmod mdacc || fail "rmmod mdacc with instances failed"
expect_eq "instances after unload" "$(ls /sys/bus/mdev/devices | wc -l)" 0
[ -e /sys/class/mdacc ] && fail "/sys/class/mdacc still exists after unload"
expect_eq "vfioscope_trace refcount" "$(cat /sys/module/vfioscope_trace/refcnt)" 0
rmmod vfioscope_trace || fail "rmmod vfioscope_trace failed"
for i in 1 2 3; do
	modprobe mdacc units=$((4 * i)) || fail "modprobe mdacc (round $i)"
	expect_eq "units after reload $i" "$(cat $T/mdacc-1q/available_instances)" $((4 * i))
	[ -d /sys/module/vfioscope_trace ] || fail "modprobe mdacc did not load vfioscope_trace"
	echo "$(uuid 200)" > $T/mdacc-4q/create || fail "create after reload $i"
	vfio-exercise mdacc-jobs "$(uuid 200)" -n 10 -s $i > $OUT/reload$i.txt || fail "jobs after reload $i"
	rmmod mdacc || fail "rmmod mdacc (round $i)"
done
if modprobe mdacc units=0 2>/dev/null; then fail "units=0 accepted"; fi
modprobe mdacc || fail "final modprobe mdacc"
expect_eq "capacity after reloads" "$(avail)" "8 4"
expect_eq "IOMMU groups at the end" "$(ls /sys/kernel/iommu_groups | wc -l)" "$groups0"
c=$(kernel_complaints)
[ -z "$c" ] || fail "kernel complaints: $c"
echo "mdacc create/remove churn and module reload OK"
