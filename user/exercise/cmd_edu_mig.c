// SPDX-License-Identifier: GPL-2.0
/*
 * The edu migration workload (vfio-exercise migrate --workload edu), for
 * edu devices on edu_vfio_pci (kernel/edu_vfio_pci).
 *
 * load gives the source state in every register the driver migrates: a
 * seeded factorial with "interrupt after factorial" set, a seeded liveness
 * value, a DMA round trip RAM -> edu -> RAM whose completion raises 0x100,
 * and one more interrupt status bit raised by the user through 0x60. It
 * records what the source's registers read back.
 *
 * verify reads the destination's registers and checks each equals the
 * source's, that the migrated interrupt status reached the destination's
 * INTx eventfd (the driver raises it at STOP -> RUNNING), then drives the
 * destination on: a new factorial and a new DMA round trip.
 *
 * BAR0 is accessed with pread/pwrite of 4 bytes: the driver does not let
 * it be mmapped, and v6.1's vfio-pci splits 8-byte accesses into two 4-byte
 * ones, which edu ignores at the upper half of its 64-bit DMA registers.
 * Every value written stays below 4 GiB (IOVAs below 256 MiB, edu's DMA
 * mask being 28 bits), so the lower halves carry it all.
 *
 * Not checked, because the driver cannot migrate it: the device's internal
 * 4 KiB DMA buffer (only the device's DMA reaches it).
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <linux/pci_regs.h>
#include "migrate.h"

#define EDU_IDENT		0x00
#define EDU_LIVENESS		0x04
#define EDU_FACT		0x08
#define EDU_STATUS		0x20
#define EDU_IRQ_STATUS		0x24
#define EDU_IRQ_RAISE		0x60
#define EDU_IRQ_ACK		0x64
#define EDU_DMA_SRC		0x80
#define EDU_DMA_DST		0x88
#define EDU_DMA_CNT		0x90
#define EDU_DMA_CMD		0x98
#define EDU_STATUS_COMPUTING	0x01
#define EDU_STATUS_IRQ_FACT	0x80
#define EDU_CMD_START		0x1
#define EDU_CMD_TO_RAM		0x2
#define EDU_CMD_IRQ		0x4
#define EDU_IRQ_FACT		0x1
#define EDU_IRQ_DMA		0x100
#define EDU_BUF			0x40000
/* QEMU 7.2's edu aborts the VM on a 4096-byte DMA */
#define EDU_DMA_MAX		2048

/* guest memory: the same pages at the same IOVAs in both containers */
#define IOVA_BASE		0x200000ull
#define MEM_SIZE		0x100000ull
#define OUT_OFF			0x0
#define IN_OFF			0x80000

struct edu_side {
	struct vx_dev *d;
	__u64 cfg, bar;			/* region offsets in the device fd */
	__u32 bar_flags;
	int irq_fd;			/* INTx trigger */
};

/* what the source's registers read after load: the migrated values */
struct edu_regs {
	__u32 liveness, fact, status, irq_status;
	__u32 dma_src, dma_dst, dma_cnt;
};

struct edu_wl {
	unsigned long seed;
	__u8 *mem;
	struct edu_side src, dst;
	__u32 fact_in;
	struct edu_regs want;
};

static __u32 rd32(struct edu_side *s, __u64 off)
{
	__u32 v;

	if (pread(s->d->device, &v, 4, s->bar + off) != 4)
		die("%s: read BAR0+0x%llx: %s", s->d->name, (unsigned long long)off,
		    strerror(errno));
	return v;
}

static void wr32(struct edu_side *s, __u64 off, __u32 v)
{
	if (pwrite(s->d->device, &v, 4, s->bar + off) != 4)
		die("%s: write BAR0+0x%llx: %s", s->d->name, (unsigned long long)off,
		    strerror(errno));
}

/* n! mod 2^32, as edu computes it */
static __u32 fact(__u32 n)
{
	__u32 r = 1;

	if (n >= 34)
		return 0;
	while (n > 1)
		r *= n--;
	return r;
}

static void wait_clear(struct edu_side *s, __u64 off, __u32 bit, const char *what)
{
	struct timespec t = { 0, 100000 };
	int i;

	for (i = 0; i < 50000; i++) {
		if (!(rd32(s, off) & bit))
			return;
		nanosleep(&t, NULL);
	}
	die("%s: edu %s did not complete", s->d->name, what);
}

static void edu_dma(struct edu_side *s, __u32 src, __u32 dst, __u32 len, __u32 cmd)
{
	wr32(s, EDU_DMA_SRC, src);
	wr32(s, EDU_DMA_DST, dst);
	wr32(s, EDU_DMA_CNT, len);
	wr32(s, EDU_DMA_CMD, cmd);
	wait_clear(s, EDU_DMA_CMD, EDU_CMD_START, "DMA");
}

/* VFIO_DEVICE_SET_IRQS on INTx: @count 0 or 1, @fd with DATA_EVENTFD */
static void set_intx(struct edu_side *s, __u32 flags, __u32 count, int fd)
{
	struct {
		struct vfio_irq_set set;
		__s32 fd;
	} req = {
		.set.argsz = sizeof(req.set),
		.set.flags = flags,
		.set.index = VFIO_PCI_INTX_IRQ_INDEX,
		.set.count = count,
		.fd = fd,
	};

	if (flags & VFIO_IRQ_SET_DATA_EVENTFD)
		req.set.argsz += sizeof(req.fd);
	VX_CHECK("VFIO_DEVICE_SET_IRQS(INTx)",
		 vx_ioctl(VFS_FD_DEVICE, s->d->device, VFIO_DEVICE_SET_IRQS, &req));
}

/* eventfd count so far, without waiting */
static __u64 drain_irq(struct edu_side *s)
{
	__u64 n = 0;

	if (read(s->irq_fd, &n, sizeof(n)) != sizeof(n) && errno != EAGAIN)
		die("%s: INTx eventfd: %s", s->d->name, strerror(errno));
	return n;
}

/* clear edu's interrupt status, forget earlier signals, unmask INTx */
static void quiet_irq(struct edu_side *s)
{
	wr32(s, EDU_IRQ_ACK, ~0u);
	drain_irq(s);
	set_intx(s, VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_UNMASK, 1, -1);
}

static void side_setup(struct edu_side *s, struct vx_dev *d)
{
	struct vfio_region_info cfg, bar;
	__u16 cmd;

	s->d = d;
	VX_CHECK("config region info", vx_region_info(d, VFIO_PCI_CONFIG_REGION_INDEX, &cfg));
	VX_CHECK("BAR0 region info", vx_region_info(d, VFIO_PCI_BAR0_REGION_INDEX, &bar));
	s->cfg = cfg.offset;
	s->bar = bar.offset;
	s->bar_flags = bar.flags;

	/* a device does no DMA before the driver enables bus mastering */
	if (pread(d->device, &cmd, 2, s->cfg + PCI_COMMAND) != 2)
		die("%s: read PCI_COMMAND: %s", d->name, strerror(errno));
	cmd |= PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
	if (pwrite(d->device, &cmd, 2, s->cfg + PCI_COMMAND) != 2)
		die("%s: write PCI_COMMAND: %s", d->name, strerror(errno));
	if ((rd32(s, EDU_IDENT) & 0xff) != 0xed)
		die("%s is not an edu device (ident 0x%x)", d->name, rd32(s, EDU_IDENT));

	/* edu raises INTx (no MSI enabled): give it a handler, an eventfd */
	s->irq_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (s->irq_fd < 0)
		die("eventfd: %s", strerror(errno));
	set_intx(s, VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER, 1, s->irq_fd);
	quiet_irq(s);
}

static void *edu_setup(struct vx_dev *src, struct vx_dev *dst, unsigned long seed)
{
	struct edu_wl *w = calloc(1, sizeof(*w));

	if (!w)
		die("out of memory");
	w->seed = seed;
	w->mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		      -1, 0);
	if (w->mem == MAP_FAILED)
		die("mmap: %s", strerror(errno));
	vx_map(src, w->mem, IOVA_BASE, MEM_SIZE);
	vx_map(dst, w->mem, IOVA_BASE, MEM_SIZE);
	side_setup(&w->src, src);
	side_setup(&w->dst, dst);
	return w;
}

/* RAM -> edu buffer -> RAM; returns whether the data came back intact */
static int roundtrip(struct edu_side *s, __u8 *mem, __u32 len, __u32 in_off,
		     unsigned int seed, __u32 last_cmd)
{
	__u32 i;

	srandom(seed);
	for (i = 0; i < len; i++) {
		mem[OUT_OFF + i] = random();
		mem[in_off + i] = ~mem[OUT_OFF + i];
	}
	edu_dma(s, IOVA_BASE + OUT_OFF, EDU_BUF, len, EDU_CMD_START);
	edu_dma(s, EDU_BUF, IOVA_BASE + in_off, len, last_cmd);
	return !memcmp(mem + OUT_OFF, mem + in_off, len);
}

static void read_regs(struct edu_side *s, struct edu_regs *r)
{
	r->liveness = rd32(s, EDU_LIVENESS);
	r->fact = rd32(s, EDU_FACT);
	r->status = rd32(s, EDU_STATUS);
	r->irq_status = rd32(s, EDU_IRQ_STATUS);
	r->dma_src = rd32(s, EDU_DMA_SRC);
	r->dma_dst = rd32(s, EDU_DMA_DST);
	r->dma_cnt = rd32(s, EDU_DMA_CNT);
}

static void edu_load(void *ctx, struct vx_dev *src)
{
	struct edu_wl *w = ctx;
	struct edu_side *s = &w->src;
	__u32 liveness, len, in_off, user_bit;

	srandom(w->seed);
	w->fact_in = 5 + random() % 8;
	liveness = random();
	len = 512 + (random() % 7) * 256;		/* 512 .. 2048 */
	in_off = IN_OFF + (random() % 16) * 0x1000;
	user_bit = 1u << (16 + random() % 8);

	wr32(s, EDU_LIVENESS, liveness);
	wr32(s, EDU_STATUS, EDU_STATUS_IRQ_FACT);
	wr32(s, EDU_FACT, w->fact_in);
	wait_clear(s, EDU_STATUS, EDU_STATUS_COMPUTING, "factorial");
	if (!roundtrip(s, w->mem, len, in_off, w->seed, EDU_CMD_START | EDU_CMD_TO_RAM |
		       EDU_CMD_IRQ))
		die("%s: DMA round trip on the source: data mismatch", src->name);
	wr32(s, EDU_IRQ_RAISE, user_bit);

	read_regs(s, &w->want);
	if (w->want.liveness != ~liveness || w->want.fact != fact(w->fact_in) ||
	    w->want.irq_status != (EDU_IRQ_FACT | EDU_IRQ_DMA | user_bit) ||
	    w->want.dma_cnt != len)
		die("%s: the source does not hold what was written (liveness 0x%x fact %u "
		    "irq_status 0x%x dma_cnt %u)", src->name, w->want.liveness, w->want.fact,
		    w->want.irq_status, w->want.dma_cnt);
	printf("wl_edu_src_fact_in %u\n", w->fact_in);
	printf("wl_edu_src_dma_bytes %u\n", len);
}

static int check(const char *what, __u32 got, __u32 want)
{
	printf("wl_edu_%s 0x%x\n", what, got);
	if (got == want)
		return 0;
	warnx_("edu workload: destination %s is 0x%x, the source's was 0x%x", what, got, want);
	return 1;
}

static int edu_verify(void *ctx, struct vx_dev *dst)
{
	struct edu_wl *w = ctx;
	struct edu_side *s = &w->dst;
	struct pollfd pfd = { .fd = s->irq_fd, .events = POLLIN };
	struct edu_regs got;
	int bad = 0, ok;
	__u32 n;

	printf("wl_edu_bar0_mmap %d\n", !!(s->bar_flags & VFIO_REGION_INFO_FLAG_MMAP));
	read_regs(s, &got);
	bad += check("liveness", got.liveness, w->want.liveness);
	bad += check("factorial", got.fact, w->want.fact);
	bad += check("status", got.status, w->want.status);
	bad += check("irq_status", got.irq_status, w->want.irq_status);
	bad += check("dma_src", got.dma_src, w->want.dma_src);
	bad += check("dma_dst", got.dma_dst, w->want.dma_dst);
	bad += check("dma_cnt", got.dma_cnt, w->want.dma_cnt);

	/* the migrated interrupt status was raised on the destination */
	ok = poll(&pfd, 1, 2000) == 1 && drain_irq(s) > 0;
	printf("wl_edu_irq_signalled %d\n", ok);
	if (!ok)
		warnx_("edu workload: the migrated interrupt status 0x%x did not signal the "
		       "destination's INTx eventfd within 2 s (it reads 0x%x)",
		       w->want.irq_status, rd32(s, EDU_IRQ_STATUS));
	bad += !ok;

	/* the destination works on: a factorial and a DMA round trip */
	quiet_irq(s);
	n = w->fact_in + 1;
	wr32(s, EDU_FACT, n);
	wait_clear(s, EDU_STATUS, EDU_STATUS_COMPUTING, "factorial");
	got.fact = rd32(s, EDU_FACT);
	got.irq_status = rd32(s, EDU_IRQ_STATUS);
	ok = got.fact == fact(n) && (got.irq_status & EDU_IRQ_FACT);
	printf("wl_edu_dst_factorial %d\n", ok);
	if (!ok)
		warnx_("edu workload: the destination computed %u! as %u (want %u), "
		       "interrupt status 0x%x", n, got.fact, fact(n), got.irq_status);
	bad += !ok;
	ok = roundtrip(s, w->mem, EDU_DMA_MAX, IN_OFF, w->seed + 1,
		       EDU_CMD_START | EDU_CMD_TO_RAM);
	printf("wl_edu_dst_dma_roundtrip %d\n", ok);
	if (!ok)
		warnx_("edu workload: the destination's DMA round trip of %u bytes came back "
		       "different", EDU_DMA_MAX);
	bad += !ok;
	quiet_irq(s);
	printf("wl_edu_mismatches %d\n", bad);
	return bad ? -1 : 0;
}

static void side_teardown(struct edu_side *s)
{
	set_intx(s, VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER, 0, -1);
	close(s->irq_fd);
}

static void edu_teardown(void *ctx, struct vx_dev *src, struct vx_dev *dst)
{
	struct edu_wl *w = ctx;

	side_teardown(&w->src);
	side_teardown(&w->dst);
	vx_unmap(src, IOVA_BASE, MEM_SIZE);
	vx_unmap(dst, IOVA_BASE, MEM_SIZE);
	munmap(w->mem, MEM_SIZE);
	free(w);
}

const struct vx_mig_workload vx_wl_edu = {
	.name = "edu",
	.setup = edu_setup,
	.load = edu_load,
	.verify = edu_verify,
	.teardown = edu_teardown,
};

VX_WORKLOAD(vx_wl_edu);
