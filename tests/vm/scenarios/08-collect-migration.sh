# Migration arcs through the collectors, against vfio-exercise's own
# account: the edu variant driver migrates edu 1 -> edu 2. On the fentry
# tier (stock kernels: vfio_mig_get_next_state) and on the tracepoint tier
# (the driver's vfio:vfio_mig_set_state), each device's arcs must be
# exactly the arcs the exerciser requested, in order, with the same
# result, and each must lie inside the exerciser's own time window for it
# (CLOCK_MONOTONIC on both sides). Migration data bytes must equal the
# bytes the exerciser moved, from the driver's tracepoint and, forced, from
# fexit on the data fd's own functions (learned at run time).
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
# the learned-f_op path forced on a driver that fires the tracepoint
vfiosnoop -j -c migration --tier migration-data=fentry > $O/learned.json 2> $O/learned.err &
s3=$!
wait_for_line $O/fentry.err attached 90 $s1
wait_for_line $O/tp.err attached 90 $s2
wait_for_line $O/learned.err attached 90 $s3
links() { grep -l '^link_type' /proc/$1/fdinfo/* 2>/dev/null | wc -l; }
l3=$(links $s3)
vfio-exercise migrate "$EDU_BDF" "$EDU2_BDF" --workload edu --seed 5 > $O/client.txt ||
	fail "migration failed: $(tail -n 5 $O/client.txt)"
# The forced collector learns edu_vfio_pci's data fd f_ops from that
# migration and attaches to them (saving: read, ioctl, release; resuming:
# write, release) seconds later; edu keeps its stream offset to itself (not
# in f_pos), so what it moved before is not recovered. A second migration,
# back, is then seen whole on that path.
for i in $(seq 300); do [ $(links $s3) -ge $((l3 + 5)) ] && break; sleep 0.1; done
[ $(links $s3) -ge $((l3 + 5)) ] || fail "the forced collector did not attach to edu's data fd functions"
note "the forced collector attached to edu_vfio_pci's five data fd functions after ${i}00 ms"
t_back=$(awk '{ print int($1 * 1e9) }' /proc/uptime)
vfio-exercise migrate "$EDU2_BDF" "$EDU_BDF" --workload edu --seed 6 --precopy > $O/back.txt ||
	fail "the migration back failed: $(tail -n 5 $O/back.txt)"
sleep 1
kill -INT $s1 $s2 $s3
wait $s1 || fail "vfiosnoop (fentry tier) failed: $(cat $O/fentry.err)"
wait $s2 || fail "vfiosnoop (tracepoint tier) failed: $(cat $O/tp.err)"
wait $s3 || fail "vfiosnoop (learned f_ops forced) failed: $(cat $O/learned.err)"
expect_eq "learned path: data events from the tracepoint" \
	"$(jq -s '[.[] | select(.event == "mig_data" and .tier != 2)] | length' $O/learned.json)" 0
expect_eq "learned path: bytes of the migration back (read + written)" \
	"$(jq -s --argjson t $t_back '[.[] | select(.event == "mig_data" and .ts_ns > $t and .ret > 0) | .ret + .unseen] | add' $O/learned.json)" \
	"$(awk '$1 == "mig_bytes" { s += $4 } END { print s }' $O/back.txt)"
expect_eq "learned path: GET_PRECOPY_INFO answers in the migration back (initial/dirty)" \
	"$(jq -r -s --argjson t $t_back '[.[] | select(.event == "mig_precopy" and .ts_ns > $t and .ret == 0) | "\(.initial_bytes)/\(.dirty_bytes)"] | join(" ")' $O/learned.json)" \
	"$(awk '$1 == "precopy_info" { printf "%s%s/%s", n++ ? " " : "", $3, $4 }' $O/back.txt)"

# the exerciser's arcs: device from to errno t0 t1
awk -v s="$EDU_BDF" -v d="$EDU2_BDF" '$1 == "arc" { print ($2 == "src" ? s : d), $3, $4, $7, $5, $6 }' \
	$O/client.txt > $O/want.full
cut -d' ' -f1-4 $O/want.full > $O/want
[ "$(wc -l < $O/want)" -ge 6 ] || fail "the exerciser reported too few arcs"
for tier in fentry tp; do
	jq -r --argjson t $t_back 'select(.event == "mig_arc" and .end_ns < $t) | [.device, .from, .to, (if .ret < 0 then -.ret else 0 end), .start_ns, .end_ns] | map(tostring) | join(" ")' \
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
want_bytes=$(awk '$1 == "mig_bytes" { s += $4 } END { print s }' $O/client.txt $O/back.txt)
# both migrations, once each: the tracepoint reports edu's data, the
# learned programs (attached by these collectors too) stay quiet for it
got_bytes=$(jq -s '[.[] | select(.event == "mig_data" and .ret > 0) | .ret] | add' $O/fentry.json)
expect_eq "migration data bytes (read + written, both migrations)" "$got_bytes" "$want_bytes"
echo "migration arcs equal on both tiers"
