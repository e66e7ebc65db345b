// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "model.h"
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "identity.h"
#include "map_iter.h"
#include "stats.h"

static const char *const view_names[VFS_VIEW_MAX] = { "vms", "devices" };

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

int vfs_model_init(struct vfs_model *m, struct vfs_collector *c)
{
	memset(m, 0, sizeof(*m));
	m->c = c;
	m->fd_ioctl = vfs_collector_map_fd(c, "ioctl_stats");
	m->fd_vm = vfs_collector_map_fd(c, "vm_stats");
	m->fd_vminfo = vfs_collector_map_fd(c, "vm_info");
	m->fd_obj = vfs_collector_map_fd(c, "obj_info");
	m->fd_region = vfs_collector_map_fd(c, "region_stats");
	m->fd_vq = vfs_collector_map_fd(c, "vq_stats");
	m->fd_vdpa = vfs_collector_map_fd(c, "vdpa_info");
	m->page_size = sysconf(_SC_PAGESIZE);
	m->view[VFS_VIEW_VMS] = (struct vfs_table){
		.fields = vfs_vm_fields, .nfields = vfs_vm_nfields,
		.sort = vfs_field_find(vfs_vm_fields, vfs_vm_nfields, "ioctls"), .desc = true };
	m->view[VFS_VIEW_DEVICES] = (struct vfs_table){
		.fields = vfs_dev_fields, .nfields = vfs_dev_nfields,
		.sort = vfs_field_find(vfs_dev_fields, vfs_dev_nfields, "ioctls"), .desc = true };
	return 0;
}

void vfs_model_free(struct vfs_model *m)
{
	int i;

	vfs_map_buf_free(&m->ioctl);
	vfs_map_buf_free(&m->vm);
	vfs_map_buf_free(&m->vminfo);
	vfs_map_buf_free(&m->obj);
	vfs_map_buf_free(&m->region);
	vfs_map_buf_free(&m->vq);
	vfs_map_buf_free(&m->vdpa);
	free(m->vms);
	free(m->devs);
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

static int grow(void **arr, size_t *cap, size_t need, size_t size)
{
	size_t c = *cap ? *cap : 16;
	void *p;

	if (need <= *cap)
		return 0;
	while (c < need)
		c *= 2;
	p = realloc(*arr, c * size);
	if (!p)
		return -ENOMEM;
	*arr = p;
	*cap = c;
	return 0;
}

static void vm_reset(struct vfs_vm_row *r, __u64 pid, __u64 first_ns, const char *comm,
		     struct vfs_model *m)
{
	memset(r, 0, sizeof(*r));
	r->pid = pid;
	r->first_ns = first_ns;
	snprintf(r->comm, sizeof(r->comm), "%s", comm);
	vfs_vm_name((pid_t)pid, comm, r->name, sizeof(r->name));
	m->names_resolved++;
	/* after the first frame a new key's counters were 0 at the last one */
	r->has_prev = m->frame > 1;
}

/* the row of @pid, created (name resolved) if new or if the pid was reused */
static struct vfs_vm_row *vm_get(struct vfs_model *m, __u64 pid, __u64 first_ns, const char *comm)
{
	bool found;
	size_t i = FIND(m->vms, m->nvms, pid, pid, &found);
	struct vfs_vm_row *r;

	if (found) {
		r = &m->vms[i];
		if (first_ns && r->first_ns && r->first_ns != first_ns)
			vm_reset(r, pid, first_ns, comm, m);	/* a new VM with an old pid */
		else if (first_ns && !r->first_ns)
			r->first_ns = first_ns;
		return r;
	}
	if (grow((void **)&m->vms, &m->capvms, m->nvms + 1, sizeof(*m->vms)))
		return NULL;
	memmove(&m->vms[i + 1], &m->vms[i], (m->nvms - i) * sizeof(*m->vms));
	m->nvms++;
	r = &m->vms[i];
	vm_reset(r, pid, first_ns, comm, m);
	return r;
}

static struct vfs_dev_row *dev_get(struct vfs_model *m, __u64 obj)
{
	bool found;
	size_t i = FIND(m->devs, m->ndevs, obj, obj, &found);
	struct vfs_dev_row *r;

	if (found)
		return &m->devs[i];
	if (grow((void **)&m->devs, &m->capdevs, m->ndevs + 1, sizeof(*m->devs)))
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

static int read_maps(struct vfs_model *m)
{
	int err = 0, e;

	/* a family whose modules are absent has no maps: an empty table */
	if (m->fd_ioctl >= 0 && (e = vfs_map_buf_read(m->fd_ioctl, &m->ioctl, vfs_cmd_val_fold)))
		err = e;
	if (m->fd_vm >= 0 && (e = vfs_map_buf_read(m->fd_vm, &m->vm, NULL)))
		err = e;
	if (m->fd_vminfo >= 0 && (e = vfs_map_buf_read(m->fd_vminfo, &m->vminfo, NULL)))
		err = e;
	if (m->fd_obj >= 0 && (e = vfs_map_buf_read(m->fd_obj, &m->obj, NULL)))
		err = e;
	if (m->fd_region >= 0 && (e = vfs_map_buf_read(m->fd_region, &m->region, NULL)))
		err = e;
	if (m->fd_vq >= 0 && (e = vfs_map_buf_read(m->fd_vq, &m->vq, NULL)))
		err = e;
	if (m->fd_vdpa >= 0 && (e = vfs_map_buf_read(m->fd_vdpa, &m->vdpa, NULL)))
		err = e;
	return err;
}

static void vm_clear(struct vfs_vm_row *r)
{
	r->devices = r->ioctls = r->errors = r->dma_maps = 0;
	r->dma_map_bytes = r->dma_unmap_bytes = r->mapped_bytes = r->pinned_bytes = 0;
	r->irq_setups = r->kicks = 0;
	r->seen = false;
}

static void dev_clear(struct vfs_dev_row *r)
{
	r->ioctls = r->errors = r->region_accesses = r->kicks = 0;
	r->p50_ns = r->p99_ns = 0;
	memset(r->hist, 0, sizeof(r->hist));
	r->seen = false;
}

static double rate(bool has_prev, __u64 prev, __u64 cur, __u64 dt)
{
	return has_prev ? vfs_rate(prev, cur, dt) : NAN;
}

int vfs_model_update(struct vfs_model *m)
{
	__u64 ts = now_ns();
	size_t i, j;
	int err, v;

	err = read_maps(m);
	if (err)
		return err;
	m->dt_ns = m->frame ? ts - m->ts_ns : 0;
	m->ts_ns = ts;
	m->frame++;
	for (i = 0; i < m->nvms; i++)
		vm_clear(&m->vms[i]);
	for (i = 0; i < m->ndevs; i++)
		dev_clear(&m->devs[i]);

	/* who the VMs are, then every VM that counted something */
	for (i = 0; i < m->vminfo.n; i++) {
		__u32 pid = *VFS_MAP_BUF_KEY(&m->vminfo, __u32, i);
		const struct vfs_vm_info *vi = VFS_MAP_BUF_VAL(&m->vminfo, struct vfs_vm_info, i);
		char comm[VFS_COMM_LEN + 1];
		struct vfs_vm_row *r;

		cstr(comm, sizeof(comm), vi->comm, sizeof(vi->comm));
		r = vm_get(m, pid, vi->first_ns, comm);
		if (!r)
			return -ENOMEM;
		r->seen = true;
		r->pinned_bytes = vi->locked_pages * (__u64)m->page_size;
	}
	for (i = 0; i < m->ioctl.n; i++) {
		const struct vfs_cmd_key *k = VFS_MAP_BUF_KEY(&m->ioctl, struct vfs_cmd_key, i);

		if (!vm_find(m, k->tgid) && !vm_get(m, k->tgid, 0, "?"))
			return -ENOMEM;
	}
	for (i = 0; i < m->vm.n; i++) {
		__u32 pid = *VFS_MAP_BUF_KEY(&m->vm, __u32, i);
		const struct vfs_vm_val *vv = VFS_MAP_BUF_VAL(&m->vm, struct vfs_vm_val, i);
		struct vfs_vm_row *r = vm_find(m, pid);

		if (!r && !(r = vm_get(m, pid, 0, "?")))
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
	for (i = 0; i < m->obj.n; i++) {
		__u64 obj = *VFS_MAP_BUF_KEY(&m->obj, __u64, i);
		const struct vfs_obj_info *oi = VFS_MAP_BUF_VAL(&m->obj, struct vfs_obj_info, i);
		struct vfs_dev_row *r;
		struct vfs_vm_row *o;

		if (oi->kind != VFS_FD_DEVICE)
			continue;
		if (!(r = dev_get(m, obj)))
			return -ENOMEM;
		r->seen = true;
		cstr(r->name, sizeof(r->name), oi->name, sizeof(oi->name));
		snprintf(r->kind, sizeof(r->kind), "vfio");
		r->group = oi->group_id;
		r->owner_pid = oi->owner_tgid ? (__s64)oi->owner_tgid : -1;
		o = oi->owner_tgid ? vm_find(m, oi->owner_tgid) : NULL;
		snprintf(r->owner, sizeof(r->owner), "%s", o ? o->name : "-");
		if (o)
			o->devices++;
	}
	for (i = 0; i < m->vdpa.n; i++) {
		__u64 obj = *VFS_MAP_BUF_KEY(&m->vdpa, __u64, i);
		const struct vfs_vdpa_info *di = VFS_MAP_BUF_VAL(&m->vdpa, struct vfs_vdpa_info, i);
		struct vfs_dev_row *r;
		struct vfs_vm_row *o;

		if (!(r = dev_get(m, obj)))
			return -ENOMEM;
		r->seen = true;
		cstr(r->name, sizeof(r->name), di->name, sizeof(di->name));
		snprintf(r->kind, sizeof(r->kind), "%s", di->path == VFS_VDPA_PATH_VHOST ?
			 "vdpa-vhost" : di->path == VFS_VDPA_PATH_VIRTIO ? "vdpa-virtio" : "vdpa");
		r->group = -1;
		r->owner_pid = di->owner_tgid ? (__s64)di->owner_tgid : -1;
		o = di->owner_tgid ? vm_find(m, di->owner_tgid) : NULL;
		snprintf(r->owner, sizeof(r->owner), "%s", o ? o->name :
			 di->owner_tgid ? "?" : "-");
	}

	/* counters onto rows */
	for (i = 0; i < m->ioctl.n; i++) {
		const struct vfs_cmd_key *k = VFS_MAP_BUF_KEY(&m->ioctl, struct vfs_cmd_key, i);
		const struct vfs_cmd_val *cv = VFS_MAP_BUF_VAL(&m->ioctl, struct vfs_cmd_val, i);
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
		}
	}
	for (i = 0; i < m->region.n; i++) {
		const struct vfs_region_key *k = VFS_MAP_BUF_KEY(&m->region, struct vfs_region_key, i);
		const struct vfs_region_val *rv = VFS_MAP_BUF_VAL(&m->region, struct vfs_region_val, i);
		struct vfs_dev_row *d = dev_find(m, k->obj);

		if (d)
			d->region_accesses += rv->reads + rv->writes + rv->mmaps;
	}
	for (i = 0; i < m->vq.n; i++) {
		const struct vfs_vq_key *k = VFS_MAP_BUF_KEY(&m->vq, struct vfs_vq_key, i);
		const struct vfs_vq_val *qv = VFS_MAP_BUF_VAL(&m->vq, struct vfs_vq_val, i);
		struct vfs_dev_row *d = dev_find(m, k->obj);
		struct vfs_vm_row *r;

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

		vfs_hist_quantile(d->hist, VFS_HIST_SLOTS, 0.50, &d->p50_ns);
		vfs_hist_quantile(d->hist, VFS_HIST_SLOTS, 0.99, &d->p99_ns);
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
	if (grow((void **)&m->view[VFS_VIEW_VMS].rows, &m->view[VFS_VIEW_VMS].cap, m->nvms,
		 sizeof(void *)) ||
	    grow((void **)&m->view[VFS_VIEW_DEVICES].rows, &m->view[VFS_VIEW_DEVICES].cap,
		 m->ndevs, sizeof(void *)))
		return -ENOMEM;
	for (i = 0; i < m->nvms; i++)
		m->view[VFS_VIEW_VMS].rows[i] = &m->vms[i];
	m->view[VFS_VIEW_VMS].n = m->nvms;
	for (i = 0; i < m->ndevs; i++)
		m->view[VFS_VIEW_DEVICES].rows[i] = &m->devs[i];
	m->view[VFS_VIEW_DEVICES].n = m->ndevs;
	for (v = 0; v < VFS_VIEW_MAX; v++)
		vfs_model_sort(m, v);
	return 0;
}

void vfs_model_sort(struct vfs_model *m, enum vfs_view v)
{
	struct vfs_table *t = &m->view[v];

	if (t->sort < 0 || (size_t)t->sort >= t->nfields)
		t->sort = 0;
	vfs_rows_sort(t->rows, t->n, &t->fields[t->sort], t->desc, &t->fields[0]);
}
