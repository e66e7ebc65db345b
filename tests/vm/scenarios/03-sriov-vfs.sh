# The NVMe controller's SR-IOV VFs exist, each alone in its own IOMMU group
# (ACS on the root port), bound to vfio-pci, and usable through VFIO: the
# group is viable, type1 accepts it and the device fd describes a PCI device.
. "$VFIOSCOPE_REPO/tests/vm/lib.sh"

set -- $NVME_VFS
expect_eq "number of VFs" "$#" 2
P=/sys/bus/pci/devices/$NVME_PF
expect_eq "PF sriov_numvfs" "$(cat "$P/sriov_numvfs")" 2
groups=
for vf in "$@"; do
	d=/sys/bus/pci/devices/$vf
	[ "$(readlink -f "$d/physfn")" = "$(readlink -f "$P")" ] || fail "$vf is not a VF of $NVME_PF"
	expect_eq "$vf driver" "$(basename "$(readlink "$d/driver")")" vfio-pci
	g=$(basename "$(readlink "$d/iommu_group")")
	expect_eq "devices in IOMMU group $g" "$(ls "$d/iommu_group/devices" | tr '\n' ' ')" "$vf "
	[ -c "/dev/vfio/$g" ] || fail "/dev/vfio/$g missing"
	groups="$groups $g"
	vfio-exercise info "$vf" > /tmp/info.$vf || fail "VFIO cannot open $vf"
	grep -q '^device_flags .*pci' /tmp/info.$vf || fail "$vf: not a PCI device through VFIO: $(cat /tmp/info.$vf)"
	note "$vf: $(grep -c '^region' /tmp/info.$vf) regions, $(grep -c '^irq' /tmp/info.$vf) IRQ indexes"
done
[ "$(echo $groups | tr ' ' '\n' | sort -u | wc -l)" = 2 ] || fail "VFs share an IOMMU group:$groups"
g=$(basename "$(readlink "$P/iommu_group")")
case " $groups " in *" $g "*) fail "a VF shares the PF's group $g";; esac
echo "SR-IOV VFs in groups$groups on vfio-pci OK"
