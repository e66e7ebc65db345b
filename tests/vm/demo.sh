# The demo for now (the vfiotop issue replaces it with the live monitor):
# what the bench guest has, then a VMM-like client doing real DMA while a BPF
# program from bpf/ counts its VFIO ioctls.
. "$VFIOSCOPE_REPO/tests/vm/lib.sh"
echo
echo "== vfioscope bench guest: kernel $(uname -r)"
echo "LSMs: $(cat /sys/kernel/security/lsm)"
echo
echo "== VFIO devices"
for bdf in $EDU_BDF $NVME_VFS; do
	d=/sys/bus/pci/devices/$bdf
	printf '  %s  %s:%s  group %-3s driver %s\n' "$bdf" "$(cat $d/vendor)" "$(cat $d/device)" \
		"$(basename "$(readlink $d/iommu_group)")" "$(basename "$(readlink $d/driver)")"
done
echo
echo "== vDPA devices"
vdpa dev show | sed 's/^/  /'
echo "  block: $VDUSE_DEV=$VDUSE_BLK $SIMBLK_DEV=$SIMBLK_BLK  net: $SIMNET_DEV=$SIMNET_IF"
echo
echo "== edu DMA through the vIOMMU, VFIO ioctls counted by BPF"
vfio-ioctlcount > /tmp/counts 2> /tmp/counts.err &
wait_for_line /tmp/counts.err attached 60
vfio-exercise edu-dma "$EDU_BDF" -n 16 > /tmp/client
kill -INT $!
wait $!
pid=$(awk '$1 == "pid" { print $2 }' /tmp/client)
printf '  %-10s %-36s %s\n' KIND COMMAND COUNT
awk -v p="$pid" '$1 == "ioctl" && $2 == p { printf "  %-10s %-36s %s\n", $3, $4, $5 }' /tmp/counts
grep -E '^dma_' /tmp/client | sed 's/^/  /'
