# Privilege: with the collectors pinned by root, `vfiotop -b -n 2` run by
# a user without root
#  (a) under the default bpffs modes fails with exit status 3 and one
#      sentence naming what is missing (the directory it may not search,
#      the pin it may not read, or, before Linux 5.19 with
#      kernel.unprivileged_bpf_disabled set, the sysctl that closes bpf());
#  (b) after the operator grants read access the documented way
#      (docs/permissions.md: chgrp + g+r, never w), shows the same rows as
#      root where the kernel allows unprivileged BPF_OBJ_GET (5.19+, so both
#      6.1 and 6.12 whatever the sysctl; before that, while the sysctl is
#      set, it names the sysctl again);
#  (c) can change nothing: no control socket, no write to a pinned policy
#      or collector map, no `vfio-policyd --unload`, no `vfiostat --unpin`.
. "$VFIOSCOPE_REPO/tests/vm/lib.sh"
. "$VFIOSCOPE_REPO/tests/vm/policy-lib.sh"
O=$VFIOSCOPE_OUT
ROOT=/sys/fs/bpf/vfioscope/collectors
POL=/sys/fs/bpf/vfioscope/policy
GID=4242	# the readers' group (numeric: the guest's /etc is read-only)
NB="setpriv --reuid=65534 --regid=65534 --groups=$GID"

sysctl_v=$(cat /proc/sys/kernel/unprivileged_bpf_disabled)
IFS=. read -r kmaj kmin _ <<< "$(uname -r)"
# before 5.19 __sys_bpf refuses every command to users without CAP_BPF
# while the sysctl is set; from 5.19 (c8644cd0efe7) only map creation and
# program loading (6.5 moved those checks into map_create/bpf_prog_load)
old_rules=0
[ "$kmaj" -lt 5 ] || { [ "$kmaj" = 5 ] && [ "$kmin" -lt 19 ]; } && old_rules=1
note "kernel $(uname -r), kernel.unprivileged_bpf_disabled = $sysctl_v"
SYSCTL_SENTENCE="vfiotop: not root, and cannot open $ROOT/meta: this kernel refuses every bpf() call of a user without CAP_BPF while kernel.unprivileged_bpf_disabled is $sysctl_v (before Linux 5.19 it guards all commands, not only loading): reading the pinned collectors needs root (or CAP_BPF) here"

bpffs_mode=$(stat -c %a /sys/fs/bpf)
vfiostat --unpin 2> /dev/null || true
vfiostat --pin -d 1 > $O/pin.txt 2> $O/pin.err || fail "vfiostat --pin: $(cat $O/pin.err)"
[ -e $ROOT/meta ] || fail "nothing pinned under $ROOT"
vfio-exercise --name vm-p ioctls "$EDU_BDF" --cmd get-info -n 300 > $O/vm.txt ||
	fail "vfio-exercise ioctls failed"
pid=$(val $O/vm.txt pid)

# nobody_top OUT: vfiotop as nobody, two JSON frames; sets rc
nobody_top() {
	rc=0
	timeout 60 $NB vfiotop -b -j -n 2 -d 0.3 > $O/$1.json 2> $O/$1.err || rc=$?
}

# (a) the default modes
ls -ld /sys/fs/bpf /sys/fs/bpf/vfioscope $ROOT $ROOT/meta > $O/modes-default.txt
note "default modes: $(awk '{ print $1, $NF }' $O/modes-default.txt | tr '\n' ' ')"
nobody_top default
expect_eq "default modes: exit status" $rc 3
expect_eq "default modes: lines on stderr" "$(wc -l < $O/default.err)" 1
[ ! -s $O/default.json ] || fail "default modes: frames printed: $(head -c 300 $O/default.json)"
if [ $old_rules = 1 ] && [ "$sysctl_v" -gt 0 ]; then
	want=$SYSCTL_SENTENCE
else
	# the first directory on the way that nobody may not search (ground
	# truth from test(1) run as nobody, not from vfiotop's own walk)
	want=""
	for d in /sys/fs/bpf /sys/fs/bpf/vfioscope $ROOT; do
		if ! $NB test -x $d; then
			want="vfiotop: not root, and cannot open $ROOT/meta: uid 65534 may not search the directory $d (it needs execute permission on every directory up to the pins: see the permission recipe in docs/permissions.md)"
			break
		fi
	done
	[ -n "$want" ] || want="vfiotop: not root, and cannot open $ROOT/meta: uid 65534 has no read permission on it (an operator grants it with chgrp and chmod g+r: see docs/permissions.md)"
fi
expect_eq "default modes: the sentence" "$(cat $O/default.err)" "$want"

# (b) the documented grant: search on the way, read on the set, never write
chmod o+x /sys/fs/bpf
chgrp $GID /sys/fs/bpf/vfioscope $ROOT $ROOT/meta $ROOT/map-*
chmod 0750 /sys/fs/bpf/vfioscope $ROOT
chmod 0640 $ROOT/meta $ROOT/map-*
vfiotop --shared -b -j -n 2 -d 0.3 > $O/root.json 2> $O/root.err || fail "vfiotop as root: $(cat $O/root.err)"
nobody_top granted
rows() {	# the VM and device rows of the last frame, without times and rates
	tail -n 1 "$1" | jq -c '[.vms[], .devices[]] | map(with_entries(select(.key |
		test("rate|_ns$|^ts|time|seen") | not)))'
}
if [ $old_rules = 1 ] && [ "$sysctl_v" -gt 0 ]; then
	expect_eq "granted, old kernel: exit status" $rc 3
	expect_eq "granted, old kernel: the sentence" "$(cat $O/granted.err)" "$SYSCTL_SENTENCE"
else
	expect_eq "granted: exit status" $rc 0
	expect_eq "granted: stderr" "$(cat $O/granted.err)" \
		"vfiotop: not root: reading the pinned counters read-only (the migrations and events views stay empty)
vfiotop: attached"
	expect_eq "granted: vm-p's ioctls" \
		"$(tail -n 1 $O/granted.json | jq --argjson p $pid '.vms[] | select(.pid == $p) | .ioctls')" \
		"$(awk '$1 == "ioctl" { n += $5 } END { print n }' $O/vm.txt)"
	rows $O/root.json > $O/root.rows
	rows $O/granted.json > $O/granted.rows
	[ "$(jq length $O/root.rows)" -gt 0 ] || fail "root's vfiotop shows no rows"
	cmp -s $O/root.rows $O/granted.rows ||
		fail "nobody's rows differ from root's: $(diff <(jq . $O/root.rows) <(jq . $O/granted.rows) | head -20)"
	note "nobody sees root's $(jq length $O/root.rows) VM and device rows"
fi

# (c) nobody changes nothing
cat > $O/p.yaml <<EOT
rules:
  - name: guard
    match:
      - name: "vm-g*"
    rate:
      dma_map: {rate: 10, burst: 2}
EOT
pd_start $O/p.yaml
ls -l $POL $ROOT > $O/pins-before.txt
if $NB vfio-policyd --socket $PD_SOCK --ctl status > $O/ctl.txt 2>&1; then
	fail "nobody used the control socket: $(cat $O/ctl.txt)"
fi
note "nobody, control socket: $(head -n 1 $O/ctl.txt)"
ctl_before=$(bpftool map dump pinned $ROOT/map-control -j | jq -c .)
conf_before=$(bpftool map dump pinned $POL/pol_conf -j | jq -c .)
# map-control is readable by the group now: writable it is not
if $NB bpftool map update pinned $ROOT/map-control key 0 0 0 0 value hex $(printf '00 %.0s' $(seq 1 \
	$(bpftool map show pinned $ROOT/map-control -j | jq .bytes_value))) > $O/w1.txt 2>&1; then
	fail "nobody wrote the pinned collector map control"
fi
note "nobody writing map-control: $(head -n 1 $O/w1.txt)"
if $NB bpftool map update pinned $POL/pol_conf key 0 0 0 0 value 1 0 0 0 9 0 0 0 > $O/w2.txt 2>&1; then
	fail "nobody wrote the pinned policy map pol_conf"
fi
note "nobody writing pol_conf: $(head -n 1 $O/w2.txt)"
expect_eq "map-control after the attempt" "$(bpftool map dump pinned $ROOT/map-control -j | jq -c .)" "$ctl_before"
expect_eq "pol_conf after the attempt" "$(bpftool map dump pinned $POL/pol_conf -j | jq -c .)" "$conf_before"
if $NB vfio-policyd --unload > $O/unload.txt 2>&1; then
	fail "nobody ran vfio-policyd --unload: $(cat $O/unload.txt)"
fi
note "nobody, --unload: $(head -n 1 $O/unload.txt)"
if $NB vfiostat --unpin > $O/unpin.txt 2>&1; then
	fail "nobody ran vfiostat --unpin: $(cat $O/unpin.txt)"
fi
note "nobody, --unpin: $(head -n 1 $O/unpin.txt)"
ls -l $POL $ROOT > $O/pins-after.txt
diff -u $O/pins-before.txt $O/pins-after.txt || fail "nobody changed the pins"
pd_has status '^generation 1$' || fail "the policy changed: $(pd_ctl status)"

kill -TERM $pd
wait $pd || fail "daemon exit: $(tail -5 $O/pd.err)"
vfio-policyd --unload || fail "root's --unload failed"
vfiostat --unpin 2> /dev/null || true
[ ! -e $ROOT ] && [ ! -e $POL ] || fail "pins left after root's --unload: $(ls -R /sys/fs/bpf/vfioscope)"
chmod $bpffs_mode /sys/fs/bpf
if [ -d /sys/fs/bpf/vfioscope ]; then
	chgrp 0 /sys/fs/bpf/vfioscope
	chmod 0755 /sys/fs/bpf/vfioscope
fi
[ -z "$(kernel_complaints)" ] || fail "kernel: $(kernel_complaints)"
echo "privilege: read where granted, said what is missing, nothing changed"
