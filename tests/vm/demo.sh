# The demo (the vfiotop issue turns it into the live monitor): what the
# bench guest has, then real VFIO work while vfioscope watches - two VMs on
# mdev accelerator instances and on edu, one live-migrating its instance -
# shown as vfiosnoop's event stream and vfiostat's per-VM counters.
. "$VFIOSCOPE_REPO/tests/vm/lib.sh"
D=/tmp/demo
mkdir -p $D
T=$MDACC_PARENT/mdev_supported_types
section() { printf '\n== %s\n' "$*"; }

section "vfioscope bench guest: kernel $(uname -r), LSMs $(cat /sys/kernel/security/lsm)"
section "VFIO devices"
for bdf in $EDU_BDF $EDU2_BDF $NVME_VFS; do
	d=/sys/bus/pci/devices/$bdf
	printf '  %s  %s:%s  group %-3s driver %s\n' "$bdf" "$(cat $d/vendor)" "$(cat $d/device)" \
		"$(basename "$(readlink $d/iommu_group)")" "$(basename "$(readlink $d/driver)")"
done
section "vDPA devices"
vdpa dev show | sed 's/^/  /'

section "which hook serves each event class here"
vfiosnoop --features | sed 's/^/  /'

U1=$(cat /proc/sys/kernel/random/uuid)
U2=$(cat /proc/sys/kernel/random/uuid)
U3=$(cat /proc/sys/kernel/random/uuid)
for u in $U1 $U2 $U3; do echo $u > $T/mdacc-1q/create; done
vfiosnoop -c ioctl,migration,mdev > $D/snoop.txt 2> $D/snoop.err &
snoop=$!
vfiostat > $D/stat.txt 2> $D/stat.err &
stat=$!
wait_for_line $D/snoop.err attached 90 $snoop
wait_for_line $D/stat.err attached 90 $stat

section "workload: VM 'vm-jobs' runs 200 DMA jobs on mdacc $U3, VM 'vm-edu' does DMA on edu"
vfio-exercise --name vm-jobs mdacc-jobs $U3 -n 200 --irq > $D/jobs.txt &
jobs_pid=$!
vfio-exercise --name vm-edu edu-dma $EDU_BDF -n 8 > $D/edu.txt &
edu_pid=$!
wait $jobs_pid $edu_pid
section "workload: VM 'vm-mig' live-migrates mdacc $U1 -> $U2 (150 ms injected in STOP_COPY)"
vfio-exercise --name vm-mig migrate $U1 $U2 --workload mdacc --delay-stop-copy 150 > $D/mig.txt
for u in $U1 $U2 $U3; do echo 1 > /sys/bus/mdev/devices/$u/remove; done
sleep 1
kill -INT $snoop $stat
wait $snoop $stat

section "vfiosnoop: migration and mdev events, failed calls (of $(($(wc -l < $D/snoop.txt) - 1)) events)"
grep -E 'mig_|mdev_| = -' $D/snoop.txt | sed 's/^/  /'
section "vfiostat: per VM"
awk '$1 == "vm_info" { c[$2] = $10 }
     $1 == "vm" { for (i = 3; i < NF; i += 2) f[$i] = $(i + 1)
		  printf "  pid %-6s %-9s DMA mapped %s bytes, pages pinned by the driver %s, IRQ setups %s\n",
			 $2, c[$2], f["dma_map_bytes"], f["ext_pin_pages"], f["irq_set_calls"] }' $D/stat.txt
section "vfiostat: busiest commands"
awk '$1 == "ioctl_obj"' $D/stat.txt | sort -k7 -n -r | head -8 |
	awk '{ printf "  pid %-6s %-38s %-32s %6s calls, mean %d ns\n", $2, $3, $5, $7, $11 / $7 }'
section "the exerciser's own account of the migration"
grep -E '^(arc|delay|downtime_ns|migration)' $D/mig.txt | sed 's/^/  /'
