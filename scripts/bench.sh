#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make bench: the budgets of DESIGN.md section 7 as measured figures. Runs
# the host half (load+attach on the host kernel), then the guest half
# (tests/bench/guest.sh in the 6.12 bench guest: traced-ioctl loops,
# vDPA kicks, attach times, ring-buffer overload), then prints one table
# (min / median / max over the rounds, and per-round paired differences)
# and writes it, with the date, commit and machine, to docs/bench.md.
#
# Env: BENCH_ROUNDS (5), BENCH_KERNEL (6.12), BENCH_DOC (docs/bench.md;
#      empty: print only), and the guest's VFIOSCOPE_BENCH_* sizes.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
cd "$REPO"
ROUNDS=${BENCH_ROUNDS:-5}
KERNEL=${BENCH_KERNEL:-6.12}
DOC=${BENCH_DOC-docs/bench.md}
OUT=$REPO/build/bench
mkdir -p "$OUT"
rm -f "$OUT/raw.txt" "$OUT/host.txt"
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

# ---- guest
say "guest $KERNEL: ioctl loops, vDPA kicks, attach, ring buffer ($ROUNDS rounds; progress below)"
VFIOSCOPE_BENCH_OUT=$OUT VFIOSCOPE_BENCH_ROUNDS=$ROUNDS VM_TIMEOUT=${VM_TIMEOUT:-1080} \
	tests/vm/bench/runvm.sh "$KERNEL" tests/bench/guest.sh 2>&1 |
	grep --line-buffered -E '^bench:|FAIL|UNSUPPORTED|runvm:' || true
[ -s "$OUT/raw.txt" ] && grep -q '^ring_dropped' "$OUT/raw.txt" ||
	{ say "the guest half did not complete: no table"; exit 1; }

# ---- table
cat "$OUT/host.txt" >> "$OUT/raw.txt" 2>/dev/null || true
elapsed=$((($(now) - start) / 1000000000))
python3 "$REPO/tests/bench/table.py" "$OUT/raw.txt" \
	--commit "$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- . ':!docs/bench.md' || echo '+dirty')" \
	--host-kernel "$(uname -r)" \
	--host-cpu "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)" \
	--host-cpus "$(nproc)" --load "$(cut -d' ' -f1-3 /proc/loadavg)" \
	--host-features "$OUT/host-features.txt" --guest-features "$OUT/guest-features.txt" \
	--elapsed "$elapsed" > "$OUT/bench.md"
cat "$OUT/bench.md"
if [ -n "$DOC" ]; then
	cp "$OUT/bench.md" "$DOC"
	say "written to $DOC"
fi
