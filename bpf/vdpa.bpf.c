// SPDX-License-Identifier: GPL-2.0
/*
 * vdpa: vDPA device lifecycle (VFS_CLASS_VDPA_DEV: add, del, status) and
 * virtqueue activity (VFS_CLASS_VDPA_VQ: kicks and calls per queue).
 *
 * One handler body per class, thin entry points per tier; userspace
 * (user/lib/coll_vdpa.c) keeps one tier per class and switches the other
 * entry points off before load:
 *
 *   tier        VDPA_VQ                            VDPA_DEV
 *   tracepoint  tp_btf/vdpa_kick_vq, vdpa_vq_call  tp_btf/vdpa_dev_add, _del,
 *                                                  vdpa_set_status
 *   fentry      virtio_vdpa_notify(_with_data),    fexit (_)vdpa_register_device,
 *               handle_vq_kick,                    fentry (_)vdpa_unregister_device,
 *               virtio_vdpa_virtqueue_cb,          fentry vdpa_set_status
 *               vhost_vdpa_virtqueue_cb
 *
 * plus bookkeeping that has no tracepoint and serves either tier: which
 * VMM drives /dev/vhost-vdpa-N (its opener, then whoever issues its control
 * ioctls: the owner kicks are attributed to, whatever task runs them),
 * which bus driver a device is bound to, and forgetting
 * the state of a freed device whose address a new one reuses.
 *
 * Kicks and calls are counted on the consumer side, where virtio_vdpa (a
 * kernel virtio driver) or vhost_vdpa (a VMM) talks to the device: every
 * parent (VDUSE, vdpa_sim, hardware) is counted there exactly once.
 *
 * The kick path is the hot one (one per request a guest or virtio driver
 * submits): it costs the reads that find the device and queue and one
 * per-CPU hash lookup, no atomics, no strings, no ring buffer. Per-CPU
 * values need no atomics: the trampoline never nests a program on a CPU
 * (a nested run is skipped and counted in the program's recursion_misses,
 * which userspace reports), and kicks and calls touch different words.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "common.bpf.h"
#include "vm.bpf.h"

/*
 * Module-private types (vdpa, virtio_vdpa, vhost, vhost_vdpa): not in the
 * 6.12 vmlinux.h, which has no vDPA. Only the fields used here; libbpf
 * relocates them against the module BTF of the running kernel. The layouts
 * used are the same in 6.1 and 6.12 except for offsets, which CO-RE
 * handles: 6.4 ("vhost: add vhost_worker pointer to vhost_virtqueue") put
 * worker before mutex in vhost_virtqueue and 6.5 added vhost_poll.vq, and
 * neither field is used (container_of through poll.work works on both).
 */
struct vdpa_device___vfs {
	struct device dev;
} __attribute__((preserve_access_index));

struct virtio_vdpa_device___vfs {
	struct virtio_device vdev;
	struct vdpa_device___vfs *vdpa;
} __attribute__((preserve_access_index));

struct virtio_vdpa_vq_info___vfs {
	struct virtqueue *vq;
} __attribute__((preserve_access_index));

struct vhost_work___vfs {
	unsigned long flags;
} __attribute__((preserve_access_index));

struct vhost_poll___vfs {
	struct vhost_work___vfs work;
} __attribute__((preserve_access_index));

struct vhost_dev___vfs {
	struct mm_struct *mm;
} __attribute__((preserve_access_index));

struct vhost_virtqueue___vfs {
	struct vhost_dev___vfs *dev;
	struct vhost_poll___vfs poll;
} __attribute__((preserve_access_index));

struct vhost_vdpa___vfs {
	struct vhost_dev___vfs vdev;
	struct vhost_virtqueue___vfs *vqs;
	struct vdpa_device___vfs *vdpa;
} __attribute__((preserve_access_index));

#define VQ_ENTRIES	4096	/* userspace may resize before load */
#define INFO_ENTRIES	256

/* per device, queue and consumer path */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, VQ_ENTRIES);
	__type(key, struct vfs_vq_key);
	__type(value, struct vfs_vq_val);
} vq_stats SEC(".maps");

/* per device: name, binding, owner, last status (rare writes) */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, INFO_ENTRIES);
	__type(key, __u64);
	__type(value, struct vfs_vdpa_info);
} vdpa_info SEC(".maps");

static const struct vfs_vq_val zero_vq;

/*
 * The device's info, created on first sight with its name. State a freed
 * device left under a reused address is dropped at registration
 * (dev_forget), so whatever is found here is this device's.
 */
static __noinline struct vfs_vdpa_info *info_get(struct vdpa_device___vfs *vdpa)
{
	__u64 obj = (__u64)vdpa;
	struct vfs_vdpa_info *info, init = {};

	info = bpf_map_lookup_elem(&vdpa_info, &obj);
	if (info)
		return info;
	vfs_kstr(init.name, sizeof(init.name), BPF_CORE_READ(vdpa, dev.kobj.name));
	return vfs_lookup_or_init(&vdpa_info, &obj, &init, VFS_DROP_MAP_VDPA);
}

/* rare: the first kick or call of a queue on a path */
static __noinline struct vfs_vq_val *vq_first(struct vfs_vq_key *key,
					      struct vdpa_device___vfs *vdpa)
{
	struct vfs_vdpa_info *info = info_get(vdpa);

	if (info && !info->path)
		info->path = key->path;
	return vfs_lookup_or_init(&vq_stats, key, &zero_vq, VFS_DROP_MAP_VDPA);
}

/* VFS_CLASS_VDPA_VQ: the one handler body */
static __always_inline void vq_count(struct vdpa_device___vfs *vdpa, __u32 qid,
				     __u32 path, bool kick)
{
	struct vfs_vq_key key = { .obj = (__u64)vdpa, .qid = qid, .path = path };
	struct vfs_vq_val *val;

	if (!vdpa)
		return;
	val = bpf_map_lookup_elem(&vq_stats, &key);
	if (!val) {
		val = vq_first(&key, vdpa);
		if (!val)
			return;
	}
	if (kick)
		val->kicks++;
	else
		val->calls++;
}

/* ---------------------------------------------------- VDPA_DEV handlers */

static __always_inline void dev_event(struct vdpa_device___vfs *vdpa, __u32 op,
				      __u32 old, __u32 status, int ret,
				      const struct vfs_vdpa_info *info)
{
	struct vfs_ev_vdpa *e;

	if (!vfs_streamed(VFS_EV_VDPA))
		return;
	e = vfs_event_reserve(sizeof(*e), VFS_EV_VDPA);
	if (!e)
		return;
	e->obj = (__u64)vdpa;
	e->op = op;
	e->status = status;
	e->old_status = old;
	e->ret = ret;
	if (info)
		__builtin_memcpy(e->name, info->name, sizeof(e->name));
	else
		vfs_kstr(e->name, sizeof(e->name), BPF_CORE_READ(vdpa, dev.kobj.name));
	vfs_event_submit(e);
}

static __always_inline void dev_add(struct vdpa_device___vfs *vdpa, int ret)
{
	struct vfs_vdpa_info *info = NULL;

	if (!ret) {
		info = info_get(vdpa);
		if (info)
			info->flags |= VFS_VDPA_F_ADDED;
	}
	dev_event(vdpa, VFS_VDPA_ADD, 0, 0, ret, info);
}

static __always_inline void dev_del(struct vdpa_device___vfs *vdpa)
{
	struct vfs_vdpa_info *info = info_get(vdpa);

	dev_event(vdpa, VFS_VDPA_DEL, info ? info->status : 0, 0, 0, info);
	if (info) {
		info->flags |= VFS_VDPA_F_REMOVED;
		info->gone_ns = bpf_ktime_get_ns();
	}
}

/* @old < 0: not known to the hook, use the last status seen */
static __always_inline void dev_status(struct vdpa_device___vfs *vdpa, int old,
				       __u8 status)
{
	struct vfs_vdpa_info *info = info_get(vdpa);
	__u32 prev = old;

	if (info) {
		if (old < 0)
			prev = info->status;
		info->status = status;
	} else if (old < 0) {
		prev = 0;
	}
	dev_event(vdpa, VFS_VDPA_STATUS, prev, status, 0, info);
}

/*
 * ------------------------------------------------------ tracepoint tier
 * tp_btf arguments are trusted but possibly NULL pointers: the verifier
 * wants them checked before any use.
 */

/*
 * The tracepoints name the device, not the bus driver it is bound to:
 * compare the driver's address with the two learned from their names (a
 * string compare once per driver load, not per kick).
 */
__u64 drv_addr[3];	/* by enum vfs_vdpa_path */

static __always_inline bool name_is(const char *s, const char *want, int n)
{
	for (int i = 0; i < n; i++)
		if (s[i] != want[i])
			return false;
	return true;
}

static __noinline __u32 learn_path(__u64 drv)
{
	char name[16] = {};
	const char *p = BPF_CORE_READ((struct device_driver *)drv, name);

	if (!p || bpf_probe_read_kernel_str(name, sizeof(name), p) < 0)
		return 0;
	if (name_is(name, "virtio_vdpa", 12)) {
		drv_addr[VFS_VDPA_PATH_VIRTIO] = drv;
		return VFS_VDPA_PATH_VIRTIO;
	}
	if (name_is(name, "vhost_vdpa", 11)) {
		drv_addr[VFS_VDPA_PATH_VHOST] = drv;
		return VFS_VDPA_PATH_VHOST;
	}
	return 0;
}

static __always_inline __u32 tp_path(struct vdpa_device___vfs *vdpa)
{
	__u64 drv = (__u64)BPF_CORE_READ(vdpa, dev.driver);

	if (!drv)
		return 0;
	if (drv == drv_addr[VFS_VDPA_PATH_VIRTIO])
		return VFS_VDPA_PATH_VIRTIO;
	if (drv == drv_addr[VFS_VDPA_PATH_VHOST])
		return VFS_VDPA_PATH_VHOST;
	return learn_path(drv);
}

SEC("tp_btf/vdpa_kick_vq")
int BPF_PROG(tp_kick_vq, struct vdpa_device___vfs *vdpa, u16 qid)
{
	if (vdpa)
		vq_count(vdpa, qid, tp_path(vdpa), true);
	return 0;
}

SEC("tp_btf/vdpa_vq_call")
int BPF_PROG(tp_vq_call, struct vdpa_device___vfs *vdpa, u16 qid)
{
	if (vdpa)
		vq_count(vdpa, qid, tp_path(vdpa), false);
	return 0;
}

SEC("tp_btf/vdpa_dev_add")
int BPF_PROG(tp_dev_add, struct vdpa_device___vfs *vdpa)
{
	if (vdpa)
		dev_add(vdpa, 0);
	return 0;
}

SEC("tp_btf/vdpa_dev_del")
int BPF_PROG(tp_dev_del, struct vdpa_device___vfs *vdpa)
{
	if (vdpa)
		dev_del(vdpa);
	return 0;
}

SEC("tp_btf/vdpa_set_status")
int BPF_PROG(tp_set_status, struct vdpa_device___vfs *vdpa, u8 old, u8 status)
{
	if (vdpa)
		dev_status(vdpa, old, status);
	return 0;
}

/* ---------------------------------------------------------- fentry tier */

/* virtio_vdpa: the vdpa device behind one of its virtio devices */
static __always_inline struct vdpa_device___vfs *virtio_vdpa_of(struct virtio_device *vdev)
{
	struct virtio_vdpa_device___vfs *vd;

	vd = container_of(vdev, struct virtio_vdpa_device___vfs, vdev);
	return BPF_CORE_READ(vd, vdpa);
}

/* vq is the traced function's argument: read directly, no helper call */
SEC("fentry/virtio_vdpa_notify")
int BPF_PROG(virtio_kick, struct virtqueue *vq)
{
	vq_count(virtio_vdpa_of(vq->vdev), vq->index, VFS_VDPA_PATH_VIRTIO, true);
	return 0;
}

/* used instead when VIRTIO_F_NOTIFICATION_DATA is negotiated (not in 6.1) */
SEC("fentry/virtio_vdpa_notify_with_data")
int BPF_PROG(virtio_kick_data, struct virtqueue *vq)
{
	vq_count(virtio_vdpa_of(vq->vdev), vq->index, VFS_VDPA_PATH_VIRTIO, true);
	return 0;
}

SEC("fentry/virtio_vdpa_virtqueue_cb")
int BPF_PROG(virtio_call, void *private)
{
	struct virtqueue *vq = private;

	/* the callback's private data is the queue itself on kernels whose
	 * virtio_vdpa has no per-queue info any more (7.x), that info (which
	 * points at the queue) before */
	if (bpf_core_type_exists(struct virtio_vdpa_vq_info___vfs))
		vq = BPF_CORE_READ((struct virtio_vdpa_vq_info___vfs *)private, vq);

	vq_count(virtio_vdpa_of(BPF_CORE_READ(vq, vdev)), BPF_CORE_READ(vq, index),
		 VFS_VDPA_PATH_VIRTIO, false);
	return 0;
}

/* vhost_vdpa: device and queue index of one of its vhost virtqueues */
static __always_inline void vhost_vq_count(__u64 vq, bool kick)
{
	struct vhost_vdpa___vfs *v;
	__u64 vqs, qid;

	v = container_of(BPF_CORE_READ((struct vhost_virtqueue___vfs *)vq, dev),
			 struct vhost_vdpa___vfs, vdev);
	vqs = (__u64)BPF_CORE_READ(v, vqs);
	qid = (vq - vqs) / bpf_core_type_size(struct vhost_virtqueue___vfs);
	vq_count(BPF_CORE_READ(v, vdpa), qid, VFS_VDPA_PATH_VHOST, kick);
}

/*
 * The kick eventfd's wakeup: vhost_vdpa has no worker (vhost_dev_init(...,
 * use_worker=false)), so it runs in whichever task signalled the eventfd
 * (a VMM's ioeventfd, KVM). Attributed to the device's owner, not to it.
 */
SEC("fentry/handle_vq_kick")
int BPF_PROG(vhost_kick, struct vhost_work___vfs *work)
{
	__u64 addr;

	/*
	 * The queue index is a pointer difference, which the verifier refuses
	 * on a typed (BTF) pointer: take the argument as a plain number.
	 */
	bpf_probe_read_kernel(&addr, sizeof(addr), &ctx[0]);
	vhost_vq_count(addr - bpf_core_field_offset(struct vhost_virtqueue___vfs, poll) -
		       bpf_core_field_offset(struct vhost_poll___vfs, work), true);
	return 0;
}

/*
 * Calls a parent delivers through vhost_vdpa's callback. A parent may
 * signal the VMM's call eventfd itself instead (vdpa_callback.trigger;
 * VDUSE does in 6.12, not in 6.1; hardware posts interrupts through irq
 * bypass): those calls never reach the host kernel's vhost_vdpa code.
 */
SEC("fentry/vhost_vdpa_virtqueue_cb")
int BPF_PROG(vhost_call, void *vq)
{
	vhost_vq_count((__u64)vq, false);
	return 0;
}

SEC("fexit/_vdpa_register_device")
int BPF_PROG(dev_add_locked, struct vdpa_device___vfs *vdpa, u32 nvqs, int ret)
{
	dev_add(vdpa, ret);
	return 0;
}

SEC("fexit/vdpa_register_device")
int BPF_PROG(dev_add_unlocked, struct vdpa_device___vfs *vdpa, u32 nvqs, int ret)
{
	dev_add(vdpa, ret);
	return 0;
}

SEC("fentry/_vdpa_unregister_device")
int BPF_PROG(dev_del_locked, struct vdpa_device___vfs *vdpa)
{
	dev_del(vdpa);
	return 0;
}

SEC("fentry/vdpa_unregister_device")
int BPF_PROG(dev_del_unlocked, struct vdpa_device___vfs *vdpa)
{
	dev_del(vdpa);
	return 0;
}

/*
 * Every status change but reset: virtio_vdpa and vhost_vdpa reset through
 * vdpa_reset() (the parent's reset op), which never comes here.
 */
SEC("fentry/vdpa_set_status")
int BPF_PROG(dev_set_status, struct vdpa_device___vfs *vdpa, u8 status)
{
	dev_status(vdpa, -1, status);
	return 0;
}

/* ------------------------------------------------ bookkeeping, any tier */

static long forget_vq(struct bpf_map *map, const struct vfs_vq_key *key,
		      struct vfs_vq_val *val, __u64 *obj)
{
	if (key->obj == *obj)
		bpf_map_delete_elem(map, key);
	return 0;
}

/*
 * Before registration nothing can know the device: state under its address
 * is left from a freed device. Forget it here rather than at unregister,
 * so the counts of a removed device stay readable until then.
 */
static __always_inline void dev_forget(struct vdpa_device___vfs *vdpa)
{
	__u64 obj = (__u64)vdpa;

	bpf_map_delete_elem(&vdpa_info, &obj);
	bpf_for_each_map_elem(&vq_stats, forget_vq, &obj, 0);
}

SEC("fentry/_vdpa_register_device")
int BPF_PROG(dev_new_locked, struct vdpa_device___vfs *vdpa)
{
	dev_forget(vdpa);
	return 0;
}

SEC("fentry/vdpa_register_device")
int BPF_PROG(dev_new_unlocked, struct vdpa_device___vfs *vdpa)
{
	dev_forget(vdpa);
	return 0;
}

static __always_inline void dev_bound(struct vdpa_device___vfs *vdpa, __u32 path)
{
	struct vfs_vdpa_info *info = info_get(vdpa);

	if (!info)
		return;
	info->path = path;
	info->owner_tgid = 0;	/* in-kernel until a VMM opens it */
	info->cgroup_id = 0;
}

SEC("fexit/virtio_vdpa_probe")
int BPF_PROG(virtio_bound, struct vdpa_device___vfs *vdpa, int ret)
{
	if (!ret)
		dev_bound(vdpa, VFS_VDPA_PATH_VIRTIO);
	return 0;
}

SEC("fexit/vhost_vdpa_probe")
int BPF_PROG(vhost_bound, struct vdpa_device___vfs *vdpa, int ret)
{
	if (!ret)
		dev_bound(vdpa, VFS_VDPA_PATH_VHOST);
	return 0;
}

/*
 * The VMM is whoever drives the device, not whoever opened it: libvirt
 * opens /dev/vhost-vdpa-N itself and passes the fd to QEMU (SCM_RIGHTS or
 * inheritance), which then issues every control ioctl. The opener is the
 * first owner; the owner moves to a process that issues a control ioctl
 * on the fd. Control ioctls are set-up and teardown (owner, features,
 * rings, status, IOTLB batching), never per request: no cost on the kick
 * path.
 */
SEC("fentry/vhost_vdpa_unlocked_ioctl")
int BPF_PROG(vhost_ioctl, struct file *file, unsigned int cmd, unsigned long arg)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct vhost_vdpa___vfs *v;
	struct vfs_vdpa_info *info;

	v = BPF_CORE_READ(file, private_data);
	info = info_get(BPF_CORE_READ(v, vdpa));
	if (!info)
		return 0;
	/* the driver of a vDPA device is a VM (named, in the pinned ledger) */
	note_vm(tgid, true);
	if (info->owner_tgid == tgid)
		return 0;
	info->path = VFS_VDPA_PATH_VHOST;
	info->owner_tgid = tgid;
	info->cgroup_id = bpf_get_current_cgroup_id();
	return 0;
}

/* the opener: one at a time (vhost_vdpa_open's "opened" gate) */
SEC("fexit/vhost_vdpa_open")
int BPF_PROG(vhost_open, struct inode *inode, struct file *file, int ret)
{
	struct vhost_vdpa___vfs *v;
	struct vfs_vdpa_info *info;

	if (ret)
		return 0;
	v = BPF_CORE_READ(file, private_data);
	info = info_get(BPF_CORE_READ(v, vdpa));
	if (!info)
		return 0;
	info->path = VFS_VDPA_PATH_VHOST;
	info->owner_tgid = bpf_get_current_pid_tgid() >> 32;
	info->cgroup_id = bpf_get_current_cgroup_id();
	return 0;
}

/*
 * vhost-vdpa's pins: for a parent without its own address translation
 * (vdpa_sim, hardware; not VDUSE, which maps user VAs) each IOTLB update
 * pins the guest pages and charges them to the owner's mm->pinned_vm
 * (vhost_vdpa_map), not to locked_vm as type1 does; an invalidate or the
 * release of the device (vhost_vdpa_cleanup) unpins and uncharges them
 * (vhost_vdpa_pa_unmap). Both happen inline (atomic64_add/sub), so read
 * pinned_vm after the IOTLB message the VMM wrote (vhost_chr_write_iter's
 * msg_handler, in the writer's context) and after the release, into the
 * VM's ledger entry next to type1's locked_vm.
 */
static __always_inline void vhost_pins(__u64 pinned)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct vfs_vm_info *vi = bpf_map_lookup_elem(&vm_info, &tgid);

	/* an exited VM pins nothing, whatever is unpinned after its exit */
	if (!vi || vi->exit_ns)
		return;
	vi->vhost_pinned_pages = pinned;
	vi->locked_ns = bpf_ktime_get_ns();
	/* vhost_vdpa checks pinned_vm against it, with no CAP_IPC_LOCK bypass */
	note_memlock(vi, bpf_get_current_task_btf(), vi->memlock_flags & VFS_MEMLOCK_BYPASS);
}

SEC("fexit/vhost_vdpa_process_iotlb_msg")
int BPF_PROG(vhost_iotlb_msg, struct vhost_dev___vfs *dev, u32 asid, void *msg, int ret)
{
	vhost_pins(BPF_CORE_READ(dev, mm, pinned_vm.counter));
	return 0;
}

/*
 * The last close of /dev/vhost-vdpa-N: the device's pins are gone
 * (vhost_vdpa_cleanup) and so is its mm: what the releaser still pins is
 * in its own (none if it is exiting). The device keeps naming its last
 * owner, as a VFIO device does: its kicks stay that VM's.
 */
SEC("fexit/vhost_vdpa_release")
int BPF_PROG(vhost_released, struct inode *inode, struct file *file, int ret)
{
	struct task_struct *t = (void *)bpf_get_current_task();
	struct mm_struct *mm = BPF_CORE_READ(t, mm);

	if (mm)
		vhost_pins(BPF_CORE_READ(mm, pinned_vm.counter));
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
