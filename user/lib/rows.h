/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The rows vfiotop shows and the one field table per view that drives
 * them (every numeric field is a __u64, __s64 or double): column title and width, text formatting, sort order and JSON key
 * (the daemon's metric names can come from the same table). Pure: no
 * curses, no BPF; tested in tests/unit/test_top.c. The same table names
 * the Prometheus families (prom, prom_kind), checked in test_export.c.
 */
#ifndef VFIOSCOPE_ROWS_H
#define VFIOSCOPE_ROWS_H

#include <stdbool.h>
#include <stddef.h>
#include <regex.h>
#include <linux/types.h>
#include <json-c/json.h>
#include "abi.h"

#define VFS_VM_NAME_LEN	64

/* a rate not known yet (first frame, new row) is NaN: "-" and JSON null */

/* one VM: a process that issued VFIO calls (key: pid) */
struct vfs_vm_row {
	__u64 pid;
	char name[VFS_VM_NAME_LEN];	/* QEMU -name, libvirt domain or comm */
	char comm[VFS_COMM_LEN + 1];
	__u64 devices;			/* VFIO devices it owns */
	__u64 ioctls, errors, dma_maps;
	double ioctl_rate, error_rate, dma_map_rate;
	__u64 dma_map_bytes, dma_unmap_bytes;
	__u64 mapped_bytes;		/* mapped - unmapped */
	__u64 pinned_bytes;		/* mm->locked_vm after the last map/unmap */
	/*
	 * RLIMIT_MEMLOCK as of the last charge, and what is left of it: the
	 * smaller of type1's (limit - locked_vm; none under CAP_IPC_LOCK) and
	 * vhost-vdpa's (limit - pinned_vm), which the kernel checks apart
	 * (VFS_FT_LIMIT)
	 */
	__u64 memlock_limit, memlock_headroom;
	__u64 irq_setups;		/* VFIO_DEVICE_SET_IRQS calls */
	__u64 kicks;			/* vDPA kicks on devices it owns */
	double kick_rate;
	__u64 resets;			/* device resets its calls caused */
	__u64 iommu_faults;		/* IOMMU faults of devices it owned then */
	char state[8];			/* "running", "exited" (until collected) */
	/* model bookkeeping, not shown */
	__u64 first_ns;			/* vm_info.first_ns: a reused pid is a new VM */
	struct { __u64 ioctls, errors, dma_maps, kicks; } prev;
	bool has_prev, seen;
};

/*
 * One device: a VFIO device or a vDPA device, keyed by its kernel address;
 * a vDPA device's with the low bit set (kernel objects are aligned): a
 * freed device of one kind, still shown for its grace period, and a new
 * one of the other kind may share an address.
 */
#define VFS_DEV_ROW_ID_VDPA(obj)	((obj) | 1)

struct vfs_dev_row {
	__u64 obj;			/* the key (VFS_DEV_ROW_ID_VDPA for vDPA) */
	char name[VFS_NAME_LEN + 1];
	char kind[16];			/* "vfio", "vdpa-vhost", "vdpa-virtio" */
	__s64 group;			/* IOMMU group, -1: none */
	char owner[VFS_VM_NAME_LEN];	/* owner VM's name, "-": none */
	__s64 owner_pid;		/* -1: none */
	__u64 ioctls, errors;
	double ioctl_rate;
	__u64 p50_ns, p99_ns;		/* ioctl latency, log2 upper bound capped at
					 * the slowest call seen; 0: none */
	__u64 region_accesses;		/* trapped reads + writes + mmaps */
	double region_rate;
	__u64 kicks;
	double kick_rate;
	__u64 resets;			/* resets of it (every method and result) */
	__u64 reset_fails;		/* of those, the ones that failed */
	__u64 last_reset_ns;		/* how long the last one took, 0: none */
	__u64 iommu_faults;		/* IOMMU faults it caused (as requester) */
	char state[8];			/* "live", "gone" (until collected) */
	/* model bookkeeping */
	__u32 hist[VFS_HIST_SLOTS];	/* ioctl latency, summed over commands */
	__u64 lat_max_ns;		/* the slowest of them */
	__u64 last_reset_end;		/* when the last reset ended (bpf_ktime_get_ns) */
	struct { __u64 ioctls, region_accesses, kicks; } prev;
	bool has_prev, seen;
};

enum vfs_field_type {
	VFS_FT_STR,	/* char array */
	VFS_FT_U64,	/* counter */
	VFS_FT_ID,	/* __s64, negative: none ("-", null) */
	VFS_FT_RATE,	/* double per second, NaN: unknown ("-", null) */
	VFS_FT_BYTES,	/* __u64 bytes: human units in text, exact in JSON */
	VFS_FT_NS,	/* __u64 ns, 0: none: human units in text, exact in JSON */
	/*
	 * __u64 bytes of a limit: VFS_LIMIT_INF "unlim" in text, -1 in JSON,
	 * +Inf in Prometheus; VFS_LIMIT_UNKNOWN "-", null, no sample
	 */
	VFS_FT_LIMIT,
};
#define VFS_LIMIT_INF		(~0ull)
#define VFS_LIMIT_UNKNOWN	(~0ull - 1)

/*
 * How a field is exported to Prometheus (user/lib/export.c): not at all
 * (names become labels, rates are left to PromQL's rate()), as a counter
 * (the name ends in _total) or as a gauge. Bytes stay bytes (_bytes).
 */
enum vfs_prom_kind { VFS_PROM_NONE = 0, VFS_PROM_COUNTER, VFS_PROM_GAUGE };

struct vfs_field {
	const char *key;	/* JSON key and sort key (-s) */
	const char *title;	/* column title */
	const char *desc;	/* help text */
	unsigned int width;	/* column width, >= strlen(title) */
	enum vfs_field_type type;
	bool left;		/* left-aligned (names) */
	bool sort_desc;		/* biggest first by default */
	size_t off;		/* offset in the row struct */
	const char *prom;	/* Prometheus metric name, NULL: not exported */
	enum vfs_prom_kind prom_kind;
};

extern const struct vfs_field vfs_vm_fields[];
extern const size_t vfs_vm_nfields;
extern const struct vfs_field vfs_dev_fields[];
extern const size_t vfs_dev_nfields;

/* index of the field with @key, or -1 */
int vfs_field_find(const struct vfs_field *f, size_t n, const char *key);

/* the value as column text (not padded). Returns @buf. */
const char *vfs_field_text(const struct vfs_field *f, const void *row, char *buf, size_t len);
/* add the value to @obj under f->key */
void vfs_field_json(const struct vfs_field *f, const void *row, struct json_object *obj);
/* the value of an exported (U64 or BYTES) field */
__u64 vfs_field_u64(const struct vfs_field *f, const void *row);
/* three-way comparison of two rows on @f, ascending */
int vfs_field_cmp(const struct vfs_field *f, const void *a, const void *b);

/*
 * Sort @rows (pointers to rows) on @f; @desc: biggest first. Ties are
 * broken by @tie (the row's id field), ascending, so the order is stable
 * from frame to frame.
 */
void vfs_rows_sort(void **rows, size_t n, const struct vfs_field *f, bool desc,
		   const struct vfs_field *tie);

/* one virtqueue of a vDPA device (key: device address, queue id) */
struct vfs_vq_row {
	__u64 obj;
	__u64 qid;
	char device[VFS_NAME_LEN + 1];
	char path[16];			/* "vhost", "virtio" */
	char owner[VFS_VM_NAME_LEN];	/* owner VM's name, "-": none */
	__u64 kicks, calls;
	double kick_rate, call_rate;
	__u64 stalls;			/* intervals kicked but not called back */
	/* model bookkeeping */
	struct { __u64 kicks, calls; } prev;
	bool has_prev, seen;
};

/*
 * One migration side of one device (key: device name, role), from the
 * migration model's newest session of that device in that role.
 */
struct vfs_mig_row {
	char device[VFS_NAME_LEN + 1];
	char role[8];			/* "src", "dst", "unknown" */
	char vm[VFS_VM_NAME_LEN];	/* the process that drove it */
	__s64 pid;
	char phase[24];			/* state after the last arc, "FAILED" */
	char status[12];		/* open, ok, failed, cancelled, incomplete */
	__u64 sessions;			/* of this device in this role */
	__u64 arcs;			/* in the newest session */
	char last_arc[40];		/* "STOP_COPY>STOP" */
	__u64 last_arc_ns;		/* its kernel time, 0: none */
	__u64 stop_copy_ns, transfer_ns, resume_ns, downtime_ns;	/* 0: not known */
	__u64 bytes;			/* read (source) or written (destination) */
	__s64 err;			/* errno of the failing arc, -1: none */
	/* source in pre-copy: the driver's latest GET_PRECOPY_INFO answer */
	__u64 precopy_initial, precopy_dirty;
	__u64 polls;			/* data reads answered ENOMSG in PRE_COPY */
};

/* one recent event from the stream, or a loss notice */
struct vfs_event_row {
	__u64 seq;			/* arrival order */
	__u64 age_ns;			/* before the frame */
	__s64 pid;			/* -1: none (losses) */
	char comm[VFS_COMM_LEN + 1];
	char text[160];
	/* model bookkeeping */
	__u64 ts_ns;			/* when it happened (CLOCK_MONOTONIC) */
};

/*
 * One mdev type of one parent device (key: parent, type), from sysfs
 * (mdevcap.h) and the stream's create/remove events
 */
struct vfs_mdev_row {
	char parent[VFS_NAME_LEN + 1];
	char type[VFS_NAME_LEN + 1];	/* the directory name: mdacc-1q */
	char name[64];			/* its "name" attribute, escaped; "?": unknown */
	char api[24];			/* device_api, escaped; "?": unknown */
	__s64 available;		/* available_instances, -1: unknown */
	__s64 instances;		/* entries of devices/, -1: unknown */
	__s64 low;			/* the fewest available at any scan, -1: none */
	__u64 creates, create_fails, removes;	/* events since attach */
	char creators[128];		/* "vm-a:2,vm-b:1,?:1": the instances' creators */
	/* mdevcap bookkeeping */
	bool seen;
};

extern const struct vfs_field vfs_vq_fields[];
extern const size_t vfs_vq_nfields;
extern const struct vfs_field vfs_mig_fields[];
extern const size_t vfs_mig_nfields;
extern const struct vfs_field vfs_event_fields[];
extern const size_t vfs_event_nfields;
extern const struct vfs_field vfs_mdev_fields[];
extern const size_t vfs_mdev_nfields;

/*
 * A row filter: a POSIX extended regular expression matched, in any case,
 * against a row's text columns (a plain word is a regular expression too).
 * vfs_filter_set() with "" or NULL clears it; on a bad expression it
 * returns -1 with the reason in @err and leaves @f as it was.
 */
struct vfs_filter {
	char text[64];
	regex_t re;
	bool set;
	/*
	 * -p: only rows of this process (0: any), on views with a "pid" or
	 * "owner_pid" column; views without one are not narrowed
	 */
	__u64 pid;
};

int vfs_filter_set(struct vfs_filter *f, const char *text, char *err, size_t errlen);
void vfs_filter_free(struct vfs_filter *f);
/* @f NULL or clear (no expression, no pid): every row */
bool vfs_filter_match(const struct vfs_filter *f, const struct vfs_field *fields, size_t n,
		      const void *row);

/*
 * Columns to show: @list is a comma list of field keys (in any order;
 * "" or NULL shows all). Sets a bit in *@hidden for every other field;
 * -1 with a sentence naming an unknown key (and *@hidden unchanged).
 */
int vfs_fields_pick(const struct vfs_field *f, size_t n, const char *list, __u64 *hidden,
		    char *err, size_t errlen);

#endif
