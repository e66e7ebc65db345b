# mdacc mdev life cycle through sysfs: the parent's two types and their
# attributes, available_instances tracking every create and remove (8
# capacity units: mdacc-1q costs 1, mdacc-4q costs 2), creation up to
# exhaustion, creation beyond it and duplicate/invalid UUIDs refused, and
# removal restoring the capacity.
. "$VFIOSCOPE_REPO/tests/vm/lib.sh"

T=$MDACC_PARENT/mdev_supported_types
[ -d "$T/mdacc-1q" ] && [ -d "$T/mdacc-4q" ] || fail "no mdacc types under $T"
expect_eq "mdacc-1q name" "$(cat $T/mdacc-1q/name)" mdacc-1q
expect_eq "mdacc-4q name" "$(cat $T/mdacc-4q/name)" mdacc-4q
expect_eq "device_api" "$(cat $T/mdacc-1q/device_api)" vfio-pci
expect_eq "mdacc-4q description" "$(cat $T/mdacc-4q/description)" "4 queues, 2 capacity units of 8"
expect_eq "units" "$(cat /sys/module/mdacc/parameters/units)" 8

avail() {	# -> "1q 4q"
	echo "$(cat $T/mdacc-1q/available_instances) $(cat $T/mdacc-4q/available_instances)"
}
uuid() { printf '6d646163-0000-4000-8000-%012x' "$1"; }
create() {	# TYPE N
	echo "$(uuid "$2")" > "$T/$1/create"
}
remove() {	# N
	echo 1 > "/sys/bus/mdev/devices/$(uuid "$1")/remove"
}
ndevs() { ls /sys/bus/mdev/devices | wc -l; }

expect_eq "available at start" "$(avail)" "8 4"
create mdacc-4q 1 || fail "create mdacc-4q 1"
expect_eq "after one 4q" "$(avail)" "6 3"
create mdacc-4q 2 || fail "create mdacc-4q 2"
expect_eq "after two 4q" "$(avail)" "4 2"
expect_eq "type link" "$(basename "$(readlink /sys/bus/mdev/devices/$(uuid 1)/mdev_type)")" mdacc-4q
expect_eq "4q devices listed" "$(ls $T/mdacc-4q/devices | sort | tr '\n' ' ')" "$(uuid 1) $(uuid 2) "
for i in 3 4 5 6; do
	create mdacc-1q $i || fail "create mdacc-1q $i with capacity left"
done
expect_eq "exhausted" "$(avail)" "0 0"
expect_eq "instances" "$(ndevs)" 6

# beyond capacity: refused, and nothing changes
if create mdacc-1q 7 2>/dev/null; then fail "a 1q instance beyond capacity was created"; fi
if create mdacc-4q 8 2>/dev/null; then fail "a 4q instance beyond capacity was created"; fi
expect_eq "still exhausted" "$(avail)" "0 0"
expect_eq "instances after refusals" "$(ndevs)" 6
[ -e "/sys/bus/mdev/devices/$(uuid 7)" ] && fail "refused instance left a device behind"

# removing a 1q frees one unit: one 1q fits, a 4q does not
remove 3
expect_eq "after removing a 1q" "$(avail)" "1 0"
if create mdacc-4q 8 2>/dev/null; then fail "a 4q fit into one unit"; fi
create mdacc-1q 3 || fail "re-create mdacc-1q 3"
expect_eq "refilled" "$(avail)" "0 0"

# duplicate and malformed UUIDs
remove 4
if create mdacc-1q 3 2>/dev/null; then fail "duplicate UUID accepted"; fi
if echo not-a-uuid > $T/mdacc-1q/create 2>/dev/null; then fail "malformed UUID accepted"; fi
expect_eq "after refused duplicates" "$(avail)" "1 0"

# the instance's own attributes
D=/sys/bus/mdev/devices/$(uuid 1)
for a in qos_job_rate qos_dma_bw jobs_done debug_fault; do
	[ -e "$D/$a" ] || fail "$D/$a missing"
done
expect_eq "qos_job_rate default" "$(cat $D/qos_job_rate)" 0
expect_eq "debug_fault default" "$(cat $D/debug_fault)" none
[ -e "$D/iommu_group" ] || fail "no IOMMU group for $(uuid 1)"

for i in 1 2 3 5 6; do
	remove $i || fail "remove $i"
done
expect_eq "instances at the end" "$(ndevs)" 0
expect_eq "capacity restored" "$(avail)" "8 4"
c=$(kernel_complaints)
[ -z "$c" ] || fail "kernel complaints: $c"
echo "mdacc life cycle and available_instances OK"
