# Every bench module is loaded and carries module BTF (the fentry/tp_btf
# tiers need it); BPF LSM is active; the mounts the tools rely on exist.
. "$VFIOSCOPE_REPO/tests/vm/lib.sh"

for m in vfio vfio_iommu_type1 vfio_pci vfio_pci_core mdev vdpa vhost_vdpa \
	 virtio_vdpa vduse vhost vhost_iotlb vdpa_sim vdpa_sim_blk vdpa_sim_net vringh; do
	[ -d "/sys/module/$m" ] || fail "module $m is not loaded"
	[ -s "/sys/kernel/btf/$m" ] || fail "module $m has no BTF (/sys/kernel/btf/$m)"
	note "$m: loaded, BTF $(stat -c %s /sys/kernel/btf/$m) bytes"
done
grep -qw bpf /sys/kernel/security/lsm || fail "BPF LSM is not active: $(cat /sys/kernel/security/lsm)"
note "LSMs: $(cat /sys/kernel/security/lsm)"
for fs in /sys/fs/bpf:bpf /sys/kernel/tracing:tracefs /sys/kernel/debug:debugfs \
	  /sys/kernel/security:securityfs; do
	mountpoint -q "${fs%%:*}" || fail "${fs##*:} is not mounted on ${fs%%:*}"
done
[ -c /dev/vfio/vfio ] || fail "/dev/vfio/vfio missing"
[ -c /dev/vduse/control ] || fail "/dev/vduse/control missing"
echo "modules, BTF, LSM and mounts OK"
