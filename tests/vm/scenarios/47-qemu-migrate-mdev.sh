# Scenario 43 for a mediated device: QEMU 10, nested in the bench guest
# (TCG), live-migrates a VM that owns an mdacc instance (mdacc-1q, QEMU's
# `-device vfio-pci,sysfsdev=/sys/bus/mdev/devices/UUID`) to an incoming
# QEMU on the same host that owns another instance, driven over QMP by
# tests/vm/qmpmig.py. The same checks as 43 (miglib.sh's qemu_mig_check):
# vfiomig (live, -j) reports ONE migration naming both VMs and both
# instances, with the device's downtime and its three parts, the bytes read
# on the source equal to those written on the destination and to QEMU's
# vfio "transferred", the ENOMSG reads of PRE_COPY counted as polls and no
# data error, every VFIO_MIGRATION event within the same tolerance of the
# end of the kernel arc into that state, and the replay of vfiosnoop's
# recording the same one migration.
#
# What differs from edu_vfio_pci: mdacc declares VFIO_MIGRATION_P2P, so
# QEMU steps through RUNNING_P2P and PRE_COPY_P2P (both have their events
# and arcs), and its stream is two 440-byte records: the one PRE_COPY
# offers while the VM still runs (QEMU sends it during pre-copy) and the
# final one of STOP_COPY; the destination loads the last. As for edu in
# 43, QEMU warns that it finds neither device nor IOMMU dirty tracking
# (hence enable-migration=on, without which it blocks the migration), and
# that mdacc has no error-reporting interrupt (VFIO_PCI_ERR_IRQ_INDEX has
# no vector): warnings only, printed by the scenario.
. "$VFIOSCOPE_REPO/tests/vm/lib.sh"
. "$VFIOSCOPE_REPO/tests/vm/miglib.sh"
O=$VFIOSCOPE_OUT
command -v qemu-system-x86_64 > /dev/null || fail "no qemu-system-x86_64 in the guest (the host's)"
US=6d646163-0000-4000-8000-000000004701
UD=6d646163-0000-4000-8000-000000004702
bench_mdacc_create $US $UD

mig_watch migration

qemu_mig_run vm47 "sysfsdev=/sys/bus/mdev/devices/$US,id=acc0" "sysfsdev=/sys/bus/mdev/devices/$UD,id=acc0"

qemu_mig_check $O vm47src vm47dst $src $dst $US $UD
# mdacc's stream as QEMU moved it: the PRE_COPY record, then the final one
expect_eq "QEMU's vfio bytes (two mdacc records of 440)" $QM_BYTES 880
expect_eq "the source's P2P arcs" "$(jq -r '[.devices[0].arcs[] | select(.side == "src") |
	"\(.from)>\(.to)"] | join(" ")' $O/live.mig.json)" \
	"RUNNING>PRE_COPY PRE_COPY>PRE_COPY_P2P PRE_COPY_P2P>STOP_COPY STOP_COPY>STOP"
bench_mdacc_remove $US $UD
echo "QEMU's migration of an mdev is one migration in vfiomig, each arc just before QEMU's event"
