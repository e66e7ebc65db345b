#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# vfiotop-picture.sh [KERNEL]: the picture of vfiotop in README, taken from
# the bench: the demo's workloads in a guest, vfiotop interactive in tmux,
# its screen captured with colours (scripts/vfiotop-picture-guest.sh) and
# drawn as SVG (scripts/ansi2svg.py) into docs/img/vfiotop.svg.
# Needs `make` done (the bench kernels' modules).
set -euo pipefail
cd "$(dirname "$0")/.."
VM_TIMEOUT=${VM_TIMEOUT:-420} tests/vm/bench/runvm.sh "${1:-6.12}" scripts/vfiotop-picture-guest.sh
python3 scripts/ansi2svg.py --title "sudo vfiotop (make demo's workloads, bench guest)" \
	build/picture/vfiotop.ansi > docs/img/vfiotop.svg
xmllint --noout docs/img/vfiotop.svg
echo "docs/img/vfiotop.svg"
