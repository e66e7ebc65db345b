// SPDX-License-Identifier: GPL-2.0
/*
 * vfiostat: load the collectors, count until SIGINT/SIGTERM (or -d
 * SECONDS), then print every counter as one line per fact — the format the
 * integration tests compare with vfio-exercise's own summary. SIGUSR1
 * prints the counters at once, framed by "dump <n>" and "end <n>". With -e,
 * lifecycle events (migration arcs, mdev, vDPA) are printed as they come:
 *   event <ts_ns> <pid> <text>
 */
#include <getopt.h>
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
	fprintf(f, "usage: vfiostat [-d SECONDS] [-e] [-v] [--features] [--tier CLASS=TIER]...\n"
		"                [--ringbuf BYTES] [--map-entries N]\n"
		"  -d SECONDS     count for SECONDS, then print (default: until SIGINT)\n"
		"  -e             print lifecycle events as they arrive\n"
		"  --features     print which tier serves each event class, and why\n"
		"  --tier C=T     force tier T (tracepoint, fentry, kprobe) for class C\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "features", no_argument, NULL, 'F' },
		{ "tier", required_argument, NULL, 'T' },
		{ "ringbuf", required_argument, NULL, 'R' },
		{ "map-entries", required_argument, NULL, 'M' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct vfs_collector_opts o = { 0 };
	struct vfs_collector *c;
	__u64 secs = 0, v;
	int features = 0, events = 0, opt, err;
	char msg[256] = "";
	time_t until = 0;

	while ((opt = getopt_long(argc, argv, "d:evh", opts, NULL)) != -1) {
		switch (opt) {
		case 'd':
			if (vfs_parse_u64("-d", optarg, 1, 86400, 0, &secs, msg, sizeof(msg)))
				goto bad;
			break;
		case 'e':
			events = 1;
			break;
		case 'v':
			o.verbose = true;
			break;
		case 'F':
			features = 1;
			break;
		case 'T':
			if (vfs_parse_tier_force(optarg, o.force, msg, sizeof(msg)))
				goto bad;
			break;
		case 'R':
			if (vfs_parse_u64("--ringbuf", optarg, 4096, 1ull << 30, 1, &v, msg, sizeof(msg)))
				goto bad;
			o.ringbuf_bytes = v;
			break;
		case 'M':
			if (vfs_parse_u64("--map-entries", optarg, 1, 1 << 20, 0, &v, msg, sizeof(msg)))
				goto bad;
			o.map_entries = v;
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
	fprintf(stderr, "vfiostat: attached\n");
	if (secs)
		until = time(NULL) + secs;
	while (!exiting && (!until || time(NULL) < until)) {
		err = vfs_collector_poll(c, 100, events ? on_event : NULL, NULL);
		if (err < 0 && err != -4 /* EINTR */) {
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
