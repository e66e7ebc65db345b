// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <dirent.h>
#include <stdbool.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "map_iter.h"

void vfs_cmd_val_fold(void *acc, const void *cpu_val)
{
	struct vfs_cmd_val *a = acc;
	const struct vfs_cmd_val *v = cpu_val;
	int i;

	a->count += v->count;
	a->errors += v->errors;
	a->lat_sum_ns += v->lat_sum_ns;
	if (v->lat_max_ns > a->lat_max_ns)
		a->lat_max_ns = v->lat_max_ns;
	for (i = 0; i < VFS_HIST_SLOTS; i++)
		a->hist[i] += v->hist[i];
}

static bool percpu(__u32 type)
{
	return type == BPF_MAP_TYPE_PERCPU_HASH || type == BPF_MAP_TYPE_PERCPU_ARRAY ||
	       type == BPF_MAP_TYPE_LRU_PERCPU_HASH;
}

int vfs_map_snapshot_fold(int fd, struct vfs_map_snapshot *s, vfs_fold_fn fold)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info), stride;
	int ncpu = 1, cpu, err = 0;
	void *key = NULL, *next = NULL, *raw = NULL, *prev = NULL;
	size_t cap = 0;

	memset(s, 0, sizeof(*s));
	if (fd < 0)
		return fd;
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	s->key_size = info.key_size;
	s->value_size = info.value_size;
	stride = info.value_size;
	if (percpu(info.type)) {
		ncpu = libbpf_num_possible_cpus();
		if (ncpu <= 0)
			return ncpu;
		stride = (info.value_size + 7) & ~7u;
	}
	key = malloc(info.key_size);
	next = malloc(info.key_size);
	raw = malloc((size_t)stride * ncpu);
	if (!key || !next || !raw) {
		err = -ENOMEM;
		goto out;
	}
	while (!bpf_map_get_next_key(fd, prev, next)) {
		char *acc;

		memcpy(key, next, info.key_size);
		prev = key;
		if (bpf_map_lookup_elem(fd, key, raw))
			continue;	/* deleted meanwhile */
		if (s->n == cap) {
			void *k, *v;

			cap = cap ? cap * 2 : 64;
			k = realloc(s->keys, cap * info.key_size);
			v = realloc(s->vals, cap * info.value_size);
			if (!k || !v) {
				s->keys = k ? k : s->keys;
				s->vals = v ? v : s->vals;
				err = -ENOMEM;
				goto out;
			}
			s->keys = k;
			s->vals = v;
		}
		memcpy((char *)s->keys + s->n * info.key_size, key, info.key_size);
		acc = (char *)s->vals + s->n * info.value_size;
		memset(acc, 0, info.value_size);
		for (cpu = 0; cpu < ncpu; cpu++) {
			const char *cv = (char *)raw + (size_t)cpu * stride;

			if (!percpu(info.type))
				memcpy(acc, cv, info.value_size);
			else if (fold)
				fold(acc, cv);
			else {
				__u32 w;

				for (w = 0; w + 8 <= info.value_size; w += 8)
					*(__u64 *)(acc + w) += *(const __u64 *)(cv + w);
			}
		}
		s->n++;
	}
out:
	free(key);
	free(next);
	free(raw);
	if (err)
		vfs_map_snapshot_free(s);
	return err;
}

void vfs_map_snapshot_free(struct vfs_map_snapshot *s)
{
	free(s->keys);
	free(s->vals);
	memset(s, 0, sizeof(*s));
}

const char *vfs_irq_action_name(unsigned int irq, char *buf, size_t len)
{
	static const char *const files[] = {
		"affinity_hint", "effective_affinity", "effective_affinity_list", "node",
		"smp_affinity", "smp_affinity_list", "spurious",
	};
	char path[64];
	struct dirent *de;
	DIR *d;
	size_t i;

	snprintf(buf, len, "?");
	snprintf(path, sizeof(path), "/proc/irq/%u", irq);
	d = opendir(path);
	if (!d)
		return buf;
	while ((de = readdir(d))) {
		bool known = de->d_name[0] == '.';

		for (i = 0; !known && i < sizeof(files) / sizeof(files[0]); i++)
			known = !strcmp(de->d_name, files[i]);
		if (!known) {
			snprintf(buf, len, "%s", de->d_name);
			break;
		}
	}
	closedir(d);
	return buf;
}
