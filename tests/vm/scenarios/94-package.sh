# The Debian package, as an operator gets it: `make deb`'s vfioscope.deb
# unpacked into a tmpfs directory (the guest's root is read-only), and
# every tool run from there, not from build/bin: --version says the
# version the package was built from and bpf/abi.h's ABI; each tool does
# one real thing: vfiostat and vfiosnoop count and trace the packaged
# vfio-exercise's ioctls, vfiomig attaches, vfiotop records and replays
# (the recording names its writer), vfio-policyd checks the example policy,
# serves vfioscope_build_info on /metrics and answers --ctl; the unit's
# ExecStart is the packaged daemon; every man page renders without warning.
. "$VFIOSCOPE_REPO/tests/vm/lib.sh"
O=$VFIOSCOPE_OUT
DEB=$VFIOSCOPE_REPO/build/deb/vfioscope.deb

[ -s "$DEB" ] || fail "no package at $DEB: run make deb (make vmtest builds it when this scenario is selected)"
root=$(mktemp -d /tmp/vfioscope-pkg.XXXXXX)
dpkg-deb -x "$DEB" "$root" || fail "dpkg-deb -x $DEB failed"
note "$(dpkg-deb -f "$DEB" Package Version Architecture | tr '\n' ' ')unpacked into $root"
bin=$root/usr/bin sbin=$root/usr/sbin

# what the tools must say: the version recorded when the package was built,
# the ABI of the BPF programs in this tree
want_ver=$(cat "$VFIOSCOPE_REPO/build/deb/src/VERSION")
abi=$(awk '$1 == "#define" && $2 == "VFS_ABI_VERSION" { print $3 }' "$VFIOSCOPE_REPO/bpf/abi.h")
[ -n "$want_ver" ] && [ -n "$abi" ] || fail "no version ('$want_ver') or ABI ('$abi') to expect"
for t in $bin/vfiotop $bin/vfiosnoop $bin/vfiomig $bin/vfiostat $bin/vfio-exercise $sbin/vfio-policyd; do
	[ -x "$t" ] || fail "$t is not in the package"
	expect_eq "$(basename $t) --version" "$("$t" --version)" "$(basename $t) $want_ver (BPF ABI $abi)"
done

# vfiostat and vfiosnoop (own probes each) over the packaged exerciser
$bin/vfiostat --private -d 30 > $O/stat.txt 2> $O/stat.err &
stat=$!
$bin/vfiosnoop -c ioctl -j -d 30 > $O/snoop.json 2> $O/snoop.err &
snoop=$!
wait_for_line $O/stat.err attached 90 $stat
wait_for_line $O/snoop.err attached 90 $snoop
$bin/vfio-exercise --name pkg-vm ioctls "$EDU_BDF" --cmd get-info -n 200 > $O/vm.txt ||
	fail "the packaged vfio-exercise failed"
pid=$(awk '$1 == "pid" { print $2 }' $O/vm.txt)
kill -INT $stat $snoop
wait $stat || fail "vfiostat failed: $(cat $O/stat.err)"
wait $snoop || fail "vfiosnoop failed: $(cat $O/snoop.err)"
awk '$1 == "ioctl"' $O/vm.txt | sort > $O/want
awk -v p=$pid '$1 == "ioctl" && $2 == p' $O/stat.txt | sort > $O/got
[ -s $O/want ] || fail "vfio-exercise reported no ioctls"
diff -u $O/want $O/got || fail "the packaged vfiostat's counts differ from the exerciser's"
note "vfiostat: $(awk '{ s += $5 } END { print s }' $O/got) ioctls of pid $pid, as issued"
traced=$(jq -c --argjson p $pid 'select(.pid == $p)' $O/snoop.json | wc -l)
[ "$traced" -ge 200 ] || fail "vfiosnoop traced $traced ioctls of pid $pid, want at least 200"
note "vfiosnoop: $traced ioctl events of pid $pid"

# vfiomig attaches and watches (no migration here: exit 5, no timeline)
rc=0; $bin/vfiomig -d 2 > $O/mig.txt 2> $O/mig.err || rc=$?
[ $rc = 5 ] || fail "vfiomig -d 2 exited $rc, want 5 (no migration): $(cat $O/mig.err)"
[ ! -s $O/mig.txt ] || fail "vfiomig printed a migration where there was none: $(head -3 $O/mig.txt)"

# vfiotop records live frames and replays them; the header names the writer
$bin/vfiotop -b -j -d 0.5 -n 3 --private --record $O/rec.ndjson > $O/live.json 2> $O/top.err ||
	[ $? = 5 ] || fail "vfiotop --record failed: $(cat $O/top.err)"
expect_eq "recording's writer" "$(head -n 1 $O/rec.ndjson | jq -r .writer)" "vfiotop $want_ver"
$bin/vfiotop -b -j --replay $O/rec.ndjson > $O/replay.json 2> $O/replay.err ||
	fail "vfiotop --replay failed: $(cat $O/replay.err)"
cmp $O/live.json $O/replay.json || fail "the replayed frames differ from the live ones"

# vfio-policyd: the example policy checks; the daemon serves its build info
example=$root/etc/vfioscope/policy.yaml.example
$sbin/vfio-policyd --check "$example" > $O/check.txt || fail "--check of the example policy failed"
expect_eq "--check" "$(head -n 1 $O/check.txt)" "$example: ok"
sock=$root/policyd.sock pins=/sys/fs/bpf/vfioscope-pkg
$sbin/vfio-policyd -c "$example" --socket $sock --pin-dir $pins --no-collector \
	--metrics-port 0 > $O/pd.err 2>&1 &
pd=$!
wait_for_line $O/pd.err 'ready: control socket' 60 $pd
port=$(sed -n 's/.*metrics on 127\.0\.0\.1:\([0-9]*\)$/\1/p' $O/pd.err | tail -n 1)
curl -sf "http://127.0.0.1:$port/metrics" > $O/metrics.txt || fail "no /metrics on port $port"
expect_eq "build info" "$(grep '^vfioscope_build_info' $O/metrics.txt)" \
	"vfioscope_build_info{version=\"$want_ver\",abi=\"$abi\"} 1"
$sbin/vfio-policyd --socket $sock --ctl status > $O/status.txt || fail "--ctl status failed"
kill -TERM $pd
wait $pd || fail "vfio-policyd exited badly: $(tail -n 3 $O/pd.err)"
$sbin/vfio-policyd --pin-dir $pins --unload || fail "vfio-policyd --unload failed"
[ ! -e $pins ] || [ -z "$(ls -A $pins)" ] || fail "--unload left $(ls $pins)"

# the unit runs the packaged daemon; the pages render
exec_start=$(sed -n 's/^ExecStart=\([^ ]*\) .*/\1/p' $root/lib/systemd/system/vfio-policyd.service)
expect_eq "unit ExecStart" "$exec_start" /usr/sbin/vfio-policyd
[ -x "$root$exec_start" ] || fail "the unit's ExecStart $exec_start is not in the package"
n=0
for page in $root/usr/share/man/man[158]/*; do
	w=$(MANWIDTH=80 man --warnings -l "$page" 2>&1 > /dev/null) || fail "man -l $page failed"
	[ -z "$w" ] || fail "$page: $w"
	n=$((n + 1))
done
expect_eq "man pages rendered" $n 7
echo "the package's tools run from its own tree, and say which build they are"
