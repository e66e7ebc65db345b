#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# emulator-abort.sh CONSOLE_LOG: exit 0 if the guest died without reporting
# a status because the emulator running it (the bench's QEMU, TCG) aborted
# on one of its own assertions: its stderr shares the console log, so the
# log then ends in QEMU's "qemu-system-x86_64: FILE:LINE: FUNC: Assertion
# `...' failed." line and holds no VFIOSCOPE-RC= status. Seen once in a
# CI-like run of ~80 guests: iotlb_to_section's section_index assertion
# (system/physmem.c), a race between a vCPU's TLB fill and a memory map
# update in multi-threaded TCG. Nothing the guest does may abort its
# emulator: only then is a run worth running again. A guest that reported
# its status ran its script to the end, and its result stands (a nested
# QEMU's assertion, quoted by a scenario, comes with one).
log=${1:?console log}
! grep -q '^VFIOSCOPE-RC=' "$log" || exit 1
grep -Eq '^qemu-system-[a-z0-9_]+: [^ ]+:[0-9]+: [^ ]+: Assertion .* failed\.$' "$log"
