# SPDX-License-Identifier: GPL-2.0
# make bench: what vfio-policyd's BPF LSM programs cost the file operations
# no policy concerns (sourced by tests/bench/guest.sh in the bench guest,
# and by scripts/bench.sh on the host when the host runs BPF LSM). Every
# round runs the loops with no LSM program attached; then with do-nothing
# BPF LSM programs on the same hooks (lsm-floor.c: what any BPF LSM program
# costs); then with the daemon's file_ioctl (a MAP_DMA rate quota) and
# file_permission (an mdev cap) programs, unloaded afterwards. Appends
# "lsm_ioctl_ns MODE ROUND NS" and "lsm_write_ns MODE ROUND NS" (MODE none,
# floor or policy, prefixed with $LSM_MP) through rec(). Needs: rec, say,
# tests/vm/lib.sh (fail, wait_for_line); vfio-policyd, bpftool, $LSM_LOOP
# (syscall-loop) and $LSM_FLOOR (lsm-floor) on hand; $LSM_N operations a
# loop.
LSM_N=${VFIOSCOPE_BENCH_LSM_N:-200000}	# the guest sees VFIOSCOPE_* only
LSM_DIR=${LSM_DIR:-/tmp/bench-lsm}
LSM_SOCK=/run/vfioscope/bench-policyd.sock

# LSM programs attached now (BPF links of attach type lsm_mac), of anyone
lsm_links() {
	bpftool link show | grep -c 'attach_type lsm_mac' || true
}

# after --unload: links go at once, the programs once the kernel has freed
# them (a grace period later)
lsm_gone() {
	local i
	for i in $(seq 1 100); do
		[ "$(lsm_links)" = 0 ] &&
			[ "$(bpftool prog show | grep -c '^[0-9]*: lsm ' || true)" = 0 ] && return 0
		sleep 0.1
	done
	fail "LSM programs left 10 s after vfio-policyd --unload: $(bpftool prog show | grep ' lsm ')"
}

# lsm_policyd POLICY LOG: the daemon with POLICY, no collectors and no
# /metrics, until it serves; sets $pd
lsm_policyd() {
	vfio-policyd -c "$1" --socket $LSM_SOCK --no-collector --no-metrics > "$2" 2>&1 &
	pd=$!
	wait_for_line "$2" 'ready: control socket' 60 $pd
}

# lsm_unload: stop the daemon $pd and remove its pinned policy, until no
# LSM program is left
lsm_unload() {
	kill $pd
	wait $pd || true
	vfio-policyd --unload > "$LSM_DIR/unload.txt" 2>&1 ||
		fail "vfio-policyd --unload: $(cat "$LSM_DIR/unload.txt")"
	lsm_gone
}

lsm_loops() {	# MODE ROUND
	local what ns
	for what in ioctl write; do
		ns=$("$LSM_LOOP" $what "$LSM_N" | awk '$1 == "ns_per_op" { print $2 }')
		[ -n "$ns" ] || fail "syscall-loop $what failed"
		rec lsm_${what}_ns "${LSM_MP:-}$1" "$2" "$ns"
	done
}

lsm_bench() {	# ROUNDS TAG (TAG: where it runs, for the log)
	local r pd
	mkdir -p "$LSM_DIR" /run/vfioscope
	# a policy with both kinds of LSM program and no process it selects:
	# every operation measured takes the fast path
	cat > "$LSM_DIR/bench.yaml" <<EOT
rules:
  - name: bench
    match:
      - name: "vfioscope-bench-selects-nothing"
    rate:
      dma_map: {rate: 1000, burst: 100}
    max_mdev: 1
EOT
	[ "$(lsm_links)" = 0 ] || fail "LSM programs are attached before the LSM rows: $(bpftool link show)"
	# a policy with no quota an LSM program enforces attaches none
	cat > "$LSM_DIR/noquota.yaml" <<EOT
rules:
  - name: bench
    match:
      - name: "vfioscope-bench-selects-nothing"
    max_pinned_bytes: 1G
EOT
	lsm_policyd "$LSM_DIR/noquota.yaml" "$LSM_DIR/pd0.log"
	rec info "${LSM_MP:-}lsm_links_no_quota" "$(lsm_links)"
	lsm_unload
	for r in $(seq 1 "$1"); do
		lsm_loops none "$r"
		"$LSM_FLOOR" 2> "$LSM_DIR/floor.log" &
		pd=$!
		wait_for_line "$LSM_DIR/floor.log" attached 60 $pd
		[ "$(lsm_links)" = 2 ] || fail "lsm-floor attached $(lsm_links) LSM programs, not 2"
		lsm_loops floor "$r"
		kill $pd
		wait $pd || fail "lsm-floor: $(cat "$LSM_DIR/floor.log")"
		lsm_gone
		lsm_policyd "$LSM_DIR/bench.yaml" "$LSM_DIR/pd.log"
		vfio-policyd --socket $LSM_SOCK --ctl status > "$LSM_DIR/status.txt"
		grep -q '^link file_ioctl pinned$' "$LSM_DIR/status.txt" &&
			grep -q '^link mdev pinned$' "$LSM_DIR/status.txt" ||
			fail "the policy's LSM programs are not linked: $(cat "$LSM_DIR/status.txt")"
		[ "$r" = 1 ] && rec info "${LSM_MP:-}lsm_links_policy" "$(lsm_links)"
		lsm_loops policy "$r"
		lsm_unload
		say "$2 LSM round $r/$1: ioctl $(lsm_row ioctl none $r) / $(lsm_row ioctl floor $r) / $(lsm_row ioctl policy $r) ns, write $(lsm_row write none $r) / $(lsm_row write floor $r) / $(lsm_row write policy $r) ns (none / floor / policy)"
	done
}

lsm_row() {	# WHAT MODE ROUND: the figure just recorded
	awk -v k="lsm_$1_ns" -v m="${LSM_MP:-}$2" -v r="$3" '$1 == k && $2 == m && $3 == r { v = $4 } END { print v }' "$raw"
}
