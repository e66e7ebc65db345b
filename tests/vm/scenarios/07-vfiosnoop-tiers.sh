# vfiosnoop's stream for driver developers: NDJSON that parses, -x shows
# exactly the calls that failed (each with its errno) and nothing else;
# --features names a tier per class; every tier of the ioctl class counts
# exactly the exerciser's ioctls: the kprobe tier (what a kernel without
# BTF gets), and on the patched modules both the tracepoint tier (device
# fds; the default there) and the fentry tier.
. "$VFIOSCOPE_REPO/tests/vm/lib.sh"
O=$VFIOSCOPE_OUT

vfiosnoop --features > $O/features.txt
cat $O/features.txt
FENTRY="dma-map region-access migration-arcs"
FORCED=kprobe
# the patched flavour's vfio core fires vfio:vfio_ioctl_enter/exit and its
# mdev core mdev:mdev_create: those classes are on the tracepoint tier
if [ "${VFIOSCOPE_FLAVOUR:-stock}" = patched ]; then
	for cls in vfio-ioctl irq-setup mdev-lifecycle; do
		grep -Eq "^$cls +tracepoint " $O/features.txt ||
			fail "$cls is not on the tracepoint tier of the patched modules"
	done
	FORCED="kprobe fentry tracepoint"
else
	FENTRY="$FENTRY vfio-ioctl irq-setup mdev-lifecycle"
fi
for cls in $FENTRY; do
	grep -Eq "^$cls +fentry " $O/features.txt || fail "$cls is not on the fentry tier"
done

vfiosnoop -j -x > $O/errors.json 2> $O/snoop.err &
snoop=$!
stats=
for t in $FORCED; do
	vfiostat --tier vfio-ioctl=$t > $O/$t.txt 2> $O/$t.err &
	stats="$stats $!"
done
wait_for_line $O/snoop.err attached 60 $snoop
for t in $FORCED; do
	wait_for_line $O/$t.err attached 60
done
grep -Eq '^vfio-ioctl +kprobe +forced' <(vfiostat --tier vfio-ioctl=kprobe --features) ||
	fail "--tier did not force the kprobe tier"
vfio-exercise edu-dma "$EDU_BDF" -n 2 > $O/client.txt || fail "edu-dma failed"
sleep 1
kill -INT $snoop $stats
wait $snoop || fail "vfiosnoop failed: $(cat $O/snoop.err)"
for p in $stats; do
	wait $p || fail "vfiostat $p failed: $(cat $O/*.err)"
done
pid=$(awk '$1 == "pid" { print $2 }' $O/client.txt)

jq -e . $O/errors.json > /dev/null || fail "vfiosnoop -j printed invalid JSON"
jq -e --argjson p $pid 'select(.pid == $p) | .ret < 0 and (.errno | length > 0)' $O/errors.json |
	grep -vq true && fail "vfiosnoop -x showed a call that did not fail"
want=$(awk '$1 == "ioctl_errno" { n += $6 } END { print n + 0 }' $O/client.txt)
got=$(jq -r --argjson p $pid 'select(.pid == $p and .event == "ioctl") | .cmd + " " + .errno' $O/errors.json | wc -l)
expect_eq "failed ioctls shown by vfiosnoop -x" "$got" "$want"
[ "$want" -gt 0 ] || fail "the exerciser reported no failed ioctl: the check proves nothing"

awk '$1 == "ioctl"' $O/client.txt | sort > $O/want
for t in $FORCED; do
	awk -v p=$pid '$1 == "ioctl" && $2 == p' $O/$t.txt | sort > $O/got-$t
	diff -u $O/want $O/got-$t || fail "$t tier ioctl counts differ from the exerciser's"
	note "$t tier: $(wc -l < $O/got-$t) commands equal"
done
echo "vfiosnoop and tier forcing OK"
