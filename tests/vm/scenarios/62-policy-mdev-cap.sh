# vfio-policyd's mdev instance caps, enforced at the sysfs create attribute
# by BPF LSM (EDQUOT): at most 2 instances of type mdacc-1q on mdacc0 (one
# already exists when the daemon starts: counted from sysfs), and at most
# 1 instance created by the processes of cgroup /tenant. The create over
# a cap fails; other types and other creators still work; removing an
# instance makes room again.
. "$VFIOSCOPE_REPO/tests/vm/lib.sh"
. "$VFIOSCOPE_REPO/tests/vm/policy-lib.sh"
O=$VFIOSCOPE_OUT
T=$MDACC_PARENT/mdev_supported_types
PARENT=$(basename $(readlink -f $MDACC_PARENT))
u() { echo 6d646163-0000-4000-8000-00000000006$1; }

grep -qw bpf /sys/kernel/security/lsm || unsupported "BPF LSM is not active: $(cat /sys/kernel/security/lsm)"
mkdir /sys/fs/cgroup/tenant
echo $(u 0) > $T/mdacc-1q/create || fail "create before the daemon"
cat > $O/p.yaml <<EOT
rules:
  - name: tenant
    match:
      - cgroup: /tenant
    max_mdev: 1
mdev:
  - parent: $PARENT
    type: mdacc-1q
    max_instances: 2
EOT
pd_start $O/p.yaml
pd_has status '^link mdev pinned$' || fail "mdev programs not linked: $(pd_ctl status)"

create() {	# TYPE UUID: 0 if created, else the error on stdout
	echo $2 2>&1 > $T/$1/create | sed 's/.*: //'
}
expect_eq "2nd mdacc-1q" "$(create mdacc-1q $(u 1))" ""
expect_eq "3rd mdacc-1q (over 2)" "$(create mdacc-1q $(u 2))" "Disk quota exceeded"
[ ! -e /sys/bus/mdev/devices/$(u 2) ] || fail "$(u 2) exists"
expect_eq "mdacc-4q is not capped" "$(create mdacc-4q $(u 3))" ""
echo 1 > /sys/bus/mdev/devices/$(u 0)/remove
expect_eq "3rd mdacc-1q after a remove" "$(create mdacc-1q $(u 2))" ""
expect_eq "the cap holds again" "$(create mdacc-1q $(u 4))" "Disk quota exceeded"

# the tenant's own cap: one instance, whatever the type
tenant() {	# TYPE UUID
	bash -c 'echo $$ > /sys/fs/cgroup/tenant/cgroup.procs; echo '$2' 2>&1 > '$T/$1'/create | sed "s/.*: //"'
}
expect_eq "tenant's 1st" "$(tenant mdacc-4q $(u 5))" ""
expect_eq "tenant's 2nd (over 1)" "$(tenant mdacc-4q $(u 6))" "Disk quota exceeded"
expect_eq "others still create" "$(create mdacc-4q $(u 6))" ""
expect_eq "daemon: refusals counted" \
	"$(pd_ctl vms | awk '$1 == "stat" { d += $13 } END { print d }')" 3
grep -q 'denied: .* -> EDQUOT' $O/pd.err || fail "no denial logged: $(tail $O/pd.err)"
for i in 1 2 3 5 6; do echo 1 > /sys/bus/mdev/devices/$(u $i)/remove; done
kill -TERM $pd
wait $pd || fail "daemon exit: $(tail -5 $O/pd.err)"
[ -z "$(kernel_complaints)" ] || fail "kernel: $(kernel_complaints)"
