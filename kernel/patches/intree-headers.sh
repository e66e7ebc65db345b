#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# intree-headers.sh DIR: write the in-tree form of the canonical trace
# headers (tracepoints/trace/events/{vfio,mdev,vdpa}.h) to DIR. In-tree,
# __assign_str() takes the field only (v6.10 and later) and the
# out-of-tree compat header goes away; nothing else differs. The patch
# series carries exactly these files (check.sh compares).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
TP=$HERE/../../tracepoints/trace/events
mkdir -p "$1"
for h in vfio mdev vdpa; do
	sed -e 's/vfioscope_assign_str(\([a-z_]*\), .*);/__assign_str(\1);/' \
	    -e '/#include <trace\/events\/vfioscope_compat.h>/d' \
	    "$TP/$h.h" > "$1/$h.h"
	if grep -n vfioscope "$1/$h.h" >&2; then
		echo "intree-headers: $h.h: out-of-tree names left after the conversion" >&2
		exit 1
	fi
done
