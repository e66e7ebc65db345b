// SPDX-License-Identifier: GPL-2.0
/*
 * metrics-serve: the /metrics endpoint (user/policy/metrics.c) driven by a
 * minimal epoll loop, as vfio-policyd drives it, for tests. Loads the
 * collector (root), prints "metrics: listening on ADDR:PORT" once ready,
 * feeds the collector's events to the exporter, and exits on SIGINT or
 * SIGTERM.
 *
 *   metrics-serve [-a ADDR] [-p PORT] [--no-collector]
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>
#include "cli.h"
#include "collector.h"
#include "metrics.h"

struct serve {
	struct pd_metrics *m;
	__u64 events;
};

/* the caller's own families: here, what the loop itself counted */
static void own_families(struct prom_buf *out, void *ctx)
{
	const struct serve *s = ctx;

	prom_family(out, "vfioscope_test_driver_events_total", PROM_COUNTER,
		    "Collector events the test driver's loop handed to the exporter.");
	prom_sample_u64(out, "vfioscope_test_driver_events_total", NULL, 0, s->events);
}

static int on_event(void *user, const struct vfs_event_hdr *ev, size_t size)
{
	struct serve *s = user;

	s->events++;
	pd_metrics_event(s->m, ev, size);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "addr", required_argument, NULL, 'a' },
		{ "port", required_argument, NULL, 'p' },
		{ "no-collector", no_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 },
	};
	struct vfs_collector_opts copts = { 0 };
	struct vfs_collector *c = NULL;
	struct epoll_event ev = { .events = EPOLLIN };
	const char *addr = "127.0.0.1";
	struct serve s = { 0 };
	__u64 port = 0;
	bool collect = true;
	int opt, ep, sfd, ret = 1;
	char err[256];
	sigset_t set;

	while ((opt = getopt_long(argc, argv, "a:p:", opts, NULL)) != -1) {
		switch (opt) {
		case 'a':
			addr = optarg;
			break;
		case 'p':
			if (vfs_parse_u64("port", optarg, 0, 65535, 0, &port, err, sizeof(err))) {
				fprintf(stderr, "metrics-serve: %s\n", err);
				return 2;
			}
			break;
		case 'n':
			collect = false;
			break;
		default:
			fprintf(stderr, "usage: metrics-serve [-a ADDR] [-p PORT] [--no-collector]\n");
			return 2;
		}
	}
	if (collect && vfs_collector_open(&c, &copts, err, sizeof(err))) {
		fprintf(stderr, "metrics-serve: %s\n", err);
		return 1;
	}
	if (pd_metrics_start(&s.m, addr, (unsigned short)port, c, own_families, &s,
			     err, sizeof(err))) {
		fprintf(stderr, "metrics-serve: %s\n", err);
		goto out;
	}
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, NULL);
	sfd = signalfd(-1, &set, SFD_CLOEXEC);
	ep = epoll_create1(EPOLL_CLOEXEC);
	ev.data.fd = pd_metrics_fd(s.m);
	epoll_ctl(ep, EPOLL_CTL_ADD, ev.data.fd, &ev);
	ev.data.fd = sfd;
	epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &ev);
	printf("metrics: listening on %s:%u\n", addr, pd_metrics_port(s.m));
	fflush(stdout);
	for (;;) {
		struct epoll_event got[4];
		int i, n = epoll_wait(ep, got, 4, 100);

		if (n < 0 && errno != EINTR)
			break;
		for (i = 0; i < n; i++) {
			if (got[i].data.fd == sfd) {
				ret = 0;
				goto out;
			}
			pd_metrics_run(s.m);
		}
		if (c)
			vfs_collector_poll(c, 0, on_event, &s);
	}
out:
	pd_metrics_stop(s.m);
	vfs_collector_close(c);
	return ret;
}
