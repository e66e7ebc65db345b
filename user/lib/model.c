// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "model.h"
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "event_fmt.h"
#include "identity.h"
#include "migmodel.h"
#include "vfio_ioctl.h"
#include "map_iter.h"
#include "mdevcap.h"
#include "stats.h"
#include "vec.h"

static const char *const view_names[VFS_VIEW_MAX] = {
	"vms", "devices", "queues", "migrations", "events", "mdev"
};

const char *const vfs_model_map_names[VFS_IN_MAX] = {
	[VFS_IN_IOCTL] = "ioctl_stats", [VFS_IN_VM] = "vm_stats", [VFS_IN_VMINFO] = "vm_info",
	[VFS_IN_OBJ] = "obj_info", [VFS_IN_REGION] = "region_stats", [VFS_IN_VQ] = "vq_stats",
	[VFS_IN_VDPA] = "vdpa_info", [VFS_IN_ERRNO] = "ioctl_errno",
	[VFS_IN_RESET] = "reset_stats", [VFS_IN_FAULT] = "fault_stats",
};

const __u32 vfs_model_map_sizes[VFS_IN_MAX][2] = {
	[VFS_IN_IOCTL] = { sizeof(struct vfs_cmd_key), sizeof(struct vfs_cmd_val) },
	[VFS_IN_VM] = { sizeof(__u32), sizeof(struct vfs_vm_val) },
	[VFS_IN_VMINFO] = { sizeof(__u32), sizeof(struct vfs_vm_info) },
	[VFS_IN_OBJ] = { sizeof(__u64), sizeof(struct vfs_obj_info) },
	[VFS_IN_REGION] = { sizeof(struct vfs_region_key), sizeof(struct vfs_region_val) },
	[VFS_IN_VQ] = { sizeof(struct vfs_vq_key), sizeof(struct vfs_vq_val) },
	[VFS_IN_VDPA] = { sizeof(__u64), sizeof(struct vfs_vdpa_info) },
	[VFS_IN_ERRNO] = { sizeof(struct vfs_errno_key), sizeof(__u64) },
	[VFS_IN_RESET] = { sizeof(struct vfs_reset_key), sizeof(struct vfs_reset_val) },
	[VFS_IN_FAULT] = { sizeof(struct vfs_fault_key), sizeof(struct vfs_fault_val) },
};

const char *vfs_view_name(enum vfs_view v)
{
	return v < VFS_VIEW_MAX ? view_names[v] : "?";
}

int vfs_view_parse(const char *s, enum vfs_view *v)
{
	int i;

	for (i = 0; i < VFS_VIEW_MAX; i++)
		if (!strcmp(s, view_names[i])) {
			*v = i;
			return 0;
		}
	return -1;
}

static void proc_namer(void *user, __u32 pid, const struct vfs_vm_info *vi, const char *comm,
		       char *out, size_t len)
{
	if (vi)
		vfs_vm_name_info((pid_t)pid, vi, out, len);
	else
		vfs_vm_name((pid_t)pid, comm, out, len);
}

static void table_init(struct vfs_table *t, const struct vfs_field *f, size_t n, const char *key)
{
	int i = vfs_field_find(f, n, key);

	*t = (struct vfs_table){ .fields = f, .nfields = n, .sort = i < 0 ? 0 : i };
	t->desc = f[t->sort].sort_desc;
}

void vfs_model_attach(struct vfs_model *m, struct vfs_collector *c)
{
	int i;

	m->c = c;
	m->gc_grace_ns = c ? vfs_collector_gc_grace_ns(c) : VFS_GC_GRACE_NS;
	for (i = 0; i < VFS_IN_MAX; i++)
		m->fd[i] = c ? vfs_collector_map_fd(c, vfs_model_map_names[i]) : -1;
	m->gen = c ? vfs_collector_generation(c) : 0;
}

int vfs_model_init(struct vfs_model *m, struct vfs_collector *c)
{
	memset(m, 0, sizeof(*m));
	vfs_model_attach(m, c);
	m->page_size = sysconf(_SC_PAGESIZE);
	m->namer = proc_namer;
	m->mm = vfs_migmodel_new();
	m->mdev = vfs_mdevcap_new(NULL);
	if (!m->mm || !m->mdev) {
		vfs_model_free(m);
		return -ENOMEM;
	}
	table_init(&m->view[VFS_VIEW_VMS], vfs_vm_fields, vfs_vm_nfields, "ioctls");
	table_init(&m->view[VFS_VIEW_DEVICES], vfs_dev_fields, vfs_dev_nfields, "ioctls");
	table_init(&m->view[VFS_VIEW_QUEUES], vfs_vq_fields, vfs_vq_nfields, "kicks");
	table_init(&m->view[VFS_VIEW_MIGRATIONS], vfs_mig_fields, vfs_mig_nfields, "device");
	table_init(&m->view[VFS_VIEW_EVENTS], vfs_event_fields, vfs_event_nfields, "seq");
	table_init(&m->view[VFS_VIEW_MDEV], vfs_mdev_fields, vfs_mdev_nfields, "type");
	return 0;
}

void vfs_model_free(struct vfs_model *m)
{
	int i;

	for (i = 0; i < VFS_IN_MAX; i++)
		vfs_map_buf_free(&m->map[i]);
	vfs_gc_free(&m->gc);
	free(m->vms);
	free(m->devs);
	free(m->vqs);
	free(m->migs);
	vfs_migmodel_free(m->mm);
	vfs_mdevcap_free(m->mdev);
	for (i = 0; i < VFS_VIEW_MAX; i++)
		free(m->view[i].rows);
	memset(m, 0, sizeof(*m));
}

/* ---------------------------------------------------------------- rows */

/* binary search by id: the index of the row, or where it would go */
#define FIND(arr, n, idf, id, found)					\
	({								\
		size_t lo_ = 0, hi_ = (n);				\
		*(found) = false;					\
		while (lo_ < hi_) {					\
			size_t mid_ = lo_ + (hi_ - lo_) / 2;		\
			if ((arr)[mid_].idf < (id))			\
				lo_ = mid_ + 1;				\
			else						\
				hi_ = mid_;				\
		}							\
		if (lo_ < (n) && (arr)[lo_].idf == (id))		\
			*(found) = true;				\
		lo_;							\
	})

static struct vfs_vm_row *vm_find(struct vfs_model *m, __u64 pid)
{
	bool found;
	size_t i = FIND(m->vms, m->nvms, pid, pid, &found);

	return found ? &m->vms[i] : NULL;
}

static struct vfs_dev_row *dev_find(struct vfs_model *m, __u64 obj)
{
	bool found;
	size_t i = FIND(m->devs, m->ndevs, obj, obj, &found);

	return found ? &m->devs[i] : NULL;
}

/*
 * The live VFIO device named @name (a PCI address: vfio-pci names its
 * devices so), for a reset no VFIO call caused (sysfs "reset", AER): the
 * kernel side knows only the PCI device then.
 */
static struct vfs_dev_row *dev_by_name(struct vfs_model *m, const char *name)
{
	size_t i;

	if (!name[0])
		return NULL;
	for (i = 0; i < m->ndevs; i++)
		if (!strcmp(m->devs[i].kind, "vfio") && !strcmp(m->devs[i].state, "live") &&
		    !strcmp(m->devs[i].name, name))
			return &m->devs[i];
	return NULL;
}


static void vm_name(struct vfs_vm_row *r, const struct vfs_vm_info *vi, struct vfs_model *m)
{
	m->namer(m->namer_user, (__u32)r->pid, vi, r->comm, r->name, sizeof(r->name));
	m->names_resolved++;
}

static void vm_reset(struct vfs_vm_row *r, __u64 pid, const struct vfs_vm_info *vi,
		     const char *comm, struct vfs_model *m)
{
	struct vfs_vm_info late;
	__u32 key = (__u32)pid;

	memset(r, 0, sizeof(*r));
	r->pid = pid;
	r->memlock_limit = r->memlock_headroom = VFS_LIMIT_UNKNOWN;
	r->first_ns = vi ? vi->first_ns : 0;
	snprintf(r->comm, sizeof(r->comm), "%s", comm);
	snprintf(r->state, sizeof(r->state), "running");
	/*
	 * Counted, but not in this frame's vm_info snapshot (read before the
	 * counters): its entry is most likely there by now. Only its name
	 * comes from it, so the row is what a replay of the frame builds
	 * (the recording carries the name).
	 */
	if (!vi && m->fd[VFS_IN_VMINFO] >= 0 &&
	    !bpf_map_lookup_elem(m->fd[VFS_IN_VMINFO], &key, &late))
		vi = &late;
	vm_name(r, vi, m);
	/* after the first frame a new key's counters were 0 at the last one */
	r->has_prev = m->frame > 1;
}

/*
 * The row of @pid, created (name resolved) if new or if the pid was
 * reused; @vi its vm_info entry, NULL for a VM only counters know of yet
 */
static struct vfs_vm_row *vm_get(struct vfs_model *m, __u64 pid, const struct vfs_vm_info *vi,
				 const char *comm)
{
	__u64 first_ns = vi ? vi->first_ns : 0;
	bool found;
	size_t i = FIND(m->vms, m->nvms, pid, pid, &found);
	struct vfs_vm_row *r;

	if (found) {
		r = &m->vms[i];
		if (first_ns && r->first_ns && r->first_ns != first_ns) {
			vm_reset(r, pid, vi, comm, m);	/* a new VM with an old pid */
		} else if (first_ns && !r->first_ns) {
			/*
			 * counted before its vm_info entry was read (the two
			 * maps are read apart): named now from what was
			 * captured, as the process may be gone already
			 */
			r->first_ns = first_ns;
			snprintf(r->comm, sizeof(r->comm), "%s", comm);
			vm_name(r, vi, m);
		}
		return r;
	}
	if (vfs_grow((void **)&m->vms, &m->capvms, m->nvms + 1, sizeof(*m->vms)))
		return NULL;
	memmove(&m->vms[i + 1], &m->vms[i], (m->nvms - i) * sizeof(*m->vms));
	m->nvms++;
	r = &m->vms[i];
	vm_reset(r, pid, vi, comm, m);
	return r;
}

static struct vfs_dev_row *dev_get(struct vfs_model *m, __u64 obj)
{
	bool found;
	size_t i = FIND(m->devs, m->ndevs, obj, obj, &found);
	struct vfs_dev_row *r;

	if (found)
		return &m->devs[i];
	if (vfs_grow((void **)&m->devs, &m->capdevs, m->ndevs + 1, sizeof(*m->devs)))
		return NULL;
	memmove(&m->devs[i + 1], &m->devs[i], (m->ndevs - i) * sizeof(*m->devs));
	m->ndevs++;
	r = &m->devs[i];
	memset(r, 0, sizeof(*r));
	r->obj = obj;
	r->has_prev = m->frame > 1;
	return r;
}

static void cstr(char *dst, size_t dlen, const char *src, size_t slen)
{
	snprintf(dst, dlen, "%.*s", (int)strnlen(src, slen), src);
}

/* ---------------------------------------------------------------- frame */

static __u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* the fold of each map's per-CPU values (NULL: not per-CPU) */
static vfs_fold_fn const folds[VFS_IN_MAX] = { [VFS_IN_IOCTL] = vfs_cmd_val_fold };

/* the exit and removal marks the garbage collection decides from */
static bool is_marker(int i)
{
	return i == VFS_IN_VMINFO || i == VFS_IN_OBJ || i == VFS_IN_VDPA;
}

/* maps @markers selects (true: the marker maps, false: the others) */
static int read_maps(struct vfs_model *m, bool markers)
{
	int err = 0, e, i;

	/* a family whose modules are absent has no maps: an empty table */
	for (i = 0; i < VFS_IN_MAX; i++)
		if (is_marker(i) == markers && m->fd[i] >= 0 &&
		    (e = vfs_map_buf_read(m->fd[i], &m->map[i], folds[i])))
			err = e;
	return err;
}

int vfs_model_read(struct vfs_model *m)
{
	int err, e, r;

	/*
	 * Entries of VMs and devices gone past the grace period go before
	 * the frame is read: the plan comes from this frame's marker tables,
	 * read again only when something was deleted
	 */
	err = read_maps(m, true);
	if (m->c && !err) {
		r = vfs_gc_run(&m->gc, m->c, &m->map[VFS_IN_VMINFO], &m->map[VFS_IN_OBJ],
			       &m->map[VFS_IN_VDPA], now_ns(), m->gc_grace_ns);
		m->gc_err = r < 0 ? r : 0;
		if (r > 0)
			err = read_maps(m, true);
	}
	e = read_maps(m, false);
	/* no mdev parent (-ENOENT) is no error: the view stays empty */
	if (m->c && m->mdev)
		vfs_mdevcap_scan(m->mdev);
	return err ? err : e;
}

static struct vfs_vq_row *vq_get(struct vfs_model *m, __u64 obj, __u64 qid)
{
	size_t lo = 0, hi = m->nvqs;
	struct vfs_vq_row *q;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (m->vqs[mid].obj < obj || (m->vqs[mid].obj == obj && m->vqs[mid].qid < qid))
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < m->nvqs && m->vqs[lo].obj == obj && m->vqs[lo].qid == qid)
		return &m->vqs[lo];
	if (vfs_grow((void **)&m->vqs, &m->capvqs, m->nvqs + 1, sizeof(*m->vqs)))
		return NULL;
	memmove(&m->vqs[lo + 1], &m->vqs[lo], (m->nvqs - lo) * sizeof(*m->vqs));
	m->nvqs++;
	q = &m->vqs[lo];
	memset(q, 0, sizeof(*q));
	q->obj = obj;
	q->qid = qid;
	q->has_prev = m->frame > 1;
	return q;
}

static int view_fill(struct vfs_table *t, void *rows, size_t n, size_t size)
{
	size_t i;

	if (vfs_grow((void **)&t->rows, &t->cap, n, sizeof(void *)))
		return -ENOMEM;
	for (i = 0; i < n; i++)
		t->rows[i] = (char *)rows + i * size;
	t->n = n;
	return 0;
}

/* ---------------------------------------------------------------- events */

static const char *obj_namer(void *user, __u64 obj)
{
	struct vfs_dev_row *d = dev_find(user, obj);

	return d ? d->name : NULL;
}

static struct vfs_event_row *event_add(struct vfs_model *m, __u64 ts_ns, __s64 pid,
				       const char *comm)
{
	struct vfs_event_row *e = &m->events[m->nevents % VFS_MODEL_EVENTS];

	memset(e, 0, sizeof(*e));
	e->seq = m->nevents++;
	e->ts_ns = ts_ns;
	e->pid = pid;
	snprintf(e->comm, sizeof(e->comm), "%s", comm);
	return e;
}

int vfs_model_event(struct vfs_model *m, const struct vfs_event_hdr *ev, size_t size)
{
	struct vfs_event_row *e;
	struct vfs_mm_event me;
	char comm[VFS_COMM_LEN + 1];

	if (size < sizeof(*ev))
		return 0;
	cstr(comm, sizeof(comm), ev->comm, sizeof(ev->comm));
	e = event_add(m, ev->ts_ns, ev->tgid, comm);
	if (vfs_event_text(ev, size, obj_namer, m, e->text, sizeof(e->text)) < 0)
		snprintf(e->text, sizeof(e->text), "unknown event type %u (%zu bytes)",
			 ev->type, size);
	if (vfs_mm_event_from_raw(ev, size, &me) == 1 && vfs_migmodel_feed(m->mm, &me))
		return -ENOMEM;
	vfs_model_mdev_event(m, ev, size);
	return 0;
}

int vfs_model_mdev_event(struct vfs_model *m, const struct vfs_event_hdr *ev, size_t size)
{
	char comm[VFS_COMM_LEN + 1], vm[VFS_VM_NAME_LEN];

	if (size < sizeof(struct vfs_ev_mdev) || ev->type != VFS_EV_MDEV || !m->mdev)
		return 0;
	cstr(comm, sizeof(comm), ev->comm, sizeof(ev->comm));
	/* the creator as the model names VMs: -name, libvirt scope, comm */
	m->namer(m->namer_user, ev->tgid, NULL, comm, vm, sizeof(vm));
	if (vfs_mdevcap_event(m->mdev, (const struct vfs_ev_mdev *)ev, vm))
		return 0;
	return m->c ? vfs_mdevcap_scan(m->mdev) : 0;
}

void vfs_model_lost(struct vfs_model *m, __u64 lost)
{
	struct vfs_event_row *e;

	if (lost <= m->lost)
		return;
	e = event_add(m, m->ts_ns, -1, "-");
	snprintf(e->text, sizeof(e->text), "lost %llu events (ring buffer full), %llu in all",
		 (unsigned long long)(lost - m->lost), (unsigned long long)lost);
	m->lost = lost;
}

static void events_view(struct vfs_model *m)
{
	struct vfs_table *t = &m->view[VFS_VIEW_EVENTS];
	__u64 n = m->nevents < VFS_MODEL_EVENTS ? m->nevents : VFS_MODEL_EVENTS, i;

	if (!t->rows && vfs_grow((void **)&t->rows, &t->cap, VFS_MODEL_EVENTS, sizeof(void *)))
		return;
	for (i = 0; i < n; i++) {
		struct vfs_event_row *e = &m->events[(m->nevents - n + i) % VFS_MODEL_EVENTS];

		e->age_ns = m->ts_ns > e->ts_ns ? m->ts_ns - e->ts_ns : 0;
		t->rows[i] = e;
	}
	t->n = n;
}

/* ---------------------------------------------------------------- migrations */

static struct vfs_mig_row *mig_row(struct vfs_model *m, const char *dev, const char *role)
{
	struct vfs_mig_row *r;
	size_t i;

	for (i = 0; i < m->nmigs; i++)
		if (!strcmp(m->migs[i].device, dev) && !strcmp(m->migs[i].role, role))
			return &m->migs[i];
	if (vfs_grow((void **)&m->migs, &m->capmigs, m->nmigs + 1, sizeof(*m->migs)))
		return NULL;
	r = &m->migs[m->nmigs++];
	memset(r, 0, sizeof(*r));
	snprintf(r->device, sizeof(r->device), "%s", dev);
	snprintf(r->role, sizeof(r->role), "%s", role);
	return r;
}

/* the figures of the pair @s belongs to, once its migration is complete */
static const struct vfs_mm_pair *mig_pair(const struct vfs_mm_session *s)
{
	size_t i;

	if (!s->mig || !s->mig->emitted)
		return NULL;
	for (i = 0; i < s->mig->npairs; i++)
		if (s->mig->pairs[i].src == s || s->mig->pairs[i].dst == s)
			return &s->mig->pairs[i];
	return NULL;
}

/* one row per device and role: its newest session (sessions come oldest first) */
static int mig_rows(struct vfs_model *m)
{
	const struct vfs_mm_session *s;
	size_t i;

	while (vfs_migmodel_next(m->mm, false))
		m->migrations_done++;
	for (i = 0; i < m->nmigs; i++)
		m->migs[i].sessions = 0;
	for (i = 0; (s = vfs_migmodel_session(m->mm, i)); i++) {
		const struct vfs_mm_pair *p = mig_pair(s);
		const struct vfs_mm_arc *a = s->narcs ? &s->arcs[s->narcs - 1] : NULL;
		struct vfs_mig_row *r = mig_row(m, s->dev, vfs_mm_role_name(s->role));
		struct vfs_vm_row *o = vm_find(m, s->pid);
		__u64 sessions;

		if (!r)
			return -ENOMEM;
		sessions = r->sessions + 1;
		memset(&r->vm, 0, sizeof(*r) - offsetof(struct vfs_mig_row, vm));
		r->sessions = sessions;
		snprintf(r->vm, sizeof(r->vm), "%s", o ? o->name : s->comm);
		r->pid = s->pid;
		snprintf(r->status, sizeof(r->status), "%s", vfs_mm_status_name(s->status));
		r->arcs = s->narcs;
		r->err = s->err > 0 ? s->err : -1;
		r->bytes = s->role == VFS_MM_DEST ? s->bytes_written : s->bytes_read;
		r->precopy_initial = s->precopy_initial_last;
		r->precopy_dirty = s->precopy_dirty_last;
		r->polls = s->data_polls;
		if (a) {
			snprintf(r->phase, sizeof(r->phase), "%s",
				 a->ret < 0 ? "FAILED" : vfs_mig_state_name(a->to));
			snprintf(r->last_arc, sizeof(r->last_arc), "%s>%s",
				 vfs_mig_state_name(a->from), vfs_mig_state_name(a->to));
			r->last_arc_ns = a->end_ns > a->start_ns ? a->end_ns - a->start_ns : 0;
		} else {
			snprintf(r->phase, sizeof(r->phase), "-");
			snprintf(r->last_arc, sizeof(r->last_arc), "-");
		}
		if (p) {
			r->stop_copy_ns = p->stop_copy_ns;
			r->resume_ns = p->resume_ns;
			if (p->has_downtime) {
				r->transfer_ns = p->transfer_ns;
				r->downtime_ns = p->downtime_ns;
			}
		}
	}
	return 0;
}

/* ---------------------------------------------------------------- drill-down */

static void drill_cmd(struct vfs_drill *d, const struct vfs_cmd_key *k,
		      const struct vfs_cmd_val *v)
{
	struct vfs_drill_cmd *c = NULL;
	size_t i;

	for (i = 0; i < d->ncmd; i++)
		if (d->cmd[i].kind == k->kind && d->cmd[i].cmd == k->cmd)
			c = &d->cmd[i];
	if (!c) {
		if (d->ncmd == VFS_DRILL_MAX) {
			d->truncated = true;
			return;
		}
		c = &d->cmd[d->ncmd++];
		memset(c, 0, sizeof(*c));
		c->kind = k->kind;
		c->cmd = k->cmd;
	}
	c->count += v->count;
	c->errors += v->errors;
	c->lat_sum_ns += v->lat_sum_ns;
	if (v->lat_max_ns > c->lat_max_ns)
		c->lat_max_ns = v->lat_max_ns;
	for (i = 0; i < VFS_HIST_SLOTS; i++)
		c->hist[i] += v->hist[i];
}

static void drill_errno(struct vfs_drill *d, const struct vfs_errno_key *k, __u64 n)
{
	struct vfs_drill_errno *e = NULL;
	size_t i;

	for (i = 0; i < d->nerr; i++)
		if (d->err[i].kind == k->kind && d->err[i].cmd == k->cmd && d->err[i].err == k->err)
			e = &d->err[i];
	if (!e) {
		if (d->nerr == VFS_DRILL_MAX) {
			d->truncated = true;
			return;
		}
		e = &d->err[d->nerr++];
		*e = (struct vfs_drill_errno){ .kind = k->kind, .cmd = k->cmd, .err = k->err };
	}
	e->count += n;
}

static int cmp_drill_cmd(const void *a, const void *b)
{
	const struct vfs_drill_cmd *x = a, *y = b;
	int r = vfs_cmp_u64(y->count, x->count);

	return r ? r : vfs_cmp_u64(x->cmd, y->cmd);
}

static int cmp_drill_errno(const void *a, const void *b)
{
	const struct vfs_drill_errno *x = a, *y = b;
	int r = vfs_cmp_u64(y->count, x->count);

	return r ? r : vfs_cmp_u64(x->err, y->err);
}

bool vfs_model_drill(const struct vfs_model *m, enum vfs_view v, const void *row,
		     struct vfs_drill *out)
{
	const struct vfs_map_buf *ib = &m->map[VFS_IN_IOCTL], *eb = &m->map[VFS_IN_ERRNO];
	__u64 pid = 0, obj = 0;
	size_t i;

	if (v == VFS_VIEW_VMS)
		pid = ((const struct vfs_vm_row *)row)->pid;
	else if (v == VFS_VIEW_DEVICES)
		obj = ((const struct vfs_dev_row *)row)->obj;
	else
		return false;
	memset(out, 0, sizeof(*out));
	for (i = 0; i < ib->n; i++) {
		const struct vfs_cmd_key *k = VFS_MAP_BUF_KEY(ib, struct vfs_cmd_key, i);

		if (pid ? k->tgid == pid : (k->kind == VFS_FD_DEVICE && k->obj == obj))
			drill_cmd(out, k, VFS_MAP_BUF_VAL(ib, struct vfs_cmd_val, i));
	}
	for (i = 0; eb->key_size == sizeof(struct vfs_errno_key) && i < eb->n; i++) {
		const struct vfs_errno_key *k = VFS_MAP_BUF_KEY(eb, struct vfs_errno_key, i);

		if (pid ? k->tgid == pid : (k->kind == VFS_FD_DEVICE && k->obj == obj))
			drill_errno(out, k, *VFS_MAP_BUF_VAL(eb, __u64, i));
	}
	qsort(out->cmd, out->ncmd, sizeof(out->cmd[0]), cmp_drill_cmd);
	qsort(out->err, out->nerr, sizeof(out->err[0]), cmp_drill_errno);
	return true;
}

/*
 * The VM's RLIMIT_MEMLOCK and its headroom: type1 refuses a pin when
 * locked_vm would pass the limit (unless CAP_IPC_LOCK), vhost_vdpa when
 * pinned_vm would; the two are checked apart, so the headroom is the
 * smaller of the two (vhost_vdpa's only where it pins). An exited VM
 * pins nothing and has no limit.
 */
static void vm_memlock(struct vfs_vm_row *r, const struct vfs_vm_info *vi, __u64 page)
{
	__u64 lim = vi->memlock_limit, t1, vh;

	/* unknown until read: vm_clear() and vm_reset() left them so */
	if (!(vi->memlock_flags & VFS_MEMLOCK_KNOWN) || vi->exit_ns)
		return;
	r->memlock_limit = lim == ~0ull ? VFS_LIMIT_INF : lim;
	if (lim == ~0ull) {
		r->memlock_headroom = VFS_LIMIT_INF;
		return;
	}
	t1 = vi->memlock_flags & VFS_MEMLOCK_BYPASS ? VFS_LIMIT_INF :
	     lim > vi->locked_pages * page ? lim - vi->locked_pages * page : 0;
	/* vhost-vdpa's ledger only for a VM it pins for */
	vh = !vi->vhost_pinned_pages ? VFS_LIMIT_INF :
	     lim > vi->vhost_pinned_pages * page ? lim - vi->vhost_pinned_pages * page : 0;
	r->memlock_headroom = t1 < vh ? t1 : vh;
}

static void vm_clear(struct vfs_vm_row *r)
{
	r->devices = r->ioctls = r->errors = r->dma_maps = 0;
	r->dma_map_bytes = r->dma_unmap_bytes = r->mapped_bytes = r->pinned_bytes = 0;
	r->memlock_limit = r->memlock_headroom = VFS_LIMIT_UNKNOWN;
	r->irq_setups = r->kicks = r->resets = r->iommu_faults = 0;
	r->seen = false;
}

static void dev_clear(struct vfs_dev_row *r)
{
	r->ioctls = r->errors = r->region_accesses = r->kicks = 0;
	r->resets = r->reset_fails = r->last_reset_ns = r->last_reset_end = 0;
	r->iommu_faults = 0;
	r->p50_ns = r->p99_ns = r->lat_max_ns = 0;
	memset(r->hist, 0, sizeof(r->hist));
	r->seen = false;
}

static double rate(bool has_prev, __u64 prev, __u64 cur, __u64 dt)
{
	return has_prev ? vfs_rate(prev, cur, dt) : NAN;
}

int vfs_model_compute(struct vfs_model *m, __u64 ts, __u64 rt)
{
	size_t i, j;
	int v;

	m->dt_ns = m->frame && ts > m->ts_ns ? ts - m->ts_ns : 0;
	m->ts_ns = ts;
	m->rt_ns = rt;
	m->frame++;
	for (i = 0; i < m->nvms; i++)
		vm_clear(&m->vms[i]);
	for (i = 0; i < m->ndevs; i++)
		dev_clear(&m->devs[i]);
	for (i = 0; i < m->nvqs; i++) {
		m->vqs[i].kicks = m->vqs[i].calls = 0;
		m->vqs[i].seen = false;
	}

	/* who the VMs are, then every VM that counted something */
	for (i = 0; i < m->map[VFS_IN_VMINFO].n; i++) {
		__u32 pid = *VFS_MAP_BUF_KEY(&m->map[VFS_IN_VMINFO], __u32, i);
		const struct vfs_vm_info *vi = VFS_MAP_BUF_VAL(&m->map[VFS_IN_VMINFO], struct vfs_vm_info, i);
		char comm[VFS_COMM_LEN + 1];
		struct vfs_vm_row *r;

		cstr(comm, sizeof(comm), vi->comm, sizeof(vi->comm));
		r = vm_get(m, pid, vi, comm);
		if (!r)
			return -ENOMEM;
		r->seen = true;
		/* one ledger: type1's and mdev pins (locked_vm), vhost-vdpa's (pinned_vm) */
		r->pinned_bytes = (vi->locked_pages + vi->vhost_pinned_pages) * (__u64)m->page_size;
		vm_memlock(r, vi, (__u64)m->page_size);
		snprintf(r->state, sizeof(r->state), "%s", vi->exit_ns ? "exited" : "running");
	}
	for (i = 0; i < m->map[VFS_IN_IOCTL].n; i++) {
		const struct vfs_cmd_key *k = VFS_MAP_BUF_KEY(&m->map[VFS_IN_IOCTL], struct vfs_cmd_key, i);

		if (!vm_find(m, k->tgid) && !vm_get(m, k->tgid, NULL, "?"))
			return -ENOMEM;
	}
	for (i = 0; i < m->map[VFS_IN_VM].n; i++) {
		__u32 pid = *VFS_MAP_BUF_KEY(&m->map[VFS_IN_VM], __u32, i);
		const struct vfs_vm_val *vv = VFS_MAP_BUF_VAL(&m->map[VFS_IN_VM], struct vfs_vm_val, i);
		struct vfs_vm_row *r = vm_find(m, pid);

		if (!r && !(r = vm_get(m, pid, NULL, "?")))
			return -ENOMEM;
		r->seen = true;
		r->dma_maps = vv->dma_map_ops;
		r->dma_map_bytes = vv->dma_map_bytes;
		r->dma_unmap_bytes = vv->dma_unmap_bytes;
		r->mapped_bytes = vv->dma_map_bytes >= vv->dma_unmap_bytes ?
			vv->dma_map_bytes - vv->dma_unmap_bytes : 0;
		r->irq_setups = vv->irq_set_calls;
	}

	/* the devices: VFIO devices from obj_info, vDPA devices from vdpa_info */
	for (i = 0; i < m->map[VFS_IN_OBJ].n; i++) {
		__u64 obj = *VFS_MAP_BUF_KEY(&m->map[VFS_IN_OBJ], __u64, i);
		const struct vfs_obj_info *oi = VFS_MAP_BUF_VAL(&m->map[VFS_IN_OBJ], struct vfs_obj_info, i);
		struct vfs_dev_row *r;
		struct vfs_vm_row *o;

		if (oi->kind != VFS_FD_DEVICE)
			continue;
		if (!(r = dev_get(m, obj)))
			return -ENOMEM;
		r->seen = true;
		cstr(r->name, sizeof(r->name), oi->name, sizeof(oi->name));
		snprintf(r->kind, sizeof(r->kind), "vfio");
		snprintf(r->state, sizeof(r->state), "%s", oi->gone_ns ? "gone" : "live");
		r->group = oi->group_id;
		r->owner_pid = oi->owner_tgid ? (__s64)oi->owner_tgid : -1;
		o = oi->owner_tgid ? vm_find(m, oi->owner_tgid) : NULL;
		snprintf(r->owner, sizeof(r->owner), "%s", o ? o->name : "-");
		if (o)
			o->devices++;
	}
	for (i = 0; i < m->map[VFS_IN_VDPA].n; i++) {
		__u64 obj = *VFS_MAP_BUF_KEY(&m->map[VFS_IN_VDPA], __u64, i);
		const struct vfs_vdpa_info *di = VFS_MAP_BUF_VAL(&m->map[VFS_IN_VDPA], struct vfs_vdpa_info, i);
		struct vfs_dev_row *r;
		struct vfs_vm_row *o;

		if (!(r = dev_get(m, VFS_DEV_ROW_ID_VDPA(obj))))
			return -ENOMEM;
		r->seen = true;
		cstr(r->name, sizeof(r->name), di->name, sizeof(di->name));
		snprintf(r->state, sizeof(r->state), "%s",
			 di->flags & VFS_VDPA_F_REMOVED ? "gone" : "live");
		snprintf(r->kind, sizeof(r->kind), "%s", di->path == VFS_VDPA_PATH_VHOST ?
			 "vdpa-vhost" : di->path == VFS_VDPA_PATH_VIRTIO ? "vdpa-virtio" : "vdpa");
		r->group = -1;
		r->owner_pid = di->owner_tgid ? (__s64)di->owner_tgid : -1;
		o = di->owner_tgid ? vm_find(m, di->owner_tgid) : NULL;
		snprintf(r->owner, sizeof(r->owner), "%s", o ? o->name :
			 di->owner_tgid ? "?" : "-");
		if (o && !(di->flags & VFS_VDPA_F_REMOVED))
			o->devices++;
	}

	/* counters onto rows */
	for (i = 0; i < m->map[VFS_IN_IOCTL].n; i++) {
		const struct vfs_cmd_key *k = VFS_MAP_BUF_KEY(&m->map[VFS_IN_IOCTL], struct vfs_cmd_key, i);
		const struct vfs_cmd_val *cv = VFS_MAP_BUF_VAL(&m->map[VFS_IN_IOCTL], struct vfs_cmd_val, i);
		struct vfs_vm_row *r = vm_find(m, k->tgid);
		struct vfs_dev_row *d = k->kind == VFS_FD_DEVICE ? dev_find(m, k->obj) : NULL;

		if (r) {
			r->seen = true;
			r->ioctls += cv->count;
			r->errors += cv->errors;
		}
		if (d) {
			d->ioctls += cv->count;
			d->errors += cv->errors;
			for (j = 0; j < VFS_HIST_SLOTS; j++)
				d->hist[j] += cv->hist[j];
			if (cv->lat_max_ns > d->lat_max_ns)
				d->lat_max_ns = cv->lat_max_ns;
		}
	}
	for (i = 0; i < m->map[VFS_IN_REGION].n; i++) {
		const struct vfs_region_key *k = VFS_MAP_BUF_KEY(&m->map[VFS_IN_REGION], struct vfs_region_key, i);
		const struct vfs_region_val *rv = VFS_MAP_BUF_VAL(&m->map[VFS_IN_REGION], struct vfs_region_val, i);
		struct vfs_dev_row *d = dev_find(m, k->obj);

		if (d)
			d->region_accesses += rv->reads + rv->writes + rv->mmaps;
	}
	/* resets: per device (the VFIO device the cause names) and per VM */
	for (i = 0; i < m->map[VFS_IN_RESET].n; i++) {
		const struct vfs_reset_key *k = VFS_MAP_BUF_KEY(&m->map[VFS_IN_RESET], struct vfs_reset_key, i);
		const struct vfs_reset_val *rv = VFS_MAP_BUF_VAL(&m->map[VFS_IN_RESET], struct vfs_reset_val, i);
		struct vfs_dev_row *d;
		struct vfs_vm_row *r = vm_find(m, k->tgid);
		char dev[VFS_NAME_LEN + 1];

		cstr(dev, sizeof(dev), k->dev, sizeof(k->dev));
		d = k->obj ? dev_find(m, k->obj) : dev_by_name(m, dev);
		if (r)
			r->resets += rv->count;
		if (!d)
			continue;
		d->resets += rv->count;
		if (k->ret)
			d->reset_fails += rv->count;
		if (rv->last_ns >= d->last_reset_end) {
			d->last_reset_end = rv->last_ns;
			d->last_reset_ns = rv->last_dur_ns;
		}
	}
	/* IOMMU faults: the requester's VFIO device and its owner then */
	for (i = 0; i < m->map[VFS_IN_FAULT].n; i++) {
		const struct vfs_fault_key *k = VFS_MAP_BUF_KEY(&m->map[VFS_IN_FAULT], struct vfs_fault_key, i);
		const struct vfs_fault_val *fv = VFS_MAP_BUF_VAL(&m->map[VFS_IN_FAULT], struct vfs_fault_val, i);
		struct vfs_dev_row *d = k->obj ? dev_find(m, k->obj) : NULL;
		struct vfs_vm_row *r = k->tgid ? vm_find(m, k->tgid) : NULL;

		if (d)
			d->iommu_faults += fv->count;
		if (r)
			r->iommu_faults += fv->count;
	}
	for (i = 0; i < m->map[VFS_IN_VQ].n; i++) {
		const struct vfs_vq_key *k = VFS_MAP_BUF_KEY(&m->map[VFS_IN_VQ], struct vfs_vq_key, i);
		const struct vfs_vq_val *qv = VFS_MAP_BUF_VAL(&m->map[VFS_IN_VQ], struct vfs_vq_val, i);
		struct vfs_dev_row *d = dev_find(m, VFS_DEV_ROW_ID_VDPA(k->obj));
		struct vfs_vm_row *r;

		struct vfs_vq_row *q = vq_get(m, k->obj, k->qid);

		if (!q)
			return -ENOMEM;
		q->seen = true;
		q->kicks += qv->kicks;
		q->calls += qv->calls;
		snprintf(q->path, sizeof(q->path), "%s", k->path == VFS_VDPA_PATH_VHOST ? "vhost" :
			 k->path == VFS_VDPA_PATH_VIRTIO ? "virtio" : "?");
		snprintf(q->device, sizeof(q->device), "%s", d ? d->name : "?");
		snprintf(q->owner, sizeof(q->owner), "%s", d ? d->owner : "-");
		if (!d)
			continue;
		d->kicks += qv->kicks;
		if (d->owner_pid > 0 && (r = vm_find(m, d->owner_pid)))
			r->kicks += qv->kicks;
	}

	/* drop the rows whose keys left the maps, then rates */
	for (i = j = 0; i < m->nvms; i++)
		if (m->vms[i].seen)
			m->vms[j++] = m->vms[i];
	m->nvms = j;
	for (i = j = 0; i < m->ndevs; i++)
		if (m->devs[i].seen)
			m->devs[j++] = m->devs[i];
	m->ndevs = j;
	for (i = j = 0; i < m->nvqs; i++)
		if (m->vqs[i].seen)
			m->vqs[j++] = m->vqs[i];
	m->nvqs = j;
	for (i = 0; i < m->nvqs; i++) {
		struct vfs_vq_row *q = &m->vqs[i];

		q->kick_rate = rate(q->has_prev, q->prev.kicks, q->kicks, m->dt_ns);
		q->call_rate = rate(q->has_prev, q->prev.calls, q->calls, m->dt_ns);
		/*
		 * Kicked, and no call back over the whole interval: the device
		 * did not complete anything. Only where calls are observable
		 * (a parent may signal a vhost VMM's eventfd directly).
		 */
		if (q->has_prev && q->kicks > q->prev.kicks && q->calls == q->prev.calls &&
		    (q->calls || !strcmp(q->path, "virtio")))
			q->stalls++;
		q->prev.kicks = q->kicks;
		q->prev.calls = q->calls;
		q->has_prev = true;
	}
	if (mig_rows(m))
		return -ENOMEM;
	for (i = 0; i < m->nvms; i++) {
		struct vfs_vm_row *r = &m->vms[i];

		r->ioctl_rate = rate(r->has_prev, r->prev.ioctls, r->ioctls, m->dt_ns);
		r->error_rate = rate(r->has_prev, r->prev.errors, r->errors, m->dt_ns);
		r->dma_map_rate = rate(r->has_prev, r->prev.dma_maps, r->dma_maps, m->dt_ns);
		r->kick_rate = rate(r->has_prev, r->prev.kicks, r->kicks, m->dt_ns);
		r->prev.ioctls = r->ioctls;
		r->prev.errors = r->errors;
		r->prev.dma_maps = r->dma_maps;
		r->prev.kicks = r->kicks;
		r->has_prev = true;
	}
	for (i = 0; i < m->ndevs; i++) {
		struct vfs_dev_row *d = &m->devs[i];

		/*
		 * A log2 slot's upper bound can be twice the slowest call in
		 * it: a quantile is never shown above the maximum observed.
		 */
		vfs_hist_quantile(d->hist, VFS_HIST_SLOTS, 0.50, &d->p50_ns);
		vfs_hist_quantile(d->hist, VFS_HIST_SLOTS, 0.99, &d->p99_ns);
		if (d->lat_max_ns && d->p50_ns > d->lat_max_ns)
			d->p50_ns = d->lat_max_ns;
		if (d->lat_max_ns && d->p99_ns > d->lat_max_ns)
			d->p99_ns = d->lat_max_ns;
		d->ioctl_rate = rate(d->has_prev, d->prev.ioctls, d->ioctls, m->dt_ns);
		d->region_rate = rate(d->has_prev, d->prev.region_accesses, d->region_accesses,
				      m->dt_ns);
		d->kick_rate = rate(d->has_prev, d->prev.kicks, d->kicks, m->dt_ns);
		d->prev.ioctls = d->ioctls;
		d->prev.region_accesses = d->region_accesses;
		d->prev.kicks = d->kicks;
		d->has_prev = true;
	}

	/* the views */
	if (view_fill(&m->view[VFS_VIEW_VMS], m->vms, m->nvms, sizeof(*m->vms)) ||
	    view_fill(&m->view[VFS_VIEW_DEVICES], m->devs, m->ndevs, sizeof(*m->devs)) ||
	    view_fill(&m->view[VFS_VIEW_QUEUES], m->vqs, m->nvqs, sizeof(*m->vqs)) ||
	    view_fill(&m->view[VFS_VIEW_MIGRATIONS], m->migs, m->nmigs, sizeof(*m->migs)) ||
	    view_fill(&m->view[VFS_VIEW_MDEV], m->mdev->types, m->mdev->ntypes,
		      sizeof(*m->mdev->types)))
		return -ENOMEM;
	events_view(m);
	for (v = 0; v < VFS_VIEW_MAX; v++)
		vfs_model_sort(m, v);
	return 0;
}

int vfs_model_update(struct vfs_model *m)
{
	struct timespec rt;
	__u64 ts = now_ns();
	int err;

	clock_gettime(CLOCK_REALTIME, &rt);
	/* maps a module loaded later brought (vfs_collector_rescan) */
	if (m->c && vfs_collector_generation(m->c) != m->gen)
		vfs_model_attach(m, m->c);
	err = vfs_model_read(m);
	if (err)
		return err;
	return vfs_model_compute(m, ts, (__u64)rt.tv_sec * 1000000000ull + rt.tv_nsec);
}

void vfs_model_sort(struct vfs_model *m, enum vfs_view v)
{
	struct vfs_table *t = &m->view[v];

	if (t->sort < 0 || (size_t)t->sort >= t->nfields)
		t->sort = 0;
	vfs_rows_sort(t->rows, t->n, &t->fields[t->sort], t->desc, &t->fields[0]);
}
