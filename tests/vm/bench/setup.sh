#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Bench device set-up, run in every guest before the scenario or the shell:
# load the VFIO/mdev/vDPA modules, bind edu and the NVMe VFs to vfio-pci,
# export a VDUSE block device through qemu-storage-daemon and create
# vdpa_sim block and net devices. Results go to /run/vfioscope/bench.env
# (shell syntax, sourced by guest.sh). Any failure is fatal and says what.
set -euo pipefail
die() { echo "setup: $*" >&2; exit 1; }
# VFIOSCOPE_SETUP_TRACE=1: every step with its time, to see where boots go
if [ "${VFIOSCOPE_SETUP_TRACE:-0}" = 1 ]; then
	PS4='+ ${EPOCHREALTIME} '
	set -x
fi
ENV=/run/vfioscope/bench.env
mkdir -p /run/vfioscope
# loopback: /metrics, Prometheus and curl in scenarios and make bench
ip link set lo up
: > "$ENV"
put() { echo "$1=$2" >> "$ENV"; }

# 1. modules: modprobe resolves our out-of-tree builds (vdpa_sim on both
# kernels, the whole vDPA stack on 6.1) from the prepared module tree. The
# patched flavour's tree has the subsystem modules rebuilt with
# kernel/patches under updates/, where modprobe prefers them; they define
# the tracepoints themselves, so vfioscope_trace is not part of it.
FLAVOUR=${VFIOSCOPE_FLAVOUR:-stock}
TRACE_MODULE=vfioscope_trace
[ "$FLAVOUR" = stock ] || TRACE_MODULE=
MODULES="vfio vfio_iommu_type1 vfio-pci mdev vdpa virtio_vdpa vhost_vdpa vduse
	vdpa_sim vdpa_sim_blk vdpa_sim_net virtio_blk virtio_net nvme $TRACE_MODULE mdacc
	${VFIOSCOPE_EXTRA_MODULES:-}"
# one modprobe for all (it reads the module index once: seconds per boot
# under TCG); when it fails, each module again on its own, so the error
# names the ones that did not load, not the whole list
# shellcheck disable=SC2086
if ! modprobe -a $MODULES; then
	failed=
	for m in $MODULES; do
		modprobe "$m" 2>/dev/null || failed="$failed $m"
	done
	die "modprobe${failed:- -a} failed (see its message above)"
fi
put MDACC_PARENT /sys/class/mdacc/mdacc0
put VFIOSCOPE_FLAVOUR "$FLAVOUR"
if [ "$FLAVOUR" = patched ]; then
	for m in vfio vfio_iommu_type1 vfio-pci vfio-pci-core mdev vdpa virtio_vdpa vhost_vdpa vduse; do
		case $(modinfo -n "$m") in
		*/updates/*) ;;
		*) die "patched flavour: $m resolves to $(modinfo -n "$m"), not the patched build" ;;
		esac
	done
	for e in vfio/vfio_dma_map mdev/mdev_create vdpa/vdpa_kick_vq; do
		[ -d "/sys/kernel/tracing/events/$e" ] || die "patched flavour: no tracepoint $e"
	done
	[ ! -d /sys/module/vfioscope_trace ] || die "patched flavour: vfioscope_trace got loaded"
fi

grep -qw bpf /sys/kernel/security/lsm || echo "setup: note: BPF LSM is not active" >&2

# Enabling any tracefs event turns on comm recording, which hooks
# sched_switch and so live-patches __schedule while the other vCPU runs it.
# Under QEMU 7.2's multi-threaded TCG that vCPU can still execute the
# transient int3 after the patch completed (emulator-race.sh): fewer patches
# of the hottest function, fewer chances. Scenarios read comms from their
# own tools, not from trace lines.
echo 0 > /sys/kernel/tracing/options/record-cmd

bind_vfio() {	# BDF
	local d=/sys/bus/pci/devices/$1
	if [ -e "$d/driver" ]; then
		echo "$1" > "$d/driver/unbind"
	fi
	echo vfio-pci > "$d/driver_override"
	echo "$1" > /sys/bus/pci/drivers_probe
	[ "$(basename "$(readlink "$d/driver")")" = vfio-pci ] || die "$1 did not bind to vfio-pci"
}

find_pci() {	# VENDOR DEVICE -> first BDF
	local d
	for d in /sys/bus/pci/devices/*; do
		if [ "$(cat "$d/vendor")" = "$1" ] && [ "$(cat "$d/device")" = "$2" ]; then
			basename "$d"
			return
		fi
	done
}

# 2. both edu devices (1234:11e8) on vfio-pci behind the emulated VT-d
EDUS=
for d in /sys/bus/pci/devices/*; do
	[ "$(cat "$d/vendor"):$(cat "$d/device")" = 0x1234:0x11e8 ] || continue
	bind_vfio "$(basename "$d")"
	EDUS="$EDUS $(basename "$d")"
done
set -- $EDUS
[ $# = 2 ] || die "expected 2 edu devices, found $#"
put EDU_BDF "$1"
put EDU_GROUP "$(basename "$(readlink /sys/bus/pci/devices/$1/iommu_group)")"
put EDU2_BDF "$2"
put EDU2_GROUP "$(basename "$(readlink /sys/bus/pci/devices/$2/iommu_group)")"

# 3. NVMe PF (1b36:0010) with two SR-IOV VFs on vfio-pci
PF=$(find_pci 0x1b36 0x0010)
[ -n "$PF" ] || die "no NVMe controller"
P=/sys/bus/pci/devices/$PF
[ -e "$P/sriov_totalvfs" ] || die "NVMe $PF has no SR-IOV capability"
echo 0 > "$P/sriov_drivers_autoprobe"
echo 2 > "$P/sriov_numvfs" || die "enabling 2 VFs on $PF failed"
VFS=
for v in "$P"/virtfn*; do
	vf=$(basename "$(readlink "$v")")
	bind_vfio "$vf"
	VFS="$VFS $vf"
done
VFS=${VFS# }
[ "$(echo $VFS | wc -w)" = 2 ] || die "expected 2 NVMe VFs, got '$VFS'"
put NVME_PF "$PF"
put NVME_VFS "\"$VFS\""

# 4. VDUSE block device from qemu-storage-daemon, on virtio_vdpa
# A new vDPA device binds to whichever vDPA bus driver registered first:
# bind it explicitly so the result does not depend on module load order.
vdpa_blockdev() {	# NAME -> /dev/vdX
	local b
	b=$(bench-vdpa-bind "$1" virtio) || return 1
	[ -b "/dev/$b" ] || return 1
	echo "/dev/$b"
}
truncate -s 64M /run/vfioscope/vduse0.img
qemu-storage-daemon --daemonize --pidfile /run/vfioscope/qsd.pid \
	--blockdev driver=file,node-name=file0,filename=/run/vfioscope/vduse0.img \
	--export type=vduse-blk,id=exp0,node-name=file0,name=vduse0,writable=on,num-queues=1 ||
	die "qemu-storage-daemon failed to export vduse0"
vdpa dev add name vduse0 mgmtdev vduse || die "vdpa dev add vduse0 failed"
VDUSE_BLK=$(vdpa_blockdev vduse0) || die "vduse0 did not become a virtio block device"
put VDUSE_DEV vduse0
put VDUSE_BLK "$VDUSE_BLK"

# 5. vdpa_sim block and net devices
vdpa dev add name simblk0 mgmtdev vdpasim_blk || die "vdpa dev add simblk0 failed"
SIMBLK=$(vdpa_blockdev simblk0) || die "simblk0 did not become a virtio block device"
put SIMBLK_DEV simblk0
put SIMBLK_BLK "$SIMBLK"
vdpa dev add name simnet0 mgmtdev vdpasim_net mac 02:00:00:5e:00:01 || die "vdpa dev add simnet0 failed"
SIMNET=$(bench-vdpa-bind simnet0 virtio) || die "simnet0 did not become a virtio net device"
put SIMNET_DEV simnet0
put SIMNET_IF "$SIMNET"
