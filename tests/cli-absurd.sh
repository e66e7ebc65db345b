#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# cli-absurd.sh BINDIR RESULT: absurd command-line values for the five
# tools (durations, counts, ring and map sizes, tiers, unknown options,
# stray arguments): each must exit with status 2 and one line on stderr
# naming the tool, print nothing on stdout, and never hang. Part of
# `make check` (argument parsing needs no kernel and no root); writes
# "passed failed skipped" to RESULT.
set -uo pipefail
BIN=${1:?usage: cli-absurd.sh BINDIR RESULT}
RESULT=${2:?usage: cli-absurd.sh BINDIR RESULT}
export PATH=$BIN:$PATH
O=$(mktemp -d)
trap 'rm -rf "$O"' EXIT
: > $O/cli-all.txt
bad=0
fail() { echo "cli-absurd: FAIL: $*"; bad=$((bad + 1)); }
note() { echo "cli-absurd: $*"; }
n=0
absurd() {	# TOOL ARGS... : exit status 2, one line "TOOL: ..."
	local t=$1 rc=0
	shift
	timeout 20 $t "$@" < /dev/null > $O/cli.out 2> $O/cli.err || rc=$?
	n=$((n + 1))
	[ $rc = 2 ] || { fail "$t $*: exit status $rc: $(cat $O/cli.err)"; return; }
	[ "$(wc -l < $O/cli.err)" = 1 ] && grep -q "^$t: " $O/cli.err ||
		{ fail "$t $*: not one line: $(cat $O/cli.err)"; return; }
	[ ! -s $O/cli.out ] || { fail "$t $*: printed on stdout: $(head -3 $O/cli.out)"; return; }
	cat $O/cli.err >> $O/cli-all.txt
}
for t in vfiotop vfiosnoop vfiomig vfiostat; do
	for a in -1 1e99 abc 0 nan inf 99999999999999999999 ""; do
		absurd $t -d "$a"
	done
	absurd $t --bogus
	absurd $t -Z
	absurd $t -d
	absurd $t stray-argument
done
for a in 0 -5 99999999999999999999 4294967297 1e3 abc; do
	absurd vfiotop -n "$a"
done
for t in vfiotop vfiosnoop vfiostat; do
	for a in 3 5000 12k 1T 2G 0 -4096 abc; do
		absurd $t --ringbuf "$a"
	done
	for a in 0 -1 1048577 99999999999999999999 1k; do
		absurd $t --map-entries "$a"
	done
	absurd $t --tier nothing
	absurd $t --tier vfio-ioctl=warp
done
for t in vfiotop vfiosnoop; do
	for a in 0 -1 abc 4194305 99999999999999999999; do
		absurd $t -p "$a"
	done
done
absurd vfio-policyd --exporter --no-metrics
for a in "--bogus" "-Z" "--check" "--metrics-port 70000" "--metrics-port -1" "--ctl" "stray"; do
	absurd vfio-policyd $a
done
grep -q "^vfiotop: --ringbuf: 5000 is not a power of two" $O/cli-all.txt || fail "--ringbuf 5000 taken"
note "$n absurd command lines, $(wc -l < $O/cli-all.txt) refused with exit status 2 and one line"


if [ $bad = 0 ]; then echo "1 0 0" > "$RESULT"; else echo "0 1 0" > "$RESULT"; fi
[ $bad = 0 ]
