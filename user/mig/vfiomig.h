/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vfiomig's parts: the CLI and reports (vfiomig.c), the Chrome trace-event
 * export (trace.c) and the SVG timeline (svg.c), over the migrations the
 * model (lib/migmodel.h) completed, in the order they were reported.
 */
#ifndef VFIOMIG_H
#define VFIOMIG_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include "event_fmt.h"
#include "migmodel.h"

/* a name as a JSON string: valid UTF-8, no C1 or direction controls */
#define JS(s)	vfs_json_text(s, (size_t)-1)

static inline const char *errname(int err)
{
	return strerrorname_np(err) ?: "?";
}

static inline double ms(__s64 ns)
{
	return (double)ns / 1e6;
}

/* "src"/"dst", or "dev" for a session whose role is unknown */
static inline const char *side_name(const struct vfs_mm_session *s, bool is_src)
{
	if (s->role == VFS_MM_UNKNOWN)
		return "dev";
	return is_src ? "src" : "dst";
}

/* write @ndone migrations to @path, whole; 0, or -1 said on stderr */
int vfiomig_write_trace(const char *path, const struct vfs_mm_migration *const *done,
			size_t ndone);
int vfiomig_write_svg(const char *path, const struct vfs_mm_migration *const *done,
		      size_t ndone);

#endif
