#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# build.sh KDIR OUT: build the bench's helper modules for one bench kernel
# from Debian's matching linux-source (extracted by scripts/deps.sh into
# KDIR/src) against its relocated headers (KDIR/build):
#   - vringh + vdpa_sim, vdpa_sim_blk, vdpa_sim_net on every kernel (Debian
#     enables neither CONFIG_VHOST_RING nor CONFIG_VDPA_SIM), so a vDPA net
#     device exists in the bench;
#   - on kernels whose Debian config lacks vDPA (6.1): vdpa, vduse,
#     virtio_vdpa and vhost_vdpa as well;
#   - mtty, the kernel's sample mdev driver, where it can migrate (6.7+).
# Unchanged stock code, compiled as external modules: their exported symbol
# CRCs match the stock Module.symvers, so they load next to stock modules.
# Output: OUT/*.ko
set -euo pipefail
KDIR=$1
mkdir -p "$2"
OUT=$(cd "$2" && pwd)
SRC=$KDIR/src
KVER=$(cat "$KDIR/kver")
W=$OUT/work
rm -rf "$W"
mkdir -p "$W"/{vringh,vdpa_sim}

cp "$SRC/drivers/vhost/vringh.c" "$W/vringh/"
echo 'obj-m := vringh.o' > "$W/vringh/Kbuild"
cp "$SRC"/drivers/vdpa/vdpa_sim/*.[ch] "$W/vdpa_sim/"
echo 'obj-m := vdpa_sim.o vdpa_sim_blk.o vdpa_sim_net.o' > "$W/vdpa_sim/Kbuild"
SUBDIRS="vringh/ vdpa_sim/"

if [ ! -e "$KDIR/root/lib/modules/$KVER/kernel/drivers/vdpa" ]; then
	mkdir -p "$W"/{vdpa,vduse,virtio_vdpa,vhost_vdpa}
	cp "$SRC/drivers/vdpa/vdpa.c" "$W/vdpa/"
	echo 'obj-m := vdpa.o' > "$W/vdpa/Kbuild"
	cp "$SRC"/drivers/vdpa/vdpa_user/*.[ch] "$W/vduse/"
	sed -n '/^vduse-y/p' "$SRC/drivers/vdpa/vdpa_user/Makefile" > "$W/vduse/Kbuild"
	echo 'obj-m := vduse.o' >> "$W/vduse/Kbuild"
	cp "$SRC/drivers/virtio/virtio_vdpa.c" "$W/virtio_vdpa/"
	echo 'obj-m := virtio_vdpa.o' > "$W/virtio_vdpa/Kbuild"
	cp "$SRC/drivers/vhost/vdpa.c" "$SRC/drivers/vhost/vhost.h" "$W/vhost_vdpa/"
	printf 'obj-m := vhost_vdpa.o\nvhost_vdpa-y := vdpa.o\n' > "$W/vhost_vdpa/Kbuild"
	SUBDIRS="$SUBDIRS vdpa/ vduse/ virtio_vdpa/ vhost_vdpa/"
fi
# mtty (samples/vfio-mdev): a migratable mdev driver from the kernel tree
# that fires none of vfioscope's tracepoints (its migration support is in
# the sample since 6.7): where it has it, the bench migrates it.
if grep -q migration_set_state "$SRC/samples/vfio-mdev/mtty.c" 2>/dev/null; then
	mkdir -p "$W/mtty"
	cp "$SRC/samples/vfio-mdev/mtty.c" "$W/mtty/"
	echo 'obj-m := mtty.o' > "$W/mtty/Kbuild"
	SUBDIRS="$SUBDIRS mtty/"
fi
echo "obj-m := $SUBDIRS" > "$W/Kbuild"

# shellcheck disable=SC2046 # one make argument per line of kbuild.args
make -s -C "$KDIR/build" M="$W" -j"$(nproc)" $(cat "$KDIR/kbuild.args" 2>/dev/null) modules
find "$W" -name '*.ko' -exec cp {} "$OUT/" \;
echo "kernel/bench: $KVER: $(cd "$OUT" && ls ./*.ko | xargs -n1 basename | tr '\n' ' ')"
