// SPDX-License-Identifier: GPL-2.0
/*
 * VM identity parsing: any bytes as a /proc/PID/cmdline (NUL-separated,
 * not NUL-terminated) for the QEMU -name parser, and as one line of
 * /proc/PID/cgroup for the libvirt scope parser, into small and large
 * output buffers; and as a vm_info entry (what the BPF side captured, any
 * lengths) for the name resolution of a VM that is gone.
 */
#include <stdlib.h>
#include <string.h>
#include "identity.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static volatile size_t sink;

static void check_out(const char *out, size_t outlen)
{
	/* a successful parse leaves a terminated string inside the buffer */
	if (strnlen(out, outlen) == outlen)
		abort();
	sink += strlen(out);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	char small[4], big[256], *cmd, *path;
	struct vfs_vm_info *vi = NULL;

	/* exact-size heap copies: a read past the input is a report */
	cmd = malloc(size ? size : 1);
	path = malloc(size + 1);
	if (!cmd || !path)
		goto out;
	memcpy(cmd, data, size);
	memcpy(path, data, size);
	path[size] = '\0';
	if (!vfs_qemu_vm_name(cmd, size, small, sizeof(small)))
		check_out(small, sizeof(small));
	if (!vfs_qemu_vm_name(cmd, size, big, sizeof(big)))
		check_out(big, sizeof(big));
	if (!vfs_libvirt_vm_name(path, small, sizeof(small)))
		check_out(small, sizeof(small));
	if (!vfs_libvirt_vm_name(path, big, sizeof(big)))
		check_out(big, sizeof(big));
	vi = calloc(1, sizeof(*vi));
	if (!vi)
		goto out;
	memcpy(vi, data, size < sizeof(*vi) ? size : sizeof(*vi));
	vfs_vm_name_seen(vi, small, sizeof(small));
	check_out(small, sizeof(small));
	vfs_vm_name_seen(vi, big, sizeof(big));
	check_out(big, sizeof(big));
out:
	free(vi);
	free(cmd);
	free(path);
	return 0;
}
