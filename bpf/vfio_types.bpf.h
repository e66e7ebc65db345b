/* SPDX-License-Identifier: GPL-2.0 */
/*
 * VFIO and mdev kernel types for BPF programs: they live in modules, not in
 * vmlinux.h, so these are minimal local flavours that CO-RE relocates
 * against the running kernel's module BTF. Include after vmlinux.h.
 */
#ifndef VFIOSCOPE_VFIO_TYPES_BPF_H
#define VFIOSCOPE_VFIO_TYPES_BPF_H

struct vfio_device___vfs {
	struct device *dev;
	struct vfio_group___vfs *group;
} __attribute__((preserve_access_index));

/* since v6.5 (cdev support), a device file's private_data is this */
struct vfio_device_file___vfs {
	struct vfio_device___vfs *device;
} __attribute__((preserve_access_index));

struct vfio_group___vfs {
	struct iommu_group *iommu_group;
} __attribute__((preserve_access_index));

/* vfio-pci's device: the vfio_device first, then the PCI device */
struct vfio_pci_core_device___vfs {
	struct vfio_device___vfs vdev;
	struct pci_dev *pdev;
} __attribute__((preserve_access_index));

struct mdev_parent___vfs {
	struct device *dev;
} __attribute__((preserve_access_index));

struct mdev_type___vfs {
	struct mdev_parent___vfs *parent;
	struct kobject kobj;
} __attribute__((preserve_access_index));

struct mdev_device___vfs {
	struct device dev;
	guid_t uuid;
	struct mdev_type___vfs *type;
} __attribute__((preserve_access_index));

/*
 * An Intel IOMMU (DMAR) unit: built in where present, but vmlinux.h may
 * come from a kernel without it. Its registers (reg) are MMIO.
 */
struct intel_iommu___vfs {
	void *reg;
	__u64 cap;
	int seq_id;
	__u16 segment;
	unsigned char name[13];
} __attribute__((preserve_access_index));

#endif
