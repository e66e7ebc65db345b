// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The counters' dump as rows, written as text lines or one JSON object: dump.h */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>
#include "dump.h"
#include "event_fmt.h"
#include "safetext.h"

void vfs_dump_text(struct vfs_dump *d, FILE *out)
{
	d->out = out;
	d->doc = NULL;
}

int vfs_dump_json(struct vfs_dump *d)
{
	d->out = NULL;
	d->doc = json_object_new_object();
	return d->doc ? 0 : -ENOMEM;
}

/* a name from outside as a terminal takes it: safe text as it is */
static void text_str(FILE *out, const char *s)
{
	size_t n = strlen(s), len = 4 * n + 1;	/* at worst "\xNN" per byte */
	char *buf;

	if (vfs_text_is_safe(s, n, VFS_SAFE_ESCAPE)) {
		fputs(s, out);
		return;
	}
	buf = malloc(len);
	if (!buf) {
		fputs("?", out);
		return;
	}
	vfs_safe_text(buf, len, s, n, VFS_SAFE_ESCAPE);
	fputs(buf, out);
	free(buf);
}

static void text_value(FILE *out, const struct vfs_dump_field *f)
{
	switch (f->kind) {
	case VFS_DUMP_STR:
		text_str(out, f->s ?: "");
		break;
	case VFS_DUMP_U64:
		fprintf(out, "%llu", (unsigned long long)f->u);
		break;
	case VFS_DUMP_S64:
		fprintf(out, "%lld", (long long)f->i);
		break;
	case VFS_DUMP_HEX:
		fprintf(out, "0x%llx", (unsigned long long)f->u);
		break;
	}
}

static struct json_object *json_value(const struct vfs_dump_field *f)
{
	switch (f->kind) {
	case VFS_DUMP_STR:
		return vfs_json_text(f->s ?: "", (size_t)-1);
	case VFS_DUMP_S64:
		return json_object_new_int64(f->i);
	case VFS_DUMP_U64:
	case VFS_DUMP_HEX:
		break;
	}
	return json_object_new_uint64(f->u);
}

/* the document's member @type, created as @make() when it is not there */
static struct json_object *member(struct vfs_dump *d, const char *type,
				  struct json_object *(*make)(void))
{
	struct json_object *m;

	if (json_object_object_get_ex(d->doc, type, &m))
		return m;
	m = make();
	if (m)
		json_object_object_add(d->doc, type, m);
	return m;
}

void vfs_dump_declare(struct vfs_dump *d, const char *type)
{
	if (d->doc)
		member(d, type, json_object_new_array);
}

void vfs_dump_row(struct vfs_dump *d, const char *type, const struct vfs_dump_field *f,
		  size_t n)
{
	struct json_object *arr, *o;
	size_t i;

	if (d->out) {
		fputs(type, d->out);
		for (i = 0; i < n; i++) {
			fputc(' ', d->out);
			if (!f[i].pos)
				fprintf(d->out, "%s ", f[i].name);
			text_value(d->out, &f[i]);
		}
		fputc('\n', d->out);
		return;
	}
	arr = d->doc ? member(d, type, json_object_new_array) : NULL;
	o = arr ? json_object_new_object() : NULL;
	if (!o)
		return;
	for (i = 0; i < n; i++)
		json_object_object_add(o, f[i].name, json_value(&f[i]));
	json_object_array_add(arr, o);
}

void vfs_dump_pair(struct vfs_dump *d, const char *type, const char *key, __u64 value)
{
	struct json_object *o;

	if (d->out) {
		fprintf(d->out, "%s ", type);
		text_str(d->out, key);
		fprintf(d->out, " %llu\n", (unsigned long long)value);
		return;
	}
	o = d->doc ? member(d, type, json_object_new_object) : NULL;
	if (o)
		json_object_object_add(o, key, json_object_new_uint64(value));
}

struct json_object *vfs_dump_take(struct vfs_dump *d)
{
	struct json_object *doc = d->doc;

	d->doc = NULL;
	d->out = NULL;
	return doc;
}
