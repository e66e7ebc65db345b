# What edu_vfio_pci must refuse, enforce and recover from, probed through
# the VFIO uAPI by a small C client (built here: vfio-exercise drives
# correct migrations, this one drives wrong ones): BAR0 without mmap or
# ioeventfd, only the accesses edu takes at 0x08; RUNNING -> STOP waits
# for a DMA in flight, and BAR0 writes fail with EBUSY while stopped; the
# saved stream's layout; every kind of bad stream refused with EINVAL (at
# the write for a bad header or length, at RESUMING -> STOP for a truncated
# or inconsistent state or a foreign ident), the device left untouched and
# RESUMING left by writing nothing; a stream written again in pieces
# loads; PRE_COPY's initial bytes and ENOMSG on 6.12, its refusal on 6.1.
. "$VFIOSCOPE_REPO/tests/vm/lib.sh"
OUT=$VFIOSCOPE_OUT
T=/sys/kernel/tracing

bind_variant() {	# BDF
	local d=/sys/bus/pci/devices/$1
	echo "$1" > "$d/driver/unbind"
	echo edu_vfio_pci > "$d/driver_override"
	echo "$1" > /sys/bus/pci/drivers_probe
	expect_eq "$1 driver" "$(basename "$(readlink "$d/driver")")" edu_vfio_pci
}

gcc -Wall -Werror -O2 -o "$OUT/edu-mig-probe" -x c - <<'CEOF' || fail "building the probe failed"
/* edu_vfio_pci probe: what the driver must refuse, enforce and recover from */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <linux/pci_regs.h>
#include <linux/vfio.h>

#ifndef VFIO_MIGRATION_PRE_COPY
#define VFIO_MIGRATION_PRE_COPY (1 << 2)
#define VFIO_MIG_GET_PRECOPY_INFO _IO(VFIO_TYPE, VFIO_BASE + 21)
struct vfio_precopy_info { __u32 argsz, flags; __u64 initial_bytes, dirty_bytes; };
#endif
#define ST_PRE_COPY 6
#define IOVA 0x300000ull
#define MEMSZ 0x10000ull

static int dev, group_fd, container_fd, nfail;
static __u64 bar, cfg;

static void ok(int cond, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#include <stdarg.h>
static void ok(int cond, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs(cond ? "ok " : "FAIL ", stdout);
	vprintf(fmt, ap);
	putchar('\n');
	va_end(ap);
	nfail += !cond;
}

static void die(const char *what)
{
	printf("FAIL %s: %s\n", what, strerror(errno));
	exit(1);
}

static long set_state(__u32 s, int *fd)
{
	struct { struct vfio_device_feature f; struct vfio_device_feature_mig_state st; } r = {
		.f.argsz = sizeof(r),
		.f.flags = VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE,
		.st.device_state = s, .st.data_fd = -1,
	};
	long ret = ioctl(dev, VFIO_DEVICE_FEATURE, &r) ? -errno : 0;

	if (fd)
		*fd = r.st.data_fd;
	else if (r.st.data_fd >= 0 && !ret)
		close(r.st.data_fd);
	return ret;
}

static __u32 get_state(void)
{
	struct { struct vfio_device_feature f; struct vfio_device_feature_mig_state st; } r = {
		.f.argsz = sizeof(r),
		.f.flags = VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE,
	};

	if (ioctl(dev, VFIO_DEVICE_FEATURE, &r))
		die("GET MIG_DEVICE_STATE");
	return r.st.device_state;
}

static __u64 mig_flags(void)
{
	struct { struct vfio_device_feature f; struct vfio_device_feature_migration m; } r = {
		.f.argsz = sizeof(r),
		.f.flags = VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_MIGRATION,
	};

	if (ioctl(dev, VFIO_DEVICE_FEATURE, &r))
		die("GET MIGRATION");
	return r.m.flags;
}

static long bar_rw(int write, __u64 off, void *v, size_t n)
{
	ssize_t r = write ? pwrite(dev, v, n, bar + off) : pread(dev, v, n, bar + off);

	return r < 0 ? -errno : r;
}

static __u32 rd(__u64 off)
{
	__u32 v;

	if (bar_rw(0, off, &v, 4) != 4)
		die("BAR0 read");
	return v;
}

static long wr(__u64 off, __u32 v)
{
	return bar_rw(1, off, &v, 4);
}

static __u64 now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000ull + t.tv_nsec / 1000000;
}

static void open_dev(const char *bdf)
{
	struct vfio_group_status gs = { .argsz = sizeof(gs) };
	struct vfio_region_info ri = { .argsz = sizeof(ri) };
	char path[256], link[256];
	int container, group;
	ssize_t n;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/iommu_group", bdf);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		die("iommu_group");
	link[n] = 0;
	snprintf(path, sizeof(path), "/dev/vfio/%s", strrchr(link, '/') + 1);
	container = open("/dev/vfio/vfio", O_RDWR);
	group = open(path, O_RDWR);
	if (container < 0 || group < 0)
		die("open container/group");
	if (ioctl(group, VFIO_GROUP_GET_STATUS, &gs) ||
	    ioctl(group, VFIO_GROUP_SET_CONTAINER, &container) ||
	    ioctl(container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU))
		die("group/container set-up");
	group_fd = group;
	container_fd = container;
	dev = ioctl(group, VFIO_GROUP_GET_DEVICE_FD, bdf);
	if (dev < 0)
		die("GET_DEVICE_FD");
	ri.index = VFIO_PCI_BAR0_REGION_INDEX;
	if (ioctl(dev, VFIO_DEVICE_GET_REGION_INFO, &ri))
		die("BAR0 info");
	bar = ri.offset;
	ri.index = VFIO_PCI_CONFIG_REGION_INDEX;
	if (ioctl(dev, VFIO_DEVICE_GET_REGION_INFO, &ri))
		die("config info");
	cfg = ri.offset;
}

/* the saved stream, little-endian, as edu_vfio_pci documents it */
struct stream {
	__u32 magic;
	__u16 version, header_len;
	__u32 ident, state_len;
	__u32 liveness, fact_in, fact_out, status, irq_status, reserved;
	__u64 dma_src, dma_dst, dma_cnt;
};

static size_t read_stream(int fd, void *buf, size_t cap)
{
	size_t len = 0;
	ssize_t n;

	while ((n = read(fd, (char *)buf + len, cap - len)) > 0)
		len += n;
	if (n < 0)
		die("read saved state");
	return len;
}

/* STOP -> RESUMING, write @len bytes of @s, RESUMING -> STOP */
static void resume_bad(const char *what, const struct stream *s, size_t len, int at_write)
{
	long w, r;
	int fd;

	if (set_state(VFIO_DEVICE_STATE_RESUMING, &fd))
		die("STOP -> RESUMING");
	w = write(fd, s, len);
	w = w < 0 ? -errno : w;
	if (at_write) {
		ok(w == -EINVAL, "%s: the write is refused with EINVAL (%ld)", what, w);
		r = set_state(VFIO_DEVICE_STATE_STOP, NULL);
		ok(!r, "%s: RESUMING -> STOP with nothing taken loads nothing (%ld)", what, r);
	} else {
		ok(w == (long)len, "%s: the write takes %zu bytes (%ld)", what, len, w);
		r = set_state(VFIO_DEVICE_STATE_STOP, NULL);
		ok(r == -EINVAL, "%s: RESUMING -> STOP fails with EINVAL (%ld)", what, r);
		ok(get_state() == VFIO_DEVICE_STATE_RESUMING, "%s: the device stays in RESUMING", what);
		r = set_state(VFIO_DEVICE_STATE_STOP, NULL);
		ok(!r, "%s: the data was dropped: RESUMING -> STOP now loads nothing (%ld)", what, r);
	}
	close(fd);
}

static void edu_dma(__u32 src, __u32 dst, __u32 len, __u32 cmd)
{
	wr(0x80, src);
	wr(0x88, dst);
	wr(0x90, len);
	wr(0x98, cmd);
}

int main(int argc, char **argv)
{
	struct stream saved, s;
	__u32 before[3], v;
	__u64 flags, t0, t;
	__u8 *mem;
	__u16 cmd;
	long r;
	int fd;

	if (argc != 3 || (strcmp(argv[1], "probe") && strcmp(argv[1], "hold"))) {
		fprintf(stderr, "usage: edu-mig-probe probe|hold BDF\n");
		return 2;
	}
	open_dev(argv[2]);
	flags = mig_flags();
	if (pread(dev, &cmd, 2, cfg + PCI_COMMAND) != 2)
		die("read PCI_COMMAND");
	cmd |= PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
	if (pwrite(dev, &cmd, 2, cfg + PCI_COMMAND) != 2)
		die("write PCI_COMMAND");

	if (!strcmp(argv[1], "hold")) {
		/* a data fd that outlives the device: the shell unbinds meanwhile */
		if (set_state(VFIO_DEVICE_STATE_STOP, NULL) ||
		    set_state(VFIO_DEVICE_STATE_STOP_COPY, &fd))
			die("RUNNING -> STOP_COPY");
		close(dev);
		close(group_fd);
		close(container_fd);
		printf("holding\n");
		fflush(stdout);
		if (read(0, &v, 1) < 0)
			die("stdin");
		r = read(fd, &s, sizeof(s));
		ok(r < 0 && errno == ENODEV, "a data fd read after its device is gone: ENODEV (%s)",
		   r < 0 ? strerror(errno) : "data");
		close(fd);
		return nfail != 0;
	}

	/* the trap: no mmap, no ioeventfd, only the accesses edu takes at 0x08 */
	ok(mmap(NULL, 4096, PROT_READ, MAP_SHARED, dev, bar) == MAP_FAILED,
	   "BAR0 cannot be mmapped");
	{
		struct vfio_device_ioeventfd ie = {
			.argsz = sizeof(ie), .flags = VFIO_DEVICE_IOEVENTFD_32,
			.offset = bar + 0x60, .data = 1, .fd = -1,
		};

		r = ioctl(dev, VFIO_DEVICE_IOEVENTFD, &ie) ? -errno : 0;
		ok(r == -ENOTTY, "VFIO_DEVICE_IOEVENTFD is refused with ENOTTY (%ld)", r);
	}
	{
		__u64 q = 5;
		__u16 h = 5;

		r = bar_rw(1, 0x08, &q, 8);
		ok(r == -EINVAL, "an 8-byte write at 0x08 is refused with EINVAL (%ld)", r);
		r = bar_rw(1, 0x0a, &h, 2);
		ok(r == -EINVAL, "a 2-byte write at 0x0a is refused with EINVAL (%ld)", r);
		r = bar_rw(1, 0x04, &q, 8);
		ok(r == -EINVAL, "an 8-byte write at 0x04 (over 0x08) is refused with EINVAL (%ld)", r);
	}
	/* a quiet device: no interrupt status, none after a factorial */
	wr(0x64, ~0u);
	wr(0x20, 0);
	ok(wr(0x08, 6) == 4, "a 4-byte write at 0x08 is taken");

	/* RUNNING -> STOP waits for a DMA in flight (edu takes 100 ms) */
	mem = mmap(NULL, MEMSZ, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	{
		struct vfio_iommu_type1_dma_map m = {
			.argsz = sizeof(m),
			.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
			.vaddr = (uintptr_t)mem, .iova = IOVA, .size = MEMSZ,
		};

		if (mem == MAP_FAILED || ioctl(container_fd, VFIO_IOMMU_MAP_DMA, &m))
			die("DMA map");
	}
	for (v = 0; v < 2048; v++) {
		mem[v] = v * 7 + 1;
		mem[0x4000 + v] = ~mem[v];
	}
	edu_dma(IOVA, 0x40000, 2048, 0x1);
	for (v = 0; v < 100000 && (rd(0x98) & 1); v++)
		usleep(100);
	ok(!(rd(0x98) & 1), "DMA RAM -> edu completes");
	/* back to RAM, and stop at once: STOP must wait for it */
	edu_dma(0x40000, IOVA + 0x4000, 2048, 0x1 | 0x2);
	t0 = now_ms();
	r = set_state(VFIO_DEVICE_STATE_STOP, NULL);
	t = now_ms() - t0;
	ok(!r, "RUNNING -> STOP with a DMA in flight (%ld, took %llu ms)", r,
	   (unsigned long long)t);
	ok(rd(0x98) == 0x2, "in STOP the DMA is complete (cmd 0x%x: no start bit)", rd(0x98));
	ok(!memcmp(mem, mem + 0x4000, 2048), "in STOP the DMA's data is in RAM");

	/* STOP is enforced: writes fail, reads work */
	r = wr(0x04, 0x12345678);
	ok(r == -EBUSY, "a BAR0 write in STOP fails with EBUSY (%ld)", r);
	r = wr(0x98, 0x1);
	ok(r == -EBUSY, "starting a DMA in STOP fails with EBUSY (%ld)", r);
	ok((rd(0x00) & 0xff) == 0xed, "BAR0 reads work in STOP");

	before[0] = rd(0x04);
	before[1] = rd(0x08);
	before[2] = rd(0x88);
	if (set_state(VFIO_DEVICE_STATE_STOP_COPY, &fd))
		die("STOP -> STOP_COPY");
	memset(&saved, 0, sizeof(saved));
	ok(read_stream(fd, &saved, sizeof(saved)) == 64, "STOP_COPY gives 64 bytes");
	r = write(fd, &saved, 4);
	ok(r < 0, "the saving fd is read-only");
	close(fd);
	if (set_state(VFIO_DEVICE_STATE_STOP, NULL))
		die("STOP_COPY -> STOP");
	ok(saved.magic == 0x4d554445 && saved.version == 1 && saved.header_len == 16 &&
	   saved.state_len == 48, "the stream header: magic EDUM, version 1, lengths 16 + 48");
	ok(saved.fact_in == 6 && saved.fact_out == 720, "the stream holds factorial 6 -> 720 (%u -> %u)",
	   saved.fact_in, saved.fact_out);
	ok(saved.dma_dst == IOVA + 0x4000 && saved.dma_cnt == 2048,
	   "the stream holds the DMA destination and count");

	s = saved; s.magic ^= 1;
	resume_bad("bad magic", &s, sizeof(s), 1);
	s = saved; s.version = 2;
	resume_bad("version 2", &s, sizeof(s), 1);
	s = saved; s.header_len = 20;
	resume_bad("bad header length", &s, sizeof(s), 1);
	s = saved; s.state_len = 56;
	resume_bad("bad state length", &s, sizeof(s), 1);
	{
		__u8 big[65] = { 0 };

		memcpy(big, &saved, 64);
		resume_bad("a 65-byte stream", (struct stream *)big, 65, 1);
	}
	s = saved;
	resume_bad("a truncated stream (63 bytes)", &s, 63, 0);
	s = saved; s.fact_out++;
	resume_bad("a factorial result that is not input!", &s, sizeof(s), 0);
	s = saved; s.reserved = 1;
	resume_bad("a nonzero reserved field", &s, sizeof(s), 0);
	s = saved; s.status |= 1;
	resume_bad("a status saying 'computing'", &s, sizeof(s), 0);
	s = saved; s.ident ^= 0x00010000;
	resume_bad("another edu version's ident", &s, sizeof(s), 0);
	ok(rd(0x04) == before[0] && rd(0x08) == before[1] && rd(0x88) == before[2],
	   "refused streams left the device untouched");

	/* a stream in pieces after a refused one, on the same fd */
	if (set_state(VFIO_DEVICE_STATE_RESUMING, &fd))
		die("STOP -> RESUMING");
	s = saved; s.fact_out++;
	ok(write(fd, &s, 64) == 64 && set_state(VFIO_DEVICE_STATE_STOP, NULL) == -EINVAL,
	   "an inconsistent stream is refused");
	s = saved; s.liveness = ~0x5a5a5a5aU; s.fact_in = 40; s.fact_out = 0;
	s.status = 0x80; s.irq_status = 0;
	ok(write(fd, &s, 10) == 10 && write(fd, (char *)&s + 10, 54) == 54,
	   "a stream written again in two pieces is taken");
	r = set_state(VFIO_DEVICE_STATE_STOP, NULL);
	ok(!r, "RESUMING -> STOP loads it (%ld)", r);
	close(fd);
	ok(rd(0x04) == ~0x5a5a5a5aU && rd(0x08) == 0 && rd(0x20) == 0x80 && !rd(0x24),
	   "the device holds the loaded liveness, 40! = 0, status and interrupt status");
	r = set_state(VFIO_DEVICE_STATE_RUNNING, NULL);
	ok(!r, "STOP -> RUNNING (%ld)", r);
	ok(wr(0x04, 1) == 4, "BAR0 writes work again in RUNNING");

	if (flags & VFIO_MIGRATION_PRE_COPY) {
		struct vfio_precopy_info pi = { .argsz = sizeof(pi) };
		char buf[64];

		if (set_state(ST_PRE_COPY, &fd))
			die("RUNNING -> PRE_COPY");
		r = ioctl(fd, VFIO_MIG_GET_PRECOPY_INFO, &pi) ? -errno : 0;
		ok(!r && pi.initial_bytes == 16 && !pi.dirty_bytes,
		   "PRE_COPY: 16 initial bytes, no dirty bytes (%ld, %llu, %llu)", r,
		   (unsigned long long)pi.initial_bytes, (unsigned long long)pi.dirty_bytes);
		ok(read(fd, buf, 64) == 16, "PRE_COPY: the header reads");
		r = read(fd, buf, 64);
		ok(r < 0 && errno == ENOMSG, "PRE_COPY: then ENOMSG, the temporary end of stream");
		ok(wr(0x04, 2) == 4, "PRE_COPY: the device still runs (BAR0 writes work)");
		if (set_state(VFIO_DEVICE_STATE_STOP_COPY, NULL))
			die("PRE_COPY -> STOP_COPY");
		ok(read_stream(fd, buf, 64) == 48, "STOP_COPY: the state follows on the same fd");
		r = ioctl(fd, VFIO_MIG_GET_PRECOPY_INFO, &pi) ? -errno : 0;
		ok(r == -EINVAL, "GET_PRECOPY_INFO outside PRE_COPY: EINVAL (%ld)", r);
		close(fd);
		if (set_state(VFIO_DEVICE_STATE_STOP, NULL) ||
		    set_state(VFIO_DEVICE_STATE_RUNNING, NULL))
			die("back to RUNNING");
	} else {
		r = set_state(ST_PRE_COPY, NULL);
		ok(r == -EINVAL, "no PRE_COPY on this kernel: the arc is refused with EINVAL (%ld)", r);
	}
	ok(get_state() == VFIO_DEVICE_STATE_RUNNING, "the device ends RUNNING");
	printf("probe: %d failed\n", nfail);
	return nfail != 0;
}
CEOF

modprobe edu_vfio_pci || fail "modprobe edu_vfio_pci failed"
bind_variant "$EDU_BDF"
echo > $T/trace
echo 1 > $T/events/vfio/vfio_mig_set_state/enable
echo 1 > $T/events/vfio/vfio_mig_data/enable
echo 1 > $T/events/vfio/vfio_region_rw/enable
rc=0
"$OUT/edu-mig-probe" probe "$EDU_BDF" > "$OUT/probe.txt" || rc=$?
echo 0 > $T/events/vfio/enable
cp $T/trace "$OUT/trace.txt"
cat "$OUT/probe.txt"
[ $rc = 0 ] || fail "the probe found $(grep -c '^FAIL' "$OUT/probe.txt") failures"
case $(uname -r) in
6.1.*) grep -q '^ok no PRE_COPY on this kernel' "$OUT/probe.txt" || fail "PRE_COPY not probed as refused" ;;
*) grep -q '^ok PRE_COPY: then ENOMSG' "$OUT/probe.txt" || fail "PRE_COPY not probed" ;;
esac

# the refusals are visible in the trace events, with their errno
expect_eq "refused writes in vfio_mig_data" \
	"$(grep -c "vfio_mig_data: dev=$EDU_BDF write bytes=[0-9]* ret=-22" "$OUT/trace.txt")" 5
expect_eq "RESUMING -> STOP refusals in vfio_mig_set_state" \
	"$(grep -c "vfio_mig_set_state: dev=$EDU_BDF RESUMING -> STOP ret=-22" "$OUT/trace.txt")" 6
expect_eq "BAR0 writes refused in STOP (EBUSY)" \
	"$(grep -c "vfio_region_rw: dev=$EDU_BDF write index=0 .* ret=-16" "$OUT/trace.txt")" 2
expect_eq "BAR0 writes refused at 0x08 (EINVAL)" \
	"$(grep -c "vfio_region_rw: dev=$EDU_BDF write index=0 .* ret=-22" "$OUT/trace.txt")" 3
stop=$(sed -n "s/.*vfio_mig_set_state: dev=$EDU_BDF RUNNING -> STOP ret=0 duration_ns=\([0-9]*\)/\1/p" \
	"$OUT/trace.txt" | head -n1)
note "RUNNING -> STOP with a DMA in flight took $stop ns in the driver"

c=$(kernel_complaints)
[ -z "$c" ] || fail "kernel complaints: $c"
# read whole first: grep -q closing the pipe early would fail the pipeline
log=$(dmesg) || fail "dmesg failed"
! grep -q 'DMAR.*fault' <<< "$log" || fail "DMAR faults: $(grep DMAR <<< "$log" | tail -n 3)"
echo "edu_vfio_pci refuses bad streams and forbidden accesses, enforces STOP, recovers"
