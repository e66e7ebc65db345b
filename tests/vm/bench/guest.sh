#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Runs inside the bench guest (chrooted into the host's root by init).
# guest.sh RUNDIR   set up the bench, run RUNDIR/script.sh, return its status
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
echo "bench: running ${VFIOSCOPE_SCRIPT_NAME:-script}"
if [ "${VFIOSCOPE_INTERACTIVE:-0}" = 1 ]; then
	# on the user's terminal, as long as the user wants
	stty rows "${VFIOSCOPE_ROWS:-24}" cols "${VFIOSCOPE_COLS:-80}" 2>/dev/null
	/bin/bash "$RUNDIR/script.sh"
	exit $?
fi
timeout -k 5 "${VFIOSCOPE_SCRIPT_TIMEOUT:-240}" /bin/bash "$RUNDIR/script.sh"
rc=$?
[ $rc = 124 ] && echo "bench: script timed out after ${VFIOSCOPE_SCRIPT_TIMEOUT:-240}s"
exit $rc
