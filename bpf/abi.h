/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The one ABI between vfioscope's BPF programs and userspace. Included by
 * BPF C (after vmlinux.h) and by userspace C (after <linux/types.h>), so it
 * uses only fixed-width __u and __s types and explicit padding; every
 * struct's size is asserted so a layout change cannot slip through.
 *
 * Objects (devices, groups, containers, vDPA devices) are keyed by their
 * kernel address: stable while the object lives, never shown to users
 * (userspace maps them to names through the *_info maps).
 * A VM is the process that issues the VFIO calls: keyed by tgid, with its
 * cgroup id recorded when first seen.
 */
#ifndef VFIOSCOPE_ABI_H
#define VFIOSCOPE_ABI_H

#define VFS_ABI_VERSION		6

/* What kind of VFIO file an ioctl went to. */
enum vfs_fd_kind {
	VFS_FD_CONTAINER = 1,	/* /dev/vfio/vfio */
	VFS_FD_GROUP = 2,	/* /dev/vfio/<group> */
	VFS_FD_DEVICE = 3,	/* anon [vfio-device] or a vfio cdev */
	VFS_FD_IOMMUFD = 4,	/* /dev/iommu, or iommufd's VFIO compat container */
	VFS_FD_KIND_MAX = 5,
};

/* log2 latency histogram: slot i counts latencies in [2^i, 2^(i+1)) ns */
#define VFS_HIST_SLOTS		32
#define VFS_NAME_LEN		48
#define VFS_COMM_LEN		16
/* what vm_info keeps of a VM's command line and cgroup path (first sight) */
#define VFS_ARGV_LEN		256
#define VFS_CGROUP_LEVELS	3
#define VFS_CGROUP_NAME_LEN	64

#define VFS_ABI_ASSERT(type, size) \
	_Static_assert(sizeof(type) == (size), "ABI size of " #type)

/* ------------------------------------------------------------------ maps */

/* ioctlcount (bench proof): per process, file kind and command */
struct vfs_ioctl_key {
	__u32 tgid;
	__u32 cmd;
	__u32 kind;		/* enum vfs_fd_kind */
	__u32 pad;
};
VFS_ABI_ASSERT(struct vfs_ioctl_key, 16);

/* ioctl_stats: per VM, VFIO object and command (per-CPU values) */
struct vfs_cmd_key {
	__u64 obj;		/* vfio_device / vfio_group / container address */
	__u32 tgid;
	__u32 cmd;
	__u32 kind;		/* enum vfs_fd_kind */
	__u32 pad;
};
VFS_ABI_ASSERT(struct vfs_cmd_key, 24);

struct vfs_cmd_val {
	__u64 count;
	__u64 errors;		/* calls that returned < 0 */
	__u64 lat_sum_ns;
	__u64 lat_max_ns;
	__u32 hist[VFS_HIST_SLOTS];
};
VFS_ABI_ASSERT(struct vfs_cmd_val, 160);

/* ioctl_errno: how often each errno came back (errors are rare: shared) */
struct vfs_errno_key {
	__u64 obj;
	__u32 tgid;
	__u32 cmd;
	__u32 err;		/* positive errno */
	__u32 kind;
};
VFS_ABI_ASSERT(struct vfs_errno_key, 24);

/* obj_info: what an object is, who owns it */
struct vfs_obj_info {
	char name[VFS_NAME_LEN];	/* device name, "group <n>", "container" */
	__u64 cgroup_id;		/* owner's cgroup */
	__u64 first_ns;			/* first seen */
	__u32 owner_tgid;		/* last process that used it */
	__u32 kind;			/* enum vfs_fd_kind */
	__u32 group_id;			/* IOMMU group (devices, groups) */
	__u32 pad;
	/*
	 * When the kernel object went away (a device unregistered); 0 while
	 * it lives. Userspace deletes the object's entries a grace period
	 * later (user/lib/gc.c).
	 */
	__u64 gone_ns;
};
VFS_ABI_ASSERT(struct vfs_obj_info, 88);

/* vm_stats: per VM (per-CPU values) */
struct vfs_vm_val {
	__u64 dma_map_ops;
	__u64 dma_map_bytes;
	__u64 dma_map_errors;
	__u64 dma_unmap_ops;
	__u64 dma_unmap_bytes;
	__u64 dma_unmap_errors;
	__s64 pinned_pages;	/* type1 charges (locked_vm deltas) */
	__u64 ext_pin_pages;	/* vfio_pin_pages() for emulated-IOMMU devices */
	__u64 ext_unpin_pages;
	__u64 irq_set_calls;
};
VFS_ABI_ASSERT(struct vfs_vm_val, 80);

struct vfs_vm_info {
	__u64 cgroup_id;
	__u64 first_ns;
	char comm[VFS_COMM_LEN];
	/*
	 * mm->locked_vm (pages) after the last change type1 made to it (DMA
	 * map/unmap, an mdev driver's vfio_pin_pages) or after the VM's last
	 * map/unmap: type1 charges pinned pages there, so it is right even
	 * for a collector attached after the VM started (it includes
	 * mlock()ed memory). 0 once the VM exited: an exited process pins
	 * nothing.
	 */
	__u64 locked_pages;
	__u64 locked_ns;	/* when it was read */
	/*
	 * mm->pinned_vm (pages) after the VM's last vhost-vdpa IOTLB message
	 * or the release of its /dev/vhost-vdpa-N: vhost_vdpa charges the
	 * guest memory it pins for a device's DMA there, not to locked_vm.
	 * PINNED is locked_pages + vhost_pinned_pages. 0 once the VM exited.
	 */
	__u64 vhost_pinned_pages;
	/*
	 * RLIMIT_MEMLOCK (bytes, RLIM_INFINITY = ~0) as of the last charge
	 * to either ledger: the limit type1 checks locked_vm against, and
	 * vhost_vdpa pinned_vm. VFS_MEMLOCK_KNOWN once read; VFS_MEMLOCK_BYPASS
	 * when type1's last charge bypassed it (CAP_IPC_LOCK).
	 */
	__u64 memlock_limit;
	__u32 memlock_flags;
	__u32 memlock_pad;
	/*
	 * When the VM process exited (its last thread); 0 while it runs.
	 * Userspace deletes the VM's entries a grace period later.
	 */
	__u64 exit_ns;
	/*
	 * Who the VM is, captured when it was first seen (in its own context)
	 * so that its name outlives the process: the start of its argument
	 * area (argv, NUL-separated, as /proc/PID/cmdline), and the names of
	 * its cgroup v2 directory and the two above it, innermost first
	 * ("" past the root). argv_len bytes were captured of arg_len; a
	 * capture shorter than arg_len ends mid-argument (cut at
	 * VFS_ARGV_LEN, or where reading the user page failed). All zero on
	 * the kprobe tier, which reads no kernel structure.
	 */
	__u32 argv_len;
	__u32 arg_len;
	char argv[VFS_ARGV_LEN];
	char cgroup[VFS_CGROUP_LEVELS][VFS_CGROUP_NAME_LEN];
};
VFS_ABI_ASSERT(struct vfs_vm_info, 536);

#define VFS_MEMLOCK_KNOWN	0x1
#define VFS_MEMLOCK_BYPASS	0x2

/* region_stats: trapped region accesses per device and region index */
struct vfs_region_key {
	__u64 obj;		/* vfio_device */
	__u32 index;		/* region index (vfio-pci offset layout) */
	__u32 pad;
};
VFS_ABI_ASSERT(struct vfs_region_key, 16);

struct vfs_region_val {
	__u64 reads;
	__u64 writes;
	__u64 read_bytes;
	__u64 write_bytes;
	__u64 mmaps;
	__u64 errors;
};
VFS_ABI_ASSERT(struct vfs_region_val, 48);

/* irq_stats: per device and IRQ index */
struct vfs_irq_key {
	__u64 obj;
	__u32 index;
	__u32 pad;
};
VFS_ABI_ASSERT(struct vfs_irq_key, 16);

struct vfs_irq_val {
	__u64 set_calls;	/* VFIO_DEVICE_SET_IRQS on this index */
	__u64 vectors;		/* count of the last SET_IRQS */
	__u64 flags;		/* flags of the last SET_IRQS */
	__u64 signals;		/* interrupts delivered (where observable) */
};
VFS_ABI_ASSERT(struct vfs_irq_val, 32);

/* drops: every loss, counted where it happens (per-CPU array) */
enum vfs_drop {
	VFS_DROP_RINGBUF = 0,		/* ring buffer full: event lost */
	VFS_DROP_MAP_IOCTL,		/* ioctl_stats full */
	VFS_DROP_MAP_ERRNO,
	VFS_DROP_MAP_OBJ,
	VFS_DROP_MAP_VM,
	VFS_DROP_MAP_REGION,
	VFS_DROP_MAP_IRQ,
	VFS_DROP_MAP_INFLIGHT,		/* too many concurrent calls tracked (kprobe tier) */
	VFS_DROP_MAP_MIG,
	VFS_DROP_MAP_VDPA,
	/* filled by userspace from the programs' recursion_misses: a probe
	 * the kernel skipped because a BPF program already ran on the CPU */
	VFS_DROP_RECURSION,
	VFS_DROP_MAP_RESET,		/* reset_stats full */
	VFS_DROP_MAP_FAULT,		/* fault_stats full */
	/* data on a migration fd made before the collector attached (or
	 * whose entry the full mig_files map evicted): not attributable */
	VFS_DROP_MIG_FD_UNKNOWN,
	/* a call not tracked: the kernel's task storage was busy on the CPU
	 * (a BPF program using it was interrupted or preempted there), or
	 * could not allocate the thread's entry */
	VFS_DROP_INFLIGHT_BUSY,
	VFS_DROP_MAX = 16,
};

/* control: knobs userspace sets on the shared (pinned) programs */
struct vfs_control {
	__u32 stream;		/* bit per enum vfs_event_type: stream these */
	__u32 pad;
};
VFS_ABI_ASSERT(struct vfs_control, 8);

/* ---------------------------------------------------------------- events */

enum vfs_event_type {
	VFS_EV_IOCTL = 1,	/* every VFIO ioctl (only when streamed) */
	VFS_EV_MIG_ARC,		/* a migration FSM arc */
	VFS_EV_MIG_DATA,	/* bytes on a migration data fd (tracepoint tier) */
	VFS_EV_MDEV,		/* mdev create/remove */
	VFS_EV_REGION,		/* region read/write/mmap (only when streamed) */
	VFS_EV_VDPA,		/* vDPA device add/del/status */
	VFS_EV_POLICY,		/* a quota throttled, denied or would have */
	VFS_EV_DMA,		/* type1 map/unmap and its result (tracepoint tier) */
	VFS_EV_MIG_REQ,		/* a migration state request, kernel-timed (tracepoint tier) */
	VFS_EV_VM_EXIT,		/* a VM process (one that used VFIO) exited */
	VFS_EV_RESET,		/* a PCI device reset (or a reset request that ran none) */
	VFS_EV_IOMMU_FAULT,	/* a DMA (or interrupt) remapping fault the IOMMU recorded */
	VFS_EV_MIG_PRECOPY,	/* VFIO_MIG_GET_PRECOPY_INFO on a data fd (learned f_ops) */
	VFS_EV_TYPE_MAX,
};

#define VFS_STREAM(type)	(1u << (type))
/* always delivered: rare lifecycle events */
#define VFS_STREAM_DEFAULT	(VFS_STREAM(VFS_EV_MIG_ARC) | VFS_STREAM(VFS_EV_MIG_DATA) | \
				 VFS_STREAM(VFS_EV_MDEV) | VFS_STREAM(VFS_EV_VDPA) | \
				 VFS_STREAM(VFS_EV_VM_EXIT) | VFS_STREAM(VFS_EV_RESET) | \
				 VFS_STREAM(VFS_EV_IOMMU_FAULT) | VFS_STREAM(VFS_EV_MIG_PRECOPY))

struct vfs_event_hdr {
	__u16 type;		/* enum vfs_event_type */
	__u16 version;		/* VFS_ABI_VERSION */
	__u32 size;		/* of the whole event */
	__u64 ts_ns;		/* bpf_ktime_get_ns() */
	__u64 cgroup_id;
	__u32 tgid;
	__u32 tid;
	char comm[VFS_COMM_LEN];
};
VFS_ABI_ASSERT(struct vfs_event_hdr, 48);

struct vfs_ev_ioctl {
	struct vfs_event_hdr hdr;
	__u64 obj;
	__u64 lat_ns;
	__u64 arg;		/* the ioctl's argument (a user address, as is) */
	__s64 ret;
	__u32 cmd;
	__u32 kind;
	/* decoded where cheap: MAP/UNMAP iova+size, SET_IRQS index/count,
	 * DEVICE_FEATURE flags (a0) */
	__u64 a0, a1;
};
VFS_ABI_ASSERT(struct vfs_ev_ioctl, 104);

/* how an event's data was obtained */
enum vfs_tier {
	VFS_TIER_NONE = 0,
	VFS_TIER_TRACEPOINT = 1,	/* our tracepoints (tp_btf) */
	VFS_TIER_FENTRY = 2,		/* fentry/fexit on stock functions */
	VFS_TIER_KPROBE = 3,		/* kprobes, no BTF */
};

struct vfs_ev_mig_arc {
	struct vfs_event_hdr hdr;
	__u64 obj;		/* vfio_device */
	__u64 start_ns;
	__u64 end_ns;
	__u32 from;		/* enum vfio_device_mig_state */
	__u32 to;
	__s32 ret;		/* 0 or -errno */
	__u32 tier;		/* enum vfs_tier */
	char dev[VFS_NAME_LEN];
};
VFS_ABI_ASSERT(struct vfs_ev_mig_arc, 136);

struct vfs_ev_mig_data {
	struct vfs_event_hdr hdr;
	__u64 obj;
	__u64 bytes;		/* asked for (the read/write count) */
	__s64 ret;		/* bytes moved, or -errno */
	__u32 write;		/* 0: read (saving), 1: write (resuming) */
	__u32 tier;		/* enum vfs_tier: driver tracepoint or learned f_op */
	/*
	 * Learned f_ops only: bytes the fd moved before this operation that
	 * no event reported (its functions were attached after the fd was
	 * made), from the fd's position (every in-tree migration driver
	 * keeps its stream offset in f_pos). 0 on the tracepoint tier. Bytes
	 * no operation event reported come alone (bytes 0, ret 0) when the
	 * device's next state change is asked for (its fds are swept at the
	 * ioctl's entry) or when the fd is released.
	 */
	__u64 unseen;
	char dev[VFS_NAME_LEN];
};
VFS_ABI_ASSERT(struct vfs_ev_mig_data, 136);

/*
 * VFIO_MIG_GET_PRECOPY_INFO answered on a saving data fd: how much of the
 * initial state is still to be read, and how much was dirtied since
 * (the convergence a VMM watches before it stops the VM).
 */
struct vfs_ev_mig_precopy {
	struct vfs_event_hdr hdr;
	__u64 obj;
	__u64 initial_bytes;
	__u64 dirty_bytes;
	__s64 ret;		/* 0 or -errno (then the sizes are 0) */
	char dev[VFS_NAME_LEN];
};
VFS_ABI_ASSERT(struct vfs_ev_mig_precopy, 128);

/*
 * Learned migration f_ops (bpf/vfio.bpf.c fills, the collector attaches):
 * key the file_operations address a data fd carries.
 */
struct vfs_fops_val {
	__u64 read, write, ioctl, release;	/* its functions, 0 = none */
	__u64 first_ns;			/* when it was first seen */
};
VFS_ABI_ASSERT(struct vfs_fops_val, 40);

/* a live migration data fd: key its struct file */
struct vfs_migf_val {
	__u64 obj;			/* vfio_device */
	__u64 fops;			/* its f_op: a file no longer carrying it is gone */
	__s64 seen_pos;			/* stream offset events accounted up to */
	char dev[VFS_NAME_LEN];		/* its name, read once when the fd was made */
};
VFS_ABI_ASSERT(struct vfs_migf_val, 72);

enum vfs_mdev_op { VFS_MDEV_CREATE = 1, VFS_MDEV_REMOVE = 2 };

struct vfs_ev_mdev {
	struct vfs_event_hdr hdr;
	__u32 op;		/* enum vfs_mdev_op */
	__s32 ret;
	__u8 uuid[16];
	char parent[VFS_NAME_LEN];
	char type[VFS_NAME_LEN];
};
VFS_ABI_ASSERT(struct vfs_ev_mdev, 168);

struct vfs_ev_region {
	struct vfs_event_hdr hdr;
	__u64 obj;
	__u64 offset;		/* within the region */
	__u64 size;
	__s64 ret;
	__u32 index;
	__u32 op;		/* 0 read, 1 write, 2 mmap */
};
VFS_ABI_ASSERT(struct vfs_ev_region, 88);

enum vfs_vdpa_op { VFS_VDPA_ADD = 1, VFS_VDPA_DEL = 2, VFS_VDPA_STATUS = 3 };

struct vfs_ev_vdpa {
	struct vfs_event_hdr hdr;
	__u64 obj;		/* vdpa_device */
	__u32 op;		/* enum vfs_vdpa_op */
	__u32 status;		/* new status for VFS_VDPA_STATUS */
	__u32 old_status;
	__s32 ret;
	char name[VFS_NAME_LEN];
};
VFS_ABI_ASSERT(struct vfs_ev_vdpa, 120);

/*
 * Only the tracepoint series (kernel/patches) sees these: type1's map and
 * unmap handlers are inlined on stock kernels.
 */
enum vfs_dma_op { VFS_DMA_MAP = 1, VFS_DMA_UNMAP = 2 };

struct vfs_ev_dma {
	struct vfs_event_hdr hdr;
	__u64 iova;
	__u64 size;		/* requested */
	__u64 done;		/* mapped (size or 0) / actually unmapped */
	__u64 vaddr;		/* map only */
	__s32 ret;
	__u32 op;		/* enum vfs_dma_op */
	__u32 flags;		/* VFIO_DMA_MAP_FLAG_* (map only) */
	__u32 pad;
};
VFS_ABI_ASSERT(struct vfs_ev_dma, 96);

/* VFS_EV_MIG_REQ uses struct vfs_ev_mig_arc: from, to, ret, start/end */

/* VFS_EV_VM_EXIT: the header names the VM (its last thread) */
struct vfs_ev_vm_exit {
	struct vfs_event_hdr hdr;
	__u64 first_ns;		/* when the VM was first seen (vm_info) */
	__s32 exit_code;	/* the task's exit_code (wait status) */
	__u32 pad;
};
VFS_ABI_ASSERT(struct vfs_ev_vm_exit, 64);

/* ---------------------------------------------------------------- resets */
/*
 * PCI device resets (bpf/vfio.bpf.c), seen in the PCI core: a function
 * reset (__pci_reset_function_locked) with the method that acted, a slot or
 * bus reset of a whole VFIO dev set (pci_reset_bus), and a reset request
 * that ran no reset at all (the device has no method, the lock was busy,
 * vfio-pci refused it before the PCI core): method NONE, with its result.
 */
enum vfs_reset_method {
	VFS_RESET_NONE = 0,		/* no reset ran */
	VFS_RESET_FLR = 1,		/* PCIe function level reset (pcie_reset_flr) */
	VFS_RESET_AF_FLR = 2,		/* conventional PCI Advanced Features FLR */
	VFS_RESET_PM = 3,		/* D3hot and back to D0 (pci_pm_reset) */
	VFS_RESET_BUS = 4,		/* secondary bus reset for one function (method "bus") */
	VFS_RESET_DEV_SPECIFIC = 5,	/* a device quirk (pci_dev_specific_reset) */
	VFS_RESET_ACPI = 6,		/* ACPI _RST */
	VFS_RESET_CXL_BUS = 7,		/* CXL secondary bus reset (6.7+) */
	VFS_RESET_HOT = 8,		/* slot or bus reset of a dev set (pci_reset_bus) */
	VFS_RESET_METHOD_MAX = 9,
};

/* why a reset happened */
enum vfs_reset_cause {
	VFS_RESET_C_OTHER = 0,		/* none of VFIO's paths: sysfs, AER, a driver */
	VFS_RESET_C_IOCTL = 1,		/* VFIO_DEVICE_RESET */
	VFS_RESET_C_HOT = 2,		/* VFIO_DEVICE_PCI_HOT_RESET */
	VFS_RESET_C_OPEN = 3,		/* vfio-pci enabling the device (first open) */
	VFS_RESET_C_RELEASE = 4,	/* vfio-pci disabling it (last close) */
	VFS_RESET_C_MAX = 5,
};

/* reset_stats: per device, VM, method, cause and result */
struct vfs_reset_key {
	__u64 obj;		/* vfio_device (0: none known: cause OTHER) */
	char dev[VFS_NAME_LEN];	/* the PCI device reset (for HOT: the one passed) */
	__u32 tgid;		/* the process whose call caused it */
	__u32 method;		/* enum vfs_reset_method */
	__u32 cause;		/* enum vfs_reset_cause */
	__s32 ret;		/* 0 or -errno */
};
VFS_ABI_ASSERT(struct vfs_reset_key, 72);

struct vfs_reset_val {
	__u64 count;
	__u64 dur_sum_ns;
	__u64 dur_max_ns;
	__u64 last_ns;		/* when the last one ended (bpf_ktime_get_ns) */
	__u64 last_dur_ns;
	__u32 hist[VFS_HIST_SLOTS];	/* log2 of the durations */
};
VFS_ABI_ASSERT(struct vfs_reset_val, 168);

struct vfs_ev_reset {
	struct vfs_event_hdr hdr;
	__u64 obj;		/* vfio_device, 0: none known */
	__u64 start_ns;
	__u64 end_ns;
	__s32 ret;
	__u32 method;		/* enum vfs_reset_method */
	__u32 cause;		/* enum vfs_reset_cause */
	__u32 tier;		/* enum vfs_tier */
	char dev[VFS_NAME_LEN];
};
VFS_ABI_ASSERT(struct vfs_ev_reset, 136);

/* ---------------------------------------------------------- IOMMU faults */
/*
 * Remapping faults (bpf/vfio.bpf.c): the Intel IOMMU's primary fault
 * records, read from the unit's registers when its fault interrupt is taken
 * (fentry on dmar_fault), before the kernel clears them and whatever its
 * rate-limited log prints. Each names the requester (PCI segment and source
 * id: bus, device, function), the page, the reason code (VT-d's: 0x05 PTE
 * write access not set, 0x06 read, ...; 0x20 and up are interrupt
 * remapping faults) and the access; and, when the requester is a VFIO
 * device (by its PCI address), that device and the VM that used it last,
 * as of the fault.
 */
enum vfs_fault_flag {
	VFS_FAULT_F_READ = 1,		/* a read request (else a write) */
	VFS_FAULT_F_PASID = 2,		/* the request carried a PASID */
};

/* fault_stats: per IOMMU unit, requester, reason, access and owner */
struct vfs_fault_key {
	__u64 obj;		/* the requester's vfio_device, 0: not a VFIO device */
	__u32 tgid;		/* its owner when the fault came, 0: none */
	__u16 segment;		/* PCI segment (domain) */
	__u16 sid;		/* source id: bus << 8 | devfn */
	__u8 reason;		/* VT-d fault reason code */
	__u8 flags;		/* enum vfs_fault_flag */
	__u16 unit;		/* the DMAR unit's sequence number (dmarN) */
	__u32 pad;
};
VFS_ABI_ASSERT(struct vfs_fault_key, 24);

struct vfs_fault_val {
	__u64 count;
	__u64 last_ns;		/* bpf_ktime_get_ns() */
	__u64 last_addr;	/* the page (DMA faults) or fault info (interrupt) */
};
VFS_ABI_ASSERT(struct vfs_fault_val, 24);

/*
 * fault_units: per DMAR unit (array index: its sequence number),
 * what the handler saw: interrupts, records read, and what the hardware or
 * this reader could not deliver: interrupts that found the overflow bit set
 * (the unit's records were full and it dropped faults) and pending records
 * past the ones read per interrupt.
 */
#define VFS_FAULT_UNITS		64
#define VFS_FAULT_RECORDS_MAX	16	/* records read per interrupt */
struct vfs_fault_unit {
	__u64 irqs;
	__u64 records;
	__u64 overflows;
	__u64 unread;		/* interrupts that left records past the ones read */
	char name[16];		/* "dmar0" */
};
VFS_ABI_ASSERT(struct vfs_fault_unit, 48);

struct vfs_ev_iommu_fault {
	struct vfs_event_hdr hdr;	/* tgid, cgroup: the owner's (0: none); tid 0, comm "" */
	__u64 obj;		/* the requester's vfio_device, 0: not a VFIO device */
	__u64 addr;
	__u32 pasid;		/* with VFS_FAULT_F_PASID */
	__u16 segment;
	__u16 sid;
	__u8 reason;
	__u8 flags;
	__u16 unit;
	__u32 tier;		/* enum vfs_tier */
	char unit_name[16];
};
VFS_ABI_ASSERT(struct vfs_ev_iommu_fault, 96);

/* ------------------------------------------------------------------ vDPA */

enum vfs_vdpa_path {
	VFS_VDPA_PATH_VIRTIO = 1,	/* bound to virtio_vdpa (kernel virtio) */
	VFS_VDPA_PATH_VHOST = 2,	/* bound to vhost_vdpa (a VMM) */
};

/* vdpa_vq_stats: per vDPA device and virtqueue (per-CPU values) */
struct vfs_vq_key {
	__u64 obj;		/* vdpa_device */
	__u32 qid;
	__u32 path;		/* enum vfs_vdpa_path */
};
VFS_ABI_ASSERT(struct vfs_vq_key, 16);

struct vfs_vq_val {
	__u64 kicks;		/* driver -> device notifications */
	__u64 calls;		/* device -> driver interrupts/callbacks */
};
VFS_ABI_ASSERT(struct vfs_vq_val, 16);

/* vfs_vdpa_info.flags: lifecycle seen while loaded */
enum vfs_vdpa_flag {
	VFS_VDPA_F_ADDED = 1,		/* registered */
	VFS_VDPA_F_REMOVED = 2,		/* unregistered (counts kept until collected or reuse) */
};

/* vdpa_info: name, owner and status of each vDPA device seen */
struct vfs_vdpa_info {
	char name[VFS_NAME_LEN];
	__u64 cgroup_id;	/* owner (vhost-vdpa opener); 0 for in-kernel */
	__u32 owner_tgid;
	__u32 status;		/* last virtio status set */
	__u32 path;
	__u32 flags;		/* enum vfs_vdpa_flag bits */
	/* when it was unregistered (0: registered); collected a grace period later */
	__u64 gone_ns;
};
VFS_ABI_ASSERT(struct vfs_vdpa_info, 80);

/* ---------------------------------------------------------------- policy */
/*
 * vfio-policyd (bpf/policy.bpf.c): per-VM quotas. Maps are pinned under
 * /sys/fs/bpf/vfioscope/policy/ and written only by the daemon. Rules are
 * keyed by a 32-bit id derived from the rule's name, so counters survive
 * reloads that keep the name.
 */
#define VFS_POL_MAX_RULES	256

/* what an ioctl is charged as; ALL is the bucket every class also pays */
enum vfs_pol_class {
	VFS_POL_ALL = 0,
	VFS_POL_DMA_MAP = 1,	/* VFIO_IOMMU_MAP_DMA (container) */
	VFS_POL_DMA_UNMAP = 2,	/* VFIO_IOMMU_UNMAP_DMA (container) */
	VFS_POL_RESET = 3,	/* VFIO_DEVICE_RESET, VFIO_DEVICE_PCI_HOT_RESET */
	VFS_POL_MIGRATION = 4,	/* VFIO_DEVICE_FEATURE (carries the migration FSM) */
	VFS_POL_OTHER = 5,	/* every other VFIO ioctl: counted, limited by ALL */
	VFS_POL_CLASS_MAX = 6,
};
#define VFS_POL_BUCKETS		VFS_POL_OTHER	/* ALL..MIGRATION have buckets */

enum vfs_pol_mode {
	VFS_POL_MODE_INHERIT = 0,	/* rule: use the global mode */
	VFS_POL_MODE_MONITOR = 1,	/* count would-deny, deny nothing */
	VFS_POL_MODE_ENFORCE = 2,
};

/* pol_conf[0] */
struct vfs_pol_conf {
	__u32 mode;		/* global enum vfs_pol_mode (never INHERIT) */
	__u32 generation;	/* policy generation the daemon applied */
	__u32 flags;		/* enum vfs_pol_conf_flag */
	__u32 pad;
};
VFS_ABI_ASSERT(struct vfs_pol_conf, 16);

/*
 * DISCOVER: the policy selects processes by pid or name, which the daemon
 * matches from /proc: the first VFIO call of a process no rule covers yet
 * is reported (VFS_POL_ACT_UNKNOWN, once per process), so the daemon looks
 * at it at once instead of at its next scan.
 */
enum vfs_pol_conf_flag { VFS_POL_C_DISCOVER = 1 };

/* a compiled selector; only cgroups live in pol_target, pids in pol_member */
enum vfs_pol_target_kind { VFS_POL_T_TGID = 1, VFS_POL_T_CGROUP = 2 };

/*
 * pol_target: the rule a cgroup falls under (a selected cgroup covers its
 * whole subtree: the kernel walks the caller's ancestors)
 */
struct vfs_pol_target {
	__u64 id;		/* cgroup id */
	__u32 kind;		/* enum vfs_pol_target_kind */
	__u32 pad;
};
VFS_ABI_ASSERT(struct vfs_pol_target, 16);

/*
 * The VM a quota is kept for: the kind in the top two bits, an id below.
 * A fork, a rename or a passed fd cannot make a new one.
 */
#define VFS_POL_VM_KIND_SHIFT	62
#define VFS_POL_VM_PROC		(1ull << VFS_POL_VM_KIND_SHIFT)	/* pid selector: | tgid */
#define VFS_POL_VM_NAME		(2ull << VFS_POL_VM_KIND_SHIFT)	/* name: | hash of the name */
#define VFS_POL_VM_CGROUP	(3ull << VFS_POL_VM_KIND_SHIFT)	/* cgroup: | cgroup id */
#define VFS_POL_VM_ID_MASK	((1ull << VFS_POL_VM_KIND_SHIFT) - 1)

/*
 * pol_member, keyed by tgid: the processes of VMs selected by pid or name.
 * vfio-policyd adds a process when it first matches and keeps it for the
 * process's life (a later rename changes nothing); a fork copies the
 * parent's entry to the child (and clears a stale one left at the
 * child's tgid), so a VM's descendants share its quota.
 */
struct vfs_pol_member {
	__u64 vm;		/* VFS_POL_VM_* */
	__u32 rule;
	__u32 flags;		/* enum vfs_pol_member_flag */
};
VFS_ABI_ASSERT(struct vfs_pol_member, 16);

enum vfs_pol_member_flag { VFS_POL_M_INHERITED = 1 };	/* added by a fork */

/*
 * pol_fops[0]: the kernel's file_operations addresses that make a file a
 * VFIO file of a kind (0: not resolved, that kind is not enforced).
 * vfio-policyd resolves them from /proc/kallsyms whenever the module list
 * changes. Indexed by enum vfs_fd_kind.
 */
struct vfs_pol_fops {
	__u64 fops[VFS_FD_KIND_MAX];
	__u32 pad;
	__u32 generation;	/* bumped on each resolution */
};
VFS_ABI_ASSERT(struct vfs_pol_fops, 48);

/* pol_health (per-CPU): what the kernel side could not do, by reason */
enum vfs_pol_health {
	VFS_POL_H_UNCLASSIFIED = 0,	/* a vfio/iommufd file of no resolved kind: not charged */
	VFS_POL_H_MEMBER_FULL,		/* pol_member full: a forked child not added */
	VFS_POL_H_BUCKET_FULL,		/* pol_bucket full: the call refused */
	VFS_POL_H_MAX = 8,
};

/*
 * A token bucket as GCRA: one call costs interval_ns; a call is admitted
 * while the bucket's theoretical arrival time is at most tolerance_ns
 * ahead of now. rate r/s, burst b: interval 1e9/r, tolerance (b-1)*1e9/r.
 */
struct vfs_pol_bucket_cfg {
	__u64 interval_ns;	/* 0: no bucket for this class */
	__u64 tolerance_ns;
};
VFS_ABI_ASSERT(struct vfs_pol_bucket_cfg, 16);

/* pol_rule: keyed by rule id */
struct vfs_pol_rule {
	struct vfs_pol_bucket_cfg bucket[VFS_POL_BUCKETS];
	__u32 mode;		/* enum vfs_pol_mode */
	__u32 mdev_max;		/* mdev instances its processes may create */
	__u32 flags;		/* enum vfs_pol_rule_flag */
	__u32 pad;
};
VFS_ABI_ASSERT(struct vfs_pol_rule, 96);

enum vfs_pol_rule_flag { VFS_POL_F_MDEV_MAX = 1 };

/* pol_bucket: state per VM (VFS_POL_VM_*), rule and class */
struct vfs_pol_bucket_key {
	__u64 vm;
	__u32 rule;
	__u32 class;
};
VFS_ABI_ASSERT(struct vfs_pol_bucket_key, 16);

/* pol_stats (per-CPU): per rule, VM and class; monotonic while pinned */
struct vfs_pol_stat_key {
	__u32 rule;
	__u32 tgid;
	__u32 class;		/* enum vfs_pol_class, never ALL */
	__u32 pad;
};
VFS_ABI_ASSERT(struct vfs_pol_stat_key, 16);

struct vfs_pol_stat {
	__u64 allowed;
	__u64 throttled;	/* rate: -EAGAIN returned */
	__u64 denied;		/* capacity: -EDQUOT returned */
	__u64 would_deny;	/* monitor mode: would have been refused */
};
VFS_ABI_ASSERT(struct vfs_pol_stat, 32);

/* pol_mdev_cap / pol_mdev_count: per mdev parent device and type */
struct vfs_pol_mdev_key {
	char parent[VFS_NAME_LEN];	/* parent device name, e.g. "mdacc" */
	char type[VFS_NAME_LEN];	/* type directory, e.g. "mdacc-1q" */
};
VFS_ABI_ASSERT(struct vfs_pol_mdev_key, 96);

struct vfs_pol_mdev_cap {
	__u32 max;		/* instances */
	__u32 mode;		/* enum vfs_pol_mode */
};
VFS_ABI_ASSERT(struct vfs_pol_mdev_cap, 8);

/* pol_mdev_owner: which rule created an mdev, to uncount its removal */
struct vfs_pol_uuid {
	__u8 b[16];
};
VFS_ABI_ASSERT(struct vfs_pol_uuid, 16);

enum vfs_pol_action {
	VFS_POL_ACT_THROTTLE = 1,	/* -EAGAIN: over a rate */
	VFS_POL_ACT_DENY = 2,		/* -EDQUOT: over a capacity */
	VFS_POL_ACT_WOULD_THROTTLE = 3,	/* monitor mode */
	VFS_POL_ACT_WOULD_DENY = 4,
	VFS_POL_ACT_UNKNOWN = 5,	/* a VFIO caller no rule covers yet: look at it */
};

struct vfs_ev_policy {
	struct vfs_event_hdr hdr;
	__u32 rule;
	__u32 class;		/* enum vfs_pol_class; ALL when the ALL bucket refused */
	__u32 cmd;		/* ioctl command; 0 for an mdev create */
	__u32 kind;		/* enum vfs_fd_kind */
	__s32 err;		/* negative errno returned (0 in monitor mode) */
	__u32 action;		/* enum vfs_pol_action */
};
VFS_ABI_ASSERT(struct vfs_ev_policy, 72);

#endif /* VFIOSCOPE_ABI_H */
