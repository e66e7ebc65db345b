/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mdacc: internal definitions shared by the device model (mdacc_main.c)
 * and VFIO migration (mdacc_mig.c).
 */
#ifndef MDACC_H
#define MDACC_H

#include <linux/align.h>
#include <linux/log2.h>
#include <linux/mdev.h>
#include <linux/mutex.h>
#include <linux/types.h>
#include <linux/vfio.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#include <mdacc_regs.h>

#define MDACC_CONFIG_SIZE	256

/* fault injection for conformance-checker tests (sysfs debug_fault) */
enum mdacc_fault {
	MDACC_FAULT_NONE,
	MDACC_FAULT_BAD_REGION_INFO,	/* BAR0 size reported as 0x800 */
	MDACC_FAULT_FAIL_STOP_COPY,	/* the arc into STOP_COPY fails, -EIO */
	MDACC_FAULT_DROP_IRQ,		/* completions do not signal */
};

struct mdacc_type {
	struct mdev_type type;
	unsigned int nqueues;
	unsigned int cost;		/* capacity units of the parent */
};

struct mdacc_queue {
	u64 base;			/* MDACC_Q_BASE */
	u32 size;			/* MDACC_Q_SIZE */
	u32 ctrl;			/* MDACC_Q_CTRL */
	u32 tail;
	u32 head;
	u32 jobs;
	/* the ring's page, pinned while the queue is enabled */
	struct page *ring;
	u64 ring_iova;			/* page-aligned IOVA @ring was pinned at */
	/* bumped whenever the ring goes away: a job in flight is dropped */
	u32 gen;
};

/*
 * The values the queue registers may hold (mdacc_regs.h): QBASE 4 KiB
 * aligned, QSIZE 0 (reset) or a power of two in 2..MDACC_RING_MAX. A queue
 * can be enabled only with a nonzero QSIZE; a disabled queue's HEAD and
 * TAIL are 0. Register writes and a migration stream are held to the same
 * rules, so no value that reaches the job engine can point past the ring.
 */
static inline bool mdacc_qbase_ok(u64 base)
{
	return IS_ALIGNED(base, 4096);
}

static inline bool mdacc_qsize_ok(u32 size)
{
	return size >= 2 && size <= MDACC_RING_MAX && is_power_of_2(size);
}

struct mdacc_migf;

/*
 * Per-instance state. Locking:
 *  - @mig_lock serialises migration arcs (outermost);
 *  - @lock protects every register, the queues, the IRQ triggers, the
 *    QoS state and the migration state; the worker drops it while a job
 *    moves data, so DMA never runs under it (the dma_unmap callback, called
 *    with type1's device_list_lock held, takes it);
 *  - a migration file's own lock nests inside @lock.
 */
struct mdacc_state {
	struct vfio_device vdev;
	struct mdev_device *mdev;
	const struct mdacc_type *type;

	struct mutex mig_lock;		/* see above */
	struct mutex lock;		/* see above */

	bool open;
	bool running;			/* migration state lets the device run */
	u8 config[MDACC_CONFIG_SIZE];
	u32 ctrl;
	u32 status;			/* sticky bits: MDACC_STATUS_ERROR */
	u32 irq_status;
	u64 jobs_done;
	u64 bytes_done;
	u64 jobs_failed;
	u64 total_jobs;			/* lifetime, sysfs jobs_done */
	struct mdacc_queue q[MDACC_MAX_QUEUES];
	unsigned int next_q;		/* round robin */

	/* interrupts: one of INTx or MSI may be armed */
	struct eventfd_ctx *trigger[VFIO_PCI_NUM_IRQS];

	/* job engine */
	struct workqueue_struct *wq;
	struct delayed_work work;
	bool job_active;		/* a job is moving data (lock dropped) */
	wait_queue_head_t idle_wq;	/* woken when job_active clears */
	void *bounce;			/* MDACC_JOB_MAX_LEN bytes */

	/* QoS: earliest time the next job may start, per limit */
	u32 qos_job_rate;		/* jobs/s, 0 = unlimited */
	u64 qos_dma_bw;			/* bytes/s, 0 = unlimited */
	u64 next_job_ns;
	u64 next_bw_ns;

	enum mdacc_fault fault;

	/* migration */
	enum vfio_device_mig_state mig_state;
	struct mdacc_migf *saving_migf;
	struct mdacc_migf *resuming_migf;
};

static inline struct mdacc_state *to_mdacc(struct vfio_device *vdev)
{
	return container_of(vdev, struct mdacc_state, vdev);
}

/* mdacc_main.c */
void mdacc_reset_locked(struct mdacc_state *s, bool config);
void mdacc_unpin_ring(struct mdacc_state *s, struct mdacc_queue *q);
void mdacc_pin_enabled_rings(struct mdacc_state *s);
void mdacc_quiesce_locked(struct mdacc_state *s);
void mdacc_kick(struct mdacc_state *s);
int mdacc_config_check(const u8 *config);

/* mdacc_mig.c */
extern const struct vfio_migration_ops mdacc_migration_ops;
void mdacc_mig_reset_locked(struct mdacc_state *s);

#endif /* MDACC_H */
