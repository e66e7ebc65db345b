#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# run-unit.sh [--sanitized] BINARY RESULT: run the Criterion unit tests, keep
# Criterion's own synthesis line, and store "passed failed skipped" for
# `make test`. --sanitized: the binary is an ASan+UBSan build; the first
# report aborts the test that made it, which Criterion counts as a crash.
set -uo pipefail
if [ "${1:-}" = --sanitized ]; then
	shift
	export ASAN_OPTIONS=halt_on_error=1:abort_on_error=1:detect_leaks=1:fast_unwind_on_malloc=0:${ASAN_OPTIONS:-}
	export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:${UBSAN_OPTIONS:-}
fi
bin=$1
result=$2
mkdir -p "$(dirname "$result")"
out=$(mktemp)
"$bin" --jobs 2 2>&1 | tee "$out"
rc=${PIPESTATUS[0]}
syn=$(grep 'Synthesis:' "$out" | tail -n1)
# a test whose teardown died (e.g. LeakSanitizer at its exit) is not in the
# synthesis' failures: count it as one
torn=$(grep -c 'crashed during its setup or teardown' "$out")
rm -f "$out"
num() { echo "$syn" | sed -n "s/.*$1: \([0-9]*\).*/\1/p"; }
tested=$(num Tested) passing=$(num Passing) failing=$(num Failing)
skipped=$(num Skipped)
if [ -z "$tested" ]; then
	echo "unit tests: no Criterion synthesis (binary crashed?)"
	echo "0 1 0" > "$result"
	exit 1
fi
# Criterion's Failing already includes the Crashing tests
echo "$((passing - torn)) $((failing + torn)) ${skipped:-0}" > "$result"
[ "$torn" = 0 ] || echo "unit tests: $torn test(s) crashed in setup or teardown: counted as failed"
exit $rc
