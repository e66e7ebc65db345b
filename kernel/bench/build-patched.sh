#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# build-patched.sh KDIR PATCHDIR OUT: the "patched" bench flavour. Applies
# the tracepoint series (PATCHDIR/0*.patch, MAINTAINERS hunks left out) to a
# copy of the subsystem sources Debian's matching linux-source holds
# (KDIR/src, extracted by scripts/deps.sh) and rebuilds the modules it
# touches against the relocated headers (KDIR/build):
#   vfio, vfio_iommu_type1, vfio-pci-core, vfio-pci, mdev (drivers/vfio),
#   vdpa, vduse (drivers/vdpa), vhost_vdpa, virtio_vdpa;
# and, since the series changes the CRCs of the symbols they import, the
# bench's vringh and vdpa_sim modules (build.sh) for this flavour.
# One M= build, so modpost resolves the new tracepoint exports between
# them; the other exported symbols keep the stock CRCs, so the patched
# modules load in place of the stock ones next to everything else.
# Output: OUT/*.ko and OUT/Module.symvers (our drivers link against the
# in-core tracepoints through it).
set -euo pipefail
KDIR=$1
PATCHDIR=$(cd "$2" && pwd)
mkdir -p "$3"
OUT=$(cd "$3" && pwd)
SRC=$KDIR/src
KVER=$(cat "$KDIR/kver")
W=$OUT/work
rm -rf "$W"
mkdir -p "$W/tree"

# the part of the source tree the series touches
for d in drivers/vfio drivers/vdpa drivers/vhost drivers/virtio include/trace/events; do
	mkdir -p "$W/tree/$(dirname "$d")"
	cp -a "$SRC/$d" "$W/tree/$d"
done
for p in "$PATCHDIR"/0*.patch; do
	case $p in *0000-cover-letter.patch) continue ;; esac
	# a plain-directory apply, not one relative to the enclosing repository
	(cd "$W/tree" && GIT_CEILING_DIRECTORIES=$W git apply -p1 --exclude=MAINTAINERS "$p") ||
		{ echo "build-patched: $(basename "$p") does not apply to $KVER's source" >&2; exit 1; }
done

# the build directory: the trace headers the series adds, then the modules
B=$W/build
mkdir -p "$B/include/trace/events" "$B/vhost_vdpa" "$B/virtio_vdpa" "$B/vringh" "$B/vdpa_sim"
cp "$W"/tree/include/trace/events/{vfio,mdev,vdpa}.h "$B/include/trace/events/"
cp -a "$W/tree/drivers/vfio" "$B/vfio"
cp -a "$W/tree/drivers/vdpa" "$B/vdpa"
cp "$W/tree/drivers/vhost/vdpa.c" "$W/tree/drivers/vhost/vhost.h" "$B/vhost_vdpa/"
printf 'obj-m := vhost_vdpa.o\nvhost_vdpa-y := vdpa.o\n' > "$B/vhost_vdpa/Kbuild"
cp "$W/tree/drivers/virtio/virtio_vdpa.c" "$B/virtio_vdpa/"
echo 'obj-m := virtio_vdpa.o' > "$B/virtio_vdpa/Kbuild"
cp "$W/tree/drivers/vhost/vringh.c" "$B/vringh/"
echo 'obj-m := vringh.o' > "$B/vringh/Kbuild"
cp "$W"/tree/drivers/vdpa/vdpa_sim/*.[ch] "$B/vdpa_sim/"
echo 'obj-m := vdpa_sim.o vdpa_sim_blk.o vdpa_sim_net.o' > "$B/vdpa_sim/Kbuild"
{
	echo 'obj-m := vfio/ vdpa/ vhost_vdpa/ virtio_vdpa/ vringh/ vdpa_sim/'
	echo "subdir-ccflags-y += -I$B/include"
} > "$B/Kbuild"

make -s -C "$KDIR/build" M="$B" -j"$(nproc)" modules
rm -f "$OUT"/*.ko
find "$B" -name '*.ko' -exec cp {} "$OUT/" \;
cp "$B/Module.symvers" "$OUT/Module.symvers"
echo "kernel/bench: $KVER patched: $(cd "$OUT" && ls ./*.ko | xargs -n1 basename | tr '\n' ' ')"
