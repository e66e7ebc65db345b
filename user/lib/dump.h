/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The counters' dump as rows (vfiostat): the families emit each row once,
 * as a row type and an ordered list of typed fields, and a writer turns
 * them into text or JSON.
 *
 * Text, one line per row: the row type, then each field, positional ones
 * as their value alone, the others as "name value":
 *   ioctl_obj 42 0000:00:03.0 device VFIO_DEVICE_RESET count 1 errors 0 ...
 * Strings are made safe for a terminal (safetext.h: a name cannot start a
 * line of its own); safe ones are printed as they are.
 *
 * JSON, one object per dump: each row type an array of objects keyed by
 * field name (numbers as numbers), declared types present even when empty;
 * pairs (vfs_dump_pair) an object of name -> count:
 *   {"obj": [...], "ioctl_obj": [{"tgid": 42, ...}], ..., "drops": {...}}
 */
#ifndef VFIOSCOPE_DUMP_H
#define VFIOSCOPE_DUMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <linux/types.h>

struct json_object;

enum vfs_dump_kind {
	VFS_DUMP_STR,
	VFS_DUMP_U64,
	VFS_DUMP_S64,
	VFS_DUMP_HEX,		/* unsigned; text "0x1f", JSON a number */
};

struct vfs_dump_field {
	const char *name;	/* the JSON key, and the text's unless positional */
	enum vfs_dump_kind kind;
	bool pos;		/* text: the value alone */
	union {
		const char *s;
		__u64 u;
		__s64 i;
	};
};

/* positional (P_*) and named (F_*) fields of each kind */
#define VFS_P_STR(n, v)	{ .name = (n), .kind = VFS_DUMP_STR, .pos = true, .s = (v) }
#define VFS_P_U64(n, v)	{ .name = (n), .kind = VFS_DUMP_U64, .pos = true, .u = (v) }
#define VFS_F_STR(n, v)	{ .name = (n), .kind = VFS_DUMP_STR, .s = (v) }
#define VFS_F_U64(n, v)	{ .name = (n), .kind = VFS_DUMP_U64, .u = (v) }
#define VFS_F_S64(n, v)	{ .name = (n), .kind = VFS_DUMP_S64, .i = (v) }
#define VFS_F_HEX(n, v)	{ .name = (n), .kind = VFS_DUMP_HEX, .u = (v) }

/* a writer: set up by vfs_dump_text() or vfs_dump_json(), then given rows */
struct vfs_dump {
	FILE *out;			/* text: where lines go */
	struct json_object *doc;	/* JSON: the document so far */
};

void vfs_dump_text(struct vfs_dump *d, FILE *out);
/* 0, or -ENOMEM */
int vfs_dump_json(struct vfs_dump *d);

/* a row type the dump may hold (JSON: an empty array until a row comes) */
void vfs_dump_declare(struct vfs_dump *d, const char *type);
void vfs_dump_row(struct vfs_dump *d, const char *type, const struct vfs_dump_field *f,
		  size_t n);
/* text "TYPE KEY VALUE"; JSON "TYPE": { ..., "KEY": VALUE } */
void vfs_dump_pair(struct vfs_dump *d, const char *type, const char *key, __u64 value);

/* one row from a list of fields: VFS_DUMP_ROW(d, "vq", VFS_P_STR(...), ...) */
#define VFS_DUMP_ROW(d, type, ...) do {						\
	const struct vfs_dump_field f_[] = { __VA_ARGS__ };			\
	vfs_dump_row(d, type, f_, sizeof(f_) / sizeof(f_[0]));			\
} while (0)

/*
 * JSON: the document (the caller's, to json_object_put), NULL for text or
 * when taken already. Either way the writer is done with.
 */
struct json_object *vfs_dump_take(struct vfs_dump *d);

#endif
