// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/wait.h>
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

/* a vm_info entry as the BPF side captures it: argv as cmdline() writes it */
static void seen(struct vfs_vm_info *vi, const char *argv, size_t arg_len, const char *comm)
{
	char buf[1024];
	size_t n = argv ? cmdline(argv, buf) : 0;

	memset(vi, 0, sizeof(*vi));
	vi->first_ns = 1;
	/* what fits is captured; arg_len is the whole area's */
	vi->arg_len = arg_len ? arg_len : n;
	vi->argv_len = n < VFS_ARGV_LEN ? n : VFS_ARGV_LEN;
	memcpy(vi->argv, buf, vi->argv_len);
	if (comm)
		memcpy(vi->comm, comm, strnlen(comm, sizeof(vi->comm)));
}

Test(identity_seen, guest_option_with_more_options)
{
	struct vfs_vm_info vi;
	char name[64];

	seen(&vi, "/usr/bin/qemu-system-x86_64|-name|guest=web-1,debug-threads=on|-m|4096",
	     0, "CPU 0/KVM");
	cr_expect_eq(vfs_vm_name_seen(&vi, name, sizeof(name)), VFS_NAME_QEMU);
	cr_expect_str_eq(name, "web-1");
}

Test(identity_seen, bare_name)
{
	struct vfs_vm_info vi;
	char name[64];

	seen(&vi, "qemu|-name|db-2", 0, "qemu-system-x86");
	cr_expect_eq(vfs_vm_name_seen(&vi, name, sizeof(name)), VFS_NAME_QEMU);
	cr_expect_str_eq(name, "db-2");
}

/* no -name: the captured cgroup's libvirt scope, else the comm */
Test(identity_seen, no_name_falls_back_to_cgroup_then_comm)
{
	struct vfs_vm_info vi;
	char name[64];

	seen(&vi, "qemu|-m|1024", 0, "qemu-kvm");
	cr_expect_eq(vfs_vm_name_seen(&vi, name, sizeof(name)), VFS_NAME_COMM);
	cr_expect_str_eq(name, "qemu-kvm");
	/* innermost first: .../machine-qemu\x2d4\x2dweb\x2d1.scope/libvirt/emulator */
	strcpy(vi.cgroup[0], "emulator");
	strcpy(vi.cgroup[1], "libvirt");
	strcpy(vi.cgroup[2], "machine-qemu\\x2d4\\x2dweb\\x2d1.scope");
	cr_expect_eq(vfs_vm_name_seen(&vi, name, sizeof(name)), VFS_NAME_LIBVIRT);
	cr_expect_str_eq(name, "web-1");
	/* a scope directly above the process, the root's empty names past it */
	memset(vi.cgroup, 0, sizeof(vi.cgroup));
	strcpy(vi.cgroup[0], "machine-qemu\\x2d9\\x2ddb.scope");
	strcpy(vi.cgroup[1], "machine.slice");
	cr_expect_eq(vfs_vm_name_seen(&vi, name, sizeof(name)), VFS_NAME_LIBVIRT);
	cr_expect_str_eq(name, "db");
	/* the -name in argv comes before the cgroup */
	seen(&vi, "qemu|-name|guest=first", 0, "qemu-kvm");
	strcpy(vi.cgroup[0], "machine-qemu\\x2d9\\x2ddb.scope");
	cr_expect_eq(vfs_vm_name_seen(&vi, name, sizeof(name)), VFS_NAME_QEMU);
	cr_expect_str_eq(name, "first");
}

/*
 * Cut at the capture limit in the middle of an argument: the partial
 * argument is no name (never "we" for "guest=web-1"); an argument cut
 * after the -name is complete does not matter.
 */
Test(identity_seen, truncated_argv)
{
	struct vfs_vm_info vi;
	char name[64], argv[600];
	size_t pad;

	/* "-name" and "guest=web-1,..." straddle the VFS_ARGV_LEN-byte limit */
	pad = VFS_ARGV_LEN - strlen("qemu|") - strlen("|-name|guest=we");
	snprintf(argv, sizeof(argv), "qemu|%0*d|-name|guest=web-1,debug-threads=on|-m|4096",
		 (int)pad, 0);
	seen(&vi, argv, strlen(argv) + 1, "qemu-kvm");
	cr_assert_eq(vi.argv_len, VFS_ARGV_LEN);
	cr_assert_eq(memcmp(vi.argv + VFS_ARGV_LEN - 8, "guest=we", 8), 0, "cut inside the name");
	cr_expect_eq(vfs_vm_name_seen(&vi, name, sizeof(name)), VFS_NAME_COMM);
	cr_expect_str_eq(name, "qemu-kvm");
	/* cut right after "-name": nothing follows it */
	pad = VFS_ARGV_LEN - strlen("qemu|") - strlen("|-name|");
	snprintf(argv, sizeof(argv), "qemu|%0*d|-name|guest=web-1", (int)pad, 0);
	seen(&vi, argv, strlen(argv) + 1, "qemu-kvm");
	cr_expect_eq(vfs_vm_name_seen(&vi, name, sizeof(name)), VFS_NAME_COMM);
	/* cut in a later argument: the name is whole */
	pad = VFS_ARGV_LEN - strlen("qemu|-name|guest=web-1,debug-threads=on|-m|");
	snprintf(argv, sizeof(argv), "qemu|-name|guest=web-1,debug-threads=on|-m|%0*d", (int)pad + 4, 0);
	seen(&vi, argv, strlen(argv) + 1, "qemu-kvm");
	cr_expect_eq(vfs_vm_name_seen(&vi, name, sizeof(name)), VFS_NAME_QEMU);
	cr_expect_str_eq(name, "web-1");
	/* a read that failed part-way is a cut too: "guest=web-1" seen as "guest=w" */
	seen(&vi, "qemu|-name|guest=web-1", 0, "qemu-kvm");
	vi.argv_len = strlen("qemu|-name|guest=w");
	cr_expect_eq(vfs_vm_name_seen(&vi, name, sizeof(name)), VFS_NAME_COMM);
	cr_expect_str_eq(name, "qemu-kvm");
}

/* nothing captured at all (the kprobe tier, or a zeroed entry): "?" */
Test(identity_seen, empty)
{
	struct vfs_vm_info vi;
	char name[64];

	memset(&vi, 0, sizeof(vi));
	cr_expect_eq(vfs_vm_name_seen(&vi, name, sizeof(name)), VFS_NAME_NONE);
	cr_expect_str_eq(name, "?");
	cr_expect_str_eq(vfs_name_source_str(VFS_NAME_NONE), "none");
	seen(&vi, NULL, 0, "qemu-kvm");
	cr_expect_eq(vfs_vm_name_seen(&vi, name, sizeof(name)), VFS_NAME_COMM);
	cr_expect_str_eq(name, "qemu-kvm");
}

/* any bytes: bounded reads (argv_len past the buffer, unterminated comm and cgroup names) */
Test(identity_seen, garbage)
{
	struct vfs_vm_info *vi = malloc(sizeof(*vi));
	char name[8];
	size_t i;

	cr_assert_not_null(vi);
	for (i = 0; i < sizeof(*vi); i++)
		((unsigned char *)vi)[i] = (unsigned char)(i * 131 + 7) | 1;	/* no NUL anywhere */
	vi->argv_len = 0xffffffffu;
	vi->arg_len = 0xffffffffu;
	vi->exit_ns = 1;
	cr_expect_eq(vfs_vm_name_seen(vi, name, sizeof(name)), VFS_NAME_COMM);
	cr_expect_eq(strlen(name), sizeof(name) - 1, "comm, cut to the buffer");
	/* a cgroup name that filled its buffer may be cut: not used */
	memset(vi, 0, sizeof(*vi));
	memset(vi->cgroup[1], 'x', VFS_CGROUP_NAME_LEN - 1);
	memcpy(vi->cgroup[1], "machine-qemu\\x2d1\\x2dab.scope", 28);
	cr_expect_eq(vfs_vm_name_seen(vi, name, sizeof(name)), VFS_NAME_NONE);
	/* a -name whose value is empty names nothing */
	seen(vi, "qemu|-name||-m|1", 0, NULL);
	cr_expect_eq(vfs_vm_name_seen(vi, name, sizeof(name)), VFS_NAME_NONE);
	cr_expect_str_eq(name, "?");
	free(vi);
}

/*
 * Live /proc first while the process runs, the capture once it has
 * exited (even if the pid is alive again: it is another process then)
 */
Test(identity_seen, live_process_before_capture)
{
	struct vfs_vm_info vi;
	char name[64], path[64], buf[256];
	pid_t child;
	int i;
	FILE *f;

	/* a shell whose $0 and $1 are "-name live": /proc shows them */
	child = fork();
	cr_assert_geq(child, 0);
	if (!child) {
		execl("/bin/sh", "sh", "-c", "sleep 30; :", "-name", "live", (char *)NULL);
		_exit(127);
	}
	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)child);
	for (i = 0; i < 500; i++) {	/* until the exec happened */
		size_t n = 0;

		f = fopen(path, "r");
		if (f) {
			n = fread(buf, 1, sizeof(buf), f);
			fclose(f);
		}
		if (n > 3 && !memcmp(buf, "sh", 3))
			break;
		usleep(10000);
	}
	seen(&vi, "qemu|-name|captured", 0, "qemu-kvm");
	cr_expect_eq(vfs_vm_name_info(child, &vi, name, sizeof(name)), VFS_NAME_QEMU);
	cr_expect_str_eq(name, "live");
	vi.exit_ns = 2;
	cr_expect_eq(vfs_vm_name_info(child, &vi, name, sizeof(name)), VFS_NAME_QEMU);
	cr_expect_str_eq(name, "captured");
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	/* gone without an exit mark (it exited before the probe saw it): captured */
	vi.exit_ns = 0;
	cr_expect_eq(vfs_vm_name_info(child, &vi, name, sizeof(name)), VFS_NAME_QEMU);
	cr_expect_str_eq(name, "captured");
}
