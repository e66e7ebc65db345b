#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# run.sh --seconds N --work DIR --result FILE FUZZER...: run each libFuzzer
# target for N seconds from its committed seeds (tests/fuzz/corpus/<name>/)
# plus what earlier runs found (DIR/corpus/<name>/, where new inputs go).
# A target passes when it ends its time without a crash, leak, timeout or
# sanitizer report; the reproducer of a failure is kept as
# DIR/crash/<name>-*. Stores "passed failed skipped" for `make test`.
set -uo pipefail
secs=60 work= result=
while [ $# -gt 0 ]; do
	case $1 in
	--seconds) secs=$2; shift 2 ;;
	--work) work=$2; shift 2 ;;
	--result) result=$2; shift 2 ;;
	*) break ;;
	esac
done
[ -n "$work" ] && [ -n "$result" ] && [ $# -gt 0 ] ||
	{ echo "usage: run.sh --seconds N --work DIR --result FILE FUZZER..." >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$(dirname "$result")" "$work/crash"
pass=0 failed=0
for bin in "$@"; do
	name=$(basename "$bin")
	name=${name#fuzz_}
	seeds=$here/corpus/$name
	corpus=$work/corpus/$name
	log=$work/$name.log
	mkdir -p "$corpus"
	[ -d "$seeds" ] || { echo "fuzz: $name: no seed corpus $seeds" >&2; failed=$((failed + 1)); continue; }
	printf 'fuzz: %-12s %ss ... ' "$name" "$secs"
	"$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=1024 -max_len=8192 \
		-print_final_stats=1 -artifact_prefix="$work/crash/$name-" \
		"$corpus" "$seeds" > "$log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n1)
	if [ $rc = 0 ]; then
		echo "ok (${runs:-?} runs, $cov)"
		pass=$((pass + 1))
	else
		echo "FAILED (status $rc); the log is $log:"
		grep -E 'ERROR|runtime error|SUMMARY|Test unit written' "$log" | head -n 8 | sed 's/^/    /'
		failed=$((failed + 1))
	fi
done
echo "$pass $failed 0" > "$result"
[ $failed = 0 ]
