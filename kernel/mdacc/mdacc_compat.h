/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mdacc: the kernel API differences between the kernels mdacc builds for
 * (6.1 and 6.12). Upstream the driver would use the current API directly;
 * out of tree a version check is the only way to tell these apart.
 */
#ifndef MDACC_COMPAT_H
#define MDACC_COMPAT_H

#include <linux/eventfd.h>
#include <linux/version.h>
#include <linux/vfio.h>

/* v6.8 "eventfd: simplify eventfd_signal()" dropped the count argument */
static inline void mdacc_eventfd_signal(struct eventfd_ctx *ctx)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 8, 0)
	eventfd_signal(ctx);
#else
	eventfd_signal(ctx, 1);
#endif
}

/*
 * Before v6.2 ("vfio: Add helpers for unifying vfio_device life cycle"
 * follow-ups), @release had to free the device with vfio_free_device().
 */
static inline void mdacc_vfio_free_device(struct vfio_device *vdev)
{
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 2, 0)
	vfio_free_device(vdev);
#endif
}

#endif /* MDACC_COMPAT_H */
