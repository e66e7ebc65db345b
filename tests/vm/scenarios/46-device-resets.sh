# Device resets against vfio-exercise's own account, exactly. An NVMe VF
# (PCIe FLR) opened by one "VM" and reset 3 times through VFIO_DEVICE_RESET:
# the reset class counts 1 FLR at open, 3 FLRs caused by the ioctl (each ok,
# each at least the 100 ms pcie_flr waits and at most the ioctl's own time
# as the exerciser measured it), 1 FLR at release. edu (no reset method)
# opened by another and reset twice: vfio-pci declines at open (the PCI
# core's -ENOTTY, method none) and refuses each ioctl before the PCI core
# (-EINVAL, method none), each counted with its result; its release runs
# no reset at all. The other VF asked for a hot reset (VFIO_DEVICE_PCI_HOT_RESET)
# is counted with the result its caller got. A sysfs "reset" of the first
# VF afterwards is an FLR of cause other, by the writing process, shown on
# the VF's device row. vfiosnoop's events, vfiostat's
# counters, vfio-policyd's /metrics families and vfiotop's device columns
# give the same figures.
. "$VFIOSCOPE_REPO/tests/vm/lib.sh"
. "$VFIOSCOPE_REPO/tests/vm/policy-lib.sh"
. "$VFIOSCOPE_REPO/tests/vm/prom-lib.sh"
O=$VFIOSCOPE_OUT
ip link set lo up

set -- $NVME_VFS
VF=$1 VF2=$2

vfiostat --features > $O/features.txt
grep -Eq '^device-reset +fentry ' $O/features.txt ||
	fail "device-reset is not on the fentry tier: $(grep device-reset $O/features.txt)"
readers_start reset

vfio-exercise --name rst-nvme reset "$VF" -n 3 > $O/nvme.txt || fail "reset of $VF failed"
vfio-exercise --name rst-edu reset "$EDU_BDF" -n 2 > $O/edu.txt || fail "reset of edu failed"
vfio-exercise --name rst-hot reset "$VF2" --hot > $O/hot.txt || fail "hot reset of $VF2 failed"
# the kernel's own interface: sysfs "reset" of the (closed) VF, by this
# subshell, outside any VFIO call
( echo $BASHPID > $O/sysfs.pid; echo 1 > /sys/bus/pci/devices/$VF/reset ) ||
	fail "sysfs reset of $VF failed"
cat $O/nvme.txt $O/edu.txt $O/hot.txt | grep -v '^ioctl'
# the stream is drained at least every poll timeout
sleep 1
curl -s http://127.0.0.1:$port/metrics > $O/scrape.txt
top_finish $top $O/top.json $O/top.err
kill -INT $snoop $stat $pd
wait $snoop || fail "vfiosnoop failed: $(cat $O/snoop.err)"
wait $stat || fail "vfiostat failed: $(cat $O/stat.err)"
wait $pd || fail "vfio-policyd failed: $(cat $O/pd.err)"
cat $O/snoop.json
# vfiostat's dump at exit
awk '$1 == "reset"' $O/stat.txt | tee $O/resets.txt

pn=$(awk '$1 == "pid" { print $2 }' $O/nvme.txt)
pe=$(awk '$1 == "pid" { print $2 }' $O/edu.txt)
expect_eq "VF's reset flag (vfio-pci found a reset method)" "$(awk '$1 == "reset_flag" { print $2 }' $O/nvme.txt)" 1
expect_eq "edu's reset flag" "$(awk '$1 == "reset_flag" { print $2 }' $O/edu.txt)" 0

# events per (pid, device, cause, method, result)
jq -r '"\(.pid) \(.device) \(.cause) \(.method) \(if .ret == 0 then "ok" else .errno end)"' \
	$O/snoop.json | sort | uniq -c | awk '{ print $2, $3, $4, $5, $6, $1 }' > $O/ev.got
ok=$(awk '$1 == "reset_result" && $2 == "ok" { print $3 }' $O/nvme.txt)
einval=$(awk '$1 == "reset_result" && $2 == "EINVAL" { print $3 }' $O/edu.txt)
ph=$(awk '$1 == "pid" { print $2 }' $O/hot.txt)
hot=$(awk '$1 == "reset_call" { print $3 }' $O/hot.txt)
# a hot reset that reached pci_reset_bus is method hot; one vfio-pci refused
# before it (no bus reset for the VF's bus, or a device of the bus outside
# the caller's groups) ran none
hm=$(jq -r 'select(.cause == "hot_reset") | .method' $O/snoop.json)
case "$hot $hm" in "ok hot" | [A-Z]*" hot" | [A-Z]*" none") ;; *) fail "hot reset: $hot, method '$hm'";; esac
sort > $O/ev.want <<-EOF
	$pn $VF open flr ok 1
	$pn $VF ioctl flr ok $ok
	$pn $VF release flr ok 1
	$pe $EDU_BDF open none ENOTTY 1
	$pe $EDU_BDF ioctl none EINVAL $einval
	$ph $VF2 open flr ok 1
	$ph $VF2 hot_reset $hm $hot 1
	$ph $VF2 release flr ok 1
	$(cat $O/sysfs.pid) $VF other flr ok 1
EOF
expect_eq "NVMe VF resets that succeeded (exerciser)" "$ok" 3
expect_eq "edu resets refused with EINVAL (exerciser)" "$einval" 2
diff -u $O/ev.want $O/ev.got || fail "vfiosnoop's reset events differ from the exercisers' account"
note "vfiosnoop: $(wc -l < $O/snoop.json) reset events equal"

# the counters: the same per (device, pid, cause, method, result)
awk '{ for (i = 3; i < NF; i++) if ($i == "count") c = $(i + 1)
	print $3, $2, $5, $7, $9, c }' $O/resets.txt | sort > $O/stat.got
diff -u $O/ev.want $O/stat.got || fail "vfiostat's reset counters differ from the exercisers' account"

# the daemon's families: the counter per label set, the histogram's count
promtool check metrics < $O/scrape.txt || fail "promtool check metrics rejected the scrape"
grep -E '^vfioscope_device_reset' $O/scrape.txt > $O/reset-families.txt || true
# labels device, vm, pid, cause, method, result ("|"-separated: vm may be empty)
labels() {
	sed -n "s/^$1{\\(.*\\)} \\([0-9]*\\)\$/\\1 \\2/p" $O/scrape.txt |
		sed 's/[a-z]*="\([^"]*\)",\?/\1|/g' | awk -F'|' '{ sub(/^ */, "", $7)
			print $3, $1, $4, $5, $6, $7 }' | sort
}
labels vfioscope_device_resets_total > $O/prom.got
diff -u $O/ev.want $O/prom.got || fail "vfioscope_device_resets_total differs from the exercisers' account"
labels vfioscope_device_reset_duration_seconds_count > $O/hist.got
diff -u $O/ev.want $O/hist.got || fail "the reset duration histograms' counts differ"
expect_eq "the VM label of the VF's resets" \
	"$(grep -c "^vfioscope_device_resets_total{device=\"$VF\",vm=\"rst-nvme\"" $O/scrape.txt)" 3

# vfiotop's device columns in its last frame: resets of every cause, the
# failed ones, the last one's duration (the sysfs FLR)
tail -n 1 $O/top.json | jq -c '.devices[] | {device, resets, reset_fails, last_reset_ns}' > $O/top.rows
cat $O/top.rows
row() { jq -r --arg d "$1" "select(.device == \$d) | .$2" $O/top.rows; }
expect_eq "vfiotop: VF resets (open, 3 ioctls, release, sysfs)" "$(row $VF resets)" 6
expect_eq "vfiotop: VF failed resets" "$(row $VF reset_fails)" 0
expect_eq "vfiotop: edu resets" "$(row $EDU_BDF resets)" 3
expect_eq "vfiotop: edu failed resets" "$(row $EDU_BDF reset_fails)" 3
last=$(row $VF last_reset_ns)
[ "$last" -ge 80000000 ] || fail "vfiotop: the VF's last reset took '$last' ns (an FLR: ~100 ms)"

# durations: an FLR sleeps 100 ms (pcie_flr's msleep, in jiffies: under
# TCG the guest's clocks drift apart by a few percent, 98 ms was seen), unless
# the device says it is ready at once; an ioctl's reset fits inside the
# ioctl as the caller timed it
i=0
for d in $(jq -r 'select(.cause == "ioctl" and .method == "flr") | .dur_ns' $O/snoop.json); do
	call=$(awk -v i=$i '$1 == "reset_call" && $2 == i { print $4 }' $O/nvme.txt)
	[ "$d" -ge 80000000 ] || fail "FLR $i took $d ns: far less than pcie_flr's 100 ms sleep"
	[ "$d" -le "$call" ] || fail "FLR $i took $d ns, longer than its ioctl ($call ns)"
	note "FLR $i: $((d / 1000)) us of the ioctl's $((call / 1000)) us"
	i=$((i + 1))
done
expect_eq "ioctl FLRs with a duration" "$i" 3
# the VM: the device fd names the device each event belongs to
expect_eq "events naming the VFIO device" \
	"$(jq -r 'select(.cause != "other") | .device' $O/snoop.json | sort -u | tr '\n' ' ')" \
	"$(printf '%s\n' "$EDU_BDF" "$VF" "$VF2" | sort | tr '\n' ' ')"
grep -q '^drops ringbuf_full 0$' $O/stat.txt || fail "events were lost: $(grep ^drops $O/stat.txt)"
echo "device resets equal the exercisers' account"
