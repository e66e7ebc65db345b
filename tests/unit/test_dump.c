// SPDX-License-Identifier: GPL-2.0
/*
 * dump.h: the row emitter's text writer prints what vfiostat printed before
 * it (the format strings below are the old ones, byte for byte), its JSON
 * writer the same rows as typed members, and hostile names stay one line
 * of text and valid JSON.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>
#include "dump.h"
#include "safetext.h"

/* the text @emit writes */
static char *text_of(void (*emit)(struct vfs_dump *d))
{
	struct vfs_dump d;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	cr_assert_not_null(f);
	vfs_dump_text(&d, f);
	emit(&d);
	cr_assert_null(vfs_dump_take(&d));
	fclose(f);
	return buf;
}

/* the JSON document @emit builds, printed and parsed back */
static struct json_object *json_of(void (*emit)(struct vfs_dump *d))
{
	struct json_object *doc, *back;
	struct vfs_dump d;

	cr_assert_eq(vfs_dump_json(&d), 0);
	emit(&d);
	doc = vfs_dump_take(&d);
	cr_assert_not_null(doc);
	cr_assert_null(vfs_dump_take(&d));
	back = json_tokener_parse(json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN));
	json_object_put(doc);
	cr_assert_not_null(back, "the writer's JSON does not parse");
	return back;
}

static struct json_object *get(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;

	cr_assert(json_object_object_get_ex(o, key, &v), "no member %s", key);
	return v;
}

/* row @i of type @type */
static struct json_object *row(struct json_object *doc, const char *type, size_t i)
{
	struct json_object *arr = get(doc, type);

	cr_assert(json_object_is_type(arr, json_type_array), "%s is not an array", type);
	cr_assert_lt(i, json_object_array_length(arr));
	return json_object_array_get_idx(arr, i);
}

static void expect_u64(struct json_object *o, const char *key, unsigned long long want)
{
	struct json_object *v = get(o, key);

	cr_assert(json_object_is_type(v, json_type_int), "%s is not a number", key);
	cr_expect_eq((unsigned long long)json_object_get_uint64(v), want, "%s", key);
}

static void expect_s64(struct json_object *o, const char *key, long long want)
{
	struct json_object *v = get(o, key);

	cr_assert(json_object_is_type(v, json_type_int), "%s is not a number", key);
	cr_expect_eq((long long)json_object_get_int64(v), want, "%s", key);
}

static void expect_str(struct json_object *o, const char *key, const char *want)
{
	struct json_object *v = get(o, key);

	cr_assert(json_object_is_type(v, json_type_string), "%s is not a string", key);
	cr_expect_str_eq(json_object_get_string(v), want, "%s", key);
}

/* one row of every type vfiostat prints, with values of every kind */
static void emit_all(struct vfs_dump *d)
{
	vfs_dump_declare(d, "obj");
	vfs_dump_declare(d, "errno");	/* declared, no row: an empty array */
	VFS_DUMP_ROW(d, "obj", VFS_P_STR("obj", "0000:00:03.0"), VFS_F_STR("kind", "device"),
		     VFS_F_U64("group", 7), VFS_F_U64("owner", 1234), VFS_F_STR("driver", "vfio-pci"));
	VFS_DUMP_ROW(d, "ioctl_obj", VFS_P_U64("tgid", 1234), VFS_P_STR("obj", "group-7"),
		     VFS_P_STR("kind", "group"), VFS_P_STR("cmd", "VFIO_GROUP_GET_STATUS"),
		     VFS_F_U64("count", 3), VFS_F_U64("errors", 1),
		     VFS_F_U64("lat_sum_ns", 18446744073709551615ull));
	VFS_DUMP_ROW(d, "ioctl", VFS_P_U64("tgid", 1234), VFS_P_STR("kind", "group"),
		     VFS_P_STR("cmd", "VFIO_GROUP_GET_STATUS"), VFS_P_U64("count", 3));
	VFS_DUMP_ROW(d, "vm", VFS_P_U64("tgid", 1234), VFS_F_U64("dma_map_bytes", 4194304),
		     VFS_F_S64("pinned_pages", -12));
	VFS_DUMP_ROW(d, "irq_signal", VFS_P_U64("irq", 42), VFS_P_STR("action", "vfio-msix[0]"),
		     VFS_P_U64("count", 9));
	VFS_DUMP_ROW(d, "vq", VFS_P_STR("device", "vdpa0"), VFS_P_U64("qid", 1),
		     VFS_P_STR("path", "vhost"), VFS_F_U64("kicks", 5), VFS_F_U64("calls", 0));
	VFS_DUMP_ROW(d, "vdpa", VFS_P_STR("device", "vdpa0"), VFS_F_HEX("status", 0xf),
		     VFS_F_STR("path", "vhost"), VFS_F_U64("owner", 99), VFS_F_S64("added", 1),
		     VFS_F_S64("removed", 0));
	VFS_DUMP_ROW(d, "vq", VFS_P_STR("device", "vdpa1"), VFS_P_U64("qid", 0),
		     VFS_P_STR("path", "-"), VFS_F_U64("kicks", 0), VFS_F_U64("calls", 2));
	vfs_dump_pair(d, "drops", "ringbuf_full", 0);
	vfs_dump_pair(d, "drops", "map_full_vm", 17);
}

Test(dump, text_is_the_old_format)
{
	char want[2048], *got = text_of(emit_all);
	int n = 0;

	/* the fprintf calls vfio_dump, vdpa_dump and vfs_collector_dump made */
	n += snprintf(want + n, sizeof(want) - n, "obj %s kind %s group %u owner %u driver %s\n",
		      "0000:00:03.0", "device", 7, 1234, "vfio-pci");
	n += snprintf(want + n, sizeof(want) - n,
		      "ioctl_obj %u %s %s %s count %llu errors %llu lat_sum_ns %llu\n", 1234,
		      "group-7", "group", "VFIO_GROUP_GET_STATUS", 3ull, 1ull,
		      18446744073709551615ull);
	n += snprintf(want + n, sizeof(want) - n, "ioctl %u %s %s %llu\n", 1234, "group",
		      "VFIO_GROUP_GET_STATUS", 3ull);
	n += snprintf(want + n, sizeof(want) - n, "vm %u dma_map_bytes %llu pinned_pages %lld\n",
		      1234, 4194304ull, -12ll);
	n += snprintf(want + n, sizeof(want) - n, "irq_signal %u %s %llu\n", 42, "vfio-msix[0]",
		      9ull);
	n += snprintf(want + n, sizeof(want) - n, "vq %s %u %s kicks %llu calls %llu\n", "vdpa0",
		      1, "vhost", 5ull, 0ull);
	n += snprintf(want + n, sizeof(want) - n,
		      "vdpa %s status 0x%x path %s owner %u added %d removed %d\n", "vdpa0", 0xf,
		      "vhost", 99, 1, 0);
	n += snprintf(want + n, sizeof(want) - n, "vq %s %u %s kicks %llu calls %llu\n", "vdpa1",
		      0, "-", 0ull, 2ull);
	n += snprintf(want + n, sizeof(want) - n, "drops %s %llu\n", "ringbuf_full", 0ull);
	snprintf(want + n, sizeof(want) - n, "drops %s %llu\n", "map_full_vm", 17ull);
	cr_expect_str_eq(got, want);
	free(got);
}

Test(dump, json_rows_are_typed_members)
{
	struct json_object *doc = json_of(emit_all), *o;
	char keys[256] = "";

	/* declared types first, in order; then each type as its first row came */
	json_object_object_foreach(doc, k, v) {
		(void)v;
		strcat(keys, k);
		strcat(keys, " ");
	}
	cr_expect_str_eq(keys, "obj errno ioctl_obj ioctl vm irq_signal vq vdpa drops ");
	cr_expect_eq(json_object_array_length(get(doc, "errno")), 0);
	cr_expect_eq(json_object_array_length(get(doc, "vq")), 2);

	o = row(doc, "obj", 0);
	expect_str(o, "obj", "0000:00:03.0");
	expect_str(o, "kind", "device");
	expect_u64(o, "group", 7);
	expect_u64(o, "owner", 1234);
	expect_str(o, "driver", "vfio-pci");

	o = row(doc, "ioctl_obj", 0);
	cr_expect_eq(json_object_object_length(o), 7);
	expect_u64(o, "tgid", 1234);
	expect_str(o, "cmd", "VFIO_GROUP_GET_STATUS");
	expect_u64(o, "errors", 1);
	expect_u64(o, "lat_sum_ns", 18446744073709551615ull);

	expect_u64(row(doc, "ioctl", 0), "count", 3);
	expect_s64(row(doc, "vm", 0), "pinned_pages", -12);
	expect_str(row(doc, "irq_signal", 0), "action", "vfio-msix[0]");

	o = row(doc, "vdpa", 0);
	expect_u64(o, "status", 0xf);		/* hex in text, a number in JSON */
	expect_s64(o, "added", 1);
	expect_s64(o, "removed", 0);
	expect_str(row(doc, "vq", 1), "device", "vdpa1");
	expect_u64(row(doc, "vq", 1), "calls", 2);

	o = get(doc, "drops");
	cr_assert(json_object_is_type(o, json_type_object));
	cr_expect_eq(json_object_object_length(o), 2);
	expect_u64(o, "ringbuf_full", 0);
	expect_u64(o, "map_full_vm", 17);
	json_object_put(doc);
}

/* quotes, a backslash, a newline, an escape sequence, bytes that are not UTF-8 */
#define HOSTILE	"vm \"x\"\\y\nobj fake kind device\x1b[2J\xff\xc3("

static void emit_hostile(struct vfs_dump *d)
{
	VFS_DUMP_ROW(d, "vm_info", VFS_P_U64("tgid", 7), VFS_F_STR("comm", "qemu\tkvm"),
		     VFS_F_STR("name", HOSTILE), VFS_F_STR("source", "qemu"));
	VFS_DUMP_ROW(d, "vq", VFS_P_STR("device", "\xe2\x80\xaevdpa"), VFS_P_U64("qid", 0),
		     VFS_P_STR("path", ""), VFS_F_U64("kicks", 1), VFS_F_U64("calls", 1));
	vfs_dump_pair(d, "drops", "ringbuf_full", 1);
}

Test(dump, hostile_names_stay_one_line_of_text)
{
	char *got = text_of(emit_hostile);

	cr_expect_str_eq(got,
		"vm_info 7 comm qemu\\x09kvm name vm \"x\"\\y\\x0aobj fake kind device"
		"\\x1b[2J\\xff\\xc3( source qemu\n"
		"vq \\u202evdpa 0  kicks 1 calls 1\n"
		"drops ringbuf_full 1\n");
	cr_expect(vfs_text_is_safe(got, strlen(got), VFS_SAFE_ESCAPE | VFS_SAFE_NL),
		  "a control or invalid byte reached the text");
	free(got);
}

Test(dump, hostile_names_stay_valid_json)
{
	struct json_object *doc = json_of(emit_hostile), *o = row(doc, "vm_info", 0);
	const char *name = json_object_get_string(get(o, "name"));

	/* controls kept for json-c to escape; invalid bytes as U+FFFD */
	expect_str(o, "name", "vm \"x\"\\y\nobj fake kind device\x1b[2J"
		   "\xef\xbf\xbd\xef\xbf\xbd(");
	cr_expect(vfs_text_is_safe(name, strlen(name), VFS_SAFE_UTF8));
	expect_str(o, "comm", "qemu\tkvm");
	/* a direction control is unsafe even in valid UTF-8 */
	expect_str(row(doc, "vq", 0), "device", "\xef\xbf\xbdvdpa");
	expect_str(row(doc, "vq", 0), "path", "");
	cr_expect_eq(json_object_object_length(doc), 3);
	json_object_put(doc);
}

/* compact output is one line, whatever the names hold */
Test(dump, json_document_is_one_line)
{
	struct json_object *doc = json_of(emit_hostile);
	const char *s = json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN);

	cr_expect_null(strchr(s, '\n'));
	cr_expect(vfs_text_is_safe(s, strlen(s), VFS_SAFE_ESCAPE), "%s", s);
	json_object_put(doc);
}
