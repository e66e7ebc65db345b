/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The VM ledger every family writes: vm_info, one entry per VMM process
 * (who it is, captured at first sight, and what it pins). Defined by each
 * object that includes this; userspace hands the first family's map to
 * the others (user/lib/collector.c, shared_with_families), so there is one.
 */
#ifndef VFIOSCOPE_VM_BPF_H
#define VFIOSCOPE_VM_BPF_H

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct vfs_vm_info);
} vm_info SEC(".maps");

/* scratch for building a vm_info entry (too big for the stack) */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct vfs_vm_info);
} vm_scratch SEC(".maps");

_Static_assert(VFS_CGROUP_LEVELS == 3, "vm_capture reads three cgroup levels");

/* one level of the cgroup path, innermost first; *@kn moves up */
static __always_inline void cg_level(struct vfs_vm_info *vi, const int i, struct kernfs_node **kn)
{
	if (!*kn)
		return;
	vfs_kstr(vi->cgroup[i], VFS_CGROUP_NAME_LEN, BPF_CORE_READ(*kn, name));
	*kn = vfs_kn_parent(*kn);
}

#define ARGV_CHUNK	32

/*
 * Who the current process is, kept with its vm_info entry: the start of
 * its argument area and its cgroup v2 path's last names. In the VM's own
 * context at first sight, so the name survives a VM that exits before any
 * reader looks at /proc. The argument area is read in chunks: this
 * context cannot sleep, so a page not present fails the read, and what
 * was read before it is kept.
 */
static __always_inline void vm_capture(struct vfs_vm_info *vi)
{
	struct task_struct *t = (void *)bpf_get_current_task();
	struct kernfs_node *kn;
	__u64 start, end, len, sz;
	int i;

	start = BPF_CORE_READ(t, mm, arg_start);
	end = BPF_CORE_READ(t, mm, arg_end);
	len = end > start ? end - start : 0;
	vi->arg_len = len > 0xffffffffull ? 0xffffffffu : (__u32)len;
	if (len > VFS_ARGV_LEN)
		len = VFS_ARGV_LEN;
#pragma unroll
	for (i = 0; i < VFS_ARGV_LEN / ARGV_CHUNK; i++) {
		if (len <= i * ARGV_CHUNK)
			break;
		sz = len - i * ARGV_CHUNK;
		if (sz > ARGV_CHUNK)
			sz = ARGV_CHUNK;
		/*
		 * Bounds the verifier can see on every kernel: 6.1's follows
		 * clang's reuse of len's register into a branch it cannot
		 * rule out. A no-op: sz is at most ARGV_CHUNK.
		 */
		asm volatile("" : "+r"(sz));
		sz &= 2 * ARGV_CHUNK - 1;
		if (bpf_probe_read_user(vi->argv + i * ARGV_CHUNK, sz,
					(void *)(start + i * ARGV_CHUNK)))
			break;
		vi->argv_len = i * ARGV_CHUNK + sz;
	}

	kn = BPF_CORE_READ(t, cgroups, dfl_cgrp, kn);
	cg_level(vi, 0, &kn);
	cg_level(vi, 1, &kn);
	cg_level(vi, 2, &kn);
}

/*
 * RLIMIT_MEMLOCK of @t as the kernel checks a charge against it
 * (rlimit(): signal->rlim[].rlim_cur); @bypass: type1's charge ignored it
 * (CAP_IPC_LOCK). Kept with the ledger the charge changed.
 */
#define RLIMIT_MEMLOCK_ 8	/* include/uapi/asm-generic/resource.h */

static __always_inline void note_memlock(struct vfs_vm_info *vi, struct task_struct *t,
					 bool bypass)
{
	/* @t is a BTF task (an argument, or the current task's): direct loads */
	vi->memlock_limit = t->signal->rlim[RLIMIT_MEMLOCK_].rlim_cur;
	vi->memlock_flags = VFS_MEMLOCK_KNOWN | (bypass ? VFS_MEMLOCK_BYPASS : 0);
}

/* @btf: false on the kprobe tier (no kernel structure is read there) */
static __always_inline void note_vm(__u32 tgid, const bool btf)
{
	struct vfs_vm_info *cur, *vi;
	__u64 flags = BPF_NOEXIST;
	__u32 zero = 0;

	cur = bpf_map_lookup_elem(&vm_info, &tgid);
	if (cur && !cur->exit_ns)
		return;
	/* an exited VM's pid, reused before userspace collected it: a new VM */
	if (cur)
		flags = BPF_EXIST;
	vi = bpf_map_lookup_elem(&vm_scratch, &zero);
	if (!vi)
		return;
	/* per-CPU scratch: nothing of the VM built here before may remain */
	__builtin_memset(vi, 0, sizeof(*vi));
	vi->cgroup_id = bpf_get_current_cgroup_id();
	vi->first_ns = bpf_ktime_get_ns();
	bpf_get_current_comm(vi->comm, sizeof(vi->comm));
	if (btf)
		vm_capture(vi);
	if (bpf_map_update_elem(&vm_info, &tgid, vi, flags) == -7 /* E2BIG */)
		vfs_drop(VFS_DROP_MAP_VM);
}

#endif
