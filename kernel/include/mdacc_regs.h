/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * mdacc: the register and job-descriptor interface of the reference
 * mediated accelerator (kernel/mdacc), shared by the driver and by the VMM
 * side (user/exercise). A VMM sees each mdev instance as a PCI device:
 *
 *   - region VFIO_PCI_CONFIG_REGION_INDEX: 256 bytes of emulated config
 *     space (vendor MDACC_PCI_VENDOR, device MDACC_PCI_DEVICE, BAR0 32-bit
 *     memory, MDACC_BAR0_SIZE);
 *   - region VFIO_PCI_BAR0_REGION_INDEX: the register file below, read and
 *     written with pread/pwrite on the device fd (no mmap: every access
 *     traps, which is what a driver developer wants to trace); 4- and 8-byte
 *     accesses, little endian;
 *   - other PCI regions have size 0;
 *   - IRQ index VFIO_PCI_INTX_IRQ_INDEX (1 vector) and VFIO_PCI_MSI_IRQ_INDEX
 *     (1 vector), eventfd triggers via VFIO_DEVICE_SET_IRQS; one of the two
 *     at a time. VFIO_PCI_REQ_IRQ_INDEX (1 vector): see below.
 *
 * The VMM puts a ring of MDACC_JOB_SIZE-byte job descriptors in its own
 * memory (mapped for DMA), programs QBASE/QSIZE, enables the queue and the
 * device, and writes TAIL (the doorbell). The device processes jobs from
 * HEAD to TAIL in order, moves data with DMA into the VMM's memory, writes
 * each descriptor's status, advances HEAD and, for jobs with
 * MDACC_JOB_F_IRQ, raises the queue's bit in IRQ_STATUS and signals the
 * interrupt. The instance's QoS limits (sysfs qos_job_rate, qos_dma_bw)
 * delay jobs, never drop them.
 *
 * Queue rules: QBASE and QSIZE are written while the queue is disabled
 * (writes while it is enabled are ignored); a QBASE whose low word is not
 * 4 KiB aligned, or a QSIZE that is not a power of two in 2..128, is
 * ignored and sets STATUS_ERROR, so the registers only ever hold their
 * reset value (0) or a valid one. Enabling a queue whose QBASE/QSIZE are
 * not both valid, or whose ring is not mapped for DMA, fails (the queue
 * stays disabled, STATUS_ERROR is set). HEAD and TAIL are ring indices,
 * 0..QSIZE-1: HEAD == TAIL means empty, so a ring of QSIZE entries holds at
 * most QSIZE-1 jobs. TAIL is the doorbell of an enabled queue: a TAIL write
 * >= QSIZE, or to a disabled queue, is ignored and sets STATUS_ERROR. A
 * disabled queue has no jobs: disabling it resets HEAD and TAIL to 0, and
 * they stay 0 until it is enabled. Q_JOBS counts the queue's finished
 * jobs, failed ones included. The device does DMA only while CTRL_ENABLE
 * and bus mastering (PCI_COMMAND_MASTER in the config space) are set.
 * Descriptors are little endian, like registers; a job whose src or dst
 * range wraps around the 64-bit IOVA space fails with EINVAL.
 *
 * IRQ index VFIO_PCI_REQ_IRQ_INDEX (1 vector): an eventfd the driver
 * signals when the host wants the instance back (its mdev is being
 * removed); the VMM should then release the device fd.
 */
#ifndef MDACC_REGS_H
#define MDACC_REGS_H

#include <linux/types.h>

#define MDACC_PCI_VENDOR	0x1234
#define MDACC_PCI_DEVICE	0x4d41
#define MDACC_BAR0_SIZE		0x1000

#define MDACC_ID_VALUE		0x4d444143	/* "MDAC" */
#define MDACC_VERSION_VALUE	1

/* device registers */
#define MDACC_REG_ID		0x000	/* RO */
#define MDACC_REG_VERSION	0x004	/* RO */
#define MDACC_REG_NQUEUES	0x008	/* RO: queues of this instance's type */
#define MDACC_REG_CTRL		0x00c	/* RW */
#define  MDACC_CTRL_ENABLE	0x1	/* process jobs */
#define  MDACC_CTRL_RESET	0x2	/* write 1: reset queues + counters */
#define MDACC_REG_STATUS	0x010	/* RO */
#define  MDACC_STATUS_BUSY	0x1
#define  MDACC_STATUS_ERROR	0x2	/* a job failed; cleared by RESET */
#define MDACC_REG_IRQ_STATUS	0x014	/* RW1C: bit q = queue q completed */
#define MDACC_REG_JOBS_DONE	0x020	/* RO 64-bit */
#define MDACC_REG_BYTES_DONE	0x028	/* RO 64-bit */
#define MDACC_REG_JOBS_FAILED	0x030	/* RO 64-bit */

/* queue q's registers at MDACC_QREG(q) + offset */
#define MDACC_MAX_QUEUES	4
#define MDACC_QREG(q)		(0x100 + (q) * 0x40)
#define MDACC_Q_BASE		0x00	/* RW 64-bit: ring IOVA, 4 KiB aligned */
#define MDACC_Q_SIZE		0x08	/* RW: entries, power of two, 2..128 */
#define MDACC_Q_CTRL		0x0c	/* RW */
#define  MDACC_QCTRL_ENABLE	0x1
#define MDACC_Q_TAIL		0x10	/* RW: producer index (doorbell) */
#define MDACC_Q_HEAD		0x14	/* RO: next job the device takes */
#define MDACC_Q_JOBS		0x18	/* RO: jobs finished on this queue */

/* job descriptors */
#define MDACC_JOB_SIZE		32
#define MDACC_RING_MAX		128	/* entries: the ring fits in one page */
#define MDACC_JOB_MAX_LEN	65536

enum mdacc_op {
	MDACC_OP_COPY = 1,	/* dst[i] = src[i] */
	MDACC_OP_XOR = 2,	/* dst[i] = src[i] ^ arg */
	MDACC_OP_FILL = 3,	/* dst[i] = arg (src unused) */
};

#define MDACC_JOB_F_IRQ		0x1	/* interrupt on completion */

#define MDACC_JOB_PENDING	0
#define MDACC_JOB_DONE		1
#define MDACC_JOB_FAILED	0x80000000u	/* | positive errno */

struct mdacc_job {
	__u32 op;		/* enum mdacc_op in bits 0-7, arg in bits 8-15 */
	__u32 flags;		/* MDACC_JOB_F_* */
	__u64 src;		/* IOVA */
	__u64 dst;		/* IOVA */
	__u32 len;		/* bytes, 1..MDACC_JOB_MAX_LEN */
	__u32 status;		/* written by the device */
};

#endif /* MDACC_REGS_H */
