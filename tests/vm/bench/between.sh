# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Sourced by guest.sh when one guest runs several scenarios in a row: what
# a scenario leaves behind is taken away before the next one starts, and
# the next one starts only if the guest is then exactly as the set-up left
# it. bench_baseline DIR records that state right after the set-up;
# bench_reset DIR kills every process the scenario left (whatever
# cgroup or session it moved to), unmounts its mounts, removes its cgroups,
# BPF pins and files in the guest's tmpfs directories, puts the PCI
# devices back on their drivers, unloads modules the set-up did not load,
# turns tracing back on or off, then compares the
# guest's state with the baseline and prints what differs (exit 1): the
# caller then stops, and the host boots a fresh guest for the rest. What is
# compared is what a scenario can change and another can see: modules and
# their reference counts, each PCI device's driver and VFs, mdev and vDPA
# devices, BPF programs and links, tracefs settings, network and block
# devices, our
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

# (few commands: a fork costs milliseconds under TCG)
bench_state() {
	local d f n
	read -r n < /proc/sys/kernel/tainted
	echo "tainted $n"
	awk '{ print "module", $1, $3 }' /proc/modules | sort
	for d in /sys/bus/{pci,mdev,vdpa}/devices/*; do
		[ -e "$d" ] || continue
		n=
		[ ! -r "$d/sriov_numvfs" ] || read -r n < "$d/sriov_numvfs"
		echo "dev $d $n"
	done
	for d in /sys/bus/{pci,mdev,vdpa}/drivers/*/*; do
		[ -L "$d" ] && [ "${d##*/}" != module ] && echo "bound $d"
	done
	for f in /sys/class/mdev_bus/*/mdev_supported_types/*/available_instances; do
		[ -e "$f" ] || continue
		read -r n < "$f"
		echo "mdev-type $f $n"
	done
	for f in /sys/module/{mdacc,vfioscope_trace,edu_vfio_pci,vdpa_sim}/parameters/*; do
		[ -r "$f" ] || continue
		read -r n < "$f"
		echo "param $f $n"
	done
	printf 'prog list\nlink list\n' | bpftool -j batch file - 2>&1 |
		jq -r '.[] | "bpf \(.command | join(" ")) \(.output | length)"' 2>&1
	d=/sys/kernel/tracing
	read -r n < $d/tracing_on
	read -r f < $d/current_tracer
	echo "tracing_on $n tracer $f"
	grep -Hv '^#' $d/set_event $d/kprobe_events $d/uprobe_events $d/dynamic_events
	grep -r . $d/options | sed 's/^/trace option /'
	for d in /sys/class/net/* /sys/block/*; do echo "link $d"; done
	find /sys/fs/cgroup -mindepth 1 -type d | sed 's/^/path /'
	find /sys/fs/bpf -mindepth 1 | sed 's/^/path /'
}

bench_files() {
	local f
	for f in /tmp/* /tmp/.[!.]* /var/tmp/* /var/tmp/.[!.]* /run/* /run/.[!.]* \
		/run/vfioscope/* /root/* /root/.[!.]* /dev/shm/* /dev/shm/.[!.]*; do
		[ -e "$f" ] || [ -L "$f" ] && echo "$f"
	done
}

bench_baseline() {	# DIR
	mkdir -p "$1"
	bench_pids > "$1/pids"
	awk '{ print $2 }' /proc/self/mounts > "$1/mounts"
	bench_files > "$1/files"
	bench_state > "$1/state"
}

# what the set-up itself decides, as the set-up made it: each PCI and vDPA
# device on its driver (a scenario binds edu to the variant driver, or a
# vDPA device to vhost_vdpa; a block or net device that comes back under
# another name is a difference all the same), no mdev instance or vDPA
# device it did not create, no module it
# did not load, tracing on or off as it was, no trace event enabled
bench_restore() {	# DIR (with the state now in DIR/now)
	local base=$1 d p f
	for d in $(grep -E '^bound /sys/bus/(pci|vdpa)/' "$base/state" | grep -vxF -f "$base/now" | cut -c 7-); do
		f=${d#/sys/bus/}
		f=/sys/bus/${f%%/*}
		p=$f/devices/${d##*/}
		[ ! -e "$p/driver" ] || echo "${d##*/}" > "$p/driver/unbind"
		echo "$(basename "${d%/*}")" > "$p/driver_override"
		echo "${d##*/}" > "$f/drivers_probe"
	done
	# an mdev instance or a vDPA device the set-up did not create
	for d in $(grep -E '^dev /sys/bus/(mdev|vdpa)/' "$base/now" | grep -vxF -f "$base/state" | cut -d' ' -f2); do
		case $d in
		/sys/bus/mdev/*) echo 1 > "$d/remove" ;;
		*) vdpa dev del "${d##*/}" ;;
		esac
	done 2> /dev/null
	for f in $(awk '$1 == "module" { print $2 }' "$base/now"); do
		grep -q "^module $f " "$base/state" || rmmod "$f" 2> /dev/null
	done
	d=$(sed -n 's/^tracing_on \([01]\) .*/\1/p' "$base/state")
	grep -q "^tracing_on $d " "$base/now" || echo "$d" > /sys/kernel/tracing/tracing_on
	grep -q '^/sys/kernel/tracing/set_event:' "$base/state" || : > /sys/kernel/tracing/set_event
}

bench_reset() {	# DIR
	local base=$1 p left d f
	# 1. processes: SIGKILL everything new
	for _ in $(seq 1 50); do
		left=
		for p in $(bench_pids | grep -vxF -f "$base/pids"); do
			kill -KILL "$p" 2>/dev/null && left="$left $p"
		done
		[ -z "$left" ] && break
		sleep 0.1
	done
	if [ -n "$left" ]; then
		echo -n "processes that would not die:"
		for p in $left; do echo -n " $p $(cat "/proc/$p/comm" 2>/dev/null)"; done
		echo
		return 1
	fi
	# 2. mounts, innermost first
	awk '{ print $2 }' /proc/self/mounts | grep -vxF -f "$base/mounts" | tac |
		while read -r d; do umount -l "$d" || echo "cannot unmount $d"; done
	# 3. BPF pins and cgroups (a cgroup goes once its last task is reaped)
	for f in $(find /sys/fs/bpf -mindepth 1 -maxdepth 1 | sed 's/^/path /' |
		   grep -vxF -f "$base/state" | cut -c 6-); do
		rm -rf "$f"
	done
	for _ in $(seq 1 20); do
		left=
		for d in $(find /sys/fs/cgroup -mindepth 1 -type d | sort -r | sed 's/^/path /' |
			   grep -vxF -f "$base/state" | cut -c 6-); do
			rmdir "$d" 2>/dev/null || left="$left $d"
		done
		[ -z "$left" ] && break
		sleep 0.1
	done
	# 4. files in the guest's own (tmpfs) directories
	for f in $(bench_files | grep -vxF -f "$base/files"); do
		rm -rf "$f"
	done
	# 5. the rest must be as it was. A BPF program detached from a module's
	# function drops its reference on that module only after RCU-tasks
	# grace periods, which take seconds under TCG: more than 5 s, seen
	# after the collectors of 06 (a boot costs 15-40 s)
	local end=$((SECONDS + 20))
	while :; do
		bench_state > "$base/now"
		cmp -s "$base/state" "$base/now" && return 0
		[ $SECONDS -lt $end ] || break
		bench_restore "$base"
		sleep 0.2
	done
	diff "$base/state" "$base/now" | grep '^[<>]' | head -n 8 | tr '\n' ';'
	echo
	return 1
}
