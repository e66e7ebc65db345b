// SPDX-License-Identifier: GPL-2.0
/*
 * make bench's tracing floor (tests/bench/trace-floor.c): fentry and fexit
 * programs that do nothing, on the three VFIO ioctl entry points both
 * vfioscope's ioctl collector (fentry tier) and the bpftrace peer
 * (kfunc/kretfunc) hook. Any tool on these hooks costs an ioctl at least
 * this much (two trampoline round trips); what a tool costs above it is
 * its own programs' work.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

SEC("fentry/vfio_fops_unl_ioctl")
int BPF_PROG(floor_container_enter)
{
	return 0;
}

SEC("fexit/vfio_fops_unl_ioctl")
int BPF_PROG(floor_container_exit)
{
	return 0;
}

SEC("fentry/vfio_group_fops_unl_ioctl")
int BPF_PROG(floor_group_enter)
{
	return 0;
}

SEC("fexit/vfio_group_fops_unl_ioctl")
int BPF_PROG(floor_group_exit)
{
	return 0;
}

SEC("fentry/vfio_device_fops_unl_ioctl")
int BPF_PROG(floor_device_enter)
{
	return 0;
}

SEC("fexit/vfio_device_fops_unl_ioctl")
int BPF_PROG(floor_device_exit)
{
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
