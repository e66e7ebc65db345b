// SPDX-License-Identifier: GPL-2.0
/*
 * vfiostat: load the collectors, count until SIGINT/SIGTERM (or -d
 * SECONDS), then print every counter as one line per fact — the format the
 * integration tests compare with vfio-exercise's own summary. SIGUSR1
 * prints the counters at once, framed by "dump <n>" and "end <n>". With -e,
 * lifecycle events (migration arcs, mdev, vDPA) are printed as they come:
 *   event <ts_ns> <pid> <text>
 */
#include <errno.h>
#include <getopt.h>
#include <unistd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "cli.h"
#include "collector.h"
#include "event_fmt.h"

static volatile sig_atomic_t exiting, dump_now;

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		dump_now = 1;
	else
		exiting = 1;
}

static int on_event(void *user, const struct vfs_event_hdr *ev, size_t size)
{
	char line[512];

	if (vfs_event_text(ev, size, NULL, NULL, line, sizeof(line)) < 0)
		printf("event %llu %u unknown type %u size %zu\n",
		       (unsigned long long)ev->ts_ns, ev->tgid, ev->type, size);
	else
		printf("event %llu %u %s\n", (unsigned long long)ev->ts_ns, ev->tgid, line);
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: vfiostat [-d SECONDS] [-e] [--features] [--unpin] [collector options]\n"
		"  -d SECONDS     count for SECONDS, then print (default: until SIGINT)\n"
		"  -e             print lifecycle events as they arrive\n"
		"  --features     print which tier serves each event class, and why\n"
		"  --unpin        remove the collectors pinned under " VFS_PIN_ROOT "\n"
		"                 (their probes detach) and exit\n"
		"counters come from the pinned collectors when there are some (--private:\n"
		"load a set of our own); SIGUSR1 prints them.\n"
		VFS_CLI_COLLECTOR_USAGE);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "features", no_argument, NULL, 'F' },
		{ "unpin", no_argument, NULL, 'U' },
		{ "help", no_argument, NULL, 'h' },
		VFS_CLI_COLLECTOR_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	struct vfs_collector_opts o = { .share = VFS_SHARE_AUTO };
	struct vfs_collector *c;
	__u64 secs = 0;
	int features = 0, events = 0, unpin = 0, opt, err;
	char msg[256] = "";
	time_t until = 0;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":d:evh", opts, NULL)) != -1) {
		err = vfs_cli_collector_opt(opt, optarg, &o, msg, sizeof(msg));
		if (err < 0)
			goto bad;
		if (err)
			continue;
		switch (opt) {
		case 'd':
			if (vfs_parse_u64("-d", optarg, 1, 86400, 0, &secs, msg, sizeof(msg)))
				goto bad;
			break;
		case 'e':
			events = 1;
			break;
		case 'F':
			features = 1;
			break;
		case 'U':
			unpin = 1;
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
		snprintf(msg, sizeof(msg), "unexpected argument '%s' (see --help)", argv[optind]);
		goto bad;
	}
	if (unpin) {
		if (vfs_collector_unpin(o.pin_root, msg, sizeof(msg))) {
			fprintf(stderr, "vfiostat: %s\n", msg);
			return 1;
		}
		return 0;
	}
	/* forcing a tier means this process's own probes */
	for (opt = 0; opt < VFS_CLASS_MAX && o.share == VFS_SHARE_AUTO; opt++)
		if (o.force[opt] != VFS_TIER_NONE)
			o.share = VFS_SHARE_PRIVATE;
	err = vfs_collector_open(&c, &o, msg, sizeof(msg));
	if (err) {
		fprintf(stderr, "vfiostat: %s\n", msg);
		return 1;
	}
	if (msg[0])
		fprintf(stderr, "vfiostat: %s\n", msg);
	if (features) {
		vfs_collector_print_features(c, stdout);
		vfs_collector_close(c);
		return 0;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGUSR1, on_signal);
	fprintf(stderr, "vfiostat: attached%s\n", vfs_collector_shared(c) ?
		" (pinned collectors under " VFS_PIN_ROOT ")" : "");
	if (secs)
		until = time(NULL) + secs;
	while (!exiting && (!until || time(NULL) < until)) {
		/* a shared set's stream is not ours to drain unless asked for */
		if (!events && vfs_collector_shared(c)) {
			usleep(100000);
			err = 0;
		} else {
			err = vfs_collector_poll(c, 100, events ? on_event : NULL, NULL);
		}
		if (err == -EBUSY) {
			fprintf(stderr, "vfiostat: the pinned collectors' event stream is read by "
				"pid %d: -e needs --private here\n", vfs_collector_stream_holder(c));
			break;
		}
		if (err < 0 && err != -EINTR) {
			fprintf(stderr, "vfiostat: reading events: %s\n", strerror(-err));
			break;
		}
		if (dump_now) {
			static int n;

			dump_now = 0;
			printf("dump %d\n", ++n);
			vfs_collector_dump(c, stdout);
			printf("end %d\n", n);
		}
		fflush(stdout);
	}
	/* what is still in the ring buffer counts too */
	vfs_collector_poll(c, 0, events ? on_event : NULL, NULL);
	vfs_collector_dump(c, stdout);
	vfs_collector_close(c);
	return 0;
bad:
	fprintf(stderr, "vfiostat: %s\n", msg);
	return 2;
}
