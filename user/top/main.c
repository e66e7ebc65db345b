// SPDX-License-Identifier: GPL-2.0
/*
 * vfiotop: per VM and per device, what passthrough devices do, refreshed
 * every few seconds. The rows model (user/lib/model.c) is fed by a source:
 * live (the collectors' maps and event stream, optionally recorded) or a
 * recording (--replay); the views print it as text frames (-b), JSON
 * documents (-j) or, on a terminal, an interactive table (view_curses.c).
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli.h"
#include "collector.h"
#include "model.h"
#include "record.h"
#include "view.h"

volatile sig_atomic_t top_exiting;

struct top_source {
	struct vfs_collector *c;	/* live */
	struct vfs_rec rec;		/* live, --record */
	bool recording;
	struct vfs_replay rp;		/* --replay */
	bool replay;
	struct vfs_model *m;
	int event_err;
	bool no_stream;			/* a shared set's stream is another reader's */
	char name[160];
	char note[320];			/* what a module loaded later changed */
};


static void on_signal(int sig)
{
	top_exiting = 1;
}

static void usage(FILE *f)
{
	size_t i;
	int v;

	fprintf(f, "usage: vfiotop [-b] [-j | --pretty] [-d SECONDS] [-n COUNT] [--view VIEW] [-s KEY] [-r]\n"
		"               [-f RE] [-p PID] [-o KEYS] [--record FILE | --replay FILE] [--features]\n"
		"               [collector options]\n"
		"Per VM, device, vDPA queue and migration: VFIO ioctls, DMA mappings, pinned\n"
		"memory, interrupts, vDPA kicks, ioctl latency, migration downtime; refreshed\n"
		"every SECONDS. Interactive on a terminal (h there lists the keys).\n\n"
		"  -b, --batch       print frames as text (the default when stdout is not a terminal)\n"
		"  -j, --json        print each frame as one JSON document on one line (every view;\n"
		"                    VM and device rows carry their per-command histograms and errnos)\n"
		"  --pretty          the same, indented (as bpftool -p)\n"
		"  -d SECONDS        between frames (default 2; decimals allowed, 0.1 to 3600)\n"
		"  -n COUNT          stop after COUNT frames (SIGINT/SIGTERM: one last frame, then stop)\n"
		"  --view VIEW       vms (default), devices, queues, migrations, events or mdev\n"
		"                    (mdev: per parent and type, available_instances, instances\n"
		"                    in use and who created them; key m in the interactive view)\n"
		"  -s, --sort KEY    sort on KEY (below), in the column's natural order; -r reverses\n"
		"  -f, --filter RE   only rows with a text column matching the extended regular\n"
		"                    expression RE, in any case (a plain word matches itself;\n"
		"                    a VM's name selects its rows)\n"
		"  -p PID            only this process's rows (VMs, devices it owns, its events)\n"
		"  -o, --columns K,K show only these columns of the view (text and interactive;\n"
		"                    JSON frames keep every key)\n"
		"  --record FILE     also write the model's input, frame by frame, to FILE\n"
		"  --replay FILE     read frames from a recording instead of the kernel (no root)\n"
		"  --features        which tier serves each event class here, and why\n"
		"  -h, --help        this text\n"
		"  --version         the version and the BPF ABI version, then exit\n"
		"With --shared, the counters come from collectors pinned by another process\n"
		"(vfio-policyd, vfiostat --pin); the migrations and events views need the\n"
		"event stream, which only one reader of a pinned set gets. Without root, vfiotop\n"
		"reads a pinned set's counters read-only where bpffs grants read access\n"
		"(docs/permissions.md) and otherwise says what is missing.\n\n");
	for (v = 0; v < VFS_VIEW_MAX; v++) {
		const struct vfs_field *fl = NULL;
		size_t n = 0;

		switch (v) {
		case VFS_VIEW_VMS: fl = vfs_vm_fields; n = vfs_vm_nfields; break;
		case VFS_VIEW_DEVICES: fl = vfs_dev_fields; n = vfs_dev_nfields; break;
		case VFS_VIEW_QUEUES: fl = vfs_vq_fields; n = vfs_vq_nfields; break;
		case VFS_VIEW_MIGRATIONS: fl = vfs_mig_fields; n = vfs_mig_nfields; break;
		case VFS_VIEW_MDEV: fl = vfs_mdev_fields; n = vfs_mdev_nfields; break;
		default: fl = vfs_event_fields; n = vfs_event_nfields; break;
		}
		fprintf(f, "%s keys:", vfs_view_name(v));
		for (i = 0; i < n; i++)
			fprintf(f, " %s", fl[i].key);
		fputc('\n', f);
	}
	fprintf(f, "\nFirst frame: counts since vfiotop attached, rates \"-\" (unknown).\n"
		"Exit status: 0 ok, 1 runtime error, 2 usage, 3 not root and the pinned counters\n"
		"cannot be read, 4 BPF not available,\n"
		"5 nothing to show (-n frames, the view empty in all of them).\n\n"
		VFS_CLI_COLLECTOR_USAGE);
}

/* ---------------------------------------------------------------- sources */

static int on_event(void *user, const struct vfs_event_hdr *ev, size_t size)
{
	struct top_source *s = user;

	if (vfs_model_event(s->m, ev, size))
		s->event_err = -ENOMEM;
	if (s->recording)
		vfs_rec_event(&s->rec, ev, size);
	return 0;
}

/* drain the event stream, unless another reader of a shared set holds it */
static void source_poll(struct top_source *s, int ms)
{
	if (s->no_stream || vfs_collector_poll(s->c, ms, on_event, s) != -EBUSY)
		return;
	s->no_stream = true;
	if (ms)
		usleep(ms * 1000);
}

int top_source_frame(struct top_source *s, struct vfs_model *m, char *err, size_t len)
{
	__u64 drops[VFS_DROP_MAX] = { 0 };
	int e;

	if (s->replay)
		return vfs_replay_next(&s->rp, m, err, len);
	source_poll(s, 0);
	if (s->event_err) {
		snprintf(err, len, "keeping events: %s", strerror(-s->event_err));
		return -1;
	}
	if (!vfs_collector_drops(s->c, drops))
		vfs_model_lost(m, drops[VFS_DROP_RINGBUF]);
	/* modules loaded since the start: the message line, once */
	vfs_collector_rescan(s->c, s->note, sizeof(s->note));
	e = vfs_model_update(m);
	if (e) {
		snprintf(err, len, "reading the collectors' maps: %s", strerror(-e));
		return -1;
	}
	if (s->recording && vfs_rec_frame(&s->rec, m, err, len))
		return -1;
	return 1;
}

const char *top_source_note(struct top_source *s)
{
	static char said[sizeof(s->note)];

	if (!s->note[0])
		return NULL;
	snprintf(said, sizeof(said), "%s", s->note);
	s->note[0] = '\0';
	return said;
}

bool top_source_wait(struct top_source *s, __u64 ms)
{
	__u64 waited = 0;

	while (waited < ms && !top_exiting) {
		int step = ms - waited > 100 ? 100 : (int)(ms - waited);

		if (s->replay)
			usleep(step * 1000);
		else if (s->no_stream)
			usleep(step * 1000);
		else
			source_poll(s, step);
		waited += step;
	}
	return !top_exiting;
}

const char *top_source_name(const struct top_source *s)
{
	return s->name;
}

/* ---------------------------------------------------------------- batch */

static int batch(struct vfs_model *m, struct top_source *s, const struct top_opts *o)
{
	bool last = false, shown = false;
	const char *note;
	char err[320] = "";
	__u64 n = 0;
	int rc;

	for (;;) {
		rc = top_source_frame(s, m, err, sizeof(err));
		if (rc < 0) {
			fprintf(stderr, "vfiotop: %s\n", err);
			return TOP_EXIT_ERROR;
		}
		if (rc == 0)
			break;	/* the recording ended */
		if ((note = top_source_note(s)))
			fprintf(stderr, "vfiotop: %s\n", note);
		if (o->json)
			top_print_json(m, &o->filter, o->pretty, stdout);
		else
			top_print_text(m, o->view, &o->filter, stdout);
		shown |= m->view[o->view].n > 0;
		if ((o->count && ++n >= o->count) || last)
			break;
		/* a replay goes as fast as it reads; live waits */
		if (s->replay)
			last = top_exiting;
		else if (!top_source_wait(s, o->delay_ms))
			last = true;	/* interrupted: one last frame with everything so far */
	}
	if (!m->frame) {
		fprintf(stderr, "vfiotop: %s has no frame\n", s->name);
		return TOP_EXIT_NOTHING;
	}
	if (o->count && !shown) {
		fprintf(stderr, "vfiotop: nothing to show: %s (in %llu frames)\n",
			top_view_empty(o->view), (unsigned long long)m->frame);
		return TOP_EXIT_NOTHING;
	}
	return TOP_EXIT_OK;
}

/* "-d": seconds with decimals, 0.1 to 3600 */
static int parse_delay(const char *s, __u64 *ms, char *msg, size_t len)
{
	char *end;
	double d;

	errno = 0;
	d = strtod(s, &end);
	if (errno || end == s || *end || !(d >= 0.1 && d <= 3600)) {
		snprintf(msg, len, "-d: '%s' is not a number of seconds from 0.1 to 3600", s);
		return -1;
	}
	*ms = (__u64)(d * 1000 + 0.5);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "batch", no_argument, NULL, 'b' },
		{ "json", no_argument, NULL, 'j' },
		{ "pretty", no_argument, NULL, 'J' },
		{ "view", required_argument, NULL, 'V' },
		{ "sort", required_argument, NULL, 's' },
		{ "filter", required_argument, NULL, 'f' },
		{ "columns", required_argument, NULL, 'o' },
		{ "record", required_argument, NULL, 'R' },
		{ "replay", required_argument, NULL, 'P' },
		{ "features", no_argument, NULL, 'F' },
		{ "help", no_argument, NULL, 'h' },
		VFS_CLI_COLLECTOR_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	struct top_opts o = { .delay_ms = 2000, .view = VFS_VIEW_VMS };
	struct vfs_collector_opts co = { 0 };
	const char *sort = NULL, *record = NULL, *replay = NULL, *columns = NULL;
	struct top_source src = { 0 };
	struct vfs_model m;
	int opt, err, features = 0, batchmode = 0, reverse = 0, ret;
	char msg[320] = "";

	if (vfs_cli_version(argc, argv, "vfiotop", ":bjd:n:s:f:p:o:rvh", lopts))
		return TOP_EXIT_OK;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":bjd:n:s:f:p:o:rvh", lopts, NULL)) != -1) {
		err = vfs_cli_collector_opt(opt, optarg, &co, msg, sizeof(msg));
		if (err < 0)
			goto bad;
		if (err)
			continue;
		switch (opt) {
		case 'b':
			batchmode = 1;
			break;
		case 'J':	/* --pretty is -j, indented */
			o.pretty = true;
			o.json = true;
			break;
		case 'j':
			o.json = true;
			break;
		case 'd':
			if (parse_delay(optarg, &o.delay_ms, msg, sizeof(msg)))
				goto bad;
			break;
		case 'n':
			if (vfs_parse_u64("-n", optarg, 1, 1ull << 32, 0, &o.count, msg, sizeof(msg)))
				goto bad;
			break;
		case 's':
			sort = optarg;
			break;
		case 'r':
			reverse = 1;
			break;
		case 'f':
			if (vfs_filter_set(&o.filter, optarg, msg, sizeof(msg)))
				goto bad;
			break;
		case 'p':
			if (vfs_parse_u64("-p", optarg, 1, 4194304, 0, &o.filter.pid, msg,
					  sizeof(msg)))
				goto bad;
			break;
		case 'o':
			columns = optarg;
			break;
		case 'R':
			record = optarg;
			break;
		case 'P':
			replay = optarg;
			break;
		case 'V':
			if (vfs_view_parse(optarg, &o.view)) {
				snprintf(msg, sizeof(msg), "--view: '%s' is not a view (vms, devices, "
					 "queues, migrations, events)", optarg);
				goto bad;
			}
			break;
		case 'F':
			features = 1;
			break;
		case 'h':
			usage(stdout);
			return TOP_EXIT_OK;
		default:
			vfs_cli_bad_option(opt, argv, msg, sizeof(msg));
			goto bad;
		}
	}
	if (optind != argc) {
		snprintf(msg, sizeof(msg), "unexpected argument '%s' (vfiotop -h lists the options)",
			 argv[optind]);
		goto bad;
	}
	if (record && replay) {
		snprintf(msg, sizeof(msg), "--record and --replay exclude each other");
		goto bad;
	}
	if (features && replay) {
		snprintf(msg, sizeof(msg), "--features describes this kernel, not a recording");
		goto bad;
	}
	if (vfs_model_init(&m, NULL)) {
		fprintf(stderr, "vfiotop: out of memory\n");
		return TOP_EXIT_ERROR;
	}
	if (sort) {
		struct vfs_table *t = &m.view[o.view];
		int i = vfs_field_find(t->fields, t->nfields, sort);

		if (i < 0) {
			snprintf(msg, sizeof(msg), "-s: '%s' is not a column of the %s view "
				 "(vfiotop -h lists them)", sort, vfs_view_name(o.view));
			vfs_model_free(&m);
			goto bad;
		}
		t->sort = i;
		t->desc = t->fields[i].sort_desc;
	}
	if (reverse)
		m.view[o.view].desc = !m.view[o.view].desc;
	if (columns) {
		struct vfs_table *t = &m.view[o.view];
		char why[160];

		if (vfs_fields_pick(t->fields, t->nfields, columns, &t->hidden, why, sizeof(why))) {
			snprintf(msg, sizeof(msg), "-o: %s of the %s view (vfiotop -h lists them)",
				 why, vfs_view_name(o.view));
			vfs_model_free(&m);
			goto bad;
		}
	}
	src.m = &m;
	if (replay) {
		if (vfs_replay_open(&src.rp, replay, &m, msg, sizeof(msg))) {
			fprintf(stderr, "vfiotop: %s\n", msg);
			vfs_replay_close(&src.rp);
			vfs_model_free(&m);
			return TOP_EXIT_ERROR;
		}
		src.replay = true;
		snprintf(src.name, sizeof(src.name), "replay %s", replay);
	} else {
		if (geteuid() != 0 && co.share == VFS_SHARE_PIN) {
			fprintf(stderr, "vfiotop: not root: --pin loads the BPF collectors, which "
				"needs root (CAP_BPF, CAP_PERFMON and CAP_SYS_ADMIN)\n");
			vfs_model_free(&m);
			return TOP_EXIT_NOT_ROOT;
		}
		/* without root: the pinned set's counters, where bpffs lets us read them */
		if (geteuid() != 0)
			co.share = VFS_SHARE_READ;
		err = vfs_collector_open(&src.c, &co, msg, sizeof(msg));
		if (err && co.share == VFS_SHARE_READ) {
			fprintf(stderr, "vfiotop: not root, and %s\n", msg);
			vfs_model_free(&m);
			return TOP_EXIT_NOT_ROOT;
		}
		if (err) {
			fprintf(stderr, "vfiotop: BPF not available: %s\n", msg);
			vfs_model_free(&m);
			return TOP_EXIT_NO_BPF;
		}
		if (msg[0])
			fprintf(stderr, "vfiotop: %s\n", msg);
		if (features) {
			vfs_collector_print_features(src.c, stdout);
			vfs_collector_close(src.c);
			vfs_model_free(&m);
			return TOP_EXIT_OK;
		}
		vfs_model_attach(&m, src.c);
		snprintf(src.name, sizeof(src.name), vfs_collector_shared(src.c) ?
			 "live, shared" : "live");
		if (co.share == VFS_SHARE_READ) {
			src.no_stream = true;
			fprintf(stderr, "vfiotop: not root: reading the pinned counters read-only "
				"(the migrations and events views stay empty)\n");
		}
		if (record) {
			if (vfs_rec_open(&src.rec, record, msg, sizeof(msg))) {
				fprintf(stderr, "vfiotop: %s\n", msg);
				vfs_model_free(&m);
				vfs_collector_close(src.c);
				return TOP_EXIT_ERROR;
			}
			src.recording = true;
			snprintf(src.name, sizeof(src.name), "live, recording to %s", record);
		}
		/* after the recording opened: the events drained here are in its first frame */
		source_poll(&src, 0);
		if (src.no_stream && co.share != VFS_SHARE_READ)
			fprintf(stderr, "vfiotop: the pinned collectors' event stream is read by pid "
				"%d: counters only (migrations and events views stay empty)\n",
				vfs_collector_stream_holder(src.c));
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	if (!replay)
		fprintf(stderr, "vfiotop: attached\n");
	if (!batchmode && !o.json && isatty(STDOUT_FILENO) && isatty(STDIN_FILENO))
		ret = top_curses_run(&m, &src, &o);
	else
		ret = batch(&m, &src, &o);
	if (src.recording && vfs_rec_close(&src.rec, msg, sizeof(msg))) {
		fprintf(stderr, "vfiotop: %s\n", msg);
		ret = TOP_EXIT_ERROR;
	}
	if (src.replay)
		vfs_replay_close(&src.rp);
	vfs_model_free(&m);
	if (src.c)
		vfs_collector_close(src.c);
	return ret;
bad:
	fprintf(stderr, "vfiotop: %s\n", msg);
	return TOP_EXIT_USAGE;
}
