// SPDX-License-Identifier: GPL-2.0
/*
 * vfioscope_trace: instantiates the vfio, mdev and vdpa trace events for
 * out-of-tree drivers.
 *
 * A trace system may be defined by one module only (a second one would
 * collide in tracefs), so the events live here and are exported; drivers
 * include <trace/events/{vfio,mdev,vdpa}.h> without CREATE_TRACE_POINTS and
 * call trace_*(), which makes modprobe load this module first. In-tree, the
 * same definitions sit in the vfio, mdev and vdpa core modules instead.
 */
#include <linux/module.h>

#define CREATE_TRACE_POINTS
#include <trace/events/vfio.h>
#include <trace/events/mdev.h>
#include <trace/events/vdpa.h>

EXPORT_TRACEPOINT_SYMBOL_GPL(vfio_device_open);
EXPORT_TRACEPOINT_SYMBOL_GPL(vfio_device_close);
EXPORT_TRACEPOINT_SYMBOL_GPL(vfio_device_reset);
EXPORT_TRACEPOINT_SYMBOL_GPL(vfio_ioctl_enter);
EXPORT_TRACEPOINT_SYMBOL_GPL(vfio_ioctl_exit);
EXPORT_TRACEPOINT_SYMBOL_GPL(vfio_dma_map);
EXPORT_TRACEPOINT_SYMBOL_GPL(vfio_dma_unmap);
EXPORT_TRACEPOINT_SYMBOL_GPL(vfio_pin_pages);
EXPORT_TRACEPOINT_SYMBOL_GPL(vfio_unpin_pages);
EXPORT_TRACEPOINT_SYMBOL_GPL(vfio_dma_rw);
EXPORT_TRACEPOINT_SYMBOL_GPL(vfio_region_rw);
EXPORT_TRACEPOINT_SYMBOL_GPL(vfio_region_mmap);
EXPORT_TRACEPOINT_SYMBOL_GPL(vfio_irq_set);
EXPORT_TRACEPOINT_SYMBOL_GPL(vfio_irq_signal);
EXPORT_TRACEPOINT_SYMBOL_GPL(vfio_mig_set_state);
EXPORT_TRACEPOINT_SYMBOL_GPL(vfio_mig_data);
EXPORT_TRACEPOINT_SYMBOL_GPL(vfio_mig_request);
EXPORT_TRACEPOINT_SYMBOL_GPL(vfio_device_feature);

EXPORT_TRACEPOINT_SYMBOL_GPL(mdev_create);
EXPORT_TRACEPOINT_SYMBOL_GPL(mdev_remove);

EXPORT_TRACEPOINT_SYMBOL_GPL(vdpa_dev_add);
EXPORT_TRACEPOINT_SYMBOL_GPL(vdpa_dev_del);
EXPORT_TRACEPOINT_SYMBOL_GPL(vdpa_set_status);
EXPORT_TRACEPOINT_SYMBOL_GPL(vdpa_kick_vq);
EXPORT_TRACEPOINT_SYMBOL_GPL(vdpa_vq_call);
EXPORT_TRACEPOINT_SYMBOL_GPL(vduse_vq_kick);
EXPORT_TRACEPOINT_SYMBOL_GPL(vduse_vq_irq_inject);
EXPORT_TRACEPOINT_SYMBOL_GPL(vdpa_vring_ioctl);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("vfio, mdev and vdpa trace events for out-of-tree drivers");
