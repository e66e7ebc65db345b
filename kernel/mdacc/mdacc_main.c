// SPDX-License-Identifier: GPL-2.0
/*
 * mdacc: a mediated accelerator, the reference mediated-device driver of
 * vfioscope.
 *
 * A virtual parent device (class "mdacc", device "mdacc0") has a capacity of
 * @units units and is split into instances of two types: mdacc-1q (one
 * command queue, one unit) and mdacc-4q (four queues, two units). Each
 * instance is an emulated-IOMMU VFIO device that a VMM sees as the PCI
 * device described in mdacc_regs.h: job rings in the VMM's memory, pinned
 * with vfio_pin_pages() while a queue is enabled, data moved with
 * vfio_dma_rw(), completions signalled through eventfds. Per-instance QoS
 * limits (job rate, DMA bandwidth) live in the instance's sysfs directory
 * and delay jobs. VFIO migration v2 is in mdacc_mig.c.
 *
 * Every callback fires the vfio/mdev tracepoints of tracepoints/ (the
 * vfioscope_trace module instantiates them).
 */
#include <linux/device.h>
#include <linux/eventfd.h>
#include <linux/highmem.h>
#include <linux/iommu.h>
#include <linux/kernel.h>
#include <linux/ktime.h>
#include <linux/log2.h>
#include <linux/math64.h>
#include <linux/mdev.h>
#include <linux/module.h>
#include <linux/overflow.h>
#include <linux/pci_ids.h>
#include <linux/pci_regs.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/sysfs.h>
#include <linux/uaccess.h>
#include <linux/vfio.h>

#include <trace/events/mdev.h>
#include <trace/events/vfio.h>

#include "mdacc.h"
#include "mdacc_compat.h"

#define MDACC_NAME		"mdacc"
#define MDACC_MSI_CAP		0x40
#define MDACC_BAD_BAR0_SIZE	0x800
/* processing accelerator (PCI_CLASS_ACCELERATOR_PROCESSING, v6.2+) */
#define MDACC_PCI_CLASS		0x1200

/* region offsets in the device fd, as vfio-pci encodes them */
#define MDACC_REGION_SHIFT	40
#define MDACC_REGION_INDEX(pos)	((pos) >> MDACC_REGION_SHIFT)
#define MDACC_REGION_OFF(pos)	((pos) & ((1ULL << MDACC_REGION_SHIFT) - 1))
#define MDACC_REGION_POS(index)	((u64)(index) << MDACC_REGION_SHIFT)

static unsigned int units = 8;
module_param(units, uint, 0444);
MODULE_PARM_DESC(units, "capacity units of the parent device (1-64, default 8)");

static struct mdacc_parent {
	struct device dev;
	struct mdev_parent parent;
	spinlock_t lock;		/* protects free_units */
	unsigned int free_units;
} mdacc_parent;

static struct class mdacc_class = {
	.name = MDACC_NAME,
};

static struct mdacc_type mdacc_types[] = {
	{
		.type.sysfs_name = "1q",
		.type.pretty_name = "mdacc-1q",
		.nqueues = 1,
		.cost = 1,
	},
	{
		.type.sysfs_name = "4q",
		.type.pretty_name = "mdacc-4q",
		.nqueues = 4,
		.cost = 2,
	},
};

static struct mdev_type *mdacc_mdev_types[] = {
	&mdacc_types[0].type,
	&mdacc_types[1].type,
};

static const struct vfio_device_ops mdacc_dev_ops;

/* ---------------------------------------------------------- config space */

static void mdacc_cfg_put16(u8 *c, unsigned int off, u16 val)
{
	c[off] = val & 0xff;
	c[off + 1] = val >> 8;
}

static void mdacc_cfg_put32(u8 *c, unsigned int off, u32 val)
{
	mdacc_cfg_put16(c, off, val & 0xffff);
	mdacc_cfg_put16(c, off + 2, val >> 16);
}

static void mdacc_config_defaults(u8 *c)
{
	memset(c, 0, MDACC_CONFIG_SIZE);
	mdacc_cfg_put16(c, PCI_VENDOR_ID, MDACC_PCI_VENDOR);
	mdacc_cfg_put16(c, PCI_DEVICE_ID, MDACC_PCI_DEVICE);
	mdacc_cfg_put16(c, PCI_STATUS, PCI_STATUS_CAP_LIST);
	c[PCI_REVISION_ID] = MDACC_VERSION_VALUE;
	mdacc_cfg_put16(c, PCI_CLASS_DEVICE, MDACC_PCI_CLASS);
	mdacc_cfg_put32(c, PCI_BASE_ADDRESS_0, PCI_BASE_ADDRESS_SPACE_MEMORY |
			PCI_BASE_ADDRESS_MEM_TYPE_32);
	mdacc_cfg_put16(c, PCI_SUBSYSTEM_VENDOR_ID, MDACC_PCI_VENDOR);
	mdacc_cfg_put16(c, PCI_SUBSYSTEM_ID, MDACC_PCI_DEVICE);
	c[PCI_CAPABILITY_LIST] = MDACC_MSI_CAP;
	c[PCI_INTERRUPT_PIN] = 1;		/* INTA# */
	/* MSI: 32-bit address, one vector */
	c[MDACC_MSI_CAP + PCI_CAP_LIST_ID] = PCI_CAP_ID_MSI;
	c[MDACC_MSI_CAP + PCI_CAP_LIST_NEXT] = 0;
}

static void mdacc_init_config(struct mdacc_state *s)
{
	mdacc_config_defaults(s->config);
}

/* the bits of config byte @off the VMM may write */
static u8 mdacc_config_wmask(unsigned int off)
{
	u32 bar_mask = ~(u32)(MDACC_BAR0_SIZE - 1) & PCI_BASE_ADDRESS_MEM_MASK;

	switch (off) {
	case PCI_COMMAND:
		return PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
	case PCI_COMMAND + 1:
		return PCI_COMMAND_INTX_DISABLE >> 8;
	case PCI_BASE_ADDRESS_0 ... PCI_BASE_ADDRESS_0 + 3:
		return bar_mask >> (8 * (off - PCI_BASE_ADDRESS_0));
	case PCI_INTERRUPT_LINE:
		return 0xff;
	case MDACC_MSI_CAP + PCI_MSI_FLAGS:
		return PCI_MSI_FLAGS_ENABLE;
	case MDACC_MSI_CAP + PCI_MSI_ADDRESS_LO:
		return 0xfc;
	case MDACC_MSI_CAP + PCI_MSI_ADDRESS_LO + 1 ...
	     MDACC_MSI_CAP + PCI_MSI_ADDRESS_LO + 3:
	case MDACC_MSI_CAP + PCI_MSI_DATA_32 ... MDACC_MSI_CAP + PCI_MSI_DATA_32 + 1:
		return 0xff;
	default:
		return 0;
	}
}

/*
 * A config space from a migration stream: the bits the VMM cannot write
 * (IDs, class, BAR flags, the capability list, ...) must be this device's
 * power-on ones; the writable bits may hold anything the VMM could write.
 */
int mdacc_config_check(const u8 *config)
{
	u8 def[MDACC_CONFIG_SIZE];
	unsigned int off;

	mdacc_config_defaults(def);
	for (off = 0; off < MDACC_CONFIG_SIZE; off++)
		if ((config[off] ^ def[off]) & ~mdacc_config_wmask(off))
			return -EINVAL;
	return 0;
}

static u16 mdacc_command(struct mdacc_state *s)
{
	return s->config[PCI_COMMAND] | s->config[PCI_COMMAND + 1] << 8;
}

static void mdacc_config_write(struct mdacc_state *s, unsigned int off,
			       const u8 *val, size_t count)
{
	u16 old_cmd = mdacc_command(s);
	size_t i;

	lockdep_assert_held(&s->lock);
	for (i = 0; i < count; i++) {
		u8 w = mdacc_config_wmask(off + i);

		s->config[off + i] = (s->config[off + i] & ~w) | (val[i] & w);
	}
	if (!(old_cmd & PCI_COMMAND_MASTER) &&
	    (mdacc_command(s) & PCI_COMMAND_MASTER))
		mdacc_kick(s);
}

/* ------------------------------------------------------------ job engine */

static bool mdacc_can_run(struct mdacc_state *s)
{
	return s->open && s->running && (s->ctrl & MDACC_CTRL_ENABLE) &&
	       (mdacc_command(s) & PCI_COMMAND_MASTER);
}

void mdacc_kick(struct mdacc_state *s)
{
	mod_delayed_work(s->wq, &s->work, 0);
}

/* a queue that may be enabled: valid QBASE/QSIZE, indices inside the ring */
static bool mdacc_queue_valid(const struct mdacc_queue *q)
{
	return mdacc_qbase_ok(q->base) && mdacc_qsize_ok(q->size) &&
	       q->head < q->size && q->tail < q->size;
}

static int mdacc_pin_ring(struct mdacc_state *s, struct mdacc_queue *q)
{
	u64 iova = q->base & PAGE_MASK;
	int ret;

	lockdep_assert_held(&s->lock);
	if (q->ring)
		return 0;
	ret = vfio_pin_pages(&s->vdev, iova, 1, IOMMU_READ | IOMMU_WRITE,
			     &q->ring);
	if (!vfioscope_core_traced)
		trace_vfio_pin_pages(&s->vdev, iova, 1, ret);
	if (ret != 1) {
		q->ring = NULL;
		return ret < 0 ? ret : -EFAULT;
	}
	q->ring_iova = iova;
	return 0;
}

void mdacc_unpin_ring(struct mdacc_state *s, struct mdacc_queue *q)
{
	lockdep_assert_held(&s->lock);
	if (!q->ring)
		return;
	vfio_unpin_pages(&s->vdev, q->ring_iova, 1);
	if (!vfioscope_core_traced)
		trace_vfio_unpin_pages(&s->vdev, q->ring_iova, 1);
	q->ring = NULL;
	q->gen++;
}

/* pin the ring of every enabled queue (open, reset, after migration) */
void mdacc_pin_enabled_rings(struct mdacc_state *s)
{
	unsigned int i;

	for (i = 0; i < s->type->nqueues; i++) {
		struct mdacc_queue *q = &s->q[i];

		if (!(q->ctrl & MDACC_QCTRL_ENABLE) || q->ring)
			continue;
		if (!mdacc_queue_valid(q) || mdacc_pin_ring(s, q)) {
			q->ctrl &= ~MDACC_QCTRL_ENABLE;
			s->status |= MDACC_STATUS_ERROR;
		}
	}
}

/*
 * Wait until no job is moving data. Callers first make mdacc_can_run()
 * false or the queue's ring go away; @s->lock is dropped while waiting.
 */
void mdacc_quiesce_locked(struct mdacc_state *s)
{
	lockdep_assert_held(&s->lock);
	while (s->job_active) {
		mutex_unlock(&s->lock);
		wait_event(s->idle_wq, !READ_ONCE(s->job_active));
		mutex_lock(&s->lock);
	}
}

/* registers (and with @config, config space) to their power-on values */
void mdacc_reset_locked(struct mdacc_state *s, bool config)
{
	unsigned int i;

	lockdep_assert_held(&s->lock);
	for (i = 0; i < MDACC_MAX_QUEUES; i++) {
		u32 gen = s->q[i].gen;

		mdacc_unpin_ring(s, &s->q[i]);
		memset(&s->q[i], 0, sizeof(s->q[i]));
		s->q[i].gen = gen + 1;
	}
	s->ctrl = 0;
	s->status = 0;
	s->irq_status = 0;
	s->jobs_done = 0;
	s->bytes_done = 0;
	s->jobs_failed = 0;
	s->next_q = 0;
	if (config)
		mdacc_init_config(s);
	mdacc_quiesce_locked(s);
}

/* delay in ns before the next job may start under the QoS limits */
static u64 mdacc_qos_delay(struct mdacc_state *s, u64 now)
{
	u64 next = 0;

	if (s->qos_job_rate)
		next = s->next_job_ns;
	if (s->qos_dma_bw)
		next = max(next, s->next_bw_ns);
	return next > now ? next - now : 0;
}

/*
 * The worker waits for a job's turn on a delayed work, which runs on a
 * jiffy: up to two ticks after the job was due. A job that starts that
 * late is charged from when it was due, so the rate holds on average
 * whatever HZ is; a queue idle for longer than this earns no credit.
 */
#define MDACC_QOS_SLACK_NS	(20 * NSEC_PER_MSEC)

static u64 mdacc_qos_base(u64 due, u64 now)
{
	if (now <= due)
		return due;
	return now - due < MDACC_QOS_SLACK_NS ? due : now;
}

/*
 * Charge a job to the limits: a token bucket one job deep, i.e. the next
 * job may start one period (1/rate, or bytes/bandwidth) after this one was
 * due (after now, if it was idle). Jobs are delayed, never dropped.
 */
static void mdacc_qos_charge(struct mdacc_state *s, u64 now, u32 len)
{
	if (s->qos_job_rate)
		s->next_job_ns = mdacc_qos_base(s->next_job_ns, now) +
				 div_u64(NSEC_PER_SEC, s->qos_job_rate);
	if (s->qos_dma_bw)
		s->next_bw_ns = mdacc_qos_base(s->next_bw_ns, now) +
				div64_u64((u64)len * NSEC_PER_SEC, s->qos_dma_bw);
}

static struct mdacc_queue *mdacc_pick(struct mdacc_state *s, unsigned int *qi)
{
	unsigned int n = s->type->nqueues, i;

	if (!mdacc_can_run(s))
		return NULL;
	for (i = 0; i < n; i++) {
		unsigned int k = (s->next_q + i) % n;
		struct mdacc_queue *q = &s->q[k];

		if (q->ring && (q->ctrl & MDACC_QCTRL_ENABLE) &&
		    q->head != q->tail) {
			s->next_q = k + 1;
			*qi = k;
			return q;
		}
	}
	return NULL;
}

/*
 * Descriptor @slot of an enabled queue. Enabling and loading a queue check
 * that HEAD is inside the ring; the slot is masked again all the same, so
 * that a broken invariant can never make the device touch memory outside
 * the pinned ring page (QSIZE <= MDACC_RING_MAX: the ring fits in it).
 */
static void *mdacc_desc_map(struct mdacc_queue *q, u32 slot, void **page)
{
	size_t off = (q->base - q->ring_iova) +
		     (size_t)(slot & (q->size - 1) & (MDACC_RING_MAX - 1)) *
		     MDACC_JOB_SIZE;

	if (WARN_ON_ONCE(off + MDACC_JOB_SIZE > PAGE_SIZE))
		off = 0;
	*page = kmap_local_page(q->ring);
	return *page + off;
}

static int mdacc_dma(struct mdacc_state *s, u64 iova, void *buf, u32 len,
		     bool write)
{
	int ret = vfio_dma_rw(&s->vdev, iova, buf, len, write);

	if (!vfioscope_core_traced)
		trace_vfio_dma_rw(&s->vdev, iova, len, write, ret);
	return ret;
}

/* move one job's data; runs without @s->lock */
static int mdacc_run_job(struct mdacc_state *s, const struct mdacc_job *job)
{
	u32 op = job->op & 0xff;
	u8 arg = (job->op >> 8) & 0xff;
	u8 *buf = s->bounce;
	u64 end;
	u32 i;
	int ret;

	if (!job->len || job->len > MDACC_JOB_MAX_LEN)
		return -EINVAL;
	/* a range that wraps is no DMA range, whatever the IOMMU says */
	if (check_add_overflow(job->dst, (u64)job->len, &end) ||
	    (op != MDACC_OP_FILL &&
	     check_add_overflow(job->src, (u64)job->len, &end)))
		return -EINVAL;
	switch (op) {
	case MDACC_OP_COPY:
	case MDACC_OP_XOR:
		ret = mdacc_dma(s, job->src, buf, job->len, false);
		if (ret)
			return ret;
		if (op == MDACC_OP_XOR)
			for (i = 0; i < job->len; i++)
				buf[i] ^= arg;
		break;
	case MDACC_OP_FILL:
		memset(buf, arg, job->len);
		break;
	default:
		return -EINVAL;
	}
	return mdacc_dma(s, job->dst, buf, job->len, true);
}

static void mdacc_raise_irq(struct mdacc_state *s, unsigned int qi)
{
	lockdep_assert_held(&s->lock);
	s->irq_status |= BIT(qi);
	if (s->fault == MDACC_FAULT_DROP_IRQ)
		return;
	if (s->trigger[VFIO_PCI_INTX_IRQ_INDEX] &&
	    !(mdacc_command(s) & PCI_COMMAND_INTX_DISABLE)) {
		mdacc_eventfd_signal(s->trigger[VFIO_PCI_INTX_IRQ_INDEX]);
		trace_vfio_irq_signal(&s->vdev, VFIO_PCI_INTX_IRQ_INDEX, 0);
	}
	if (s->trigger[VFIO_PCI_MSI_IRQ_INDEX]) {
		mdacc_eventfd_signal(s->trigger[VFIO_PCI_MSI_IRQ_INDEX]);
		trace_vfio_irq_signal(&s->vdev, VFIO_PCI_MSI_IRQ_INDEX, 0);
	}
}

static void mdacc_complete(struct mdacc_state *s, unsigned int qi,
			   const struct mdacc_job *job, int ret)
{
	struct mdacc_queue *q = &s->q[qi];
	struct mdacc_job *desc;
	void *page;

	/* the data is in the VMM's memory before the status says so */
	smp_wmb();
	desc = mdacc_desc_map(q, q->head, &page);
	WRITE_ONCE(desc->status, ret ? MDACC_JOB_FAILED | (u32)-ret :
				       MDACC_JOB_DONE);
	kunmap_local(page);

	q->head = (q->head + 1) & (q->size - 1);
	q->jobs++;
	if (ret) {
		s->jobs_failed++;
		s->status |= MDACC_STATUS_ERROR;
	} else {
		s->jobs_done++;
		s->total_jobs++;
		s->bytes_done += job->len;
	}
	if (job->flags & MDACC_JOB_F_IRQ)
		mdacc_raise_irq(s, qi);
}

#define MDACC_WORK_BUDGET	64	/* jobs per run, then requeue */

static void mdacc_work_fn(struct work_struct *work)
{
	struct mdacc_state *s = container_of(to_delayed_work(work),
					     struct mdacc_state, work);
	unsigned int budget = MDACC_WORK_BUDGET;

	mutex_lock(&s->lock);
	while (budget--) {
		struct mdacc_queue *q;
		struct mdacc_job job;
		unsigned int qi;
		u64 now, delay;
		void *page;
		u32 gen;
		int ret;

		q = mdacc_pick(s, &qi);
		if (!q)
			goto out;
		now = ktime_get_ns();
		delay = mdacc_qos_delay(s, now);
		if (delay) {
			queue_delayed_work(s->wq, &s->work,
					   usecs_to_jiffies(DIV_ROUND_UP_ULL(delay,
									     NSEC_PER_USEC)));
			goto out;
		}
		/* a private copy: the VMM may rewrite the ring at any time */
		memcpy(&job, mdacc_desc_map(q, q->head, &page), sizeof(job));
		kunmap_local(page);
		/* charge what the job may move, not what it claims */
		mdacc_qos_charge(s, now, min_t(u32, job.len, MDACC_JOB_MAX_LEN));

		gen = q->gen;
		s->job_active = true;
		mutex_unlock(&s->lock);
		ret = mdacc_run_job(s, &job);
		mutex_lock(&s->lock);
		s->job_active = false;
		wake_up_all(&s->idle_wq);

		/* the queue was disabled, reset or unmapped meanwhile */
		if (q->gen != gen || !q->ring)
			continue;
		mdacc_complete(s, qi, &job, ret);
	}
	queue_delayed_work(s->wq, &s->work, 0);
out:
	mutex_unlock(&s->lock);
}

/* --------------------------------------------------------------- BAR0 */

static u32 mdacc_status(struct mdacc_state *s)
{
	unsigned int i;
	u32 st = s->status;

	for (i = 0; i < s->type->nqueues; i++)
		if ((s->ctrl & MDACC_CTRL_ENABLE) &&
		    (s->q[i].ctrl & MDACC_QCTRL_ENABLE) &&
		    s->q[i].head != s->q[i].tail)
			st |= MDACC_STATUS_BUSY;
	return st;
}

static u32 mdacc_reg_read(struct mdacc_state *s, unsigned int off)
{
	struct mdacc_queue *q;
	unsigned int qi;

	switch (off) {
	case MDACC_REG_ID:
		return MDACC_ID_VALUE;
	case MDACC_REG_VERSION:
		return MDACC_VERSION_VALUE;
	case MDACC_REG_NQUEUES:
		return s->type->nqueues;
	case MDACC_REG_CTRL:
		return s->ctrl;
	case MDACC_REG_STATUS:
		return mdacc_status(s);
	case MDACC_REG_IRQ_STATUS:
		return s->irq_status;
	case MDACC_REG_JOBS_DONE:
		return lower_32_bits(s->jobs_done);
	case MDACC_REG_JOBS_DONE + 4:
		return upper_32_bits(s->jobs_done);
	case MDACC_REG_BYTES_DONE:
		return lower_32_bits(s->bytes_done);
	case MDACC_REG_BYTES_DONE + 4:
		return upper_32_bits(s->bytes_done);
	case MDACC_REG_JOBS_FAILED:
		return lower_32_bits(s->jobs_failed);
	case MDACC_REG_JOBS_FAILED + 4:
		return upper_32_bits(s->jobs_failed);
	}
	if (off < MDACC_QREG(0) || off >= MDACC_QREG(s->type->nqueues))
		return 0;
	qi = (off - MDACC_QREG(0)) / (MDACC_QREG(1) - MDACC_QREG(0));
	q = &s->q[qi];
	switch (off - MDACC_QREG(qi)) {
	case MDACC_Q_BASE:
		return lower_32_bits(q->base);
	case MDACC_Q_BASE + 4:
		return upper_32_bits(q->base);
	case MDACC_Q_SIZE:
		return q->size;
	case MDACC_Q_CTRL:
		return q->ctrl;
	case MDACC_Q_TAIL:
		return q->tail;
	case MDACC_Q_HEAD:
		return q->head;
	case MDACC_Q_JOBS:
		return q->jobs;
	}
	return 0;
}

static void mdacc_queue_ctrl(struct mdacc_state *s, struct mdacc_queue *q,
			     u32 val)
{
	bool enable = val & MDACC_QCTRL_ENABLE;

	if (enable == !!(q->ctrl & MDACC_QCTRL_ENABLE))
		return;
	if (enable) {
		/* HEAD too: the engine starts at HEAD, wherever it came from */
		if (!mdacc_queue_valid(q) || mdacc_pin_ring(s, q)) {
			s->status |= MDACC_STATUS_ERROR;
			return;
		}
		q->ctrl |= MDACC_QCTRL_ENABLE;
		mdacc_kick(s);
	} else {
		/* a disabled queue forgets its indices */
		mdacc_unpin_ring(s, q);
		q->ctrl &= ~MDACC_QCTRL_ENABLE;
		q->head = 0;
		q->tail = 0;
	}
}

static void mdacc_reg_write(struct mdacc_state *s, unsigned int off, u32 val)
{
	struct mdacc_queue *q;
	unsigned int qi;

	switch (off) {
	case MDACC_REG_CTRL:
		if (val & MDACC_CTRL_RESET) {
			mdacc_reset_locked(s, false);
			return;
		}
		s->ctrl = val & MDACC_CTRL_ENABLE;
		mdacc_kick(s);
		return;
	case MDACC_REG_IRQ_STATUS:
		s->irq_status &= ~val;
		return;
	}
	if (off < MDACC_QREG(0) || off >= MDACC_QREG(s->type->nqueues))
		return;
	qi = (off - MDACC_QREG(0)) / (MDACC_QREG(1) - MDACC_QREG(0));
	q = &s->q[qi];
	/*
	 * The registers only ever hold values mdacc_regs.h allows: anything
	 * else is ignored and flagged, so no bad value waits in a disabled
	 * queue for the queue to be enabled (or migrated).
	 */
	switch (off - MDACC_QREG(qi)) {
	case MDACC_Q_BASE:
		if (q->ctrl & MDACC_QCTRL_ENABLE)
			return;
		if (!mdacc_qbase_ok(val)) {
			s->status |= MDACC_STATUS_ERROR;
			return;
		}
		q->base = (q->base & ~0xffffffffULL) | val;
		return;
	case MDACC_Q_BASE + 4:
		if (!(q->ctrl & MDACC_QCTRL_ENABLE))
			q->base = lower_32_bits(q->base) | ((u64)val << 32);
		return;
	case MDACC_Q_SIZE:
		if (q->ctrl & MDACC_QCTRL_ENABLE)
			return;
		if (!mdacc_qsize_ok(val)) {
			s->status |= MDACC_STATUS_ERROR;
			return;
		}
		q->size = val;
		return;
	case MDACC_Q_CTRL:
		mdacc_queue_ctrl(s, q, val);
		return;
	case MDACC_Q_TAIL:
		/* the doorbell of an enabled queue, an index into its ring */
		if (!(q->ctrl & MDACC_QCTRL_ENABLE) || val >= q->size) {
			s->status |= MDACC_STATUS_ERROR;
			return;
		}
		q->tail = val;
		mdacc_kick(s);
		return;
	}
}

/* ------------------------------------------------------ region read/write */

static ssize_t mdacc_config_rw(struct mdacc_state *s, char __user *ubuf,
			       size_t count, u64 off, bool write)
{
	u8 buf[MDACC_CONFIG_SIZE];

	if (off >= MDACC_CONFIG_SIZE || count > MDACC_CONFIG_SIZE - off)
		return -EINVAL;
	if (write) {
		if (copy_from_user(buf, ubuf, count))
			return -EFAULT;
		mutex_lock(&s->lock);
		mdacc_config_write(s, off, buf, count);
		mutex_unlock(&s->lock);
		return count;
	}
	mutex_lock(&s->lock);
	memcpy(buf, s->config + off, count);
	mutex_unlock(&s->lock);
	if (copy_to_user(ubuf, buf, count))
		return -EFAULT;
	return count;
}

/* BAR0: 4- or 8-byte naturally aligned accesses, little endian */
static ssize_t mdacc_bar0_rw(struct mdacc_state *s, char __user *ubuf,
			     size_t count, u64 off, bool write)
{
	u64 val = 0;

	if ((count != 4 && count != 8) || !IS_ALIGNED(off, count) ||
	    off >= MDACC_BAR0_SIZE)
		return -EINVAL;
	if (write) {
		if (copy_from_user(&val, ubuf, count))
			return -EFAULT;
		val = le64_to_cpu((__force __le64)val);
		mutex_lock(&s->lock);
		mdacc_reg_write(s, off, lower_32_bits(val));
		if (count == 8)
			mdacc_reg_write(s, off + 4, upper_32_bits(val));
		mutex_unlock(&s->lock);
		return count;
	}
	mutex_lock(&s->lock);
	val = mdacc_reg_read(s, off);
	if (count == 8)
		val |= (u64)mdacc_reg_read(s, off + 4) << 32;
	mutex_unlock(&s->lock);
	val = (__force u64)cpu_to_le64(val);
	if (copy_to_user(ubuf, &val, count))
		return -EFAULT;
	return count;
}

static ssize_t mdacc_rw(struct mdacc_state *s, char __user *buf, size_t count,
			loff_t *ppos, bool write)
{
	u32 index = MDACC_REGION_INDEX(*ppos);
	u64 off = MDACC_REGION_OFF(*ppos);
	ssize_t ret;

	switch (index) {
	case VFIO_PCI_CONFIG_REGION_INDEX:
		ret = mdacc_config_rw(s, buf, count, off, write);
		break;
	case VFIO_PCI_BAR0_REGION_INDEX:
		ret = mdacc_bar0_rw(s, buf, count, off, write);
		break;
	default:
		ret = -EINVAL;
	}
	trace_vfio_region_rw(&s->vdev, index, off, min_t(size_t, count, U32_MAX),
			     write, ret);
	if (ret > 0)
		*ppos += ret;
	return ret;
}

static ssize_t mdacc_read(struct vfio_device *vdev, char __user *buf,
			  size_t count, loff_t *ppos)
{
	return mdacc_rw(to_mdacc(vdev), buf, count, ppos, false);
}

static ssize_t mdacc_write(struct vfio_device *vdev, const char __user *buf,
			   size_t count, loff_t *ppos)
{
	return mdacc_rw(to_mdacc(vdev), (char __user *)buf, count, ppos, true);
}

/* ---------------------------------------------------------------- ioctls */

static int mdacc_get_device_info(unsigned long arg)
{
	unsigned long minsz = offsetofend(struct vfio_device_info, num_irqs);
	struct vfio_device_info info;

	if (copy_from_user(&info, (void __user *)arg, minsz))
		return -EFAULT;
	if (info.argsz < minsz)
		return -EINVAL;
	info.flags = VFIO_DEVICE_FLAGS_PCI | VFIO_DEVICE_FLAGS_RESET;
	info.num_regions = VFIO_PCI_NUM_REGIONS;
	info.num_irqs = VFIO_PCI_NUM_IRQS;
	return copy_to_user((void __user *)arg, &info, minsz) ? -EFAULT : 0;
}

/* one region's info: info->index as the VMM gave it, validated here */
static int mdacc_region_info(struct mdacc_state *s, struct vfio_region_info *info)
{
	if (info->index >= VFIO_PCI_NUM_REGIONS)
		return -EINVAL;
	info->offset = MDACC_REGION_POS(info->index);
	info->cap_offset = 0;
	switch (info->index) {
	case VFIO_PCI_CONFIG_REGION_INDEX:
		info->size = MDACC_CONFIG_SIZE;
		info->flags = VFIO_REGION_INFO_FLAG_READ |
			      VFIO_REGION_INFO_FLAG_WRITE;
		break;
	case VFIO_PCI_BAR0_REGION_INDEX:
		info->size = READ_ONCE(s->fault) == MDACC_FAULT_BAD_REGION_INFO ?
			     MDACC_BAD_BAR0_SIZE : MDACC_BAR0_SIZE;
		info->flags = VFIO_REGION_INFO_FLAG_READ |
			      VFIO_REGION_INFO_FLAG_WRITE;
		break;
	default:
		info->size = 0;
		info->flags = 0;
	}
	return 0;
}

#ifdef MDACC_REGION_INFO_CAPS
/*
 * Kernels whose vfio core answers VFIO_DEVICE_GET_REGION_INFO itself (it
 * copies the header in and out and never passes the command to .ioctl)
 * ask the driver through this op; the driver tier still sees the call.
 */
static int mdacc_get_region_info_caps(struct vfio_device *vdev,
				      struct vfio_region_info *info,
				      struct vfio_info_cap *caps)
{
	struct mdacc_state *s = to_mdacc(vdev);
	int ret;

	if (!vfioscope_core_traced)
		trace_vfio_ioctl_enter(vdev, VFIO_DEVICE_GET_REGION_INFO, 0);
	ret = mdacc_region_info(s, info);
	if (!vfioscope_core_traced)
		trace_vfio_ioctl_exit(vdev, VFIO_DEVICE_GET_REGION_INFO, ret);
	return ret;
}
#endif

static int mdacc_get_region_info(struct mdacc_state *s, unsigned long arg)
{
	unsigned long minsz = offsetofend(struct vfio_region_info, offset);
	struct vfio_region_info info;
	int ret;

	if (copy_from_user(&info, (void __user *)arg, minsz))
		return -EFAULT;
	if (info.argsz < minsz)
		return -EINVAL;
	ret = mdacc_region_info(s, &info);
	if (ret)
		return ret;
	return copy_to_user((void __user *)arg, &info, minsz) ? -EFAULT : 0;
}

static int mdacc_get_irq_info(unsigned long arg)
{
	unsigned long minsz = offsetofend(struct vfio_irq_info, count);
	struct vfio_irq_info info;

	if (copy_from_user(&info, (void __user *)arg, minsz))
		return -EFAULT;
	if (info.argsz < minsz || info.index >= VFIO_PCI_NUM_IRQS)
		return -EINVAL;
	switch (info.index) {
	case VFIO_PCI_INTX_IRQ_INDEX:
		info.flags = VFIO_IRQ_INFO_EVENTFD;
		info.count = 1;
		break;
	case VFIO_PCI_MSI_IRQ_INDEX:
		info.flags = VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_NORESIZE;
		info.count = 1;
		break;
	case VFIO_PCI_REQ_IRQ_INDEX:
		info.flags = VFIO_IRQ_INFO_EVENTFD;
		info.count = 1;
		break;
	default:
		info.flags = 0;
		info.count = 0;
	}
	return copy_to_user((void __user *)arg, &info, minsz) ? -EFAULT : 0;
}

/* the IRQ indices with one vector; the others have none */
static bool mdacc_irq_index_ok(u32 index)
{
	return index == VFIO_PCI_INTX_IRQ_INDEX ||
	       index == VFIO_PCI_MSI_IRQ_INDEX ||
	       index == VFIO_PCI_REQ_IRQ_INDEX;
}

static void mdacc_disable_irq(struct mdacc_state *s, unsigned int index)
{
	lockdep_assert_held(&s->lock);
	if (s->trigger[index]) {
		eventfd_ctx_put(s->trigger[index]);
		s->trigger[index] = NULL;
	}
}

/* DATA_NONE / DATA_BOOL triggers: the VMM tests its interrupt path */
static void mdacc_test_irq(struct mdacc_state *s, unsigned int index)
{
	if (!s->trigger[index])
		return;
	mdacc_eventfd_signal(s->trigger[index]);
	trace_vfio_irq_signal(&s->vdev, index, 0);
}

static int mdacc_set_irqs_locked(struct mdacc_state *s,
				 const struct vfio_irq_set *hdr, const u8 *data)
{
	struct eventfd_ctx *ctx;
	int other = -1;
	s32 fd;

	lockdep_assert_held(&s->lock);
	/* like PCI, one interrupt mode at a time; the request is apart */
	if (hdr->index == VFIO_PCI_INTX_IRQ_INDEX)
		other = VFIO_PCI_MSI_IRQ_INDEX;
	else if (hdr->index == VFIO_PCI_MSI_IRQ_INDEX)
		other = VFIO_PCI_INTX_IRQ_INDEX;
	/* neither INTx, MSI nor the request is maskable */
	if ((hdr->flags & VFIO_IRQ_SET_ACTION_TYPE_MASK) !=
	    VFIO_IRQ_SET_ACTION_TRIGGER)
		return -EINVAL;

	switch (hdr->flags & VFIO_IRQ_SET_DATA_TYPE_MASK) {
	case VFIO_IRQ_SET_DATA_NONE:
		if (!hdr->count)
			mdacc_disable_irq(s, hdr->index);
		else
			mdacc_test_irq(s, hdr->index);
		return 0;
	case VFIO_IRQ_SET_DATA_BOOL:
		if (hdr->count && data[0])
			mdacc_test_irq(s, hdr->index);
		return 0;
	case VFIO_IRQ_SET_DATA_EVENTFD:
		if (!hdr->count)
			return -EINVAL;
		fd = *(const s32 *)data;
		if (fd == -1) {
			mdacc_disable_irq(s, hdr->index);
			return 0;
		}
		if (fd < 0)
			return -EINVAL;
		if (other >= 0 && s->trigger[other])
			return -EBUSY;
		ctx = eventfd_ctx_fdget(fd);
		if (IS_ERR(ctx))
			return PTR_ERR(ctx);
		mdacc_disable_irq(s, hdr->index);
		s->trigger[hdr->index] = ctx;
		return 0;
	}
	return -EINVAL;
}

static int mdacc_set_irqs(struct mdacc_state *s, unsigned long arg)
{
	unsigned long minsz = offsetofend(struct vfio_irq_set, count);
	struct vfio_irq_set hdr = {};
	size_t data_size = 0;
	u8 *data = NULL;
	int nirqs, ret;

	if (copy_from_user(&hdr, (void __user *)arg, minsz)) {
		ret = -EFAULT;
		goto out;
	}
	nirqs = mdacc_irq_index_ok(hdr.index);
	ret = vfio_set_irqs_validate_and_prepare(&hdr, nirqs, VFIO_PCI_NUM_IRQS,
						 &data_size);
	if (ret)
		goto out;
	if (data_size) {
		data = memdup_user((void __user *)(arg + minsz), data_size);
		if (IS_ERR(data)) {
			ret = PTR_ERR(data);
			data = NULL;
			goto out;
		}
	}
	mutex_lock(&s->lock);
	ret = mdacc_set_irqs_locked(s, &hdr, data);
	mutex_unlock(&s->lock);
out:
	trace_vfio_irq_set(&s->vdev, hdr.index, hdr.start, hdr.count, hdr.flags,
			   ret);
	kfree(data);
	return ret;
}

static int mdacc_device_reset(struct mdacc_state *s)
{
	mutex_lock(&s->mig_lock);
	mutex_lock(&s->lock);
	mdacc_reset_locked(s, true);
	/* VFIO_DEVICE_RESET also returns the migration FSM to RUNNING */
	mdacc_mig_reset_locked(s);
	mutex_unlock(&s->lock);
	mutex_unlock(&s->mig_lock);
	trace_vfio_device_reset(&s->vdev, 0);
	return 0;
}

static long mdacc_ioctl(struct vfio_device *vdev, unsigned int cmd,
			unsigned long arg)
{
	struct mdacc_state *s = to_mdacc(vdev);
	long ret;

	if (!vfioscope_core_traced)
		trace_vfio_ioctl_enter(vdev, cmd, arg);
	switch (cmd) {
	case VFIO_DEVICE_GET_INFO:
		ret = mdacc_get_device_info(arg);
		break;
	case VFIO_DEVICE_GET_REGION_INFO:
		ret = mdacc_get_region_info(s, arg);
		break;
	case VFIO_DEVICE_GET_IRQ_INFO:
		ret = mdacc_get_irq_info(arg);
		break;
	case VFIO_DEVICE_SET_IRQS:
		ret = mdacc_set_irqs(s, arg);
		break;
	case VFIO_DEVICE_RESET:
		ret = mdacc_device_reset(s);
		break;
	default:
		ret = -ENOTTY;
	}
	if (!vfioscope_core_traced)
		trace_vfio_ioctl_exit(vdev, cmd, ret);
	return ret;
}

/* ------------------------------------------------------- open and close */

static int mdacc_open_device(struct vfio_device *vdev)
{
	struct mdacc_state *s = to_mdacc(vdev);

	mutex_lock(&s->mig_lock);
	mutex_lock(&s->lock);
	mdacc_reset_locked(s, true);
	mdacc_mig_reset_locked(s);
	s->open = true;
	mutex_unlock(&s->lock);
	mutex_unlock(&s->mig_lock);
	if (!vfioscope_core_traced)
		trace_vfio_device_open(vdev, 0);
	return 0;
}

static void mdacc_close_device(struct vfio_device *vdev)
{
	struct mdacc_state *s = to_mdacc(vdev);
	unsigned int i;

	mutex_lock(&s->mig_lock);
	mutex_lock(&s->lock);
	s->open = false;
	mutex_unlock(&s->lock);
	/* no DMA after close: the work finishes its job and stops */
	cancel_delayed_work_sync(&s->work);
	mutex_lock(&s->lock);
	mdacc_reset_locked(s, true);
	mdacc_mig_reset_locked(s);
	for (i = 0; i < VFIO_PCI_NUM_IRQS; i++)
		mdacc_disable_irq(s, i);
	mutex_unlock(&s->lock);
	mutex_unlock(&s->mig_lock);
	if (!vfioscope_core_traced)
		trace_vfio_device_close(vdev);
}

/*
 * The VMM unmapped [iova, iova + length): release every ring pinned in it.
 * The queue cannot go on without its ring, so it is disabled with an error.
 */
static void mdacc_dma_unmap(struct vfio_device *vdev, u64 iova, u64 length)
{
	struct mdacc_state *s = to_mdacc(vdev);
	unsigned int i;

	mutex_lock(&s->lock);
	for (i = 0; i < MDACC_MAX_QUEUES; i++) {
		struct mdacc_queue *q = &s->q[i];

		if (!q->ring || q->ring_iova + PAGE_SIZE <= iova ||
		    q->ring_iova >= iova + length)
			continue;
		mdacc_unpin_ring(s, q);
		if (q->ctrl & MDACC_QCTRL_ENABLE) {
			q->ctrl &= ~MDACC_QCTRL_ENABLE;
			s->status |= MDACC_STATUS_ERROR;
		}
	}
	mutex_unlock(&s->lock);
}

/*
 * The host wants the instance back (its mdev is being removed) while a user
 * holds it open: vfio_unregister_group_dev() calls this at once, then every
 * 10 s (@count 0, 1, ...) until the user closes the device. Relay it
 * through the request eventfd (VFIO_PCI_REQ_IRQ_INDEX) if the user armed
 * one, as vfio-pci does; otherwise all the driver can do is say who blocks
 * the removal.
 */
static void mdacc_request(struct vfio_device *vdev, unsigned int count)
{
	struct mdacc_state *s = to_mdacc(vdev);
	bool relayed = false;

	mutex_lock(&s->lock);
	if (s->trigger[VFIO_PCI_REQ_IRQ_INDEX]) {
		mdacc_eventfd_signal(s->trigger[VFIO_PCI_REQ_IRQ_INDEX]);
		trace_vfio_irq_signal(vdev, VFIO_PCI_REQ_IRQ_INDEX, 0);
		relayed = true;
	}
	mutex_unlock(&s->lock);

	if (relayed) {
		if (!(count % 10))
			dev_notice_ratelimited(vdev->dev,
					       "relaying device request to user (#%u)\n",
					       count);
	} else if (!count) {
		dev_warn(vdev->dev,
			 "no device request channel registered, removal blocked until the user releases the device\n");
	} else if (!(count % 6)) {
		dev_notice_ratelimited(vdev->dev,
				       "removal still blocked by the user (request #%u)\n",
				       count);
	}
}

/* ------------------------------------------------ vfio_device life cycle */

static int mdacc_init_dev(struct vfio_device *vdev)
{
	struct mdacc_state *s = to_mdacc(vdev);
	struct mdev_device *mdev = to_mdev_device(vdev->dev);
	const char *name;

	s->mdev = mdev;
	s->type = container_of(mdev->type, struct mdacc_type, type);
	mutex_init(&s->mig_lock);
	mutex_init(&s->lock);
	init_waitqueue_head(&s->idle_wq);
	INIT_DELAYED_WORK(&s->work, mdacc_work_fn);
	s->bounce = kvzalloc(MDACC_JOB_MAX_LEN, GFP_KERNEL);
	if (!s->bounce)
		goto err;
	/*
	 * A workqueue's name is cut at WQ_NAME_LEN (24 on 6.1) with a warning:
	 * the UUID's node field (its last 12 digits) names the instance.
	 */
	name = dev_name(vdev->dev);
	s->wq = alloc_ordered_workqueue("mdacc-%s", 0,
					strlen(name) > 12 ? name + strlen(name) - 12 : name);
	if (!s->wq)
		goto err_bounce;
	mdacc_init_config(s);
	s->mig_state = VFIO_DEVICE_STATE_RUNNING;
	s->running = true;
	vdev->migration_flags = VFIO_MIGRATION_STOP_COPY | VFIO_MIGRATION_P2P;
#ifdef VFIO_MIGRATION_PRE_COPY
	/* v6.2+: "vfio: Extend the device migration protocol with PRE_COPY" */
	vdev->migration_flags |= VFIO_MIGRATION_PRE_COPY;
#endif
	vdev->mig_ops = &mdacc_migration_ops;
	return 0;

err_bounce:
	kvfree(s->bounce);
err:
	mutex_destroy(&s->lock);
	mutex_destroy(&s->mig_lock);
	return -ENOMEM;
}

static void mdacc_release_dev(struct vfio_device *vdev)
{
	struct mdacc_state *s = to_mdacc(vdev);

	cancel_delayed_work_sync(&s->work);
	destroy_workqueue(s->wq);
	kvfree(s->bounce);
	mutex_destroy(&s->lock);
	mutex_destroy(&s->mig_lock);
	mdacc_vfio_free_device(vdev);
}

/* --------------------------------------------------------------- sysfs */

static const char * const mdacc_fault_names[] = {
	[MDACC_FAULT_NONE] = "none",
	[MDACC_FAULT_BAD_REGION_INFO] = "bad_region_info",
	[MDACC_FAULT_FAIL_STOP_COPY] = "fail_stop_copy",
	[MDACC_FAULT_DROP_IRQ] = "drop_irq",
};

static ssize_t qos_job_rate_show(struct device *dev,
				 struct device_attribute *attr, char *buf)
{
	struct mdacc_state *s = dev_get_drvdata(dev);

	return sysfs_emit(buf, "%u\n", READ_ONCE(s->qos_job_rate));
}

static ssize_t qos_job_rate_store(struct device *dev,
				  struct device_attribute *attr,
				  const char *buf, size_t count)
{
	struct mdacc_state *s = dev_get_drvdata(dev);
	u32 rate;
	int ret;

	ret = kstrtou32(buf, 0, &rate);
	if (ret)
		return ret;
	mutex_lock(&s->lock);
	s->qos_job_rate = rate;
	s->next_job_ns = 0;
	mdacc_kick(s);
	mutex_unlock(&s->lock);
	return count;
}
static DEVICE_ATTR_RW(qos_job_rate);

static ssize_t qos_dma_bw_show(struct device *dev,
			       struct device_attribute *attr, char *buf)
{
	struct mdacc_state *s = dev_get_drvdata(dev);

	return sysfs_emit(buf, "%llu\n", READ_ONCE(s->qos_dma_bw));
}

static ssize_t qos_dma_bw_store(struct device *dev,
				struct device_attribute *attr,
				const char *buf, size_t count)
{
	struct mdacc_state *s = dev_get_drvdata(dev);
	u64 bw;
	int ret;

	ret = kstrtou64(buf, 0, &bw);
	if (ret)
		return ret;
	mutex_lock(&s->lock);
	s->qos_dma_bw = bw;
	s->next_bw_ns = 0;
	mdacc_kick(s);
	mutex_unlock(&s->lock);
	return count;
}
static DEVICE_ATTR_RW(qos_dma_bw);

static ssize_t jobs_done_show(struct device *dev,
			      struct device_attribute *attr, char *buf)
{
	struct mdacc_state *s = dev_get_drvdata(dev);
	u64 done;

	mutex_lock(&s->lock);
	done = s->total_jobs;
	mutex_unlock(&s->lock);
	return sysfs_emit(buf, "%llu\n", done);
}
static DEVICE_ATTR_RO(jobs_done);

static ssize_t debug_fault_show(struct device *dev,
				struct device_attribute *attr, char *buf)
{
	struct mdacc_state *s = dev_get_drvdata(dev);

	return sysfs_emit(buf, "%s\n", mdacc_fault_names[READ_ONCE(s->fault)]);
}

static ssize_t debug_fault_store(struct device *dev,
				 struct device_attribute *attr,
				 const char *buf, size_t count)
{
	struct mdacc_state *s = dev_get_drvdata(dev);
	int i = sysfs_match_string(mdacc_fault_names, buf);

	if (i < 0)
		return i;
	WRITE_ONCE(s->fault, i);
	return count;
}
static DEVICE_ATTR_RW(debug_fault);

static struct attribute *mdacc_dev_attrs[] = {
	&dev_attr_qos_job_rate.attr,
	&dev_attr_qos_dma_bw.attr,
	&dev_attr_jobs_done.attr,
	&dev_attr_debug_fault.attr,
	NULL,
};

static const struct attribute_group mdacc_dev_group = {
	.attrs = mdacc_dev_attrs,
};

static const struct attribute_group *mdacc_dev_groups[] = {
	&mdacc_dev_group,
	NULL,
};

/* ------------------------------------------------------------- mdev */

static int mdacc_reserve(const struct mdacc_type *type)
{
	int ret = 0;

	spin_lock(&mdacc_parent.lock);
	if (mdacc_parent.free_units < type->cost)
		ret = -EUSERS;
	else
		mdacc_parent.free_units -= type->cost;
	spin_unlock(&mdacc_parent.lock);
	return ret;
}

static void mdacc_unreserve(const struct mdacc_type *type)
{
	spin_lock(&mdacc_parent.lock);
	mdacc_parent.free_units += type->cost;
	spin_unlock(&mdacc_parent.lock);
}

static int mdacc_probe(struct mdev_device *mdev)
{
	const struct mdacc_type *type =
		container_of(mdev->type, struct mdacc_type, type);
	struct mdacc_state *s;
	int ret;

	ret = mdacc_reserve(type);
	if (ret)
		goto out;
	s = vfio_alloc_device(mdacc_state, vdev, &mdev->dev, &mdacc_dev_ops);
	if (IS_ERR(s)) {
		ret = PTR_ERR(s);
		goto err_unreserve;
	}
	ret = vfio_register_emulated_iommu_dev(&s->vdev);
	if (ret)
		goto err_put;
	dev_set_drvdata(&mdev->dev, s);
	goto out;

err_put:
	vfio_put_device(&s->vdev);
err_unreserve:
	mdacc_unreserve(type);
out:
	if (!vfioscope_core_traced)
		trace_mdev_create(mdev->dev.parent, kobject_name(&mdev->type->kobj),
				  &mdev->uuid, ret);
	return ret;
}

static void mdacc_remove(struct mdev_device *mdev)
{
	struct mdacc_state *s = dev_get_drvdata(&mdev->dev);
	const struct mdacc_type *type = s->type;

	vfio_unregister_group_dev(&s->vdev);
	vfio_put_device(&s->vdev);
	mdacc_unreserve(type);
	if (!vfioscope_core_traced)
		trace_mdev_remove(mdev->dev.parent, kobject_name(&mdev->type->kobj),
				  &mdev->uuid, 0);
}

static unsigned int mdacc_get_available(struct mdev_type *mtype)
{
	const struct mdacc_type *type =
		container_of(mtype, struct mdacc_type, type);
	unsigned int n;

	spin_lock(&mdacc_parent.lock);
	n = mdacc_parent.free_units / type->cost;
	spin_unlock(&mdacc_parent.lock);
	return n;
}

static ssize_t mdacc_show_description(struct mdev_type *mtype, char *buf)
{
	const struct mdacc_type *type =
		container_of(mtype, struct mdacc_type, type);

	return sysfs_emit(buf, "%u queue%s, %u capacity unit%s of %u\n",
			  type->nqueues, type->nqueues == 1 ? "" : "s",
			  type->cost, type->cost == 1 ? "" : "s", units);
}

static const struct vfio_device_ops mdacc_dev_ops = {
	.name = "vfio-mdacc",
	.init = mdacc_init_dev,
	.release = mdacc_release_dev,
	.open_device = mdacc_open_device,
	.close_device = mdacc_close_device,
	.read = mdacc_read,
	.write = mdacc_write,
	.ioctl = mdacc_ioctl,
#ifdef MDACC_REGION_INFO_CAPS
	.get_region_info_caps = mdacc_get_region_info_caps,
#endif
	.dma_unmap = mdacc_dma_unmap,
	.request = mdacc_request,
	/* iommufd (v6.2+): the emulated helpers, stubs when !CONFIG_IOMMUFD */
#if IS_ENABLED(CONFIG_IOMMUFD) || defined(vfio_iommufd_emulated_bind)
	.bind_iommufd = vfio_iommufd_emulated_bind,
	.unbind_iommufd = vfio_iommufd_emulated_unbind,
	.attach_ioas = vfio_iommufd_emulated_attach_ioas,
#endif
#if IS_ENABLED(CONFIG_IOMMUFD) || defined(vfio_iommufd_emulated_detach_ioas)
	.detach_ioas = vfio_iommufd_emulated_detach_ioas,
#endif
};

static struct mdev_driver mdacc_driver = {
	.device_api = VFIO_DEVICE_API_PCI_STRING,
	.driver = {
		.name = MDACC_NAME,
		.owner = THIS_MODULE,
		.mod_name = KBUILD_MODNAME,
		.dev_groups = mdacc_dev_groups,
	},
	.probe = mdacc_probe,
	.remove = mdacc_remove,
	.get_available = mdacc_get_available,
	.show_description = mdacc_show_description,
};

static void mdacc_parent_release(struct device *dev)
{
	/* static: nothing to free */
}

static int __init mdacc_init(void)
{
	int ret;

	if (!units || units > 64)
		return -EINVAL;
	spin_lock_init(&mdacc_parent.lock);
	mdacc_parent.free_units = units;

	ret = mdev_register_driver(&mdacc_driver);
	if (ret)
		return ret;
	ret = class_register(&mdacc_class);
	if (ret)
		goto err_driver;
	mdacc_parent.dev.class = &mdacc_class;
	mdacc_parent.dev.release = mdacc_parent_release;
	dev_set_name(&mdacc_parent.dev, "%s0", MDACC_NAME);
	ret = device_register(&mdacc_parent.dev);
	if (ret)
		goto err_put;
	ret = mdev_register_parent(&mdacc_parent.parent, &mdacc_parent.dev,
				   &mdacc_driver, mdacc_mdev_types,
				   ARRAY_SIZE(mdacc_mdev_types));
	if (ret)
		goto err_device;
	return 0;

err_device:
	device_del(&mdacc_parent.dev);
err_put:
	put_device(&mdacc_parent.dev);
	class_unregister(&mdacc_class);
err_driver:
	mdev_unregister_driver(&mdacc_driver);
	return ret;
}

static void __exit mdacc_exit(void)
{
	mdev_unregister_parent(&mdacc_parent.parent);
	device_unregister(&mdacc_parent.dev);
	class_unregister(&mdacc_class);
	mdev_unregister_driver(&mdacc_driver);
}

module_init(mdacc_init);
module_exit(mdacc_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("mdacc: mediated accelerator, the vfioscope reference mdev driver");
