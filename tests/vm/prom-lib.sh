# SPDX-License-Identifier: GPL-2.0
# Debian's Prometheus server in the bench guest, on loopback (sourced after
# lib.sh): it scrapes vfio-policyd's /metrics every second as job
# "vfioscope" (the name the dashboards and rules expect) and evaluates the
# dashboards' alert rules.

# prom_start PORT: scrape 127.0.0.1:PORT; sets $prom, returns once the
# first scrape is stored (up == 1)
prom_start() {
	local i t0
	# the bench guest boots with loopback down
	ip link set lo up
	mkdir -p /tmp/prom
	cat > /tmp/prom/prometheus.yml <<- CONF
	global:
	  scrape_interval: 1s
	  scrape_timeout: 1s
	  evaluation_interval: 1s
	rule_files:
	  - $VFIOSCOPE_REPO/dashboards/alerts.yml
	scrape_configs:
	  - job_name: vfioscope
	    static_configs:
	      - targets: ['127.0.0.1:$1']
	CONF
	prometheus --config.file=/tmp/prom/prometheus.yml --storage.tsdb.path=/tmp/prom/data \
		--web.listen-address=127.0.0.1:9090 > $VFIOSCOPE_OUT/prom.log 2>&1 &
	prom=$!
	t0=$(date +%s)
	for i in $(seq 1 600); do
		[ "$(q 'up{job="vfioscope"}')" = 1 ] && break
		kill -0 $prom 2> /dev/null || fail "prometheus exited: $(tail -n 5 $VFIOSCOPE_OUT/prom.log)"
		sleep 0.2
	done
	expect_eq "prometheus scrapes the endpoint" "$(q 'up{job="vfioscope"}')" 1
	note "prometheus up and scraping after $(($(date +%s) - t0)) s"
}

# api QUERY: Prometheus' answer to an instant query
api() { curl -s --get http://127.0.0.1:9090/api/v1/query --data-urlencode "query=$1"; }
# q QUERY: the value of the single series QUERY selects ("" if none)
q() { api "$1" | jq -r '.data.result[0].value[1] // empty'; }

# prom_wait_scrape: until Prometheus stored a scrape that started after now
# and succeeded (a failed one, e.g. past the 1 s timeout under a busy TCG
# guest, leaves every series stale until the next)
prom_wait_scrape() {
	local t ts i
	t=$(date +%s.%N)
	for i in $(seq 1 300); do
		ts=$(q 'timestamp(up{job="vfioscope"} == 1)')
		[ -n "$ts" ] && jq -e -n "$ts > $t" > /dev/null && return 0
		sleep 0.2
	done
	fail "no scrape stored after $t"
}

# pd_start_metrics POLICY [FLAG...]: vfio-policyd (and its FLAGs) with its
# collectors and /metrics on a free loopback port; sets $pd and $port
pd_start_metrics() {
	local policy=$1
	shift
	PD_FLAGS="--metrics-port 0 $*" pd_start "$policy" $VFIOSCOPE_OUT/pd.err
	port=$(sed -n 's/.*metrics on 127\.0\.0\.1:\([0-9]*\)$/\1/p' $VFIOSCOPE_OUT/pd.err | tail -n 1)
	[ -n "$port" ] || fail "the daemon logged no metrics port: $(cat $VFIOSCOPE_OUT/pd.err)"
	note "metrics on 127.0.0.1:$port"
}

# readers_start CLASS: every reader of one event class at once, attached
# before the caller acts: vfiosnoop -j -c CLASS (snoop.json), vfiostat
# (stat.txt), a batch vfiotop (top.json), and vfio-policyd's /metrics with
# a monitor-mode rule that matches nobody; sets $snoop $stat $top $pd $port
readers_start() {
	local O=$VFIOSCOPE_OUT
	vfiosnoop -j -c "$1" > $O/snoop.json 2> $O/snoop.err &
	snoop=$!
	vfiostat > $O/stat.txt 2> $O/stat.err &
	stat=$!
	vfiotop -b -j -d 1 > $O/top.json 2> $O/top.err &
	top=$!
	cat > $O/p.yaml <<-EOT
	mode: monitor
	rules:
	  - name: nobody
	    match:
	      - name: "no-such-vm"
	    rate:
	      all: {rate: 100000, burst: 100000}
	EOT
	pd_start_metrics $O/p.yaml
	wait_for_line $O/snoop.err attached 60 $snoop
	wait_for_line $O/stat.err attached 60 $stat
	wait_for_line $O/top.json '"frame"' 60 $top
}
