# vDPA virtqueue kicks and calls through virtio_vdpa, counted by vfiostat
# (fentry tier on stock kernels) for the VDUSE block device
# (qemu-storage-daemon) and the vdpa_sim block device, must equal exactly
# the number of requests the block layer completed on each disk.
#
# Why the equality is exact, not approximate: each dd below issues
# O_DIRECT requests of one 4 KiB block at queue depth 1, on a disk nothing
# else touches (no filesystem, no udev in the bench). A request is
# submitted only after the previous one completed, so the device has
# drained its ring and asks to be notified again (VDUSE's libvduse re-arms
# avail_event, vdpa_sim never suppresses): virtio_blk kicks exactly once
# per request (virtio_vdpa_notify). Likewise the driver re-enabled
# callbacks while it waited, so each completion is exactly one interrupt
# (virtio_vdpa_virtqueue_cb). The independent witness is the block
# layer's own count (/sys/block/X/stat: reads + writes + discards +
# flushes completed), which is also checked against what dd issued.
. "$VFIOSCOPE_REPO/tests/vm/lib.sh"
OUT=$VFIOSCOPE_OUT

vfiostat --features > "$OUT/features.txt" || fail "vfiostat --features failed"
grep '^vdpa' "$OUT/features.txt"
tier() { awk -v c="$1" '$1 == c { print $2 }' "$OUT/features.txt"; }
# the patched flavour's vdpa core and bus drivers fire the vdpa events
# themselves (kernel/patches): the same counts then come from them
want_tier=fentry
[ "${VFIOSCOPE_FLAVOUR:-stock}" = patched ] && want_tier=tracepoint
expect_eq "vdpa-virtqueue tier" "$(tier vdpa-virtqueue)" $want_tier
expect_eq "vdpa-device tier" "$(tier vdpa-device)" $want_tier

# The tracepoint tier's programs must pass the verifier too: with the vdpa
# events defined (vfioscope_trace) but fired by no stock module, forcing
# that tier loads and attaches them (they count nothing here).
if [ $want_tier = fentry ] && [ -d /sys/kernel/tracing/events/vdpa ]; then
	vfiostat --tier vdpa-virtqueue=tracepoint --tier vdpa-device=tracepoint --features \
		> "$OUT/forced.txt" 2>&1 || fail "tracepoint tier does not load: $(cat "$OUT/forced.txt")"
	expect_eq "forced tiers" "$(awk '$1 ~ /^vdpa-/ { print $2 }' "$OUT/forced.txt" | sort -u)" \
		tracepoint
fi

# requests completed on disk $1 so far: reads + writes + discards + flushes
disk_ios() {
	awk '{ print $1 + $5 + ($12 == "" ? 0 : $12) + ($15 == "" ? 0 : $15) }' \
		"/sys/block/$(basename "$1")/stat"
}

vfiostat > "$OUT/stat.txt" 2> "$OUT/stat.err" &
stat=$!
wait_for_line "$OUT/stat.err" attached 60

declare -A want
io() {	# DISK WRITES READS
	local before after
	before=$(disk_ios "$1")
	dd if=/dev/urandom of="$1" bs=4096 count="$2" oflag=direct status=none ||
		fail "write to $1"
	dd if="$1" of=/dev/null bs=4096 count="$3" iflag=direct status=none ||
		fail "read from $1"
	after=$(disk_ios "$1")
	expect_eq "$1: requests the block layer completed" $((after - before)) $(($2 + $3))
	want[$1]=$((after - before))
}
io "$VDUSE_BLK" 24 40
io "$SIMBLK_BLK" 33 17

kill -INT $stat
wait $stat || fail "vfiostat failed: $(cat "$OUT/stat.err")"
grep -E '^(vq|vdpa|drops vdpa)' "$OUT/stat.txt"

check_dev() {	# NAME DISK
	local got
	got=$(awk -v d="$1" '$1 == "vq" && $2 == d && $4 == "virtio" { k += $6; c += $8 }
		END { print k + 0, c + 0 }' "$OUT/stat.txt")
	expect_eq "$1: virtio_vdpa kicks and calls" "$got" "${want[$2]} ${want[$2]}"
	awk -v d="$1" '$1 == "vq" && $2 == d && $4 != "virtio"' "$OUT/stat.txt" | grep -q . &&
		fail "$1: counted on a path other than virtio: $(grep "^vq $1 " "$OUT/stat.txt")"
	expect_eq "$1: path and owner" \
		"$(awk -v d="$1" '$1 == "vdpa" && $2 == d { print $6, $8 }' "$OUT/stat.txt")" "virtio 0"
}
check_dev "$VDUSE_DEV" "$VDUSE_BLK"
check_dev "$SIMBLK_DEV" "$SIMBLK_BLK"

awk '$1 == "drops" && $3 != 0' "$OUT/stat.txt" | grep . && fail "losses counted"
[ -z "$(kernel_complaints)" ] || fail "kernel complained: $(kernel_complaints)"
echo "vDPA kicks and calls through virtio_vdpa equal the block layer's requests, exactly"
