// SPDX-License-Identifier: GPL-2.0
/*
 * mdacc: VFIO migration v2.
 *
 * The device state (config space, control/status registers, counters and
 * each queue's base/size/ctrl/head/tail/jobs) is one versioned record,
 * struct mdacc_mig_state. Saving:
 *   RUNNING -> PRE_COPY        a data fd carrying an initial record while
 *                              the device keeps running (v6.2+ only);
 *   STOP -> STOP_COPY          a data fd carrying the final record;
 *   PRE_COPY(_P2P) -> STOP_COPY  the device stops and the final record is
 *                              appended to the PRE_COPY fd.
 * Resuming: the destination takes any number of records on its data fd;
 * each is validated as it arrives and the last one is loaded on
 * RESUMING -> STOP. A record is the user's word, so validation holds every
 * field to what this device's registers could hold (mdacc_validate()): a
 * write that completes a bad header or record fails with -EINVAL, and so
 * does RESUMING -> STOP afterwards, until a reset. When the device is back in RUNNING(_P2P) it re-pins
 * its rings at QBASE (in its own container) and continues from HEAD.
 * STOP waits for the job in progress; after it the device does no DMA.
 * The job data and descriptors live in the VM's memory, which the VMM
 * migrates itself.
 */
#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/ktime.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vfio.h>

#include <trace/events/vfio.h>

#include "mdacc.h"

#define MDACC_MIG_MAGIC		0x4d44414dU	/* "MADM" in memory */
#define MDACC_MIG_VERSION	1
#define MDACC_MIG_HDR_SIZE	offsetofend(struct mdacc_mig_state, nqueues)

struct mdacc_mig_queue {
	__le64 base;
	__le32 size;
	__le32 ctrl;
	__le32 head;
	__le32 tail;
	__le32 jobs;
	__le32 rsvd;
};

struct mdacc_mig_state {
	__le32 magic;
	__le32 version;
	__le32 size;			/* sizeof(struct mdacc_mig_state) */
	__le32 nqueues;			/* must match the destination's type */
	__le32 ctrl;
	__le32 status;
	__le32 irq_status;
	__le32 rsvd;
	__le64 jobs_done;
	__le64 bytes_done;
	__le64 jobs_failed;
	u8 config[MDACC_CONFIG_SIZE];
	struct mdacc_mig_queue q[MDACC_MAX_QUEUES];
};

static_assert(sizeof(struct mdacc_mig_state) == 440);

/*
 * A data fd. The device holds a reference to the file while the fd belongs
 * to the current migration step and drops it (setting @s to NULL under
 * @lock) when the step ends or the device closes; from then on the fd only
 * returns -ENODEV.
 */
struct mdacc_migf {
	struct file *filp;
	struct mutex lock;		/* protects all below */
	struct mdacc_state *s;
	/* saving: up to two records (PRE_COPY initial + final) */
	struct mdacc_mig_state rec[2];
	size_t len;			/* bytes in @rec */
	size_t pos;			/* bytes read */
	size_t initial;			/* bytes of the PRE_COPY record */
	bool final;			/* the final record is in: EOF after it */
	/* resuming */
	struct mdacc_mig_state in;	/* record being received */
	size_t in_len;
	struct mdacc_mig_state last;	/* last complete, valid record */
	bool have_last;
	bool broken;
};

static void mdacc_save(struct mdacc_state *s, struct mdacc_mig_state *m)
{
	unsigned int i;

	lockdep_assert_held(&s->lock);
	memset(m, 0, sizeof(*m));
	m->magic = cpu_to_le32(MDACC_MIG_MAGIC);
	m->version = cpu_to_le32(MDACC_MIG_VERSION);
	m->size = cpu_to_le32(sizeof(*m));
	m->nqueues = cpu_to_le32(s->type->nqueues);
	m->ctrl = cpu_to_le32(s->ctrl);
	m->status = cpu_to_le32(s->status);
	m->irq_status = cpu_to_le32(s->irq_status);
	m->jobs_done = cpu_to_le64(s->jobs_done);
	m->bytes_done = cpu_to_le64(s->bytes_done);
	m->jobs_failed = cpu_to_le64(s->jobs_failed);
	memcpy(m->config, s->config, sizeof(m->config));
	for (i = 0; i < s->type->nqueues; i++) {
		m->q[i].base = cpu_to_le64(s->q[i].base);
		m->q[i].size = cpu_to_le32(s->q[i].size);
		m->q[i].ctrl = cpu_to_le32(s->q[i].ctrl);
		m->q[i].head = cpu_to_le32(s->q[i].head);
		m->q[i].tail = cpu_to_le32(s->q[i].tail);
		m->q[i].jobs = cpu_to_le32(s->q[i].jobs);
	}
}

/*
 * One queue of a record: a state its registers can hold (mdacc_regs.h and
 * mdacc.h), whether the queue is enabled or not. A disabled queue is
 * checked as strictly as an enabled one: enabling it later only adds what
 * a register write may change, so a bad HEAD, TAIL or QSIZE loaded into a
 * disabled queue would otherwise reach the job engine unchecked.
 */
static int mdacc_validate_queue(const struct mdacc_mig_queue *q)
{
	u64 base = le64_to_cpu(q->base);
	u32 size = le32_to_cpu(q->size), ctrl = le32_to_cpu(q->ctrl);
	u32 head = le32_to_cpu(q->head), tail = le32_to_cpu(q->tail);

	if (ctrl & ~MDACC_QCTRL_ENABLE || q->rsvd)
		return -EINVAL;
	if (!mdacc_qbase_ok(base) || (size && !mdacc_qsize_ok(size)))
		return -EINVAL;
	if (ctrl & MDACC_QCTRL_ENABLE) {
		if (!size || head >= size || tail >= size)
			return -EINVAL;
	} else if (head || tail) {
		return -EINVAL;
	}
	return 0;
}

/*
 * Check the first @have bytes of a record for this device. Everything in
 * it comes from the user: the header as soon as it is complete, the rest
 * when the record is.
 */
static int mdacc_validate(const struct mdacc_state *s,
			  const struct mdacc_mig_state *m, size_t have)
{
	unsigned int i, nq = s->type->nqueues;

	if (have < MDACC_MIG_HDR_SIZE)
		return 0;
	if (le32_to_cpu(m->magic) != MDACC_MIG_MAGIC ||
	    le32_to_cpu(m->version) != MDACC_MIG_VERSION ||
	    le32_to_cpu(m->size) != sizeof(*m) ||
	    le32_to_cpu(m->nqueues) != nq)
		return -EINVAL;
	if (have < sizeof(*m))
		return 0;

	if (le32_to_cpu(m->ctrl) & ~MDACC_CTRL_ENABLE ||
	    le32_to_cpu(m->status) & ~MDACC_STATUS_ERROR ||
	    le32_to_cpu(m->irq_status) & ~GENMASK(nq - 1, 0) || m->rsvd)
		return -EINVAL;
	if (mdacc_config_check(m->config))
		return -EINVAL;
	for (i = 0; i < MDACC_MAX_QUEUES; i++) {
		if (i >= nq) {
			/* queues the type does not have are all zero */
			if (memchr_inv(&m->q[i], 0, sizeof(m->q[i])))
				return -EINVAL;
			continue;
		}
		if (mdacc_validate_queue(&m->q[i]))
			return -EINVAL;
	}
	return 0;
}

static void mdacc_load(struct mdacc_state *s, const struct mdacc_mig_state *m)
{
	unsigned int i;

	lockdep_assert_held(&s->lock);
	mdacc_reset_locked(s, false);
	memcpy(s->config, m->config, sizeof(s->config));
	s->ctrl = le32_to_cpu(m->ctrl);
	s->status = le32_to_cpu(m->status);
	s->irq_status = le32_to_cpu(m->irq_status);
	s->jobs_done = le64_to_cpu(m->jobs_done);
	s->bytes_done = le64_to_cpu(m->bytes_done);
	s->jobs_failed = le64_to_cpu(m->jobs_failed);
	for (i = 0; i < s->type->nqueues; i++) {
		s->q[i].base = le64_to_cpu(m->q[i].base);
		s->q[i].size = le32_to_cpu(m->q[i].size);
		s->q[i].ctrl = le32_to_cpu(m->q[i].ctrl);
		s->q[i].head = le32_to_cpu(m->q[i].head);
		s->q[i].tail = le32_to_cpu(m->q[i].tail);
		s->q[i].jobs = le32_to_cpu(m->q[i].jobs);
	}
	/* the rings are pinned when the device runs again */
}

/* ------------------------------------------------------------ data fds */

static ssize_t mdacc_save_read(struct file *filp, char __user *buf,
			       size_t len, loff_t *pos)
{
	struct mdacc_migf *migf = filp->private_data;
	ssize_t ret;

	if (pos)
		return -ESPIPE;
	mutex_lock(&migf->lock);
	if (!migf->s) {
		ret = -ENODEV;
		goto out_unlock;
	}
	if (migf->pos >= migf->len) {
		/* PRE_COPY has nothing more until STOP_COPY */
		ret = migf->final ? 0 : -ENOMSG;
	} else {
		ret = min(len, migf->len - migf->pos);
		if (copy_to_user(buf, (u8 *)migf->rec + migf->pos, ret))
			ret = -EFAULT;
		else
			migf->pos += ret;
	}
	trace_vfio_mig_data(&migf->s->vdev, false, ret > 0 ? ret : 0, ret);
out_unlock:
	mutex_unlock(&migf->lock);
	return ret;
}

static long mdacc_precopy_ioctl(struct file *filp, unsigned int cmd,
				unsigned long arg)
{
#ifdef VFIO_MIG_GET_PRECOPY_INFO
	unsigned long minsz = offsetofend(struct vfio_precopy_info, dirty_bytes);
	struct mdacc_migf *migf = filp->private_data;
	struct vfio_precopy_info info;
	enum vfio_device_mig_state state;
	long ret = 0;

	if (cmd != VFIO_MIG_GET_PRECOPY_INFO)
		return -ENOTTY;
	if (copy_from_user(&info, (void __user *)arg, minsz))
		return -EFAULT;
	if (info.argsz < minsz)
		return -EINVAL;

	mutex_lock(&migf->lock);
	if (!migf->s) {
		ret = -ENODEV;
		goto out_unlock;
	}
	state = READ_ONCE(migf->s->mig_state);
	if (state != VFIO_DEVICE_STATE_PRE_COPY &&
	    state != VFIO_DEVICE_STATE_PRE_COPY_P2P) {
		ret = -EINVAL;
		goto out_unlock;
	}
	/* the state is small: everything is "initial", nothing is dirty */
	info.initial_bytes = migf->pos < migf->initial ?
			     migf->initial - migf->pos : 0;
	info.dirty_bytes = 0;
out_unlock:
	mutex_unlock(&migf->lock);
	if (!ret && copy_to_user((void __user *)arg, &info, minsz))
		ret = -EFAULT;
	return ret;
#else
	return -ENOTTY;
#endif
}

static ssize_t mdacc_resume_write(struct file *filp, const char __user *buf,
				  size_t len, loff_t *pos)
{
	struct mdacc_migf *migf = filp->private_data;
	size_t done = 0;
	ssize_t ret;

	if (pos)
		return -ESPIPE;
	mutex_lock(&migf->lock);
	if (!migf->s) {
		ret = -ENODEV;
		goto out_unlock;
	}
	ret = migf->broken ? -EINVAL : 0;
	while (!ret && done < len) {
		size_t n = min(len - done, sizeof(migf->in) - migf->in_len);

		if (copy_from_user((u8 *)&migf->in + migf->in_len, buf + done,
				   n)) {
			ret = -EFAULT;
			break;
		}
		migf->in_len += n;
		done += n;
		ret = mdacc_validate(migf->s, &migf->in, migf->in_len);
		if (ret) {
			migf->broken = true;
			break;
		}
		if (migf->in_len == sizeof(migf->in)) {
			migf->last = migf->in;
			migf->have_last = true;
			migf->in_len = 0;
		}
	}
	if (!ret)
		ret = done;
	trace_vfio_mig_data(&migf->s->vdev, true, done, ret);
out_unlock:
	mutex_unlock(&migf->lock);
	return ret;
}

static int mdacc_migf_release(struct inode *inode, struct file *filp)
{
	struct mdacc_migf *migf = filp->private_data;

	mutex_destroy(&migf->lock);
	kfree(migf);
	return 0;
}

static const struct file_operations mdacc_save_fops = {
	.owner = THIS_MODULE,
	.read = mdacc_save_read,
	.unlocked_ioctl = mdacc_precopy_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.release = mdacc_migf_release,
};

static const struct file_operations mdacc_resume_fops = {
	.owner = THIS_MODULE,
	.write = mdacc_resume_write,
	.release = mdacc_migf_release,
};

static struct mdacc_migf *mdacc_migf_new(struct mdacc_state *s, bool saving)
{
	struct mdacc_migf *migf;

	migf = kzalloc(sizeof(*migf), GFP_KERNEL_ACCOUNT);
	if (!migf)
		return ERR_PTR(-ENOMEM);
	mutex_init(&migf->lock);
	migf->filp = anon_inode_getfile("mdacc_mig",
					saving ? &mdacc_save_fops :
						 &mdacc_resume_fops,
					migf, saving ? O_RDONLY : O_WRONLY);
	if (IS_ERR(migf->filp)) {
		struct file *err = migf->filp;

		mutex_destroy(&migf->lock);
		kfree(migf);
		return ERR_CAST(err);
	}
	stream_open(migf->filp->f_inode, migf->filp);
	migf->s = s;
	return migf;
}

/* the device keeps a reference; the caller's goes to the new fd */
static struct file *mdacc_migf_publish(struct mdacc_migf **slot,
				       struct mdacc_migf *migf)
{
	get_file(migf->filp);
	*slot = migf;
	return migf->filp;
}

static void mdacc_migf_disable(struct mdacc_migf **slot)
{
	struct mdacc_migf *migf = *slot;

	if (!migf)
		return;
	mutex_lock(&migf->lock);
	migf->s = NULL;
	mutex_unlock(&migf->lock);
	fput(migf->filp);
	*slot = NULL;
}

/* ------------------------------------------------------------ the FSM */

static void mdacc_stop(struct mdacc_state *s)
{
	s->running = false;
	mdacc_quiesce_locked(s);
}

static void mdacc_start(struct mdacc_state *s)
{
	mdacc_pin_enabled_rings(s);
	s->running = true;
	mdacc_kick(s);
}

static struct file *mdacc_save_fd(struct mdacc_state *s, bool precopy)
{
	struct mdacc_migf *migf = mdacc_migf_new(s, true);

	if (IS_ERR(migf))
		return ERR_CAST(migf);
	mdacc_save(s, &migf->rec[0]);
	migf->len = sizeof(migf->rec[0]);
	migf->initial = precopy ? migf->len : 0;
	migf->final = !precopy;
	return mdacc_migf_publish(&s->saving_migf, migf);
}

static bool mdacc_arc(u32 cur, u32 new, u32 from, u32 to)
{
	return cur == from && new == to;
}

/*
 * One arc of the FSM, as vfio_mig_get_next_state() steps them. An arc
 * either succeeds or fails having changed nothing (every check and
 * allocation comes before the device is touched), so after a failure the
 * device is in the state mdacc_migration_get_state() reports: the one
 * before the arc. mdacc never needs ERROR.
 */
static struct file *mdacc_step(struct mdacc_state *s,
			       enum vfio_device_mig_state new)
{
	enum vfio_device_mig_state cur = s->mig_state;
	struct mdacc_mig_state *rec;
	struct mdacc_migf *migf;
	bool ok;

	lockdep_assert_held(&s->mig_lock);
	lockdep_assert_held(&s->lock);

	/* the device does no peer-to-peer DMA: P2P states change nothing */
	if (mdacc_arc(cur, new, VFIO_DEVICE_STATE_RUNNING,
		      VFIO_DEVICE_STATE_RUNNING_P2P) ||
	    mdacc_arc(cur, new, VFIO_DEVICE_STATE_RUNNING_P2P,
		      VFIO_DEVICE_STATE_RUNNING))
		return NULL;

	if (mdacc_arc(cur, new, VFIO_DEVICE_STATE_RUNNING,
		      VFIO_DEVICE_STATE_STOP) ||
	    mdacc_arc(cur, new, VFIO_DEVICE_STATE_RUNNING_P2P,
		      VFIO_DEVICE_STATE_STOP)) {
		mdacc_stop(s);
		return NULL;
	}

	if (mdacc_arc(cur, new, VFIO_DEVICE_STATE_STOP,
		      VFIO_DEVICE_STATE_RUNNING) ||
	    mdacc_arc(cur, new, VFIO_DEVICE_STATE_STOP,
		      VFIO_DEVICE_STATE_RUNNING_P2P)) {
		mdacc_start(s);
		return NULL;
	}

	if (mdacc_arc(cur, new, VFIO_DEVICE_STATE_STOP,
		      VFIO_DEVICE_STATE_STOP_COPY)) {
		if (READ_ONCE(s->fault) == MDACC_FAULT_FAIL_STOP_COPY)
			return ERR_PTR(-EIO);
		return mdacc_save_fd(s, false);
	}

	if (mdacc_arc(cur, new, VFIO_DEVICE_STATE_STOP_COPY,
		      VFIO_DEVICE_STATE_STOP)) {
		mdacc_migf_disable(&s->saving_migf);
		return NULL;
	}

	if (mdacc_arc(cur, new, VFIO_DEVICE_STATE_STOP,
		      VFIO_DEVICE_STATE_RESUMING)) {
		migf = mdacc_migf_new(s, false);
		if (IS_ERR(migf))
			return ERR_CAST(migf);
		return mdacc_migf_publish(&s->resuming_migf, migf);
	}

	if (mdacc_arc(cur, new, VFIO_DEVICE_STATE_RESUMING,
		      VFIO_DEVICE_STATE_STOP)) {
		migf = s->resuming_migf;
		rec = kmalloc(sizeof(*rec), GFP_KERNEL);
		if (!rec)
			return ERR_PTR(-ENOMEM);
		mutex_lock(&migf->lock);
		ok = migf->have_last && !migf->in_len && !migf->broken;
		if (ok)
			*rec = migf->last;
		mutex_unlock(&migf->lock);
		if (ok)
			mdacc_load(s, rec);
		kfree(rec);
		if (!ok)
			return ERR_PTR(-EINVAL);
		mdacc_migf_disable(&s->resuming_migf);
		return NULL;
	}

#ifdef VFIO_MIGRATION_PRE_COPY
	if (mdacc_arc(cur, new, VFIO_DEVICE_STATE_RUNNING,
		      VFIO_DEVICE_STATE_PRE_COPY) ||
	    mdacc_arc(cur, new, VFIO_DEVICE_STATE_RUNNING_P2P,
		      VFIO_DEVICE_STATE_PRE_COPY_P2P))
		return mdacc_save_fd(s, true);

	if (mdacc_arc(cur, new, VFIO_DEVICE_STATE_PRE_COPY,
		      VFIO_DEVICE_STATE_RUNNING) ||
	    mdacc_arc(cur, new, VFIO_DEVICE_STATE_PRE_COPY_P2P,
		      VFIO_DEVICE_STATE_RUNNING_P2P)) {
		mdacc_migf_disable(&s->saving_migf);
		return NULL;
	}

	if (mdacc_arc(cur, new, VFIO_DEVICE_STATE_PRE_COPY,
		      VFIO_DEVICE_STATE_PRE_COPY_P2P) ||
	    mdacc_arc(cur, new, VFIO_DEVICE_STATE_PRE_COPY_P2P,
		      VFIO_DEVICE_STATE_PRE_COPY))
		return NULL;

	if (mdacc_arc(cur, new, VFIO_DEVICE_STATE_PRE_COPY,
		      VFIO_DEVICE_STATE_STOP_COPY) ||
	    mdacc_arc(cur, new, VFIO_DEVICE_STATE_PRE_COPY_P2P,
		      VFIO_DEVICE_STATE_STOP_COPY)) {
		migf = s->saving_migf;
		if (READ_ONCE(s->fault) == MDACC_FAULT_FAIL_STOP_COPY)
			return ERR_PTR(-EIO);
		if (WARN_ON_ONCE(!migf))
			return ERR_PTR(-EINVAL);
		/*
		 * Nothing can fail once the device is stopped, so a failed
		 * arc leaves it running in PRE_COPY, as get_state says: the
		 * final record goes straight into the fd's second slot (the
		 * reader cannot see it before @len grows).
		 */
		mdacc_stop(s);
		mutex_lock(&migf->lock);
		mdacc_save(s, &migf->rec[1]);
		migf->len = sizeof(migf->rec);
		migf->final = true;
		mutex_unlock(&migf->lock);
		return NULL;
	}
#endif
	/* vfio_mig_get_next_state() only asks for the arcs above */
	return ERR_PTR(-EINVAL);
}

static struct file *
mdacc_migration_set_state(struct vfio_device *vdev,
			  enum vfio_device_mig_state new_state)
{
	struct mdacc_state *s = to_mdacc(vdev);
	struct file *res = NULL;

	mutex_lock(&s->mig_lock);
	mutex_lock(&s->lock);
	while (s->mig_state != new_state) {
		enum vfio_device_mig_state next;
		u64 t0;
		int ret;

		ret = vfio_mig_get_next_state(vdev, s->mig_state, new_state,
					      &next);
		if (ret) {
			res = ERR_PTR(ret);
			break;
		}
		t0 = ktime_get_ns();
		res = mdacc_step(s, next);
		trace_vfio_mig_set_state(vdev, s->mig_state, next,
					 IS_ERR(res) ? PTR_ERR(res) : 0,
					 ktime_get_ns() - t0);
		if (IS_ERR(res))
			break;
		s->mig_state = next;
		/* a data fd only comes from the last arc */
		if (res && next != new_state) {
			fput(res);
			res = ERR_PTR(-EINVAL);
			break;
		}
	}
	mutex_unlock(&s->lock);
	mutex_unlock(&s->mig_lock);
	return res;
}

static int mdacc_migration_get_state(struct vfio_device *vdev,
				     enum vfio_device_mig_state *state)
{
	struct mdacc_state *s = to_mdacc(vdev);

	mutex_lock(&s->lock);
	*state = s->mig_state;
	mutex_unlock(&s->lock);
	return 0;
}

#ifdef VFIO_DEVICE_FEATURE_MIG_DATA_SIZE
static int mdacc_migration_get_data_size(struct vfio_device *vdev,
					 unsigned long *stop_copy_length)
{
	*stop_copy_length = sizeof(struct mdacc_mig_state);
	return 0;
}
#endif

const struct vfio_migration_ops mdacc_migration_ops = {
	.migration_set_state = mdacc_migration_set_state,
	.migration_get_state = mdacc_migration_get_state,
	/* v6.2+: VFIO_DEVICE_FEATURE_MIG_DATA_SIZE */
#ifdef VFIO_DEVICE_FEATURE_MIG_DATA_SIZE
	.migration_get_data_size = mdacc_migration_get_data_size,
#endif
};

/* end every data transfer and go back to RUNNING (open, close, reset) */
void mdacc_mig_reset_locked(struct mdacc_state *s)
{
	lockdep_assert_held(&s->lock);
	mdacc_migf_disable(&s->saving_migf);
	mdacc_migf_disable(&s->resuming_migf);
	s->mig_state = VFIO_DEVICE_STATE_RUNNING;
	s->running = true;
}
