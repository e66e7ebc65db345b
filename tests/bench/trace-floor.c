// SPDX-License-Identifier: GPL-2.0
/*
 * trace-floor: attach bpf/tracefloor.bpf.c's do-nothing fentry/fexit
 * programs on the three VFIO ioctl entry points, say "attached" on
 * stderr, hold them until SIGINT or SIGTERM. make bench's floor rows
 * measure vfioscope and the bpftrace peer against these: what the
 * trampolines on those hooks cost by themselves.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "tracefloor.skel.h"

static volatile sig_atomic_t exiting;

static void on_signal(int sig __attribute__((unused)))
{
	exiting = 1;
}

int main(int argc, char **argv __attribute__((unused)))
{
	struct tracefloor_bpf *skel;
	int err;

	if (argc > 1) {
		fprintf(stderr, "usage: trace-floor\n");
		return 2;
	}
	libbpf_set_print(NULL);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	skel = tracefloor_bpf__open_and_load();
	if (!skel) {
		fprintf(stderr, "trace-floor: cannot load the programs (is vfio loaded?): %s\n",
			strerror(errno));
		return 1;
	}
	err = tracefloor_bpf__attach(skel);
	if (err) {
		fprintf(stderr, "trace-floor: cannot attach: %s\n", strerror(-err));
		tracefloor_bpf__destroy(skel);
		return 1;
	}
	fprintf(stderr, "trace-floor: attached\n");
	while (!exiting)
		pause();
	tracefloor_bpf__destroy(skel);
	return 0;
}
