# VM and device churn leaves nothing behind. vfio-policyd runs the
# collectors pinned and vfiotop reads the same set, both with a 3 s grace
# period. N times: an mdacc mdev instance is created, a short-lived
# "vm-churn-<i>" exerciser runs DMA jobs on it and exits, the instance is
# removed; a vdpa_sim block device is added and deleted. Then, exactly:
# every hash map of the pinned set holds as many entries as before the
# churn; every churn VM was shown exited in some vfiotop frame, and the
# removed instances gone, and none is in the last frame; the readers collected N VMs
# between them; the daemon and vfiotop logged no error, the kernel no
# complaint; and every counter the /metrics endpoint kept across the churn
# only grew. The policy's rule for the churn VMs (a cgroup selector: each VM
# runs in its own cgroup below it, as libvirt's scopes below machine.slice,
# and is covered from its first call however briefly it lives) counted
# them, and no exited VM keeps an entry in its per-VM maps: pol_stats' per
# process entries were folded into the rule's retired entry, pol_bucket's
# per-VM (per cgroup) entries went once their cgroups had. Last,
# vfiosnoop on the same set streams one more VM's exit.
. "$VFIOSCOPE_REPO/tests/vm/lib.sh"
. "$VFIOSCOPE_REPO/tests/vm/policy-lib.sh"
O=$VFIOSCOPE_OUT
ROOT=/sys/fs/bpf/vfioscope/collectors
N=20
GRACE=3
T=$MDACC_PARENT/mdev_supported_types
uuid() { printf '6d646163-0000-4000-8064-%012x' "$1"; }
[ -d "$T/mdacc-1q" ] || fail "no mdacc-1q type under $T"
ip link set lo up

cat > $O/p.yaml << EOT
mode: monitor
discovery_interval_ms: 200
rules:
  - name: nobody
    match:
      - name: "no-such-vm"
    rate:
      all: {rate: 100000, burst: 100000}
  - name: churn
    match:
      - cgroup: /churn.slice
    rate:
      all: {rate: 100000, burst: 100000}
EOT
PROOT=/sys/fs/bpf/vfioscope/policy
CG=/sys/fs/cgroup/churn.slice
mkdir -p $CG
PD_FLAGS="--metrics-port 0 --gc-grace $GRACE"
pd_start $O/p.yaml $O/pd.err
port=$(sed -n 's/.*metrics on 127\.0\.0\.1:\([0-9]*\)$/\1/p' $O/pd.err | tail -n 1)
[ -n "$port" ] || fail "the daemon logged no metrics port: $(cat $O/pd.err)"
[ -e $ROOT/map-vm_info ] || fail "the daemon pinned no collectors under $ROOT"

vfiotop -b -j -d 1 --shared --gc-grace $GRACE > $O/top.json 2> $O/top.err &
top=$!
wait_for_line $O/top.err attached 90 $top

scrape() { curl -sf http://127.0.0.1:$port/metrics > $O/scrape-$1.txt || fail "scrape $1 failed"; }
# "map entries" of every hash map of the pinned set
counts() {
	local f t
	for f in $ROOT/map-*; do
		t=$(bpftool map show pinned $f -j | jq -r .type)
		case $t in *hash*) ;; *) continue ;; esac
		echo "${f##*/map-} $(bpftool map dump pinned $f -j | jq length)"
	done
}
counts > $O/base.txt
cat $O/base.txt
scrape 0

vdpa=yes
vdpa mgmtdev show vdpasim_blk > /dev/null 2>&1 || vdpa=no
[ $vdpa = yes ] || note "no vdpasim_blk management device on this kernel: vDPA churn left out"
for i in $(seq 1 $N); do
	u=$(uuid $i)
	echo $u > $T/mdacc-1q/create || fail "create $u"
	mkdir $CG/vm-$i
	(echo $BASHPID > $CG/vm-$i/cgroup.procs &&
		exec vfio-exercise --name vm-churn-$i mdacc-jobs $u -n 4 -s $i) > $O/ex-$i.txt 2>&1 ||
		fail "vm-churn-$i failed: $(tail -3 $O/ex-$i.txt)"
	rmdir $CG/vm-$i || fail "the cgroup of vm-churn-$i stayed busy"
	echo 1 > /sys/bus/mdev/devices/$u/remove || fail "remove $u"
	if [ $vdpa = yes ]; then
		vdpa dev add name churn$i mgmtdev vdpasim_blk || fail "vdpa dev add churn$i"
		vdpa dev del churn$i || fail "vdpa dev del churn$i"
	fi
	[ $i = $((N / 2)) ] && scrape 1
done

# collected a grace period after the last exit: vm_info back to its baseline
want=$(awk '$1 == "vm_info" { print $2 }' $O/base.txt)
for i in $(seq 1 300); do
	[ "$(bpftool map dump pinned $ROOT/map-vm_info -j | jq length)" = "$want" ] && break
	sleep 0.1
done
# two more frames, then the last one (lib.sh)
top_finish $top $O/top.json $O/top.err
scrape 2
counts > $O/end.txt
diff -u $O/base.txt $O/end.txt || fail "map entries did not return to their baseline"
note "every map back to its baseline: $(tr '\n' ' ' < $O/end.txt)"

# pol_tgids MAP BYTE: the tgids (u32 at BYTE of the key) of MAP's entries
pol_tgids() {
	bpftool map dump pinned $PROOT/$1 -j |
		jq -r --argjson o $2 '.[].key[$o:$o + 4] | map(ltrimstr("0x")) | reverse | join("")' |
		while read -r h; do echo $((16#$h)); done
}
for t in $(pol_tgids pol_stats 4); do
	[ "$t" = 0 ] || [ -d /proc/$t ] || fail "pol_stats keeps an entry of exited process $t"
done
# the buckets of the churn VMs' cgroups, gone a grace period after them
for i in $(seq 1 100); do
	[ "$(bpftool map dump pinned $PROOT/pol_bucket -j | jq length)" = 0 ] && break
	sleep 0.1
done
expect_eq "pol_bucket entries of the gone churn VMs" \
	"$(bpftool map dump pinned $PROOT/pol_bucket -j | jq length)" 0
expect_eq "retired entries in pol_stats" "$(pol_tgids pol_stats 4 | grep -c '^0$')" \
	"$(awk '$1 ~ /^vfioscope_policy_decisions_total\{rule="churn",/ && $2 > 0' $O/scrape-2.txt |
	   sed 's/.*class="\([^"]*\)".*/\1/' | sort -u | wc -l)"
retired=$(awk '$1 == "vfioscope_policy_retired_total" { print $2 }' $O/scrape-2.txt)
[ "${retired:-0}" -ge 1 ] || fail "the daemon retired no per-VM entry of the $N exited churn VMs"
note "policy: $retired per-VM entries of exited VMs retired into rule churn's sums"

jq -e . $O/top.json > /dev/null || fail "a frame is not valid JSON"
tail -n 1 $O/top.json > $O/last.json
expect_eq "churn VMs in the last frame" \
	"$(jq '[.vms[] | select(.name | startswith("vm-churn-"))] | length' $O/last.json)" 0
expect_eq "churn devices in the last frame" \
	"$(jq '[.devices[] | select(.device | test("^6d646163-0000-4000-8064-|^churn[0-9]"))] | length' $O/last.json)" 0
expect_eq "churn VMs shown exited" \
	"$(jq -r '.vms[] | select((.name | startswith("vm-churn-")) and .state == "exited") | .name' $O/top.json | sort -u | wc -l)" $N
# a removed instance's row shows "gone" until collected, unless the next
# instance (or the vDPA device made right after) took its kernel address
# first, or no 1 s frame fell in between: some, not every one, is seen gone
gone=$(jq -r '.devices[] | select((.device | startswith("6d646163-0000-4000-8064-")) and .state == "gone") | .device' $O/top.json | sort -u)
note "mdev instances shown gone: $(echo "$gone" | grep -c .) of $N"
[ -n "$gone" ] || fail "no removed mdev instance was ever shown gone"
top_vms=$(jq .gc.vms $O/last.json)
pd_vms=$(awk '$1 == "vfioscope_collector_gc_total{what=\"vms\"}" { print $2 }' $O/scrape-2.txt)
note "VMs collected: vfiotop $top_vms, vfio-policyd $pd_vms"
expect_eq "VMs collected by the two readers" $((top_vms + pd_vms)) $N
expect_eq "GC delete errors (vfiotop)" "$(jq .gc.errors $O/last.json)" 0

# every counter present in two successive scrapes only grew
for k in 1 2; do
	awk '!/^#/ && $1 ~ /_total(\{|$)/ { print $1, $2 }' $O/scrape-$((k - 1)).txt | sort > $O/a.txt
	awk '!/^#/ && $1 ~ /_total(\{|$)/ { print $1, $2 }' $O/scrape-$k.txt | sort > $O/b.txt
	back=$(join $O/a.txt $O/b.txt | awk '$3 < $2')
	[ -z "$back" ] || fail "counters went backwards between scrapes $((k - 1)) and $k: $back"
	note "scrapes $((k - 1))..$k: $(join $O/a.txt $O/b.txt | wc -l) counters, none went backwards"
done

# its notes: attached, and that the daemon holds the shared set's stream
quiet='^vfiotop: (attached|the pinned collectors. event stream is read by pid [0-9]+: counters only)'
grep -Ev "$quiet" $O/top.err && fail "vfiotop logged: $(grep -Ev "$quiet" $O/top.err)"
grep -Ei 'error|fail|cannot' $O/pd.err && fail "the daemon logged an error"
c=$(kernel_complaints)
[ -z "$c" ] || fail "kernel complaints: $c"
kill $pd
wait $pd || true

# the stream names a VM's exit: vfiosnoop on the pinned set, once the
# daemon and vfiotop let go of it
vfiosnoop --shared -c vm -j > $O/snoop.json 2> $O/snoop.err &
snoop=$!
wait_for_line $O/snoop.err attached 60 $snoop
u=$(uuid 99)
echo $u > $T/mdacc-1q/create || fail "create $u"
vfio-exercise --name vm-last mdacc-jobs $u -n 1 > $O/last.txt 2>&1 || fail "vm-last failed"
echo 1 > /sys/bus/mdev/devices/$u/remove || fail "remove $u"
for i in $(seq 1 100); do
	grep -q vm_exit $O/snoop.json && break
	sleep 0.1
done
kill -INT $snoop
wait $snoop || fail "vfiosnoop failed: $(cat $O/snoop.err)"
cat $O/snoop.json
last=$(awk '$1 == "pid" { print $2 }' $O/last.txt)
expect_eq "vm_exit events of vm-last ($last)" \
	"$(jq -c --argjson p "$last" 'select(.event == "vm_exit" and .pid == $p) | .exit_status' $O/snoop.json)" 0
echo "$N VM and device life cycles left no entry and no row behind"
