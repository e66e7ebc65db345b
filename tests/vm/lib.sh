# SPDX-License-Identifier: GPL-2.0
# Helpers for bench scenarios (sourced). A scenario passes by exiting 0,
# fails with a reason through fail(), and reports a feature the kernel
# lacks through unsupported() (exit 77) - never to paper over a broken bench.
set -euo pipefail

fail() { echo "FAIL: $*"; exit 1; }
unsupported() { echo "UNSUPPORTED: $*"; exit 77; }
note() { echo "-- $*"; }

# expect_eq WHAT GOT WANT
expect_eq() {
	[ "$2" = "$3" ] || fail "$1: got '$2', want '$3'"
	note "$1 = $2"
}

# wait_for_line FILE PATTERN [TIMEOUT_S [PID]]: until a line of FILE
# matches; fails at once if process PID (the one writing FILE) has exited
wait_for_line() {
	local i
	for i in $(seq 1 $((${3:-30} * 10))); do
		grep -q "$2" "$1" 2>/dev/null && return 0
		if [ -n "${4:-}" ] && ! kill -0 "$4" 2>/dev/null; then
			fail "process $4 exited before '$2' appeared in $1: $(tail -n 5 "$1")"
		fi
		sleep 0.1
	done
	fail "timed out waiting for '$2' in $1"
}

# the dmesg lines that mean the kernel is unhappy
kernel_complaints() {
	dmesg | grep -E 'WARNING:|BUG:|Oops|general protection|Call Trace:|KASAN|refcount_t:' || true
}
