# The vfio and mdev tracepoints (tracepoints/, instantiated by
# vfioscope_trace) fire from mdacc with the right fields, read back through
# tracefs: mdev create/remove, open/close/reset, every device ioctl (enter
# and exit, counted exactly against what vfio-exercise issued), region
# accesses, IRQ set and signal, pin/unpin of the ring, DMA, migration arcs
# with durations and migration data bytes equal to what the migration
# engine moved.
. "$VFIOSCOPE_REPO/tests/vm/lib.sh"
OUT=$VFIOSCOPE_OUT
TR=/sys/kernel/tracing
T=$MDACC_PARENT/mdev_supported_types
U1=6d646163-0000-4000-8000-000000000011
U2=6d646163-0000-4000-8000-000000000012
N=24

# every event of the three headers is registered
for e in vfio_device_open vfio_device_close vfio_device_reset vfio_ioctl_enter \
	 vfio_ioctl_exit vfio_dma_map vfio_dma_unmap vfio_pin_pages vfio_unpin_pages \
	 vfio_dma_rw vfio_region_rw vfio_region_mmap vfio_irq_set vfio_irq_signal \
	 vfio_mig_set_state vfio_mig_data; do
	[ -e $TR/events/vfio/$e/format ] || fail "event vfio/$e missing"
done
for e in mdev/mdev_create mdev/mdev_remove vdpa/vdpa_dev_add vdpa/vdpa_dev_del \
	 vdpa/vdpa_set_status vdpa/vdpa_kick_vq vdpa/vdpa_vq_call; do
	[ -e $TR/events/$e/format ] || fail "event $e missing"
done
grep -q 'field:__data_loc char\[\] dev' $TR/events/vfio/vfio_ioctl_enter/format ||
	fail "vfio_ioctl_enter does not record the device name as a string"

echo 0 > $TR/tracing_on
echo > $TR/trace
echo 65536 > $TR/buffer_size_kb
echo 1 > $TR/events/vfio/enable
echo 1 > $TR/events/mdev/enable
echo 1 > $TR/tracing_on

echo $U1 > $T/mdacc-1q/create || fail "create $U1"
echo $U2 > $T/mdacc-1q/create || fail "create $U2"
vfio-exercise mdacc-jobs $U1 -n $N -s 7 --irq > $OUT/jobs.txt || fail "mdacc-jobs failed"
cp $TR/trace $OUT/trace-jobs.txt
echo > $TR/trace
vfio-exercise migrate $U1 $U2 --workload mdacc > $OUT/mig.txt || fail "migrate failed: $(tail -5 $OUT/mig.txt)"
cp $TR/trace $OUT/trace-mig.txt
echo > $TR/trace
# PRE_COPY exists from v6.2: a precopy migration on 6.12, refused on 6.1
case $(uname -r) in 6.1.*) precopy=0 ;; *) precopy=1 ;; esac
if [ $precopy = 1 ]; then
	vfio-exercise migrate $U1 $U2 --workload mdacc --precopy > $OUT/mig-pre.txt ||
		fail "precopy migration failed: $(tail -5 $OUT/mig-pre.txt)"
else
	rc=0
	vfio-exercise migrate $U1 $U2 --workload mdacc --force-precopy > $OUT/mig-pre.txt 2>&1 || rc=$?
	expect_eq "forced PRE_COPY on 6.1: exit status" $rc 3
fi
cp $TR/trace $OUT/trace-pre.txt
echo > $TR/trace
vfio-exercise migrate $U1 $U2 --workload mdacc --p2p > $OUT/mig-p2p.txt ||
	fail "p2p migration failed: $(tail -5 $OUT/mig-p2p.txt)"
echo 1 > /sys/bus/mdev/devices/$U1/remove
echo 1 > /sys/bus/mdev/devices/$U2/remove
echo 0 > $TR/tracing_on
cat $TR/trace > $OUT/trace-end.txt
echo 0 > $TR/events/vfio/enable
echo 0 > $TR/events/mdev/enable
cat $OUT/jobs.txt

J=$OUT/trace-jobs.txt
cnt() {	# FILE PATTERN
	grep -c -- "$2" "$1" || true
}
# lifetime
grep -q "mdev_create: parent=mdacc0 type=mdacc-1q uuid=$U1 ret=0" $J || fail "no mdev_create for $U1"
grep -q "mdev_create: parent=mdacc0 type=mdacc-1q uuid=$U2 ret=0" $J || fail "no mdev_create for $U2"
expect_eq "opens" "$(cnt $J "vfio_device_open: dev=$U1 ret=0")" 1
expect_eq "closes" "$(cnt $J "vfio_device_close: dev=$U1\$")" 1
expect_eq "resets" "$(cnt $J "vfio_device_reset: dev=$U1 ret=0")" 1

# ioctls: enter == exit == what the client issued on its device fd
want=$(awk '$1 == "ioctl" && $3 == "device" { s += $5 } END { print s }' $OUT/jobs.txt)
expect_eq "ioctl enter events" "$(cnt $J "vfio_ioctl_enter: dev=$U1 ")" "$want"
expect_eq "ioctl exit events" "$(cnt $J "vfio_ioctl_exit: dev=$U1 ")" "$want"
for c in $(grep -o 'vfio_ioctl_enter: dev=[^ ]* cmd=0x[0-9a-f]*' $J | awk -F'cmd=' '{print $2}' | sort -u); do
	e=$(cnt $J "vfio_ioctl_enter: dev=$U1 cmd=$c ")
	x=$(cnt $J "vfio_ioctl_exit: dev=$U1 cmd=$c ")
	expect_eq "enter/exit pairs for cmd $c" "$x" "$e"
done
expect_eq "GET_INFO (0x3b6b) results" "$(cnt $J "vfio_ioctl_exit: dev=$U1 cmd=0x3b6b ret=0")" 1
expect_eq "RESET (0x3b6f) results" "$(cnt $J "vfio_ioctl_exit: dev=$U1 cmd=0x3b6f ret=0")" 1

# IRQs: armed with an eventfd on MSI, disarmed at the end, one signal per job
grep -q "vfio_irq_set: dev=$U1 index=1 start=0 count=1 flags=DATA_EVENTFD|TRIGGER ret=0" $J ||
	fail "no vfio_irq_set arming MSI"
grep -q "vfio_irq_set: dev=$U1 index=1 start=0 count=0 flags=DATA_NONE|TRIGGER ret=0" $J ||
	fail "no vfio_irq_set disarming MSI"
irqs=$(awk '$1 == "irqs" { print $2 }' $OUT/jobs.txt)
expect_eq "client's interrupts" "$irqs" $N
expect_eq "vfio_irq_signal events" "$(cnt $J "vfio_irq_signal: dev=$U1 index=1 vector=0")" $N

# the ring pinned once at QBASE while queue 0 is enabled, unpinned on disable
expect_eq "pin events" "$(cnt $J "vfio_pin_pages: dev=$U1 iova=0x10000000 npage=1 ret=1")" 1
expect_eq "unpin events" "$(cnt $J "vfio_unpin_pages: dev=$U1 iova=0x10000000 npage=1")" 1

# DMA: one successful write per job; reads for COPY/XOR only
expect_eq "DMA writes" "$(cnt $J "vfio_dma_rw: dev=$U1 write .* ret=0")" $N
[ "$(cnt $J "vfio_dma_rw: dev=$U1 read .* ret=0")" -ge 1 ] || fail "no DMA reads"
[ "$(cnt $J "vfio_dma_rw: .* ret=-")" = 0 ] || fail "failed DMA in a correct run"
bytes=$(grep "vfio_dma_rw: dev=$U1 write" $J | sed 's/.* len=\([0-9]*\) .*/\1/' | awk '{ s += $1 } END { print s }')
expect_eq "DMA bytes written" "$bytes" "$(awk '$1 == "job_bytes" { print $2 }' $OUT/jobs.txt)"

# region accesses: BAR0 (index 0) 4-byte and config (index 7) accesses
grep -q "vfio_region_rw: dev=$U1 read index=0 offset=0x0 size=4 ret=4" $J || fail "no BAR0 ID read"
grep -q "vfio_region_rw: dev=$U1 write index=0 offset=0x110 size=4 ret=4" $J || fail "no doorbell write"
grep -q "vfio_region_rw: dev=$U1 write index=7 offset=0x4 size=2 ret=2" $J || fail "no PCI_COMMAND write"

# migration: each arc the driver took, data bytes equal to the engine's
M=$OUT/trace-mig.txt
cat $OUT/mig.txt | grep -v '^ioctl'
for arc in "$U2 RUNNING -> RUNNING_P2P" "$U2 RUNNING_P2P -> STOP" \
	   "$U1 RUNNING -> RUNNING_P2P" "$U1 RUNNING_P2P -> STOP" "$U1 STOP -> STOP_COPY" \
	   "$U1 STOP_COPY -> STOP" "$U2 STOP -> RESUMING" "$U2 RESUMING -> STOP" \
	   "$U2 STOP -> RUNNING_P2P" "$U2 RUNNING_P2P -> RUNNING"; do
	dev=${arc%% *}
	grep -q "vfio_mig_set_state: dev=$dev ${arc#* } ret=0 duration_ns=[0-9]" $M ||
		fail "no vfio_mig_set_state for $arc"
done
expect_eq "arcs" "$(cnt $M vfio_mig_set_state)" 10
rd=$(grep "vfio_mig_data: dev=$U1 read" $M | sed 's/.*bytes=\([0-9]*\).*/\1/' | awk '{ s += $1 } END { print s + 0 }')
wr=$(grep "vfio_mig_data: dev=$U2 write" $M | sed 's/.*bytes=\([0-9]*\).*/\1/' | awk '{ s += $1 } END { print s + 0 }')
expect_eq "migration bytes read" "$rd" "$(awk '$1 == "mig_bytes" && $2 == "src" { s += $4 } END { print s }' $OUT/mig.txt)"
expect_eq "migration bytes written" "$wr" "$(awk '$1 == "mig_bytes" && $2 == "dst" { print $4 }' $OUT/mig.txt)"
for f in mig mig-p2p; do
	grep -q '^migration ok$' $OUT/$f.txt || fail "$f: no 'migration ok'"
	p=$(awk '$1 == "wl_pending_at_stop" { print $2 }' $OUT/$f.txt)
	[ "$p" -gt 0 ] || fail "$f: no job was pending when the source stopped"
	note "$f: $p of 100 jobs pending at the stop, all finished once on the destination"
done
P=$OUT/trace-pre.txt
cat $OUT/mig-pre.txt | grep -v '^ioctl'
if [ $precopy = 1 ]; then
	grep -q '^migration ok$' $OUT/mig-pre.txt || fail "precopy: no 'migration ok'"
	expect_eq "precopy bytes" "$(awk '$1 == "mig_bytes" && $3 == "precopy" { print $4 }' $OUT/mig-pre.txt)" 440
	for arc in "RUNNING -> PRE_COPY" "PRE_COPY -> PRE_COPY_P2P" "PRE_COPY_P2P -> STOP_COPY"; do
		grep -q "vfio_mig_set_state: dev=$U1 $arc ret=0" $P || fail "no vfio_mig_set_state $arc"
	done
	rd=$(grep "vfio_mig_data: dev=$U1 read" $P | sed 's/.*bytes=\([0-9]*\).*/\1/' | awk '{ s += $1 } END { print s + 0 }')
	expect_eq "precopy + stop-copy bytes read" "$rd" 880
else
	grep -q "^migration_flags src 0x3 stop_copy p2p $U1$" $OUT/mig-pre.txt ||
		fail "6.1 must not offer PRE_COPY: $(grep migration_flags $OUT/mig-pre.txt)"
	grep -q "^migration failed src RUNNING PRE_COPY 22$" $OUT/mig-pre.txt ||
		fail "forced PRE_COPY was not refused with EINVAL"
	grep -q "vfio_mig_set_state: dev=$U1 RUNNING -> PRE_COPY" $P &&
		fail "the driver took a PRE_COPY arc on 6.1"
fi
# the destination re-pinned the ring in its own container
grep -q "vfio_pin_pages: dev=$U2 iova=0x10000000 npage=1 ret=1" $M || fail "destination did not pin its ring"

E=$OUT/trace-end.txt
grep -q "mdev_remove: parent=mdacc0 type=mdacc-1q uuid=$U1 ret=0" $E || fail "no mdev_remove for $U1"
grep -q "mdev_remove: parent=mdacc0 type=mdacc-1q uuid=$U2 ret=0" $E || fail "no mdev_remove for $U2"
c=$(kernel_complaints)
[ -z "$c" ] || fail "kernel complaints: $c"
echo "mdacc tracepoints OK"
