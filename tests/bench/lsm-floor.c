// SPDX-License-Identifier: GPL-2.0
/*
 * lsm-floor: attach bpf/lsmfloor.bpf.c's do-nothing BPF LSM programs
 * (file_ioctl, file_permission), say "attached" on stderr, hold them until
 * SIGINT or SIGTERM. make bench's LSM rows measure the policy's programs
 * against these: the floor any BPF LSM program costs. --probe: load,
 * attach and exit (0 when this kernel takes BPF LSM programs).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "lsmfloor.skel.h"

static volatile sig_atomic_t exiting;

static void on_signal(int sig __attribute__((unused)))
{
	exiting = 1;
}

int main(int argc, char **argv)
{
	int probe = argc == 2 && !strcmp(argv[1], "--probe");
	struct lsmfloor_bpf *skel;
	int err;

	if (argc > 1 && !probe) {
		fprintf(stderr, "usage: lsm-floor [--probe]\n");
		return 2;
	}
	libbpf_set_print(NULL);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	skel = lsmfloor_bpf__open_and_load();
	if (!skel) {
		fprintf(stderr, "lsm-floor: cannot load the programs: %s\n", strerror(errno));
		return 1;
	}
	err = lsmfloor_bpf__attach(skel);
	if (err) {
		fprintf(stderr, "lsm-floor: cannot attach (is BPF LSM active?): %s\n",
			strerror(-err));
		lsmfloor_bpf__destroy(skel);
		return 1;
	}
	fprintf(stderr, "lsm-floor: attached\n");
	while (!exiting && !probe)
		pause();
	lsmfloor_bpf__destroy(skel);
	return 0;
}
