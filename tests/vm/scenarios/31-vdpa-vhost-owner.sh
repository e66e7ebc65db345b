# Two "VMs" on vhost-vdpa: the VDUSE and vdpa_sim block devices are
# rebound to vhost_vdpa and two VMM-like clients (vfio-exercise vhost-kick)
# each own one, set up a queue with an eventfd kick and have a child
# process signal it K times, concurrently. vfiostat must count exactly K1
# and K2 kicks on path vhost, each on its own device, attributed to the
# process that opened the device (its owner), not to the task that ran the
# kick: vhost_vdpa runs its kick handler in whichever task signals the
# eventfd (KVM's ioeventfd in a real VMM, the child here), so the kicker's
# pid must not appear as owner. A third client (vdpa_sim net) gets its
# device fd from another process that opened it and exited (-o: SCM_RIGHTS,
# as libvirtd passes /dev/vhost-vdpa-N to QEMU): its kicks belong to the
# client that drives the device, not to the opener.
. "$VFIOSCOPE_REPO/tests/vm/lib.sh"
OUT=$VFIOSCOPE_OUT

node_a=$(bench-vdpa-bind "$VDUSE_DEV" vhost) || fail "rebinding $VDUSE_DEV to vhost_vdpa"
node_b=$(bench-vdpa-bind "$SIMBLK_DEV" vhost) || fail "rebinding $SIMBLK_DEV to vhost_vdpa"
node_c=$(bench-vdpa-bind "$SIMNET_DEV" vhost) || fail "rebinding $SIMNET_DEV to vhost_vdpa"
note "$VDUSE_DEV: $node_a, $SIMBLK_DEV: $node_b, $SIMNET_DEV: $node_c"

vfiostat > "$OUT/stat.txt" 2> "$OUT/stat.err" &
stat=$!
wait_for_line "$OUT/stat.err" attached 60

vfio-exercise vhost-kick "$node_a" -n 1234 > "$OUT/a.txt" &
a=$!
vfio-exercise vhost-kick "$node_b" -n 777 > "$OUT/b.txt" &
b=$!
vfio-exercise vhost-kick "$node_c" -n 321 -o > "$OUT/c.txt" &
c=$!
wait $a || fail "client A ($node_a) failed"
wait $b || fail "client B ($node_b) failed"
wait $c || fail "client C ($node_c, fd passed) failed"
kill -INT $stat
wait $stat || fail "vfiostat failed: $(cat "$OUT/stat.err")"
grep -E '^(vq|vdpa|drops vdpa)' "$OUT/stat.txt"

field() { awk -v k="$2" '$1 == k { print $2 }' "$1"; }
pid_a=$(field "$OUT/a.txt" pid)
pid_b=$(field "$OUT/b.txt" pid)
pid_c=$(field "$OUT/c.txt" pid)
[ "$pid_a" != "$pid_b" ] || fail "both clients report pid $pid_a"
opener_c=$(field "$OUT/c.txt" opener_pid)
[ -n "$opener_c" ] && [ "$opener_c" != "$pid_c" ] ||
	fail "client C's device was not opened by another process (opener '$opener_c', pid $pid_c)"

check() {	# NAME CLIENT_OUT KICKS OWNER
	expect_eq "$1: vhost kicks and calls" \
		"$(awk -v d="$1" '$1 == "vq" && $2 == d && $4 == "vhost" { print $3, $6, $8 }' \
		"$OUT/stat.txt")" "$(field "$2" queue) $3 0"
	expect_eq "$1: path and owner" \
		"$(awk -v d="$1" '$1 == "vdpa" && $2 == d { print $6, $8 }' "$OUT/stat.txt")" \
		"vhost $4"
	[ "$(field "$2" kicker_pid)" != "$4" ] || fail "$1: the kicker is the owner: proves nothing"
}
check "$VDUSE_DEV" "$OUT/a.txt" 1234 "$pid_a"
check "$SIMBLK_DEV" "$OUT/b.txt" 777 "$pid_b"
check "$SIMNET_DEV" "$OUT/c.txt" 321 "$pid_c"
expect_eq "all vhost kicks" \
	"$(awk '$1 == "vq" && $4 == "vhost" { k += $6 } END { print k + 0 }' "$OUT/stat.txt")" 2332

awk '$1 == "drops" && $3 != 0' "$OUT/stat.txt" | grep . && fail "losses counted"
[ -z "$(kernel_complaints)" ] || fail "kernel complained: $(kernel_complaints)"
echo "three vhost-vdpa owners, exact kicks per device, attributed to the VMM driving each (opener or fd receiver)"
