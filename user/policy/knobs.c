// SPDX-License-Identifier: GPL-2.0
/*
 * Device knobs in sysfs: the fixed values of an mdev type's `knobs`, and
 * the shares' closed loop (share.h). Every tick of a share: list the
 * type's instances (/sys/bus/mdev/devices), find each one's owner among
 * the VMs discovery matched (a /dev/vfio/GROUP or /dev/vfio/devices/vfioN
 * fd of the VM that resolves to the instance's IOMMU group or VFIO
 * character device), read the instance's use counter, split the capacity
 * and write the knobs that move. Only the knob table's attributes are
 * ever written.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "policyd.h"
#include "share.h"
#include "vec.h"

#define MDEV_DEVICES "/sys/bus/mdev/devices"

/*
 * The parent and type names of mdev @uuid: the instance's device sits
 * under its parent's (…/<parent>/<uuid>) and its mdev_type links to the
 * parent's type directory (../mdev_supported_types/<type>). 0 or -1.
 */
static int instance_type(const char *uuid, char *parent, size_t plen, char *type, size_t tlen)
{
	char path[512], link[512], *real, *t, *p;
	ssize_t n;
	int r = -1;

	snprintf(path, sizeof(path), MDEV_DEVICES "/%s/mdev_type", uuid);
	n = readlink(path, link, sizeof(link) - 1);
	if (n <= 0)
		return -1;
	link[n] = '\0';
	t = strrchr(link, '/');
	t = t ? t + 1 : link;
	snprintf(path, sizeof(path), MDEV_DEVICES "/%s", uuid);
	real = realpath(path, NULL);
	if (!real)
		return -1;
	p = strrchr(real, '/');
	if (p && p != real) {
		*p = '\0';
		p = strrchr(real, '/');
		if (p && strlen(p + 1) < plen && strlen(t) < tlen) {
			strcpy(parent, p + 1);
			strcpy(type, t);
			r = 0;
		}
	}
	free(real);
	return r;
}

/* the configured entry of @uuid's parent and type, or -1 */
static long conf_entry(const struct pd_conf *conf, const char *uuid)
{
	char parent[256], type[256];
	size_t i;

	if (instance_type(uuid, parent, sizeof(parent), type, sizeof(type)))
		return -1;
	for (i = 0; i < conf->nmdevs; i++)
		if (!strcmp(conf->mdevs[i].parent, parent) && !strcmp(conf->mdevs[i].type, type))
			return (long)i;
	return -1;
}

/* an unsigned decimal attribute of mdev @uuid; 0 or -errno */
static int attr_read(const char *uuid, const char *attr, uint64_t *v)
{
	char path[512];
	unsigned long long n;
	FILE *f;
	int r = 0;

	snprintf(path, sizeof(path), MDEV_DEVICES "/%s/%s", uuid, attr);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	if (fscanf(f, "%llu", &n) == 1)
		*v = n;
	else
		r = -EINVAL;
	fclose(f);
	return r;
}

/* write @v to knob @attr of @uuid unless it holds it; 1 written, 0 held, -errno */
static int knob_write(const char *uuid, const char *attr, uint64_t v)
{
	char path[512];
	unsigned long long cur;
	int r = 0;
	FILE *f;

	snprintf(path, sizeof(path), MDEV_DEVICES "/%s/%s", uuid, attr);
	f = fopen(path, "r+e");
	if (!f)
		return -errno;
	if (fscanf(f, "%llu", &cur) != 1 || cur != v) {
		rewind(f);
		r = fprintf(f, "%llu\n", (unsigned long long)v) < 0 || fflush(f) ? -errno : 1;
		if (!r)
			r = -EIO;
	}
	if (fclose(f) && r >= 0)
		r = -errno;
	return r;
}

void pd_apply_knobs(const struct pd_conf *conf)
{
	struct dirent *e;
	size_t i, j;
	long m;
	DIR *d;

	for (i = 0; i < conf->nmdevs && !conf->mdevs[i].nknobs; i++)
		;
	if (i == conf->nmdevs || !(d = opendir(MDEV_DEVICES)))
		return;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.' || (m = conf_entry(conf, e->d_name)) < 0)
			continue;
		for (j = 0; j < conf->mdevs[m].nknobs; j++) {
			const struct pd_knob *k = &conf->mdevs[m].knobs[j];
			int r = knob_write(e->d_name, k->name, k->value);

			if (r < 0)
				pd_log("mdev %s: cannot set %s: %s", e->d_name, k->name, strerror(-r));
			else if (r)
				pd_log("mdev %s: %s = %llu", e->d_name, k->name,
				       (unsigned long long)k->value);
		}
	}
	closedir(d);
}

/* ----------------------------------------------------------------- owners */

/* a VFIO file a VM holds: an IOMMU group number, or a vfioN device name */
struct vfio_hold {
	size_t vm;		/* index in s->vms */
	long group;		/* -1: a character device */
	char cdev[32];
};

/* the VFIO groups and character devices the discovered VMs hold open */
static size_t vfio_holds(const struct pd_state *s, struct vfio_hold **out, size_t *cap)
{
	size_t n = 0, v;

	for (v = 0; v < s->nvms; v++) {
		char dir[64], path[384], link[128];
		struct dirent *e;
		DIR *d;

		snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)s->vms[v].pid);
		d = opendir(dir);
		if (!d)
			continue;	/* exited since discovery */
		while ((e = readdir(d))) {
			struct vfio_hold h = { .vm = v, .group = -1 };
			ssize_t k;
			char *end;

			if (e->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
			k = readlink(path, link, sizeof(link) - 1);
			if (k <= 0)
				continue;
			link[k] = '\0';
			if (!strncmp(link, "/dev/vfio/devices/", 18)) {
				if (strlen(link + 18) >= sizeof(h.cdev))
					continue;
				strcpy(h.cdev, link + 18);
			} else if (!strncmp(link, "/dev/vfio/", 10) && isdigit((unsigned char)link[10])) {
				h.group = strtol(link + 10, &end, 10);
				if (*end)
					continue;
			} else {
				continue;
			}
			if (vfs_grow((void **)out, cap, n + 1, sizeof(**out)))
				break;
			(*out)[n++] = h;
		}
		closedir(d);
	}
	return n;
}

/* the index in s->vms of the VM holding mdev @uuid, or -1 */
static long instance_owner(const char *uuid, const struct vfio_hold *h, size_t nh)
{
	char path[512], link[512], cdev[32] = "", *b;
	long group = -1;
	struct dirent *e;
	ssize_t n;
	size_t i;
	DIR *d;

	snprintf(path, sizeof(path), MDEV_DEVICES "/%s/iommu_group", uuid);
	n = readlink(path, link, sizeof(link) - 1);
	if (n > 0) {
		link[n] = '\0';
		b = strrchr(link, '/');
		group = strtol(b ? b + 1 : link, NULL, 10);
	}
	snprintf(path, sizeof(path), MDEV_DEVICES "/%s/vfio-dev", uuid);
	d = opendir(path);
	if (d) {
		while ((e = readdir(d)))
			if (!strncmp(e->d_name, "vfio", 4) && strlen(e->d_name) < sizeof(cdev))
				strcpy(cdev, e->d_name);
		closedir(d);
	}
	for (i = 0; i < nh; i++)
		if ((h[i].group >= 0 && h[i].group == group) ||
		    (h[i].group < 0 && cdev[0] && !strcmp(h[i].cdev, cdev)))
			return (long)h[i].vm;
	return -1;
}

/* ------------------------------------------------------------------ share */

static uint32_t owner_weight(const struct pd_state *s, const struct pd_share *sh, long vm)
{
	size_t i;

	if (vm < 0)
		return sh->default_weight;
	for (i = 0; i < sh->nweights; i++)
		if (pd_rule_id(sh->weights[i].rule) == s->vms[vm].rule)
			return sh->weights[i].weight;
	return sh->default_weight;
}

/* the last tick's instance @uuid of entry @m, or NULL */
static const struct pd_share_inst *last_tick(const struct pd_share_inst *old, size_t nold,
					     size_t m, const char *uuid)
{
	size_t i;

	for (i = 0; i < nold; i++)
		if (old[i].mdev == m && !strcmp(old[i].uuid, uuid))
			return &old[i];
	return NULL;
}

/* one entry's split over its instances [from, to) of s->sinst */
static void split_entry(struct pd_state *s, const struct pd_mdev *m, size_t from, size_t to)
{
	const struct pd_knob_kind *kind = pd_knob_kind(m->share.knob);
	struct pd_split_conf c = { m->share.capacity, m->share.min, m->share.max,
				   m->share.hysteresis };
	struct pd_split_in *in = calloc(to - from + 1, sizeof(*in));
	uint64_t *out = calloc(to - from + 1, sizeof(*out));
	size_t i;

	if (!in || !out) {
		free(in);
		free(out);
		return;
	}
	for (i = from; i < to; i++) {
		in[i - from].weight = s->sinst[i].weight;
		in[i - from].used = s->sinst[i].used;
		in[i - from].cur = s->sinst[i].knob;
		in[i - from].fresh = s->sinst[i].fresh;
	}
	pd_share_split(&c, in, to - from, out);
	for (i = from; i < to; i++) {
		struct pd_share_inst *p = &s->sinst[i];
		uint64_t v = out[i - from];
		int r;

		if (v == p->knob)
			continue;
		r = knob_write(p->uuid, m->share.knob, v);
		if (r < 0) {
			p->errors++;
			pd_log("share %s/%s: mdev %s: cannot set %s: %s", m->parent, m->type, p->uuid,
			       m->share.knob, strerror(-r));
			continue;
		}
		pd_log("share %s/%s: mdev %s (%s, weight %u) %s %" PRIu64 " -> %" PRIu64
		       " %s, used %" PRIu64 "%s", m->parent, m->type, p->uuid,
		       p->vm[0] ? p->vm : "no VM", p->weight, m->share.knob, p->knob, v,
		       kind->unit, p->used, p->fresh ? " (not measured yet)" : "");
		p->knob = v;
		p->writes++;
	}
	free(in);
	free(out);
}

/* instances grouped by their policy entry, each entry's in sysfs order */
static int by_entry(const void *a, const void *b)
{
	const struct pd_share_inst *x = a, *y = b;

	return x->mdev < y->mdev ? -1 : x->mdev > y->mdev ? 1 : x->seq < y->seq ? -1 : 1;
}

void pd_share_tick(struct pd_state *s)
{
	struct pd_share_inst *old = s->sinst;
	struct vfio_hold *holds = NULL;
	size_t nold = s->nsinst, nholds, caph = 0, i, from, seq = 0;
	uint64_t now = pd_mono_ns();
	struct dirent *e;
	DIR *d;

	for (i = 0; i < s->conf.nmdevs && !s->conf.mdevs[i].share.set; i++)
		;
	s->sinst = NULL;
	s->nsinst = s->capsinst = 0;
	if (!s->have_policy || i == s->conf.nmdevs || !(d = opendir(MDEV_DEVICES))) {
		free(old);
		return;
	}
	nholds = vfio_holds(s, &holds, &caph);
	/* one pass: each instance's entry is resolved once */
	while ((e = readdir(d))) {
		const struct pd_share_inst *last;
		const struct pd_mdev *md;
		struct pd_share_inst *p;
		uint64_t count;
		long m, vm;

		if (e->d_name[0] == '.' || strlen(e->d_name) >= sizeof(p->uuid))
			continue;
		m = conf_entry(&s->conf, e->d_name);
		if (m < 0 || !s->conf.mdevs[m].share.set)
			continue;
		md = &s->conf.mdevs[m];
		if (vfs_grow((void **)&s->sinst, &s->capsinst, s->nsinst + 1, sizeof(*p)))
			break;
		p = &s->sinst[s->nsinst];
		memset(p, 0, sizeof(*p));
		p->mdev = (size_t)m;
		p->seq = seq++;
		strcpy(p->uuid, e->d_name);
		if (attr_read(p->uuid, md->share.knob, &p->knob) ||
		    attr_read(p->uuid, pd_knob_kind(md->share.knob)->counter, &count))
			continue;	/* removed meanwhile */
		vm = instance_owner(p->uuid, holds, nholds);
		if (vm >= 0) {
			snprintf(p->vm, sizeof(p->vm), "%s", s->vms[vm].name);
			p->rule = s->vms[vm].rule;
			p->pid = s->vms[vm].pid;
		}
		p->weight = owner_weight(s, &md->share, vm);
		p->count = count;
		p->count_ns = now;
		last = last_tick(old, nold, p->mdev, p->uuid);
		/* a counter that went back (a new instance of the same name) starts over */
		if (last && count >= last->count && now > last->count_ns) {
			p->used = (uint64_t)((unsigned __int128)(count - last->count) * 1000000000ull /
					   (now - last->count_ns));
			p->writes = last->writes;
			p->errors = last->errors;
		} else {
			p->fresh = 1;
		}
		s->nsinst++;
	}
	closedir(d);
	free(holds);
	free(old);
	qsort(s->sinst, s->nsinst, sizeof(*s->sinst), by_entry);
	for (from = 0; from < s->nsinst; from = i) {
		for (i = from; i < s->nsinst && s->sinst[i].mdev == s->sinst[from].mdev; i++)
			;
		split_entry(s, &s->conf.mdevs[s->sinst[from].mdev], from, i);
	}
}
