#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# run-unit.sh BINARY RESULT: run the Criterion unit tests, keep Criterion's
# own synthesis line, and store "passed failed skipped" for `make test`.
set -uo pipefail
bin=$1
result=$2
mkdir -p "$(dirname "$result")"
out=$(mktemp)
"$bin" --jobs 2 2>&1 | tee "$out"
rc=${PIPESTATUS[0]}
syn=$(grep 'Synthesis:' "$out" | tail -n1)
rm -f "$out"
num() { echo "$syn" | sed -n "s/.*$1: \([0-9]*\).*/\1/p"; }
tested=$(num Tested) passing=$(num Passing) failing=$(num Failing) crashing=$(num Crashing)
skipped=$(num Skipped)
if [ -z "$tested" ]; then
	echo "unit tests: no Criterion synthesis (binary crashed?)"
	echo "0 1 0" > "$result"
	exit 1
fi
echo "$passing $((failing + crashing)) ${skipped:-0}" > "$result"
exit $rc
