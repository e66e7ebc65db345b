# vfio-policyd's reliability: a reload with a broken file (SIGHUP or the
# control socket) keeps the running policy and names file:line; under an
# ioctl flood, kill -9 of the daemon leaves enforcement in place (the
# exerciser sees EAGAIN in every window, before, during and after) and a
# restarted daemon adopts the pinned state with counters that only grew
# and equal the exerciser's totals exactly. A non-root user can neither
# use the control socket nor write the pinned maps. Hardening: a SIGHUP
# during start-up is a reload once ready, a SIGTERM a clean stop; once
# ready the daemon has dropped every capability it does not need (CapEff,
# CapBnd, NoNewPrivs) and reloads that detach and attach links, /metrics
# and --ctl still work.
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

# 0. signals during start-up. start_blocked: start the daemon and return
# once it blocks SIGHUP (bit 0) and SIGTERM (bit 14), before it is ready
start_blocked() {
	local i blk
	vfio-policyd -c $O/p.yaml --socket $PD_SOCK --no-collector >> $O/$1 2>&1 &
	pd=$!
	for i in $(seq 1 500); do
		blk=$(awk '$1 == "SigBlk:" { print $2 }' /proc/$pd/status 2>/dev/null)
		[ -n "$blk" ] && (( (0x$blk & 0x4001) == 0x4001 )) && return 0
		sleep 0.01
	done
	fail "the daemon never blocked SIGHUP and SIGTERM: $(cat $O/$1)"
}
start_blocked pd-hup.err
kill -HUP $pd
grep -q 'ready: control socket' $O/pd-hup.err && note "(SIGHUP came after ready: not a start-up one)"
wait_for_line $O/pd-hup.err 'ready: control socket' 60 $pd
for i in $(seq 1 50); do
	[ "$(pd_ctl status | awk '$1 == "generation" { print $2 }')" = 2 ] && break
	sleep 0.1
done
expect_eq "generation after a SIGHUP during start-up (deferred reload)" \
	"$(pd_ctl status | awk '$1 == "generation" { print $2 }')" 2
kill -TERM $pd
wait $pd || fail "daemon exit after the deferred reload: $(tail -5 $O/pd-hup.err)"
start_blocked pd-term.err
kill -TERM $pd
rc=0
wait $pd || rc=$?
expect_eq "exit status after a SIGTERM during start-up" $rc 0
grep -q 'ready: control socket' $O/pd-term.err && fail "SIGTERM came after ready: $(cat $O/pd-term.err)"
grep -q 'stopped during start-up' $O/pd-term.err || fail "no clean start-up stop: $(cat $O/pd-term.err)"

pd_start $O/p.yaml

# hardening: what the daemon kept once ready
st=/proc/$pd/status
eff=$(awk '$1 == "CapEff:" { print $2 }' $st)
bnd=$(awk '$1 == "CapBnd:" { print $2 }' $st)
note "CapEff $eff, CapBnd $bnd"
for c in 0:chown 1:dac_override 3:fowner 5:kill 6:setgid 7:setuid 8:setpcap \
	10:net_bind_service 12:net_admin 14:ipc_lock 16:sys_module 21:sys_admin; do
	(( (0x$eff >> ${c%%:*}) & 1 )) && fail "CapEff still has cap_${c#*:}: $eff"
	(( (0x$bnd >> ${c%%:*}) & 1 )) && fail "CapBnd still has cap_${c#*:}: $bnd"
done
for c in 2:dac_read_search 19:sys_ptrace 24:sys_resource 38:perfmon 39:bpf; do
	(( (0x$eff >> ${c%%:*}) & 1 )) || fail "CapEff lacks cap_${c#*:}, which reloads and scans use: $eff"
done
expect_eq "NoNewPrivs" "$(awk '$1 == "NoNewPrivs:" { print $2 }' $st)" 1

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

# reloads that detach and attach the ioctl link, /metrics and --ctl, all with
# the capabilities dropped
cat > $O/p.yaml <<EOT
rules:
  - name: flood
    match:
      - name: "vm-f*"
    max_pinned_bytes: 64M
EOT
expect_eq "reload to a policy without rates" "$(pd_ctl reload)" "ok generation 2"
pd_has status '^link file_ioctl none$' || fail "the ioctl link stayed: $(pd_ctl status)"
cp $O/good.yaml $O/p.yaml
expect_eq "reload back to the rates" "$(pd_ctl reload)" "ok generation 3"
pd_has status '^link file_ioctl pinned$' || fail "the ioctl link was not attached: $(pd_ctl status)"
curl -fsS http://127.0.0.1:9477/metrics > $O/metrics.txt || fail "/metrics did not answer"
grep -qx 'vfioscope_policy_generation 3' $O/metrics.txt || fail "/metrics: $(grep generation $O/metrics.txt)"
chmod 0666 $O/p.yaml
if pd_ctl reload > $O/reload-mode.txt; then
	fail "a world-writable policy was loaded: $(cat $O/reload-mode.txt)"
fi
grep -q '^error .*p.yaml:0: writable by everyone (mode 0666): refusing a policy others can rewrite' \
	$O/reload-mode.txt || fail "reload of a world-writable file: $(cat $O/reload-mode.txt)"
chmod 0644 $O/p.yaml
expect_eq "generation after the refused file" "$(pd_ctl status | awk '$1 == "generation" { print $2 }')" 3

# 3. non-root: no control socket, no pinned map writes
if setpriv --reuid=65534 --regid=65534 --clear-groups vfio-policyd --socket $PD_SOCK --ctl status > $O/nr.txt 2>&1; then
	fail "nobody used the control socket: $(cat $O/nr.txt)"
fi
note "nobody: $(cat $O/nr.txt)"
chmod 0666 $PD_SOCK	# past the file mode, the peer check still refuses
chmod 0755 /run/vfioscope	# (the bench made it 0755 already: the daemon makes it 0700)
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
