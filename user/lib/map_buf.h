/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Whole-map snapshots, read in batches (one system call per
 * VFS_MAP_BUF_BATCH entries where the kernel can, key by key where it
 * cannot), into buffers that are kept between reads: a
 * periodic reader (vfiotop) allocates only when a map grows past what it
 * held before, never in steady state. Per-CPU values folded as in
 * map_iter.h.
 */
#ifndef VFIOSCOPE_MAP_BUF_H
#define VFIOSCOPE_MAP_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "map_iter.h"

struct vfs_map_buf {
	size_t n, cap;
	__u32 key_size, value_size;
	void *keys, *vals;	/* n entries (cap allocated) */
	/* private */
	void *raw, *key, *next;
	size_t raw_size;
	__u32 type;
	int ncpu;
	void *bkeys, *bvals, *tin, *tout;	/* batch buffers */
	bool nobatch;		/* the kernel has no batch lookup for this map */
};

/* entries read per bpf(BPF_MAP_LOOKUP_BATCH) call */
#define VFS_MAP_BUF_BATCH 256

/* read map @fd into @b (zeroed before first use); 0 or -errno */
int vfs_map_buf_read(int fd, struct vfs_map_buf *b, vfs_fold_fn fold);
void vfs_map_buf_free(struct vfs_map_buf *b);

#define VFS_MAP_BUF_KEY(b, type, i) (&((type *)(b)->keys)[i])
#define VFS_MAP_BUF_VAL(b, type, i) (&((type *)(b)->vals)[i])

#endif
