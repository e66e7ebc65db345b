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
# frames to its own MAC) back to the receive queue
S=/sys/class/net/$SIMNET_IF
ip link set "$SIMNET_IF" up
ip addr add 192.0.2.1/24 dev "$SIMNET_IF"
for i in $(seq 1 50); do
	case "$(cat $S/operstate)" in up|unknown) break;; esac
	sleep 0.1
done
rx0=$(cat $S/statistics/rx_packets)
tx0=$(cat $S/statistics/tx_packets)
for i in $(seq 1 30); do
	ping -b -c 1 -W 1 -I "$SIMNET_IF" 192.0.2.255 >/dev/null 2>&1 || true
	[ $(( $(cat $S/statistics/rx_packets) - rx0 )) -ge 3 ] && break
done
tx=$(( $(cat $S/statistics/tx_packets) - tx0 ))
rx=$(( $(cat $S/statistics/rx_packets) - rx0 ))
[ "$tx" -gt 0 ] || fail "$SIMNET_IF sent nothing"
[ "$rx" -ge 3 ] || fail "$SIMNET_IF received $rx frames back from vdpa_sim_net (tx $tx)"
note "$SIMNET_IF: tx $tx, looped back rx $rx"

node=$(bench-vdpa-bind "$VDUSE_DEV" vhost) || fail "rebinding $VDUSE_DEV to vhost_vdpa"
[ -c "$node" ] || fail "$node is not a character device"
note "$VDUSE_DEV on vhost_vdpa: $node"
blk=$(bench-vdpa-bind "$VDUSE_DEV" virtio) || fail "rebinding $VDUSE_DEV to virtio_vdpa"
roundtrip "/dev/$blk" vduse2
echo "VDUSE and vdpa_sim block/net I/O OK"
