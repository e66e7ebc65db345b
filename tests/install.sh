#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# install.sh O RESULT: `make install` into a scratch DESTDIR with a PREFIX
# and sbindir of its own: every tool lands in bindir (vfio-policyd in
# sbindir) and says its --version from there, the unit's ExecStart and
# --check name that sbindir and sysconfdir, the example policy checks, the
# man pages, completions, dashboards and docs are there; then `make
# uninstall` leaves no file behind. Part of `make check`; writes "passed
# failed skipped" to RESULT.
set -uo pipefail
O=${1:?usage: install.sh O RESULT}
RESULT=${2:?usage: install.sh O RESULT}
cd "$(dirname "$0")/.."
D=$(mktemp -d)
trap 'rm -rf "$D"' EXIT
bad=0
fail() { echo "install: FAIL: $*"; bad=$((bad + 1)); }
vars=(O="$O" DESTDIR="$D" PREFIX=/opt/vfs sbindir=/opt/vfs/admin sysconfdir=/etc/opt/vfs)

make --no-print-directory -s "${vars[@]}" install > "$D.log" 2>&1 || fail "make install: $(tail -n 3 "$D.log")"
for t in vfiotop vfiosnoop vfiomig vfiostat vfio-exercise; do
	v=$("$D/opt/vfs/bin/$t" --version 2>&1) || fail "$t --version from bindir: $v"
	[[ $v == "$t "* ]] || fail "$t --version: '$v'"
	[ -f "$D/opt/vfs/share/man/man1/$t.1" ] || fail "no man page for $t"
	[ -f "$D/opt/vfs/share/bash-completion/completions/$t" ] || fail "no completion for $t"
done
"$D/opt/vfs/admin/vfio-policyd" --version > /dev/null || fail "vfio-policyd is not in sbindir"
unit=$D/opt/vfs/lib/systemd/system/vfio-policyd.service
[ "$(sed -n 's/^ExecStart=//p' "$unit")" = "/opt/vfs/admin/vfio-policyd -c /etc/opt/vfs/vfioscope/policy.yaml" ] ||
	fail "the unit's ExecStart: $(grep ExecStart "$unit")"
! grep -q '@[a-z]*@' "$unit" || fail "the unit kept a template variable: $(grep '@[a-z]*@' "$unit")"
unit=$D/opt/vfs/lib/systemd/system/vfioscope-exporter.service
[ "$(sed -n 's/^ExecStart=//p' "$unit")" = "/opt/vfs/admin/vfio-policyd --exporter --socket /run/vfioscope/exporter.sock" ] ||
	fail "the exporter unit's ExecStart: $(grep ExecStart "$unit" 2>&1)"
! grep -q '@[a-z]*@' "$unit" || fail "the exporter unit kept a template variable: $(grep '@[a-z]*@' "$unit")"
"$D/opt/vfs/admin/vfio-policyd" --check "$D/etc/opt/vfs/vfioscope/policy.yaml.example" > /dev/null ||
	fail "the installed example policy does not check"
for f in share/man/man5/vfioscope-policy.5 share/man/man8/vfio-policyd.8 \
	share/vfioscope/dashboards/alerts.yml share/vfioscope/dashboards/vfioscope-host.json \
	share/doc/vfioscope/README.md share/doc/vfioscope/policy.md; do
	[ -f "$D/opt/vfs/$f" ] || fail "$f was not installed"
done
[ ! -e "$D/opt/vfs/bin/vfio-ioctlcount" ] || fail "the bench's vfio-ioctlcount was installed"
n=$(find "$D" -type f | wc -l)
make --no-print-directory -s "${vars[@]}" uninstall > "$D.log" 2>&1 || fail "make uninstall: $(tail -n 3 "$D.log")"
left=$(find "$D" -type f)
[ -z "$left" ] || fail "uninstall left: $left"
rm -f "$D.log"
echo "install: $n files installed under a scratch DESTDIR, all removed again"
if [ $bad = 0 ]; then echo "1 0 0" > "$RESULT"; else echo "0 1 0" > "$RESULT"; fi
[ $bad = 0 ]
