// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>
#include "event_fmt.h"
#include "safetext.h"
#include "vfio_ioctl.h"

static const char *const mig_states[] = {
	"ERROR", "STOP", "RUNNING", "STOP_COPY", "RESUMING", "RUNNING_P2P",
	"PRE_COPY", "PRE_COPY_P2P",
};

const char *vfs_mig_state_name(__u32 state)
{
	return state < sizeof(mig_states) / sizeof(mig_states[0]) ? mig_states[state] : "?";
}

const char *vfs_event_type_name(__u16 type)
{
	switch (type) {
	case VFS_EV_IOCTL: return "ioctl";
	case VFS_EV_MIG_ARC: return "mig_arc";
	case VFS_EV_MIG_DATA: return "mig_data";
	case VFS_EV_MDEV: return "mdev";
	case VFS_EV_REGION: return "region";
	case VFS_EV_VDPA: return "vdpa";
	case VFS_EV_DMA: return "dma";
	case VFS_EV_MIG_REQ: return "mig_request";
	case VFS_EV_POLICY: return "policy";
	case VFS_EV_VM_EXIT: return "vm_exit";
	case VFS_EV_RESET: return "reset";
	case VFS_EV_IOMMU_FAULT: return "iommu_fault";
	case VFS_EV_MIG_PRECOPY: return "mig_precopy";
	default: return "?";
	}
}

static const char *const reset_methods[VFS_RESET_METHOD_MAX] = {
	[VFS_RESET_NONE] = "none", [VFS_RESET_FLR] = "flr", [VFS_RESET_AF_FLR] = "af_flr",
	[VFS_RESET_PM] = "pm", [VFS_RESET_BUS] = "bus",
	[VFS_RESET_DEV_SPECIFIC] = "device_specific", [VFS_RESET_ACPI] = "acpi",
	[VFS_RESET_CXL_BUS] = "cxl_bus", [VFS_RESET_HOT] = "hot",
};

static const char *const reset_causes[VFS_RESET_C_MAX] = {
	[VFS_RESET_C_OTHER] = "other", [VFS_RESET_C_IOCTL] = "ioctl",
	[VFS_RESET_C_HOT] = "hot_reset", [VFS_RESET_C_OPEN] = "open",
	[VFS_RESET_C_RELEASE] = "release",
};

/* VT-d's fault reason codes for DMA remapping (0x01-0x0d) */
static const char *const fault_reasons[] = {
	[0x01] = "root_not_present", [0x02] = "context_not_present",
	[0x03] = "context_invalid", [0x04] = "beyond_width", [0x05] = "pte_write",
	[0x06] = "pte_read", [0x07] = "next_table_unreadable",
	[0x08] = "root_table_unreadable", [0x09] = "context_table_unreadable",
	[0x0a] = "root_reserved", [0x0b] = "context_reserved", [0x0c] = "pte_reserved",
	[0x0d] = "blocked",
};

const char *vfs_fault_reason_name(__u8 r)
{
	if (r >= 0x20)
		return "intr_remap";
	if (r < sizeof(fault_reasons) / sizeof(fault_reasons[0]) && fault_reasons[r])
		return fault_reasons[r];
	return "other";
}

const char *vfs_fault_bdf(__u16 segment, __u16 sid, char *buf, size_t len)
{
	snprintf(buf, len, "%04x:%02x:%02x.%u", segment, sid >> 8, (sid >> 3) & 0x1f, sid & 7);
	return buf;
}

const char *vfs_reset_method_name(__u32 m)
{
	return m < VFS_RESET_METHOD_MAX ? reset_methods[m] : "?";
}

const char *vfs_reset_cause_name(__u32 c)
{
	return c < VFS_RESET_C_MAX ? reset_causes[c] : "?";
}

const char *vfs_reset_result(__s32 ret, char *buf, size_t len)
{
	if (!ret)
		snprintf(buf, len, "ok");
	else if (ret < 0 && ret >= -4095 && strerrorname_np(-ret))
		snprintf(buf, len, "%s", strerrorname_np(-ret));
	else
		snprintf(buf, len, "%d", ret);
	return buf;
}

void vfs_guid_str(const __u8 u[16], char out[37])
{
	/* the first three fields are little endian, as the kernel's %pUl */
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
		 "%02x%02x%02x%02x%02x%02x", u[3], u[2], u[1], u[0], u[5], u[4], u[7],
		 u[6], u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15]);
}

/*
 * A fixed-size name from the ABI (terminated or not) or from the namer, as
 * text for a terminal: device names come from sysfs and management tools,
 * not from us (safetext.h).
 */
static const char *safe(const char *s, size_t n, char *buf, size_t len)
{
	vfs_safe_text(buf, len, s, n, VFS_SAFE_ESCAPE);
	return buf;
}
#define SAFE(a, buf)	safe(a, sizeof(a), buf, sizeof(buf))

struct json_object *vfs_json_text(const char *s, size_t n)
{
	struct json_object *o;
	char *buf;

	n = strnlen(s, n);
	if (vfs_text_is_safe(s, n, VFS_SAFE_UTF8))
		return json_object_new_string_len(s, (int)n);
	/* at worst each byte becomes U+FFFD, 3 bytes */
	buf = malloc(3 * n + 1);
	if (!buf)
		return json_object_new_string("");
	vfs_safe_text(buf, 3 * n + 1, s, n, VFS_SAFE_UTF8);
	o = json_object_new_string(buf);
	free(buf);
	return o;
}
#define JNAME(a)	vfs_json_text(a, sizeof(a))

/* the minimum size of each known event type */
static size_t event_size(__u16 type)
{
	switch (type) {
	case VFS_EV_IOCTL: return sizeof(struct vfs_ev_ioctl);
	case VFS_EV_MIG_ARC: return sizeof(struct vfs_ev_mig_arc);
	case VFS_EV_MIG_DATA: return sizeof(struct vfs_ev_mig_data);
	case VFS_EV_MDEV: return sizeof(struct vfs_ev_mdev);
	case VFS_EV_REGION: return sizeof(struct vfs_ev_region);
	case VFS_EV_VDPA: return sizeof(struct vfs_ev_vdpa);
	case VFS_EV_DMA: return sizeof(struct vfs_ev_dma);
	case VFS_EV_MIG_REQ: return sizeof(struct vfs_ev_mig_arc);
	case VFS_EV_VM_EXIT: return sizeof(struct vfs_ev_vm_exit);
	case VFS_EV_RESET: return sizeof(struct vfs_ev_reset);
	case VFS_EV_IOMMU_FAULT: return sizeof(struct vfs_ev_iommu_fault);
	case VFS_EV_MIG_PRECOPY: return sizeof(struct vfs_ev_mig_precopy);
	default: return 0;
	}
}

/* the kernel's -errno range (MAX_ERRNO); any other value is only a number */
static int is_errno(long ret)
{
	return ret < 0 && ret >= -4095;
}

static const char *errstr(long ret, char *buf, size_t len)
{
	if (!is_errno(ret))
		snprintf(buf, len, "%ld", ret);
	else
		snprintf(buf, len, "-%s", strerrorname_np((int)-ret) ?: "?");
	return buf;
}

/* @how: VFS_SAFE_ESCAPE for text, VFS_SAFE_UTF8 for JSON */
static const char *name_of(vfs_obj_namer namer, void *user, __u64 obj, char *buf, size_t len,
			   unsigned int how)
{
	const char *n = namer ? namer(user, obj) : NULL;

	if (n) {
		vfs_safe_text(buf, len, n, (size_t)-1, how);
		return buf;
	}
	snprintf(buf, len, "obj-%llx", (unsigned long long)obj);
	return buf;
}

static const char *const region_ops[] = { "read", "write", "mmap" };
static const char *const vdpa_ops[] = { "?", "add", "del", "status" };

int vfs_event_text(const struct vfs_event_hdr *ev, size_t size, vfs_obj_namer namer,
		   void *user, char *buf, size_t len)
{
	/* a name escaped is at most 4 times as long ("\x1b" for one byte) */
	char a[4 * VFS_NAME_LEN + 1], n1[4 * VFS_NAME_LEN + 1], n2[4 * VFS_NAME_LEN + 1];
	char b[64], r[48];
	size_t need = event_size(ev->type);

	if (!need || size < need || ev->size < need)
		return -1;
	switch (ev->type) {
	case VFS_EV_IOCTL: {
		const struct vfs_ev_ioctl *e = (const void *)ev;
		const char *cmd = vfio_ioctl_str(e->kind, e->cmd, b, sizeof(b));
		char args[96] = "";

		if (!strcmp(cmd, "VFIO_IOMMU_MAP_DMA") || !strcmp(cmd, "VFIO_IOMMU_UNMAP_DMA"))
			snprintf(args, sizeof(args), " iova=0x%llx size=0x%llx",
				 (unsigned long long)e->a0, (unsigned long long)e->a1);
		else if (!strcmp(cmd, "VFIO_DEVICE_SET_IRQS"))
			snprintf(args, sizeof(args), " index=%llu count=%llu flags=0x%llx",
				 (unsigned long long)e->a0, (unsigned long long)(e->a1 >> 32),
				 (unsigned long long)(e->a1 & 0xffffffff));
		return snprintf(buf, len, "ioctl %s %s%s = %s %lluns",
				name_of(namer, user, e->obj, a, sizeof(a), VFS_SAFE_ESCAPE), cmd, args,
				errstr(e->ret, r, sizeof(r)), (unsigned long long)e->lat_ns);
	}
	case VFS_EV_MIG_ARC:
	case VFS_EV_MIG_REQ: {
		const struct vfs_ev_mig_arc *e = (const void *)ev;

		return snprintf(buf, len, "%s %s %s->%s = %s %lluns",
				vfs_event_type_name(ev->type), SAFE(e->dev, n1),
				vfs_mig_state_name(e->from), vfs_mig_state_name(e->to),
				errstr(e->ret, r, sizeof(r)),
				(unsigned long long)(e->end_ns - e->start_ns));
	}
	case VFS_EV_MIG_DATA: {
		const struct vfs_ev_mig_data *e = (const void *)ev;

		char more[48] = "";

		if (e->unseen)
			snprintf(more, sizeof(more), " (+%llu before attach)",
				 (unsigned long long)e->unseen);
		return snprintf(buf, len, "mig_data %s %s of %llu bytes = %s%s", SAFE(e->dev, n1),
				e->write ? "write" : "read", (unsigned long long)e->bytes,
				errstr(e->ret, r, sizeof(r)), more);
	}
	case VFS_EV_MIG_PRECOPY: {
		const struct vfs_ev_mig_precopy *e = (const void *)ev;

		if (e->ret)
			return snprintf(buf, len, "mig_precopy %s = %s", SAFE(e->dev, n1),
					errstr(e->ret, r, sizeof(r)));
		return snprintf(buf, len, "mig_precopy %s initial=%llu dirty=%llu", SAFE(e->dev, n1),
				(unsigned long long)e->initial_bytes,
				(unsigned long long)e->dirty_bytes);
	}
	case VFS_EV_MDEV: {
		const struct vfs_ev_mdev *e = (const void *)ev;
		char uuid[37];

		vfs_guid_str(e->uuid, uuid);
		return snprintf(buf, len, "mdev_%s %s parent=%s type=%s = %s",
				e->op == VFS_MDEV_CREATE ? "create" : "remove", uuid,
				SAFE(e->parent, n1), SAFE(e->type, n2), errstr(e->ret, r, sizeof(r)));
	}
	case VFS_EV_REGION: {
		const struct vfs_ev_region *e = (const void *)ev;

		return snprintf(buf, len, "region_%s %s index=%u offset=0x%llx size=%llu = %s",
				e->op < 3 ? region_ops[e->op] : "?",
				name_of(namer, user, e->obj, a, sizeof(a), VFS_SAFE_ESCAPE), e->index,
				(unsigned long long)e->offset, (unsigned long long)e->size,
				errstr(e->ret, r, sizeof(r)));
	}
	case VFS_EV_RESET: {
		const struct vfs_ev_reset *e = (const void *)ev;

		return snprintf(buf, len, "reset %s method=%s cause=%s = %s %lluns",
				SAFE(e->dev, n1), vfs_reset_method_name(e->method),
				vfs_reset_cause_name(e->cause), errstr(e->ret, r, sizeof(r)),
				(unsigned long long)(e->end_ns > e->start_ns ?
						     e->end_ns - e->start_ns : 0));
	}
	case VFS_EV_IOMMU_FAULT: {
		const struct vfs_ev_iommu_fault *e = (const void *)ev;

		if (e->flags & VFS_FAULT_F_PASID)
			snprintf(r, sizeof(r), " pasid=0x%x", e->pasid);
		else
			r[0] = '\0';
		return snprintf(buf, len, "iommu_fault %s %s %s addr=0x%llx reason=0x%02x %s%s",
				SAFE(e->unit_name, n1), vfs_fault_bdf(e->segment, e->sid, a, sizeof(a)),
				e->flags & VFS_FAULT_F_READ ? "read" : "write",
				(unsigned long long)e->addr, e->reason,
				vfs_fault_reason_name(e->reason), r);
	}
	case VFS_EV_VM_EXIT: {
		const struct vfs_ev_vm_exit *e = (const void *)ev;

		return snprintf(buf, len, "vm_exit status=0x%x after %.3fs", (unsigned int)e->exit_code,
				ev->ts_ns > e->first_ns ? (ev->ts_ns - e->first_ns) / 1e9 : 0.0);
	}
	case VFS_EV_VDPA: {
		const struct vfs_ev_vdpa *e = (const void *)ev;

		return snprintf(buf, len, "vdpa_%s %s status=0x%x old=0x%x = %s",
				e->op < 4 ? vdpa_ops[e->op] : "?", SAFE(e->name, n1), e->status,
				e->old_status, errstr(e->ret, r, sizeof(r)));
	}
	case VFS_EV_DMA: {
		const struct vfs_ev_dma *e = (const void *)ev;

		if (e->op == VFS_DMA_MAP)
			return snprintf(buf, len, "dma_map iova=0x%llx size=0x%llx vaddr=0x%llx "
					"flags=0x%x = %s", (unsigned long long)e->iova,
					(unsigned long long)e->size, (unsigned long long)e->vaddr,
					e->flags, errstr(e->ret, r, sizeof(r)));
		return snprintf(buf, len, "dma_unmap iova=0x%llx size=0x%llx unmapped=0x%llx = %s",
				(unsigned long long)e->iova, (unsigned long long)e->size,
				(unsigned long long)e->done, errstr(e->ret, r, sizeof(r)));
	}
	}
	return -1;
}

static void put_ret(struct json_object *o, long ret)
{
	json_object_object_add(o, "ret", json_object_new_int64(ret));
	if (is_errno(ret))
		json_object_object_add(o, "errno", json_object_new_string(
			strerrorname_np((int)-ret) ?: "?"));
}

struct json_object *vfs_event_json(const struct vfs_event_hdr *ev, size_t size,
				   vfs_obj_namer namer, void *user)
{
	size_t need = event_size(ev->type);
	struct json_object *o;
	char a[4 * VFS_NAME_LEN + 1], b[64];

	if (!need || size < need || ev->size < need)
		return NULL;
	o = json_object_new_object();
	json_object_object_add(o, "event", json_object_new_string(vfs_event_type_name(ev->type)));
	json_object_object_add(o, "ts_ns", json_object_new_uint64(ev->ts_ns));
	json_object_object_add(o, "pid", json_object_new_int(ev->tgid));
	json_object_object_add(o, "tid", json_object_new_int(ev->tid));
	json_object_object_add(o, "comm", JNAME(ev->comm));
	json_object_object_add(o, "cgroup_id", json_object_new_uint64(ev->cgroup_id));
	switch (ev->type) {
	case VFS_EV_IOCTL: {
		const struct vfs_ev_ioctl *e = (const void *)ev;

		json_object_object_add(o, "device", json_object_new_string(
			name_of(namer, user, e->obj, a, sizeof(a), VFS_SAFE_UTF8)));
		json_object_object_add(o, "kind", json_object_new_string(
			vfio_fd_kind_name(e->kind)));
		json_object_object_add(o, "cmd", json_object_new_string(
			vfio_ioctl_str(e->kind, e->cmd, b, sizeof(b))));
		json_object_object_add(o, "lat_ns", json_object_new_uint64(e->lat_ns));
		json_object_object_add(o, "a0", json_object_new_uint64(e->a0));
		json_object_object_add(o, "a1", json_object_new_uint64(e->a1));
		put_ret(o, e->ret);
		break;
	}
	case VFS_EV_MIG_ARC:
	case VFS_EV_MIG_REQ: {
		const struct vfs_ev_mig_arc *e = (const void *)ev;

		json_object_object_add(o, "device", JNAME(e->dev));
		json_object_object_add(o, "from", json_object_new_string(vfs_mig_state_name(e->from)));
		json_object_object_add(o, "to", json_object_new_string(vfs_mig_state_name(e->to)));
		json_object_object_add(o, "start_ns", json_object_new_uint64(e->start_ns));
		json_object_object_add(o, "end_ns", json_object_new_uint64(e->end_ns));
		json_object_object_add(o, "tier", json_object_new_int(e->tier));
		put_ret(o, e->ret);
		break;
	}
	case VFS_EV_MIG_DATA: {
		const struct vfs_ev_mig_data *e = (const void *)ev;

		json_object_object_add(o, "device", JNAME(e->dev));
		json_object_object_add(o, "dir", json_object_new_string(e->write ? "write" : "read"));
		json_object_object_add(o, "bytes", json_object_new_uint64(e->bytes));
		json_object_object_add(o, "tier", json_object_new_int(e->tier));
		json_object_object_add(o, "unseen", json_object_new_uint64(e->unseen));
		put_ret(o, e->ret);
		break;
	}
	case VFS_EV_MIG_PRECOPY: {
		const struct vfs_ev_mig_precopy *e = (const void *)ev;

		json_object_object_add(o, "device", JNAME(e->dev));
		json_object_object_add(o, "initial_bytes", json_object_new_uint64(e->initial_bytes));
		json_object_object_add(o, "dirty_bytes", json_object_new_uint64(e->dirty_bytes));
		put_ret(o, e->ret);
		break;
	}
	case VFS_EV_MDEV: {
		const struct vfs_ev_mdev *e = (const void *)ev;
		char uuid[37];

		vfs_guid_str(e->uuid, uuid);
		json_object_object_add(o, "op", json_object_new_string(
			e->op == VFS_MDEV_CREATE ? "create" : "remove"));
		json_object_object_add(o, "uuid", json_object_new_string(uuid));
		json_object_object_add(o, "parent", JNAME(e->parent));
		json_object_object_add(o, "type", JNAME(e->type));
		put_ret(o, e->ret);
		break;
	}
	case VFS_EV_REGION: {
		const struct vfs_ev_region *e = (const void *)ev;

		json_object_object_add(o, "device", json_object_new_string(
			name_of(namer, user, e->obj, a, sizeof(a), VFS_SAFE_UTF8)));
		json_object_object_add(o, "op", json_object_new_string(
			e->op < 3 ? region_ops[e->op] : "?"));
		json_object_object_add(o, "index", json_object_new_int(e->index));
		json_object_object_add(o, "offset", json_object_new_uint64(e->offset));
		json_object_object_add(o, "size", json_object_new_uint64(e->size));
		put_ret(o, e->ret);
		break;
	}
	case VFS_EV_RESET: {
		const struct vfs_ev_reset *e = (const void *)ev;

		json_object_object_add(o, "device", JNAME(e->dev));
		json_object_object_add(o, "method", json_object_new_string(
			vfs_reset_method_name(e->method)));
		json_object_object_add(o, "cause", json_object_new_string(
			vfs_reset_cause_name(e->cause)));
		json_object_object_add(o, "start_ns", json_object_new_uint64(e->start_ns));
		json_object_object_add(o, "end_ns", json_object_new_uint64(e->end_ns));
		json_object_object_add(o, "dur_ns", json_object_new_uint64(
			e->end_ns > e->start_ns ? e->end_ns - e->start_ns : 0));
		json_object_object_add(o, "tier", json_object_new_int(e->tier));
		put_ret(o, e->ret);
		break;
	}
	case VFS_EV_IOMMU_FAULT: {
		const struct vfs_ev_iommu_fault *e = (const void *)ev;

		json_object_object_add(o, "iommu", JNAME(e->unit_name));
		json_object_object_add(o, "device", json_object_new_string(
			vfs_fault_bdf(e->segment, e->sid, a, sizeof(a))));
		json_object_object_add(o, "access", json_object_new_string(
			e->flags & VFS_FAULT_F_READ ? "read" : "write"));
		json_object_object_add(o, "addr", json_object_new_uint64(e->addr));
		json_object_object_add(o, "reason", json_object_new_int(e->reason));
		json_object_object_add(o, "reason_name", json_object_new_string(
			vfs_fault_reason_name(e->reason)));
		if (e->flags & VFS_FAULT_F_PASID)
			json_object_object_add(o, "pasid", json_object_new_int64(e->pasid));
		json_object_object_add(o, "tier", json_object_new_int(e->tier));
		break;
	}
	case VFS_EV_VM_EXIT: {
		const struct vfs_ev_vm_exit *e = (const void *)ev;

		json_object_object_add(o, "exit_status", json_object_new_int(e->exit_code));
		json_object_object_add(o, "first_ns", json_object_new_uint64(e->first_ns));
		break;
	}
	case VFS_EV_VDPA: {
		const struct vfs_ev_vdpa *e = (const void *)ev;

		json_object_object_add(o, "op", json_object_new_string(
			e->op < 4 ? vdpa_ops[e->op] : "?"));
		json_object_object_add(o, "device", JNAME(e->name));
		json_object_object_add(o, "status", json_object_new_int(e->status));
		json_object_object_add(o, "old_status", json_object_new_int(e->old_status));
		put_ret(o, e->ret);
		break;
	}
	case VFS_EV_DMA: {
		const struct vfs_ev_dma *e = (const void *)ev;

		json_object_object_add(o, "op", json_object_new_string(
			e->op == VFS_DMA_MAP ? "map" : "unmap"));
		json_object_object_add(o, "iova", json_object_new_uint64(e->iova));
		json_object_object_add(o, "size", json_object_new_uint64(e->size));
		json_object_object_add(o, "done", json_object_new_uint64(e->done));
		json_object_object_add(o, "vaddr", json_object_new_uint64(e->vaddr));
		json_object_object_add(o, "flags", json_object_new_int(e->flags));
		put_ret(o, e->ret);
		break;
	}
	}
	return o;
}
