# SPDX-License-Identifier: GPL-2.0
# Helpers for the vfio-policyd scenarios (sourced after lib.sh).
PD_SOCK=/run/vfioscope/policyd.sock	# tmpfs: 9p cannot hold sockets

# pd_start POLICY [LOG]: run the daemon, wait until it serves; sets $pd
pd_start() {
	local log=${2:-$VFIOSCOPE_OUT/pd.err}
	vfio-policyd -c "$1" --socket $PD_SOCK ${PD_FLAGS:---no-collector} >> "$log" 2>&1 &
	pd=$!
	wait_for_line "$log" 'ready: control socket' 60 $pd
}

pd_ctl() {
	vfio-policyd --socket $PD_SOCK --ctl "$1"
}

# pd_has COMMAND REGEX: whether the daemon's reply has a matching line
# (the reply is read whole first: grep -q closing a pipe early would fail
# the pipeline under pipefail)
pd_has() {
	local out
	out=$(pd_ctl "$1")
	grep -q -- "$2" <<< "$out"
}

# pd_wait_vm PID: until the daemon's discovery matched process PID
pd_wait_vm() {
	local i
	for i in $(seq 1 100); do
		pd_has vms "^vm $1 " && return 0
		sleep 0.1
	done
	fail "the daemon never matched process $1: $(pd_ctl vms)"
}

# pd_stat RULE PID CLASS FIELD: one counter of the daemon's "vms" reply,
# "none" when the daemon reports no such row (never a silent 0)
pd_stat() {
	local out
	out=$(pd_ctl vms) || fail "the daemon's vms reply failed"
	awk -v r="$1" -v p="$2" -v c="$3" -v f="$4" '
		$1 == "stat" && $3 == r && $5 == p && $7 == c {
			for (i = 8; i < NF; i += 2) if ($i == f) v = $(i + 1)
		}
		END { print v == "" ? "none" : v }' <<< "$out"
}

# val FILE KEY: the value of a "KEY VALUE" line of an exerciser summary
val() {
	awk -v k="$2" '$1 == k { print $2 }' "$1"
}
