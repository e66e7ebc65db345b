// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "map_buf.h"

static int percpu(__u32 type)
{
	return type == BPF_MAP_TYPE_PERCPU_HASH || type == BPF_MAP_TYPE_PERCPU_ARRAY ||
	       type == BPF_MAP_TYPE_LRU_PERCPU_HASH;
}

static int setup(int fd, struct vfs_map_buf *b)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info), stride;

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	b->key_size = info.key_size;
	b->value_size = info.value_size;
	b->type = info.type;
	b->ncpu = 1;
	stride = info.value_size;
	if (percpu(info.type)) {
		b->ncpu = libbpf_num_possible_cpus();
		if (b->ncpu <= 0)
			return b->ncpu ? b->ncpu : -EINVAL;
		stride = (info.value_size + 7) & ~7u;
	}
	b->raw_size = (size_t)stride * b->ncpu;
	b->raw = malloc(b->raw_size);
	b->key = malloc(info.key_size);
	b->next = malloc(info.key_size);
	if (!b->raw || !b->key || !b->next)
		return -ENOMEM;
	return 0;
}

static int grow(struct vfs_map_buf *b)
{
	size_t cap = b->cap ? b->cap * 2 : 64;
	void *k = realloc(b->keys, cap * b->key_size), *v;

	if (!k)
		return -ENOMEM;
	b->keys = k;
	v = realloc(b->vals, cap * b->value_size);
	if (!v)
		return -ENOMEM;
	b->vals = v;
	b->cap = cap;
	return 0;
}

/* add one entry (per-CPU values folded) */
static int append(struct vfs_map_buf *b, const void *key, const void *raw, vfs_fold_fn fold)
{
	size_t stride = b->raw_size / b->ncpu;
	char *acc;
	__u32 w;
	int cpu, err;

	if (b->n == b->cap && (err = grow(b)))
		return err;
	memcpy((char *)b->keys + b->n * b->key_size, key, b->key_size);
	acc = (char *)b->vals + b->n * b->value_size;
	if (!percpu(b->type)) {
		memcpy(acc, raw, b->value_size);
	} else {
		memset(acc, 0, b->value_size);
		for (cpu = 0; cpu < b->ncpu; cpu++) {
			const char *cv = (const char *)raw + (size_t)cpu * stride;

			if (fold) {
				fold(acc, cv);
				continue;
			}
			for (w = 0; w + 8 <= b->value_size; w += 8)
				*(__u64 *)(acc + w) += *(const __u64 *)(cv + w);
		}
	}
	b->n++;
	return 0;
}

/* key by key: every kernel, every map type */
static int read_iter(int fd, struct vfs_map_buf *b, vfs_fold_fn fold)
{
	void *prev = NULL;
	int err;

	while (!bpf_map_get_next_key(fd, prev, b->next)) {
		memcpy(b->key, b->next, b->key_size);
		prev = b->key;
		if (bpf_map_lookup_elem(fd, b->key, b->raw))
			continue;	/* deleted meanwhile */
		if ((err = append(b, b->key, b->raw, fold)))
			return err;
	}
	return 0;
}

/*
 * VFS_MAP_BUF_BATCH entries per system call (Linux 5.6+ for hash maps,
 * 5.7 for arrays). Returns -EOPNOTSUPP, having read nothing, where the
 * kernel or the map type has no batch lookup.
 */
static int read_batch(int fd, struct vfs_map_buf *b, vfs_fold_fn fold)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	bool first = true;
	__u32 i, count;
	int err;

	if (!b->bkeys) {
		size_t tok = b->key_size > 8 ? b->key_size : 8;

		b->bkeys = malloc((size_t)VFS_MAP_BUF_BATCH * b->key_size);
		b->bvals = malloc((size_t)VFS_MAP_BUF_BATCH * b->raw_size);
		b->tin = malloc(tok);
		b->tout = malloc(tok);
		if (!b->bkeys || !b->bvals || !b->tin || !b->tout)
			return -ENOMEM;
	}
	for (;;) {
		void *t;

		count = VFS_MAP_BUF_BATCH;
		err = bpf_map_lookup_batch(fd, first ? NULL : b->tin, b->tout, b->bkeys, b->bvals,
					   &count, &opts) ? -errno : 0;
		if (err && err != -ENOENT) {
			/* not supported here (or a bucket larger than a batch) */
			if (first && (err == -EINVAL || err == -524 /* ENOTSUPP */ ||
				      err == -EOPNOTSUPP ||
				      err == -ENOSPC))
				return -EOPNOTSUPP;
			return err;
		}
		for (i = 0; i < count; i++)
			if ((err = append(b, (char *)b->bkeys + (size_t)i * b->key_size,
					  (char *)b->bvals + (size_t)i * b->raw_size, fold)))
				return err;
		if (err == -ENOENT)
			return 0;
		t = b->tin;
		b->tin = b->tout;
		b->tout = t;
		first = false;
	}
}

int vfs_map_buf_read(int fd, struct vfs_map_buf *b, vfs_fold_fn fold)
{
	int err;

	b->n = 0;
	if (fd < 0)
		return fd;
	if (!b->raw && (err = setup(fd, b)))
		return err;
	if (!b->nobatch) {
		err = read_batch(fd, b, fold);
		if (err != -EOPNOTSUPP)
			return err;
		b->nobatch = true;
		b->n = 0;
	}
	return read_iter(fd, b, fold);
}

void vfs_map_buf_free(struct vfs_map_buf *b)
{
	free(b->keys);
	free(b->vals);
	free(b->raw);
	free(b->key);
	free(b->next);
	free(b->bkeys);
	free(b->bvals);
	free(b->tin);
	free(b->tout);
	memset(b, 0, sizeof(*b));
}
