# mdev capacity over time, checked against sysfs exactly: vfio-policyd
# --exporter (no policy) and a live vfiotop watch while two processes
# named vm-x and vm-y (copies of bash, so their comm is their name) race
# to create and remove mdacc-1q and mdacc-4q instances on mdacc0's shared
# pool of units, some creates failing when the pool is empty (EUSERS).
# Once the storm is over:
# - /metrics: vfioscope_mdev_available_instances and _instances of every
#   type equal sysfs's available_instances and devices/ exactly;
#   vfioscope_mdev_creates_total per VM and result equals what each
#   process's own log says it created and failed to create, and
#   vfioscope_mdev_removes_total what it removed;
# - vfiotop's JSON mdev rows: the same available and in-use figures, and
#   the creators of the instances left, "vm-x:N,vm-y:M", equal to the
#   instances each process still holds; its text view (--view mdev) the
#   same figures.
# Then both fill the pool and the alert expression of VfioMdevTypeExhausted
# selects the exhausted types (the rule's 5 minutes are not waited for).
. "$VFIOSCOPE_REPO/tests/vm/lib.sh"
O=$VFIOSCOPE_OUT
T=$MDACC_PARENT/mdev_supported_types
PARENT=$(basename "$(readlink -f $MDACC_PARENT)")
ip link set lo up
[ -d /sys/class/mdev_bus/$PARENT ] || fail "mdacc's parent $PARENT is not in /sys/class/mdev_bus"
for t in mdacc-1q mdacc-4q; do
	[ -z "$(ls $T/$t/devices)" ] || fail "$t has instances before the test: $(ls $T/$t/devices)"
done

vfio-policyd --exporter --metrics-port 0 --socket /run/vfioscope/exporter.sock \
	> $O/exp.out 2> $O/exp.err &
exp=$!
wait_for_line $O/exp.err 'ready: control socket' 90 $exp
port=$(sed -n 's/.*metrics on 127\.0\.0\.1:\([0-9]*\)$/\1/p' $O/exp.err | tail -n 1)
[ -n "$port" ] || fail "no metrics port in the daemon's log: $(cat $O/exp.err)"
vfiotop -b -j -d 0.5 > $O/top.json 2> $O/top.err &
top=$!
wait_for_line $O/top.json '"frame"' 90 $top

# storm NAME SEED: 60 rounds of a create (1q or 4q by the seed's bits) and,
# every third round, the remove of the process's oldest instance; each
# outcome one line of $O/NAME.log: "create TYPE ok|fail", "remove TYPE".
# The writes are bash builtins, so the writer is the process named NAME.
cp "$(command -v bash)" /tmp/vm-x
cp "$(command -v bash)" /tmp/vm-y
storm='
	name=$0 seed=$1 T=$2 held=()
	for i in $(seq 1 60); do
		t=mdacc-1q; (( (seed >> (i % 8)) & 1 )) && t=mdacc-4q
		u=$(printf "6d646163-%04x-4000-8000-%012x" $seed $i)
		if echo $u > $T/$t/create 2> /dev/null; then
			echo "create $t ok"; held+=("$t:$u")
		else
			echo "create $t fail"
		fi
		if (( i % 3 == 0 && ${#held[@]} )); then
			echo 1 > /sys/bus/mdev/devices/${held[0]#*:}/remove || exit 1
			echo "remove ${held[0]%%:*}"; held=("${held[@]:1}")
		fi
	done
	for h in "${held[@]}"; do echo "holds ${h%%:*} ${h#*:}"; done'
/tmp/vm-x -c "$storm" vm-x $((0x5a)) $T > $O/vm-x.log &
x=$!
/tmp/vm-y -c "$storm" vm-y $((0xa7)) $T > $O/vm-y.log &
y=$!
wait $x || fail "vm-x's storm failed: $(tail -n 3 $O/vm-x.log)"
wait $y || fail "vm-y's storm failed: $(tail -n 3 $O/vm-y.log)"
for v in vm-x vm-y; do
	note "$v: $(grep -c 'create .* ok' $O/$v.log) created, $(grep -c 'create .* fail' $O/$v.log) failed," \
		"$(grep -c '^remove' $O/$v.log) removed, $(grep -c '^holds' $O/$v.log) held"
done
[ "$(cat $O/vm-x.log $O/vm-y.log | grep -c 'create .* fail')" -gt 0 ] ||
	fail "the storm never exhausted the pool: no create failed"
attempts=$(cat $O/vm-x.log $O/vm-y.log | grep -c '^create')
removes=$(cat $O/vm-x.log $O/vm-y.log | grep -c '^remove')

# the exporter has every event once its counters sum to the attempts; the
# scrape after that rescanned sysfs
scrape() { curl -sf "http://127.0.0.1:$port/metrics" > $O/scrape.txt || fail "/metrics did not answer"; }
msum() { awk -v f="$1" 'index($0, f "{") == 1 { n += $NF } END { print n + 0 }' $O/scrape.txt; }
for i in $(seq 1 300); do
	scrape
	[ "$(msum vfioscope_mdev_creates_total)" = $attempts ] &&
		[ "$(msum vfioscope_mdev_removes_total)" = $removes ] && break
	sleep 0.2
done
expect_eq "create events on /metrics" "$(msum vfioscope_mdev_creates_total)" $attempts
expect_eq "remove events on /metrics" "$(msum vfioscope_mdev_removes_total)" $removes
scrape
promtool check metrics < $O/scrape.txt || fail "promtool check metrics rejected the scrape"
grep '^vfioscope_mdev' $O/scrape.txt

# metric NAME LABELS: one sample's value, "none" if there is none
metric() {
	awk -v s="$1{$2}" 'index($0, s " ") == 1 { v = $NF } END { print v == "" ? "none" : v }' \
		$O/scrape.txt
}
for t in mdacc-1q mdacc-4q; do
	avail=$(cat $T/$t/available_instances) inuse=$(ls $T/$t/devices | wc -l)
	l="parent=\"$PARENT\",type=\"$t\""
	expect_eq "$t available_instances (sysfs $avail)" \
		"$(metric vfioscope_mdev_available_instances "$l")" "$avail"
	expect_eq "$t instances (sysfs $inuse)" "$(metric vfioscope_mdev_instances "$l")" "$inuse"
	for v in vm-x vm-y; do
		expect_eq "$v's $t creates" "$(metric vfioscope_mdev_creates_total "$l,vm=\"$v\",result=\"ok\"" |
			sed 's/^none$/0/')" "$(grep -c "^create $t ok" $O/$v.log || true)"
		expect_eq "$v's failed $t creates" "$(metric vfioscope_mdev_creates_total \
			"$l,vm=\"$v\",result=\"EUSERS\"" | sed 's/^none$/0/')" \
			"$(grep -c "^create $t fail" $O/$v.log || true)"
		expect_eq "$v's $t removes" "$(metric vfioscope_mdev_removes_total "$l,vm=\"$v\",result=\"ok\"" |
			sed 's/^none$/0/')" "$(grep -c "^remove $t" $O/$v.log || true)"
	done
done

# vfiotop: a frame with every event, then its last frame's mdev rows
for i in $(seq 1 300); do
	n=$(tail -n 1 $O/top.json | jq '[.mdev[] | .creates + .create_fails] | add // 0' 2> /dev/null ||
		true)
	[ "$n" = $attempts ] && break
	sleep 0.2
done
top_finish $top $O/top.json $O/top.err
tail -n 1 $O/top.json | jq -c '.mdev[]' > $O/top.rows
cat $O/top.rows
row() { jq -r --arg p "$PARENT" --arg t "$1" 'select(.parent == $p and .type == $t) | .'"$2" $O/top.rows; }
for t in mdacc-1q mdacc-4q; do
	expect_eq "vfiotop: $t available" "$(row $t available)" "$(cat $T/$t/available_instances)"
	expect_eq "vfiotop: $t in use" "$(row $t instances)" "$(ls $T/$t/devices | wc -l)"
	want=$(for v in vm-x vm-y; do
		n=$(grep -c "^holds $t " $O/$v.log || true)
		[ $n = 0 ] || echo "$v:$n"
	done | paste -sd,)
	expect_eq "vfiotop: $t creators" "$(row $t creators)" "${want:--}"
	expect_eq "vfiotop: $t creates" "$(row $t creates)" \
		"$(cat $O/vm-x.log $O/vm-y.log | grep -c "^create $t ok" || true)"
done

# the text view (a fresh vfiotop: sysfs figures, no creators seen)
vfiotop -b -n 1 --view mdev -o parent,type,available,instances,creators > $O/top.txt 2> $O/top1.err ||
	fail "vfiotop --view mdev failed: $(cat $O/top1.err)"
cat $O/top.txt
for t in mdacc-1q mdacc-4q; do
	expect_eq "vfiotop -b: $t available, in use" \
		"$(awk -v p=$PARENT -v t=$t '$1 == p && $2 == t { print $3, $4 }' $O/top.txt)" \
		"$(cat $T/$t/available_instances) $(ls $T/$t/devices | wc -l)"
done

# fill the pool: every type reads 0 and the alert's expression selects both
for i in $(seq 1 8); do
	echo 6d646163-ffff-4000-8000-00000000000$i > $T/mdacc-1q/create 2> /dev/null || break
done
expect_eq "mdacc-1q available in sysfs" "$(cat $T/mdacc-1q/available_instances)" 0
for i in $(seq 1 300); do
	scrape
	[ "$(metric vfioscope_mdev_available_instances "parent=\"$PARENT\",type=\"mdacc-1q\"")" = 0 ] && break
	sleep 0.2
done
expect_eq "mdacc-4q exhausted by the other type's instances" \
	"$(metric vfioscope_mdev_available_instances "parent=\"$PARENT\",type=\"mdacc-4q\"")" 0
expr=$(awk '/alert: VfioMdevTypeExhausted/ { on = 1 } on && /expr:/ { grab = 1; next }
	grab && /^ *(for|labels):/ { exit } grab { print }' "$VFIOSCOPE_REPO/dashboards/alerts.yml")
[ -n "$expr" ] || fail "no VfioMdevTypeExhausted rule in dashboards/alerts.yml"
note "alert expression:$(tr -s ' \n' ' ' <<< "$expr")"
# the rule's expression over the scrape, evaluated by promtool's unit test
# runner (one sample set, no waiting for the rule's 5 minutes)
{
	echo "rule_files: ['$VFIOSCOPE_REPO/dashboards/alerts.yml']"
	echo "evaluation_interval: 1m"
	echo "tests:"
	echo "  - interval: 1m"
	echo "    input_series:"
	grep -E '^vfioscope_mdev_(available_instances|instances)\{' $O/scrape.txt |
		sed -E 's/^([^ ]+) ([0-9]+)$/      - series: '"'"'\1'"'"'\n        values: "\2x3"/'
	echo "    promql_expr_test:"
	echo "      - expr: count($(tr -s ' \n' ' ' <<< "$expr"))"
	echo "        eval_time: 2m"
	echo "        exp_samples:"
	echo "          - labels: '{}'"
	echo "            value: 2"
} > $O/alert-test.yml
promtool test rules $O/alert-test.yml || fail "the alert expression does not select both exhausted types"

for d in /sys/bus/mdev/devices/*; do
	if [ -e "$d/remove" ]; then echo 1 > $d/remove; fi
done
kill -TERM $exp
wait $exp || fail "vfio-policyd --exporter failed: $(tail -n 5 $O/exp.err)"
[ -z "$(kernel_complaints)" ] || fail "kernel: $(kernel_complaints)"
echo "mdev capacity on /metrics and in vfiotop equals sysfs; creates counted per VM"
