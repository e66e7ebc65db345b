// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Garbage collection of the collectors' maps: see gc.h. */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include "collector.h"
#include "gc.h"
#include "vec.h"

static bool vm_still(const struct vfs_gc *g, const void *val);
static bool obj_still(const struct vfs_gc *g, const void *val);
static bool vdpa_still(const struct vfs_gc *g, const void *val);

/*
 * A vDPA device's id among the objects (kernel objects are aligned): a
 * gone vDPA device and a live VFIO device may share an address.
 */
#define VDPA_ID(obj)	((obj) | 1)

/* every map keyed by a VM or an object; the markers' own maps last */
static const struct gc_map {
	const char *name;
	__u32 key_size, value_size;	/* value: the markers' maps only */
	int obj_off, tgid_off;	/* -1: not keyed by it */
	bool vdpa;		/* its objects are vDPA devices */
	/* a markers' map: the entry still goes (read again right before its delete) */
	bool (*still)(const struct vfs_gc *g, const void *val);
} gc_maps[] = {
	{ "ioctl_stats", sizeof(struct vfs_cmd_key), 0, offsetof(struct vfs_cmd_key, obj),
	  offsetof(struct vfs_cmd_key, tgid), false, NULL },
	{ "ioctl_errno", sizeof(struct vfs_errno_key), 0, offsetof(struct vfs_errno_key, obj),
	  offsetof(struct vfs_errno_key, tgid), false, NULL },
	{ "region_stats", sizeof(struct vfs_region_key), 0,
	  offsetof(struct vfs_region_key, obj), -1, false, NULL },
	{ "irq_stats", sizeof(struct vfs_irq_key), 0, offsetof(struct vfs_irq_key, obj), -1,
	  false, NULL },
	{ "mig_pending", sizeof(__u64), 0, 0, -1, false, NULL },
	{ "vq_stats", sizeof(struct vfs_vq_key), 0, offsetof(struct vfs_vq_key, obj), -1, true, NULL },
	/* a device's resets go with it, a VM's (those it caused) with the VM */
	{ "reset_stats", sizeof(struct vfs_reset_key), 0, offsetof(struct vfs_reset_key, obj),
	  offsetof(struct vfs_reset_key, tgid), false, NULL },
	/* a device's faults go with it, a VM's (of the devices it owned) with the VM */
	{ "fault_stats", sizeof(struct vfs_fault_key), 0, offsetof(struct vfs_fault_key, obj),
	  offsetof(struct vfs_fault_key, tgid), false, NULL },
	{ "vm_stats", sizeof(__u32), 0, -1, 0, false, NULL },
	{ "vm_info", sizeof(__u32), sizeof(struct vfs_vm_info), -1, 0, false, vm_still },
	{ "obj_info", sizeof(__u64), sizeof(struct vfs_obj_info), 0, -1, false, obj_still },
	{ "vdpa_info", sizeof(__u64), sizeof(struct vfs_vdpa_info), 0, -1, true, vdpa_still },
};
#define NR_GC_MAPS (sizeof(gc_maps) / sizeof(gc_maps[0]))
/* the largest key above: sweep() reads keys into buffers of this size */
#define GC_KEY_MAX 128
_Static_assert(sizeof(struct vfs_reset_key) <= GC_KEY_MAX, "a gc key outgrew GC_KEY_MAX");
_Static_assert(sizeof(struct vfs_fault_key) <= GC_KEY_MAX, "a gc key outgrew GC_KEY_MAX");
_Static_assert(sizeof(struct vfs_cmd_key) <= GC_KEY_MAX, "a gc key outgrew GC_KEY_MAX");
_Static_assert(sizeof(struct vfs_errno_key) <= GC_KEY_MAX, "a gc key outgrew GC_KEY_MAX");

static int cmp_u32(const void *a, const void *b)
{
	__u32 x = *(const __u32 *)a, y = *(const __u32 *)b;

	return (x > y) - (x < y);
}

static int cmp_u64(const void *a, const void *b)
{
	__u64 x = *(const __u64 *)a, y = *(const __u64 *)b;

	return (x > y) - (x < y);
}

static bool has_u32(const __u32 *v, size_t n, __u32 x)
{
	return n && bsearch(&x, v, n, sizeof(*v), cmp_u32);
}

/* a mark set at least @grace ago (the clock never runs backwards) */
static bool expired(__u64 mark, __u64 now, __u64 grace)
{
	return mark && now >= mark && now - mark >= grace;
}

static bool vm_entry_goes(const struct vfs_gc *g, const struct vfs_vm_info *vi)
{
	return expired(vi->exit_ns, g->now, g->grace);
}

static bool obj_entry_goes(const struct vfs_gc *g, const struct vfs_obj_info *oi)
{
	if (expired(oi->gone_ns, g->now, g->grace))
		return true;
	/* containers and groups are handles of their owner process */
	return oi->kind != VFS_FD_DEVICE &&
	       (has_u32(g->vms, g->nvms, oi->owner_tgid) ||
		(!has_u32(g->known, g->nknown, oi->owner_tgid) &&
		 expired(oi->first_ns, g->now, g->grace)));
}

static bool vdpa_entry_goes(const struct vfs_gc *g, const struct vfs_vdpa_info *di)
{
	return (di->flags & VFS_VDPA_F_REMOVED) && expired(di->gone_ns, g->now, g->grace);
}

/*
 * Read again right before the delete: a pid or address reused since the
 * plan holds a fresh, unmarked entry, which stays.
 */
static bool vm_still(const struct vfs_gc *g, const void *val)
{
	return vm_entry_goes(g, val);
}

static bool obj_still(const struct vfs_gc *g, const void *val)
{
	return obj_entry_goes(g, val);
}

static bool vdpa_still(const struct vfs_gc *g, const void *val)
{
	return vdpa_entry_goes(g, val);
}

int vfs_gc_plan(struct vfs_gc *g, const struct vfs_map_buf *vminfo,
		const struct vfs_map_buf *objinfo, const struct vfs_map_buf *vdpainfo,
		__u64 now, __u64 grace)
{
	size_t i, n = vminfo->n, no = objinfo->n + vdpainfo->n;

	g->now = now;
	g->grace = grace;
	g->nvms = g->nobjs = g->nknown = 0;
	if (vfs_grow((void **)&g->vms, &g->capvms, n, sizeof(*g->vms)) ||
	    vfs_grow((void **)&g->known, &g->capknown, n, sizeof(*g->known)) ||
	    vfs_grow((void **)&g->objs, &g->capobjs, no, sizeof(*g->objs)))
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		__u32 tgid = *VFS_MAP_BUF_KEY(vminfo, __u32, i);

		g->known[g->nknown++] = tgid;
		if (vm_entry_goes(g, VFS_MAP_BUF_VAL(vminfo, struct vfs_vm_info, i)))
			g->vms[g->nvms++] = tgid;
	}
	qsort(g->vms, g->nvms, sizeof(*g->vms), cmp_u32);
	qsort(g->known, g->nknown, sizeof(*g->known), cmp_u32);
	for (i = 0; i < objinfo->n; i++)
		if (obj_entry_goes(g, VFS_MAP_BUF_VAL(objinfo, struct vfs_obj_info, i)))
			g->objs[g->nobjs++] = *VFS_MAP_BUF_KEY(objinfo, __u64, i);
	for (i = 0; i < vdpainfo->n; i++)
		if (vdpa_entry_goes(g, VFS_MAP_BUF_VAL(vdpainfo, struct vfs_vdpa_info, i)))
			g->objs[g->nobjs++] = VDPA_ID(*VFS_MAP_BUF_KEY(vdpainfo, __u64, i));
	qsort(g->objs, g->nobjs, sizeof(*g->objs), cmp_u64);
	return 0;
}

bool vfs_gc_vm_goes(const struct vfs_gc *g, __u32 tgid)
{
	return has_u32(g->vms, g->nvms, tgid);
}

bool vfs_gc_obj_goes(const struct vfs_gc *g, __u64 obj)
{
	return g->nobjs && bsearch(&obj, g->objs, g->nobjs, sizeof(*g->objs), cmp_u64);
}

static bool goes(const struct vfs_gc *g, const struct gc_map *m, const void *key)
{
	__u64 obj;
	__u32 tgid;

	if (m->obj_off >= 0) {
		memcpy(&obj, (const char *)key + m->obj_off, sizeof(obj));
		if (vfs_gc_obj_goes(g, m->vdpa ? VDPA_ID(obj) : obj))
			return true;
	}
	if (m->tgid_off >= 0) {
		memcpy(&tgid, (const char *)key + m->tgid_off, sizeof(tgid));
		if (vfs_gc_vm_goes(g, tgid))
			return true;
	}
	return false;
}

bool vfs_gc_key_goes(const struct vfs_gc *g, const char *map, const void *key)
{
	size_t i;

	for (i = 0; i < NR_GC_MAPS; i++)
		if (!strcmp(gc_maps[i].name, map))
			return goes(g, &gc_maps[i], key);
	return false;
}

/* the keys of map @fd that go, then their deletion */
static int sweep(struct vfs_gc *g, const struct gc_map *m, int fd)
{
	/* a markers' entry, read whole: the largest of their values */
	union {
		struct vfs_vm_info vm;
		struct vfs_obj_info obj;
		struct vfs_vdpa_info vdpa;
	} val;
	char cur[GC_KEY_MAX], next[GC_KEY_MAX];
	void *prev = NULL;
	size_t n = 0, i;

	while (!bpf_map_get_next_key(fd, prev, next)) {
		if (goes(g, m, next)) {
			if (vfs_grow(&g->keys, &g->capkeys, n + 1, m->key_size))
				return -ENOMEM;
			memcpy((char *)g->keys + n++ * m->key_size, next, m->key_size);
		}
		memcpy(cur, next, m->key_size);
		prev = cur;
	}
	for (i = 0; i < n; i++) {
		void *key = (char *)g->keys + i * m->key_size;

		if (m->still && (m->value_size > sizeof(val) ||
				 bpf_map_lookup_elem(fd, key, &val) || !m->still(g, &val)))
			continue;
		if (bpf_map_delete_elem(fd, key)) {
			if (errno != ENOENT)	/* ENOENT: another reader was first */
				g->stats.errors++;
			continue;
		}
		g->stats.entries++;
		/* a VM or object counts for the reader that deleted its marker */
		if (!strcmp(m->name, "vm_info"))
			g->stats.vms++;
		else if (m->still)
			g->stats.objs++;
	}
	return 0;
}

int vfs_gc_run(struct vfs_gc *g, struct vfs_collector *c, const struct vfs_map_buf *vminfo,
	       const struct vfs_map_buf *objinfo, const struct vfs_map_buf *vdpainfo,
	       __u64 now, __u64 grace)
{
	size_t i;
	int err;

	err = vfs_gc_plan(g, vminfo, objinfo, vdpainfo, now, grace);
	if (err)
		return err;
	g->stats.runs++;
	if (!g->nvms && !g->nobjs)
		return 0;
	for (i = 0; i < NR_GC_MAPS; i++) {
		int fd = vfs_collector_map_fd(c, gc_maps[i].name);

		if (fd >= 0 && (err = sweep(g, &gc_maps[i], fd)))
			return err;
	}
	return 1;
}

void vfs_gc_free(struct vfs_gc *g)
{
	free(g->vms);
	free(g->objs);
	free(g->known);
	free(g->keys);
	memset(g, 0, sizeof(*g));
}
