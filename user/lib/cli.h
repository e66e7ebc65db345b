/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Command-line values shared by the tools: strict parsing, clear errors. */
#ifndef VFIOSCOPE_CLI_H
#define VFIOSCOPE_CLI_H

#include <stddef.h>
#include <linux/types.h>
#include "collector.h"

/*
 * "CLASS=TIER" (e.g. "migration-arcs=tracepoint") into @force. Returns 0,
 * or -1 with a sentence in @err naming what was wrong.
 */
int vfs_parse_tier_force(const char *arg, enum vfs_tier force[VFS_CLASS_MAX],
			 char *err, size_t errlen);

/*
 * An unsigned decimal within [min, max] (suffixes k, M, G for powers of
 * 1024 when @sizes). Returns 0 or -1 with a sentence in @err.
 */
int vfs_parse_u64(const char *what, const char *arg, __u64 min, __u64 max, int sizes,
		  __u64 *out, char *err, size_t errlen);

/*
 * CLOCK_REALTIME - CLOCK_MONOTONIC now, in ns: added to an event's
 * monotonic time (bpf_ktime_get_ns) it gives wall-clock time, the common
 * ground of two hosts' outputs (as good as their clock synchronisation).
 */
__s64 vfs_realtime_offset_ns(void);

#endif
