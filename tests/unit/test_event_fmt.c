// SPDX-License-Identifier: GPL-2.0
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>
#include "event_fmt.h"
#include "map_iter.h"

#define CMD(n) ((';' << 8) | (100 + (n)))

static const char *namer(void *user, __u64 obj)
{
	return obj == 0x1234 ? "0000:00:03.0" : NULL;
}

static void hdr(struct vfs_event_hdr *h, __u16 type, __u32 size)
{
	memset(h, 0, size);
	h->type = type;
	h->version = VFS_ABI_VERSION;
	h->size = size;
	h->tgid = 42;
	memcpy(h->comm, "qemu-system-x86", 15);
}

Test(event_fmt, ioctl_line_decodes_map_dma)
{
	struct vfs_ev_ioctl e;
	char line[256];

	hdr(&e.hdr, VFS_EV_IOCTL, sizeof(e));
	e.obj = 0x99;
	e.kind = VFS_FD_CONTAINER;
	e.cmd = CMD(13);
	e.a0 = 0x100000;
	e.a1 = 0x200000;
	e.lat_ns = 1500;
	cr_assert_gt(vfs_event_text(&e.hdr, sizeof(e), namer, NULL, line, sizeof(line)), 0);
	cr_expect_str_eq(line, "ioctl obj-99 VFIO_IOMMU_MAP_DMA iova=0x100000 size=0x200000 = 0 1500ns");
}

Test(event_fmt, errno_names_and_device_names)
{
	struct vfs_ev_ioctl e;
	char line[256];

	hdr(&e.hdr, VFS_EV_IOCTL, sizeof(e));
	e.obj = 0x1234;
	e.kind = VFS_FD_DEVICE;
	e.cmd = CMD(8);
	e.ret = -EINVAL;
	cr_assert_gt(vfs_event_text(&e.hdr, sizeof(e), namer, NULL, line, sizeof(line)), 0);
	cr_expect_str_eq(line, "ioctl 0000:00:03.0 VFIO_DEVICE_GET_REGION_INFO = -EINVAL 0ns");
}

Test(event_fmt, mig_arc_line)
{
	struct vfs_ev_mig_arc e;
	char line[256];

	hdr(&e.hdr, VFS_EV_MIG_ARC, sizeof(e));
	strcpy(e.dev, "0000:00:04.0");
	e.from = 2;	/* RUNNING */
	e.to = 1;	/* STOP */
	e.start_ns = 1000;
	e.end_ns = 151000;
	e.ret = -EIO;
	cr_assert_gt(vfs_event_text(&e.hdr, sizeof(e), NULL, NULL, line, sizeof(line)), 0);
	cr_expect_str_eq(line, "mig_arc 0000:00:04.0 RUNNING->STOP = -EIO 150000ns");
}

Test(event_fmt, rejects_truncated_and_unknown_events)
{
	struct vfs_ev_mig_arc e;
	char line[256];

	hdr(&e.hdr, VFS_EV_MIG_ARC, sizeof(e));
	cr_expect_eq(vfs_event_text(&e.hdr, sizeof(e.hdr) + 8, NULL, NULL, line, sizeof(line)), -1);
	e.hdr.size = 8;
	cr_expect_eq(vfs_event_text(&e.hdr, sizeof(e), NULL, NULL, line, sizeof(line)), -1);
	hdr(&e.hdr, 77, sizeof(e));
	cr_expect_eq(vfs_event_text(&e.hdr, sizeof(e), NULL, NULL, line, sizeof(line)), -1);
	cr_expect_null(vfs_event_json(&e.hdr, sizeof(e), NULL, NULL));
}

/* names from the kernel go into JSON escaped, and unterminated ones end */
Test(event_fmt, json_escapes_and_bounds_names)
{
	struct vfs_ev_mdev e;
	struct json_object *o, *v;
	const char *s;

	hdr(&e.hdr, VFS_EV_MDEV, sizeof(e));
	e.op = VFS_MDEV_CREATE;
	memset(e.parent, 'p', sizeof(e.parent));	/* no terminator */
	strcpy(e.type, "ty\"pe\\\n");
	memcpy(e.hdr.comm, "0123456789abcdef", 16);	/* no terminator */
	o = vfs_event_json(&e.hdr, sizeof(e), NULL, NULL);
	cr_assert_not_null(o);
	s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	cr_expect(strstr(s, "\"type\":\"ty\\\"pe\\\\\\n\""), "%s", s);
	cr_assert(json_object_object_get_ex(o, "parent", &v));
	cr_expect_eq(strlen(json_object_get_string(v)), VFS_NAME_LEN);
	cr_assert(json_object_object_get_ex(o, "comm", &v));
	cr_expect_str_eq(json_object_get_string(v), "0123456789abcdef");
	/* the output parses back */
	v = json_tokener_parse(s);
	cr_expect_not_null(v);
	json_object_put(v);
	json_object_put(o);
}

/* guid_parse("83b8f4f2-509f-382f-3c1e-e6bfe0fa1001") stores these bytes */
Test(event_fmt, guid_text_as_sysfs_shows_it)
{
	const __u8 u[16] = { 0xf2, 0xf4, 0xb8, 0x83, 0x9f, 0x50, 0x2f, 0x38,
			     0x3c, 0x1e, 0xe6, 0xbf, 0xe0, 0xfa, 0x10, 0x01 };
	char out[37];

	vfs_guid_str(u, out);
	cr_expect_str_eq(out, "83b8f4f2-509f-382f-3c1e-e6bfe0fa1001");
}

Test(map_iter, cmd_val_fold_sums_maxes_and_histograms)
{
	struct vfs_cmd_val acc = { 0 }, a = { 0 }, b = { 0 };

	a.count = 3; a.errors = 1; a.lat_sum_ns = 300; a.lat_max_ns = 200; a.hist[7] = 3;
	b.count = 2; b.lat_sum_ns = 1000; b.lat_max_ns = 900; b.hist[7] = 1; b.hist[9] = 1;
	b.hist[VFS_HIST_SLOTS - 1] = 0xffffffffu;
	vfs_cmd_val_fold(&acc, &a);
	vfs_cmd_val_fold(&acc, &b);
	cr_expect_eq(acc.count, 5);
	cr_expect_eq(acc.errors, 1);
	cr_expect_eq(acc.lat_sum_ns, 1300);
	cr_expect_eq(acc.lat_max_ns, 900);
	cr_expect_eq(acc.hist[7], 4);
	cr_expect_eq(acc.hist[9], 1);
	/* a full slot does not carry into its neighbour */
	cr_expect_eq(acc.hist[VFS_HIST_SLOTS - 1], 0xffffffffu);
	cr_expect_eq(acc.hist[VFS_HIST_SLOTS - 2], 0);
}

Test(abi, event_layouts)
{
	cr_expect_eq(sizeof(struct vfs_event_hdr), 48);
	cr_expect_eq(offsetof(struct vfs_ev_ioctl, obj), 48);
	cr_expect_eq(offsetof(struct vfs_ev_mig_arc, dev), 88);
	cr_expect_eq(sizeof(struct vfs_cmd_val), 160);
	cr_expect_eq(offsetof(struct vfs_cmd_val, hist), 32);
}

/* names that fill their ABI field have no NUL: text stops at the field */
Test(event_fmt, text_bounds_unterminated_names)
{
	struct vfs_ev_mig_arc *a = malloc(sizeof(*a));
	struct vfs_ev_vdpa *v = malloc(sizeof(*v));
	struct vfs_ev_mdev *m = malloc(sizeof(*m));
	char buf[512];

	/* heap objects of exact size: a read past a name is an ASan report */
	hdr(&a->hdr, VFS_EV_MIG_ARC, sizeof(*a));
	memset(a->dev, 'd', sizeof(a->dev));
	cr_assert_gt(vfs_event_text(&a->hdr, sizeof(*a), NULL, NULL, buf, sizeof(buf)), 0);
	cr_expect(strstr(buf, "mig_arc ddd"), "%s", buf);
	cr_expect_eq(strspn(buf + 8, "d"), VFS_NAME_LEN, "%s", buf);
	hdr(&v->hdr, VFS_EV_VDPA, sizeof(*v));
	memset(v->name, 'v', sizeof(v->name));
	cr_assert_gt(vfs_event_text(&v->hdr, sizeof(*v), NULL, NULL, buf, sizeof(buf)), 0);
	cr_expect_eq(strspn(strchr(buf, ' ') + 1, "v"), VFS_NAME_LEN, "%s", buf);
	hdr(&m->hdr, VFS_EV_MDEV, sizeof(*m));
	memset(m->parent, 'p', sizeof(m->parent));
	memset(m->type, 't', sizeof(m->type));
	cr_assert_gt(vfs_event_text(&m->hdr, sizeof(*m), NULL, NULL, buf, sizeof(buf)), 0);
	cr_expect_eq(strspn(strstr(buf, "type=") + 5, "t"), VFS_NAME_LEN, "%s", buf);
	free(a);
	free(v);
	free(m);
}

/* a return value outside -4095..-1 is no errno: shown as the number it is */
Test(event_fmt, ret_outside_errno_range)
{
	struct vfs_ev_ioctl e;
	struct json_object *o, *v;
	char buf[512];

	hdr(&e.hdr, VFS_EV_IOCTL, sizeof(e));
	e.kind = VFS_FD_CONTAINER;
	e.cmd = CMD(1);
	e.ret = INT64_MIN;
	cr_assert_gt(vfs_event_text(&e.hdr, sizeof(e), NULL, NULL, buf, sizeof(buf)), 0);
	cr_expect(strstr(buf, "= -9223372036854775808 "), "%s", buf);
	e.ret = -4096;
	o = vfs_event_json(&e.hdr, sizeof(e), NULL, NULL);
	cr_assert_not_null(o);
	cr_expect_not(json_object_object_get_ex(o, "errno", &v));
	json_object_put(o);
	e.ret = -EBUSY;
	vfs_event_text(&e.hdr, sizeof(e), NULL, NULL, buf, sizeof(buf));
	cr_expect(strstr(buf, "= -EBUSY "), "%s", buf);
}

Test(event_fmt, vm_exit_line_and_json)
{
	struct vfs_ev_vm_exit e;
	struct json_object *o, *v;
	char line[256];

	hdr(&e.hdr, VFS_EV_VM_EXIT, sizeof(e));
	e.hdr.ts_ns = 4500000000ull;
	e.first_ns = 2000000000ull;
	e.exit_code = 0x100;
	cr_assert_gt(vfs_event_text(&e.hdr, sizeof(e), namer, NULL, line, sizeof(line)), 0);
	cr_expect_str_eq(line, "vm_exit status=0x100 after 2.500s");
	o = vfs_event_json(&e.hdr, sizeof(e), namer, NULL);
	cr_assert(o);
	cr_assert(json_object_object_get_ex(o, "event", &v));
	cr_expect_str_eq(json_object_get_string(v), "vm_exit");
	cr_assert(json_object_object_get_ex(o, "exit_status", &v));
	cr_expect_eq(json_object_get_int(v), 0x100);
	json_object_put(o);
}

/*
 * A process names itself and a management tool names devices: escape
 * sequences and invalid UTF-8 in them never reach a terminal (text) and
 * never make JSON that is not UTF-8.
 */
Test(event_fmt, hostile_names_made_safe)
{
	struct vfs_ev_vdpa e;
	struct json_object *o, *v;
	char buf[512];

	hdr(&e.hdr, VFS_EV_VDPA, sizeof(e));
	e.op = 1;
	snprintf(e.name, sizeof(e.name), "vd\x1b[2J\xc2\x9b" "1m\xff");
	memcpy(e.hdr.comm, "q\x1b]0;x\x07\xe6\x97", 10);
	cr_assert_gt(vfs_event_text(&e.hdr, sizeof(e), NULL, NULL, buf, sizeof(buf)), 0);
	cr_expect(strstr(buf, "vdpa_add vd\\x1b[2J\\u009b1m\\xff status="), "%s", buf);
	o = vfs_event_json(&e.hdr, sizeof(e), NULL, NULL);
	cr_assert_not_null(o);
	cr_assert(json_object_object_get_ex(o, "device", &v));
	cr_expect_str_eq(json_object_get_string(v), "vd\x1b[2J\xef\xbf\xbd" "1m\xef\xbf\xbd");
	cr_assert(json_object_object_get_ex(o, "comm", &v));
	/* the 3-byte character cut after two bytes is one U+FFFD */
	cr_expect_str_eq(json_object_get_string(v), "q\x1b]0;x\x07\xef\xbf\xbd");
	cr_expect(strstr(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN),
			 "\"comm\":\"q\\u001b]0;x\\u0007\xef\xbf\xbd\""), "%s",
		  json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
}

Test(event_fmt, reset_line_and_json)
{
	struct vfs_ev_reset e;
	struct json_object *o, *v;
	char line[256];

	hdr(&e.hdr, VFS_EV_RESET, sizeof(e));
	e.obj = 0x1234;
	e.start_ns = 1000;
	e.end_ns = 1000 + 102790333;
	e.method = VFS_RESET_FLR;
	e.cause = VFS_RESET_C_OPEN;
	memcpy(e.dev, "0000:01:00.1", 13);
	cr_assert_gt(vfs_event_text(&e.hdr, sizeof(e), namer, NULL, line, sizeof(line)), 0);
	cr_expect_str_eq(line, "reset 0000:01:00.1 method=flr cause=open = 0 102790333ns");

	e.method = VFS_RESET_NONE;
	e.cause = VFS_RESET_C_IOCTL;
	e.ret = -EINVAL;
	e.end_ns = e.start_ns;
	o = vfs_event_json(&e.hdr, sizeof(e), namer, NULL);
	cr_assert_not_null(o);
	cr_assert(json_object_object_get_ex(o, "method", &v));
	cr_expect_str_eq(json_object_get_string(v), "none");
	cr_assert(json_object_object_get_ex(o, "cause", &v));
	cr_expect_str_eq(json_object_get_string(v), "ioctl");
	cr_assert(json_object_object_get_ex(o, "errno", &v));
	cr_expect_str_eq(json_object_get_string(v), "EINVAL");
	cr_assert(json_object_object_get_ex(o, "dur_ns", &v));
	cr_expect_eq(json_object_get_uint64(v), 0);
	json_object_put(o);
}

Test(event_fmt, reset_names_past_the_enums)
{
	char buf[32];

	cr_expect_str_eq(vfs_reset_method_name(VFS_RESET_HOT), "hot");
	cr_expect_str_eq(vfs_reset_method_name(VFS_RESET_METHOD_MAX), "?");
	cr_expect_str_eq(vfs_reset_cause_name(VFS_RESET_C_RELEASE), "release");
	cr_expect_str_eq(vfs_reset_cause_name(99), "?");
	cr_expect_str_eq(vfs_reset_result(0, buf, sizeof(buf)), "ok");
	cr_expect_str_eq(vfs_reset_result(-ENOTTY, buf, sizeof(buf)), "ENOTTY");
	cr_expect_str_eq(vfs_reset_result(-5000, buf, sizeof(buf)), "-5000");
}

Test(event_fmt, iommu_fault_line_and_json)
{
	struct vfs_ev_iommu_fault e;
	struct json_object *o, *v;
	char line[256];

	hdr(&e.hdr, VFS_EV_IOMMU_FAULT, sizeof(e));
	e.addr = 0x4002000;
	e.sid = 0x18;		/* bus 0, device 3, function 0 */
	e.reason = 0x06;
	e.flags = VFS_FAULT_F_READ;
	memcpy(e.unit_name, "dmar0", 6);
	cr_assert_gt(vfs_event_text(&e.hdr, sizeof(e), namer, NULL, line, sizeof(line)), 0);
	cr_expect_str_eq(line, "iommu_fault dmar0 0000:00:03.0 read addr=0x4002000 reason=0x06 pte_read");

	/* a write with a PASID, on another segment and function: a device of bus 0x3a */
	e.segment = 1;
	e.sid = 0x3a11;
	e.reason = 0x05;
	e.flags = VFS_FAULT_F_PASID;
	e.pasid = 7;
	cr_assert_gt(vfs_event_text(&e.hdr, sizeof(e), namer, NULL, line, sizeof(line)), 0);
	cr_expect_str_eq(line, "iommu_fault dmar0 0001:3a:02.1 write addr=0x4002000 reason=0x05 "
			 "pte_write pasid=0x7");
	o = vfs_event_json(&e.hdr, sizeof(e), namer, NULL);
	cr_assert_not_null(o);
	cr_assert(json_object_object_get_ex(o, "device", &v));
	cr_expect_str_eq(json_object_get_string(v), "0001:3a:02.1");
	cr_assert(json_object_object_get_ex(o, "access", &v));
	cr_expect_str_eq(json_object_get_string(v), "write");
	cr_assert(json_object_object_get_ex(o, "reason_name", &v));
	cr_expect_str_eq(json_object_get_string(v), "pte_write");
	cr_assert(json_object_object_get_ex(o, "pasid", &v));
	cr_expect_eq(json_object_get_int64(v), 7);
	json_object_put(o);
	/* interrupt remapping, and a code VT-d does not define */
	cr_expect_str_eq(vfs_fault_reason_name(0x22), "intr_remap");
	cr_expect_str_eq(vfs_fault_reason_name(0x0e), "other");
	cr_expect_str_eq(vfs_fault_reason_name(0), "other");
	/* a truncated event is not decoded */
	cr_expect_lt(vfs_event_text(&e.hdr, sizeof(e) - 1, namer, NULL, line, sizeof(line)), 0);
}
