# vDPA devices do I/O: the VDUSE block device (qemu-storage-daemon) and the
# vdpa_sim block device round-trip data through virtio_vdpa; vdpa_sim's net
# device loops packets back; the VDUSE device rebinds to vhost_vdpa and back.
. "$VFIOSCOPE_REPO/tests/vm/lib.sh"

roundtrip() {	# BLOCKDEV SEED
	head -c 4194304 /dev/urandom > /tmp/pat.$2
	dd if=/tmp/pat.$2 of="$1" bs=1M oflag=direct status=none || fail "write to $1"
	dd if="$1" of=/tmp/back.$2 bs=1M count=4 iflag=direct status=none || fail "read from $1"
	cmp -s /tmp/pat.$2 /tmp/back.$2 || fail "$1: data read back differs from data written"
	note "$1: 4 MiB written and read back"
}
roundtrip "$VDUSE_BLK" vduse
# VDUSE's backend is a file in the guest: the data must have reached it
cmp -s -n 4194304 /tmp/pat.vduse /run/vfioscope/vduse0.img ||
	fail "VDUSE backing file does not hold the data written to $VDUSE_BLK"
note "VDUSE backing file matches"
roundtrip "$SIMBLK_BLK" simblk

# vdpa_sim_net echoes every transmitted broadcast/multicast frame (and
# frames to its own MAC) back to the receive queue. IPv6 off so the
# interface sends nothing of its own: exactly our frames must come back.
S=/sys/class/net/$SIMNET_IF
sysctl -qw "net.ipv6.conf.$SIMNET_IF.disable_ipv6=1"
ip link set "$SIMNET_IF" up
for i in $(seq 1 50); do
	[ "$(cat $S/operstate)" = up ] && break
	sleep 0.1
done
rx0=$(cat $S/statistics/rx_packets)
tx0=$(cat $S/statistics/tx_packets)
python3 - "$SIMNET_IF" <<'PY'
import socket, sys
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((sys.argv[1], 0))
mac = open(f"/sys/class/net/{sys.argv[1]}/address").read().strip()
src = bytes.fromhex(mac.replace(":", ""))
for i in range(16):
    # broadcast, local experimental ethertype 0x88b5, numbered payload
    s.send(b"\xff" * 6 + src + b"\x88\xb5" + bytes([i]) * 60)
PY
for i in $(seq 1 50); do
	[ $(( $(cat $S/statistics/rx_packets) - rx0 )) -ge 16 ] && break
	sleep 0.1
done
expect_eq "$SIMNET_IF frames sent" $(( $(cat $S/statistics/tx_packets) - tx0 )) 16
expect_eq "$SIMNET_IF frames looped back" $(( $(cat $S/statistics/rx_packets) - rx0 )) 16

node=$(bench-vdpa-bind "$VDUSE_DEV" vhost) || fail "rebinding $VDUSE_DEV to vhost_vdpa"
[ -c "$node" ] || fail "$node is not a character device"
note "$VDUSE_DEV on vhost_vdpa: $node"
blk=$(bench-vdpa-bind "$VDUSE_DEV" virtio) || fail "rebinding $VDUSE_DEV to virtio_vdpa"
roundtrip "/dev/$blk" vduse2
echo "VDUSE and vdpa_sim block/net I/O OK"
