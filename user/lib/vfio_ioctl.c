// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stddef.h>
#include <string.h>
#include <stdio.h>
#include "vfio_ioctl.h"

/* VFIO commands are _IO(';', 100 + n): no size or direction bits. */
#define VFIO_CMD(n)	((__u32)((';' << 8) | (100 + (n))))

struct ioctl_name {
	__u8 kinds;		/* bit per enum vfs_fd_kind */
	__u8 nr;
	const char *name;
};

#define K(kind)		(1u << (kind))
#define ANYFD		(K(VFS_FD_CONTAINER) | K(VFS_FD_GROUP) | K(VFS_FD_DEVICE))

static const struct ioctl_name vfio_names[] = {
	/* accepted on every VFIO file */
	{ ANYFD, 0, "VFIO_GET_API_VERSION" },
	{ ANYFD, 1, "VFIO_CHECK_EXTENSION" },
	/* container (and its IOMMU backend) */
	{ K(VFS_FD_CONTAINER), 2, "VFIO_SET_IOMMU" },
	{ K(VFS_FD_CONTAINER), 12, "VFIO_IOMMU_GET_INFO" },
	{ K(VFS_FD_CONTAINER), 13, "VFIO_IOMMU_MAP_DMA" },
	{ K(VFS_FD_CONTAINER), 14, "VFIO_IOMMU_UNMAP_DMA" },
	{ K(VFS_FD_CONTAINER), 15, "VFIO_IOMMU_ENABLE" },
	{ K(VFS_FD_CONTAINER), 16, "VFIO_IOMMU_DISABLE" },
	{ K(VFS_FD_CONTAINER), 17, "VFIO_IOMMU_DIRTY_PAGES" },
	{ K(VFS_FD_CONTAINER), 18, "VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY" },
	{ K(VFS_FD_CONTAINER), 19, "VFIO_IOMMU_SPAPR_TCE_CREATE" },
	{ K(VFS_FD_CONTAINER), 20, "VFIO_IOMMU_SPAPR_TCE_REMOVE" },
	{ K(VFS_FD_CONTAINER), 21, "VFIO_EEH_PE_OP" },
	/* group */
	{ K(VFS_FD_GROUP), 3, "VFIO_GROUP_GET_STATUS" },
	{ K(VFS_FD_GROUP), 4, "VFIO_GROUP_SET_CONTAINER" },
	{ K(VFS_FD_GROUP), 5, "VFIO_GROUP_UNSET_CONTAINER" },
	{ K(VFS_FD_GROUP), 6, "VFIO_GROUP_GET_DEVICE_FD" },
	/* device */
	{ K(VFS_FD_DEVICE), 7, "VFIO_DEVICE_GET_INFO" },
	{ K(VFS_FD_DEVICE), 8, "VFIO_DEVICE_GET_REGION_INFO" },
	{ K(VFS_FD_DEVICE), 9, "VFIO_DEVICE_GET_IRQ_INFO" },
	{ K(VFS_FD_DEVICE), 10, "VFIO_DEVICE_SET_IRQS" },
	{ K(VFS_FD_DEVICE), 11, "VFIO_DEVICE_RESET" },
	{ K(VFS_FD_DEVICE), 12, "VFIO_DEVICE_GET_PCI_HOT_RESET_INFO" },
	{ K(VFS_FD_DEVICE), 13, "VFIO_DEVICE_PCI_HOT_RESET" },
	{ K(VFS_FD_DEVICE), 14, "VFIO_DEVICE_QUERY_GFX_PLANE" },
	{ K(VFS_FD_DEVICE), 15, "VFIO_DEVICE_GET_GFX_DMABUF" },
	{ K(VFS_FD_DEVICE), 16, "VFIO_DEVICE_IOEVENTFD" },
	{ K(VFS_FD_DEVICE), 17, "VFIO_DEVICE_FEATURE" },
	{ K(VFS_FD_DEVICE), 18, "VFIO_DEVICE_BIND_IOMMUFD" },
	{ K(VFS_FD_DEVICE), 19, "VFIO_DEVICE_ATTACH_IOMMUFD_PT" },
	{ K(VFS_FD_DEVICE), 20, "VFIO_DEVICE_DETACH_IOMMUFD_PT" },
};

const char *vfio_ioctl_str(enum vfs_fd_kind kind, __u32 cmd, char *buf, size_t len)
{
	const char *n = vfio_ioctl_name(kind, cmd);

	if (n)
		return n;
	snprintf(buf, len, "0x%x", cmd);
	return buf;
}

const char *vfio_ioctl_name(enum vfs_fd_kind kind, __u32 cmd)
{
	size_t i;

	if (kind <= 0 || kind >= VFS_FD_KIND_MAX)
		return NULL;
	for (i = 0; i < sizeof(vfio_names) / sizeof(vfio_names[0]); i++) {
		const struct ioctl_name *n = &vfio_names[i];

		if ((n->kinds & K(kind)) && VFIO_CMD(n->nr) == cmd)
			return n->name;
	}
	return NULL;
}

static const char *const kind_names[VFS_FD_KIND_MAX] = {
	[VFS_FD_CONTAINER] = "container",
	[VFS_FD_GROUP] = "group",
	[VFS_FD_DEVICE] = "device",
	[VFS_FD_IOMMUFD] = "iommufd",
};

const char *vfio_fd_kind_name(enum vfs_fd_kind kind)
{
	if (kind <= 0 || kind >= VFS_FD_KIND_MAX)
		return "?";
	return kind_names[kind];
}

enum vfs_fd_kind vfio_fd_kind_parse(const char *name)
{
	int k;

	for (k = 1; k < VFS_FD_KIND_MAX; k++)
		if (!strcmp(name, kind_names[k]))
			return k;
	return 0;
}
