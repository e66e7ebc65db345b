/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The collector: loads vfioscope's BPF objects, one per event-class family
 * (vfio.bpf.c, vdpa.bpf.c), chooses a tier per event class on this kernel
 * and says why, and gives readers the maps and the event stream. The only
 * code that calls libbpf (with the objects' own glue in coll_*.c).
 */
#ifndef VFIOSCOPE_COLLECTOR_H
#define VFIOSCOPE_COLLECTOR_H

#include <stdbool.h>
#include <stdio.h>
#include <linux/types.h>
#include "abi.h"

/* event classes, as reported by --features */
enum vfs_class {
	VFS_CLASS_IOCTL,	/* VFIO ioctls per VM, device, command */
	VFS_CLASS_DMA,		/* type1 map/unmap, pinned memory */
	VFS_CLASS_PIN,		/* vfio_pin_pages for emulated-IOMMU devices */
	VFS_CLASS_REGION,	/* region read/write/mmap */
	VFS_CLASS_IRQ_SET,	/* VFIO_DEVICE_SET_IRQS */
	VFS_CLASS_IRQ_SIGNAL,	/* interrupt delivery */
	VFS_CLASS_MDEV,		/* mdev create/remove */
	VFS_CLASS_MIG_ARC,	/* migration FSM arcs */
	VFS_CLASS_MIG_DATA,	/* migration data fd bytes */
	VFS_CLASS_VDPA_DEV,	/* vDPA device add/del/status */
	VFS_CLASS_VDPA_VQ,	/* virtqueue kicks and calls */
	VFS_CLASS_DMA_RESULT,	/* type1 map/unmap results (tracepoint series only) */
	VFS_CLASS_MIG_REQUEST,	/* kernel-timed migration requests (tracepoint series only) */
	VFS_CLASS_MAX,
};

const char *vfs_class_name(enum vfs_class c);
const char *vfs_tier_name(enum vfs_tier t);

struct vfs_tier_choice {
	enum vfs_tier tier;	/* VFS_TIER_NONE: unsupported here */
	char reason[192];	/* one sentence a user can act on */
};

struct vfs_collector_opts {
	size_t ringbuf_bytes;	/* 0: 1 MiB; a power of two */
	__u32 map_entries;	/* 0: default per map; else hash map size */
	bool verbose;		/* libbpf debug output */
	/* force a tier for a class (tests, --tier): VFS_TIER_NONE = choose */
	enum vfs_tier force[VFS_CLASS_MAX];
};

struct vfs_collector;

/*
 * One family's glue (coll_vfio.c, coll_vdpa.c). open() opens the skeleton,
 * decides each of its classes' tier with vfs_collector_choose() (disabling
 * the other entry points with bpf_program__set_autoload), hands the shared
 * maps over with vfs_collector_share_maps() and sizes its maps; load()
 * loads and attaches. map_fd() finds one of its maps by name. dump() prints
 * its counters for vfiostat.
 */
struct vfs_family {
	const char *name;
	int (*open)(struct vfs_collector *c, void **ctx);
	int (*load)(struct vfs_collector *c, void *ctx);
	int (*map_fd)(void *ctx, const char *map);
	/*
	 * Print the family's counters as lines of "<what> <names...> <field>
	 * <value>..." (vfiostat; the tests' comparison format). Names come
	 * from the *_info maps, never kernel addresses.
	 */
	void (*dump)(struct vfs_collector *c, void *ctx, FILE *out);
	void (*destroy)(void *ctx);
};

extern const struct vfs_family vfs_family_vfio;
extern const struct vfs_family vfs_family_vdpa;

/*
 * Probe, open, load and attach every family. Returns 0, or -errno with a
 * sentence in @err (e.g. "not root: loading BPF needs CAP_BPF and
 * CAP_PERFMON"). A family whose kernel modules are absent loads with its
 * classes reported unsupported, not as an error.
 */
int vfs_collector_open(struct vfs_collector **c, const struct vfs_collector_opts *opts,
		       char *err, size_t errlen);
void vfs_collector_close(struct vfs_collector *c);

const struct vfs_tier_choice *vfs_collector_tier(const struct vfs_collector *c,
						 enum vfs_class cls);
/* one line per class: "class  tier  reason" */
void vfs_collector_print_features(const struct vfs_collector *c, FILE *out);

/* a map of any family by name ("ioctl_stats", "vq_stats", "drops", ...) */
int vfs_collector_map_fd(const struct vfs_collector *c, const char *map);

/* the stream: @cb gets each event (header first); returns events consumed */
typedef int (*vfs_event_cb)(void *user, const struct vfs_event_hdr *ev, size_t size);
int vfs_collector_poll(struct vfs_collector *c, int timeout_ms, vfs_event_cb cb, void *user);
/* stream events of these types too (VFS_STREAM() bits; default: lifecycle) */
int vfs_collector_stream(struct vfs_collector *c, __u32 stream_mask);

/* every family's counters, then the drop counters, as lines (vfiostat) */
void vfs_collector_dump(struct vfs_collector *c, FILE *out);

/* sum of each drop reason over CPUs */
int vfs_collector_drops(const struct vfs_collector *c, __u64 out[VFS_DROP_MAX]);
const char *vfs_drop_name(enum vfs_drop d);

/* ---- for the families' glue ---- */
const struct vfs_collector_opts *vfs_collector_opts(const struct vfs_collector *c);
struct bpf_object;
/* reuse the collector's events/drops/control maps in @obj (before load) */
int vfs_collector_share_maps(struct vfs_collector *c, struct bpf_object *obj);
/*
 * Record @cls's tier: @tier with @reason (printf-style), unless the user
 * forced another one. Returns the tier that applies.
 */
enum vfs_tier vfs_collector_choose(struct vfs_collector *c, enum vfs_class cls,
				   enum vfs_tier tier, const char *reason, ...)
	__attribute__((format(printf, 4, 5)));

/* ---- feature probes (cached where costly) ---- */
bool vfs_module_loaded(const char *module);
/* @func is a BTF FUNC in @module's BTF ("vmlinux" for the kernel) */
bool vfs_btf_has_func(const char *module, const char *func);
/*
 * Which module's BTF has btf_trace_<tp> (a tracepoint tp_btf can attach
 * to): fills @owner, returns true if found.
 */
bool vfs_tracepoint_owner(const char *tp, char *owner, size_t len);
/* @func is in available_filter_functions of @module (kprobe-able) */
bool vfs_kprobe_ok(const char *module, const char *func);
bool vfs_bpf_lsm_active(void);

#endif
