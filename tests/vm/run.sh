#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# run.sh --kernels "6.12 6.1" [--flavours "stock patched"] [--tests REGEX]
#        [--exclude REGEX] [--result FILE]
# Runs every scenario in tests/vm/scenarios whose name matches REGEX in
# bench guests per kernel and flavour, one after the other (2 cores: one
# TCG guest at a time). A guest runs up to VFIOSCOPE_BATCH_MAX (12)
# consecutive scenarios that share a kernel command line: each starts from
# the state the set-up left (tests/vm/bench/between.sh takes away what the
# previous one left and checks the rest), and a scenario that failed, or
# left what cannot be taken away, ends the guest: the next one boots a
# fresh guest ("vmtest: a fresh guest after ..." says why). A scenario
# headed "# vm-alone" always gets a guest of its own. A boot costs 15-40 s
# under TCG; most scenarios take less. VFIOSCOPE_SCENARIOS: another
# directory of scenarios (the harness's self-test). Flavours: stock (Debian's modules, the
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
SCENARIOS=${VFIOSCOPE_SCENARIOS:-$HERE/scenarios}
# scenarios per guest (1: a fresh guest for each, as before batches)
BATCH_MAX=${VFIOSCOPE_BATCH_MAX:-12}
mkdir -p "$LOGS"
pass=0 failn=0 skip=0 retriedpass=0
skipped=() failed=() retried=() benchfail=() excluded=()
start=$(date +%s)

# result NAME RC LOG: count and print one scenario's result; returns 1
# when it is to run again in a fresh guest (the emulator's int3 race
# killed the guest in it, the emulator aborted on its own assertion or
# stopped a vCPU's timer, or the guest never started it: once each)
result() {
	local name=$1 rc=$2 log=$3 why='' t
	if [ "$rc" != 0 ] && [ -z "${again[$name]:-}" ]; then
		if "$HERE/bench/emulator-race.sh" "$log"; then
			why="guest killed by the emulator int3 race"
		elif "$HERE/bench/emulator-abort.sh" "$log"; then
			why="the emulator aborted on its own assertion: $(grep -Em1 'Assertion .* failed' "$log" | cut -c1-120)"
		elif "$HERE/bench/boot-failed.sh" "$log"; then
			why="the guest never started the scenario (boot failed or hung)"
		elif "$HERE/bench/emulator-timer.sh" "$log"; then
			why="the guest hung with a vCPU whose timer never fired (emulator; RCU stall)"
		fi
		if [ -n "$why" ]; then
			again[$name]=$why
			printf 'RETRY %-5s %-28s %s (log %s.race)\n' "$label" "$name" "$why" "${log#$REPO/}"
			retried+=("$label/$name: $why")
			mv "$log" "$log.race"
			return 1
		fi
	fi
	t=$(sed -n "s/^VFIOSCOPE-SCENARIO-TIME $name=//p" "$log" | tr -d '\r' | tail -n1)
	case $rc in
	0)
		pass=$((pass + 1))
		if [ -n "${again[$name]:-}" ]; then
			retriedpass=$((retriedpass + 1))
			printf 'PASS  %-5s %-28s %6ss  (after a retry)\n' "$label" "$name" "${t:-?}"
		else
			printf 'PASS  %-5s %-28s %6ss\n' "$label" "$name" "${t:-?}"
		fi
		;;
	77)
		skip=$((skip + 1))
		why=$(sed -n 's/^UNSUPPORTED: //p' "$log" | tail -n1 | tr -d '\r')
		skipped+=("$label/$name: ${why:-no reason given}")
		printf 'UNSUP %-5s %-28s %6ss  %s\n' "$label" "$name" "${t:-?}" "$why"
		;;
	*)
		failn=$((failn + 1))
		# a guest that died before its script started is the bench's
		# failure, not the scenario's: said apart, counted all the same
		if ! grep -q '^bench: running ' "$log" 2>/dev/null; then
			benchfail+=("$label/$name")
			printf 'BENCH %-5s %-28s %6ss  (the guest died before the scenario started: exit %s, log %s)\n' \
				"$label" "$name" "${t:-?}" "$rc" "${log#$REPO/}"
		else
			# the scenario's own reason, repeated in the closing lines
			why=$(sed -n 's/^FAIL: //p' "$log" | head -n 1 | tr -d '\r' | cut -c 1-240)
			failed+=("$label/$name: ${why:-no FAIL line (exit $rc)}")
			printf 'FAIL  %-5s %-28s %6ss  (exit %s, log %s)\n' "$label" "$name" "${t:-?}" "$rc" "${log#$REPO/}"
		fi
		sed 's/^/  | /' "$log.runvm"
		echo "  console tail:"
		grep -v '^\[ *[0-9.]*\] reboot' "$log" | tail -n 40 | tr -d '\r' | sed 's/^/  | /'
		;;
	esac
	return 0
}

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
	todo=()
	for s in "$SCENARIOS"/[0-9]*.sh; do
		name=$(basename "$s" .sh)
		[ -z "$PATTERN" ] || echo "$name" | grep -Eq -- "$PATTERN" || continue
		if [ -n "$EXCLUDE" ] && echo "$name" | grep -Eq -- "$EXCLUDE"; then
			excluded+=("$label/$name")
			continue
		fi
		todo+=("$s")
	done
	declare -A again=()
	while [ ${#todo[@]} -gt 0 ]; do
		# the batch: consecutive scenarios with the same kernel command
		# line; one that says "# vm-alone" (or had to be run again) alone
		batch=("${todo[0]}")
		app=$(sed -n 's/^# vm-append: //p' "${todo[0]}" | head -1)
		n0=$(basename "${todo[0]}" .sh)
		if [ "$BATCH_MAX" -gt 1 ] && ! grep -q '^# vm-alone' "${todo[0]}" && [ -z "${again[$n0]:-}" ]; then
			for s in "${todo[@]:1}"; do
				[ ${#batch[@]} -lt "$BATCH_MAX" ] || break
				! grep -q '^# vm-alone' "$s" || break
				[ "$(sed -n 's/^# vm-append: //p' "$s" | head -1)" = "$app" ] || break
				batch+=("$s")
			done
		fi
		# the host's limits: each scenario's own (240 s in the guest, or
		# its "# vm-timeout:") and a minute for its clean-up, plus the boot
		total=${VM_BOOT_TIMEOUT:-150} longest=0
		for s in "${batch[@]}"; do
			t=$(sed -n 's/^# vm-timeout: \([0-9]*\).*/\1/p' "$s" | head -n1)
			t=$(( ${t:-${VFIOSCOPE_SCRIPT_TIMEOUT:-240}} + 60 ))
			total=$((total + t))
			[ $t -le $longest ] || longest=$t
		done
		clog=$LOGS/${label//\//-}-batch-$n0.console
		t0=$(date +%s)
		VM_QUIET=1 VM_LOG=$clog VM_TIMEOUT=$total VM_SCENARIO_TIMEOUT=$longest \
			"$HERE/bench/runvm.sh" --batch "$k" "${batch[@]}" > "$clog.runvm" 2>&1
		grc=$?
		ready=$(sed -n 's/^bench: ready at \([0-9.]*\)s uptime.*/\1/p' "$clog" | head -n1)
		echo "vmtest: $label guest for ${#batch[@]} scenarios from $n0: $(( $(date +%s) - t0 ))s, ready at ${ready:-?}s uptime"
		sed -n 's/^bench: a fresh guest after /vmtest: a fresh guest after /p' "$clog" | tr -d '\r'
		done_n=0
		for s in "${batch[@]}"; do
			name=$(basename "$s" .sh)
			log=$LOGS/${label//\//-}-$name.log
			# this scenario's part of the console, as if it had been alone:
			# the boot, its lines, its status as VFIOSCOPE-RC
			awk -v n="$name" '
				/^bench: running / { started = 1; on = ($3 == n ".sh" || $3 == n ".sh\r") }
				!started { print; next }
				on && /^VFIOSCOPE-SCENARIO-RC / {
					split($2, kv, "="); sub(/\r$/, "", kv[2])
					print "VFIOSCOPE-RC=" kv[2]; on = 0; next
				}
				on { print }
			' "$clog" > "$log"
			grep -q "^bench: running $name.sh" "$log" || break
			rc=$(sed -n 's/^VFIOSCOPE-RC=\([0-9]*\)$/\1/p' "$log" | tail -n1)
			if [ -z "$rc" ]; then
				# the guest died, hung or timed out in this scenario: the rest
				# of its console belongs here
				awk -v n="$name" '/^bench: running / && ($3 == n ".sh" || $3 == n ".sh\r") { on = 1; next } on' "$clog" |
					grep -v '^VFIOSCOPE-RC=' >> "$log" || true
				cp "$clog.runvm" "$log.runvm"
				rc=$grc
				[ "$rc" != 0 ] || rc=125
			else
				# where its files are (kept when it failed)
				sed -n "s|^runvm: kept \(.*\)|runvm: kept \1/out/$name|p" "$clog.runvm" > "$log.runvm"
			fi
			result "$name" "$rc" "$log" || break
			done_n=$((done_n + 1))
		done
		if [ $done_n = 0 ]; then
			# the guest never started a scenario: once more, then it is the
			# first scenario's bench failure
			log=$LOGS/${label//\//-}-$n0.log
			cp "$clog" "$log"
			cp "$clog.runvm" "$log.runvm"
			result "$n0" "$grc" "$log" && done_n=1
		fi
		todo=("${todo[@]:$done_n}")
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
