// SPDX-License-Identifier: GPL-2.0
/* Batch views: frames as text or as JSON documents, from the field tables. */
#include "view.h"
#include <string.h>
#include <time.h>
#include <json-c/json.h>
#include "event_fmt.h"
#include "safetext.h"
#include "vfio_ioctl.h"

static const char *const empty[VFS_VIEW_MAX] = {
	[VFS_VIEW_VMS] = "no VM has made a VFIO call since vfiotop attached",
	[VFS_VIEW_DEVICES] = "no VFIO or vDPA device has been used since vfiotop attached",
	[VFS_VIEW_QUEUES] = "no vDPA virtqueue has been kicked since vfiotop attached",
	[VFS_VIEW_MIGRATIONS] = "no device has migrated since vfiotop attached",
	[VFS_VIEW_EVENTS] = "no lifecycle event since vfiotop attached",
	[VFS_VIEW_MDEV] = "no mdev parent device in /sys/class/mdev_bus",
};

const char *top_view_empty(enum vfs_view v)
{
	return v < VFS_VIEW_MAX ? empty[v] : "?";
}

void top_printable(char *s)
{
	/* in place, one '?' per byte: the columns are counted in bytes */
	vfs_safe_text(s, strlen(s) + 1, s, strlen(s), VFS_SAFE_QMARK | VFS_SAFE_ASCII);
}

bool top_row_matches(const struct vfs_table *t, const void *row, const struct vfs_filter *filter)
{
	return vfs_filter_match(filter, t->fields, t->nfields, row);
}

/* the last column shown (it is not padded on the right) */
static size_t last_shown(const struct vfs_table *t)
{
	size_t f, last = 0;

	for (f = 0; f < t->nfields; f++)
		if (!(t->hidden & (1ull << f)))
			last = f;
	return last;
}

void top_print_text(const struct vfs_model *m, enum vfs_view v, const struct vfs_filter *filter,
		    FILE *out)
{
	const struct vfs_table *t = &m->view[v];
	char buf[192], tbuf[32];
	time_t now = (time_t)(m->rt_ns / 1000000000ull);
	size_t i, f, shown = 0, last = last_shown(t);
	bool first;
	struct tm tm;

	localtime_r(&now, &tm);
	strftime(tbuf, sizeof(tbuf), "%H:%M:%S", &tm);
	fprintf(out, "vfiotop %s frame %llu  interval %s  VMs %zu  devices %zu  view %s  sort %s%s"
		"  lost %llu\n",
		tbuf, (unsigned long long)m->frame,
		m->dt_ns ? (snprintf(buf, sizeof(buf), "%.2fs", m->dt_ns / 1e9), buf) : "-",
		m->nvms, m->ndevs, vfs_view_name(v), t->fields[t->sort].key,
		t->desc ? "" : " (ascending)", (unsigned long long)m->lost);
	for (f = 0, first = true; f < t->nfields; f++) {
		if (t->hidden & (1ull << f))
			continue;
		fprintf(out, "%s%*s", first ? "" : " ", t->fields[f].left ?
			-(int)t->fields[f].width : (int)t->fields[f].width, t->fields[f].title);
		first = false;
	}
	fputc('\n', out);
	for (i = 0; i < t->n; i++) {
		if (!top_row_matches(t, t->rows[i], filter))
			continue;
		shown++;
		for (f = 0, first = true; f < t->nfields; f++) {
			const struct vfs_field *fl = &t->fields[f];

			if (t->hidden & (1ull << f))
				continue;
			vfs_field_text(fl, t->rows[i], buf, sizeof(buf));
			top_printable(buf);
			/* the last column is not padded on the right */
			if (fl->left && f == last)
				fprintf(out, "%s%s", first ? "" : " ", buf);
			else
				fprintf(out, "%s%*s", first ? "" : " ",
					fl->left ? -(int)fl->width : (int)fl->width, buf);
			first = false;
		}
		fputc('\n', out);
	}
	if (!t->n)
		fprintf(out, "  (%s)\n", empty[v]);
	else if (!shown)
		fprintf(out, "  (no row matches the filter)\n");
	fputc('\n', out);
	fflush(out);
}

/*
 * A VM's or device's ioctls by command (count, errors, latency sum, max and
 * its log2 histogram: [upper bound ns, calls] per non-empty slot) and its
 * errnos by command: what the interactive drill-down shows, in every frame.
 */
static void drill_json(const struct vfs_model *m, enum vfs_view v, const void *row,
		       struct json_object *o)
{
	static struct vfs_drill d;	/* large; frames are drawn one at a time */
	struct json_object *cmds, *errs;
	char name[64];
	size_t i, j;

	if (!vfs_model_drill(m, v, row, &d))
		return;
	cmds = json_object_new_array();
	for (i = 0; i < d.ncmd; i++) {
		const struct vfs_drill_cmd *c = &d.cmd[i];
		struct json_object *co = json_object_new_object(), *h = json_object_new_array();

		json_object_object_add(co, "kind", json_object_new_string(vfio_fd_kind_name(c->kind)));
		json_object_object_add(co, "cmd", json_object_new_string(
			vfio_ioctl_str(c->kind, c->cmd, name, sizeof(name))));
		json_object_object_add(co, "count", json_object_new_uint64(c->count));
		json_object_object_add(co, "errors", json_object_new_uint64(c->errors));
		json_object_object_add(co, "lat_sum_ns", json_object_new_uint64(c->lat_sum_ns));
		json_object_object_add(co, "lat_max_ns", json_object_new_uint64(c->lat_max_ns));
		for (j = 0; j < VFS_HIST_SLOTS; j++) {
			struct json_object *slot;

			if (!c->hist[j])
				continue;
			slot = json_object_new_array();
			json_object_array_add(slot, json_object_new_uint64(
				j + 1 >= 64 ? ~0ull : 1ull << (j + 1)));
			json_object_array_add(slot, json_object_new_uint64(c->hist[j]));
			json_object_array_add(h, slot);
		}
		json_object_object_add(co, "hist", h);
		json_object_array_add(cmds, co);
	}
	errs = json_object_new_array();
	for (i = 0; i < d.nerr; i++) {
		const struct vfs_drill_errno *e = &d.err[i];
		struct json_object *eo = json_object_new_object();

		json_object_object_add(eo, "kind", json_object_new_string(vfio_fd_kind_name(e->kind)));
		json_object_object_add(eo, "cmd", json_object_new_string(
			vfio_ioctl_str(e->kind, e->cmd, name, sizeof(name))));
		json_object_object_add(eo, "errno", json_object_new_string(
			strerrorname_np((int)e->err) ?: "?"));
		json_object_object_add(eo, "count", json_object_new_uint64(e->count));
		json_object_array_add(errs, eo);
	}
	json_object_object_add(o, "ioctl_cmds", cmds);
	json_object_object_add(o, "ioctl_errnos", errs);
	json_object_object_add(o, "ioctl_cmds_truncated", json_object_new_boolean(d.truncated));
}

static struct json_object *table_json(const struct vfs_model *m, enum vfs_view v,
				      const struct vfs_filter *filter)
{
	const struct vfs_table *t = &m->view[v];
	struct json_object *arr = json_object_new_array();
	size_t i, f;

	for (i = 0; i < t->n; i++) {
		struct json_object *o;

		if (!top_row_matches(t, t->rows[i], filter))
			continue;
		o = json_object_new_object();
		for (f = 0; f < t->nfields; f++)
			vfs_field_json(&t->fields[f], t->rows[i], o);
		if (v == VFS_VIEW_VMS || v == VFS_VIEW_DEVICES)
			drill_json(m, v, t->rows[i], o);
		json_object_array_add(arr, o);
	}
	return arr;
}

void top_print_json(const struct vfs_model *m, const struct vfs_filter *filter, bool pretty,
		    FILE *out)
{
	struct json_object *doc = json_object_new_object(), *gc;
	int v;

	json_object_object_add(doc, "frame", json_object_new_uint64(m->frame));
	json_object_object_add(doc, "time", json_object_new_double(m->rt_ns / 1e9));
	json_object_object_add(doc, "interval_ns",
			       m->dt_ns ? json_object_new_uint64(m->dt_ns) : NULL);
	json_object_object_add(doc, "lost", json_object_new_uint64(m->lost));
	json_object_object_add(doc, "migrations_done", json_object_new_uint64(m->migrations_done));
	gc = json_object_new_object();
	json_object_object_add(gc, "vms", json_object_new_uint64(m->gc.stats.vms));
	json_object_object_add(gc, "objects", json_object_new_uint64(m->gc.stats.objs));
	json_object_object_add(gc, "entries", json_object_new_uint64(m->gc.stats.entries));
	json_object_object_add(gc, "errors", json_object_new_uint64(m->gc.stats.errors));
	json_object_object_add(doc, "gc", gc);
	for (v = 0; v < VFS_VIEW_MAX; v++)
		json_object_object_add(doc, vfs_view_name(v), table_json(m, v, filter));
	fprintf(out, "%s\n", json_object_to_json_string_ext(doc, JSON_C_TO_STRING_NOSLASHESCAPE |
		(pretty ? JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED : JSON_C_TO_STRING_PLAIN)));
	json_object_put(doc);
	fflush(out);
}
