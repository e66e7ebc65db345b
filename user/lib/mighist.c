// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "mighist.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

unsigned int vfs_mh_slot(__u64 ns)
{
	unsigned int r = 0;

	while (ns >>= 1)
		r++;
	return r < VFS_MH_SLOTS ? r : VFS_MH_SLOTS - 1;
}

/* the series with this identity, created empty if new; NULL: no memory */
static struct vfs_mh_series *series(struct vfs_mighist *h, const struct vfs_mh_series *id)
{
	struct vfs_mh_series *s;
	size_t i;

	for (i = 0; i < h->n; i++) {
		s = &h->s[i];
		if (s->kind == id->kind && s->role == id->role && s->from == id->from &&
		    s->to == id->to && s->status == id->status && !strcmp(s->vm, id->vm) &&
		    !strcmp(s->driver, id->driver))
			return s;
	}
	if (h->n == h->cap) {
		size_t cap = h->cap ? h->cap * 2 : 16;

		s = realloc(h->s, cap * sizeof(*s));
		if (!s)
			return NULL;
		h->s = s;
		h->cap = cap;
	}
	s = &h->s[h->n++];
	*s = *id;
	return s;
}

static int observe(struct vfs_mighist *h, const struct vfs_mh_series *id, __u64 ns)
{
	struct vfs_mh_series *s = series(h, id);

	if (!s)
		return -ENOMEM;
	s->slots[vfs_mh_slot(ns)]++;
	s->count++;
	s->sum_ns += ns;
	s->last_ns = ns;
	return 0;
}

static struct vfs_mh_series ident(enum vfs_mh_kind kind, const char *vm, const char *driver)
{
	struct vfs_mh_series id = { .kind = kind };

	snprintf(id.vm, sizeof(id.vm), "%s", vm);
	snprintf(id.driver, sizeof(id.driver), "%s", driver);
	return id;
}

static int add_arcs(struct vfs_mighist *h, const struct vfs_mm_session *ss, const char *vm,
		    const char *driver)
{
	struct vfs_mh_series id = ident(VFS_MH_ARC, vm, driver);
	size_t i;
	int err;

	id.role = ss->role;
	for (i = 0; i < ss->narcs; i++) {
		const struct vfs_mm_arc *a = &ss->arcs[i];

		if (a->end_ns < a->start_ns)
			continue;	/* not finished: no kernel time to tell */
		id.from = a->from;
		id.to = a->to;
		err = observe(h, &id, a->end_ns - a->start_ns);
		if (err)
			return err;
	}
	return 0;
}

int vfs_mighist_add(struct vfs_mighist *h, const struct vfs_mm_migration *mig, const char *vm,
		    vfs_mh_driver_fn driver, void *ctx)
{
	struct vfs_mh_series id = ident(VFS_MH_MIGRATIONS, vm, "");
	struct vfs_mh_series *s;
	size_t i;
	int err;

	id.status = mig->status;
	s = series(h, &id);
	if (!s)
		return -ENOMEM;
	s->count++;
	if (mig->has_downtime) {
		id = ident(VFS_MH_VM_DOWNTIME, vm, "");
		if ((err = observe(h, &id, mig->downtime_ns)))
			return err;
	}
	for (i = 0; i < mig->npairs; i++) {
		const struct vfs_mm_pair *p = &mig->pairs[i];

		/* a device's downtime belongs to its source side's driver */
		if (p->has_downtime && p->src) {
			id = ident(VFS_MH_DEV_DOWNTIME, vm, driver(p->src->dev, ctx));
			if ((err = observe(h, &id, p->downtime_ns)))
				return err;
		}
		if (p->src && (err = add_arcs(h, p->src, vm, driver(p->src->dev, ctx))))
			return err;
		if (p->dst && (err = add_arcs(h, p->dst, vm, driver(p->dst->dev, ctx))))
			return err;
	}
	return 0;
}

void vfs_mighist_free(struct vfs_mighist *h)
{
	free(h->s);
	memset(h, 0, sizeof(*h));
}
