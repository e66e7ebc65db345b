# vfio-policyd's reliability: a reload with a broken file (SIGHUP or the
# control socket) keeps the running policy and names file:line; under an
# ioctl flood, kill -9 of the daemon leaves enforcement in place (the
# exerciser sees EAGAIN in every window, before, during and after) and a
# restarted daemon adopts the pinned state with counters that only grew
# and equal the exerciser's totals exactly. A non-root user can neither
# use the control socket nor write the pinned maps.
. "$VFIOSCOPE_REPO/tests/vm/lib.sh"
. "$VFIOSCOPE_REPO/tests/vm/policy-lib.sh"
O=$VFIOSCOPE_OUT
PIN=/sys/fs/bpf/vfioscope/policy

grep -qw bpf /sys/kernel/security/lsm || unsupported "BPF LSM is not active: $(cat /sys/kernel/security/lsm)"
cat > $O/good.yaml <<EOT
discovery_interval_ms: 200
rules:
  - name: flood
    match:
      - name: "vm-f*"
    rate:
      dma_map: {rate: 20, burst: 5}
EOT
cp $O/good.yaml $O/p.yaml
pd_start $O/p.yaml

# 1. broken reloads: the old policy stays, the error names file:line
sed -i 's/rate: 20/rate: twenty/' $O/p.yaml
kill -HUP $pd
wait_for_line $O/pd.err "p.yaml:7: rate: 'twenty' is not a number (the running policy stays)" 30 $pd
if pd_ctl reload > $O/reload.txt; then
	fail "--ctl reload of a broken file succeeded: $(cat $O/reload.txt)"
fi
grep -q "^error .*p.yaml:7: rate: 'twenty' is not a number" $O/reload.txt || fail "reload reply: $(cat $O/reload.txt)"
expect_eq "generation after broken reloads" "$(pd_ctl status | awk '$1 == "generation" { print $2 }')" 1
vfio-policyd --check $O/p.yaml 2> $O/check.err && fail "--check accepted the broken file"
grep -q "p.yaml:7: rate: 'twenty' is not a number" $O/check.err || fail "--check: $(cat $O/check.err)"

# 2. the flood, with the daemon killed and restarted in the middle
vfio-exercise --name vm-f dma-rate "$EDU_BDF" --seconds 8 --window-ms 500 --wait > $O/f.txt 2> $O/f.err &
f=$!
wait_for_line $O/f.err ready 30 $f
pd_wait_vm $f
kill -USR2 $f
sleep 2
before=$(pd_stat flood $f dma_map throttled)
[ "$before" -gt 0 ] || fail "nothing throttled before the kill"
kill -9 $pd
wait $pd 2>/dev/null || true
note "daemon killed with $before maps throttled"
sleep 2
cp $O/good.yaml $O/p.yaml
pd_start $O/p.yaml $O/pd2.err
pd_ctl status > $O/status2.txt
grep -q '^adopted yes$' $O/status2.txt || fail "the restart did not adopt the pinned links: $(cat $O/status2.txt)"
grep -q '^enforcing yes$' $O/status2.txt || fail "not enforcing after restart: $(cat $O/status2.txt)"
after=$(pd_stat flood $f dma_map throttled)
note "after the restart: $after"
[ "$after" -gt "$before" ] || fail "throttled went from $before to $after across the restart"
wait $f || fail "vm-f failed: $(cat $O/f.err)"
# every window saw refusals: no gap in enforcement
# (the last window is the loop's remainder, possibly a few microseconds)
grep '^window' $O/f.txt | head -n -1 > $O/windows.txt
awk '$6 == 0' $O/windows.txt > $O/gaps.txt
[ ! -s $O/gaps.txt ] || fail "windows without refusals (a gap): $(cat $O/gaps.txt)"
awk '$4 > 15' $O/windows.txt > $O/over.txt
[ ! -s $O/over.txt ] || fail "windows over the rate: $(cat $O/over.txt)"
note "windows: $(awk '$1 == "window" { printf "%s/%s ", $4, $6 }' $O/f.txt)"
calls=$(val $O/f.txt dma_rate_calls)
acc=$(val $O/f.txt dma_rate_accepted)
expect_eq "daemon: maps throttled = exerciser's EAGAIN" "$(pd_stat flood $f dma_map throttled)" "$(val $O/f.txt dma_rate_eagain)"
expect_eq "daemon: maps allowed = exerciser's accepted" "$(pd_stat flood $f dma_map allowed)" "$acc"

# 3. non-root: no control socket, no pinned map writes
if setpriv --reuid=65534 --regid=65534 --clear-groups vfio-policyd --socket $PD_SOCK --ctl status > $O/nr.txt 2>&1; then
	fail "nobody used the control socket: $(cat $O/nr.txt)"
fi
note "nobody: $(cat $O/nr.txt)"
chmod 0666 $PD_SOCK	# past the file mode, the peer check still refuses
if setpriv --reuid=65534 --regid=65534 --clear-groups vfio-policyd --socket $PD_SOCK --ctl status > $O/nr2.txt 2>&1; then
	fail "nobody passed the peer check: $(cat $O/nr2.txt)"
fi
grep -q '^error permission denied: root only' $O/nr2.txt || fail "peer check reply: $(cat $O/nr2.txt)"
chmod 0600 $PD_SOCK
ls -l $PIN > $O/pins.txt
if setpriv --reuid=65534 --regid=65534 --clear-groups \
	bpftool map update pinned $PIN/pol_conf key 0 0 0 0 value 1 0 0 0 9 0 0 0 > $O/nrmap.txt 2>&1; then
	fail "nobody wrote a pinned map"
fi
note "nobody writing pol_conf: $(head -n 1 $O/nrmap.txt)"
expect_eq "mode after the attempt" "$(bpftool map lookup pinned $PIN/pol_conf key 0 0 0 0 -j | jq -c '.value[0:1]')" '["0x02"]'
kill -TERM $pd
wait $pd || fail "daemon exit: $(tail -5 $O/pd2.err)"
[ -z "$(kernel_complaints)" ] || fail "kernel: $(kernel_complaints)"
