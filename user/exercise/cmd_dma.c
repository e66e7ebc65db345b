// SPDX-License-Identifier: GPL-2.0
/*
 * dma: map COUNT buffers of SIZE bytes for DMA in DEVICE's container (type1
 * pins every page and charges it to this process's locked memory), say
 * "mapped" on stderr, hold them for SECONDS (SIGUSR1 ends the hold early),
 * unmap, print the summary with
 * "dma_pinned_pages <n>" (what was pinned while held).
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "cli.h"
#include "cmds.h"
#include "vx.h"

#define IOVA_BASE 0x10000000ull

static void wake(int sig)
{
}

int cmd_dma(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "size", required_argument, NULL, 'S' },
		{ "hold", required_argument, NULL, 'H' },
		{ NULL, 0, NULL, 0 },
	};
	__u64 count = 1, size = 1 << 20, hold = 0, i;
	char err[160];
	struct vx_dev d;
	__u8 *mem;
	int opt;

	while ((opt = getopt_long(argc, argv, "n:", opts, NULL)) != -1) {
		switch (opt) {
		case 'n':
			if (vfs_parse_u64("-n", optarg, 1, 4096, 0, &count, err, sizeof(err)))
				die("%s", err);
			break;
		case 'S':
			if (vfs_parse_u64("--size", optarg, 4096, 1ull << 32, 1, &size, err,
					  sizeof(err)))
				die("%s", err);
			if (size & 4095)
				die("--size must be a multiple of 4096");
			break;
		case 'H':
			if (vfs_parse_u64("--hold", optarg, 0, 3600, 0, &hold, err, sizeof(err)))
				die("%s", err);
			break;
		default:
			return 2;
		}
	}
	if (optind != argc - 1)
		die("usage: vfio-exercise dma DEVICE [-n COUNT] [--size BYTES] [--hold SECONDS]");
	vx_open(&d, argv[optind]);
	mem = mmap(NULL, count * size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		die("mmap %llu bytes: %s", (unsigned long long)(count * size), strerror(errno));
	for (i = 0; i < count; i++)
		vx_map(&d, mem + i * size, IOVA_BASE + i * size, size);
	signal(SIGUSR1, wake);
	fprintf(stderr, "mapped\n");
	sleep(hold);	/* returns early on SIGUSR1 */
	for (i = 0; i < count; i++)
		vx_unmap(&d, IOVA_BASE + i * size, size);
	vx_close(&d);
	vx_print_summary(stdout);
	printf("dma_pinned_pages %llu\n", (unsigned long long)(count * size / 4096));
	return 0;
}
