#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# version.sh: the version the tools print (--version), from this tree.
# In a git checkout, `git describe --always --dirty` over the release tags
# (vX.Y.Z, printed without the v); before the first tag, the VERSION file's
# number with the commit ("0.1.0-ge4158b7-dirty"). Without git (a tarball,
# the Debian package's source copy): the VERSION file alone, which `make
# deb` fills with the describe string of the tree it copied.
cd "$(dirname "$0")/.." || exit 1
base=$(cat VERSION 2>/dev/null || echo unknown)
if [ -e .git ] && d=$(git describe --always --dirty --match 'v[0-9]*' 2>/dev/null); then
	case $d in
	v[0-9]*) echo "${d#v}" ;;
	*) echo "$base-g$d" ;;
	esac
else
	echo "$base"
fi
