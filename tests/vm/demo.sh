# The demo: vfiotop over a realistic passthrough host. In the bench guest,
# named "VMs" (vfio-exercise processes) work the bench devices the way
# VMMs do, and keep at it until vfiotop is closed:
#   vm-jobs   DMA jobs on an mdacc mdev instance, with interrupts
#   vm-edu    DMA round trips through the IOMMU on the edu device
#   vm-hammer VFIO ioctls as fast as the kernel answers, on the second edu
#   vm-mig    live-migrates an mdacc instance back and forth every few seconds
# and the VDUSE and vdpa_sim block devices serve reads (virtio_vdpa).
# With VFIOSCOPE_DEMO_ARGS (make demo DEMO_ARGS="-b -n 3") vfiotop runs
# with those arguments and the demo ends by itself; without, vfiotop opens
# interactively on the console (make demo on a terminal). Either way the
# workloads are stopped and the mdev instances removed at the end.
. "$VFIOSCOPE_REPO/tests/vm/lib.sh"
set +e
D=/tmp/demo
mkdir -p $D
rm -f $D/stop $D/pids $D/top.err
T=$MDACC_PARENT/mdev_supported_types/mdacc-1q
section() { printf '== %s\n' "$*"; }

section "vfioscope bench guest: kernel $(uname -r); starting the workloads"
U1=$(cat /proc/sys/kernel/random/uuid)
U2=$(cat /proc/sys/kernel/random/uuid)
U3=$(cat /proc/sys/kernel/random/uuid)
for u in $U1 $U2 $U3; do echo $u > $T/create || fail "creating mdacc instance $u"; done

# vfiotop counts from the moment it attaches: the VMs start after that,
# their pids kept in $D/pids (the loops stop when $D/stop appears)
start_vms() {
	vm() {	# vm NAME COMMAND...: one long-lived "VM" doing COMMAND
		local name=$1
		shift
		vfio-exercise --name "$name" "$@" > /dev/null 2> $D/$name.err &
		echo $! >> $D/pids
	}
	vm vm-jobs mdacc-jobs $U3 -n 6000 -r 20 --irq
	vm vm-edu edu-dma $EDU_BDF -n 100000000
	vm vm-hammer ioctls $EDU2_BDF --cmd region-info -n 100000000
	# a migration is one process: a new vm-mig row every few seconds
	( while [ ! -e $D/stop ]; do
		vfio-exercise --name vm-mig migrate $U1 $U2 --workload mdacc > /dev/null 2>> $D/vm-mig.err
		sleep 4
		vfio-exercise --name vm-mig migrate $U2 $U1 --workload mdacc > /dev/null 2>> $D/vm-mig.err
		sleep 4
	  done ) &
	# block I/O on the VDUSE and vdpa_sim devices (virtio_vdpa): virtqueue kicks and calls
	for b in $VDUSE_BLK $SIMBLK_BLK; do
		( while [ ! -e $D/stop ]; do
			dd if=$b of=/dev/null bs=64k count=32 iflag=direct 2> /dev/null
			sleep 0.3
		  done ) &
	done
}
args=${VFIOSCOPE_DEMO_ARGS:-}
if [ -n "$args" ]; then
	# shellcheck disable=SC2086
	vfiotop -d 2 $args 2> $D/top.err &
	top=$!
	wait_for_line $D/top.err attached 90 $top
	start_vms
	wait $top
	rc=$?
else
	# vfiotop owns the console; its stderr says when it attached
	( for i in $(seq 1 900); do
		grep -q attached $D/top.err 2> /dev/null && { start_vms; break; }
		sleep 0.1
	  done
	  wait ) &
	vfiotop -d 1 2> $D/top.err
	rc=$?
fi
[ $rc = 0 ] || { echo "vfiotop exited with status $rc:"; cat $D/top.err; }

# stop the VMs and the loops (each loop finishes the run it is in)
touch $D/stop
kill -TERM $(cat $D/pids 2> /dev/null) 2> /dev/null
wait
for u in $U1 $U2 $U3; do echo 1 > /sys/bus/mdev/devices/$u/remove; done
exit $rc
