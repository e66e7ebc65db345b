# vfiotop --record then --replay: the replayed JSON frames are byte for
# byte the live ones (every view, times included), and the text view of
# the replay shows the VMs; a truncated recording and a corrupted one stop
# with "FILE:LINE: reason" and exit status 1, not a crash; replay needs
# neither root nor BPF. vm-b is named in every frame, even when it exits
# before the first one.
. "$VFIOSCOPE_REPO/tests/vm/lib.sh"
O=$VFIOSCOPE_OUT

vfiotop -b -j -d 0.5 --record $O/rec.ndjson > $O/live.json 2> $O/top.err &
top=$!
wait_for_line $O/top.err attached 90 $top
vfio-exercise --name vm-a dma "$EDU2_BDF" -n 2 --size 1M > $O/vma.txt ||
	fail "vfio-exercise dma failed"
vfio-exercise --name vm-b ioctls "$EDU_BDF" --cmd get-info -n 3000 > $O/vmb.txt ||
	fail "vfio-exercise ioctls failed"
top_finish $top $O/live.json $O/top.err
frames=$(wc -l < $O/live.json)
expect_eq "recorded lines (header + frames)" "$(wc -l < $O/rec.ndjson)" $((frames + 1))
head -n 1 $O/rec.ndjson | jq -e '.format == "vfiotop-record" and .version == 1' > /dev/null ||
	fail "no versioned header"

vfiotop -b -j --replay $O/rec.ndjson > $O/replay.json 2> $O/replay.err ||
	fail "replay failed: $(cat $O/replay.err)"
cmp $O/live.json $O/replay.json || fail "the replayed frames differ from the live ones"
note "$frames frames replayed identically"
pidb=$(awk '$1 == "pid" { print $2 }' $O/vmb.txt)
# vm-b may well exit before the first frame reads /proc: its name comes
# from what vm_info captured then, in every frame and in the recording
expect_eq "vm-b's name in the live frames" "$(jq -r --argjson p $pidb \
	'.vms[] | select(.pid == $p) | .name' $O/live.json | sort -u | tr '\n' ' ')" "vm-b "
expect_eq "vm-b's name in the recording" "$(tail -n +2 $O/rec.ndjson | jq -r --argjson p $pidb \
	'.names[] | select(.[0] == $p) | .[1]' | sort -u | tr '\n' ' ')" "vm-b "
expect_eq "vm-b's ioctls in the last replayed frame" \
	"$(tail -n 1 $O/replay.json | jq --argjson p $pidb '.vms[] | select(.pid == $p) | .ioctls')" \
	"$(awk '$1 == "ioctl" { n += $5 } END { print n }' $O/vmb.txt)"
# the text view, as an unprivileged user: no root, no BPF needed
cp $O/rec.ndjson /tmp/rec.ndjson
chmod 644 /tmp/rec.ndjson
setpriv --reuid=65534 --regid=65534 --clear-groups vfiotop -b --replay /tmp/rec.ndjson -f vm- \
	> $O/replay.txt 2> $O/replay2.err || fail "replay as nobody failed: $(cat $O/replay2.err)"
grep -q "^ *$pidb vm-b " $O/replay.txt || fail "vm-b missing from the replayed text frames"
expect_eq "text frames" "$(grep -c '^vfiotop .* frame ' $O/replay.txt)" $frames

# truncated in the middle of the last line
size=$(stat -c %s $O/rec.ndjson)
head -c $((size - 30)) $O/rec.ndjson > $O/trunc.ndjson
rc=0
vfiotop -b --replay $O/trunc.ndjson > /dev/null 2> $O/trunc.err || rc=$?
expect_eq "truncated: exit status" $rc 1
expect_eq "truncated: the error" "$(cat $O/trunc.err)" \
	"vfiotop: $O/trunc.ndjson:$((frames + 1)): truncated: the last line has no end"
# a corrupted frame: a non-hex digit in line 3's first map entry
sed '3s/"ioctl_stats":\["\(..\)/"ioctl_stats":["zz/; 3s/"vm_info":\["\(..\)/"vm_info":["zz/' \
	$O/rec.ndjson > $O/bad.ndjson
cmp -s $O/rec.ndjson $O/bad.ndjson && fail "line 3 has no map entry to corrupt"
rc=0
vfiotop -b --replay $O/bad.ndjson > /dev/null 2> $O/bad.err || rc=$?
expect_eq "corrupted: exit status" $rc 1
grep -Eq "^vfiotop: $O/bad.ndjson:3: map \"(ioctl_stats|vm_info)\" entry 0: not lowercase hex\$" $O/bad.err ||
	fail "corrupted: unexpected error: $(cat $O/bad.err)"
note "$(cat $O/bad.err)"
# not a recording at all
rc=0
vfiotop -b --replay $O/vmb.txt > /dev/null 2> $O/not.err || rc=$?
expect_eq "not a recording: exit status" $rc 1
grep -q "^vfiotop: $O/vmb.txt:1: not a JSON line" $O/not.err || fail "$(cat $O/not.err)"
echo "vfiotop's replay reproduces the recorded frames and names bad lines"
