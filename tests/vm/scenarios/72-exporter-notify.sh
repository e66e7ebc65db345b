# vfio-policyd as systemd runs it (Type=notify), without systemd: a
# listener on NOTIFY_SOCKET records what the daemon says, in order.
# 1. --exporter: no policy file at all. READY=1 comes only once the
#    collectors are pinned and /metrics answers; /metrics has the
#    collectors' families (a named VM's ioctls counted exactly) and no
#    policy family; `--ctl status` says "mode exporter"; SIGHUP is refused
#    and the daemon stays; SIGTERM says STOPPING=1 and exits 0.
# 2. With a policy: READY=1 after it was applied; a SIGHUP says
#    RELOADING=1 (with MONOTONIC_USEC) and then READY=1 again.
. "$VFIOSCOPE_REPO/tests/vm/lib.sh"
. "$VFIOSCOPE_REPO/tests/vm/policy-lib.sh"
O=$VFIOSCOPE_OUT
ip link set lo up

# notify_listen SOCK LOG: every datagram on SOCK, one per LOG line
# ("\n" inside a message written as "|"); sets $listener
notify_listen() {
	rm -f "$1"
	python3 -u -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print("listening", flush=True)
while True:
    print(s.recv(4096).decode().strip().replace("\n", "|"), flush=True)
' "$1" > "$2" &
	listener=$!
	wait_for_line "$2" listening 30 $listener
}

# ---------------------------------------------------------------- exporter
notify_listen /run/notify-exp.sock $O/notify-exp.log
NOTIFY_SOCKET=/run/notify-exp.sock vfio-policyd --exporter --metrics-port 0 \
	--socket /run/vfioscope/exporter.sock > $O/exp.out 2> $O/exp.err &
exp=$!
wait_for_line $O/notify-exp.log 'READY=1' 90 $exp
# at READY=1 everything it announces is there: pinned and bound
[ -d /sys/fs/bpf/vfioscope/collectors ] || fail "READY=1 before the collectors were pinned"
[ ! -e /sys/fs/bpf/vfioscope/policy ] || fail "--exporter pinned policy state"
port=$(sed -n 's/.*metrics on 127\.0\.0\.1:\([0-9]*\)$/\1/p' $O/exp.err | tail -n 1)
[ -n "$port" ] || fail "READY=1 before /metrics was bound: $(cat $O/exp.err)"
grep -q '^READY=1|STATUS=exporter mode' $O/notify-exp.log ||
	fail "READY=1 without the exporter's STATUS: $(cat $O/notify-exp.log)"

st=$(vfio-policyd --socket /run/vfioscope/exporter.sock --ctl status) ||
	fail "--ctl status failed: $st"
grep -qx 'mode exporter' <<< "$st" || fail "status does not say exporter mode: $st"

vfio-exercise --name vm-exp ioctls "$EDU_BDF" --cmd get-info -n 321 > $O/vm.txt ||
	fail "vfio-exercise ioctls failed"
vm_pid=$(awk '$1 == "pid" { print $2 }' $O/vm.txt)
curl -sf "http://127.0.0.1:$port/metrics" > $O/m1.txt || fail "/metrics did not answer"
grep -q '^vfioscope_build_info{' $O/m1.txt || fail "no vfioscope_build_info"
! grep -q '^vfioscope_policy_' $O/m1.txt || fail "--exporter serves policy families: $(grep -m3 '^vfioscope_policy_' $O/m1.txt)"
# every ioctl vm-exp made (321 GET_INFO and its set-up), as its summary says
want=$(awk '$1 == "ioctl" { n += $5 } END { print n }' $O/vm.txt)
expect_eq "vm-exp's ioctls on /metrics, by name" \
	"$(sed -n "s/^vfioscope_vm_ioctls_total{vm=\"vm-exp\",pid=\"$vm_pid\"} //p" $O/m1.txt)" "$want"

kill -HUP $exp
wait_for_line $O/exp.err 'reload refused: exporter mode' 30 $exp
kill -0 $exp || fail "the exporter died on SIGHUP"
! grep -q 'RELOADING=1' $O/notify-exp.log || fail "the exporter announced a reload it refused"
kill -TERM $exp
wait $exp || fail "the exporter exited $? on SIGTERM: $(tail -n 5 $O/exp.err)"
wait_for_line $O/notify-exp.log 'STOPPING=1' 10
kill $listener
expect_eq "exporter notifications in order" \
	"$(cut -d'|' -f1 $O/notify-exp.log | tr '\n' ' ')" "listening READY=1 STOPPING=1 "
vfiostat --unpin > /dev/null || fail "vfiostat --unpin failed"

# ------------------------------------------------------------------ policy
cat > $O/policy.yaml <<- 'EOF'
	mode: enforce
	rules:
	  - name: tenants
	    match:
	      - name: "vm-*"
	    rate:
	      dma_map: {rate: 1000, burst: 1000}
	EOF
vfio-policyd --check $O/policy.yaml > $O/check.txt || fail "--check refused: $(cat $O/check.txt)"
notify_listen /run/notify-pd.sock $O/notify-pd.log
NOTIFY_SOCKET=/run/notify-pd.sock vfio-policyd -c $O/policy.yaml --socket $PD_SOCK \
	--no-collector --no-metrics >> $O/pd.err 2>&1 &
pd=$!
wait_for_line $O/notify-pd.log 'READY=1' 90 $pd
pd_has status '^generation 1$' || fail "READY=1 before the policy was applied: $(pd_ctl status)"
grep -q '^READY=1|STATUS=policy applied' $O/notify-pd.log ||
	fail "READY=1 without the policy's STATUS: $(cat $O/notify-pd.log)"
kill -HUP $pd
wait_for_line $O/notify-pd.log 'STATUS=policy generation 2' 30 $pd
grep -q '^RELOADING=1|MONOTONIC_USEC=[0-9][0-9]*$' $O/notify-pd.log ||
	fail "no RELOADING=1 with MONOTONIC_USEC: $(cat $O/notify-pd.log)"
kill -TERM $pd
wait $pd || fail "the daemon exited $? on SIGTERM"
wait_for_line $O/notify-pd.log 'STOPPING=1' 10
kill $listener
expect_eq "policy daemon notifications in order" \
	"$(cut -d'|' -f1 $O/notify-pd.log | tr '\n' ' ')" \
	"listening READY=1 RELOADING=1 READY=1 STOPPING=1 "
vfio-policyd --socket $PD_SOCK --unload || fail "--unload failed"
[ -z "$(kernel_complaints)" ] || fail "kernel complained: $(kernel_complaints)"
echo "exporter and policy daemon: READY=1 only when pinned and bound, reloads and stops announced"
