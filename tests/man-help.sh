#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# man-help.sh BINDIR RESULT: each installed tool's --help and its man page
# (man/, the pages' one source) name the same long options: every --option
# --help lists is defined in the page's OPTIONS or COMMANDS (a .TP tag), and
# every option defined there is in --help. Every page also renders without
# a warning (man --warnings). Part of `make check`; writes "passed failed
# skipped" to RESULT.
set -uo pipefail
BIN=${1:?usage: man-help.sh BINDIR RESULT}
RESULT=${2:?usage: man-help.sh BINDIR RESULT}
cd "$(dirname "$0")/.."
bad=0
fail() { echo "man-help: FAIL: $*"; bad=$((bad + 1)); }

# the long options of TOOL's --help: every --word, except those following
# another tool's name on the same line ("remove with vfiostat --unpin")
help_opts() {
	"$BIN/$1" --help 2>/dev/null | awk -v tool="$1" '{
		cur = tool
		for (i = 1; i <= NF; i++) {
			w = $i
			gsub(/[^a-z0-9-]/, " ", w)
			n = split(w, part, " ")
			for (j = 1; j <= n; j++) {
				if (part[j] ~ /^vfio[a-z-]*$/)
					cur = part[j]
			}
			for (w = $i; cur == tool && match(w, /--[a-z][a-z0-9-]*/);
			     w = substr(w, RSTART + RLENGTH))
				print substr(w, RSTART, RLENGTH)
		}
	}' | sort -u
}

# the long options the page defines: the tag line of each .TP in OPTIONS
# and COMMANDS (roff's \- read as -, font escapes dropped)
man_opts() {
	sed 's/\\-/-/g; s/\\f[BIRP]//g' "$1" | awk '
		/^\.SH/ { keep = ($2 == "OPTIONS" || $2 == "COMMANDS"); next }
		keep && tag { print; tag = 0; next }
		keep && /^\.TP/ { tag = 1 }' |
		grep -o -- '--[a-z][a-z0-9-]*' | sort -u
}

pages=0
for spec in vfiotop:1 vfiosnoop:1 vfiomig:1 vfiostat:1 vfio-exercise:1 vfio-policyd:8; do
	tool=${spec%:*}
	page=man/$tool.${spec#*:}
	[ -f "$page" ] || { fail "$tool has no man page ($page)"; continue; }
	[ -x "$BIN/$tool" ] || { fail "$tool was not built ($BIN/$tool)"; continue; }
	h=$(help_opts "$tool")
	m=$(man_opts "$page")
	[ -n "$h" ] || { fail "$tool --help lists no long option"; continue; }
	only_help=$(comm -23 <(echo "$h") <(echo "$m") | tr '\n' ' ')
	only_man=$(comm -13 <(echo "$h") <(echo "$m") | tr '\n' ' ')
	[ -z "$only_help" ] || fail "$tool: in --help, not in $page: $only_help"
	[ -z "$only_man" ] || fail "$tool: in $page, not in --help: $only_man"
	pages=$((pages + 1))
done
for page in man/*.[158]; do
	w=$(MANWIDTH=80 man --warnings -l "$page" 2>&1 > /dev/null)
	[ -z "$w" ] || fail "$page renders with warnings: $w"
done
echo "man-help: $pages tools' --help and man pages compared, $(ls man/*.[158] | wc -l) pages rendered"
if [ $bad = 0 ]; then echo "1 0 0" > "$RESULT"; else echo "0 1 0" > "$RESULT"; fi
[ $bad = 0 ]
