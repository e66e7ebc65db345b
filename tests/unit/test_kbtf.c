// SPDX-License-Identifier: GPL-2.0
/*
 * The kernel BTF name index against libbpf's own linear search, on this
 * machine's kernel: the same first id for a sample of every FUNC and
 * TYPEDEF name (the answer libbpf's attach resolution would give), none
 * for a name the kernel does not have.
 */
#include <errno.h>
#include <unistd.h>
#include <bpf/btf.h>
#include <criterion/criterion.h>
#include "kbtf.h"

static bool kernel_btf(void)
{
	return access("/sys/kernel/btf/vmlinux", R_OK) == 0;
}

Test(kbtf, same_first_id_as_libbpf)
{
	struct btf *b = vfs_kbtf("vmlinux");
	__u32 id, n, checked = 0;

	if (!kernel_btf()) {
		cr_expect_null(b);
		cr_expect_lt(vfs_kbtf_find("vmlinux", "schedule", BTF_KIND_FUNC), 0);
		return;
	}
	cr_assert_not_null(b, "this kernel has BTF, but it did not parse");
	n = btf__type_cnt(b);
	/* every 499th type: ~260 linear searches over the whole kernel */
	for (id = 1; id < n; id += 499) {
		const struct btf_type *t = btf__type_by_id(b, id);
		int kind = btf_kind(t);
		const char *name;

		if ((kind != BTF_KIND_FUNC && kind != BTF_KIND_TYPEDEF) || !t->name_off)
			continue;
		name = btf__name_by_offset(b, t->name_off);
		cr_expect_eq(vfs_kbtf_find("vmlinux", name, kind),
			     btf__find_by_name_kind(b, name, kind), "%s (kind %d)", name, kind);
		checked++;
	}
	cr_expect_gt(checked, 20, "only %u names sampled", checked);
	cr_expect_gt(vfs_kbtf_find("vmlinux", "schedule", BTF_KIND_FUNC), 0);
	cr_expect_eq(vfs_kbtf_find("vmlinux", "vfioscope_no_such_function", BTF_KIND_FUNC),
		     -ENOENT);
	/* a FUNC's name is no TYPEDEF */
	cr_expect_eq(vfs_kbtf_find("vmlinux", "schedule", BTF_KIND_TYPEDEF), -ENOENT);
	cr_expect_eq(vfs_kbtf_find("vmlinux", "task_struct", BTF_KIND_STRUCT), -EINVAL);
}

Test(kbtf, module_without_btf)
{
	cr_expect_null(vfs_kbtf("vfioscope_no_such_module"));
	cr_expect_lt(vfs_kbtf_find("vfioscope_no_such_module", "schedule", BTF_KIND_FUNC), 0);
}
