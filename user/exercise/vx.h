/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vfio-exercise core: open VFIO devices like a VMM, issue ioctls through
 * vx_ioctl() so every command is counted, and report what was done. Each
 * command (cmd_*.c) builds on this; main.c dispatches.
 */
#ifndef VX_H
#define VX_H

#include <stdint.h>
#include <stdio.h>
#include <linux/types.h>
#include <linux/vfio.h>
#include "vfio_ioctl.h"

/*
 * uAPI newer than the build host's <linux/vfio.h> (Debian 12 ships 6.1's):
 * values from the 6.12 uAPI, where they are stable ABI.
 */
#ifndef VFIO_MIGRATION_PRE_COPY
#define VFIO_MIGRATION_PRE_COPY		(1 << 2)
#endif
#define VX_STATE_PRE_COPY		6	/* VFIO_DEVICE_STATE_PRE_COPY */
#define VX_STATE_PRE_COPY_P2P		7	/* VFIO_DEVICE_STATE_PRE_COPY_P2P */
#define VX_STATE_NR			8
#ifndef VFIO_MIG_GET_PRECOPY_INFO
struct vfio_precopy_info {
	__u32 argsz;
	__u32 flags;
	__aligned_u64 initial_bytes;
	__aligned_u64 dirty_bytes;
};
#define VFIO_MIG_GET_PRECOPY_INFO	_IO(VFIO_TYPE, VFIO_BASE + 21)
#endif

void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void warnx_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ioctl() on a VFIO file of @kind, counted; returns the result or -errno */
long vx_ioctl(enum vfs_fd_kind kind, int fd, unsigned long cmd, void *arg);

#define VX_CHECK(what, expr) do {					\
	long __r = (expr);						\
	if (__r < 0)							\
		die("%s: %s", what, strerror((int)-__r));		\
} while (0)

#define VX_MAX_REGIONS	16

struct vx_dev {
	const char *name;		/* PCI BDF or mdev UUID */
	int container, group, device;
	struct vfio_device_info info;
	/* offsets of the regions asked about, for vx_region_read/write */
	__u64 region_off[VX_MAX_REGIONS];
	__u64 region_size[VX_MAX_REGIONS];
};

/*
 * Open @name (a PCI BDF or an mdev UUID) through its IOMMU group in a new
 * type1v2 container. Dies with a clear message on failure.
 */
void vx_open(struct vx_dev *d, const char *name);
void vx_close(struct vx_dev *d);

/* region info of @index; returns 0 or -errno (absent regions: -EINVAL) */
int vx_region_info(struct vx_dev *d, __u32 index, struct vfio_region_info *ri);
/* GET_REGION_INFO / GET_IRQ_INFO for every index; with @out, one line each */
void vx_walk(struct vx_dev *d, FILE *out);

/*
 * Region accesses through the device fd, counted per region index (the
 * region must have been looked up with vx_region_info first). They return
 * what pread/pwrite/mmap return.
 */
ssize_t vx_region_read(struct vx_dev *d, __u32 index, __u64 off, void *buf, size_t len);
ssize_t vx_region_write(struct vx_dev *d, __u32 index, __u64 off, const void *buf, size_t len);
void *vx_region_mmap(struct vx_dev *d, __u32 index, size_t len, int prot);

/* DMA mapping in @d's container, accounted in the summary */
void vx_map(struct vx_dev *d, void *vaddr, __u64 iova, __u64 size);
void vx_unmap(struct vx_dev *d, __u64 iova, __u64 size);

/*
 * VFIO_DEVICE_FEATURE(MIG_DEVICE_STATE): set @state (one FSM request; a
 * data fd the kernel returns goes to @fd, or is closed when @fd is NULL)
 * and get the current state. Both return 0 or -errno.
 */
long vx_mig_set_state(struct vx_dev *d, __u32 state, int *fd);
long vx_mig_get_state(struct vx_dev *d, __u32 *state);

/* counters every summary prints */
struct vx_stats {
	unsigned long long dma_map_bytes, dma_unmap_bytes;
};
extern struct vx_stats vx_stats;

/* "pid", one "ioctl" line per command issued, the DMA byte counts */
void vx_print_summary(FILE *out);

/* monotonic and realtime clocks in ns, for arc timestamps */
__u64 vx_now_ns(void);
__u64 vx_realtime_ns(void);

#endif
