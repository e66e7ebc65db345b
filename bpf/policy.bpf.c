// SPDX-License-Identifier: GPL-2.0
/*
 * vfio-policyd's enforcement: per-VM quotas with BPF LSM.
 *
 * lsm/file_ioctl and lsm/file_ioctl_compat: rate quotas on VFIO ioctls,
 * through the native and the 32-bit entry alike. The fast path returns on
 * the command alone (VFIO and iommufd commands are _IO(';', n): no
 * direction or size bits), then the file's f_op must be one of the
 * kernel's own VFIO file_operations (pol_fops, resolved by the daemon from
 * kallsyms: container, group, device, iommufd), which also gives its kind.
 * The caller's VM is its pol_member entry (processes selected by pid or
 * name, and every process they fork), else the deepest selected ancestor
 * of its cgroup. Each (VM, rule, class) has a token bucket kept as GCRA:
 * one 64-bit "theoretical arrival time" paid with an atomic add, so
 * concurrent callers on several CPUs never lose or double-spend a token
 * and no lock is needed. Only kernel-side state decides (command, file,
 * time, counters): never the ioctl's user memory.
 *
 * lsm/file_permission: mdev instance caps, on writes to an mdev type's
 * sysfs "create" attribute. Instances are counted by fexit on
 * mdev_device_create (success) and fentry/fexit on mdev_device_remove.
 *
 * Errno contract: -EAGAIN over a rate, -EDQUOT over a capacity. A non-zero
 * verdict of an earlier LSM program is passed through untouched.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "common.bpf.h"
#include "vfio_types.bpf.h"

#define EAGAIN		11
#define EDQUOT		122
#define VFIO_TYPE	';'
#define VFIO_CMD(n)	((VFIO_TYPE << 8) | (100 + (n)))
#define VFIO_DEVICE_RESET		VFIO_CMD(11)
#define VFIO_IOMMU_MAP_DMA		VFIO_CMD(13)	/* container */
#define VFIO_DEVICE_PCI_HOT_RESET	VFIO_CMD(13)	/* device: same number */
#define VFIO_IOMMU_UNMAP_DMA		VFIO_CMD(14)
#define VFIO_DEVICE_FEATURE		VFIO_CMD(17)
#define IOMMU_IOAS_COPY		((VFIO_TYPE << 8) | 0x83)
#define IOMMU_IOAS_MAP		((VFIO_TYPE << 8) | 0x85)
#define IOMMU_IOAS_UNMAP	((VFIO_TYPE << 8) | 0x86)
/* cgroup levels walked for a selected ancestor (systemd nests 4-6 deep) */
#define CG_LEVELS	32
#define SYSFS_MAGIC_	0x62656572
#define MAY_WRITE_	0x2

/* ------------------------------------------------------------------- maps */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct vfs_pol_conf);
} pol_conf SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, struct vfs_pol_target);
	__type(value, __u32);		/* rule id */
} pol_target SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u32);		/* tgid */
	__type(value, struct vfs_pol_member);
} pol_member SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct vfs_pol_fops);
} pol_fops SEC(".maps");

/* processes reported as VFS_POL_ACT_UNKNOWN (once each; a fork clears) */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);		/* tgid */
	__type(value, __u8);
} pol_seen SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, VFS_POL_H_MAX);
	__type(key, __u32);
	__type(value, __u64);
} pol_health SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, VFS_POL_MAX_RULES);
	__type(key, __u32);
	__type(value, struct vfs_pol_rule);
} pol_rule SEC(".maps");

/*
 * Not an LRU: an evicted bucket would come back full. When the table is
 * full a new VM's calls are refused (fail closed) and counted.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, struct vfs_pol_bucket_key);
	__type(value, __u64);		/* theoretical arrival time, ns */
} pol_bucket SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct vfs_pol_stat_key);
	__type(value, struct vfs_pol_stat);
} pol_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, struct vfs_pol_mdev_key);
	__type(value, struct vfs_pol_mdev_cap);
} pol_mdev_cap SEC(".maps");

/* instances per parent/type and per creating rule (key: rule id) */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct vfs_pol_mdev_key);
	__type(value, __s64);
} pol_mdev_count SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, VFS_POL_MAX_RULES);
	__type(key, __u32);
	__type(value, __s64);
} pol_rule_mdev SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, struct vfs_pol_uuid);
	__type(value, __u32);		/* rule id of the creator */
} pol_mdev_owner SEC(".maps");

/* an mdev removal in progress on a thread: names read before the free */
struct mdev_rm {
	struct vfs_pol_mdev_key key;
	struct vfs_pol_uuid uuid;
	__u64 mdev;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);		/* tid */
	__type(value, struct mdev_rm);
} pol_mdev_rm SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct mdev_rm);
} pol_scratch SEC(".maps");

static const struct vfs_pol_stat zero_stat;
static const __s64 zero_count;

/* ---------------------------------------------------------------- helpers */
static __always_inline void health(__u32 reason)
{
	__u64 *n = bpf_map_lookup_elem(&pol_health, &reason);

	if (n)
		(*n)++;
}

struct caller {
	__u64 vm;		/* VFS_POL_VM_* */
	__u32 rule;
	__u32 tgid;
};

struct cg_walk {
	__u64 vm;		/* the deepest selected ancestor's id */
	__u32 rule;
	int level;		/* its level; -1: none */
};

/*
 * One level of the caller's cgroup ancestry (bpf_loop callback: verified
 * once, whatever the depth; an open-coded loop of lookups is too many
 * states for 6.1's verifier).
 */
static long cg_level(__u32 lvl, struct cg_walk *w)
{
	struct vfs_pol_target t = { .kind = VFS_POL_T_CGROUP };
	__u64 id = bpf_get_current_ancestor_cgroup_id(lvl);
	__u32 *r;

	if (!id)
		return 1;	/* below the caller's own cgroup */
	t.id = id;
	r = bpf_map_lookup_elem(&pol_target, &t);
	if (r) {
		w->rule = *r;
		w->level = lvl;
		w->vm = id;
	}
	return 0;
}

/*
 * The calling process's VM and rule: its pol_member entry (pid and name
 * selectors, inherited at fork), else the deepest selected ancestor of
 * its cgroup. Under a selected cgroup each cgroup right below it is one
 * VM (a libvirt scope under machine.slice), and the selected cgroup
 * itself for processes placed directly in it: a sub-cgroup made further
 * down is still the same VM.
 */
static __always_inline bool caller_vm(struct caller *c)
{
	struct cg_walk w = { .level = -1 };
	struct vfs_pol_member *m;
	__u64 id;

	c->tgid = bpf_get_current_pid_tgid() >> 32;
	m = bpf_map_lookup_elem(&pol_member, &c->tgid);
	if (m) {
		c->vm = m->vm;
		c->rule = m->rule;
		return true;
	}
	bpf_loop(CG_LEVELS, cg_level, &w, 0);
	if (w.level < 0)
		return false;
	id = bpf_get_current_ancestor_cgroup_id(w.level + 1);
	c->vm = VFS_POL_VM_CGROUP | ((id ? id : w.vm) & VFS_POL_VM_ID_MASK);
	c->rule = w.rule;
	return true;
}

static __always_inline __u32 effective_mode(__u32 mode)
{
	struct vfs_pol_conf *c;
	__u32 zero = 0;

	if (mode != VFS_POL_MODE_INHERIT)
		return mode;
	c = bpf_map_lookup_elem(&pol_conf, &zero);
	return c ? c->mode : VFS_POL_MODE_ENFORCE;
}

static __always_inline void count(__u32 rule, __u32 tgid, __u32 class, __u32 action)
{
	struct vfs_pol_stat_key k = { .rule = rule, .tgid = tgid, .class = class };
	struct vfs_pol_stat *s = vfs_lookup_or_init(&pol_stats, &k, &zero_stat,
						    VFS_DROP_MAP_VM);

	if (!s)
		return;
	/* per-CPU values: plain increments */
	switch (action) {
	case 0: s->allowed++; break;
	case VFS_POL_ACT_THROTTLE: s->throttled++; break;
	case VFS_POL_ACT_DENY: s->denied++; break;
	default: s->would_deny++; break;
	}
}

static __always_inline void emit(__u32 rule, __u32 class, __u32 cmd, __u32 kind, __s32 err,
				 __u32 action)
{
	struct vfs_ev_policy *e = vfs_event_reserve(sizeof(*e), VFS_EV_POLICY);

	if (!e)
		return;
	e->rule = rule;
	e->class = class;
	e->cmd = cmd;
	e->kind = kind;
	e->err = err;
	e->action = action;
	bpf_ringbuf_submit(e, 0);
}

static __always_inline bool owner_is(struct module *owner, const char *want, int len)
{
	char name[8] = {};
	int i;

	if (!owner)
		return false;
	bpf_probe_read_kernel(name, sizeof(name), owner->name);
	for (i = 0; i < len && i < (int)sizeof(name); i++)
		if (name[i] != want[i])
			return false;
	return len < (int)sizeof(name) && !name[len];
}

/*
 * The VFIO file kind of @f: its f_op is one of the kernel's own VFIO
 * file_operations. 0 when it is none of them; a file of the vfio or
 * iommufd module whose kind is not resolved (module reloaded since the
 * daemon looked) is counted as unclassified, never silently passed.
 */
static __always_inline __u32 vfio_file_kind(struct file *f)
{
	const struct file_operations *fop = BPF_CORE_READ(f, f_op);
	struct vfs_pol_fops *t;
	__u32 zero = 0, k;

	t = bpf_map_lookup_elem(&pol_fops, &zero);
	if (!t || !fop)
		return 0;
	for (k = VFS_FD_CONTAINER; k < VFS_FD_KIND_MAX; k++)
		if (t->fops[k] && t->fops[k] == (__u64)fop)
			return k;
	if (owner_is(BPF_CORE_READ(fop, owner), "vfio", 4) ||
	    owner_is(BPF_CORE_READ(fop, owner), "iommufd", 7))
		health(VFS_POL_H_UNCLASSIFIED);
	return 0;
}

static __always_inline __u32 classify(__u32 kind, __u32 cmd)
{
	if (kind == VFS_FD_IOMMUFD) {
		/* iommufd's own map calls, and its VFIO compat container's */
		if (cmd == IOMMU_IOAS_MAP || cmd == IOMMU_IOAS_COPY || cmd == VFIO_IOMMU_MAP_DMA)
			return VFS_POL_DMA_MAP;
		if (cmd == IOMMU_IOAS_UNMAP || cmd == VFIO_IOMMU_UNMAP_DMA)
			return VFS_POL_DMA_UNMAP;
	} else if (kind == VFS_FD_CONTAINER) {
		if (cmd == VFIO_IOMMU_MAP_DMA)
			return VFS_POL_DMA_MAP;
		if (cmd == VFIO_IOMMU_UNMAP_DMA)
			return VFS_POL_DMA_UNMAP;
	} else if (kind == VFS_FD_DEVICE) {
		if (cmd == VFIO_DEVICE_RESET || cmd == VFIO_DEVICE_PCI_HOT_RESET)
			return VFS_POL_RESET;
		if (cmd == VFIO_DEVICE_FEATURE)
			return VFS_POL_MIGRATION;
	}
	return VFS_POL_OTHER;
}

/*
 * A VFIO caller no rule covers: with pid or name selectors in the policy,
 * the daemon hears of it once, and looks at it at once.
 */
static __always_inline void report_unknown(__u32 tgid, __u32 cmd, __u32 kind)
{
	struct vfs_pol_conf *conf;
	__u32 zero = 0;
	__u8 one = 1;

	conf = bpf_map_lookup_elem(&pol_conf, &zero);
	if (!conf || !(conf->flags & VFS_POL_C_DISCOVER))
		return;
	/* a lookup first: every later call of that process stops here */
	if (bpf_map_lookup_elem(&pol_seen, &tgid) ||
	    bpf_map_update_elem(&pol_seen, &tgid, &one, BPF_NOEXIST))
		return;
	emit(0, VFS_POL_OTHER, cmd, kind, 0, VFS_POL_ACT_UNKNOWN);
}

/*
 * GCRA admission: true if a call is admitted now (and paid for). A bucket
 * starts full. A bucket whose arrival time lags behind now (unused for a
 * while: full) is first brought up to now with one compare-and-swap; a
 * lost race there means another call just moved it, which is as good.
 * Then the call pays with an atomic add, so concurrent calls never fail
 * for racing each other and never spend the same credit twice. One over
 * the tolerance gives its payment back. (A retry loop on compare-and-swap
 * refused calls of a VM whose other vCPU kept winning the race: seen under
 * TCG, a SET_IRQS refused from a bucket of 10^8/s.)
 */
static __always_inline bool bucket_admit(const struct vfs_pol_bucket_cfg *cfg,
					 struct vfs_pol_bucket_key *k)
{
	__u64 now = bpf_ktime_get_ns();
	__u64 *tat = bpf_map_lookup_elem(&pol_bucket, k);
	__u64 old;

	if (!tat) {
		__u64 init = now;

		bpf_map_update_elem(&pol_bucket, k, &init, BPF_NOEXIST);
		tat = bpf_map_lookup_elem(&pol_bucket, k);
		if (!tat) {
			health(VFS_POL_H_BUCKET_FULL);
			return false;	/* bucket table exhausted: fail closed */
		}
	}
	old = *(volatile __u64 *)tat;
	if (old < now)
		__sync_val_compare_and_swap(tat, old, now);
	old = __sync_fetch_and_add(tat, cfg->interval_ns);
	if (old > now && old - now > cfg->tolerance_ns) {
		__sync_fetch_and_sub(tat, cfg->interval_ns);
		return false;
	}
	return true;
}

/* ----------------------------------------------------------- ioctl quotas */
/*
 * The decision for a VFIO ioctl of @kind: 0 or -EAGAIN. @can_deny is false
 * on the fentry entry points (no BPF LSM): they count as monitor mode.
 */
static __always_inline int decide(unsigned int cmd, __u32 kind, bool can_deny)
{
	struct vfs_pol_bucket_key bk = {};
	struct vfs_pol_rule *r;
	struct caller c;
	__u32 class, tgid, rid;
	int i;

	if (!caller_vm(&c)) {
		report_unknown(c.tgid, cmd, kind);
		return 0;
	}
	rid = c.rule;
	tgid = c.tgid;
	r = bpf_map_lookup_elem(&pol_rule, &rid);
	if (!r)
		return 0;
	class = classify(kind, cmd);
	bk.vm = c.vm;
	bk.rule = rid;
	/* the class's own bucket, then the "all" bucket */
	for (i = 0; i < 2; i++) {
		__u32 b = i ? VFS_POL_ALL : class;

		if (b >= VFS_POL_BUCKETS || !r->bucket[b].interval_ns)
			continue;
		bk.class = b;
		if (bucket_admit(&r->bucket[b], &bk))
			continue;
		if (!can_deny || effective_mode(r->mode) == VFS_POL_MODE_MONITOR) {
			count(rid, tgid, class, VFS_POL_ACT_WOULD_THROTTLE);
			emit(rid, b, cmd, kind, 0, VFS_POL_ACT_WOULD_THROTTLE);
			return 0;
		}
		count(rid, tgid, class, VFS_POL_ACT_THROTTLE);
		emit(rid, b, cmd, kind, -EAGAIN, VFS_POL_ACT_THROTTLE);
		return -EAGAIN;
	}
	count(rid, tgid, class, 0);
	return 0;
}

static __always_inline bool is_vfio_cmd(unsigned int cmd)
{
	return (cmd & 0xffffff00u) == (VFIO_TYPE << 8);
}

static __always_inline int ioctl_gate(struct file *file, unsigned int cmd, int ret)
{
	__u32 kind;

	if (ret)
		return ret;
	if (!is_vfio_cmd(cmd))
		return 0;
	kind = vfio_file_kind(file);
	if (!kind)
		return 0;
	return decide(cmd, kind, true);
}

SEC("lsm/file_ioctl")
int BPF_PROG(pol_file_ioctl, struct file *file, unsigned int cmd, unsigned long arg, int ret)
{
	return ioctl_gate(file, cmd, ret);
}

/*
 * The 32-bit entry (compat_sys_ioctl) has its own hook since 6.8 (also in
 * 6.1.74+ and 6.6.13+); kernels before it call file_ioctl there too.
 */
SEC("lsm/file_ioctl_compat")
int BPF_PROG(pol_file_ioctl_compat, struct file *file, unsigned int cmd, unsigned long arg,
	     int ret)
{
	return ioctl_gate(file, cmd, ret);
}

/*
 * A VM's processes share its quota: a fork copies the parent's pol_member
 * entry to the child, and clears whatever an exited process left at the
 * child's tgid. Threads share their process's entry.
 */
SEC("tp_btf/sched_process_fork")
int BPF_PROG(pol_fork, struct task_struct *parent, struct task_struct *child)
{
	__u32 ptgid = parent->tgid, ctgid = child->tgid;
	struct vfs_pol_member *m, v;

	if (child->pid != ctgid)
		return 0;
	bpf_map_delete_elem(&pol_seen, &ctgid);
	m = bpf_map_lookup_elem(&pol_member, &ptgid);
	if (!m) {
		bpf_map_delete_elem(&pol_member, &ctgid);
		return 0;
	}
	v = *m;
	v.flags |= VFS_POL_M_INHERITED;
	if (bpf_map_update_elem(&pol_member, &ctgid, &v, BPF_ANY))
		health(VFS_POL_H_MEMBER_FULL);
	return 0;
}

/*
 * Without BPF LSM the same decision runs on the VFIO ioctl entry points,
 * where it can only count (monitor mode whatever the policy says).
 */
SEC("fentry/vfio_fops_unl_ioctl")
int BPF_PROG(pol_mon_container, struct file *file, unsigned int cmd, unsigned long arg)
{
	return is_vfio_cmd(cmd) ? decide(cmd, VFS_FD_CONTAINER, false) : 0;
}

SEC("fentry/vfio_group_fops_unl_ioctl")
int BPF_PROG(pol_mon_group, struct file *file, unsigned int cmd, unsigned long arg)
{
	return is_vfio_cmd(cmd) ? decide(cmd, VFS_FD_GROUP, false) : 0;
}

SEC("fentry/vfio_device_fops_unl_ioctl")
int BPF_PROG(pol_mon_device, struct file *file, unsigned int cmd, unsigned long arg)
{
	return is_vfio_cmd(cmd) ? decide(cmd, VFS_FD_DEVICE, false) : 0;
}

/* ------------------------------------------------------------ mdev quotas */
static __always_inline bool name_is(const char *kname, const char *want, int len)
{
	char buf[24] = {};
	int i;

	if (bpf_probe_read_kernel_str(buf, sizeof(buf), kname) != len + 1)
		return false;
	for (i = 0; i < len && i < (int)sizeof(buf); i++)
		if (buf[i] != want[i])
			return false;
	return true;
}

static __always_inline __s64 counted(void *map, const void *key)
{
	__s64 *n = bpf_map_lookup_elem(map, key);

	return n ? *n : 0;
}

/* a write to <parent>/mdev_supported_types/<type>/create in sysfs */
SEC("lsm/file_permission")
int BPF_PROG(pol_mdev_create, struct file *file, int mask, int ret)
{
	struct vfs_pol_mdev_key key = {};
	struct kernfs_node *kn, *tdir, *mst;
	struct vfs_pol_mdev_cap *cap;
	struct vfs_pol_rule *r;
	struct caller c;
	__u32 rid = 0, mode;

	if (ret)
		return ret;
	if (!(mask & MAY_WRITE_))
		return 0;
	if (BPF_CORE_READ(file, f_inode, i_sb, s_magic) != SYSFS_MAGIC_)
		return 0;
	kn = BPF_CORE_READ(file, f_inode, i_private);
	if (!kn || !name_is(BPF_CORE_READ(kn, name), "create", 6))
		return 0;
	tdir = vfs_kn_parent(kn);
	mst = vfs_kn_parent(tdir);
	if (!mst || !name_is(BPF_CORE_READ(mst, name), "mdev_supported_types", 20))
		return 0;
	vfs_kstr(key.type, sizeof(key.type), BPF_CORE_READ(tdir, name));
	vfs_kstr(key.parent, sizeof(key.parent), BPF_CORE_READ(vfs_kn_parent(mst), name));

	cap = bpf_map_lookup_elem(&pol_mdev_cap, &key);
	if (cap && counted(&pol_mdev_count, &key) >= cap->max) {
		mode = effective_mode(cap->mode);
		goto refuse;
	}
	if (!caller_vm(&c))
		return 0;
	rid = c.rule;
	r = bpf_map_lookup_elem(&pol_rule, &rid);
	if (!r || !(r->flags & VFS_POL_F_MDEV_MAX) ||
	    counted(&pol_rule_mdev, &rid) < r->mdev_max)
		return 0;
	mode = effective_mode(r->mode);
refuse:
	if (mode == VFS_POL_MODE_MONITOR) {
		count(rid, bpf_get_current_pid_tgid() >> 32, VFS_POL_OTHER,
		      VFS_POL_ACT_WOULD_DENY);
		emit(rid, VFS_POL_OTHER, 0, 0, 0, VFS_POL_ACT_WOULD_DENY);
		return 0;
	}
	count(rid, bpf_get_current_pid_tgid() >> 32, VFS_POL_OTHER, VFS_POL_ACT_DENY);
	emit(rid, VFS_POL_OTHER, 0, 0, -EDQUOT, VFS_POL_ACT_DENY);
	return -EDQUOT;
}

static __always_inline void mdev_key(struct vfs_pol_mdev_key *k, struct mdev_type___vfs *type)
{
	vfs_kstr(k->parent, sizeof(k->parent), BPF_CORE_READ(type, parent, dev, kobj.name));
	vfs_kstr(k->type, sizeof(k->type), BPF_CORE_READ(type, kobj.name));
}

static __always_inline void add(void *map, const void *key, __s64 d)
{
	__s64 *n = vfs_lookup_or_init(map, key, &zero_count, VFS_DROP_MAP_VM);

	if (n)
		__sync_fetch_and_add(n, d);
}

SEC("fexit/mdev_device_create")
int BPF_PROG(pol_mdev_created, struct mdev_type___vfs *type, const guid_t *uuid, int ret)
{
	struct vfs_pol_uuid u;
	struct mdev_rm *s;
	struct caller c;
	__u32 zero = 0;

	if (ret)
		return 0;
	s = bpf_map_lookup_elem(&pol_scratch, &zero);
	if (!s)
		return 0;
	__builtin_memset(&s->key, 0, sizeof(s->key));
	mdev_key(&s->key, type);
	add(&pol_mdev_count, &s->key, 1);
	if (!caller_vm(&c))
		return 0;
	bpf_probe_read_kernel(&u, sizeof(u), uuid);
	if (!bpf_map_update_elem(&pol_mdev_owner, &u, &c.rule, BPF_ANY))
		add(&pol_rule_mdev, &c.rule, 1);
	return 0;
}

SEC("fentry/mdev_device_remove")
int BPF_PROG(pol_mdev_rm_enter, struct mdev_device___vfs *mdev)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid(), zero = 0;
	struct mdev_rm *s = bpf_map_lookup_elem(&pol_scratch, &zero);

	if (!s)
		return 0;
	__builtin_memset(&s->key, 0, sizeof(s->key));
	mdev_key(&s->key, BPF_CORE_READ(mdev, type));
	bpf_probe_read_kernel(&s->uuid, sizeof(s->uuid), &mdev->uuid);
	s->mdev = (__u64)mdev;
	if (bpf_map_update_elem(&pol_mdev_rm, &tid, s, BPF_ANY))
		vfs_drop(VFS_DROP_MAP_INFLIGHT);
	return 0;
}

SEC("fexit/mdev_device_remove")
int BPF_PROG(pol_mdev_rm_exit, struct mdev_device___vfs *mdev, int ret)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct mdev_rm *s = bpf_map_lookup_elem(&pol_mdev_rm, &tid);
	__u32 *owner;

	if (!s || s->mdev != (__u64)mdev)
		return 0;
	if (!ret) {
		__s64 *n = bpf_map_lookup_elem(&pol_mdev_count, &s->key);

		if (n)
			__sync_fetch_and_add(n, -1);
		owner = bpf_map_lookup_elem(&pol_mdev_owner, &s->uuid);
		if (owner) {
			n = bpf_map_lookup_elem(&pol_rule_mdev, owner);
			if (n)
				__sync_fetch_and_add(n, -1);
			bpf_map_delete_elem(&pol_mdev_owner, &s->uuid);
		}
	}
	bpf_map_delete_elem(&pol_mdev_rm, &tid);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
