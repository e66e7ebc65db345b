/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What every vfioscope BPF object shares. Each event class is its own
 * object (vfio.bpf.c, vdpa.bpf.c, ...) with its own maps; these three maps
 * are declared in each, and userspace creates them once and hands the same
 * map to every object (bpf_map__reuse_fd) before load, so all classes
 * stream into one ring buffer and count losses in one place.
 */
#ifndef VFIOSCOPE_COMMON_BPF_H
#define VFIOSCOPE_COMMON_BPF_H

#include "abi.h"

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);	/* userspace may resize before load */
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, VFS_DROP_MAX);
	__type(key, __u32);
	__type(value, __u64);
} drops SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct vfs_control);
} control SEC(".maps");

static __always_inline void vfs_drop(__u32 reason)
{
	__u64 *n = bpf_map_lookup_elem(&drops, &reason);

	if (n)
		*n += 1;	/* per-CPU slot: no atomics needed */
}

/* whether events of @type go to the ring buffer */
static __always_inline bool vfs_streamed(__u32 type)
{
	__u32 zero = 0;
	struct vfs_control *c = bpf_map_lookup_elem(&control, &zero);

	return c && (c->stream & VFS_STREAM(type));
}

/* reserve an event and fill its header; counts the loss when full */
static __always_inline void *vfs_event_reserve(__u32 size, __u16 type)
{
	struct vfs_event_hdr *h = bpf_ringbuf_reserve(&events, size, 0);
	__u64 id;

	if (!h) {
		vfs_drop(VFS_DROP_RINGBUF);
		return NULL;
	}
	id = bpf_get_current_pid_tgid();
	h->type = type;
	h->version = VFS_ABI_VERSION;
	h->size = size;
	h->ts_ns = bpf_ktime_get_ns();
	h->cgroup_id = bpf_get_current_cgroup_id();
	h->tgid = id >> 32;
	h->tid = (__u32)id;
	bpf_get_current_comm(h->comm, sizeof(h->comm));
	return h;
}

/*
 * Submit a reserved event. The reader is woken only once the ring holds an
 * eighth of its size: a wakeup per event would cap the stream at the
 * reader's wakeup rate, and readers drain the ring at least every poll
 * timeout anyway (vfs_collector_poll consumes on timeout).
 */
static __always_inline void vfs_event_submit(void *e)
{
	__u64 avail = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA);
	__u64 size = bpf_ringbuf_query(&events, BPF_RB_RING_SIZE);

	bpf_ringbuf_submit(e, avail >= size / 8 ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP);
}

/*
 * Look @key up in @map, inserting @init first if absent; NULL (and a
 * counted drop) only when the map is full. A concurrent insert of the same
 * key (EEXIST) is fine: the second lookup finds it. The error is kept in a
 * long: helpers return long, and truncating to int would hide nothing here
 * but is the classic sign-extension trap.
 */
static __always_inline void *vfs_lookup_or_init(void *map, const void *key,
						 const void *init, __u32 drop)
{
	void *val = bpf_map_lookup_elem(map, key);
	long err;

	if (val)
		return val;
	err = bpf_map_update_elem(map, key, init, BPF_NOEXIST);
	if (err && err != -17 /* EEXIST */) {
		vfs_drop(drop);
		return NULL;
	}
	return bpf_map_lookup_elem(map, key);
}

/* log2 slot of @v, capped to the histogram */
static __always_inline __u32 vfs_log2_slot(__u64 v)
{
	__u32 r = 0;

	if (v >> 32) { v >>= 32; r += 32; }
	if (v >> 16) { v >>= 16; r += 16; }
	if (v >> 8) { v >>= 8; r += 8; }
	if (v >> 4) { v >>= 4; r += 4; }
	if (v >> 2) { v >>= 2; r += 2; }
	if (v >> 1) r += 1;
	return r < VFS_HIST_SLOTS ? r : VFS_HIST_SLOTS - 1;
}

/* copy a kernel string (e.g. kobj.name) into a fixed buffer */
static __always_inline void vfs_kstr(char *dst, __u32 size, const char *src)
{
	if (!src || bpf_probe_read_kernel_str(dst, size, src) < 0)
		dst[0] = '\0';
}

/*
 * kernfs_node's parent became __parent in 6.15 ("kernfs: Use RCU to
 * access kernfs_node::parent"): read whichever this kernel has. The probe
 * is of the new name, so the old one is the other flavour's fallback.
 */
struct kernfs_node___pre615 {
	struct kernfs_node *parent;
} __attribute__((preserve_access_index));

struct kernfs_node___615 {
	struct kernfs_node *__parent;
} __attribute__((preserve_access_index));

static __always_inline struct kernfs_node *vfs_kn_parent(struct kernfs_node *kn)
{
	if (!kn)
		return NULL;
	if (bpf_core_field_exists(((struct kernfs_node___615 *)0)->__parent))
		return BPF_CORE_READ((struct kernfs_node___615 *)kn, __parent);
	return BPF_CORE_READ((struct kernfs_node___pre615 *)kn, parent);
}

#endif
