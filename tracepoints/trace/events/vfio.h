/* SPDX-License-Identifier: GPL-2.0 */
/*
 * VFIO trace points: device lifetime, the device fd's ioctls and region
 * accesses, DMA mapping, page pinning and emulated DMA, interrupts, reset
 * and migration (v2) state transitions and data.
 *
 * Events on a device take the struct vfio_device first, so tp_btf programs
 * get a typed pointer, and record its name (dev_name(vdev->dev)) so text
 * consumers need no pointer chasing.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM vfio

#if !defined(_TRACE_VFIO_H) || defined(TRACE_HEADER_MULTI_READ)
#define _TRACE_VFIO_H

#include <linux/tracepoint.h>
#include <linux/vfio.h>
#include <trace/events/vfioscope_compat.h>

TRACE_DEFINE_ENUM(VFIO_DEVICE_STATE_ERROR);
TRACE_DEFINE_ENUM(VFIO_DEVICE_STATE_STOP);
TRACE_DEFINE_ENUM(VFIO_DEVICE_STATE_RUNNING);
TRACE_DEFINE_ENUM(VFIO_DEVICE_STATE_STOP_COPY);
TRACE_DEFINE_ENUM(VFIO_DEVICE_STATE_RESUMING);
TRACE_DEFINE_ENUM(VFIO_DEVICE_STATE_RUNNING_P2P);
TRACE_DEFINE_ENUM(VFIO_DEVICE_STATE_PRE_COPY);
TRACE_DEFINE_ENUM(VFIO_DEVICE_STATE_PRE_COPY_P2P);

#define show_vfio_mig_state(state)					\
	__print_symbolic(state,						\
		{ VFIO_DEVICE_STATE_ERROR,		"ERROR" },	\
		{ VFIO_DEVICE_STATE_STOP,		"STOP" },	\
		{ VFIO_DEVICE_STATE_RUNNING,		"RUNNING" },	\
		{ VFIO_DEVICE_STATE_STOP_COPY,		"STOP_COPY" },	\
		{ VFIO_DEVICE_STATE_RESUMING,		"RESUMING" },	\
		{ VFIO_DEVICE_STATE_RUNNING_P2P,	"RUNNING_P2P" },\
		{ VFIO_DEVICE_STATE_PRE_COPY,		"PRE_COPY" },	\
		{ VFIO_DEVICE_STATE_PRE_COPY_P2P,	"PRE_COPY_P2P" })

DECLARE_EVENT_CLASS(vfio_device_ret_class,

	TP_PROTO(struct vfio_device *vdev, int ret),

	TP_ARGS(vdev, ret),

	TP_STRUCT__entry(
		__string(dev, dev_name(vdev->dev))
		__field(int, ret)
	),

	TP_fast_assign(
		vfioscope_assign_str(dev, dev_name(vdev->dev));
		__entry->ret = ret;
	),

	TP_printk("dev=%s ret=%d", __get_str(dev), __entry->ret)
);

/* open_device callback (first open of the device), with its result */
DEFINE_EVENT(vfio_device_ret_class, vfio_device_open,

	TP_PROTO(struct vfio_device *vdev, int ret),

	TP_ARGS(vdev, ret)
);

/* device reset (VFIO_DEVICE_RESET or a driver-internal reset) */
DEFINE_EVENT(vfio_device_ret_class, vfio_device_reset,

	TP_PROTO(struct vfio_device *vdev, int ret),

	TP_ARGS(vdev, ret)
);

/* close_device callback (last close of the device) */
TRACE_EVENT(vfio_device_close,

	TP_PROTO(struct vfio_device *vdev),

	TP_ARGS(vdev),

	TP_STRUCT__entry(
		__string(dev, dev_name(vdev->dev))
	),

	TP_fast_assign(
		vfioscope_assign_str(dev, dev_name(vdev->dev));
	),

	TP_printk("dev=%s", __get_str(dev))
);

TRACE_EVENT(vfio_ioctl_enter,

	TP_PROTO(struct vfio_device *vdev, unsigned int cmd, unsigned long arg),

	TP_ARGS(vdev, cmd, arg),

	TP_STRUCT__entry(
		__string(dev, dev_name(vdev->dev))
		__field(unsigned int, cmd)
		__field(unsigned long, arg)
	),

	TP_fast_assign(
		vfioscope_assign_str(dev, dev_name(vdev->dev));
		__entry->cmd = cmd;
		__entry->arg = arg;
	),

	TP_printk("dev=%s cmd=0x%x arg=0x%lx",
		  __get_str(dev), __entry->cmd, __entry->arg)
);

TRACE_EVENT(vfio_ioctl_exit,

	TP_PROTO(struct vfio_device *vdev, unsigned int cmd, long ret),

	TP_ARGS(vdev, cmd, ret),

	TP_STRUCT__entry(
		__string(dev, dev_name(vdev->dev))
		__field(unsigned int, cmd)
		__field(long, ret)
	),

	TP_fast_assign(
		vfioscope_assign_str(dev, dev_name(vdev->dev));
		__entry->cmd = cmd;
		__entry->ret = ret;
	),

	TP_printk("dev=%s cmd=0x%x ret=%ld",
		  __get_str(dev), __entry->cmd, __entry->ret)
);

/* VFIO_IOMMU_MAP_DMA on a container (no device: mappings are per container) */
TRACE_EVENT(vfio_dma_map,

	TP_PROTO(u64 iova, u64 vaddr, u64 size, u32 flags, int ret),

	TP_ARGS(iova, vaddr, size, flags, ret),

	TP_STRUCT__entry(
		__field(u64, iova)
		__field(u64, vaddr)
		__field(u64, size)
		__field(u32, flags)
		__field(int, ret)
	),

	TP_fast_assign(
		__entry->iova = iova;
		__entry->vaddr = vaddr;
		__entry->size = size;
		__entry->flags = flags;
		__entry->ret = ret;
	),

	TP_printk("iova=0x%llx vaddr=0x%llx size=0x%llx flags=0x%x ret=%d",
		  __entry->iova, __entry->vaddr, __entry->size,
		  __entry->flags, __entry->ret)
);

/* VFIO_IOMMU_UNMAP_DMA: requested size and what was actually unmapped */
TRACE_EVENT(vfio_dma_unmap,

	TP_PROTO(u64 iova, u64 size, u64 unmapped, int ret),

	TP_ARGS(iova, size, unmapped, ret),

	TP_STRUCT__entry(
		__field(u64, iova)
		__field(u64, size)
		__field(u64, unmapped)
		__field(int, ret)
	),

	TP_fast_assign(
		__entry->iova = iova;
		__entry->size = size;
		__entry->unmapped = unmapped;
		__entry->ret = ret;
	),

	TP_printk("iova=0x%llx size=0x%llx unmapped=0x%llx ret=%d",
		  __entry->iova, __entry->size, __entry->unmapped,
		  __entry->ret)
);

/* vfio_pin_pages(): ret is the number of pages pinned or -errno */
TRACE_EVENT(vfio_pin_pages,

	TP_PROTO(struct vfio_device *vdev, u64 iova, int npage, int ret),

	TP_ARGS(vdev, iova, npage, ret),

	TP_STRUCT__entry(
		__string(dev, dev_name(vdev->dev))
		__field(u64, iova)
		__field(int, npage)
		__field(int, ret)
	),

	TP_fast_assign(
		vfioscope_assign_str(dev, dev_name(vdev->dev));
		__entry->iova = iova;
		__entry->npage = npage;
		__entry->ret = ret;
	),

	TP_printk("dev=%s iova=0x%llx npage=%d ret=%d",
		  __get_str(dev), __entry->iova, __entry->npage, __entry->ret)
);

TRACE_EVENT(vfio_unpin_pages,

	TP_PROTO(struct vfio_device *vdev, u64 iova, int npage),

	TP_ARGS(vdev, iova, npage),

	TP_STRUCT__entry(
		__string(dev, dev_name(vdev->dev))
		__field(u64, iova)
		__field(int, npage)
	),

	TP_fast_assign(
		vfioscope_assign_str(dev, dev_name(vdev->dev));
		__entry->iova = iova;
		__entry->npage = npage;
	),

	TP_printk("dev=%s iova=0x%llx npage=%d",
		  __get_str(dev), __entry->iova, __entry->npage)
);

/* vfio_dma_rw(): emulated DMA into or out of the user's IOVA space */
TRACE_EVENT(vfio_dma_rw,

	TP_PROTO(struct vfio_device *vdev, u64 iova, u64 len, bool write,
		 int ret),

	TP_ARGS(vdev, iova, len, write, ret),

	TP_STRUCT__entry(
		__string(dev, dev_name(vdev->dev))
		__field(u64, iova)
		__field(u64, len)
		__field(bool, write)
		__field(int, ret)
	),

	TP_fast_assign(
		vfioscope_assign_str(dev, dev_name(vdev->dev));
		__entry->iova = iova;
		__entry->len = len;
		__entry->write = write;
		__entry->ret = ret;
	),

	TP_printk("dev=%s %s iova=0x%llx len=%llu ret=%d",
		  __get_str(dev), __entry->write ? "write" : "read",
		  __entry->iova, __entry->len, __entry->ret)
);

/* read(2)/write(2) on a region of the device fd; ret is bytes or -errno */
TRACE_EVENT(vfio_region_rw,

	TP_PROTO(struct vfio_device *vdev, u32 index, u64 offset, u32 size,
		 bool write, long ret),

	TP_ARGS(vdev, index, offset, size, write, ret),

	TP_STRUCT__entry(
		__string(dev, dev_name(vdev->dev))
		__field(u64, offset)
		__field(long, ret)
		__field(u32, index)
		__field(u32, size)
		__field(bool, write)
	),

	TP_fast_assign(
		vfioscope_assign_str(dev, dev_name(vdev->dev));
		__entry->offset = offset;
		__entry->ret = ret;
		__entry->index = index;
		__entry->size = size;
		__entry->write = write;
	),

	TP_printk("dev=%s %s index=%u offset=0x%llx size=%u ret=%ld",
		  __get_str(dev), __entry->write ? "write" : "read",
		  __entry->index, __entry->offset, __entry->size, __entry->ret)
);

TRACE_EVENT(vfio_region_mmap,

	TP_PROTO(struct vfio_device *vdev, u32 index, u64 offset, u64 size,
		 int ret),

	TP_ARGS(vdev, index, offset, size, ret),

	TP_STRUCT__entry(
		__string(dev, dev_name(vdev->dev))
		__field(u64, offset)
		__field(u64, size)
		__field(u32, index)
		__field(int, ret)
	),

	TP_fast_assign(
		vfioscope_assign_str(dev, dev_name(vdev->dev));
		__entry->offset = offset;
		__entry->size = size;
		__entry->index = index;
		__entry->ret = ret;
	),

	TP_printk("dev=%s index=%u offset=0x%llx size=0x%llx ret=%d",
		  __get_str(dev), __entry->index, __entry->offset,
		  __entry->size, __entry->ret)
);

/* VFIO_DEVICE_SET_IRQS; flags are the VFIO_IRQ_SET_* of the request */
TRACE_EVENT(vfio_irq_set,

	TP_PROTO(struct vfio_device *vdev, u32 index, u32 start, u32 count,
		 u32 flags, int ret),

	TP_ARGS(vdev, index, start, count, flags, ret),

	TP_STRUCT__entry(
		__string(dev, dev_name(vdev->dev))
		__field(u32, index)
		__field(u32, start)
		__field(u32, count)
		__field(u32, flags)
		__field(int, ret)
	),

	TP_fast_assign(
		vfioscope_assign_str(dev, dev_name(vdev->dev));
		__entry->index = index;
		__entry->start = start;
		__entry->count = count;
		__entry->flags = flags;
		__entry->ret = ret;
	),

	TP_printk("dev=%s index=%u start=%u count=%u flags=%s ret=%d",
		  __get_str(dev), __entry->index, __entry->start,
		  __entry->count,
		  __print_flags(__entry->flags, "|",
				{ VFIO_IRQ_SET_DATA_NONE,	"DATA_NONE" },
				{ VFIO_IRQ_SET_DATA_BOOL,	"DATA_BOOL" },
				{ VFIO_IRQ_SET_DATA_EVENTFD,	"DATA_EVENTFD" },
				{ VFIO_IRQ_SET_ACTION_MASK,	"MASK" },
				{ VFIO_IRQ_SET_ACTION_UNMASK,	"UNMASK" },
				{ VFIO_IRQ_SET_ACTION_TRIGGER,	"TRIGGER" }),
		  __entry->ret)
);

/* the device signals an interrupt to userspace (eventfd) */
TRACE_EVENT(vfio_irq_signal,

	TP_PROTO(struct vfio_device *vdev, u32 index, u32 vector),

	TP_ARGS(vdev, index, vector),

	TP_STRUCT__entry(
		__string(dev, dev_name(vdev->dev))
		__field(u32, index)
		__field(u32, vector)
	),

	TP_fast_assign(
		vfioscope_assign_str(dev, dev_name(vdev->dev));
		__entry->index = index;
		__entry->vector = vector;
	),

	TP_printk("dev=%s index=%u vector=%u",
		  __get_str(dev), __entry->index, __entry->vector)
);

DECLARE_EVENT_CLASS(vfio_mig_state_class,

	TP_PROTO(struct vfio_device *vdev, u32 from, u32 to, int ret,
		 u64 duration_ns),

	TP_ARGS(vdev, from, to, ret, duration_ns),

	TP_STRUCT__entry(
		__string(dev, dev_name(vdev->dev))
		__field(u64, duration_ns)
		__field(u32, from)
		__field(u32, to)
		__field(int, ret)
	),

	TP_fast_assign(
		vfioscope_assign_str(dev, dev_name(vdev->dev));
		__entry->duration_ns = duration_ns;
		__entry->from = from;
		__entry->to = to;
		__entry->ret = ret;
	),

	TP_printk("dev=%s %s -> %s ret=%d duration_ns=%llu",
		  __get_str(dev), show_vfio_mig_state(__entry->from),
		  show_vfio_mig_state(__entry->to), __entry->ret,
		  __entry->duration_ns)
);

/*
 * One event per migration arc the driver takes (from and to are
 * enum vfio_device_mig_state values), with its result and duration.
 */
DEFINE_EVENT(vfio_mig_state_class, vfio_mig_set_state,

	TP_PROTO(struct vfio_device *vdev, u32 from, u32 to, int ret,
		 u64 duration_ns),

	TP_ARGS(vdev, from, to, ret, duration_ns)
);

/*
 * One event per VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE request: the state
 * the device was in, the state asked for, and how long the driver took to
 * get there (possibly through several arcs).
 */
DEFINE_EVENT(vfio_mig_state_class, vfio_mig_request,

	TP_PROTO(struct vfio_device *vdev, u32 from, u32 to, int ret,
		 u64 duration_ns),

	TP_ARGS(vdev, from, to, ret, duration_ns)
);

/* VFIO_DEVICE_FEATURE: the feature number and GET/SET/PROBE flags */
TRACE_EVENT(vfio_device_feature,

	TP_PROTO(struct vfio_device *vdev, u32 flags, int ret),

	TP_ARGS(vdev, flags, ret),

	TP_STRUCT__entry(
		__string(dev, dev_name(vdev->dev))
		__field(u32, flags)
		__field(int, ret)
	),

	TP_fast_assign(
		vfioscope_assign_str(dev, dev_name(vdev->dev));
		__entry->flags = flags;
		__entry->ret = ret;
	),

	TP_printk("dev=%s feature=%u flags=%s ret=%d", __get_str(dev),
		  __entry->flags & VFIO_DEVICE_FEATURE_MASK,
		  __print_flags(__entry->flags & ~VFIO_DEVICE_FEATURE_MASK, "|",
				{ VFIO_DEVICE_FEATURE_GET,	"GET" },
				{ VFIO_DEVICE_FEATURE_SET,	"SET" },
				{ VFIO_DEVICE_FEATURE_PROBE,	"PROBE" }),
		  __entry->ret)
);

/* bytes read from (saving) or written to (resuming) a migration data fd */
TRACE_EVENT(vfio_mig_data,

	TP_PROTO(struct vfio_device *vdev, bool write, u64 bytes, long ret),

	TP_ARGS(vdev, write, bytes, ret),

	TP_STRUCT__entry(
		__string(dev, dev_name(vdev->dev))
		__field(u64, bytes)
		__field(long, ret)
		__field(bool, write)
	),

	TP_fast_assign(
		vfioscope_assign_str(dev, dev_name(vdev->dev));
		__entry->bytes = bytes;
		__entry->ret = ret;
		__entry->write = write;
	),

	TP_printk("dev=%s %s bytes=%llu ret=%ld",
		  __get_str(dev), __entry->write ? "write" : "read",
		  __entry->bytes, __entry->ret)
);

#endif /* _TRACE_VFIO_H */

/* This part must be outside protection */
#include <trace/define_trace.h>
