/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vfiotop's model: the VMs and devices tables, refreshed from the
 * collector's maps once per frame. No curses here (htop's model/view
 * split): the batch, JSON and curses views only read these rows.
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
#ifndef VFIOTOP_MODEL_H
#define VFIOTOP_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "collector.h"
#include "map_buf.h"
#include "rows.h"

enum top_view { TOP_VIEW_VMS, TOP_VIEW_DEVICES, TOP_VIEW_MAX };

struct top_table {
	const struct vfs_field *fields;
	size_t nfields;
	int sort;		/* field index */
	bool desc;
	void **rows;		/* display order */
	size_t n, cap;
};

struct top_model {
	struct vfs_collector *c;
	int fd_ioctl, fd_vm, fd_vminfo, fd_obj, fd_region, fd_vq, fd_vdpa;
	struct vfs_map_buf ioctl, vm, vminfo, obj, region, vq, vdpa;
	struct vfs_vm_row *vms;		/* sorted by pid */
	size_t nvms, capvms;
	struct vfs_dev_row *devs;	/* sorted by obj */
	size_t ndevs, capdevs;
	struct top_table view[TOP_VIEW_MAX];
	__u64 frame;
	__u64 ts_ns, dt_ns;		/* CLOCK_MONOTONIC of this frame; since the last (0: first) */
	__u64 names_resolved;		/* /proc lookups done, for tests and budgets */
	long page_size;
};

const char *top_view_name(enum top_view v);
int top_view_parse(const char *s, enum top_view *v);

int top_model_init(struct top_model *m, struct vfs_collector *c);
/* one frame: read the maps, update rows and rates, sort the views; 0 or -errno */
int top_model_update(struct top_model *m);
/* sort one view on its current key (after a key change) */
void top_model_sort(struct top_model *m, enum top_view v);
void top_model_free(struct top_model *m);

#endif
