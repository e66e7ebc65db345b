# SPDX-License-Identifier: GPL-2.0
# Helpers for the vfiomig scenarios (sourced after lib.sh): a VM of several
# devices migrated by vfio-exercise, and vfiomig's account of it checked
# against the exerciser's own timestamps.

# mig_within WHAT GOT WANT: |GOT - WANT| <= 2 ms (ns values)
mig_within() {
	local d=$(( $2 > $3 ? $2 - $3 : $3 - $2 ))
	[ "$d" -le 2000000 ] || fail "$1: vfiomig $2 ns, exerciser $3 ns: $d ns apart (> 2 ms)"
	note "$1: vfiomig $2 ns, exerciser $3 ns ($d ns apart)"
}

# bench_mdacc_create UUID...: mdacc-1q instances
bench_mdacc_create() {
	local u
	for u in "$@"; do
		echo "$u" > "$MDACC_PARENT/mdev_supported_types/mdacc-1q/create" || fail "create mdev $u"
	done
}

bench_mdacc_remove() {
	local u
	for u in "$@"; do
		echo 1 > "/sys/bus/mdev/devices/$u/remove"
	done
}

# bench_edu_variant: both edu devices on the migratable variant driver
bench_edu_variant() {
	local bdf d
	modprobe edu_vfio_pci || fail "modprobe edu_vfio_pci failed"
	for bdf in "$EDU_BDF" "$EDU2_BDF"; do
		d=/sys/bus/pci/devices/$bdf
		[ "$(basename "$(readlink "$d/driver")")" = edu_vfio_pci ] && continue
		echo "$bdf" > "$d/driver/unbind"
		echo edu_vfio_pci > "$d/driver_override"
		echo "$bdf" > /sys/bus/pci/drivers_probe
	done
}

# mig_check_vm MIG_JSON CLIENT_TXT DOMINANT: one migration of every pair
# the exerciser moved; per device and per VM, downtime and share within 2
# ms of the exerciser's, its dominant device (and DOMINANT) named, the
# VM's three parts adding up, data bytes per device exact.
mig_check_vm() {
	local M=$1 C=$2 src dst want got n
	expect_eq "migrations" "$(jq -s length "$M")" 1
	expect_eq "status" "$(jq -r .status "$M")" ok
	n=$(awk '$1 == "device_downtime_ns"' "$C" | wc -l)
	expect_eq "devices" "$(jq '.devices | length' "$M")" "$n"
	while read -r _ src dst want; do
		expect_eq "destination of $src" \
			"$(jq -r --arg s "$src" '.devices[] | select(.source == $s) | .destination' "$M")" "$dst"
		got=$(jq -r --arg s "$src" '.devices[] | select(.source == $s) | .downtime_ns' "$M")
		mig_within "downtime of $src" "$got" "$want"
		got=$(jq -r --arg s "$src" '.devices[] | select(.source == $s) | .share_ns' "$M")
		mig_within "share of $src" "$got" \
			"$(awk -v s="$src" '$1 == "device_share_ns" && $2 == s { print $3 }' "$C")"
		expect_eq "bytes read from $src" \
			"$(jq -r --arg s "$src" '.devices[] | select(.source == $s) | .bytes_read' "$M")" \
			"$(awk -v s="$src" '$1 == "mig_bytes" && $2 == "src" && $5 == s { t += $4 } END { print t + 0 }' "$C")"
		expect_eq "bytes written to $dst" \
			"$(jq -r --arg s "$src" '.devices[] | select(.source == $s) | .bytes_written' "$M")" \
			"$(awk -v d="$dst" '$1 == "mig_bytes" && $2 == "dst" && $5 == d { t += $4 } END { print t + 0 }' "$C")"
	done < <(awk '$1 == "device_downtime_ns"' "$C")
	mig_within "VM downtime" "$(jq -r .downtime_ns "$M")" "$(awk '$1 == "downtime_ns" { print $2 }' "$C")"
	mig_within "VM first stop" "$(jq -r .stop_ns "$M")" "$(awk '$1 == "vm_stop_ns" { print $2 }' "$C")"
	mig_within "VM last running" "$(jq -r .running_ns "$M")" "$(awk '$1 == "vm_running_ns" { print $2 }' "$C")"
	expect_eq "exerciser's dominant device" "$(awk '$1 == "dominant_device" { print $2 }' "$C")" "$3"
	expect_eq "vfiomig's dominant device" "$(jq -r .dominant_device "$M")" "$3"
	expect_eq "VM stop-copy + gap + resume" \
		"$(jq '.stop_copy_ns + .transfer_gap_ns + .resume_ns' "$M")" "$(jq .downtime_ns "$M")"
}
