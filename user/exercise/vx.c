// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "vx.h"

#define NR_SLOTS 32
static unsigned long issued[VFS_FD_KIND_MAX][NR_SLOTS];
/* failed ioctls per kind, command and errno */
#define NR_ERRNO 256
static unsigned long failed[VFS_FD_KIND_MAX][NR_SLOTS][NR_ERRNO];
/* region accesses per index */
static struct {
	unsigned long reads, writes, read_bytes, write_bytes, mmaps, errors;
} regions[VX_MAX_REGIONS];
struct vx_stats vx_stats;
/* commands outside the VFIO _IO(';', 100 + n) slots: unknown ones, foreign ones */
#define NR_OTHER 16
static struct {
	__u32 kind, cmd;
	unsigned long issued, failed[NR_ERRNO];
} other[NR_OTHER];
static unsigned int nother;

static int vfio_slot(unsigned long cmd)
{
	unsigned int nr = _IOC_NR(cmd) - VFIO_BASE;

	return cmd == _IO(VFIO_TYPE, VFIO_BASE + nr) && nr < NR_SLOTS ? (int)nr : -1;
}

static unsigned int other_slot(enum vfs_fd_kind kind, unsigned long cmd)
{
	unsigned int i;

	for (i = 0; i < nother; i++)
		if (other[i].kind == (__u32)kind && other[i].cmd == (__u32)cmd)
			return i;
	if (nother == NR_OTHER)
		die("more than %d distinct unnamed ioctl commands", NR_OTHER);
	other[nother].kind = kind;
	other[nother].cmd = cmd;
	return nother++;
}

void die(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	va_start(ap, fmt);
	fputs("vfio-exercise: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

void warnx_(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("vfio-exercise: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

long vx_ioctl(enum vfs_fd_kind kind, int fd, unsigned long cmd, void *arg)
{
	int nr = vfio_slot(cmd);
	unsigned int o = nr < 0 ? other_slot(kind, cmd) : 0;
	long r;

	if (nr >= 0)
		issued[kind][nr]++;
	else
		other[o].issued++;
	r = ioctl(fd, cmd, arg);
	if (r >= 0)
		return r;
	r = -errno;
	if (-r >= NR_ERRNO)
		return r;
	if (nr >= 0)
		failed[kind][nr][-r]++;
	else
		other[o].failed[-r]++;
	return r;
}

/* the IOMMU group of a PCI device or an mdev, from sysfs */
static int open_group_of(const char *name)
{
	char path[512], link[512];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/iommu_group", name);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0) {
		snprintf(path, sizeof(path), "/sys/bus/mdev/devices/%s/iommu_group", name);
		n = readlink(path, link, sizeof(link) - 1);
	}
	if (n < 0)
		die("%s: neither a PCI device nor an mdev with an IOMMU group", name);
	link[n] = '\0';
	snprintf(path, sizeof(path), "/dev/vfio/%s", strrchr(link, '/') + 1);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		die("open %s: %s (is %s bound to a VFIO driver?)", path, strerror(errno), name);
	return fd;
}

void vx_open(struct vx_dev *d, const char *name)
{
	struct vfio_group_status gs = { .argsz = sizeof(gs) };
	struct vfio_iommu_type1_info ii = { .argsz = sizeof(ii) };
	long api;

	memset(d, 0, sizeof(*d));
	d->name = name;
	d->container = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	if (d->container < 0)
		die("open /dev/vfio/vfio: %s", strerror(errno));
	api = vx_ioctl(VFS_FD_CONTAINER, d->container, VFIO_GET_API_VERSION, NULL);
	if (api != VFIO_API_VERSION)
		die("VFIO API version %ld, expected %d", api, VFIO_API_VERSION);
	if (vx_ioctl(VFS_FD_CONTAINER, d->container, VFIO_CHECK_EXTENSION,
		     (void *)(long)VFIO_TYPE1v2_IOMMU) <= 0)
		die("the kernel's VFIO has no type1v2 IOMMU backend");

	d->group = open_group_of(name);
	VX_CHECK("VFIO_GROUP_GET_STATUS",
		 vx_ioctl(VFS_FD_GROUP, d->group, VFIO_GROUP_GET_STATUS, &gs));
	if (!(gs.flags & VFIO_GROUP_FLAGS_VIABLE))
		die("the IOMMU group of %s is not viable: bind every device in it to vfio", name);
	VX_CHECK("VFIO_GROUP_SET_CONTAINER",
		 vx_ioctl(VFS_FD_GROUP, d->group, VFIO_GROUP_SET_CONTAINER, &d->container));
	VX_CHECK("VFIO_SET_IOMMU", vx_ioctl(VFS_FD_CONTAINER, d->container, VFIO_SET_IOMMU,
					     (void *)(long)VFIO_TYPE1v2_IOMMU));
	VX_CHECK("VFIO_IOMMU_GET_INFO",
		 vx_ioctl(VFS_FD_CONTAINER, d->container, VFIO_IOMMU_GET_INFO, &ii));
	d->device = vx_ioctl(VFS_FD_GROUP, d->group, VFIO_GROUP_GET_DEVICE_FD, (void *)name);
	if (d->device < 0)
		die("VFIO_GROUP_GET_DEVICE_FD %s: %s", name, strerror(-d->device));
	d->info.argsz = sizeof(d->info);
	VX_CHECK("VFIO_DEVICE_GET_INFO",
		 vx_ioctl(VFS_FD_DEVICE, d->device, VFIO_DEVICE_GET_INFO, &d->info));
}

void vx_close(struct vx_dev *d)
{
	if (d->device >= 0)
		close(d->device);
	if (d->group >= 0)
		close(d->group);
	if (d->container >= 0)
		close(d->container);
	d->device = d->group = d->container = -1;
}

int vx_region_info(struct vx_dev *d, __u32 index, struct vfio_region_info *ri)
{
	int r;

	memset(ri, 0, sizeof(*ri));
	ri->argsz = sizeof(*ri);
	ri->index = index;
	r = vx_ioctl(VFS_FD_DEVICE, d->device, VFIO_DEVICE_GET_REGION_INFO, ri);
	if (!r && index < VX_MAX_REGIONS) {
		d->region_off[index] = ri->offset;
		d->region_size[index] = ri->size;
	}
	return r;
}

static void region_account(__u32 index, ssize_t r, int write)
{
	if (index >= VX_MAX_REGIONS)
		return;
	if (r < 0)
		regions[index].errors++;
	else if (write) {
		regions[index].writes++;
		regions[index].write_bytes += r;
	} else {
		regions[index].reads++;
		regions[index].read_bytes += r;
	}
}

ssize_t vx_region_read(struct vx_dev *d, __u32 index, __u64 off, void *buf, size_t len)
{
	ssize_t r = pread(d->device, buf, len, d->region_off[index % VX_MAX_REGIONS] + off);

	region_account(index, r, 0);
	return r;
}

ssize_t vx_region_write(struct vx_dev *d, __u32 index, __u64 off, const void *buf, size_t len)
{
	ssize_t r = pwrite(d->device, buf, len, d->region_off[index % VX_MAX_REGIONS] + off);

	region_account(index, r, 1);
	return r;
}

void *vx_region_mmap(struct vx_dev *d, __u32 index, size_t len, int prot)
{
	void *p = mmap(NULL, len, prot, MAP_SHARED, d->device,
		       d->region_off[index % VX_MAX_REGIONS]);

	if (index < VX_MAX_REGIONS) {
		if (p == MAP_FAILED)
			regions[index].errors++;
		else
			regions[index].mmaps++;
	}
	return p;
}

void vx_walk(struct vx_dev *d, FILE *out)
{
	struct vfio_region_info ri;
	__u32 i;
	int r;

	for (i = 0; i < d->info.num_regions; i++) {
		r = vx_region_info(d, i, &ri);
		if (out && !r)
			fprintf(out, "region %u size 0x%llx offset 0x%llx flags 0x%x\n", i,
				(unsigned long long)ri.size, (unsigned long long)ri.offset,
				ri.flags);
		else if (out)
			fprintf(out, "region %u absent (%s)\n", i, strerror(-r));
	}
	for (i = 0; i < d->info.num_irqs; i++) {
		struct vfio_irq_info ii = { .argsz = sizeof(ii), .index = i };

		r = vx_ioctl(VFS_FD_DEVICE, d->device, VFIO_DEVICE_GET_IRQ_INFO, &ii);
		if (out && !r)
			fprintf(out, "irq %u count %u flags 0x%x\n", i, ii.count, ii.flags);
	}
}

void vx_map(struct vx_dev *d, void *vaddr, __u64 iova, __u64 size)
{
	struct vfio_iommu_type1_dma_map m = {
		.argsz = sizeof(m),
		.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
		.vaddr = (__u64)(uintptr_t)vaddr,
		.iova = iova,
		.size = size,
	};

	VX_CHECK("VFIO_IOMMU_MAP_DMA",
		 vx_ioctl(VFS_FD_CONTAINER, d->container, VFIO_IOMMU_MAP_DMA, &m));
	vx_stats.dma_map_bytes += size;
}

void vx_unmap(struct vx_dev *d, __u64 iova, __u64 size)
{
	struct vfio_iommu_type1_dma_unmap u = {
		.argsz = sizeof(u),
		.iova = iova,
		.size = size,
	};

	VX_CHECK("VFIO_IOMMU_UNMAP_DMA",
		 vx_ioctl(VFS_FD_CONTAINER, d->container, VFIO_IOMMU_UNMAP_DMA, &u));
	vx_stats.dma_unmap_bytes += u.size;
}

struct mig_state_req {
	struct vfio_device_feature f;
	struct vfio_device_feature_mig_state st;
};

long vx_mig_set_state(struct vx_dev *d, __u32 state, int *fd)
{
	struct mig_state_req req = {
		.f.argsz = sizeof(req),
		.f.flags = VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE,
		.st.device_state = state,
		.st.data_fd = -1,
	};
	long r = vx_ioctl(VFS_FD_DEVICE, d->device, VFIO_DEVICE_FEATURE, &req);

	if (fd)
		*fd = r ? -1 : req.st.data_fd;
	else if (!r && req.st.data_fd >= 0)
		close(req.st.data_fd);
	return r;
}

long vx_mig_get_state(struct vx_dev *d, __u32 *state)
{
	struct mig_state_req req = {
		.f.argsz = sizeof(req),
		.f.flags = VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE,
	};
	long r = vx_ioctl(VFS_FD_DEVICE, d->device, VFIO_DEVICE_FEATURE, &req);

	*state = req.st.device_state;
	return r;
}

void vx_print_summary(FILE *out)
{
	unsigned int nr;
	int k;

	fprintf(out, "pid %d\n", getpid());
	for (k = 1; k < VFS_FD_KIND_MAX; k++)
		for (nr = 0; nr < NR_SLOTS; nr++) {
			__u32 cmd = _IO(VFIO_TYPE, VFIO_BASE + nr);
			const char *name = vfio_ioctl_name(k, cmd);

			if (!issued[k][nr])
				continue;
			if (name)
				fprintf(out, "ioctl %d %s %s %lu\n", getpid(),
					vfio_fd_kind_name(k), name, issued[k][nr]);
			else
				fprintf(out, "ioctl %d %s 0x%x %lu\n", getpid(),
					vfio_fd_kind_name(k), cmd, issued[k][nr]);
		}
	for (k = 1; k < VFS_FD_KIND_MAX; k++)
		for (nr = 0; nr < NR_SLOTS; nr++) {
			const char *name = vfio_ioctl_name(k, _IO(VFIO_TYPE, VFIO_BASE + nr));
			int e;

			for (e = 1; e < NR_ERRNO; e++)
				if (failed[k][nr][e])
					fprintf(out, "ioctl_errno %d %s %s %d %lu\n", getpid(),
						vfio_fd_kind_name(k), name ? name : "?", e,
						failed[k][nr][e]);
		}
	for (nr = 0; nr < nother; nr++) {
		int e;

		fprintf(out, "ioctl %d %s 0x%x %lu\n", getpid(),
			vfio_fd_kind_name(other[nr].kind), other[nr].cmd, other[nr].issued);
		for (e = 1; e < NR_ERRNO; e++)
			if (other[nr].failed[e])
				fprintf(out, "ioctl_errno %d %s 0x%x %d %lu\n", getpid(),
					vfio_fd_kind_name(other[nr].kind), other[nr].cmd, e,
					other[nr].failed[e]);
	}
	for (nr = 0; nr < VX_MAX_REGIONS; nr++)
		if (regions[nr].reads || regions[nr].writes || regions[nr].mmaps ||
		    regions[nr].errors)
			fprintf(out, "region %u reads %lu writes %lu read_bytes %lu "
				"write_bytes %lu mmaps %lu errors %lu\n", nr, regions[nr].reads,
				regions[nr].writes, regions[nr].read_bytes, regions[nr].write_bytes,
				regions[nr].mmaps, regions[nr].errors);
	fprintf(out, "dma_map_bytes %llu\n", vx_stats.dma_map_bytes);
	fprintf(out, "dma_unmap_bytes %llu\n", vx_stats.dma_unmap_bytes);
}

static __u64 clock_ns(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (__u64)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

__u64 vx_now_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

__u64 vx_realtime_ns(void)
{
	return clock_ns(CLOCK_REALTIME);
}
