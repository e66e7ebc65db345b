#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# emulator-race.sh CONSOLE_LOG: exit 0 if the guest died of QEMU 7.2's
# multi-threaded TCG executing a stale int3 - a breakpoint the kernel had
# already removed again while live-patching its text (static keys at boot,
# tracepoints, BPF trampolines). The proof is in the oops: "Oops: int3",
# and in its Code: line the byte before the marked one (the int3 traps
# after it) is no longer 0xcc. A real int3 bug leaves the cc in place.
log=${1:?console log}
grep -q 'Oops: int3' "$log" || exit 1
code=$(grep -m1 -A4 'Oops: int3' "$log" | sed -n 's/.*Code: \(.*\)/\1/p' | head -n1)
[ -n "$code" ] || exit 1
before=$(echo "$code" | sed -n 's/.* \([0-9a-f][0-9a-f]\) <[0-9a-f][0-9a-f]>.*/\1/p')
[ -n "$before" ] && [ "$before" != cc ]
