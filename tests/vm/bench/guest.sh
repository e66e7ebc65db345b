#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Runs inside the bench guest (chrooted into the host's root by init).
# guest.sh RUNDIR   set up the bench, run RUNDIR/script.sh, return its status
#                   (or each of RUNDIR/batch's scenarios in turn)
# guest.sh --shell  set up the bench, then an interactive login shell
set -uo pipefail
REPO=${VFIOSCOPE_REPO:?}
export PATH=$REPO/build/bin:$REPO/tests/vm/bench/bin:$PATH
export VFIOSCOPE_REPO=$REPO

if [ "$1" = --shell ]; then
	RUNDIR=
else
	RUNDIR=$1
	# shellcheck disable=SC1091
	. "$RUNDIR/env"
	export VFIOSCOPE_OUT=$RUNDIR
fi

echo "bench: kernel $(uname -r), setting up devices"
if ! "$REPO/tests/vm/bench/setup.sh"; then
	echo "bench: SET-UP FAILED (see above); dmesg tail:"
	dmesg | tail -n 25 | sed 's/^/  dmesg| /'
	exit 126
fi
set -a
# shellcheck disable=SC1091
. /run/vfioscope/bench.env
set +a
echo "bench: ready at $(cut -d' ' -f1 /proc/uptime)s uptime"

cd "$REPO" || exit 126
if [ -z "$RUNDIR" ]; then
	echo "bench devices: $(tr '\n' ' ' < /run/vfioscope/bench.env)"
	exec /bin/bash --norc -i
fi
T=${VFIOSCOPE_SCRIPT_TIMEOUT:-240}
# Several scenarios in one guest (RUNDIR/batch: one name per line, the
# scripts in RUNDIR/scripts): each starts as the set-up left the guest
# (between.sh) with an empty kernel log and its own output directory, and
# ends with a VFIOSCOPE-SCENARIO-RC line. The guest stops early, leaving
# the rest to a fresh one, after a scenario that failed or whose traces
# cannot be taken away.
if [ -n "$RUNDIR" ] && [ -f "$RUNDIR/batch" ]; then
	# shellcheck source=tests/vm/bench/between.sh
	. "$REPO/tests/vm/bench/between.sh"
	B=/run/vfioscope-baseline
	bench_baseline $B
	prev=
	while read -r name <&3; do
		r0=$EPOCHREALTIME
		if [ -n "$prev" ] && ! bench_reset $B > $B/why; then
			echo "bench: a fresh guest after $prev: it left $(cat $B/why)"
			break
		fi
		[ -z "$prev" ] ||
			echo "bench: reset after $prev in $(awk -v a="$r0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')s"
		[ -z "$prev" ] || dmesg -C
		mkdir -p "$RUNDIR/out/$name"
		echo "bench: running $name.sh"
		t0=$EPOCHREALTIME
		t=$(sed -n 's/^# vm-timeout: \([0-9]*\).*/\1/p' "$RUNDIR/scripts/$name.sh" | head -n1)
		VFIOSCOPE_OUT=$RUNDIR/out/$name timeout -k 5 "${t:-$T}" /bin/bash "$RUNDIR/scripts/$name.sh" < /dev/null
		rc=$?
		[ $rc = 124 ] && echo "bench: script timed out after ${t:-$T}s"
		echo "VFIOSCOPE-SCENARIO-TIME $name=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')"
		echo "VFIOSCOPE-SCENARIO-RC $name=$rc"
		prev=$name
		case $rc in
		0|77) ;;
		*) echo "bench: a fresh guest after $name: it failed"; break ;;
		esac
	done 3< "$RUNDIR/batch"
	exit 0
fi
echo "bench: running ${VFIOSCOPE_SCRIPT_NAME:-script}"
if [ "${VFIOSCOPE_INTERACTIVE:-0}" = 1 ]; then
	# on the user's terminal, as long as the user wants
	stty rows "${VFIOSCOPE_ROWS:-24}" cols "${VFIOSCOPE_COLS:-80}" 2>/dev/null
	/bin/bash "$RUNDIR/script.sh"
	exit $?
fi
# a scenario that needs longer says so in a header line: "# vm-timeout: 480"
t=$(sed -n 's/^# vm-timeout: \([0-9]*\).*/\1/p' "$RUNDIR/script.sh" | head -n1)
timeout -k 5 "${t:-$T}" /bin/bash "$RUNDIR/script.sh"
rc=$?
[ $rc = 124 ] && echo "bench: script timed out after ${t:-$T}s"
exit $rc
