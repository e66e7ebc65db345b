# edu_vfio_pci's lifetimes: bind/unbind loops between vfio-pci and the
# variant driver with the device opened and migrated each time; a data fd
# that outlives its device (closed, then unbound) answers ENODEV and holds
# the module until it is closed; then the module unloads, vfio-pci takes the
# devices back and works, and the kernel said nothing.
. "$VFIOSCOPE_REPO/tests/vm/lib.sh"
OUT=$VFIOSCOPE_OUT

bind_to() {	# BDF DRIVER
	local d=/sys/bus/pci/devices/$1
	[ -e "$d/driver" ] && echo "$1" > "$d/driver/unbind"
	echo "$2" > "$d/driver_override"
	echo "$1" > /sys/bus/pci/drivers_probe
	[ "$(basename "$(readlink "$d/driver")")" = "$2" ] || fail "$1 did not bind to $2"
}

modprobe edu_vfio_pci || fail "modprobe edu_vfio_pci failed"
for i in 1 2 3; do
	bind_to "$EDU_BDF" edu_vfio_pci
	bind_to "$EDU2_BDF" edu_vfio_pci
	vfio-exercise migrate "$EDU_BDF" "$EDU2_BDF" --workload edu --seed $i > "$OUT/mig-$i.txt" \
		2> "$OUT/mig-$i.err" ||
		fail "round $i: migration failed: $(mig_why "$OUT/mig-$i.txt" "$OUT/mig-$i.err")"
	grep -qx 'migration ok' "$OUT/mig-$i.txt" || fail "round $i: no 'migration ok'"
	bind_to "$EDU_BDF" vfio-pci
	bind_to "$EDU2_BDF" vfio-pci
	note "round $i: bound, migrated, back on vfio-pci"
done
expect_eq "edu_vfio_pci users after the loops" "$(cat /sys/module/edu_vfio_pci/refcnt)" 0

# a data fd outliving its device
bind_to "$EDU_BDF" edu_vfio_pci
gcc -Wall -Werror -O2 -o "$OUT/hold" -x c - <<'CEOF' || fail "building the holder failed"
/* open BDF, go to STOP_COPY, close the device but keep the data fd; on a
 * line from stdin read it: the driver must answer ENODEV */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/vfio.h>

static int set_state(int dev, __u32 s)
{
	struct { struct vfio_device_feature f; struct vfio_device_feature_mig_state st; } r = {
		.f.argsz = sizeof(r),
		.f.flags = VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE,
		.st.device_state = s, .st.data_fd = -1,
	};

	if (ioctl(dev, VFIO_DEVICE_FEATURE, &r))
		return -1;
	return r.st.data_fd;
}

int main(int argc, char **argv)
{
	char path[256], link[256], buf[64];
	int container, group, dev, fd;
	ssize_t n;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/iommu_group", argv[1]);
	n = readlink(path, link, sizeof(link) - 1);
	if (argc != 2 || n < 0)
		return 2;
	link[n] = 0;
	snprintf(path, sizeof(path), "/dev/vfio/%s", strrchr(link, '/') + 1);
	container = open("/dev/vfio/vfio", O_RDWR);
	group = open(path, O_RDWR);
	if (ioctl(group, VFIO_GROUP_SET_CONTAINER, &container) ||
	    ioctl(container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU))
		return 2;
	dev = ioctl(group, VFIO_GROUP_GET_DEVICE_FD, argv[1]);
	if (dev < 0 || set_state(dev, VFIO_DEVICE_STATE_STOP) < -1)
		return 2;
	fd = set_state(dev, VFIO_DEVICE_STATE_STOP_COPY);
	if (fd < 0)
		return 2;
	close(dev);
	close(group);
	close(container);
	printf("holding\n");
	fflush(stdout);
	if (read(0, buf, 1) < 0)
		return 2;
	n = read(fd, buf, sizeof(buf));
	printf("read %zd %s\n", n, n < 0 ? strerror(errno) : "data");
	close(fd);
	return !(n < 0 && errno == ENODEV);
}
CEOF
GO=$(mktemp -u /tmp/edu-hold.XXXXXX)	# a fifo: not on the 9p-shared $OUT
mkfifo "$GO"
"$OUT/hold" "$EDU_BDF" < "$GO" > "$OUT/hold.txt" 2>&1 &
holder=$!
exec 7> "$GO"
wait_for_line "$OUT/hold.txt" holding 30
# the device is closed, its data fd open: the device unbinds, the module stays
bind_to "$EDU_BDF" vfio-pci
expect_eq "edu_vfio_pci users while a data fd is open" "$(cat /sys/module/edu_vfio_pci/refcnt)" 1
modprobe -r edu_vfio_pci 2> "$OUT/rmmod.err" && fail "edu_vfio_pci unloaded under an open data fd"
echo >&7
exec 7>&-
wait $holder || fail "the held data fd: $(cat "$OUT/hold.txt")"
cat "$OUT/hold.txt"

modprobe -r edu_vfio_pci || fail "modprobe -r edu_vfio_pci failed"
[ -d /sys/module/edu_vfio_pci ] && fail "edu_vfio_pci is still loaded"
for bdf in "$EDU_BDF" "$EDU2_BDF"; do
	expect_eq "$bdf driver" "$(basename "$(readlink /sys/bus/pci/devices/$bdf/driver)")" vfio-pci
done
vfio-exercise edu-dma "$EDU_BDF" -n 2 -s 3 > "$OUT/dma.txt" || fail "vfio-pci edu DMA after unload failed"
expect_eq "DMA round trips on vfio-pci after unload" "$(awk '$1 == "dma_roundtrips" { print $2 }' "$OUT/dma.txt")" 2

c=$(kernel_complaints)
[ -z "$c" ] || fail "kernel complaints: $c"
echo "bind/unbind loops, a data fd outliving its device, module unload: OK"
