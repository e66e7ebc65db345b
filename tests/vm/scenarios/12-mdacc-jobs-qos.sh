# mdacc jobs through real DMA into the exerciser's pinned memory: N jobs
# complete and verify byte for byte, with eventfd interrupts (one per job)
# and by polling; the per-instance QoS knobs really cap the job rate and
# the DMA bandwidth (the exerciser's own elapsed time shows it), and
# jobs_done counts every job.
. "$VFIOSCOPE_REPO/tests/vm/lib.sh"
OUT=$VFIOSCOPE_OUT
T=$MDACC_PARENT/mdev_supported_types
U=6d646163-0000-4000-8000-000000000021
U4=6d646163-0000-4000-8000-000000000024
D=/sys/bus/mdev/devices/$U

echo $U > $T/mdacc-1q/create || fail "create $U"
echo $U4 > $T/mdacc-4q/create || fail "create $U4"
val() {	# FILE KEY
	awk -v k="$2" '$1 == k { print $2 }' "$1"
}
run() {	# NAME ARGS...
	local name=$1
	shift
	vfio-exercise mdacc-jobs "$@" > "$OUT/$name.txt" || fail "mdacc-jobs $* failed: $(tail -3 "$OUT/$name.txt")"
	note "$name: $(grep -E '^(jobs_|irqs|job_bytes|elapsed)' "$OUT/$name.txt" | tr '\n' ' ')"
}

# 1. many jobs (several ring wraps), with interrupts
run irq $U -n 1000 -s 11 --irq
expect_eq "jobs submitted (irq)" "$(val $OUT/irq.txt jobs_submitted)" 1000
expect_eq "jobs verified (irq)" "$(val $OUT/irq.txt jobs_verified)" 1000
expect_eq "interrupts" "$(val $OUT/irq.txt irqs)" 1000
expect_eq "jobs_done after 1000" "$(cat $D/jobs_done)" 1000

# 2. polling, another seed, on a 4-queue instance (queue 0)
run poll $U4 -n 300 -s 12
expect_eq "jobs verified (poll)" "$(val $OUT/poll.txt jobs_verified)" 300
expect_eq "no interrupts when polling" "$(val $OUT/poll.txt irqs)" 0

# 3. job rate: 40 jobs at 20 jobs/s take >= 39 periods (token bucket of
# one job), unlimited is far faster
run unlimited $U -n 40 -s 13
echo 20 > $D/qos_job_rate
expect_eq "qos_job_rate" "$(cat $D/qos_job_rate)" 20
run rate20 $U -n 40 -s 13
echo 0 > $D/qos_job_rate
fast=$(val $OUT/unlimited.txt elapsed_ns)
slow=$(val $OUT/rate20.txt elapsed_ns)
[ "$slow" -ge 1900000000 ] || fail "40 jobs at 20/s took ${slow} ns, want >= 1.9 s"
[ "$slow" -le 4000000000 ] || fail "40 jobs at 20/s took ${slow} ns: far slower than the limit"
[ $((fast * 4)) -lt "$slow" ] || fail "unlimited (${fast} ns) is not much faster than 20/s (${slow} ns)"
note "job rate: unlimited ${fast} ns, 20/s ${slow} ns"

# 4. DMA bandwidth: the bytes of all jobs but the first at 200 kB/s
echo 200000 > $D/qos_dma_bw
run bw $U -n 40 -s 14
echo 0 > $D/qos_dma_bw
bytes=$(val $OUT/bw.txt job_bytes)
el=$(val $OUT/bw.txt elapsed_ns)
min=$(( (bytes - 4096) * 1000000000 / 200000 * 95 / 100 ))
[ "$el" -ge "$min" ] || fail "$bytes bytes at 200000 B/s took $el ns, want >= $min"
note "bandwidth: $bytes bytes in $el ns (>= $min)"

# 5. the limits delay, never drop: every job verified under them
expect_eq "verified at 20/s" "$(val $OUT/rate20.txt jobs_verified)" 40
expect_eq "verified at 200 kB/s" "$(val $OUT/bw.txt jobs_verified)" 40
expect_eq "jobs_done in total" "$(cat $D/jobs_done)" 1120
if echo abc > $D/qos_job_rate 2>/dev/null; then fail "qos_job_rate accepted 'abc'"; fi
if echo -1 > $D/qos_dma_bw 2>/dev/null; then fail "qos_dma_bw accepted -1"; fi

# 6. PINNED is the VM's whole locked_vm, whoever pinned: mdacc pins each
# enabled queue's ring page with vfio_pin_pages() from its own thread, and
# type1 charges it to the VM (an mdev-only container pins nothing at
# MAP_DMA). While jobs run, vfiotop's pinned_bytes for the VM must equal
# its VmLck (read at the same moment, until they agree: the ring is pinned
# once, at queue enable).
vfiotop -b -j -d 0.3 > $OUT/top.json 2> $OUT/top.err &
top=$!
wait_for_line $OUT/top.err attached 90 $top
vfio-exercise --name vm-ring mdacc-jobs $U -n 60 -r 15 -s 15 > $OUT/ring.txt &
ring=$!
agreed=
for i in $(seq 1 60); do
	# (the jobs may be done: then the status file is gone, VmLck empty)
	lck=$(awk '$1 == "VmLck:" { print $2 * 1024 }' /proc/$ring/status 2>/dev/null || true)
	pin=$(tail -n 3 $OUT/top.json | jq -R --argjson p $ring \
		'fromjson? | .vms[]? | select(.pid == $p) | .pinned_bytes' | tail -n 1 || true)
	if [ -n "$lck" ] && [ "$lck" -gt 0 ] && [ "$pin" = "$lck" ]; then
		agreed=$lck
		break
	fi
	sleep 0.2
done
wait $ring || fail "mdacc-jobs (vm-ring) failed: $(tail -n 3 $OUT/ring.txt)"
top_finish $top $OUT/top.json $OUT/top.err
[ -n "$agreed" ] || fail "vm-ring's PINNED never matched its VmLck (last: pinned '$pin', VmLck '$lck')"
note "vm-ring PINNED = VmLck = $agreed bytes while mdacc held its ring"

echo 1 > $D/remove
echo 1 > /sys/bus/mdev/devices/$U4/remove
c=$(kernel_complaints)
[ -z "$c" ] || fail "kernel complaints: $c"
echo "mdacc jobs, interrupts and QoS OK"
