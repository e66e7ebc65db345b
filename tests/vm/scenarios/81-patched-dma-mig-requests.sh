# What only the kernel tracepoint series (kernel/patches) shows: type1's
# map/unmap results from inside its inlined handlers, and each migration
# state request as the vfio core timed it. Stock flavour: both classes are
# reported unavailable, with the reason, never as silence (then exit 77).
# Patched flavour: equal to vfio-exercise's own account, exactly: one
# successful map/unmap event per successful MAP_DMA/UNMAP_DMA, the bytes
# mapped and unmapped, and one request per migration arc the exerciser
# asked for (same device, from, to, result), inside its time window.
. "$VFIOSCOPE_REPO/tests/vm/lib.sh"
O=$VFIOSCOPE_OUT

vfiosnoop --features > $O/features.txt
cat $O/features.txt
if [ "${VFIOSCOPE_FLAVOUR:-stock}" != patched ]; then
	for cls in dma-results migration-requests; do
		grep -Eq "^$cls +unsupported +unavailable: .*kernel/patches" $O/features.txt ||
			fail "$cls is not reported unavailable on the stock flavour"
	done
	vfiosnoop -c dma,mig-request -d 1 > $O/snoop.txt 2> $O/snoop.err ||
		fail "vfiosnoop failed: $(cat $O/snoop.err)"
	grep -q '^vfiosnoop: dma-results: unavailable' $O/snoop.err ||
		fail "vfiosnoop -c dma did not say the events are unavailable"
	unsupported "map/unmap results and kernel-timed migration requests need the tracepoint series (FLAVOURS=patched)"
fi
for cls in dma-results migration-requests; do
	grep -Eq "^$cls +tracepoint " $O/features.txt || fail "$cls is not on the tracepoint tier"
done

modprobe edu_vfio_pci || fail "modprobe edu_vfio_pci"
vfiosnoop -j -c dma,mig-request > $O/snoop.json 2> $O/snoop.err &
snoop=$!
wait_for_line $O/snoop.err attached 90 $snoop
vfio-exercise edu-dma "$EDU_BDF" -n 4 -s 7 > $O/dma.txt || fail "edu-dma failed"
for bdf in "$EDU_BDF" "$EDU2_BDF"; do
	d=/sys/bus/pci/devices/$bdf
	echo "$bdf" > $d/driver/unbind
	echo edu_vfio_pci > $d/driver_override
	echo "$bdf" > /sys/bus/pci/drivers_probe
	expect_eq "$bdf driver" "$(basename "$(readlink $d/driver)")" edu_vfio_pci
done
vfio-exercise migrate "$EDU_BDF" "$EDU2_BDF" --workload edu --seed 5 > $O/mig.txt ||
	fail "migration failed: $(tail -n 5 $O/mig.txt)"
sleep 1
kill -INT $snoop
wait $snoop || fail "vfiosnoop failed: $(cat $O/snoop.err)"

pid=$(awk '$1 == "pid" { print $2 }' $O/dma.txt)
for op in map unmap; do
	cmd=VFIO_IOMMU_$(echo $op | tr a-z A-Z)_DMA
	issued=$(awk -v c=$cmd '$1 == "ioctl" && $4 == c { n += $5 } END { print n + 0 }' $O/dma.txt)
	failed=$(awk -v c=$cmd '$1 == "ioctl_errno" && $4 == c { n += $6 } END { print n + 0 }' $O/dma.txt)
	[ "$issued" -gt 0 ] || fail "the exerciser issued no $cmd: the check proves nothing"
	jq -c --argjson p $pid --arg op $op 'select(.pid == $p and .event == "dma" and .op == $op)' \
		$O/snoop.json > $O/$op.json
	expect_eq "successful $op events" "$(jq -s 'map(select(.ret == 0)) | length' $O/$op.json)" \
		"$((issued - failed))"
	expect_eq "${op}ped bytes" "$(jq -s 'map(select(.ret == 0) | .done) | add // 0' $O/$op.json)" \
		"$(awk -v k=dma_${op}_bytes '$1 == k { print $2 }' $O/dma.txt)"
	# a request the type1 ioctl refuses before its handler is not a map/unmap
	[ "$(jq -s 'map(select(.ret != 0)) | length' $O/$op.json)" -le "$failed" ] ||
		fail "more failed $op events than failed $cmd ioctls"
	note "$op: $((issued - failed)) successful requests, bytes equal"
done

# the exerciser's requests: device from to errno t0 t1
awk -v s="$EDU_BDF" -v d="$EDU2_BDF" '$1 == "arc" { print ($2 == "src" ? s : d), $3, $4, $7, $5, $6 }' \
	$O/mig.txt | sort -s -k1,1 -k5,5n > $O/want.full
[ "$(wc -l < $O/want.full)" -ge 6 ] || fail "the exerciser reported too few requests"
jq -r 'select(.event == "mig_request") | [.device, .from, .to, (if .ret < 0 then -.ret else 0 end), .start_ns, .end_ns] | map(tostring) | join(" ")' \
	$O/snoop.json | sort -s -k1,1 -k5,5n > $O/got.full
diff -u <(cut -d' ' -f1-4 $O/want.full) <(cut -d' ' -f1-4 $O/got.full) ||
	fail "migration requests differ from the exerciser's"
paste -d' ' $O/want.full $O/got.full |
	awk '{ if ($11 < $5 || $12 > $6) { print "request", $1, $2, "->", $3, "kernel", $11, $12, "outside", $5, $6; bad = 1 } } END { exit bad }' ||
	fail "a kernel-timed request lies outside the exerciser's window for it"
note "$(wc -l < $O/got.full) migration requests equal, each inside the exerciser's window"
echo "tracepoint-only DMA results and migration requests OK"
