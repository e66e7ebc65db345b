#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# check.sh: the tracepoint series is postable.
#   1. scripts/checkpatch.pl of the matching linux-source passes every patch
#      with 0 errors and 0 warnings;
#   2. the series applies with `git am` to a pristine extract of Debian's
#      linux-source-6.12 (the subtrees it touches, from scripts/deps.sh);
#   3. the trace headers it adds are exactly the in-tree form of the
#      canonical ones in tracepoints/ (intree-headers.sh).
# Env: VFIOSCOPE_CACHE (default /var/cache/vfioscope).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=${VFIOSCOPE_CACHE:-/var/cache/vfioscope}/k/6.12/src
fail() { echo "patches: FAIL: $*" >&2; exit 1; }

[ -f "$SRC/scripts/checkpatch.pl" ] && [ -f "$SRC/MAINTAINERS" ] ||
	fail "no extracted linux-source-6.12 with checkpatch.pl and MAINTAINERS in $SRC: run 'make deps'"
mapfile -t PATCHES < <(ls "$HERE"/0*.patch | grep -v '/0000-cover-letter.patch$')
[ ${#PATCHES[@]} -gt 0 ] || fail "no patches in $HERE"
grep -q '^Subject: \[PATCH 00/' "$HERE/0000-cover-letter.patch" || fail "no cover letter"
! grep -q '\*\*\* \(SUBJECT\|BLURB\) HERE \*\*\*' "$HERE/0000-cover-letter.patch" ||
	fail "the cover letter still has format-patch's placeholders"

T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

n=0
for p in "${PATCHES[@]}"; do
	out=$(perl "$SRC/scripts/checkpatch.pl" --no-tree --no-color "$p" 2>&1) || true
	if ! echo "$out" | grep -q '^total: 0 errors, 0 warnings, '; then
		echo "$out" | sed 's/^/  | /' >&2
		fail "checkpatch: $(basename "$p")"
	fi
	n=$((n + 1))
done
echo "patches: checkpatch clean: $n patches"

mkdir -p "$T/tree"
for d in drivers/vfio drivers/vdpa drivers/vhost drivers/virtio include/trace/events; do
	mkdir -p "$T/tree/$(dirname "$d")"
	cp -a "$SRC/$d" "$T/tree/$d"
done
cp "$SRC/MAINTAINERS" "$T/tree/"
G=(git -C "$T/tree" -c user.name=check -c user.email=check@localhost -c commit.gpgsign=false)
"${G[@]}" init -q
"${G[@]}" add -A
"${G[@]}" commit -q -m pristine
"${G[@]}" am -q "${PATCHES[@]}" > "$T/am.log" 2>&1 ||
	{ sed 's/^/  | /' "$T/am.log" >&2; fail "git am onto pristine linux-source-6.12"; }
echo "patches: git am onto linux-source-6.12: $("${G[@]}" rev-list --count HEAD^{/pristine}..HEAD) patches applied"

"$HERE/intree-headers.sh" "$T/headers"
for h in vfio mdev vdpa; do
	diff -u "$T/headers/$h.h" "$T/tree/include/trace/events/$h.h" >&2 ||
		fail "include/trace/events/$h.h in the series differs from tracepoints/ (run intree-headers.sh)"
done
echo "patches: include/trace/events/{vfio,mdev,vdpa}.h equal tracepoints/"
