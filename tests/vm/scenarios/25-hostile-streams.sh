# A VMM, a VM or a migration stream must not be able to turn mdacc or
# edu_vfio_pci against the host. A small C client (built here) plays the
# hostile VMM:
# - mdacc, from crafted streams: a disabled queue whose HEAD points past
#   the ring page (4 GiB past it, and just past it) then enabled from the
#   registers, a disabled queue with a TAIL, an oversized or odd QSIZE, an
#   unaligned QBASE, indices >= QSIZE, unknown control bits, nonzero
#   reserved fields, read-only config bits (IDs, BAR flags, capability
#   list), queues the type does not have, bad header fields (refused at
#   the 16th byte, whatever the pieces), records one byte short or long,
#   a hostile record after a good one. Each is refused with EINVAL at the
#   write that completes the header or the record, RESUMING -> STOP then
#   fails with EINVAL and the device stays in RESUMING; no job runs and
#   nothing past the ring page is read or written (the ring sits in a huge
#   page, so the probe sees the page after it). A good stream written a
#   byte at a time still loads and runs.
# - mdacc registers and descriptors: QBASE/QSIZE outside the contract and
#   a TAIL written to a disabled queue are ignored with STATUS_ERROR; jobs
#   whose DMA range wraps fail with EINVAL; a job claiming LEN 2^32-1 does
#   not stall its queue under a bandwidth limit; the request IRQ index
#   exists.
# - mdacc migration arcs: a failing PRE_COPY -> STOP_COPY leaves the
#   device running in PRE_COPY, as get_state says (6.12; 6.1 has no
#   PRE_COPY).
# - edu_vfio_pci, from crafted streams: oversized and repeated writes,
#   a bad header byte by byte (refused at byte 16), absurd lengths,
#   version 0, a header alone, another device's ident, status bits the
#   idle device cannot have: refused with EINVAL at the documented point,
#   the device untouched; a huge factorial input loads, bounded.
# - removing an mdacc instance a process holds open: the holder gets the
#   request on its eventfd and the removal completes in seconds; without
#   a request eventfd the removal waits for the holder and says why.
# The kernel stays clean throughout.
. "$VFIOSCOPE_REPO/tests/vm/lib.sh"
OUT=$VFIOSCOPE_OUT
T=$MDACC_PARENT/mdev_supported_types

gcc -Wall -Werror -O2 -o "$OUT/hostile-probe" -x c - <<'CEOF' || fail "building the probe failed"
/* hostile-probe: a VMM that lies to mdacc and edu_vfio_pci */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <linux/pci_regs.h>
#include <linux/vfio.h>

#ifndef VFIO_MIGRATION_PRE_COPY
#define VFIO_MIGRATION_PRE_COPY (1 << 2)
#endif
#define ST_PRE_COPY 6
#define ST_PRE_COPY_P2P 7

static int dev = -1, group_fd = -1, container_fd = -1, nfail;
/*
 * mdacc: a refused stream leaves RESUMING only through a reset, which
 * every stream starts with. edu has no reset: a refused stream's bytes
 * are dropped at RESUMING -> STOP, and when none were taken that arc
 * succeeds, loading nothing (edu_vfio_pci/README.md).
 */
static int is_edu;
static __u64 bar, cfg;

static void ok(int cond, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void ok(int cond, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs(cond ? "ok " : "FAIL ", stdout);
	vprintf(fmt, ap);
	putchar('\n');
	va_end(ap);
	fflush(stdout);
	nfail += !cond;
}

static void die(const char *what)
{
	printf("FAIL %s: %s\n", what, strerror(errno));
	exit(1);
}

static __u64 now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000ull + t.tv_nsec / 1000000;
}

/* ------------------------------------------------------------ VFIO */

static void open_dev(const char *sysdev, const char *name)
{
	struct vfio_group_status gs = { .argsz = sizeof(gs) };
	struct vfio_region_info ri = { .argsz = sizeof(ri) };
	char path[512], link[256];
	ssize_t n;

	snprintf(path, sizeof(path), "%s/iommu_group", sysdev);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		die("iommu_group");
	link[n] = 0;
	snprintf(path, sizeof(path), "/dev/vfio/%s", strrchr(link, '/') + 1);
	container_fd = open("/dev/vfio/vfio", O_RDWR);
	group_fd = open(path, O_RDWR);
	if (container_fd < 0 || group_fd < 0)
		die("open container/group");
	if (ioctl(group_fd, VFIO_GROUP_GET_STATUS, &gs) ||
	    ioctl(group_fd, VFIO_GROUP_SET_CONTAINER, &container_fd) ||
	    ioctl(container_fd, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU))
		die("group/container set-up");
	dev = ioctl(group_fd, VFIO_GROUP_GET_DEVICE_FD, name);
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

static void close_dev(void)
{
	close(dev);
	close(group_fd);
	close(container_fd);
}

static void bus_master(void)
{
	__u16 cmd;

	if (pread(dev, &cmd, 2, cfg + PCI_COMMAND) != 2)
		die("read PCI_COMMAND");
	cmd |= PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
	if (pwrite(dev, &cmd, 2, cfg + PCI_COMMAND) != 2)
		die("write PCI_COMMAND");
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

static void dev_reset(void)
{
	if (ioctl(dev, VFIO_DEVICE_RESET))
		die("VFIO_DEVICE_RESET");
}

static long bar_rw(int write, __u64 off, void *v, size_t n)
{
	ssize_t r = write ? pwrite(dev, v, n, bar + off) : pread(dev, v, n, bar + off);

	return r < 0 ? -errno : r;
}

static __u32 r32(__u64 off)
{
	__u32 v;

	if (bar_rw(0, off, &v, 4) != 4)
		die("BAR0 read");
	return v;
}

static __u64 r64(__u64 off)
{
	__u64 v;

	if (bar_rw(0, off, &v, 8) != 8)
		die("BAR0 read");
	return v;
}

static long w32(__u64 off, __u32 v)
{
	return bar_rw(1, off, &v, 4);
}

static long w64(__u64 off, __u64 v)
{
	return bar_rw(1, off, &v, 8);
}

static size_t read_stream(int fd, void *buf, size_t cap)
{
	size_t len = 0;
	ssize_t n;

	while (len < cap && (n = read(fd, (char *)buf + len, cap - len)) > 0)
		len += n;
	return len;
}

struct resumed {
	long werr;		/* first failed write, -errno */
	size_t werr_at;		/* stream bytes up to the end of that write */
	long stop;		/* RESUMING -> STOP */
	__u32 state;		/* afterwards */
};

/*
 * STOP -> RESUMING (mdacc: from a reset device), write @len bytes of @rec
 * in @chunk-byte writes (stopping at the first refusal), RESUMING -> STOP.
 */
static struct resumed resume(const void *rec, size_t len, size_t chunk)
{
	struct resumed r = { 0 };
	size_t off = 0;
	int fd;

	if (!is_edu)
		dev_reset();
	if (get_state() != VFIO_DEVICE_STATE_STOP && set_state(VFIO_DEVICE_STATE_STOP, NULL))
		die("-> STOP");
	if (set_state(VFIO_DEVICE_STATE_RESUMING, &fd))
		die("STOP -> RESUMING");
	while (off < len) {
		size_t n = len - off < chunk ? len - off : chunk;
		ssize_t w = write(fd, (const char *)rec + off, n);

		if (w < 0) {
			r.werr = -errno;
			r.werr_at = off + n;
			break;
		}
		off += w;
	}
	r.stop = set_state(VFIO_DEVICE_STATE_STOP, NULL);
	r.state = get_state();
	close(fd);
	return r;
}

/* a stream refused at the write that ends at byte @at */
static struct resumed refused_at(const char *what, const void *rec, size_t len, size_t chunk,
				 size_t at)
{
	struct resumed r = resume(rec, len, chunk);

	ok(r.werr == -EINVAL && r.werr_at == at,
	   "%s: the write is refused with EINVAL at byte %zu (%ld at %zu)", what, at, r.werr,
	   r.werr_at);
	if (is_edu && at <= chunk)
		ok(!r.stop && r.state == VFIO_DEVICE_STATE_STOP,
		   "%s: nothing was taken: RESUMING -> STOP loads nothing (%ld, state %u)", what,
		   r.stop, r.state);
	else
		ok(r.stop == -EINVAL && r.state == VFIO_DEVICE_STATE_RESUMING,
		   "%s: RESUMING -> STOP fails with EINVAL, the device stays in RESUMING (%ld, state %u)",
		   what, r.stop, r.state);
	return r;
}

/* a stream every write of which is taken, refused at RESUMING -> STOP */
static void refused_at_stop(const char *what, const void *rec, size_t len, size_t chunk)
{
	struct resumed r = resume(rec, len, chunk);

	ok(!r.werr, "%s: the writes are taken (%ld)", what, r.werr);
	ok(r.stop == -EINVAL && r.state == VFIO_DEVICE_STATE_RESUMING,
	   "%s: RESUMING -> STOP fails with EINVAL, the device stays in RESUMING (%ld, state %u)",
	   what, r.stop, r.state);
}

/* ------------------------------------------------------------ mdacc */

#define M_CTRL		0x00c
#define M_STATUS	0x010
#define M_JOBS_DONE	0x020
#define M_JOBS_FAILED	0x030
#define Q0		0x100
#define Q_BASE		0x00
#define Q_SIZE		0x08
#define Q_CTRL		0x0c
#define Q_TAIL		0x10
#define Q_HEAD		0x14
#define Q_JOBS		0x18
#define ST_ERROR	0x2
#define CTRL_RESET	0x2

/* the record, as mdacc_mig.c lays it out (little endian) */
#define R_LEN		440
#define R_MAGIC		0
#define R_VERSION	4
#define R_SIZE		8
#define R_NQUEUES	12
#define R_CTRL		16
#define R_STATUS	20
#define R_IRQ_STATUS	24
#define R_RSVD		28
#define R_CONFIG	56
#define R_Q(i)		(312 + 32 * (i))
#define RQ_BASE		0
#define RQ_SIZE		8
#define RQ_CTRL		12
#define RQ_HEAD		16
#define RQ_TAIL		20
#define RQ_RSVD		28

#define IOVA		0x10000000ull
#define HUGE		(2ull << 20)
#define DATA_OFF	0x8000
#define FILL_DST	0x9000
#define COPY_DST	0xa000
/* slot 129 of a ring at the start of the huge page: the page after it */
#define OOB_SLOT	129

static __u8 *mem;		/* HUGE bytes at IOVA, the ring at its start */

static void put32(__u8 *rec, size_t off, __u32 v) { memcpy(rec + off, &v, 4); }
static void put64(__u8 *rec, size_t off, __u64 v) { memcpy(rec + off, &v, 8); }

struct job {
	__u32 op, flags;
	__u64 src, dst;
	__u32 len, status;
};

static struct job *slot(unsigned int i)
{
	return (struct job *)(mem + i * sizeof(struct job));
}

static int huge_backed(void)
{
	char line[256];
	FILE *f = fopen("/proc/self/smaps_rollup", "r");
	long kb = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "AnonHugePages: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb >= 2048;
}

static void mdacc_map(void)
{
	struct vfio_iommu_type1_dma_map m = {
		.argsz = sizeof(m),
		.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
		.iova = IOVA, .size = HUGE,
	};
	__u8 *raw = mmap(NULL, 2 * HUGE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (raw == MAP_FAILED)
		die("mmap");
	mem = (__u8 *)(((uintptr_t)raw + HUGE - 1) & ~(uintptr_t)(HUGE - 1));
	madvise(mem, HUGE, MADV_HUGEPAGE);
	memset(mem, 0, HUGE);
	m.vaddr = (uintptr_t)mem;
	if (ioctl(container_fd, VFIO_IOMMU_MAP_DMA, &m))
		die("DMA map");
	printf("-- ring in a huge page: %s\n", huge_backed() ? "yes" : "no (the page after the ring is not the probe's)");
}

/* queue 0 enabled at IOVA with @size entries, the device enabled */
static void mdacc_queue_up(__u32 size)
{
	w32(M_CTRL, CTRL_RESET);
	w64(Q0 + Q_BASE, IOVA);
	w32(Q0 + Q_SIZE, size);
	w32(Q0 + Q_CTRL, 1);
	w32(M_CTRL, 1);
}

static int wait_head(__u32 head)
{
	int i;

	for (i = 0; i < 400; i++) {
		if (r32(Q0 + Q_HEAD) == head)
			return 1;
		usleep(5000);
	}
	return 0;
}

static void mdacc_registers(void)
{
	struct vfio_irq_info ii = { .argsz = sizeof(ii), .index = VFIO_PCI_REQ_IRQ_INDEX };
	long r = ioctl(dev, VFIO_DEVICE_GET_IRQ_INFO, &ii) ? -errno : 0;

	ok(!r && ii.count == 1 && (ii.flags & VFIO_IRQ_INFO_EVENTFD),
	   "the request IRQ index has one eventfd vector (count %u)", ii.count);

	dev_reset();
	bus_master();
	w32(Q0 + Q_SIZE, 3);
	ok(r32(Q0 + Q_SIZE) == 0 && (r32(M_STATUS) & ST_ERROR),
	   "QSIZE 3 is ignored with STATUS_ERROR (QSIZE reads %u)", r32(Q0 + Q_SIZE));
	w32(M_CTRL, CTRL_RESET);
	w32(Q0 + Q_SIZE, 256);
	ok(r32(Q0 + Q_SIZE) == 0 && (r32(M_STATUS) & ST_ERROR),
	   "QSIZE 256 (a ring bigger than a page) is ignored with STATUS_ERROR (reads %u)",
	   r32(Q0 + Q_SIZE));
	w32(M_CTRL, CTRL_RESET);
	w64(Q0 + Q_BASE, IOVA + 0x20);
	ok(r64(Q0 + Q_BASE) == 0 && (r32(M_STATUS) & ST_ERROR),
	   "an unaligned QBASE is ignored with STATUS_ERROR (reads 0x%llx)",
	   (unsigned long long)r64(Q0 + Q_BASE));
	w32(M_CTRL, CTRL_RESET);
	w64(Q0 + Q_BASE, IOVA);
	w32(Q0 + Q_SIZE, 2);
	w32(Q0 + Q_TAIL, 1);
	ok(r32(Q0 + Q_TAIL) == 0 && (r32(M_STATUS) & ST_ERROR),
	   "a TAIL written to a disabled queue is ignored with STATUS_ERROR (reads %u)",
	   r32(Q0 + Q_TAIL));

	/* jobs whose DMA range wraps around the IOVA space */
	mdacc_queue_up(8);
	ok(r32(Q0 + Q_CTRL) == 1 && !r32(M_STATUS), "queue 0 enabled with a valid QBASE/QSIZE");
	*slot(0) = (struct job){ .op = 1, .src = ~0ull - 0xff, .dst = IOVA + COPY_DST, .len = 0x1000 };
	*slot(1) = (struct job){ .op = 3 | 0x5a << 8, .dst = ~0ull - 0x7, .len = 16 };
	w32(Q0 + Q_TAIL, 2);
	ok(wait_head(2), "both wrapping jobs are processed");
	ok(slot(0)->status == (0x80000000u | EINVAL) && slot(1)->status == (0x80000000u | EINVAL),
	   "a source and a destination that wrap fail with EINVAL (0x%x, 0x%x)", slot(0)->status,
	   slot(1)->status);
	w32(Q0 + Q_CTRL, 0);
	ok(!r32(Q0 + Q_HEAD) && !r32(Q0 + Q_TAIL), "disabling the queue resets HEAD and TAIL");
	memset(mem, 0, 0x1000);
}

static void mdev_attr(const char *uuid, const char *attr, const char *what)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "/sys/bus/mdev/devices/%s/%s", uuid, attr);
	f = fopen(path, "w");
	if (!f || fputs(what, f) < 0 || fclose(f))
		die(attr);
}

static void fault(const char *uuid, const char *what)
{
	mdev_attr(uuid, "debug_fault", what);
}

/*
 * A descriptor's LEN is the VM's word: under a DMA bandwidth limit, a job
 * that claims 4 GiB (and fails, moving nothing) must not hold the queue
 * for an hour. The job after it starts within about one largest job's time.
 */
static void mdacc_qos(const char *uuid)
{
	__u64 t0, t;
	int done;

	dev_reset();
	bus_master();
	mdacc_queue_up(8);
	mdev_attr(uuid, "qos_dma_bw", "1000000");
	memcpy(mem + DATA_OFF, "after a liar job", 16);
	*slot(0) = (struct job){ .op = 1, .src = IOVA + DATA_OFF, .dst = IOVA + COPY_DST,
				 .len = 0xffffffff };
	*slot(1) = (struct job){ .op = 1, .src = IOVA + DATA_OFF, .dst = IOVA + COPY_DST, .len = 16 };
	t0 = now_ms();
	w32(Q0 + Q_TAIL, 2);
	done = wait_head(2);
	t = now_ms() - t0;
	ok(done && slot(0)->status == (0x80000000u | EINVAL) && slot(1)->status == 1,
	   "a job claiming LEN 2^32-1 at 1 MB/s fails with EINVAL and the next one runs (%llu ms, 0x%x, 0x%x)",
	   (unsigned long long)t, slot(0)->status, slot(1)->status);
	mdev_attr(uuid, "qos_dma_bw", "0");
	w32(Q0 + Q_CTRL, 0);
	memset(mem, 0, 0x1000);
}

static void mdacc_streams(void)
{
	__u8 good[R_LEN], rec[2 * R_LEN + 1];
	struct resumed r;
	struct job *canary = (struct job *)(mem + OOB_SLOT * sizeof(struct job));
	int fd, done;

	/* a good record: queue 0 enabled, 8 entries at IOVA */
	dev_reset();
	bus_master();
	mdacc_queue_up(8);
	if (set_state(VFIO_DEVICE_STATE_STOP, NULL) ||
	    set_state(VFIO_DEVICE_STATE_STOP_COPY, &fd))
		die("RUNNING -> STOP_COPY");
	ok(read_stream(fd, good, sizeof(good)) == R_LEN, "STOP_COPY gives one 440-byte record");
	close(fd);
	if (set_state(VFIO_DEVICE_STATE_RUNNING, NULL))
		die("back to RUNNING");

	/*
	 * The bug this scenario was written for: a disabled queue with a
	 * HEAD past its ring, then the queue enabled from the registers. The
	 * descriptor at "slot 129" of a 2-entry ring is the canary: a FILL
	 * job in the page after the ring.
	 */
	*canary = (struct job){ .op = 3 | 0x5a << 8, .dst = IOVA + FILL_DST, .len = 16 };
	memcpy(rec, good, R_LEN);
	put32(rec, R_Q(0) + RQ_CTRL, 0);
	put32(rec, R_Q(0) + RQ_SIZE, 2);
	put32(rec, R_Q(0) + RQ_HEAD, 0x8000000);	/* 4 GiB past the ring */
	put32(rec, R_Q(0) + RQ_TAIL, 0);
	refused_at("a disabled queue with HEAD 2^27 (4 GiB past the ring)", rec, R_LEN, R_LEN, R_LEN);
	put32(rec, R_Q(0) + RQ_HEAD, OOB_SLOT);
	r = refused_at("a disabled queue with HEAD 129 of 2", rec, R_LEN, R_LEN, R_LEN);
	if (r.state == VFIO_DEVICE_STATE_STOP) {
		/* loaded: see what the job engine does with it */
		if (set_state(VFIO_DEVICE_STATE_RUNNING, NULL))
			die("STOP -> RUNNING");
	} else {
		dev_reset();
		bus_master();
	}
	w32(Q0 + Q_CTRL, 1);
	w32(M_CTRL, 1);
	w32(Q0 + Q_TAIL, 1);
	usleep(1500000);
	ok(!r32(Q0 + Q_JOBS) && !r64(M_JOBS_DONE) && !r64(M_JOBS_FAILED),
	   "then enabling the queue and ringing the doorbell runs no job (Q_JOBS %u, done %llu, failed %llu)",
	   r32(Q0 + Q_JOBS), (unsigned long long)r64(M_JOBS_DONE),
	   (unsigned long long)r64(M_JOBS_FAILED));
	ok(!canary->status && mem[FILL_DST] != 0x5a,
	   "nothing was read or written past the ring page (canary status 0x%x, fill byte 0x%x)",
	   canary->status, mem[FILL_DST]);

	memcpy(rec, good, R_LEN);
	put32(rec, R_Q(0) + RQ_CTRL, 0);
	put32(rec, R_Q(0) + RQ_TAIL, 5);
	refused_at("a disabled queue with TAIL 5", rec, R_LEN, R_LEN, R_LEN);
	memcpy(rec, good, R_LEN);
	put32(rec, R_Q(0) + RQ_CTRL, 0);
	put32(rec, R_Q(0) + RQ_SIZE, 0x40000000);
	refused_at("a disabled queue with QSIZE 2^30", rec, R_LEN, R_LEN, R_LEN);
	put32(rec, R_Q(0) + RQ_SIZE, 3);
	refused_at("a disabled queue with QSIZE 3", rec, R_LEN, R_LEN, R_LEN);
	memcpy(rec, good, R_LEN);
	put32(rec, R_Q(0) + RQ_CTRL, 0);
	put64(rec, R_Q(0) + RQ_BASE, IOVA + 0x10);
	refused_at("a disabled queue with an unaligned QBASE", rec, R_LEN, R_LEN, R_LEN);
	memcpy(rec, good, R_LEN);
	put32(rec, R_Q(0) + RQ_HEAD, 8);
	refused_at("an enabled queue with HEAD == QSIZE", rec, R_LEN, R_LEN, R_LEN);
	memcpy(rec, good, R_LEN);
	put32(rec, R_Q(0) + RQ_TAIL, 200);
	refused_at("an enabled queue with TAIL 200 of 8", rec, R_LEN, R_LEN, R_LEN);
	memcpy(rec, good, R_LEN);
	put32(rec, R_Q(0) + RQ_SIZE, 256);
	refused_at("an enabled queue with QSIZE 256", rec, R_LEN, R_LEN, R_LEN);
	memcpy(rec, good, R_LEN);
	put32(rec, R_Q(0) + RQ_CTRL, 3);
	refused_at("an unknown queue control bit", rec, R_LEN, R_LEN, R_LEN);
	memcpy(rec, good, R_LEN);
	put32(rec, R_Q(0) + RQ_RSVD, 1);
	refused_at("a nonzero queue reserved field", rec, R_LEN, R_LEN, R_LEN);
	memcpy(rec, good, R_LEN);
	put32(rec, R_RSVD, 1);
	refused_at("a nonzero reserved field", rec, R_LEN, R_LEN, R_LEN);
	memcpy(rec, good, R_LEN);
	put32(rec, R_Q(1) + RQ_SIZE, 8);
	refused_at("queue 1 of a one-queue type", rec, R_LEN, R_LEN, R_LEN);
	memcpy(rec, good, R_LEN);
	put32(rec, R_CTRL, 3);
	refused_at("CTRL with the RESET bit", rec, R_LEN, R_LEN, R_LEN);
	memcpy(rec, good, R_LEN);
	put32(rec, R_STATUS, 1);
	refused_at("STATUS with BUSY", rec, R_LEN, R_LEN, R_LEN);
	memcpy(rec, good, R_LEN);
	put32(rec, R_IRQ_STATUS, 2);
	refused_at("IRQ_STATUS for queue 1 of a one-queue type", rec, R_LEN, R_LEN, R_LEN);
	memcpy(rec, good, R_LEN);
	rec[R_CONFIG + PCI_VENDOR_ID] ^= 0xff;
	refused_at("another vendor ID in config space", rec, R_LEN, R_LEN, R_LEN);
	memcpy(rec, good, R_LEN);
	rec[R_CONFIG + PCI_BASE_ADDRESS_0] |= PCI_BASE_ADDRESS_MEM_TYPE_64 | PCI_BASE_ADDRESS_MEM_PREFETCH;
	refused_at("BAR0 flags changed to 64-bit prefetchable", rec, R_LEN, R_LEN, R_LEN);
	memcpy(rec, good, R_LEN);
	rec[R_CONFIG + PCI_CAPABILITY_LIST] = 0xfc;
	refused_at("a capability pointer to 0xfc", rec, R_LEN, R_LEN, R_LEN);

	/* the header: refused as soon as its 16 bytes are in, whatever the pieces */
	memcpy(rec, good, R_LEN);
	put32(rec, R_MAGIC, 0x12345678);
	refused_at("a bad magic, 4 bytes a write", rec, R_LEN, 4, 16);
	memcpy(rec, good, R_LEN);
	put32(rec, R_VERSION, 2);
	refused_at("version 2, 1 byte a write", rec, R_LEN, 1, 16);
	memcpy(rec, good, R_LEN);
	put32(rec, R_SIZE, 0xffffffff);
	refused_at("a record size of 2^32-1", rec, R_LEN, 10, 20);
	memcpy(rec, good, R_LEN);
	put32(rec, R_NQUEUES, 4);
	refused_at("4 queues into a one-queue type", rec, R_LEN, R_LEN, R_LEN);

	/* lengths */
	refused_at_stop("a record one byte short", good, R_LEN - 1, R_LEN);
	memcpy(rec, good, R_LEN);
	rec[R_LEN] = 0x4d;
	refused_at_stop("a record one byte long", rec, R_LEN + 1, 64);

	/* a hostile record after a good one, in one write */
	memcpy(rec, good, R_LEN);
	memcpy(rec + R_LEN, good, R_LEN);
	put32(rec + R_LEN, R_Q(0) + RQ_CTRL, 0);
	put32(rec + R_LEN, R_Q(0) + RQ_HEAD, 0x8000000);
	refused_at("a good record, then a disabled queue with HEAD 2^27", rec, 2 * R_LEN,
		   2 * R_LEN, 2 * R_LEN);

	/* a good record, one byte a write, loads and runs */
	r = resume(good, R_LEN, 1);
	ok(!r.werr && !r.stop && r.state == VFIO_DEVICE_STATE_STOP,
	   "a good record written a byte at a time loads (%ld, %ld, state %u)", r.werr, r.stop,
	   r.state);
	if (set_state(VFIO_DEVICE_STATE_RUNNING, NULL))
		die("STOP -> RUNNING");
	memcpy(mem + DATA_OFF, "0123456789abcdef", 16);
	*slot(0) = (struct job){ .op = 1, .src = IOVA + DATA_OFF, .dst = IOVA + COPY_DST, .len = 16 };
	w32(Q0 + Q_TAIL, 1);
	done = wait_head(1);
	ok(done && slot(0)->status == 1 && !memcmp(mem + COPY_DST, "0123456789abcdef", 16),
	   "the loaded queue runs a job (status 0x%x)", slot(0)->status);
	ok(!canary->status && mem[FILL_DST] != 0x5a,
	   "still nothing past the ring page (canary status 0x%x)", canary->status);
}

/* a failing PRE_COPY -> STOP_COPY leaves the device running in PRE_COPY */
static void mdacc_precopy(const char *uuid)
{
	__u8 buf[2 * R_LEN];
	__u32 st, want;
	long r;
	int fd, done;

	if (!(mig_flags() & VFIO_MIGRATION_PRE_COPY)) {
		printf("-- no PRE_COPY on this kernel: the PRE_COPY -> STOP_COPY failure is not probed\n");
		return;
	}
	dev_reset();
	bus_master();
	mdacc_queue_up(8);
	if (set_state(ST_PRE_COPY, &fd))
		die("RUNNING -> PRE_COPY");
	fault(uuid, "fail_stop_copy");
	r = set_state(VFIO_DEVICE_STATE_STOP_COPY, NULL);
	ok(r == -EIO, "PRE_COPY -> STOP_COPY with fail_stop_copy fails with EIO (%ld)", r);
	/* with P2P the core steps PRE_COPY -> PRE_COPY_P2P -> STOP_COPY */
	want = mig_flags() & VFIO_MIGRATION_P2P ? ST_PRE_COPY_P2P : ST_PRE_COPY;
	st = get_state();
	ok(st == want, "get_state says %u, the state before the failed arc (%u)", want, st);
	memset(mem, 0, 0x1000);
	memcpy(mem + DATA_OFF, "running in PRE_COPY", 16);
	*slot(0) = (struct job){ .op = 1, .src = IOVA + DATA_OFF, .dst = IOVA + COPY_DST, .len = 16 };
	w32(Q0 + Q_TAIL, 1);
	done = wait_head(1);
	ok(done && slot(0)->status == 1,
	   "the device still runs jobs, as that state says (status 0x%x)", slot(0)->status);
	fault(uuid, "none");
	r = set_state(VFIO_DEVICE_STATE_STOP_COPY, NULL);
	ok(!r, "PRE_COPY -> STOP_COPY then succeeds (%ld)", r);
	ok(read_stream(fd, buf, sizeof(buf)) == 2 * R_LEN, "the fd gives both records");
	close(fd);
	ok(!set_state(VFIO_DEVICE_STATE_RUNNING, NULL), "back to RUNNING");
}

/* ------------------------------------------------------------ edu */

struct edu_stream {
	__u32 magic;
	__u16 version, header_len;
	__u32 ident, state_len;
	__u32 liveness, fact_in, fact_out, status, irq_status, reserved;
	__u64 dma_src, dma_dst, dma_cnt;
};

static void edu_streams(void)
{
	struct edu_stream saved, s;
	__u8 big[130];
	__u32 before[4];
	struct resumed r;
	int fd;

	bus_master();
	if (w32(0x08, 5) != 4)
		die("factorial input");
	usleep(10000);
	if (set_state(VFIO_DEVICE_STATE_STOP, NULL) ||
	    set_state(VFIO_DEVICE_STATE_STOP_COPY, &fd))
		die("RUNNING -> STOP_COPY");
	ok(read_stream(fd, &saved, sizeof(saved)) == 64, "STOP_COPY gives 64 bytes");
	close(fd);
	if (set_state(VFIO_DEVICE_STATE_STOP, NULL))
		die("STOP_COPY -> STOP");
	before[0] = r32(0x04);
	before[1] = r32(0x08);
	before[2] = r32(0x20);
	before[3] = r32(0x88);

	memcpy(big, &saved, 64);
	memcpy(big + 64, &saved, 64);
	refused_at("edu: two streams in one write (128 bytes)", big, 128, 128, 128);
	r = resume(big, 65, 64);
	ok(r.werr == -EINVAL && r.werr_at == 65,
	   "edu: a byte written past the 64 of a stream is refused with EINVAL (%ld at %zu)",
	   r.werr, r.werr_at);
	ok(!r.stop && r.state == VFIO_DEVICE_STATE_STOP,
	   "edu: the 64 bytes before it load (%ld, state %u)", r.stop, r.state);
	s = saved; s.magic = 0;
	refused_at("edu: a bad magic, 1 byte a write", &s, 64, 1, 16);
	s = saved; s.header_len = 0xffff;
	refused_at("edu: header length 0xffff", &s, 64, 7, 21);
	s = saved; s.state_len = 0xffffffff;
	refused_at("edu: state length 2^32-1", &s, 64, 64, 64);
	s = saved; s.version = 0;
	refused_at("edu: version 0", &s, 64, 16, 16);
	refused_at_stop("edu: a header alone", &saved, 16, 16);
	s = saved; s.ident ^= 0xff000000;
	refused_at_stop("edu: another device's ident", &s, 64, 64);
	s = saved; s.status = 0x81;
	refused_at_stop("edu: status 'computing'", &s, 64, 64);
	s = saved; s.status = 0x100;
	refused_at_stop("edu: a status bit edu does not have", &s, 64, 64);
	s = saved; s.fact_in = 12; s.fact_out = 479001600 + 1;
	refused_at_stop("edu: a factorial result that is not input!", &s, 64, 64);
	ok(r32(0x04) == before[0] && r32(0x08) == before[1] && r32(0x20) == before[2] &&
	   r32(0x88) == before[3], "edu: refused streams left the device untouched");

	/* hostile but consistent: input 2^32-1 gives 0, replayed as 34 */
	s = saved; s.fact_in = 0xffffffff; s.fact_out = 0;
	r = resume(&s, 64, 64);
	ok(!r.werr && !r.stop && r.state == VFIO_DEVICE_STATE_STOP && r32(0x08) == 0,
	   "edu: factorial input 2^32-1 loads, bounded (%ld, %ld, 0x08 = %u)", r.werr, r.stop,
	   r32(0x08));
	ok(!set_state(VFIO_DEVICE_STATE_RUNNING, NULL), "edu: back to RUNNING");
}

/* ------------------------------------------------------------ hold */

/*
 * Hold an mdacc instance open (with a request eventfd if @arm) while the
 * shell removes it; release it on the request or after @wait_s seconds.
 */
static int hold(int arm, int wait_s)
{
	struct {
		struct vfio_irq_set s;
		__s32 fd;
	} req = {
		.s.argsz = sizeof(req),
		.s.flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER,
		.s.index = VFIO_PCI_REQ_IRQ_INDEX,
		.s.count = 1,
	};
	struct pollfd p = { .events = POLLIN };
	__u64 t0, n = 0;
	long r = 0;

	p.fd = eventfd(0, 0);
	if (p.fd < 0)
		die("eventfd");
	req.fd = p.fd;
	if (arm) {
		r = ioctl(dev, VFIO_DEVICE_SET_IRQS, &req) ? -errno : 0;
		printf("armed %ld\n", r);
	}
	printf("holding\n");
	fflush(stdout);
	t0 = now_ms();
	if (poll(&p, 1, wait_s * 1000) == 1 && read(p.fd, &n, 8) == 8)
		printf("request seen after %llu ms (count %llu)\n",
		       (unsigned long long)(now_ms() - t0), (unsigned long long)n);
	else
		printf("no request within %d s\n", wait_s);
	close_dev();
	printf("released\n");
	return 0;
}

int main(int argc, char **argv)
{
	char path[256];

	if (argc < 3) {
		fprintf(stderr, "usage: hostile-probe mdacc UUID | edu BDF | hold UUID ARM SECONDS\n");
		return 2;
	}
	if (!strcmp(argv[1], "edu")) {
		is_edu = 1;
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s", argv[2]);
		open_dev(path, argv[2]);
		edu_streams();
	} else {
		snprintf(path, sizeof(path), "/sys/bus/mdev/devices/%s", argv[2]);
		open_dev(path, argv[2]);
		if (!strcmp(argv[1], "hold"))
			return argc == 5 ? hold(atoi(argv[3]), atoi(argv[4])) : 2;
		mdacc_map();
		mdacc_registers();
		mdacc_qos(argv[2]);
		mdacc_streams();
		mdacc_precopy(argv[2]);
	}
	close_dev();
	printf("probe: %d failed\n", nfail);
	return nfail != 0;
}
CEOF

# ---- mdacc: streams, registers, arcs
U=6d646163-0000-4000-8000-000000000251
echo $U > $T/mdacc-1q/create || fail "create $U"
rc=0
"$OUT/hostile-probe" mdacc $U > "$OUT/mdacc.txt" 2>&1 || rc=$?
cat "$OUT/mdacc.txt"
[ $rc = 0 ] || fail "mdacc: $(grep -c '^FAIL' "$OUT/mdacc.txt") failures: $(grep '^FAIL' "$OUT/mdacc.txt" | head -n 3 | tr '\n' ';')"
echo 1 > /sys/bus/mdev/devices/$U/remove || fail "remove $U"
c=$(kernel_complaints)
[ -z "$c" ] || fail "kernel complaints after the mdacc probe: $c"

# ---- edu_vfio_pci: streams
modprobe edu_vfio_pci || fail "modprobe edu_vfio_pci failed"
d=/sys/bus/pci/devices/$EDU_BDF
echo "$EDU_BDF" > "$d/driver/unbind"
echo edu_vfio_pci > "$d/driver_override"
echo "$EDU_BDF" > /sys/bus/pci/drivers_probe
expect_eq "$EDU_BDF driver" "$(basename "$(readlink "$d/driver")")" edu_vfio_pci
rc=0
"$OUT/hostile-probe" edu "$EDU_BDF" > "$OUT/edu.txt" 2>&1 || rc=$?
cat "$OUT/edu.txt"
[ $rc = 0 ] || fail "edu: $(grep -c '^FAIL' "$OUT/edu.txt") failures: $(grep '^FAIL' "$OUT/edu.txt" | head -n 3 | tr '\n' ';')"
c=$(kernel_complaints)
[ -z "$c" ] || fail "kernel complaints after the edu probe: $c"

# ---- removing an instance a process holds open (the .request callback)
# remove_timed UUID: remove it, time-bounded (a removal that hangs fails
# here); sets TOOK, the seconds it took
remove_timed() {
	local t0 t1
	t0=$(date +%s.%N)
	timeout -k 5 60 sh -c "echo 1 > /sys/bus/mdev/devices/$1/remove" ||
		fail "removing $1 failed or did not return within 60 s"
	t1=$(date +%s.%N)
	TOOK=$(echo "$t1 - $t0" | bc)
}
U=6d646163-0000-4000-8000-000000000252
echo $U > $T/mdacc-1q/create || fail "create $U"
"$OUT/hostile-probe" hold $U 1 40 > "$OUT/hold.txt" 2>&1 &
holder=$!
wait_for_line "$OUT/hold.txt" '^holding' 60 $holder
remove_timed $U
wait $holder || fail "the holder failed: $(cat "$OUT/hold.txt")"
cat "$OUT/hold.txt"
grep -qx 'armed 0' "$OUT/hold.txt" || fail "the request eventfd was not armed: $(head -n 1 "$OUT/hold.txt")"
grep -q '^request seen' "$OUT/hold.txt" || fail "the holder never saw the request"
[ "$(echo "$TOOK < 20" | bc)" = 1 ] || fail "the removal took $TOOK s with a request eventfd"
note "removal with the holder on its request eventfd took $TOOK s"
[ -e /sys/bus/mdev/devices/$U ] && fail "$U still exists after its removal"
dmesg | grep -q "$U: relaying device request to user (#0)" || fail "the relayed request is not logged"

# without a request eventfd: the removal waits for the holder, and says so
U=6d646163-0000-4000-8000-000000000253
echo $U > $T/mdacc-1q/create || fail "create $U"
"$OUT/hostile-probe" hold $U 0 5 > "$OUT/hold-noreq.txt" 2>&1 &
holder=$!
wait_for_line "$OUT/hold-noreq.txt" '^holding' 60 $holder
remove_timed $U
wait $holder || fail "the holder failed: $(cat "$OUT/hold-noreq.txt")"
grep -q '^no request within' "$OUT/hold-noreq.txt" || fail "a request reached a holder that armed none"
[ "$(echo "$TOOK >= 3" | bc)" = 1 ] || fail "the removal took $TOOK s, before the holder released"
note "removal without a request eventfd waited $TOOK s for the holder"
dmesg | grep -q "$U: no device request channel registered" || fail "the blocked removal is not logged"

expect_eq "mdacc instances left" "$(ls /sys/bus/mdev/devices | wc -l)" 0
c=$(kernel_complaints)
[ -z "$c" ] || fail "kernel complaints: $c"
echo "mdacc and edu_vfio_pci refuse hostile streams and values; removal asks the holder"
