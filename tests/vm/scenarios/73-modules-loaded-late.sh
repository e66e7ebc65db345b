# A service started at boot, before VFIO is loaded: the collectors attach
# when the modules appear, without a restart. With every VFIO module out
# of the kernel (devices unbound), `vfio-policyd --exporter` (a pinned
# set), a private `vfiotop -b -j` and `vfiosnoop` start and report the
# VFIO classes unsupported; then the modules come back as libvirt would
# load them (modprobe vfio-pci, devices bound), and a VM's ioctls are
# counted exactly by each of them: /metrics by name, vfiotop's row,
# vfiosnoop's events; the pinned set's --features says what serves now,
# and a second reader of that set sees the same counts. Afterwards the
# guest is put back as the set-up left it.
. "$VFIOSCOPE_REPO/tests/vm/lib.sh"
O=$VFIOSCOPE_OUT
ip link set lo up

# what the set-up loaded and bound, to take out and put back
bound=$(ls /sys/bus/pci/drivers/vfio-pci | grep '^[0-9a-f]\{4\}:' | tr '\n' ' ')
[ -n "$bound" ] || fail "no device is bound to vfio-pci"
vfio_mods() { awk '$1 ~ /^(vfio|mdev|mdacc|vfioscope_trace|edu_vfio_pci|iommufd)/ { print $1 }' /proc/modules | sort; }
vfio_mods > $O/mods.before
for b in $bound; do echo "$b" > /sys/bus/pci/drivers/vfio-pci/unbind; done
# users before what they use: a few passes, each taking what nothing holds
for pass in 1 2 3 4 5; do
	for m in $(vfio_mods); do rmmod "$m" 2> /dev/null || true; done
done
[ -z "$(vfio_mods)" ] || fail "VFIO modules still loaded: $(grep -E '^(vfio|mdev|mdacc)' /proc/modules)"
note "unloaded: $(tr '\n' ' ' < $O/mods.before)"

vfio-policyd --exporter --metrics-port 0 --socket /run/vfioscope/late.sock \
	> $O/exp.out 2> $O/exp.err &
exp=$!
wait_for_line $O/exp.err 'metrics on 127' 90 $exp
port=$(sed -n 's/.*metrics on 127\.0\.0\.1:\([0-9]*\)$/\1/p' $O/exp.err | tail -n 1)
wait_for_line $O/exp.err 'ready: control socket' 30 $exp
# hardened as ever, but for CAP_SYS_ADMIN: the kernel opens a module's BTF
# (what a program attached later is loaded against) only for it
eff=$(awk '$1 == "CapEff:" { print $2 }' /proc/$exp/status)
(( (0x$eff >> 21) & 1 )) || fail "the exporter dropped cap_sys_admin: CapEff $eff"
for c in 1:dac_override 12:net_admin 16:sys_module; do
	(( (0x$eff >> ${c%%:*}) & 1 )) && fail "the exporter kept cap_${c#*:}: CapEff $eff"
done
vfiotop --private -b -j -d 1 > $O/top.json 2> $O/top.err &
top=$!
wait_for_line $O/top.err attached 90 $top
vfiosnoop --private -j > $O/snoop.json 2> $O/snoop.err &
snoop=$!
wait_for_line $O/snoop.err attached 90 $snoop
# a second reader of the exporter's pinned set: it may extend the set
# itself or take what the exporter added, never attach it twice
vfiotop --shared -b -j -d 1 > $O/shared.json 2> $O/shared.err &
shared=$!
wait_for_line $O/shared.err attached 90 $shared
vfiostat --shared --features > $O/feat.before || fail "vfiostat --features: $(cat $O/feat.before)"
grep -q '^vfio-ioctl  *unsupported  *vfio is not loaded' $O/feat.before ||
	fail "with no VFIO module the pinned set says: $(grep vfio-ioctl $O/feat.before)"

# the modules come back as a VMM's manager loads them
modprobe -a $(cat $O/mods.before) || fail "modprobe of $(cat $O/mods.before) failed"
for b in $bound; do
	echo "$b" > /sys/bus/pci/drivers_probe
	[ "$(basename "$(readlink /sys/bus/pci/devices/$b/driver)")" = vfio-pci ] ||
		fail "$b did not bind to vfio-pci again"
done
wait_for_line $O/exp.err 'modules changed' 30 $exp
wait_for_line $O/snoop.err 'modules changed' 30 $snoop
wait_for_line $O/top.err 'modules changed' 30 $top
wait_for_line $O/shared.err 'modules changed' 30 $shared
grep -h 'modules changed\|module loaded since' $O/exp.err $O/top.err $O/shared.err $O/snoop.err | sed 's/^/-- /'
! grep -q 'module loaded since\|could serve since' $O/exp.err $O/top.err $O/snoop.err ||
	fail "a late attach failed: $(grep -h 'loaded since' $O/*.err)"

vfio-exercise --name vm-late ioctls "$EDU_BDF" --cmd get-info -n 123 > $O/vm.txt ||
	fail "vfio-exercise ioctls failed"
pid=$(awk '$1 == "pid" { print $2 }' $O/vm.txt)
want=$(awk '$1 == "ioctl" { n += $5 } END { print n }' $O/vm.txt)

# settles WHAT CMD...: CMD prints $want within 30 s (each reader catches
# up at its own pace)
settles() {
	local what=$1 got i
	shift
	for i in $(seq 1 30); do
		got=$("$@") || got="($* failed)"
		[ "$got" = "$want" ] && break
		sleep 1
	done
	expect_eq "$what" "$got" "$want"
}
metrics_ioctls() {
	curl -sf "http://127.0.0.1:$port/metrics" |
		sed -n "s/^vfioscope_vm_ioctls_total{vm=\"vm-late\",pid=\"$pid\"} //p"
}
top_ioctls() {	# FILE: the VM's ioctls in vfiotop's latest frame
	last_line "$1" | jq --argjson p $pid '.vms[] | select(.pid == $p) | .ioctls'
}
# /metrics (the pinned set the exporter extended), by name
settles "vm-late's ioctls on /metrics" metrics_ioctls
# vfiotop: a private set it extended itself, and a reader of the pinned one
settles "vm-late's ioctls in vfiotop" top_ioctls $O/top.json
settles "vm-late's ioctls in vfiotop --shared" top_ioctls $O/shared.json
# one device-ioctl program per set: vfiotop's, vfiosnoop's, the pinned one
expect_eq "device ioctl entry programs loaded" \
	"$(bpftool prog show | grep -c 'name device_ioctl_en' || true)" 3
# the pinned set as any reader sees it now: the classes and the counts
vfiostat --shared --features > $O/feat.after || fail "vfiostat --features: $(cat $O/feat.after)"
grep -q '^vfio-ioctl  *fentry ' $O/feat.after ||
	fail "after the modules loaded the pinned set says: $(grep vfio-ioctl $O/feat.after)"
grep -q '^dma-map  *fentry ' $O/feat.after ||
	fail "dma-map after the modules loaded: $(grep dma-map $O/feat.after)"
vfiostat --shared -d 1 > $O/stat.txt 2> $O/stat.err || fail "vfiostat --shared: $(cat $O/stat.err)"
expect_eq "vm-late's ioctls in a second reader of the pinned set" \
	"$(awk -v p=$pid '$1 == "ioctl" && $2 == p { n += $5 } END { print n }' $O/stat.txt)" "$want"

kill -INT $snoop
wait $snoop || fail "vfiosnoop: $(tail -n 3 $O/snoop.err)"
n=$(jq -r --argjson p $pid 'select(.pid == $p and .event == "ioctl") | .cmd' $O/snoop.json |
	grep -c VFIO_DEVICE_GET_INFO || true)
expect_eq "vm-late's GET_INFO events in vfiosnoop" "$n" \
	"$(awk '$1 == "ioctl" && $4 == "VFIO_DEVICE_GET_INFO" { n += $5 } END { print n }' $O/vm.txt)"
top_finish $top $O/top.json $O/top.err
top_finish $shared $O/shared.json $O/shared.err
kill -TERM $exp
wait $exp || fail "the exporter exited $?: $(tail -n 5 $O/exp.err)"
vfiostat --unpin > /dev/null || fail "vfiostat --unpin failed"
expect_eq "VFIO modules as the set-up left them" "$(vfio_mods | tr '\n' ' ')" \
	"$(tr '\n' ' ' < $O/mods.before)"
echo "the collectors attached when VFIO was loaded after them"
