#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# summary.sh RESULT...: add up the stages' "passed failed skipped" files into
# the closing line of `make test`. A stage that left no result (it did not
# build, or crashed) counts as one failure, named.
set -u
p=0 f=0 s=0
for r in "$@"; do
	stage=$(basename "$r")
	if [ ! -s "$r" ]; then
		echo "test: stage '$stage' produced no result: counted as failed"
		f=$((f + 1))
		continue
	fi
	read -r rp rf rs < "$r"
	echo "test: $stage: $rp passed, $rf failed, $rs skipped"
	p=$((p + rp)) f=$((f + rf)) s=$((s + rs))
done
echo "$p passed, $f failed, $s skipped"
[ $f = 0 ]
