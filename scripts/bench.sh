#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make bench: the budgets of DESIGN.md section 7 as measured figures. Runs
# the host half (load+attach on the host kernel; the LSM fast path when the
# host runs BPF LSM), then the guest half (tests/bench/guest.sh in the 6.12
# bench guest: traced-ioctl loops, vDPA kicks, attach times, the LSM fast
# path, ring-buffer overload), then the ioctl loops again on the patched
# modules (tests/bench/guest.sh, VFIOSCOPE_FLAVOUR=patched: the disabled
# tracepoints' cost and the tracepoint tier's), then prints one table
# (min / median / max over the rounds, and per-round paired differences)
# and writes it, with the date, commit and machine, to docs/bench.md.
# The guest boots alternate, stock then patched, BENCH_BOOTS times each,
# the rounds shared out between them (the stock/patched ratio compares
# boots next to each other, and drift between boots falls on both); the
# first stock boot also measures the LSM fast path, the fleet and the ring
# buffer. A boot counts only when runvm.sh exits 0 and the guest half left
# its completion record with status 0; table.py then refuses any row
# missing a round.
#
# Env: BENCH_ROUNDS (5), BENCH_BOOTS (2, at most BENCH_ROUNDS), BENCH_KERNEL
#      (6.12), BENCH_DOC (docs/bench.md; empty: print only), and the
#      guest's VFIOSCOPE_BENCH_* sizes.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
cd "$REPO"
ROUNDS=${BENCH_ROUNDS:-5}
BOOTS=${BENCH_BOOTS:-2}
[ "$BOOTS" -ge 1 ] && [ "$ROUNDS" -ge 1 ] || { echo "bench: BENCH_ROUNDS and BENCH_BOOTS must be at least 1" >&2; exit 2; }
[ "$BOOTS" -le "$ROUNDS" ] || BOOTS=$ROUNDS
KERNEL=${BENCH_KERNEL:-6.12}
DOC=${BENCH_DOC-docs/bench.md}
OUT=$REPO/build/bench
mkdir -p "$OUT"
rm -f "$OUT"/raw*.txt "$OUT"/complete-*.txt "$OUT/host.txt"
say() { printf 'bench: [%s] %s\n' "$(date +%H:%M:%S)" "$*"; }
now() { date +%s%N; }
start=$(now)

# ---- host: load+attach of every collector the host kernel can take
say "host: load+attach of the collectors on $(uname -r), $ROUNDS rounds"
if [ "$(id -u)" = 0 ]; then
	build/bin/vfiostat --features > "$OUT/host-features.txt" 2>&1 || true
	for r in $(seq 1 "$ROUNDS"); do
		t0=$(now)
		build/bin/vfiostat -d 1 > /dev/null 2> "$OUT/host-stat.err" &
		pid=$!
		until grep -q attached "$OUT/host-stat.err" 2>/dev/null; do
			kill -0 $pid 2>/dev/null || break
			sleep 0.01
		done
		t1=$(now)
		wait $pid || true
		grep -q attached "$OUT/host-stat.err" &&
			echo "host_attach_ms vfioscope $r $(((t1 - t0) / 1000000))" >> "$OUT/host.txt"
	done
else
	say "host: not root, no load+attach measured on the host"
fi

# ---- host: vfiotop at 64 VMs / 256 devices, from a generated recording
# (the replay source: the same model and views as live, plus JSON parsing
# of the recording, so an upper bound of the live cost)
say "host: vfiotop over a generated 64 VM / 256 device recording, $ROUNDS rounds"
FRAMES=60
python3 scripts/gen-top-replay.py --vms 64 --devices 256 --frames $FRAMES > "$OUT/top.rec"
for r in $(seq 1 "$ROUNDS"); do
	# CPU and RSS of every frame rendered as text, and the first frame's wall time
	/usr/bin/time -f '%U %S %M' -o "$OUT/top.time" \
		build/bin/vfiotop -b --replay "$OUT/top.rec" > /dev/null
	read -r u s rss < "$OUT/top.time"
	echo "top_cpu_us_per_frame vfiotop $r $(echo "($u + $s) * 1000000 / $FRAMES" | bc)" >> "$OUT/host.txt"
	echo "top_rss_kib vfiotop $r $rss" >> "$OUT/host.txt"
	t0=$(now)
	build/bin/vfiotop -b -n 1 --replay "$OUT/top.rec" > /dev/null
	echo "top_first_frame_ms vfiotop $r $((($(now) - t0) / 1000000))" >> "$OUT/host.txt"
done

# ---- host: the LSM fast path, where the host kernel runs BPF LSM
gcc -O2 -Wall -Wextra -Werror -o "$OUT/syscall-loop" tests/bench/syscall-loop.c
gcc -O2 -Wall -Wextra -Werror -Ibpf -o "$OUT/fill-maps" tests/bench/fill-maps.c -lbpf
gcc -O2 -Wall -Wextra -Werror -Ibuild/bpf -o "$OUT/lsm-floor" tests/bench/lsm-floor.c -lbpf
gcc -O2 -Wall -Wextra -Werror -Ibuild/bpf -o "$OUT/trace-floor" tests/bench/trace-floor.c -lbpf
lsm_host=
if [ "$(id -u)" != 0 ]; then
	lsm_host="not root"
elif ! grep -qw bpf /sys/kernel/security/lsm 2>/dev/null; then
	lsm_host="BPF LSM is not active on the host kernel $(uname -r) (security/lsm: $(cat /sys/kernel/security/lsm 2>/dev/null || echo 'unreadable: securityfs not mounted'))"
elif ! "$OUT/lsm-floor" --probe 2> "$OUT/lsm-probe.err"; then
	lsm_host="the host kernel $(uname -r) lists bpf among its LSMs but refuses BPF LSM programs: $(tail -n 1 "$OUT/lsm-probe.err")"
fi
if [ -z "$lsm_host" ]; then
	say "host: LSM fast path, $ROUNDS rounds"
	(
		. tests/vm/lib.sh	# fail, wait_for_line
		raw=$OUT/host.txt
		rec() { echo "$*" >> "$raw"; }
		export PATH=$REPO/build/bin:$PATH
		LSM_LOOP=$OUT/syscall-loop LSM_FLOOR=$OUT/lsm-floor LSM_MP=host- LSM_DIR=$OUT/lsm
		. tests/bench/lsm.sh
		lsm_bench "$ROUNDS" host
	) || say "host: the LSM rows failed (above); the guest rows still stand"
else
	echo "info lsm_host $lsm_host" >> "$OUT/host.txt"
	say "host: no native LSM rows: $lsm_host"
fi

# ---- guest: stock and patched boots alternating, rounds shared out
# guest_boot FLAVOUR BOOT FIRST LAST: one boot's rounds FIRST..LAST; exits
# the bench unless runvm.sh says 0 and the completion record says 0
guest_boot() {
	local flavour=$1 boot=$2 first=$3 last=$4 extras=0 rc rec
	[ "$flavour:$boot" != stock:1 ] || extras=1
	if [ $extras = 1 ]; then
		say "guest $KERNEL, stock boot $boot: rounds $first-$last of ioctl loops, vDPA kicks, attach; LSM fast path, fleet, ring buffer (progress below)"
	else
		say "guest $KERNEL, $flavour boot $boot: rounds $first-$last of ioctl loops"
	fi
	set +e
	VFIOSCOPE_FLAVOUR=$flavour VFIOSCOPE_BENCH_OUT=$OUT VFIOSCOPE_BENCH_ROUNDS=$ROUNDS \
		VFIOSCOPE_BENCH_BOOT=$boot VFIOSCOPE_BENCH_FIRST=$first VFIOSCOPE_BENCH_LAST=$last \
		VFIOSCOPE_BENCH_EXTRAS=$extras \
		VM_TIMEOUT=${VM_TIMEOUT:-1080} VFIOSCOPE_SCRIPT_TIMEOUT=1000 tests/vm/bench/runvm.sh "$KERNEL" tests/bench/guest.sh 2>&1 |
		grep --line-buffered -E '^bench:|FAIL|UNSUPPORTED|runvm:'
	rc=${PIPESTATUS[0]}
	set -e
	rec=$(cat "$OUT/complete-$flavour-$boot.txt" 2>/dev/null || true)
	if [ "$rc" != 0 ] || [ "$rec" != "complete $flavour $boot 0" ]; then
		say "FAILED: the guest half, $flavour boot $boot (rounds $first-$last), exited with $rc; its completion record: ${rec:-none}. No table."
		exit 1
	fi
	[ -s "$OUT/raw-$flavour-$boot.txt" ] || { say "FAILED: $flavour boot $boot completed but wrote no figures. No table."; exit 1; }
}
for b in $(seq 1 "$BOOTS"); do
	first=$(((b - 1) * ROUNDS / BOOTS + 1))
	last=$((b * ROUNDS / BOOTS))
	guest_boot stock "$b" "$first" "$last"
	guest_boot patched "$b" "$first" "$last"
done

# ---- table (table.py fails when a row misses a round)
cat "$OUT"/raw-stock-*.txt "$OUT"/raw-patched-*.txt "$OUT/host.txt" > "$OUT/raw.txt"
elapsed=$((($(now) - start) / 1000000000))
python3 "$REPO/tests/bench/table.py" "$OUT/raw.txt" \
	--commit "$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- . ':!docs/bench.md' || echo '+dirty')" \
	--host-kernel "$(uname -r)" \
	--host-cpu "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)" \
	--host-cpus "$(nproc)" --load "$(cut -d' ' -f1-3 /proc/loadavg)" \
	--host-features "$OUT/host-features.txt" --guest-features "$OUT/guest-features-stock.txt" \
	--patched-features "$OUT/guest-features-patched.txt" \
	--rounds "$ROUNDS" --boots "$BOOTS" --elapsed "$elapsed" > "$OUT/bench.md" ||
	{ say "FAILED: table.py refused the figures (above): no table"; exit 1; }
cat "$OUT/bench.md"
if [ -n "$DOC" ]; then
	cp "$OUT/bench.md" "$DOC"
	say "written to $DOC"
fi
