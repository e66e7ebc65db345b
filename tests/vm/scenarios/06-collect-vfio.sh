# The VFIO collectors against vfio-exercise's own account, exactly: two
# exerciser processes ("VMs") on the two edu devices, one doing DMA round
# trips, one holding 4 x 1 MiB of DMA mappings. Per process: every ioctl
# count per file kind and command, every failed ioctl's errno, DMA bytes
# mapped/unmapped, pinned pages while mapped (type1's own accounting) and
# back to zero after; per device: trapped region reads/writes/mmaps.
. "$VFIOSCOPE_REPO/tests/vm/lib.sh"
O=$VFIOSCOPE_OUT

vfiostat > $O/stat.txt 2> $O/stat.err &
stat=$!
wait_for_line $O/stat.err attached 60 $stat

vfio-exercise dma "$EDU2_BDF" -n 4 --size 1M --hold 60 > $O/vm2.txt 2> $O/vm2.err &
vm2=$!
wait_for_line $O/vm2.err mapped 30 $vm2
# the counters while VM 2 holds its mappings
kill -USR1 $stat
wait_for_line $O/stat.txt '^end 1$' 30
sed -n '/^dump 1 [0-9]*$/,/^end 1$/p' $O/stat.txt > $O/held.txt
kill -USR1 $vm2
vfio-exercise edu-dma "$EDU_BDF" -n 4 -s 7 > $O/vm1.txt || fail "edu-dma failed"
wait $vm2 || fail "vfio-exercise dma failed: $(cat $O/vm2.err)"
kill -INT $stat
wait $stat || fail "vfiostat failed: $(cat $O/stat.err)"

for vm in vm1 vm2; do
	pid=$(awk '$1 == "pid" { print $2 }' $O/$vm.txt)
	awk '$1 == "ioctl"' $O/$vm.txt | sort > $O/$vm.want
	awk -v p=$pid '/^end / { d = 1; next } d && $1 == "ioctl" && $2 == p' $O/stat.txt | sort > $O/$vm.got
	diff -u $O/$vm.want $O/$vm.got || fail "$vm (pid $pid): ioctl counts differ"
	note "$vm (pid $pid): $(wc -l < $O/$vm.got) commands, $(awk '{ s += $5 } END { print s }' $O/$vm.got) ioctls equal"
	# errno lines: the collector adds the object name in field 3
	awk '$1 == "ioctl_errno" { print $2, $3, $4, $5, $6 }' $O/$vm.txt | sort > $O/$vm.ewant
	awk -v p=$pid '/^end / { d = 1; next } d && $1 == "errno" && $2 == p { print $2, $4, $5, $6, $7 }' $O/stat.txt |
		sort > $O/$vm.egot
	diff -u $O/$vm.ewant $O/$vm.egot || fail "$vm: errno counts differ"
	want_map=$(awk '$1 == "dma_map_bytes" { print $2 }' $O/$vm.txt)
	want_unmap=$(awk '$1 == "dma_unmap_bytes" { print $2 }' $O/$vm.txt)
	# the final dump: after the last "end" line
	line=$(awk -v p=$pid '/^end / { d = 1; next } d && $1 == "vm" && $2 == p' $O/stat.txt)
	field() { echo "$line" | awk -v f=$1 '{ for (i = 3; i < NF; i += 2) if ($i == f) print $(i + 1) }'; }
	expect_eq "$vm dma_map_bytes" "$(field dma_map_bytes)" "$want_map"
	expect_eq "$vm dma_unmap_bytes" "$(field dma_unmap_bytes)" "$want_unmap"
	expect_eq "$vm pinned pages after unmapping" "$(field pinned_pages)" 0
done

pid2=$(awk '$1 == "pid" { print $2 }' $O/vm2.txt)
held=$(awk -v p=$pid2 '$1 == "vm" && $2 == p { for (i = 3; i < NF; i += 2) if ($i == "pinned_pages") print $(i + 1) }' $O/held.txt)
pinned=$(awk '$1 == "dma_pinned_pages" { print $2 }' $O/vm2.txt)
expect_eq "vm2 pinned pages while mapped" "$held" "$pinned"
expect_eq "vm2 locked pages while mapped (mm->locked_vm)" \
	"$(awk -v p=$pid2 '$1 == "vm_info" && $2 == p { print $8 }' $O/held.txt)" "$pinned"

# trapped accesses on edu 1 come from vm1 only
for idx in 0 7; do
	want=$(awk -v i=$idx '$1 == "region" && $2 == i { print $4, $6, $8, $10, $12 }' $O/vm1.txt)
	got=$(awk -v d=$EDU_BDF -v i=$idx '/^end / { f = 1; next } f && $1 == "region" && $2 == d && $3 == i { print $5, $7, $9, $11, $13 }' $O/stat.txt)
	expect_eq "edu region $idx reads writes rbytes wbytes mmaps" "$got" "$want"
done
# identity: each device with its IOMMU group and the driver it is bound to
for bdf in $EDU_BDF $EDU2_BDF; do
	want="group $(basename $(readlink /sys/bus/pci/devices/$bdf/iommu_group)) owner"
	line=$(awk -v d=$bdf '/^end / { f = 1; next } f && $1 == "obj" && $2 == d' $O/stat.txt | head -1)
	echo "$line" | grep -q "kind device $want [0-9]* driver vfio-pci$" ||
		fail "identity of $bdf: '$line' (want $want ... driver vfio-pci)"
done
grep -q '^drops ringbuf_full 0$' $O/stat.txt || fail "events were lost: $(grep ^drops $O/stat.txt)"
[ -z "$(awk '$1 == "drops" && $3 != 0' $O/stat.txt)" ] || fail "drops: $(awk '$1 == "drops" && $3 != 0' $O/stat.txt)"

# vfiostat -j: the same rows, typed. A pinned set counts one more short
# run; once it has exited the maps stand still, so a text dump and a -j
# dump taken after it are equal exactly (counts and whole rows)
trap 'vfiostat --unpin 2> /dev/null || true' EXIT
vfiostat --pin -d 1 > /dev/null 2> $O/pin.err || fail "vfiostat --pin: $(cat $O/pin.err)"
vfio-exercise edu-dma "$EDU_BDF" -n 2 -s 3 > $O/vm3.txt || fail "edu-dma (pinned) failed"
pid3=$(awk '$1 == "pid" { print $2 }' $O/vm3.txt)
vfiostat -d 1 > $O/pinned.txt 2> $O/pinned.err || fail "vfiostat -d 1: $(cat $O/pinned.err)"
vfiostat -j -d 1 > $O/pinned.json 2> $O/pinned.jerr || fail "vfiostat -j -d 1: $(cat $O/pinned.jerr)"
for e in pinned.err pinned.jerr; do
	grep -q 'attached (pinned' $O/$e || fail "$e: not the pinned set: $(cat $O/$e)"
done
expect_eq "vfiostat -j: documents" "$(wc -l < $O/pinned.json)" 1
jq -e '.dump == 1 and (.time | type) == "number" and (.version | length) > 0' \
	$O/pinned.json > /dev/null || fail "vfiostat -j: a bad document: $(head -c 300 $O/pinned.json)"
# per VM: ioctl counts as the exerciser counted them, in text and JSON
awk '$1 == "ioctl"' $O/vm3.txt | sort > $O/vm3.want
awk -v p=$pid3 '$1 == "ioctl" && $2 == p' $O/pinned.txt | sort > $O/vm3.got
jq -r --argjson p $pid3 '.ioctl[] | select(.tgid == $p) |
	"ioctl \(.tgid) \(.kind) \(.cmd) \(.count)"' $O/pinned.json | sort > $O/vm3.jgot
diff -u $O/vm3.want $O/vm3.got || fail "pinned set, text: ioctl counts differ"
diff -u $O/vm3.got $O/vm3.jgot || fail "vfiostat -j: ioctl rows differ from the text's"
# whole rows rebuilt from the members: positional ones first, then "name value"
jrows() {
	jq -r --arg t $1 --argjson npos $2 '.[$t][] | to_entries |
		([$t] + [.[:$npos][] | .value | tostring] +
		 [.[$npos:][] | "\(.key) \(.value)"]) | join(" ")' $O/pinned.json | sort
}
for spec in vm:1 vm_info:1 ioctl_obj:4 region:2 obj:1; do
	t=${spec%:*}
	awk -v t=$t '$1 == t' $O/pinned.txt | sort > $O/text.$t
	jrows $t ${spec#*:} > $O/json.$t
	[ -s $O/text.$t ] || fail "no $t row in the pinned dump"
	diff -u $O/text.$t $O/json.$t || fail "vfiostat -j: $t rows differ from the text's"
done
expect_eq "vfiostat -j: vm $pid3 dma_map_bytes" \
	"$(jq --argjson p $pid3 '.vm[] | select(.tgid == $p) | .dma_map_bytes' $O/pinned.json)" \
	"$(awk '$1 == "dma_map_bytes" { print $2 }' $O/vm3.txt)"
expect_eq "vfiostat -j: the drop counters' names" \
	"$(jq -r '.drops | keys_unsorted | join(" ")' $O/pinned.json)" \
	"$(awk '$1 == "drops" { printf "%s%s", s, $2; s = " " }' $O/pinned.txt)"
vfiostat --unpin || fail "vfiostat --unpin failed"
trap - EXIT
echo "VFIO collectors equal the exercisers' account"
