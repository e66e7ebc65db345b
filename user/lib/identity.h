/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Who a VM is: its name, from what the host knows about the process; and
 * which driver a device is bound to.
 */
#ifndef VFIOSCOPE_IDENTITY_H
#define VFIOSCOPE_IDENTITY_H

#include <stddef.h>
#include <sys/types.h>
#include <linux/types.h>
#include "abi.h"

/*
 * The guest name from a QEMU command line (/proc/PID/cmdline: arguments
 * separated by NULs): "-name guest=NAME,..." or "-name NAME" (also
 * "--name"), with QEMU's ",," escape for a comma. 0 on success, -1 if
 * there is no -name.
 */
int vfs_qemu_vm_name(const char *cmdline, size_t len, char *out, size_t outlen);

/*
 * The domain name from a libvirt machine scope in a cgroup path, e.g.
 * "/machine.slice/machine-qemu\x2d3\x2dweb\x2d1.scope/libvirt" -> "web-1"
 * (systemd escapes '-' as \x2d). 0 on success, -1 if there is none.
 */
int vfs_libvirt_vm_name(const char *cgroup_path, char *out, size_t outlen);

/* where a VM's name came from; NONE: nothing is known ("?") */
enum vfs_name_source { VFS_NAME_QEMU, VFS_NAME_LIBVIRT, VFS_NAME_COMM, VFS_NAME_NONE };

/*
 * A VM's display name: QEMU's -name, else the libvirt scope of its cgroup,
 * else @comm. Reads /proc/PID/{cmdline,cgroup} (once per VM: callers
 * cache). Returns where the name came from.
 */
enum vfs_name_source vfs_vm_name(pid_t pid, const char *comm, char *out, size_t outlen);
const char *vfs_name_source_str(enum vfs_name_source s);

/*
 * A VM's name from what the BPF side captured when it first saw the VM
 * (vm_info: argv, cgroup path, comm), never from /proc: the -name in the
 * captured argv (the argument a capture cut short is ignored, never read
 * as a shorter name), else the libvirt scope in the captured cgroup path,
 * else the comm, else "?" (VFS_NAME_NONE). For a VM that is gone and for
 * a recording's replay.
 */
enum vfs_name_source vfs_vm_name_seen(const struct vfs_vm_info *vi, char *out, size_t outlen);

/*
 * A VM's name from /proc while its process lives (vm_info says it has not
 * exited), else from what was captured (vfs_vm_name_seen): the order is
 * live -name, live cgroup, captured -name, captured cgroup, comm, "?".
 */
enum vfs_name_source vfs_vm_name_info(pid_t pid, const struct vfs_vm_info *vi, char *out,
				      size_t outlen);

/*
 * The driver bound to device @name (a PCI address, an mdev UUID, a vDPA
 * device name) under @sysfs (NULL: "/sys"): the last component of
 * <sysfs>/bus/{pci,mdev,vdpa}/devices/<name>/driver. 0, or -ENOENT with
 * "-" in @out when no bus has the device or it has no driver.
 */
int vfs_device_driver(const char *sysfs, const char *name, char *out, size_t outlen);

#endif
