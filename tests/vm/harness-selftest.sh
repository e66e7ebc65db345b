#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# harness-selftest.sh KERNEL: the bench must never report a pass it did not
# observe. Three guests: a module that does not load must fail the set-up
# (with the reason and the console shown), a guest that panics must fail
# with its console tail, and a script's exit status must come back as is.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
K=${1:?kernel}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
bad=0
# a guest the emulator's int3 race killed proves nothing either way: once more
guest() {	# OUT ARGS...
	local out=$1 rc
	shift
	"$@" > "$out" 2>&1
	rc=$?
	if [ $rc != 0 ] && "$HERE/bench/emulator-race.sh" "$out"; then
		echo "  (emulator int3 race: running that guest again)"
		"$@" > "$out" 2>&1
		rc=$?
	fi
	return $rc
}
check() {	# WHAT CONDITION...
	local what=$1
	shift
	if "$@"; then
		echo "  ok: $what"
	else
		echo "  NOT OK: $what"
		bad=1
	fi
}

echo 'echo should-not-run; exit 0' > "$T/ok.sh"
VFIOSCOPE_EXTRA_MODULES=vfioscope_no_such_module VM_TIMEOUT=120 \
	guest "$T/out1" "$HERE/bench/runvm.sh" "$K" "$T/ok.sh"
rc=$?
check "a module that does not load fails the run (rc $rc)" test "$rc" != 0
check "... naming the module" grep -q 'modprobe vfioscope_no_such_module failed' "$T/out1"
check "... and the script never ran" bash -c "! grep -q '^should-not-run' '$T/out1'"

echo 'echo c > /proc/sysrq-trigger; sleep 30; exit 0' > "$T/panic.sh"
VM_TIMEOUT=120 guest "$T/out2" "$HERE/bench/runvm.sh" "$K" "$T/panic.sh"
rc=$?
check "a guest that panics fails the run (rc $rc)" test "$rc" = 125
check "... with its console tail" grep -q 'console tail' "$T/out2"

echo 'echo exiting-3; exit 3' > "$T/three.sh"
VM_TIMEOUT=120 guest "$T/out3" "$HERE/bench/runvm.sh" "$K" "$T/three.sh"
rc=$?
check "the script's exit status comes back (rc $rc)" test "$rc" = 3
check "... with its output" grep -q '^exiting-3' "$T/out3"
if [ $bad != 0 ]; then
	for f in "$T"/out*; do echo "== $f"; tail -n 15 "$f"; done
fi
exit $bad
