# libvirt as the operator's VMM manager: libvirtd (Debian's, 9.0) starts
# QEMU 10 for a domain vm49 (type qemu: TCG, 64 MiB, no OS) with a VFIO
# <hostdev> (the edu device, $EDU_BDF) and an <interface type='vdpa'> on
# the vdpa_sim net device bound to vhost_vdpa, as nova and virt-manager
# do. libvirtd opens /dev/vhost-vdpa-N itself and passes the fd to QEMU
# (libvirt 9.0: an fd set, -netdev vhost-vdpa,vhostdev=/dev/fdset/N): the
# device's opener is libvirtd, its driver QEMU. Checked, in vfiotop (-j):
# - one VM row for QEMU (libvirt's pid file), named vm49 (libvirt's
#   -name guest=vm49), with both devices; libvirtd has no row;
# - both devices name vm49 and QEMU's pid as their owner: the vDPA device
#   too, though libvirtd opened it;
# - the VM's pinned bytes equal QEMU's (VmLck + VmPin) * 1024 (type1 pins
#   guest RAM for the hostdev), read before and after the frame;
# - the firmware's iPXE kicks the NIC's queues (see 48): the device's
#   kicks are all vm49's, no other row has any;
# - `virsh destroy`: the row turns exited, still named vm49, pinning 0.
# libvirt in the guest: qemu.conf runs QEMU as root without a security
# driver or a private /dev (the guest's root is the host's, read-only),
# its state directories on tmpfs, /etc/libvirt a writable copy. libvirt
# 9.0 passes -no-acpi unless the domain has <acpi/>, and QEMU 10 removed
# that option: the domain has it.
. "$VFIOSCOPE_REPO/tests/vm/lib.sh"
O=$VFIOSCOPE_OUT
GRACE=10
for t in libvirtd virtlogd virsh qemu-system-x86_64; do
	command -v $t > /dev/null || fail "no $t in the guest (the host's: make deps installs it)"
done
getent passwd libvirt-qemu > /dev/null ||
	fail "no libvirt-qemu user (libvirt's QEMU driver needs it to start: make deps adds it)"
ip link set lo up

# libvirt's state and a writable /etc/libvirt
mkdir -p /run/libvirt
for d in /var/lib/libvirt /var/log/libvirt /var/cache/libvirt /run/libvirt; do
	[ -d $d ] || fail "$d is missing on the host (make deps creates it)"
	mount -t tmpfs tmpfs $d || fail "cannot mount a tmpfs on $d"
done
cp -a /etc/libvirt $O/etc-libvirt
mount -t tmpfs tmpfs /etc/libvirt || fail "cannot mount a tmpfs on /etc/libvirt"
cp -a $O/etc-libvirt/. /etc/libvirt/
cat > /etc/libvirt/qemu.conf << EOT
user = "root"
group = "root"
security_driver = "none"
namespaces = [ ]
stdio_handler = "file"
EOT
virtlogd -d || fail "virtlogd did not start"
libvirtd -d > $O/libvirtd.err 2>&1 || fail "libvirtd did not start: $(tail -n 3 $O/libvirtd.err)"
for i in $(seq 1 300); do
	[ -S /run/libvirt/libvirt-sock ] && break
	sleep 0.2
done
[ -S /run/libvirt/libvirt-sock ] || fail "libvirtd never opened its socket"
lv=$(pgrep -xo libvirtd) || fail "libvirtd is not running"
virsh() { command virsh -c qemu:///system "$@"; }

node=$(bench-vdpa-bind "$SIMNET_DEV" vhost) || fail "binding $SIMNET_DEV to vhost_vdpa"
note "$SIMNET_DEV: $node"

vfiotop -b -j -d 1 --gc-grace $GRACE > $O/top.json 2> $O/top.err &
top=$!
wait_for_line $O/top.err attached 90 $top

IFS=':.' read -r dom bus slot fn <<< "$EDU_BDF"
cat > $O/vm49.xml << EOT
<domain type='qemu'>
  <name>vm49</name>
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  <features><acpi/></features>
  <os><type arch='x86_64' machine='q35'>hvm</type></os>
  <devices>
    <emulator>$(command -v qemu-system-x86_64)</emulator>
    <hostdev mode='subsystem' type='pci' managed='no'>
      <source><address domain='0x$dom' bus='0x$bus' slot='0x$slot' function='0x$fn'/></source>
    </hostdev>
    <interface type='vdpa'>
      <source dev='$node'/>
      <model type='virtio'/>
    </interface>
  </devices>
</domain>
EOT
virsh create $O/vm49.xml > $O/virsh.txt 2>&1 ||
	fail "virsh create: $(cat $O/virsh.txt); QEMU: $(tail -n 3 /var/log/libvirt/qemu/vm49.log)"
q=$(cat /run/libvirt/qemu/vm49.pid) || fail "libvirt wrote no pid file for vm49"
note "libvirtd $lv started QEMU $q: $(tr '\0' ' ' < /proc/$q/cmdline | grep -o -- '-netdev [^ ]*\|-device [^ ]*vfio-pci[^ ]*' | tr '\n' ' ')"
# libvirt hands QEMU its open fd: vhostfd=N, or (9.0) an fd set QEMU's
# vhostdev names (/dev/fdset/N, filled by libvirt's add-fd)
tr '\0' '\n' < /proc/$q/cmdline | grep -Eq 'vhost-vdpa.*(vhostfd=|/dev/fdset/)' ||
	fail "QEMU did not get the vhost-vdpa fd from libvirt (no vhostfd= or fd set): the case this checks"

last() { last_line $O/top.json; }
row() { last | jq -r --argjson p $1 ".vms[] | select(.pid == \$p) | $2"; }
dev() { last | jq -r --arg d "$2" ".devices[] | select(.device == \$d) | $1"; }
# a frame between two equal, non-zero readings of QEMU's pins whose pinned
# bytes are that sum, once the firmware kicked the NIC
settled=
t_end=$(( $(date +%s) + 120 ))
while [ $(date +%s) -lt $t_end ]; do
	kill -0 $q || fail "QEMU vm49 exited: $(tail -n 3 /var/log/libvirt/qemu/vm49.log)"
	before=$(pinned_bytes $q)
	f=$(wc -l < $O/top.json)
	while [ "$(wc -l < $O/top.json)" -le $((f + 1)) ]; do sleep 0.2; done
	last_line $O/top.json > $O/frame.json
	after=$(pinned_bytes $q)
	got=$(jq -r --argjson p $q '.vms[] | select(.pid == $p) | .pinned_bytes' $O/frame.json)
	kicked=$(jq -r --arg d "$SIMNET_DEV" '.devices[] | select(.device == $d) | .kicks' $O/frame.json)
	if [ "$before" = "$after" ] && [ "$after" = "$got" ] && [ "$after" != 0 ] &&
		[ "${kicked:-0}" -gt 0 ] 2> /dev/null; then
		settled=y
		break
	fi
done
[ -n "$settled" ] || fail "no frame with QEMU's pins ($after B) and kicks: vfiotop pinned '$got'," \
	"$SIMNET_DEV kicks '$kicked'"
# every check below reads that one frame: iPXE may still be kicking
last() { cat $O/frame.json; }
last | jq -c '.vms[] | {pid, name, devices, kicks, pinned_bytes, state}' | sed 's/^/-- vfiotop: /'
for d in "$EDU_BDF" "$SIMNET_DEV"; do
	dev '{device, kind, owner, owner_pid, kicks, state}' "$d" | jq -c . | sed 's/^/-- vfiotop: /'
done
expect_eq "vm49: vfiotop's name" "$(row $q .name)" vm49
expect_eq "vm49: devices" "$(row $q .devices)" 2
expect_eq "vm49: pinned bytes (VmLck + VmPin)" "$(row $q .pinned_bytes)" "$after"
expect_eq "libvirtd: a VM row" "$(row $lv .pid)" ""
expect_eq "$EDU_BDF: owner" "$(dev '"\(.owner) \(.owner_pid)"' "$EDU_BDF")" "vm49 $q"
expect_eq "$SIMNET_DEV (opened by libvirtd): owner" "$(dev '"\(.owner) \(.owner_pid)"' "$SIMNET_DEV")" "vm49 $q"
k=$(dev .kicks "$SIMNET_DEV")
expect_eq "vm49: kicks (all of $SIMNET_DEV's)" "$(row $q .kicks)" "$k"
expect_eq "kicks of any other VM row" \
	"$(last | jq --argjson p $q '[.vms[] | select(.pid != $p) | .kicks] | add // 0')" 0

# destroyed: exited, pinning nothing (frames as they come again)
last() { last_line $O/top.json; }
virsh destroy vm49 > $O/virsh.txt 2>&1 || fail "virsh destroy: $(cat $O/virsh.txt)"
f=$(wc -l < $O/top.json)
for i in $(seq 1 100); do
	[ "$(wc -l < $O/top.json)" -gt $((f + 1)) ] && [ "$(row $q .state)" = exited ] && break
	sleep 0.2
done
expect_eq "vm49 destroyed: state" "$(row $q .state)" exited
expect_eq "vm49 destroyed: name" "$(row $q .name)" vm49
expect_eq "vm49 destroyed: pinned bytes" "$(row $q .pinned_bytes)" 0
kill -INT $top
wait $top || fail "vfiotop failed: $(tail -n 3 $O/top.err)"
kill $(pgrep -x libvirtd) $(pgrep -x virtlogd) 2> /dev/null
[ -z "$(kernel_complaints)" ] || fail "kernel: $(kernel_complaints)"
