/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Migration data fds and the f_ops they carry, shared by bpf/vfio.bpf.c
 * (which learns them where a state change returns a data fd) and
 * bpf/migfops.bpf.c (the fexit programs the collector attaches to each
 * learned f_op's read, write and unlocked_ioctl). Userspace hands one
 * instance of each map to both objects.
 */
#ifndef VFIOSCOPE_MIGF_BPF_H
#define VFIOSCOPE_MIGF_BPF_H

#include "abi.h"

/* struct file of a live data fd -> its device and accounted offset */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1024);
	__type(key, __u64);
	__type(value, struct vfs_migf_val);
} mig_files SEC(".maps");

/* file_operations seen on data fds -> their functions (the learn queue) */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u64);
	__type(value, struct vfs_fops_val);
} mig_fops SEC(".maps");

/*
 * Devices whose driver fires vfio:vfio_mig_data (vfioscope's tracepoint):
 * their data is reported by it, and the learned f_op programs stay quiet.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1024);
	__type(key, __u64);
	__type(value, __u8);
} mig_tp_objs SEC(".maps");

#endif
