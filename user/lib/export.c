// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "export.h"
#include <errno.h>
#include <math.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "collector.h"
#include "identity.h"
#include "map_buf.h"
#include "mdevcap.h"
#include "mighist.h"
#include "migmodel.h"
#include "model.h"
#include "event_fmt.h"
#include "vfio_ioctl.h"
#include "vec.h"

/* one VM's calls of one command on one kind of file, over all objects */
struct cmd_agg {
	__u32 tgid, kind, cmd, pad;
	__u64 count, errors, sum_ns;
	__u64 hist[VFS_HIST_SLOTS];
};

/* what a device row lacks for export: label strings, the latency sum */
struct dev_extra {
	char driver[64];
	char group[24];
	__u64 sum_ns;		/* of its ioctls' latencies */
};

/* one label set of the reset families: reset_stats keys merged by label */
struct reset_agg {
	char dev[VFS_NAME_LEN + 1];
	__u32 tgid, cause, method;
	__s32 ret;
	__u64 count, sum_ns;
	__u64 hist[VFS_HIST_SLOTS];
};

struct vfs_export {
	struct vfs_collector *c;
	struct reset_agg *rst;		/* reused from scrape to scrape */
	size_t caprst;
	struct vfs_model model;
	struct cmd_agg *agg;		/* reused from scrape to scrape */
	size_t nagg, capagg;
	struct dev_extra *dl;		/* per device row */
	size_t capdev;
	int fd_irq;
	struct vfs_map_buf irq;
	struct vfs_migmodel *mm;
	struct vfs_mighist mh;
	__u64 mig_events, mig_bad;
};

int vfs_export_new(struct vfs_export **ep, struct vfs_collector *c)
{
	struct vfs_export *e = calloc(1, sizeof(*e));
	int err;

	*ep = NULL;
	if (!e)
		return -ENOMEM;
	e->c = c;
	e->fd_irq = -1;
	e->mm = vfs_migmodel_new();
	if (!e->mm) {
		free(e);
		return -ENOMEM;
	}
	if (c) {
		err = vfs_model_init(&e->model, c);
		if (err) {
			vfs_export_free(e);
			return err;
		}
		e->fd_irq = vfs_collector_map_fd(c, "irq_stats");
	}
	*ep = e;
	return 0;
}

void vfs_export_free(struct vfs_export *e)
{
	if (!e)
		return;
	if (e->c)
		vfs_model_free(&e->model);
	vfs_map_buf_free(&e->irq);
	free(e->rst);
	vfs_migmodel_free(e->mm);
	vfs_mighist_free(&e->mh);
	free(e->agg);
	free(e->dl);
	free(e);
}

/* ------------------------------------------------------------ lookups */

static int cmp_vm_pid(const void *key, const void *row)
{
	__u64 a = *(const __u64 *)key, b = ((const struct vfs_vm_row *)row)->pid;

	return (a > b) - (a < b);
}

static int cmp_dev_obj(const void *key, const void *row)
{
	__u64 a = *(const __u64 *)key, b = ((const struct vfs_dev_row *)row)->obj;

	return (a > b) - (a < b);
}

/* the model's rows are sorted by id */
static const struct vfs_vm_row *vm_of(const struct vfs_export *e, __u64 pid)
{
	return bsearch(&pid, e->model.vms, e->model.nvms, sizeof(*e->model.vms), cmp_vm_pid);
}

static long dev_index(const struct vfs_export *e, __u64 obj)
{
	const struct vfs_dev_row *d = bsearch(&obj, e->model.devs, e->model.ndevs,
					      sizeof(*e->model.devs), cmp_dev_obj);

	return d ? d - e->model.devs : -1;
}

/* the driver bound to device @dev, from sysfs; "" when it has none */
static const char *driver_of(const char *dev, char *buf, size_t len)
{
	static const char *const buses[] = { "pci", "mdev", "vdpa" };
	char path[PATH_MAX], link[PATH_MAX];
	unsigned int i;
	ssize_t n;

	buf[0] = '\0';
	if (!dev[0] || strchr(dev, '/') || !strcmp(dev, ".") || !strcmp(dev, ".."))
		return buf;
	for (i = 0; i < sizeof(buses) / sizeof(buses[0]); i++) {
		snprintf(path, sizeof(path), "/sys/bus/%s/devices/%s/driver", buses[i], dev);
		n = readlink(path, link, sizeof(link) - 1);
		if (n > 0) {
			link[n] = '\0';
			snprintf(buf, len, "%.*s", (int)len - 1,
				 strrchr(link, '/') ? strrchr(link, '/') + 1 : link);
			break;
		}
	}
	return buf;
}

static const char *mig_driver(const char *dev, void *ctx)
{
	return driver_of(dev, ctx, 64);
}

/* ---------------------------------------------------------- migrations */

int vfs_export_event(struct vfs_export *e, const struct vfs_event_hdr *ev, size_t size)
{
	const struct vfs_mm_migration *mig;
	struct vfs_mm_event mev;
	char vm[VFS_VM_NAME_LEN], drv[64];
	int r, err;

	/* mdev creates and removes: creators, counters, a sysfs scan */
	if (e->c)
		vfs_model_mdev_event(&e->model, ev, size);
	r = vfs_mm_event_from_raw(ev, size, &mev);
	if (r < 0)
		e->mig_bad++;
	if (r <= 0)
		return 0;
	/* a VM's exit is fed too (it fails what the VM left mid-migration) */
	if (mev.kind != VFS_MM_EXIT)
		e->mig_events++;
	err = vfs_migmodel_feed(e->mm, &mev);
	if (err)
		return err;
	while ((mig = vfs_migmodel_next(e->mm, false))) {
		const struct vfs_vm_row *row = e->c ? vm_of(e, mig->pid) : NULL;

		if (row)
			snprintf(vm, sizeof(vm), "%s", row->name);
		else
			vfs_vm_name((pid_t)mig->pid, mig->comm, vm, sizeof(vm));
		err = vfs_mighist_add(&e->mh, mig, vm, mig_driver, drv);
		if (err)
			return err;
	}
	return 0;
}

static void render_migrations(struct vfs_export *e, struct prom_buf *b)
{
	const struct vfs_mm_session *ms;
	static const struct {
		enum vfs_mh_kind kind;
		const char *name, *help;
	} fam[] = {
		{ VFS_MH_MIGRATIONS, "vfioscope_migrations_total",
		  "Completed migrations per VM, by status (ok, failed, cancelled)." },
		{ VFS_MH_VM_DOWNTIME, "vfioscope_migration_downtime_seconds",
		  "VM downtime of each migration: first device stopped to last device running." },
		{ VFS_MH_DEV_DOWNTIME, "vfioscope_migration_device_downtime_seconds",
		  "Each device's downtime (source stop to destination running), by driver." },
		{ VFS_MH_ARC, "vfioscope_migration_arc_duration_seconds",
		  "Kernel time of each migration state transition, by driver, side and arc." },
	};
	unsigned int f;
	size_t i;

	for (f = 0; f < sizeof(fam) / sizeof(fam[0]); f++) {
		prom_family(b, fam[f].name, fam[f].kind == VFS_MH_MIGRATIONS ? PROM_COUNTER :
			    PROM_HISTOGRAM, fam[f].help);
		for (i = 0; i < e->mh.n; i++) {
			const struct vfs_mh_series *s = &e->mh.s[i];
			struct prom_label l[] = {
				{ "vm", s->vm }, { "driver", s->driver },
				{ "side", vfs_mm_role_name(s->role) },
				{ "from", vfs_mig_state_name(s->from) },
				{ "to", vfs_mig_state_name(s->to) },
			};

			if (s->kind != fam[f].kind)
				continue;
			if (s->kind == VFS_MH_MIGRATIONS) {
				l[1] = (struct prom_label){ "status", vfs_mm_status_name(s->status) };
				prom_sample_u64(b, fam[f].name, l, 2, s->count);
			} else {
				prom_hist_log2(b, l, s->kind == VFS_MH_VM_DOWNTIME ? 1 :
					       s->kind == VFS_MH_DEV_DOWNTIME ? 2 : 5,
					       s->slots, VFS_MH_SLOTS, s->sum_ns, 9);
			}
		}
	}
	prom_family(b, "vfioscope_migration_last_downtime_seconds", PROM_GAUGE,
		    "VM downtime of the VM's latest completed migration.");
	for (i = 0; i < e->mh.n; i++) {
		const struct vfs_mh_series *s = &e->mh.s[i];
		struct prom_label l[] = { { "vm", s->vm } };

		if (s->kind == VFS_MH_VM_DOWNTIME)
			prom_sample_double(b, "vfioscope_migration_last_downtime_seconds", l, 1,
					   (double)s->last_ns / 1e9);
	}
	/*
	 * Pre-copy in progress: each source session in PRE_COPY(_P2P), its
	 * latest GET_PRECOPY_INFO answer (learned drivers); gone when it leaves
	 */
	prom_family(b, "vfioscope_migration_precopy_bytes", PROM_GAUGE,
		    "Device state still to be read in pre-copy, by the driver's latest "
		    "GET_PRECOPY_INFO answer: initial (of the first pass) or dirty (since).");
	for (i = 0; (ms = vfs_migmodel_session(e->mm, i)); i++) {
		const struct vfs_vm_row *row;
		char vm[VFS_VM_NAME_LEN];
		struct prom_label l[] = { { "vm", vm }, { "device", ms->dev }, { "kind", "initial" } };

		if (!ms->precopy_queries || !vfs_mm_session_in_precopy(ms))
			continue;
		row = e->c ? vm_of(e, ms->pid) : NULL;
		if (row)
			snprintf(vm, sizeof(vm), "%s", row->name);
		else
			vfs_vm_name((pid_t)ms->pid, ms->comm, vm, sizeof(vm));
		prom_sample_u64(b, "vfioscope_migration_precopy_bytes", l, 3,
				ms->precopy_initial_last);
		l[2].value = "dirty";
		prom_sample_u64(b, "vfioscope_migration_precopy_bytes", l, 3, ms->precopy_dirty_last);
	}
	prom_family(b, "vfioscope_migration_events_total", PROM_COUNTER,
		    "Migration arc and data events the exporter received (malformed: too short "
		    "for their type; unattributed: data for no known session).");
	{
		struct prom_label l[] = { { "outcome", "used" } };

		prom_sample_u64(b, "vfioscope_migration_events_total", l, 1, e->mig_events);
		l[0].value = "malformed";
		prom_sample_u64(b, "vfioscope_migration_events_total", l, 1, e->mig_bad);
		l[0].value = "unattributed";
		prom_sample_u64(b, "vfioscope_migration_events_total", l, 1,
				vfs_migmodel_unattributed(e->mm));
	}
}

/* ---------------------------------------------------------- tiers, losses */

static void render_tiers(struct vfs_export *e, struct prom_buf *b)
{
	static const char name[] = "vfioscope_collector_tier_info";
	int i;

	prom_family(b, name, PROM_GAUGE,
		    "The hook tier serving each event class on this kernel (tracepoint, fentry, "
		    "kprobe or unsupported); always 1.");
	for (i = 0; i < VFS_CLASS_MAX; i++) {
		const struct vfs_tier_choice *t = vfs_collector_tier(e->c, i);
		struct prom_label l[] = {
			{ "class", vfs_class_name(i) },
			{ "tier", vfs_tier_name(t ? t->tier : VFS_TIER_NONE) },
		};

		prom_sample_u64(b, name, l, 2, 1);
	}
}

static int render_drops(struct vfs_export *e, struct prom_buf *b)
{
	static const char name[] = "vfioscope_collector_drops_total";
	__u64 drops[VFS_DROP_MAX];
	int i, err;

	err = vfs_collector_drops(e->c, drops);
	if (err)
		return err;
	prom_family(b, name, PROM_COUNTER,
		    "Events or counts the collector lost, by stage (ringbuf: an event not "
		    "delivered; map: a key not counted because its map was full) and reason.");
	for (i = 0; i < VFS_DROP_MAX; i++) {
		const char *reason = vfs_drop_name(i);
		struct prom_label l[] = {
			{ "stage", i == VFS_DROP_RINGBUF ? "ringbuf" : "map" },
			{ "reason", reason },
		};

		if (strcmp(reason, "unused"))
			prom_sample_u64(b, name, l, 2, drops[i]);
	}
	return 0;
}

/* what this exporter's model collected (gc.h): monotonic, per process */
static void render_gc(struct vfs_export *e, struct prom_buf *b)
{
	static const char name[] = "vfioscope_collector_gc_total";
	const struct vfs_gc_stats *s = &e->model.gc.stats;
	const struct { const char *what; __u64 v; } rows[] = {
		{ "vms", s->vms }, { "objects", s->objs }, { "entries", s->entries },
		{ "errors", s->errors },
	};
	size_t i;

	prom_family(b, name, PROM_COUNTER,
		    "Map entries of exited VMs and removed devices this exporter deleted after "
		    "the grace period (vms, objects: their markers; entries: in all maps; "
		    "errors: deletes that failed).");
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct prom_label l = { "what", rows[i].what };

		prom_sample_u64(b, name, &l, 1, rows[i].v);
	}
}

/* ---------------------------------------------------------------- rows */

static void vm_labels(const struct vfs_vm_row *r, struct prom_label l[2], char *pid, size_t len)
{
	snprintf(pid, len, "%llu", (unsigned long long)r->pid);
	l[0] = (struct prom_label){ "vm", r->name };
	l[1] = (struct prom_label){ "pid", pid };
}

#define DEV_NLABELS 5
static void dev_labels(const struct vfs_export *e, size_t i, struct prom_label l[DEV_NLABELS])
{
	const struct vfs_dev_row *d = &e->model.devs[i];

	l[0] = (struct prom_label){ "device", d->name };
	l[1] = (struct prom_label){ "type", d->kind };
	l[2] = (struct prom_label){ "driver", e->dl[i].driver };
	l[3] = (struct prom_label){ "iommu_group", e->dl[i].group };
	l[4] = (struct prom_label){ "vm", strcmp(d->owner, "-") ? d->owner : "" };
}

/* the family of field @f, then one sample per row */
static void field_family(struct prom_buf *b, const struct vfs_field *f)
{
	prom_family(b, f->prom, f->prom_kind == VFS_PROM_COUNTER ? PROM_COUNTER : PROM_GAUGE,
		    f->desc);
}

static void render_vms(struct vfs_export *e, struct prom_buf *b)
{
	const struct vfs_model *m = &e->model;
	struct prom_label l[2];
	char pid[24];
	size_t f, i;

	for (f = 0; f < vfs_vm_nfields; f++) {
		const struct vfs_field *fd = &vfs_vm_fields[f];

		if (!fd->prom)
			continue;
		field_family(b, fd);
		for (i = 0; i < m->nvms; i++) {
			__u64 v = vfs_field_u64(fd, &m->vms[i]);

			vm_labels(&m->vms[i], l, pid, sizeof(pid));
			if (fd->type != VFS_FT_LIMIT)
				prom_sample_u64(b, fd->prom, l, 2, v);
			else if (v == VFS_LIMIT_INF)
				prom_sample_double(b, fd->prom, l, 2, INFINITY);
			else if (v != VFS_LIMIT_UNKNOWN)
				prom_sample_u64(b, fd->prom, l, 2, v);
		}
	}
}


static int render_devs(struct vfs_export *e, struct prom_buf *b)
{
	const struct vfs_model *m = &e->model;
	struct prom_label l[DEV_NLABELS + 1];
	size_t f, i, j;
	__u64 slots[VFS_HIST_SLOTS];

	if (vfs_grow((void **)&e->dl, &e->capdev, m->ndevs, sizeof(*e->dl)))
		return -ENOMEM;
	for (i = 0; i < m->ndevs; i++) {
		driver_of(m->devs[i].name, e->dl[i].driver, sizeof(e->dl[i].driver));
		if (m->devs[i].group >= 0)
			snprintf(e->dl[i].group, sizeof(e->dl[i].group), "%lld",
				 (long long)m->devs[i].group);
		else
			e->dl[i].group[0] = '\0';
		e->dl[i].sum_ns = 0;
	}
	for (f = 0; f < vfs_dev_nfields; f++) {
		const struct vfs_field *fd = &vfs_dev_fields[f];

		if (!fd->prom)
			continue;
		field_family(b, fd);
		for (i = 0; i < m->ndevs; i++) {
			dev_labels(e, i, l);
			prom_sample_u64(b, fd->prom, l, DEV_NLABELS, vfs_field_u64(fd, &m->devs[i]));
		}
	}

	/* ioctl latency per device, over its commands */
	for (i = 0; i < m->map[VFS_IN_IOCTL].n; i++) {
		const struct vfs_cmd_key *k = VFS_MAP_BUF_KEY(&m->map[VFS_IN_IOCTL], struct vfs_cmd_key, i);
		const struct vfs_cmd_val *v = VFS_MAP_BUF_VAL(&m->map[VFS_IN_IOCTL], struct vfs_cmd_val, i);
		long d = k->kind == VFS_FD_DEVICE ? dev_index(e, k->obj) : -1;

		if (d >= 0)
			e->dl[d].sum_ns += v->lat_sum_ns;
	}
	prom_family(b, "vfioscope_device_ioctl_latency_seconds", PROM_HISTOGRAM,
		    "Latency of VFIO ioctls on the device, all commands.");
	for (i = 0; i < m->ndevs; i++) {
		for (j = 0; j < VFS_HIST_SLOTS; j++)
			slots[j] = m->devs[i].hist[j];
		dev_labels(e, i, l);
		prom_hist_log2(b, l, DEV_NLABELS, slots, VFS_HIST_SLOTS, e->dl[i].sum_ns, 9);
	}
	return 0;
}

/* ------------------------------------------------- per VM and command */

static int cmp_agg(const void *pa, const void *pb)
{
	const struct cmd_agg *a = pa, *b = pb;

	if (a->tgid != b->tgid)
		return a->tgid < b->tgid ? -1 : 1;
	if (a->kind != b->kind)
		return a->kind < b->kind ? -1 : 1;
	return (a->cmd > b->cmd) - (a->cmd < b->cmd);
}

static int aggregate_cmds(struct vfs_export *e)
{
	const struct vfs_map_buf *ib = &e->model.map[VFS_IN_IOCTL];
	size_t i, j, n = 0;

	if (vfs_grow((void **)&e->agg, &e->capagg, ib->n, sizeof(*e->agg)))
		return -ENOMEM;
	for (i = 0; i < ib->n; i++) {
		const struct vfs_cmd_key *k = VFS_MAP_BUF_KEY(ib, struct vfs_cmd_key, i);
		const struct vfs_cmd_val *v = VFS_MAP_BUF_VAL(ib, struct vfs_cmd_val, i);
		struct cmd_agg *a = &e->agg[i];

		a->tgid = k->tgid;
		a->kind = k->kind;
		a->cmd = k->cmd;
		a->count = v->count;
		a->errors = v->errors;
		a->sum_ns = v->lat_sum_ns;
		for (j = 0; j < VFS_HIST_SLOTS; j++)
			a->hist[j] = v->hist[j];
	}
	qsort(e->agg, ib->n, sizeof(*e->agg), cmp_agg);
	/* merge the objects of one (VM, kind, command) */
	for (i = 0; i < ib->n; i++) {
		struct cmd_agg *a = &e->agg[i], *o = n ? &e->agg[n - 1] : NULL;

		if (o && !cmp_agg(o, a)) {
			o->count += a->count;
			o->errors += a->errors;
			o->sum_ns += a->sum_ns;
			for (j = 0; j < VFS_HIST_SLOTS; j++)
				o->hist[j] += a->hist[j];
		} else if (&e->agg[n++] != a) {
			e->agg[n - 1] = *a;
		}
	}
	e->nagg = n;
	return 0;
}

/* the label strings of one aggregate */
struct cmd_text {
	char pid[16];
	char cmd[64];
};

/* labels vm, pid, fd, cmd of aggregate @a */
static size_t cmd_labels(const struct vfs_export *e, const struct cmd_agg *a,
			 struct prom_label l[4], struct cmd_text *t)
{
	const struct vfs_vm_row *r = vm_of(e, a->tgid);
	const char *name = vfio_ioctl_name(a->kind, a->cmd);

	snprintf(t->pid, sizeof(t->pid), "%u", a->tgid);
	if (name)
		snprintf(t->cmd, sizeof(t->cmd), "%s", name);
	else
		snprintf(t->cmd, sizeof(t->cmd), "0x%x", a->cmd);
	l[0] = (struct prom_label){ "vm", r ? r->name : "" };
	l[1] = (struct prom_label){ "pid", t->pid };
	l[2] = (struct prom_label){ "fd", vfio_fd_kind_name(a->kind) };
	l[3] = (struct prom_label){ "cmd", t->cmd };
	return 4;
}

static int render_cmds(struct vfs_export *e, struct prom_buf *b)
{
	static const char calls[] = "vfioscope_vm_cmd_ioctls_total";
	static const char errs[] = "vfioscope_vm_cmd_ioctl_errors_total";
	struct prom_label l[4];
	struct cmd_text t;
	size_t i;
	int err = aggregate_cmds(e);

	if (err)
		return err;
	prom_family(b, calls, PROM_COUNTER, "VFIO ioctls per VM, file kind and command.");
	for (i = 0; i < e->nagg; i++)
		prom_sample_u64(b, calls, l, cmd_labels(e, &e->agg[i], l, &t),
				e->agg[i].count);
	prom_family(b, errs, PROM_COUNTER, "Failed VFIO ioctls per VM, file kind and command.");
	for (i = 0; i < e->nagg; i++)
		prom_sample_u64(b, errs, l, cmd_labels(e, &e->agg[i], l, &t),
				e->agg[i].errors);
	prom_family(b, "vfioscope_vm_cmd_ioctl_latency_seconds", PROM_HISTOGRAM,
		    "Latency of VFIO ioctls per VM, file kind and command.");
	for (i = 0; i < e->nagg; i++)
		prom_hist_log2(b, l, cmd_labels(e, &e->agg[i], l, &t),
			       e->agg[i].hist, VFS_HIST_SLOTS, e->agg[i].sum_ns, 9);
	return 0;
}

/* ------------------------------------------------------------- resets */

static int cmp_rst(const void *pa, const void *pb)
{
	const struct reset_agg *a = pa, *b = pb;
	int r = strcmp(a->dev, b->dev);

	if (r)
		return r;
	if (a->tgid != b->tgid)
		return a->tgid < b->tgid ? -1 : 1;
	if (a->cause != b->cause)
		return a->cause < b->cause ? -1 : 1;
	if (a->method != b->method)
		return a->method < b->method ? -1 : 1;
	return (a->ret > b->ret) - (a->ret < b->ret);
}

/*
 * Per PCI device, VM, cause, method and result: how many resets and how
 * long they took. Keys that differ only by the VFIO device object (the
 * same PCI device unbound and bound again) are one label set.
 */
static int render_resets(struct vfs_export *e, struct prom_buf *b)
{
	static const char cnt[] = "vfioscope_device_resets_total";
	static const char dur[] = "vfioscope_device_reset_duration_seconds";
	const struct vfs_map_buf *rb = &e->model.map[VFS_IN_RESET];
	struct prom_label l[6];
	char pid[16], res[32];
	size_t i, j, n = 0;
	int pass;

	if (rb->key_size != sizeof(struct vfs_reset_key))
		return 0;
	if (vfs_grow((void **)&e->rst, &e->caprst, rb->n, sizeof(*e->rst)))
		return -ENOMEM;
	for (i = 0; i < rb->n; i++) {
		const struct vfs_reset_key *k = VFS_MAP_BUF_KEY(rb, struct vfs_reset_key, i);
		const struct vfs_reset_val *v = VFS_MAP_BUF_VAL(rb, struct vfs_reset_val, i);
		struct reset_agg *a = &e->rst[i];

		snprintf(a->dev, sizeof(a->dev), "%.*s", (int)strnlen(k->dev, sizeof(k->dev)),
			 k->dev);
		a->tgid = k->tgid;
		a->cause = k->cause;
		a->method = k->method;
		a->ret = k->ret;
		a->count = v->count;
		a->sum_ns = v->dur_sum_ns;
		for (j = 0; j < VFS_HIST_SLOTS; j++)
			a->hist[j] = v->hist[j];
	}
	qsort(e->rst, rb->n, sizeof(*e->rst), cmp_rst);
	for (i = 0; i < rb->n; i++) {
		struct reset_agg *a = &e->rst[i], *o = n ? &e->rst[n - 1] : NULL;

		if (o && !cmp_rst(o, a)) {
			o->count += a->count;
			o->sum_ns += a->sum_ns;
			for (j = 0; j < VFS_HIST_SLOTS; j++)
				o->hist[j] += a->hist[j];
		} else if (&e->rst[n++] != a) {
			e->rst[n - 1] = *a;
		}
	}
	for (pass = 0; pass < 2; pass++) {
		if (pass)
			prom_family(b, dur, PROM_HISTOGRAM, "How long PCI device resets took, per "
				    "device, VM, cause, method and result.");
		else
			prom_family(b, cnt, PROM_COUNTER, "PCI device resets per device, VM, cause "
				    "(open, release, ioctl, hot_reset, other), method (flr, pm, "
				    "bus, hot, none...) and result (ok or the errno).");
		for (i = 0; i < n; i++) {
			const struct reset_agg *a = &e->rst[i];
			const struct vfs_vm_row *r = vm_of(e, a->tgid);

			snprintf(pid, sizeof(pid), "%u", a->tgid);
			l[0] = (struct prom_label){ "device", a->dev };
			l[1] = (struct prom_label){ "vm", r ? r->name : "" };
			l[2] = (struct prom_label){ "pid", pid };
			l[3] = (struct prom_label){ "cause", vfs_reset_cause_name(a->cause) };
			l[4] = (struct prom_label){ "method", vfs_reset_method_name(a->method) };
			l[5] = (struct prom_label){ "result", vfs_reset_result(a->ret, res,
										 sizeof(res)) };
			if (pass)
				prom_hist_log2(b, l, 6, a->hist, VFS_HIST_SLOTS, a->sum_ns, 9);
			else
				prom_sample_u64(b, cnt, l, 6, a->count);
		}
	}
	return 0;
}

/* ------------------------------------------------------- IRQs, queues */

static int render_irqs(struct vfs_export *e, struct prom_buf *b)
{
	static const char sig[] = "vfioscope_device_irq_signals_total";
	static const char vec[] = "vfioscope_device_irq_vectors";
	struct prom_label l[DEV_NLABELS + 1];
	char idx[16];
	size_t i;
	int pass, err;

	/* a module loaded later may have brought the map (vfs_collector_rescan) */
	if (e->fd_irq < 0 && e->model.c)
		e->fd_irq = vfs_collector_map_fd(e->model.c, "irq_stats");
	if (e->fd_irq >= 0 && (err = vfs_map_buf_read(e->fd_irq, &e->irq, NULL)))
		return err;
	for (pass = 0; pass < 2; pass++) {
		if (pass)
			prom_family(b, vec, PROM_GAUGE,
				    "Vectors set by the last VFIO_DEVICE_SET_IRQS, per IRQ index.");
		else
			prom_family(b, sig, PROM_COUNTER,
				    "Interrupts delivered, per device and IRQ index (where observable).");
		for (i = 0; e->fd_irq >= 0 && i < e->irq.n; i++) {
			const struct vfs_irq_key *k = VFS_MAP_BUF_KEY(&e->irq, struct vfs_irq_key, i);
			const struct vfs_irq_val *v = VFS_MAP_BUF_VAL(&e->irq, struct vfs_irq_val, i);
			long d = dev_index(e, k->obj);

			if (d < 0)
				continue;
			dev_labels(e, (size_t)d, l);
			snprintf(idx, sizeof(idx), "%u", k->index);
			l[DEV_NLABELS] = (struct prom_label){ "index", idx };
			prom_sample_u64(b, pass ? vec : sig, l, DEV_NLABELS + 1,
					pass ? v->vectors : v->signals);
		}
	}
	return 0;
}

static void render_vqs(struct vfs_export *e, struct prom_buf *b)
{
	static const char *const names[2] = {
		"vfioscope_vdpa_vq_kicks_total", "vfioscope_vdpa_vq_calls_total" };
	static const char *const helps[2] = {
		"vDPA virtqueue kicks (driver to device notifications).",
		"vDPA virtqueue calls (device to driver interrupts or callbacks).",
	};
	const struct vfs_map_buf *q = &e->model.map[VFS_IN_VQ];
	struct prom_label l[DEV_NLABELS + 1];
	char qid[16];
	size_t i;
	int pass;

	for (pass = 0; pass < 2; pass++) {
		prom_family(b, names[pass], PROM_COUNTER, helps[pass]);
		for (i = 0; i < q->n; i++) {
			const struct vfs_vq_key *k = VFS_MAP_BUF_KEY(q, struct vfs_vq_key, i);
			const struct vfs_vq_val *v = VFS_MAP_BUF_VAL(q, struct vfs_vq_val, i);
			long d = dev_index(e, VFS_DEV_ROW_ID_VDPA(k->obj));

			if (d < 0)
				continue;
			dev_labels(e, (size_t)d, l);
			snprintf(qid, sizeof(qid), "%u", k->qid);
			l[DEV_NLABELS] = (struct prom_label){ "queue", qid };
			prom_sample_u64(b, names[pass], l, DEV_NLABELS + 1,
					pass ? v->calls : v->kicks);
		}
	}
}

/* ---------------------------------------------------------------- mdev */

/*
 * Capacity per parent and mdev type from the model's last sysfs scan (a
 * figure sysfs did not give as a number is left out, not exported as 0),
 * and the stream's creates and removes per type, VM and result.
 */
static void render_mdev(struct vfs_export *e, struct prom_buf *b)
{
	static const char avail[] = "vfioscope_mdev_available_instances";
	static const char inuse[] = "vfioscope_mdev_instances";
	static const char *const ops[2] = {
		"vfioscope_mdev_creates_total", "vfioscope_mdev_removes_total" };
	static const char *const op_helps[2] = {
		"mdev instance creates per parent, type, creating VM and result (ok or the errno).",
		"mdev instance removes per parent, type, removing VM and result (ok or the errno).",
	};
	const struct vfs_mdevcap *c = e->model.mdev;
	struct prom_label l[4];
	char res[32];
	size_t i;
	int pass;

	prom_family(b, avail, PROM_GAUGE, "available_instances of each mdev type of each "
		    "parent device, as sysfs says at the last refresh or create/remove.");
	for (i = 0; i < c->ntypes; i++) {
		l[0] = (struct prom_label){ "parent", c->types[i].parent };
		l[1] = (struct prom_label){ "type", c->types[i].type };
		if (c->types[i].available >= 0)
			prom_sample_u64(b, avail, l, 2, (__u64)c->types[i].available);
	}
	prom_family(b, inuse, PROM_GAUGE, "Instances of each mdev type of each parent device "
		    "(entries of the type's devices/ in sysfs).");
	for (i = 0; i < c->ntypes; i++) {
		l[0] = (struct prom_label){ "parent", c->types[i].parent };
		l[1] = (struct prom_label){ "type", c->types[i].type };
		if (c->types[i].instances >= 0)
			prom_sample_u64(b, inuse, l, 2, (__u64)c->types[i].instances);
	}
	for (pass = 0; pass < 2; pass++) {
		__u32 op = pass ? VFS_MDEV_REMOVE : VFS_MDEV_CREATE;

		prom_family(b, ops[pass], PROM_COUNTER, op_helps[pass]);
		for (i = 0; i < c->ncount; i++) {
			const struct vfs_mdev_count *k = &c->count[i];

			if (k->op != op)
				continue;
			l[0] = (struct prom_label){ "parent", k->parent };
			l[1] = (struct prom_label){ "type", k->type };
			l[2] = (struct prom_label){ "vm", k->vm };
			l[3] = (struct prom_label){ "result", vfs_reset_result(k->ret, res,
									     sizeof(res)) };
			prom_sample_u64(b, ops[pass], l, 4, k->n);
		}
	}
	prom_family(b, "vfioscope_mdev_tracking_dropped_total", PROM_COUNTER,
		    "mdev bookkeeping the exporter could not keep (instances: creators not "
		    "remembered; counters: create/remove events not counted).");
	l[0] = (struct prom_label){ "what", "instances" };
	prom_sample_u64(b, "vfioscope_mdev_tracking_dropped_total", l, 1, c->inst_dropped);
	l[0].value = "counters";
	prom_sample_u64(b, "vfioscope_mdev_tracking_dropped_total", l, 1, c->count_dropped);
	prom_family(b, "vfioscope_mdev_types_untracked", PROM_GAUGE,
		    "mdev types in sysfs at the last scan that the exporter does not track "
		    "(over its limit).");
	prom_sample_u64(b, "vfioscope_mdev_types_untracked", NULL, 0, c->types_untracked);
}

int vfs_export_render(struct vfs_export *e, struct prom_buf *out)
{
	int err;

	if (e->c) {
		render_tiers(e, out);
		if ((err = render_drops(e, out)))
			return err;
		if ((err = vfs_model_update(&e->model)))
			return err;
		render_gc(e, out);
		render_vms(e, out);
		if ((err = render_devs(e, out)) || (err = render_cmds(e, out)) ||
		    (err = render_irqs(e, out)) || (err = render_resets(e, out)))
			return err;
		render_vqs(e, out);
		render_mdev(e, out);
	}
	render_migrations(e, out);
	return out->err;
}
