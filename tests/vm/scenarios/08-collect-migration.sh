# Migration arcs through the collectors, against vfio-exercise's own
# account: the edu variant driver migrates edu 1 -> edu 2. On the fentry
# tier (stock kernels: vfio_mig_get_next_state) and on the tracepoint tier
# (the driver's vfio:vfio_mig_set_state), each device's arcs must be
# exactly the arcs the exerciser requested, in order, with the same
# result, and each must lie inside the exerciser's own time window for it
# (CLOCK_MONOTONIC on both sides). Migration data bytes (tracepoint only)
# must equal the bytes the exerciser moved.
. "$VFIOSCOPE_REPO/tests/vm/lib.sh"
O=$VFIOSCOPE_OUT

modprobe edu_vfio_pci || fail "modprobe edu_vfio_pci"
for bdf in "$EDU_BDF" "$EDU2_BDF"; do
	d=/sys/bus/pci/devices/$bdf
	echo "$bdf" > $d/driver/unbind
	echo edu_vfio_pci > $d/driver_override
	echo "$bdf" > /sys/bus/pci/drivers_probe
	expect_eq "$bdf driver" "$(basename "$(readlink $d/driver)")" edu_vfio_pci
done

vfiosnoop -j -c migration > $O/fentry.json 2> $O/fentry.err &
s1=$!
vfiosnoop -j -c migration --tier migration-arcs=tracepoint > $O/tp.json 2> $O/tp.err &
s2=$!
wait_for_line $O/fentry.err attached 90 $s1
wait_for_line $O/tp.err attached 90 $s2
vfio-exercise migrate "$EDU_BDF" "$EDU2_BDF" --workload edu --seed 5 > $O/client.txt ||
	fail "migration failed: $(tail -n 5 $O/client.txt)"
sleep 1
kill -INT $s1 $s2
wait $s1 || fail "vfiosnoop (fentry tier) failed: $(cat $O/fentry.err)"
wait $s2 || fail "vfiosnoop (tracepoint tier) failed: $(cat $O/tp.err)"

# the exerciser's arcs: device from to errno t0 t1
awk -v s="$EDU_BDF" -v d="$EDU2_BDF" '$1 == "arc" { print ($2 == "src" ? s : d), $3, $4, $7, $5, $6 }' \
	$O/client.txt > $O/want.full
cut -d' ' -f1-4 $O/want.full > $O/want
[ "$(wc -l < $O/want)" -ge 6 ] || fail "the exerciser reported too few arcs"
for tier in fentry tp; do
	jq -r 'select(.event == "mig_arc") | [.device, .from, .to, (if .ret < 0 then -.ret else 0 end), .start_ns, .end_ns] | map(tostring) | join(" ")' \
		$O/$tier.json | sort -s -k1,1 -k5,5n > $O/$tier.full
	# per device, in time order, like the exerciser's (which is per device in order too)
	sort -s -k1,1 -k5,5n $O/want.full | cut -d' ' -f1-4 > $O/want.sorted
	cut -d' ' -f1-4 $O/$tier.full > $O/$tier.got
	diff -u $O/want.sorted $O/$tier.got || fail "$tier tier: arcs differ from the exerciser's"
	paste -d' ' <(sort -s -k1,1 -k5,5n $O/want.full) $O/$tier.full |
		awk '{ if ($11 < $5 || $12 > $6) { print "arc", $1, $2, "->", $3, "kernel", $11, $12, "outside", $5, $6; bad = 1 } } END { exit bad }' ||
		fail "$tier tier: a kernel arc lies outside the exerciser's window for it"
	note "$tier tier: $(wc -l < $O/$tier.got) arcs equal, each inside the exerciser's window"
done
want_bytes=$(awk '$1 == "mig_bytes" { s += $4 } END { print s }' $O/client.txt)
got_bytes=$(jq -s '[.[] | select(.event == "mig_data" and .ret > 0) | .ret] | add' $O/fentry.json)
expect_eq "migration data bytes (read + written)" "$got_bytes" "$want_bytes"
echo "migration arcs equal on both tiers"
