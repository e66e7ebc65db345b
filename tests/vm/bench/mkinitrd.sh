#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# mkinitrd.sh KDIR: build KDIR/initrd.gz, a tiny busybox initramfs whose only
# job is to mount the host's root over virtio-9p and chroot into it (see
# init). Rebuilt only when the init script, this script or the kernel changed.
set -euo pipefail
KDIR=$1
HERE=$(cd "$(dirname "$0")" && pwd)
KVER=$(cat "$KDIR/kver")
ROOT=$KDIR/root
OUT=$KDIR/initrd.gz

if [ -f "$OUT" ] && [ "$OUT" -nt "$HERE/init" ] && [ "$OUT" -nt "$0" ] &&
   [ "$OUT" -nt "$KDIR/.prepared" ]; then
	exit 0
fi
BUSYBOX=/bin/busybox
file -L "$BUSYBOX" 2>/dev/null | grep -q 'statically linked' ||
	{ echo "mkinitrd: $BUSYBOX is not static (install busybox-static)" >&2; exit 1; }

T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
mkdir -p "$T"/{bin,dev,proc,sys,newroot,mods}
cp "$BUSYBOX" "$T/bin/busybox"
cp "$HERE/init" "$T/init"
chmod 755 "$T/init"

# The 9p root needs virtio-pci (built in on 6.12, a module on 6.1), the 9p
# transport and the filesystem. modprobe gives the closure in load order.
modprobe -d "$ROOT" -S "$KVER" --show-depends -a virtio_pci 9pnet_virtio 9p |
	awk '$1 == "insmod" && !seen[$2]++ { print $2 }' > "$T/list"
: > "$T/mods/order"
while read -r m; do
	b=$(basename "$m"); b=${b%.xz}; b=${b%.zst}
	case "$m" in
	*.xz) xz -dc "$m" > "$T/mods/$b" ;;
	*.zst) zstd -dcq "$m" > "$T/mods/$b" ;;
	*) cp "$m" "$T/mods/$b" ;;
	esac
	echo "$b" >> "$T/mods/order"
done < "$T/list"
grep -q '^9p.ko$' "$T/mods/order" || { echo "mkinitrd: no 9p module for $KVER" >&2; exit 1; }

(cd "$T" && rm list && find . | cpio -o -H newc --quiet | gzip -1) > "$OUT.tmp"
mv "$OUT.tmp" "$OUT"
echo "mkinitrd: $OUT ($(wc -l < "$T/mods/order") modules: $(tr '\n' ' ' < "$T/mods/order"))"
