# edu_vfio_pci, the vfio-pci variant driver with live migration for edu:
# both edu devices move from vfio-pci to it, a VMM sees BAR0 without mmap
# and the migration flags the kernel's uAPI allows (6.12: STOP_COPY |
# PRE_COPY, 6.1: STOP_COPY), the conformance walk of `vfio-exercise check`
# passes on both devices (regions, IRQs, reset, every mandatory migration
# arc, a save/restore round trip, a corrupt stream and forbidden arcs
# refused), and every arc and data transfer fires the vfio trace events.
. "$VFIOSCOPE_REPO/tests/vm/lib.sh"
OUT=$VFIOSCOPE_OUT
T=/sys/kernel/tracing

bind_variant() {	# BDF
	local d=/sys/bus/pci/devices/$1
	echo "$1" > "$d/driver/unbind"
	echo edu_vfio_pci > "$d/driver_override"
	echo "$1" > /sys/bus/pci/drivers_probe
	expect_eq "$1 driver" "$(basename "$(readlink "$d/driver")")" edu_vfio_pci
}

modprobe edu_vfio_pci || fail "modprobe edu_vfio_pci failed"
[ -d /sys/module/vfioscope_trace ] || fail "vfioscope_trace was not loaded with edu_vfio_pci"
[ -s /sys/kernel/btf/edu_vfio_pci ] || fail "edu_vfio_pci has no BTF"
bind_variant "$EDU_BDF"
bind_variant "$EDU2_BDF"

case $(uname -r) in
6.1.*) want_flags="0x1 stop_copy" ;;
*) want_flags="0x5 stop_copy pre_copy" ;;
esac

echo 1 > $T/events/vfio/enable
echo > $T/trace
for bdf in "$EDU_BDF" "$EDU2_BDF"; do
	vfio-exercise info "$bdf" > "$OUT/info-$bdf.txt" || fail "vfio-exercise info $bdf failed"
	# region 0 (BAR0): no VFIO_REGION_INFO_FLAG_MMAP (0x8); read|write = 0x3
	expect_eq "$bdf BAR0 flags" "$(awk '$1 == "region" && $2 == 0 { print $8 }' "$OUT/info-$bdf.txt")" 0x3
	rc=0
	vfio-exercise check "$bdf" > "$OUT/check-$bdf.txt" || rc=$?
	cat "$OUT/check-$bdf.txt"
	[ $rc = 0 ] || fail "vfio-exercise check $bdf: $(grep -c '^FAIL' "$OUT/check-$bdf.txt") failures"
	expect_eq "$bdf migration flags" \
		"$(sed -n 's/^note migration flags //p' "$OUT/check-$bdf.txt")" "$want_flags"
	grep -q '^ok RESUMING rejects a corrupt state stream (Invalid argument)' "$OUT/check-$bdf.txt" ||
		fail "$bdf: a corrupt stream was not refused with EINVAL"
done
echo 0 > $T/events/vfio/enable
cp $T/trace "$OUT/trace.txt"

# the walk's arcs, one event each, and its data: a 64-byte stream read
# from STOP_COPY and written to RESUMING per device
for bdf in "$EDU_BDF" "$EDU2_BDF"; do
	grep -q "vfio_device_open: dev=$bdf ret=0" "$OUT/trace.txt" || fail "no vfio_device_open for $bdf"
	grep -q "vfio_device_close: dev=$bdf" "$OUT/trace.txt" || fail "no vfio_device_close for $bdf"
	grep -q "vfio_mig_set_state: dev=$bdf STOP -> STOP_COPY ret=0" "$OUT/trace.txt" ||
		fail "no STOP -> STOP_COPY arc event for $bdf"
	grep -q "vfio_mig_set_state: dev=$bdf RESUMING -> STOP ret=-22" "$OUT/trace.txt" ||
		grep -q "vfio_mig_data: dev=$bdf write bytes=64 ret=-22" "$OUT/trace.txt" ||
		fail "the refusal of the corrupt stream left no event for $bdf"
	read_bytes=$(awk -v d="dev=$bdf" '$0 ~ "vfio_mig_data: " d " read" && / ret=[0-9]/ {
		sub("ret=", "", $NF); s += $NF } END { print s + 0 }' "$OUT/trace.txt")
	expect_eq "$bdf bytes saved" "$read_bytes" 64
	grep -q "vfio_region_rw: dev=$bdf .*index=0 " "$OUT/trace.txt" || fail "no BAR0 access events for $bdf"
done
note "$(grep -c vfio_mig_set_state "$OUT/trace.txt") arc events, $(grep -c vfio_mig_data "$OUT/trace.txt") data events"

c=$(kernel_complaints)
[ -z "$c" ] || fail "kernel complaints: $c"
echo "edu_vfio_pci binds both edu devices; conformance, flags and trace events OK"
