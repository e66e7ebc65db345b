// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <dirent.h>
#include <stdbool.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "map_buf.h"
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

/* a one-off snapshot is a reusable buffer read once and handed over */
int vfs_map_snapshot_fold(int fd, struct vfs_map_snapshot *s, vfs_fold_fn fold)
{
	struct vfs_map_buf b = { 0 };
	int err = vfs_map_buf_read(fd, &b, fold);

	memset(s, 0, sizeof(*s));
	if (!err) {
		s->n = b.n;
		s->key_size = b.key_size;
		s->value_size = b.value_size;
		s->keys = b.keys;
		s->vals = b.vals;
		b.keys = b.vals = NULL;
	}
	vfs_map_buf_free(&b);
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
