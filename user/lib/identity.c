// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "identity.h"

/* copy an option value up to an unescaped ',' (QEMU writes ',' as ",,") */
static void qemu_value(const char *v, const char *end, char *out, size_t outlen)
{
	size_t n = 0;

	while (v < end && *v && n + 1 < outlen) {
		if (*v == ',') {
			if (v + 1 < end && v[1] == ',') {
				out[n++] = ',';
				v += 2;
				continue;
			}
			break;
		}
		out[n++] = *v++;
	}
	out[n] = '\0';
}

/* whether [s, end) starts with @word (the command line need not end in NUL) */
static int starts(const char *s, const char *end, const char *word)
{
	size_t n = strlen(word);

	return (size_t)(end - s) >= n && !memcmp(s, word, n);
}

/* whether [s, end) is exactly @word */
static int is_word(const char *s, const char *end, const char *word)
{
	return (size_t)(end - s) == strlen(word) && !memcmp(s, word, end - s);
}

int vfs_qemu_vm_name(const char *cmdline, size_t len, char *out, size_t outlen)
{
	const char *p = cmdline, *end = cmdline + len, *arg, *aend;

	while (p < end) {
		arg = p;
		aend = memchr(p, '\0', end - p);
		if (!aend)
			aend = end;
		p = aend + 1;
		if (!is_word(arg, aend, "-name") && !is_word(arg, aend, "--name"))
			continue;
		if (p >= end)
			return -1;
		aend = memchr(p, '\0', end - p);
		if (!aend)
			aend = end;
		/* "guest=NAME,...", anywhere among the options, or a bare NAME first */
		for (arg = p; arg < aend; ) {
			if (starts(arg, aend, "guest=")) {
				qemu_value(arg + 6, aend, out, outlen);
				return out[0] ? 0 : -1;
			}
			while (arg < aend && *arg != ',')
				arg++;
			while (arg < aend && *arg == ',' && arg + 1 < aend && arg[1] == ',')
				arg += 2;
			if (arg < aend)
				arg++;
		}
		/* legacy form: the first item has no key */
		arg = memchr(p, ',', aend - p);
		if (!memchr(p, '=', (arg ? arg : aend) - p)) {
			qemu_value(p, aend, out, outlen);
			return out[0] ? 0 : -1;
		}
		return -1;
	}
	return -1;
}

/* undo systemd's unit-name escaping (\xNN) */
static void unescape(const char *s, const char *end, char *out, size_t outlen)
{
	size_t n = 0;

	while (s < end && n + 1 < outlen) {
		if (s + 3 < end && s[0] == '\\' && s[1] == 'x' && isxdigit((unsigned char)s[2]) &&
		    isxdigit((unsigned char)s[3])) {
			char hex[3] = { s[2], s[3], 0 };

			out[n++] = (char)strtol(hex, NULL, 16);
			s += 4;
		} else {
			out[n++] = *s++;
		}
	}
	out[n] = '\0';
}

int vfs_libvirt_vm_name(const char *path, char *out, size_t outlen)
{
	static const char prefix[] = "machine-qemu";
	const char *s = strstr(path, prefix), *e;
	char unit[256], *name;

	if (!s)
		return -1;
	e = strstr(s, ".scope");
	if (!e)
		return -1;
	unescape(s + sizeof(prefix) - 1, e, unit, sizeof(unit));
	/* "-<id>-<name>" */
	if (unit[0] != '-' || !isdigit((unsigned char)unit[1]))
		return -1;
	name = unit + 1;
	while (isdigit((unsigned char)*name))
		name++;
	if (*name != '-' || !name[1])
		return -1;
	snprintf(out, outlen, "%s", name + 1);
	return 0;
}

/* the name /proc knows for a live @pid: -1 when it knows none */
static int live_name(pid_t pid, char *out, size_t outlen)
{
	char path[64], buf[8192];
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	f = fopen(path, "r");
	if (f) {
		n = fread(buf, 1, sizeof(buf), f);
		fclose(f);
		if (!vfs_qemu_vm_name(buf, n, out, outlen))
			return VFS_NAME_QEMU;
	}
	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
	f = fopen(path, "r");
	if (f) {
		while (fgets(buf, sizeof(buf), f))
			if (!vfs_libvirt_vm_name(buf, out, outlen)) {
				fclose(f);
				return VFS_NAME_LIBVIRT;
			}
		fclose(f);
	}
	return -1;
}

enum vfs_name_source vfs_vm_name(pid_t pid, const char *comm, char *out, size_t outlen)
{
	int src = live_name(pid, out, outlen);

	if (src >= 0)
		return src;
	snprintf(out, outlen, "%s", comm);
	return VFS_NAME_COMM;
}

/*
 * The captured cgroup path, outermost first, as /proc/PID/cgroup writes
 * it; -1 when a level filled its buffer (its name may be cut short, and a
 * cut scope name must not pass for a shorter one).
 */
static int seen_cgroup(const struct vfs_vm_info *vi, char *path, size_t len)
{
	size_t n = 0, l;
	int i;

	path[0] = '\0';
	for (i = VFS_CGROUP_LEVELS - 1; i >= 0; i--) {
		l = strnlen(vi->cgroup[i], VFS_CGROUP_NAME_LEN);
		if (l == VFS_CGROUP_NAME_LEN || l == VFS_CGROUP_NAME_LEN - 1)
			return -1;
		if (!l)
			continue;
		n += snprintf(path + n, len - n, "/%.*s", (int)l, vi->cgroup[i]);
		if (n >= len)
			return -1;
	}
	return 0;
}

enum vfs_name_source vfs_vm_name_seen(const struct vfs_vm_info *vi, char *out, size_t outlen)
{
	size_t n = vi->argv_len < VFS_ARGV_LEN ? vi->argv_len : VFS_ARGV_LEN;
	char path[VFS_CGROUP_LEVELS * (VFS_CGROUP_NAME_LEN + 1) + 1];
	const char *cut;

	/* cut mid-argument: the last, partial argument is not used */
	if (n < vi->arg_len) {
		cut = memrchr(vi->argv, '\0', n);
		n = cut ? (size_t)(cut - vi->argv) + 1 : 0;
	}
	if (!vfs_qemu_vm_name(vi->argv, n, out, outlen))
		return VFS_NAME_QEMU;
	if (!seen_cgroup(vi, path, sizeof(path)) && !vfs_libvirt_vm_name(path, out, outlen))
		return VFS_NAME_LIBVIRT;
	n = strnlen(vi->comm, sizeof(vi->comm));
	if (n) {
		snprintf(out, outlen, "%.*s", (int)n, vi->comm);
		return VFS_NAME_COMM;
	}
	snprintf(out, outlen, "?");
	return VFS_NAME_NONE;
}

enum vfs_name_source vfs_vm_name_info(pid_t pid, const struct vfs_vm_info *vi, char *out,
				      size_t outlen)
{
	int src = vi->exit_ns ? -1 : live_name(pid, out, outlen);

	if (src >= 0)
		return src;
	return vfs_vm_name_seen(vi, out, outlen);
}

const char *vfs_name_source_str(enum vfs_name_source s)
{
	switch (s) {
	case VFS_NAME_QEMU: return "qemu";
	case VFS_NAME_LIBVIRT: return "libvirt";
	case VFS_NAME_COMM: return "comm";
	default: return "none";
	}
}

int vfs_device_driver(const char *sysfs, const char *name, char *out, size_t outlen)
{
	static const char *const buses[] = { "pci", "mdev", "vdpa" };
	char path[PATH_MAX], link[PATH_MAX];
	size_t i;
	ssize_t n;

	snprintf(out, outlen, "-");
	/* a name is one path component: never walk out of the bus directory */
	if (!name[0] || strchr(name, '/') || !strcmp(name, ".") || !strcmp(name, ".."))
		return -ENOENT;
	for (i = 0; i < sizeof(buses) / sizeof(buses[0]); i++) {
		snprintf(path, sizeof(path), "%s/bus/%s/devices/%s/driver", sysfs ?: "/sys",
			 buses[i], name);
		n = readlink(path, link, sizeof(link) - 1);
		if (n <= 0)
			continue;
		link[n] = 0;
		snprintf(out, outlen, "%s", strrchr(link, '/') ? strrchr(link, '/') + 1 : link);
		return 0;
	}
	return -ENOENT;
}
