// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Glue for bpf/vdpa.bpf.c: vDPA device lifecycle (vdpa-device) and
 * virtqueue kicks/calls (vdpa-virtqueue). Chooses a tier per class on this
 * kernel and says why, switches the other entry points off, and dumps the
 * counters by device name.
 *
 * There is no kprobe tier: finding the device and queue of a kick means
 * walking module-private structs (virtio_vdpa_device, vhost_vdpa), whose
 * layouts only module BTF gives; without it the classes are unsupported.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "collector.h"
#include "dump.h"
#include "map_iter.h"
#include "vdpa.skel.h"

/*
 * Every program: its class and tier, and the function (in module) or
 * tracepoint it needs. Extras are bookkeeping both tiers need (owner,
 * binding, address reuse): loaded whenever either class is served.
 */
#define VQ(p, t, m, f)	{ .prog = p, .cls = VFS_CLASS_VDPA_VQ, .tier = t, .module = m, .target = f }
#define DEV(p, t, m, f)	{ .prog = p, .cls = VFS_CLASS_VDPA_DEV, .tier = t, .module = m, .target = f }
#define EXTRA(p, m, f)	{ .prog = p, .tier = VFS_TIER_FENTRY, .module = m, .target = f, \
			  .any_of = VFS_CLASS_BIT(VFS_CLASS_VDPA_DEV) | \
				    VFS_CLASS_BIT(VFS_CLASS_VDPA_VQ) }

static const struct vfs_prog_spec specs[] = {
	VQ("tp_kick_vq", VFS_TIER_TRACEPOINT, NULL, "vdpa_kick_vq"),
	VQ("tp_vq_call", VFS_TIER_TRACEPOINT, NULL, "vdpa_vq_call"),
	VQ("virtio_kick", VFS_TIER_FENTRY, "virtio_vdpa", "virtio_vdpa_notify"),
	VQ("virtio_kick_data", VFS_TIER_FENTRY, "virtio_vdpa", "virtio_vdpa_notify_with_data"),
	VQ("virtio_call", VFS_TIER_FENTRY, "virtio_vdpa", "virtio_vdpa_virtqueue_cb"),
	VQ("vhost_kick", VFS_TIER_FENTRY, "vhost_vdpa", "handle_vq_kick"),
	VQ("vhost_call", VFS_TIER_FENTRY, "vhost_vdpa", "vhost_vdpa_virtqueue_cb"),

	DEV("tp_dev_add", VFS_TIER_TRACEPOINT, NULL, "vdpa_dev_add"),
	DEV("tp_dev_del", VFS_TIER_TRACEPOINT, NULL, "vdpa_dev_del"),
	DEV("tp_set_status", VFS_TIER_TRACEPOINT, NULL, "vdpa_set_status"),
	DEV("dev_add_locked", VFS_TIER_FENTRY, "vdpa", "_vdpa_register_device"),
	DEV("dev_add_unlocked", VFS_TIER_FENTRY, "vdpa", "vdpa_register_device"),
	DEV("dev_del_locked", VFS_TIER_FENTRY, "vdpa", "_vdpa_unregister_device"),
	DEV("dev_del_unlocked", VFS_TIER_FENTRY, "vdpa", "vdpa_unregister_device"),
	DEV("dev_set_status", VFS_TIER_FENTRY, "vdpa", "vdpa_set_status"),

	EXTRA("dev_new_locked", "vdpa", "_vdpa_register_device"),
	EXTRA("dev_new_unlocked", "vdpa", "vdpa_register_device"),
	EXTRA("virtio_bound", "virtio_vdpa", "virtio_vdpa_probe"),
	EXTRA("vhost_bound", "vhost_vdpa", "vhost_vdpa_probe"),
	EXTRA("vhost_open", "vhost_vdpa", "vhost_vdpa_open"),
	EXTRA("vhost_ioctl", "vhost_vdpa", "vhost_vdpa_unlocked_ioctl"),
	EXTRA("vhost_iotlb_msg", "vhost_vdpa", "vhost_vdpa_process_iotlb_msg"),
	EXTRA("vhost_released", "vhost_vdpa", "vhost_vdpa_release"),
};

/* the modules whose firing of vdpa:* tracepoints covers every device */
static const char *const vdpa_stack[] = { "vdpa", "virtio_vdpa", "vhost_vdpa", "vduse" };
#define NR_STACK (sizeof(vdpa_stack) / sizeof(vdpa_stack[0]))

static bool fentry_ok(const char *module, const char *func)
{
	return vfs_module_loaded(module) && vfs_btf_has_func(module, func);
}

/*
 * Whether the vDPA stack fires tracepoint @tp: it defines it (a patched
 * kernel) or links to the module that does (vfioscope_trace instantiates
 * the events for out-of-tree drivers, which are then its holders). Defined
 * but fired by nobody, it would count nothing. @who gets the firing module.
 */
static bool tp_fired_by_stack(const char *tp, char *who, size_t len)
{
	char owner[64], path[192];
	size_t i;

	if (!vfs_tracepoint_owner(tp, owner, sizeof(owner)))
		return false;
	for (i = 0; i < NR_STACK; i++) {
		snprintf(path, sizeof(path), "/sys/module/%s/holders/%s", owner, vdpa_stack[i]);
		if (!strcmp(owner, vdpa_stack[i]) || !access(path, F_OK)) {
			snprintf(who, len, "%s", vdpa_stack[i]);
			return true;
		}
	}
	return false;
}

static void choose_vq(struct vfs_collector *c)
{
	bool virtio = fentry_ok("virtio_vdpa", "virtio_vdpa_notify");
	bool vhost = fentry_ok("vhost_vdpa", "handle_vq_kick");
	char who[64];

	if (tp_fired_by_stack("vdpa_kick_vq", who, sizeof(who)) &&
	    tp_fired_by_stack("vdpa_vq_call", who, sizeof(who)))
		vfs_collector_choose(c, VFS_CLASS_VDPA_VQ, VFS_TIER_TRACEPOINT,
				     "tracepoints vdpa:vdpa_kick_vq and vdpa:vdpa_vq_call, "
				     "fired by %s", who);
	else if (virtio && vhost)
		vfs_collector_choose(c, VFS_CLASS_VDPA_VQ, VFS_TIER_FENTRY,
				     "at virtio_vdpa and vhost_vdpa: once per queue for any "
				     "parent (VDUSE, vdpa_sim, hw); vhost calls a parent signals "
				     "straight to the VMM's eventfd are not seen");
	else if (virtio)
		vfs_collector_choose(c, VFS_CLASS_VDPA_VQ, VFS_TIER_FENTRY,
				     "vhost_vdpa is not loaded: vhost-vdpa kicks are not counted "
				     "(modprobe vhost_vdpa); virtio_vdpa queues are, for "
				     "any parent");
	else if (vhost)
		vfs_collector_choose(c, VFS_CLASS_VDPA_VQ, VFS_TIER_FENTRY,
				     "virtio_vdpa is not loaded: in-kernel virtio queues are not "
				     "counted (modprobe virtio_vdpa); vhost-vdpa queues are");
	else if (vfs_module_loaded("virtio_vdpa") || vfs_module_loaded("vhost_vdpa"))
		vfs_collector_choose(c, VFS_CLASS_VDPA_VQ, VFS_TIER_NONE,
				     "virtio_vdpa/vhost_vdpa have no BTF: counting vDPA queues "
				     "needs module BTF (CONFIG_DEBUG_INFO_BTF_MODULES)");
	else
		vfs_collector_choose(c, VFS_CLASS_VDPA_VQ, VFS_TIER_NONE,
				     "neither virtio_vdpa nor vhost_vdpa is loaded: no vDPA queue "
				     "to count (modprobe one)");
}

static void choose_dev(struct vfs_collector *c)
{
	char who[64];

	if (tp_fired_by_stack("vdpa_dev_add", who, sizeof(who)))
		vfs_collector_choose(c, VFS_CLASS_VDPA_DEV, VFS_TIER_TRACEPOINT,
				     "tracepoints vdpa:vdpa_dev_add/del and vdpa:vdpa_set_status, "
				     "fired by %s", who);
	else if (fentry_ok("vdpa", "_vdpa_register_device"))
		vfs_collector_choose(c, VFS_CLASS_VDPA_DEV, VFS_TIER_FENTRY,
				     "at the vdpa core's (un)register and vdpa_set_status; resets "
				     "(status 0) go to the parent directly and are not seen");
	else if (vfs_module_loaded("vdpa"))
		vfs_collector_choose(c, VFS_CLASS_VDPA_DEV, VFS_TIER_NONE,
				     "vdpa has no BTF: vDPA device events need module BTF "
				     "(CONFIG_DEBUG_INFO_BTF_MODULES)");
	else
		vfs_collector_choose(c, VFS_CLASS_VDPA_DEV, VFS_TIER_NONE,
				     "vdpa is not loaded: no vDPA devices (modprobe vdpa and a "
				     "parent such as vduse)");
}

static void choose(struct vfs_collector *c)
{
	choose_vq(c);
	choose_dev(c);
}

static const char *const sized_maps[] = { "vq_stats", "vdpa_info", NULL };

/* ------------------------------------------------------------------- dump */
static const char *path_name(__u32 path)
{
	switch (path) {
	case VFS_VDPA_PATH_VIRTIO: return "virtio";
	case VFS_VDPA_PATH_VHOST: return "vhost";
	default: return "-";
	}
}

static const char *dev_name_of(const struct vfs_map_snapshot *infos, __u64 obj)
{
	const struct vfs_vdpa_info *v = infos->vals;
	const __u64 *k = infos->keys;
	size_t i;

	for (i = 0; i < infos->n; i++)
		if (k[i] == obj)
			return v[i].name[0] ? v[i].name : "?";
	return "?";		/* vdpa_info was full: counted in map_full_vdpa */
}

static int cmp_vq(const void *a, const void *b, void *infos)
{
	const struct vfs_vq_key *x = a, *y = b;
	int r = strcmp(dev_name_of(infos, x->obj), dev_name_of(infos, y->obj));

	if (r)
		return r;
	if (x->obj != y->obj)
		return (x->obj > y->obj) - (x->obj < y->obj);
	if (x->path != y->path)
		return (x->path > y->path) - (x->path < y->path);
	return (x->qid > y->qid) - (x->qid < y->qid);
}

/* sorted by device name, path, queue: keys and values move together */
static void dump_vqs(struct vfs_dump *d, struct vfs_map_snapshot *infos,
		     const struct vfs_map_snapshot *vqs)
{
	struct { struct vfs_vq_key k; struct vfs_vq_val v; } *rows;
	size_t i;

	rows = calloc(vqs->n ?: 1, sizeof(*rows));
	if (!rows)
		return;
	for (i = 0; i < vqs->n; i++) {
		rows[i].k = ((struct vfs_vq_key *)vqs->keys)[i];
		rows[i].v = ((struct vfs_vq_val *)vqs->vals)[i];
	}
	qsort_r(rows, vqs->n, sizeof(*rows), cmp_vq, infos);
	for (i = 0; i < vqs->n; i++)
		VFS_DUMP_ROW(d, "vq", VFS_P_STR("device", dev_name_of(infos, rows[i].k.obj)),
			     VFS_P_U64("qid", rows[i].k.qid),
			     VFS_P_STR("path", path_name(rows[i].k.path)),
			     VFS_F_U64("kicks", rows[i].v.kicks), VFS_F_U64("calls", rows[i].v.calls));
	free(rows);
}

static void vdpa_dump(struct vfs_collector *c, struct vfs_dump *d)
{
	struct vfs_map_snapshot infos, vqs;
	const struct vfs_vdpa_info *iv;
	size_t i;

	if (vfs_map_snapshot(vfs_collector_map_fd(c, "vdpa_info"), &infos))
		return;
	if (vfs_map_snapshot(vfs_collector_map_fd(c, "vq_stats"), &vqs)) {
		vfs_map_snapshot_free(&infos);
		return;
	}
	dump_vqs(d, &infos, &vqs);
	iv = infos.vals;
	for (i = 0; i < infos.n; i++)
		VFS_DUMP_ROW(d, "vdpa", VFS_P_STR("device", iv[i].name[0] ? iv[i].name : "?"),
			     VFS_F_HEX("status", iv[i].status),
			     VFS_F_STR("path", path_name(iv[i].path)),
			     VFS_F_U64("owner", iv[i].owner_tgid),
			     VFS_F_S64("added", !!(iv[i].flags & VFS_VDPA_F_ADDED)),
			     VFS_F_S64("removed", !!(iv[i].flags & VFS_VDPA_F_REMOVED)));
	vfs_map_snapshot_free(&infos);
	vfs_map_snapshot_free(&vqs);
}

/* the rows vdpa_dump() emits, in its order */
static const char *const dump_rows[] = { "vq", "vdpa", NULL };

static const void *vdpa_elf(size_t *size)
{
	return vdpa_bpf__elf_bytes(size);
}

const struct vfs_family vfs_family_vdpa = {
	.name = "vdpa",
	.elf = vdpa_elf,
	.choose = choose,
	.specs = specs,
	.nspecs = sizeof(specs) / sizeof(specs[0]),
	.sized_maps = sized_maps,
	.dump = vdpa_dump,
	.rows = dump_rows,
};
