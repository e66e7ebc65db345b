// SPDX-License-Identifier: GPL-2.0
/*
 * mdacc-jobs: drive an mdacc mediated device (kernel/mdacc, register file
 * in kernel/include/mdacc_regs.h) like a VMM's guest driver would: map
 * memory, set up queue 0, submit a seeded mix of COPY/XOR/FILL jobs, wait
 * for them (eventfd interrupts or HEAD polling) and verify every byte.
 *
 * Also the "mdacc" migration workload (migrate.h): jobs are left pending
 * on the source when it stops, and the destination must finish each of
 * them exactly once, continuing from the source's HEAD and counters.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <linux/pci_regs.h>
#include "cmds.h"
#include "migrate.h"
#include "mdacc_regs.h"

#define MJ_IOVA		0x10000000ull
#define MJ_RING_OFF	0
#define MJ_POOL_OFF	0x1000
#define MJ_POOL_SIZE	0x10000
#define MJ_SLOT_OFF	(MJ_POOL_OFF + MJ_POOL_SIZE)
#define MJ_SLOT_SIZE	0x1000		/* one job's destination */
#define MJ_QSIZE	128		/* at most 127 jobs outstanding */
#define MJ_MAX_JOBS	16384
#define MJ_CANARY	0xa5
#define MJ_WAIT_S	60

/* one planned job and what it must produce */
struct mj_job {
	__u32 op, arg, len, src_off;
	int inplace;			/* XOR of its own slot: not idempotent */
};

struct mj {
	struct vx_dev *d;		/* the device the jobs run on */
	struct vx_dev *dst;		/* migration: the destination */
	__u8 *mem;
	size_t size;
	__u64 bar0, cfg;		/* region offsets in the device fd */
	struct mj_job *jobs;
	unsigned int n;
	__u32 tail;			/* next ring slot to fill */
	__u64 seed_state;
	char qos_path[256];		/* migration: source qos_job_rate */
};

static __u64 mj_rand(struct mj *m)
{
	/* xorshift64*: deterministic for a seed on every libc */
	m->seed_state ^= m->seed_state >> 12;
	m->seed_state ^= m->seed_state << 25;
	m->seed_state ^= m->seed_state >> 27;
	return m->seed_state * 0x2545f4914f6cdd1dull;
}

static __u32 rd32(struct vx_dev *d, __u64 bar0, __u32 off)
{
	__u32 v;

	if (pread(d->device, &v, 4, bar0 + off) != 4)
		die("%s: BAR0 read 0x%x: %s", d->name, off, strerror(errno));
	return v;
}

static __u64 rd64(struct vx_dev *d, __u64 bar0, __u32 off)
{
	__u64 v;

	if (pread(d->device, &v, 8, bar0 + off) != 8)
		die("%s: BAR0 read 0x%x: %s", d->name, off, strerror(errno));
	return v;
}

static void wr32(struct vx_dev *d, __u64 bar0, __u32 off, __u32 v)
{
	if (pwrite(d->device, &v, 4, bar0 + off) != 4)
		die("%s: BAR0 write 0x%x: %s", d->name, off, strerror(errno));
}

static void wr64(struct vx_dev *d, __u64 bar0, __u32 off, __u64 v)
{
	if (pwrite(d->device, &v, 8, bar0 + off) != 8)
		die("%s: BAR0 write 0x%x: %s", d->name, off, strerror(errno));
}

static struct mdacc_job *ring(struct mj *m)
{
	return (struct mdacc_job *)(m->mem + MJ_RING_OFF);
}

static __u8 *slot(struct mj *m, unsigned int i)
{
	return m->mem + MJ_SLOT_OFF + (size_t)i * MJ_SLOT_SIZE;
}

/* region offsets, identity and bus mastering: what a guest driver does */
static void mj_probe(struct vx_dev *d, __u64 *cfg_off, __u64 *bar0_off)
{
	struct vfio_region_info cfg, bar0;
	__u16 ids[2], cmd;

	VX_CHECK("config region info", vx_region_info(d, VFIO_PCI_CONFIG_REGION_INDEX, &cfg));
	VX_CHECK("BAR0 region info", vx_region_info(d, VFIO_PCI_BAR0_REGION_INDEX, &bar0));
	if (pread(d->device, ids, 4, cfg.offset + PCI_VENDOR_ID) != 4)
		die("%s: config read: %s", d->name, strerror(errno));
	if (ids[0] != MDACC_PCI_VENDOR || ids[1] != MDACC_PCI_DEVICE)
		die("%s is not an mdacc (%04x:%04x)", d->name, ids[0], ids[1]);
	if (bar0.size != MDACC_BAR0_SIZE)
		die("%s: BAR0 size 0x%llx, the mdacc ABI says 0x%x", d->name,
		    (unsigned long long)bar0.size, MDACC_BAR0_SIZE);
	if (rd32(d, bar0.offset, MDACC_REG_ID) != MDACC_ID_VALUE)
		die("%s: bad ID register", d->name);
	if (pread(d->device, &cmd, 2, cfg.offset + PCI_COMMAND) != 2)
		die("%s: config read: %s", d->name, strerror(errno));
	cmd |= PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
	if (pwrite(d->device, &cmd, 2, cfg.offset + PCI_COMMAND) != 2)
		die("%s: config write: %s", d->name, strerror(errno));
	*cfg_off = cfg.offset;
	*bar0_off = bar0.offset;
}

/* guest memory: ring, a random source pool, one canary-filled slot per job */
static void mj_alloc(struct mj *m, unsigned int n, unsigned long seed)
{
	size_t i;

	m->n = n;
	m->size = MJ_SLOT_OFF + (size_t)n * MJ_SLOT_SIZE;
	m->mem = mmap(NULL, m->size, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m->mem == MAP_FAILED)
		die("mmap %zu bytes: %s", m->size, strerror(errno));
	m->jobs = calloc(n, sizeof(*m->jobs));
	if (!m->jobs)
		die("out of memory");
	m->seed_state = seed * 0x9e3779b97f4a7c15ull + 1;
	for (i = 0; i < MJ_POOL_SIZE; i++)
		m->mem[MJ_POOL_OFF + i] = mj_rand(m);
	memset(m->mem + MJ_SLOT_OFF, MJ_CANARY, (size_t)n * MJ_SLOT_SIZE);
}

/*
 * Plan job @i: a seeded mix of COPY, XOR and FILL. With @inplace_ok, some
 * XORs work in place on their own slot, pre-filled from the pool: run
 * twice, they would give the original bytes back.
 */
static void mj_plan(struct mj *m, unsigned int i, int inplace_ok)
{
	struct mj_job *j = &m->jobs[i];
	__u64 r = mj_rand(m);

	j->op = MDACC_OP_COPY + r % 3;
	j->arg = 1 + (r >> 8) % 255;
	j->len = 1 + (r >> 16) % MJ_SLOT_SIZE;
	j->src_off = (r >> 32) % (MJ_POOL_SIZE - j->len + 1);
	j->inplace = inplace_ok && j->op == MDACC_OP_XOR && (r >> 60) % 2;
	if (j->inplace)
		memcpy(slot(m, i), m->mem + MJ_POOL_OFF + j->src_off, j->len);
}

static void mj_write_desc(struct mj *m, unsigned int i, __u32 flags)
{
	struct mj_job *j = &m->jobs[i];
	struct mdacc_job *desc = &ring(m)[m->tail];
	__u64 dst = MJ_IOVA + MJ_SLOT_OFF + (__u64)i * MJ_SLOT_SIZE;

	desc->op = j->op | j->arg << 8;
	desc->flags = flags;
	desc->src = j->inplace ? dst : MJ_IOVA + MJ_POOL_OFF + j->src_off;
	desc->dst = dst;
	desc->len = j->len;
	desc->status = MDACC_JOB_PENDING;
	m->tail = (m->tail + 1) % MJ_QSIZE;
}

/* job @i's descriptor status, then every byte of its slot */
static int mj_check(struct mj *m, unsigned int i, __u32 status)
{
	struct mj_job *j = &m->jobs[i];
	const __u8 *src = m->mem + MJ_POOL_OFF + j->src_off, *out = slot(m, i);
	__u32 k;

	if (status != MDACC_JOB_DONE) {
		warnx_("job %u: status 0x%x", i, status);
		return -1;
	}
	for (k = 0; k < MJ_SLOT_SIZE; k++) {
		__u8 want;

		if (k >= j->len)
			want = MJ_CANARY;
		else if (j->op == MDACC_OP_COPY)
			want = src[k];
		else if (j->op == MDACC_OP_XOR)
			want = src[k] ^ j->arg;
		else
			want = j->arg;
		if (out[k] != want) {
			warnx_("job %u (op %u arg 0x%x len %u%s): byte %u is 0x%02x, want 0x%02x",
			       i, j->op, j->arg, j->len, j->inplace ? " in place" : "",
			       k, out[k], want);
			return -1;
		}
	}
	return 0;
}

static void mj_setup_queue(struct mj *m, struct vx_dev *d)
{
	wr64(d, m->bar0, MDACC_QREG(0) + MDACC_Q_BASE, MJ_IOVA + MJ_RING_OFF);
	wr32(d, m->bar0, MDACC_QREG(0) + MDACC_Q_SIZE, MJ_QSIZE);
	wr32(d, m->bar0, MDACC_QREG(0) + MDACC_Q_CTRL, MDACC_QCTRL_ENABLE);
	wr32(d, m->bar0, MDACC_REG_CTRL, MDACC_CTRL_ENABLE);
	if (!(rd32(d, m->bar0, MDACC_QREG(0) + MDACC_Q_CTRL) & MDACC_QCTRL_ENABLE) ||
	    rd32(d, m->bar0, MDACC_REG_STATUS) & MDACC_STATUS_ERROR)
		die("%s: queue 0 did not enable (status 0x%x)", d->name,
		    rd32(d, m->bar0, MDACC_REG_STATUS));
}

static int mj_irq_setup(struct vx_dev *d)
{
	struct {
		struct vfio_irq_set s;
		__s32 fd;
	} req = {
		.s.argsz = sizeof(req),
		.s.flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER,
		.s.index = VFIO_PCI_MSI_IRQ_INDEX,
		.s.start = 0,
		.s.count = 1,
	};
	int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);

	if (fd < 0)
		die("eventfd: %s", strerror(errno));
	req.fd = fd;
	VX_CHECK("VFIO_DEVICE_SET_IRQS(MSI, eventfd)",
		 vx_ioctl(VFS_FD_DEVICE, d->device, VFIO_DEVICE_SET_IRQS, &req));
	return fd;
}

static void mj_irq_teardown(struct vx_dev *d)
{
	struct vfio_irq_set s = {
		.argsz = sizeof(s),
		.flags = VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER,
		.index = VFIO_PCI_MSI_IRQ_INDEX,
		.count = 0,
	};

	VX_CHECK("VFIO_DEVICE_SET_IRQS(MSI, off)",
		 vx_ioctl(VFS_FD_DEVICE, d->device, VFIO_DEVICE_SET_IRQS, &s));
}

/* interrupts delivered so far, added to *@irqs; waits up to @ms */
static void mj_irq_wait(int fd, int ms, unsigned long long *irqs)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	__u64 v;

	if (poll(&p, 1, ms) > 0 && read(fd, &v, sizeof(v)) == sizeof(v))
		*irqs += v;
}

static void sleep_ns(__u64 ns)
{
	struct timespec ts = { ns / 1000000000ull, ns % 1000000000ull };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static volatile sig_atomic_t stop_asked;

static void on_usr1(int sig)
{
	(void)sig;
	stop_asked = 1;
}

int cmd_mdacc_jobs(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "irq", no_argument, NULL, 'i' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long n = 0, rate = 0, seed = 1, done = 0, submitted = 0, secs = 0, i;
	unsigned long depth = MJ_QSIZE - 1;
	unsigned long long irqs = 0, bytes = 0;
	int use_irq = 0, opt, bad = 0, ev = -1;
	__u64 t0, t1, deadline, stop = ~0ull;
	struct vx_dev d;
	struct mj m = { 0 };
	__u32 head, *status;

	while ((opt = getopt_long(argc, argv, "n:r:s:d:q:", opts, NULL)) != -1) {
		switch (opt) {
		case 'n':
			n = strtoul(optarg, NULL, 0);
			break;
		case 'r':
			rate = strtoul(optarg, NULL, 0);
			break;
		case 's':
			seed = strtoul(optarg, NULL, 0);
			break;
		case 'd':
			secs = strtoul(optarg, NULL, 0);
			break;
		case 'q':
			depth = strtoul(optarg, NULL, 0);
			break;
		case 'i':
			use_irq = 1;
			break;
		default:
			return 2;
		}
	}
	if (optind != argc - 1 || !n || n > MJ_MAX_JOBS || secs > 600 || !depth ||
	    depth > MJ_QSIZE - 1)
		die("usage: vfio-exercise mdacc-jobs UUID -n N (1..%d) [-r RATE_PER_S] "
		    "[-d SECONDS (..600)] [-q DEPTH (1..%d)] [-s SEED] [--irq]", MJ_MAX_JOBS,
		    MJ_QSIZE - 1);

	vx_open(&d, argv[optind]);
	vx_walk(&d, NULL);
	/* a VMM resets the device before its guest uses it */
	VX_CHECK("VFIO_DEVICE_RESET", vx_ioctl(VFS_FD_DEVICE, d.device, VFIO_DEVICE_RESET, NULL));
	m.d = &d;
	mj_probe(&d, &m.cfg, &m.bar0);
	mj_alloc(&m, n, seed);
	vx_map(&d, m.mem, MJ_IOVA, m.size);
	if (use_irq)
		ev = mj_irq_setup(&d);
	mj_setup_queue(&m, &d);
	for (i = 0; i < n; i++)
		mj_plan(&m, i, 0);
	status = calloc(n, sizeof(*status));
	if (!status)
		die("out of memory");

	/* submit as the ring allows (and -r paces), reap by HEAD */
	/* SIGUSR1 ends submitting early, like the end of -d */
	signal(SIGUSR1, on_usr1);
	t0 = vx_now_ns();
	if (secs)
		stop = t0 + secs * 1000000000ull;
	deadline = t0 + (secs + MJ_WAIT_S) * 1000000000ull;
	head = 0;
	/* with -d, submitting stops after SECONDS; what was submitted completes */
	while (done < n && !(done == submitted && vx_now_ns() >= stop)) {
		unsigned long batch = 0;

		if (stop_asked)
			stop = 0;

		/* the ring's room, and -q: at most DEPTH jobs outstanding */
		while (submitted < n && (m.tail + 1) % MJ_QSIZE != head &&
		       submitted - done < depth && vx_now_ns() < stop) {
			if (rate && vx_now_ns() < t0 + submitted * 1000000000ull / rate)
				break;
			mj_write_desc(&m, submitted++, use_irq ? MDACC_JOB_F_IRQ : 0);
			batch++;
		}
		if (batch) {
			__sync_synchronize();	/* descriptors before the doorbell */
			wr32(&d, m.bar0, MDACC_QREG(0) + MDACC_Q_TAIL, m.tail);
		}
		if (use_irq)
			mj_irq_wait(ev, 100, &irqs);
		else
			sleep_ns(100000);
		head = rd32(&d, m.bar0, MDACC_QREG(0) + MDACC_Q_HEAD);
		if (head >= MJ_QSIZE)
			die("%s: HEAD %u out of range", d.name, head);
		/* completed: keep the status before the slot is reused */
		while (done < submitted && done % MJ_QSIZE != head) {
			status[done] = ring(&m)[done % MJ_QSIZE].status;
			done++;
		}
		if (vx_now_ns() > deadline)
			die("%s: %lu of %lu jobs done after %d s (HEAD %u, status 0x%x)",
			    d.name, done, n, MJ_WAIT_S, head,
			    rd32(&d, m.bar0, MDACC_REG_STATUS));
	}
	t1 = vx_now_ns();
	if (use_irq) {
		/* late signals of the last completions */
		mj_irq_wait(ev, 10, &irqs);
		wr32(&d, m.bar0, MDACC_REG_IRQ_STATUS, 1);
	}

	/* every job's status and every byte of its slot */
	n = submitted;
	for (i = 0; i < n; i++) {
		if (mj_check(&m, i, status[i]))
			bad++;
		bytes += m.jobs[i].len;
	}
	if (rd64(&d, m.bar0, MDACC_REG_JOBS_DONE) != n)
		die("%s: JOBS_DONE %llu, want %lu", d.name,
		    (unsigned long long)rd64(&d, m.bar0, MDACC_REG_JOBS_DONE), n);

	wr32(&d, m.bar0, MDACC_QREG(0) + MDACC_Q_CTRL, 0);
	wr32(&d, m.bar0, MDACC_REG_CTRL, 0);
	if (use_irq) {
		mj_irq_teardown(&d);
		close(ev);
	}
	vx_unmap(&d, MJ_IOVA, m.size);
	vx_close(&d);
	munmap(m.mem, m.size);
	free(m.jobs);
	free(status);

	vx_print_summary(stdout);
	printf("jobs_submitted %lu\n", submitted);
	printf("jobs_verified %lu\n", n - bad);
	printf("irqs %llu\n", irqs);
	printf("job_bytes %llu\n", bytes);
	printf("elapsed_ns %llu\n", (unsigned long long)(t1 - t0));
	return bad ? 1 : 0;
}

/* --------------------------------------------------- migration workload */

#define MJ_MIG_JOBS	100		/* fits the ring: no wrap-around */
#define MJ_MIG_RATE	50		/* source jobs/s while loaded */
#define MJ_MIG_DONE_AT_LOAD 5		/* source jobs done before the stop */

static void *mdacc_wl_setup(struct vx_dev *src, struct vx_dev *dst, unsigned long seed)
{
	struct mj *m = calloc(1, sizeof(*m));
	__u64 dst_cfg, dst_bar0;
	unsigned int i;

	if (!m)
		die("out of memory");
	m->d = src;
	m->dst = dst;
	mj_probe(src, &m->cfg, &m->bar0);
	/* the destination's registers come with the migrated state */
	mj_probe(dst, &dst_cfg, &dst_bar0);
	if (dst_bar0 != m->bar0)
		die("source and destination disagree on BAR0's offset");
	mj_alloc(m, MJ_MIG_JOBS, seed);
	/* the same guest memory at the same IOVA in both containers */
	vx_map(src, m->mem, MJ_IOVA, m->size);
	vx_map(dst, m->mem, MJ_IOVA, m->size);
	for (i = 0; i < m->n; i++)
		mj_plan(m, i, 1);
	mj_setup_queue(m, src);
	snprintf(m->qos_path, sizeof(m->qos_path),
		 "/sys/bus/mdev/devices/%s/qos_job_rate", src->name);
	return m;
}

static int write_sysfs(const char *path, unsigned long v)
{
	char buf[32];
	int fd, n, ok;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = snprintf(buf, sizeof(buf), "%lu\n", v);
	ok = write(fd, buf, n) == n;
	close(fd);
	return ok ? 0 : -1;
}

static void mdacc_wl_load(void *ctx, struct vx_dev *src)
{
	struct mj *m = ctx;
	__u64 deadline = vx_now_ns() + MJ_WAIT_S * 1000000000ull;
	unsigned int i;

	/* slow the source down so the stop finds most jobs pending */
	if (write_sysfs(m->qos_path, MJ_MIG_RATE))
		warnx_("cannot set %s: jobs may all finish before the stop", m->qos_path);
	for (i = 0; i < m->n; i++)
		mj_write_desc(m, i, 0);
	__sync_synchronize();
	wr32(src, m->bar0, MDACC_QREG(0) + MDACC_Q_TAIL, m->tail);
	while (rd32(src, m->bar0, MDACC_QREG(0) + MDACC_Q_HEAD) < MJ_MIG_DONE_AT_LOAD) {
		if (vx_now_ns() > deadline)
			die("%s: no progress on the source", src->name);
		sleep_ns(1000000);
	}
}

static int mdacc_wl_verify(void *ctx, struct vx_dev *dst)
{
	struct mj *m = ctx;
	__u64 deadline = vx_now_ns() + MJ_WAIT_S * 1000000000ull;
	__u32 src_head, src_jobs, head, qjobs;
	__u64 src_done, done;
	unsigned int i, bad = 0;

	/* the source is stopped: its registers say where it stopped */
	src_head = rd32(m->d, m->bar0, MDACC_QREG(0) + MDACC_Q_HEAD);
	src_jobs = rd32(m->d, m->bar0, MDACC_QREG(0) + MDACC_Q_JOBS);
	src_done = rd64(m->d, m->bar0, MDACC_REG_JOBS_DONE);
	printf("wl_jobs %u\n", m->n);
	printf("wl_src_done %llu\n", (unsigned long long)src_done);
	printf("wl_pending_at_stop %u\n", m->n - src_jobs);

	while ((head = rd32(dst, m->bar0, MDACC_QREG(0) + MDACC_Q_HEAD)) != m->tail) {
		if (vx_now_ns() > deadline) {
			warnx_("%s: HEAD %u after %d s, want %u", dst->name, head,
			       MJ_WAIT_S, m->tail);
			return -1;
		}
		sleep_ns(1000000);
	}
	qjobs = rd32(dst, m->bar0, MDACC_QREG(0) + MDACC_Q_JOBS);
	done = rd64(dst, m->bar0, MDACC_REG_JOBS_DONE);
	printf("wl_dst_head %u\n", head);
	printf("wl_dst_queue_jobs %u\n", qjobs);
	printf("wl_dst_jobs_done %llu\n", (unsigned long long)done);
	if (src_head != src_jobs % MJ_QSIZE || src_jobs != src_done) {
		warnx_("source HEAD %u / queue jobs %u / JOBS_DONE %llu disagree",
		       src_head, src_jobs, (unsigned long long)src_done);
		bad++;
	}
	/* counters continue from the source's, nothing runs twice */
	if (qjobs != m->n || done != m->n) {
		warnx_("destination counted %u queue jobs, %llu done; want %u",
		       qjobs, (unsigned long long)done, m->n);
		bad++;
	}
	if (rd32(m->d, m->bar0, MDACC_QREG(0) + MDACC_Q_HEAD) != src_head) {
		warnx_("the source moved after it was stopped");
		bad++;
	}
	for (i = 0; i < m->n; i++)
		if (mj_check(m, i, ring(m)[i].status))
			bad++;
	printf("wl_verified %u\n", m->n - bad);
	return bad ? -1 : 0;
}

static void mdacc_wl_teardown(void *ctx, struct vx_dev *src, struct vx_dev *dst)
{
	struct mj *m = ctx;

	if (!m)
		return;
	write_sysfs(m->qos_path, 0);
	vx_unmap(src, MJ_IOVA, m->size);
	vx_unmap(dst, MJ_IOVA, m->size);
	munmap(m->mem, m->size);
	free(m->jobs);
	free(m);
}

const struct vx_mig_workload vx_wl_mdacc = {
	.name = "mdacc",
	.setup = mdacc_wl_setup,
	.load = mdacc_wl_load,
	.verify = mdacc_wl_verify,
	.teardown = mdacc_wl_teardown,
};

VX_WORKLOAD(vx_wl_mdacc);
