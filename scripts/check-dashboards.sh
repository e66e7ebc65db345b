#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# check-dashboards.sh SCRAPE: the dashboards and alert rules against a real
# /metrics scrape. promtool accepts the rules and the example scrape
# config; every dashboard is JSON; every metric name the dashboards'
# queries and the rules use (vfioscope_*, process_*) is a family of SCRAPE
# (histograms with their _bucket, _sum and _count series).
set -euo pipefail
cd "$(dirname "$0")/.."
scrape=${1:?usage: check-dashboards.sh SCRAPE}
[ -s "$scrape" ] || { echo "check-dashboards: $scrape is missing or empty" >&2; exit 1; }
fail=0
promtool check rules dashboards/alerts.yml > /dev/null ||
	{ echo "check-dashboards: promtool rejects dashboards/alerts.yml" >&2; fail=1; }
promtool check config dashboards/prometheus.yml > /dev/null ||
	{ echo "check-dashboards: promtool rejects dashboards/prometheus.yml" >&2; fail=1; }

known=$(mktemp)
used=$(mktemp)
trap 'rm -f "$known" "$used"' EXIT
awk '$1 == "#" && $2 == "TYPE" {
	print $3
	if ($4 == "histogram") { print $3 "_bucket"; print $3 "_sum"; print $3 "_count" }
}' "$scrape" | sort -u > "$known"
for f in dashboards/*.json; do
	jq -e '.panels | length > 0' "$f" > /dev/null ||
		{ echo "check-dashboards: $f is not a dashboard with panels" >&2; fail=1; continue; }
	jq -r '.. | objects | (.expr?, .query?.query?, .definition?) | strings' "$f"
done > "$used.q"
grep -v '^ *#' dashboards/alerts.yml >> "$used.q"
grep -oE '\b(vfioscope|vfio_policyd|process)_[a-zA-Z0-9_:]+' "$used.q" | sort -u > "$used"
rm -f "$used.q"
missing=$(comm -23 "$used" "$known")
if [ -n "$missing" ]; then
	echo "check-dashboards: used by the dashboards or rules but not in $scrape:" >&2
	echo "$missing" | sed 's/^/  /' >&2
	fail=1
fi
[ $fail = 0 ] && echo "dashboards: $(wc -l < "$used") metric names used, all in $(basename "$scrape"); rules and scrape config pass promtool"
exit $fail
