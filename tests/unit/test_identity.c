// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <criterion/criterion.h>
#include "identity.h"

/* a /proc/PID/cmdline image from a string with '|' for the NULs */
static size_t cmdline(const char *s, char *out)
{
	size_t n = strlen(s), i;

	for (i = 0; i < n; i++)
		out[i] = s[i] == '|' ? '\0' : s[i];
	out[n] = '\0';
	return n + 1;
}

Test(identity, qemu_guest_option)
{
	char buf[512], name[64];
	size_t n;

	n = cmdline("/usr/bin/qemu-system-x86_64|-machine|q35|-name|guest=web-1,debug-threads=on|-m|4096", buf);
	cr_assert_eq(vfs_qemu_vm_name(buf, n, name, sizeof(name)), 0);
	cr_expect_str_eq(name, "web-1");
	/* libvirt puts guest= after other options sometimes */
	n = cmdline("qemu|-name|debug-threads=on,guest=db", buf);
	cr_assert_eq(vfs_qemu_vm_name(buf, n, name, sizeof(name)), 0);
	cr_expect_str_eq(name, "db");
}

Test(identity, qemu_bare_name_and_escaped_commas)
{
	char buf[512], name[64];
	size_t n;

	n = cmdline("qemu|--name|legacy", buf);
	cr_assert_eq(vfs_qemu_vm_name(buf, n, name, sizeof(name)), 0);
	cr_expect_str_eq(name, "legacy");
	n = cmdline("qemu|-name|guest=a,,b,process=x", buf);
	cr_assert_eq(vfs_qemu_vm_name(buf, n, name, sizeof(name)), 0);
	cr_expect_str_eq(name, "a,b");
	n = cmdline("qemu|-name|legacy,process=q", buf);
	cr_assert_eq(vfs_qemu_vm_name(buf, n, name, sizeof(name)), 0);
	cr_expect_str_eq(name, "legacy");
}

Test(identity, qemu_without_name)
{
	char buf[512], name[64];
	size_t n;

	n = cmdline("qemu|-m|1024", buf);
	cr_expect_eq(vfs_qemu_vm_name(buf, n, name, sizeof(name)), -1);
	n = cmdline("qemu|-name", buf);	/* truncated */
	cr_expect_eq(vfs_qemu_vm_name(buf, n, name, sizeof(name)), -1);
	n = cmdline("qemu|-name|process=only", buf);
	cr_expect_eq(vfs_qemu_vm_name(buf, n, name, sizeof(name)), -1);
	cr_expect_eq(vfs_qemu_vm_name(buf, 0, name, sizeof(name)), -1);
}

Test(identity, qemu_name_is_bounded)
{
	char buf[512], name[8];
	size_t n;

	n = cmdline("qemu|-name|guest=averyveryverylongname", buf);
	cr_assert_eq(vfs_qemu_vm_name(buf, n, name, sizeof(name)), 0);
	cr_expect_str_eq(name, "averyve");
}

Test(identity, libvirt_scopes)
{
	char name[64];

	cr_assert_eq(vfs_libvirt_vm_name("0::/machine.slice/machine-qemu\\x2d3\\x2dweb\\x2d1.scope/libvirt/vcpu0\n",
					 name, sizeof(name)), 0);
	cr_expect_str_eq(name, "web-1");
	cr_assert_eq(vfs_libvirt_vm_name("/machine.slice/machine-qemu\\x2d12\\x2dvm.scope", name,
					 sizeof(name)), 0);
	cr_expect_str_eq(name, "vm");
	cr_expect_eq(vfs_libvirt_vm_name("0::/user.slice/session-2.scope", name, sizeof(name)), -1);
	cr_expect_eq(vfs_libvirt_vm_name("/machine.slice/machine-qemu\\x2dx\\x2dvm.scope", name,
					 sizeof(name)), -1);
	cr_expect_eq(vfs_libvirt_vm_name("/machine.slice/machine-qemu\\x2d3.scope", name,
					 sizeof(name)), -1);
	cr_expect_eq(vfs_libvirt_vm_name("/machine.slice/machine-qemu\\x2d3\\x2dvm", name,
					 sizeof(name)), -1);
}

/* a sysfs image: bus/<bus>/devices/<dev>/driver -> ../../../../bus/<bus>/drivers/<drv> */
static void fake_dev(const char *root, const char *bus, const char *dev, const char *drv)
{
	char cmd[1024];

	snprintf(cmd, sizeof(cmd), "mkdir -p %s/bus/%s/devices/%s%s%s", root, bus, dev,
		 drv ? " && ln -s ../../../../bus/" : "", drv ? bus : "");
	if (drv)
		snprintf(cmd + strlen(cmd), sizeof(cmd) - strlen(cmd),
			 "/drivers/%s %s/bus/%s/devices/%s/driver", drv, root, bus, dev);
	cr_assert_eq(system(cmd), 0, "%s", cmd);
}

Test(identity, device_driver_from_sysfs)
{
	char root[] = "/tmp/vfs-sysfs-XXXXXX", out[64], cmd[128];

	cr_assert_not_null(mkdtemp(root));
	fake_dev(root, "pci", "0000:00:03.0", "vfio-pci");
	fake_dev(root, "mdev", "83b8f4f2-509f-382f-3c1e-e6bfe0fa1001", "mdacc");
	fake_dev(root, "vdpa", "vduse0", "virtio_vdpa");
	fake_dev(root, "pci", "0000:00:05.0", NULL);

	cr_expect_eq(vfs_device_driver(root, "0000:00:03.0", out, sizeof(out)), 0);
	cr_expect_str_eq(out, "vfio-pci");
	cr_expect_eq(vfs_device_driver(root, "83b8f4f2-509f-382f-3c1e-e6bfe0fa1001", out,
				       sizeof(out)), 0);
	cr_expect_str_eq(out, "mdacc");
	cr_expect_eq(vfs_device_driver(root, "vduse0", out, sizeof(out)), 0);
	cr_expect_str_eq(out, "virtio_vdpa");
	/* unbound, unknown, and names that would leave the bus directory */
	cr_expect_eq(vfs_device_driver(root, "0000:00:05.0", out, sizeof(out)), -ENOENT);
	cr_expect_str_eq(out, "-");
	cr_expect_eq(vfs_device_driver(root, "0000:00:09.0", out, sizeof(out)), -ENOENT);
	cr_expect_eq(vfs_device_driver(root, "..", out, sizeof(out)), -ENOENT);
	cr_expect_eq(vfs_device_driver(root, "../../pci/devices/0000:00:03.0", out, sizeof(out)),
		     -ENOENT);
	cr_expect_eq(vfs_device_driver(root, "", out, sizeof(out)), -ENOENT);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	cr_assert_eq(system(cmd), 0);
}

/*
 * A command line read whole is NUL-terminated, one cut at the read size is
 * not: the last argument ends at the length, never at a NUL past it.
 */
Test(identity, qemu_unterminated_last_argument)
{
	static const char cut[] = { 'q', 'e', 'm', 'u', '\0', '-', 'n', 'a', 'm', 'e' };
	static const char guest[] = { '-', 'n', 'a', 'm', 'e', '\0', 'g', 'u', 'e', 's', 't' };
	static const char named[] = { '-', 'n', 'a', 'm', 'e', '\0', 'v', 'm', '1' };
	char *heap, name[64];

	/* on the heap at its exact size, so a read past it is an ASan report */
	heap = malloc(sizeof(cut));
	memcpy(heap, cut, sizeof(cut));
	cr_expect_eq(vfs_qemu_vm_name(heap, sizeof(cut), name, sizeof(name)), -1);
	free(heap);
	heap = malloc(sizeof(guest));
	memcpy(heap, guest, sizeof(guest));
	/* "guest" is the name itself here: it is not "guest=" */
	cr_expect_eq(vfs_qemu_vm_name(heap, sizeof(guest), name, sizeof(name)), 0);
	cr_expect_str_eq(name, "guest");
	free(heap);
	heap = malloc(sizeof(named));
	memcpy(heap, named, sizeof(named));
	cr_expect_eq(vfs_qemu_vm_name(heap, sizeof(named), name, sizeof(name)), 0);
	cr_expect_str_eq(name, "vm1");
	free(heap);
}

Test(identity, qemu_name_option_is_whole_argument)
{
	char buf[128], name[64];
	size_t n = cmdline("qemu|-namex|a|--name|b", buf);

	cr_expect_eq(vfs_qemu_vm_name(buf, n, name, sizeof(name)), 0);
	cr_expect_str_eq(name, "b");
}
