// SPDX-License-Identifier: GPL-2.0
/*
 * vfio-exercise: drive VFIO devices through the uAPI the way a VMM does and
 * print exactly what was done, as the ground truth vfioscope's integration
 * tests compare against.
 *
 *   vfio-exercise info BDF
 *	open the device through its group and describe it: flags, every
 *	region (size, offset, flags) and IRQ index (count, flags).
 *
 *   vfio-exercise edu-dma BDF [-n LOOPS] [-s SEED]
 *	container + group (type1v2), DMA mapping, region and IRQ walk,
 *	LOOPS DMA round trips RAM -> edu -> RAM through the IOMMU, unmap.
 *
 * Summary on stdout, one fact per line:
 *   pid <pid>
 *   ioctl <pid> <kind> <name> <count>      (one line per command issued)
 *   dma_map_bytes <n> / dma_unmap_bytes <n> / dma_roundtrips <n>
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <linux/pci_regs.h>
#include <linux/vfio.h>
#include "vfio_ioctl.h"

/* the ioctl commands issued, per file kind and command number */
#define NR_SLOTS 32
static unsigned long issued[VFS_FD_KIND_MAX][NR_SLOTS];

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("vfio-exercise: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

/* ioctl() that records the command; returns 0 or -errno */
static int vx_ioctl(enum vfs_fd_kind kind, int fd, unsigned long cmd, void *arg)
{
	unsigned int nr = _IOC_NR(cmd) - VFIO_BASE;

	if (nr < NR_SLOTS)
		issued[kind][nr]++;
	return ioctl(fd, cmd, arg) < 0 ? -errno : 0;
}

#define CHECK(what, expr) do {						\
	int __r = (expr);						\
	if (__r < 0)							\
		die("%s: %s", what, strerror(-__r));			\
} while (0)

static void print_issued(void)
{
	int k;
	unsigned int nr;

	for (k = 1; k < VFS_FD_KIND_MAX; k++)
		for (nr = 0; nr < NR_SLOTS; nr++) {
			__u32 cmd = _IO(VFIO_TYPE, VFIO_BASE + nr);
			const char *name = vfio_ioctl_name(k, cmd);

			if (!issued[k][nr])
				continue;
			if (name)
				printf("ioctl %d %s %s %lu\n", getpid(),
				       vfio_fd_kind_name(k), name, issued[k][nr]);
			else
				printf("ioctl %d %s 0x%x %lu\n", getpid(),
				       vfio_fd_kind_name(k), cmd, issued[k][nr]);
		}
}

/* ------------------------------------------------------------- edu device */
/* QEMU's edu device (docs/specs/edu.rst): BAR0 registers and a 4 KiB buffer */
#define EDU_IDENT	0x00
#define EDU_DMA_SRC	0x80
#define EDU_DMA_DST	0x88
#define EDU_DMA_CNT	0x90
#define EDU_DMA_CMD	0x98
#define EDU_CMD_START	0x1
#define EDU_CMD_TO_RAM	0x2
#define EDU_BUF		0x40000
/* QEMU 7.2's edu rejects (aborts on) a DMA of the full 4096 bytes */
#define EDU_DMA_LEN	2048
#define EDU_DMA_MASK	((1ull << 28) - 1)

#define IOVA_BASE	0x100000ull
#define MAP_SIZE	0x100000ull

struct vfio {
	int container, group, device;
	struct vfio_device_info info;
};

static int open_group_of(const char *bdf)
{
	char path[256], link[256];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/iommu_group", bdf);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		die("%s: no IOMMU group (%s)", bdf, strerror(errno));
	link[n] = '\0';
	snprintf(path, sizeof(path), "/dev/vfio/%s", strrchr(link, '/') + 1);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		die("open %s: %s (is %s bound to vfio-pci?)", path, strerror(errno), bdf);
	return fd;
}

static void vfio_open(struct vfio *v, const char *bdf)
{
	struct vfio_group_status gs = { .argsz = sizeof(gs) };
	struct vfio_iommu_type1_info ii = { .argsz = sizeof(ii) };
	int api;

	v->container = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	if (v->container < 0)
		die("open /dev/vfio/vfio: %s", strerror(errno));
	api = ioctl(v->container, VFIO_GET_API_VERSION);
	issued[VFS_FD_CONTAINER][0]++;
	if (api != VFIO_API_VERSION)
		die("VFIO API version %d, expected %d", api, VFIO_API_VERSION);
	if (vx_ioctl(VFS_FD_CONTAINER, v->container, VFIO_CHECK_EXTENSION,
		     (void *)(long)VFIO_TYPE1v2_IOMMU) < 0)
		die("VFIO_CHECK_EXTENSION failed");

	v->group = open_group_of(bdf);
	CHECK("VFIO_GROUP_GET_STATUS",
	      vx_ioctl(VFS_FD_GROUP, v->group, VFIO_GROUP_GET_STATUS, &gs));
	if (!(gs.flags & VFIO_GROUP_FLAGS_VIABLE))
		die("group of %s is not viable: bind every device in it to vfio-pci", bdf);
	CHECK("VFIO_GROUP_SET_CONTAINER",
	      vx_ioctl(VFS_FD_GROUP, v->group, VFIO_GROUP_SET_CONTAINER, &v->container));
	CHECK("VFIO_SET_IOMMU", vx_ioctl(VFS_FD_CONTAINER, v->container,
					  VFIO_SET_IOMMU, (void *)(long)VFIO_TYPE1v2_IOMMU));
	CHECK("VFIO_IOMMU_GET_INFO",
	      vx_ioctl(VFS_FD_CONTAINER, v->container, VFIO_IOMMU_GET_INFO, &ii));

	/* GET_DEVICE_FD returns the fd: count it by hand */
	issued[VFS_FD_GROUP][_IOC_NR(VFIO_GROUP_GET_DEVICE_FD) - VFIO_BASE]++;
	v->device = ioctl(v->group, VFIO_GROUP_GET_DEVICE_FD, bdf);
	if (v->device < 0)
		die("VFIO_GROUP_GET_DEVICE_FD %s: %s", bdf, strerror(errno));
	v->info.argsz = sizeof(v->info);
	CHECK("VFIO_DEVICE_GET_INFO",
	      vx_ioctl(VFS_FD_DEVICE, v->device, VFIO_DEVICE_GET_INFO, &v->info));
}

static void region_info(struct vfio *v, __u32 index, struct vfio_region_info *ri)
{
	memset(ri, 0, sizeof(*ri));
	ri->argsz = sizeof(*ri);
	ri->index = index;
	CHECK("VFIO_DEVICE_GET_REGION_INFO",
	      vx_ioctl(VFS_FD_DEVICE, v->device, VFIO_DEVICE_GET_REGION_INFO, ri));
}

/*
 * Walk every region and IRQ index, as a VMM does when it builds the device;
 * with @print, one line each.
 */
static void walk_device(struct vfio *v, int print)
{
	struct vfio_region_info ri;
	__u32 i;
	int r;

	for (i = 0; i < v->info.num_regions; i++) {
		memset(&ri, 0, sizeof(ri));
		ri.argsz = sizeof(ri);
		ri.index = i;
		/* absent regions (e.g. VGA) answer EINVAL: that is not an error */
		r = vx_ioctl(VFS_FD_DEVICE, v->device, VFIO_DEVICE_GET_REGION_INFO, &ri);
		if (print && !r)
			printf("region %u size 0x%llx offset 0x%llx flags 0x%x\n", i,
			       (unsigned long long)ri.size,
			       (unsigned long long)ri.offset, ri.flags);
		else if (print)
			printf("region %u absent (%s)\n", i, strerror(-r));
	}
	for (i = 0; i < v->info.num_irqs; i++) {
		struct vfio_irq_info ii = { .argsz = sizeof(ii), .index = i };

		r = vx_ioctl(VFS_FD_DEVICE, v->device, VFIO_DEVICE_GET_IRQ_INFO, &ii);
		if (print && !r)
			printf("irq %u count %u flags 0x%x\n", i, ii.count, ii.flags);
	}
}

static int cmd_info(int argc, char **argv)
{
	struct vfio v;

	if (argc != 2)
		die("usage: vfio-exercise info BDF");
	vfio_open(&v, argv[1]);
	printf("device %s\n", argv[1]);
	printf("device_flags 0x%x%s%s%s\n", v.info.flags,
	       v.info.flags & VFIO_DEVICE_FLAGS_PCI ? " pci" : "",
	       v.info.flags & VFIO_DEVICE_FLAGS_RESET ? " reset" : "",
	       v.info.flags & VFIO_DEVICE_FLAGS_PLATFORM ? " platform" : "");
	printf("regions %u\nirqs %u\n", v.info.num_regions, v.info.num_irqs);
	walk_device(&v, 1);
	close(v.device);
	close(v.group);
	close(v.container);
	return 0;
}

static void edu_wait(volatile __u8 *bar)
{
	struct timespec t = { 0, 100000 };
	int i;

	for (i = 0; i < 20000; i++) {
		if (!(*(volatile __u64 *)(bar + EDU_DMA_CMD) & EDU_CMD_START))
			return;
		nanosleep(&t, NULL);
	}
	die("edu DMA did not complete");
}

static void edu_dma(volatile __u8 *bar, __u64 src, __u64 dst, __u64 len, __u64 cmd)
{
	*(volatile __u64 *)(bar + EDU_DMA_SRC) = src;
	*(volatile __u64 *)(bar + EDU_DMA_DST) = dst;
	*(volatile __u64 *)(bar + EDU_DMA_CNT) = len;
	*(volatile __u64 *)(bar + EDU_DMA_CMD) = cmd;
	edu_wait(bar);
}

static int cmd_edu_dma(int argc, char **argv)
{
	struct vfio_iommu_type1_dma_map map = { .argsz = sizeof(map) };
	struct vfio_iommu_type1_dma_unmap unmap = { .argsz = sizeof(unmap) };
	struct vfio_region_info cfg, bar0;
	unsigned long loops = 1, seed = 1, l, i;
	const char *bdf;
	struct vfio v;
	__u8 *mem, *bar;
	__u16 command;
	int opt;

	while ((opt = getopt(argc, argv, "n:s:")) != -1) {
		switch (opt) {
		case 'n':
			loops = strtoul(optarg, NULL, 0);
			break;
		case 's':
			seed = strtoul(optarg, NULL, 0);
			break;
		default:
			return 2;
		}
	}
	if (optind != argc - 1)
		die("usage: vfio-exercise edu-dma BDF [-n LOOPS] [-s SEED]");
	bdf = argv[optind];

	vfio_open(&v, bdf);
	walk_device(&v, 0);

	mem = mmap(NULL, MAP_SIZE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		die("mmap: %s", strerror(errno));
	map.vaddr = (__u64)(unsigned long)mem;
	map.iova = IOVA_BASE;
	map.size = MAP_SIZE;
	map.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE;
	CHECK("VFIO_IOMMU_MAP_DMA",
	      vx_ioctl(VFS_FD_CONTAINER, v.container, VFIO_IOMMU_MAP_DMA, &map));

	/* a device does no DMA before the driver enables bus mastering */
	region_info(&v, VFIO_PCI_CONFIG_REGION_INDEX, &cfg);
	if (pread(v.device, &command, 2, cfg.offset + PCI_COMMAND) != 2)
		die("read PCI_COMMAND: %s", strerror(errno));
	command |= PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
	if (pwrite(v.device, &command, 2, cfg.offset + PCI_COMMAND) != 2)
		die("write PCI_COMMAND: %s", strerror(errno));

	region_info(&v, VFIO_PCI_BAR0_REGION_INDEX, &bar0);
	if (!(bar0.flags & VFIO_REGION_INFO_FLAG_MMAP))
		die("BAR0 of %s cannot be mmapped", bdf);
	bar = mmap(NULL, bar0.size, PROT_READ | PROT_WRITE, MAP_SHARED,
		   v.device, bar0.offset);
	if (bar == MAP_FAILED)
		die("mmap BAR0: %s", strerror(errno));
	if ((*(volatile __u32 *)(bar + EDU_IDENT) & 0xff) != 0xed)
		die("%s is not an edu device (ident 0x%x)", bdf,
		    *(volatile __u32 *)(bar + EDU_IDENT));

	for (l = 0; l < loops; l++) {
		__u8 *out = mem, *in = mem + MAP_SIZE / 2;

		srandom(seed + l);
		for (i = 0; i < EDU_DMA_LEN; i++) {
			out[i] = random();
			in[i] = ~out[i];
		}
		edu_dma(bar, IOVA_BASE, EDU_BUF, EDU_DMA_LEN, EDU_CMD_START);
		edu_dma(bar, EDU_BUF, (IOVA_BASE + MAP_SIZE / 2) & EDU_DMA_MASK,
			EDU_DMA_LEN, EDU_CMD_START | EDU_CMD_TO_RAM);
		if (memcmp(out, in, EDU_DMA_LEN))
			die("DMA round trip %lu: data mismatch", l);
	}

	unmap.iova = IOVA_BASE;
	unmap.size = MAP_SIZE;
	CHECK("VFIO_IOMMU_UNMAP_DMA",
	      vx_ioctl(VFS_FD_CONTAINER, v.container, VFIO_IOMMU_UNMAP_DMA, &unmap));

	munmap(bar, bar0.size);
	close(v.device);
	close(v.group);
	close(v.container);

	printf("pid %d\n", getpid());
	print_issued();
	printf("dma_map_bytes %llu\n", (unsigned long long)map.size);
	printf("dma_unmap_bytes %llu\n", (unsigned long long)unmap.size);
	printf("dma_roundtrips %lu\n", loops);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: vfio-exercise info BDF\n"
			"       vfio-exercise edu-dma BDF [-n LOOPS] [-s SEED]\n");
		return 2;
	}
	if (!strcmp(argv[1], "info"))
		return cmd_info(argc - 1, argv + 1);
	if (!strcmp(argv[1], "edu-dma"))
		return cmd_edu_dma(argc - 1, argv + 1);
	fprintf(stderr, "vfio-exercise: unknown command '%s'\n", argv[1]);
	return 2;
}
