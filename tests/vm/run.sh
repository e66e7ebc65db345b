#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# run.sh --kernels "6.12 6.1" [--flavours "stock patched"] [--tests REGEX]
#        [--exclude REGEX] [--result FILE]
# Runs every scenario in tests/vm/scenarios whose name matches REGEX in a
# fresh bench guest per kernel and flavour, one after the other (2 cores:
# one TCG guest at a time). Flavours: stock (Debian's modules, the
# default) and patched (the subsystem modules rebuilt with kernel/patches;
# kernels without a patched module tree are skipped, and said so); results
# of the patched flavour are labelled <kernel>/patched. One line per
# scenario and kernel, then "N passed, M failed, S skipped (K passed
# after a retry)" (skips named and counted apart; K of the N passes needed
# a second guest, see RETRY below). --result FILE gets "N M S K".
# --exclude leaves out the scenarios it matches, and says which. Exits
# non-zero on any failure, and when nothing matched: a run that tested
# nothing is not a pass.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
KERNELS="6.12 6.1"
FLAVOURS=stock
PATTERN=
EXCLUDE=
RESULT=
while [ $# -gt 0 ]; do
	case "$1" in
	--kernels) KERNELS=$2; shift 2 ;;
	--flavours) FLAVOURS=$2; shift 2 ;;
	--tests) PATTERN=$2; shift 2 ;;
	--exclude) EXCLUDE=$2; shift 2 ;;
	--result) RESULT=$2; shift 2 ;;
	*) echo "usage: run.sh --kernels LIST [--flavours LIST] [--tests REGEX] [--exclude REGEX] [--result FILE]" >&2; exit 2 ;;
	esac
done
LOGS=$REPO/build/vm/logs
mkdir -p "$LOGS"
pass=0 failn=0 skip=0 retriedpass=0
skipped=() failed=() retried=() benchfail=() excluded=()
start=$(date +%s)

for kf in $(for k in $KERNELS; do for f in $FLAVOURS; do echo "$k/$f"; done; done); do
	k=${kf%/*}
	f=${kf#*/}
	case $f in
	stock) label=$k ;;
	patched)
		label=$k/patched
		if [ ! -d "$REPO/build/k/$k/modtree-patched" ]; then
			echo "vmtest: no patched module tree for $k (the series is built for 6.12): skipped"
			continue
		fi
		;;
	*) echo "run.sh: unknown flavour '$f' (stock or patched)" >&2; exit 2 ;;
	esac
	export VFIOSCOPE_FLAVOUR=$f
	# a series names a moving target (sid follows unstable): say which
	# kernel these results are of
	kd=${VFIOSCOPE_CACHE:-/var/cache/vfioscope}/k/$k
	[ ! -f "$kd/kver" ] || echo "vmtest: $label is $(cat "$kd/kver") (Debian $(cat "$kd/version" 2>/dev/null))"
	for s in "$HERE"/scenarios/[0-9]*.sh; do
		name=$(basename "$s" .sh)
		[ -z "$PATTERN" ] || echo "$name" | grep -Eq -- "$PATTERN" || continue
		if [ -n "$EXCLUDE" ] && echo "$name" | grep -Eq -- "$EXCLUDE"; then
			excluded+=("$label/$name")
			continue
		fi
		log=$LOGS/${label//\//-}-$name.log
		t0=$(date +%s.%N)
		VM_QUIET=1 VM_LOG=$log VM_TIMEOUT=${VM_TIMEOUT:-300} \
			"$HERE/bench/runvm.sh" "$k" "$s" > "$log.runvm" 2>&1
		rc=$?
		# QEMU's MTTCG can run a stale int3 of a finished kernel text
		# patch and kill the guest: when the guest died of it without
		# reporting a status (emulator-race.sh: no VFIOSCOPE-RC line, and
		# the oops proves the race), the scenario runs once more - and
		# says so, and a pass then counts as a pass after a retry. A
		# guest that reported a status keeps its result, oops or not.
		# A guest that never started its scenario (boot-failed.sh) is
		# booted once more the same way: the scenario did not run.
		again=0 why=
		if [ $rc != 0 ] && "$HERE/bench/emulator-race.sh" "$log"; then
			why="guest killed by the emulator int3 race"
		elif [ $rc != 0 ] && "$HERE/bench/boot-failed.sh" "$log"; then
			why="the guest never started the scenario (boot failed or hung)"
		fi
		if [ -n "$why" ]; then
			again=1
			printf 'RETRY %-5s %-28s %s (log %s.race)\n' \
				"$label" "$name" "$why" "${log#$REPO/}"
			retried+=("$label/$name: $why")
			mv "$log" "$log.race"
			VM_QUIET=1 VM_LOG=$log VM_TIMEOUT=${VM_TIMEOUT:-300} \
				"$HERE/bench/runvm.sh" "$k" "$s" > "$log.runvm" 2>&1
			rc=$?
		fi
		t=$(printf '%.1f' "$(echo "$(date +%s.%N) - $t0" | bc)")
		case $rc in
		0)
			pass=$((pass + 1))
			if [ $again = 1 ]; then
				retriedpass=$((retriedpass + 1))
				printf 'PASS  %-5s %-28s %6ss  (after a retry)\n' "$label" "$name" "$t"
			else
				printf 'PASS  %-5s %-28s %6ss\n' "$label" "$name" "$t"
			fi
			;;
		77)
			skip=$((skip + 1))
			why=$(sed -n 's/^UNSUPPORTED: //p' "$log" | tail -n1 | tr -d '\r')
			skipped+=("$label/$name: ${why:-no reason given}")
			printf 'UNSUP %-5s %-28s %6ss  %s\n' "$label" "$name" "$t" "$why"
			;;
		*)
			failn=$((failn + 1))
			# a guest that died before its script started is the bench's
			# failure, not the scenario's: said apart, counted all the same
			if ! grep -q '^bench: running ' "$log" 2>/dev/null; then
				benchfail+=("$label/$name")
				printf 'BENCH %-5s %-28s %6ss  (the guest died before the scenario started: exit %s, log %s)\n' \
					"$label" "$name" "$t" "$rc" "${log#$REPO/}"
			else
				# the scenario's own reason, repeated in the closing lines
				why=$(sed -n 's/^FAIL: //p' "$log" | head -n 1 | tr -d '\r' | cut -c 1-240)
				failed+=("$label/$name: ${why:-no FAIL line (exit $rc)}")
				printf 'FAIL  %-5s %-28s %6ss  (exit %s, log %s)\n' "$label" "$name" "$t" "$rc" "${log#$REPO/}"
			fi
			cat "$log.runvm" | sed 's/^/  | /'
			echo "  console tail:"
			grep -v '^\[ *[0-9.]*\] reboot' "$log" | tail -n 40 | tr -d '\r' | sed 's/^/  | /'
			;;
		esac
	done
done

unset VFIOSCOPE_FLAVOUR
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
[ ${#excluded[@]} = 0 ] || echo "vmtest: left out (--exclude '$EXCLUDE'): ${excluded[*]}"
for x in "${skipped[@]}"; do echo "vmtest: unsupported: $x"; done
for x in "${retried[@]}"; do echo "vmtest: retried once: $x"; done
for x in "${benchfail[@]}"; do echo "vmtest: bench failure (guest died before the scenario): $x"; done
for x in "${failed[@]}"; do echo "vmtest: failed: $x"; done
if [ $total = 0 ]; then
	echo "vmtest: no scenario matches '$PATTERN'"
	failn=1
fi
if [ -n "$RESULT" ]; then
	mkdir -p "$(dirname "$RESULT")"
	echo "$pass $failn $skip $retriedpass" > "$RESULT"
	# why each failed, for the closing summary (tests/summary.sh)
	for x in "${benchfail[@]}"; do echo "$x: the guest died before the scenario started"; done > "$RESULT.why"
	for x in "${failed[@]}"; do echo "$x"; done >> "$RESULT.why"
fi
echo "$pass passed, $failn failed, $skip skipped ($retriedpass passed after a retry)"
[ $failn = 0 ]
