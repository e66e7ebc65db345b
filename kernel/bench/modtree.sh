#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# modtree.sh [-u UPDATES] KDIR TREE KO...: make TREE/lib/modules/<kver> a
# module tree the bench guest mounts on /lib/modules: the stock modules of
# KDIR (linked, not copied), our modules under extra/, and depmod's indexes
# over both, so that modprobe (and the kernel's request_module) find
# everything by name. -u: the *.ko of directory UPDATES (the patched
# flavour's rebuilt subsystem modules) go under updates/, which depmod
# searches before the stock kernel/ tree: they load in place of the stock
# modules of the same name, with Debian's softdeps and load order intact.
set -euo pipefail
UPDATES=
if [ "${1:-}" = -u ]; then
	UPDATES=$2
	shift 2
fi
KDIR=$1
TREE=$2
shift 2
KVER=$(cat "$KDIR/kver")
STOCK=$KDIR/root/lib/modules/$KVER
D=$TREE/lib/modules/$KVER
rm -rf "$TREE"
mkdir -p "$D/extra"
ln -s "$STOCK/kernel" "$D/kernel"
cp "$STOCK"/modules.order "$STOCK"/modules.builtin "$STOCK"/modules.builtin.modinfo "$D/"
cp "$@" "$D/extra/"
if [ -n "$UPDATES" ]; then
	mkdir -p "$D/updates"
	cp "$UPDATES"/*.ko "$D/updates/"
fi
depmod -b "$TREE" "$KVER"
for m in "$@"; do
	b=$(basename "$m" .ko)
	grep -q "^extra/$b.ko:" "$D/modules.dep" || { echo "modtree: $b missing from modules.dep" >&2; exit 1; }
done
for m in ${UPDATES:+"$UPDATES"/*.ko}; do
	b=$(basename "$m")
	grep -q "^updates/$b:" "$D/modules.dep" ||
		{ echo "modtree: updates/$b does not shadow the stock module" >&2; exit 1; }
done
