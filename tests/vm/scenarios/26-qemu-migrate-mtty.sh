# Migration data from a driver that is not ours and fires none of our
# tracepoints: mtty, the kernel's own sample mdev driver (samples/vfio-mdev,
# built unchanged from Debian's linux-source; migratable since 6.7). QEMU 10,
# nested (TCG), live-migrates a VM owning an mtty instance to an incoming
# QEMU owning another, over QMP (tests/vm/qmpmig.py), while vfiosnoop and
# vfiomig run on the stock kernel's hooks: they learn mtty's data fd
# f_ops when QEMU's state change returns the fd, and attach fexit to
# mtty_save_read, mtty_precopy_ioctl, mtty_resume_write and
# mtty_release_migf by name through mtty's BTF.
#
# Checked as for edu (43) and mdacc (47) by miglib.sh's qemu_mig_check:
# ONE migration naming both VMs, downtime and its parts, bytes read ==
# written == QEMU's vfio "transferred" (exact, including what the fds
# moved before the programs were attached: recovered from the fds' f_pos),
# every arc just before QEMU's VFIO_MIGRATION event, the replay equal.
# And the pre-copy convergence QEMU polled: GET_PRECOPY_INFO answers, the
# initial bytes left at each as QEMU read them, no dirty bytes (mtty has
# none).
#
# mtty offers device dirty tracking that tracks nothing (log_ops that
# return 0), and its DMA logging report fails in QEMU 10 ("Failed to get
# DMA logging report ... Operation not supported", and the migration with
# it): the VMs run with x-device-dirty-page-tracking=off, as for a device
# without it (migration then needs enable-migration=on, as for edu).
. "$VFIOSCOPE_REPO/tests/vm/lib.sh"
. "$VFIOSCOPE_REPO/tests/vm/miglib.sh"
O=$VFIOSCOPE_OUT
command -v qemu-system-x86_64 > /dev/null || fail "no qemu-system-x86_64 in the guest (the host's)"
modprobe mtty 2> $O/modprobe.err ||
	unsupported "no migratable mtty for this kernel (samples/vfio-mdev before 6.7): $(cat $O/modprobe.err)"
T=/sys/class/mtty/mtty/mdev_supported_types/mtty-1
[ -e $T/create ] || fail "mtty loaded but offers no mtty-1 type"
US=6d747479-0000-4000-8000-000000002601
UD=6d747479-0000-4000-8000-000000002602
echo $US > $T/create && echo $UD > $T/create || fail "cannot create the mtty instances"

mig_watch migration

# A collector attaches to a driver's f_ops when it first sees one of its
# data fds, 1-5 s later in this TCG guest, while a whole same-host
# migration of mtty by QEMU takes 0.4 s: its bytes would still be exact
# (from the fds' offsets), but its operations, polls and pre-copy answers
# would not be seen. So a first migration by vfio-exercise shows both
# collectors mtty's saving and resuming f_ops (and is checked for exact
# bytes moved before the attach); the one checked in full is QEMU's.
links() { grep -l '^link_type' /proc/$1/fdinfo/* 2>/dev/null | wc -l; }
ls0=$(links $snoop) lm0=$(links $m)
vfio-exercise migrate $US $UD > $O/warmup.txt 2>&1 || fail "warm-up migration: $(tail -n 3 $O/warmup.txt)"
# saving: read, ioctl, release; resuming: write, release
for i in $(seq 300); do
	[ $(links $snoop) -ge $((ls0 + 5)) ] && [ $(links $m) -ge $((lm0 + 5)) ] && break
	sleep 0.1
done
[ $(links $snoop) -ge $((ls0 + 5)) ] && [ $(links $m) -ge $((lm0 + 5)) ] ||
	fail "the collectors did not attach to mtty's data fd functions in 30 s:" \
		"$(grep vfioscope: $O/snoop.err $O/live.err)"
note "both collectors attached to mtty's five data fd functions after ${i}00 ms"
wait_for_line $O/live.mig.json '"status"' 20 $m
t_warm=$(awk '{ print int($1 * 1e9) }' /proc/uptime)
# The warm-up went by in milliseconds, before either collector had attached
# (it is what taught them): its bytes come from the fds' f_pos, swept
# before each side's closing arc was reported (the exerciser, like QEMU's
# source, closes a data fd after its STOP arc). Exact all the same.
W=$(head -n 1 $O/live.mig.json)
expect_eq "warm-up: bytes read (exerciser: $(grep mig_bytes $O/warmup.txt | tr '\n' ' '))" \
	"$(jq .devices[0].bytes_read <<< "$W")" \
	"$(awk '$1 == "mig_bytes" && $2 == "src" { t += $4 } END { print t + 0 }' $O/warmup.txt)"
expect_eq "warm-up: bytes written" "$(jq .devices[0].bytes_written <<< "$W")" \
	"$(awk '$1 == "mig_bytes" && $2 == "dst" { t += $4 } END { print t + 0 }' $O/warmup.txt)"
expect_eq "warm-up: all of them moved before the attach" "$(jq .devices[0].bytes_unseen <<< "$W")" \
	"$(jq '.devices[0].bytes_read + .devices[0].bytes_written' <<< "$W")"

# the warm-up's line is there already: wait for QEMU's
qemu_mig_run vm26 "sysfsdev=/sys/bus/mdev/devices/$US,id=tty0,x-device-dirty-page-tracking=off" \
	"sysfsdev=/sys/bus/mdev/devices/$UD,id=tty0,x-device-dirty-page-tracking=off" '"vm":"vm26src"'

# the data came through the learned f_ops (fentry tier), none from a tracepoint
expect_eq "data events not from learned f_ops" \
	"$(jq -s '[.[] | select(.event == "mig_data" and .tier != 2)] | length' $O/rec.json)" 0
# QEMU's migration alone, apart from the warm-up: vfiomig's line naming
# vm26src, the recording from the QEMUs' start
expect_eq "vfiomig's migrations (warm-up, QEMU's)" "$(wc -l < $O/live.mig.json)" 2
mkdir -p $O/q
jq -c 'select(.vm == "vm26src")' $O/live.mig.json > $O/q/live.mig.json
jq -c --argjson t "$t_warm" 'select(.ts_ns == null or .ts_ns > $t)' $O/rec.json > $O/q/rec.json
cp $O/qmp.json $O/q/
qemu_mig_check $O/q vm26src vm26dst $src $dst $US $UD
note "bytes moved before the programs were attached (from f_pos): $(jq '.devices[0].bytes_unseen' $O/q/live.mig.json)"

# QEMU's pre-copy polling: each answer recorded, and what it says is left
P=$(jq -c '.devices[0].precopy' $O/q/live.mig.json)
note "pre-copy: $P"
[ "$P" != null ] || fail "no GET_PRECOPY_INFO answer seen (QEMU asks in every pre-copy round)"
expect_eq "GET_PRECOPY_INFO answers (vfiomig, vfiosnoop)" "$(jq .queries <<< "$P")" \
	"$(jq -s --arg d "$US" '[.[] | select(.event == "mig_precopy" and .device == $d and .ret == 0)] | length' $O/q/rec.json)"
# mtty answers what of its saved state is still unread. QEMU asks at
# set-up and again only when it weighs convergence (a fast round may
# switch over after one answer, the rest read in STOP_COPY): whatever it
# did, the last answer is the first less what QEMU read in between
left=$(jq -s --arg d "$US" '[.[] | select(.device == $d)] as $e |
	[$e[] | select(.event == "mig_precopy" and .ret == 0)] as $a |
	$a[0].initial_bytes - ([$e[] | select(.event == "mig_data" and .dir == "read" and
		.ret > 0 and .ts_ns > $a[0].ts_ns and .ts_ns < $a[-1].ts_ns) | .ret] | add // 0)' \
	$O/q/rec.json)
expect_eq "initial bytes left at the last answer (the first's, less what was read since)" \
	"$(jq .initial_bytes_last <<< "$P")" "$left"
expect_eq "dirty bytes (mtty reports none)" "$(jq .dirty_bytes_max <<< "$P")" 0
[ "$(jq .initial_bytes_first <<< "$P")" -gt 0 ] || fail "the first answer offered no initial bytes"
echo 1 > /sys/bus/mdev/devices/$US/remove
echo 1 > /sys/bus/mdev/devices/$UD/remove
echo "QEMU's migration of mtty (kernel-tree driver): bytes and pre-copy from its learned f_ops"
