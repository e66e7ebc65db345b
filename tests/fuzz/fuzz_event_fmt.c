// SPDX-License-Identifier: GPL-2.0
/*
 * The ring-buffer event decoders: any bytes as one event record (the
 * header's type, size and every field are the fuzzer's), rendered as text
 * and as JSON, converted to a migration event, and its ioctl command and
 * fd kind named, as vfiosnoop, vfiomig and vfiostat do.
 */
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>
#include "event_fmt.h"
#include "migmodel.h"
#include "vfio_ioctl.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static volatile size_t sink;

static const char *namer(void *user, __u64 obj)
{
	return obj & 1 ? NULL : (const char *)user;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	struct vfs_mm_event me;
	struct json_object *o;
	char line[512], kind[16];
	void *ev;
	__u32 cmd;

	/* an exact-size heap copy: a read past the record is a report */
	ev = malloc(size ? size : 1);
	if (!ev)
		return 0;
	memcpy(ev, data, size);
	if (size >= sizeof(struct vfs_event_hdr)) {
		sink += vfs_event_text(ev, size, namer, "dev0", line, sizeof(line));
		sink += vfs_event_text(ev, size, NULL, NULL, line, 7);
		o = vfs_event_json(ev, size, namer, "dev0");
		if (o) {
			sink += strlen(json_object_to_json_string(o));
			json_object_put(o);
		}
		if (vfs_mm_event_from_raw(ev, size, &me) == 1)
			sink += strlen(me.dev) + strlen(me.comm);
		sink += strlen(vfs_event_type_name(((struct vfs_event_hdr *)ev)->type));
	}
	if (size >= 5) {
		memcpy(&cmd, data, 4);
		sink += strlen(vfio_ioctl_name(data[4], cmd) ?: "");
		sink += strlen(vfio_fd_kind_name(data[4]));
		sink += strlen(vfs_mig_state_name(cmd));
		snprintf(kind, sizeof(kind), "%.*s", (int)(size - 5), (const char *)data + 5);
		sink += vfio_fd_kind_parse(kind) + vfs_mm_state_parse(kind);
	}
	free(ev);
	return 0;
}
