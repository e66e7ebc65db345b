# vfiomig live: attached to the collectors while vfio-exercise migrates, it
# prints each migration's summary as soon as the migration completes (seen
# here before vfiomig is told to stop), and the summaries match the
# exerciser's own timestamps within 2 ms: a two-device VM (an mdacc
# instance and the edu variant device) and then another VM with one mdacc
# instance, each its own migration, named by the process (VM) name.
# vfiotop runs alongside: its migrations view, fed by the same library
# model, shows each source device's downtime and its three parts as
# vfiomig does. Each tool loads its own probes, and each probe reads the
# clock when it runs, so the two differ by the probes' own run time (tens
# of microseconds under TCG) and, once in a while, by an interrupt or the
# host descheduling the guest's vCPU between the two (up to a host tick,
# 4 ms): they must agree within 5 ms, far below the injected delays.
. "$VFIOSCOPE_REPO/tests/vm/lib.sh"
. "$VFIOSCOPE_REPO/tests/vm/miglib.sh"
O=$VFIOSCOPE_OUT
U1=6d646163-0000-4000-8000-000000004201
U2=6d646163-0000-4000-8000-000000004202
U3=6d646163-0000-4000-8000-000000004203
U4=6d646163-0000-4000-8000-000000004204
bench_mdacc_create $U1 $U2 $U3 $U4
bench_edu_variant

# vfiomig on the other CPU at low priority, as vfiosnoop in scenario 40
nice -n 19 taskset -c 1 vfiomig -j --trace-out $O/live.trace.json --svg $O/live.svg \
	> $O/live.mig.json 2> $O/live.err &
m=$!
wait_for_line $O/live.err attached 90 $m
nice -n 19 taskset -c 1 vfiotop -b -j -d 1 > $O/top.json 2> $O/top.err &
top=$!
wait_for_line $O/top.err attached 90 $top

taskset -c 0 vfio-exercise --name vm42a migrate $U1 $U2 "$EDU_BDF" "$EDU2_BDF" \
	--workload mdacc,edu --delay-stop-copy 30,90 > $O/a.client.txt 2>&1 ||
	fail "exerciser: $(mig_why $O/a.client.txt)"
wait_for_line $O/live.mig.json '"comm":"vm42a"' 20 $m
note "vm42a's summary came while vfiomig was still running"
taskset -c 0 vfio-exercise --name vm42b migrate $U3 $U4 --workload mdacc \
	--delay-stop-copy 50 --delay-resume 20 > $O/b.client.txt 2>&1 ||
	fail "exerciser: $(mig_why $O/b.client.txt)"
wait_for_line $O/live.mig.json '"comm":"vm42b"' 20 $m
kill -INT $m
wait $m || fail "vfiomig exited with status $?: $(cat $O/live.err)"
top_finish $top $O/top.json $O/top.err
tail -n 1 $O/top.json > $O/top-last.json
for src in $U1 "$EDU_BDF" $U3; do
	for f in downtime_ns:downtime_ns stop_copy_ns:stop_copy_ns transfer_ns:transfer_gap_ns \
		resume_ns:resume_ns; do
		t=$(jq -r --arg s "$src" --arg f ${f%%:*} \
			'.migrations[] | select(.device == $s and .role == "src") | .[$f]' $O/top-last.json)
		g=$(jq -r --arg s "$src" --arg f ${f#*:} '.devices[] | select(.source == $s) | .[$f]' \
			$O/live.mig.json)
		case "$t$g" in *[!0-9]*|"") fail "$src ${f%%:*}: vfiotop '$t', vfiomig '$g'" ;; esac
		d=$((t > g ? t - g : g - t))
		[ $d -le 5000000 ] || fail "$src ${f%%:*}: vfiotop $t ns, vfiomig $g ns: $d ns apart"
		note "$src ${f%%:*}: vfiotop $t ns, vfiomig $g ns ($d ns apart)"
	done
done
expect_eq "live summaries" "$(wc -l < $O/live.mig.json)" 2

jq -c 'select(.comm == "vm42a")' $O/live.mig.json > $O/a.mig.json
jq -c 'select(.comm == "vm42b")' $O/live.mig.json > $O/b.mig.json
mig_check_vm $O/a.mig.json $O/a.client.txt "$EDU_BDF"
mig_check_vm $O/b.mig.json $O/b.client.txt $U3
expect_eq "vm42a pid" "$(jq .pid $O/a.mig.json)" "$(awk '$1 == "pid" { print $2 }' $O/a.client.txt)"

# the files written live hold both VMs
jq -e '.traceEvents | length > 0' $O/live.trace.json > /dev/null || fail "live trace file"
expect_eq "VM processes in the trace" \
	"$(jq '[.traceEvents[] | select(.ph == "M" and .name == "process_name")] | length' $O/live.trace.json)" 2
xmllint --noout $O/live.svg || fail "the live SVG is not well-formed"
bench_mdacc_remove $U1 $U2 $U3 $U4
echo "vfiomig live matches the exerciser"
