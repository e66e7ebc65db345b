# vfiosnoop's stream for driver developers: NDJSON that parses, -x shows
# exactly the calls that failed (each with its errno) and nothing else;
# --features names a tier per class; the kprobe tier (what a kernel without
# BTF gets) counts the same ioctls as the fentry tier.
. "$VFIOSCOPE_REPO/tests/vm/lib.sh"
O=$VFIOSCOPE_OUT

vfiosnoop --features > $O/features.txt
cat $O/features.txt
FENTRY="vfio-ioctl dma-map region-access irq-setup migration-arcs"
# the patched flavour's mdev core fires mdev:mdev_create itself
if [ "${VFIOSCOPE_FLAVOUR:-stock}" = patched ]; then
	grep -Eq "^mdev-lifecycle +tracepoint " $O/features.txt ||
		fail "mdev-lifecycle is not on the tracepoint tier of the patched mdev core"
else
	FENTRY="$FENTRY mdev-lifecycle"
fi
for cls in $FENTRY; do
	grep -Eq "^$cls +fentry " $O/features.txt || fail "$cls is not on the fentry tier"
done

vfiosnoop -j -x > $O/errors.json 2> $O/snoop.err &
snoop=$!
vfiostat --tier vfio-ioctl=kprobe > $O/kprobe.txt 2> $O/kprobe.err &
kp=$!
wait_for_line $O/snoop.err attached 60 $snoop
wait_for_line $O/kprobe.err attached 60 $kp
grep -Eq '^vfio-ioctl +kprobe +forced' <(vfiostat --tier vfio-ioctl=kprobe --features) ||
	fail "--tier did not force the kprobe tier"
vfio-exercise edu-dma "$EDU_BDF" -n 2 > $O/client.txt || fail "edu-dma failed"
sleep 1
kill -INT $snoop $kp
wait $snoop || fail "vfiosnoop failed: $(cat $O/snoop.err)"
wait $kp || fail "vfiostat (kprobe tier) failed: $(cat $O/kprobe.err)"
pid=$(awk '$1 == "pid" { print $2 }' $O/client.txt)

jq -e . $O/errors.json > /dev/null || fail "vfiosnoop -j printed invalid JSON"
jq -e --argjson p $pid 'select(.pid == $p) | .ret < 0 and (.errno | length > 0)' $O/errors.json |
	grep -vq true && fail "vfiosnoop -x showed a call that did not fail"
want=$(awk '$1 == "ioctl_errno" { n += $6 } END { print n + 0 }' $O/client.txt)
got=$(jq -r --argjson p $pid 'select(.pid == $p and .event == "ioctl") | .cmd + " " + .errno' $O/errors.json | wc -l)
expect_eq "failed ioctls shown by vfiosnoop -x" "$got" "$want"
[ "$want" -gt 0 ] || fail "the exerciser reported no failed ioctl: the check proves nothing"

awk '$1 == "ioctl"' $O/client.txt | sort > $O/want
awk -v p=$pid '$1 == "ioctl" && $2 == p' $O/kprobe.txt | sort > $O/got
diff -u $O/want $O/got || fail "kprobe tier ioctl counts differ from the exerciser's"
note "kprobe tier: $(wc -l < $O/got) commands equal"
echo "vfiosnoop and tier forcing OK"
