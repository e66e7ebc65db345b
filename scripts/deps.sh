#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Idempotent set-up of a Debian bookworm machine for building and testing
# vfioscope: Debian packages, the two bench kernels (6.12 and 6.1 series,
# resolved through Debian's meta packages so image, headers and source always
# carry one version), relocated header trees with module-BTF support, module
# trees and the bench initramfs. Everything comes from Debian's archive; a
# second run downloads nothing.
#
# Usage: scripts/deps.sh            (as root)
# Env:   VFIOSCOPE_CACHE  where kernels live (default /var/cache/vfioscope)
set -euo pipefail

CACHE=${VFIOSCOPE_CACHE:-/var/cache/vfioscope}
HERE=$(cd "$(dirname "$0")" && pwd)

# One line per package: why it is here lives in README.md ("Dependencies").
PKGS=(
	make gcc gcc-12 pkg-config clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev
	dwarves libcriterion-dev libfuzzer-14-dev
	qemu-system-x86 qemu-system-common busybox-static iproute2 kmod xz-utils cpio
	tmux jq libncurses-dev libjson-c-dev libmicrohttpd-dev libyaml-dev libxml2-utils
	python3 procps util-linux bc file binutils prometheus curl bpftrace time
	git perl python3-matplotlib
)

log() { printf 'deps: %s\n' "$*" >&2; }
die() { printf 'deps: error: %s\n' "$*" >&2; exit 1; }

missing_pkgs() {
	local p
	for p in "${PKGS[@]}"; do
		dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed' ||
			echo "$p"
	done
}

install_pkgs() {
	local miss
	miss=$(missing_pkgs)
	if [ -z "$miss" ]; then
		log "Debian packages: all present"
		return
	fi
	[ "$(id -u)" = 0 ] || die "packages missing ($(echo $miss)); run 'make deps' as root"
	log "installing:" $miss
	apt-get update -qq
	# shellcheck disable=SC2086
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $miss
}

# depends_of PKG: the concrete package a Debian meta package points at
depends_of() {
	apt-cache depends --no-recommends --no-suggests "$1" 2>/dev/null |
		awk '$1 == "Depends:" && $2 !~ /^</ { print $2; exit }'
}

version_of() {
	apt-cache show --no-all-versions "$1" 2>/dev/null | awk '/^Version:/ { print $2; exit }'
}

# fetch PKG: download PKG's candidate .deb into $CACHE/debs unless present
fetch() {
	local pkg=$1 ver file
	ver=$(version_of "$pkg")
	[ -n "$ver" ] || die "apt knows no package $pkg (apt-get update?)"
	file=$(ls "$CACHE/debs/${pkg}_${ver/*:/}_"*.deb 2>/dev/null | head -n1 || true)
	if [ -z "$file" ]; then
		(cd "$CACHE/debs" && apt-get download -q "$pkg=$ver" >/dev/null 2>&1) ||
			die "apt-get download $pkg=$ver failed"
		file=$(ls "$CACHE/debs/${pkg}_${ver/*:/}_"*.deb | head -n1)
		log "downloaded $(basename "$file")"
	fi
	echo "$file"
}

# prepare_kernel SERIES IMAGE_META HEADERS_META SOURCE_PKG
prepare_kernel() {
	local series=$1 img hdr src kdir root kver ver stamp hdrdir common kbuild
	img=$(depends_of "$2")
	hdr=$(depends_of "$3")
	src=$4
	[ -n "$img" ] && [ -n "$hdr" ] || die "cannot resolve $2 / $3 through apt"
	ver=$(version_of "$img")
	[ "$(version_of "$hdr")" = "$ver" ] && [ "$(version_of "$src")" = "$ver" ] ||
		die "$series: image $ver, headers $(version_of "$hdr"), source $(version_of "$src") differ"
	common=$(apt-cache depends "$hdr" | awk '$2 ~ /^linux-headers-.*-common$/ { print $2; exit }')
	kbuild=$(apt-cache depends "$hdr" | awk '$2 ~ /^linux-kbuild-/ { print $2; exit }')

	kdir=$CACHE/k/$series
	root=$kdir/root
	stamp=$kdir/.prepared
	if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$img $ver" ]; then
		log "kernel $series: $img $ver ready"
		return
	fi
	mkdir -p "$CACHE/debs"
	local debs=()
	local p
	for p in "$img" "$hdr" "$common" "$kbuild" "$src"; do
		debs+=("$(fetch "$p")")
	done

	log "kernel $series: unpacking $img $ver"
	rm -rf "$kdir"
	mkdir -p "$root"
	for p in "${debs[@]}"; do
		dpkg-deb -x "$p" "$root"
	done
	kver=${img#linux-image-}
	# merged-/usr packages put modules below usr/lib; accept both
	if [ -d "$root/usr/lib/modules/$kver" ] && [ ! -e "$root/lib/modules/$kver/kernel" ]; then
		mkdir -p "$root/lib/modules"
		rm -rf "$root/lib/modules/$kver"
		mv "$root/usr/lib/modules/$kver" "$root/lib/modules/$kver"
	fi
	[ -d "$root/lib/modules/$kver/kernel" ] || die "$img has no module tree"
	echo "$kver" > "$kdir/kver"
	echo "$ver" > "$kdir/version"
	ln -sfn "root/boot/vmlinuz-$kver" "$kdir/vmlinuz"
	hdrdir=$root/usr/src/linux-headers-$kver
	ln -sfn "root/usr/src/linux-headers-$kver" "$kdir/build"

	# The arch headers' Makefile includes the common tree by absolute path:
	# point it at the relocated copy.
	sed -i "s|^include /usr/src/|include $root/usr/src/|" "$hdrdir/Makefile"

	# Only what the bench rebuilds or reads, from the matching source: the
	# subsystems, their headers, the samples, checkpatch.
	log "kernel $series: extracting vfio/vdpa/vhost/virtio sources"
	mkdir -p "$kdir/src"
	tar -xf "$root/usr/src/linux-source-"*.tar.xz -C "$kdir/src" --strip-components=1 \
		--wildcards '*/drivers/vfio' '*/drivers/vdpa' '*/drivers/vhost' \
		'*/drivers/virtio' '*/include/trace/events' '*/scripts/extract-vmlinux' \
		'*/samples/vfio-mdev' '*/scripts/checkpatch.pl' '*/scripts/spelling.txt' \
		'*/scripts/const_structs.checkpatch' '*/include/linux/vfio*.h' \
		'*/include/linux/mdev.h' '*/include/linux/vdpa.h' '*/include/uapi/linux/vfio.h' \
		'*/MAINTAINERS'
	rm -f "$root/usr/src/linux-source-"*.tar.xz

	# Module BTF needs a BTF-carrying vmlinux and resolve_btfids in the
	# build tree. 6.12's headers ship both; 6.1's ship neither: take vmlinux
	# out of the image and borrow resolve_btfids from a newer kbuild.
	if [ ! -e "$hdrdir/vmlinux" ]; then
		log "kernel $series: extracting vmlinux (BTF) from the image for module BTF"
		sh "$kdir/src/scripts/extract-vmlinux" "$root/boot/vmlinuz-$kver" > "$hdrdir/vmlinux"
		readelf -S "$hdrdir/vmlinux" | grep -q '\.BTF' || die "$series: vmlinux without .BTF"
	fi
	echo "$kver" > "$kdir/.pending-btfids"

	log "kernel $series: depmod"
	depmod -b "$root" "$kver"
	echo "$img $ver" > "$stamp"
}

# The 6.1 header tree needs a resolve_btfids: use the one from the 6.12
# kbuild (a host tool that only reads ELF/BTF, independent of the target).
fix_btfids() {
	local s hdrdir kver tool
	tool=$(ls "$CACHE"/k/6.12/root/usr/lib/linux-kbuild-*/tools/bpf/resolve_btfids/resolve_btfids 2>/dev/null | head -n1)
	for s in "$CACHE"/k/*; do
		[ -f "$s/.pending-btfids" ] || continue
		kver=$(cat "$s/kver")
		hdrdir=$s/root/usr/src/linux-headers-$kver
		if [ ! -x "$hdrdir/tools/bpf/resolve_btfids/resolve_btfids" ]; then
			[ -n "$tool" ] || die "no resolve_btfids for $kver"
			local t
			t=$(readlink -f "$hdrdir/tools")
			rm -f "$hdrdir/tools"
			mkdir -p "$hdrdir/tools/bpf/resolve_btfids"
			ln -s "$t/objtool" "$hdrdir/tools/objtool"
			ln -s "$tool" "$hdrdir/tools/bpf/resolve_btfids/resolve_btfids"
		fi
		rm -f "$s/.pending-btfids"
	done
}

# Trees prepared before MAINTAINERS was part of the extract (the patch
# series touches it; kernel/patches/check.sh applies the series to the
# extracted source): take it from the cached source package, no download.
add_maintainers() {
	local s deb
	for s in "$CACHE"/k/*; do
		[ -d "$s/src" ] && [ ! -e "$s/src/MAINTAINERS" ] || continue
		deb=$(ls "$CACHE"/debs/linux-source-"$(basename "$s")"_*.deb 2>/dev/null | head -n1)
		[ -n "$deb" ] || die "$(basename "$s"): no cached linux-source package for MAINTAINERS"
		log "kernel $(basename "$s"): extracting MAINTAINERS"
		dpkg-deb --fsys-tarfile "$deb" | tar -xO --wildcards './usr/src/linux-source-*.tar.xz' |
			tar -xJ -C "$s/src" --strip-components=1 --wildcards '*/MAINTAINERS'
	done
}

main() {
	install_pkgs
	if [ "$(id -u)" != 0 ] && [ ! -w "$CACHE" ]; then
		for s in 6.12 6.1; do
			[ -f "$CACHE/k/$s/.prepared" ] || die "bench kernels missing; run 'make deps' as root"
		done
	else
		mkdir -p "$CACHE/debs"
		prepare_kernel 6.12 linux-image-6.12-amd64 linux-headers-6.12-amd64 linux-source-6.12
		prepare_kernel 6.1 linux-image-amd64 linux-headers-amd64 linux-source-6.1
		fix_btfids
		add_maintainers
	fi
	# The guest bind-mounts its module tree on /lib/modules, which must exist
	# on the (read-only) shared root.
	[ -d /usr/lib/modules ] || mkdir -p /usr/lib/modules
	for s in 6.12 6.1; do
		"$HERE/../tests/vm/bench/mkinitrd.sh" "$CACHE/k/$s"
	done
	log "done"
}

main "$@"
