// SPDX-License-Identifier: GPL-2.0
/*
 * The garbage collection's decision as a pure function of the marker
 * maps' contents: which VMs and objects go, and so which keys of each map.
 */
#include <criterion/criterion.h>
#include "gc.h"

#define SEC 1000000000ull
#define GRACE (30 * SEC)

/* a map buffer over caller-owned arrays */
#define BUF(k, v, cnt) { .n = (cnt), .key_size = sizeof((k)[0]), \
			 .value_size = sizeof((v)[0]), .keys = (k), .vals = (v) }

static __u32 tgids[] = { 100, 200, 300, 400 };
static struct vfs_vm_info vms[] = {
	{ .first_ns = 1 * SEC },				/* 100: running */
	{ .first_ns = 1 * SEC, .exit_ns = 60 * SEC },		/* 200: exited long ago */
	{ .first_ns = 1 * SEC, .exit_ns = 85 * SEC },		/* 300: within its grace */
	{ .first_ns = 1 * SEC, .exit_ns = 70 * SEC },		/* 400: exactly at 30 s */
};
static __u64 objs[] = { 0xa000, 0xb000, 0xc000, 0xd000, 0xe000, 0xf000, 0x9000 };
static struct vfs_obj_info infos[] = {
	{ .kind = VFS_FD_DEVICE, .owner_tgid = 200, .first_ns = SEC },	/* alive, owner gone */
	{ .kind = VFS_FD_DEVICE, .owner_tgid = 100, .gone_ns = 50 * SEC },	/* removed long ago */
	{ .kind = VFS_FD_DEVICE, .owner_tgid = 100, .gone_ns = 90 * SEC },	/* just removed */
	{ .kind = VFS_FD_CONTAINER, .owner_tgid = 200, .first_ns = SEC },	/* owner goes */
	{ .kind = VFS_FD_GROUP, .owner_tgid = 100, .first_ns = SEC },	/* owner runs */
	{ .kind = VFS_FD_CONTAINER, .owner_tgid = 555, .first_ns = SEC },	/* no such VM, old */
	{ .kind = VFS_FD_GROUP, .owner_tgid = 666, .first_ns = 95 * SEC },	/* no such VM, new */
};

static __u64 vdpas[] = { 0x7000, 0x8000, 0x6000 };
static struct vfs_vdpa_info vdinfo[] = {
	{ .flags = VFS_VDPA_F_ADDED },						/* live */
	{ .flags = VFS_VDPA_F_ADDED | VFS_VDPA_F_REMOVED, .gone_ns = 40 * SEC },	/* deleted */
	{ .flags = VFS_VDPA_F_ADDED | VFS_VDPA_F_REMOVED, .gone_ns = 80 * SEC },	/* just deleted */
};

static void plan(struct vfs_gc *g, __u64 now)
{
	struct vfs_map_buf vb = BUF(tgids, vms, 4), ob = BUF(objs, infos, 7);
	struct vfs_map_buf db = BUF(vdpas, vdinfo, 3);

	cr_assert_eq(vfs_gc_plan(g, &vb, &ob, &db, now, GRACE), 0);
}

Test(gc, vms_go_a_grace_period_after_exit)
{
	struct vfs_gc g = { 0 };

	plan(&g, 100 * SEC);
	cr_assert_not(vfs_gc_vm_goes(&g, 100), "running");
	cr_assert(vfs_gc_vm_goes(&g, 200), "exited 40 s ago");
	cr_assert_not(vfs_gc_vm_goes(&g, 300), "exited 15 s ago: still shown");
	cr_assert(vfs_gc_vm_goes(&g, 400), "exited exactly a grace period ago");
	cr_assert_not(vfs_gc_vm_goes(&g, 999), "unknown");
	cr_assert_eq(g.nvms, 2);
	vfs_gc_free(&g);
}

Test(gc, objects_go_when_gone_or_with_their_owner)
{
	struct vfs_gc g = { 0 };

	plan(&g, 100 * SEC);
	cr_assert_not(vfs_gc_obj_goes(&g, 0xa000), "a live device outlives its owner");
	cr_assert(vfs_gc_obj_goes(&g, 0xb000), "removed 50 s ago");
	cr_assert_not(vfs_gc_obj_goes(&g, 0xc000), "removed 10 s ago: still shown");
	cr_assert(vfs_gc_obj_goes(&g, 0xd000), "a container goes with its VM");
	cr_assert_not(vfs_gc_obj_goes(&g, 0xe000), "a running VM's group stays");
	cr_assert(vfs_gc_obj_goes(&g, 0xf000), "an old handle of no VM");
	cr_assert_not(vfs_gc_obj_goes(&g, 0x9000), "a new handle of no VM (yet)");
	cr_assert_not(vfs_gc_key_goes(&g, "vdpa_info", &vdpas[0]), "a registered vDPA device");
	cr_assert(vfs_gc_key_goes(&g, "vdpa_info", &vdpas[1]), "a vDPA device deleted 60 s ago");
	cr_assert_not(vfs_gc_key_goes(&g, "vdpa_info", &vdpas[2]), "deleted 20 s ago");
	cr_assert_not(vfs_gc_obj_goes(&g, vdpas[1]), "a VFIO object at a gone vDPA device's address");
	cr_assert_eq(g.nobjs, 4);
	vfs_gc_free(&g);
}

Test(gc, keys_of_every_map)
{
	struct vfs_gc g = { 0 };
	struct vfs_cmd_key ck = { .obj = 0xe000, .tgid = 100 };
	struct vfs_errno_key ek = { .obj = 0xa000, .tgid = 300 };
	struct vfs_region_key rk = { .obj = 0xb000, .index = 2 };
	struct vfs_irq_key ik = { .obj = 0xa000 };
	__u32 t = 200;
	__u64 o = 0xb000;

	plan(&g, 100 * SEC);
	cr_assert_not(vfs_gc_key_goes(&g, "ioctl_stats", &ck), "running VM, kept group");
	ck.tgid = 200;
	cr_assert(vfs_gc_key_goes(&g, "ioctl_stats", &ck), "by its VM");
	ck.tgid = 100;
	ck.obj = 0xb000;
	cr_assert(vfs_gc_key_goes(&g, "ioctl_stats", &ck), "by its object");
	cr_assert_not(vfs_gc_key_goes(&g, "ioctl_errno", &ek));
	ek.obj = 0xd000;
	cr_assert(vfs_gc_key_goes(&g, "ioctl_errno", &ek));
	cr_assert(vfs_gc_key_goes(&g, "region_stats", &rk));
	cr_assert_not(vfs_gc_key_goes(&g, "irq_stats", &ik));
	cr_assert(vfs_gc_key_goes(&g, "vm_stats", &t));
	cr_assert(vfs_gc_key_goes(&g, "vm_info", &t));
	cr_assert(vfs_gc_key_goes(&g, "obj_info", &o));
	cr_assert(vfs_gc_key_goes(&g, "mig_pending", &o));
	cr_assert(vfs_gc_key_goes(&g, "vq_stats", &(struct vfs_vq_key){ .obj = 0x8000, .qid = 1 }));
	cr_assert_not(vfs_gc_key_goes(&g, "vq_stats", &(struct vfs_vq_key){ .obj = 0x7000 }));
	ck.obj = 0x8000;
	cr_assert_not(vfs_gc_key_goes(&g, "ioctl_stats", &ck), "a VFIO key at a vDPA address");
	cr_assert_not(vfs_gc_key_goes(&g, "irq_signals", &t), "not keyed by VM or object");
	/* resets: with the device reset, or with the VM that caused them */
	cr_assert(vfs_gc_key_goes(&g, "reset_stats", &(struct vfs_reset_key){ .obj = 0xb000, .tgid = 100 }));
	cr_assert(vfs_gc_key_goes(&g, "reset_stats", &(struct vfs_reset_key){ .obj = 0, .tgid = 200 }));
	cr_assert_not(vfs_gc_key_goes(&g, "reset_stats", &(struct vfs_reset_key){ .obj = 0xe000, .tgid = 100 }));
	vfs_gc_free(&g);
}

Test(gc, nothing_goes_before_the_grace_period)
{
	struct vfs_gc g = { 0 };

	/* 10 s after the first exit: every mark is younger than 30 s */
	plan(&g, 70 * SEC - 1);
	cr_assert_eq(g.nvms, 0);
	cr_assert_not(vfs_gc_obj_goes(&g, 0xb000));
	/* a clock before a mark (never): nothing goes */
	plan(&g, 10 * SEC);
	cr_assert_eq(g.nvms + g.nobjs, 0);
	vfs_gc_free(&g);
}
