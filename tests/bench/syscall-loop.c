// SPDX-License-Identifier: GPL-2.0
/*
 * syscall-loop: the file operations every process on a host does and no
 * vfioscope policy concerns, as fast as the kernel answers, for make
 * bench's LSM fast-path rows:
 *   ioctl N   FIONREAD on a pipe (security_file_ioctl: the file_ioctl hook)
 *   write N   one byte to /dev/null (security_file_permission with
 *             MAY_WRITE: the file_permission hook's mdev-create check)
 * N/10 untimed operations first, then N timed; prints "ns_per_op X".
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

static unsigned long long now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000000000ull + t.tv_nsec;
}

static int run(int ioc, int fd, unsigned long n)
{
	unsigned long i;
	int avail;

	for (i = 0; i < n; i++)
		if (ioc ? ioctl(fd, FIONREAD, &avail) : write(fd, "", 1) != 1)
			return -1;
	return 0;
}

int main(int argc, char **argv)
{
	unsigned long long t0, t1;
	unsigned long n;
	int p[2], fd, ioc;
	char *end;

	if (argc != 3 || (strcmp(argv[1], "ioctl") && strcmp(argv[1], "write"))) {
		fprintf(stderr, "usage: syscall-loop ioctl|write N\n");
		return 2;
	}
	n = strtoul(argv[2], &end, 10);
	if (*end || !n) {
		fprintf(stderr, "syscall-loop: N must be a positive integer, not '%s'\n", argv[2]);
		return 2;
	}
	ioc = !strcmp(argv[1], "ioctl");
	if (ioc) {
		if (pipe(p)) {
			perror("syscall-loop: pipe");
			return 1;
		}
		fd = p[0];
	} else {
		fd = open("/dev/null", O_WRONLY);
		if (fd < 0) {
			perror("syscall-loop: /dev/null");
			return 1;
		}
	}
	if (run(ioc, fd, n / 10 + 1)) {
		perror("syscall-loop");
		return 1;
	}
	t0 = now_ns();
	if (run(ioc, fd, n)) {
		perror("syscall-loop");
		return 1;
	}
	t1 = now_ns();
	printf("ns_per_op %.1f\n", (double)(t1 - t0) / (double)n);
	return 0;
}
