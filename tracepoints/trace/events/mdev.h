/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Mediated device trace points: creation and removal of mdev instances,
 * with the parent device, the mdev type's sysfs name, the instance's UUID
 * and the result.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM mdev

#if !defined(_TRACE_MDEV_H) || defined(TRACE_HEADER_MULTI_READ)
#define _TRACE_MDEV_H

#include <linux/tracepoint.h>
#include <linux/device.h>
#include <linux/uuid.h>
#include <trace/events/vfioscope_compat.h>

DECLARE_EVENT_CLASS(mdev_lifetime_class,

	TP_PROTO(struct device *parent, const char *type, const guid_t *uuid,
		 int ret),

	TP_ARGS(parent, type, uuid, ret),

	TP_STRUCT__entry(
		__string(parent, dev_name(parent))
		__string(type, type)
		__array(u8, uuid, UUID_SIZE)
		__field(int, ret)
	),

	TP_fast_assign(
		vfioscope_assign_str(parent, dev_name(parent));
		vfioscope_assign_str(type, type);
		memcpy(__entry->uuid, uuid, UUID_SIZE);
		__entry->ret = ret;
	),

	TP_printk("parent=%s type=%s uuid=%pUl ret=%d",
		  __get_str(parent), __get_str(type), __entry->uuid,
		  __entry->ret)
);

DEFINE_EVENT(mdev_lifetime_class, mdev_create,

	TP_PROTO(struct device *parent, const char *type, const guid_t *uuid,
		 int ret),

	TP_ARGS(parent, type, uuid, ret)
);

DEFINE_EVENT(mdev_lifetime_class, mdev_remove,

	TP_PROTO(struct device *parent, const char *type, const guid_t *uuid,
		 int ret),

	TP_ARGS(parent, type, uuid, ret)
);

#endif /* _TRACE_MDEV_H */

/* This part must be outside protection */
#include <trace/define_trace.h>
