# SPDX-License-Identifier: GPL-2.0
# make bench: what vfio-policyd's BPF LSM programs cost the file operations
# no policy concerns (sourced by tests/bench/guest.sh in the bench guest,
# and by scripts/bench.sh on the host when the host runs BPF LSM). Every
# round runs the loops with no LSM program of ours attached, then with the
# daemon's file_ioctl (a MAP_DMA rate quota) and file_permission (an mdev
# cap) programs attached, then unloads them again. Appends
# "lsm_ioctl_ns MODE ROUND NS" and "lsm_write_ns MODE ROUND NS" (MODE none,
# floor or policy, prefixed with $LSM_MP) through rec(). Needs: rec, say,
# fail; vfio-policyd and bpftool, $LSM_LOOP (syscall-loop) and $LSM_FLOOR
# (lsm-floor) on hand; $LSM_N operations a loop.
LSM_N=${LSM_N:-200000}
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
	vfio-policyd -c "$LSM_DIR/noquota.yaml" --socket $LSM_SOCK --no-collector --no-metrics \
		> "$LSM_DIR/pd0.log" 2>&1 &
	pd=$!
	for _ in $(seq 1 600); do
		grep -q 'ready: control socket' "$LSM_DIR/pd0.log" && break
		kill -0 $pd 2>/dev/null || fail "vfio-policyd exited: $(tail -n 5 "$LSM_DIR/pd0.log")"
		sleep 0.1
	done
	rec info "${LSM_MP:-}lsm_links_no_quota" "$(lsm_links)"
	kill $pd
	wait $pd || true
	vfio-policyd --unload > "$LSM_DIR/unload.txt" 2>&1 ||
		fail "vfio-policyd --unload: $(cat "$LSM_DIR/unload.txt")"
	lsm_gone
	for r in $(seq 1 "$1"); do
		lsm_loops none "$r"
		"$LSM_FLOOR" 2> "$LSM_DIR/floor.log" &
		pd=$!
		for _ in $(seq 1 600); do
			grep -q attached "$LSM_DIR/floor.log" && break
			kill -0 $pd 2>/dev/null || fail "lsm-floor exited: $(cat "$LSM_DIR/floor.log")"
			sleep 0.1
		done
		[ "$(lsm_links)" = 2 ] || fail "lsm-floor attached $(lsm_links) LSM programs, not 2"
		lsm_loops floor "$r"
		kill $pd
		wait $pd || fail "lsm-floor: $(cat "$LSM_DIR/floor.log")"
		lsm_gone
		vfio-policyd -c "$LSM_DIR/bench.yaml" --socket $LSM_SOCK --no-collector --no-metrics \
			> "$LSM_DIR/pd.log" 2>&1 &
		pd=$!
		for _ in $(seq 1 600); do
			grep -q 'ready: control socket' "$LSM_DIR/pd.log" && break
			kill -0 $pd 2>/dev/null || fail "vfio-policyd exited: $(tail -n 5 "$LSM_DIR/pd.log")"
			sleep 0.1
		done
		vfio-policyd --socket $LSM_SOCK --ctl status > "$LSM_DIR/status.txt"
		grep -q '^link file_ioctl pinned$' "$LSM_DIR/status.txt" &&
			grep -q '^link mdev pinned$' "$LSM_DIR/status.txt" ||
			fail "the policy's LSM programs are not linked: $(cat "$LSM_DIR/status.txt")"
		[ "$r" = 1 ] && rec info "${LSM_MP:-}lsm_links_policy" "$(lsm_links)"
		lsm_loops policy "$r"
		kill $pd
		wait $pd || true
		vfio-policyd --unload > "$LSM_DIR/unload.txt" 2>&1 ||
			fail "vfio-policyd --unload: $(cat "$LSM_DIR/unload.txt")"
		lsm_gone
		say "$2 LSM round $r/$1: ioctl $(lsm_row ioctl none $r) / $(lsm_row ioctl floor $r) / $(lsm_row ioctl policy $r) ns, write $(lsm_row write none $r) / $(lsm_row write floor $r) / $(lsm_row write policy $r) ns (none / floor / policy)"
	done
}

lsm_row() {	# WHAT MODE ROUND: the figure just recorded
	awk -v k="lsm_$1_ns" -v m="${LSM_MP:-}$2" -v r="$3" '$1 == k && $2 == m && $3 == r { v = $4 } END { print v }' "$raw"
}
