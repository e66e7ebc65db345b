#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Idempotent set-up of a Debian bookworm machine for building and testing
# vfioscope: Debian packages, the bench kernels (6.12 and 6.1 series, and
# Debian unstable's as series sid through a private apt state; all resolved
# through Debian's meta packages so image, headers and source always carry
# one version), relocated header trees with module-BTF support, module
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
	dwarves libcriterion-dev libfuzzer-14-dev flex bison
	busybox-static iproute2 kmod xz-utils cpio
	tmux jq libncurses-dev libjson-c-dev libmicrohttpd-dev libsystemd-dev libyaml-dev libxml2-utils
	python3 procps util-linux bc file binutils prometheus curl bpftrace time
	git perl python3-matplotlib man-db dpkg-dev debhelper lintian
	libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients
)

# The bench's VMM, both as the guest's L1 and nested inside the guest as the
# client under test: QEMU 10 from bookworm-backports. Only these packages
# come from backports (apt pins backports below the release by default).
QEMU_PKGS=(qemu-system-x86 qemu-system-common qemu-utils)
QEMU_MIN=10
BACKPORTS=/etc/apt/sources.list.d/vfioscope-bookworm-backports.sources

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

qemu_major() {
	{ dpkg-query -W -f='${Version}' "$1" 2>/dev/null || true; } | sed -E 's/^[0-9]+://; s/[.].*//'
}

install_qemu() {
	local p ok=1 v
	for p in "${QEMU_PKGS[@]}"; do
		v=$(qemu_major "$p")
		[ -n "$v" ] && [ "$v" -ge "$QEMU_MIN" ] || ok=0
	done
	if [ "$ok" = 1 ]; then
		log "QEMU: $(dpkg-query -W -f='${Version}' qemu-system-x86) present"
		return
	fi
	[ "$(id -u)" = 0 ] || die "QEMU >= $QEMU_MIN missing; run 'make deps' as root"
	if ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d; then
		log "adding bookworm-backports (pinned below bookworm: only QEMU is taken from it)"
		cat > "$BACKPORTS" <<-EOS
		Types: deb
		URIs: http://deb.debian.org/debian
		Suites: bookworm-backports
		Components: main
		Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
		EOS
	fi
	apt-get update -qq
	log "installing ${QEMU_PKGS[*]} from bookworm-backports"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		-t bookworm-backports "${QEMU_PKGS[@]}"
	v=$(qemu_major qemu-system-x86)
	[ -n "$v" ] && [ "$v" -ge "$QEMU_MIN" ] ||
		die "bookworm-backports gave qemu-system-x86 $(dpkg-query -W -f='${Version}' qemu-system-x86), need >= $QEMU_MIN"
}

# Extra options for every apt call below: empty for the host's own suites;
# the unstable series sets them to its private sources list and state.
APT_OPTS=()

# depends_of PKG [REGEX]: the concrete package a Debian meta package points
# at (the first dependency matching REGEX, if given)
depends_of() {
	apt-cache "${APT_OPTS[@]}" depends --no-recommends --no-suggests "$1" 2>/dev/null |
		awk -v re="${2:-.}" '$1 == "Depends:" && $2 !~ /^</ && $2 ~ re { print $2; exit }'
}

version_of() {
	apt-cache "${APT_OPTS[@]}" show --no-all-versions "$1" 2>/dev/null | awk '/^Version:/ { print $2; exit }'
}

# has_version PKG VER: apt can fetch PKG at exactly VER
has_version() {
	apt-cache "${APT_OPTS[@]}" show "$1=$2" >/dev/null 2>&1
}

# fetch PKG [VER]: download PKG's .deb (the candidate, or VER) into
# $CACHE/debs unless present
fetch() {
	local pkg=$1 ver=${2:-} file
	[ -n "$ver" ] || ver=$(version_of "$pkg")
	[ -n "$ver" ] || die "apt knows no package $pkg (apt-get update?)"
	file=$(ls "$CACHE/debs/${pkg}_${ver/*:/}_"*.deb 2>/dev/null | head -n1 || true)
	if [ -z "$file" ]; then
		(cd "$CACHE/debs" && apt-get "${APT_OPTS[@]}" download -q "$pkg=$ver" >/dev/null 2>&1) ||
			die "apt-get download $pkg=$ver failed"
		file=$(ls "$CACHE/debs/${pkg}_${ver/*:/}_"*.deb | head -n1)
		log "downloaded $(basename "$file")"
	fi
	echo "$file"
}

# prepare_kernel SERIES IMAGE_META HEADERS_META SOURCE_PKG
# (SOURCE_PKG "meta:NAME": the package the meta package NAME points at)
prepare_kernel() {
	local series=$1 img hdr src kdir root kver ver stamp hdrdir common kbuild parts
	# an image meta package may depend on linux-base-<flavour> first: take
	# the versioned image (headers) it points at
	img=$(depends_of "$2" '^linux-image-[0-9]')
	hdr=$(depends_of "$3" '^linux-headers-[0-9]')
	src=$4
	case $src in meta:*) src=$(depends_of "${src#meta:}" '^linux-source-[0-9]') ;; esac
	[ -n "$img" ] && [ -n "$hdr" ] || die "cannot resolve $2 / $3 through apt"
	ver=$(version_of "$img")
	# The archive publishes a new source before the images built from it
	# (signed images lag by hours to days): take the source at the image's
	# version, which the archive keeps beside the newer one.
	[ "$(version_of "$hdr")" = "$ver" ] && has_version "$src" "$ver" ||
		die "$series: image $ver, headers $(version_of "$hdr"), no $src $ver (candidate $(version_of "$src"))"
	common=$(apt-cache "${APT_OPTS[@]}" depends "$hdr" | awk '$2 ~ /^linux-headers-.*-common$/ { print $2; exit }')
	kbuild=$(apt-cache "${APT_OPTS[@]}" depends "$hdr" | awk '$2 ~ /^linux-kbuild-/ { print $2; exit }')
	# newer images are split: linux-image-V depends on linux-binary-V
	# (vmlinuz), linux-modules-V and linux-base-V; older ones need nothing
	parts=$(apt-cache "${APT_OPTS[@]}" depends --no-recommends --no-suggests "$img" |
		awk -v v="${img#linux-image-}" '$1 == "Depends:" &&
			($2 == "linux-binary-" v || $2 == "linux-modules-" v || $2 == "linux-base-" v) { print $2 }')

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
	for p in "$img" $parts "$hdr" "$common" "$kbuild"; do
		debs+=("$(fetch "$p")")
	done
	debs+=("$(fetch "$src" "$ver")")

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
	# newer packages install the image beside its modules
	if [ -e "$root/boot/vmlinuz-$kver" ]; then
		ln -sfn "root/boot/vmlinuz-$kver" "$kdir/vmlinuz"
	else
		[ -e "$root/lib/modules/$kver/vmlinuz" ] || die "$img has no vmlinuz"
		ln -sfn "root/lib/modules/$kver/vmlinuz" "$kdir/vmlinuz"
	fi
	hdrdir=$root/usr/src/linux-headers-$kver
	ln -sfn "root/usr/src/linux-headers-$kver" "$kdir/build"

	# The arch headers' Makefile includes the common tree by absolute path:
	# point it at the relocated copy.
	# point it at the relocated copy (newer ones name their own directory
	# in KBUILD_OUTPUT too).
	sed -i -e "s|^include /usr/src/|include $root/usr/src/|" \
		-e "s|^KBUILD_OUTPUT=/usr/src/|KBUILD_OUTPUT=$root/usr/src/|" "$hdrdir/Makefile"

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
	host_tools "$series" "$kdir" "$hdrdir"
	rm -f "$root/usr/src/linux-source-"*.tar.xz

	# Module BTF needs a BTF-carrying vmlinux and resolve_btfids in the
	# build tree. 6.12's headers ship both; 6.1's ship neither: take vmlinux
	# out of the image and borrow resolve_btfids from a newer kbuild.
	if [ ! -e "$hdrdir/vmlinux" ]; then
		log "kernel $series: extracting vmlinux (BTF) from the image for module BTF"
		sh "$kdir/src/scripts/extract-vmlinux" "$kdir/vmlinuz" > "$hdrdir/vmlinux"
		readelf -S "$hdrdir/vmlinux" | grep -q '\.BTF' || die "$series: vmlinux without .BTF"
	fi
	echo "$kver" > "$kdir/.pending-btfids"

	log "kernel $series: depmod"
	depmod -b "$root" "$kver"
	echo "$img $ver" > "$stamp"
}

# host_tools SERIES KDIR HDRDIR: a kbuild whose host programs do not run
# here (unstable's are linked against a newer glibc than bookworm's):
# rebuild modpost, objtool and resolve_btfids from the matching source and
# put them in its place. A kernel built by a newer gcc than this machine
# has: KDIR/kbuild.args holds the make arguments out-of-tree builds then
# need (bookworm's gcc-12, without the flags only the newer gcc knows, and
# this machine's pahole for module BTF).
host_tools() {
	local series=$1 kdir=$2 hdrdir=$3 kb t cc gccv pv
	kb=$(readlink -f "$hdrdir/scripts/..")
	: > "$kdir/kbuild.args"
	cc=$(sed -n 's/^CONFIG_CC_VERSION_TEXT="\([^ ]*\) .*/\1/p' "$hdrdir/.config")
	if [ -n "$cc" ] && ! command -v "$cc" >/dev/null; then
		gccv=x86_64-linux-gnu-gcc-12
		log "kernel $series: built by $cc, which bookworm lacks: out-of-tree modules use $gccv"
		printf 'CC=%s\n' "$gccv" >> "$kdir/kbuild.args"
		# the kernel's headers use attributes gcc-12 does not know
		# (counted_by: a bounds-check hint); every file would warn
		echo 'KCFLAGS=-Wno-attributes' >> "$kdir/kbuild.args"
		if grep -q '^CONFIG_CC_HAS_MIN_FUNCTION_ALIGNMENT=y' "$hdrdir/.config" &&
		   ! echo 'int x;' | "$gccv" -fmin-function-alignment=16 -x c -c -o /dev/null - 2>/dev/null; then
			echo 'CONFIG_CC_HAS_MIN_FUNCTION_ALIGNMENT=' >> "$kdir/kbuild.args"
		fi
	fi
	pv=$(pahole --version | sed 's/^v//; s/[.]//')
	if [ "$(sed -n 's/^CONFIG_PAHOLE_VERSION=//p' "$hdrdir/.config")" -gt "$pv" ] 2>/dev/null; then
		echo "CONFIG_PAHOLE_VERSION=$pv" >> "$kdir/kbuild.args"
	fi
	local b stale=0
	for b in "$kb"/scripts/mod/modpost.real-lsb-64 "$kb/scripts/mod/modpost" \
		 "$kb/tools/objtool/objtool" "$kb/tools/bpf/resolve_btfids/resolve_btfids"; do
		[ -x "$b" ] || continue
		{ "$b" -h 2>&1 || true; } | grep -q 'GLIBC_[0-9.]*. not found' && stale=1
	done
	if [ $stale = 1 ]; then
		log "kernel $series: its kbuild's host programs need a newer glibc: rebuilding them from its source"
		t=$(mktemp -d "$kdir/hosttools.XXXXXX")
		tar -xf "$kdir/root/usr/src/linux-source-"*.tar.xz -C "$t" --strip-components=1
		cp "$hdrdir/.config" "$t/.config"
		{
			make -C "$t" -s CC=gcc-12 olddefconfig &&
			make -C "$t" -s -j"$(nproc)" CC=gcc-12 scripts/mod/ &&
			make -C "$t/tools/objtool" -s -j"$(nproc)"
		} >"$kdir/hosttools.log" 2>&1 ||
			die "$series: rebuilding the kbuild host programs failed (see $kdir/hosttools.log)"
		install -m755 "$t/scripts/mod/modpost" "$kb/scripts/mod/modpost"
		for m in "$kb"/scripts/mod/modpost.real-*; do
			[ ! -e "$m" ] || install -m755 "$t/scripts/mod/modpost" "$m"
		done
		install -m755 "$t/tools/objtool/objtool" "$kb/tools/objtool/objtool"
		install -m755 "$t/tools/bpf/resolve_btfids/resolve_btfids" \
			"$kb/tools/bpf/resolve_btfids/resolve_btfids"
		rm -rf "$t"
	fi
}

# The 6.1 header tree needs a resolve_btfids: use the one from the 6.12
# kbuild (a host tool that only reads ELF/BTF, independent of the target).
# So does unstable's, whose own is linked against a newer glibc than
# bookworm's and does not run here.
fix_btfids() {
	local s hdrdir kver tool own
	tool=$(ls "$CACHE"/k/6.12/root/usr/lib/linux-kbuild-*/tools/bpf/resolve_btfids/resolve_btfids 2>/dev/null | head -n1)
	for s in "$CACHE"/k/*; do
		[ -f "$s/.pending-btfids" ] || continue
		kver=$(cat "$s/kver")
		hdrdir=$s/root/usr/src/linux-headers-$kver
		own=$hdrdir/tools/bpf/resolve_btfids/resolve_btfids
		# (a tool that runs prints its usage; one that does not, the loader's error)
		if [ ! -x "$own" ] || ! { "$own" --help 2>&1 || true; } | grep -qi usage; then
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

# Debian unstable's kernel (series "sid"): the same meta packages, read from
# a private sources list and apt state below $CACHE/apt-sid, so the host's
# apt configuration never sees unstable. Its lists are refreshed once a day
# (VFIOSCOPE_SID_REFRESH=1: now), so the series follows unstable; an
# unchanged kernel downloads nothing more.
SID_APT=$CACHE/apt-sid
sid_apt_opts() {
	APT_OPTS=(-o "Dir::Etc::sourcelist=$SID_APT/sources.list" -o Dir::Etc::sourceparts=-
		-o "Dir::State::Lists=$SID_APT/lists" -o "Dir::Cache=$SID_APT/cache"
		-o "Dir::State::status=$SID_APT/status" -o APT::Architecture=amd64
		-o Acquire::Languages=none)
}
prepare_sid() {
	mkdir -p "$SID_APT/lists/partial" "$SID_APT/cache/archives/partial"
	# no package counts as installed: nothing of the host's leaks in
	[ -e "$SID_APT/status" ] || : > "$SID_APT/status"
	echo 'deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian unstable main' \
		> "$SID_APT/sources.list"
	sid_apt_opts
	if [ "${VFIOSCOPE_SID_REFRESH:-0}" = 1 ] ||
	   [ -z "$(find "$SID_APT/lists" -maxdepth 1 -name '*unstable*Packages*' -mtime -1 2>/dev/null)" ]; then
		log "kernel sid: refreshing unstable's package lists (private apt state $SID_APT)"
		apt-get "${APT_OPTS[@]}" update -qq || die "apt-get update of the private unstable state failed"
	fi
	prepare_kernel sid linux-image-amd64 linux-headers-amd64 meta:linux-source
	APT_OPTS=()
}

# The prepared series: 6.12 and 6.1 always, sid when it was prepared
series_list() {
	echo 6.12 6.1
	[ ! -f "$CACHE/k/sid/.prepared" ] || echo sid
}

# What libvirt-daemon-system would add, which is not installed (it brings
# libvirt's systemd units and starts daemons on the host): the user its
# QEMU driver resolves at start, whatever qemu.conf says, and the state
# directories the bench guest mounts tmpfs on (its root is this one,
# read-only). Nothing runs on the host.
libvirt_host() {
	local d
	[ "$(id -u)" = 0 ] || return 0
	getent passwd libvirt-qemu > /dev/null ||
		useradd --system --no-create-home --user-group --shell /usr/sbin/nologin libvirt-qemu
	for d in /var/lib/libvirt /var/log/libvirt /var/cache/libvirt; do
		[ -d $d ] || mkdir -p $d
	done
}

main() {
	install_pkgs
	install_qemu
	if [ "$(id -u)" != 0 ] && [ ! -w "$CACHE" ]; then
		for s in 6.12 6.1; do
			[ -f "$CACHE/k/$s/.prepared" ] || die "bench kernels missing; run 'make deps' as root"
		done
	else
		mkdir -p "$CACHE/debs"
		prepare_kernel 6.12 linux-image-6.12-amd64 linux-headers-6.12-amd64 linux-source-6.12
		prepare_kernel 6.1 linux-image-amd64 linux-headers-amd64 linux-source-6.1
		[ "${VFIOSCOPE_SID:-1}" = 0 ] || prepare_sid
		fix_btfids
		add_maintainers
	fi
	# The guest bind-mounts its module tree on /lib/modules, which must exist
	# on the (read-only) shared root.
	[ -d /usr/lib/modules ] || mkdir -p /usr/lib/modules
	libvirt_host
	for s in $(series_list); do
		"$HERE/../tests/vm/bench/mkinitrd.sh" "$CACHE/k/$s"
	done
	log "done"
}

main "$@"
