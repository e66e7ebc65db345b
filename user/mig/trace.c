// SPDX-License-Identifier: GPL-2.0
/*
 * vfiomig: the Chrome trace-event export (--trace-out; ui.perfetto.dev):
 * a process per VM, a thread per device side and downtime part, a slice
 * per arc.
 */
#include <stdio.h>
#include <json-c/json.h>
#include "event_fmt.h"
#include "vfiomig.h"

static void trace_meta(struct json_object *ev, const char *what, __u32 pid, int tid,
		       const char *name)
{
	struct json_object *o = json_object_new_object(), *args = json_object_new_object();

	json_object_object_add(o, "ph", json_object_new_string("M"));
	json_object_object_add(o, "name", json_object_new_string(what));
	json_object_object_add(o, "pid", json_object_new_int64(pid));
	json_object_object_add(o, "tid", json_object_new_int(tid));
	json_object_object_add(args, "name", JS(name));
	json_object_object_add(o, "args", args);
	json_object_array_add(ev, o);
}

static struct json_object *trace_slice(struct json_object *ev, const char *name, const char *cat,
				       __u32 pid, int tid, __u64 t0, __u64 t1)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "ph", json_object_new_string("X"));
	json_object_object_add(o, "name", json_object_new_string(name));
	json_object_object_add(o, "cat", json_object_new_string(cat));
	json_object_object_add(o, "pid", json_object_new_int64(pid));
	json_object_object_add(o, "tid", json_object_new_int(tid));
	json_object_object_add(o, "ts", json_object_new_double((double)t0 / 1e3));
	json_object_object_add(o, "dur", json_object_new_double((double)(t1 - t0) / 1e3));
	json_object_array_add(ev, o);
	return o;
}

static void trace_session(struct json_object *ev, const struct vfs_mm_session *s, bool is_src,
			  __u32 pid, int *tid)
{
	char name[160];
	size_t i;

	if (!s)
		return;
	++*tid;
	snprintf(name, sizeof(name), "%s %s", side_name(s, is_src), s->dev);
	trace_meta(ev, "thread_name", pid, *tid, name);
	for (i = 0; i < s->narcs; i++) {
		const struct vfs_mm_arc *a = &s->arcs[i];
		struct json_object *o, *args = json_object_new_object();
		char arc[64];

		snprintf(arc, sizeof(arc), "%s -> %s%s", vfs_mig_state_name(a->from),
			 vfs_mig_state_name(a->to), a->ret < 0 ? " FAILED" : "");
		o = trace_slice(ev, arc, "arc", pid, *tid, a->start_ns, a->end_ns);
		json_object_object_add(args, "device", JS(s->dev));
		json_object_object_add(args, "ret", json_object_new_int64(a->ret));
		if (a->ret < 0)
			json_object_object_add(args, "errno",
					       json_object_new_string(errname((int)-a->ret)));
		json_object_object_add(o, "args", args);
	}
	for (i = 0; i < s->npoints; i++) {
		struct json_object *o = json_object_new_object(), *args = json_object_new_object();

		snprintf(name, sizeof(name), "bytes %s %s", side_name(s, is_src), s->dev);
		json_object_object_add(o, "ph", json_object_new_string("C"));
		json_object_object_add(o, "name", JS(name));
		json_object_object_add(o, "pid", json_object_new_int64(pid));
		json_object_object_add(o, "tid", json_object_new_int(*tid));
		json_object_object_add(o, "ts", json_object_new_double((double)s->points[i].ts_ns / 1e3));
		json_object_object_add(args, is_src ? "read" : "written",
				       json_object_new_uint64(s->points[i].total));
		json_object_object_add(o, "args", args);
		json_object_array_add(ev, o);
	}
}

/* a downtime's three consecutive parts from @t0, on one track */
static void trace_parts(struct json_object *ev, __u32 pid, int tid, __u64 t0, __u64 stop_copy,
			__u64 gap, __u64 resume)
{
	trace_slice(ev, "source stop-copy", "downtime", pid, tid, t0, t0 + stop_copy);
	trace_slice(ev, "transfer gap", "downtime", pid, tid, t0 + stop_copy, t0 + stop_copy + gap);
	trace_slice(ev, "destination resume", "downtime", pid, tid, t0 + stop_copy + gap,
		    t0 + stop_copy + gap + resume);
}

int vfiomig_write_trace(const char *path, const struct vfs_mm_migration *const *done, size_t ndone)
{
	struct json_object *doc = json_object_new_object(), *ev = json_object_new_array();
	char name[160];
	size_t i, j;
	int tid = 0, err = 0;

	for (i = 0; i < ndone; i++) {
		const struct vfs_mm_migration *g = done[i];

		snprintf(name, sizeof(name), "VM pid %u (%s)", g->pid, g->comm);
		trace_meta(ev, "process_name", g->pid, 0, name);
		if (g->has_downtime) {
			++tid;
			trace_meta(ev, "thread_name", g->pid, tid, "downtime");
			trace_slice(ev, "downtime", "downtime", g->pid, tid, g->stop_ns, g->running_ns);
			trace_parts(ev, g->pid, tid, g->stop_ns, g->stop_copy_ns, g->transfer_ns,
				    g->resume_ns);
		}
		for (j = 0; j < g->npairs; j++) {
			const struct vfs_mm_pair *p = &g->pairs[j];

			if (p->has_downtime) {
				++tid;
				snprintf(name, sizeof(name), "downtime %s", p->src->dev);
				trace_meta(ev, "thread_name", g->pid, tid, name);
				trace_parts(ev, g->pid, tid, p->src->stop_ns, p->stop_copy_ns,
					    p->transfer_ns, p->resume_ns);
			}
			trace_session(ev, p->src, true, g->pid, &tid);
			trace_session(ev, p->dst, false, g->pid, &tid);
		}
	}
	json_object_object_add(doc, "traceEvents", ev);
	json_object_object_add(doc, "displayTimeUnit", json_object_new_string("ms"));
	if (json_object_to_file_ext(path, doc, JSON_C_TO_STRING_PLAIN)) {
		fprintf(stderr, "vfiomig: cannot write the trace file %s: %s\n", path,
			json_util_get_last_err());
		err = -1;
	}
	json_object_put(doc);
	return err;
}
