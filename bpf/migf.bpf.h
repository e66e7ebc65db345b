/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Migration data fds and the f_ops they carry, shared by bpf/vfio.bpf.c
 * (which learns them where a state change returns a data fd, and sweeps
 * them when the next is asked for) and bpf/migfops.bpf.c (the programs
 * the collector attaches to each learned f_op's read, write,
 * unlocked_ioctl and release). Userspace hands one instance of each map to
 * both objects. Include after common.bpf.h.
 */
#ifndef VFIOSCOPE_MIGF_BPF_H
#define VFIOSCOPE_MIGF_BPF_H

#include "abi.h"

#define FMODE_WRITE_	0x2	/* include/linux/fs.h */

/* struct file of a live data fd -> its device and accounted offset */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1024);
	__type(key, __u64);
	__type(value, struct vfs_migf_val);
} mig_files SEC(".maps");

/* file_operations seen on data fds -> their functions (the learn queue) */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 64);
	__type(key, __u64);
	__type(value, struct vfs_fops_val);
} mig_fops SEC(".maps");

/*
 * Devices whose driver fires vfio:vfio_mig_data (vfioscope's tracepoint):
 * their data is reported by it, and the learned f_op programs stay quiet.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1024);
	__type(key, __u64);
	__type(value, __u8);
} mig_tp_objs SEC(".maps");

/* one data event of a learned fd (bytes 0, ret 0: catch-up alone) */
static __always_inline void migf_emit(const struct vfs_migf_val *mv, __u32 write, __u64 len,
				      __s64 ret, __u64 unseen)
{
	struct vfs_ev_mig_data *e = vfs_event_reserve(sizeof(*e), VFS_EV_MIG_DATA);

	if (!e)
		return;
	e->obj = mv->obj;
	e->bytes = len;
	e->ret = ret;
	e->write = write;
	e->tier = VFS_TIER_FENTRY;
	e->unseen = unseen;
	__builtin_memcpy(e->dev, mv->dev, sizeof(e->dev));
	vfs_event_submit(e);
}

/*
 * Bytes @f moved that no event reported (its f_op's functions were not
 * attached yet), from its f_pos: the drivers keep their stream offset
 * there (the fds are streams: the VFS passes no offset). Reported alone,
 * and accounted.
 */
static __always_inline void migf_catch_up(struct vfs_migf_val *mv, struct file *f)
{
	__s64 pos = BPF_CORE_READ(f, f_pos);

	if (pos <= mv->seen_pos)
		return;
	migf_emit(mv, !!(BPF_CORE_READ(f, f_mode) & FMODE_WRITE_), 0, 0, pos - mv->seen_pos);
	mv->seen_pos = pos;
}

#endif
