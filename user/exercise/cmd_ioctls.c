// SPDX-License-Identifier: GPL-2.0
/*
 * ioctls: issue K ioctls of one kind on DEVICE's files, as fast as the
 * kernel answers - the countable load for exact and overload tests.
 *   --cmd get-info | region-info | irq-info | group-status | check-extension |
 *         api-version | unknown (an undefined device command: ENOTTY) |
 *         hostile (on the container, group and device each: an undefined
 *         VFIO number, a VFIO number with size bits no VFIO command has,
 *         a command of a foreign ioctl type: nine per op, all refused) |
 *         map-unmap (MAP_DMA + UNMAP_DMA of one page: two ioctls per op)
 *   --time   first K/10 untimed operations (warm-up), then print the timed
 *            loop's "ns_per_op" (for make bench's traced/untraced ratios)
 */
#include <errno.h>
#include <getopt.h>
#include <string.h>
#include <sys/mman.h>
#include "cli.h"
#include "cmds.h"
#include "vx.h"

#define PAGE_IOVA 0x20000000ull

static const char *const kinds[] = {
	"get-info", "region-info", "irq-info", "group-status", "check-extension",
	"api-version", "unknown", "map-unmap", "hostile",
};
enum { GET_INFO, REGION_INFO, IRQ_INFO, GROUP_STATUS, CHECK_EXT, API_VERSION, UNKNOWN,
       MAP_UNMAP, HOSTILE, NKINDS };

/* commands no VFIO file knows: the kernel answers ENOTTY or EINVAL */
static const unsigned long hostile_cmds[] = {
	_IO(VFIO_TYPE, VFIO_BASE + 63),
	_IOWR(VFIO_TYPE, VFIO_BASE + 7, __u64),	/* GET_INFO's number, with size bits */
	_IO(0xee, 0x42),			/* a foreign ioctl type */
};

static void one(struct vx_dev *d, int what, void *page)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };
	struct vfio_region_info ri;
	struct vfio_irq_info ii = { .argsz = sizeof(ii) };
	struct vfio_group_status gs = { .argsz = sizeof(gs) };

	switch (what) {
	case GET_INFO:
		vx_ioctl(VFS_FD_DEVICE, d->device, VFIO_DEVICE_GET_INFO, &info);
		break;
	case REGION_INFO:
		vx_region_info(d, 0, &ri);
		break;
	case IRQ_INFO:
		vx_ioctl(VFS_FD_DEVICE, d->device, VFIO_DEVICE_GET_IRQ_INFO, &ii);
		break;
	case GROUP_STATUS:
		vx_ioctl(VFS_FD_GROUP, d->group, VFIO_GROUP_GET_STATUS, &gs);
		break;
	case CHECK_EXT:
		vx_ioctl(VFS_FD_CONTAINER, d->container, VFIO_CHECK_EXTENSION,
			 (void *)(long)VFIO_TYPE1v2_IOMMU);
		break;
	case API_VERSION:
		vx_ioctl(VFS_FD_CONTAINER, d->container, VFIO_GET_API_VERSION, NULL);
		break;
	case UNKNOWN:
		vx_ioctl(VFS_FD_DEVICE, d->device, _IO(VFIO_TYPE, VFIO_BASE + 31), NULL);
		break;
	case MAP_UNMAP:
		vx_map(d, page, PAGE_IOVA, 4096);
		vx_unmap(d, PAGE_IOVA, 4096);
		break;
	case HOSTILE: {
		const struct { enum vfs_fd_kind kind; int fd; } fds[] = {
			{ VFS_FD_CONTAINER, d->container }, { VFS_FD_GROUP, d->group },
			{ VFS_FD_DEVICE, d->device },
		};
		__u64 junk[4] = { 0 };
		size_t f, c;
		long r;

		for (f = 0; f < 3; f++)
			for (c = 0; c < sizeof(hostile_cmds) / sizeof(hostile_cmds[0]); c++) {
				r = vx_ioctl(fds[f].kind, fds[f].fd, hostile_cmds[c], junk);
				if (r != -ENOTTY && r != -EINVAL)
					die("%s ioctl 0x%lx answered %ld, not ENOTTY or EINVAL",
					    vfio_fd_kind_name(fds[f].kind), hostile_cmds[c], r);
			}
		break;
	}
	}
}

int cmd_ioctls(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "cmd", required_argument, NULL, 'c' },
		{ "time", no_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	const char *name = "get-info";
	__u64 n = 1000, i, t0 = 0, t1 = 0;
	int opt, what, timed = 0;
	void *page = NULL;
	char err[160];
	struct vx_dev d;

	while ((opt = getopt_long(argc, argv, "n:", opts, NULL)) != -1) {
		switch (opt) {
		case 'n':
			if (vfs_parse_u64("-n", optarg, 1, 100000000, 0, &n, err, sizeof(err)))
				die("%s", err);
			break;
		case 'c':
			name = optarg;
			break;
		case 't':
			timed = 1;
			break;
		default:
			return 2;
		}
	}
	if (optind != argc - 1)
		die("usage: vfio-exercise ioctls DEVICE [--cmd KIND] [-n K] [--time]");
	for (what = 0; what < NKINDS && strcmp(name, kinds[what]); what++)
		;
	if (what == NKINDS)
		die("unknown --cmd '%s' (get-info, region-info, irq-info, group-status, "
		    "check-extension, api-version, unknown, map-unmap, hostile)", name);
	vx_open(&d, argv[optind]);
	if (what == MAP_UNMAP) {
		page = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
		if (page == MAP_FAILED)
			die("mmap of one page: %s", strerror(errno));
	}
	for (i = 0; timed && i < n / 10; i++)
		one(&d, what, page);
	t0 = vx_now_ns();
	for (i = 0; i < n; i++)
		one(&d, what, page);
	t1 = vx_now_ns();
	if (page)
		munmap(page, 4096);
	vx_close(&d);
	vx_print_summary(stdout);
	printf("ioctls_done %llu\n", (unsigned long long)n);
	if (timed)
		printf("ns_per_op %.1f\n", (double)(t1 - t0) / (double)n);
	return 0;
}
