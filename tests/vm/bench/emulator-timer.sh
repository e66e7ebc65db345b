#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# emulator-timer.sh CONSOLE_LOG: exit 0 if the guest hung without
# reporting a status because one of its vCPUs stopped taking timer
# interrupts: RCU's stall report then says the CPU is idle and that its
# grace-period kthread's "timer wakeup didn't happen", with "Possible timer
# handling issue on cpu=N". An idle CPU whose timer never fires is the
# emulator's (QEMU TCG's) fault, the same one that hangs some boots
# (boot-failed.sh); seen once mid-scenario in a CI-like run (46, 6.12, a
# fresh guest: stalls from 280 s uptime, no task of the scenario in any
# report). A guest stuck in kernel code with a timer that works stalls
# without these lines, and a guest that reported its status stands.
log=${1:?console log}
! grep -q '^VFIOSCOPE-RC=' "$log" || exit 1
grep -q "rcu: rcu_preempt kthread timer wakeup didn't happen" "$log" &&
	grep -Eq 'rcu:[[:space:]]+Possible timer handling issue on cpu=[0-9]+' "$log"
