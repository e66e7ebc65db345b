# vfio-policyd's pinned-memory cap uses the kernel's own accounting: the
# daemon sets RLIMIT_MEMLOCK (4 MiB) on the process it matched by name and
# verifies it; type1 charges pinned pages there, so 4 x 1 MiB of DMA maps
# work and a 5th map fails with the kernel's ENOMEM. The exercisers run
# without CAP_IPC_LOCK, which would exempt them from the limit (the daemon
# says so for a process that has it).
. "$VFIOSCOPE_REPO/tests/vm/lib.sh"
. "$VFIOSCOPE_REPO/tests/vm/policy-lib.sh"
O=$VFIOSCOPE_OUT
CAP=$((4 << 20))

cat > $O/p.yaml <<EOT
discovery_interval_ms: 200
rules:
  - name: pinned
    match:
      - name: "vm-p*"
    max_pinned_bytes: 4M
EOT
pd_start $O/p.yaml
pd_has status '^link file_ioctl none$' || fail "an LSM program for a memlock-only policy: $(pd_ctl status)"

# dma NAME COUNT OUT: COUNT x 1 MiB mapped by a process without CAP_IPC_LOCK
dma() {
	setpriv --bounding-set -ipc_lock --inh-caps -ipc_lock \
		vfio-exercise --name $1 dma "$EDU_BDF" -n $2 --size 1M --wait > $O/$3.txt 2> $O/$3.err &
	p=$!
	wait_for_line $O/$3.err ready 30 $p
	pd_wait_vm $p
	expect_eq "$1: RLIMIT_MEMLOCK" "$(prlimit --pid $p --memlock --output SOFT,HARD --noheadings | tr -s ' ' | sed 's/^ //')" "$CAP $CAP"
	pd_ctl vms | grep "^vm $p " > $O/$3.vm
	grep -q "memlock $CAP\$" $O/$3.vm || fail "daemon's account of $1: $(cat $O/$3.vm)"
	kill -USR2 $p
}

dma vm-p1 4 under
wait $p || fail "4 MiB under a 4 MiB cap failed: $(cat $O/under.err)"
expect_eq "under the cap: pinned pages" "$(val $O/under.txt dma_pinned_pages)" $((CAP / $(getconf PAGESIZE)))

dma vm-p2 5 over
if wait $p; then
	fail "5 MiB mapped under a 4 MiB cap: $(cat $O/over.txt)"
fi
grep -q 'VFIO_IOMMU_MAP_DMA: Cannot allocate memory' $O/over.err ||
	fail "the 5th map did not fail with ENOMEM: $(cat $O/over.err)"
note "over the cap: $(tail -n 1 $O/over.err)"

# a process with CAP_IPC_LOCK is not bound by the limit: the daemon says so
vfio-exercise --name vm-p3 dma "$EDU_BDF" -n 1 --size 1M --wait > $O/cap.txt 2> $O/cap.err &
p=$!
wait_for_line $O/cap.err ready 30 $p
pd_wait_vm $p
pd_has vms "^vm $p note has CAP_IPC_LOCK" || fail "no CAP_IPC_LOCK note: $(pd_ctl vms)"
kill -USR2 $p
wait $p || fail "vm-p3: $(cat $O/cap.err)"
kill -TERM $pd
wait $pd || fail "daemon exit: $(tail -5 $O/pd.err)"
[ -z "$(kernel_complaints)" ] || fail "kernel: $(kernel_complaints)"
