#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# modtree.sh KDIR TREE KO...: make TREE/lib/modules/<kver> a module tree the
# bench guest mounts on /lib/modules: the stock modules of KDIR (linked, not
# copied), our modules under extra/, and depmod's indexes over both, so that
# modprobe (and the kernel's request_module) find everything by name.
set -euo pipefail
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
depmod -b "$TREE" "$KVER"
for m in "$@"; do
	b=$(basename "$m" .ko)
	grep -q "^extra/$b.ko:" "$D/modules.dep" || { echo "modtree: $b missing from modules.dep" >&2; exit 1; }
done
