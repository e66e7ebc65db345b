// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "mdevcap.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "event_fmt.h"
#include "safetext.h"

struct vfs_mdevcap *vfs_mdevcap_new(const char *sysfs)
{
	struct vfs_mdevcap *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	snprintf(c->root, sizeof(c->root), "%s/class/mdev_bus", sysfs ? sysfs : "/sys");
	return c;
}

void vfs_mdevcap_free(struct vfs_mdevcap *c)
{
	free(c);
}

__s64 vfs_mdev_parse_count(const char *s, size_t n)
{
	__s64 v = 0;
	size_t i;

	if (n && s[n - 1] == '\n')
		n--;
	if (!n || n > 16)	/* 2^53 has 16 digits */
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v > (1ll << 53) ? -1 : v;
}

/*
 * A sysfs name (a directory entry, an event's field: at most @n bytes, up
 * to a NUL) as every row stores it: cut where the BPF side cuts a kernel
 * name (VFS_NAME_LEN - 1 bytes), then escaped. Event and sysfs names of
 * one type give the same text, so they compare equal.
 */
static void name_key(char *out, size_t len, const char *s, size_t n)
{
	n = strnlen(s, n);
	if (n > VFS_NAME_LEN - 1)
		n = VFS_NAME_LEN - 1;
	vfs_safe_text(out, len, s, n, VFS_SAFE_ESCAPE);
}

/* attribute @attr of directory @dir into @buf: the length read, or -errno */
static ssize_t read_attr(const char *dir, const char *attr, char *buf, size_t len)
{
	char path[1024];
	ssize_t n;
	int fd;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, attr) >= sizeof(path))
		return -ENAMETOOLONG;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	if (n < 0)
		n = -errno;
	close(fd);
	if (n >= 0)
		buf[n] = '\0';
	return n;
}

static __s64 read_count(const char *dir, const char *attr)
{
	char buf[32];
	ssize_t n = read_attr(dir, attr, buf, sizeof(buf));

	/* a file longer than the buffer is no count either */
	if (n < 0 || (size_t)n >= sizeof(buf) - 1)
		return -1;
	return vfs_mdev_parse_count(buf, (size_t)n);
}

/* a text attribute, its one trailing newline dropped, escaped; "?": unreadable */
static void read_text(const char *dir, const char *attr, char *out, size_t len)
{
	char buf[128];
	ssize_t n = read_attr(dir, attr, buf, sizeof(buf));

	if (n > 0 && buf[n - 1] == '\n')
		buf[--n] = '\0';
	if (n <= 0) {
		snprintf(out, len, "?");
		return;
	}
	vfs_safe_text(out, len, buf, (size_t)n, VFS_SAFE_ESCAPE);
}

/* ---------------------------------------------------------------- bookkeeping */

static struct vfs_mdev_row *row_find(struct vfs_mdevcap *c, const char *parent, const char *type)
{
	size_t i;

	for (i = 0; i < c->ntypes; i++)
		if (!strcmp(c->types[i].parent, parent) && !strcmp(c->types[i].type, type))
			return &c->types[i];
	return NULL;
}

static long inst_find(const struct vfs_mdevcap *c, const char *uuid)
{
	size_t i;

	for (i = 0; i < c->ninst; i++)
		if (!strcmp(c->inst[i].uuid, uuid))
			return (long)i;
	return -1;
}

const struct vfs_mdev_inst *vfs_mdevcap_creator(const struct vfs_mdevcap *c, const char *uuid)
{
	long i = inst_find(c, uuid);

	return i < 0 ? NULL : &c->inst[i];
}

static void inst_del(struct vfs_mdevcap *c, size_t i)
{
	memmove(&c->inst[i], &c->inst[i + 1], (c->ninst - i - 1) * sizeof(c->inst[0]));
	c->ninst--;
}

static void count_add(struct vfs_mdevcap *c, const char *parent, const char *type,
		      const char *vm, __u32 op, __s32 ret)
{
	struct vfs_mdev_count *k;
	size_t i;

	for (i = 0; i < c->ncount; i++) {
		k = &c->count[i];
		if (k->op == op && k->ret == ret && !strcmp(k->parent, parent) &&
		    !strcmp(k->type, type) && !strcmp(k->vm, vm)) {
			k->n++;
			return;
		}
	}
	if (c->ncount == VFS_MDEV_COUNT_MAX) {
		c->count_dropped++;
		return;
	}
	k = &c->count[c->ncount++];
	snprintf(k->parent, sizeof(k->parent), "%s", parent);
	snprintf(k->type, sizeof(k->type), "%s", type);
	snprintf(k->vm, sizeof(k->vm), "%s", vm);
	k->op = op;
	k->ret = ret;
	k->n = 1;
}

int vfs_mdevcap_event(struct vfs_mdevcap *c, const struct vfs_ev_mdev *e, const char *vm)
{
	char parent[VFS_NAME_LEN + 1], type[VFS_NAME_LEN + 1], uuid[37];
	struct vfs_mdev_inst *in;
	long i;

	if (e->hdr.type != VFS_EV_MDEV || (e->op != VFS_MDEV_CREATE && e->op != VFS_MDEV_REMOVE))
		return -EINVAL;
	name_key(parent, sizeof(parent), e->parent, sizeof(e->parent));
	name_key(type, sizeof(type), e->type, sizeof(e->type));
	vfs_guid_str(e->uuid, uuid);
	count_add(c, parent, type, vm, e->op, e->ret);
	if (e->ret)
		return 0;
	i = inst_find(c, uuid);
	if (e->op == VFS_MDEV_REMOVE) {
		if (i >= 0)
			inst_del(c, (size_t)i);
		return 0;
	}
	if (i < 0 && c->ninst == VFS_MDEV_INST_MAX) {
		c->inst_dropped++;
		return 0;
	}
	in = &c->inst[i < 0 ? (long)c->ninst++ : i];
	snprintf(in->uuid, sizeof(in->uuid), "%s", uuid);
	snprintf(in->parent, sizeof(in->parent), "%s", parent);
	snprintf(in->type, sizeof(in->type), "%s", type);
	snprintf(in->vm, sizeof(in->vm), "%s", vm);
	in->tgid = e->hdr.tgid;
	return 0;
}

/* ---------------------------------------------------------------- scan */

/* who created the instances one devices/ lists, by VM name */
struct creators {
	struct { const char *vm; unsigned int n; } vm[16];
	unsigned int nvm, unknown, more;
};

static void creators_add(struct creators *cr, const char *vm)
{
	unsigned int i;

	if (!vm) {
		cr->unknown++;
		return;
	}
	for (i = 0; i < cr->nvm; i++)
		if (!strcmp(cr->vm[i].vm, vm)) {
			cr->vm[i].n++;
			return;
		}
	if (cr->nvm == sizeof(cr->vm) / sizeof(cr->vm[0])) {
		cr->more++;
		return;
	}
	cr->vm[cr->nvm].vm = vm;
	cr->vm[cr->nvm++].n = 1;
}

static int cmp_creator(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* "vm-a:2,vm-b:1,?:1" ("-": no instance); cut at @len */
static void creators_text(struct creators *cr, char *out, size_t len)
{
	size_t off = 0;
	unsigned int i;

	qsort(cr->vm, cr->nvm, sizeof(cr->vm[0]), cmp_creator);
	out[0] = '\0';
	for (i = 0; i < cr->nvm && off < len; i++)
		off += snprintf(out + off, len - off, "%s%s:%u", off ? "," : "", cr->vm[i].vm,
				cr->vm[i].n);
	if (cr->unknown && off < len)
		off += snprintf(out + off, len - off, "%s?:%u", off ? "," : "", cr->unknown);
	if (cr->more && off < len)
		off += snprintf(out + off, len - off, "%s...:%u", off ? "," : "", cr->more);
	if (!off)
		snprintf(out, len, "-");
}

/* the instances devices/ lists: their number, or -1 if it cannot be read */
static __s64 scan_devices(struct vfs_mdevcap *c, const char *dir, struct creators *cr)
{
	char path[1024];
	struct dirent *de;
	__s64 n = 0;
	DIR *d;

	if ((size_t)snprintf(path, sizeof(path), "%s/devices", dir) >= sizeof(path))
		return -1;
	d = opendir(path);
	if (!d)
		return -1;
	while ((de = readdir(d))) {
		long i;

		if (de->d_name[0] == '.')
			continue;
		n++;
		i = inst_find(c, de->d_name);
		if (i >= 0)
			c->listed[i] = true;
		creators_add(cr, i >= 0 ? c->inst[i].vm : NULL);
	}
	closedir(d);
	return n;
}

static void event_counts(const struct vfs_mdevcap *c, struct vfs_mdev_row *r)
{
	size_t i;

	r->creates = r->create_fails = r->removes = 0;
	for (i = 0; i < c->ncount; i++) {
		const struct vfs_mdev_count *k = &c->count[i];

		if (strcmp(k->parent, r->parent) || strcmp(k->type, r->type))
			continue;
		if (k->op == VFS_MDEV_REMOVE)
			r->removes += k->ret ? 0 : k->n;
		else if (k->ret)
			r->create_fails += k->n;
		else
			r->creates += k->n;
	}
}

static void scan_type(struct vfs_mdevcap *c, const char *types_dir, const char *pname,
		      const char *tname)
{
	char parent[VFS_NAME_LEN + 1], type[VFS_NAME_LEN + 1], dir[1024];
	struct creators cr = { 0 };
	struct vfs_mdev_row *r;

	if ((size_t)snprintf(dir, sizeof(dir), "%s/%s", types_dir, tname) >= sizeof(dir))
		return;
	name_key(parent, sizeof(parent), pname, strlen(pname));
	name_key(type, sizeof(type), tname, strlen(tname));
	r = row_find(c, parent, type);
	if (r && r->seen)	/* two names cut to one: the first wins */
		return;
	if (!r) {
		if (c->ntypes == VFS_MDEV_TYPES_MAX) {
			c->types_untracked++;
			return;
		}
		r = &c->types[c->ntypes++];
		memset(r, 0, sizeof(*r));
		snprintf(r->parent, sizeof(r->parent), "%s", parent);
		snprintf(r->type, sizeof(r->type), "%s", type);
		r->low = -1;
	}
	r->seen = true;
	read_text(dir, "name", r->name, sizeof(r->name));
	read_text(dir, "device_api", r->api, sizeof(r->api));
	r->available = read_count(dir, "available_instances");
	if (r->available >= 0 && (r->low < 0 || r->available < r->low))
		r->low = r->available;
	r->instances = scan_devices(c, dir, &cr);
	creators_text(&cr, r->creators, sizeof(r->creators));
	event_counts(c, r);
}

static void scan_parent(struct vfs_mdevcap *c, const char *pname)
{
	char dir[1024];
	struct dirent *de;
	DIR *d;

	if ((size_t)snprintf(dir, sizeof(dir), "%s/%s/mdev_supported_types", c->root,
			     pname) >= sizeof(dir))
		return;
	d = opendir(dir);
	if (!d)
		return;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			scan_type(c, dir, pname, de->d_name);
	closedir(d);
}

static int cmp_row(const void *pa, const void *pb)
{
	const struct vfs_mdev_row *a = pa, *b = pb;
	int r = strcmp(a->parent, b->parent);

	return r ? r : strcmp(a->type, b->type);
}

/*
 * Forget the instances whose type was read and whose devices/ no longer
 * lists them (removed while the stream lost the event, or removed before
 * the event came)
 */
static void prune_instances(struct vfs_mdevcap *c)
{
	size_t i, n = 0;

	for (i = 0; i < c->ninst; i++) {
		struct vfs_mdev_row *r = row_find(c, c->inst[i].parent, c->inst[i].type);

		/* kept: still there, or not known (unreadable devices/, a type
		 * over the cap) */
		if (c->listed[i] || (r && r->instances < 0) || (!r && c->types_untracked))
			c->inst[n++] = c->inst[i];
	}
	c->ninst = n;
}

int vfs_mdevcap_scan(struct vfs_mdevcap *c)
{
	struct dirent *de;
	size_t i, n = 0;
	DIR *d;

	c->scans++;
	c->types_untracked = 0;
	memset(c->listed, 0, sizeof(c->listed));
	for (i = 0; i < c->ntypes; i++)
		c->types[i].seen = false;
	d = opendir(c->root);
	c->scan_err = d ? 0 : -errno;
	if (d) {
		while ((de = readdir(d)))
			if (de->d_name[0] != '.')
				scan_parent(c, de->d_name);
		closedir(d);
	}
	for (i = 0; i < c->ntypes; i++)
		if (c->types[i].seen)
			c->types[n++] = c->types[i];
	c->ntypes = n;
	qsort(c->types, c->ntypes, sizeof(c->types[0]), cmp_row);
	if (d)
		prune_instances(c);
	return c->scan_err;
}
