#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# run.sh --kernels "6.12 6.1" [--tests REGEX] [--result FILE]
# Runs every scenario in tests/vm/scenarios whose name matches REGEX in a
# fresh bench guest per kernel, one after the other (2 cores: one TCG guest
# at a time). One line per scenario and kernel, then "N passed, N failed"
# (skips named and counted apart). Exits non-zero on any failure, and when
# nothing matched: a run that tested nothing is not a pass.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
KERNELS="6.12 6.1"
PATTERN=
RESULT=
while [ $# -gt 0 ]; do
	case "$1" in
	--kernels) KERNELS=$2; shift 2 ;;
	--tests) PATTERN=$2; shift 2 ;;
	--result) RESULT=$2; shift 2 ;;
	*) echo "usage: run.sh --kernels LIST [--tests REGEX] [--result FILE]" >&2; exit 2 ;;
	esac
done
LOGS=$REPO/build/vm/logs
mkdir -p "$LOGS"
pass=0 failn=0 skip=0
skipped=() failed=() retried=()
start=$(date +%s)

for k in $KERNELS; do
	for s in "$HERE"/scenarios/[0-9]*.sh; do
		name=$(basename "$s" .sh)
		[ -z "$PATTERN" ] || echo "$name" | grep -Eq -- "$PATTERN" || continue
		log=$LOGS/$k-$name.log
		t0=$(date +%s.%N)
		VM_QUIET=1 VM_LOG=$log VM_TIMEOUT=${VM_TIMEOUT:-300} \
			"$HERE/bench/runvm.sh" "$k" "$s" > "$log.runvm" 2>&1
		rc=$?
		# QEMU 7.2's MTTCG can run a stale int3 of a finished kernel text
		# patch and kill the guest: once per scenario, provably (see
		# emulator-race.sh), the scenario runs again - and says so.
		if [ $rc != 0 ] && [ $rc != 77 ] && "$HERE/bench/emulator-race.sh" "$log"; then
			printf 'RETRY %-5s %-28s guest killed by the emulator int3 race (log %s.race)\n' \
				"$k" "$name" "${log#$REPO/}"
			retried+=("$k/$name")
			mv "$log" "$log.race"
			VM_QUIET=1 VM_LOG=$log VM_TIMEOUT=${VM_TIMEOUT:-300} \
				"$HERE/bench/runvm.sh" "$k" "$s" > "$log.runvm" 2>&1
			rc=$?
		fi
		t=$(printf '%.1f' "$(echo "$(date +%s.%N) - $t0" | bc)")
		case $rc in
		0)
			pass=$((pass + 1))
			printf 'PASS  %-5s %-28s %6ss\n' "$k" "$name" "$t"
			;;
		77)
			skip=$((skip + 1))
			why=$(sed -n 's/^UNSUPPORTED: //p' "$log" | tail -n1 | tr -d '\r')
			skipped+=("$k/$name: ${why:-no reason given}")
			printf 'UNSUP %-5s %-28s %6ss  %s\n' "$k" "$name" "$t" "$why"
			;;
		*)
			failn=$((failn + 1))
			failed+=("$k/$name")
			printf 'FAIL  %-5s %-28s %6ss  (exit %s, log %s)\n' "$k" "$name" "$t" "$rc" "${log#$REPO/}"
			cat "$log.runvm" | sed 's/^/  | /'
			echo "  console tail:"
			grep -v '^\[ *[0-9.]*\] reboot' "$log" | tail -n 40 | tr -d '\r' | sed 's/^/  | /'
			;;
		esac
	done
done

# The harness checks itself once per run, on the first kernel.
first=${KERNELS%% *}
if [ -n "$first" ] && { [ -z "$PATTERN" ] || echo 00-harness | grep -Eq -- "$PATTERN"; }; then
	t0=$(date +%s)
	if "$HERE/harness-selftest.sh" "$first" > "$LOGS/$first-00-harness.log" 2>&1; then
		pass=$((pass + 1))
		printf 'PASS  %-5s %-28s %6ss\n' "$first" 00-harness "$(( $(date +%s) - t0 ))"
	else
		failn=$((failn + 1))
		failed+=("$first/00-harness")
		printf 'FAIL  %-5s %-28s %6ss\n' "$first" 00-harness "$(( $(date +%s) - t0 ))"
		sed 's/^/  | /' "$LOGS/$first-00-harness.log"
	fi
fi

total=$((pass + failn + skip))
echo "vmtest: $total scenario runs in $(( $(date +%s) - start ))s"
for x in "${skipped[@]}"; do echo "vmtest: unsupported: $x"; done
for x in "${retried[@]}"; do echo "vmtest: retried once (emulator int3 race): $x"; done
for x in "${failed[@]}"; do echo "vmtest: failed: $x"; done
if [ $total = 0 ]; then
	echo "vmtest: no scenario matches '$PATTERN'"
	failn=1
fi
[ -z "$RESULT" ] || { mkdir -p "$(dirname "$RESULT")"; echo "$pass $failn $skip" > "$RESULT"; }
echo "$pass passed, $failn failed, $skip skipped"
[ $failn = 0 ]
