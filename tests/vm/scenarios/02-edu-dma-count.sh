# Real type1 DMA through the emulated VT-d on the edu device (map, DMA round
# trips RAM -> device -> RAM, unmap), while a BPF program from bpf/ counts
# the client's VFIO ioctls: the counts per file kind and command must equal
# what the client says it issued, exactly.
. "$VFIOSCOPE_REPO/tests/vm/lib.sh"
OUT=$VFIOSCOPE_OUT

vfio-ioctlcount > "$OUT/bpf.txt" 2> "$OUT/bpf.err" &
counter=$!
wait_for_line "$OUT/bpf.err" attached 60 $counter
vfio-exercise edu-dma "$EDU_BDF" -n 8 -s 42 > "$OUT/client.txt" ||
	fail "vfio-exercise edu-dma failed"
kill -INT $counter
wait $counter || fail "vfio-ioctlcount failed: $(cat "$OUT/bpf.err")"

cat "$OUT/client.txt"
pid=$(awk '$1 == "pid" { print $2 }' "$OUT/client.txt")
expect_eq "DMA round trips" "$(awk '$1 == "dma_roundtrips" { print $2 }' "$OUT/client.txt")" 8
expect_eq "bytes mapped" "$(awk '$1 == "dma_map_bytes" { print $2 }' "$OUT/client.txt")" 1048576
awk '$1 == "ioctl"' "$OUT/client.txt" | sort > "$OUT/want"
awk -v p="$pid" '$1 == "ioctl" && $2 == p' "$OUT/bpf.txt" | sort > "$OUT/got"
[ -s "$OUT/want" ] || fail "the client reported no ioctls"
diff -u "$OUT/want" "$OUT/got" || fail "BPF ioctl counts differ from what the client issued"
expect_eq "BPF map insert drops" "$(awk '$1 == "dropped" { print $2 }' "$OUT/bpf.txt")" 0
note "$(wc -l < "$OUT/got") (kind, command) pairs, $(awk '{ s += $5 } END { print s }' "$OUT/got") ioctls: equal"
# read whole first: grep -q closing the pipe early would fail the pipeline
log=$(dmesg) || fail "dmesg failed"
! grep -q 'DMAR.*fault' <<< "$log" || fail "DMAR faults: $(grep DMAR <<< "$log" | tail -n 3)"
echo "edu DMA through the vIOMMU and exact BPF ioctl counts OK"
