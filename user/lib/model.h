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
 * nothing; a VM's name is resolved once, when its pid appears (again when
 * its vm_info entry appears after its counters did): from /proc while the
 * process lives, else from what vm_info captured at first sight.
 */
#ifndef VFIOSCOPE_MODEL_H
#define VFIOSCOPE_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "collector.h"
#include "gc.h"
#include "map_buf.h"
#include "rows.h"

enum vfs_view {
	VFS_VIEW_VMS, VFS_VIEW_DEVICES, VFS_VIEW_QUEUES, VFS_VIEW_MIGRATIONS, VFS_VIEW_EVENTS,
	VFS_VIEW_MDEV, VFS_VIEW_MAX
};

struct vfs_table {
	const struct vfs_field *fields;
	size_t nfields;
	int sort;		/* field index */
	bool desc;
	__u64 hidden;		/* bit i: field i not shown (vfs_fields_pick) */
	void **rows;		/* display order */
	size_t n, cap;
};

/*
 * The model's input, one set per frame: the collector's maps (whole-map
 * snapshots) and the stream's events since the last frame. A live source
 * reads them from the collector, a replay source from a recording.
 */
enum vfs_model_map {
	VFS_IN_IOCTL, VFS_IN_VM, VFS_IN_VMINFO, VFS_IN_OBJ, VFS_IN_REGION, VFS_IN_VQ,
	VFS_IN_VDPA, VFS_IN_ERRNO, VFS_IN_RESET, VFS_IN_FAULT, VFS_IN_MAX
};
/* the collector's name of each map ("ioctl_stats", ...) */
extern const char *const vfs_model_map_names[VFS_IN_MAX];
/* the key and value sizes the model reads each map with (bpf/abi.h) */
extern const __u32 vfs_model_map_sizes[VFS_IN_MAX][2];

/*
 * The VM name of @pid into @out: from @vi, its vm_info entry (what was
 * captured at first sight), or, when it has none yet (NULL), from @comm
 */
typedef void (*vfs_model_namer)(void *user, __u32 pid, const struct vfs_vm_info *vi,
				const char *comm, char *out, size_t len);

#define VFS_MODEL_EVENTS	128	/* recent events kept for the events view */

struct vfs_migmodel;
struct vfs_mdevcap;

struct vfs_model {
	struct vfs_collector *c;	/* NULL: fed by vfs_model_compute() only */
	int fd[VFS_IN_MAX];
	unsigned int gen;		/* the collector's generation fd[] is of */
	struct vfs_map_buf map[VFS_IN_MAX];
	struct vfs_vm_row *vms;		/* sorted by pid */
	size_t nvms, capvms;
	struct vfs_dev_row *devs;	/* sorted by obj */
	size_t ndevs, capdevs;
	struct vfs_vq_row *vqs;		/* sorted by (obj, qid) */
	size_t nvqs, capvqs;
	struct vfs_mig_row *migs;	/* in order of first appearance */
	size_t nmigs, capmigs;
	struct vfs_event_row events[VFS_MODEL_EVENTS];	/* ring */
	__u64 nevents;			/* ever added; seq of the next */
	struct vfs_migmodel *mm;
	/*
	 * mdev capacity per parent and type (mdevcap.h): a live source scans
	 * sysfs on each frame and after each mdev create/remove event
	 */
	struct vfs_mdevcap *mdev;
	__u64 migrations_done;		/* complete migrations seen */
	__u64 lost;			/* events lost (ring buffer full) */
	struct vfs_table view[VFS_VIEW_MAX];
	__u64 frame;
	__u64 ts_ns, dt_ns;		/* CLOCK_MONOTONIC of this frame; since the last (0: first) */
	__u64 rt_ns;			/* CLOCK_REALTIME of this frame */
	__u64 names_resolved;		/* name lookups done, for tests and budgets */
	long page_size;
	vfs_model_namer namer;		/* default: /proc (identity.h) */
	void *namer_user;
	/* a live source collects exited VMs and gone devices once per frame */
	struct vfs_gc gc;
	__u64 gc_grace_ns;		/* from the collector's options */
	int gc_err;			/* the last pass's error (0: none) */
};

const char *vfs_view_name(enum vfs_view v);
int vfs_view_parse(const char *s, enum vfs_view *v);

/* @c NULL: no maps, the caller fills m->map[] before each vfs_model_compute() */
int vfs_model_init(struct vfs_model *m, struct vfs_collector *c);
/* read @c's maps from now on (a model set up before the collector was) */
void vfs_model_attach(struct vfs_model *m, struct vfs_collector *c);
/* one frame: read the maps, update rows and rates, sort the views; 0 or -errno */
int vfs_model_update(struct vfs_model *m);
/* the live source's half: read the collector's maps into m->map[]; 0 or -errno */
int vfs_model_read(struct vfs_model *m);
/* the other half: one frame from m->map[] taken at @ts_ns / @rt_ns; 0 or -errno */
int vfs_model_compute(struct vfs_model *m, __u64 ts_ns, __u64 rt_ns);
/*
 * One event from the stream (before the frame it belongs to): the events
 * view and the migration model. 0 or -ENOMEM.
 */
int vfs_model_event(struct vfs_model *m, const struct vfs_event_hdr *ev, size_t size);
/*
 * The mdev part of vfs_model_event(), for a reader that keeps its own
 * events (the exporter): creators and counters, then (live) a sysfs scan.
 * 0, or -errno of the scan.
 */
int vfs_model_mdev_event(struct vfs_model *m, const struct vfs_event_hdr *ev, size_t size);
/* the stream's loss counter as it is now (events lost since attach) */
void vfs_model_lost(struct vfs_model *m, __u64 lost);
/* sort one view on its current key (after a key change) */
void vfs_model_sort(struct vfs_model *m, enum vfs_view v);
void vfs_model_free(struct vfs_model *m);

/* ---- drill-down: one VM's or device's ioctls by command, and its errnos */
#define VFS_DRILL_MAX	48

struct vfs_drill_cmd {
	__u32 kind, cmd;
	__u64 count, errors, lat_sum_ns, lat_max_ns;
	__u32 hist[VFS_HIST_SLOTS];
};

struct vfs_drill_errno {
	__u32 kind, cmd, err;
	__u64 count;
};

struct vfs_drill {
	struct vfs_drill_cmd cmd[VFS_DRILL_MAX];	/* by count, biggest first */
	size_t ncmd;
	struct vfs_drill_errno err[VFS_DRILL_MAX];	/* by count, biggest first */
	size_t nerr;
	bool truncated;					/* more than VFS_DRILL_MAX */
};

/*
 * The drill-down of a row of the VMs view (by pid) or of the devices view
 * (by device address), from the current frame's maps. false: another view.
 */
bool vfs_model_drill(const struct vfs_model *m, enum vfs_view v, const void *row,
		     struct vfs_drill *out);

#endif
