// SPDX-License-Identifier: GPL-2.0
/*
 * vfiotop: per VM and per device, what passthrough devices do, refreshed
 * every few seconds. The model (model.c) reads the collectors' maps; the
 * views print it as text frames (-b), JSON documents (-j) or, on a
 * terminal, an interactive table (view_curses.c).
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli.h"
#include "collector.h"
#include "model.h"
#include "view.h"

volatile sig_atomic_t top_exiting;

static void on_signal(int sig)
{
	top_exiting = 1;
}

static void usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: vfiotop [-b] [-j] [-d SECONDS] [-n COUNT] [--view vms|devices]\n"
		"               [-s KEY] [-r] [--features] [-v]\n"
		"Per VM and per device: VFIO ioctls, DMA mappings, pinned memory, interrupts,\n"
		"vDPA kicks and ioctl latency, refreshed every SECONDS.\n\n"
		"  -b, --batch     print frames as text (the default when stdout is not a terminal)\n"
		"  -j, --json      print each frame as one JSON document on one line\n"
		"  -d SECONDS      between frames (default 2)\n"
		"  -n COUNT        stop after COUNT frames (SIGINT/SIGTERM: one last frame, then stop)\n"
		"  --view VIEW     vms (default) or devices\n"
		"  -s KEY          sort on KEY (below), biggest first; -r reverses\n"
		"  --features      which tier serves each event class here, and why\n\n"
		"vms keys:");
	for (i = 0; i < vfs_vm_nfields; i++)
		fprintf(f, " %s", vfs_vm_fields[i].key);
	fprintf(f, "\ndevices keys:");
	for (i = 0; i < vfs_dev_nfields; i++)
		fprintf(f, " %s", vfs_dev_fields[i].key);
	fprintf(f, "\nFirst frame: counts since vfiotop attached, rates \"-\" (unknown).\n");
}

/* wait @ms, draining the event stream; false when told to stop */
static bool nap(struct vfs_collector *c, __u64 ms)
{
	__u64 waited = 0;

	while (waited < ms && !top_exiting) {
		int step = ms - waited > 100 ? 100 : (int)(ms - waited);

		vfs_collector_poll(c, step, NULL, NULL);
		waited += step;
	}
	return !top_exiting;
}

static int batch(struct vfs_model *m, const struct top_opts *o)
{
	bool last = false;
	__u64 n = 0;
	int err;

	for (;;) {
		err = vfs_model_update(m);
		if (err) {
			fprintf(stderr, "vfiotop: reading the collectors' maps: %s\n", strerror(-err));
			return 1;
		}
		if (o->json)
			top_print_json(m, stdout);
		else
			top_print_text(m, o->view, stdout);
		if ((o->count && ++n >= o->count) || last)
			return 0;
		/* interrupted: one last frame with everything counted so far */
		if (!nap(m->c, o->delay_ms))
			last = true;
	}
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "batch", no_argument, NULL, 'b' },
		{ "json", no_argument, NULL, 'j' },
		{ "view", required_argument, NULL, 'V' },
		{ "sort", required_argument, NULL, 's' },
		{ "features", no_argument, NULL, 'F' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct top_opts o = { .delay_ms = 2000, .view = VFS_VIEW_VMS };
	struct vfs_collector_opts co = { 0 };
	const char *sort = NULL;
	struct vfs_collector *c;
	struct vfs_model m;
	int opt, err, features = 0, batchmode = 0, reverse = 0, ret;
	char msg[256] = "";
	__u64 v;

	while ((opt = getopt_long(argc, argv, "bjd:n:s:rvh", lopts, NULL)) != -1) {
		switch (opt) {
		case 'b':
			batchmode = 1;
			break;
		case 'j':
			o.json = true;
			break;
		case 'd':
			if (vfs_parse_u64("-d", optarg, 1, 3600, 0, &v, msg, sizeof(msg)))
				goto bad;
			o.delay_ms = v * 1000;
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
		case 'V':
			if (vfs_view_parse(optarg, &o.view)) {
				snprintf(msg, sizeof(msg), "--view: '%s' is not a view (vms, devices)",
					 optarg);
				goto bad;
			}
			break;
		case 'v':
			co.verbose = true;
			break;
		case 'F':
			features = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	if (sort) {
		const struct vfs_field *f = o.view == VFS_VIEW_VMS ? vfs_vm_fields : vfs_dev_fields;
		size_t nf = o.view == VFS_VIEW_VMS ? vfs_vm_nfields : vfs_dev_nfields;

		if (vfs_field_find(f, nf, sort) < 0) {
			snprintf(msg, sizeof(msg), "-s: '%s' is not a column of the %s view "
				 "(vfiotop -h lists them)", sort, vfs_view_name(o.view));
			goto bad;
		}
	}
	if (geteuid() != 0) {
		fprintf(stderr, "vfiotop: not root: loading the BPF collectors needs root "
			"(CAP_BPF, CAP_PERFMON and CAP_SYS_ADMIN)\n");
		return 1;
	}
	err = vfs_collector_open(&c, &co, msg, sizeof(msg));
	if (err) {
		fprintf(stderr, "vfiotop: BPF not available: %s\n", msg);
		return 1;
	}
	if (msg[0])
		fprintf(stderr, "vfiotop: %s\n", msg);
	if (features) {
		vfs_collector_print_features(c, stdout);
		vfs_collector_close(c);
		return 0;
	}
	vfs_model_init(&m, c);
	if (sort) {
		struct vfs_table *t = &m.view[o.view];

		t->sort = vfs_field_find(t->fields, t->nfields, sort);
		t->desc = t->fields[t->sort].sort_desc;
	}
	if (reverse)
		m.view[o.view].desc = !m.view[o.view].desc;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	fprintf(stderr, "vfiotop: attached\n");
	if (!batchmode && !o.json && isatty(STDOUT_FILENO))
		ret = top_curses_run(&m, &o);
	else
		ret = batch(&m, &o);
	vfs_model_free(&m);
	vfs_collector_close(c);
	return ret;
bad:
	fprintf(stderr, "vfiotop: %s\n", msg);
	return 2;
}
