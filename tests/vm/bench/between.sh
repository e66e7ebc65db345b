# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Sourced by guest.sh when one guest runs several scenarios in a row: what
# a scenario leaves behind is taken away before the next one starts, and
# the next one starts only if the guest is then exactly as the set-up left
# it. bench_baseline DIR records that state right after the set-up;
# bench_reset DIR kills every process the scenario left (whatever
# cgroup or session it moved to), unmounts its mounts, removes its cgroups,
# BPF pins and files in the guest's tmpfs directories, then compares the
# guest's state with the baseline and prints what differs (exit 1): the
# caller then stops, and the host boots a fresh guest for the rest. What is
# compared is what a scenario can change and another can see: modules and
# their reference counts, each PCI device's driver and VFs, mdev and vDPA
# devices, BPF programs and links, tracefs settings, network links, our
# modules' parameters, the kernel's taint.

# live user-space processes, one pid per line, but those of the calling
# shell ($$ among their ancestors: this file's own commands); kernel
# threads have PF_KTHREAD, zombies cannot be killed and only wait to be
# reaped
bench_pids() {
	local p stat state ppid flags
	declare -A parent=()
	local -a live=()
	for p in /proc/[0-9]*; do
		read -r stat < "$p/stat" 2>/dev/null || continue
		stat=${stat##*) }
		# fields after the comm: state ppid pgrp session tty tpgid flags
		read -r state ppid _ _ _ _ flags _ <<< "$stat"
		(( flags & 0x200000 )) && continue
		p=${p#/proc/}
		parent[$p]=$ppid
		[ "$state" = Z ] || live+=("$p")
	done
	for p in "${live[@]}"; do
		ppid=$p
		while [ -n "$ppid" ] && [ "$ppid" -gt 1 ] && [ "$ppid" != $$ ]; do
			ppid=${parent[$ppid]:-}
		done
		[ "$ppid" = $$ ] || echo "$p"
	done
}

bench_state() {
	local d f
	echo "tainted $(cat /proc/sys/kernel/tainted)"
	awk '{ print "module", $1, $3 }' /proc/modules | sort
	for d in /sys/bus/pci/devices/*; do
		f=-
		[ ! -e "$d/driver" ] || f=$(basename "$(readlink "$d/driver")")
		echo "pci ${d##*/} $f $(cat "$d/sriov_numvfs" 2>/dev/null)"
	done
	for d in /sys/bus/mdev/devices/* /sys/bus/vdpa/devices/*; do
		[ -e "$d" ] || continue
		f=-
		[ ! -e "$d/driver" ] || f=$(basename "$(readlink "$d/driver")")
		echo "dev ${d#/sys/bus/} $f"
	done
	for f in /sys/class/mdev_bus/*/mdev_supported_types/*/available_instances; do
		[ -e "$f" ] && echo "mdev-type $f $(cat "$f")"
	done
	grep -rs . /sys/module/{mdacc,vfioscope_trace,edu_vfio_pci,vdpa_sim}/parameters |
		sed 's/^/param /'
	echo "bpf progs $(bpftool prog list -j 2>/dev/null | jq length)"
	echo "bpf links $(bpftool link list -j 2>/dev/null | jq length)"
	d=/sys/kernel/tracing
	echo "tracing_on $(cat $d/tracing_on) tracer $(cat $d/current_tracer)"
	for f in set_event kprobe_events uprobe_events dynamic_events set_ftrace_filter; do
		[ -r "$d/$f" ] && sed "s/^/trace $f /" "$d/$f" | grep -v ' #'
	done
	grep -r . $d/options | sed 's/^/trace option /'
	ip -o link show | awk '{ print "link", $2, $3 }'
	find /sys/fs/bpf /sys/fs/cgroup -mindepth 1 -type d 2>/dev/null | sort | sed 's/^/dir /'
	find /sys/fs/bpf -mindepth 1 2>/dev/null | sort | sed 's/^/pin /'
}

BENCH_TMPDIRS="/tmp /var/tmp /run /run/vfioscope /root /dev/shm"

bench_baseline() {	# DIR
	mkdir -p "$1"
	bench_pids > "$1/pids"
	awk '{ print $2 }' /proc/self/mounts > "$1/mounts"
	local d
	for d in $BENCH_TMPDIRS; do ls -A "$d" | sed "s|^|$d/|"; done > "$1/files"
	bench_state > "$1/state"
}

bench_reset() {	# DIR
	local base=$1 i p left d f
	# 1. processes: SIGKILL everything new
	for i in $(seq 1 50); do
		left=
		for p in $(bench_pids | grep -vxF -f "$base/pids"); do
			kill -KILL "$p" 2>/dev/null && left="$left $p"
		done
		[ -z "$left" ] && break
		sleep 0.1
	done
	[ -z "$left" ] || { echo "processes that would not die:$left"; return 1; }
	# 2. mounts, innermost first
	awk '{ print $2 }' /proc/self/mounts | grep -vxF -f "$base/mounts" | tac |
		while read -r d; do umount -l "$d" || echo "cannot unmount $d"; done
	# 3. BPF pins and cgroups (a cgroup goes once its last task is reaped)
	for f in $(find /sys/fs/bpf -mindepth 1 -maxdepth 1 2>/dev/null); do
		grep -qx "pin $f" "$base/state" || rm -rf "$f"
	done
	for i in $(seq 1 20); do
		left=
		for d in $(find /sys/fs/cgroup -mindepth 1 -type d | sort -r); do
			grep -qxF "dir $d" "$base/state" && continue
			rmdir "$d" 2>/dev/null || left="$left $d"
		done
		[ -z "$left" ] && break
		sleep 0.1
	done
	# 4. files in the guest's own (tmpfs) directories
	for d in $BENCH_TMPDIRS; do
		for f in $(ls -A "$d"); do
			grep -qxF "$d/$f" "$base/files" || rm -rf "${d:?}/$f"
		done
	done
	# 5. the rest must be as it was; a file put back, a link released and a
	# module reference dropped may take a moment after the last exit
	for i in $(seq 1 30); do
		bench_state > "$base/now"
		cmp -s "$base/state" "$base/now" && return 0
		sleep 0.2
	done
	diff "$base/state" "$base/now" | grep '^[<>]' | head -n 8 | tr '\n' ';'
	echo
	return 1
}
