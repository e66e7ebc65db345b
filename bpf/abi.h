/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The one ABI between vfioscope's BPF programs and userspace. Included by
 * BPF C (after vmlinux.h) and by userspace C (after <linux/types.h>), so it
 * uses only __u* types, fixed-width fields and explicit padding; every
 * struct's size is asserted so a layout change cannot slip through.
 */
#ifndef VFIOSCOPE_ABI_H
#define VFIOSCOPE_ABI_H

/* What kind of VFIO file an ioctl went to. */
enum vfs_fd_kind {
	VFS_FD_CONTAINER = 1,	/* /dev/vfio/vfio */
	VFS_FD_GROUP = 2,	/* /dev/vfio/<group> */
	VFS_FD_DEVICE = 3,	/* anon [vfio-device] or a vfio cdev */
	VFS_FD_KIND_MAX = 4,
};

/* ioctlcount: map key of the per-process, per-file-kind, per-command count */
struct vfs_ioctl_key {
	__u32 tgid;
	__u32 cmd;
	__u32 kind;		/* enum vfs_fd_kind */
	__u32 pad;
};

#define VFS_ABI_ASSERT(type, size) \
	_Static_assert(sizeof(type) == (size), "ABI size of " #type)

VFS_ABI_ASSERT(struct vfs_ioctl_key, 16);

#endif /* VFIOSCOPE_ABI_H */
