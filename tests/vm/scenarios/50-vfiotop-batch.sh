# vfiotop's batch JSON view against the exercisers' own account: one JSON
# document per frame (all valid), the first without rates; while "vm-a"
# holds 4 x 1 MiB of DMA mappings and "vm-b" has issued 5000 GET_INFO
# ioctls (plus its set-up), the last frame's cumulative fields equal the
# exercisers' summaries exactly: vm-b's ioctls, vm-a's DMA-mapped bytes and
# pinned memory. The devices view lists both edu devices with their IOMMU
# groups and owners. The text view prints a header line and the titles.
. "$VFIOSCOPE_REPO/tests/vm/lib.sh"
O=$VFIOSCOPE_OUT
page=$(getconf PAGESIZE)

vfiotop -b -j -d 1 > $O/top.json 2> $O/top.err &
top=$!
wait_for_line $O/top.err attached 90 $top

vfio-exercise --name vm-a dma "$EDU2_BDF" -n 4 --size 1M --hold 60 > $O/vma.txt 2> $O/vma.err &
vma=$!
wait_for_line $O/vma.err mapped 30 $vma
vfio-exercise --name vm-b ioctls "$EDU_BDF" --cmd get-info -n 5000 > $O/vmb.txt ||
	fail "vfio-exercise ioctls failed"
# vm-b is done: two more frames, the last one (lib.sh)
top_finish $top $O/top.json $O/top.err
kill -USR1 $vma
wait $vma || fail "vfio-exercise dma failed: $(cat $O/vma.err)"

jq -e . $O/top.json > /dev/null || fail "a frame is not valid JSON"
frames=$(jq -s length $O/top.json)
[ "$frames" -ge 3 ] || fail "only $frames frames"
note "$frames frames"
expect_eq "first frame: no interval" "$(head -n 1 $O/top.json | jq -c .interval_ns)" null
expect_eq "first frame: every rate unknown" \
	"$(head -n 1 $O/top.json | jq -c '[.vms[].ioctl_rate, .devices[].ioctl_rate] | map(select(. != null)) | length')" 0
tail -n 1 $O/top.json > $O/last.json
jq -M . $O/last.json

pida=$(awk '$1 == "pid" { print $2 }' $O/vma.txt)
pidb=$(awk '$1 == "pid" { print $2 }' $O/vmb.txt)
vm() { jq -r --argjson p $1 ".vms[] | select(.pid == \$p) | $2" $O/last.json; }
expect_eq "vm-b name" "$(vm $pidb .name)" vm-b
expect_eq "vm-a name" "$(vm $pida .name)" vm-a
expect_eq "vm-b ioctls" "$(vm $pidb .ioctls)" "$(awk '$1 == "ioctl" { n += $5 } END { print n }' $O/vmb.txt)"
expect_eq "vm-a DMA-mapped bytes" "$(vm $pida .dma_map_bytes)" "$(awk '$1 == "dma_map_bytes" { print $2 }' $O/vma.txt)"
expect_eq "vm-a mapped bytes while held" "$(vm $pida .mapped_bytes)" $((4 << 20))
expect_eq "vm-a pinned bytes while held" "$(vm $pida .pinned_bytes)" \
	$(($(awk '$1 == "dma_pinned_pages" { print $2 }' $O/vma.txt) * page))
expect_eq "vm-a DMA maps" "$(vm $pida .dma_maps)" 4
# -j rows carry the drill-down: vm-b's ioctls by command equal its summary
# (kind, command, count), and each command's histogram holds all its calls
awk '$1 == "ioctl" { print $3, $4, $5 }' $O/vmb.txt | sort > $O/vmb.cmds.want
vm $pidb '.ioctl_cmds[] | "\(.kind) \(.cmd) \(.count)"' | sort > $O/vmb.cmds.got
diff -u $O/vmb.cmds.want $O/vmb.cmds.got || fail "vm-b's ioctl_cmds differ from its summary"
expect_eq "vm-b: commands whose histogram does not sum to their count" \
	"$(vm $pidb '[.ioctl_cmds[] | select(([.hist[][1]] | add) != .count)] | length')" 0
# vm-b's rate was seen in some frame while it ran or just after
peak=$(jq -s --argjson p $pidb '[.[].vms[] | select(.pid == $p) | .ioctl_rate // 0] | max' $O/top.json)
note "vm-b peak ioctl rate $peak/s"
jq -e -n --argjson r "$peak" '$r > 0' > /dev/null || fail "vm-b's ioctl rate was never above 0"

for d in "$EDU_BDF:vm-b" "$EDU2_BDF:vm-a"; do
	bdf=${d%:*}
	owner=${d##*:}
	group=$(basename "$(readlink /sys/bus/pci/devices/$bdf/iommu_group)")
	dev() { jq -r --arg b $bdf ".devices[] | select(.device == \$b) | $1" $O/last.json; }
	expect_eq "$bdf kind" "$(dev .kind)" vfio
	expect_eq "$bdf IOMMU group" "$(dev .iommu_group)" "$group"
	expect_eq "$bdf owner" "$(dev .owner)" "$owner"
done
expect_eq "edu ($EDU_BDF) p50 latency present" "$(jq --arg b $EDU_BDF '.devices[] | select(.device == $b) | .p50_ns > 0' $O/last.json)" true

# the text view, over a device used while it runs: a header line, the
# titles and the device's row (exit 0: an empty view exits 5)
vfiotop -b -d 0.5 --view devices -s iommu_group > $O/top.txt 2> $O/top2.err &
top=$!
wait_for_line $O/top2.err attached 90 $top
vfio-exercise --name vm-t ioctls "$EDU_BDF" --cmd get-info -n 200 > $O/vmt.txt 2> $O/vmt.err ||
	fail "vm-t failed: $(cat $O/vmt.err)"
# a few frames after vm-t's calls, then SIGINT: one last frame, exit 0
sleep 2
kill -INT $top
rc=0
wait $top || rc=$?
[ $rc = 0 ] || fail "vfiotop -b failed ($rc): $(cat $O/top2.err)"
cat $O/top.txt
grep -q '^vfiotop .* frame 1 .* view devices  sort iommu_group' $O/top.txt || fail "no header line"
grep -q '^DEVICE  *KIND  *GROUP  *OWNER' $O/top.txt || fail "no column titles"
grep -q "^$EDU_BDF  *vfio  *$(basename "$(readlink /sys/bus/pci/devices/$EDU_BDF/iommu_group)") " $O/top.txt ||
	fail "no row for $EDU_BDF in the text frames"
echo "vfiotop's frames equal the exercisers' account"
