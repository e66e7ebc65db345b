/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Garbage collection of the collectors' maps. The BPF programs mark a VM
 * whose process exited (vm_info.exit_ns) and a device that went away
 * (obj_info.gone_ns) but delete nothing, so a reader still sees, for a
 * grace period, what they did and that they are gone. After it, a reader
 * deletes every entry keyed by them, from every map keyed by them: the
 * maps stop growing with VM and device churn, and no stale row stays.
 *
 * Who collects: every reader that refreshes (vfiotop, vfio-policyd's
 * exporter, through the model) calls vfs_gc_run() once per refresh, with
 * the marker maps it read for that refresh.
 * Deleting is idempotent, so readers of one pinned set may all collect;
 * the first that sees a mark past the grace period removes the entries and
 * counts them. What it removes is per VM and per device only: each one's
 * Prometheus series ends, as series of a finished process do; vfioscope
 * exports no total summed from those entries, so nothing aggregate goes
 * backwards.
 *
 * What goes, for a VM (tgid) past its grace: its vm_info and vm_stats
 * entries, its ioctl_stats and ioctl_errno keys, and the containers and
 * groups it owned (per-process handles; a group is noted again when a
 * next VM uses it). For a device past its grace: its obj_info entry and
 * every key naming it (ioctl_stats, ioctl_errno, region_stats, irq_stats,
 * mig_pending). A vDPA device unregistered (vdpa.bpf.c: vdpa_info.gone_ns)
 * past its grace: its vdpa_info and vq_stats entries. A container or group
 * whose owner is no VM at all (vm_info was full) goes a grace period after
 * it was first seen. Each markers' entry is read again right before its
 * delete, so a pid or address reused since the plan keeps its fresh entry.
 */
#ifndef VFIOSCOPE_GC_H
#define VFIOSCOPE_GC_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "abi.h"
#include "map_buf.h"

#define VFS_GC_GRACE_NS	(30ull * 1000000000ull)	/* default grace period */

struct vfs_collector;

struct vfs_gc_stats {
	__u64 runs;		/* vfs_gc_run() calls that looked at the maps */
	/* by this reader (readers of one pinned set add up to the total) */
	__u64 vms;		/* VMs collected */
	__u64 objs;		/* objects (devices, containers, groups) collected */
	__u64 entries;		/* map entries deleted, all maps */
	__u64 errors;		/* deletes that failed other than "already gone" */
};

/* what one pass decided: sorted keys, kept between passes */
struct vfs_gc {
	__u32 *vms;
	size_t nvms, capvms;
	__u64 *objs;
	size_t nobjs, capobjs;
	__u32 *known;		/* every tgid in vm_info */
	size_t nknown, capknown;
	void *keys;		/* one map's keys to delete */
	size_t capkeys;
	__u64 now, grace;	/* of the last plan */
	struct vfs_gc_stats stats;
};

/*
 * The decision, a pure function of the marker maps' contents (vm_info,
 * obj_info, vdpa_info, taken
 * at monotonic time @now_ns, the clock of bpf_ktime_get_ns): fills g->vms
 * and g->objs with what goes. 0 or -ENOMEM.
 */
int vfs_gc_plan(struct vfs_gc *g, const struct vfs_map_buf *vminfo,
		const struct vfs_map_buf *objinfo, const struct vfs_map_buf *vdpainfo,
		__u64 now_ns, __u64 grace_ns);
bool vfs_gc_vm_goes(const struct vfs_gc *g, __u32 tgid);
/* a VFIO object (obj_info's key; vDPA devices: vfs_gc_key_goes) */
bool vfs_gc_obj_goes(const struct vfs_gc *g, __u64 obj);
/* a key of map @map goes: false for a map the collection does not touch */
bool vfs_gc_key_goes(const struct vfs_gc *g, const char *map, const void *key);

/*
 * One pass over @c's maps: plan from the marker maps' contents as the
 * caller just read them (the model's own tables), then delete. 1 if
 * entries were due (the markers then changed: read them again), 0 if
 * nothing was, -errno; counts in g->stats.
 */
int vfs_gc_run(struct vfs_gc *g, struct vfs_collector *c, const struct vfs_map_buf *vminfo,
	       const struct vfs_map_buf *objinfo, const struct vfs_map_buf *vdpainfo,
	       __u64 now_ns, __u64 grace_ns);
void vfs_gc_free(struct vfs_gc *g);

#endif
