/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * mdev capacity: per parent device and mdev type, what sysfs says
 * (<sysfs>/class/mdev_bus/<parent>/mdev_supported_types/<type>/: name,
 * device_api, available_instances, the instances in devices/) and who
 * created each instance, learned from the collectors' mdev create events
 * (the creating process's tgid and VM name).
 *
 * A scan reads every type again; the model scans on each frame of a live
 * source and after each mdev create/remove event, so the figures follow a
 * storm of creates. Sysfs is read strictly: a value that is not a plain
 * decimal number (or a file or directory that is missing) makes the figure
 * unknown (-1), never a guess; names are stored escaped (safetext.h).
 *
 * Memory is bounded: at most VFS_MDEV_TYPES_MAX types, VFS_MDEV_INST_MAX
 * instances with a known creator and VFS_MDEV_COUNT_MAX create/remove
 * counters; what does not fit is counted (untracked types at the last
 * scan, instances and counters dropped). No allocation after
 * vfs_mdevcap_new(). Tested on fake sysfs trees in tests/unit/test_mdevcap.c.
 */
#ifndef VFIOSCOPE_MDEVCAP_H
#define VFIOSCOPE_MDEVCAP_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "abi.h"
#include "rows.h"

#define VFS_MDEV_TYPES_MAX	64
#define VFS_MDEV_INST_MAX	1024
#define VFS_MDEV_COUNT_MAX	256

/* one instance whose creation the stream showed */
struct vfs_mdev_inst {
	char uuid[37];
	char parent[VFS_NAME_LEN + 1];
	char type[VFS_NAME_LEN + 1];
	__u32 tgid;
	char vm[VFS_VM_NAME_LEN];	/* the creator's name (identity.h) */
};

/* creates or removes of one type by one VM with one result */
struct vfs_mdev_count {
	char parent[VFS_NAME_LEN + 1];
	char type[VFS_NAME_LEN + 1];
	char vm[VFS_VM_NAME_LEN];
	__u32 op;			/* enum vfs_mdev_op */
	__s32 ret;			/* 0 or -errno */
	__u64 n;
};

struct vfs_mdevcap {
	char root[256];			/* <sysfs>/class/mdev_bus */
	struct vfs_mdev_row types[VFS_MDEV_TYPES_MAX];	/* sorted by (parent, type) */
	size_t ntypes;
	struct vfs_mdev_inst inst[VFS_MDEV_INST_MAX];	/* in order of creation */
	size_t ninst;
	bool listed[VFS_MDEV_INST_MAX];	/* scan: inst[i] is in its devices/ */
	struct vfs_mdev_count count[VFS_MDEV_COUNT_MAX];
	size_t ncount;
	__u64 scans;
	int scan_err;			/* the last scan's error (0: none) */
	__u64 types_untracked;		/* at the last scan, over VFS_MDEV_TYPES_MAX */
	__u64 inst_dropped;		/* creates whose creator was not kept */
	__u64 count_dropped;		/* events not counted (counters full) */
};

/* @sysfs NULL: "/sys"; NULL on ENOMEM */
struct vfs_mdevcap *vfs_mdevcap_new(const char *sysfs);
void vfs_mdevcap_free(struct vfs_mdevcap *c);

/*
 * Read every parent's types again. Rows of types that are gone leave;
 * instances with a known creator that no devices/ lists any more are
 * forgotten. 0, or -errno when <root> cannot be read (no mdev parent:
 * -ENOENT, and no rows).
 */
int vfs_mdevcap_scan(struct vfs_mdevcap *c);

/*
 * One create or remove event, its process named @vm: counted per (parent,
 * type, VM, result); a successful create remembers the instance's creator,
 * a successful remove forgets it. Call vfs_mdevcap_scan() after it for
 * the figures. 0, or -EINVAL for an event that is not an mdev create or
 * remove.
 */
int vfs_mdevcap_event(struct vfs_mdevcap *c, const struct vfs_ev_mdev *e, const char *vm);

/* the creator of instance @uuid, NULL: not known */
const struct vfs_mdev_inst *vfs_mdevcap_creator(const struct vfs_mdevcap *c, const char *uuid);

/*
 * A sysfs count as written by the kernel: decimal digits, at most one
 * trailing newline, at most 2^53. The value, or -1 for anything else.
 */
__s64 vfs_mdev_parse_count(const char *s, size_t n);

#endif
