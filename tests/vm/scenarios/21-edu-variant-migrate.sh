# Live migration of edu state between the two edu devices on edu_vfio_pci
# with `vfio-exercise migrate --workload edu`: the source gets a seeded
# factorial (status bit 7 set, so it raises 0x1), a liveness value, a DMA
# round trip that raises 0x100 and a user interrupt bit; after STOP_COPY ->
# RESUMING, the destination must read the same registers, signal the
# migrated interrupt on its INTx eventfd, and compute and DMA on. Then the
# way back, with another seed. Each arc the exerciser requests is one
# vfio_mig_set_state event of the driver; the data is 64 bytes each way.
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

# migrate SRC DST SEED: run it, check the workload's facts and the events
migrate() {
	local out=$OUT/migrate-$3.txt rc=0 f
	echo > $T/trace
	echo 1 > $T/events/vfio/vfio_mig_set_state/enable
	echo 1 > $T/events/vfio/vfio_mig_data/enable
	vfio-exercise migrate "$1" "$2" --workload edu --seed "$3" > "$out" || rc=$?
	echo 0 > $T/events/vfio/enable
	cat "$out"
	[ $rc = 0 ] || fail "vfio-exercise migrate $1 -> $2 failed with status $rc"
	grep -qx 'migration ok' "$out" || fail "no 'migration ok'"
	expect_eq "BAR0 mmappable on the destination" "$(awk '$1 == "wl_edu_bar0_mmap" { print $2 }' "$out")" 0
	for f in irq_signalled dst_factorial dst_dma_roundtrip; do
		expect_eq "$f" "$(awk -v k="wl_edu_$f" '$1 == k { print $2 }' "$out")" 1
	done
	expect_eq "mismatching registers" "$(awk '$1 == "wl_edu_mismatches" { print $2 }' "$out")" 0
	# interrupt status: factorial (0x1), DMA (0x100) and one user bit 16..23
	irq=$(awk '$1 == "wl_edu_irq_status" { print $2 }' "$out")
	[ $(( irq & ~0xff0000 )) = $(( 0x101 )) ] && [ $(( irq & 0xff0000 )) != 0 ] ||
		fail "migrated interrupt status $irq is not 0x101 plus a user bit"
	expect_eq "factorial = src_fact_in!" "$(awk '$1 == "wl_edu_factorial" { print $2 }' "$out")" \
		"$(printf '0x%x' "$(awk '$1 == "wl_edu_src_fact_in" { n = $2; r = 1; while (n > 1) r *= n--; print r }' "$out")")"
	expect_eq "bytes saved" "$(awk '$1 == "mig_bytes" && $2 == "src" { s += $4 } END { print s }' "$out")" 64
	expect_eq "bytes resumed" "$(awk '$1 == "mig_bytes" && $2 == "dst" { print $4 }' "$out")" 64

	cp $T/trace "$OUT/trace-$3.txt"
	# every arc the exerciser made is one driver event on that device, in order
	awk -v s="$1" -v d="$2" '$1 == "arc" { print ($2 == "src" ? s : d), $3, $4 }' "$out" > "$OUT/arcs-want"
	sed -n 's/.*vfio_mig_set_state: dev=\([^ ]*\) \([A-Z_0-9]*\) -> \([A-Z_0-9]*\) ret=0 .*/\1 \2 \3/p' \
		"$OUT/trace-$3.txt" > "$OUT/arcs-got"
	diff -u "$OUT/arcs-want" "$OUT/arcs-got" || fail "the driver's arc events differ from the arcs requested"
	note "$(wc -l < "$OUT/arcs-got") arcs, each one driver event"
	expect_eq "bytes in vfio_mig_data (read + write)" "$(sed -n 's/.*vfio_mig_data: .* ret=\([0-9]*\)$/\1/p' \
		"$OUT/trace-$3.txt" | awk '{ s += $1 } END { print s }')" 128
}

modprobe edu_vfio_pci || fail "modprobe edu_vfio_pci failed"
bind_variant "$EDU_BDF"
bind_variant "$EDU2_BDF"
migrate "$EDU_BDF" "$EDU2_BDF" 7
migrate "$EDU2_BDF" "$EDU_BDF" 1234

c=$(kernel_complaints)
[ -z "$c" ] || fail "kernel complaints: $c"
# read whole first: grep -q closing the pipe early would fail the pipeline
log=$(dmesg) || fail "dmesg failed"
! grep -q 'DMAR.*fault' <<< "$log" || fail "DMAR faults: $(grep DMAR <<< "$log" | tail -n 3)"
echo "edu state migrated both ways, verified on each destination"
