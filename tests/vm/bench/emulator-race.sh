#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# emulator-race.sh CONSOLE_LOG: exit 0 if the guest died without reporting
# a status, of QEMU's multi-threaded TCG executing a stale int3 - a
# breakpoint the kernel had already removed again while live-patching its
# text (static keys at boot, tracepoints, BPF trampolines). Only then is a
# run worth running again. A guest that reported its status
# (VFIOSCOPE-RC=, tests/vm/bench/init) ran its script to the end: its
# result stands, whatever oops its log holds. The proof of the race is in
# the oops: "Oops: int3", and in its Code: line the byte before the marked
# one (the int3 traps after it) is no longer 0xcc. A real int3 bug leaves
# the cc in place.
log=${1:?console log}
! grep -q '^VFIOSCOPE-RC=' "$log" || exit 1
grep -q 'Oops: int3' "$log" || exit 1
code=$(grep -m1 -A4 'Oops: int3' "$log" | sed -n 's/.*Code: \(.*\)/\1/p' | head -n1)
[ -n "$code" ] || exit 1
before=$(echo "$code" | sed -n 's/.* \([0-9a-f][0-9a-f]\) <[0-9a-f][0-9a-f]>.*/\1/p')
[ -n "$before" ] && [ "$before" != cc ]
