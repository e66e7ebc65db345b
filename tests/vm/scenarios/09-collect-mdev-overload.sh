# (a) mdev lifecycle through the collectors: each create and remove done
# through sysfs is one event with its UUID, parent, type and result - a
# refused duplicate create included. (b) overload: vfiosnoop streams every
# ioctl into a deliberately small (4 KiB) ring buffer while the exerciser
# floods ioctls; what the exerciser issued (produced) must equal the events
# delivered plus the drops counted, exactly, and there must be drops.
. "$VFIOSCOPE_REPO/tests/vm/lib.sh"
O=$VFIOSCOPE_OUT
T=$MDACC_PARENT/mdev_supported_types
u1=$(cat /proc/sys/kernel/random/uuid)
u2=$(cat /proc/sys/kernel/random/uuid)

vfiostat -e > $O/stat.txt 2> $O/stat.err &
stat=$!
wait_for_line $O/stat.err attached 90 $stat
echo $u1 > $T/mdacc-1q/create || fail "create $u1"
echo $u2 > $T/mdacc-4q/create || fail "create $u2"
if echo $u1 > $T/mdacc-1q/create 2>/dev/null; then fail "a duplicate UUID was accepted"; fi
echo 1 > /sys/bus/mdev/devices/$u1/remove || fail "remove $u1"
echo 1 > /sys/bus/mdev/devices/$u2/remove || fail "remove $u2"
sleep 1
kill -INT $stat
wait $stat || fail "vfiostat failed: $(cat $O/stat.err)"
grep ' mdev_' $O/stat.txt
ev() { awk -v op=$1 -v u=$2 '$1 == "event" && $4 == "mdev_" op && $5 == u' $O/stat.txt; }
expect_eq "create events for $u1" "$(ev create $u1 | wc -l)" 2
expect_eq "successful create of $u1" "$(ev create $u1 | grep -c ' = 0$')" 1
ev create $u1 | grep -q ' = -EEXIST$' || fail "the refused duplicate create did not show -EEXIST"
# the type as sysfs names it, on every tier
ev create $u2 | grep -q 'type=mdacc-4q = 0$' || fail "create of $u2 not seen as type mdacc-4q"
ev create $u2 | grep -q "parent=$(basename $MDACC_PARENT) " || fail "wrong parent for $u2"
expect_eq "remove events" "$(ev remove $u1 | grep -c ' = 0$')$(ev remove $u2 | grep -c ' = 0$')" 11
expect_eq "mdev events in all" "$(awk '$1 == "event" && $4 ~ /^mdev_/' $O/stat.txt | wc -l)" 5

overload_run 4096 20000 $O
[ "$OV_LOST" -gt 0 ] || fail "nothing was dropped: the ring buffer was not small enough to prove anything"
echo "mdev events exact; overload fully accounted"
