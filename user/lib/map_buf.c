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

int vfs_map_buf_read(int fd, struct vfs_map_buf *b, vfs_fold_fn fold)
{
	size_t stride;
	void *prev = NULL;
	int cpu, err;

	b->n = 0;
	if (fd < 0)
		return fd;
	if (!b->raw && (err = setup(fd, b)))
		return err;
	stride = b->raw_size / b->ncpu;
	while (!bpf_map_get_next_key(fd, prev, b->next)) {
		char *acc;

		memcpy(b->key, b->next, b->key_size);
		prev = b->key;
		if (bpf_map_lookup_elem(fd, b->key, b->raw))
			continue;	/* deleted meanwhile */
		if (b->n == b->cap && (err = grow(b)))
			return err;
		memcpy((char *)b->keys + b->n * b->key_size, b->key, b->key_size);
		acc = (char *)b->vals + b->n * b->value_size;
		if (!percpu(b->type)) {
			memcpy(acc, b->raw, b->value_size);
		} else {
			memset(acc, 0, b->value_size);
			for (cpu = 0; cpu < b->ncpu; cpu++) {
				const char *cv = (char *)b->raw + (size_t)cpu * stride;
				__u32 w;

				if (fold) {
					fold(acc, cv);
					continue;
				}
				for (w = 0; w + 8 <= b->value_size; w += 8)
					*(__u64 *)(acc + w) += *(const __u64 *)(cv + w);
			}
		}
		b->n++;
	}
	return 0;
}

void vfs_map_buf_free(struct vfs_map_buf *b)
{
	free(b->keys);
	free(b->vals);
	free(b->raw);
	free(b->key);
	free(b->next);
	memset(b, 0, sizeof(*b));
}
