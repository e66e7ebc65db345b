# vhost-vdpa with a real VMM: QEMU 10 nested in the bench guest (TCG, 64
# MiB, no disk: it runs its firmware and boots no OS), named vm48, with
# -netdev vhost-vdpa on the vdpa_sim net device bound to vhost_vdpa and a
# virtio-net-pci NIC on it. What such a guest drives: QEMU's own vhost set-
# up (SET_OWNER, features, memory table as IOTLB messages written to the
# fd, rings, kick and call eventfds, status), and whatever the firmware
# does with the NIC: SeaBIOS runs the NIC's iPXE option ROM, which brings
# the device to DRIVER_OK and sends DHCP requests, so QEMU starts vhost
# (maps all guest RAM through the device's IOTLB) and the firmware kicks
# its queues. With no OS nothing else happens: no traffic of a guest
# driver, no migration, no reset by a guest.
#
# vdpa_sim is reloaded with use_va=0: by default it translates user
# virtual addresses itself (vdpa->use_va), and vhost_vdpa then pins
# nothing (VmPin stays 0; measured). Without VA, each IOTLB update pins
# the guest pages and charges them to QEMU's mm->pinned_vm (VmPin in
# /proc/PID/status), not to locked_vm (VmLck) as type1 does. Checked:
# - the device's owner is QEMU (pid) and its VM is named vm48, in vfiotop
#   (-j) and vfiostat, with one device;
# - PINNED: vfiotop's pinned_bytes for vm48 == (VmLck + VmPin) * 1024 of
#   QEMU (both kB), read before and after the frame and the same both
#   times; VmPin > 0 (all of the guest's RAM and ROMs QEMU mapped through
#   the IOTLB, with RLIMIT_MEMLOCK raised for it; VmLck 0); the same in
#   vfiostat (locked_pages +
#   vhost_pinned_pages) and in /metrics (vfioscope_vm_pinned_bytes);
# - kicks: each kick is QEMU signalling a queue's kick eventfd (TCG: QEMU
#   emulates the ioeventfd with write(2) on it), so the device's kicks per
#   queue equal an independent count: bpftrace learns each queue's kick
#   eventfd from VHOST_SET_VRING_KICK (struct vhost_vring_file) and counts
#   QEMU's write(2)s on it, each one wakeup of vhost_vdpa's poll, plus one
#   per VHOST_SET_VRING_KICK of an eventfd QEMU wrote and did not read
#   since: vhost_poll_start polls it and a pending count is a kick (QEMU
#   writes the notifier once before handing it to vhost, so no kick the
#   firmware made before is lost: measured, 9 kicks for 8 writes per
#   queue). Compared once QEMU is dead. All of them are vm48's: no other
#   VM row has any kick;
# - after SIGKILL: vm48's row turns exited and pins nothing (row,
#   vfiostat, /metrics); the device keeps naming it as its last owner
#   (as a VFIO device does), so its kicks stay vm48's.
. "$VFIOSCOPE_REPO/tests/vm/lib.sh"
. "$VFIOSCOPE_REPO/tests/vm/policy-lib.sh"
. "$VFIOSCOPE_REPO/tests/vm/miglib.sh"
. "$VFIOSCOPE_REPO/tests/vm/prom-lib.sh"
O=$VFIOSCOPE_OUT
GRACE=30
command -v qemu-system-x86_64 > /dev/null || fail "no qemu-system-x86_64 in the guest (the host's)"
command -v bpftrace > /dev/null || fail "no bpftrace in the guest (the host's)"
ip link set lo up

# vdpa_sim without VA: vhost_vdpa pins what QEMU maps
vdpa dev del "$SIMNET_DEV" || fail "vdpa dev del $SIMNET_DEV"
vdpa dev del "$SIMBLK_DEV" || fail "vdpa dev del $SIMBLK_DEV"
modprobe -r vdpa_sim_net vdpa_sim_blk vdpa_sim || fail "cannot unload vdpa_sim: $(lsmod | grep vdpa_sim)"
modprobe vdpa_sim use_va=0 || fail "modprobe vdpa_sim use_va=0"
modprobe vdpa_sim_net || fail "modprobe vdpa_sim_net"
expect_eq "vdpa_sim use_va" "$(cat /sys/module/vdpa_sim/parameters/use_va)" N
vdpa dev add name "$SIMNET_DEV" mgmtdev vdpasim_net mac 02:00:00:5e:00:48 ||
	fail "vdpa dev add $SIMNET_DEV"
node=$(bench-vdpa-bind "$SIMNET_DEV" vhost) || fail "binding $SIMNET_DEV to vhost_vdpa"
note "$SIMNET_DEV: $node"

# the independent count: QEMU's ioctls per (fd, command), its writes per
# fd (IOTLB messages on the vhost fd), and the writes on each queue's kick
# eventfd as VHOST_SET_VRING_KICK last set it
cat > $O/count.bt << EOT
BEGIN { printf("ready\n"); }
tracepoint:syscalls:sys_enter_ioctl /comm == "qemu-system-x86"/ {
	@ioctl[pid, args->fd, args->cmd] = count();
	if (args->cmd == 0x4008af20) {
		\$fd = *(int32 *)uptr(args->arg + 4);
		@kq[pid, \$fd] = *(uint32 *)uptr(args->arg);
		@kqset[pid, \$fd] = 1;
		if (@pend[pid, \$fd]) { @kick[@kq[pid, \$fd]] = count(); }
	}
}
tracepoint:syscalls:sys_enter_write /comm == "qemu-system-x86" && @kqset[pid, args->fd]/ {
	@kick[@kq[pid, args->fd]] = count();
}
tracepoint:syscalls:sys_enter_write /comm == "qemu-system-x86"/ {
	@write[pid, args->fd] = count();
	@pend[pid, args->fd] = 1;
}
tracepoint:syscalls:sys_enter_read /comm == "qemu-system-x86"/ { @pend[pid, args->fd] = 0; }
tracepoint:syscalls:sys_enter_close /comm == "qemu-system-x86"/ { @close[pid, args->fd] = count(); }
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
pd_start_metrics $O/p.yaml --gc-grace $GRACE
vfiotop -b -j -d 1 --shared --gc-grace $GRACE > $O/top.json 2> $O/top.err &
top=$!
wait_for_line $O/top.err attached 90 $top

# vhost_vdpa refuses to pin past RLIMIT_MEMLOCK (the guest's 8 MiB: the
# 63 MiB above 1 MiB then fails, QEMU says "DMA mapping failed" as
# vhost_chr_write_iter turns the ENOMEM into EFAULT, and only the 1280 kB
# below 1 MiB stay pinned); libvirt raises it for vDPA the same way
ulimit -l $((128 * 1024))
qemu_nested vm48 -netdev vhost-vdpa,vhostdev=$node,id=n0 -device virtio-net-pci,netdev=n0
q=$!

vmpin() { awk '$1 == "VmPin:" { print $2 * 1024 }' /proc/$1/status; }
last() { last_line $O/top.json; }
row() { last | jq -r --argjson p $1 ".vms[] | select(.pid == \$p) | $2"; }
dev() { last | jq -r --arg d "$SIMNET_DEV" ".devices[] | select(.device == \$d) | $1"; }
# wait until QEMU has mapped its RAM: a frame between two equal, non-zero
# readings of VmPin + VmLck whose pinned bytes are that sum. QEMU maps
# when the firmware's iPXE sets DRIVER_OK: seconds, a minute on a loaded
# machine (nested TCG)
settled=
t_end=$(( $(date +%s) + 100 ))
while [ $(date +%s) -lt $t_end ]; do
	kill -0 $q || fail "QEMU vm48 exited: $(tail -n 3 $O/vm48.log)"
	before=$(pinned_bytes $q)
	f=$(wc -l < $O/top.json)
	while [ "$(wc -l < $O/top.json)" -le $((f + 1)) ]; do sleep 0.2; done
	after=$(pinned_bytes $q)
	got=$(row $q .pinned_bytes)
	[ "$after" -gt "${seen:-0}" ] && seen=$after && seen_top=$got
	if [ "$before" = "$after" ] && [ "$after" = "$got" ] && [ "$(vmpin $q)" != 0 ]; then
		settled=y
		break
	fi
done
[ -n "$settled" ] || fail "VmLck + VmPin and vfiotop's pinned bytes never agreed: at most $seen B" \
	"pinned (vfiotop then '$seen_top'), last /proc $after (VmPin $(vmpin $q)), vfiotop '$got'"
grep -E '^Vm(Lck|Pin)' /proc/$q/status | sed 's/^/-- QEMU: /'
sed 's/^/-- QEMU says: /' $O/vm48.log
grep -q 'DMA mapping failed' $O/vm48.log && fail "QEMU could not map its RAM through the IOTLB (above)"
last | jq -c '.vms[] | {pid, name, devices, kicks, pinned_bytes, state}' | sed 's/^/-- vfiotop: /'
dev '{device, kind, owner, owner_pid, kicks, state}' | jq -c . | sed 's/^/-- vfiotop: /'
expect_eq "vm48: vfiotop's name" "$(row $q .name)" vm48
expect_eq "vm48: pinned bytes (VmLck + VmPin)" "$(row $q .pinned_bytes)" "$(pinned_bytes $q)"
expect_eq "vm48: devices" "$(row $q .devices)" 1
expect_eq "$SIMNET_DEV: kind" "$(dev .kind)" vdpa-vhost
expect_eq "$SIMNET_DEV: owner" "$(dev '"\(.owner) \(.owner_pid)"')" "vm48 $q"

# vfiostat on the same set
page=$(getconf PAGESIZE)
vfiostat --shared -d 1 > $O/stat.txt 2> $O/stat.err || fail "vfiostat failed: $(cat $O/stat.err)"
stat_vm() { awk -v p=$1 -v k=$2 '$1 == "vm_info" && $2 == p {
	for (i = 3; i < NF; i++) if ($i == k) print $(i + 1) }' $O/stat.txt; }
grep -E "^(vm_info|vdpa) " $O/stat.txt | sed 's/^/-- vfiostat: /'
expect_eq "vm48: vfiostat's name" "$(stat_vm $q name)" vm48
expect_eq "vm48: vfiostat's locked + vhost pinned bytes" \
	$(( ($(stat_vm $q locked_pages) + $(stat_vm $q vhost_pinned_pages)) * page )) "$(pinned_bytes $q)"
expect_eq "$SIMNET_DEV: vfiostat's path and owner" \
	"$(awk -v d="$SIMNET_DEV" '$1 == "vdpa" && $2 == d { print $6, $8 }' $O/stat.txt)" "vhost $q"
curl -sf http://127.0.0.1:$port/metrics > $O/metrics.txt || fail "no /metrics"
pm() { sed -n "s/^vfioscope_vm_pinned_bytes{\(.*\)} \([0-9.e+]*\)$/\1 \2/p" $O/metrics.txt; }
pm | sed 's/^/-- metrics: /'
expect_eq "/metrics: vm48's pinned bytes" \
	"$(pm | awk -v p="pid=\"$q\"" 'index($1, p) { printf "%d", $2 }')" "$(pinned_bytes $q)"
pins_alive=$(pinned_bytes $q)

# SIGKILL: exited, pinning nothing, the device released
kill -KILL $q
wait $q || true
f=$(wc -l < $O/top.json)
for i in $(seq 1 100); do
	[ "$(wc -l < $O/top.json)" -gt $((f + 1)) ] && [ "$(row $q .state)" = exited ] && break
	sleep 0.2
done
expect_eq "vm48 after SIGKILL: state" "$(row $q .state)" exited
expect_eq "vm48 exited: name" "$(row $q .name)" vm48
expect_eq "vm48 exited: pinned bytes" "$(row $q .pinned_bytes)" 0
expect_eq "$SIMNET_DEV after vm48's exit: owner (its last, exited)" \
	"$(dev '"\(.owner) \(.owner_pid)"')" "vm48 $q"
curl -sf http://127.0.0.1:$port/metrics > $O/metrics.txt || fail "no /metrics"
expect_eq "/metrics: vm48's pinned bytes after its exit" \
	"$(pm | awk -v p="pid=\"$q\"" 'index($1, p) { printf "%d", $2 }')" 0
vfiostat --shared -d 1 > $O/stat.txt 2> $O/stat.err || fail "vfiostat failed: $(cat $O/stat.err)"
expect_eq "vfiostat: vm48 exited, its pinned pages" \
	"$(stat_vm $q locked_pages) $(stat_vm $q vhost_pinned_pages)" "0 0"

# kicks: QEMU is dead, every count final
kill -INT $bt
wait $bt || fail "bpftrace failed: $(tail -n 3 $O/bt.err)"
grep -E '^@(ioctl|kick)' $O/bt.txt | sed 's/^/-- bpftrace: /'
note "QEMU's IOTLB messages and other writes on $node:" \
	"$(grep -E '^@write\[' $O/bt.txt | tr '\n' ' ')"
grep -E "^vq $SIMNET_DEV " $O/stat.txt | sed 's/^/-- vfiostat: /'
awk -v d="$SIMNET_DEV" '$1 == "vq" && $2 == d && $4 != "vhost"' $O/stat.txt | grep . &&
	fail "$SIMNET_DEV: kicks counted on a path other than vhost"
want=$(sed -n 's/^@kick\[\([0-9]*\)\]: \([0-9]*\)$/\1 \2/p' $O/bt.txt | sort -n)
got=$(awk -v d="$SIMNET_DEV" '$1 == "vq" && $2 == d && $6 > 0 { print $3, $6 }' $O/stat.txt | sort -n)
[ -n "$want" ] || fail "bpftrace saw no kick: the firmware drove no queue"
expect_eq "$SIMNET_DEV: kicks per queue, vfiostat = QEMU's kick eventfd writes (bpftrace)" "$got" "$want"
# vm48's kicks were all counted while it lived (its row, before the kill)
expect_eq "kicks on any other VM" \
	"$(jq -s --argjson p $q '[.[] | .vms[]? | select(.pid != $p) | .kicks] | max // 0' $O/top.json)" 0

top_finish $top $O/top.json $O/top.err
kill -TERM $pd
wait $pd || fail "vfio-policyd failed: $(tail -n 5 $O/pd.err)"
awk '$1 == "drops" && $3 != 0' $O/stat.txt | grep . && fail "losses counted"
[ -z "$(kernel_complaints)" ] || fail "kernel complained: $(kernel_complaints)"
echo "QEMU on vhost-vdpa is the named VM vm48: it owns the device, pins VmLck + VmPin, its firmware's kicks are its own; killed, it pins nothing"
