// SPDX-License-Identifier: GPL-2.0
/* core-audit self-test: a field no kernel has, read with no fallback:
 * the audit must fail on every kernel. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

struct task_struct___gone {
	int vfioscope_no_such_field;
} __attribute__((preserve_access_index));

SEC("tp_btf/sched_process_fork")
int BPF_PROG(absent, struct task_struct *parent, struct task_struct *child)
{
	return BPF_CORE_READ((struct task_struct___gone *)child, vfioscope_no_such_field);
}

char LICENSE[] SEC("license") = "GPL";
