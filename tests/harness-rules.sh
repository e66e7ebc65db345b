#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# harness-rules.sh RESULT: the rules by which the VM bench and make bench
# decide what a run showed, against made-up inputs (no guest):
# - the RETRY rule (tests/vm/bench/emulator-race.sh): only a guest that
#   died without reporting a status, of the proven emulator int3 race,
#   runs again; a reported status stands, whatever oops the log holds; a
#   guest whose emulator aborted on its own assertion (emulator-abort.sh)
#   runs again; a guest hung with a vCPU whose timer never fires
#   (emulator-timer.sh) runs again; and a guest that never started its
#   scenario (boot-failed.sh) boots again;
# - tests/summary.sh adds up passes after a retry, and old three-field
#   result files still count, and repeats each stage's failures and why;
# - tests/bench/table.py computes its verdicts and "N of N rounds" from the
#   rounds it was given, and refuses a run with a round missing.
# Part of `make check`; writes "passed failed skipped" to RESULT.
set -uo pipefail
RESULT=${1:?usage: harness-rules.sh RESULT}
cd "$(dirname "$0")/.."
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
pass=0 bad=0
check() {	# WHAT CONDITION...
	local what=$1
	shift
	if "$@"; then
		pass=$((pass + 1))
	else
		echo "harness-rules: FAIL: $what"
		bad=$((bad + 1))
	fi
}
race=tests/vm/bench/emulator-race.sh

# ---- the RETRY rule
oops() {	# BYTE_BEFORE_THE_MARK: an int3 oops whose Code: line has it
	printf '[   12.3] Oops: int3: 0000 [#1] PREEMPT SMP NOPTI\n'
	printf '[   12.3] CPU: 1 UID: 0 PID: 99 Comm: vfiostat\n'
	printf '[   12.3] RIP: 0010:vfio_device_fops_unl_ioctl+0x1/0x80\n'
	printf '[   12.3] Code: 90 90 90 %s <0f> 1f 44 00 00 55 48 89 e5\n' "$1"
}
oops 66 > "$T/race-died.log"
{ oops 66; echo 'FAIL: some check'; echo 'VFIOSCOPE-RC=1'; } > "$T/race-reported.log"
oops cc > "$T/real-int3.log"
{ echo 'bench: running 40-vfiomig.sh'; echo '[  300.0] reboot: Power down'; } > "$T/no-oops.log"
check "a guest killed by the int3 race without a status is retried" "$race" "$T/race-died.log"
check "a guest that reported a status is not retried, oops or not" bash -c "! $race $T/race-reported.log"
check "a real int3 (the cc still in place) is not retried" bash -c "! $race $T/real-int3.log"
check "a guest that died without an oops is not retried" bash -c "! $race $T/no-oops.log"
abort=tests/vm/bench/emulator-abort.sh
qa="qemu-system-x86_64: system/physmem.c:2678: iotlb_to_section: Assertion \`section_index < d->map.sections_nb' failed."
{ echo 'bench: running 53-vm-dies-young.sh'; echo "$qa"; } > "$T/abort-died.log"
{ echo 'bench: running 43-qemu-migrate.sh'; echo "$qa"; echo 'VFIOSCOPE-RC=1'; } > "$T/abort-reported.log"
check "a guest whose emulator aborted on its own assertion, without a status, is retried" \
	"$abort" "$T/abort-died.log"
check "a guest that reported a status is not retried, a QEMU assertion quoted or not" \
	bash -c "! $abort $T/abort-reported.log"
check "a guest that died without the emulator's assertion is not retried for it" \
	bash -c "! $abort $T/no-oops.log"
timer=tests/vm/bench/emulator-timer.sh
stall() {	# the lines RCU prints when CPU 1's timer stops firing
	printf "[  287.41] rcu: rcu_preempt kthread timer wakeup didn't happen for 5251 jiffies!\r\n"
	printf '[  287.41] rcu: \tPossible timer handling issue on cpu=1 timer-softirq=9717\r\n'
}
{ echo 'bench: running 46-device-resets.sh'; stall; } > "$T/timer-hung.log"
{ echo 'bench: running 46-device-resets.sh'; stall; echo 'VFIOSCOPE-RC=1'; } > "$T/timer-reported.log"
{ echo 'bench: running 46-device-resets.sh'
  echo '[  300.0] rcu: INFO: rcu_preempt detected stalls on CPUs/tasks:'
  echo '[  300.0] rcu:     1-....: (5250 ticks this GP) idle=1234/1/0x4000000000000000'; } > "$T/stall-busy.log"
check "a guest hung with a vCPU whose timer never fires, without a status, is retried" \
	"$timer" "$T/timer-hung.log"
check "a guest that reported a status is not retried, timer stall or not" \
	bash -c "! $timer $T/timer-reported.log"
check "a guest stalled in kernel code (its timer working) is not retried" \
	bash -c "! $timer $T/stall-busy.log"
boot=tests/vm/bench/boot-failed.sh
{ echo 'VFIOSCOPE-INIT-READY 7.2'; echo '[   24.0] rcu: INFO: rcu_preempt detected stalls on CPUs/tasks:'; } \
	> "$T/boot-hung.log"
check "a guest that never started its scenario is booted again" "$boot" "$T/boot-hung.log"
check "a guest that started its scenario is not, whatever became of it" \
	bash -c "! $boot $T/no-oops.log"

# ---- the closing line
echo '3 0 1 2' > "$T/vm"
echo '5 1 0' > "$T/unit"
tests/summary.sh "$T/vm" "$T/unit" > "$T/summary.out"
check "summary: passes after a retry added up, old result files count" \
	grep -qx '8 passed, 1 failed, 1 skipped (2 passed after a retry)' "$T/summary.out"
echo '6.12/43-qemu-migrate: replayed downtime 3 ns, live 1 ns' > "$T/unit.why"
tests/summary.sh "$T/vm" "$T/unit" > "$T/summary.out"
check "summary: a stage's failures are named, with the scenario's reason, above the closing line" \
	grep -qx 'test: unit: failed: 6.12/43-qemu-migrate: replayed downtime 3 ns, live 1 ns' "$T/summary.out"

# ---- table.py: a complete made-up run of 2 rounds
raw() {	# the raw lines of a whole run, every ring round exact but one when $1 = inexact
	local r m row v
	echo "info kernel 6.12-test"
	echo "info ring_rounds 2"
	echo "info fleet_rounds 1"
	for r in 1 2; do
		for row in check_ns info_ns map_ns; do
			v=1000
			for m in none floor vfioscope bpftrace patched-none patched-vfioscope patched-vfioscope-fentry; do
				echo "$row $m $r $v"
				v=$((v + 500))
			done
		done
		for m in floor vfioscope bpftrace patched-vfioscope patched-vfioscope-fentry; do
			echo "attach_ms $m $r 100"
		done
		echo "attach_ms vfioscope-ioctl $r 40"
		for m in vfioscope vfioscope-ioctl; do
			for v in programs probe_ms load_ms verify_ms insns attach_ms; do
				echo "startup_$v $m $r 10"
			done
		done
		echo "kick_ns none $r 2000"
		echo "kick_ns vfioscope $r 2100"
		for m in 4096 65536; do
			echo "ring_produced_per_s $m $r 1000"
			echo "ring_delivered_per_s $m $r 900"
			echo "ring_dropped $m $r 100"
			echo "ring_produced $m $r 1000"
			if [ "$1" = inexact ] && [ $m = 4096 ] && [ $r = 2 ]; then
				echo "ring_delivered $m $r 899"
			else
				echo "ring_delivered $m $r 900"
			fi
		done
	done
	echo "pd_idle_permille policyd 1 20"
}
table() { python3 tests/bench/table.py "$@" --rounds 2 --boots 2; }
raw exact > "$T/raw"
check "table.py takes a complete run" table "$T/raw" > "$T/t.md" 2> "$T/t.err"
check "... the ring rows say exact in 2 of 2 rounds" grep -q '| exact in 2 of 2 rounds |' "$T/t.md"
check "... zero unaccounted loss met, from 4 of 4 rounds" \
	grep -q 'dropped in 4 of 4 rounds, over 2 ring sizes | met |' "$T/t.md"
check "... the floor rows: vfioscope 500 ns above it, bpftrace 1000" \
	grep -q '^| VFIO_CHECK_EXTENSION, ns per ioctl | 500 / 500 / 500 | 500 / 500 / 500 | 1000 / 1000 / 1000 | 0.50 | 2 of 2 rounds |' "$T/t.md"
check "... start-up of the ioctl class against bpftrace's: 0.40, met" \
	grep -q 'bpftrace peer 100 ms: 0.40× (median of the per-round ratios, TCG guest) | met as measured |' "$T/t.md"
raw inexact > "$T/raw"
table "$T/raw" > "$T/t.md" 2> "$T/t.err"
check "an inexact ring round shows: exact in 1 of 2 rounds" grep -q '| exact in 1 of 2 rounds |' "$T/t.md"
check "... and zero unaccounted loss is not met" \
	grep -q 'dropped in 3 of 4 rounds, over 2 ring sizes | not met |' "$T/t.md"
raw exact | grep -v '^map_ns patched-vfioscope 2 ' > "$T/raw"
check "a missing round fails table.py" bash -c "! python3 tests/bench/table.py $T/raw --rounds 2 > $T/t.md 2> $T/t.err"
check "... naming the row and the round" grep -q 'map_ns patched-vfioscope: rounds \[1\] recorded, missing \[2\]' "$T/t.err"
raw exact | grep -v '^check_ns floor ' > "$T/raw"
check "a mode missing altogether fails table.py" bash -c "! python3 tests/bench/table.py $T/raw --rounds 2 > $T/t.md 2> $T/t.err"
raw exact > "$T/raw"
check "a run of 3 rounds that recorded 2 fails table.py" \
	bash -c "! python3 tests/bench/table.py $T/raw --rounds 3 > /dev/null 2>&1"

# ---- make bench's fleet recording: its packed layouts match bpf/abi.h
check "gen-top-replay.py packs every map value as bpf/abi.h lays it out" \
	bash -c "python3 scripts/gen-top-replay.py --vms 2 --devices 2 --frames 1 > /dev/null"

echo "harness-rules: $pass passed, $bad failed"
mkdir -p "$(dirname "$RESULT")"
echo "$pass $bad 0" > "$RESULT"
[ $bad = 0 ]
