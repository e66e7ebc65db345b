/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Reading whole BPF maps, per-CPU values folded into one. */
#ifndef VFIOSCOPE_MAP_ITER_H
#define VFIOSCOPE_MAP_ITER_H

#include <stddef.h>
#include <linux/types.h>
#include "abi.h"

struct vfs_map_snapshot {
	size_t n;
	__u32 key_size, value_size;
	void *keys;		/* n * key_size */
	void *vals;		/* n * value_size, per-CPU values folded */
};

/*
 * One-off snapshots (dumps). A reader that reads periodically keeps a
 * struct vfs_map_buf (map_buf.h) instead, which reuses its buffers; this
 * is that, read once.
 *
 * Fold one CPU's value into the accumulator. NULL: the value is an array
 * of 64-bit counters and each is summed.
 */
typedef void (*vfs_fold_fn)(void *acc, const void *cpu_val);

int vfs_map_snapshot_fold(int fd, struct vfs_map_snapshot *s, vfs_fold_fn fold);
#define vfs_map_snapshot(fd, s) vfs_map_snapshot_fold((fd), (s), NULL)
void vfs_map_snapshot_free(struct vfs_map_snapshot *s);

/* struct vfs_cmd_val: sums, maximum, histogram slots */
void vfs_cmd_val_fold(void *acc, const void *cpu_val);

/*
 * The action (handler) name of Linux IRQ @irq from /proc/irq/<irq>/, e.g.
 * "vfio-msi[0](0000:00:03.0)"; "?" if none.
 */
const char *vfs_irq_action_name(unsigned int irq, char *buf, size_t len);

#endif
