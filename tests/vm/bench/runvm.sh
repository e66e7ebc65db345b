#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# runvm.sh KERNEL SCRIPT   run SCRIPT inside a bench guest, print its output,
#                          exit with its exit status
# runvm.sh --shell KERNEL  interactive root shell in the same guest set-up
# runvm.sh --batch KERNEL SCRIPT...
#                          run each SCRIPT in turn in one guest (guest.sh:
#                          each from the set-up's state, a
#                          VFIOSCOPE-SCENARIO-RC line each; the guest stops
#                          after a failure or what it cannot clean up);
#                          exit 0 when the guest ran to its end
#
# KERNEL is a bench series (6.12, 6.1). The guest boots Debian's kernel under
# QEMU TCG with the host root read-only over 9p and this repository
# read-write at the same path (tests/vm/bench/init), then guest.sh binds the
# bench devices and runs SCRIPT. The status comes back as a VFIOSCOPE-RC line
# on the console; a guest that panics, hangs or never prints it fails.
#
# Env: VFIOSCOPE_FLAVOUR (stock, the default: Debian's modules plus ours;
#      patched: the subsystem modules rebuilt with kernel/patches shadow the
#      stock ones, build/k/<series>/modtree-patched),
#      VFIOSCOPE_CACHE (kernels), VM_TIMEOUT (seconds, default 300),
#      VM_BOOT_TIMEOUT (seconds until the script must have started, 150),
#      VM_LOG (file receiving the whole console), VM_QUIET=1 (console to the
#      log only), VM_MEM (MiB, 3072), any VFIOSCOPE_* variable is passed into
#      the guest's environment.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../../.." && pwd)
CACHE=${VFIOSCOPE_CACHE:-/var/cache/vfioscope}

SHELL_MODE=0
TTY_MODE=0
BATCH=0
if [ "${1:-}" = --shell ]; then
	SHELL_MODE=1
	shift
elif [ "${1:-}" = --interactive ]; then
	# run SCRIPT with the guest console on this terminal (make demo)
	TTY_MODE=1
	shift
elif [ "${1:-}" = --batch ]; then
	BATCH=1
	shift
fi
KERNEL=${1:?usage: runvm.sh KERNEL SCRIPT | runvm.sh --batch KERNEL SCRIPT... | runvm.sh --shell KERNEL}
SCRIPT=${2:-}
shift
SCRIPTS=("$@")
[ $SHELL_MODE = 1 ] || [ -n "$SCRIPT" ] || { echo "runvm: no script given" >&2; exit 2; }

KDIR=$CACHE/k/$KERNEL
[ -f "$KDIR/.prepared" ] || { echo "runvm: bench kernel $KERNEL is not prepared: run 'make deps' (as root)" >&2; exit 2; }
KVER=$(cat "$KDIR/kver")
FLAVOUR=${VFIOSCOPE_FLAVOUR:-stock}
case $FLAVOUR in
stock) MODTREE=$REPO/build/k/$KERNEL/modtree/lib/modules ;;
patched) MODTREE=$REPO/build/k/$KERNEL/modtree-patched/lib/modules ;;
*) echo "runvm: unknown flavour '$FLAVOUR' (stock or patched)" >&2; exit 2 ;;
esac
[ -f "$MODTREE/$KVER/modules.dep" ] ||
	{ echo "runvm: no $FLAVOUR module tree for $KERNEL: run 'make' (patched: 6.12 only)" >&2; exit 2; }
case "$REPO" in *[[:space:]]*) echo "runvm: the repository path must not contain spaces" >&2; exit 2;; esac
"$HERE/mkinitrd.sh" "$KDIR" >/dev/null
[ -w /dev/kvm ] && [ "${VM_KVM:-0}" = 1 ] && ACCEL=kvm || ACCEL=tcg

# Each run gets a directory inside the repository: the script, the
# environment handed to the guest and whatever the guest writes back.
mkdir -p "$REPO/build/vm"
TAG=$KERNEL
[ "$FLAVOUR" = stock ] || TAG=$KERNEL-$FLAVOUR
RUNDIR=$(mktemp -d "$REPO/build/vm/run-$TAG-XXXXXX")
# a failed run keeps its directory (the script's files) for a look
trap 'if [ "${rc:-1}" = 0 ] && [ "${keep:-0}" = 0 ]; then rm -rf "$RUNDIR"; else echo "runvm: kept $RUNDIR" >&2; fi' EXIT
if [ $BATCH = 1 ]; then
	mkdir "$RUNDIR/scripts"
	for s in "${SCRIPTS[@]}"; do
		[ -f "$s" ] || { echo "runvm: no such script: $s" >&2; exit 2; }
		cp "$s" "$RUNDIR/scripts/"
		basename "$s" .sh >> "$RUNDIR/batch"
	done
elif [ -n "$SCRIPT" ]; then
	[ -f "$SCRIPT" ] || { echo "runvm: no such script: $SCRIPT" >&2; exit 2; }
	cp "$SCRIPT" "$RUNDIR/script.sh"
	echo "VFIOSCOPE_SCRIPT_NAME=$(basename "$SCRIPT")" >> "$RUNDIR/env"
fi
# quoted: a value may hold spaces (make demo DEMO_ARGS="-b -n 3")
env | grep '^VFIOSCOPE_' | grep -v '^VFIOSCOPE_CACHE=' | while IFS='=' read -r k v; do
	printf 'export %s=%q\n' "$k" "$v"
done >> "$RUNDIR/env" || true
if [ $TTY_MODE = 1 ]; then
	# the serial console does not carry the terminal's type and size
	size=$(stty size 2>/dev/null || echo "24 80")
	{
		echo "export VFIOSCOPE_INTERACTIVE=1 TERM=${TERM:-vt100}"
		echo "export VFIOSCOPE_ROWS=${size% *} VFIOSCOPE_COLS=${size#* }"
	} >> "$RUNDIR/env"
fi
echo "export VFIOSCOPE_KERNEL=$KERNEL" >> "$RUNDIR/env"
echo "export VFIOSCOPE_FLAVOUR=$FLAVOUR" >> "$RUNDIR/env"

# no_timer_check: under TCG the IO-APIC timer check can miss its window and
# panic ("timer doesn't work through Interrupt-remapped IO-APIC")
APPEND="console=ttyS0 quiet panic=-1 intel_iommu=on no_timer_check"
APPEND+=" vfioscope.repo=$REPO vfioscope.modtree=$MODTREE"
[ $SHELL_MODE = 1 ] || APPEND+=" vfioscope.run=$RUNDIR"
# a scenario that needs another kernel command line says so in a header
# line, e.g. "# vm-append: lsm=capability,yama" (a kernel without BPF LSM);
# the scenarios of a batch share one (run.sh batches them so)
[ $SHELL_MODE = 1 ] || APPEND+=" $(sed -n 's/^# vm-append: //p' "$SCRIPT" | head -1)"
[ $TTY_MODE = 0 ] || APPEND+=" vfioscope.tty=1"

QEMU=(qemu-system-x86_64 -machine q35,kernel-irqchip=split -accel "$ACCEL" -cpu max
	-m "${VM_MEM:-3072}" -smp 2 -nodefaults -display none -no-reboot
	-kernel "$KDIR/vmlinuz" -initrd "$KDIR/initrd.gz" -append "$APPEND"
	-virtfs "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap"
	-virtfs "local,path=$REPO,mount_tag=repo,security_model=none,multidevs=remap"
	# the bench devices: vIOMMU, two edu devices (a migration needs a
	# source and a destination), an NVMe controller with SR-IOV behind an
	# ACS root port
	-device intel-iommu,intremap=on
	-device edu,addr=03.0
	-device edu,addr=04.0
	-device pcie-root-port,id=rp1,chassis=1,slot=1
	-device nvme-subsys,id=nvmesubsys0,nqn=vfioscope-bench
	-device "nvme,serial=vfioscope0,bus=rp1,subsys=nvmesubsys0,sriov_max_vfs=2,sriov_vq_flexible=4,sriov_vi_flexible=2,max_ioqpairs=6,msix_qsize=4"
)
[ -z "${VM_QEMU_EXTRA:-}" ] || read -r -a extra <<< "$VM_QEMU_EXTRA" && QEMU+=("${extra[@]}")

if [ $SHELL_MODE = 1 ]; then
	exec 9>/run/lock/vfioscope-vm.lock
	flock -n 9 || echo "runvm: waiting for the guest that runs now to finish"
	flock 9
	echo "runvm: booting $KVER; exit the shell (or Ctrl-A x) to power off"
	"${QEMU[@]}" -serial mon:stdio
	rc=$?
	exit $rc
fi

# One TCG guest at a time on this machine (2 cores): runs queue up here.
exec 9>/run/lock/vfioscope-vm.lock
flock -n 9 || [ $TTY_MODE = 0 ] || echo "runvm: waiting for the guest that runs now to finish"
flock 9

if [ $TTY_MODE = 1 ]; then
	echo "runvm: booting $KVER (Ctrl-A x powers it off)"
	"${QEMU[@]}" -serial mon:stdio
	rc=$?
	stty sane 2>/dev/null || true
	exit $rc
fi

LOG=${VM_LOG:-$RUNDIR/console.log}
# a script with a longer time of its own (guest.sh: "# vm-timeout: N")
if [ $BATCH = 0 ] && [ -z "${VM_TIMEOUT:-}" ] && [ -n "$SCRIPT" ]; then
	t=$(sed -n 's/^# vm-timeout: \([0-9]*\).*/\1/p' "$SCRIPT" | head -n1)
	[ -z "$t" ] || VM_TIMEOUT=$((t + ${VM_BOOT_TIMEOUT:-150}))
fi
# A guest that goes silent until the timeout says nothing on its console.
# Ten seconds before the timeout kills QEMU, its monitor is asked where
# each vCPU is (RIP, ring, halted or not; the whole register dump is kept
# in the run directory): a kernel spinning in ring 0, a guest whose vCPUs
# all sit halted (waiting for an interrupt that never comes) and an
# emulator whose monitor does not answer are different failures. (Debian's
# images ship no System.map and the guest runs with KASLR: no symbols.)
HMP=/run/vfioscope-vm-$$.hmp
QEMU+=(-monitor "unix:$HMP,server=on,wait=off")
vcpu_state() {
	python3 - "$HMP" "$RUNDIR/vcpus-raw.txt" <<-'PY'
	import re, socket, sys, time
	out = b""
	try:
	    s = socket.socket(socket.AF_UNIX)
	    s.settimeout(4)
	    s.connect(sys.argv[1])
	    s.sendall(b"info status\ninfo registers -a\n")
	    end = time.time() + 4
	    while time.time() < end:
	        chunk = s.recv(65536)
	        if not chunk:
	            break
	        out += chunk
	except OSError as e:
	    if not out:
	        print("runvm: QEMU's monitor did not answer (%s): the emulator itself is stuck" % e)
	        sys.exit(0)
	open(sys.argv[2], "wb").write(out)
	text = out.decode(errors="replace")
	m = re.search(r"VM status: (\S+)", text)
	print("runvm: VM status %s" % (m.group(1) if m else "?"))
	for i, cpu in enumerate(re.split(r"\nCPU#\d+", text)[1:]):
	    rip = re.search(r"RIP=([0-9a-f]+)", cpu)
	    cpl = re.search(r"CPL=(\d)", cpu)
	    hlt = re.search(r"HLT=(\d)", cpu)
	    print("runvm: vCPU %d RIP=%s ring %s %s" % (i, rip.group(1) if rip else "?",
	          cpl.group(1) if cpl else "?",
	          "halted" if hlt and hlt.group(1) == "1" else "running"))
	PY
}
(
	trap 'kill $nap 2>/dev/null; exit 0' TERM
	sleep $(( ${VM_TIMEOUT:-300} > 20 ? ${VM_TIMEOUT:-300} - 10 : 10 )) &
	nap=$!
	wait $nap
	vcpu_state > "$RUNDIR/vcpus.txt" 2>&1
) &
sentinel=$!
# A guest that has not started its script VM_BOOT_TIMEOUT seconds after
# QEMU started hung while booting (seen: CPU 1's timer never firing, RCU
# stalls, no console output for minutes): say where its vCPUs are and stop
# it now rather than at VM_TIMEOUT. Normal boots take 10 to 45 s. A batch
# that then goes VM_SCENARIO_TIMEOUT seconds (300) without starting or
# ending a scenario hung in one (the guest times each script out at 240 s).
(
	trap 'exit 0' TERM
	marks=0
	last=$(date +%s)
	limit=${VM_BOOT_TIMEOUT:-150}
	while :; do
		sleep 2
		grep -q '^VFIOSCOPE-RC=' "$LOG" 2>/dev/null && exit 0
		# (grep -c says 0 and fails when nothing matches: under set -e
		# that ended this watch before any script had started)
		m=$(grep -c -e '^bench: running ' -e '^VFIOSCOPE-SCENARIO-RC ' "$LOG" 2>/dev/null || :)
		if [ "${m:-0}" != $marks ]; then
			[ $BATCH = 1 ] || exit 0
			marks=$m
			last=$(date +%s)
			limit=${VM_SCENARIO_TIMEOUT:-300}
			continue
		fi
		[ $(( $(date +%s) - last )) -ge "$limit" ] || continue
		vcpu_state > "$RUNDIR/vcpus.txt" 2>&1
		if [ $marks = 0 ]; then : > "$RUNDIR/boot-timeout"; else : > "$RUNDIR/stalled"; fi
		python3 -c 'import socket, sys; s = socket.socket(socket.AF_UNIX); s.settimeout(4); s.connect(sys.argv[1]); s.sendall(b"quit\n")' "$HMP" 2> /dev/null
		exit 0
	done
) &
bootwatch=$!
set +e
if [ "${VM_QUIET:-0}" = 1 ]; then
	timeout -k 5 "${VM_TIMEOUT:-300}" "${QEMU[@]}" -serial stdio </dev/null >"$LOG" 2>&1
else
	timeout -k 5 "${VM_TIMEOUT:-300}" "${QEMU[@]}" -serial stdio </dev/null 2>&1 | tee "$LOG"
fi
qrc=${PIPESTATUS[0]}
kill $sentinel $bootwatch 2>/dev/null
wait $sentinel $bootwatch 2>/dev/null
rm -f "$HMP"
set -e
# (a batch whose guest ran to its end keeps its directory for a scenario
# that failed in it: the scenario's files are in out/NAME)
keep=$(tr -d '\r' < "$LOG" | awk -F= '/^VFIOSCOPE-SCENARIO-RC / && $2 != 0 && $2 != 77 { k = 1 } END { print k + 0 }')
rc=$(sed -n 's/^VFIOSCOPE-RC=\([0-9]*\).*/\1/p' "$LOG" | tail -n1 | tr -d '\r')
if [ -z "$rc" ]; then
	if [ -e "$RUNDIR/boot-timeout" ]; then
		why="had not started its script ${VM_BOOT_TIMEOUT:-150}s after QEMU started (boot hung)"
	elif [ -e "$RUNDIR/stalled" ]; then
		why="started or ended no scenario for ${VM_SCENARIO_TIMEOUT:-300}s (hung)"
	elif [ "$qrc" = 124 ] || [ "$qrc" = 137 ]; then
		why="timed out after ${VM_TIMEOUT:-300}s"
	else
		why="QEMU exited with $qrc before the script finished"
	fi
	echo "runvm: guest $KVER: $why; console tail:" >&2
	tail -n 40 "$LOG" | sed 's/^/  | /' >&2
	[ ! -s "$RUNDIR/vcpus.txt" ] || sed 's/^/  | /' "$RUNDIR/vcpus.txt" >&2
	exit 125
fi
exit "$rc"
