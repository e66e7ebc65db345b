// SPDX-License-Identifier: GPL-2.0
/*
 * ioctlcount: count every ioctl on VFIO container, group and device files
 * per process and command, at the three file_operations entry points (one
 * call per ioctl(2), whatever the command does afterwards). The bench's
 * proof that fentry on module functions counts exactly; the full collectors
 * build on the same entry points.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "abi.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, struct vfs_ioctl_key);
	__type(value, __u64);
} counts SEC(".maps");

/* insertions that failed because the map was full: never lost silently */
__u64 dropped = 0;

static __always_inline int count(unsigned int cmd, __u32 kind)
{
	struct vfs_ioctl_key key = {
		.tgid = bpf_get_current_pid_tgid() >> 32,
		.cmd = cmd,
		.kind = kind,
	};
	__u64 one = 1, *val;

	val = bpf_map_lookup_elem(&counts, &key);
	if (val) {
		__sync_fetch_and_add(val, 1);
		return 0;
	}
	/* another CPU may insert the same key first: then add to its entry */
	if (bpf_map_update_elem(&counts, &key, &one, BPF_NOEXIST)) {
		val = bpf_map_lookup_elem(&counts, &key);
		if (val)
			__sync_fetch_and_add(val, 1);
		else
			__sync_fetch_and_add(&dropped, 1);
	}
	return 0;
}

SEC("fentry/vfio_fops_unl_ioctl")
int BPF_PROG(container_ioctl, struct file *f, unsigned int cmd, unsigned long arg)
{
	return count(cmd, VFS_FD_CONTAINER);
}

SEC("fentry/vfio_group_fops_unl_ioctl")
int BPF_PROG(group_ioctl, struct file *f, unsigned int cmd, unsigned long arg)
{
	return count(cmd, VFS_FD_GROUP);
}

SEC("fentry/vfio_device_fops_unl_ioctl")
int BPF_PROG(device_ioctl, struct file *f, unsigned int cmd, unsigned long arg)
{
	return count(cmd, VFS_FD_DEVICE);
}

char LICENSE[] SEC("license") = "GPL";
