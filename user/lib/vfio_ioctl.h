/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Names of VFIO and vhost-vdpa ioctl commands. */
#ifndef VFIOSCOPE_VFIO_IOCTL_H
#define VFIOSCOPE_VFIO_IOCTL_H

#include <stddef.h>
#include <linux/types.h>
#include "abi.h"

/*
 * vfio_ioctl_name() - the uAPI name of @cmd issued on a file of @kind.
 * VFIO numbers commands per file kind, so 0x3b71 is VFIO_IOMMU_MAP_DMA on a
 * container and VFIO_DEVICE_PCI_HOT_RESET on a device. Returns NULL for a
 * command this table does not know.
 */
const char *vfio_ioctl_name(enum vfs_fd_kind kind, __u32 cmd);
/* the name, or "0x<cmd>" in @buf for an unknown command */
const char *vfio_ioctl_str(enum vfs_fd_kind kind, __u32 cmd, char *buf, size_t len);

/* "container", "group", "device" (or "?") */
const char *vfio_fd_kind_name(enum vfs_fd_kind kind);

/* Parse a kind name back; 0 if unknown. */
enum vfs_fd_kind vfio_fd_kind_parse(const char *name);

#endif
