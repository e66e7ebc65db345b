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
 *
 * -o: the node is opened by another process, which passes the fd over a
 * unix socket (SCM_RIGHTS) and exits, as libvirtd does for QEMU: the
 * device's user (this process) is not its opener, and the owner must be
 * the user.
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
#include <sys/socket.h>
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

/* @node opened by a child process, its fd received over a socketpair */
static int open_passed(const char *node, pid_t *opener)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	struct msghdr msg = { 0 };
	struct cmsghdr *cm;
	struct iovec iov;
	int sv[2], fd, status;
	char byte = 0;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		die("socketpair: %s", strerror(errno));
	iov.iov_base = &byte;
	iov.iov_len = 1;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cbuf;
	msg.msg_controllen = sizeof(cbuf);
	fflush(stdout);
	*opener = fork();
	if (*opener < 0)
		die("fork: %s", strerror(errno));
	if (!*opener) {
		close(sv[0]);
		fd = open(node, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			die("opener: open %s: %s", node, strerror(errno));
		cm = CMSG_FIRSTHDR(&msg);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &fd, sizeof(int));
		if (sendmsg(sv[1], &msg, 0) != 1)
			die("opener: sendmsg: %s", strerror(errno));
		_exit(0);
	}
	close(sv[1]);
	if (recvmsg(sv[0], &msg, MSG_CMSG_CLOEXEC) != 1)
		die("receiving the fd of %s: %s", node, strerror(errno));
	cm = CMSG_FIRSTHDR(&msg);
	if (!cm || cm->cmsg_type != SCM_RIGHTS || cm->cmsg_len != CMSG_LEN(sizeof(int)))
		die("the opener of %s sent no fd", node);
	memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	close(sv[0]);
	if (waitpid(*opener, &status, 0) != *opener || !WIFEXITED(status) ||
	    WEXITSTATUS(status))
		die("the opener process failed");
	return fd;
}

int cmd_vhost_kick(int argc, char **argv)
{
	unsigned long kicks = 1000, qid = 0, v;
	struct vhost_vring_state num;
	struct vhost_vring_file kick;
	__u32 device_id, nvqs;
	__u16 max_num;
	const char *node;
	int fd, efd, opt, status, passed = 0;
	pid_t kicker, opener = getpid();
	char *end;

	while ((opt = getopt(argc, argv, "n:q:o")) != -1) {
		if (opt == 'o') {
			passed = 1;
			continue;
		}
		if (opt == '?')
			die("usage: vhost-kick NODE [-n KICKS] [-q QID] [-o]");
		errno = 0;
		v = strtoul(optarg, &end, 10);
		if (errno || *end || end == optarg)
			die("-%c: '%s' is not a number", opt, optarg);
		if (opt == 'n')
			kicks = v;
		else if (opt == 'q')
			qid = v;
		else
			die("usage: vhost-kick NODE [-n KICKS] [-q QID] [-o]");
	}
	if (optind + 1 != argc)
		die("usage: vhost-kick NODE [-n KICKS] [-q QID] [-o]");
	node = argv[optind];

	if (passed) {
		fd = open_passed(node, &opener);
	} else {
		fd = open(node, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			die("open %s: %s", node, strerror(errno));
	}
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
	printf("opener_pid %d\n", (int)opener);
	printf("node %s\n", node);
	printf("device_id %u\n", device_id);
	printf("vqs %u\n", nvqs);
	printf("queue %lu\n", qid);
	printf("vring_num %u\n", num.num);
	printf("kicks %lu\n", kicks);
	return 0;
}
