// SPDX-License-Identifier: GPL-2.0
/*
 * ioctls: issue K ioctls of one kind on DEVICE's files, as fast as the
 * kernel answers - the countable load for exact and overload tests.
 *   --cmd get-info | region-info | irq-info | group-status | check-extension |
 *         api-version | unknown (an undefined device command: ENOTTY)
 */
#include <errno.h>
#include <getopt.h>
#include <string.h>
#include "cli.h"
#include "cmds.h"
#include "vx.h"

int cmd_ioctls(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "cmd", required_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 },
	};
	const char *what = "get-info";
	__u64 n = 1000, i;
	char err[160];
	struct vx_dev d;
	int opt;

	while ((opt = getopt_long(argc, argv, "n:", opts, NULL)) != -1) {
		switch (opt) {
		case 'n':
			if (vfs_parse_u64("-n", optarg, 1, 100000000, 0, &n, err, sizeof(err)))
				die("%s", err);
			break;
		case 'c':
			what = optarg;
			break;
		default:
			return 2;
		}
	}
	if (optind != argc - 1)
		die("usage: vfio-exercise ioctls DEVICE [--cmd KIND] [-n K]");
	vx_open(&d, argv[optind]);
	for (i = 0; i < n; i++) {
		struct vfio_device_info info = { .argsz = sizeof(info) };
		struct vfio_region_info ri;
		struct vfio_irq_info ii = { .argsz = sizeof(ii) };
		struct vfio_group_status gs = { .argsz = sizeof(gs) };

		if (!strcmp(what, "get-info"))
			vx_ioctl(VFS_FD_DEVICE, d.device, VFIO_DEVICE_GET_INFO, &info);
		else if (!strcmp(what, "region-info"))
			vx_region_info(&d, 0, &ri);
		else if (!strcmp(what, "irq-info"))
			vx_ioctl(VFS_FD_DEVICE, d.device, VFIO_DEVICE_GET_IRQ_INFO, &ii);
		else if (!strcmp(what, "group-status"))
			vx_ioctl(VFS_FD_GROUP, d.group, VFIO_GROUP_GET_STATUS, &gs);
		else if (!strcmp(what, "check-extension"))
			vx_ioctl(VFS_FD_CONTAINER, d.container, VFIO_CHECK_EXTENSION,
				 (void *)(long)VFIO_TYPE1v2_IOMMU);
		else if (!strcmp(what, "api-version"))
			vx_ioctl(VFS_FD_CONTAINER, d.container, VFIO_GET_API_VERSION, NULL);
		else if (!strcmp(what, "unknown"))
			vx_ioctl(VFS_FD_DEVICE, d.device, _IO(VFIO_TYPE, VFIO_BASE + 31), NULL);
		else
			die("unknown --cmd '%s' (get-info, region-info, irq-info, group-status, "
			    "check-extension, api-version, unknown)", what);
	}
	vx_close(&d);
	vx_print_summary(stdout);
	printf("ioctls_done %llu\n", (unsigned long long)n);
	return 0;
}
