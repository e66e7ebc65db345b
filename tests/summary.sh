#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# summary.sh RESULT...: add up the stages' "passed failed skipped [retried]"
# files into the closing line of `make test`, "N passed, M failed, S
# skipped (K passed after a retry)" (CI reads "N passed, M failed";
# a stage's RESULT.why lines, what failed and why, are repeated just above it;
# retried: passes that needed a second guest, see tests/vm/run.sh; stages
# without the field had none). A stage that left
# no result (it did not build, or crashed) counts as one failure, named.
set -u
p=0 f=0 s=0 k=0
for r in "$@"; do
	stage=$(basename "$r")
	if [ ! -s "$r" ]; then
		echo "test: stage '$stage' produced no result: counted as failed"
		f=$((f + 1))
		continue
	fi
	read -r rp rf rs rk < "$r"
	rk=${rk:-0}
	echo "test: $stage: $rp passed, $rf failed, $rs skipped ($rk passed after a retry)"
	[ ! -s "$r.why" ] || sed "s/^/test: $stage: failed: /" "$r.why"
	p=$((p + rp)) f=$((f + rf)) s=$((s + rs)) k=$((k + rk))
done
echo "$p passed, $f failed, $s skipped ($k passed after a retry)"
[ $f = 0 ]
