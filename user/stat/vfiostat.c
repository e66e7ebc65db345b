// SPDX-License-Identifier: GPL-2.0
/*
 * vfiostat: load the collectors, count until SIGINT/SIGTERM (or -d
 * SECONDS), then print every counter as one line per fact — the format the
 * integration tests compare with vfio-exercise's own summary. SIGUSR1
 * prints the counters at once, framed by "dump <n>" and "end <n>". With -e,
 * lifecycle events (migration arcs, mdev, vDPA) are printed as they come:
 *   event <ts_ns> <pid> <text>
 * With -j, each dump is one JSON document on a line (dump.h: the same rows,
 * with "version", "time" and "dump" in place of the framing), and each
 * event vfiosnoop -j's object.
 */
#include <errno.h>
#include <getopt.h>
#include <unistd.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <json-c/json.h>
#include "cli.h"
#include "collector.h"
#include "dump.h"
#include "event_fmt.h"

static volatile sig_atomic_t exiting, dump_now;
/* -j, --pretty: json-c's flags for each document and event */
static bool json;
static int json_flags = JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE;

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		dump_now = 1;
	else
		exiting = 1;
}

/* an event as vfiosnoop -j has it; one this version does not know, by its header */
static void event_json(const struct vfs_event_hdr *ev, size_t size)
{
	struct json_object *o = vfs_event_json(ev, size, NULL, NULL);

	if (!o) {
		o = json_object_new_object();
		json_object_object_add(o, "event", json_object_new_string("unknown"));
		json_object_object_add(o, "type", json_object_new_int(ev->type));
		json_object_object_add(o, "size", json_object_new_uint64(size));
		json_object_object_add(o, "ts_ns", json_object_new_uint64(ev->ts_ns));
		json_object_object_add(o, "pid", json_object_new_int(ev->tgid));
	}
	puts(json_object_to_json_string_ext(o, json_flags));
	json_object_put(o);
}

static int on_event(void *user, const struct vfs_event_hdr *ev, size_t size)
{
	char line[512];

	if (json)
		event_json(ev, size);
	else if (vfs_event_text(ev, size, NULL, NULL, line, sizeof(line)) < 0)
		printf("event %llu %u unknown type %u size %zu\n",
		       (unsigned long long)ev->ts_ns, ev->tgid, ev->type, size);
	else
		printf("event %llu %u %s\n", (unsigned long long)ev->ts_ns, ev->tgid, line);
	return 0;
}

/*
 * One dump: text lines (framed by "dump N UNIXTIME" and "end N" when
 * @framed), or one JSON document that carries N and the time instead.
 */
static void print_dump(struct vfs_collector *c, __u64 n, bool framed)
{
	struct json_object *doc;
	struct vfs_dump d;

	if (!json) {
		if (framed)
			printf("dump %llu %lld\n", (unsigned long long)n, (long long)time(NULL));
		vfs_dump_text(&d, stdout);
		vfs_collector_dump(c, &d);
		if (framed)
			printf("end %llu\n", (unsigned long long)n);
		return;
	}
	if (vfs_dump_json(&d)) {
		fprintf(stderr, "vfiostat: dump %llu: out of memory\n", (unsigned long long)n);
		return;
	}
	json_object_object_add(d.doc, "version", json_object_new_string(vfs_version));
	json_object_object_add(d.doc, "abi_version", json_object_new_int(vfs_abi_version));
	json_object_object_add(d.doc, "time", json_object_new_int64(time(NULL)));
	json_object_object_add(d.doc, "dump", json_object_new_uint64(n));
	vfs_collector_dump(c, &d);
	doc = vfs_dump_take(&d);
	puts(json_object_to_json_string_ext(doc, json_flags));
	json_object_put(doc);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: vfiostat [-j | --pretty] [-d SECONDS] [-e] [--features] [--unpin]\n"
		"                [collector options] [INTERVAL [COUNT]]\n"
		"  -d SECONDS     count for SECONDS, then print (default: until SIGINT)\n"
		"  INTERVAL       print the counters every INTERVAL seconds, each print framed\n"
		"                 by 'dump N UNIXTIME' and 'end N' (counts since attach), COUNT\n"
		"                 times (default: until SIGINT, which prints a last one)\n"
		"  -j             each print as one JSON document on a line: an array of\n"
		"                 objects per row type, \"drops\" by name, and \"version\",\n"
		"                 \"time\" (UNIXTIME) and \"dump\" (N) in place of the framing\n"
		"  --pretty       the same, indented (as bpftool -p)\n"
		"  -e             print lifecycle events as they arrive (with -j: as JSON\n"
		"                 objects, vfiosnoop -j's)\n"
		"  --features     print which tier serves each event class, and why\n"
		"  --unpin        remove the collectors pinned under " VFS_PIN_ROOT "\n"
		"                 (their probes detach) and exit\n"
		"counters come from the pinned collectors when there are some (--private:\n"
		"load a set of our own); SIGUSR1 prints them.\n"
		VFS_CLI_VERSION_USAGE VFS_CLI_COLLECTOR_USAGE);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "features", no_argument, NULL, 'F' },
		{ "pretty", no_argument, NULL, 'J' },
		{ "unpin", no_argument, NULL, 'U' },
		{ "help", no_argument, NULL, 'h' },
		VFS_CLI_COLLECTOR_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	struct vfs_collector_opts o = { .share = VFS_SHARE_AUTO };
	struct vfs_collector *c;
	__u64 secs = 0, interval = 0, count = 0, dumps = 0;
	int features = 0, events = 0, unpin = 0, opt, err;
	struct timespec next = { 0 }, now;
	bool failed = false;
	char msg[256] = "";
	time_t until = 0;

	if (vfs_cli_version(argc, argv, "vfiostat", ":d:ejvh", opts))
		return 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":d:ejvh", opts, NULL)) != -1) {
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
		case 'J':	/* --pretty is -j, indented */
			json_flags = JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
				     JSON_C_TO_STRING_NOSLASHESCAPE;
			/* fall through */
		case 'j':
			json = true;
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
	/* vmstat's and kvm_stat's habit: an interval and a count */
	if (optind < argc &&
	    vfs_parse_u64("INTERVAL", argv[optind++], 1, 86400, 0, &interval, msg, sizeof(msg)))
		goto bad;
	if (optind < argc &&
	    vfs_parse_u64("COUNT", argv[optind++], 1, 1ull << 32, 0, &count, msg, sizeof(msg)))
		goto bad;
	if (optind != argc) {
		snprintf(msg, sizeof(msg), "unexpected argument '%s' (see --help)", argv[optind]);
		goto bad;
	}
	if (interval && secs) {
		snprintf(msg, sizeof(msg), "-d and an INTERVAL do not go together: -d prints once");
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
	clock_gettime(CLOCK_MONOTONIC, &next);
	next.tv_sec += interval;
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
			failed = true;
			break;
		}
		if (err < 0 && err != -EINTR) {
			fprintf(stderr, "vfiostat: reading events: %s\n", strerror(-err));
			failed = true;
			break;
		}
		vfs_cli_rescan(c, "vfiostat");
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (interval && (now.tv_sec > next.tv_sec ||
				 (now.tv_sec == next.tv_sec && now.tv_nsec >= next.tv_nsec))) {
			next.tv_sec += interval;
			dump_now = 1;
		}
		if (dump_now) {
			dump_now = 0;
			print_dump(c, ++dumps, true);
			if (count && dumps >= count) {
				fflush(stdout);
				vfs_collector_close(c);
				return failed ? 1 : 0;
			}
		}
		fflush(stdout);
	}
	/* what is still in the ring buffer counts too */
	vfs_collector_poll(c, 0, events ? on_event : NULL, NULL);
	print_dump(c, ++dumps, interval);
	vfs_collector_close(c);
	/* the counters printed, but the stream was not read to the end */
	return failed ? 1 : 0;
bad:
	fprintf(stderr, "vfiostat: %s\n", msg);
	return 2;
}
