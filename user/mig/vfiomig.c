// SPDX-License-Identifier: GPL-2.0
/*
 * vfiomig: where the blackout time of a VFIO live migration went, from the
 * kernel's side. Per completed migration: each device's FSM arcs with their
 * kernel time and errno, the bytes moved, and the downtime (source leaves
 * RUNNING/PRE_COPY -> destination RUNNING) split into source stop-copy,
 * transfer gap and destination resume. Live (the collectors) or from a file
 * written by `vfiosnoop -j -c migration,vm` (--replay). Exports a Chrome
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
#include "safetext.h"
#include "vfiomig.h"

static volatile sig_atomic_t exiting;

static struct env {
	bool json;
	__u32 pid;
	const char *replay;
	struct vfs_collector *c;	/* live: names VMs from its vm_info */
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
	bool any_failed;	/* a reported migration failed: exit 3 */
	bool pretty;		/* --pretty: indented JSON (implies -j) */
} env;

static void on_signal(int sig)
{
	exiting = 1;
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

/* the state a side's device was last asked into (its last arc's), or NULL */
static const char *last_state(const struct vfs_mm_session *s)
{
	return s && s->narcs ? vfs_mig_state_name(s->arcs[s->narcs - 1].to) : NULL;
}

/* why it failed: the errno of the arc, or "exited" (its process did) */
static const char *failure_name(bool exited, int err)
{
	return exited ? "exited" : errname(err);
}

/* ------------------------------------------------------------- JSON */

static struct json_object *u64_or_null(bool have, __u64 v)
{
	return have ? json_object_new_uint64(v) : NULL;
}

/* a source's PRE_COPY convergence, from the VMM's GET_PRECOPY_INFO queries */
static struct json_object *precopy_json(const struct vfs_mm_session *s)
{
	struct json_object *o;

	if (!s || !(s->precopy_queries + s->precopy_errors))
		return NULL;
	o = json_object_new_object();
	json_object_object_add(o, "queries", json_object_new_uint64(s->precopy_queries));
	json_object_object_add(o, "errors", json_object_new_uint64(s->precopy_errors));
	json_object_object_add(o, "initial_bytes_first",
			       json_object_new_uint64(s->precopy_initial_first));
	json_object_object_add(o, "initial_bytes_last",
			       json_object_new_uint64(s->precopy_initial_last));
	json_object_object_add(o, "dirty_bytes_last", json_object_new_uint64(s->precopy_dirty_last));
	json_object_object_add(o, "dirty_bytes_max", json_object_new_uint64(s->precopy_dirty_max));
	json_object_object_add(o, "span_ns", json_object_new_uint64(s->precopy_last_ns -
								   s->precopy_first_ns));
	return o;
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

/*
 * A VM's name: QEMU's -name or libvirt's domain, from /proc while the
 * process lives, else from what vm_info captured when it was first seen
 */
static void vm_name(__u32 pid, const char *comm, char *out, size_t len)
{
	if (env.replay)
		snprintf(out, len, "%s", comm);
	else if (!env.c || vfs_collector_vm_name(env.c, pid, out, len) < 0)
		vfs_vm_name((pid_t)pid, comm, out, len);
}

/*
 * A name from a VMM, the kernel or a replay file as text for the terminal:
 * escape sequences and invalid UTF-8 escaped ("\x1b", safetext.h). A ring
 * of buffers: one per argument of a printf.
 */
static const char *tx(const char *s)
{
	static char ring[6][4 * (VFS_NAME_LEN + 1) + 1];
	static unsigned int next;
	char *b = ring[next++ % 6];

	vfs_safe_text(b, sizeof(ring[0]), s ? s : "", (size_t)-1, VFS_SAFE_ESCAPE);
	return b;
}


static void add_arcs(struct json_object *arr, const struct vfs_mm_session *s, bool is_src,
		     __u64 t0)
{
	size_t i;

	for (i = 0; s && i < s->narcs; i++) {
		const struct vfs_mm_arc *a = &s->arcs[i];
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "side", json_object_new_string(side_name(s, is_src)));
		json_object_object_add(o, "device", JS(s->dev));
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
	char vm[128], dst_vm[128];
	size_t i;

	vm_name(g->pid, g->comm, vm, sizeof(vm));
	json_object_object_add(o, "migration_id", env.migration_id ?
			       JS(env.migration_id) : NULL);
	json_object_object_add(o, "host", JS(env.host));
	json_object_object_add(o, "vm", JS(vm));
	json_object_object_add(o, "pid", json_object_new_int64(g->pid));
	json_object_object_add(o, "comm", JS(g->comm));
	/* the incoming side: the same process, or another one on this host */
	if (g->dst_pid)
		vm_name(g->dst_pid, g->dst_comm, dst_vm, sizeof(dst_vm));
	json_object_object_add(o, "destination_vm", g->dst_pid ? JS(dst_vm) : NULL);
	json_object_object_add(o, "destination_pid", g->dst_pid ?
			       json_object_new_int64(g->dst_pid) : NULL);
	json_object_object_add(o, "destination_comm", g->dst_pid ? JS(g->dst_comm) : NULL);
	json_object_object_add(o, "realtime_offset_ns", env.have_rt ?
			       json_object_new_int64(env.rt_offset) : NULL);
	json_object_object_add(o, "status", json_object_new_string(vfs_mm_status_name(g->status)));
	json_object_object_add(o, "errno", g->err ? json_object_new_string(errname(g->err)) : NULL);
	json_object_object_add(o, "failed_device", g->err_dev ?
			       JS(g->err_dev) : NULL);
	/* which side failed, how, and in (or after) which arc */
	json_object_object_add(o, "failed_side", g->status == VFS_MM_FAILED ?
			       json_object_new_string(g->err_side == VFS_MM_DEST ? "dst" : "src") :
			       NULL);
	json_object_object_add(o, "failure", g->status == VFS_MM_FAILED ?
			       json_object_new_string(failure_name(g->err_exited, g->err)) : NULL);
	if (g->status == VFS_MM_FAILED && g->err_arc) {
		struct json_object *a = json_object_new_object();

		json_object_object_add(a, "from", json_object_new_string(
			vfs_mig_state_name(g->err_arc->from)));
		json_object_object_add(a, "to", json_object_new_string(
			vfs_mig_state_name(g->err_arc->to)));
		json_object_object_add(o, "failed_arc", a);
	} else {
		json_object_object_add(o, "failed_arc", NULL);
	}
	add_instant(o, "start", g->t0_ns);
	add_instant(o, "end", g->t1_ns);
	add_instant(o, "stop", g->stop_ns);
	add_instant(o, "running", g->running_ns);
	json_object_object_add(o, "downtime_ns", u64_or_null(g->has_downtime, g->downtime_ns));
	json_object_object_add(o, "stop_copy_ns", u64_or_null(g->has_downtime, g->stop_copy_ns));
	json_object_object_add(o, "transfer_gap_ns", u64_or_null(g->has_downtime, g->transfer_ns));
	json_object_object_add(o, "resume_ns", u64_or_null(g->has_downtime, g->resume_ns));
	json_object_object_add(o, "dominant_device", g->dominant >= 0 ? JS(
		g->pairs[g->dominant].src->dev) : NULL);
	for (i = 0; i < g->npairs; i++) {
		const struct vfs_mm_pair *p = &g->pairs[i];
		const struct vfs_mm_session *f = pair_failure(p);
		struct json_object *d = json_object_new_object(), *arcs = json_object_new_array();

		json_object_object_add(d, "source", p->src ? JS(p->src->dev) : NULL);
		json_object_object_add(d, "destination", p->dst ?
				       JS(p->dst->dev) : NULL);
		json_object_object_add(d, "status", json_object_new_string(pair_status(p)));
		json_object_object_add(d, "errno", f && !f->exited ?
				       json_object_new_string(errname(f->err)) : NULL);
		json_object_object_add(d, "failure", f ? json_object_new_string(
			failure_name(f->exited, f->err)) : NULL);
		/* where each side's device was left: a failed source's VMM brings it back */
		json_object_object_add(d, "source_state", last_state(p->src) ?
				       json_object_new_string(last_state(p->src)) : NULL);
		json_object_object_add(d, "destination_state", last_state(p->dst) ?
				       json_object_new_string(last_state(p->dst)) : NULL);
		/* each side's key instants: what joins two hosts' outputs */
		add_instant(d, "source_stop", p->src ? p->src->stop_ns : 0);
		add_instant(d, "source_saved", p->src ? p->src->stop_copy_end_ns : 0);
		add_instant(d, "destination_resuming", p->dst ? p->dst->resuming_ns : 0);
		/* where the transfer gap ends: destination_resuming unless it waited */
		add_instant(d, "destination_loading", p->has_downtime ? p->load_ns : 0);
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
		/* reads answered ENOMSG in PRE_COPY: the VMM polling, not errors */
		json_object_object_add(d, "data_polls", json_object_new_uint64(
			(p->src ? p->src->data_polls : 0) + (p->dst ? p->dst->data_polls : 0)));
		/* of those bytes: moved before the collector attached to the driver */
		json_object_object_add(d, "bytes_unseen", json_object_new_uint64(
			(p->src ? p->src->bytes_unseen : 0) + (p->dst ? p->dst->bytes_unseen : 0)));
		json_object_object_add(d, "precopy", precopy_json(p->src));
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
		       side_name(r[i].s, r[i].is_src), tx(r[i].s->dev), vfs_mig_state_name(a->from),
		       vfs_mig_state_name(a->to), a->ret < 0 ? "= -" : "ok",
		       a->ret < 0 ? errname((int)-a->ret) : "");
	}
	free(r);
}

static void print_text(const struct vfs_mm_migration *g)
{
	size_t i;

	printf("migration of pid %u (%s)", g->pid, tx(g->comm));
	if (g->dst_pid && g->dst_pid != g->pid)
		printf(" to pid %u (%s)", g->dst_pid, tx(g->dst_comm));
	printf(": %s", vfs_mm_status_name(g->status));
	if (g->status == VFS_MM_FAILED && g->err_exited)
		printf(": the %s's process exited", g->err_side == VFS_MM_DEST ?
		       "destination" : "source");
	else if (g->status == VFS_MM_FAILED)
		printf(": %s (%s)", errname(g->err), strerror(g->err));
	if (g->status == VFS_MM_FAILED) {
		printf(" on %s %s", g->err_side == VFS_MM_DEST ? "dst" : "src", tx(g->err_dev));
		if (g->err_arc)
			printf(" %s %s -> %s", g->err_exited ? "after" : "in",
			       vfs_mig_state_name(g->err_arc->from),
			       vfs_mig_state_name(g->err_arc->to));
	}
	if (g->has_downtime)
		printf(", downtime %.3f ms", ms(g->downtime_ns));
	printf(", %zu device%s", g->npairs, g->npairs == 1 ? "" : "s");
	if (g->dominant >= 0 && g->npairs > 1)
		printf(", dominated by %s", tx(g->pairs[g->dominant].src->dev));
	printf("\n");
	if (g->has_downtime)
		printf("  downtime %.3f ms = source stop-copy %.3f + transfer gap %.3f + "
		       "destination resume %.3f\n", ms(g->downtime_ns), ms(g->stop_copy_ns),
		       ms(g->transfer_ns), ms(g->resume_ns));
	for (i = 0; i < g->npairs; i++) {
		const struct vfs_mm_pair *p = &g->pairs[i];
		__u64 errors = (p->src ? p->src->data_errors : 0) + (p->dst ? p->dst->data_errors : 0);
		__u64 polls = (p->src ? p->src->data_polls : 0) + (p->dst ? p->dst->data_polls : 0);
		__u64 unseen = (p->src ? p->src->bytes_unseen : 0) +
			       (p->dst ? p->dst->bytes_unseen : 0);

		printf("  %s -> %s: %s", p->src ? tx(p->src->dev) : env.one_side ?
		       "(source elsewhere)" : "(no source seen)", p->dst ? tx(p->dst->dev) :
		       env.one_side ? "(destination elsewhere)" : "(no destination)", pair_status(p));
		if (pair_failure(p) && p->src && p->src->status != VFS_MM_FAILED)
			printf(", source device left in %s", last_state(p->src));
		if (p->has_downtime)
			printf(", downtime %.3f ms = source stop-copy %.3f + transfer gap %.3f + "
			       "destination resume %.3f", ms(p->downtime_ns), ms(p->stop_copy_ns),
			       ms(p->transfer_ns), ms(p->resume_ns));
		if (p->has_downtime && g->npairs > 1)
			printf("\n    its own save + load: %.3f ms (%.0f%% of the VM's downtime)",
			       ms(p->share_ns), 100.0 * (double)p->share_ns / (double)g->downtime_ns);
		printf("\n    bytes read %llu, written %llu",
		       (unsigned long long)((p->src ? p->src->bytes_read : 0) +
					    (p->dst ? p->dst->bytes_read : 0)),
		       (unsigned long long)((p->src ? p->src->bytes_written : 0) +
					    (p->dst ? p->dst->bytes_written : 0)));
		if (errors)
			printf(", %llu data error%s", (unsigned long long)errors,
			       errors == 1 ? "" : "s");
		if (polls)
			printf(", %llu poll%s with no data yet (PRE_COPY)", (unsigned long long)polls,
			       polls == 1 ? "" : "s");
		if (unseen)
			printf(" (%llu moved before the collector attached to the driver)",
			       (unsigned long long)unseen);
		printf("\n");
		if (p->src && p->src->precopy_queries)
			printf("    pre-copy: %llu queries over %.3f ms, initial bytes %llu -> %llu, "
			       "dirty %llu (most %llu)\n",
			       (unsigned long long)p->src->precopy_queries,
			       ms(p->src->precopy_last_ns - p->src->precopy_first_ns),
			       (unsigned long long)p->src->precopy_initial_first,
			       (unsigned long long)p->src->precopy_initial_last,
			       (unsigned long long)p->src->precopy_dirty_last,
			       (unsigned long long)p->src->precopy_dirty_max);
		print_arcs(p, g->t0_ns);
	}
}

/* ------------------------------------------------------------ driver */

static void emit(const struct vfs_mm_migration *g)
{
	if (env.pid && g->pid != env.pid && g->dst_pid != env.pid)
		return;
	if (env.json) {
		struct json_object *o = migration_json(g);

		puts(json_object_to_json_string_ext(o, env.pretty ?
			JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED : JSON_C_TO_STRING_PLAIN));
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
	if (g->status == VFS_MM_FAILED)
		env.any_failed = true;
	/* rewritten whole each time: the files are always complete documents */
	if (env.trace_out && vfiomig_write_trace(env.trace_out, env.done, env.ndone))
		env.failed_io = 1;
	if (env.svg && vfiomig_write_svg(env.svg, env.done, env.ndone))
		env.failed_io = 1;
}

static void drain(bool flush)
{
	const struct vfs_mm_migration *g;

	while ((g = vfs_migmodel_next(env.m, flush)))
		emit(g);
}

/* a reason the recording gave for lost events, once each, into @buf */
static void add_reason(char *buf, size_t len, const char *why)
{
	size_t used = strlen(buf), w = strlen(why);
	const char *p;

	for (p = strstr(buf, why); p; p = strstr(p + 1, why))
		if ((p == buf || p[-1] == ' ') && (p[w] == 0 || p[w] == ','))
			return;
	snprintf(buf + used, len - used, "%s%s", used ? ", " : "", why[0] ? why : "?");
}

static int replay(const char *path)
{
	struct vfs_mm_event *evs;
	size_t n, i;
	char err[320], why[128] = "";
	__u64 lost = 0, nlost = 0;
	FILE *f;
	int rc = 0;

	f = strcmp(path, "-") ? fopen(path, "r") : stdin;
	if (!f) {
		fprintf(stderr, "vfiomig: cannot open the replay file %s: %s\n", path, strerror(errno));
		return 1;
	}
	if (vfs_mm_read_replay(f, path, &evs, &n, err, sizeof(err))) {
		/* the reason may quote the file */
		char safe[4 * sizeof(err)];

		vfs_safe_text(safe, sizeof(safe), err, sizeof(err), VFS_SAFE_ESCAPE);
		fprintf(stderr, "vfiomig: %s\n", safe);
		rc = 1;
		goto out;
	}
	/* (vfs_mm_read_replay returns the events in time order) */
	for (i = 0; i < n && !env.have_rt; i++) {
		env.have_rt = evs[i].has_realtime;
		env.rt_offset = evs[i].realtime_offset_ns;
	}
	/* losses are recorded when noticed, after what they cut: known first */
	for (i = 0; i < n; i++)
		if (evs[i].kind == VFS_MM_LOST)
			vfs_migmodel_set_lossy(env.m, true);
	for (i = 0; i < n; i++) {
		if (evs[i].kind == VFS_MM_LOST) {
			lost += evs[i].bytes;
			nlost++;
			add_reason(why, sizeof(why), evs[i].why);
			continue;
		}
		if (vfs_migmodel_feed(env.m, &evs[i])) {
			fprintf(stderr, "vfiomig: out of memory\n");
			rc = 1;
			goto out;
		}
		drain(false);
	}
	drain(true);
	if (lost) {
		/* the reasons come from the file */
		char safe[4 * sizeof(why)];

		vfs_safe_text(safe, sizeof(safe), why, sizeof(why), VFS_SAFE_ESCAPE);
		fprintf(stderr, "vfiomig: the recording says %llu events were lost (%s): "
			"timelines may be incomplete\n", (unsigned long long)lost, safe);
	}
	if (!env.ndone)
		fprintf(stderr, "vfiomig: no migration in %s (%zu migration events)\n", path,
			(size_t)(n - nlost));
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
	/* VMs' exits too: a VMM killed mid-migration fails its side */
	vfs_collector_stream(c, VFS_STREAM(VFS_EV_MIG_ARC) | VFS_STREAM(VFS_EV_MIG_DATA) |
			     VFS_STREAM(VFS_EV_MIG_PRECOPY) |
			     VFS_STREAM(VFS_EV_VM_EXIT));
	env.c = c;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	fprintf(stderr, "vfiomig: attached, waiting for migrations\n");
	while (!exiting && (!until || time(NULL) < until)) {
		err = vfs_collector_poll(c, 100, on_event, NULL);
		if (err < 0 && err != -EINTR) {
			fprintf(stderr, "vfiomig: reading events: %s\n", strerror(-err));
			break;
		}
		vfs_cli_rescan(c, "vfiomig");
	}
	vfs_collector_poll(c, 0, on_event, NULL);
	drain(true);
	if (!vfs_collector_drops(c, drops) && drops[VFS_DROP_RINGBUF])
		fprintf(stderr, "vfiomig: %llu events were lost (ring buffer full): timelines "
			"may be incomplete\n", (unsigned long long)drops[VFS_DROP_RINGBUF]);
	if (drops[VFS_DROP_RECURSION])
		fprintf(stderr, "vfiomig: probes missed %llu runs (probe_recursion: on a preemptible "
			"kernel a task preempted inside a probe makes the next one on that CPU skip it): "
			"an arc may end late or be missing\n",
			(unsigned long long)drops[VFS_DROP_RECURSION]);
	env.c = NULL;
	vfs_collector_close(c);
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: vfiomig [-j | --pretty] [-p PID] [-d SECONDS] [--replay FILE] [--trace-out FILE]\n"
		"               [--svg FILE] [--migration-id ID] [--one-side] [--tier CLASS=TIER] [-v]\n"
		"Where the downtime of each VFIO live migration went, per device and arc.\n\n"
		"  --replay FILE     read events written by `vfiosnoop -j -c migration,vm`\n"
		"                    (\"-\": standard input) instead of tracing live\n"
		"  -j                one JSON document per migration, on one line\n"
		"  --pretty          the same, indented (as bpftool -p)\n"
		"  -p PID            only migrations of this process (VM), either side\n"
		"  -d SECONDS        live: stop after SECONDS\n"
		"  --trace-out FILE  Chrome trace-event JSON (open in ui.perfetto.dev)\n"
		"  --svg FILE        SVG timeline\n"
		"  --migration-id ID label every migration with ID (join two hosts' outputs)\n"
		"  --one-side        this host holds one side only: report sources and\n"
		"                    destinations alone, unpaired (see docs/migration.md)\n"
		VFS_CLI_VERSION_USAGE "\n"
		"examples:\n"
		"  vfiomig                                  # summaries as migrations complete\n"
		"  vfiosnoop -j -c migration,vm > rec.json; vfiomig --replay rec.json --svg mig.svg\n\n"
		"Exit status: 0 every migration reported succeeded, 1 runtime error, 2 usage,\n"
		"3 a reported migration failed, 5 no migration was found.\n");
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
		{ "pretty", no_argument, NULL, 'J' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	/* what a migration timeline reads: start-up attaches nothing else */
	struct vfs_collector_opts o = {
		.classes = VFS_CLASS_BIT(VFS_CLASS_MIG_ARC) | VFS_CLASS_BIT(VFS_CLASS_MIG_DATA) |
			   VFS_CLASS_BIT(VFS_CLASS_MIG_REQUEST),
	};
	char msg[256] = "";
	__u64 v, secs = 0;
	int opt, rc;

	if (vfs_cli_version(argc, argv, "vfiomig", ":jp:d:vh", opts))
		return 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":jp:d:vh", opts, NULL)) != -1) {
		switch (opt) {
		case 'J':	/* --pretty is -j, indented */
			env.pretty = true;
			env.json = true;
			break;
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
		if (env.trace_out && vfiomig_write_trace(env.trace_out, env.done, env.ndone))
			env.failed_io = 1;
		if (env.svg && vfiomig_write_svg(env.svg, env.done, env.ndone))
			env.failed_io = 1;
	}
	if (vfs_migmodel_unattributed(env.m))
		fprintf(stderr, "vfiomig: %llu migration data events belonged to no session "
			"(their device had no migration arc open)\n",
			(unsigned long long)vfs_migmodel_unattributed(env.m));
	vfs_migmodel_free(env.m);
	free(env.done);
	/* as vfiotop's: 5 when there was nothing to show */
	if (rc || env.failed_io)
		return rc ? rc : 1;
	return env.any_failed ? 3 : env.ndone ? 0 : 5;
bad:
	fprintf(stderr, "vfiomig: %s\n", msg);
	return 2;
}
