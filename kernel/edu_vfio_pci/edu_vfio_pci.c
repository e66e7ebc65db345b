// SPDX-License-Identifier: GPL-2.0
/*
 * edu_vfio_pci: vfio-pci variant driver with live migration (VFIO migration
 * v2) for QEMU's "edu" educational PCI device (1234:11e8, QEMU
 * docs/specs/edu.rst).
 *
 * edu has no save/restore interface, so the driver has to know the device
 * state itself:
 *
 * - BAR0 is never mmapped (region info does not offer it, mmap() fails) and
 *   VFIO_DEVICE_IOEVENTFD is refused, so every BAR0 access of the user goes
 *   through this driver's read/write, which forwards it to vfio_pci_core.
 *   That lets the driver enforce STOP (BAR0 writes fail with -EBUSY outside
 *   the running states, so nothing can start a computation or a DMA once
 *   the device is stopped) and shadow the one value the device does not
 *   give back: the factorial input (the register at 0x08 reads n!, not n).
 *
 * - Everything else is read back from the device at STOP_COPY, once it is
 *   idle: the liveness register, factorial result, status (bit 7, interrupt
 *   after factorial), interrupt status and the DMA source, destination and
 *   count. The interrupt status is read rather than shadowed because the
 *   device sets bits on its own (0x1 after a factorial, 0x100 after a DMA).
 *
 * - The destination replays that state at RESUMING -> STOP (acknowledge
 *   stale interrupts, liveness, factorial input with bit 7 clear so the
 *   replay raises nothing, DMA registers, then bit 7), checks every value
 *   it wrote back, and raises the migrated interrupt status through 0x60
 *   at STOP -> RUNNING, only if it is nonzero: interrupts are not allowed
 *   before RUNNING.
 *
 * Not migrated, and why:
 *
 * - The 4 KiB buffer at device address 0x40000. Only the device's own DMA
 *   reaches it, and that DMA goes through the IOMMU domain of the user who
 *   owns the device: the driver cannot DMA it into host memory without
 *   taking the device out of that domain. A workload must not expect the
 *   buffer to survive a migration.
 * - The DMA command register (0x98). edu accepts a write there only with
 *   the start bit set, which starts a transfer; after a transfer it keeps
 *   the direction and interrupt bits of the last command, so it reads what
 *   the destination's own last command left. The device is idle in STOP,
 *   so no transfer is ever in flight at save time.
 * - Interrupt configuration (INTx/MSI) and PCI config space: vfio-pci
 *   virtualizes them and the VMM migrates them, as for any vfio-pci device.
 *
 * Migration states: RUNNING, STOP, STOP_COPY, RESUMING (VFIO_MIGRATION_
 * STOP_COPY) and, on kernels whose uAPI has it (v6.2+), PRE_COPY
 * (VFIO_MIGRATION_PRE_COPY): the pre-copy data is the stream header, which
 * lets the destination refuse a stream of another format or version before
 * the source stops (the device ident is compared at RESUMING -> STOP). No
 * P2P states: edu does no peer-to-peer DMA. v6.1 therefore offers
 * STOP_COPY only, without PRE_COPY, VFIO_DEVICE_FEATURE_MIG_DATA_SIZE and
 * VFIO_MIG_GET_PRECOPY_INFO, which its uAPI does not define.
 */
#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/io.h>
#include <linux/iopoll.h>
#include <linux/ktime.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/sizes.h>
#include <linux/uaccess.h>
#include <linux/vfio.h>
#include <linux/vfio_pci_core.h>

#include <trace/events/vfio.h>

#ifndef CONFIG_64BIT
#error "edu's DMA registers need single 64-bit MMIO accesses"
#endif

#define PCI_VENDOR_ID_QEMU_EDU		0x1234
#define PCI_DEVICE_ID_QEMU_EDU		0x11e8

/* BAR0 registers (docs/specs/edu.rst) */
#define EDU_REG_IDENT			0x00
#define EDU_REG_LIVENESS		0x04
#define EDU_REG_FACT			0x08
#define EDU_REG_STATUS			0x20
#define EDU_REG_IRQ_STATUS		0x24
#define EDU_REG_IRQ_RAISE		0x60
#define EDU_REG_IRQ_ACK			0x64
#define EDU_REG_DMA_SRC			0x80
#define EDU_REG_DMA_DST			0x88
#define EDU_REG_DMA_CNT			0x90
#define EDU_REG_DMA_CMD			0x98
#define EDU_BAR0_MIN_SIZE		SZ_1M

#define EDU_STATUS_COMPUTING		BIT(0)
#define EDU_STATUS_IRQ_FACT		BIT(7)
#define EDU_DMA_CMD_START		BIT(0)

/*
 * edu computes n! in 32 bits. 34! is the first factorial divisible by 2^32,
 * so every n >= 34 gives 0 and the register can only ever hold k! mod 2^32
 * for some k <= 34.
 */
#define EDU_FACT_ZERO_FROM		34

/* the device finishes a DMA 100 ms (virtual time) after it starts */
#define EDU_IDLE_TIMEOUT_US		(2 * USEC_PER_SEC)
#define EDU_IDLE_POLL_US		1000
#define EDU_FACT_TIMEOUT_US		(100 * USEC_PER_MSEC)
#define EDU_FACT_POLL_US		10

/*
 * The migration stream, little-endian: a header (the pre-copy data) and
 * the device state (the stop-copy data).
 */
#define EDU_MIG_MAGIC			0x4d554445	/* "EDUM" */
#define EDU_MIG_VERSION			1

struct edu_mig_header {
	__le32 magic;
	__le16 version;
	__le16 header_len;	/* sizeof(struct edu_mig_header) */
	__le32 ident;		/* the source's 0x00: device and version */
	__le32 state_len;	/* sizeof(struct edu_mig_state) */
};

struct edu_mig_state {
	__le32 liveness;	/* as read at 0x04 */
	__le32 fact_in;		/* last factorial input */
	__le32 fact_out;	/* as read at 0x08: edu_fact(fact_in) */
	__le32 status;		/* as read at 0x20; idle, so bit 7 at most */
	__le32 irq_status;	/* as read at 0x24 */
	__le32 reserved;	/* zero */
	__le64 dma_src;
	__le64 dma_dst;
	__le64 dma_cnt;
};

struct edu_mig_stream {
	struct edu_mig_header hdr;
	struct edu_mig_state state;
};

static_assert(sizeof(struct edu_mig_header) == 16);
static_assert(sizeof(struct edu_mig_state) == 48);
static_assert(sizeof(struct edu_mig_stream) == 64);

/*
 * A migration data file. Its ops only touch the file itself; @vdev is used
 * for trace events and only while !@disabled: the driver disables every
 * file before its device can go away (close_device, reset, arcs).
 */
struct edu_migf {
	struct file *filp;
	struct vfio_device *vdev;
	struct mutex lock;		/* everything below */
	bool disabled;
	bool final;			/* saving: the state is in @data */
	size_t len;			/* saving: readable; resuming: received */
	size_t pos;			/* saving: read so far */
	struct edu_mig_stream data;
};

struct edu_vfio_device {
	struct vfio_pci_core_device core;

	/*
	 * Serializes migration arcs, BAR0 writes of the user and the driver's
	 * own BAR0 accesses. Taken before core.memory_lock. Released through
	 * edu_state_mutex_unlock(), which applies a deferred reset.
	 */
	struct mutex state_mutex;
	enum vfio_device_mig_state mig_state;
	struct edu_migf *saving;
	struct edu_migf *resuming;
	u32 fact_in;			/* shadow of the last factorial input */
	bool fact_in_valid;
	u32 pending_irq;		/* migrated 0x24, raised at RUNNING */

	/* reset_done() runs under memory_lock: it may not wait for us */
	spinlock_t reset_lock;
	bool deferred_reset;
};

static struct edu_vfio_device *to_edu(struct vfio_device *vdev)
{
	return container_of(vdev, struct edu_vfio_device, core.vdev);
}

static void __iomem *edu_bar(struct edu_vfio_device *edu)
{
	return edu->core.barmap[0];
}

/* n! mod 2^32, exactly as the device computes it */
static u32 edu_fact(u32 n)
{
	u32 r = 1;

	if (n >= EDU_FACT_ZERO_FROM)
		return 0;
	while (n > 1)
		r *= n--;
	return r;
}

/* the smallest k with edu_fact(k) == @value, or -1 */
static int edu_fact_inverse(u32 value)
{
	int k;

	for (k = 0; k <= EDU_FACT_ZERO_FROM; k++)
		if (edu_fact(k) == value)
			return k;
	return -1;
}

static bool edu_state_running(enum vfio_device_mig_state state)
{
#ifdef VFIO_MIGRATION_PRE_COPY
	if (state == VFIO_DEVICE_STATE_PRE_COPY)
		return true;
#endif
	return state == VFIO_DEVICE_STATE_RUNNING;
}

/* ------------------------------------------------------------ BAR0 access */

/*
 * The driver's own BAR0 accesses (quiesce, save, restore): block the user's
 * MMIO and config writes, and let BAR0 decode even if the user turned
 * memory decoding off, as vfio_pci_core does for its own accesses.
 */
static int edu_hw_begin(struct edu_vfio_device *edu, u16 *cmd)
{
	struct pci_dev *pdev = edu->core.pdev;

	down_write(&edu->core.memory_lock);
	if (pdev->current_state >= PCI_D3hot) {
		up_write(&edu->core.memory_lock);
		return -EIO;
	}
	pci_read_config_word(pdev, PCI_COMMAND, cmd);
	if (!(*cmd & PCI_COMMAND_MEMORY))
		pci_write_config_word(pdev, PCI_COMMAND,
				      *cmd | PCI_COMMAND_MEMORY);
	return 0;
}

static void edu_hw_end(struct edu_vfio_device *edu, u16 cmd)
{
	if (!(cmd & PCI_COMMAND_MEMORY))
		pci_write_config_word(edu->core.pdev, PCI_COMMAND, cmd);
	up_write(&edu->core.memory_lock);
}

static bool edu_busy(void __iomem *bar)
{
	return (readl(bar + EDU_REG_STATUS) & EDU_STATUS_COMPUTING) ||
	       (readq(bar + EDU_REG_DMA_CMD) & EDU_DMA_CMD_START);
}

/* wait for the running factorial and DMA to finish; under edu_hw_begin() */
static int edu_wait_idle(void __iomem *bar)
{
	bool busy;

	return read_poll_timeout(edu_busy, busy, !busy, EDU_IDLE_POLL_US,
				 EDU_IDLE_TIMEOUT_US, false, bar);
}

static int edu_wait_fact(void __iomem *bar)
{
	u32 status;

	return read_poll_timeout(readl, status,
				 !(status & EDU_STATUS_COMPUTING),
				 EDU_FACT_POLL_US, EDU_FACT_TIMEOUT_US, false,
				 bar + EDU_REG_STATUS);
}

/* BAR0 decodes for the user, as vfio_pci_core checks it (memory_lock held) */
static bool edu_user_mem_enabled(struct vfio_pci_core_device *core)
{
	u16 cmd = le16_to_cpu(*(__le16 *)&core->vconfig[PCI_COMMAND]);

	return core->pdev->current_state < PCI_D3hot &&
	       (core->pdev->no_command_memory || (cmd & PCI_COMMAND_MEMORY));
}

/* --------------------------------------------------- migration data files */

static void edu_migf_disable(struct edu_migf *migf)
{
	mutex_lock(&migf->lock);
	migf->disabled = true;
	migf->vdev = NULL;
	mutex_unlock(&migf->lock);
}

/* end the driver's use of a file: the user gets end of stream or -ENODEV */
static void edu_migf_put(struct edu_migf **slot)
{
	struct edu_migf *migf = *slot;

	if (!migf)
		return;
	*slot = NULL;
	edu_migf_disable(migf);
	fput(migf->filp);
}

static int edu_migf_release(struct inode *inode, struct file *filp)
{
	struct edu_migf *migf = filp->private_data;

	mutex_destroy(&migf->lock);
	kfree(migf);
	return 0;
}

static ssize_t edu_save_read(struct file *filp, char __user *buf, size_t len,
			     loff_t *pos)
{
	struct edu_migf *migf = filp->private_data;
	size_t n;
	ssize_t ret;

	if (pos)
		return -ESPIPE;

	mutex_lock(&migf->lock);
	if (migf->disabled) {
		ret = -ENODEV;
		goto out_unlock;
	}
	if (migf->pos >= migf->len) {
		/* a temporary end of stream while pre-copying */
		ret = migf->final ? 0 : -ENOMSG;
	} else {
		n = min_t(size_t, len, migf->len - migf->pos);
		if (copy_to_user(buf, (u8 *)&migf->data + migf->pos, n)) {
			ret = -EFAULT;
		} else {
			migf->pos += n;
			ret = n;
		}
	}
	trace_vfio_mig_data(migf->vdev, false, len, ret);
out_unlock:
	mutex_unlock(&migf->lock);
	return ret;
}

static int edu_check_header(const struct edu_mig_header *hdr)
{
	if (le32_to_cpu(hdr->magic) != EDU_MIG_MAGIC ||
	    le16_to_cpu(hdr->version) != EDU_MIG_VERSION ||
	    le16_to_cpu(hdr->header_len) != sizeof(*hdr) ||
	    le32_to_cpu(hdr->state_len) != sizeof(struct edu_mig_state))
		return -EINVAL;
	return 0;
}

static ssize_t edu_resume_write(struct file *filp, const char __user *buf,
				size_t len, loff_t *pos)
{
	struct edu_migf *migf = filp->private_data;
	size_t end;
	ssize_t ret;

	if (pos)
		return -ESPIPE;

	mutex_lock(&migf->lock);
	if (migf->disabled) {
		ret = -ENODEV;
		goto out_unlock;
	}
	/* a version 1 stream has a fixed length: more is not ours */
	if (len > sizeof(migf->data) - migf->len) {
		ret = -EINVAL;
		goto out_trace;
	}
	if (copy_from_user((u8 *)&migf->data + migf->len, buf, len)) {
		ret = -EFAULT;
		goto out_trace;
	}
	end = migf->len + len;
	/* reject a foreign stream as soon as its header is complete */
	if (migf->len < sizeof(migf->data.hdr) &&
	    end >= sizeof(migf->data.hdr) &&
	    edu_check_header(&migf->data.hdr)) {
		ret = -EINVAL;
		goto out_trace;
	}
	migf->len = end;
	ret = len;
out_trace:
	trace_vfio_mig_data(migf->vdev, true, len, ret);
out_unlock:
	mutex_unlock(&migf->lock);
	return ret;
}

#ifdef VFIO_MIG_GET_PRECOPY_INFO
static long edu_save_ioctl(struct file *filp, unsigned int cmd,
			   unsigned long arg)
{
	struct edu_migf *migf = filp->private_data;
	struct vfio_precopy_info info = {};
	unsigned long minsz = offsetofend(struct vfio_precopy_info, dirty_bytes);
	long ret = 0;

	if (cmd != VFIO_MIG_GET_PRECOPY_INFO)
		return -ENOTTY;
	if (copy_from_user(&info, (void __user *)arg, minsz))
		return -EFAULT;
	if (info.argsz < minsz)
		return -EINVAL;

	mutex_lock(&migf->lock);
	if (migf->disabled) {
		ret = -ENODEV;
	} else if (migf->final) {
		/* valid in PRE_COPY only; the file is final from STOP_COPY on */
		ret = -EINVAL;
	} else {
		/* the header; the state itself never changes before STOP_COPY */
		info.initial_bytes = migf->len - migf->pos;
		info.dirty_bytes = 0;
	}
	mutex_unlock(&migf->lock);
	if (ret)
		return ret;

	return copy_to_user((void __user *)arg, &info, minsz) ? -EFAULT : 0;
}
#endif

static const struct file_operations edu_save_fops = {
	.owner = THIS_MODULE,
	.read = edu_save_read,
#ifdef VFIO_MIG_GET_PRECOPY_INFO
	.unlocked_ioctl = edu_save_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
#endif
	.release = edu_migf_release,
};

static const struct file_operations edu_resume_fops = {
	.owner = THIS_MODULE,
	.write = edu_resume_write,
	.release = edu_migf_release,
};

static struct edu_migf *edu_migf_create(struct edu_vfio_device *edu,
					const struct file_operations *fops,
					int flags)
{
	struct edu_migf *migf;

	migf = kzalloc(sizeof(*migf), GFP_KERNEL_ACCOUNT);
	if (!migf)
		return ERR_PTR(-ENOMEM);
	mutex_init(&migf->lock);
	migf->vdev = &edu->core.vdev;

	migf->filp = anon_inode_getfile("edu_vfio_pci_mig", fops, migf, flags);
	if (IS_ERR(migf->filp)) {
		struct file *err = migf->filp;

		mutex_destroy(&migf->lock);
		kfree(migf);
		return ERR_CAST(err);
	}
	stream_open(migf->filp->f_inode, migf->filp);
	return migf;
}

/* ------------------------------------------------------ save and restore */

/* read the state of the idle device; under edu_hw_begin() */
static int edu_capture(struct edu_vfio_device *edu, struct edu_mig_state *st)
{
	void __iomem *bar = edu_bar(edu);
	u32 status, fact_out, fact_in;
	int k;

	if (edu_busy(bar))
		return -EBUSY;
	status = readl(bar + EDU_REG_STATUS);
	fact_out = readl(bar + EDU_REG_FACT);

	if (edu->fact_in_valid) {
		/* the trap waits for idle, so the device took every input */
		if (edu_fact(edu->fact_in) != fact_out)
			return -EIO;
		fact_in = edu->fact_in;
	} else {
		/*
		 * Nothing written since open (or reset): the register holds a
		 * factorial from before, e.g. 0 = 34! on a fresh device.
		 */
		k = edu_fact_inverse(fact_out);
		if (k < 0)
			return -EIO;
		fact_in = k;
	}

	memset(st, 0, sizeof(*st));
	st->liveness = cpu_to_le32(readl(bar + EDU_REG_LIVENESS));
	st->fact_in = cpu_to_le32(fact_in);
	st->fact_out = cpu_to_le32(fact_out);
	st->status = cpu_to_le32(status);
	st->irq_status = cpu_to_le32(readl(bar + EDU_REG_IRQ_STATUS));
	st->dma_src = cpu_to_le64(readq(bar + EDU_REG_DMA_SRC));
	st->dma_dst = cpu_to_le64(readq(bar + EDU_REG_DMA_DST));
	st->dma_cnt = cpu_to_le64(readq(bar + EDU_REG_DMA_CNT));
	return 0;
}

/*
 * RUNNING -> STOP_COPY via STOP, or RUNNING -> PRE_COPY (@final false: the
 * header only; edu_save_finish() appends the state at STOP_COPY).
 */
static struct file *edu_save_open(struct edu_vfio_device *edu, bool final)
{
	struct edu_mig_stream *data;
	struct edu_migf *migf;
	u16 cmd;
	int ret;

	migf = edu_migf_create(edu, &edu_save_fops, O_RDONLY);
	if (IS_ERR(migf))
		return ERR_CAST(migf);
	data = &migf->data;

	ret = edu_hw_begin(edu, &cmd);
	if (ret)
		goto out_fput;
	data->hdr.ident = cpu_to_le32(readl(edu_bar(edu) + EDU_REG_IDENT));
	if (final)
		ret = edu_capture(edu, &data->state);
	edu_hw_end(edu, cmd);
	if (ret)
		goto out_fput;

	data->hdr.magic = cpu_to_le32(EDU_MIG_MAGIC);
	data->hdr.version = cpu_to_le16(EDU_MIG_VERSION);
	data->hdr.header_len = cpu_to_le16(sizeof(data->hdr));
	data->hdr.state_len = cpu_to_le32(sizeof(data->state));
	migf->final = final;
	migf->len = final ? sizeof(*data) : sizeof(data->hdr);

	/* one reference for the user's fd, one for edu->saving */
	edu->saving = migf;
	get_file(migf->filp);
	return migf->filp;

out_fput:
	fput(migf->filp);
	return ERR_PTR(ret);
}

#ifdef VFIO_MIGRATION_PRE_COPY
/* PRE_COPY -> STOP_COPY: append the state to the pre-copy file */
static int edu_save_finish(struct edu_vfio_device *edu)
{
	struct edu_migf *migf = edu->saving;
	struct edu_mig_state st;
	u16 cmd;
	int ret;

	if (!migf)
		return -EINVAL;
	ret = edu_hw_begin(edu, &cmd);
	if (ret)
		return ret;
	ret = edu_capture(edu, &st);
	edu_hw_end(edu, cmd);
	if (ret)
		return ret;

	mutex_lock(&migf->lock);
	migf->data.state = st;
	migf->len = sizeof(migf->data);
	migf->final = true;
	mutex_unlock(&migf->lock);
	return 0;
}
#endif

static struct file *edu_resume_open(struct edu_vfio_device *edu)
{
	struct edu_migf *migf;

	migf = edu_migf_create(edu, &edu_resume_fops, O_WRONLY);
	if (IS_ERR(migf))
		return ERR_CAST(migf);
	edu->resuming = migf;
	get_file(migf->filp);
	return migf->filp;
}

/* consistency of a received state, before anything touches the device */
static int edu_check_state(const struct edu_mig_state *st)
{
	if (st->reserved ||
	    le32_to_cpu(st->status) & ~EDU_STATUS_IRQ_FACT ||
	    edu_fact(le32_to_cpu(st->fact_in)) != le32_to_cpu(st->fact_out))
		return -EINVAL;
	return 0;
}

/* write the state into the idle device and check it took; under hw_begin */
static int edu_replay(struct edu_vfio_device *edu,
		      const struct edu_mig_state *st)
{
	void __iomem *bar = edu_bar(edu);
	u32 liveness = le32_to_cpu(st->liveness);
	u32 fact_in = le32_to_cpu(st->fact_in);
	u64 src = le64_to_cpu(st->dma_src);
	u64 dst = le64_to_cpu(st->dma_dst);
	u64 cnt = le64_to_cpu(st->dma_cnt);
	int ret;

	/* drop what this device raised before: the source's bits follow */
	writel(~0U, bar + EDU_REG_IRQ_ACK);
	/* 0x04 reads back the complement of what was written */
	writel(~liveness, bar + EDU_REG_LIVENESS);
	/* no interrupt for the replayed factorial */
	writel(0, bar + EDU_REG_STATUS);
	/* every n >= 34 gives 0: replay a bounded computation */
	writel(min_t(u32, fact_in, EDU_FACT_ZERO_FROM), bar + EDU_REG_FACT);
	ret = edu_wait_fact(bar);
	if (ret)
		return ret;
	writeq(src, bar + EDU_REG_DMA_SRC);
	writeq(dst, bar + EDU_REG_DMA_DST);
	writeq(cnt, bar + EDU_REG_DMA_CNT);
	writel(le32_to_cpu(st->status), bar + EDU_REG_STATUS);

	if (readl(bar + EDU_REG_LIVENESS) != liveness ||
	    readl(bar + EDU_REG_FACT) != le32_to_cpu(st->fact_out) ||
	    readl(bar + EDU_REG_STATUS) != le32_to_cpu(st->status) ||
	    readl(bar + EDU_REG_IRQ_STATUS) ||
	    readq(bar + EDU_REG_DMA_SRC) != src ||
	    readq(bar + EDU_REG_DMA_DST) != dst ||
	    readq(bar + EDU_REG_DMA_CNT) != cnt)
		return -EIO;

	edu->fact_in = fact_in;
	edu->fact_in_valid = true;
	edu->pending_irq = le32_to_cpu(st->irq_status);
	return 0;
}

/*
 * RESUMING -> STOP. Invalid or incomplete data fails the arc with -EINVAL
 * and leaves the device untouched in RESUMING; what was written is dropped
 * then, so the user may write a stream again, or leave RESUMING having
 * written nothing: with no data the arc loads nothing and the device keeps
 * its state (edu has no reset, so this is the way back from a bad stream).
 * A failure once the device was written to leaves it in ERROR, from which
 * only a reset (or closing the device) recovers.
 */
static int edu_load(struct edu_vfio_device *edu)
{
	struct edu_migf *migf = edu->resuming;
	struct edu_mig_stream data;
	size_t len;
	u16 cmd;
	int ret;

	if (!migf)
		return -EINVAL;
	mutex_lock(&migf->lock);
	len = migf->len;
	data = migf->data;
	migf->len = 0;
	mutex_unlock(&migf->lock);
	if (!len)
		return 0;
	if (len != sizeof(data))
		return -EINVAL;
	ret = edu_check_header(&data.hdr);
	if (!ret)
		ret = edu_check_state(&data.state);
	if (ret)
		return ret;

	ret = edu_hw_begin(edu, &cmd);
	if (ret)
		return ret;
	if (readl(edu_bar(edu) + EDU_REG_IDENT) != le32_to_cpu(data.hdr.ident)) {
		ret = -EINVAL;	/* another device or edu version */
		goto out_end;
	}
	ret = edu_wait_idle(edu_bar(edu));
	if (ret)
		goto out_end;
	ret = edu_replay(edu, &data.state);
	if (ret) {
		edu->mig_state = VFIO_DEVICE_STATE_ERROR;
		edu_migf_put(&edu->resuming);
	}
out_end:
	edu_hw_end(edu, cmd);
	return ret;
}

/* RUNNING -> STOP: no computation, DMA or interrupt from here on */
static int edu_quiesce(struct edu_vfio_device *edu)
{
	u16 cmd;
	int ret;

	ret = edu_hw_begin(edu, &cmd);
	if (ret)
		return ret;
	ret = edu_wait_idle(edu_bar(edu));
	edu_hw_end(edu, cmd);
	return ret;
}

/* STOP -> RUNNING: raise what the source had pending */
static int edu_kick(struct edu_vfio_device *edu)
{
	u16 cmd;
	int ret;

	if (!edu->pending_irq)
		return 0;
	ret = edu_hw_begin(edu, &cmd);
	if (ret)
		return ret;
	writel(edu->pending_irq, edu_bar(edu) + EDU_REG_IRQ_RAISE);
	edu_hw_end(edu, cmd);
	edu->pending_irq = 0;
	return 0;
}

/* ----------------------------------------------------- state machine */

static void edu_reset_state(struct edu_vfio_device *edu)
{
	edu_migf_put(&edu->saving);
	edu_migf_put(&edu->resuming);
	edu->mig_state = VFIO_DEVICE_STATE_RUNNING;
	edu->fact_in_valid = false;
	edu->pending_irq = 0;
}

/* unlock state_mutex, first applying a reset that happened meanwhile */
static void edu_state_mutex_unlock(struct edu_vfio_device *edu)
{
	for (;;) {
		spin_lock(&edu->reset_lock);
		if (!edu->deferred_reset)
			break;
		edu->deferred_reset = false;
		spin_unlock(&edu->reset_lock);
		edu_reset_state(edu);
	}
	mutex_unlock(&edu->state_mutex);
	spin_unlock(&edu->reset_lock);
}

/* an arc's outcome when it hands out no file */
static struct file *edu_arc_done(int ret)
{
	return ret ? ERR_PTR(ret) : NULL;
}

/* one arc; the core's vfio_mig_get_next_state() chose it */
static struct file *edu_step(struct edu_vfio_device *edu,
			     enum vfio_device_mig_state next)
{
	enum vfio_device_mig_state cur = edu->mig_state;

	if (cur == VFIO_DEVICE_STATE_RUNNING &&
	    next == VFIO_DEVICE_STATE_STOP)
		return edu_arc_done(edu_quiesce(edu));
	if (cur == VFIO_DEVICE_STATE_STOP &&
	    next == VFIO_DEVICE_STATE_RUNNING)
		return edu_arc_done(edu_kick(edu));
	if (cur == VFIO_DEVICE_STATE_STOP &&
	    next == VFIO_DEVICE_STATE_STOP_COPY)
		return edu_save_open(edu, true);
	if (cur == VFIO_DEVICE_STATE_STOP_COPY &&
	    next == VFIO_DEVICE_STATE_STOP) {
		edu_migf_put(&edu->saving);
		return NULL;
	}
	if (cur == VFIO_DEVICE_STATE_STOP &&
	    next == VFIO_DEVICE_STATE_RESUMING)
		return edu_resume_open(edu);
	if (cur == VFIO_DEVICE_STATE_RESUMING &&
	    next == VFIO_DEVICE_STATE_STOP) {
		int ret = edu_load(edu);

		if (!ret)
			edu_migf_put(&edu->resuming);
		return edu_arc_done(ret);
	}
#ifdef VFIO_MIGRATION_PRE_COPY
	if (cur == VFIO_DEVICE_STATE_RUNNING &&
	    next == VFIO_DEVICE_STATE_PRE_COPY)
		return edu_save_open(edu, false);
	if (cur == VFIO_DEVICE_STATE_PRE_COPY &&
	    next == VFIO_DEVICE_STATE_RUNNING) {
		edu_migf_put(&edu->saving);
		return NULL;
	}
	if (cur == VFIO_DEVICE_STATE_PRE_COPY &&
	    next == VFIO_DEVICE_STATE_STOP_COPY) {
		int ret = edu_quiesce(edu);

		if (!ret)
			ret = edu_save_finish(edu);
		/* the user keeps reading the pre-copy fd: no new file */
		return edu_arc_done(ret);
	}
#endif
	/* an arc between states this driver does not offer */
	return ERR_PTR(-EINVAL);
}

static struct file *
edu_set_state(struct vfio_device *vdev, enum vfio_device_mig_state new_state)
{
	struct edu_vfio_device *edu = to_edu(vdev);
	enum vfio_device_mig_state cur, next;
	struct file *res = NULL;
	u64 start;
	int ret;

	mutex_lock(&edu->state_mutex);
	while (edu->mig_state != new_state) {
		cur = edu->mig_state;
		/* ERROR has no way out but a reset */
		if (cur == VFIO_DEVICE_STATE_ERROR) {
			res = ERR_PTR(-EINVAL);
			break;
		}
		ret = vfio_mig_get_next_state(vdev, cur, new_state, &next);
		if (ret) {
			res = ERR_PTR(ret);
			break;
		}
		start = ktime_get_ns();
		res = edu_step(edu, next);
		trace_vfio_mig_set_state(vdev, cur, next, PTR_ERR_OR_ZERO(res),
					 ktime_get_ns() - start);
		if (IS_ERR(res))
			break;
		edu->mig_state = next;
		/* only the last arc of a request may hand out a file */
		if (res && next != new_state) {
			fput(res);
			res = ERR_PTR(-EINVAL);
			break;
		}
	}
	edu_state_mutex_unlock(edu);
	return res;
}

static int edu_get_state(struct vfio_device *vdev,
			 enum vfio_device_mig_state *state)
{
	struct edu_vfio_device *edu = to_edu(vdev);

	mutex_lock(&edu->state_mutex);
	*state = edu->mig_state;
	edu_state_mutex_unlock(edu);
	return 0;
}

#ifdef VFIO_DEVICE_FEATURE_MIG_DATA_SIZE
static int edu_get_data_size(struct vfio_device *vdev,
			     unsigned long *stop_copy_length)
{
	*stop_copy_length = sizeof(struct edu_mig_stream);
	return 0;
}
#endif

static const struct vfio_migration_ops edu_mig_ops = {
	.migration_set_state = edu_set_state,
	.migration_get_state = edu_get_state,
#ifdef VFIO_DEVICE_FEATURE_MIG_DATA_SIZE
	.migration_get_data_size = edu_get_data_size,
#endif
};

/* ------------------------------------------------------ device file ops */

/*
 * BAR0 writes: refused unless the device runs (STOP means stopped), and
 * the factorial input is written by the driver itself so that the shadow
 * is exactly what the device got. Other regions go straight to the core.
 */
static ssize_t edu_write_fact(struct edu_vfio_device *edu,
			      const char __user *buf, size_t count, u64 off)
{
	struct vfio_pci_core_device *core = &edu->core;
	__le32 val;
	int ret;

	/* the one access edu takes at 0x08: 4 bytes, aligned */
	if (off != EDU_REG_FACT || count != sizeof(val))
		return -EINVAL;
	/* a copy, so the shadow is the value written even if @buf changes */
	if (copy_from_user(&val, buf, sizeof(val)))
		return -EFAULT;

	down_read(&core->memory_lock);
	if (!edu_user_mem_enabled(core)) {
		ret = -EIO;
		goto out_unlock;
	}
	/*
	 * edu drops an input that arrives while it computes; wait for the
	 * computation instead, so the shadow never names a dropped input.
	 */
	ret = edu_wait_fact(edu_bar(edu));
	if (ret) {
		ret = -EBUSY;
		goto out_unlock;
	}
	edu->fact_in = le32_to_cpu(val);
	writel(edu->fact_in, edu_bar(edu) + EDU_REG_FACT);
	edu->fact_in_valid = true;
out_unlock:
	up_read(&core->memory_lock);
	return ret ? ret : sizeof(val);
}

static ssize_t edu_write(struct vfio_device *vdev, const char __user *buf,
			 size_t count, loff_t *ppos)
{
	struct edu_vfio_device *edu = to_edu(vdev);
	unsigned int index = VFIO_PCI_OFFSET_TO_INDEX(*ppos);
	u64 off = *ppos & VFIO_PCI_OFFSET_MASK;
	ssize_t ret;

	if (index != VFIO_PCI_BAR0_REGION_INDEX)
		return vfio_pci_core_write(vdev, buf, count, ppos);

	mutex_lock(&edu->state_mutex);
	if (!edu_state_running(edu->mig_state)) {
		ret = -EBUSY;
	} else if (off < EDU_REG_FACT + 4 && off + count > EDU_REG_FACT) {
		ret = edu_write_fact(edu, buf, count, off);
		if (ret > 0)
			*ppos += ret;
	} else {
		ret = vfio_pci_core_write(vdev, buf, count, ppos);
	}
	edu_state_mutex_unlock(edu);

	if (!vfioscope_core_traced)
		trace_vfio_region_rw(vdev, index, off, count, true, ret);
	return ret;
}

static ssize_t edu_read(struct vfio_device *vdev, char __user *buf,
			size_t count, loff_t *ppos)
{
	unsigned int index = VFIO_PCI_OFFSET_TO_INDEX(*ppos);
	u64 off = *ppos & VFIO_PCI_OFFSET_MASK;
	ssize_t ret;

	ret = vfio_pci_core_read(vdev, buf, count, ppos);
	if (index == VFIO_PCI_BAR0_REGION_INDEX &&
	    !vfioscope_core_traced)
		trace_vfio_region_rw(vdev, index, off, count, false, ret);
	return ret;
}

static long edu_ioctl(struct vfio_device *vdev, unsigned int cmd,
		      unsigned long arg)
{
	/*
	 * An ioeventfd writes the BAR from the kernel, past the trap. BAR0 is
	 * edu's only BAR, so no ioeventfd is possible here at all.
	 */
	if (cmd == VFIO_DEVICE_IOEVENTFD)
		return -ENOTTY;
	return vfio_pci_core_ioctl(vdev, cmd, arg);
}

/*
 * Map BAR0 for the driver's own accesses the way vfio_pci_core maps BARs
 * for read/write (v6.7 exports that as vfio_pci_core_setup_barmap(), v6.1
 * does not): vfio_pci_core_disable() unmaps and releases it.
 */
static int edu_map_bar0(struct vfio_pci_core_device *core)
{
	struct pci_dev *pdev = core->pdev;
	void __iomem *io;
	int ret;

	if (core->barmap[0])
		return 0;
	ret = pci_request_selected_regions(pdev, BIT(0), "vfio");
	if (ret)
		return ret;
	io = pci_iomap(pdev, 0, 0);
	if (!io) {
		pci_release_selected_regions(pdev, BIT(0));
		return -ENOMEM;
	}
	core->barmap[0] = io;
	return 0;
}

static int edu_open_device(struct vfio_device *vdev)
{
	struct edu_vfio_device *edu = to_edu(vdev);
	struct vfio_pci_core_device *core = &edu->core;
	int ret;

	ret = vfio_pci_core_enable(core);
	if (ret)
		goto out;
	ret = edu_map_bar0(core);
	if (ret) {
		vfio_pci_core_disable(core);
		goto out;
	}
	mutex_lock(&edu->state_mutex);
	edu_reset_state(edu);
	edu_state_mutex_unlock(edu);
	vfio_pci_core_finish_enable(core);
	/*
	 * Every BAR0 access must reach edu_read()/edu_write(): no mmap (the
	 * core decides what is mmappable in finish_enable, before any user
	 * access).
	 */
	core->bar_mmap_supported[0] = false;
out:
	if (!vfioscope_core_traced)
		trace_vfio_device_open(vdev, ret);
	return ret;
}

static void edu_close_device(struct vfio_device *vdev)
{
	struct edu_vfio_device *edu = to_edu(vdev);

	mutex_lock(&edu->state_mutex);
	edu_reset_state(edu);
	edu_state_mutex_unlock(edu);
	if (!vfioscope_core_traced)
		trace_vfio_device_close(vdev);
	vfio_pci_core_close_device(vdev);
}

static int edu_init_dev(struct vfio_device *vdev)
{
	struct edu_vfio_device *edu = to_edu(vdev);
	int ret;

	ret = vfio_pci_core_init_dev(vdev);
	if (ret)
		return ret;

	mutex_init(&edu->state_mutex);
	spin_lock_init(&edu->reset_lock);
	edu->mig_state = VFIO_DEVICE_STATE_RUNNING;
	vdev->migration_flags = VFIO_MIGRATION_STOP_COPY;
#ifdef VFIO_MIGRATION_PRE_COPY
	vdev->migration_flags |= VFIO_MIGRATION_PRE_COPY;
#endif
	vdev->mig_ops = &edu_mig_ops;
	return 0;
}

static void edu_release_dev(struct vfio_device *vdev)
{
	struct edu_vfio_device *edu = to_edu(vdev);

	mutex_destroy(&edu->state_mutex);
	vfio_pci_core_release_dev(vdev);
}

static const struct vfio_device_ops edu_vfio_ops = {
	.name		= "edu-vfio-pci",
	.init		= edu_init_dev,
	.release	= edu_release_dev,
	.open_device	= edu_open_device,
	.close_device	= edu_close_device,
	.ioctl		= edu_ioctl,
	.device_feature	= vfio_pci_core_ioctl_feature,
	.read		= edu_read,
	.write		= edu_write,
	.mmap		= vfio_pci_core_mmap,
	.request	= vfio_pci_core_request,
	.match		= vfio_pci_core_match,
	/*
	 * The VF token through iommufd's bind: the uAPI flag came with the
	 * op, and vfio_pci_core_match() calls the op unconditionally since.
	 */
#ifdef VFIO_DEVICE_BIND_FLAG_TOKEN
	.match_token_uuid = vfio_pci_core_match_token_uuid,
#endif
	/* GET_REGION_INFO answered by the vfio core through this op (Kbuild) */
#ifdef EDU_REGION_INFO_CAPS
	.get_region_info_caps = vfio_pci_ioctl_get_region_info,
#endif
	/*
	 * iommufd (v6.2); the uAPI defines VFIO_DEVICE_BIND_IOMMUFD from v6.6,
	 * which also made detach_ioas mandatory. v6.2 to v6.5 are not
	 * supported: there, registration fails without these ops.
	 */
#ifdef VFIO_DEVICE_BIND_IOMMUFD
	.bind_iommufd	= vfio_iommufd_physical_bind,
	.unbind_iommufd	= vfio_iommufd_physical_unbind,
	.attach_ioas	= vfio_iommufd_physical_attach_ioas,
	.detach_ioas	= vfio_iommufd_physical_detach_ioas,
#endif
};

/* ------------------------------------------------------------ PCI driver */

static void edu_reset_done(struct pci_dev *pdev)
{
	struct vfio_pci_core_device *core = dev_get_drvdata(&pdev->dev);
	struct edu_vfio_device *edu = container_of(core, struct edu_vfio_device,
						   core);

	if (!vfioscope_core_traced)
		trace_vfio_device_reset(&core->vdev, 0);
	/*
	 * A reset returns the device to RUNNING. The reset path holds
	 * memory_lock, which an arc may be waiting for under state_mutex:
	 * when state_mutex is busy, its holder applies the reset on unlock.
	 */
	spin_lock(&edu->reset_lock);
	edu->deferred_reset = true;
	if (!mutex_trylock(&edu->state_mutex)) {
		spin_unlock(&edu->reset_lock);
		return;
	}
	spin_unlock(&edu->reset_lock);
	edu_state_mutex_unlock(edu);
}

static int edu_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct edu_vfio_device *edu;
	int ret;

	if (!(pci_resource_flags(pdev, 0) & IORESOURCE_MEM) ||
	    pci_resource_len(pdev, 0) < EDU_BAR0_MIN_SIZE)
		return -ENODEV;

	edu = vfio_alloc_device(edu_vfio_device, core.vdev, &pdev->dev,
				&edu_vfio_ops);
	if (IS_ERR(edu))
		return PTR_ERR(edu);

	dev_set_drvdata(&pdev->dev, &edu->core);
	ret = vfio_pci_core_register_device(&edu->core);
	if (ret)
		goto out_put;
	return 0;

out_put:
	vfio_put_device(&edu->core.vdev);
	return ret;
}

static void edu_remove(struct pci_dev *pdev)
{
	struct vfio_pci_core_device *core = dev_get_drvdata(&pdev->dev);

	vfio_pci_core_unregister_device(core);
	vfio_put_device(&core->vdev);
}

static const struct pci_device_id edu_vfio_pci_table[] = {
	{ PCI_DRIVER_OVERRIDE_DEVICE_VFIO(PCI_VENDOR_ID_QEMU_EDU,
					  PCI_DEVICE_ID_QEMU_EDU) },
	{}
};
MODULE_DEVICE_TABLE(pci, edu_vfio_pci_table);

static const struct pci_error_handlers edu_err_handlers = {
	.reset_done = edu_reset_done,
	.error_detected = vfio_pci_core_aer_err_detected,
};

static struct pci_driver edu_vfio_pci_driver = {
	.name = KBUILD_MODNAME,
	.id_table = edu_vfio_pci_table,
	.probe = edu_probe,
	.remove = edu_remove,
	.err_handler = &edu_err_handlers,
	.driver_managed_dma = true,
};
module_pci_driver(edu_vfio_pci_driver);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("vfio-pci variant driver with live migration for QEMU's edu device");
