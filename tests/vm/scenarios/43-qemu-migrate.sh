# A real VMM's migration: QEMU 10, nested in the bench guest (TCG), live-
# migrates a VM that owns an edu device on edu_vfio_pci ($EDU_BDF) to an
# incoming QEMU on the same host that owns the other edu device
# ($EDU2_BDF), driven over QMP (tests/vm/qmpmig.py). Two processes: the
# source's stop-copy session and the destination's resuming session must
# come out of vfiomig (live, -j) as ONE migration naming both VMs, with the
# device's downtime and its three parts, the bytes read on the source equal
# to the bytes written on the destination and to QEMU's vfio "transferred",
# and every VFIO_MIGRATION event QEMU sent after the end of the kernel arc
# into that state and before the next arc (the median within 5 ms). When
# QEMU polls the data fd while the device is in PRE_COPY it gets ENOMSG
# ("no data right now"): those reads are polls, counted apart, and the
# device has no data errors (whether it polls depends on how long it
# iterates the device). Before migrating, the
# source VM is paused and resumed once (qmpmig.py: QEMU's first event is
# slow to come); that is not a migration and must not be reported as one.
# A replay of the same events (vfiosnoop's recording) gives the same one
# migration. The checks are miglib.sh's qemu_mig_check (scenario 47 makes
# the same ones on an mdev); the clocks compared are described in
# qmpmig.py's check_arcs.
. "$VFIOSCOPE_REPO/tests/vm/lib.sh"
. "$VFIOSCOPE_REPO/tests/vm/miglib.sh"
O=$VFIOSCOPE_OUT
command -v qemu-system-x86_64 > /dev/null || fail "no qemu-system-x86_64 in the guest (the host's)"
bench_edu_variant

mig_watch migration

qemu_mig_run vm43 "host=$EDU_BDF,id=edu0" "host=$EDU2_BDF,id=edu0"

qemu_mig_check $O vm43src vm43dst $src $dst "$EDU_BDF" "$EDU2_BDF"
echo "QEMU's migration is one migration in vfiomig, each arc just before QEMU's event"
