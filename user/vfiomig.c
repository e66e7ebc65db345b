// SPDX-License-Identifier: GPL-2.0
/*
 * vfiomig: where the blackout time of a VFIO live migration went, from the
 * kernel's side. Per completed migration: each device's FSM arcs with their
 * kernel time and errno, the bytes moved, and the downtime (source leaves
 * RUNNING/PRE_COPY -> destination RUNNING) split into source stop-copy,
 * transfer gap and destination resume. Live (the collectors) or from a file
 * written by `vfiosnoop -j -c migration` (--replay). Exports a Chrome
 * trace-event file (ui.perfetto.dev) and an SVG timeline.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <json-c/json.h>
#include "cli.h"
#include "collector.h"
#include "event_fmt.h"
#include "identity.h"
#include "migmodel.h"

static volatile sig_atomic_t exiting;

static struct env {
	bool json;
	__u32 pid;
	const char *replay;
	const char *trace_out;
	const char *svg;
	const char *migration_id;	/* --migration-id: the join key across hosts */
	bool one_side;			/* --one-side: no local pairing */
	bool have_rt;			/* rt_offset known (live, or from the recording) */
	__s64 rt_offset;		/* CLOCK_REALTIME - CLOCK_MONOTONIC */
	char host[256];
	struct vfs_migmodel *m;
	const struct vfs_mm_migration **done;	/* emitted, for the files */
	size_t ndone, done_cap;
	int failed_io;
} env;

static void on_signal(int sig)
{
	exiting = 1;
}

static const char *errname(int err)
{
	return strerrorname_np(err) ?: "?";
}

static double ms(__s64 ns)
{
	return (double)ns / 1e6;
}

static const char *pair_status(const struct vfs_mm_pair *p)
{
	const struct vfs_mm_session *s[2] = { p->src, p->dst };
	enum vfs_mm_status st = VFS_MM_DONE;
	int i;

	for (i = 0; i < 2; i++) {
		if (!s[i])
			continue;
		if (s[i]->status == VFS_MM_FAILED)
			return "failed";
		if (s[i]->status != VFS_MM_DONE)
			st = s[i]->status;
	}
	if (p->src && p->src->status == VFS_MM_DONE && !p->dst && !env.one_side)
		st = VFS_MM_INCOMPLETE;
	return vfs_mm_status_name(st);
}

/* the first failure of a pair, if any */
static const struct vfs_mm_session *pair_failure(const struct vfs_mm_pair *p)
{
	if (p->src && p->src->status == VFS_MM_FAILED)
		return p->src;
	if (p->dst && p->dst->status == VFS_MM_FAILED)
		return p->dst;
	return NULL;
}

static const char *side_name(const struct vfs_mm_session *s, bool is_src)
{
	if (s->role == VFS_MM_UNKNOWN)
		return "dev";
	return is_src ? "src" : "dst";
}

/* ------------------------------------------------------------- JSON */

static struct json_object *u64_or_null(bool have, __u64 v)
{
	return have ? json_object_new_uint64(v) : NULL;
}

/* an instant as "<key>_ns" (monotonic) and "<key>_realtime_ns" (wall clock) */
static void add_instant(struct json_object *o, const char *key, __u64 t)
{
	char k[64];

	snprintf(k, sizeof(k), "%s_ns", key);
	json_object_object_add(o, k, u64_or_null(t, t));
	snprintf(k, sizeof(k), "%s_realtime_ns", key);
	json_object_object_add(o, k, t && env.have_rt ?
			       json_object_new_int64((__s64)t + env.rt_offset) : NULL);
}

/* the VM's name: QEMU's -name or libvirt's domain while the process lives */
static void vm_name(const struct vfs_mm_migration *g, char *out, size_t len)
{
	if (env.replay)
		snprintf(out, len, "%s", g->comm);
	else
		vfs_vm_name((pid_t)g->pid, g->comm, out, len);
}

static void add_arcs(struct json_object *arr, const struct vfs_mm_session *s, bool is_src,
		     __u64 t0)
{
	size_t i;

	for (i = 0; s && i < s->narcs; i++) {
		const struct vfs_mm_arc *a = &s->arcs[i];
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "side", json_object_new_string(side_name(s, is_src)));
		json_object_object_add(o, "device", json_object_new_string(s->dev));
		json_object_object_add(o, "from", json_object_new_string(vfs_mig_state_name(a->from)));
		json_object_object_add(o, "to", json_object_new_string(vfs_mig_state_name(a->to)));
		json_object_object_add(o, "start_ns", json_object_new_uint64(a->start_ns));
		json_object_object_add(o, "end_ns", json_object_new_uint64(a->end_ns));
		json_object_object_add(o, "dur_ns", json_object_new_uint64(a->end_ns - a->start_ns));
		json_object_object_add(o, "offset_ms", json_object_new_double(
			ms((__s64)(a->start_ns - t0))));
		json_object_object_add(o, "ret", json_object_new_int64(a->ret));
		json_object_object_add(o, "errno", a->ret < 0 ?
			json_object_new_string(errname((int)-a->ret)) : NULL);
		json_object_array_add(arr, o);
	}
}

static struct json_object *migration_json(const struct vfs_mm_migration *g)
{
	struct json_object *o = json_object_new_object(), *devs = json_object_new_array();
	char vm[128];
	size_t i;

	vm_name(g, vm, sizeof(vm));
	json_object_object_add(o, "migration_id", env.migration_id ?
			       json_object_new_string(env.migration_id) : NULL);
	json_object_object_add(o, "host", json_object_new_string(env.host));
	json_object_object_add(o, "vm", json_object_new_string(vm));
	json_object_object_add(o, "pid", json_object_new_int64(g->pid));
	json_object_object_add(o, "comm", json_object_new_string(g->comm));
	json_object_object_add(o, "realtime_offset_ns", env.have_rt ?
			       json_object_new_int64(env.rt_offset) : NULL);
	json_object_object_add(o, "status", json_object_new_string(vfs_mm_status_name(g->status)));
	json_object_object_add(o, "errno", g->err ? json_object_new_string(errname(g->err)) : NULL);
	json_object_object_add(o, "failed_device", g->err_dev ?
			       json_object_new_string(g->err_dev) : NULL);
	add_instant(o, "start", g->t0_ns);
	add_instant(o, "end", g->t1_ns);
	add_instant(o, "stop", g->stop_ns);
	add_instant(o, "running", g->running_ns);
	json_object_object_add(o, "downtime_ns", u64_or_null(g->has_downtime, g->downtime_ns));
	json_object_object_add(o, "stop_copy_ns", u64_or_null(g->has_downtime, g->stop_copy_ns));
	json_object_object_add(o, "transfer_gap_ns", u64_or_null(g->has_downtime, g->transfer_ns));
	json_object_object_add(o, "resume_ns", u64_or_null(g->has_downtime, g->resume_ns));
	json_object_object_add(o, "dominant_device", g->dominant >= 0 ? json_object_new_string(
		g->pairs[g->dominant].src->dev) : NULL);
	for (i = 0; i < g->npairs; i++) {
		const struct vfs_mm_pair *p = &g->pairs[i];
		const struct vfs_mm_session *f = pair_failure(p);
		struct json_object *d = json_object_new_object(), *arcs = json_object_new_array();

		json_object_object_add(d, "source", p->src ? json_object_new_string(p->src->dev) : NULL);
		json_object_object_add(d, "destination", p->dst ?
				       json_object_new_string(p->dst->dev) : NULL);
		json_object_object_add(d, "status", json_object_new_string(pair_status(p)));
		json_object_object_add(d, "errno", f ? json_object_new_string(errname(f->err)) : NULL);
		/* each side's key instants: what joins two hosts' outputs */
		add_instant(d, "source_stop", p->src ? p->src->stop_ns : 0);
		add_instant(d, "source_saved", p->src ? p->src->stop_copy_end_ns : 0);
		add_instant(d, "destination_resuming", p->dst ? p->dst->resuming_ns : 0);
		add_instant(d, "destination_running", p->dst ? p->dst->running_ns : 0);
		json_object_object_add(d, "downtime_ns", u64_or_null(p->has_downtime, p->downtime_ns));
		json_object_object_add(d, "stop_copy_ns", u64_or_null(p->stop_copy_ns, p->stop_copy_ns));
		json_object_object_add(d, "transfer_gap_ns",
				       u64_or_null(p->has_downtime, p->transfer_ns));
		json_object_object_add(d, "resume_ns", u64_or_null(p->resume_ns, p->resume_ns));
		json_object_object_add(d, "share_ns", u64_or_null(p->has_downtime, p->share_ns));
		json_object_object_add(d, "bytes_read", json_object_new_uint64(
			(p->src ? p->src->bytes_read : 0) + (p->dst ? p->dst->bytes_read : 0)));
		json_object_object_add(d, "bytes_written", json_object_new_uint64(
			(p->src ? p->src->bytes_written : 0) + (p->dst ? p->dst->bytes_written : 0)));
		json_object_object_add(d, "data_errors", json_object_new_uint64(
			(p->src ? p->src->data_errors : 0) + (p->dst ? p->dst->data_errors : 0)));
		add_arcs(arcs, p->src, true, g->t0_ns);
		add_arcs(arcs, p->dst, false, g->t0_ns);
		json_object_object_add(d, "arcs", arcs);
		json_object_array_add(devs, d);
	}
	json_object_object_add(o, "devices", devs);
	return o;
}

/* ------------------------------------------------------------- text */

struct arc_ref {
	const struct vfs_mm_session *s;
	const struct vfs_mm_arc *a;
	bool is_src;
};

static int by_start(const void *x, const void *y)
{
	const struct arc_ref *a = x, *b = y;

	if (a->a->start_ns != b->a->start_ns)
		return a->a->start_ns < b->a->start_ns ? -1 : 1;
	return a->a < b->a ? -1 : a->a > b->a;
}

/* both sides' arcs, in time order, offsets from the first arc */
static void print_arcs(const struct vfs_mm_pair *p, __u64 t0)
{
	size_t n = (p->src ? p->src->narcs : 0) + (p->dst ? p->dst->narcs : 0), k = 0, i;
	struct arc_ref *r = calloc(n ? n : 1, sizeof(*r));

	if (!r)
		return;
	for (i = 0; p->src && i < p->src->narcs; i++)
		r[k++] = (struct arc_ref){ p->src, &p->src->arcs[i], true };
	for (i = 0; p->dst && i < p->dst->narcs; i++)
		r[k++] = (struct arc_ref){ p->dst, &p->dst->arcs[i], false };
	qsort(r, n, sizeof(*r), by_start);
	for (i = 0; i < n; i++) {
		const struct vfs_mm_arc *a = r[i].a;

		printf("    %+11.3f ms %9.3f ms  %s %-36s %-12s -> %-12s %s%s\n",
		       ms((__s64)(a->start_ns - t0)), ms((__s64)(a->end_ns - a->start_ns)),
		       side_name(r[i].s, r[i].is_src), r[i].s->dev, vfs_mig_state_name(a->from),
		       vfs_mig_state_name(a->to), a->ret < 0 ? "= -" : "ok",
		       a->ret < 0 ? errname((int)-a->ret) : "");
	}
	free(r);
}

static void print_text(const struct vfs_mm_migration *g)
{
	size_t i;

	printf("migration of pid %u (%s): %s", g->pid, g->comm, vfs_mm_status_name(g->status));
	if (g->status == VFS_MM_FAILED)
		printf(": %s (%s) on %s", errname(g->err), strerror(g->err), g->err_dev);
	if (g->has_downtime)
		printf(", downtime %.3f ms", ms(g->downtime_ns));
	printf(", %zu device%s", g->npairs, g->npairs == 1 ? "" : "s");
	if (g->dominant >= 0 && g->npairs > 1)
		printf(", dominated by %s", g->pairs[g->dominant].src->dev);
	printf("\n");
	if (g->has_downtime)
		printf("  downtime %.3f ms = source stop-copy %.3f + transfer gap %.3f + "
		       "destination resume %.3f\n", ms(g->downtime_ns), ms(g->stop_copy_ns),
		       ms(g->transfer_ns), ms(g->resume_ns));
	for (i = 0; i < g->npairs; i++) {
		const struct vfs_mm_pair *p = &g->pairs[i];

		printf("  %s -> %s: %s", p->src ? p->src->dev : env.one_side ?
		       "(source elsewhere)" : "(no source seen)", p->dst ? p->dst->dev :
		       env.one_side ? "(destination elsewhere)" : "(no destination)", pair_status(p));
		if (p->has_downtime)
			printf(", downtime %.3f ms = source stop-copy %.3f + transfer gap %.3f + "
			       "destination resume %.3f", ms(p->downtime_ns), ms(p->stop_copy_ns),
			       ms(p->transfer_ns), ms(p->resume_ns));
		if (p->has_downtime && g->npairs > 1)
			printf("\n    its own save + load: %.3f ms (%.0f%% of the VM's downtime)",
			       ms(p->share_ns), 100.0 * (double)p->share_ns / (double)g->downtime_ns);
		printf("\n    bytes read %llu, written %llu\n",
		       (unsigned long long)((p->src ? p->src->bytes_read : 0) +
					    (p->dst ? p->dst->bytes_read : 0)),
		       (unsigned long long)((p->src ? p->src->bytes_written : 0) +
					    (p->dst ? p->dst->bytes_written : 0)));
		print_arcs(p, g->t0_ns);
	}
}

/* ------------------------------------------------------ trace events */

static void trace_meta(struct json_object *ev, const char *what, __u32 pid, int tid,
		       const char *name)
{
	struct json_object *o = json_object_new_object(), *args = json_object_new_object();

	json_object_object_add(o, "ph", json_object_new_string("M"));
	json_object_object_add(o, "name", json_object_new_string(what));
	json_object_object_add(o, "pid", json_object_new_int64(pid));
	json_object_object_add(o, "tid", json_object_new_int(tid));
	json_object_object_add(args, "name", json_object_new_string(name));
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
		json_object_object_add(args, "device", json_object_new_string(s->dev));
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
		json_object_object_add(o, "name", json_object_new_string(name));
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

static int write_trace(const char *path)
{
	struct json_object *doc = json_object_new_object(), *ev = json_object_new_array();
	char name[160];
	size_t i, j;
	int tid = 0, err = 0;

	for (i = 0; i < env.ndone; i++) {
		const struct vfs_mm_migration *g = env.done[i];

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

/* -------------------------------------------------------------- SVG */

static void xml_text(FILE *f, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&apos;", f); break;
		default:
			/* control characters are not allowed in XML 1.0 */
			fputc((unsigned char)*s < 0x20 ? '?' : *s, f);
		}
	}
}

#define SVG_W		1100.0
#define SVG_LEFT	330.0
#define SVG_RIGHT	30.0
#define LANE_H		34.0

static const char *state_colour(__u32 st)
{
	switch (st) {
	case VFS_MIG_RUNNING: return "#b7e4b0";
	case VFS_MIG_PRE_COPY: case VFS_MIG_PRE_COPY_P2P: return "#fde3a7";
	case VFS_MIG_STOP_COPY: return "#f9b26b";
	case VFS_MIG_RESUMING: return "#9ecae1";
	case VFS_MIG_RUNNING_P2P: return "#d9f0a3";
	case VFS_MIG_STOP: return "#d0d0d0";
	default: return "#f4a6a6";
	}
}

static const char *arc_colour(const struct vfs_mm_arc *a)
{
	if (a->ret < 0)
		return "#d62728";
	switch (a->to) {
	case VFS_MIG_STOP_COPY: case VFS_MIG_PRE_COPY: case VFS_MIG_PRE_COPY_P2P:
		return "#e6550d";	/* into saving */
	case VFS_MIG_RESUMING:
		return "#3182bd";	/* into resuming */
	case VFS_MIG_RUNNING: case VFS_MIG_RUNNING_P2P:
		return "#31a354";	/* back to running */
	default:
		return "#636363";	/* into STOP */
	}
}

struct scale {
	__u64 t0, t1;
	double px_per_ns;
};

static double sx(const struct scale *sc, __u64 t)
{
	if (t < sc->t0)
		t = sc->t0;
	return SVG_LEFT + (double)(t - sc->t0) * sc->px_per_ns;
}

static void svg_lane(FILE *f, const struct scale *sc, const struct vfs_mm_session *s,
		     bool is_src, double y)
{
	char label[160];
	size_t i;

	snprintf(label, sizeof(label), "%s %s", side_name(s, is_src), s->dev);
	fprintf(f, "<text x=\"8\" y=\"%.1f\" class=\"lane\">", y + LANE_H / 2 + 4);
	xml_text(f, label);
	fprintf(f, "</text>\n");
	fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#eeeeee\"/>\n",
		SVG_LEFT, y + LANE_H, SVG_W - SVG_RIGHT, y + LANE_H);
	/* the state the device sits in between arcs */
	for (i = 0; i < s->narcs; i++) {
		const struct vfs_mm_arc *a = &s->arcs[i];
		__u64 end = i + 1 < s->narcs ? s->arcs[i + 1].start_ns : sc->t1;
		double x0, x1;

		if (a->ret < 0)
			continue;
		x0 = sx(sc, a->end_ns);
		x1 = sx(sc, end);
		if (x1 - x0 < 0.5)
			continue;
		fprintf(f, "<rect x=\"%.2f\" y=\"%.1f\" width=\"%.2f\" height=\"%.1f\" fill=\"%s\">"
			"<title>", x0, y + 9, x1 - x0, LANE_H - 18, state_colour(a->to));
		fprintf(f, "%s for %.3f ms", vfs_mig_state_name(a->to), ms(end - a->end_ns));
		fprintf(f, "</title></rect>\n");
		if (x1 - x0 > 8.0 * strlen(vfs_mig_state_name(a->to)))
			fprintf(f, "<text x=\"%.2f\" y=\"%.1f\" class=\"state\">%s</text>\n",
				(x0 + x1) / 2, y + LANE_H / 2 + 4, vfs_mig_state_name(a->to));
	}
	/* the arcs themselves: at least 2 px so they show */
	for (i = 0; i < s->narcs; i++) {
		const struct vfs_mm_arc *a = &s->arcs[i];
		double x0 = sx(sc, a->start_ns), w = sx(sc, a->end_ns) - x0;

		if (a->end_ns < sc->t0)
			continue;	/* before the view (see "earlier arcs") */
		fprintf(f, "<rect x=\"%.2f\" y=\"%.1f\" width=\"%.2f\" height=\"%.1f\" fill=\"%s\"%s>"
			"<title>%s -&gt; %s: %.3f ms", x0, y + 3, w < 2 ? 2 : w, LANE_H - 6,
			arc_colour(a), a->ret < 0 ? " stroke=\"#000000\"" : "",
			vfs_mig_state_name(a->from), vfs_mig_state_name(a->to),
			ms(a->end_ns - a->start_ns));
		if (a->ret < 0)
			fprintf(f, ", failed: %s", errname((int)-a->ret));
		fprintf(f, "</title></rect>\n");
		/* named in the lane, on the side of the arc with room for it */
		if (a->ret < 0)
			fprintf(f, "<text x=\"%.2f\" y=\"%.1f\" class=\"fail\"%s>%s -&gt; %s "
				"failed: %s</text>\n", x0 > (SVG_LEFT + SVG_W) / 2 ? x0 - 4 :
				x0 + (w < 2 ? 2 : w) + 4, y + LANE_H / 2 + 4,
				x0 > (SVG_LEFT + SVG_W) / 2 ? " text-anchor=\"end\"" : "",
				vfs_mig_state_name(a->from), vfs_mig_state_name(a->to),
				errname((int)-a->ret));
	}
}

static double nice_step(double span_ms)
{
	double raw = span_ms / 8, p = 1e-6, m;

	if (!(raw > 0))
		return 1;
	while (p * 10 <= raw)	/* no libm: the largest power of ten <= raw */
		p *= 10;
	m = raw / p;
	return (m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10) * p;
}

/* the three parts of a downtime, in order, and how they are drawn */
static const struct { const char *name, *colour; } part[3] = {
	{ "source stop-copy", "#ef6548" },
	{ "transfer gap", "#fdd835" },
	{ "destination resume", "#4292c6" },
};

#define BAR_H		22.0

/* rows of the breakdown: the VM's, then each device pair with both ends */
static size_t svg_bars(const struct vfs_mm_migration *g)
{
	size_t i, n = 0;

	if (!g->has_downtime)
		return 0;
	/* one device: its bar would repeat the VM's */
	for (i = 0; i < g->npairs && g->npairs > 1; i++)
		n += g->pairs[i].has_downtime;
	return n + 1;
}

/*
 * One breakdown row: @label left, the parts from @t0 at their times, each
 * named with its length where it fits, its length only where that fits.
 */
static void svg_bar(FILE *f, const struct scale *sc, double y, const char *label, bool bold,
		    __u64 t0, const __u64 len[3])
{
	__u64 t = t0;
	int k;

	fprintf(f, "<text x=\"8\" y=\"%.1f\" class=\"bar\"%s>", y + BAR_H / 2 + 4,
		bold ? " font-weight=\"bold\"" : "");
	xml_text(f, label);
	fprintf(f, "</text>\n");
	for (k = 0; k < 3; k++) {
		double x0 = sx(sc, t), x1 = sx(sc, t + len[k]), w = x1 - x0;
		char txt[64];

		fprintf(f, "<rect x=\"%.2f\" y=\"%.1f\" width=\"%.2f\" height=\"%.1f\" fill=\"%s\" "
			"stroke=\"#ffffff\" stroke-width=\"0.5\"><title>%s: %.3f ms</title></rect>\n",
			x0, y + 2, w, BAR_H - 4, part[k].colour, part[k].name, ms(len[k]));
		snprintf(txt, sizeof(txt), "%s %.1f ms", part[k].name, ms(len[k]));
		/* about 6 px per character at 10 px */
		if (w < 6.0 * strlen(txt) + 6)
			snprintf(txt, sizeof(txt), "%.1f", ms(len[k]));
		if (w >= 6.0 * strlen(txt) + 6)
			fprintf(f, "<text x=\"%.2f\" y=\"%.1f\" class=\"state\">%s</text>\n",
				(x0 + x1) / 2, y + BAR_H / 2 + 4, txt);
		t += len[k];
	}
}

static double svg_breakdown(FILE *f, const struct scale *sc, const struct vfs_mm_migration *g,
			    double y)
{
	__u64 len[3] = { g->stop_copy_ns, g->transfer_ns, g->resume_ns };
	char label[200];
	size_t i;

	if (!g->has_downtime)
		return y;
	snprintf(label, sizeof(label), "VM downtime %.3f ms", ms(g->downtime_ns));
	svg_bar(f, sc, y, label, true, g->stop_ns, len);
	y += BAR_H;
	for (i = 0; i < g->npairs && g->npairs > 1; i++) {
		const struct vfs_mm_pair *p = &g->pairs[i];

		if (!p->has_downtime)
			continue;
		len[0] = p->stop_copy_ns;
		len[1] = p->transfer_ns;
		len[2] = p->resume_ns;
		snprintf(label, sizeof(label), "%s %.3f ms%s", p->src->dev, ms(p->downtime_ns),
			 (int)i == g->dominant && g->npairs > 1 ? " dominant" : "");
		svg_bar(f, sc, y, label, (int)i == g->dominant && g->npairs > 1,
			p->src->stop_ns, len);
		y += BAR_H;
	}
	return y;
}

static double svg_migration(FILE *f, const struct vfs_mm_migration *g, double y)
{
	struct scale sc = { .t0 = g->t0_ns, .t1 = g->t1_ns };
	double span, step, t, lanes_y, h, zero;
	char title[256];
	__u64 margin;
	size_t i, nl = 0;

	for (i = 0; i < g->npairs; i++)
		nl += !!g->pairs[i].src + !!g->pairs[i].dst;
	/*
	 * With a downtime, the view is the blackout with a margin either side
	 * (a destination may have waited stopped for long before it: that
	 * wait is cut at the left edge) and time 0 is the first stop.
	 */
	if (g->has_downtime) {
		margin = g->downtime_ns / 12 + 1;
		if (g->stop_ns - margin > sc.t0)
			sc.t0 = g->stop_ns - margin;
		if (g->running_ns + margin > sc.t1)
			sc.t1 = g->running_ns + margin;
	}
	span = (double)(sc.t1 - sc.t0);
	if (span <= 0)
		span = 1e6;
	/* a little room after the last arc */
	sc.t1 = sc.t0 + (__u64)(span * 1.03);
	sc.px_per_ns = (SVG_W - SVG_LEFT - SVG_RIGHT) / (double)(sc.t1 - sc.t0);
	zero = g->has_downtime ? ms((__s64)(g->stop_ns - sc.t0)) : 0;

	snprintf(title, sizeof(title), "pid %u (%s): %s", g->pid, g->comm,
		 vfs_mm_status_name(g->status));
	fprintf(f, "<text x=\"8\" y=\"%.1f\" class=\"title\">", y + 18);
	xml_text(f, title);
	if (g->status == VFS_MM_FAILED) {
		fprintf(f, " (%s on ", errname(g->err));
		xml_text(f, g->err_dev);
		fprintf(f, ")");
	}
	if (g->has_downtime)
		fprintf(f, ", downtime %.3f ms", ms(g->downtime_ns));
	if (g->dominant >= 0 && g->npairs > 1) {
		fprintf(f, ", dominated by ");
		xml_text(f, g->pairs[g->dominant].src->dev);
	}
	fprintf(f, "</text>\n");
	lanes_y = y + 30;
	h = nl * LANE_H;

	/* the downtime window, under everything */
	if (g->stop_ns) {
		__u64 end = g->has_downtime ? g->running_ns : sc.t1;
		double x0 = sx(&sc, g->stop_ns), x1 = sx(&sc, end);

		fprintf(f, "<rect x=\"%.2f\" y=\"%.1f\" width=\"%.2f\" height=\"%.1f\" "
			"fill=\"#ff0000\" fill-opacity=\"0.08\" stroke=\"#cc0000\" "
			"stroke-dasharray=\"4 3\"/>\n", x0, lanes_y - 2, x1 - x0, h + 4);
		if (!g->has_downtime)
			fprintf(f, "<text x=\"%.2f\" y=\"%.1f\" class=\"down\">stopped, not resumed: "
				"%.3f ms</text>\n", (x0 + x1) / 2, lanes_y + h + 14,
				ms(end - g->stop_ns));
	}
	y = lanes_y;
	for (i = 0; i < g->npairs; i++) {
		if (g->pairs[i].src) {
			svg_lane(f, &sc, g->pairs[i].src, true, y);
			y += LANE_H;
		}
		if (g->pairs[i].dst) {
			svg_lane(f, &sc, g->pairs[i].dst, false, y);
			y += LANE_H;
		}
	}
	/* the downtime, split: the VM's and each device's */
	y = svg_breakdown(f, &sc, g, y + 6);
	/* time axis in ms from the first stop (or the first arc) */
	y += 14;
	fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#000000\"/>\n",
		SVG_LEFT, y, SVG_W - SVG_RIGHT, y);
	step = nice_step(ms(sc.t1 - sc.t0));
	/* ticks at multiples of step relative to zero, inside the view */
	for (t = -step * (double)(long)(zero / step); t <= ms(sc.t1 - sc.t0) - zero + 1e-9;
	     t += step) {
		double x = SVG_LEFT + (t + zero) * 1e6 * sc.px_per_ns;

		fprintf(f, "<line x1=\"%.2f\" y1=\"%.1f\" x2=\"%.2f\" y2=\"%.1f\" stroke=\"#000000\"/>"
			"<text x=\"%.2f\" y=\"%.1f\" class=\"tick\">%g</text>\n",
			x, y, x, y + 5, x, y + 17, t > -1e-9 && t < 1e-9 ? 0.0 : t);
	}
	/* arcs before the view: the destinations' wait, cut */
	if (sc.t0 > g->t0_ns)
		fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" class=\"axis\">the first arc was "
			"%.1f ms before the view</text>\n", SVG_W - SVG_RIGHT, y + 31,
			ms(sc.t0 - g->t0_ns));
	fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" class=\"axis\">%s</text>\n", SVG_LEFT - 8, y + 17,
		g->has_downtime ? "ms from the first stop" : "ms from the first arc");
	return y + 40;
}

static int write_svg(const char *path)
{
	static const struct { const char *colour, *what; } legend[] = {
		{ "#e6550d", "arc into a saving state" }, { "#3182bd", "arc into RESUMING" },
		{ "#31a354", "arc into RUNNING(_P2P)" }, { "#636363", "arc into STOP" },
		{ "#d62728", "failed arc" },
	};
	static const __u32 states[] = {
		VFS_MIG_RUNNING, VFS_MIG_RUNNING_P2P, VFS_MIG_PRE_COPY, VFS_MIG_STOP_COPY,
		VFS_MIG_STOP, VFS_MIG_RESUMING,
	};
	double h = 40 + 3 * 20, y, x;
	size_t i, j;
	FILE *f;

	for (i = 0; i < env.ndone; i++) {
		h += 30 + 20 + 40 + BAR_H * svg_bars(env.done[i]);
		for (j = 0; j < env.done[i]->npairs; j++)
			h += LANE_H * (!!env.done[i]->pairs[j].src + !!env.done[i]->pairs[j].dst);
	}
	f = fopen(path, "w");
	if (!f) {
		fprintf(stderr, "vfiomig: cannot write the SVG file %s: %s\n", path, strerror(errno));
		return -1;
	}
	fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
		"viewBox=\"0 0 %.0f %.0f\" font-family=\"sans-serif\">\n"
		"<style>.title{font-size:15px;font-weight:bold}.lane{font-size:12px}"
		".state{font-size:10px;text-anchor:middle}.tick{font-size:10px;text-anchor:middle}"
		".axis{font-size:10px;text-anchor:end}.bar{font-size:11px}"
		".down{font-size:12px;fill:#cc0000;text-anchor:middle}"
		".fail{font-size:11px;fill:#d62728}.legend{font-size:11px}</style>\n"
		"<rect width=\"100%%\" height=\"100%%\" fill=\"#ffffff\"/>\n",
		SVG_W, h, SVG_W, h);
	y = 10;
	for (i = 0; i < env.ndone; i++)
		y = svg_migration(f, env.done[i], y);
	if (!env.ndone)
		fprintf(f, "<text x=\"8\" y=\"24\" class=\"title\">no migration seen</text>\n");
	/* legend: arcs; states between arcs; the downtime's parts */
	for (i = 0; i < sizeof(legend) / sizeof(legend[0]); i++) {
		x = 8 + i * 215.0;
		fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"12\" height=\"12\" fill=\"%s\"/>"
			"<text x=\"%.1f\" y=\"%.1f\" class=\"legend\">%s</text>\n",
			x, y, legend[i].colour, x + 16, y + 10, legend[i].what);
	}
	y += 20;
	for (i = 0; i < sizeof(states) / sizeof(states[0]); i++) {
		x = 8 + i * 178.0;
		fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"12\" height=\"12\" fill=\"%s\"/>"
			"<text x=\"%.1f\" y=\"%.1f\" class=\"legend\">in %s</text>\n",
			x, y, state_colour(states[i]), x + 16, y + 10, vfs_mig_state_name(states[i]));
	}
	y += 20;
	for (i = 0; i < 3; i++) {
		x = 8 + i * 215.0;
		fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"12\" height=\"12\" fill=\"%s\"/>"
			"<text x=\"%.1f\" y=\"%.1f\" class=\"legend\">downtime: %s</text>\n",
			x, y, part[i].colour, x + 16, y + 10, part[i].name);
	}
	fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" class=\"legend\">(the dashed box: the VM's "
		"downtime)</text>\n", 8 + 3 * 215.0, y + 10);
	fprintf(f, "</svg>\n");
	if (fclose(f)) {
		fprintf(stderr, "vfiomig: writing %s: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------ driver */

static void emit(const struct vfs_mm_migration *g)
{
	if (env.pid && g->pid != env.pid)
		return;
	if (env.json) {
		struct json_object *o = migration_json(g);

		puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
		json_object_put(o);
	} else {
		print_text(g);
	}
	fflush(stdout);
	if (env.ndone == env.done_cap) {
		size_t cap = env.done_cap ? env.done_cap * 2 : 8;
		const struct vfs_mm_migration **p = realloc(env.done, cap * sizeof(*p));

		if (!p) {
			fprintf(stderr, "vfiomig: out of memory\n");
			exit(1);
		}
		env.done = p;
		env.done_cap = cap;
	}
	env.done[env.ndone++] = g;
	/* rewritten whole each time: the files are always complete documents */
	if (env.trace_out && write_trace(env.trace_out))
		env.failed_io = 1;
	if (env.svg && write_svg(env.svg))
		env.failed_io = 1;
}

static void drain(bool flush)
{
	const struct vfs_mm_migration *g;

	while ((g = vfs_migmodel_next(env.m, flush)))
		emit(g);
}

static int replay(const char *path)
{
	struct vfs_mm_event *evs;
	size_t n, i;
	char err[320];
	FILE *f;
	int rc = 0;

	f = strcmp(path, "-") ? fopen(path, "r") : stdin;
	if (!f) {
		fprintf(stderr, "vfiomig: cannot open the replay file %s: %s\n", path, strerror(errno));
		return 1;
	}
	if (vfs_mm_read_replay(f, path, &evs, &n, err, sizeof(err))) {
		fprintf(stderr, "vfiomig: %s\n", err);
		rc = 1;
		goto out;
	}
	/* (vfs_mm_read_replay returns the events in time order) */
	for (i = 0; i < n && !env.have_rt; i++) {
		env.have_rt = evs[i].has_realtime;
		env.rt_offset = evs[i].realtime_offset_ns;
	}
	for (i = 0; i < n; i++) {
		if (vfs_migmodel_feed(env.m, &evs[i])) {
			fprintf(stderr, "vfiomig: out of memory\n");
			rc = 1;
			goto out;
		}
		drain(false);
	}
	drain(true);
	if (!env.ndone)
		fprintf(stderr, "vfiomig: no migration in %s (%zu migration events)\n", path, n);
out:
	free(evs);
	if (f != stdin)
		fclose(f);
	return rc;
}

static int on_event(void *user, const struct vfs_event_hdr *ev, size_t size)
{
	struct vfs_mm_event e;

	if (vfs_mm_event_from_raw(ev, size, &e) != 1)
		return 0;
	if (vfs_migmodel_feed(env.m, &e)) {
		fprintf(stderr, "vfiomig: out of memory\n");
		exiting = 1;
		return 0;
	}
	/* read now: a clock step (NTP) between migrations is taken into account */
	env.rt_offset = vfs_realtime_offset_ns();
	env.have_rt = true;
	drain(false);
	return 0;
}

static int live(const struct vfs_collector_opts *o, __u64 secs)
{
	struct vfs_collector *c;
	char msg[256] = "";
	__u64 drops[VFS_DROP_MAX] = { 0 };
	time_t until = secs ? time(NULL) + (time_t)secs : 0;
	int err;

	err = vfs_collector_open(&c, o, msg, sizeof(msg));
	if (err) {
		fprintf(stderr, "vfiomig: %s\n", msg);
		return 1;
	}
	if (vfs_collector_tier(c, VFS_CLASS_MIG_ARC)->tier == VFS_TIER_NONE) {
		fprintf(stderr, "vfiomig: migration arcs cannot be observed on this kernel: %s\n",
			vfs_collector_tier(c, VFS_CLASS_MIG_ARC)->reason);
		vfs_collector_close(c);
		return 1;
	}
	vfs_collector_stream(c, VFS_STREAM(VFS_EV_MIG_ARC) | VFS_STREAM(VFS_EV_MIG_DATA));
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	fprintf(stderr, "vfiomig: attached, waiting for migrations\n");
	while (!exiting && (!until || time(NULL) < until)) {
		err = vfs_collector_poll(c, 100, on_event, NULL);
		if (err < 0 && err != -EINTR) {
			fprintf(stderr, "vfiomig: reading events: %s\n", strerror(-err));
			break;
		}
	}
	vfs_collector_poll(c, 0, on_event, NULL);
	drain(true);
	if (!vfs_collector_drops(c, drops) && drops[VFS_DROP_RINGBUF])
		fprintf(stderr, "vfiomig: %llu events were lost (ring buffer full): timelines "
			"may be incomplete\n", (unsigned long long)drops[VFS_DROP_RINGBUF]);
	vfs_collector_close(c);
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: vfiomig [-j] [-p PID] [-d SECONDS] [--replay FILE] [--trace-out FILE]\n"
		"               [--svg FILE] [--migration-id ID] [--one-side] [--tier CLASS=TIER] [-v]\n"
		"Where the downtime of each VFIO live migration went, per device and arc.\n\n"
		"  --replay FILE     read events written by `vfiosnoop -j -c migration`\n"
		"                    (\"-\": standard input) instead of tracing live\n"
		"  -j                one JSON document per migration\n"
		"  -p PID            only migrations of this process (VM)\n"
		"  -d SECONDS        live: stop after SECONDS\n"
		"  --trace-out FILE  Chrome trace-event JSON (open in ui.perfetto.dev)\n"
		"  --svg FILE        SVG timeline\n"
		"  --migration-id ID label every migration with ID (join two hosts' outputs)\n"
		"  --one-side        this host holds one side only: report sources and\n"
		"                    destinations alone, unpaired (see docs/migration.md)\n\n"
		"examples:\n"
		"  vfiomig                                  # summaries as migrations complete\n"
		"  vfiosnoop -j -c migration > rec.json; vfiomig --replay rec.json --svg mig.svg\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "replay", required_argument, NULL, 'r' },
		{ "trace-out", required_argument, NULL, 't' },
		{ "svg", required_argument, NULL, 's' },
		{ "migration-id", required_argument, NULL, 'i' },
		{ "one-side", no_argument, NULL, '1' },
		{ "tier", required_argument, NULL, 'T' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct vfs_collector_opts o = { 0 };
	char msg[256] = "";
	__u64 v, secs = 0;
	int opt, rc;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":jp:d:vh", opts, NULL)) != -1) {
		switch (opt) {
		case 'j':
			env.json = true;
			break;
		case 'p':
			if (vfs_parse_u64("-p", optarg, 1, 4194304, 0, &v, msg, sizeof(msg)))
				goto bad;
			env.pid = v;
			break;
		case 'd':
			if (vfs_parse_u64("-d", optarg, 1, 86400, 0, &secs, msg, sizeof(msg)))
				goto bad;
			break;
		case 'r':
			env.replay = optarg;
			break;
		case 't':
			env.trace_out = optarg;
			break;
		case 's':
			env.svg = optarg;
			break;
		case 'i':
			if (!*optarg || strlen(optarg) > 128) {
				snprintf(msg, sizeof(msg), "--migration-id: give 1 to 128 characters");
				goto bad;
			}
			env.migration_id = optarg;
			break;
		case '1':
			env.one_side = true;
			break;
		case 'T':
			if (vfs_parse_tier_force(optarg, o.force, msg, sizeof(msg)))
				goto bad;
			break;
		case 'v':
			o.verbose = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			vfs_cli_bad_option(opt, argv, msg, sizeof(msg));
			goto bad;
		}
	}
	if (optind != argc) {
		snprintf(msg, sizeof(msg), "unexpected argument '%s': vfiomig takes options only "
			 "(a recording is read with --replay FILE)", argv[optind]);
		goto bad;
	}
	if (env.replay && secs) {
		snprintf(msg, sizeof(msg), "-d limits live tracing; it has no meaning with --replay");
		goto bad;
	}
	if (env.trace_out && env.svg && !strcmp(env.trace_out, env.svg)) {
		snprintf(msg, sizeof(msg), "--trace-out and --svg name the same file '%s'", env.svg);
		goto bad;
	}
	env.m = vfs_migmodel_new();
	if (!env.m) {
		fprintf(stderr, "vfiomig: out of memory\n");
		return 1;
	}
	vfs_migmodel_set_local_pairing(env.m, !env.one_side);
	if (gethostname(env.host, sizeof(env.host) - 1))
		snprintf(env.host, sizeof(env.host), "?");
	rc = env.replay ? replay(env.replay) : live(&o, secs);
	/* files exist (valid, maybe empty) even when no migration was seen */
	if (!rc && !env.ndone) {
		if (env.trace_out && write_trace(env.trace_out))
			env.failed_io = 1;
		if (env.svg && write_svg(env.svg))
			env.failed_io = 1;
	}
	if (vfs_migmodel_unattributed(env.m))
		fprintf(stderr, "vfiomig: %llu migration data events belonged to no session "
			"(their device had no migration arc open)\n",
			(unsigned long long)vfs_migmodel_unattributed(env.m));
	vfs_migmodel_free(env.m);
	free(env.done);
	return rc ? rc : env.failed_io;
bad:
	fprintf(stderr, "vfiomig: %s\n", msg);
	return 2;
}
