// SPDX-License-Identifier: GPL-2.0
/*
 * VFIO collectors: ioctls per VM/object/command with errno and latency
 * histograms, type1 DMA map/unmap and pinned memory, vfio_pin_pages for
 * emulated-IOMMU (mdev) devices, trapped region accesses and mmaps,
 * SET_IRQS, interrupt delivery, mdev create/remove and migration arcs.
 *
 * One handler body per class; thin entry points per tier. Userspace
 * (user/lib/coll_vfio.c) keeps exactly one tier's entry points per class
 * (bpf_program__set_autoload) before load:
 *   fentry/fexit on the stock file_operations and helpers (module BTF),
 *   tp_btf on vfioscope's tracepoints where a driver or a patched kernel
 *   fires them,
 *   kprobes on the ioctl entry points when there is no BTF (counts per
 *   process and command only: without BTF nothing else can be read safely).
 * Every probe is per operation, never per page.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "common.bpf.h"

#include "vfio_types.bpf.h"
#include "vm.bpf.h"
#include "migf.bpf.h"

/* uAPI constants (include/uapi/linux/vfio.h: stable ABI) */
#define VFIO_CMD(n)			((';' << 8) | (100 + (n)))
#define VFIO_SET_IOMMU			VFIO_CMD(2)
#define VFIO_DEVICE_SET_IRQS		VFIO_CMD(10)
#define VFIO_DEVICE_RESET		VFIO_CMD(11)
#define VFIO_DEVICE_PCI_HOT_RESET	VFIO_CMD(13)
#define VFIO_IOMMU_MAP_DMA		VFIO_CMD(13)
#define VFIO_IOMMU_UNMAP_DMA		VFIO_CMD(14)
#define VFIO_DEVICE_FEATURE		VFIO_CMD(17)
#define VFIO_DEVICE_FEATURE_MASK	0xffff
#define VFIO_DEVICE_FEATURE_SET		(1 << 17)
#define VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE 2
/* vfio-pci's region offset layout: index in bits 40 and up */
#define VFIO_PCI_OFFSET_SHIFT		40
#define PAGE_SHIFT_			12

/* user structures read at ioctl entry (observability only, never policy) */
struct dma_map_uapi {
	__u32 argsz, flags;
	__u64 vaddr, iova, size;
};

struct dma_unmap_uapi {
	__u32 argsz, flags;
	__u64 iova, size;
};

struct irq_set_uapi {
	__u32 argsz, flags, index, start, count;
};

/* ------------------------------------------------------------------- maps */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 16384);
	__type(key, struct vfs_cmd_key);
	__type(value, struct vfs_cmd_val);
} ioctl_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 4096);
	__type(key, struct vfs_errno_key);
	__type(value, __u64);
} ioctl_errno SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, struct vfs_obj_info);
} obj_info SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct vfs_vm_val);
} vm_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 4096);
	__type(key, struct vfs_region_key);
	__type(value, struct vfs_region_val);
} region_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 4096);
	__type(key, struct vfs_irq_key);
	__type(value, struct vfs_irq_val);
} irq_stats SEC(".maps");

/* interrupts delivered, per Linux IRQ number (userspace names them) */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u64);
} irq_signals SEC(".maps");

/*
 * A call in progress on a thread: entry state its exit needs. In the
 * thread's task storage: found without a hash of the tid, never inserted
 * or deleted per call (the exit marks it idle, key 0), and freed with the
 * task. A thread is in one VFIO call at a time.
 */
struct inflight {
	__u64 key;		/* what the exit matches (the file, or the
				 * device at a tracepoint); 0: idle */
	__u64 start_ns;
	__u64 obj;
	__u64 arg;
	__u64 a0, a1;		/* decoded arguments */
	__s64 locked_vm;	/* mm->locked_vm at entry (pages) */
	__u32 cmd;
	__u32 kind;
	__u32 resets;		/* reset events this call caused (reset class) */
	__u32 pad;
	struct vfs_ev_mdev mdev;	/* mdev remove: names read before the free */
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct inflight);
} inflight SEC(".maps");

/*
 * The kprobe tier's (no BTF: the current task cannot be named to task
 * storage there), by tid; allocated only when that tier runs.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 8192);
	__type(key, __u32);		/* tid */
	__type(value, struct inflight);
} inflight_kp SEC(".maps");

/* scratch for building a kprobe-tier entry (too big for the stack) */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct inflight);
} scratch SEC(".maps");

/*
 * The current thread's entry, to fill at a call's entry. NULL (counted)
 * when the kernel's task storage is busy on this CPU (another program
 * using it was interrupted there) or cannot allocate the thread's entry.
 */
static __always_inline struct inflight *inflight_begin(const bool btf)
{
	struct inflight *in;
	__u32 zero = 0;

	if (btf)
		in = bpf_task_storage_get(&inflight, bpf_get_current_task_btf(), 0,
					  BPF_LOCAL_STORAGE_GET_F_CREATE);
	else
		in = bpf_map_lookup_elem(&scratch, &zero);
	if (!in)
		vfs_drop(VFS_DROP_INFLIGHT_BUSY);
	return in;
}

/* the kprobe tier's entry is a copy: insert it */
static __always_inline void inflight_commit(struct inflight *in, const bool btf)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();

	if (!btf && bpf_map_update_elem(&inflight_kp, &tid, in, BPF_ANY))
		vfs_drop(VFS_DROP_MAP_INFLIGHT);
}

/* the current thread's call in progress, if any */
static __always_inline struct inflight *inflight_cur(const bool btf)
{
	struct inflight *in;
	__u32 tid;

	if (btf) {
		in = bpf_task_storage_get(&inflight, bpf_get_current_task_btf(), 0, 0);
	} else {
		tid = (__u32)bpf_get_current_pid_tgid();
		in = bpf_map_lookup_elem(&inflight_kp, &tid);
	}
	return in && in->key ? in : NULL;
}

static __always_inline void inflight_end(struct inflight *in, const bool btf)
{
	__u32 tid;

	in->key = 0;
	if (!btf) {
		tid = (__u32)bpf_get_current_pid_tgid();
		bpf_map_delete_elem(&inflight_kp, &tid);
	}
}

/* the migration arc a device is in, until the next arc or the ioctl's end */
struct mig_pending {
	__u64 start_ns;
	__u32 from, to;
	__u32 tid;
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 1024);
	__type(key, __u64);		/* vfio_device */
	__type(value, struct mig_pending);
} mig_pending SEC(".maps");

static const struct vfs_cmd_val zero_cmd;
static const struct vfs_vm_val zero_vm;
static const struct vfs_region_val zero_region;
static const struct vfs_irq_val zero_irq;

/* --------------------------------------------------------------- identity */
/* @f: the traced function's own argument (a direct load, no helper call) */
static __always_inline struct vfio_device___vfs *device_of_file(struct file *f)
{
	void *pd = f->private_data;

	if (bpf_core_type_exists(struct vfio_device_file___vfs))
		return BPF_CORE_READ((struct vfio_device_file___vfs *)pd, device);
	return pd;
}

static __always_inline __u32 group_id(struct vfio_group___vfs *g)
{
	return g ? BPF_CORE_READ(g, iommu_group, id) : 0;
}

/* per-object keys (region_stats, irq_stats) share their first field, obj */
static long forget_obj(struct bpf_map *map, const __u64 *key, void *val, __u64 *obj)
{
	if (*key == *obj)
		bpf_map_delete_elem(map, key);
	return 0;
}

/* device name (a vfio-pci device's PCI address) -> vfio_device, from note_obj */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 4096);
	__type(key, char[VFS_NAME_LEN]);
	__type(value, __u64);
} dev_by_name SEC(".maps");

/*
 * Record what @obj is and who uses it. Called on the slow path only (first
 * sight of a (VM, object, command) key), so the common ioctl costs nothing.
 */
static __always_inline void note_obj(__u64 obj, __u32 kind, __u32 tgid, void *ptr)
{
	struct vfs_obj_info *cur, oi = {};

	cur = bpf_map_lookup_elem(&obj_info, &obj);
	/* a gone object's address, reused: fall through and start afresh */
	if (cur && !cur->gone_ns) {
		if (cur->owner_tgid != tgid) {
			cur->owner_tgid = tgid;
			cur->cgroup_id = bpf_get_current_cgroup_id();
		}
		return;
	}
	if (cur) {
		/* a new object at a gone one's address: nothing carries over */
		bpf_for_each_map_elem(&region_stats, forget_obj, &obj, 0);
		bpf_for_each_map_elem(&irq_stats, forget_obj, &obj, 0);
	}
	oi.kind = kind;
	oi.owner_tgid = tgid;
	oi.cgroup_id = bpf_get_current_cgroup_id();
	oi.first_ns = bpf_ktime_get_ns();
	if (kind == VFS_FD_DEVICE) {
		struct vfio_device___vfs *d = ptr;

		vfs_kstr(oi.name, sizeof(oi.name), BPF_CORE_READ(d, dev, kobj.name));
		oi.group_id = group_id(BPF_CORE_READ(d, group));
		/*
		 * By name too, if it is a PCI address ("0000:00:03.0"): an
		 * IOMMU fault names its requester so (mdev UUIDs never do)
		 */
		if (oi.name[4] == ':' && oi.name[7] == ':' && oi.name[10] == '.' &&
		    bpf_map_update_elem(&dev_by_name, oi.name, &obj, BPF_ANY))
			vfs_drop(VFS_DROP_MAP_FAULT);
	} else if (kind == VFS_FD_GROUP) {
		oi.group_id = group_id(ptr);
		__builtin_memcpy(oi.name, "group", 6);
	} else {
		__builtin_memcpy(oi.name, "container", 10);
	}
	if (bpf_map_update_elem(&obj_info, &obj, &oi, cur ? BPF_EXIST : BPF_NOEXIST) == -7)
		vfs_drop(VFS_DROP_MAP_OBJ);
}

/*
 * Exit and removal marks: the time a VM process exited or a device went
 * away, so userspace can delete their entries after a grace period
 * (user/lib/gc.c). Nothing here deletes: a reader still shows what the
 * VM did until then.
 *
 * sched_process_exit fires for every thread of every process: one hash
 * lookup for processes that never used VFIO. signal->live is already
 * decremented when it fires, so 0 means the last thread (the VM) exits.
 */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(vm_exit, struct task_struct *p)
{
	__u32 tgid = BPF_CORE_READ(p, tgid);
	struct vfs_vm_info *vi = bpf_map_lookup_elem(&vm_info, &tgid);

	struct vfs_ev_vm_exit *e;

	if (!vi || vi->exit_ns || BPF_CORE_READ(p, signal, live.counter))
		return 0;
	vi->exit_ns = bpf_ktime_get_ns();
	/*
	 * An exited process pins nothing: closing its container (exit_files(),
	 * after this tracepoint) makes type1 unpin every page without a MAP or
	 * UNMAP ioctl we would read locked_vm around. Its row keeps its name
	 * and counts for the grace period, but no pinned memory.
	 */
	vi->locked_pages = 0;
	vi->vhost_pinned_pages = 0;
	vi->locked_ns = vi->exit_ns;
	if (!vfs_streamed(VFS_EV_VM_EXIT))
		return 0;
	e = vfs_event_reserve(sizeof(*e), VFS_EV_VM_EXIT);
	if (!e)
		return 0;
	e->first_ns = vi->first_ns;
	e->exit_code = BPF_CORE_READ(p, exit_code);
	e->pad = 0;
	vfs_event_submit(e);
	return 0;
}

/* a VFIO device unregistered (device removed, mdev instance removed, unbind) */
SEC("fentry/vfio_unregister_group_dev")
int BPF_PROG(device_gone, struct vfio_device___vfs *dev)
{
	__u64 obj = (__u64)dev;
	struct vfs_obj_info *oi = bpf_map_lookup_elem(&obj_info, &obj);

	if (oi && !oi->gone_ns)
		oi->gone_ns = bpf_ktime_get_ns();
	return 0;
}

/* ------------------------------------------------------------ ioctl class */
/*
 * VFIO_DEVICE_FEATURE(SET | MIG_DEVICE_STATE)'s argument: the uAPI writes
 * the data fd a state change made back into the caller's
 * vfio_device_feature_mig_state.
 */
struct mig_state_uapi {
	__u32 argsz, flags;	/* struct vfio_device_feature */
	__u32 device_state;
	__s32 data_fd;
};

/*
 * When a state change of @obj is asked for (the ioctl's entry, before the
 * driver acts: drivers reset f_pos when a state change disables an fd,
 * mlx5's and mtty's do): bytes its data fds moved that no event reported
 * yet (their f_op's functions not attached yet: a driver's first fds),
 * from each fd's f_pos, so they count in the session they belong to. A
 * file whose f_op is no longer the one noted is gone. Attached programs
 * keep seen_pos current: nothing to report then.
 */
static long sweep_migf(struct bpf_map *map, __u64 *key, struct vfs_migf_val *v, __u64 *obj)
{
	struct file *f = (void *)*key;

	if (v->obj == *obj && (__u64)BPF_CORE_READ(f, f_op) == v->fops)
		migf_catch_up(v, f);
	return 0;
}

/* VFIO_DEVICE_FEATURE's flags ask to set the migration state */
static __always_inline bool mig_state_set(__u32 flags)
{
	return (flags & VFIO_DEVICE_FEATURE_MASK) == VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE &&
	       (flags & VFIO_DEVICE_FEATURE_SET);
}

/*
 * @key: what the exit gets for free to match the call (the file at
 * fentry, the device at a tracepoint); @obj: the object the call is
 * counted under (the device, group or container).
 */
static __always_inline int ioctl_enter(__u64 key, void *obj, __u32 kind, unsigned int cmd,
				       unsigned long arg, const bool btf)
{
	struct inflight *in = inflight_begin(btf);

	if (!in)
		return 0;
	in->key = key;
	in->start_ns = bpf_ktime_get_ns();
	in->obj = (__u64)obj;
	in->arg = arg;
	in->cmd = cmd;
	in->kind = kind;
	in->a0 = in->a1 = 0;
	in->locked_vm = 0;
	in->resets = 0;

	if (!btf) {
		/* counts only */
	} else if (kind == VFS_FD_CONTAINER && cmd == VFIO_IOMMU_MAP_DMA) {
		struct dma_map_uapi m = {};

		bpf_probe_read_user(&m, sizeof(m), (void *)arg);
		in->a0 = m.iova;
		in->a1 = m.size;
		in->locked_vm = bpf_get_current_task_btf()->mm->locked_vm;
	} else if (kind == VFS_FD_CONTAINER && cmd == VFIO_IOMMU_UNMAP_DMA) {
		struct dma_unmap_uapi u = {};

		bpf_probe_read_user(&u, sizeof(u), (void *)arg);
		in->a0 = u.iova;
		in->a1 = u.size;
		in->locked_vm = bpf_get_current_task_btf()->mm->locked_vm;
	} else if (kind == VFS_FD_DEVICE && cmd == VFIO_DEVICE_SET_IRQS) {
		struct irq_set_uapi s = {};

		bpf_probe_read_user(&s, sizeof(s), (void *)arg);
		in->a0 = s.index;
		in->a1 = ((__u64)s.count << 32) | s.flags;
	} else if (kind == VFS_FD_DEVICE && cmd == VFIO_DEVICE_FEATURE) {
		struct mig_state_uapi u = {};
		__u64 o = (__u64)obj;

		/* the flags as the kernel reads them now: the exit decides by them */
		bpf_probe_read_user(&u, sizeof(u), (void *)arg);
		in->a0 = u.flags;
		/* drivers that fire vfio_mig_data report every byte themselves */
		if (mig_state_set(u.flags) && !bpf_map_lookup_elem(&mig_tp_objs, &o))
			bpf_for_each_map_elem(&mig_files, sweep_migf, &o, 0);
	}
	inflight_commit(in, btf);
	return 0;
}

static __always_inline void vm_add(__u32 tgid, __u32 field, __u64 v)
{
	struct vfs_vm_val *vm = vfs_lookup_or_init(&vm_stats, &tgid, &zero_vm,
						   VFS_DROP_MAP_VM);

	if (!vm)
		return;
	/* (MAP/UNMAP update theirs in ioctl_exit, with one lookup) */
	switch (field) {
	case 5: vm->ext_pin_pages += v; break;
	case 6: vm->ext_unpin_pages += v; break;
	case 7: vm->irq_set_calls++; break;
	}
}

static __always_inline void reset_request_none(struct inflight *in, __u32 tgid, void *dev,
					       long ret, __u64 now);

/* the end of an arc left pending at the end of the ioctl that drove it */
static __always_inline void mig_close(__u64 obj, __u64 now, __s32 ret, __u32 tid);

/*
 * A state change of @obj made data fd @data_fd: note its struct file (for
 * the learned f_op programs, bpf/migfops.bpf.c, and the sweep) and queue
 * its file_operations for the collector to attach to, once per f_op.
 */
static __always_inline void learn_data_fd(__u64 obj, __u32 data_fd, __u64 now)
{
	struct task_struct *t = (void *)bpf_get_current_task();
	struct vfs_migf_val mv = { .obj = obj };
	struct vfs_fops_val fv = { .first_ns = now };
	const struct file_operations *fop;
	struct fdtable *fdt;
	struct file **fds, *f = NULL;
	__u64 key, owner;

	/* the fd the caller was given: its table is the caller's */
	fdt = BPF_CORE_READ(t, files, fdt);
	if (!fdt || data_fd >= BPF_CORE_READ(fdt, max_fds))
		return;
	fds = BPF_CORE_READ(fdt, fd);
	if (bpf_probe_read_kernel(&f, sizeof(f), &fds[data_fd]) || !f)
		return;
	key = (__u64)f;
	fop = BPF_CORE_READ(f, f_op);
	/*
	 * The fd number was read back from the caller's memory, which another
	 * of its threads may have rewritten: only a file of the device's own
	 * driver module is taken (a migration driver's f_ops name it as their
	 * owner), never one whose functions others share (vmlinux's, vfio's).
	 */
	owner = (__u64)BPF_CORE_READ(fop, owner);
	if (!fop || !owner ||
	    owner != (__u64)BPF_CORE_READ((struct vfio_device___vfs *)obj, dev, driver, owner))
		return;
	mv.fops = (__u64)fop;
	vfs_kstr(mv.dev, sizeof(mv.dev),
		 BPF_CORE_READ((struct vfio_device___vfs *)obj, dev, kobj.name));
	bpf_map_update_elem(&mig_files, &key, &mv, BPF_ANY);
	key = (__u64)fop;
	if (bpf_map_lookup_elem(&mig_fops, &key))
		return;
	fv.read = (__u64)BPF_CORE_READ(fop, read);
	fv.write = (__u64)BPF_CORE_READ(fop, write);
	fv.ioctl = (__u64)BPF_CORE_READ(fop, unlocked_ioctl);
	fv.release = (__u64)BPF_CORE_READ(fop, release);
	if (bpf_map_update_elem(&mig_fops, &key, &fv, BPF_NOEXIST) == -7 /* E2BIG */)
		vfs_drop(VFS_DROP_MAP_MIG);
}

/*
 * @call: the key ioctl_enter() was given (0: the thread's call, whatever
 * it is: a kretprobe has no argument to match by).
 * @btf: false on the kprobe tier, where no kernel structure may be read:
 * every CO-RE access sits behind it so that path carries no relocation.
 */
static __always_inline int ioctl_exit(__u64 call, __u32 kind, long ret, const bool btf)
{
	__u64 id = bpf_get_current_pid_tgid(), now = bpf_ktime_get_ns(), lat;
	__u32 tid = (__u32)id, tgid = id >> 32, slot;
	struct inflight *in = inflight_cur(btf);
	struct vfs_cmd_key key = {};
	struct vfs_cmd_val *val;
	void *ptr;

	if (!in || (call && in->key != call) || in->kind != kind)
		return 0;	/* entered before we attached */
	ptr = (void *)in->obj;
	lat = now - in->start_ns;
	key.obj = in->obj;
	key.tgid = tgid;
	key.cmd = in->cmd;
	key.kind = kind;

	val = bpf_map_lookup_elem(&ioctl_stats, &key);
	if (!val) {
		/* first sight of this key: identity work happens here only */
		note_vm(tgid, btf);
		if (btf)
			note_obj(in->obj, kind, tgid, ptr);
		val = vfs_lookup_or_init(&ioctl_stats, &key, &zero_cmd, VFS_DROP_MAP_IOCTL);
	}
	if (val) {
		val->count++;
		val->lat_sum_ns += lat;
		if (lat > val->lat_max_ns)
			val->lat_max_ns = lat;
		slot = vfs_log2_slot(lat);
		if (slot < VFS_HIST_SLOTS)
			val->hist[slot]++;
		if (ret < 0)
			val->errors++;
	}
	if (ret < 0) {
		struct vfs_errno_key ek = {
			.obj = in->obj, .tgid = tgid, .cmd = in->cmd,
			.err = (__u32)-ret, .kind = kind,
		};
		__u64 one = 1, *n = bpf_map_lookup_elem(&ioctl_errno, &ek);

		if (n)
			__sync_fetch_and_add(n, 1);
		else if (bpf_map_update_elem(&ioctl_errno, &ek, &one, BPF_NOEXIST) == -7)
			vfs_drop(VFS_DROP_MAP_ERRNO);
	}

	if (!btf) {
		/* counts only */
	} else if (kind == VFS_FD_CONTAINER &&
	    (in->cmd == VFIO_IOMMU_MAP_DMA || in->cmd == VFIO_IOMMU_UNMAP_DMA)) {
		struct task_struct *t = bpf_get_current_task_btf();
		__u64 locked = t->mm->locked_vm;
		struct vfs_vm_info *vi = bpf_map_lookup_elem(&vm_info, &tgid);
		struct vfs_vm_val *vm;

		if (vi) {
			vi->locked_pages = locked;
			vi->locked_ns = now;
			note_memlock(vi, t, vi->memlock_flags & VFS_MEMLOCK_BYPASS);
		}
		if (in->cmd == VFIO_IOMMU_UNMAP_DMA && ret >= 0) {
			/* type1 writes the size it unmapped back to the caller */
			struct dma_unmap_uapi u = {};

			bpf_probe_read_user(&u, sizeof(u), (void *)in->arg);
			in->a1 = u.size;
		}
		/* one lookup for the op, its bytes and the pins it changed */
		vm = vfs_lookup_or_init(&vm_stats, &tgid, &zero_vm, VFS_DROP_MAP_VM);
		if (vm) {
			if (in->cmd == VFIO_IOMMU_MAP_DMA && ret < 0) {
				vm->dma_map_errors++;
			} else if (in->cmd == VFIO_IOMMU_MAP_DMA) {
				vm->dma_map_ops++;
				vm->dma_map_bytes += in->a1;
			} else if (ret < 0) {
				vm->dma_unmap_errors++;
			} else {
				vm->dma_unmap_ops++;
				vm->dma_unmap_bytes += in->a1;
			}
			vm->pinned_pages += (__s64)locked - in->locked_vm;
		}
	} else if (kind == VFS_FD_DEVICE && in->cmd == VFIO_DEVICE_SET_IRQS && ret >= 0) {
		struct vfs_irq_key ik = { .obj = in->obj, .index = (__u32)in->a0 };
		struct vfs_irq_val *iv = vfs_lookup_or_init(&irq_stats, &ik, &zero_irq,
							    VFS_DROP_MAP_IRQ);

		if (iv) {
			__sync_fetch_and_add(&iv->set_calls, 1);
			iv->vectors = in->a1 >> 32;
			iv->flags = (__u32)in->a1;
		}
		vm_add(tgid, 7, 0);
	} else if (kind == VFS_FD_DEVICE && in->cmd == VFIO_DEVICE_FEATURE) {
		__s32 fd = -1;

		mig_close(in->obj, now, ret < 0 ? (__s32)ret : 0, tid);
		/* a state change that made a data fd: learn it (and its f_op) */
		if (!ret && mig_state_set(in->a0) &&
		    !bpf_probe_read_user(&fd, sizeof(fd), (void *)(in->arg +
			offsetof(struct mig_state_uapi, data_fd))) && fd >= 0)
			learn_data_fd(in->obj, fd, now);
	} else if (kind == VFS_FD_DEVICE && !in->resets &&
		   (in->cmd == VFIO_DEVICE_RESET || in->cmd == VFIO_DEVICE_PCI_HOT_RESET)) {
		/* refused before the PCI core (no reset method: -EINVAL) */
		reset_request_none(in, tgid, ptr, ret, now);
	}

	if (vfs_streamed(VFS_EV_IOCTL)) {
		struct vfs_ev_ioctl *e = vfs_event_reserve(sizeof(*e), VFS_EV_IOCTL);

		if (e) {
			e->obj = in->obj;
			e->lat_ns = lat;
			e->arg = in->arg;
			e->ret = ret;
			e->cmd = in->cmd;
			e->kind = kind;
			e->a0 = in->a0;
			e->a1 = in->a1;
			vfs_event_submit(e);
		}
	}
	inflight_end(in, btf);
	return 0;
}

/* the file's private_data is the container or group: a direct load */
SEC("fentry/vfio_fops_unl_ioctl")
int BPF_PROG(container_ioctl_enter, struct file *f, unsigned int cmd, unsigned long arg)
{
	return ioctl_enter((__u64)f, f->private_data, VFS_FD_CONTAINER, cmd, arg, true);
}

SEC("fexit/vfio_fops_unl_ioctl")
int BPF_PROG(container_ioctl_exit, struct file *f, unsigned int cmd, unsigned long arg, long ret)
{
	return ioctl_exit((__u64)f, VFS_FD_CONTAINER, ret, true);
}

SEC("fentry/vfio_group_fops_unl_ioctl")
int BPF_PROG(group_ioctl_enter, struct file *f, unsigned int cmd, unsigned long arg)
{
	return ioctl_enter((__u64)f, f->private_data, VFS_FD_GROUP, cmd, arg, true);
}

SEC("fexit/vfio_group_fops_unl_ioctl")
int BPF_PROG(group_ioctl_exit, struct file *f, unsigned int cmd, unsigned long arg, long ret)
{
	return ioctl_exit((__u64)f, VFS_FD_GROUP, ret, true);
}

SEC("fentry/vfio_device_fops_unl_ioctl")
int BPF_PROG(device_ioctl_enter, struct file *f, unsigned int cmd, unsigned long arg)
{
	return ioctl_enter((__u64)f, device_of_file(f), VFS_FD_DEVICE, cmd, arg, true);
}

SEC("fexit/vfio_device_fops_unl_ioctl")
int BPF_PROG(device_ioctl_exit, struct file *f, unsigned int cmd, unsigned long arg, long ret)
{
	return ioctl_exit((__u64)f, VFS_FD_DEVICE, ret, true);
}

/*
 * Tracepoint tier (the series' vfio core, kernel/patches): the same two
 * points of a device fd's ioctl, without a trampoline. Container and group
 * fds have no tracepoint: their fentry programs above serve this tier too.
 */
SEC("tp_btf/vfio_ioctl_enter")
int BPF_PROG(tp_ioctl_enter, struct vfio_device___vfs *dev, unsigned int cmd, unsigned long arg)
{
	if (!dev)	/* trusted-or-NULL */
		return 0;
	return ioctl_enter((__u64)dev, dev, VFS_FD_DEVICE, cmd, arg, true);
}

SEC("tp_btf/vfio_ioctl_exit")
int BPF_PROG(tp_ioctl_exit, struct vfio_device___vfs *dev, unsigned int cmd, long ret)
{
	if (!dev)
		return 0;
	return ioctl_exit((__u64)dev, VFS_FD_DEVICE, ret, true);
}

/*
 * Kprobe tier (no BTF): the same entry points, but nothing behind the file
 * pointer can be read safely, so the object is the file itself and only the
 * ioctl class is served.
 */
SEC("kprobe/vfio_device_fops_unl_ioctl")
int BPF_KPROBE(device_ioctl_kp_enter, struct file *f, unsigned int cmd, unsigned long arg)
{
	return ioctl_enter((__u64)f, f, VFS_FD_DEVICE, cmd, arg, false);
}

SEC("kretprobe/vfio_device_fops_unl_ioctl")
int BPF_KRETPROBE(device_ioctl_kp_exit, long ret)
{
	return ioctl_exit(0, VFS_FD_DEVICE, ret, false);
}

SEC("kprobe/vfio_group_fops_unl_ioctl")
int BPF_KPROBE(group_ioctl_kp_enter, struct file *f, unsigned int cmd, unsigned long arg)
{
	return ioctl_enter((__u64)f, f, VFS_FD_GROUP, cmd, arg, false);
}

SEC("kretprobe/vfio_group_fops_unl_ioctl")
int BPF_KRETPROBE(group_ioctl_kp_exit, long ret)
{
	return ioctl_exit(0, VFS_FD_GROUP, ret, false);
}

SEC("kprobe/vfio_fops_unl_ioctl")
int BPF_KPROBE(container_ioctl_kp_enter, struct file *f, unsigned int cmd, unsigned long arg)
{
	return ioctl_enter((__u64)f, f, VFS_FD_CONTAINER, cmd, arg, false);
}

SEC("kretprobe/vfio_fops_unl_ioctl")
int BPF_KRETPROBE(container_ioctl_kp_exit, long ret)
{
	return ioctl_exit(0, VFS_FD_CONTAINER, ret, false);
}

/* ------------------------------------------------------------ region class */
static __always_inline void region_count(__u64 obj, __u64 pos, __u64 size, long ret,
					 __u32 op)
{
	struct vfs_region_key k = { .obj = obj, .index = pos >> VFIO_PCI_OFFSET_SHIFT };
	struct vfs_region_val *v;

	v = vfs_lookup_or_init(&region_stats, &k, &zero_region, VFS_DROP_MAP_REGION);
	if (v) {
		if (ret < 0)
			v->errors++;
		else if (op == 0) {
			v->reads++;
			v->read_bytes += ret;
		} else if (op == 1) {
			v->writes++;
			v->write_bytes += ret;
		} else {
			v->mmaps++;
		}
	}
	if (vfs_streamed(VFS_EV_REGION)) {
		struct vfs_ev_region *e = vfs_event_reserve(sizeof(*e), VFS_EV_REGION);

		if (e) {
			e->obj = obj;
			e->index = k.index;
			e->offset = pos & ((1ull << VFIO_PCI_OFFSET_SHIFT) - 1);
			e->size = size;
			e->ret = ret;
			e->op = op;
			vfs_event_submit(e);
		}
	}
}

static __always_inline int rw_enter(struct file *f, loff_t *ppos, size_t count)
{
	struct inflight *in = inflight_begin(true);
	loff_t pos = 0;

	if (!in)
		return 0;
	bpf_probe_read_kernel(&pos, sizeof(pos), ppos);
	in->key = (__u64)f;
	in->obj = (__u64)device_of_file(f);
	in->a0 = pos;
	in->a1 = count;
	in->cmd = 0;
	in->kind = VFS_FD_DEVICE;
	return 0;
}

static __always_inline int rw_exit(struct file *f, long ret, __u32 op)
{
	struct inflight *in = inflight_cur(true);

	if (!in || in->key != (__u64)f)
		return 0;
	region_count(in->obj, in->a0, in->a1, ret, op);
	inflight_end(in, true);
	return 0;
}

SEC("fentry/vfio_device_fops_read")
int BPF_PROG(region_read_enter, struct file *f, char *buf, size_t count, loff_t *ppos)
{
	return rw_enter(f, ppos, count);
}

SEC("fexit/vfio_device_fops_read")
int BPF_PROG(region_read_exit, struct file *f, char *buf, size_t count, loff_t *ppos,
	     ssize_t ret)
{
	return rw_exit(f, ret, 0);
}

SEC("fentry/vfio_device_fops_write")
int BPF_PROG(region_write_enter, struct file *f, const char *buf, size_t count, loff_t *ppos)
{
	return rw_enter(f, ppos, count);
}

SEC("fexit/vfio_device_fops_write")
int BPF_PROG(region_write_exit, struct file *f, const char *buf, size_t count, loff_t *ppos,
	     ssize_t ret)
{
	return rw_exit(f, ret, 1);
}

SEC("fexit/vfio_device_fops_mmap")
int BPF_PROG(region_mmap, struct file *f, struct vm_area_struct *vma, int ret)
{
	__u64 pos = BPF_CORE_READ(vma, vm_pgoff) << PAGE_SHIFT_;
	__u64 size = BPF_CORE_READ(vma, vm_end) - BPF_CORE_READ(vma, vm_start);

	region_count((__u64)device_of_file(f), pos, size, ret, 2);
	return 0;
}

/* --------------------------------------------------------------- pin class */
static __always_inline __u32 owner_of(__u64 obj)
{
	struct vfs_obj_info *oi = bpf_map_lookup_elem(&obj_info, &obj);

	/* drivers pin from their own threads: charge the device's owner */
	return oi ? oi->owner_tgid : (__u32)(bpf_get_current_pid_tgid() >> 32);
}

SEC("fexit/vfio_pin_pages")
int BPF_PROG(pin_pages, struct vfio_device___vfs *dev, dma_addr_t iova, int npage,
	     int prot, struct page **pages, int ret)
{
	if (ret > 0)
		vm_add(owner_of((__u64)dev), 5, ret);
	return 0;
}

SEC("fentry/vfio_unpin_pages")
int BPF_PROG(unpin_pages, struct vfio_device___vfs *dev, dma_addr_t iova, int npage)
{
	if (npage > 0)
		vm_add(owner_of((__u64)dev), 6, npage);
	return 0;
}

SEC("tp_btf/vfio_pin_pages")
int BPF_PROG(tp_pin_pages, struct vfio_device___vfs *dev, u64 iova, int npage, int ret)
{
	if (ret > 0)
		vm_add(owner_of((__u64)dev), 5, ret);
	return 0;
}

SEC("tp_btf/vfio_unpin_pages")
int BPF_PROG(tp_unpin_pages, struct vfio_device___vfs *dev, u64 iova, int npage)
{
	if (npage > 0)
		vm_add(owner_of((__u64)dev), 6, npage);
	return 0;
}

/*
 * Every change type1 makes to a VM's mm->locked_vm goes through
 * __account_locked_vm() with the VM's task (the one that mapped): its DMA
 * map/unmap pins, and the pins an mdev driver takes with vfio_pin_pages()
 * from its own threads (charged there only while the container has no
 * IOMMU domain, i.e. when no physical device already pinned the pages).
 * Reading locked_vm after each keeps the VM's PINNED whole, whoever pinned.
 * Other callers (drivers charging a process's locked memory) only update a
 * VM already known from its VFIO calls: that memory is the VM's too.
 */
SEC("fexit/__account_locked_vm")
int BPF_PROG(locked_acct, struct mm_struct *mm, unsigned long pages, bool inc,
	     struct task_struct *task, bool bypass_rlim, int ret)
{
	struct vfs_vm_info *vi;
	__u32 tgid;

	if (ret || !task || !mm)
		return 0;
	tgid = task->tgid;
	vi = bpf_map_lookup_elem(&vm_info, &tgid);
	/* an exited VM pins nothing, whatever is unpinned after its exit */
	if (!vi || vi->exit_ns)
		return 0;
	vi->locked_pages = mm->locked_vm;
	vi->locked_ns = bpf_ktime_get_ns();
	note_memlock(vi, task, bypass_rlim);
	return 0;
}

/* ------------------------------------------------------- interrupt class */
static __always_inline int irq_signal(int irq)
{
	__u32 k = irq;
	__u64 zero = 0, *n = vfs_lookup_or_init(&irq_signals, &k, &zero, VFS_DROP_MAP_IRQ);

	if (n)
		*n += 1;
	return 0;
}

SEC("fentry/vfio_msihandler")
int BPF_PROG(msi_handler, int irq, void *arg)
{
	return irq_signal(irq);
}

SEC("fentry/vfio_intx_handler")
int BPF_PROG(intx_handler, int irq, void *dev_id)
{
	return irq_signal(irq);
}

/* -------------------------------------------------------------- mdev class */
static __always_inline void mdev_names(struct vfs_ev_mdev *e, struct mdev_type___vfs *type)
{
	vfs_kstr(e->parent, sizeof(e->parent), BPF_CORE_READ(type, parent, dev, kobj.name));
	/* the type's directory name, what an operator writes "create" under
	 * (and what drivers' tracepoints report), not the bare sysfs_name */
	vfs_kstr(e->type, sizeof(e->type), BPF_CORE_READ(type, kobj.name));
}

SEC("fexit/mdev_device_create")
int BPF_PROG(mdev_create, struct mdev_type___vfs *type, const guid_t *uuid, int ret)
{
	struct vfs_ev_mdev *e = vfs_event_reserve(sizeof(*e), VFS_EV_MDEV);

	if (!e)
		return 0;
	e->op = VFS_MDEV_CREATE;
	e->ret = ret;
	bpf_probe_read_kernel(e->uuid, sizeof(e->uuid), uuid);
	mdev_names(e, type);
	vfs_event_submit(e);
	return 0;
}

SEC("fentry/mdev_device_remove")
int BPF_PROG(mdev_remove_enter, struct mdev_device___vfs *mdev)
{
	struct inflight *in = inflight_begin(true);

	if (!in)
		return 0;
	in->key = in->obj = (__u64)mdev;
	in->kind = 0;
	bpf_probe_read_kernel(in->mdev.uuid, sizeof(in->mdev.uuid), &mdev->uuid);
	mdev_names(&in->mdev, BPF_CORE_READ(mdev, type));
	return 0;
}

SEC("fexit/mdev_device_remove")
int BPF_PROG(mdev_remove_exit, struct mdev_device___vfs *mdev, int ret)
{
	struct inflight *in = inflight_cur(true);
	struct vfs_ev_mdev *e;

	if (!in || in->key != (__u64)mdev)
		return 0;
	e = vfs_event_reserve(sizeof(*e), VFS_EV_MDEV);
	if (e) {
		e->op = VFS_MDEV_REMOVE;
		e->ret = ret;
		__builtin_memcpy(e->uuid, in->mdev.uuid, sizeof(e->uuid));
		__builtin_memcpy(e->parent, in->mdev.parent, sizeof(e->parent));
		__builtin_memcpy(e->type, in->mdev.type, sizeof(e->type));
		vfs_event_submit(e);
	}
	inflight_end(in, true);
	return 0;
}

static __always_inline int tp_mdev_event(__u32 op, struct device *parent, const char *type,
					 const guid_t *uuid, int ret)
{
	struct vfs_ev_mdev *e;

	if (!parent)	/* trusted-or-NULL: check before any offset */
		return 0;
	e = vfs_event_reserve(sizeof(*e), VFS_EV_MDEV);
	if (!e)
		return 0;
	e->op = op;
	e->ret = ret;
	bpf_probe_read_kernel(e->uuid, sizeof(e->uuid), uuid);
	vfs_kstr(e->parent, sizeof(e->parent), BPF_CORE_READ(parent, kobj.name));
	vfs_kstr(e->type, sizeof(e->type), type);
	vfs_event_submit(e);
	return 0;
}

SEC("tp_btf/mdev_create")
int BPF_PROG(tp_mdev_create, struct device *parent, const char *type, const guid_t *uuid,
	     int ret)
{
	return tp_mdev_event(VFS_MDEV_CREATE, parent, type, uuid, ret);
}

SEC("tp_btf/mdev_remove")
int BPF_PROG(tp_mdev_remove, struct device *parent, const char *type, const guid_t *uuid,
	     int ret)
{
	return tp_mdev_event(VFS_MDEV_REMOVE, parent, type, uuid, ret);
}

/* --------------------------------------------------------- migration class */
static __always_inline void mig_emit_as(__u16 type, __u64 obj, __u32 from, __u32 to,
					__u64 start, __u64 end, __s32 ret, __u32 tier)
{
	struct vfs_ev_mig_arc *e = vfs_event_reserve(sizeof(*e), type);
	struct vfio_device___vfs *d = (void *)obj;

	if (!e)
		return;
	e->obj = obj;
	e->from = from;
	e->to = to;
	e->start_ns = start;
	e->end_ns = end;
	e->ret = ret;
	e->tier = tier;
	vfs_kstr(e->dev, sizeof(e->dev), BPF_CORE_READ(d, dev, kobj.name));
	vfs_event_submit(e);
}

#define mig_emit(...)	mig_emit_as(VFS_EV_MIG_ARC, __VA_ARGS__)

static __always_inline void mig_close(__u64 obj, __u64 now, __s32 ret, __u32 tid)
{
	struct mig_pending *p = bpf_map_lookup_elem(&mig_pending, &obj);

	if (!p || p->tid != tid)
		return;
	mig_emit(obj, p->from, p->to, p->start_ns, now, ret, VFS_TIER_FENTRY);
	bpf_map_delete_elem(&mig_pending, &obj);
}

/*
 * Fentry tier: a migration driver asks vfio_mig_get_next_state() for each
 * arc right before it performs it. The arc ends when the driver asks for
 * the next one, or when the VFIO_DEVICE_FEATURE ioctl that drove it
 * returns (with that ioctl's result: the last arc is the one that failed).
 */
SEC("fexit/vfio_mig_get_next_state")
int mig_next_state(unsigned long long *ctx)
{
	__u64 obj = 0, cur = 0, new_state = 0, next = 0, ret = 0;
	__u64 now = bpf_ktime_get_ns();
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct mig_pending p = { .start_ns = now, .tid = tid };

	/*
	 * The 4th argument is an enum pointer, which the verifier does not
	 * let a tracing program read from its context: bpf_get_func_arg()
	 * fetches the raw arguments instead (Linux 5.17).
	 */
	bpf_get_func_arg(ctx, 0, &obj);
	bpf_get_func_arg(ctx, 1, &cur);
	bpf_get_func_arg(ctx, 2, &new_state);
	bpf_get_func_arg(ctx, 3, &next);
	bpf_get_func_ret(ctx, &ret);
	mig_close(obj, now, 0, tid);
	if ((int)ret) {
		/* the requested transition is impossible: an arc refused */
		mig_emit(obj, cur, new_state, now, now, (int)ret, VFS_TIER_FENTRY);
		return 0;
	}
	p.from = cur;
	bpf_probe_read_kernel(&p.to, sizeof(p.to), (void *)next);
	if (bpf_map_update_elem(&mig_pending, &obj, &p, BPF_ANY))
		vfs_drop(VFS_DROP_MAP_MIG);
	return 0;
}

/* tracepoint tier: the driver reports each arc with its own duration */
SEC("tp_btf/vfio_mig_set_state")
int BPF_PROG(tp_mig_set_state, struct vfio_device___vfs *dev, u32 from, u32 to, int ret,
	     u64 duration_ns)
{
	__u64 now = bpf_ktime_get_ns();

	if (!dev)	/* trusted-or-NULL: check before mig_emit reads it */
		return 0;
	mig_emit((__u64)dev, from, to, now - duration_ns, now, ret, VFS_TIER_TRACEPOINT);
	return 0;
}

SEC("tp_btf/vfio_mig_data")
int BPF_PROG(tp_mig_data, struct vfio_device___vfs *dev, bool write, u64 bytes, long ret)
{
	struct vfs_ev_mig_data *e;
	__u8 one = 1;
	__u64 obj;

	/* tracepoint arguments are trusted-or-NULL: check before any offset */
	if (!dev)
		return 0;
	/*
	 * The thread that drove an arc moves data on the device: the ioctl
	 * returned. Its exit probe closes the arc; where that probe missed
	 * its run (preemptible kernels: a task preempted inside a probe makes
	 * the next task on that CPU skip it, counted as probe_recursion) the
	 * arc would stay open until the next one. It ends here instead, ahead
	 * of the data in the stream, at most this late.
	 */
	mig_close((__u64)dev, bpf_ktime_get_ns(), 0, (__u32)bpf_get_current_pid_tgid());
	/* this driver reports its own data: the learned f_op programs stay quiet */
	obj = (__u64)dev;
	if (!bpf_map_lookup_elem(&mig_tp_objs, &obj))
		bpf_map_update_elem(&mig_tp_objs, &obj, &one, BPF_ANY);
	e = vfs_event_reserve(sizeof(*e), VFS_EV_MIG_DATA);
	if (!e)
		return 0;
	e->obj = (__u64)dev;
	e->bytes = bytes;
	e->ret = ret;
	e->write = write;
	e->tier = VFS_TIER_TRACEPOINT;
	vfs_kstr(e->dev, sizeof(e->dev), BPF_CORE_READ(dev, dev, kobj.name));
	vfs_event_submit(e);
	return 0;
}

SEC("tp_btf/vfio_irq_signal")
int BPF_PROG(tp_irq_signal, struct vfio_device___vfs *dev, u32 index, u32 vector)
{
	struct vfs_irq_key ik = { .obj = (__u64)dev, .index = index };
	struct vfs_irq_val *iv = vfs_lookup_or_init(&irq_stats, &ik, &zero_irq,
						    VFS_DROP_MAP_IRQ);

	if (iv)
		__sync_fetch_and_add(&iv->signals, 1);
	return 0;
}

/* ------------------------------- only the tracepoint series sees these */

/* a migration state request as the vfio core timed it (all its arcs) */
SEC("tp_btf/vfio_mig_request")
int BPF_PROG(tp_mig_request, struct vfio_device___vfs *dev, u32 from, u32 to, int ret,
	     u64 duration_ns)
{
	__u64 now = bpf_ktime_get_ns();

	if (!dev || !vfs_streamed(VFS_EV_MIG_REQ))
		return 0;
	mig_emit_as(VFS_EV_MIG_REQ, (__u64)dev, from, to, now - duration_ns, now, ret,
		    VFS_TIER_TRACEPOINT);
	return 0;
}

static __always_inline void dma_emit(__u32 op, __u64 iova, __u64 size, __u64 done,
				     __u64 vaddr, __u32 flags, int ret)
{
	struct vfs_ev_dma *e;

	if (!vfs_streamed(VFS_EV_DMA))
		return;
	e = vfs_event_reserve(sizeof(*e), VFS_EV_DMA);
	if (!e)
		return;
	e->op = op;
	e->iova = iova;
	e->size = size;
	e->done = done;
	e->vaddr = vaddr;
	e->flags = flags;
	e->ret = ret;
	e->pad = 0;
	vfs_event_submit(e);
}

/* type1's map/unmap results, from inside the handlers stock kernels inline */
SEC("tp_btf/vfio_dma_map")
int BPF_PROG(tp_dma_map, u64 iova, u64 vaddr, u64 size, u32 flags, int ret)
{
	dma_emit(VFS_DMA_MAP, iova, size, ret ? 0 : size, vaddr, flags, ret);
	return 0;
}

SEC("tp_btf/vfio_dma_unmap")
int BPF_PROG(tp_dma_unmap, u64 iova, u64 size, u64 unmapped, int ret)
{
	dma_emit(VFS_DMA_UNMAP, iova, size, unmapped, 0, 0, ret);
	return 0;
}

/* ------------------------------------------------------------ reset class */
/*
 * Every PCI reset, where the PCI core does it (vmlinux, fentry/fexit):
 *   __pci_reset_function_locked: every function reset, whoever asks
 *     (vfio-pci's VFIO_DEVICE_RESET and open through pci_try_reset_function,
 *     its release directly, sysfs "reset" through pci_reset_function);
 *     the method is the one whose reset_fn returned anything but -ENOTTY
 *     while it ran (fexit on each method's function, probe == false);
 *   pci_reset_bus: a slot or secondary bus reset of a dev set
 *     (VFIO_DEVICE_PCI_HOT_RESET, and release when a device needs one);
 *   pci_try_reset_function / pci_reset_function / pci_reset_function_locked
 *     returning without any function reset: no method (-ENOTTY) or the lock
 *     was busy (-EAGAIN): method NONE with that result;
 *   a VFIO_DEVICE_RESET / PCI_HOT_RESET ioctl that caused none of these
 *     (vfio-pci refuses a device without a reset method with -EINVAL):
 *     method NONE with the ioctl's result.
 * The cause comes from where the thread is: inside vfio-pci's enable or
 * disable (open, release), inside a device fd's reset ioctl, or elsewhere.
 */
struct rst_ctx {
	__u64 obj;		/* vfio_device being enabled or disabled */
	__u32 cause;		/* OPEN or RELEASE */
	__u32 pad;
};

struct rst_run {
	__u64 start_ns;
	__u32 method;		/* the last method that acted (not -ENOTTY) */
	__u32 ran;		/* wrapper: a function reset ran inside it */
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 1024);
	__type(key, __u32);		/* tid */
	__type(value, struct rst_ctx);
} rst_ctx SEC(".maps");

/* a function or bus reset in progress on a thread */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct rst_run);
} rst_run SEC(".maps");

/* a pci_*reset_function wrapper in progress on a thread */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct rst_run);
} rst_wrap SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 4096);
	__type(key, struct vfs_reset_key);
	__type(value, struct vfs_reset_val);
} reset_stats SEC(".maps");

static const struct vfs_reset_val zero_reset;

static __always_inline void reset_emit(__u64 obj, const char *name, __u32 tgid, __u32 method,
				       __u32 cause, int ret, __u64 start, __u64 end)
{
	struct vfs_reset_key k = {
		.obj = obj, .tgid = tgid, .method = method, .cause = cause, .ret = ret,
	};
	__u64 dur = end > start ? end - start : 0;
	struct vfs_reset_val *v;
	struct vfs_ev_reset *e;
	__u32 slot;

	vfs_kstr(k.dev, sizeof(k.dev), name);
	v = vfs_lookup_or_init(&reset_stats, &k, &zero_reset, VFS_DROP_MAP_RESET);
	if (v) {
		__sync_fetch_and_add(&v->count, 1);
		__sync_fetch_and_add(&v->dur_sum_ns, dur);
		if (dur > v->dur_max_ns)
			v->dur_max_ns = dur;
		v->last_ns = end;
		v->last_dur_ns = dur;
		slot = vfs_log2_slot(dur);
		if (slot < VFS_HIST_SLOTS)
			__sync_fetch_and_add(&v->hist[slot], 1);
	}
	if (!vfs_streamed(VFS_EV_RESET))
		return;
	e = vfs_event_reserve(sizeof(*e), VFS_EV_RESET);
	if (!e)
		return;
	e->obj = obj;
	e->start_ns = start;
	e->end_ns = end;
	e->ret = ret;
	e->method = method;
	e->cause = cause;
	e->tier = VFS_TIER_FENTRY;
	__builtin_memcpy(e->dev, k.dev, sizeof(e->dev));
	vfs_event_submit(e);
}

/* a reset the PCI core did or declined: who caused it, then count it */
static __always_inline void reset_done(struct pci_dev *pdev, __u32 method, int ret, __u64 start)
{
	__u64 id = bpf_get_current_pid_tgid(), obj = 0;
	__u32 tid = (__u32)id, cause = VFS_RESET_C_OTHER;
	struct rst_ctx *cx = bpf_map_lookup_elem(&rst_ctx, &tid);
	struct inflight *in = inflight_cur(true);

	if (cx) {
		obj = cx->obj;
		cause = cx->cause;
	} else if (in && in->kind == VFS_FD_DEVICE) {
		obj = in->obj;
		if (in->cmd == VFIO_DEVICE_RESET)
			cause = VFS_RESET_C_IOCTL;
		else if (in->cmd == VFIO_DEVICE_PCI_HOT_RESET)
			cause = VFS_RESET_C_HOT;
	}
	if (in)
		in->resets++;
	reset_emit(obj, BPF_CORE_READ(pdev, dev.kobj.name), id >> 32, method, cause, ret, start,
		   bpf_ktime_get_ns());
}

static __always_inline void reset_request_none(struct inflight *in, __u32 tgid, void *dev,
					       long ret, __u64 now)
{
	struct vfio_device___vfs *d = dev;

	reset_emit(in->obj, BPF_CORE_READ(d, dev, kobj.name), tgid, VFS_RESET_NONE,
		   in->cmd == VFIO_DEVICE_RESET ? VFS_RESET_C_IOCTL : VFS_RESET_C_HOT, (int)ret,
		   in->start_ns, now);
}

static __always_inline int rst_begin(void *map)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct rst_run r = { .start_ns = bpf_ktime_get_ns() };

	if (bpf_map_update_elem(map, &tid, &r, BPF_ANY))
		vfs_drop(VFS_DROP_MAP_INFLIGHT);
	return 0;
}

SEC("fentry/__pci_reset_function_locked")
int BPF_PROG(reset_fn_enter, struct pci_dev *dev)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct rst_run *w = bpf_map_lookup_elem(&rst_wrap, &tid);

	if (w)
		w->ran = 1;
	return rst_begin(&rst_run);
}

static __always_inline int rst_end(struct pci_dev *dev, int ret, __u32 method)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct rst_run *r = bpf_map_lookup_elem(&rst_run, &tid);

	if (!r)
		return 0;	/* began before we attached */
	reset_done(dev, method ? method : r->method, ret, r->start_ns);
	bpf_map_delete_elem(&rst_run, &tid);
	return 0;
}

SEC("fexit/__pci_reset_function_locked")
int BPF_PROG(reset_fn_exit, struct pci_dev *dev, int ret)
{
	return rst_end(dev, ret, 0);
}

SEC("fentry/pci_reset_bus")
int BPF_PROG(reset_bus_enter, struct pci_dev *dev)
{
	return rst_begin(&rst_run);
}

SEC("fexit/pci_reset_bus")
int BPF_PROG(reset_bus_exit, struct pci_dev *dev, int ret)
{
	return rst_end(dev, ret, VFS_RESET_HOT);
}

/* the method that acted: each reset_fn returns -ENOTTY when it does not apply */
static __always_inline int rst_method(bool probe, int ret, __u32 method)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct rst_run *r;

	if (probe || ret == -25 /* ENOTTY */)
		return 0;
	r = bpf_map_lookup_elem(&rst_run, &tid);
	if (r)
		r->method = method;
	return 0;
}

SEC("fexit/pcie_reset_flr")
int BPF_PROG(reset_m_flr, struct pci_dev *dev, bool probe, int ret)
{
	return rst_method(probe, ret, VFS_RESET_FLR);
}

SEC("fexit/pci_af_flr")
int BPF_PROG(reset_m_af_flr, struct pci_dev *dev, bool probe, int ret)
{
	return rst_method(probe, ret, VFS_RESET_AF_FLR);
}

SEC("fexit/pci_pm_reset")
int BPF_PROG(reset_m_pm, struct pci_dev *dev, bool probe, int ret)
{
	return rst_method(probe, ret, VFS_RESET_PM);
}

SEC("fexit/pci_reset_bus_function")
int BPF_PROG(reset_m_bus, struct pci_dev *dev, bool probe, int ret)
{
	return rst_method(probe, ret, VFS_RESET_BUS);
}

SEC("fexit/pci_dev_specific_reset")
int BPF_PROG(reset_m_specific, struct pci_dev *dev, bool probe, int ret)
{
	return rst_method(probe, ret, VFS_RESET_DEV_SPECIFIC);
}

SEC("fexit/pci_dev_acpi_reset")
int BPF_PROG(reset_m_acpi, struct pci_dev *dev, bool probe, int ret)
{
	return rst_method(probe, ret, VFS_RESET_ACPI);
}

SEC("fexit/cxl_reset_bus_function")
int BPF_PROG(reset_m_cxl, struct pci_dev *dev, bool probe, int ret)
{
	return rst_method(probe, ret, VFS_RESET_CXL_BUS);
}

/* the wrappers: a reset request that ran no function reset is counted here */
static __always_inline int wrap_end(struct pci_dev *dev, int ret)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct rst_run *w = bpf_map_lookup_elem(&rst_wrap, &tid);

	if (!w)
		return 0;
	if (!w->ran)
		reset_done(dev, VFS_RESET_NONE, ret, w->start_ns);
	bpf_map_delete_elem(&rst_wrap, &tid);
	return 0;
}

SEC("fentry/pci_try_reset_function")
int BPF_PROG(reset_try_enter, struct pci_dev *dev)
{
	return rst_begin(&rst_wrap);
}

SEC("fexit/pci_try_reset_function")
int BPF_PROG(reset_try_exit, struct pci_dev *dev, int ret)
{
	return wrap_end(dev, ret);
}

SEC("fentry/pci_reset_function")
int BPF_PROG(reset_func_enter, struct pci_dev *dev)
{
	return rst_begin(&rst_wrap);
}

SEC("fexit/pci_reset_function")
int BPF_PROG(reset_func_exit, struct pci_dev *dev, int ret)
{
	return wrap_end(dev, ret);
}

/* vfio-pci's enable (open) and disable (release): the cause of their resets */
static __always_inline int ctx_begin(struct vfio_pci_core_device___vfs *vdev, __u32 cause)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct rst_ctx cx = { .obj = (__u64)&vdev->vdev, .cause = cause };

	if (bpf_map_update_elem(&rst_ctx, &tid, &cx, BPF_ANY))
		vfs_drop(VFS_DROP_MAP_INFLIGHT);
	return 0;
}

static __always_inline int ctx_end(void)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();

	bpf_map_delete_elem(&rst_ctx, &tid);
	return 0;
}

SEC("fentry/vfio_pci_core_enable")
int BPF_PROG(reset_open_enter, struct vfio_pci_core_device___vfs *vdev)
{
	return ctx_begin(vdev, VFS_RESET_C_OPEN);
}

SEC("fexit/vfio_pci_core_enable")
int BPF_PROG(reset_open_exit, struct vfio_pci_core_device___vfs *vdev, int ret)
{
	return ctx_end();
}

SEC("fentry/vfio_pci_core_disable")
int BPF_PROG(reset_release_enter, struct vfio_pci_core_device___vfs *vdev)
{
	return ctx_begin(vdev, VFS_RESET_C_RELEASE);
}

SEC("fexit/vfio_pci_core_disable")
int BPF_PROG(reset_release_exit, struct vfio_pci_core_device___vfs *vdev)
{
	return ctx_end();
}

/* ------------------------------------------------------ iommu-fault class */
/*
 * Intel IOMMU primary faults, where the kernel takes them: dmar_fault(), the
 * DMAR unit's fault interrupt handler (vmlinux). On entry the unit still
 * holds every fault record it logged, each with its requester, page, reason
 * and access; the handler then clears them and prints a few (its log is
 * rate-limited: 10 lines per 5 s, shared by every unit). The records are
 * read here from the unit's registers, as the handler is about to read
 * them (VT-d: the fault status register at 0x34, the records at the offset
 * and count the capability register gives, 16 bytes each, F in bit 127):
 * reading them has no side effect. A record logged while the handler
 * already runs is handled in that interrupt without being seen here; the
 * overflow bit says the unit itself dropped faults (its records were full).
 */
#define DMAR_FSTS_REG		0x34
#define DMA_FSTS_PFO		(1u << 0)
#define DMA_FSTS_PPF		(1u << 1)
#define DMA_FRCD_F		(1u << 31)

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 4096);
	__type(key, struct vfs_fault_key);
	__type(value, struct vfs_fault_val);
} fault_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, VFS_FAULT_UNITS);
	__type(key, __u32);
	__type(value, struct vfs_fault_unit);
} fault_units SEC(".maps");

static const struct vfs_fault_val zero_fault;

static __always_inline __u32 mmio_read32(void *reg, __u64 off)
{
	__u32 v = 0;

	bpf_probe_read_kernel(&v, sizeof(v), reg + off);
	return v;
}

/* fault record @i after the first pending one (@idx): its register offset */
static __always_inline __u64 frcd_off(__u32 fro, __u32 idx, __u32 nfr, __u32 i)
{
	return fro + (__u64)((idx + i) % nfr) * 16;
}

/* as the kernel's pci_name(), and vfs_fault_bdf() in userspace */
static const char bdf_fmt[] = "%04x:%02x:%02x.%u";

static __always_inline void fault_emit(struct intel_iommu___vfs *iommu, __u32 unit, __u32 hi,
				       __u32 mid, __u64 addr, __u64 now)
{
	struct vfs_fault_key k = {
		.segment = BPF_CORE_READ(iommu, segment),
		.sid = mid & 0xffff,
		.reason = hi & 0xff,
		.flags = ((hi >> 30) & 1 ? VFS_FAULT_F_READ : 0) |
			 ((mid >> 31) & 1 ? VFS_FAULT_F_PASID : 0),
		.unit = unit,
	};
	__u64 args[4] = { k.segment, k.sid >> 8, (k.sid >> 3) & 0x1f, k.sid & 7 }, *obj, cg = 0;
	char name[VFS_NAME_LEN] = {};
	struct vfs_ev_iommu_fault *e;
	struct vfs_obj_info *oi;
	struct vfs_fault_val *v;

	/* the requester as VFIO knows it, and whoever used it last: the VM */
	bpf_snprintf(name, sizeof(name), bdf_fmt, args, sizeof(args));
	obj = bpf_map_lookup_elem(&dev_by_name, name);
	oi = obj ? bpf_map_lookup_elem(&obj_info, obj) : NULL;
	if (obj && oi && !oi->gone_ns) {
		k.obj = *obj;
		k.tgid = oi->owner_tgid;
		cg = oi->cgroup_id;
	}

	v = vfs_lookup_or_init(&fault_stats, &k, &zero_fault, VFS_DROP_MAP_FAULT);
	if (v) {
		__sync_fetch_and_add(&v->count, 1);
		v->last_ns = now;
		v->last_addr = addr;
	}
	if (!vfs_streamed(VFS_EV_IOMMU_FAULT))
		return;
	e = vfs_event_reserve(sizeof(*e), VFS_EV_IOMMU_FAULT);
	if (!e)
		return;
	/* an interrupt: the task it landed on is nobody's; the owner's instead */
	e->hdr.cgroup_id = cg;
	e->hdr.tgid = k.tgid;
	e->hdr.tid = 0;
	__builtin_memset(e->hdr.comm, 0, sizeof(e->hdr.comm));
	e->obj = k.obj;
	e->addr = addr;
	e->pasid = (hi >> 8) & 0xfffff;
	e->segment = k.segment;
	e->sid = k.sid;
	e->reason = k.reason;
	e->flags = k.flags;
	e->unit = unit;
	e->tier = VFS_TIER_FENTRY;
	BPF_CORE_READ_STR_INTO(&e->unit_name, iommu, name);
	vfs_event_submit(e);
}

SEC("fentry/dmar_fault")
int BPF_PROG(iommu_fault, int irq, void *dev_id)
{
	struct intel_iommu___vfs *iommu = dev_id;
	void *reg = BPF_CORE_READ(iommu, reg);
	__u64 cap = BPF_CORE_READ(iommu, cap), now = bpf_ktime_get_ns();
	__u32 unit = BPF_CORE_READ(iommu, seq_id), fsts, fro, nfr, idx, i, n = 0;
	struct vfs_fault_unit *u = bpf_map_lookup_elem(&fault_units, &unit);

	if (!reg)
		return 0;
	fsts = mmio_read32(reg, DMAR_FSTS_REG);
	if (u) {
		__sync_fetch_and_add(&u->irqs, 1);
		if (fsts & DMA_FSTS_PFO)
			__sync_fetch_and_add(&u->overflows, 1);
		if (!u->name[0])
			BPF_CORE_READ_STR_INTO(&u->name, iommu, name);
	}
	if (!(fsts & DMA_FSTS_PPF))
		return 0;
	fro = ((cap >> 24) & 0x3ff) * 16;
	nfr = ((cap >> 40) & 0xff) + 1;
	idx = (fsts >> 8) & 0xff;
	for (i = 0; i < VFS_FAULT_RECORDS_MAX && i < nfr; i++) {
		__u64 rec = frcd_off(fro, idx, nfr, i), addr = 0;
		__u32 hi = mmio_read32(reg, rec + 12), mid;

		if (!(hi & DMA_FRCD_F))
			break;
		mid = mmio_read32(reg, rec + 8);
		bpf_probe_read_kernel(&addr, sizeof(addr), reg + rec);
		fault_emit(iommu, unit, hi, mid, addr & ~0xfffull, now);
		n++;
	}
	if (u) {
		__sync_fetch_and_add(&u->records, n);
		/* the record after the last read still pending: more than we read */
		if (i == VFS_FAULT_RECORDS_MAX && i < nfr &&
		    mmio_read32(reg, frcd_off(fro, idx, nfr, i) + 12) & DMA_FRCD_F)
			__sync_fetch_and_add(&u->unread, 1);
	}
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
