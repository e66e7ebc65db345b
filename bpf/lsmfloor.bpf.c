// SPDX-License-Identifier: GPL-2.0
/*
 * make bench's floor (tests/bench/lsm-floor.c): BPF LSM programs on the
 * two hooks vfio-policyd uses that decide nothing. Any BPF LSM program
 * costs a hooked operation at least this much (the trampoline); what the
 * policy's programs cost above it is their own fast path.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

SEC("lsm/file_ioctl")
int BPF_PROG(floor_file_ioctl, struct file *file, unsigned int cmd, unsigned long arg, int ret)
{
	return ret;
}

SEC("lsm/file_permission")
int BPF_PROG(floor_file_permission, struct file *file, int mask, int ret)
{
	return ret;
}

char LICENSE[] SEC("license") = "GPL";
