/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vDPA trace points: device registration and removal, device status
 * changes (the virtio status byte), virtqueue kicks (driver to device) and
 * calls (device to driver interrupts).
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM vdpa

#if !defined(_TRACE_VDPA_H) || defined(TRACE_HEADER_MULTI_READ)
#define _TRACE_VDPA_H

#include <linux/tracepoint.h>
#include <linux/vdpa.h>
#include <uapi/linux/virtio_config.h>
#include <trace/events/vfioscope_compat.h>

#define show_virtio_status(status)					\
	__print_flags(status, "|",					\
		{ VIRTIO_CONFIG_S_ACKNOWLEDGE,	"ACKNOWLEDGE" },	\
		{ VIRTIO_CONFIG_S_DRIVER,	"DRIVER" },		\
		{ VIRTIO_CONFIG_S_DRIVER_OK,	"DRIVER_OK" },		\
		{ VIRTIO_CONFIG_S_FEATURES_OK,	"FEATURES_OK" },	\
		{ VIRTIO_CONFIG_S_NEEDS_RESET,	"NEEDS_RESET" },	\
		{ VIRTIO_CONFIG_S_FAILED,	"FAILED" })

DECLARE_EVENT_CLASS(vdpa_dev_class,

	TP_PROTO(struct vdpa_device *vdev),

	TP_ARGS(vdev),

	TP_STRUCT__entry(
		__string(dev, dev_name(&vdev->dev))
		__field(u32, nvqs)
	),

	TP_fast_assign(
		vfioscope_assign_str(dev, dev_name(&vdev->dev));
		__entry->nvqs = vdev->nvqs;
	),

	TP_printk("dev=%s nvqs=%u", __get_str(dev), __entry->nvqs)
);

DEFINE_EVENT(vdpa_dev_class, vdpa_dev_add,

	TP_PROTO(struct vdpa_device *vdev),

	TP_ARGS(vdev)
);

DEFINE_EVENT(vdpa_dev_class, vdpa_dev_del,

	TP_PROTO(struct vdpa_device *vdev),

	TP_ARGS(vdev)
);

TRACE_EVENT(vdpa_set_status,

	TP_PROTO(struct vdpa_device *vdev, u8 old, u8 status),

	TP_ARGS(vdev, old, status),

	TP_STRUCT__entry(
		__string(dev, dev_name(&vdev->dev))
		__field(u8, old)
		__field(u8, status)
	),

	TP_fast_assign(
		vfioscope_assign_str(dev, dev_name(&vdev->dev));
		__entry->old = old;
		__entry->status = status;
	),

	TP_printk("dev=%s old=0x%x(%s) status=0x%x(%s)",
		  __get_str(dev), __entry->old, show_virtio_status(__entry->old),
		  __entry->status, show_virtio_status(__entry->status))
);

DECLARE_EVENT_CLASS(vdpa_vq_class,

	TP_PROTO(struct vdpa_device *vdev, u16 qid),

	TP_ARGS(vdev, qid),

	TP_STRUCT__entry(
		__string(dev, dev_name(&vdev->dev))
		__field(u16, qid)
	),

	TP_fast_assign(
		vfioscope_assign_str(dev, dev_name(&vdev->dev));
		__entry->qid = qid;
	),

	TP_printk("dev=%s qid=%u", __get_str(dev), __entry->qid)
);

/* the driver notifies the device (kick_vq) */
DEFINE_EVENT(vdpa_vq_class, vdpa_kick_vq,

	TP_PROTO(struct vdpa_device *vdev, u16 qid),

	TP_ARGS(vdev, qid)
);

/* the device interrupts the driver (the virtqueue's callback) */
DEFINE_EVENT(vdpa_vq_class, vdpa_vq_call,

	TP_PROTO(struct vdpa_device *vdev, u16 qid),

	TP_ARGS(vdev, qid)
);

/* VDUSE forwards a kick to its userspace device (eventfd or flag) */
DEFINE_EVENT(vdpa_vq_class, vduse_vq_kick,

	TP_PROTO(struct vdpa_device *vdev, u16 qid),

	TP_ARGS(vdev, qid)
);

/* VDUSE's userspace device injects a virtqueue interrupt */
DEFINE_EVENT(vdpa_vq_class, vduse_vq_irq_inject,

	TP_PROTO(struct vdpa_device *vdev, u16 qid),

	TP_ARGS(vdev, qid)
);

/* vhost-vdpa's per-virtqueue ioctls (VHOST_SET_VRING_*, ...) */
TRACE_EVENT(vdpa_vring_ioctl,

	TP_PROTO(struct vdpa_device *vdev, unsigned int cmd, u32 qid, long ret),

	TP_ARGS(vdev, cmd, qid, ret),

	TP_STRUCT__entry(
		__string(dev, dev_name(&vdev->dev))
		__field(long, ret)
		__field(unsigned int, cmd)
		__field(u32, qid)
	),

	TP_fast_assign(
		vfioscope_assign_str(dev, dev_name(&vdev->dev));
		__entry->ret = ret;
		__entry->cmd = cmd;
		__entry->qid = qid;
	),

	TP_printk("dev=%s cmd=0x%x qid=%u ret=%ld", __get_str(dev),
		  __entry->cmd, __entry->qid, __entry->ret)
);

#endif /* _TRACE_VDPA_H */

/* This part must be outside protection */
#include <trace/define_trace.h>
