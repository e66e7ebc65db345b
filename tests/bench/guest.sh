# SPDX-License-Identifier: GPL-2.0
# make bench, guest half (runs in the bench guest through runvm.sh, in
# boots that alternate between the stock modules and the patched ones,
# each boot taking its share of the rounds): every measurement in rounds,
# the traced modes interleaved within each round, their order rotating
# from round to round (none, floor, vfioscope, bpftrace; then floor,
# vfioscope, bpftrace, none; ...) so slow drift of a shared TCG host, and
# whatever one mode leaves behind for the next, hits all modes alike.
# "floor" is tests/bench/trace-floor: empty fentry/fexit programs on the
# ioctl entry points vfioscope and the bpftrace peer hook, the trampolines'
# own cost. Raw figures, one per line, go to
# $VFIOSCOPE_BENCH_OUT/raw-FLAVOUR-BOOT.txt as "ROW MODE ROUND VALUE";
# bench.sh makes the table. The last line written, on any exit, is the
# completion record $VFIOSCOPE_BENCH_OUT/complete-FLAVOUR-BOOT.txt,
# "complete FLAVOUR BOOT STATUS": bench.sh takes no boot's figures without
# one whose status is 0. On the patched modules only the ioctl loops run, as
# modes "patched-none", "patched-vfioscope" (the default there: device fds
# at the series' tracepoints, the tracepoint tier) and
# "patched-vfioscope-fentry" (--tier vfio-ioctl=fentry): untraced patched
# vs stock is the cost of the disabled tracepoints, and the GET_INFO loop
# (a device fd) compares the two tiers on the same event in the same
# rounds. Every traced run is also checked: the tracer must have seen
# exactly the ioctls the exerciser reports, or the figure means nothing.
. "$VFIOSCOPE_REPO/tests/vm/lib.sh"
B=${VFIOSCOPE_BENCH_OUT:?VFIOSCOPE_BENCH_OUT names the output directory}
# this boot's rounds: FIRST..LAST of the run's (bench.sh splits them
# between the boots); EXTRAS=1 on the one stock boot that also measures
# the LSM fast path, the fleet and the ring buffer
FIRST=${VFIOSCOPE_BENCH_FIRST:-1}
LAST=${VFIOSCOPE_BENCH_LAST:-${VFIOSCOPE_BENCH_ROUNDS:-5}}
ROUNDS=${VFIOSCOPE_BENCH_ROUNDS:-5}
BOOT=${VFIOSCOPE_BENCH_BOOT:-1}
EXTRAS=${VFIOSCOPE_BENCH_EXTRAS:-1}
N_CHECK=${VFIOSCOPE_BENCH_N_CHECK:-50000}
N_MAP=${VFIOSCOPE_BENCH_N_MAP:-3000}
N_INFO=${VFIOSCOPE_BENCH_N_INFO:-50000}
N_KICK=${VFIOSCOPE_BENCH_N_KICK:-1000}
N_FLOOD=${VFIOSCOPE_BENCH_N_FLOOD:-20000}
RINGS=${VFIOSCOPE_BENCH_RINGS:-4096,65536,1048576}
# the overload runs are the slow part under TCG (JSON for every event)
RING_ROUNDS=${VFIOSCOPE_BENCH_RING_ROUNDS:-3}
T=/tmp/bench
mkdir -p "$B" "$T"
FLAVOUR=${VFIOSCOPE_FLAVOUR:-stock}
raw=$B/raw-$FLAVOUR-$BOOT.txt
: > "$raw"
done_rec=$B/complete-$FLAVOUR-$BOOT.txt
rm -f "$done_rec"
trap 'echo "complete $FLAVOUR $BOOT $?" > "$done_rec"' EXIT
rec() { echo "$*" >> "$raw"; }
say() { echo "bench: $*"; }
now() { date +%s%N; }
MP=		# mode prefix of the flavour
MODES="none floor vfioscope bpftrace"
if [ "$FLAVOUR" = patched ]; then
	MP=patched-
	MODES="none vfioscope vfioscope-fentry"
fi

# rotated MODES R: the modes in round R's order, shifted by R - 1
rotated() {
	local -a m=($MODES)
	local i n=${#m[@]}
	for i in $(seq 0 $((n - 1))); do
		echo "${m[$(((i + $1 - 1) % n))]}"
	done
}

vfiostat --features > "$B/guest-features-$FLAVOUR.txt" 2>&1 || fail "vfiostat --features failed"
if [ "$FLAVOUR" = stock ] && [ "$EXTRAS" = 1 ]; then
	rec info kernel "$(uname -r)"
	rec info guest_cpus "$(nproc)"
	rec info guest_cpu "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1 | tr ' ' _)"
fi

# wait_ready FILE PATTERN PID: poll every 10 ms (attach times are measured
# with it); prints nothing, fails if PID dies first
wait_ready() {
	local i
	for i in $(seq 1 12000); do
		grep -q "$2" "$1" 2>/dev/null && return 0
		kill -0 "$3" 2>/dev/null || fail "tracer $3 exited before '$2': $(tail -n 5 "$1")"
		sleep 0.01
	done
	fail "timed out waiting for '$2' in $1"
}

TRACER=
# attach MODE ROUND: start MODE's tracer, record its attach time
attach() {
	local t0 t1
	t0=$(now)
	case $1 in
	none) TRACER=; return ;;
	vfioscope|vfioscope-fentry)
		if [ $1 = vfioscope ]; then
			vfiostat > $T/stat.txt 2> $T/stat.err &
		else
			vfiostat --tier vfio-ioctl=fentry > $T/stat.txt 2> $T/stat.err &
		fi
		TRACER=$!
		wait_ready $T/stat.err attached $TRACER ;;
	bpftrace)
		bpftrace "$VFIOSCOPE_REPO/tests/bench/vfio-ioctl-peer.bt" > $T/bt.txt 2>&1 &
		TRACER=$!
		wait_ready $T/bt.txt '^ready' $TRACER ;;
	floor)
		"$B/trace-floor" 2> $T/floor.err &
		TRACER=$!
		wait_ready $T/floor.err attached $TRACER ;;
	*) fail "unknown mode $1" ;;
	esac
	t1=$(now)
	rec attach_ms "$MP$1" "$2" $(((t1 - t0) / 1000000))
	# the collectors alone never attach an LSM program (that is the policy's)
	if [ "$1" = vfioscope ] && [ "$2" = "$FIRST" ] && [ "$EXTRAS" = 1 ] && [ -z "$MP" ]; then
		rec info lsm_progs_while_attached "$(bpftool prog show | grep -c '^[0-9]*: lsm ' || true)"
		rec info progs_while_attached "$(bpftool prog show | grep -c '^[0-9]*: ' || true)"
	fi
}

detach() {
	[ -n "$TRACER" ] || return 0
	kill -INT $TRACER
	wait $TRACER || fail "tracer exited with $?: $(tail -n 5 $T/stat.err $T/bt.txt $T/floor.err 2>/dev/null)"
	TRACER=
}

# check_seen MODE CLIENT_OUTPUT: the tracer saw exactly the client's ioctls
check_seen() {
	local pid want got
	[ "$1" != none ] && [ "$1" != floor ] || return 0
	pid=$(awk '$1 == "pid" { print $2 }' "$2")
	want=$(awk '$1 == "ioctl" { n += $5 } END { print n + 0 }' "$2")
	if [ "$1" != bpftrace ]; then
		# vfiostat's dump at exit
		got=$(awk -v p=$pid '$1 == "ioctl" && $2 == p { n += $5 } END { print n + 0 }' $T/stat.txt)
	else
		got=$(sed -n "s/^@calls\[$pid, [0-9]*\]: //p" $T/bt.txt | awk '{ n += $1 } END { print n + 0 }')
	fi
	[ "$got" = "$want" ] || fail "$1 saw $got of the $want ioctls of pid $pid"
}

# the vdpa_sim block disk: one kick per O_DIRECT 4 KiB read at depth 1
# (scenario 30 proves it); VDUSE's path adds a userspace daemon's noise
KICK_DISK=${SIMBLK_BLK:-}

# startup ROUND: load + attach of the ioctl class alone (vfiosnoop -c ioctl:
# what a tool tracing VFIO ioctls loads, on the bpftrace peer's hooks), from
# process start to "attached"; then where each vfioscope tool's start-up
# went, as its --features reports it (probing the kernel, libbpf's load with
# BTF, CO-RE and the verifier, attach), for the ioctl class and for every
# collector
startup() {
	local t0 t1 pid m args n probe load att ver insns
	t0=$(now)
	vfiosnoop -c ioctl > /dev/null 2> $T/snoop.err &
	pid=$!
	wait_ready $T/snoop.err attached $pid
	t1=$(now)
	kill -INT $pid
	wait $pid || fail "vfiosnoop -c ioctl exited with $?: $(tail -n 5 $T/snoop.err)"
	rec attach_ms vfioscope-ioctl "$1" $(((t1 - t0) / 1000000))
	for m in vfioscope-ioctl vfioscope; do
		args=
		[ $m = vfioscope ] || args="-c ioctl"
		# shellcheck disable=SC2086
		vfiosnoop $args --features > $T/features.txt 2>&1 ||
			fail "vfiosnoop $args --features failed: $(tail -n 5 $T/features.txt)"
		sed -n 's/^start-up  *loaded  *\([0-9]*\) programs in [0-9]* ms: probing the kernel \([0-9]*\) ms, load (BTF, CO-RE, verifier) \([0-9]*\) ms, attach \([0-9]*\) ms; of the load, the verifier \([0-9]*\) ms (\([0-9]*\) instructions processed)$/\1 \2 \3 \4 \5 \6/p' \
			$T/features.txt > $T/startup.txt
		[ -s $T/startup.txt ] || fail "no start-up line in vfiosnoop $args --features: $(cat $T/features.txt)"
		read -r n probe load att ver insns < $T/startup.txt
		rec startup_programs $m "$1" "$n"
		rec startup_probe_ms $m "$1" "$probe"
		rec startup_load_ms $m "$1" "$load"
		rec startup_verify_ms $m "$1" "$ver"
		rec startup_insns $m "$1" "$insns"
		rec startup_attach_ms $m "$1" "$att"
	done
}

say "$FLAVOUR modules, boot $BOOT, rounds $FIRST-$LAST of $ROUNDS, ioctl loops: check-extension x$N_CHECK, map+unmap x$N_MAP, get-info x$N_INFO; kicks x$N_KICK"
[ -n "$MP" ] || [ -n "$KICK_DISK" ] || rec info kick "no vdpa_sim disk"
for r in $(seq "$FIRST" "$LAST"); do
	for mode in $(rotated $r); do
		attach $mode $r
		vfio-exercise ioctls "$EDU_BDF" --cmd check-extension --time -n "$N_CHECK" > $T/check.txt ||
			fail "check-extension loop failed"
		vfio-exercise ioctls "$EDU_BDF" --cmd map-unmap --time -n "$N_MAP" > $T/map.txt ||
			fail "map-unmap loop failed"
		vfio-exercise ioctls "$EDU_BDF" --cmd get-info --time -n "$N_INFO" > $T/info.txt ||
			fail "get-info loop failed"
		if [ -n "$KICK_DISK" ] && { [ $mode = none ] || [ $mode = vfioscope ]; } && [ -z "$MP" ]; then
			t0=$(now)
			dd if="$KICK_DISK" of=/dev/null bs=4096 count="$N_KICK" iflag=direct status=none ||
				fail "reads from $KICK_DISK failed"
			t1=$(now)
			rec kick_ns $mode $r $(((t1 - t0) / N_KICK))
		fi
		detach
		check_seen $mode $T/check.txt
		check_seen $mode $T/map.txt
		check_seen $mode $T/info.txt
		rec check_ns $MP$mode $r "$(awk '$1 == "ns_per_op" { print $2 }' $T/check.txt)"
		rec map_ns $MP$mode $r "$(awk '$1 == "ns_per_op" { print $2 }' $T/map.txt)"
		rec info_ns $MP$mode $r "$(awk '$1 == "ns_per_op" { print $2 }' $T/info.txt)"
		say "round $r/$ROUNDS $MP$mode: check-extension $(awk '$1 == "ns_per_op" { print $2 }' $T/check.txt) ns, map+unmap $(awk '$1 == "ns_per_op" { print $2 }' $T/map.txt) ns, get-info $(awk '$1 == "ns_per_op" { print $2 }' $T/info.txt) ns"
	done
	if [ -z "$MP" ]; then
		startup $r
		say "round $r/$ROUNDS start-up: vfiosnoop -c ioctl attached in $(awk -v r=$r '$1 == "attach_ms" && $2 == "vfioscope-ioctl" && $3 == r { print $4 }' "$raw") ms"
	fi
done

if [ "$FLAVOUR" = patched ] || [ "$EXTRAS" != 1 ]; then
	say done
	exit 0
fi

# LSM fast path: vfio-policyd's BPF LSM programs vs none (tests/bench/lsm.sh)
if grep -qw bpf /sys/kernel/security/lsm; then
	LSM_LOOP=$B/syscall-loop
	LSM_FLOOR=$B/lsm-floor
	. "$VFIOSCOPE_REPO/tests/bench/lsm.sh"
	lsm_bench "$ROUNDS" guest
else
	rec info lsm_guest "BPF LSM not active: $(cat /sys/kernel/security/lsm)"
fi

# vfio-policyd and vfiotop at 64 VMs / 256 devices (tests/bench/fleet.sh)
. "$VFIOSCOPE_REPO/tests/bench/fleet.sh"
fleet_bench

# ring buffer: vfiosnoop streams every ioctl of a flood; overload_run
# (lib.sh) fails unless delivered + drops equal what was issued, exactly.
# The counts go to the table too, which checks the same sum per round.
rec info ring_rounds "$RING_ROUNDS"
for ring in ${RINGS//,/ }; do
	for r in $(seq 1 "$RING_ROUNDS"); do
		overload_run "$ring" "$N_FLOOD" $T
		rec ring_produced_per_s $ring $r $((OV_PRODUCED * 1000000000 / OV_NS))
		rec ring_delivered_per_s $ring $r $((OV_DELIVERED * 1000000000 / OV_NS))
		rec ring_dropped $ring $r $OV_LOST
		rec ring_produced $ring $r $OV_PRODUCED
		rec ring_delivered $ring $r $OV_DELIVERED
		say "ring $ring round $r: produced $OV_PRODUCED, delivered $OV_DELIVERED, dropped $OV_LOST in $((OV_NS / 1000000)) ms"
	done
done
say done
