// SPDX-License-Identifier: GPL-2.0
/*
 * Migration data from drivers that fire no vfioscope tracepoint: fexit on
 * the read, write and unlocked_ioctl, fentry on the release, of the
 * file_operations a migration data fd carries. Stock kernels have no
 * common hook on those fds: each driver (a vfio-pci variant, an mdev)
 * brings its own f_ops. bpf/vfio.bpf.c learns them from the fd a
 * VFIO_DEVICE_FEATURE state change returns, and the collector loads this
 * object once per learned f_op with each program's attach target set to
 * that driver's function (user/lib/collector.c, "learned migration f_ops").
 *
 * The programs read their arguments raw (bpf_get_func_arg): the functions
 * are the drivers' own, only their file_operations prototypes are known.
 * They read no module type (the device's name is in mig_files), so loading
 * one needs no module's BTF beyond the target's.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "common.bpf.h"
#include "migf.bpf.h"

/* include/uapi/linux/vfio.h: _IO(VFIO_TYPE, VFIO_BASE + 21) */
#define VFIO_MIG_GET_PRECOPY_INFO	((';' << 8) | (100 + 21))

struct precopy_info_uapi {
	__u32 argsz, flags;
	__u64 initial_bytes, dirty_bytes;
};

static __always_inline struct vfs_migf_val *migf_of(__u64 file)
{
	struct vfs_migf_val *mv = bpf_map_lookup_elem(&mig_files, &file);

	if (!mv) {
		vfs_drop(VFS_DROP_MIG_FD_UNKNOWN);
		return NULL;
	}
	/* its driver reports through the tracepoint: counted there */
	if (bpf_map_lookup_elem(&mig_tp_objs, &mv->obj))
		return NULL;
	return mv;
}

static __always_inline int migf_data(unsigned long long *ctx, __u32 write)
{
	__u64 file = 0, len = 0, ret = 0, unseen = 0;
	struct vfs_migf_val *mv;

	bpf_get_func_arg(ctx, 0, &file);
	bpf_get_func_arg(ctx, 2, &len);
	bpf_get_func_ret(ctx, &ret);
	mv = migf_of(file);
	if (!mv)
		return 0;
	if ((__s64)ret > 0) {
		/*
		 * The drivers keep the stream offset in f_pos (the fd is a
		 * stream: the VFS passes no offset). Whatever the fd moved
		 * before this call beyond what was accounted was moved while
		 * these programs were not yet attached.
		 */
		__s64 pos = BPF_CORE_READ((struct file *)file, f_pos);
		__s64 before = pos - (__s64)ret;

		if (before > mv->seen_pos)
			unseen = before - mv->seen_pos;
		if (pos > mv->seen_pos)
			mv->seen_pos = pos;
	}
	migf_emit(mv, write, len, (__s64)ret, unseen);
	return 0;
}

/* the attach targets are set at run time (user/lib/collector.c) */
SEC("fexit/vfs_learned_read")
int migf_read(unsigned long long *ctx)
{
	return migf_data(ctx, 0);
}

SEC("fexit/vfs_learned_write")
int migf_write(unsigned long long *ctx)
{
	return migf_data(ctx, 1);
}

SEC("fexit/vfs_learned_ioctl")
int migf_ioctl(unsigned long long *ctx)
{
	__u64 file = 0, cmd = 0, arg = 0, ret = 0;
	struct precopy_info_uapi u = {};
	struct vfs_ev_mig_precopy *e;
	struct vfs_migf_val *mv;

	bpf_get_func_arg(ctx, 1, &cmd);
	if ((__u32)cmd != VFIO_MIG_GET_PRECOPY_INFO)
		return 0;
	bpf_get_func_arg(ctx, 0, &file);
	bpf_get_func_arg(ctx, 2, &arg);
	bpf_get_func_ret(ctx, &ret);
	mv = migf_of(file);
	if (!mv)
		return 0;
	/* the driver wrote the answer back: read it where the VMM will */
	if (!(__s64)ret && bpf_probe_read_user(&u, sizeof(u), (void *)arg))
		ret = -14;	/* EFAULT: the answer could not be read here */
	e = vfs_event_reserve(sizeof(*e), VFS_EV_MIG_PRECOPY);
	if (!e)
		return 0;
	e->obj = mv->obj;
	e->initial_bytes = (__s64)ret ? 0 : u.initial_bytes;
	e->dirty_bytes = (__s64)ret ? 0 : u.dirty_bytes;
	e->ret = (__s64)ret;
	__builtin_memcpy(e->dev, mv->dev, sizeof(e->dev));
	vfs_event_submit(e);
	return 0;
}

/*
 * The fd's last reference went: bytes it moved that no event reported
 * (every operation ran before the attach) are reported now, and the fd is
 * forgotten. Entry, not exit: the file is still whole here.
 */
SEC("fentry/vfs_learned_release")
int migf_release(unsigned long long *ctx)
{
	struct vfs_migf_val *mv;
	__u64 file = 0;

	bpf_get_func_arg(ctx, 1, &file);
	mv = bpf_map_lookup_elem(&mig_files, &file);
	if (!mv)
		return 0;
	if (!bpf_map_lookup_elem(&mig_tp_objs, &mv->obj))
		migf_catch_up(mv, (struct file *)file);
	bpf_map_delete_elem(&mig_files, &file);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
