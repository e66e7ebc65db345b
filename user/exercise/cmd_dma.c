// SPDX-License-Identifier: GPL-2.0
/*
 * dma: map COUNT buffers of SIZE bytes for DMA in DEVICE's container (type1
 * pins every page and charges it to this process's locked memory), say
 * "mapped" on stderr, hold them for SECONDS (SIGUSR1 ends the hold early),
 * unmap, print the summary with
 * "dma_pinned_pages <n>" (what was pinned while held).
 *
 * dma-rate: MAP_DMA (and unmap) one buffer as fast as the kernel lets it
 * for SECONDS (SIGUSR1 ends it early, at the next call), counting accepted
 * maps and EAGAIN refusals per window: the ground truth for rate quotas.
 *
 * --wait (both): after opening the device, say "ready" on stderr and wait
 * for SIGUSR2 before the first map (so a policy can match the process).
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include "cli.h"
#include "cmds.h"
#include "vx.h"

#define IOVA_BASE 0x10000000ull

static void wake(int sig)
{
}

static volatile sig_atomic_t go;

static void on_go(int sig)
{
	go = 1;
}

static volatile sig_atomic_t stop;

static void on_stop(int sig)
{
	stop = 1;
}

/* "ready" on stderr, then wait for SIGUSR2 */
static void wait_go(void)
{
	sigset_t block, old;

	signal(SIGUSR2, on_go);
	sigemptyset(&block);
	sigaddset(&block, SIGUSR2);
	sigprocmask(SIG_BLOCK, &block, &old);
	fprintf(stderr, "ready\n");
	while (!go)
		sigsuspend(&old);
	sigprocmask(SIG_SETMASK, &old, NULL);
}

int cmd_dma(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "size", required_argument, NULL, 'S' },
		{ "hold", required_argument, NULL, 'H' },
		{ "wait", no_argument, NULL, 'W' },
		{ NULL, 0, NULL, 0 },
	};
	__u64 count = 1, size = 1 << 20, hold = 0, i;
	int opt, wait = 0;
	char err[160];
	struct vx_dev d;
	__u8 *mem;

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
		case 'W':
			wait = 1;
			break;
		default:
			return 2;
		}
	}
	if (optind != argc - 1)
		die("usage: vfio-exercise dma DEVICE [-n COUNT] [--size BYTES] [--hold SECONDS] [--wait]");
	vx_open(&d, argv[optind]);
	if (wait)
		wait_go();
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

int cmd_dma_rate(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "seconds", required_argument, NULL, 's' },
		{ "window-ms", required_argument, NULL, 'w' },
		{ "wait", no_argument, NULL, 'W' },
		{ NULL, 0, NULL, 0 },
	};
	__u64 secs = 2, window_ms = 500, accepted = 0, eagain = 0, win_acc = 0, win_again = 0;
	__u64 start, end, now, last_ok = 0, first = 0, win_end;
	struct vfio_iommu_type1_dma_map m = {
		.argsz = sizeof(m),
		.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
		.iova = IOVA_BASE,
		.size = 4096,
	};
	struct vfio_iommu_type1_dma_unmap u = {
		.argsz = sizeof(u), .iova = IOVA_BASE, .size = 4096,
	};
	unsigned int window = 0;
	int opt, wait = 0;
	char err[160];
	struct vx_dev d;
	void *mem;
	long r;

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 's':
			if (vfs_parse_u64("--seconds", optarg, 1, 600, 0, &secs, err, sizeof(err)))
				die("%s", err);
			break;
		case 'w':
			if (vfs_parse_u64("--window-ms", optarg, 10, 60000, 0, &window_ms, err,
					  sizeof(err)))
				die("%s", err);
			break;
		case 'W':
			wait = 1;
			break;
		default:
			return 2;
		}
	}
	if (optind != argc - 1)
		die("usage: vfio-exercise dma-rate DEVICE [--seconds S] [--window-ms W] [--wait]");
	vx_open(&d, argv[optind]);
	mem = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		die("mmap: %s", strerror(errno));
	m.vaddr = (__u64)(uintptr_t)mem;
	signal(SIGUSR1, on_stop);
	if (wait)
		wait_go();
	start = vx_now_ns();
	end = start + secs * 1000000000ull;
	win_end = start + window_ms * 1000000ull;
	for (now = start; now < end && !stop; now = vx_now_ns()) {
		if (now >= win_end) {
			printf("window %u accepted %llu eagain %llu\n", window++,
			       (unsigned long long)win_acc, (unsigned long long)win_again);
			win_acc = win_again = 0;
			win_end += window_ms * 1000000ull;
		}
		if (!first)
			first = now;
		r = vx_ioctl(VFS_FD_CONTAINER, d.container, VFIO_IOMMU_MAP_DMA, &m);
		if (r == -EAGAIN) {
			eagain++;
			win_again++;
			continue;
		}
		if (r < 0)
			die("VFIO_IOMMU_MAP_DMA: %s", strerror((int)-r));
		last_ok = vx_now_ns();
		accepted++;
		win_acc++;
		vx_stats.dma_map_bytes += m.size;
		/* the unmap is not what is measured: retry it until it passes */
		while ((r = vx_ioctl(VFS_FD_CONTAINER, d.container, VFIO_IOMMU_UNMAP_DMA, &u)) == -EAGAIN)
			usleep(1000);
		if (r < 0)
			die("VFIO_IOMMU_UNMAP_DMA: %s", strerror((int)-r));
		vx_stats.dma_unmap_bytes += u.size;
	}
	printf("window %u accepted %llu eagain %llu\n", window,
	       (unsigned long long)win_acc, (unsigned long long)win_again);
	vx_close(&d);
	vx_print_summary(stdout);
	printf("dma_rate_calls %llu\n", (unsigned long long)(accepted + eagain));
	printf("dma_rate_accepted %llu\n", (unsigned long long)accepted);
	printf("dma_rate_eagain %llu\n", (unsigned long long)eagain);
	/* from the first call to the last accepted one: the bucket's window */
	printf("dma_rate_elapsed_ns %llu\n",
	       (unsigned long long)(last_ok ? last_ok - first : 0));
	return 0;
}
