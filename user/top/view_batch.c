// SPDX-License-Identifier: GPL-2.0
/* Batch views: frames as text or as JSON documents, from the field tables. */
#include "view.h"
#include <ctype.h>
#include <string.h>
#include <time.h>
#include <json-c/json.h>

static const char *const empty[VFS_VIEW_MAX] = {
	"no VM has made a VFIO call since vfiotop attached",
	"no VFIO or vDPA device has been used since vfiotop attached",
};

/* names come from processes: nothing that moves the cursor */
static void printable(char *s)
{
	for (; *s; s++)
		if (!isprint((unsigned char)*s))
			*s = '?';
}

void top_print_text(const struct vfs_model *m, enum vfs_view v, FILE *out)
{
	const struct vfs_table *t = &m->view[v];
	char buf[128], tbuf[32];
	time_t now = time(NULL);
	struct tm tm;
	size_t i, f;

	localtime_r(&now, &tm);
	strftime(tbuf, sizeof(tbuf), "%H:%M:%S", &tm);
	fprintf(out, "vfiotop %s frame %llu  interval %s  VMs %zu  devices %zu  view %s  sort %s%s\n",
		tbuf, (unsigned long long)m->frame,
		m->dt_ns ? (snprintf(buf, sizeof(buf), "%.2fs", m->dt_ns / 1e9), buf) : "-",
		m->nvms, m->ndevs, vfs_view_name(v), t->fields[t->sort].key,
		t->desc ? "" : " (ascending)");
	for (f = 0; f < t->nfields; f++)
		fprintf(out, "%s%*s", f ? " " : "", t->fields[f].left ? -(int)t->fields[f].width :
			(int)t->fields[f].width, t->fields[f].title);
	fputc('\n', out);
	if (!t->n)
		fprintf(out, "  (%s)\n", empty[v]);
	for (i = 0; i < t->n; i++) {
		for (f = 0; f < t->nfields; f++) {
			const struct vfs_field *fl = &t->fields[f];

			vfs_field_text(fl, t->rows[i], buf, sizeof(buf));
			printable(buf);
			/* the last column is not padded on the right */
			if (fl->left && f + 1 == t->nfields)
				fprintf(out, " %s", buf);
			else
				fprintf(out, "%s%*s", f ? " " : "",
					fl->left ? -(int)fl->width : (int)fl->width, buf);
		}
		fputc('\n', out);
	}
	fputc('\n', out);
	fflush(out);
}

static struct json_object *table_json(const struct vfs_table *t)
{
	struct json_object *arr = json_object_new_array();
	size_t i, f;

	for (i = 0; i < t->n; i++) {
		struct json_object *o = json_object_new_object();

		for (f = 0; f < t->nfields; f++)
			vfs_field_json(&t->fields[f], t->rows[i], o);
		json_object_array_add(arr, o);
	}
	return arr;
}

void top_print_json(const struct vfs_model *m, FILE *out)
{
	struct json_object *doc = json_object_new_object();
	struct timespec rt;

	clock_gettime(CLOCK_REALTIME, &rt);
	json_object_object_add(doc, "frame", json_object_new_uint64(m->frame));
	json_object_object_add(doc, "time", json_object_new_double(rt.tv_sec + rt.tv_nsec / 1e9));
	json_object_object_add(doc, "interval_ns",
			       m->dt_ns ? json_object_new_uint64(m->dt_ns) : NULL);
	json_object_object_add(doc, "vms", table_json(&m->view[VFS_VIEW_VMS]));
	json_object_object_add(doc, "devices", table_json(&m->view[VFS_VIEW_DEVICES]));
	fprintf(out, "%s\n", json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN |
							     JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(doc);
	fflush(out);
}
