// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Migration sessions from FSM arcs and data events: see migmodel.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>
#include "event_fmt.h"
#include "migmodel.h"
#include "vec.h"

struct vfs_migmodel {
	struct vfs_mm_session **sessions;	/* every session, in creation order */
	size_t nsessions, sessions_cap;
	struct vfs_mm_migration **migs;		/* in creation order */
	size_t nmigs, migs_cap;
	__u64 unattributed;
	bool unpaired;		/* local pairing off */
	bool lossy;		/* the stream lost events: bytes may be short */
};


bool vfs_mm_running(__u32 state)
{
	return state == VFS_MIG_RUNNING || state == VFS_MIG_PRE_COPY;
}

static bool saving(__u32 state)
{
	return state == VFS_MIG_STOP_COPY || state == VFS_MIG_PRE_COPY ||
	       state == VFS_MIG_PRE_COPY_P2P;
}

static bool precopy(__u32 state)
{
	return state == VFS_MIG_PRE_COPY || state == VFS_MIG_PRE_COPY_P2P;
}

const char *vfs_mm_status_name(enum vfs_mm_status s)
{
	switch (s) {
	case VFS_MM_OPEN: return "open";
	case VFS_MM_DONE: return "ok";
	case VFS_MM_FAILED: return "failed";
	case VFS_MM_CANCELLED: return "cancelled";
	case VFS_MM_INCOMPLETE: return "incomplete";
	}
	return "?";
}

const char *vfs_mm_role_name(enum vfs_mm_role r)
{
	switch (r) {
	case VFS_MM_SOURCE: return "src";
	case VFS_MM_DEST: return "dst";
	default: return "unknown";
	}
}

int vfs_mm_state_parse(const char *name)
{
	int i;

	for (i = 0; i <= VFS_MIG_PRE_COPY_P2P; i++)
		if (!strcmp(name, vfs_mig_state_name(i)))
			return i;
	return -1;
}

/* ------------------------------------------------------------ input */

static void copy_str(char *dst, size_t dlen, const char *src, size_t slen)
{
	size_t n = strnlen(src, slen);

	if (n >= dlen)
		n = dlen - 1;
	memcpy(dst, src, n);
	dst[n] = 0;
}

int vfs_mm_event_from_raw(const struct vfs_event_hdr *ev, size_t size, struct vfs_mm_event *out)
{
	memset(out, 0, sizeof(*out));
	if (size < sizeof(*ev))
		return -1;
	if (ev->type == VFS_EV_MIG_ARC) {
		const struct vfs_ev_mig_arc *e = (const void *)ev;

		if (size < sizeof(*e))
			return -1;
		out->kind = VFS_MM_ARC;
		out->from = e->from;
		out->to = e->to;
		out->start_ns = e->start_ns;
		out->end_ns = e->end_ns;
		out->ret = e->ret;
		copy_str(out->dev, sizeof(out->dev), e->dev, sizeof(e->dev));
	} else if (ev->type == VFS_EV_MIG_DATA) {
		const struct vfs_ev_mig_data *e = (const void *)ev;

		if (size < sizeof(*e))
			return -1;
		out->kind = VFS_MM_DATA;
		out->write = e->write;
		out->bytes = e->bytes;
		out->unseen = e->unseen;
		out->ret = e->ret;
		copy_str(out->dev, sizeof(out->dev), e->dev, sizeof(e->dev));
	} else if (ev->type == VFS_EV_MIG_PRECOPY) {
		const struct vfs_ev_mig_precopy *e = (const void *)ev;

		if (size < sizeof(*e))
			return -1;
		out->kind = VFS_MM_PRECOPY;
		out->initial_bytes = e->initial_bytes;
		out->dirty_bytes = e->dirty_bytes;
		out->ret = e->ret;
		copy_str(out->dev, sizeof(out->dev), e->dev, sizeof(e->dev));
	} else if (ev->type == VFS_EV_VM_EXIT) {
		if (size < sizeof(struct vfs_ev_vm_exit))
			return -1;
		out->kind = VFS_MM_EXIT;
	} else {
		return 0;
	}
	out->ts_ns = ev->ts_ns;
	out->pid = ev->tgid;
	copy_str(out->comm, sizeof(out->comm), ev->comm, sizeof(ev->comm));
	return 1;
}

static int get_field(struct json_object *o, const char *key, json_type type,
		     struct json_object **v, char *err, size_t errlen)
{
	if (!json_object_object_get_ex(o, key, v) || !json_object_is_type(*v, type)) {
		snprintf(err, errlen, "the \"%s\" field is missing or not a%s %s", key,
			 type == json_type_int ? "n" : "",
			 type == json_type_int ? "integer" : "string");
		return -1;
	}
	return 0;
}

#define GET(key, type, var) do { \
	if (get_field(o, key, type, &var, err, errlen)) \
		return -1; \
} while (0)

/* a count or a time: an integer that is not negative */
#define GET_U64(key, var) do { \
	GET(key, json_type_int, v); \
	if (json_object_get_int64(v) < 0) { \
		snprintf(err, errlen, "the \"%s\" field is negative", key); \
		return -1; \
	} \
	var = json_object_get_uint64(v); \
} while (0)

int vfs_mm_event_from_json(struct json_object *o, struct vfs_mm_event *out,
			   char *err, size_t errlen)
{
	struct json_object *v;
	const char *ev;
	int st;

	memset(out, 0, sizeof(*out));
	if (!json_object_is_type(o, json_type_object)) {
		snprintf(err, errlen, "not a JSON object");
		return -1;
	}
	if (!json_object_object_get_ex(o, "event", &v) || !json_object_is_type(v, json_type_string))
		return 0;	/* not an event record: skip */
	ev = json_object_get_string(v);
	if (!strcmp(ev, "lost")) {
		/* {"event":"lost","reason":R,"count":N}: no time, no process */
		out->kind = VFS_MM_LOST;
		GET_U64("count", out->bytes);
		if (json_object_object_get_ex(o, "reason", &v) &&
		    json_object_is_type(v, json_type_string))
			copy_str(out->why, sizeof(out->why), json_object_get_string(v),
				 sizeof(out->why) - 1);
		return 1;
	}
	if (!strcmp(ev, "mig_arc"))
		out->kind = VFS_MM_ARC;
	else if (!strcmp(ev, "mig_data"))
		out->kind = VFS_MM_DATA;
	else if (!strcmp(ev, "mig_precopy"))
		out->kind = VFS_MM_PRECOPY;
	else if (!strcmp(ev, "vm_exit"))
		out->kind = VFS_MM_EXIT;
	else
		return 0;
	GET_U64("ts_ns", out->ts_ns);
	GET_U64("pid", out->pid);
	if (json_object_object_get_ex(o, "comm", &v) && json_object_is_type(v, json_type_string))
		copy_str(out->comm, sizeof(out->comm), json_object_get_string(v), VFS_COMM_LEN);
	if (out->kind == VFS_MM_EXIT)
		return 1;
	GET("device", json_type_string, v);
	copy_str(out->dev, sizeof(out->dev), json_object_get_string(v), VFS_NAME_LEN);
	GET("ret", json_type_int, v);
	out->ret = json_object_get_int64(v);
	if (json_object_object_get_ex(o, "realtime_ns", &v)) {
		if (!json_object_is_type(v, json_type_int)) {
			snprintf(err, errlen, "the \"realtime_ns\" field is not an integer");
			return -1;
		}
		out->has_realtime = true;
		out->realtime_offset_ns = json_object_get_int64(v) - (__s64)out->ts_ns;
	}
	if (out->kind == VFS_MM_ARC) {
		GET("from", json_type_string, v);
		st = vfs_mm_state_parse(json_object_get_string(v));
		if (st < 0) {
			snprintf(err, errlen, "unknown migration state \"%s\" in \"from\"",
				 json_object_get_string(v));
			return -1;
		}
		out->from = st;
		GET("to", json_type_string, v);
		st = vfs_mm_state_parse(json_object_get_string(v));
		if (st < 0) {
			snprintf(err, errlen, "unknown migration state \"%s\" in \"to\"",
				 json_object_get_string(v));
			return -1;
		}
		out->to = st;
		GET_U64("start_ns", out->start_ns);
		GET_U64("end_ns", out->end_ns);
		if (out->end_ns < out->start_ns) {
			snprintf(err, errlen, "an arc ends (end_ns) before it starts (start_ns)");
			return -1;
		}
	} else if (out->kind == VFS_MM_PRECOPY) {
		GET_U64("initial_bytes", out->initial_bytes);
		GET_U64("dirty_bytes", out->dirty_bytes);
	} else {
		GET("dir", json_type_string, v);
		if (!strcmp(json_object_get_string(v), "write"))
			out->write = true;
		else if (strcmp(json_object_get_string(v), "read")) {
			snprintf(err, errlen, "\"dir\" is \"%s\", not \"read\" or \"write\"",
				 json_object_get_string(v));
			return -1;
		}
		GET_U64("bytes", out->bytes);
		/* recorded before learned f_ops existed: none unseen */
		if (json_object_object_get_ex(o, "unseen", &v))
			GET_U64("unseen", out->unseen);
	}
	return 1;
}

/* ------------------------------------------------------------ model */

struct vfs_migmodel *vfs_migmodel_new(void)
{
	return calloc(1, sizeof(struct vfs_migmodel));
}

void vfs_migmodel_free(struct vfs_migmodel *m)
{
	size_t i;

	if (!m)
		return;
	for (i = 0; i < m->nsessions; i++) {
		free(m->sessions[i]->arcs);
		free(m->sessions[i]->points);
		free(m->sessions[i]);
	}
	for (i = 0; i < m->nmigs; i++) {
		free(m->migs[i]->pairs);
		free(m->migs[i]);
	}
	free(m->sessions);
	free(m->migs);
	free(m);
}

void vfs_migmodel_set_local_pairing(struct vfs_migmodel *m, bool on)
{
	m->unpaired = !on;
}

void vfs_migmodel_set_lossy(struct vfs_migmodel *m, bool lossy)
{
	m->lossy = lossy;
}

__u64 vfs_migmodel_unattributed(const struct vfs_migmodel *m)
{
	return m->unattributed;
}

static struct vfs_mm_session *open_session(struct vfs_migmodel *m, const char *dev)
{
	size_t i;

	/* newest first: a device has at most one open session */
	for (i = m->nsessions; i-- > 0;)
		if (!m->sessions[i]->closed && !strcmp(m->sessions[i]->dev, dev))
			return m->sessions[i];
	return NULL;
}

static bool pair_terminal(const struct vfs_migmodel *m, const struct vfs_mm_pair *p)
{
	if (!p->src)
		return p->dst->status != VFS_MM_OPEN;
	switch (p->src->status) {
	case VFS_MM_OPEN:
		return false;
	case VFS_MM_DONE:
		return m->unpaired || (p->dst && p->dst->status != VFS_MM_OPEN);
	default:
		return true;
	}
}

static bool mig_complete(const struct vfs_migmodel *m, const struct vfs_mm_migration *g)
{
	size_t i;

	for (i = 0; i < g->npairs; i++)
		if (!pair_terminal(m, &g->pairs[i]))
			return false;
	/*
	 * Unpaired, a source is done before the VM's next device is even
	 * asked for STOP_COPY: the VM's devices that left running and are
	 * still open (not yet in a migration) belong to this one too.
	 */
	for (i = 0; m->unpaired && i < m->nsessions; i++) {
		const struct vfs_mm_session *s = m->sessions[i];

		if (s->pid == g->pid && !s->closed && !s->mig && s->stop_ns)
			return false;
	}
	return g->npairs > 0;
}

/* the pid's migration still collecting devices, or a new one */
static struct vfs_mm_migration *pid_migration(struct vfs_migmodel *m, __u32 pid, const char *comm)
{
	struct vfs_mm_migration *g;
	size_t i;

	for (i = m->nmigs; i-- > 0;) {
		g = m->migs[i];
		if (g->pid == pid && !g->emitted && !mig_complete(m, g))
			return g;
	}
	if (vfs_grow((void **)&m->migs, &m->migs_cap, m->nmigs + 1, sizeof(*m->migs)))
		return NULL;
	g = calloc(1, sizeof(*g));
	if (!g)
		return NULL;
	g->pid = pid;
	snprintf(g->comm, sizeof(g->comm), "%s", comm);
	g->dominant = -1;
	m->migs[m->nmigs++] = g;
	return g;
}

static int add_pair(struct vfs_migmodel *m, struct vfs_mm_session *src, struct vfs_mm_session *dst)
{
	struct vfs_mm_session *s = src ? src : dst;
	struct vfs_mm_migration *g = pid_migration(m, s->pid, s->comm);

	if (!g || vfs_grow((void **)&g->pairs, &g->pairs_cap, g->npairs + 1, sizeof(*g->pairs)))
		return -ENOMEM;
	memset(&g->pairs[g->npairs], 0, sizeof(g->pairs[0]));
	g->pairs[g->npairs].src = src;
	g->pairs[g->npairs].dst = dst;
	g->npairs++;
	s->mig = g;
	return 0;
}

/* a destination that reached RESUMING: its source, or a migration of its own */
static int pair_dest(struct vfs_migmodel *m, struct vfs_mm_session *d)
{
	struct vfs_mm_session *s, *found = NULL;
	struct vfs_mm_migration *g;
	size_t i;

	/* one process doing both sides; other processes' sources: at RUNNING */
	for (i = 0; i < m->nsessions && !m->unpaired; i++) {
		s = m->sessions[i];
		if (s->role != VFS_MM_SOURCE || s->status != VFS_MM_DONE || s->peer ||
		    !s->mig || s->mig->emitted || s->stop_copy_end_ns > d->resuming_ns ||
		    s->pid != d->pid)
			continue;
		found = s;
		break;
	}
	if (!found)
		return add_pair(m, NULL, d);
	g = found->mig;
	for (i = 0; i < g->npairs; i++)
		if (g->pairs[i].src == found)
			g->pairs[i].dst = d;
	found->peer = d;
	d->peer = found;
	d->mig = g;
	return 0;
}

/* both sides' drivers report data, and the stream lengths differ (and
 * can be trusted to: no event of the stream was lost) */
static bool bytes_differ(const struct vfs_migmodel *m, const struct vfs_mm_session *s,
			 const struct vfs_mm_session *d)
{
	return !m->lossy && s->data_events && d->data_events && s->bytes_read != d->bytes_written;
}

/* could source @s have been the stream destination @d loaded and ran with? */
static bool late_candidate(const struct vfs_migmodel *m, const struct vfs_mm_session *s,
			   const struct vfs_mm_session *d)
{
	return s->role == VFS_MM_SOURCE && s->status == VFS_MM_DONE && !s->peer && s->mig &&
	       !s->mig->emitted && s->stop_copy_end_ns <= d->running_ns &&
	       !bytes_differ(m, s, d);
}

/*
 * A destination that runs, not paired at RESUMING (its source is another
 * process, maybe not even saved then): the one VM whose saved source it
 * can be, by time order and bytes; the same process first, then the same
 * name, then any. Candidates of two processes at the first level that has
 * any: undecided, left alone (its own migration, as before).
 */
static void attach_dest(struct vfs_mm_session *src, struct vfs_mm_session *d);

static void pair_late(struct vfs_migmodel *m, struct vfs_mm_session *d)
{
	struct vfs_mm_session *s, *found = NULL;
	size_t i, level;

	for (level = 0; level < 3 && !found; level++) {
		for (i = 0; i < m->nsessions; i++) {
			s = m->sessions[i];
			if (!late_candidate(m, s, d) || (level == 0 && s->pid != d->pid) ||
			    (level == 1 && strcmp(s->comm, d->comm)))
				continue;
			if (!found)
				found = s;	/* sessions are in creation order: its oldest */
			else if (s->pid != found->pid)
				return;
		}
	}
	if (found)
		attach_dest(found, d);
}

/* @d, a destination in a migration of its own (or none), joins source @src's */
static void attach_dest(struct vfs_mm_session *src, struct vfs_mm_session *d)
{
	struct vfs_mm_migration *own = d->mig, *g;
	size_t i;

	/* out of the destination-only migration it was given at RESUMING */
	for (i = 0; own && i < own->npairs; i++) {
		if (own->pairs[i].dst == d && !own->pairs[i].src) {
			memmove(&own->pairs[i], &own->pairs[i + 1],
				(own->npairs - i - 1) * sizeof(own->pairs[0]));
			own->npairs--;
			break;
		}
	}
	g = src->mig;
	for (i = 0; i < g->npairs; i++)
		if (g->pairs[i].src == src)
			g->pairs[i].dst = d;
	src->peer = d;
	d->peer = src;
	d->mig = g;
}

/*
 * Could source @s be what destination @d, failed at @t before it ran, was
 * loading? A source not yet paired nor reported, under way before then,
 * that saved at least what @d loaded.
 */
static bool failed_candidate(const struct vfs_mm_session *s, const struct vfs_mm_session *d,
			     __u64 t)
{
	return s->role == VFS_MM_SOURCE && !s->peer && s->mig && !s->mig->emitted &&
	       s->narcs && s->arcs[0].start_ns <= t &&
	       !(s->data_events && d->data_events && d->bytes_written > s->bytes_read);
}

/*
 * A destination that failed at @t before it ran, in a process of its own
 * (not paired at RESUMING): the one VM's source it was loading from, the
 * same process first, then the same name, then any (as pair_late).
 */
static void pair_failed(struct vfs_migmodel *m, struct vfs_mm_session *d, __u64 t)
{
	struct vfs_mm_session *s, *found = NULL;
	size_t i, level;

	if (d->peer || m->unpaired)
		return;
	for (level = 0; level < 3 && !found; level++) {
		for (i = 0; i < m->nsessions; i++) {
			s = m->sessions[i];
			if (!failed_candidate(s, d, t) || (level == 0 && s->pid != d->pid) ||
			    (level == 1 && strcmp(s->comm, d->comm)))
				continue;
			if (!found)
				found = s;
			else if (s->pid != found->pid)
				return;
		}
	}
	if (found)
		attach_dest(found, d);
}

static void close_session(struct vfs_mm_session *s, enum vfs_mm_status st)
{
	s->status = st;
	s->closed = true;
}

static int feed_arc(struct vfs_migmodel *m, const struct vfs_mm_event *ev)
{
	struct vfs_mm_session *s = open_session(m, ev->dev);
	enum vfs_mm_role before;
	struct vfs_mm_arc *a;
	int err = 0;

	if (!s) {
		if (vfs_grow((void **)&m->sessions, &m->sessions_cap, m->nsessions + 1,
			     sizeof(*m->sessions)))
			return -ENOMEM;
		s = calloc(1, sizeof(*s));
		if (!s)
			return -ENOMEM;
		snprintf(s->dev, sizeof(s->dev), "%s", ev->dev);
		snprintf(s->comm, sizeof(s->comm), "%s", ev->comm);
		s->pid = ev->pid;
		m->sessions[m->nsessions++] = s;
	}
	if (vfs_grow((void **)&s->arcs, &s->arcs_cap, s->narcs + 1, sizeof(*s->arcs)))
		return -ENOMEM;
	a = &s->arcs[s->narcs++];
	a->from = ev->from;
	a->to = ev->to;
	a->start_ns = ev->start_ns;
	a->end_ns = ev->end_ns;
	a->ret = ev->ret;

	before = s->role;
	if (s->role == VFS_MM_UNKNOWN) {
		if (saving(ev->to))
			s->role = VFS_MM_SOURCE;
		else if (ev->to == VFS_MIG_RESUMING)
			s->role = VFS_MM_DEST;
	}
	if (!s->stop_ns && vfs_mm_running(ev->from) && !vfs_mm_running(ev->to))
		s->stop_ns = ev->start_ns;
	if (before == VFS_MM_UNKNOWN && s->role == VFS_MM_SOURCE)
		err = add_pair(m, s, NULL);

	if (ev->ret < 0 || ev->to == VFS_MIG_ERROR) {
		s->err = ev->ret < 0 ? (int)-ev->ret : EIO;
		close_session(s, VFS_MM_FAILED);
		/* a failure is never dropped: not yet in a migration, it makes one */
		if (!s->mig && !err)
			err = s->role == VFS_MM_DEST ? add_pair(m, NULL, s) : add_pair(m, s, NULL);
		if (s->role == VFS_MM_DEST && !err)
			pair_failed(m, s, ev->end_ns);
		return err;
	}
	if (s->role == VFS_MM_SOURCE && ev->to == VFS_MIG_STOP_COPY && !s->save_start_ns)
		s->save_start_ns = ev->start_ns;
	if (s->role == VFS_MM_DEST && ev->from == VFS_MIG_RESUMING && !s->resume_end_ns)
		s->resume_end_ns = ev->end_ns;
	if (s->role == VFS_MM_DEST && ev->to == VFS_MIG_RESUMING && !s->resuming_ns) {
		s->resuming_ns = ev->start_ns;
		if (!err)
			err = pair_dest(m, s);
	}
	if (s->role == VFS_MM_SOURCE && ev->from == VFS_MIG_STOP_COPY && ev->to == VFS_MIG_STOP) {
		s->stop_copy_end_ns = ev->end_ns;
		close_session(s, VFS_MM_DONE);
	} else if (ev->to == VFS_MIG_RUNNING) {
		if (s->role == VFS_MM_DEST) {
			s->running_ns = ev->end_ns;
			close_session(s, VFS_MM_DONE);
			if (!s->peer && !m->unpaired)
				pair_late(m, s);
		} else if (s->role == VFS_MM_SOURCE) {
			close_session(s, VFS_MM_CANCELLED);
		} else {
			close_session(s, VFS_MM_DONE);	/* no migration: dropped */
		}
	}
	return err;
}

static int feed_data(struct vfs_migmodel *m, const struct vfs_mm_event *ev)
{
	struct vfs_mm_session *s = open_session(m, ev->dev);
	__u64 *total;

	if (!s) {
		m->unattributed++;
		return 0;
	}
	s->data_events++;
	/* PRE_COPY's "no data right now": the VMM polls, nothing failed */
	if (ev->ret == -ENOMSG && !ev->write && vfs_mm_session_in_precopy(s)) {
		s->data_polls++;
		return 0;
	}
	if (ev->ret < 0) {
		s->data_errors++;
		return 0;
	}
	total = ev->write ? &s->bytes_written : &s->bytes_read;
	*total += (__u64)ev->ret + ev->unseen;
	s->bytes_unseen += ev->unseen;
	if (vfs_grow((void **)&s->points, &s->points_cap, s->npoints + 1, sizeof(*s->points)))
		return -ENOMEM;
	s->points[s->npoints].ts_ns = ev->ts_ns;
	s->points[s->npoints].total = *total;
	s->npoints++;
	return 0;
}

/* the VMM asked a saving fd how much is left (PRE_COPY) */
static int feed_precopy(struct vfs_migmodel *m, const struct vfs_mm_event *ev)
{
	struct vfs_mm_session *s = open_session(m, ev->dev);

	if (!s) {
		m->unattributed++;
		return 0;
	}
	if (ev->ret) {
		s->precopy_errors++;
		return 0;
	}
	if (!s->precopy_queries++) {
		s->precopy_initial_first = ev->initial_bytes;
		s->precopy_first_ns = ev->ts_ns;
	}
	s->precopy_initial_last = ev->initial_bytes;
	s->precopy_dirty_last = ev->dirty_bytes;
	if (ev->dirty_bytes > s->precopy_dirty_max)
		s->precopy_dirty_max = ev->dirty_bytes;
	s->precopy_last_ns = ev->ts_ns;
	return 0;
}

/* a process exited: its open sessions fail where they stand */
static int feed_exit(struct vfs_migmodel *m, const struct vfs_mm_event *ev)
{
	struct vfs_mm_session *s;
	size_t i;
	int err = 0;

	for (i = 0; i < m->nsessions && !err; i++) {
		s = m->sessions[i];
		if (s->closed || s->pid != ev->pid)
			continue;
		if (s->role == VFS_MM_UNKNOWN) {
			close_session(s, VFS_MM_DONE);	/* no migration: dropped */
			continue;
		}
		s->exited = true;
		s->exit_ns = ev->ts_ns;
		s->err = 0;
		close_session(s, VFS_MM_FAILED);
		if (!s->mig)
			err = s->role == VFS_MM_DEST ? add_pair(m, NULL, s) : add_pair(m, s, NULL);
		if (s->role == VFS_MM_DEST && !err)
			pair_failed(m, s, ev->ts_ns);
	}
	return err;
}

bool vfs_mm_session_in_precopy(const struct vfs_mm_session *s)
{
	return !s->closed && s->narcs && precopy(s->arcs[s->narcs - 1].to);
}

int vfs_migmodel_feed(struct vfs_migmodel *m, const struct vfs_mm_event *ev)
{
	switch (ev->kind) {
	case VFS_MM_ARC: return feed_arc(m, ev);
	case VFS_MM_DATA: return feed_data(m, ev);
	case VFS_MM_PRECOPY: return feed_precopy(m, ev);
	case VFS_MM_EXIT: return feed_exit(m, ev);
	case VFS_MM_LOST: return 0;	/* the reader reports it */
	}
	return 0;
}

static void span(const struct vfs_mm_session *s, __u64 *t0, __u64 *t1)
{
	size_t i;

	for (i = 0; s && i < s->narcs; i++) {
		if (!*t0 || s->arcs[i].start_ns < *t0)
			*t0 = s->arcs[i].start_ns;
		if (s->arcs[i].end_ns > *t1)
			*t1 = s->arcs[i].end_ns;
	}
}

static void note_status(struct vfs_mm_migration *g, const struct vfs_mm_session *s)
{
	if (!s)
		return;
	if (s->status == VFS_MM_FAILED && g->status != VFS_MM_FAILED) {
		g->status = VFS_MM_FAILED;
		g->err = s->err;
		g->err_dev = s->dev;
		g->err_side = s->role;
		g->err_arc = s->narcs ? &s->arcs[s->narcs - 1] : NULL;
		g->err_exited = s->exited;
	} else if (s->status == VFS_MM_CANCELLED && g->status == VFS_MM_DONE) {
		g->status = VFS_MM_CANCELLED;
	} else if (s->status == VFS_MM_INCOMPLETE && g->status == VFS_MM_DONE) {
		g->status = VFS_MM_INCOMPLETE;
	}
}

/*
 * When the destination starts loading what the source saved (see load_ns):
 * its STOP -> RESUMING start; if it was RESUMING already when the source
 * was saved (a VMM's incoming side enters RESUMING when the stream begins),
 * its first write since the source stopped (earlier writes are pre-copy
 * data), but not before the save's end: a load that began while the source
 * was still saving (the stream flows as it is read) leaves no gap. Its
 * driver reporting no data: the save's end.
 */
static __u64 load_start(const struct vfs_mm_session *s, const struct vfs_mm_session *d)
{
	size_t i;

	if (d->resuming_ns >= s->stop_copy_end_ns)
		return d->resuming_ns;
	for (i = 0; i < d->npoints; i++)
		if (d->points[i].ts_ns >= s->stop_ns)
			return d->points[i].ts_ns > s->stop_copy_end_ns ?
			       d->points[i].ts_ns : s->stop_copy_end_ns;
	return s->stop_copy_end_ns;
}

/* the device's own save + load time (see share_ns) */
static __u64 share(const struct vfs_mm_session *s, const struct vfs_mm_session *d, __u64 load)
{
	__u64 n = 0;

	if (s->save_start_ns && s->stop_copy_end_ns > s->save_start_ns)
		n += s->stop_copy_end_ns - s->save_start_ns;
	if (load && d->resume_end_ns > load)
		n += d->resume_end_ns - load;
	return n;
}

/* the VM's split of its window, from its devices' key instants */
static void vm_split(struct vfs_mm_migration *g)
{
	__u64 saved = 0, loading = 0;
	size_t i;

	for (i = 0; i < g->npairs; i++) {
		if (g->pairs[i].src->stop_copy_end_ns > saved)
			saved = g->pairs[i].src->stop_copy_end_ns;
		if (!loading || g->pairs[i].load_ns < loading)
			loading = g->pairs[i].load_ns;
	}
	if (loading < saved)
		loading = saved;
	g->stop_copy_ns = saved - g->stop_ns;
	g->transfer_ns = loading - saved;
	g->resume_ns = g->running_ns - loading;
}

static void finish(struct vfs_mm_migration *g, bool flushed)
{
	__u64 best = 0, best_down = 0;
	size_t i;

	g->status = VFS_MM_DONE;
	g->has_downtime = g->npairs > 0;
	for (i = 0; i < g->npairs; i++) {
		struct vfs_mm_pair *p = &g->pairs[i];
		struct vfs_mm_session *s = p->src, *d = p->dst;

		if (flushed) {
			if (s && s->status == VFS_MM_OPEN)
				close_session(s, VFS_MM_INCOMPLETE);
			if (d && d->status == VFS_MM_OPEN)
				close_session(d, VFS_MM_INCOMPLETE);
			if (s && s->status == VFS_MM_DONE && !d)
				g->status = g->status == VFS_MM_DONE ? VFS_MM_INCOMPLETE : g->status;
		}
		note_status(g, s);
		note_status(g, d);
		span(s, &g->t0_ns, &g->t1_ns);
		span(d, &g->t0_ns, &g->t1_ns);
		if (s && s->stop_ns && s->stop_copy_end_ns)
			p->stop_copy_ns = s->stop_copy_end_ns - s->stop_ns;
		if (d && d->resuming_ns && d->running_ns)
			p->resume_ns = d->running_ns - d->resuming_ns;
		if (s && d && s->stop_ns && s->stop_copy_end_ns && d->resuming_ns && d->running_ns &&
		    s->status == VFS_MM_DONE && d->status == VFS_MM_DONE) {
			p->has_downtime = true;
			p->load_ns = load_start(s, d);
			p->transfer_ns = p->load_ns - s->stop_copy_end_ns;
			p->resume_ns = d->running_ns - p->load_ns;
			p->downtime_ns = d->running_ns - s->stop_ns;
			p->share_ns = share(s, d, p->load_ns);
			/* the largest share; equal shares: the longer downtime */
			if (g->dominant < 0 || p->share_ns > best ||
			    (p->share_ns == best && p->downtime_ns > best_down)) {
				best = p->share_ns;
				best_down = p->downtime_ns;
				g->dominant = (int)i;
			}
		} else {
			g->has_downtime = false;
		}
		if (s && s->stop_ns && (!g->stop_ns || s->stop_ns < g->stop_ns))
			g->stop_ns = s->stop_ns;
		if (d && d->running_ns > g->running_ns)
			g->running_ns = d->running_ns;
		if (d && !g->dst_pid) {
			g->dst_pid = d->pid;
			snprintf(g->dst_comm, sizeof(g->dst_comm), "%s", d->comm);
		}
	}
	if (g->has_downtime) {
		g->downtime_ns = g->running_ns - g->stop_ns;
		vm_split(g);
	}
	g->emitted = true;
}

const struct vfs_mm_migration *vfs_migmodel_next(struct vfs_migmodel *m, bool flush)
{
	size_t i;

	for (i = 0; i < m->nmigs; i++) {
		struct vfs_mm_migration *g = m->migs[i];

		if (g->emitted || !g->npairs)
			continue;
		if (mig_complete(m, g)) {
			finish(g, false);
			return g;
		}
	}
	if (!flush)
		return NULL;
	for (i = 0; i < m->nmigs; i++) {
		struct vfs_mm_migration *g = m->migs[i];

		if (!g->emitted && g->npairs) {
			finish(g, true);
			return g;
		}
	}
	return NULL;
}

const struct vfs_mm_session *vfs_migmodel_session(const struct vfs_migmodel *m, size_t i)
{
	return i < m->nsessions ? m->sessions[i] : NULL;
}

static __u64 event_time(const struct vfs_mm_event *e)
{
	return e->kind == VFS_MM_ARC ? e->end_ns : e->ts_ns;
}

static int by_time(const void *a, const void *b)
{
	const struct vfs_mm_event *x = a, *y = b;
	__u64 tx = event_time(x), ty = event_time(y);

	if (tx != ty)
		return tx < ty ? -1 : 1;
	return x < y ? -1 : x > y;	/* stable: file order */
}

int vfs_mm_read_replay(FILE *f, const char *name, struct vfs_mm_event **out, size_t *nout,
		       char *err, size_t errlen)
{
	struct vfs_mm_event *evs = NULL;
	size_t n = 0, cap = 0, len = 0;
	unsigned long lineno = 0;
	char *line = NULL, why[192];
	ssize_t got;
	int rc = -1;

	*out = NULL;
	*nout = 0;
	while ((got = getline(&line, &len, f)) > 0) {
		struct json_object *o;
		enum json_tokener_error jerr;
		char *p = line;
		int r;

		lineno++;
		if (strlen(line) != (size_t)got) {
			snprintf(err, errlen, "%s:%lu: a NUL byte inside the line; the replay "
				 "file is text, one JSON object per line", name, lineno);
			goto out;
		}
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\n' || !*p)
			continue;
		o = json_tokener_parse_verbose(p, &jerr);
		if (!o && line[got - 1] != '\n') {
			snprintf(err, errlen, "%s:%lu: truncated: the last line has no end",
				 name, lineno);
			goto out;
		}
		if (!o) {
			snprintf(err, errlen, "%s:%lu: not JSON (%s); the replay file is one "
				 "JSON object per line, as `vfiosnoop -j -c migration` writes",
				 name, lineno, json_tokener_error_desc(jerr));
			goto out;
		}
		if (vfs_grow((void **)&evs, &cap, n + 1, sizeof(*evs))) {
			json_object_put(o);
			snprintf(err, errlen, "out of memory reading %s", name);
			goto out;
		}
		r = vfs_mm_event_from_json(o, &evs[n], why, sizeof(why));
		json_object_put(o);
		if (r < 0) {
			snprintf(err, errlen, "%s:%lu: %s", name, lineno, why);
			goto out;
		}
		n += r;
	}
	if (ferror(f)) {
		snprintf(err, errlen, "reading %s: %s", name, strerror(errno));
		goto out;
	}
	if (n)
		qsort(evs, n, sizeof(*evs), by_time);
	*out = evs;
	*nout = n;
	evs = NULL;
	rc = 0;
out:
	free(line);
	free(evs);
	return rc;
}
