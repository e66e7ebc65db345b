# vfio-policyd's MAP_DMA rate quota, enforced by BPF LSM: "vm-a" (matched
# by name) maps and unmaps as fast as it can for 3 s under 50 maps/s with
# a burst of 10; the exerciser's accepted count over its window equals the
# bucket (10 + 50 x window, within one refill) and every refusal is EAGAIN.
# "vm-b", in the same guest at the same time and not selected, is never
# refused. The daemon's counters equal the exercisers' exactly. In MONITOR
# mode (reloaded through SIGHUP) nothing is refused and every call over
# the bucket is counted as would-deny, exactly.
. "$VFIOSCOPE_REPO/tests/vm/lib.sh"
. "$VFIOSCOPE_REPO/tests/vm/policy-lib.sh"
O=$VFIOSCOPE_OUT
RATE=50
BURST=10

grep -qw bpf /sys/kernel/security/lsm || unsupported "BPF LSM is not active: $(cat /sys/kernel/security/lsm)"
policy() {	# MODE
	cat > $O/p.yaml <<EOT
mode: $1
discovery_interval_ms: 200
rules:
  - name: limited
    match:
      - name: "vm-a*"
    rate:
      dma_map: {rate: $RATE, burst: $BURST}
EOT
}
policy enforce
vfio-policyd --check $O/p.yaml > $O/check.txt || fail "--check refused: $(cat $O/check.txt)"
grep -q 'rate dma_map 50/s burst 10: interval 20000000 ns tolerance 180000000 ns' $O/check.txt ||
	fail "compiled bucket: $(cat $O/check.txt)"
pd_start $O/p.yaml
pd_ctl status > $O/status.txt
grep -q '^enforcing yes$' $O/status.txt || fail "not enforcing: $(cat $O/status.txt)"
grep -q '^link file_ioctl pinned$' $O/status.txt || fail "no pinned LSM link: $(cat $O/status.txt)"

# run NAME BDF OUT: an exerciser, started once the daemon matched it
run() {
	vfio-exercise --name $1 dma-rate "$2" --seconds 3 --wait > $O/$3.txt 2> $O/$3.err &
	eval "${3}_pid=$!"
	wait_for_line $O/$3.err ready 30 $!
}
run vm-a "$EDU_BDF" a
run vm-b "$EDU2_BDF" b
pd_wait_vm $a_pid
pd_has vms "^vm $b_pid " && fail "vm-b was matched: $(pd_ctl vms)"
kill -USR2 $a_pid $b_pid
wait $a_pid || fail "vm-a failed: $(cat $O/a.err)"
wait $b_pid || fail "vm-b failed: $(cat $O/b.err)"

acc=$(val $O/a.txt dma_rate_accepted)
again=$(val $O/a.txt dma_rate_eagain)
el=$(val $O/a.txt dma_rate_elapsed_ns)
want=$(echo "$BURST + $RATE * $el / 1000000000" | bc -l)
note "vm-a: $acc accepted, $again EAGAIN over $el ns; bucket allows $want"
echo "$acc $want" | awk '{ d = $1 - $2; if (d < 0) d = -d; exit !(d <= 1) }' ||
	fail "vm-a accepted $acc maps, the bucket allows $want (+-1)"
[ "$again" -gt 0 ] || fail "vm-a was never refused"
expect_eq "vm-b refused" "$(val $O/b.txt dma_rate_eagain)" 0
[ "$(val $O/b.txt dma_rate_accepted)" -gt $((acc * 2)) ] || fail "vm-b was slow: $(cat $O/b.txt)"
expect_eq "daemon: vm-a maps allowed" "$(pd_stat limited $a_pid dma_map allowed)" "$acc"
expect_eq "daemon: vm-a maps throttled" "$(pd_stat limited $a_pid dma_map throttled)" "$again"
expect_eq "daemon: vm-a unmaps allowed" "$(pd_stat limited $a_pid dma_unmap allowed)" "$acc"
expect_eq "daemon: vm-a would-deny (enforce)" "$(pd_stat limited $a_pid dma_map would_deny)" 0
grep -q "throttled: pid $a_pid" $O/pd.err || fail "no throttle event logged: $(tail $O/pd.err)"
# the same figures on the daemon's /metrics (loopback, default port)
exec 3<>/dev/tcp/127.0.0.1/9477
printf 'GET /metrics HTTP/1.0\r\n\r\n' >&3
tr -d '\r' <&3 > $O/metrics.txt
exec 3<&-
for want in 'vfioscope_policy_enforcing 1' 'vfioscope_policy_generation 1' \
	"vfioscope_policy_decisions_total{rule=\"limited\",class=\"dma_map\",verdict=\"throttled\"} $again" \
	"vfioscope_policy_decisions_total{rule=\"limited\",class=\"dma_map\",verdict=\"allowed\"} $acc"; do
	grep -qxF "$want" $O/metrics.txt || fail "/metrics lacks '$want': $(grep vfioscope_policy $O/metrics.txt)"
done

# MONITOR: the same load, nothing refused, every refusal counted instead
policy monitor
kill -HUP $pd
wait_for_line $O/pd.err 'generation 2 applied' 30 $pd
expect_eq "mode after reload" "$(pd_ctl status | awk '$1 == "mode" { print $2 }')" monitor
run vm-a "$EDU_BDF" m
pd_wait_vm $m_pid
kill -USR2 $m_pid
wait $m_pid || fail "vm-a (monitor) failed: $(cat $O/m.err)"
calls=$(val $O/m.txt dma_rate_calls)
expect_eq "monitor: EAGAIN" "$(val $O/m.txt dma_rate_eagain)" 0
would=$(pd_stat limited $m_pid dma_map would_deny)
allowed=$(pd_stat limited $m_pid dma_map allowed)
note "monitor: $calls calls, $allowed within the bucket, $would would-deny"
expect_eq "monitor: allowed + would-deny = calls" $((allowed + would)) "$calls"
[ "$would" -gt 0 ] || fail "monitor mode counted no would-deny"
m_el=$(val $O/m.txt dma_rate_elapsed_ns)
expect_eq "monitor: throttled" "$(pd_stat limited $m_pid dma_map throttled)" 0
# here the window runs to the last call, a refusal: whole refills only
echo "$allowed $BURST $RATE $m_el" | awk '{ w = $2 + int($3 * $4 / 1e9); d = $1 - w; if (d < 0) d = -d; exit !(d <= 1) }' ||
	fail "monitor: $allowed within the bucket, it allows $BURST + $RATE x $m_el ns (+-1)"
kill -TERM $pd
wait $pd || fail "daemon exit: $(tail -5 $O/pd.err)"
[ -z "$(kernel_complaints)" ] || fail "kernel: $(kernel_complaints)"
