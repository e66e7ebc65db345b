// SPDX-License-Identifier: GPL-2.0
/*
 * reset: open a device like a VMM, reset it N times through the device fd
 * (VFIO_DEVICE_RESET, or VFIO_DEVICE_PCI_HOT_RESET with the device's own
 * group), close it. What it prints is the ground truth for the reset class:
 * how many requests, each one's result, and the one open and release
 * around them (vfio-pci resets a device at both when it can).
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include "cmds.h"
#include "vx.h"

/* VFIO_DEVICE_PCI_HOT_RESET with one group: the device's own */
static long hot_reset(struct vx_dev *d)
{
	struct {
		struct vfio_pci_hot_reset h;
		__s32 fd;
	} hr = { .h = { .argsz = sizeof(hr), .count = 1 }, .fd = d->group };

	return vx_ioctl(VFS_FD_DEVICE, d->device, VFIO_DEVICE_PCI_HOT_RESET, &hr);
}

int cmd_reset(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "hot", no_argument, NULL, 'H' },
		{ "hold", required_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long n = 1, i, ok = 0;
	unsigned long errs[256] = { 0 };
	double hold = 0;
	bool hot = false;
	struct vx_dev d;
	int o, e;

	while ((o = getopt_long(argc, argv, "n:", lo, NULL)) != -1) {
		switch (o) {
		case 'n':
			n = strtoul(optarg, NULL, 0);
			break;
		case 'H':
			hot = true;
			break;
		case 'h':
			hold = strtod(optarg, NULL);
			break;
		default:
			die("usage: vfio-exercise reset DEVICE [-n N] [--hot] [--hold SECONDS]");
		}
	}
	if (optind != argc - 1)
		die("usage: vfio-exercise reset DEVICE [-n N] [--hot] [--hold SECONDS]");
	vx_open(&d, argv[optind]);
	printf("device %s\nopens 1\n", d.name);
	printf("reset_flag %d\n", !!(d.info.flags & VFIO_DEVICE_FLAGS_RESET));
	for (i = 0; i < n; i++) {
		__u64 t0 = vx_now_ns();
		long r = hot ? hot_reset(&d) : vx_ioctl(VFS_FD_DEVICE, d.device,
							  VFIO_DEVICE_RESET, NULL);
		__u64 t1 = vx_now_ns();

		printf("reset_call %lu %s %llu\n", i, r < 0 ? strerrorname_np((int)-r) ?: "?" : "ok",
		       (unsigned long long)(t1 - t0));
		if (r >= 0)
			ok++;
		else if (-r < 256)
			errs[-r]++;
	}
	if (hold > 0)
		usleep((useconds_t)(hold * 1e6));
	vx_close(&d);
	printf("closes 1\n");
	printf("resets %s %lu\n", hot ? "hot" : "ioctl", n);
	printf("reset_result ok %lu\n", ok);
	for (e = 1; e < 256; e++)
		if (errs[e])
			printf("reset_result %s %lu\n", strerrorname_np(e) ?: "?", errs[e]);
	vx_print_summary(stdout);
	return 0;
}
