// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "rows.h"
#include "stats.h"

#define VM(f) offsetof(struct vfs_vm_row, f)
#define DEV(f) offsetof(struct vfs_dev_row, f)

/* key, title, desc, width, type, left, sort_desc, offset[, Prometheus name, kind] */
const struct vfs_field vfs_vm_fields[] = {
	{ "pid", "PID", "process id of the VM", 7, VFS_FT_U64, false, false, VM(pid), NULL, VFS_PROM_NONE },
	{ "name", "VM", "QEMU -name, libvirt domain or process name", 16, VFS_FT_STR, true, false, VM(name), NULL, VFS_PROM_NONE },
	{ "devices", "DEVS", "VFIO devices owned", 4, VFS_FT_U64, false, true, VM(devices), "vfioscope_vm_devices", VFS_PROM_GAUGE },
	{ "ioctls", "IOCTLS", "VFIO ioctls since attach", 9, VFS_FT_U64, false, true, VM(ioctls), "vfioscope_vm_ioctls_total", VFS_PROM_COUNTER },
	{ "ioctl_rate", "IOCTL/s", "VFIO ioctls per second", 8, VFS_FT_RATE, false, true, VM(ioctl_rate), NULL, VFS_PROM_NONE },
	{ "errors", "ERRS", "failed VFIO ioctls since attach", 6, VFS_FT_U64, false, true, VM(errors), "vfioscope_vm_ioctl_errors_total", VFS_PROM_COUNTER },
	{ "error_rate", "ERR/s", "failed VFIO ioctls per second", 6, VFS_FT_RATE, false, true, VM(error_rate), NULL, VFS_PROM_NONE },
	{ "dma_maps", "MAPS", "DMA map calls since attach", 7, VFS_FT_U64, false, true, VM(dma_maps), "vfioscope_vm_dma_maps_total", VFS_PROM_COUNTER },
	{ "dma_map_rate", "MAP/s", "DMA map calls per second", 6, VFS_FT_RATE, false, true, VM(dma_map_rate), NULL, VFS_PROM_NONE },
	{ "dma_map_bytes", "MAPBYTES", "bytes DMA-mapped since attach", 9, VFS_FT_BYTES, false, true, VM(dma_map_bytes), "vfioscope_vm_dma_map_bytes_total", VFS_PROM_COUNTER },
	{ "dma_unmap_bytes", "UNMAPBYTES", "bytes DMA-unmapped since attach", 10, VFS_FT_BYTES, false, true, VM(dma_unmap_bytes), "vfioscope_vm_dma_unmap_bytes_total", VFS_PROM_COUNTER },
	{ "mapped_bytes", "MAPPED", "bytes mapped now (mapped - unmapped)", 9, VFS_FT_BYTES, false, true, VM(mapped_bytes), "vfioscope_vm_dma_mapped_bytes", VFS_PROM_GAUGE },
	{ "pinned_bytes", "PINNED", "pinned memory: mm->locked_vm (type1, mdev) + mm->pinned_vm (vhost-vdpa IOTLB) after the last change", 9, VFS_FT_BYTES, false, true, VM(pinned_bytes), "vfioscope_vm_pinned_bytes", VFS_PROM_GAUGE },
	{ "memlock_limit", "MEMLOCK", "RLIMIT_MEMLOCK as of the last pin charge (unlim: no limit)", 9, VFS_FT_LIMIT, false, true, VM(memlock_limit), "vfioscope_vm_memlock_limit_bytes", VFS_PROM_GAUGE },
	{ "memlock_headroom", "HEADROOM", "what pins may still take before the kernel refuses them (ENOMEM): RLIMIT_MEMLOCK less locked_vm (type1, mdev; unlim under CAP_IPC_LOCK) or less pinned_vm (vhost-vdpa, where it pins), the smaller", 9, VFS_FT_LIMIT, false, false, VM(memlock_headroom), "vfioscope_vm_memlock_headroom_bytes", VFS_PROM_GAUGE },
	{ "irq_setups", "IRQSET", "VFIO_DEVICE_SET_IRQS calls", 6, VFS_FT_U64, false, true, VM(irq_setups), "vfioscope_vm_irq_setups_total", VFS_PROM_COUNTER },
	{ "kicks", "KICKS", "vDPA kicks on devices it owns", 9, VFS_FT_U64, false, true, VM(kicks), "vfioscope_vm_vdpa_kicks_total", VFS_PROM_COUNTER },
	{ "kick_rate", "KICK/s", "vDPA kicks per second", 7, VFS_FT_RATE, false, true, VM(kick_rate), NULL, VFS_PROM_NONE },
	{ "resets", "RESETS", "device resets its calls caused (open, release, reset ioctls)", 6, VFS_FT_U64, false, true, VM(resets), NULL, VFS_PROM_NONE },
	{ "iommu_faults", "FAULTS", "IOMMU faults of the devices it owned when they came", 6, VFS_FT_U64, false, true, VM(iommu_faults), "vfioscope_vm_iommu_faults_total", VFS_PROM_COUNTER },
	{ "state", "STATE", "running, or exited (shown for the grace period, then collected)", 7, VFS_FT_STR, true, false, VM(state), NULL, VFS_PROM_NONE },
};
const size_t vfs_vm_nfields = sizeof(vfs_vm_fields) / sizeof(vfs_vm_fields[0]);

const struct vfs_field vfs_dev_fields[] = {
	{ "device", "DEVICE", "device name (PCI address, mdev UUID, vDPA name)", 16, VFS_FT_STR, true, false, DEV(name), NULL, VFS_PROM_NONE },
	{ "kind", "KIND", "vfio, vdpa-vhost or vdpa-virtio", 11, VFS_FT_STR, true, false, DEV(kind), NULL, VFS_PROM_NONE },
	{ "iommu_group", "GROUP", "IOMMU group", 5, VFS_FT_ID, false, false, DEV(group), NULL, VFS_PROM_NONE },
	{ "owner", "OWNER", "the VM that uses it", 16, VFS_FT_STR, true, false, DEV(owner), NULL, VFS_PROM_NONE },
	{ "owner_pid", "OPID", "process id of the owner", 7, VFS_FT_ID, false, false, DEV(owner_pid), NULL, VFS_PROM_NONE },
	{ "ioctls", "IOCTLS", "VFIO ioctls on it since attach", 9, VFS_FT_U64, false, true, DEV(ioctls), "vfioscope_device_ioctls_total", VFS_PROM_COUNTER },
	{ "ioctl_rate", "IOCTL/s", "VFIO ioctls per second", 8, VFS_FT_RATE, false, true, DEV(ioctl_rate), NULL, VFS_PROM_NONE },
	{ "errors", "ERRS", "failed VFIO ioctls since attach", 6, VFS_FT_U64, false, true, DEV(errors), "vfioscope_device_ioctl_errors_total", VFS_PROM_COUNTER },
	{ "p50_ns", "P50", "median ioctl latency since attach (log2 slot upper bound, at most the slowest call)", 7, VFS_FT_NS, false, true, DEV(p50_ns), NULL, VFS_PROM_NONE },
	{ "p99_ns", "P99", "99th percentile ioctl latency since attach (log2 slot upper bound, at most the slowest call)", 7, VFS_FT_NS, false, true, DEV(p99_ns), NULL, VFS_PROM_NONE },
	{ "region_accesses", "REGION", "trapped region reads, writes and mmaps", 9, VFS_FT_U64, false, true, DEV(region_accesses), "vfioscope_device_region_accesses_total", VFS_PROM_COUNTER },
	{ "region_rate", "REGION/s", "trapped region accesses per second", 8, VFS_FT_RATE, false, true, DEV(region_rate), NULL, VFS_PROM_NONE },
	{ "kicks", "KICKS", "vDPA kicks", 9, VFS_FT_U64, false, true, DEV(kicks), "vfioscope_device_vdpa_kicks_total", VFS_PROM_COUNTER },
	{ "kick_rate", "KICK/s", "vDPA kicks per second", 7, VFS_FT_RATE, false, true, DEV(kick_rate), NULL, VFS_PROM_NONE },
	{ "resets", "RESETS", "resets of the device since attach, every method and result (open, release, reset ioctls)", 6, VFS_FT_U64, false, true, DEV(resets), NULL, VFS_PROM_NONE },
	{ "reset_fails", "RSTERR", "resets that failed or ran no reset method", 6, VFS_FT_U64, false, true, DEV(reset_fails), NULL, VFS_PROM_NONE },
	{ "last_reset_ns", "LASTRST", "how long the device's last reset took", 7, VFS_FT_NS, false, true, DEV(last_reset_ns), NULL, VFS_PROM_NONE },
	{ "iommu_faults", "FAULTS", "IOMMU faults with the device as requester (DMA or interrupt remapping)", 6, VFS_FT_U64, false, true, DEV(iommu_faults), "vfioscope_device_iommu_faults_total", VFS_PROM_COUNTER },
	{ "state", "STATE", "live, or gone (removed: shown for the grace period, then collected)", 5, VFS_FT_STR, true, false, DEV(state), NULL, VFS_PROM_NONE },
};
const size_t vfs_dev_nfields = sizeof(vfs_dev_fields) / sizeof(vfs_dev_fields[0]);

#define QF(f) offsetof(struct vfs_vq_row, f)
#define MF(f) offsetof(struct vfs_mig_row, f)
#define EF(f) offsetof(struct vfs_event_row, f)
/* designated: the field struct may grow columns */
#define FIELD(k, t, d, w, ty, l, sd, o)					\
	{ .key = k, .title = t, .desc = d, .width = w, .type = ty,	\
	  .left = l, .sort_desc = sd, .off = o }

const struct vfs_field vfs_vq_fields[] = {
	FIELD("device", "DEVICE", "vDPA device name", 16, VFS_FT_STR, true, false, QF(device)),
	FIELD("qid", "QID", "virtqueue index", 4, VFS_FT_U64, false, false, QF(qid)),
	FIELD("path", "PATH", "vhost (a VMM) or virtio (the host kernel)", 6, VFS_FT_STR, true, false, QF(path)),
	FIELD("owner", "OWNER", "the VM that uses it", 16, VFS_FT_STR, true, false, QF(owner)),
	FIELD("kicks", "KICKS", "driver to device notifications since attach", 9, VFS_FT_U64, false, true, QF(kicks)),
	FIELD("kick_rate", "KICK/s", "kicks per second", 8, VFS_FT_RATE, false, true, QF(kick_rate)),
	FIELD("calls", "CALLS", "device to driver interrupts since attach", 9, VFS_FT_U64, false, true, QF(calls)),
	FIELD("call_rate", "CALL/s", "calls per second", 8, VFS_FT_RATE, false, true, QF(call_rate)),
	FIELD("stalls", "STALLS", "refresh intervals in which the queue was kicked but not "
	      "called back (counted where calls are seen: virtio, or a queue with calls)",
	      6, VFS_FT_U64, false, true, QF(stalls)),
};
const size_t vfs_vq_nfields = sizeof(vfs_vq_fields) / sizeof(vfs_vq_fields[0]);

const struct vfs_field vfs_mig_fields[] = {
	FIELD("device", "DEVICE", "device name (PCI address, mdev UUID)", 16, VFS_FT_STR, true, false, MF(device)),
	FIELD("role", "ROLE", "src: saving its state, dst: resuming it", 4, VFS_FT_STR, true, false, MF(role)),
	FIELD("vm", "VM", "the process that drove the migration", 12, VFS_FT_STR, true, false, MF(vm)),
	FIELD("phase", "PHASE", "device state after the last arc (FAILED: an arc failed)", 12, VFS_FT_STR, true, false, MF(phase)),
	FIELD("status", "STATUS", "open, ok, failed, cancelled or incomplete", 9, VFS_FT_STR, true, false, MF(status)),
	FIELD("sessions", "MIGS", "migrations of this device in this role since attach", 4, VFS_FT_U64, false, true, MF(sessions)),
	FIELD("last_arc_ns", "ARC", "kernel time of the last arc", 7, VFS_FT_NS, false, true, MF(last_arc_ns)),
	FIELD("stop_copy_ns", "STOPCOPY", "source: leaving running to the end of STOP_COPY", 8, VFS_FT_NS, false, true, MF(stop_copy_ns)),
	FIELD("transfer_ns", "XFER", "end of STOP_COPY to the destination's RESUMING", 7, VFS_FT_NS, false, true, MF(transfer_ns)),
	FIELD("resume_ns", "RESUME", "destination: RESUMING to running", 7, VFS_FT_NS, false, true, MF(resume_ns)),
	FIELD("downtime_ns", "DOWNTIME", "source stopped to destination running", 8, VFS_FT_NS, false, true, MF(downtime_ns)),
	FIELD("bytes", "BYTES", "device state bytes read (src) or written (dst)", 8, VFS_FT_BYTES, false, true, MF(bytes)),
	FIELD("errno", "ERRNO", "errno of the failing arc", 5, VFS_FT_ID, false, true, MF(err)),
	FIELD("precopy_initial", "PREINIT", "pre-copy: initial bytes still to read (driver's latest answer)", 8, VFS_FT_BYTES, false, true, MF(precopy_initial)),
	FIELD("precopy_dirty", "PREDIRTY", "pre-copy: bytes dirtied since (driver's latest answer)", 8, VFS_FT_BYTES, false, true, MF(precopy_dirty)),
	FIELD("polls", "POLLS", "pre-copy reads that found no data yet (ENOMSG)", 5, VFS_FT_U64, false, true, MF(polls)),
	FIELD("last_arc", "LAST ARC", "the last arc the device took", 14, VFS_FT_STR, true, false, MF(last_arc)),
};
const size_t vfs_mig_nfields = sizeof(vfs_mig_fields) / sizeof(vfs_mig_fields[0]);

const struct vfs_field vfs_event_fields[] = {
	FIELD("seq", "SEQ", "arrival order", 6, VFS_FT_U64, false, true, EF(seq)),
	FIELD("age_ns", "AGE", "how long before this frame", 7, VFS_FT_NS, false, false, EF(age_ns)),
	FIELD("pid", "PID", "process that caused it", 7, VFS_FT_ID, false, false, EF(pid)),
	FIELD("comm", "COMM", "its name", 16, VFS_FT_STR, true, false, EF(comm)),
	FIELD("event", "EVENT", "what happened", 40, VFS_FT_STR, true, false, EF(text)),
};
const size_t vfs_event_nfields = sizeof(vfs_event_fields) / sizeof(vfs_event_fields[0]);

#define XF(f) offsetof(struct vfs_mdev_row, f)
const struct vfs_field vfs_mdev_fields[] = {
	FIELD("parent", "PARENT", "parent device of the mdev type", 12, VFS_FT_STR, true, false, XF(parent)),
	FIELD("type", "TYPE", "mdev type (its directory under mdev_supported_types)", 14, VFS_FT_STR, true, false, XF(type)),
	FIELD("name", "NAME", "the type's name attribute", 12, VFS_FT_STR, true, false, XF(name)),
	FIELD("api", "API", "the type's device_api", 10, VFS_FT_STR, true, false, XF(api)),
	FIELD("available", "AVAIL", "available_instances now (-: unreadable)", 5, VFS_FT_ID, false, false, XF(available)),
	FIELD("instances", "INUSE", "instances of the type now (entries of devices/)", 5, VFS_FT_ID, false, true, XF(instances)),
	FIELD("low", "LOW", "the fewest available_instances seen since attach (at every refresh and every create/remove)", 5, VFS_FT_ID, false, false, XF(low)),
	FIELD("creates", "CREATES", "instances created since attach", 7, VFS_FT_U64, false, true, XF(creates)),
	FIELD("create_fails", "CRFAIL", "creates that failed since attach", 6, VFS_FT_U64, false, true, XF(create_fails)),
	FIELD("removes", "REMOVES", "instances removed since attach", 7, VFS_FT_U64, false, true, XF(removes)),
	FIELD("creators", "CREATORS", "who created the instances there now: VM:count (?: created before attach)", 24, VFS_FT_STR, true, false, XF(creators)),
};
const size_t vfs_mdev_nfields = sizeof(vfs_mdev_fields) / sizeof(vfs_mdev_fields[0]);

int vfs_field_find(const struct vfs_field *f, size_t n, const char *key)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(f[i].key, key))
			return (int)i;
	return -1;
}

static const void *at(const struct vfs_field *f, const void *row)
{
	return (const char *)row + f->off;
}

static __u64 u64_of(const struct vfs_field *f, const void *row)
{
	return *(const __u64 *)at(f, row);
}

__u64 vfs_field_u64(const struct vfs_field *f, const void *row)
{
	return u64_of(f, row);
}

/* three decimals (without libm): exact enough for a rate, and short */
static double round_rate(double d)
{
	if (d > 1e15 || d < -1e15)
		return d;
	return (double)(long long)(d * 1000 + (d >= 0 ? 0.5 : -0.5)) / 1000;
}

const char *vfs_field_text(const struct vfs_field *f, const void *row, char *buf, size_t len)
{
	__s64 id;
	__u64 v;

	switch (f->type) {
	case VFS_FT_STR:
		snprintf(buf, len, "%s", (const char *)at(f, row));
		break;
	case VFS_FT_U64:
		snprintf(buf, len, "%llu", (unsigned long long)u64_of(f, row));
		break;
	case VFS_FT_ID:
		id = *(const __s64 *)at(f, row);
		if (id < 0)
			snprintf(buf, len, "-");
		else
			snprintf(buf, len, "%lld", (long long)id);
		break;
	case VFS_FT_RATE:
		vfs_fmt_rate(*(const double *)at(f, row), buf, len);
		break;
	case VFS_FT_BYTES:
		vfs_fmt_bytes(*(const __u64 *)at(f, row), buf, len);
		break;
	case VFS_FT_NS:
		v = *(const __u64 *)at(f, row);
		if (!v)
			snprintf(buf, len, "-");
		else
			vfs_fmt_ns(v, buf, len);
		break;
	case VFS_FT_LIMIT:
		v = u64_of(f, row);
		if (v == VFS_LIMIT_INF || v == VFS_LIMIT_UNKNOWN)
			snprintf(buf, len, "%s", v == VFS_LIMIT_INF ? "unlim" : "-");
		else
			vfs_fmt_bytes(v, buf, len);
		break;
	}
	return buf;
}

void vfs_field_json(const struct vfs_field *f, const void *row, struct json_object *obj)
{
	struct json_object *v = NULL;
	__u64 u;
	double d;

	switch (f->type) {
	case VFS_FT_STR:
		v = json_object_new_string((const char *)at(f, row));
		break;
	case VFS_FT_U64:
	case VFS_FT_BYTES:
		v = json_object_new_uint64(u64_of(f, row));
		break;
	case VFS_FT_NS:
		u = *(const __u64 *)at(f, row);
		v = u ? json_object_new_uint64(u) : NULL;
		break;
	case VFS_FT_ID:
		v = *(const __s64 *)at(f, row) < 0 ? NULL :
			json_object_new_int64(*(const __s64 *)at(f, row));
		break;
	case VFS_FT_LIMIT:
		u = u64_of(f, row);
		v = u == VFS_LIMIT_UNKNOWN ? NULL : u == VFS_LIMIT_INF ? json_object_new_int64(-1) :
			json_object_new_uint64(u);
		break;
	case VFS_FT_RATE:
		d = *(const double *)at(f, row);
		v = isnan(d) ? NULL : json_object_new_double(round_rate(d));
		break;
	}
	json_object_object_add(obj, f->key, v);
}

int vfs_field_cmp(const struct vfs_field *f, const void *a, const void *b)
{
	int r;

	switch (f->type) {
	case VFS_FT_STR:
		r = strcmp((const char *)at(f, a), (const char *)at(f, b));
		return VFS_SPACESHIP(r, 0);
	case VFS_FT_ID:
		return vfs_cmp_s64(*(const __s64 *)at(f, a), *(const __s64 *)at(f, b));
	case VFS_FT_RATE:
		return vfs_cmp_rate(*(const double *)at(f, a), *(const double *)at(f, b));
	default:
		return vfs_cmp_u64(u64_of(f, a), u64_of(f, b));
	}
}

struct sort_ctx {
	const struct vfs_field *f, *tie;
	bool desc;
};

static int cmp_rows(const void *pa, const void *pb, void *pctx)
{
	const struct sort_ctx *s = pctx;
	const void *a = *(void *const *)pa, *b = *(void *const *)pb;
	int r = vfs_field_cmp(s->f, a, b);

	if (s->desc)
		r = -r;
	if (!r && s->tie)
		r = vfs_field_cmp(s->tie, a, b);
	return r;
}

void vfs_rows_sort(void **rows, size_t n, const struct vfs_field *f, bool desc,
		   const struct vfs_field *tie)
{
	struct sort_ctx s = { f, tie, desc };

	if (n < 2)
		return;		/* also: an empty table has no array (qsort wants one) */
	qsort_r(rows, n, sizeof(*rows), cmp_rows, &s);
}

int vfs_filter_set(struct vfs_filter *f, const char *text, char *err, size_t errlen)
{
	regex_t re;
	int r;

	if (!text || !*text) {
		vfs_filter_free(f);
		return 0;
	}
	if (strlen(text) >= sizeof(f->text)) {
		snprintf(err, errlen, "the filter is longer than %zu characters", sizeof(f->text) - 1);
		return -1;
	}
	r = regcomp(&re, text, REG_EXTENDED | REG_ICASE | REG_NOSUB);
	if (r) {
		char why[128];

		regerror(r, &re, why, sizeof(why));
		snprintf(err, errlen, "the filter '%s' is not a regular expression: %s", text, why);
		return -1;
	}
	vfs_filter_free(f);
	f->re = re;
	f->set = true;
	snprintf(f->text, sizeof(f->text), "%s", text);
	return 0;
}

void vfs_filter_free(struct vfs_filter *f)
{
	if (f->set)
		regfree(&f->re);
	f->set = false;
	f->text[0] = 0;
}

bool vfs_filter_match(const struct vfs_filter *f, const struct vfs_field *fields, size_t n,
		      const void *row)
{
	char buf[192], want[24];
	size_t i;

	if (!f)
		return true;
	if (f->pid) {
		snprintf(want, sizeof(want), "%llu", (unsigned long long)f->pid);
		for (i = 0; i < n; i++)
			if ((!strcmp(fields[i].key, "pid") || !strcmp(fields[i].key, "owner_pid")) &&
			    strcmp(vfs_field_text(&fields[i], row, buf, sizeof(buf)), want))
				return false;
	}
	if (!f->set)
		return true;
	for (i = 0; i < n; i++)
		if (fields[i].type == VFS_FT_STR &&
		    !regexec(&f->re, vfs_field_text(&fields[i], row, buf, sizeof(buf)), 0, NULL, 0))
			return true;
	return false;
}

int vfs_fields_pick(const struct vfs_field *f, size_t n, const char *list, __u64 *hidden,
		    char *err, size_t errlen)
{
	__u64 shown = 0;
	const char *p = list, *e;
	size_t i;

	if (!list || !*list) {
		*hidden = 0;
		return 0;
	}
	while (*p) {
		e = strchr(p, ',');
		if (!e)
			e = p + strlen(p);
		for (i = 0; i < n && i < 64; i++)
			if (strlen(f[i].key) == (size_t)(e - p) && !strncmp(f[i].key, p, e - p))
				break;
		if (i == n || i == 64) {
			snprintf(err, errlen, "'%.*s' is not a column here", (int)(e - p), p);
			return -1;
		}
		shown |= 1ull << i;
		p = *e ? e + 1 : e;
	}
	*hidden = ~shown;
	return 0;
}
