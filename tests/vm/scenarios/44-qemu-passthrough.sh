# Passthrough with a real VMM: three QEMU 10 VMs, nested in the bench guest
# (TCG), each named by its -name and owning one device: vm44-edu the edu
# device ($EDU_BDF), vm44-nvme0 and vm44-nvme1 the two NVMe VFs
# ($NVME_VFS). vfio-policyd runs the collectors pinned (with /metrics),
# vfiotop (-j) and vfiostat read the same set. Checked:
# - vfiotop's VM rows and vfiostat's vm_info lines name each QEMU by its
#   -name, and the device rows name it as their owner;
# - each device's ioctl count in vfiotop equals an independent count:
#   bpftrace counts ioctl(2) at the syscall layer per (process, fd), and
#   the fd is the QEMU's VFIO device fd (anon_inode:[vfio-device] in
#   /proc/PID/fd). Each QEMU owns one device and opens it once, so its
#   device fd's count is that device's count. The fd numbers are checked not
#   to have been closed and reused in the window (close(2) counted too):
#   a count at a reused number would mix two files. Compared once every
#   QEMU is dead, so no ioctl can come between the two reads, with
#   vfiotop's count from the first frame that shows its QEMU exited;
# - each VM's pinned bytes equal its QEMU's VmLck (/proc/PID/status:
#   mm->locked_vm, where type1 charges what it pins), read before and after
#   the frame and the same both times;
# - after SIGKILL of vm44-nvme1 its row turns exited and pins nothing: 0 in
#   its row, in vfiostat's vm_info and in /metrics, and the fleet total
#   (the frame's sum, and sum(vfioscope_vm_pinned_bytes) as the fleet
#   dashboard draws it) equals what the two live QEMUs hold; the row stays,
#   exited, for the grace period and then leaves.
. "$VFIOSCOPE_REPO/tests/vm/lib.sh"
. "$VFIOSCOPE_REPO/tests/vm/policy-lib.sh"
O=$VFIOSCOPE_OUT
GRACE=10
command -v qemu-system-x86_64 > /dev/null || fail "no qemu-system-x86_64 in the guest (the host's)"
command -v bpftrace > /dev/null || fail "no bpftrace in the guest (the host's)"
set -- $NVME_VFS
[ $# = 2 ] || fail "expected two NVMe VFs in NVME_VFS, got '$NVME_VFS'"
NAMES="vm44-edu vm44-nvme0 vm44-nvme1"
declare -A BDF=([vm44-edu]=$EDU_BDF [vm44-nvme0]=$1 [vm44-nvme1]=$2) PID=()
ip link set lo up

# the independent count: every ioctl(2) and close(2) per process and fd
cat > $O/count.bt << 'EOT'
BEGIN { printf("ready\n"); }
tracepoint:syscalls:sys_enter_ioctl { @ioctl[pid, args->fd] = count(); }
tracepoint:syscalls:sys_enter_close { @close[pid, args->fd] = count(); }
EOT
bpftrace $O/count.bt > $O/bt.txt 2> $O/bt.err &
bt=$!
wait_for_line $O/bt.txt '^ready' 90 $bt

cat > $O/p.yaml << EOT
mode: monitor
rules:
  - name: none
    match:
      - name: "no-such-vm"
    rate:
      all: {rate: 100000, burst: 100000}
EOT
PD_FLAGS="--metrics-port 0 --gc-grace $GRACE" pd_start $O/p.yaml $O/pd.err
port=$(sed -n 's/.*metrics on 127\.0\.0\.1:\([0-9]*\)$/\1/p' $O/pd.err | tail -n 1)
[ -n "$port" ] || fail "the daemon logged no metrics port: $(cat $O/pd.err)"
vfiotop -b -j -d 1 --shared --gc-grace $GRACE > $O/top.json 2> $O/top.err &
top=$!
wait_for_line $O/top.err attached 90 $top

for n in $NAMES; do
	qemu-system-x86_64 -name guest=$n -machine q35 -accel tcg -m 64 -nographic \
		-nodefaults -serial none -monitor none -device vfio-pci,host=${BDF[$n]},id=hostdev0 \
		-qmp unix:$O/$n.qmp,server=on,wait=off < /dev/null > $O/$n.log 2>&1 &
	PID[$n]=$!
done

vmlck() { awk '$1 == "VmLck:" { print $2 * 1024 }' /proc/$1/status; }
last() { last_line $O/top.json; }
row() { last | jq -r --argjson p $1 ".vms[] | select(.pid == \$p) | $2"; }
# wait until the firmware is done mapping: a frame, taken between two
# equal readings of every QEMU's VmLck (all non-zero), whose pinned bytes
# are those readings
settled=
for i in $(seq 1 60); do
	before=$(for n in $NAMES; do kill -0 ${PID[$n]} || fail "QEMU $n exited: $(tail -n 3 $O/$n.log)"; vmlck ${PID[$n]}; done)
	f=$(wc -l < $O/top.json)
	while [ "$(wc -l < $O/top.json)" -le $((f + 1)) ]; do sleep 0.2; done
	after=$(for n in $NAMES; do vmlck ${PID[$n]}; done)
	got=$(for n in $NAMES; do row ${PID[$n]} .pinned_bytes; done)
	if [ "$before" = "$after" ] && [ "$after" = "$got" ] && ! grep -qx 0 <<< "$after"; then
		settled=y
		break
	fi
done
[ -n "$settled" ] || fail "VmLck and vfiotop's pinned bytes never agreed: VmLck $(echo $after), vfiotop $(echo $got)"
last | jq -c '.vms[] | {pid, name, devices, ioctls, pinned_bytes, mapped_bytes, state}' | sed 's/^/-- vfiotop: /'
for n in $NAMES; do
	p=${PID[$n]}
	expect_eq "$n: vfiotop's name" "$(row $p .name)" $n
	expect_eq "$n: pinned bytes (VmLck $(vmlck $p))" "$(row $p .pinned_bytes)" "$(vmlck $p)"
	expect_eq "$n: devices" "$(row $p .devices)" 1
	expect_eq "${BDF[$n]}: owner" "$(last | jq -r --arg d ${BDF[$n]} '.devices[] |
		select(.device == $d) | "\(.owner) \(.owner_pid)"')" "$n $p"
	# the QEMU's VFIO device fd (one, opened once)
	fds=$(for f in /proc/$p/fd/*; do
		[ "$(readlink $f)" = "anon_inode:[vfio-device]" ] && basename $f; done || true)
	[ "$(echo $fds | wc -w)" = 1 ] || fail "$n: VFIO device fds '$fds', want one"
	DEVFD[$p]=$fds
done

# vfiostat on the same set: each VM by its name, and VmLck as locked_pages
page=$(getconf PAGESIZE)
vfiostat --shared -d 1 > $O/stat.txt 2> $O/stat.err || fail "vfiostat failed: $(cat $O/stat.err)"
stat_vm() { awk -v p=$1 -v k=$2 '$1 == "vm_info" && $2 == p {
	for (i = 3; i < NF; i++) if ($i == k) print $(i + 1) }' $O/stat.txt; }
for n in $NAMES; do
	p=${PID[$n]}
	expect_eq "$n: vfiostat's name" "$(stat_vm $p name)" $n
	expect_eq "$n: vfiostat's locked bytes" $(($(stat_vm $p locked_pages) * page)) "$(vmlck $p)"
done

# SIGKILL one: exited, pinning nothing, the totals only what the others hold
victim=${PID[vm44-nvme1]}
live=$(( $(vmlck ${PID[vm44-edu]}) + $(vmlck ${PID[vm44-nvme0]}) ))
t_kill=$(date +%s.%N)
kill -KILL $victim
wait $victim || true
f=$(wc -l < $O/top.json)
for i in $(seq 1 100); do
	[ "$(wc -l < $O/top.json)" -gt $((f + 1)) ] && [ "$(row $victim .state)" = exited ] && break
	sleep 0.2
done
expect_eq "vm44-nvme1 after SIGKILL: state" "$(row $victim .state)" exited
expect_eq "vm44-nvme1 exited: name" "$(row $victim .name)" vm44-nvme1
expect_eq "vm44-nvme1 exited: pinned bytes" "$(row $victim .pinned_bytes)" 0
expect_eq "the frame's pinned total (the two live QEMUs' VmLck)" \
	"$(last | jq '[.vms[].pinned_bytes] | add')" $live
curl -sf http://127.0.0.1:$port/metrics > $O/metrics.txt || fail "no /metrics"
pm() { sed -n "s/^vfioscope_vm_pinned_bytes{\(.*\)} \([0-9.e+]*\)$/\1 \2/p" $O/metrics.txt; }
pm | sed 's/^/-- metrics: /'
expect_eq "/metrics: vm44-nvme1's pinned bytes" \
	"$(pm | awk -v p="pid=\"$victim\"" 'index($1, p) { print $2 + 0 }')" 0
expect_eq "/metrics: sum(vfioscope_vm_pinned_bytes)" "$(pm | awk '{ s += $2 } END { printf "%d", s }')" $live

# the other two die too: every count is final, compared with bpftrace's
kill -KILL ${PID[vm44-edu]} ${PID[vm44-nvme0]}
# (meanwhile: vfiostat, on the exited VM)
vfiostat --shared -d 1 > $O/stat.txt 2> $O/stat.err || fail "vfiostat failed: $(cat $O/stat.err)"
expect_eq "vfiostat: vm44-nvme1 exited, its locked pages" "$(stat_vm $victim locked_pages)" 0
wait ${PID[vm44-edu]} ${PID[vm44-nvme0]} || true
f=$(wc -l < $O/top.json)
while [ "$(wc -l < $O/top.json)" -le $((f + 1)) ]; do sleep 0.2; done
kill -INT $bt
wait $bt || fail "bpftrace failed: $(tail -n 3 $O/bt.err)"
bt_n() { sed -n "s/^@$1\[$2, $3\]: //p" $O/bt.txt; }
for n in $NAMES; do
	p=${PID[$n]}
	fd=${DEVFD[$p]}
	[ -z "$(bt_n close $p $fd)" ] || fail "$n closed fd $fd during the run: its count mixes files"
	want=$(bt_n ioctl $p $fd)
	[ -n "$want" ] && [ "$want" -gt 0 ] || fail "$n: bpftrace saw no ioctl on its device fd $fd"
	# vfiotop's count from the first frame that shows the QEMU exited: final
	# there, and before its grace period can end (a slow host takes more
	# than the grace between the first kill and this comparison)
	expect_eq "${BDF[$n]} ($n): ioctls, vfiotop = bpftrace" "$(jq -s --arg d ${BDF[$n]} --argjson p $p '
		map(select(any(.vms[]; .pid == $p and .state == "exited"))) | first |
		.devices[] | select(.device == $d) | .ioctls' $O/top.json)" $want
done

# the row leaves after the grace period, not before
for i in $(seq 1 $(( (GRACE + 15) * 5 ))); do
	[ -z "$(row $victim .pid)" ] && break
	sleep 0.2
done
[ -z "$(row $victim .pid)" ] || fail "vm44-nvme1's row is still there $((GRACE + 15)) s after its exit"
t_last=$(jq -s --argjson p $victim '[.[] | select(any(.vms[]; .pid == $p)) | .time] | max' $O/top.json)
t_gone=$(last | jq .time)
note "vm44-nvme1 killed at $t_kill, last shown at $t_last, gone at $t_gone (grace $GRACE s)"
bc <<< "$t_last - $t_kill >= $GRACE - 1.5" | grep -qx 1 ||
	fail "vm44-nvme1's row left $(bc <<< "$t_last - $t_kill") s after its exit, before the ${GRACE} s grace"
bc <<< "$t_gone - $t_kill <= $GRACE + 10" | grep -qx 1 ||
	fail "vm44-nvme1's row left only $(bc <<< "$t_gone - $t_kill") s after its exit"

top_finish $top $O/top.json $O/top.err
kill -TERM $pd
wait $pd || fail "vfio-policyd failed: $(tail -n 5 $O/pd.err)"
echo "QEMU VMs are named, counted, and pin what VmLck says; a killed one pins nothing and leaves"
