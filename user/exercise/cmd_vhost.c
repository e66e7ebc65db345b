// SPDX-License-Identifier: GPL-2.0
/*
 * vhost-kick: a VMM's first steps on a vhost-vdpa device, then a counted
 * burst of virtqueue kicks. Opens /dev/vhost-vdpa-N (this process becomes
 * the device's owner), VHOST_SET_OWNER, sizes queue QID and gives it an
 * eventfd as its kick (VHOST_SET_VRING_KICK). A child process then signals
 * the eventfd KICKS times, the way KVM's ioeventfd would for a vCPU: every
 * write wakes vhost_vdpa, which kicks the vDPA device once. Kicks are thus
 * run by another task than the owner, which is what attribution must see
 * through.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <linux/vhost.h>
#include "cmds.h"
#include "vx.h"

static void vh_ioctl(int fd, const char *what, unsigned long cmd, void *arg)
{
	if (ioctl(fd, cmd, arg) < 0)
		die("%s: %s", what, strerror(errno));
}

/* the kicker: one eventfd write per kick */
static void kick_loop(int efd, unsigned long kicks)
{
	uint64_t one = 1;
	unsigned long i;

	for (i = 0; i < kicks; i++)
		if (write(efd, &one, sizeof(one)) != sizeof(one))
			die("kick %lu: write to the kick eventfd: %s", i, strerror(errno));
}

int cmd_vhost_kick(int argc, char **argv)
{
	unsigned long kicks = 1000, qid = 0, v;
	struct vhost_vring_state num;
	struct vhost_vring_file kick;
	__u32 device_id, nvqs;
	__u16 max_num;
	const char *node;
	int fd, efd, opt, status;
	char *end;
	pid_t kicker;

	while ((opt = getopt(argc, argv, "n:q:")) != -1) {
		errno = 0;
		v = strtoul(optarg, &end, 10);
		if (errno || *end || end == optarg)
			die("-%c: '%s' is not a number", opt, optarg);
		if (opt == 'n')
			kicks = v;
		else if (opt == 'q')
			qid = v;
		else
			die("usage: vhost-kick NODE [-n KICKS] [-q QID]");
	}
	if (optind + 1 != argc)
		die("usage: vhost-kick NODE [-n KICKS] [-q QID]");
	node = argv[optind];

	fd = open(node, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		die("open %s: %s", node, strerror(errno));
	vh_ioctl(fd, "VHOST_SET_OWNER", VHOST_SET_OWNER, NULL);
	vh_ioctl(fd, "VHOST_VDPA_GET_DEVICE_ID", VHOST_VDPA_GET_DEVICE_ID, &device_id);
	vh_ioctl(fd, "VHOST_VDPA_GET_VQS_COUNT", VHOST_VDPA_GET_VQS_COUNT, &nvqs);
	if (qid >= nvqs)
		die("queue %lu: %s has %u queues", qid, node, nvqs);
	vh_ioctl(fd, "VHOST_VDPA_GET_VRING_NUM", VHOST_VDPA_GET_VRING_NUM, &max_num);
	num.index = qid;
	num.num = max_num < 256 ? max_num : 256;
	vh_ioctl(fd, "VHOST_SET_VRING_NUM", VHOST_SET_VRING_NUM, &num);

	efd = eventfd(0, EFD_CLOEXEC);
	if (efd < 0)
		die("eventfd: %s", strerror(errno));
	kick.index = qid;
	kick.fd = efd;
	vh_ioctl(fd, "VHOST_SET_VRING_KICK", VHOST_SET_VRING_KICK, &kick);

	fflush(stdout);
	kicker = fork();
	if (kicker < 0)
		die("fork: %s", strerror(errno));
	if (!kicker) {
		kick_loop(efd, kicks);
		_exit(0);
	}
	if (waitpid(kicker, &status, 0) != kicker)
		die("waitpid: %s", strerror(errno));
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		die("the kicker process failed");

	/* detach the eventfd before closing: no kick may follow the count */
	kick.fd = -1;
	vh_ioctl(fd, "VHOST_SET_VRING_KICK", VHOST_SET_VRING_KICK, &kick);
	close(efd);
	close(fd);

	printf("pid %d\n", (int)getpid());
	printf("kicker_pid %d\n", (int)kicker);
	printf("node %s\n", node);
	printf("device_id %u\n", device_id);
	printf("vqs %u\n", nvqs);
	printf("queue %lu\n", qid);
	printf("vring_num %u\n", num.num);
	printf("kicks %lu\n", kicks);
	return 0;
}
