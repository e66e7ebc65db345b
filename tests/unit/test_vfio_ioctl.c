// SPDX-License-Identifier: GPL-2.0
#include <criterion/criterion.h>
#include <stddef.h>
#include <linux/vfio.h>
#include "vfio_ioctl.h"

Test(vfio_ioctl, names_match_uapi_numbers)
{
	cr_expect_str_eq(vfio_ioctl_name(VFS_FD_CONTAINER, VFIO_GET_API_VERSION),
			 "VFIO_GET_API_VERSION");
	cr_expect_str_eq(vfio_ioctl_name(VFS_FD_DEVICE, VFIO_CHECK_EXTENSION),
			 "VFIO_CHECK_EXTENSION");
	cr_expect_str_eq(vfio_ioctl_name(VFS_FD_CONTAINER, VFIO_SET_IOMMU), "VFIO_SET_IOMMU");
	cr_expect_str_eq(vfio_ioctl_name(VFS_FD_GROUP, VFIO_GROUP_GET_DEVICE_FD),
			 "VFIO_GROUP_GET_DEVICE_FD");
	cr_expect_str_eq(vfio_ioctl_name(VFS_FD_DEVICE, VFIO_DEVICE_SET_IRQS),
			 "VFIO_DEVICE_SET_IRQS");
	cr_expect_str_eq(vfio_ioctl_name(VFS_FD_DEVICE, VFIO_DEVICE_FEATURE),
			 "VFIO_DEVICE_FEATURE");
	cr_expect_str_eq(vfio_ioctl_name(VFS_FD_CONTAINER, VFIO_IOMMU_DIRTY_PAGES),
			 "VFIO_IOMMU_DIRTY_PAGES");
}

/* the same number means different commands on different kinds of file */
Test(vfio_ioctl, kind_disambiguates_shared_numbers)
{
	cr_assert_eq(VFIO_IOMMU_MAP_DMA, VFIO_DEVICE_PCI_HOT_RESET);
	cr_expect_str_eq(vfio_ioctl_name(VFS_FD_CONTAINER, VFIO_IOMMU_MAP_DMA),
			 "VFIO_IOMMU_MAP_DMA");
	cr_expect_str_eq(vfio_ioctl_name(VFS_FD_DEVICE, VFIO_IOMMU_MAP_DMA),
			 "VFIO_DEVICE_PCI_HOT_RESET");
	cr_expect_str_eq(vfio_ioctl_name(VFS_FD_CONTAINER, VFIO_IOMMU_GET_INFO),
			 "VFIO_IOMMU_GET_INFO");
	cr_expect_str_eq(vfio_ioctl_name(VFS_FD_DEVICE, VFIO_IOMMU_GET_INFO),
			 "VFIO_DEVICE_GET_PCI_HOT_RESET_INFO");
	cr_expect_null(vfio_ioctl_name(VFS_FD_GROUP, VFIO_IOMMU_MAP_DMA));
}

Test(vfio_ioctl, unknown_commands_and_kinds)
{
	cr_expect_null(vfio_ioctl_name(VFS_FD_DEVICE, 0x5401 /* TCGETS */));
	cr_expect_null(vfio_ioctl_name(VFS_FD_DEVICE, VFIO_GET_API_VERSION + 40));
	cr_expect_null(vfio_ioctl_name(0, VFIO_GET_API_VERSION));
	cr_expect_null(vfio_ioctl_name(VFS_FD_KIND_MAX, VFIO_GET_API_VERSION));
	cr_expect_str_eq(vfio_fd_kind_name(99), "?");
}

Test(vfio_ioctl, kind_names_round_trip)
{
	int k;

	for (k = 1; k < VFS_FD_KIND_MAX; k++)
		cr_expect_eq((int)vfio_fd_kind_parse(vfio_fd_kind_name(k)), k);
	cr_expect_eq(vfio_fd_kind_parse("socket"), 0);
}

Test(abi, ioctl_key_layout)
{
	cr_expect_eq(sizeof(struct vfs_ioctl_key), 16);
	cr_expect_eq(offsetof(struct vfs_ioctl_key, tgid), 0);
	cr_expect_eq(offsetof(struct vfs_ioctl_key, cmd), 4);
	cr_expect_eq(offsetof(struct vfs_ioctl_key, kind), 8);
}
