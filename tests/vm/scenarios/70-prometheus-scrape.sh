# A real Prometheus server (Debian's, on loopback, scraping every second)
# against the /metrics endpoint: while "vm-a" holds 4 x 1 MiB of DMA
# mappings and "vm-b" has issued 500 GET_INFO ioctls (plus its set-up),
# the figures Prometheus stored equal the exercisers' summaries exactly:
# every (VM, file kind, command) counter of vm-b, the per-command latency
# histogram's count, vm-a's DMA-mapped and pinned bytes; every event class
# reports its tier, the loss counters are there; `promtool check metrics`
# accepts a raw scrape; every metric name the dashboards and alert rules use
# is in it. The endpoint is vfio-policyd's, with a monitor-mode rule.
. "$VFIOSCOPE_REPO/tests/vm/lib.sh"
. "$VFIOSCOPE_REPO/tests/vm/policy-lib.sh"
. "$VFIOSCOPE_REPO/tests/vm/prom-lib.sh"
O=$VFIOSCOPE_OUT
page=$(getconf PAGESIZE)
command -v prometheus > /dev/null || fail "prometheus is not installed (make deps)"
command -v curl > /dev/null || fail "curl is not in the host root"
# the bench guest boots with loopback down
ip link set lo up

# a monitor-mode rule for vm-b: the daemon's decision counters exist too
cat > $O/p.yaml << EOT
mode: monitor
discovery_interval_ms: 200
rules:
  - name: tenant-b
    match:
      - name: "vm-b"
    rate:
      all: {rate: 100000, burst: 100000}
EOT
pd_start_metrics $O/p.yaml
# it is loopback only
ss -ltn 2>/dev/null | grep ":$port " | grep -q '127.0.0.1' ||
	fail "the endpoint is not bound to 127.0.0.1: $(ss -ltn | grep ":$port ")"
expect_eq "GET / is 404" "$(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:$port/)" 404
expect_eq "content type" "$(curl -s -o /dev/null -w '%{content_type}' http://127.0.0.1:$port/metrics)" \
	"text/plain; version=0.0.4; charset=utf-8"

prom_start $port

vfio-exercise --name vm-a dma "$EDU2_BDF" -n 4 --size 1M --hold 120 > $O/vma.txt 2> $O/vma.err &
vma=$!
wait_for_line $O/vma.err mapped 30 $vma
vfio-exercise --name vm-b ioctls "$EDU_BDF" --cmd get-info -n 500 > $O/vmb.txt ||
	fail "vfio-exercise ioctls failed"
pidb=$(awk '$1 == "pid" { print $2 }' $O/vmb.txt)

# a scrape that started after vm-b finished
prom_wait_scrape
curl -s http://127.0.0.1:$port/metrics > $O/scrape.txt

# every (file kind, command) of vm-b, as the exerciser's summary lines
series() {
	api "$1{pid=\"$pidb\"}" |
		jq -r '.data.result[] | "ioctl \(.metric.pid) \(.metric.fd) \(.metric.cmd) \(.value[1])"' | sort
}
awk '$1 == "ioctl"' $O/vmb.txt | sort > $O/vmb.want
series vfioscope_vm_cmd_ioctls_total > $O/vmb.got
diff -u $O/vmb.want $O/vmb.got || fail "vm-b's ioctl counters in Prometheus differ from its summary"
note "vm-b: $(wc -l < $O/vmb.got) commands, $(awk '{ n += $5 } END { print n }' $O/vmb.got) ioctls equal"
series vfioscope_vm_cmd_ioctl_latency_seconds_count > $O/vmb.lat
diff -u $O/vmb.want $O/vmb.lat || fail "vm-b's latency histogram counts differ from its summary"
expect_eq "vm-b ioctls (VM row)" "$(q "vfioscope_vm_ioctls_total{pid=\"$pidb\"}")" \
	"$(awk '$1 == "ioctl" { n += $5 } END { print n }' $O/vmb.txt)"
expect_eq "vm-b is named" "$(api "vfioscope_vm_ioctls_total{pid=\"$pidb\"}" | jq -r '.data.result[0].metric.vm')" vm-b
expect_eq "vm-b's +Inf buckets sum to the count" \
	"$(q "sum(vfioscope_vm_cmd_ioctl_latency_seconds_bucket{pid=\"$pidb\",le=\"+Inf\"})")" \
	"$(q "sum(vfioscope_vm_cmd_ioctl_latency_seconds_count{pid=\"$pidb\"})")"

# vm-a ($vma) still holds its mappings; its summary comes when it exits
held_map=$(q "vfioscope_vm_dma_map_bytes_total{pid=\"$vma\"}")
held_mapped=$(q "vfioscope_vm_dma_mapped_bytes{pid=\"$vma\"}")
held_pinned=$(q "vfioscope_vm_pinned_bytes{pid=\"$vma\"}")
held_maps=$(q "vfioscope_vm_dma_maps_total{pid=\"$vma\"}")
kill -USR1 $vma
wait $vma || fail "vfio-exercise dma failed: $(cat $O/vma.err)"
expect_eq "vm-a pid" "$(awk '$1 == "pid" { print $2 }' $O/vma.txt)" $vma
expect_eq "vm-a DMA-mapped bytes" "$held_map" "$(awk '$1 == "dma_map_bytes" { print $2 }' $O/vma.txt)"
expect_eq "vm-a mapped bytes while held" "$held_mapped" $((4 << 20))
expect_eq "vm-a pinned bytes while held" "$held_pinned" \
	$(($(awk '$1 == "dma_pinned_pages" { print $2 }' $O/vma.txt) * page))
expect_eq "vm-a DMA maps" "$held_maps" 4

group=$(basename "$(readlink /sys/bus/pci/devices/$EDU_BDF/iommu_group)")
driver=$(basename "$(readlink /sys/bus/pci/devices/$EDU_BDF/driver)")
api "vfioscope_device_ioctls_total{device=\"$EDU_BDF\"}" | jq -c '.data.result[0].metric' > $O/dev.json
expect_eq "$EDU_BDF labels" "$(jq -r '[.type, .driver, .iommu_group, .vm] | join(" ")' $O/dev.json)" \
	"vfio $driver $group vm-b"
# as many classes as --features lists (its header, start-up and bpf-lsm
# lines aside), read from a scrape that succeeded
prom_wait_scrape
classes=$(vfiosnoop --features 2>/dev/null | grep -vc '^CLASS\|^bpf-lsm\|^start-up')
expect_eq "tier reported for every event class" "$(q 'count(vfioscope_collector_tier_info)')" "$classes"
expect_eq "vfio-ioctl has a tier" \
	"$(q 'count(vfioscope_collector_tier_info{class="vfio-ioctl",tier!="unsupported"})')" 1
expect_eq "ring buffer losses counted" \
	"$(q 'vfioscope_collector_drops_total{stage="ringbuf",reason="ringbuf_full"}')" 0

promtool check metrics < $O/scrape.txt || fail "promtool check metrics rejected a raw scrape"
note "$(grep -c '^# TYPE' $O/scrape.txt) families, $(grep -vc '^#' $O/scrape.txt) samples in a raw scrape"
expect_eq "the daemon's own families in Prometheus (policy generation)" \
	"$(q 'vfioscope_policy_generation')" 1
"$VFIOSCOPE_REPO/scripts/check-dashboards.sh" $O/scrape.txt ||
	fail "the dashboards or alert rules use names this scrape lacks"
# make check runs the same check on a stored scrape: it must have the same families
fixture=$VFIOSCOPE_REPO/dashboards/testdata/scrape.txt
diff -u <(awk '$2 == "TYPE"' $fixture) <(awk '$2 == "TYPE"' $O/scrape.txt) ||
	fail "the exporter's families changed: refresh $fixture from this run's scrape"
kill $prom
wait $prom || true
kill -TERM $pd
wait $pd || fail "vfio-policyd failed: $(tail -n 5 $O/pd.err)"
[ -z "$(kernel_complaints)" ] || fail "kernel complaints: $(kernel_complaints)"
echo "Prometheus holds the exercisers' counts exactly"
