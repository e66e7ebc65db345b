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
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
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

/*
 * dma-race: the dma-rate loop with two hostile threads beside it. "mapper"
 * issues MAP_DMA (and UNMAP_DMA) through one argument struct that
 * "scribbler" keeps rewriting (size, iova, flags) while the kernel reads
 * it; "juggler" swaps the container fd for a fresh, unconfigured one,
 * closes it and puts the real one back. A rate quota's verdict must depend
 * on kernel-side state only: every call that reached the ioctl (all but
 * EBADF) was either allowed or refused with EAGAIN by the policy, whatever
 * the kernel then answered.
 */
struct race {
	struct vfio_iommu_type1_dma_map m;	/* shared, rewritten while in use */
	int container, keep;
	volatile int stop;
	__u64 map_allowed, map_eagain, map_ebadf, map_ok, unmap_allowed, unmap_ebadf;
	__u64 rewrites, swaps, first_ns, last_allowed_ns;
};

static void *race_mapper(void *arg)
{
	struct race *x = arg;
	struct vfio_iommu_type1_dma_unmap u = {
		.argsz = sizeof(u), .iova = IOVA_BASE, .size = 4096,
	};
	long r;

	x->first_ns = vx_now_ns();
	while (!x->stop) {
		r = vx_ioctl(VFS_FD_CONTAINER, x->container, VFIO_IOMMU_MAP_DMA, &x->m);
		if (r == -EAGAIN) {
			x->map_eagain++;
			continue;
		}
		if (r == -EBADF) {
			x->map_ebadf++;
			continue;
		}
		x->map_allowed++;
		x->last_allowed_ns = vx_now_ns();
		x->map_ok += r == 0;
		r = vx_ioctl(VFS_FD_CONTAINER, x->container, VFIO_IOMMU_UNMAP_DMA, &u);
		if (r == -EBADF)
			x->unmap_ebadf++;
		else
			x->unmap_allowed++;
	}
	return NULL;
}

static void *race_scribbler(void *arg)
{
	static const __u64 sizes[] = { 4096, 0, 3, 8192, 1ull << 40, 4096 };
	static const __u64 iovas[] = { IOVA_BASE, 1, ~0xfffull, IOVA_BASE + 4096 };
	static const __u32 flags[] = {
		VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE, 0, 0xffffffffu,
	};
	struct race *x = arg;
	unsigned int i = 0;

	while (!x->stop) {
		__atomic_store_n(&x->m.size, sizes[i % 6], __ATOMIC_RELAXED);
		__atomic_store_n(&x->m.iova, iovas[i % 4], __ATOMIC_RELAXED);
		__atomic_store_n(&x->m.flags, flags[i % 3], __ATOMIC_RELAXED);
		i++;
		x->rewrites++;
	}
	return NULL;
}

static void *race_juggler(void *arg)
{
	struct race *x = arg;
	int fresh;

	while (!x->stop) {
		fresh = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
		if (fresh < 0)
			die("open /dev/vfio/vfio: %s", strerror(errno));
		if (dup3(fresh, x->container, O_CLOEXEC) < 0)
			die("dup3: %s", strerror(errno));
		close(fresh);
		usleep(300);
		close(x->container);
		usleep(300);
		if (dup3(x->keep, x->container, O_CLOEXEC) < 0)
			die("dup3: %s", strerror(errno));
		x->swaps++;
		usleep(2000);
	}
	return NULL;
}

int cmd_dma_race(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "seconds", required_argument, NULL, 's' },
		{ "wait", no_argument, NULL, 'W' },
		{ NULL, 0, NULL, 0 },
	};
	struct vfio_iommu_type1_dma_unmap u = {
		.argsz = sizeof(u), .iova = IOVA_BASE, .size = 1ull << 41,
	};
	struct race x = { 0 };
	pthread_t t[3];
	__u64 secs = 3;
	int opt, wait = 0, i;
	char err[160];
	struct vx_dev d;
	void *mem;

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 's':
			if (vfs_parse_u64("--seconds", optarg, 1, 600, 0, &secs, err, sizeof(err)))
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
		die("usage: vfio-exercise dma-race DEVICE [--seconds S] [--wait]");
	vx_open(&d, argv[optind]);
	mem = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		die("mmap: %s", strerror(errno));
	munmap((char *)mem + 4096, 4096);	/* an 8 KiB map runs into a hole */
	x.m = (struct vfio_iommu_type1_dma_map){
		.argsz = sizeof(x.m), .vaddr = (__u64)(uintptr_t)mem, .iova = IOVA_BASE,
		.size = 4096, .flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
	};
	x.container = d.container;
	x.keep = dup(d.container);
	if (x.keep < 0)
		die("dup: %s", strerror(errno));
	if (wait)
		wait_go();
	if (pthread_create(&t[0], NULL, race_mapper, &x) ||
	    pthread_create(&t[1], NULL, race_scribbler, &x) ||
	    pthread_create(&t[2], NULL, race_juggler, &x))
		die("pthread_create failed");
	sleep(secs);
	x.stop = 1;
	for (i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
	/* whatever a torn struct left mapped in the real container */
	vx_ioctl(VFS_FD_CONTAINER, d.container, VFIO_IOMMU_UNMAP_DMA, &u);
	x.unmap_allowed++;
	close(x.keep);
	vx_close(&d);
	vx_print_summary(stdout);
	printf("race_map_allowed %llu\n", (unsigned long long)x.map_allowed);
	printf("race_map_eagain %llu\n", (unsigned long long)x.map_eagain);
	printf("race_map_ebadf %llu\n", (unsigned long long)x.map_ebadf);
	printf("race_map_ok %llu\n", (unsigned long long)x.map_ok);
	printf("race_unmap_allowed %llu\n", (unsigned long long)x.unmap_allowed);
	printf("race_unmap_ebadf %llu\n", (unsigned long long)x.unmap_ebadf);
	printf("race_rewrites %llu\n", (unsigned long long)x.rewrites);
	printf("race_swaps %llu\n", (unsigned long long)x.swaps);
	printf("race_elapsed_ns %llu\n",
	       (unsigned long long)(x.last_allowed_ns ? x.last_allowed_ns - x.first_ns : 0));
	return 0;
}
