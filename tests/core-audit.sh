#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# core-audit.sh AUDIT_DIR RESULT OBJ...: the CO-RE audit (core-audit.py) of
# the BPF objects against every kernel BTF available here, after a
# self-test showing the audit fails a field read with no fallback and
# passes the same read behind a flavour/field_exists fallback
# (AUDIT_DIR holds the two self-test objects). The full table goes to
# RESULT.txt; RESULT gets "passed failed skipped".
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
D=$1 RESULT=$2
shift 2
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "    ok: $*"; }
bad() { fail=$((fail + 1)); echo "    FAILED: $*"; }

out=$("$HERE/core-audit.py" "$D/absent.bpf.o" 2>&1)
if [ $? = 1 ] && grep -q 'FAIL .*task_struct___gone->vfioscope_no_such_field is absent' <<< "$out"; then
	ok "self-test: a field no kernel has, with no fallback, fails the audit"
else
	bad "self-test: the audit did not fail a missing field"; sed 's/^/    | /' <<< "$out"
fi
out=$("$HERE/core-audit.py" "$D/fallback.bpf.o" 2>&1)
if [ $? = 0 ] && grep -q 'guarded (bpf_core_field_exists)' <<< "$out"; then
	ok "self-test: the same field behind a fallback passes, said so"
else
	bad "self-test: the audit did not accept a fallback"; sed 's/^/    | /' <<< "$out"
fi
"$HERE/core-audit.py" "$@" > "$RESULT.txt" 2> "$RESULT.err"
rc=$?
sed 's/^/    /' "$RESULT.err"
grep '^core-audit: ' "$RESULT.txt" | sed 's/^/    /'
if [ $rc = 0 ]; then ok "every relocation of $(echo "$@" | wc -w) objects present or covered on every kernel"
else bad "relocations absent with no fallback (table: $RESULT.txt)"; fi
echo "$pass $fail 0" > "$RESULT"
[ $fail = 0 ]
