# vfio-policyd through 20 kill -9 / restart cycles under an ioctl flood,
# with its collectors and /metrics: the flood is refused in every window
# (no enforcement gap), the daemon's decision counters and the collectors'
# per-VM counters only grow across restarts and end equal to the
# exerciser's own totals, every restart adopts the pinned state, and
# after the last restart bpftool shows the same programs, maps, links and
# pins as after the first restart (nothing leaked, nothing lost). The
# first restart differs from the first start, by design: the adopted links
# hold the first daemon's programs, and a restarted daemon also holds its
# own loaded copy of the policy programs (not attached) for a later reload.
. "$VFIOSCOPE_REPO/tests/vm/lib.sh"
. "$VFIOSCOPE_REPO/tests/vm/policy-lib.sh"
O=$VFIOSCOPE_OUT
CYCLES=20
PORT=9477

grep -qw bpf /sys/kernel/security/lsm || unsupported "BPF LSM is not active: $(cat /sys/kernel/security/lsm)"
cat > $O/p.yaml <<EOT
discovery_interval_ms: 200
rules:
  - name: flood
    match:
      - name: "vm-f*"
    rate:
      dma_map: {rate: 20, burst: 5}
EOT
PD_FLAGS="--metrics-port $PORT"

# what is loaded and pinned: program and map (type, name) lines, and pins
bpf_state() {
	{
		bpftool prog show | sed -n 's/^[0-9]*: \([a-z_]*\)  name \([^ ]*\) .*/prog \1 \2/p'
		bpftool map show | sed -n 's/^[0-9]*: \([a-z_]*\)  name \([^ ]*\) .*/map \1 \2/p'
		bpftool link show | sed -n 's/^[0-9]*: \([a-z_]*\)  prog \([0-9]*\).*/link \1/p'
		find /sys/fs/bpf -mindepth 1 | sed 's/^/pin /'
	} | sort
}

# the collectors' per-VM MAP_DMA count of process $1, from /metrics
metric_maps() {
	curl -sf http://127.0.0.1:$PORT/metrics |
		awk -v p="pid=\"$1\"" '/^vfioscope_vm_dma_maps_total\{/ && index($0, p) { v = $NF } END { print v + 0 }'
}

pd_start $O/p.yaml $O/pd.err
vfio-exercise --name vm-f dma-rate "$EDU_BDF" --seconds 600 --window-ms 500 --wait > $O/f.txt 2> $O/f.err &
f=$!
wait_for_line $O/f.err ready 30 $f
pd_wait_vm $f
kill -USR2 $f
sleep 1.5
prev_thr=$(pd_stat flood $f dma_map throttled)
prev_maps=$(metric_maps $f)
[ "$prev_thr" -gt 0 ] || fail "nothing throttled before the first kill"
[ "$prev_maps" -gt 0 ] || fail "/metrics counted no MAP_DMA of vm-f before the first kill"

for c in $(seq 1 $CYCLES); do
	kill -9 $pd
	wait $pd 2>/dev/null || true
	sleep 0.$((RANDOM % 10))
	t0=$(date +%s%N)
	pd_start $O/p.yaml $O/pd-$c.err	# a log each: pd_start waits for its "ready"
	t1=$(date +%s%N)
	pd_ctl status > $O/status.txt
	grep -q '^adopted yes$' $O/status.txt || fail "cycle $c: the restart did not adopt the pinned state: $(cat $O/status.txt)"
	grep -q '^enforcing yes$' $O/status.txt || fail "cycle $c: not enforcing: $(cat $O/status.txt)"
	thr=$(pd_stat flood $f dma_map throttled)
	maps=$(metric_maps $f)
	[ "$thr" -ge "$prev_thr" ] || fail "cycle $c: throttled went from $prev_thr to $thr"
	[ "$maps" -ge "$prev_maps" ] || fail "cycle $c: vfioscope_vm_dma_maps_total went from $prev_maps to $maps"
	[ $c = 1 ] && bpf_state > $O/state-first.txt
	note "cycle $c: restart ready in $(((t1 - t0) / 1000000)) ms, throttled $thr, maps $maps"
	prev_thr=$thr
	prev_maps=$maps
done
kill -USR1 $f
wait $f || fail "vm-f failed: $(cat $O/f.err)"
kill -0 $pd || fail "the last daemon died"

# no gap: every whole window saw refusals, none went over the rate
# (the last window is the remainder of the loop when SIGUSR1 stopped it)
grep '^window' $O/f.txt | head -n -1 > $O/windows.txt
[ "$(wc -l < $O/windows.txt)" -ge $((CYCLES * 2)) ] || fail "only $(wc -l < $O/windows.txt) windows for $CYCLES cycles"
awk '$6 == 0' $O/windows.txt > $O/gaps.txt
[ ! -s $O/gaps.txt ] || fail "windows without refusals (an enforcement gap): $(tr '\n' ';' < $O/gaps.txt)"
awk '$4 > 15' $O/windows.txt > $O/over.txt
[ ! -s $O/over.txt ] || fail "windows over the rate: $(tr '\n' ';' < $O/over.txt)"
note "$(wc -l < $O/windows.txt) windows, each refused: $(awk '{ printf "%s/%s ", $4, $6 }' $O/windows.txt | cut -c1-200)..."

# exact counters after 20 restarts
acc=$(val $O/f.txt dma_rate_accepted)
expect_eq "daemon: maps throttled = exerciser's EAGAIN" "$(pd_stat flood $f dma_map throttled)" "$(val $O/f.txt dma_rate_eagain)"
expect_eq "daemon: maps allowed = exerciser's accepted" "$(pd_stat flood $f dma_map allowed)" "$acc"
# the refused calls never reach VFIO: the collectors count the accepted ones
expect_eq "/metrics: vm-f's MAP_DMA calls = exerciser's accepted" "$(metric_maps $f)" "$acc"

# nothing leaked: the same programs, maps, links and pins as after the first restart
bpf_state > $O/state-last.txt
diff $O/state-first.txt $O/state-last.txt > $O/state.diff ||
	fail "bpftool differs between restarts 1 and $CYCLES: $(tr '\n' ';' < $O/state.diff)"
note "bpftool after $CYCLES restarts: $(grep -c '^prog' $O/state-last.txt) programs, $(grep -c '^map' $O/state-last.txt) maps, $(grep -c '^link' $O/state-last.txt) links, $(grep -c '^pin' $O/state-last.txt) pins, as after the first restart"
grep -E 'error|ERROR' $O/pd*.err && fail "the daemon logged errors"
c=$(kernel_complaints)
[ -z "$c" ] || fail "kernel complaints: $c"
echo "$CYCLES kill -9 / restart cycles under a flood: no gap, counters monotonic and exact, nothing leaked: OK"
