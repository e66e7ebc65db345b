# IOMMU faults per device and VM, exactly. A "VM" (vfio-exercise --name
# vm-fault) makes edu DMA from 7 IOVAs nothing maps, 20 ms apart
# (edu-dma -f 7): the bench's intel-iommu refuses each, records it and
# raises its fault interrupt. The kernel's own log names only a few (its
# fault lines are rate-limited, 10 per 5 s shared with its status lines);
# the iommu-fault class reads every record from the DMAR unit before the
# handler clears it. vfiosnoop -c fault shows exactly 7 events: edu's
# address, the 7 pages, read, reason 0x06 (PTE read access not set), under
# the VM that owned edu then. A second VM (vm-clean) opens the same edu
# afterwards and makes clean DMA: it is charged nothing, though the faults
# stay on the device. vfiostat's counters, /metrics and vfiotop's device
# and VM rows give the same 7; the DMAR unit says it lost none.
. "$VFIOSCOPE_REPO/tests/vm/lib.sh"
. "$VFIOSCOPE_REPO/tests/vm/policy-lib.sh"
. "$VFIOSCOPE_REPO/tests/vm/prom-lib.sh"
O=$VFIOSCOPE_OUT
ip link set lo up
N=7

vfiostat --features > $O/features.txt
grep -Eq '^iommu-fault +fentry ' $O/features.txt ||
	fail "iommu-fault is not on the fentry tier: $(grep iommu-fault $O/features.txt)"
readers_start fault

klog0=$(dmesg | grep -c 'DMAR: \[DMA Read' || :)
vfio-exercise --name vm-fault edu-dma "$EDU_BDF" -n 1 -f $N > $O/fault.txt ||
	fail "edu-dma -f $N failed: $(tail -n 3 $O/fault.txt)"
vfio-exercise --name vm-clean edu-dma "$EDU_BDF" -n 2 > $O/clean.txt ||
	fail "edu-dma (clean) failed: $(tail -n 3 $O/clean.txt)"
klog=$(( $(dmesg | grep -c 'DMAR: \[DMA Read' || :) - klog0 ))
# the stream is drained at least every poll timeout
sleep 1
curl -s http://127.0.0.1:$port/metrics > $O/scrape.txt
top_finish $top $O/top.json $O/top.err
kill -INT $snoop $stat $pd
wait $snoop || fail "vfiosnoop failed: $(cat $O/snoop.err)"
wait $stat || fail "vfiostat failed: $(cat $O/stat.err)"
wait $pd || fail "vfio-policyd failed: $(cat $O/pd.err)"
cat $O/snoop.json

pf=$(awk '$1 == "pid" { print $2 }' $O/fault.txt)
pc=$(awk '$1 == "pid" { print $2 }' $O/clean.txt)
base=$(awk '$1 == "fault_iova" { print $2 }' $O/fault.txt)
expect_eq "faulting DMAs made (exerciser)" "$(awk '$1 == "dma_faults" { print $2 }' $O/fault.txt)" $N
[ -n "$pf" ] && [ -n "$pc" ] && [ -n "$base" ] || fail "the exercisers did not report pid and fault_iova"
note "the kernel's log named $klog of the $N faults"

# every event: edu, read, PTE read access not set, the faulting VM, one per page
for i in $(seq 0 $((N - 1))); do
	printf '%s %s read 6 pte_read vm-fault 0x%x\n' "$pf" "$EDU_BDF" $((base + i * 4096))
done | sort > $O/ev.want
jq -r '"\(.pid) \(.device) \(.access) \(.reason) \(.reason_name) \(.vm) \(.addr)"' $O/snoop.json |
	awk '{ $7 = sprintf("0x%x", $7); print }' | sort > $O/ev.got
diff -u $O/ev.want $O/ev.got || fail "vfiosnoop's fault events differ from the faulting DMAs"
expect_eq "events naming the DMAR unit" "$(jq -r .iommu $O/snoop.json | sort -u)" dmar0

# vfiostat's counters at exit: one row for edu under vm-fault, the unit's totals
awk '$1 == "iommu_fault"' $O/stat.txt | tee $O/faults.txt
expect_eq "vfiostat: fault rows" "$(wc -l < $O/faults.txt)" 1
field() { awk -v f="$2" '{ for (i = 1; i < NF; i++) if ($i == f) print $(i + 1) }' "$1"; }
expect_eq "vfiostat: the faulting device" "$(awk '{ print $2 }' $O/faults.txt)" "$EDU_BDF"
expect_eq "vfiostat: its VM" "$(field $O/faults.txt vm)" vm-fault
expect_eq "vfiostat: faults counted" "$(field $O/faults.txt count)" $N
awk '$1 == "iommu_unit"' $O/stat.txt | tee $O/unit.txt
expect_eq "vfiostat: records the DMAR unit held" "$(field $O/unit.txt records)" $N
expect_eq "vfiostat: faults the unit dropped (overflow)" "$(field $O/unit.txt overflows)" 0
expect_eq "vfiostat: records left unread" "$(field $O/unit.txt unread)" 0

# /metrics: the device's and each VM's counter
promtool check metrics < $O/scrape.txt || fail "promtool check metrics rejected the scrape"
grep -E '^vfioscope_(device|vm)_iommu_faults_total' $O/scrape.txt | tee $O/prom.txt
expect_eq "metrics: edu's faults" \
	"$(sed -n "s/^vfioscope_device_iommu_faults_total{device=\"$EDU_BDF\".*} //p" $O/prom.txt)" $N
expect_eq "metrics: vm-fault's faults" \
	"$(sed -n 's/^vfioscope_vm_iommu_faults_total{vm="vm-fault".*} //p' $O/prom.txt)" $N
expect_eq "metrics: vm-clean's faults" \
	"$(sed -n 's/^vfioscope_vm_iommu_faults_total{vm="vm-clean".*} //p' $O/prom.txt)" 0

# vfiotop's last frame: the device row and both VM rows
last=$(tail -n 1 $O/top.json)
expect_eq "vfiotop: edu's FAULTS" \
	"$(jq -r --arg d "$EDU_BDF" '.devices[] | select(.device == $d) | .iommu_faults' <<< "$last")" $N
expect_eq "vfiotop: vm-fault's FAULTS" \
	"$(jq -r '.vms[] | select(.name == "vm-fault") | .iommu_faults' <<< "$last")" $N
expect_eq "vfiotop: vm-clean's FAULTS" \
	"$(jq -r '.vms[] | select(.name == "vm-clean") | .iommu_faults' <<< "$last")" 0
