// SPDX-License-Identifier: GPL-2.0
/* core-audit self-test: the same missing field, but read through a
 * flavour pair (the old name where it exists, the new one otherwise) and
 * behind bpf_core_field_exists: the audit must pass and say which. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

struct task_struct___old {
	int vfioscope_no_such_field;
} __attribute__((preserve_access_index));

struct task_struct___new {
	int tgid;
} __attribute__((preserve_access_index));

SEC("tp_btf/sched_process_fork")
int BPF_PROG(fallback, struct task_struct *parent, struct task_struct *child)
{
	if (bpf_core_field_exists(((struct task_struct___old *)child)->vfioscope_no_such_field))
		return BPF_CORE_READ((struct task_struct___old *)child, vfioscope_no_such_field);
	return BPF_CORE_READ((struct task_struct___new *)child, tgid);
}

char LICENSE[] SEC("license") = "GPL";
