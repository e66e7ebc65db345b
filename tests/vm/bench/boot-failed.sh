#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# boot-failed.sh CONSOLE_LOG: exit 0 if the guest never started its
# scenario: no "bench: running" line, the one tests/vm/bench/guest.sh
# prints once the devices are set up and before the script runs. Such a
# guest died or hung while booting (a panic, an emulator stall: CPU 1's
# timer never firing under QEMU TCG, seen once in a CI run of ~80 guests)
# and the scenario has not run at all: it is worth one more boot. A guest
# that started its scenario keeps its result.
log=${1:?console log}
! grep -q '^bench: running ' "$log"
