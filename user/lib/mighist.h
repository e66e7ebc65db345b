/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Migration figures accumulated for export: log2 histograms (the slots of
 * abi.h, in ns) of downtime per VM, of each device's downtime per driver
 * and VM, and of each arc's kernel time per driver, VM, side and
 * transition, plus completed migrations per VM and status. Slots are
 * log2 as in abi.h, with more of them (a downtime can last seconds). Fed with the
 * migrations migmodel completes (vfs_migmodel_next). Pure: no I/O; the
 * caller names the VM and each device's driver. Tested in
 * tests/unit/test_export.c.
 */
#ifndef VFIOSCOPE_MIGHIST_H
#define VFIOSCOPE_MIGHIST_H

#include <stddef.h>
#include <linux/types.h>
#include "abi.h"
#include "migmodel.h"

#define VFS_MH_NAME_LEN	64
/* slot i: [2^i, 2^(i+1)) ns, the last one open-ended: up to ~9 minutes */
#define VFS_MH_SLOTS	40

enum vfs_mh_kind {
	VFS_MH_VM_DOWNTIME,	/* first device stopped -> last running */
	VFS_MH_DEV_DOWNTIME,	/* one device: source stop -> destination running */
	VFS_MH_ARC,		/* one arc's kernel time */
	VFS_MH_MIGRATIONS,	/* a counter: completed migrations (count only) */
};

struct vfs_mh_series {
	enum vfs_mh_kind kind;
	char vm[VFS_MH_NAME_LEN];
	char driver[VFS_MH_NAME_LEN];	/* "" for VM-wide series */
	enum vfs_mm_role role;		/* arcs: which side took it */
	__u32 from, to;			/* arcs */
	enum vfs_mm_status status;	/* migrations */
	__u64 slots[VFS_MH_SLOTS];
	__u64 count, sum_ns;
	__u64 last_ns;			/* the latest value added */
};

struct vfs_mighist {
	struct vfs_mh_series *s;	/* in order of first appearance */
	size_t n, cap;
};

/* the driver of device @dev ("" or "unknown" when it cannot be told) */
typedef const char *(*vfs_mh_driver_fn)(const char *dev, void *ctx);

/* add one completed migration of VM @vm; 0 or -ENOMEM */
int vfs_mighist_add(struct vfs_mighist *h, const struct vfs_mm_migration *mig, const char *vm,
		    vfs_mh_driver_fn driver, void *ctx);
void vfs_mighist_free(struct vfs_mighist *h);
/* log2 slot of @ns, as the BPF side computes it, capped to VFS_MH_SLOTS */
unsigned int vfs_mh_slot(__u64 ns);

#endif
