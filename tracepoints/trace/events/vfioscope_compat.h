/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Out-of-tree shims for the vfio, mdev and vdpa trace headers, so the same
 * headers build against every kernel the project supports (6.1 and 6.12).
 *
 * Deliberately outside the TRACE_HEADER_MULTI_READ guard of the including
 * header and without one of its own except for the definitions that must
 * not be repeated: the event headers include it on every pass, which is
 * harmless since it only defines macros.
 *
 * In-tree, the upstream series replaces every vfioscope_assign_str(x, src)
 * by __assign_str(x) and drops the include of this file.
 */
#ifndef _TRACE_VFIOSCOPE_COMPAT_H
#define _TRACE_VFIOSCOPE_COMPAT_H

#include <linux/version.h>

/*
 * v6.10 ("tracing/treewide: Remove second parameter of __assign_str()")
 * made __assign_str() take the field only: the source is the one given to
 * __string() in TP_STRUCT__entry.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 10, 0)
#define vfioscope_assign_str(dst, src)	__assign_str(dst)
#else
#define vfioscope_assign_str(dst, src)	__assign_str(dst, src)
#endif

/*
 * A driver built for a kernel whose subsystems carry the tracepoint series
 * (kernel/patches; Kbuild defines VFIOSCOPE_CORE_TRACE=1) links against the
 * events the vfio, mdev and vdpa modules define, and leaves the events the
 * core already fires for the same operation (device open/close, device fd
 * ioctls, pinning, emulated DMA, mdev create/remove, vfio-pci's region
 * access and reset) to the core: fired twice, they would count twice.
 */
#define vfioscope_core_traced	IS_ENABLED(VFIOSCOPE_CORE_TRACE)

#endif /* _TRACE_VFIOSCOPE_COMPAT_H */

/*
 * enum vfio_device_mig_state gained PRE_COPY and PRE_COPY_P2P in v6.2
 * ("vfio: Extend the device migration protocol with PRE_COPY"), together
 * with the VFIO_MIGRATION_PRE_COPY flag. Their values are uAPI; as macros
 * they still work in TRACE_DEFINE_ENUM(), which stringifies its argument.
 */
#if defined(VFIO_MIGRATION_STOP_COPY) && !defined(VFIO_MIGRATION_PRE_COPY) && \
	!defined(VFIO_DEVICE_STATE_PRE_COPY)
#define VFIO_DEVICE_STATE_PRE_COPY	6
#define VFIO_DEVICE_STATE_PRE_COPY_P2P	7
#endif
