// SPDX-License-Identifier: GPL-2.0
/*
 * mdev capacity (mdevcap.h) on fake sysfs trees in a temporary directory:
 * strict parsing of what sysfs says (garbage, missing files and
 * directories, names with spaces and newlines), and the creators and
 * counters learned from create/remove events, through the model too.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "mdevcap.h"
#include "model.h"

static char root[64];

static void rm_root(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	cr_assert_eq(system(cmd), 0);
}

static void setup(void)
{
	snprintf(root, sizeof(root), "/tmp/vfs-mdevcap-XXXXXX");
	cr_assert_not_null(mkdtemp(root));
}

/* mkdir -p <root>/<rel> */
static void mkdirs(const char *rel)
{
	char path[512], *p;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	for (p = path + strlen(root) + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		mkdir(path, 0755);
		*p = '/';
	}
	mkdir(path, 0755);
}

static void put(const char *rel, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	f = fopen(path, "w");
	cr_assert_not_null(f, "%s", path);
	fputs(text, f);
	fclose(f);
}

#define TYPES "class/mdev_bus/mdacc0/mdev_supported_types"

/* a type directory as the kernel makes it, with @n instances */
static void type_dir(const char *type, const char *avail, const char *name, int n,
		     const char *uuids[])
{
	char rel[256];
	int i;

	snprintf(rel, sizeof(rel), TYPES "/%s/devices", type);
	mkdirs(rel);
	snprintf(rel, sizeof(rel), TYPES "/%s/available_instances", type);
	put(rel, avail);
	snprintf(rel, sizeof(rel), TYPES "/%s/name", type);
	put(rel, name);
	snprintf(rel, sizeof(rel), TYPES "/%s/device_api", type);
	put(rel, "vfio-pci\n");
	for (i = 0; i < n; i++) {
		snprintf(rel, sizeof(rel), TYPES "/%s/devices/%s", type, uuids[i]);
		mkdirs(rel);
	}
}

static const struct vfs_mdev_row *row(const struct vfs_mdevcap *c, const char *type)
{
	size_t i;

	for (i = 0; i < c->ntypes; i++)
		if (!strcmp(c->types[i].type, type))
			return &c->types[i];
	return NULL;
}

/* the event the collectors send for a create or remove of @uuid */
static struct vfs_ev_mdev ev(__u32 op, __s32 ret, __u32 tgid, const char *type, const char *uuid)
{
	struct vfs_ev_mdev e = { .hdr = { .type = VFS_EV_MDEV, .tgid = tgid, .size = sizeof(e) },
				 .op = op, .ret = ret };
	unsigned int b[16];
	int i;

	/* the kernel's %pUl: the first three fields little endian */
	cr_assert_eq(sscanf(uuid, "%2x%2x%2x%2x-%2x%2x-%2x%2x-%2x%2x-%2x%2x%2x%2x%2x%2x",
			    &b[3], &b[2], &b[1], &b[0], &b[5], &b[4], &b[7], &b[6], &b[8], &b[9],
			    &b[10], &b[11], &b[12], &b[13], &b[14], &b[15]), 16);
	for (i = 0; i < 16; i++)
		e.uuid[i] = (__u8)b[i];
	snprintf(e.parent, sizeof(e.parent), "mdacc0");
	snprintf(e.type, sizeof(e.type), "%s", type);
	snprintf(e.hdr.comm, sizeof(e.hdr.comm), "bash");
	return e;
}

#define U1 "6d646163-0000-4000-8000-000000000001"
#define U2 "6d646163-0000-4000-8000-000000000002"
#define U3 "6d646163-0000-4000-8000-000000000003"

TestSuite(mdevcap, .init = setup, .fini = rm_root);

Test(mdevcap, parse_count_is_strict)
{
	cr_assert_eq(vfs_mdev_parse_count("7\n", 2), 7);
	cr_assert_eq(vfs_mdev_parse_count("0", 1), 0);
	cr_assert_eq(vfs_mdev_parse_count("", 0), -1);
	cr_assert_eq(vfs_mdev_parse_count("\n", 1), -1);
	cr_assert_eq(vfs_mdev_parse_count("-1\n", 3), -1);
	cr_assert_eq(vfs_mdev_parse_count(" 7\n", 3), -1);
	cr_assert_eq(vfs_mdev_parse_count("7\n\n", 3), -1);
	cr_assert_eq(vfs_mdev_parse_count("7x", 2), -1);
	cr_assert_eq(vfs_mdev_parse_count("0x10", 4), -1);
	cr_assert_eq(vfs_mdev_parse_count("99999999999999999999", 20), -1);
	cr_assert_eq(vfs_mdev_parse_count("9007199254740993", 16), -1);	/* 2^53 + 1 */
}

Test(mdevcap, scan_reads_each_type)
{
	const char *in1q[] = { U1, U2 };
	struct vfs_mdevcap *c = vfs_mdevcap_new(root);
	const struct vfs_mdev_row *r;

	cr_assert_not_null(c);
	type_dir("mdacc-1q", "4\n", "1 queue\n", 2, in1q);
	type_dir("mdacc-4q", "2\n", "4 queues\n", 0, NULL);
	cr_assert_eq(vfs_mdevcap_scan(c), 0);
	cr_assert_eq(c->ntypes, 2);
	r = &c->types[0];	/* sorted by parent, type */
	cr_assert_str_eq(r->parent, "mdacc0");
	cr_assert_str_eq(r->type, "mdacc-1q");
	cr_assert_str_eq(r->name, "1 queue");
	cr_assert_str_eq(r->api, "vfio-pci");
	cr_assert_eq(r->available, 4);
	cr_assert_eq(r->instances, 2);
	cr_assert_eq(r->low, 4);
	cr_assert_str_eq(r->creators, "?:2");	/* created before anyone watched */
	r = &c->types[1];
	cr_assert_str_eq(r->type, "mdacc-4q");
	cr_assert_eq(r->available, 2);
	cr_assert_eq(r->instances, 0);
	cr_assert_str_eq(r->creators, "-");

	/* the low mark keeps the fewest seen */
	put(TYPES "/mdacc-4q/available_instances", "0\n");
	vfs_mdevcap_scan(c);
	put(TYPES "/mdacc-4q/available_instances", "3\n");
	vfs_mdevcap_scan(c);
	r = row(c, "mdacc-4q");
	cr_assert_eq(r->available, 3);
	cr_assert_eq(r->low, 0);
	vfs_mdevcap_free(c);
}

Test(mdevcap, hostile_sysfs)
{
	struct vfs_mdevcap *c = vfs_mdevcap_new(root);
	const struct vfs_mdev_row *r;
	char big[4096];

	type_dir("garbage", "lots\n", "x\n", 0, NULL);
	type_dir("negative", "-3\n", "x\n", 0, NULL);
	memset(big, '9', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	type_dir("huge", big, "x\n", 0, NULL);
	type_dir("empty", "", "", 0, NULL);
	/* a type without devices/ and without a name */
	mkdirs(TYPES "/nodevs");
	put(TYPES "/nodevs/available_instances", "5\n");
	/* a name with spaces, an inner newline and a terminal escape */
	type_dir("spaced", "1\n", "fast 1q\nsecond line \x1b[2J\n", 0, NULL);
	/* a type whose directory name has a space and a newline */
	mkdirs(TYPES "/odd name\nx");
	put(TYPES "/odd name\nx/available_instances", "2\n");
	/* no mdev_supported_types at all: not a parent, no row */
	mkdirs("class/mdev_bus/other");

	cr_assert_eq(vfs_mdevcap_scan(c), 0);
	cr_assert_eq(c->ntypes, 7);
	cr_assert_eq(row(c, "garbage")->available, -1);
	cr_assert_eq(row(c, "negative")->available, -1);
	cr_assert_eq(row(c, "huge")->available, -1);
	cr_assert_eq(row(c, "empty")->available, -1);
	cr_assert_str_eq(row(c, "empty")->name, "?");
	cr_assert_eq(row(c, "garbage")->low, -1);
	r = row(c, "nodevs");
	cr_assert_eq(r->available, 5);
	cr_assert_eq(r->instances, -1);
	cr_assert_str_eq(r->name, "?");
	cr_assert_str_eq(r->api, "?");
	r = row(c, "spaced");
	cr_assert_str_eq(r->name, "fast 1q\\x0asecond line \\x1b[2J");
	r = row(c, "odd name\\x0ax");
	cr_assert_not_null(r, "the odd type is stored escaped");
	cr_assert_eq(r->available, 2);
	vfs_mdevcap_free(c);
}

Test(mdevcap, no_mdev_bus)
{
	struct vfs_mdevcap *c = vfs_mdevcap_new(root);

	cr_assert_eq(vfs_mdevcap_scan(c), -ENOENT);
	cr_assert_eq(c->ntypes, 0);
	/* a parent that goes takes its rows along */
	type_dir("mdacc-1q", "8\n", "x\n", 0, NULL);
	cr_assert_eq(vfs_mdevcap_scan(c), 0);
	cr_assert_eq(c->ntypes, 1);
	rm_root();
	cr_assert_eq(vfs_mdevcap_scan(c), -ENOENT);
	cr_assert_eq(c->ntypes, 0);
	mkdir(root, 0700);	/* for .fini */
	vfs_mdevcap_free(c);
}

Test(mdevcap, creators_and_counters)
{
	const char *two[] = { U1, U2 }, *three[] = { U1, U2, U3 };
	struct vfs_mdevcap *c = vfs_mdevcap_new(root);
	struct vfs_ev_mdev e;
	const struct vfs_mdev_row *r;
	size_t i;
	__u64 fails = 0;

	type_dir("mdacc-1q", "6\n", "x\n", 2, two);
	type_dir("mdacc-4q", "3\n", "x\n", 0, NULL);
	e = ev(VFS_MDEV_CREATE, 0, 100, "mdacc-1q", U1);
	cr_assert_eq(vfs_mdevcap_event(c, &e, "vm-x"), 0);
	e = ev(VFS_MDEV_CREATE, 0, 200, "mdacc-1q", U2);
	cr_assert_eq(vfs_mdevcap_event(c, &e, "vm-y"), 0);
	e = ev(VFS_MDEV_CREATE, -EDQUOT, 200, "mdacc-4q", U3);
	cr_assert_eq(vfs_mdevcap_event(c, &e, "vm-y"), 0);
	e.op = 9;
	cr_assert_eq(vfs_mdevcap_event(c, &e, "vm-y"), -EINVAL);
	cr_assert_eq(c->ninst, 2);
	cr_assert_eq(vfs_mdevcap_creator(c, U1)->tgid, 100);
	cr_assert_str_eq(vfs_mdevcap_creator(c, U2)->vm, "vm-y");
	cr_assert_null(vfs_mdevcap_creator(c, U3), "a failed create creates nothing");
	vfs_mdevcap_scan(c);
	r = row(c, "mdacc-1q");
	cr_assert_str_eq(r->creators, "vm-x:1,vm-y:1");
	cr_assert_eq(r->creates, 2);
	r = row(c, "mdacc-4q");
	cr_assert_eq(r->creates, 0);
	cr_assert_eq(r->create_fails, 1);

	/* a third instance nobody saw created */
	type_dir("mdacc-1q", "5\n", "x\n", 3, three);
	vfs_mdevcap_scan(c);
	cr_assert_str_eq(row(c, "mdacc-1q")->creators, "vm-x:1,vm-y:1,?:1");

	/* a remove forgets the creator */
	e = ev(VFS_MDEV_REMOVE, 0, 300, "mdacc-1q", U1);
	cr_assert_eq(vfs_mdevcap_event(c, &e, "vm-z"), 0);
	cr_assert_null(vfs_mdevcap_creator(c, U1));
	cr_assert_eq(c->ninst, 1);
	/* a remove the stream lost: the scan forgets what devices/ lost */
	rm_root();
	mkdir(root, 0700);
	type_dir("mdacc-1q", "8\n", "x\n", 0, NULL);
	vfs_mdevcap_scan(c);
	cr_assert_eq(c->ninst, 0);
	r = row(c, "mdacc-1q");
	cr_assert_eq(r->instances, 0);
	cr_assert_eq(r->removes, 1);
	cr_assert_str_eq(r->creators, "-");

	/* counters per (type, VM, result) */
	for (i = 0; i < c->ncount; i++)
		if (c->count[i].op == VFS_MDEV_CREATE && c->count[i].ret == -EDQUOT)
			fails += c->count[i].n;
	cr_assert_eq(fails, 1);
	cr_assert_eq(c->ncount, 4);
	vfs_mdevcap_free(c);
}

Test(mdevcap, bounded)
{
	struct vfs_mdevcap *c = vfs_mdevcap_new(root);
	struct vfs_ev_mdev e;
	char uuid[40], vm[32], rel[128];
	size_t i;

	for (i = 0; i < VFS_MDEV_INST_MAX + 5; i++) {
		snprintf(uuid, sizeof(uuid), "6d646163-0000-4000-8000-%012zx", i);
		e = ev(VFS_MDEV_CREATE, 0, 100, "mdacc-1q", uuid);
		vfs_mdevcap_event(c, &e, "vm-x");
	}
	cr_assert_eq(c->ninst, VFS_MDEV_INST_MAX);
	cr_assert_eq(c->inst_dropped, 5);
	for (i = 0; i < VFS_MDEV_COUNT_MAX + 3; i++) {
		snprintf(vm, sizeof(vm), "vm-%zu", i);
		e = ev(VFS_MDEV_CREATE, -ENOSPC, 100, "mdacc-1q", U1);
		vfs_mdevcap_event(c, &e, vm);
	}
	cr_assert_eq(c->ncount, VFS_MDEV_COUNT_MAX);
	cr_assert_eq(c->count_dropped, 4);	/* vm-x's ok creates took one */
	for (i = 0; i < VFS_MDEV_TYPES_MAX + 2; i++) {
		snprintf(rel, sizeof(rel), "t%03zu", i);
		type_dir(rel, "1\n", "x\n", 0, NULL);
	}
	vfs_mdevcap_scan(c);
	cr_assert_eq(c->ntypes, VFS_MDEV_TYPES_MAX);
	cr_assert_eq(c->types_untracked, 2);
	vfs_mdevcap_free(c);
}

static void fixed_namer(void *user, __u32 pid, const struct vfs_vm_info *vi, const char *comm,
			char *out, size_t len)
{
	snprintf(out, len, "vm-%u-%s", pid, comm);
}

/* the model: the mdev view, creators named by its namer; no scan without a live source */
Test(mdevcap, model_view)
{
	const char *one[] = { U1 };
	struct vfs_model m;
	struct vfs_ev_mdev e;
	const struct vfs_mdev_row *r;

	cr_assert_eq(vfs_model_init(&m, NULL), 0);
	m.namer = fixed_namer;
	vfs_mdevcap_free(m.mdev);
	m.mdev = vfs_mdevcap_new(root);
	type_dir("mdacc-1q", "7\n", "x\n", 1, one);
	e = ev(VFS_MDEV_CREATE, 0, 42, "mdacc-1q", U1);
	cr_assert_eq(vfs_model_event(&m, &e.hdr, sizeof(e)), 0);
	cr_assert_eq(m.mdev->scans, 0, "a replay reads no sysfs");
	vfs_mdevcap_scan(m.mdev);
	cr_assert_eq(vfs_model_compute(&m, 1000, 1000), 0);
	cr_assert_eq(m.view[VFS_VIEW_MDEV].n, 1);
	r = m.view[VFS_VIEW_MDEV].rows[0];
	cr_assert_str_eq(r->creators, "vm-42-bash:1");
	cr_assert_eq(r->available, 7);
	cr_assert_str_eq(vfs_view_name(VFS_VIEW_MDEV), "mdev");
	vfs_model_free(&m);
}
