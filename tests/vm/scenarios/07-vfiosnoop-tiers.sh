# vfiosnoop's stream for driver developers: NDJSON that parses, -x shows
# exactly the calls that failed (each with its errno) and nothing else;
# --features names a tier per class; every tier of the ioctl class counts
# exactly the exerciser's ioctls: the kprobe tier (what a kernel without
# BTF gets), and on the patched modules both the tracepoint tier (device
# fds; the default there) and the fentry tier. -D shows exactly the
# events of that device's own fd, -T prints the time of day.
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
# a tool loads the classes it reads: -c ioctl leaves the others out, says
# so, and loads fewer programs (--features says how many, and where its
# start-up went)
vfiosnoop -c ioctl --features > $O/features-ioctl.txt
grep -Eq '^region-access +unsupported +not loaded: this tool was not asked for it \(here: fentry' \
	$O/features-ioctl.txt || fail "-c ioctl: $(grep '^region-access' $O/features-ioctl.txt)"
grep -Eq "^vfio-ioctl +$(awk '$1 == "vfio-ioctl" { print $2 }' $O/features.txt) " \
	$O/features-ioctl.txt || fail "-c ioctl: $(grep '^vfio-ioctl' $O/features-ioctl.txt)"
programs() { sed -n 's/^start-up  *loaded  *\([0-9]*\) programs in .* instructions processed)$/\1/p' "$1"; }
all=$(programs $O/features.txt)
one=$(programs $O/features-ioctl.txt)
[ -n "$all" ] && [ -n "$one" ] && [ "$one" -lt "$all" ] ||
	fail "programs loaded: '$all' for every class, '$one' for -c ioctl"
note "programs loaded: $all for every class, $one for -c ioctl"

vfiosnoop -j -x > $O/errors.json 2> $O/snoop.err &
snoop=$!
vfiosnoop -T -D "$EDU_BDF" -c ioctl > $O/dev.txt 2> $O/dev.err &
devsnoop=$!
wait_for_line $O/dev.err attached 60 $devsnoop
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
kill -INT $snoop $devsnoop $stats
wait $snoop || fail "vfiosnoop failed: $(cat $O/snoop.err)"
wait $devsnoop || fail "vfiosnoop -T -D failed: $(cat $O/dev.err)"
for p in $stats; do
	wait $p || fail "vfiostat $p failed: $(cat $O/*.err)"
done
pid=$(awk '$1 == "pid" { print $2 }' $O/client.txt)

jq -e . $O/errors.json > /dev/null || fail "vfiosnoop -j printed invalid JSON"
# every event of the client must be a failure: any other one is printed
notfailed=$(jq -c --argjson p $pid 'select(.pid == $p) | select((.ret < 0 and (.errno | length > 0)) | not)' \
	$O/errors.json) || fail "jq could not read vfiosnoop -x's output"
[ -z "$notfailed" ] || fail "vfiosnoop -x showed calls that did not fail: $(head -n 3 <<< "$notfailed")"
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
# -D: the client's calls on the device's own fd, each one, nothing else;
# -T: every line starts with the time of day
head -n 1 $O/dev.txt | grep -Eq '^TIME +PID +COMM +EVENT' || fail "-T header: $(head -n 1 $O/dev.txt)"
tail -n +2 $O/dev.txt | grep -Ev '^[0-2][0-9]:[0-5][0-9]:[0-6][0-9]\.[0-9]{6} ' | grep . &&
	fail "-T: lines without a time of day"
tail -n +2 $O/dev.txt | grep -v -- "$EDU_BDF" | grep . && fail "-D $EDU_BDF showed other devices' events"
expect_eq "-D $EDU_BDF: the client's device-fd ioctls" \
	"$(awk -v p=$pid '$2 == p' $O/dev.txt | wc -l)" \
	"$(awk '$1 == "ioctl" && $3 == "device" { n += $5 } END { print n + 0 }' $O/client.txt)"
echo "vfiosnoop and tier forcing OK"
