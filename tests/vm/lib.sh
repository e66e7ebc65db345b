# SPDX-License-Identifier: GPL-2.0
# Helpers for bench scenarios (sourced). A scenario passes by exiting 0,
# fails with a reason through fail(), and reports a feature the kernel
# lacks through unsupported() (exit 77) - never to paper over a broken bench.
set -euo pipefail

fail() { echo "FAIL: $*"; exit 1; }
unsupported() { echo "UNSUPPORTED: $*"; exit 77; }
note() { echo "-- $*"; }

# expect_eq WHAT GOT WANT
expect_eq() {
	[ "$2" = "$3" ] || fail "$1: got '$2', want '$3'"
	note "$1 = $2"
}

# preemptible_kernel: true when the kernel runs preemptible (full or lazy,
# e.g. Debian's 7.x): there fentry/fexit programs can be preempted, and
# the trampolines' per-CPU recursion guard makes another task on that CPU
# skip the same probe (counted as probe_recursion)
preemptible_kernel() {
	grep -Eq '\((full|lazy)\)' /sys/kernel/debug/sched/preempt 2> /dev/null
}

# pinned_bytes PID: what process PID pins, as vfioscope's PINNED counts it:
# mm->locked_vm (VmLck: type1's pins) + mm->pinned_vm (VmPin: vhost-vdpa's),
# in bytes
pinned_bytes() {
	awk '$1 == "VmLck:" || $1 == "VmPin:" { s += $2 } END { print s * 1024 }' /proc/$1/status
}

# last_line FILE: the last complete line of a file another process is
# still writing (tail -n 1 can return the half-written one after it)
last_line() {
	local n
	n=$(wc -l < "$1")
	[ "$n" -gt 0 ] && sed -n "${n}p" "$1"
}

# wait_for_line FILE PATTERN [TIMEOUT_S [PID]]: until a line of FILE
# matches; fails at once if process PID (the one writing FILE) has exited
wait_for_line() {
	local i
	for i in $(seq 1 $((${3:-30} * 10))); do
		grep -q "$2" "$1" 2>/dev/null && return 0
		if [ -n "${4:-}" ] && ! kill -0 "$4" 2>/dev/null; then
			fail "process $4 exited before '$2' appeared in $1: $(tail -n 5 "$1")"
		fi
		sleep 0.1
	done
	fail "timed out waiting for '$2' in $1"
}

# top_finish PID FRAMES ERR: let a batch vfiotop (-j, one frame per line
# of FRAMES) print two more frames, then SIGINT: it prints one last frame
# and must exit 0 (its stderr, ERR, says why not)
top_finish() {
	local n i
	n=$(wc -l < "$2")
	for i in $(seq 1 100); do
		[ "$(wc -l < "$2")" -ge $((n + 2)) ] && break
		sleep 0.1
	done
	kill -INT "$1"
	wait "$1" || fail "vfiotop failed: $(cat "$3")"
}

# mig_why OUT [ERR]: why a `vfio-exercise migrate` run failed, on one line:
# its verdict, failed arcs and its own warnings (what did not verify) from
# OUT (stdout, or stdout and stderr together, whose last lines are the
# ioctl summary) and the end of ERR (its stderr, when kept apart)
mig_why() {
	{
		grep -E '^migration (failed|unverified)|^arc ([^ ]+ ){5}[1-9]|^vfio-exercise: ' "$1" |
			head -n 8 || true
		[ -n "${2:-}" ] && [ -s "$2" ] && tail -n 4 "$2"
	} | tr '\n' ';'
}

# the dmesg lines that mean the kernel is unhappy
kernel_complaints() {
	dmesg | grep -E 'WARNING:|BUG:|Oops|general protection|Call Trace:|KASAN|refcount_t:' || true
}

# overload_run RING N DIR: vfiosnoop streams every ioctl into a RING-byte
# ring buffer while the exerciser issues N of them on $EDU_BDF as fast as
# the kernel answers. What the exerciser issued (produced) must equal the
# events delivered plus the drops vfiosnoop counted, exactly, and the drops
# must also have been reported live in the stream. Sets OV_PRODUCED,
# OV_DELIVERED, OV_LOST and OV_NS (the flood's wall time); files go to DIR.
overload_run() {
	local ring=$1 n=$2 d=$3 snoop pid t0 t1 live
	vfiosnoop -c ioctl -j --ringbuf "$ring" > "$d/snoop-$ring.json" 2> "$d/snoop-$ring.err" &
	snoop=$!
	wait_for_line "$d/snoop-$ring.err" attached 90 $snoop
	t0=$(date +%s%N)
	vfio-exercise ioctls "$EDU_BDF" --cmd check-extension -n "$n" > "$d/flood-$ring.txt" ||
		fail "ioctl flood failed"
	t1=$(date +%s%N)
	sleep 1
	kill -INT $snoop
	wait $snoop || fail "vfiosnoop --ringbuf $ring failed: $(cat "$d/snoop-$ring.err")"
	pid=$(awk '$1 == "pid" { print $2 }' "$d/flood-$ring.txt")
	OV_PRODUCED=$(awk '$1 == "ioctl" { n += $5 } END { print n }' "$d/flood-$ring.txt")
	OV_DELIVERED=$(grep -c "\"event\":\"ioctl\".*\"pid\":$pid," "$d/snoop-$ring.json" || true)
	OV_LOST=$(sed -n 's/.*lost in all: \([0-9]*\) (ringbuf_full).*/\1/p' "$d/snoop-$ring.err")
	OV_LOST=${OV_LOST:-0}
	OV_NS=$((t1 - t0))
	note "ring $ring: produced $OV_PRODUCED, delivered $OV_DELIVERED, dropped $OV_LOST"
	expect_eq "ring $ring: produced == delivered + dropped" "$OV_PRODUCED" \
		"$((OV_DELIVERED + OV_LOST))"
	# in -j mode losses are reported in the stream as they happen
	# (jq over the loss records only: over every event it takes minutes under TCG)
	live=$({ grep '"event":"lost"' "$d/snoop-$ring.json" || true; } |
		jq -s '[.[] | select(.event == "lost" and .reason == "ringbuf_full") | .count] | add // 0')
	expect_eq "ring $ring: losses reported live in the stream" "$live" "$OV_LOST"
}
