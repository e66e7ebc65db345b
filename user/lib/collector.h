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
	VFS_CLASS_RESET,	/* PCI device resets: method, cause, duration, result */
	VFS_CLASS_IOMMU_FAULT,	/* IOMMU remapping faults: requester, page, reason */
	VFS_CLASS_MAX,
};

const char *vfs_class_name(enum vfs_class c);
const char *vfs_tier_name(enum vfs_tier t);

struct vfs_tier_choice {
	enum vfs_tier tier;	/* VFS_TIER_NONE: unsupported here */
	char reason[192];	/* one sentence a user can act on */
};

/*
 * Sharing one set of programs between readers. Private: this reader loads
 * its own programs and maps (gone when it exits). Pin: load, then pin maps
 * and links under pin_root so the programs stay attached after this
 * process exits (a daemon, `vfiostat --pin`). Auto: use the set pinned
 * under pin_root when there is one (no second copy of the probes), else
 * load privately. A shared set's counters are readable by every reader;
 * its event stream has one consumer at a time (see vfs_collector_poll).
 */
/*
 * READ: the pinned set only, opened read-only (BPF_F_RDONLY) and never
 * loaded: what a user without CAP_BPF can do where bpffs grants read access
 * (counters only: the event stream needs write access to its ring buffer).
 */
enum vfs_share { VFS_SHARE_PRIVATE, VFS_SHARE_AUTO, VFS_SHARE_PIN, VFS_SHARE_READ };

#define VFS_PIN_ROOT "/sys/fs/bpf/vfioscope/collectors"

struct vfs_collector_opts {
	size_t ringbuf_bytes;	/* 0: 1 MiB; a power of two */
	__u32 map_entries;	/* 0: default per map; else hash map size */
	bool verbose;		/* libbpf debug output */
	/* force a tier for a class (tests, --tier): VFS_TIER_NONE = choose */
	enum vfs_tier force[VFS_CLASS_MAX];
	enum vfs_share share;
	const char *pin_root;	/* NULL: VFS_PIN_ROOT */
	/*
	 * How long an exited VM or a removed device stays in the maps (and
	 * in readers' tables, marked) before a reader collects it (gc.h);
	 * 0: VFS_GC_GRACE_NS.
	 */
	__u64 gc_grace_ns;
	/*
	 * The classes to load (VFS_CLASS_BIT mask), 0: all. A tool loads
	 * what it reads: each class costs load and attach time. The ioctl
	 * class always loads: it names the VMs and devices every other class
	 * reports. Applies to a private load; a pinned set has what it has.
	 */
	__u32 classes;
};

struct vfs_collector;
struct vfs_dump;

/*
 * One program of a family's object: the class it serves on which tier and
 * what it attaches to. It is loaded when its class's chosen tier is its
 * tier, or, for bookkeeping programs (@any_of non-zero: a mask of
 * BIT(class)), when any of those classes is served at all; and only when
 * its target exists on this kernel.
 */
struct vfs_prog_spec {
	const char *prog;
	enum vfs_class cls;
	enum vfs_tier tier;
	const char *module;	/* where the fentry/kprobe target lives */
	const char *target;	/* function or tracepoint */
	__u32 any_of;
	/*
	 * Another tier of the class this program also serves (its tracepoints
	 * cover part of the class only: device fds have vfio_ioctl_enter/exit,
	 * container and group fds keep their fentry programs).
	 */
	enum vfs_tier also;
};

#define VFS_CLASS_BIT(c) (1u << (c))

/*
 * One family's glue (coll_vfio.c, coll_vdpa.c): its BPF object, its
 * programs, how it chooses its classes' tiers (vfs_collector_choose()),
 * which hash maps opts.map_entries resizes, and the dump. The collector
 * core does the rest (open, autoload, share, load, attach, pin).
 */
struct vfs_family {
	const char *name;
	const void *(*elf)(size_t *size);	/* the skeleton's embedded object */
	void (*choose)(struct vfs_collector *c);
	const struct vfs_prog_spec *specs;
	size_t nspecs;
	const char *const *sized_maps;		/* NULL-terminated */
	/*
	 * Emit the family's counters as rows (dump.h) of the types in @rows
	 * (NULL-terminated), in this order: as text, lines of "<what>
	 * <names...> <field> <value>..." (vfiostat; the tests' comparison
	 * format). Names come from the *_info maps, never kernel addresses.
	 * Maps are found with vfs_collector_map_fd().
	 */
	void (*dump)(struct vfs_collector *c, struct vfs_dump *d);
	const char *const *rows;
};

extern const struct vfs_family vfs_family_vfio;
extern const struct vfs_family vfs_family_vdpa;

/*
 * Probe, open, load and attach every family (or open the pinned set, see
 * enum vfs_share). Returns 0, or -errno with a sentence in @err (e.g. "not
 * root: loading BPF needs CAP_BPF and CAP_PERFMON"). A family whose kernel
 * modules are absent loads with its classes reported unsupported, not as
 * an error.
 */
int vfs_collector_open(struct vfs_collector **c, const struct vfs_collector_opts *opts,
		       char *err, size_t errlen);
void vfs_collector_close(struct vfs_collector *c);
/* the grace period before exited VMs and removed devices are collected (gc.h) */
__u64 vfs_collector_gc_grace_ns(const struct vfs_collector *c);
/* this reader uses a pinned set (loaded by another process, or pinned by it) */
bool vfs_collector_shared(const struct vfs_collector *c);
/* remove the set pinned under @root (NULL: VFS_PIN_ROOT): its programs detach */
int vfs_collector_unpin(const char *root, char *err, size_t errlen);

const struct vfs_tier_choice *vfs_collector_tier(const struct vfs_collector *c,
						 enum vfs_class cls);
/*
 * Modules loaded after the open (vfio-pci when the first VM with a
 * passed-through device starts, vhost_vdpa, an mdev parent): readers call
 * this as they go (vfs_collector_poll() and vfs_model_update() do). At
 * most once a second it looks at the kernel's module list; when it
 * changed, it attaches what the classes unsupported so far can use now
 * (a class served already keeps its tier) and, on a pinned set, pins it
 * for every reader; it also takes what another reader added to the
 * pinned set. Returns how many maps and programs were added (then
 * vfs_collector_generation() moved: re-read map fds). @msg gets the
 * sentence a reader shows: what was added, or a failure (said once; the
 * classes it concerns say why in their tier reasons); "" when nothing
 * happened.
 */
int vfs_collector_rescan(struct vfs_collector *c, char *msg, size_t msglen);
unsigned int vfs_collector_generation(const struct vfs_collector *c);

/* one line per class: "class  tier  reason" */
void vfs_collector_print_features(const struct vfs_collector *c, FILE *out);

/* a map of any family by name ("ioctl_stats", "vq_stats", "drops", ...) */
int vfs_collector_map_fd(const struct vfs_collector *c, const char *map);

/*
 * The name of VM @pid from its vm_info entry (identity.h's
 * vfs_vm_name_info: /proc while the process lives, else what was captured
 * when it was first seen): an enum vfs_name_source, or -1 when vm_info
 * has no entry for @pid.
 */
int vfs_collector_vm_name(const struct vfs_collector *c, __u32 pid, char *out, size_t len);

/*
 * The stream: @cb gets each event (header first); returns events consumed.
 * The programs wake a sleeping reader only once the ring is an eighth
 * full, so a reader must call this at least every few hundred ms (with a
 * timeout that long): each call drains what is there.
 * A ring buffer has one consumer: on a shared set, the first reader that
 * polls holds it (-EBUSY for the others, with the holder in
 * vfs_collector_stream_holder()).
 */
typedef int (*vfs_event_cb)(void *user, const struct vfs_event_hdr *ev, size_t size);
int vfs_collector_poll(struct vfs_collector *c, int timeout_ms, vfs_event_cb cb, void *user);
/* stream events of these types too (VFS_STREAM() bits; default: lifecycle) */
int vfs_collector_stream(struct vfs_collector *c, __u32 stream_mask);
/* the pid holding a shared set's stream (0: none, or not shared) */
int vfs_collector_stream_holder(const struct vfs_collector *c);
/*
 * Why vfs_collector_poll() could not take a shared set's stream, as a
 * sentence ("" if it could): held by another pid (-EBUSY), or a lock
 * directory or file under /run/vfioscope that is not root's alone.
 */
const char *vfs_collector_stream_error(const struct vfs_collector *c);

/*
 * Every family's counters, then the drop counters (pairs "drops" NAME N),
 * to a text or JSON writer (dump.h; vfiostat)
 */
void vfs_collector_dump(struct vfs_collector *c, struct vfs_dump *d);

/*
 * Sum of each drop reason over CPUs, including the runs of each program
 * the kernel skipped because a BPF program was already running on the CPU
 * (VFS_DROP_RECURSION, from the programs' recursion_misses).
 */
int vfs_collector_drops(const struct vfs_collector *c, __u64 out[VFS_DROP_MAX]);
const char *vfs_drop_name(enum vfs_drop d);

/* ---- for the families' glue ---- */
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
 * Why @func in @module is no fentry target, in one sentence for --features
 * ("module vfio is not loaded", "the kernel has no BTF for module vfio
 * (/sys/kernel/btf/vfio)", "vfio's BTF has no function F: renamed, removed
 * or inlined in this kernel"); NULL when it is one.
 */
const char *vfs_fentry_why_not(const char *module, const char *func, char *buf, size_t len);
/*
 * Which module's BTF has btf_trace_<tp> (a tracepoint tp_btf can attach
 * to): fills @owner, returns true if found.
 */
bool vfs_tracepoint_owner(const char *tp, char *owner, size_t len);
/* @func is in available_filter_functions of @module (kprobe-able) */
bool vfs_kprobe_ok(const char *module, const char *func);
bool vfs_bpf_lsm_active(void);

#endif
