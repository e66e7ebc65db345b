// SPDX-License-Identifier: GPL-2.0
/*
 * vfio-ioctlcount: count VFIO ioctls per process, file kind and command
 * until SIGINT/SIGTERM, then print one line per (pid, kind, command):
 *
 *   ioctl <pid> <kind> <name> <count>
 *   dropped <n>
 *
 * The bench uses it to prove that a BPF program from bpf/ sees exactly the
 * ioctls a VFIO client issued. "attached" on stderr means counting started.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "abi.h"
#include "cli.h"
#include "vfio_ioctl.h"
#include "ioctlcount.skel.h"

static volatile sig_atomic_t exiting;
static int verbose;

static void on_signal(int sig)
{
	exiting = 1;
}

__attribute__((format(printf, 2, 0)))
static int print_libbpf(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG && !verbose)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static int dump(struct ioctlcount_bpf *skel)
{
	int fd = bpf_map__fd(skel->maps.counts);
	struct vfs_ioctl_key key, next, *prev = NULL;
	__u64 val;
	int err;

	while (!(err = bpf_map_get_next_key(fd, prev, &next))) {
		const char *name;

		if (bpf_map_lookup_elem(fd, &next, &val))
			return -errno;
		name = vfio_ioctl_name(next.kind, next.cmd);
		if (name)
			printf("ioctl %u %s %s %llu\n", next.tgid,
			       vfio_fd_kind_name(next.kind), name,
			       (unsigned long long)val);
		else
			printf("ioctl %u %s 0x%x %llu\n", next.tgid,
			       vfio_fd_kind_name(next.kind), next.cmd,
			       (unsigned long long)val);
		key = next;
		prev = &key;
	}
	printf("dropped %llu\n", (unsigned long long)skel->bss->dropped);
	return err == -ENOENT || errno == ENOENT ? 0 : -errno;
}

int main(int argc, char **argv)
{
	struct ioctlcount_bpf *skel;
	int err;

	if (vfs_cli_version(argc, argv, "vfio-ioctlcount", "v", NULL))
		return 0;
	if (argc > 1 && !strcmp(argv[1], "-v"))
		verbose = 1;
	else if (argc > 1) {
		fprintf(stderr, "usage: vfio-ioctlcount [-v] [--version]\n");
		return 2;
	}
	libbpf_set_print(print_libbpf);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);

	skel = ioctlcount_bpf__open_and_load();
	if (!skel) {
		err = -errno;
		fprintf(stderr, "vfio-ioctlcount: cannot load the BPF programs (%s): "
			"is the vfio module loaded and does the kernel have BTF?\n",
			strerror(-err));
		return 1;
	}
	err = ioctlcount_bpf__attach(skel);
	if (err) {
		fprintf(stderr, "vfio-ioctlcount: cannot attach fentry programs: %s\n",
			strerror(-err));
		goto out;
	}
	fprintf(stderr, "vfio-ioctlcount: attached\n");
	while (!exiting)
		pause();
	err = dump(skel);
	if (err)
		fprintf(stderr, "vfio-ioctlcount: reading counts: %s\n", strerror(-err));
out:
	ioctlcount_bpf__destroy(skel);
	return err ? 1 : 0;
}
