/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Events from the ring buffer as text lines and JSON objects. */
#ifndef VFIOSCOPE_EVENT_FMT_H
#define VFIOSCOPE_EVENT_FMT_H

#include <stddef.h>
#include <linux/types.h>
#include "abi.h"

struct json_object;

/* name of an object address (from obj_info), or NULL if unknown */
typedef const char *(*vfs_obj_namer)(void *user, __u64 obj);

const char *vfs_mig_state_name(__u32 state);
const char *vfs_event_type_name(__u16 type);
/* "flr", "pm", "hot", "none"...; "open", "release", "ioctl"...; "?" past the enums */
const char *vfs_reset_method_name(__u32 method);
const char *vfs_reset_cause_name(__u32 cause);
/* a reset's result as a label: "ok" or the errno's name ("ENOTTY") */
const char *vfs_reset_result(__s32 ret, char *buf, size_t len);
/* a VT-d fault reason code as a label: "pte_read", "intr_remap"...; "other" */
const char *vfs_fault_reason_name(__u8 reason);
/* the requester of a fault as a PCI address: "0000:00:03.0" */
const char *vfs_fault_bdf(__u16 segment, __u16 sid, char *buf, size_t len);

/*
 * One line of text for @ev (no time, no process: the caller prints those):
 * "<event> <device> <decoded args> = <ret> [<latency>]". Returns the length
 * written, or -1 for an event this version does not know (size or type).
 */
int vfs_event_text(const struct vfs_event_hdr *ev, size_t size, vfs_obj_namer namer,
		   void *user, char *buf, size_t len);

/* the same as a JSON object (caller puts it); NULL for an unknown event */
struct json_object *vfs_event_json(const struct vfs_event_hdr *ev, size_t size,
				   vfs_obj_namer namer, void *user);

/*
 * Text from outside (comm, a VM or device name: at most @n bytes, up to a
 * NUL) as a JSON string that is valid UTF-8: invalid sequences and C1 or
 * direction controls become U+FFFD (safetext.h); json-c escapes the rest.
 * Names in vfs_event_json() and in vfs_event_text() are made safe the same
 * way (the text as a terminal takes it: "\x1b").
 */
struct json_object *vfs_json_text(const char *s, size_t n);

/*
 * A kernel guid_t (mdev UUIDs) as the text sysfs takes and prints: its
 * first three fields are stored little endian.
 */
void vfs_guid_str(const __u8 guid[16], char out[37]);

#endif
