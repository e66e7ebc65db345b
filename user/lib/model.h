/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The rows model: the VMs and devices tables, refreshed from the
 * collector's maps once per frame. No curses and no output here (htop's
 * model/view split): vfiotop's batch, JSON and curses views and the
 * metrics exporter only read these rows.
 *
 * Rows are keyed by stable ids (a VM's pid plus its first-seen time, a
 * device's kernel address), kept sorted by id for lookups; the per-view
 * arrays of row pointers are what a view sorts and shows. Rates come from
 * the sample timestamps: unknown on the first frame (counts since attach,
 * interval unknown); a key that appears later counted from 0 at the frame
 * before, so it has a rate on its first frame.
 * Buffers are reused from frame to frame, so a steady state allocates
 * nothing; a VM's name is resolved from /proc once, when its pid appears.
 */
#ifndef VFIOSCOPE_MODEL_H
#define VFIOSCOPE_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "collector.h"
#include "map_buf.h"
#include "rows.h"

enum vfs_view { VFS_VIEW_VMS, VFS_VIEW_DEVICES, VFS_VIEW_MAX };

struct vfs_table {
	const struct vfs_field *fields;
	size_t nfields;
	int sort;		/* field index */
	bool desc;
	void **rows;		/* display order */
	size_t n, cap;
};

struct vfs_model {
	struct vfs_collector *c;
	int fd_ioctl, fd_vm, fd_vminfo, fd_obj, fd_region, fd_vq, fd_vdpa;
	struct vfs_map_buf ioctl, vm, vminfo, obj, region, vq, vdpa;
	struct vfs_vm_row *vms;		/* sorted by pid */
	size_t nvms, capvms;
	struct vfs_dev_row *devs;	/* sorted by obj */
	size_t ndevs, capdevs;
	struct vfs_table view[VFS_VIEW_MAX];
	__u64 frame;
	__u64 ts_ns, dt_ns;		/* CLOCK_MONOTONIC of this frame; since the last (0: first) */
	__u64 names_resolved;		/* /proc lookups done, for tests and budgets */
	long page_size;
};

const char *vfs_view_name(enum vfs_view v);
int vfs_view_parse(const char *s, enum vfs_view *v);

int vfs_model_init(struct vfs_model *m, struct vfs_collector *c);
/* one frame: read the maps, update rows and rates, sort the views; 0 or -errno */
int vfs_model_update(struct vfs_model *m);
/* sort one view on its current key (after a key change) */
void vfs_model_sort(struct vfs_model *m, enum vfs_view v);
void vfs_model_free(struct vfs_model *m);

#endif
