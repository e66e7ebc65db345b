// SPDX-License-Identifier: GPL-2.0
/*
 * lsm-floor: attach bpf/lsmfloor.bpf.c's do-nothing BPF LSM programs
 * (file_ioctl, file_permission), say "attached" on stderr, hold them until
 * SIGINT or SIGTERM. make bench's LSM rows measure the policy's programs
 * against these: the floor any BPF LSM program costs.
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

int main(void)
{
	struct lsmfloor_bpf *skel;
	int err;

	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	skel = lsmfloor_bpf__open_and_load();
	if (!skel) {
		fprintf(stderr, "lsm-floor: cannot load the programs: %s (BPF LSM programs "
			"need \"bpf\" in /sys/kernel/security/lsm)\n", strerror(errno));
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
	while (!exiting)
		pause();
	lsmfloor_bpf__destroy(skel);
	return 0;
}
