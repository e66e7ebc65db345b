# Overload at several ring-buffer sizes: vfiosnoop streams every VFIO ioctl
# of a flood; at each size what the exerciser issued (produced) must equal
# the events delivered plus the drops counted, exactly, with the drops
# also reported live in the stream (overload_run, lib.sh). The smallest
# ring must drop, or the run proves nothing about drop counting.
. "$VFIOSCOPE_REPO/tests/vm/lib.sh"
O=$VFIOSCOPE_OUT
N=10000
first=1
for ring in 4096 16384 65536 1048576; do
	overload_run $ring $N $O
	if [ $first = 1 ]; then
		[ "$OV_LOST" -gt 0 ] ||
			fail "a $ring-byte ring dropped nothing: too large to prove drop counting"
		first=0
	fi
	echo "ring $ring: $OV_PRODUCED produced in $((OV_NS / 1000000)) ms," \
		"$OV_DELIVERED delivered, $OV_LOST dropped"
done
echo "overload fully accounted at every ring size"
