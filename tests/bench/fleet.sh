# SPDX-License-Identifier: GPL-2.0
# make bench, guest half: vfio-policyd and vfiotop at fleet size. The
# daemon runs with its collectors pinned, a policy and /metrics; then
# tests/bench/fill-maps writes FLEET_VMS synthetic VMs with FLEET_DEVS
# devices into the pinned maps (the bench guest has three real devices).
# Per round: the daemon's CPU over FLEET_IDLE_S seconds of nothing, its CPU
# per /metrics scrape over FLEET_SCRAPES scrapes, its RSS, and vfiotop's
# CPU per frame and RSS reading the same pinned set. Sourced by guest.sh
# (rec, say, $B, $T; tests/vm/lib.sh).
FLEET_VMS=${VFIOSCOPE_BENCH_FLEET_VMS:-64}
FLEET_DEVS=${VFIOSCOPE_BENCH_FLEET_DEVS:-256}
FLEET_IDLE_S=${VFIOSCOPE_BENCH_FLEET_IDLE_S:-15}
FLEET_ROUNDS=${VFIOSCOPE_BENCH_FLEET_ROUNDS:-3}
FLEET_SCRAPES=${VFIOSCOPE_BENCH_FLEET_SCRAPES:-30}
FLEET_SOCK=/run/vfioscope/bench-fleet.sock
FLEET_PORT=9477
TCK=$(getconf CLK_TCK)

cpu_ticks() {	# PID: utime + stime, in clock ticks
	awk '{ print $14 + $15 }' /proc/$1/stat
}

fleet_bench() {
	local r pd c0 c1 series
	mkdir -p /run/vfioscope
	cat > $T/fleet.yaml <<EOT
rules:
  - name: fleet
    match:
      - name: "bench-vm-*"
    rate:
      dma_map: {rate: 1000, burst: 100}
EOT
	vfio-policyd -c $T/fleet.yaml --socket $FLEET_SOCK --metrics-port $FLEET_PORT \
		> $T/fleet-pd.log 2>&1 &
	pd=$!
	wait_for_line $T/fleet-pd.log 'ready: control socket' 90 $pd
	"$B/fill-maps" /sys/fs/bpf/vfioscope/collectors "$FLEET_VMS" "$FLEET_DEVS" > $T/fill.txt ||
		fail "fill-maps failed"
	series=$(curl -sf http://127.0.0.1:$FLEET_PORT/metrics | grep -c '^vfioscope_' || true)
	[ "$(curl -sf http://127.0.0.1:$FLEET_PORT/metrics | grep -c '^vfioscope_vm_dma_maps_total{.*bench-vm-')" -ge "$FLEET_VMS" ] ||
		fail "the daemon's /metrics does not show the $FLEET_VMS synthetic VMs"
	rec info fleet "$FLEET_VMS VMs, $FLEET_DEVS devices, $series series per scrape"
	rec info fleet_rounds "$FLEET_ROUNDS"
	for r in $(seq 1 "$FLEET_ROUNDS"); do
		c0=$(cpu_ticks $pd)
		sleep "$FLEET_IDLE_S"
		c1=$(cpu_ticks $pd)
		# per mille of one core, over the idle window
		rec pd_idle_permille policyd $r $(((c1 - c0) * 1000 / TCK / FLEET_IDLE_S))
		c0=$(cpu_ticks $pd)
		for _ in $(seq 1 "$FLEET_SCRAPES"); do
			curl -sf -o /dev/null http://127.0.0.1:$FLEET_PORT/metrics || fail "scrape failed"
		done
		c1=$(cpu_ticks $pd)
		rec pd_scrape_cpu_us policyd $r $(((c1 - c0) * 1000000 / TCK / FLEET_SCRAPES))
		rec pd_rss_kib policyd $r "$(awk '$1 == "VmRSS:" { print $2 }' /proc/$pd/status)"
		/usr/bin/time -f '%U %S %M' -o $T/top.time vfiotop -b -n 6 -d 1 --shared > $T/top.txt 2> $T/top.err ||
			fail "vfiotop --shared at fleet size failed: $(tail -n 3 $T/top.err)"
		grep -q 'bench-vm-' $T/top.txt || fail "vfiotop shows none of the synthetic VMs"
		read -r u s rss < $T/top.time
		rec top_live_cpu_us_per_frame vfiotop $r "$(echo "($u + $s) * 1000000 / 6" | bc)"
		rec top_live_rss_kib vfiotop $r "$rss"
		say "fleet round $r/$FLEET_ROUNDS: daemon idle $(awk -v r=$r '$1 == "pd_idle_permille" && $3 == r { print $4 }' "$raw") per mille, $(awk -v r=$r '$1 == "pd_scrape_cpu_us" && $3 == r { print $4 }' "$raw") us CPU per scrape"
	done
	kill $pd
	wait $pd || true
	vfio-policyd --unload > $T/fleet-unload.txt 2>&1 || fail "vfio-policyd --unload: $(cat $T/fleet-unload.txt)"
}
