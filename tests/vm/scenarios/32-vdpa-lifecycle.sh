# vDPA device life cycle seen by vfiostat: `vdpa dev add` of a new
# vdpa_sim block device gives exactly one add event and its status
# handshake up to DRIVER_OK (0xf), `vdpa dev del` exactly one del event.
# A second device created after the first was deleted (often at the same
# kernel address) must start from zero: its kicks and calls equal the
# requests its disk completed since it appeared (partition scan included),
# with nothing carried over from the deleted one.
. "$VFIOSCOPE_REPO/tests/vm/lib.sh"
OUT=$VFIOSCOPE_OUT

disk_ios() {	# reads + writes + discards + flushes completed on disk $1
	awk '{ print $1 + $5 + ($12 == "" ? 0 : $12) + ($15 == "" ? 0 : $15) }' "/sys/block/$1/stat"
}
# A new device binds to whichever vDPA bus driver registered first: add
# with autoprobe off, then bind to virtio_vdpa explicitly.
echo 0 > /sys/bus/vdpa/drivers_autoprobe
trap 'echo 1 > /sys/bus/vdpa/drivers_autoprobe' EXIT
add_blk() {	# NAME -> the virtio_blk disk virtio_vdpa made of it
	vdpa dev add name "$1" mgmtdev vdpasim_blk || fail "vdpa dev add $1" >&2
	bench-vdpa-bind "$1" virtio || fail "binding $1 to virtio_vdpa" >&2
}

vfiostat -e > "$OUT/stat.txt" 2> "$OUT/stat.err" &
stat=$!
wait_for_line "$OUT/stat.err" attached 60

d7=$(add_blk simblk7)
dd if=/dev/$d7 of=/dev/null bs=4096 count=12 iflag=direct status=none || fail "read $d7"
want7=$(disk_ios "$d7")
vdpa dev del simblk7 || fail "vdpa dev del simblk7"

d8=$(add_blk simblk8)
dd if=/dev/$d8 of=/dev/null bs=4096 count=7 iflag=direct status=none || fail "read $d8"
want8=$(disk_ios "$d8")
note "simblk7 ($d7): $want7 requests; simblk8 ($d8): $want8 requests"

kill -INT $stat
wait $stat || fail "vfiostat failed: $(cat "$OUT/stat.err")"
grep -E '^(event|vq|vdpa|drops vdpa)' "$OUT/stat.txt" | grep -v '^event.*vfio' || true

nev() { grep -cE "^event [0-9]+ [0-9]+ $1" "$OUT/stat.txt" || true; }
expect_eq "simblk7 add events" "$(nev 'vdpa_add simblk7 .* = 0$')" 1
expect_eq "simblk7 reached DRIVER_OK" "$(nev 'vdpa_status simblk7 status=0xf ')" 1
expect_eq "simblk7 del events" "$(nev 'vdpa_del simblk7 ')" 1
expect_eq "simblk8 add events" "$(nev 'vdpa_add simblk8 .* = 0$')" 1
expect_eq "simblk8 del events" "$(nev 'vdpa_del simblk8 ')" 0
expect_eq "vdpa add events in all" "$(nev 'vdpa_add ')" 2

vq() {	# NAME -> "kicks calls" on path virtio
	awk -v d="$1" '$1 == "vq" && $2 == d && $4 == "virtio" { k += $6; c += $8 }
		END { print k + 0, c + 0 }' "$OUT/stat.txt"
}
expect_eq "simblk8 kicks and calls" "$(vq simblk8)" "$want8 $want8"
expect_eq "simblk8 info" \
	"$(awk '$1 == "vdpa" && $2 == "simblk8" { print $4, $6, $8, $10, $12 }' "$OUT/stat.txt")" \
	"0xf virtio 0 1 0"
if grep -q '^vdpa simblk7 ' "$OUT/stat.txt"; then
	note "simblk7 was freed to another address than simblk8's: its counts remain"
	expect_eq "simblk7 kicks and calls" "$(vq simblk7)" "$want7 $want7"
	expect_eq "simblk7 added, removed" \
		"$(awk '$1 == "vdpa" && $2 == "simblk7" { print $10, $12 }' "$OUT/stat.txt")" "1 1"
else
	note "simblk8 reused simblk7's address: simblk7's state was dropped"
	grep -q '^vq simblk7 ' "$OUT/stat.txt" && fail "queues of simblk7 left without its info"
fi

vdpa dev del simblk8 || fail "vdpa dev del simblk8"
awk '$1 == "drops" && $3 != 0' "$OUT/stat.txt" | grep . && fail "losses counted"
[ -z "$(kernel_complaints)" ] || fail "kernel complained: $(kernel_complaints)"
echo "vDPA add/del/status events exact; a new device starts from zero"
