// SPDX-License-Identifier: GPL-2.0
/* vfiotop's pure parts: quantiles, rates, comparators, units, field tables. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "model.h"
#include "rows.h"
#include "stats.h"

/* ------------------------------------------------------------ quantiles */

Test(top_hist, empty_has_no_quantile)
{
	__u32 h[VFS_HIST_SLOTS] = { 0 };
	__u64 q = 123;

	cr_assert_not(vfs_hist_quantile(h, VFS_HIST_SLOTS, 0.5, &q));
	cr_assert_eq(q, 0);
}

Test(top_hist, single_slot_gives_its_upper_bound)
{
	__u32 h[VFS_HIST_SLOTS] = { 0 };
	__u64 q;

	h[10] = 7;	/* [1024, 2048) ns */
	cr_assert(vfs_hist_quantile(h, VFS_HIST_SLOTS, 0.5, &q));
	cr_assert_eq(q, 2048);
	cr_assert(vfs_hist_quantile(h, VFS_HIST_SLOTS, 0.99, &q));
	cr_assert_eq(q, 2048);
	h[10] = 0;
	h[0] = 1;	/* [0, 2) */
	cr_assert(vfs_hist_quantile(h, VFS_HIST_SLOTS, 0.5, &q));
	cr_assert_eq(q, 2);
}

Test(top_hist, p50_and_p99_use_the_ceil_rank)
{
	__u32 h[VFS_HIST_SLOTS] = { 0 };
	__u64 q;

	/* 100 values: 50 in slot 8, 49 in slot 12, 1 in slot 20 */
	h[8] = 50;
	h[12] = 49;
	h[20] = 1;
	cr_assert(vfs_hist_quantile(h, VFS_HIST_SLOTS, 0.50, &q));
	cr_assert_eq(q, 1ull << 9, "rank 50 is the last of slot 8");
	cr_assert(vfs_hist_quantile(h, VFS_HIST_SLOTS, 0.99, &q));
	cr_assert_eq(q, 1ull << 13, "rank 99 is in slot 12");
	cr_assert(vfs_hist_quantile(h, VFS_HIST_SLOTS, 1.0, &q));
	cr_assert_eq(q, 1ull << 21);
	/* 101 values: rank ceil(50.5) = 51 moves the median to slot 12 */
	h[20] = 2;
	cr_assert(vfs_hist_quantile(h, VFS_HIST_SLOTS, 0.50, &q));
	cr_assert_eq(q, 1ull << 13);
}

Test(top_hist, last_slot_and_big_counts)
{
	__u32 h[VFS_HIST_SLOTS] = { 0 };
	__u64 q;

	h[VFS_HIST_SLOTS - 1] = 0xffffffffu;
	h[0] = 0xffffffffu;	/* totals above 2^32 */
	cr_assert(vfs_hist_quantile(h, VFS_HIST_SLOTS, 0.99, &q));
	cr_assert_eq(q, 1ull << VFS_HIST_SLOTS);
	cr_assert(vfs_hist_quantile(h, VFS_HIST_SLOTS, 0.5, &q));
	cr_assert_eq(q, 2);
}

/* ---------------------------------------------------------------- rates */

Test(top_rate, per_second_from_ns)
{
	cr_assert_float_eq(vfs_rate(100, 600, 1000000000ull), 500.0, 1e-9);
	cr_assert_float_eq(vfs_rate(0, 5, 500000000ull), 10.0, 1e-9);
	cr_assert_float_eq(vfs_rate(7, 7, 2000000000ull), 0.0, 1e-9);
	/* big counters keep their precision in the delta */
	cr_assert_float_eq(vfs_rate((1ull << 40), (1ull << 40) + 3, 1000000000ull), 3.0, 1e-9);
}

Test(top_rate, reset_counts_from_zero)
{
	cr_assert_eq(vfs_delta(1000, 30), 30);
	cr_assert_float_eq(vfs_rate(1000, 30, 1000000000ull), 30.0, 1e-9);
	cr_assert_eq(vfs_delta(~0ull, 0), 0);
}

Test(top_rate, no_interval_is_unknown)
{
	cr_assert(isnan(vfs_rate(1, 2, 0)));
}

/* ---------------------------------------------------------- comparators */

Test(top_cmp, no_overflow)
{
	__u64 big = 1ull << 33, huge = ~0ull;

	cr_assert_eq(vfs_cmp_u64(big, 1), 1);
	cr_assert_eq(vfs_cmp_u64(1, big), -1);
	cr_assert_eq(vfs_cmp_u64(huge, 0), 1, "a subtraction cast to int would say otherwise");
	cr_assert_eq(vfs_cmp_u64(0, huge), -1);
	cr_assert_eq(vfs_cmp_u64(big, big), 0);
	/* (int)(a - b) of these is 0: the classic bug */
	cr_assert_eq(vfs_cmp_u64(1ull << 32, 0), 1);
	cr_assert_eq(vfs_cmp_s64(-5, 3), -1);
	cr_assert_eq(vfs_cmp_s64(INT64_MIN, INT64_MAX), -1);
	cr_assert_eq(vfs_cmp_s64(INT64_MAX, INT64_MIN), 1);
	cr_assert_eq(vfs_cmp_s64(-(1ll << 40), -(1ll << 40)), 0);
}

Test(top_cmp, unknown_rates_sort_lowest)
{
	cr_assert_eq(vfs_cmp_rate(NAN, 0.0), -1);
	cr_assert_eq(vfs_cmp_rate(0.0, NAN), 1);
	cr_assert_eq(vfs_cmp_rate(NAN, NAN), 0);
	cr_assert_eq(vfs_cmp_rate(-1.5, 2.0), -1);
	cr_assert_eq(vfs_cmp_rate(1e12, 1e12 - 1), 1);
}

Test(top_cmp, rows_sort_big_values_and_ties)
{
	struct vfs_vm_row r[4] = { 0 };
	void *p[4] = { &r[0], &r[1], &r[2], &r[3] };
	int f = vfs_field_find(vfs_vm_fields, vfs_vm_nfields, "ioctls");
	int fr = vfs_field_find(vfs_vm_fields, vfs_vm_nfields, "ioctl_rate");

	r[0].pid = 10, r[0].ioctls = 1ull << 40, r[0].ioctl_rate = NAN;
	r[1].pid = 20, r[1].ioctls = 5, r[1].ioctl_rate = 3;
	r[2].pid = 30, r[2].ioctls = (1ull << 40) + 1, r[2].ioctl_rate = 1e9;
	r[3].pid = 5, r[3].ioctls = 5, r[3].ioctl_rate = 0;
	vfs_rows_sort(p, 4, &vfs_vm_fields[f], true, &vfs_vm_fields[0]);
	cr_assert_eq(((struct vfs_vm_row *)p[0])->pid, 30);
	cr_assert_eq(((struct vfs_vm_row *)p[1])->pid, 10);
	cr_assert_eq(((struct vfs_vm_row *)p[2])->pid, 5, "ties by pid, ascending");
	cr_assert_eq(((struct vfs_vm_row *)p[3])->pid, 20);
	vfs_rows_sort(p, 4, &vfs_vm_fields[fr], true, &vfs_vm_fields[0]);
	cr_assert_eq(((struct vfs_vm_row *)p[0])->pid, 30);
	cr_assert_eq(((struct vfs_vm_row *)p[3])->pid, 10, "unknown rate last");
}

/* ---------------------------------------------------------------- units */

Test(top_units, ns)
{
	char b[32];

	cr_assert_str_eq(vfs_fmt_ns(0, b, sizeof(b)), "0ns");
	cr_assert_str_eq(vfs_fmt_ns(999, b, sizeof(b)), "999ns");
	cr_assert_str_eq(vfs_fmt_ns(1000, b, sizeof(b)), "1.0us");
	cr_assert_str_eq(vfs_fmt_ns(12500, b, sizeof(b)), "12.5us");
	cr_assert_str_eq(vfs_fmt_ns(3200000, b, sizeof(b)), "3.20ms");
	cr_assert_str_eq(vfs_fmt_ns(1500000000ull, b, sizeof(b)), "1.50s");
}

Test(top_units, bytes)
{
	char b[32];

	cr_assert_str_eq(vfs_fmt_bytes(0, b, sizeof(b)), "0B");
	cr_assert_str_eq(vfs_fmt_bytes(1023, b, sizeof(b)), "1023B");
	cr_assert_str_eq(vfs_fmt_bytes(4096, b, sizeof(b)), "4.0KiB");
	cr_assert_str_eq(vfs_fmt_bytes(4ull << 20, b, sizeof(b)), "4.00MiB");
	cr_assert_str_eq(vfs_fmt_bytes(12800ull << 10, b, sizeof(b)), "12.5MiB");
	cr_assert_str_eq(vfs_fmt_bytes(3ull << 30, b, sizeof(b)), "3.00GiB");
	cr_assert_str_eq(vfs_fmt_bytes(500ull << 30, b, sizeof(b)), "500GiB");
	cr_assert_str_eq(vfs_fmt_bytes(1ull << 40, b, sizeof(b)), "1.00TiB");
	cr_assert_str_eq(vfs_fmt_bytes(~0ull, b, sizeof(b)), "16.0EiB");
}

Test(top_units, rates)
{
	char b[32];

	cr_assert_str_eq(vfs_fmt_rate(NAN, b, sizeof(b)), "-");
	cr_assert_str_eq(vfs_fmt_rate(0, b, sizeof(b)), "0");
	cr_assert_str_eq(vfs_fmt_rate(12.54, b, sizeof(b)), "12.5");
	cr_assert_str_eq(vfs_fmt_rate(1234, b, sizeof(b)), "1234");
	cr_assert_str_eq(vfs_fmt_rate(12345, b, sizeof(b)), "12.3k");
	cr_assert_str_eq(vfs_fmt_rate(45.6e6, b, sizeof(b)), "45.60M");
}

/* --------------------------------------------------------- field tables */

static void check_table(const struct vfs_field *f, size_t n, size_t rowsize)
{
	size_t i, j;

	cr_assert_gt(n, 0);
	for (i = 0; i < n; i++) {
		cr_assert(f[i].title && f[i].title[0], "field %zu has no title", i);
		cr_assert(f[i].key && f[i].key[0], "field %zu has no key", i);
		cr_assert(f[i].desc && f[i].desc[0], "%s has no description", f[i].key);
		cr_assert_geq(f[i].width, strlen(f[i].title), "%s: width below its title", f[i].key);
		cr_assert_lt(f[i].off, rowsize, "%s: offset outside the row", f[i].key);
		for (j = 0; j < i; j++) {
			cr_assert_str_neq(f[i].key, f[j].key, "JSON key %s twice", f[i].key);
			cr_assert_str_neq(f[i].title, f[j].title, "title %s twice", f[i].title);
		}
		cr_assert_eq(vfs_field_find(f, n, f[i].key), (int)i);
	}
	cr_assert_eq(vfs_field_find(f, n, "no-such-key"), -1);
}

Test(top_fields, vm_table)
{
	check_table(vfs_vm_fields, vfs_vm_nfields, sizeof(struct vfs_vm_row));
}

Test(top_fields, device_table)
{
	check_table(vfs_dev_fields, vfs_dev_nfields, sizeof(struct vfs_dev_row));
}

Test(top_fields, text_and_json_of_a_row)
{
	struct vfs_vm_row r = { 0 };
	struct json_object *o = json_object_new_object(), *v;
	char buf[64];
	size_t i;

	r.pid = 4242;
	snprintf(r.name, sizeof(r.name), "web \"1\"\\\n");
	r.ioctls = (1ull << 40) + 7;
	r.ioctl_rate = NAN;
	r.error_rate = 2.5;
	r.dma_map_rate = r.kick_rate = NAN;
	r.pinned_bytes = 4ull << 20;
	for (i = 0; i < vfs_vm_nfields; i++)
		vfs_field_json(&vfs_vm_fields[i], &r, o);
	cr_assert_eq(json_object_object_length(o), (int)vfs_vm_nfields);
	cr_assert(json_object_object_get_ex(o, "pid", &v));
	cr_assert_eq(json_object_get_uint64(v), 4242);
	cr_assert(json_object_object_get_ex(o, "ioctls", &v));
	cr_assert_eq(json_object_get_uint64(v), (1ull << 40) + 7);
	cr_assert(json_object_object_get_ex(o, "ioctl_rate", &v));
	cr_assert_null(v, "an unknown rate is null");
	cr_assert(json_object_object_get_ex(o, "error_rate", &v));
	cr_assert_float_eq(json_object_get_double(v), 2.5, 1e-9);
	cr_assert(json_object_object_get_ex(o, "pinned_bytes", &v));
	cr_assert_eq(json_object_get_uint64(v), 4ull << 20);
	/* escaping: the document parses back to the same name */
	{
		const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
		struct json_object *back = json_tokener_parse(s), *n;

		cr_assert_not_null(back, "%s", s);
		cr_assert(json_object_object_get_ex(back, "name", &n));
		cr_assert_str_eq(json_object_get_string(n), "web \"1\"\\\n");
		json_object_put(back);
	}
	json_object_put(o);

	i = vfs_field_find(vfs_vm_fields, vfs_vm_nfields, "ioctl_rate");
	cr_assert_str_eq(vfs_field_text(&vfs_vm_fields[i], &r, buf, sizeof(buf)), "-");
	i = vfs_field_find(vfs_vm_fields, vfs_vm_nfields, "pinned_bytes");
	cr_assert_str_eq(vfs_field_text(&vfs_vm_fields[i], &r, buf, sizeof(buf)), "4.00MiB");
	i = vfs_field_find(vfs_vm_fields, vfs_vm_nfields, "pid");
	cr_assert_str_eq(vfs_field_text(&vfs_vm_fields[i], &r, buf, sizeof(buf)), "4242");
}

Test(top_fields, device_ids_and_latency)
{
	struct vfs_dev_row d = { 0 };
	char buf[64];
	int g = vfs_field_find(vfs_dev_fields, vfs_dev_nfields, "iommu_group");
	int p = vfs_field_find(vfs_dev_fields, vfs_dev_nfields, "p99_ns");
	struct vfs_dev_row e = { 0 };

	d.group = -1;
	cr_assert_str_eq(vfs_field_text(&vfs_dev_fields[g], &d, buf, sizeof(buf)), "-");
	cr_assert_str_eq(vfs_field_text(&vfs_dev_fields[p], &d, buf, sizeof(buf)), "-");
	d.group = 12;
	d.p99_ns = 1 << 14;
	cr_assert_str_eq(vfs_field_text(&vfs_dev_fields[g], &d, buf, sizeof(buf)), "12");
	cr_assert_str_eq(vfs_field_text(&vfs_dev_fields[p], &d, buf, sizeof(buf)), "16.4us");
	e.group = -1;
	cr_assert_eq(vfs_field_cmp(&vfs_dev_fields[g], &e, &d), -1, "no group sorts first");
}

Test(top_fields, queue_migration_event_tables)
{
	check_table(vfs_vq_fields, vfs_vq_nfields, sizeof(struct vfs_vq_row));
	check_table(vfs_mig_fields, vfs_mig_nfields, sizeof(struct vfs_mig_row));
	check_table(vfs_event_fields, vfs_event_nfields, sizeof(struct vfs_event_row));
}

Test(top_fields, every_view_has_a_table_with_its_sort_key)
{
	struct vfs_model m;
	int v;

	cr_assert_eq(vfs_model_init(&m, NULL), 0);
	for (v = 0; v < VFS_VIEW_MAX; v++) {
		enum vfs_view back;

		cr_assert_not_null(m.view[v].fields, "view %d", v);
		cr_assert_gt(m.view[v].nfields, 0);
		cr_assert_lt((size_t)m.view[v].sort, m.view[v].nfields);
		cr_assert_eq(vfs_view_parse(vfs_view_name(v), &back), 0);
		cr_assert_eq((int)back, v);
	}
	vfs_model_free(&m);
}

Test(top_filter, regular_expressions_on_text_columns_any_case)
{
	struct vfs_vm_row a = { .pid = 10 }, b = { .pid = 20 };
	struct vfs_filter f = { 0 };
	char err[200];

	snprintf(a.name, sizeof(a.name), "web-1");
	snprintf(a.comm, sizeof(a.comm), "qemu-system-x86");
	snprintf(b.name, sizeof(b.name), "db-primary");
	snprintf(b.comm, sizeof(b.comm), "qemu-system-x86");

	cr_assert(vfs_filter_match(&f, vfs_vm_fields, vfs_vm_nfields, &a), "no filter: every row");
	cr_assert_eq(vfs_filter_set(&f, "WEB", err, sizeof(err)), 0);
	cr_expect(vfs_filter_match(&f, vfs_vm_fields, vfs_vm_nfields, &a));
	cr_expect_not(vfs_filter_match(&f, vfs_vm_fields, vfs_vm_nfields, &b));
	cr_assert_eq(vfs_filter_set(&f, "^(web|db)-[0-9]+$", err, sizeof(err)), 0);
	cr_expect(vfs_filter_match(&f, vfs_vm_fields, vfs_vm_nfields, &a));
	cr_expect_not(vfs_filter_match(&f, vfs_vm_fields, vfs_vm_nfields, &b));
	/* numbers are not text: a pid never matches */
	cr_assert_eq(vfs_filter_set(&f, "^10$", err, sizeof(err)), 0);
	cr_expect_not(vfs_filter_match(&f, vfs_vm_fields, vfs_vm_nfields, &a));

	/* a bad expression says why and keeps the filter that applied */
	cr_assert_eq(vfs_filter_set(&f, "db", err, sizeof(err)), 0);
	cr_expect_eq(vfs_filter_set(&f, "(unclosed", err, sizeof(err)), -1);
	cr_expect(strstr(err, "not a regular expression") != NULL, "%s", err);
	cr_expect_str_eq(f.text, "db");
	cr_expect(vfs_filter_match(&f, vfs_vm_fields, vfs_vm_nfields, &b));

	cr_assert_eq(vfs_filter_set(&f, "", err, sizeof(err)), 0);
	cr_expect_not(f.set);
	cr_expect(vfs_filter_match(&f, vfs_vm_fields, vfs_vm_nfields, &b));
	vfs_filter_free(&f);
}

Test(top_filter, pid_selects_the_process_rows_and_combines_with_the_expression)
{
	struct vfs_vm_row a = { .pid = 10 }, b = { .pid = 20 };
	struct vfs_dev_row d = { .owner_pid = 20 }, none = { .owner_pid = -1 };
	struct vfs_filter f = { .pid = 20 };
	char err[200];

	snprintf(a.name, sizeof(a.name), "web-1");
	snprintf(b.name, sizeof(b.name), "db-primary");
	cr_expect_not(vfs_filter_match(&f, vfs_vm_fields, vfs_vm_nfields, &a));
	cr_expect(vfs_filter_match(&f, vfs_vm_fields, vfs_vm_nfields, &b));
	cr_expect(vfs_filter_match(&f, vfs_dev_fields, vfs_dev_nfields, &d), "a device it owns");
	cr_expect_not(vfs_filter_match(&f, vfs_dev_fields, vfs_dev_nfields, &none),
		      "a device nobody owns");
	cr_assert_eq(vfs_filter_set(&f, "web", err, sizeof(err)), 0);
	cr_expect_not(vfs_filter_match(&f, vfs_vm_fields, vfs_vm_nfields, &b), "both must hold");
	cr_assert_eq(vfs_filter_set(&f, "", err, sizeof(err)), 0);
	cr_expect_eq(f.pid, 20, "clearing the expression keeps -p");
	cr_expect(vfs_filter_match(&f, vfs_vm_fields, vfs_vm_nfields, &b));
	vfs_filter_free(&f);
}

Test(top_columns, pick_by_key)
{
	int name = vfs_field_find(vfs_vm_fields, vfs_vm_nfields, "name");
	int ioctls = vfs_field_find(vfs_vm_fields, vfs_vm_nfields, "ioctls");
	__u64 hidden = 0;
	char err[160];
	size_t i;

	cr_assert_eq(vfs_fields_pick(vfs_vm_fields, vfs_vm_nfields, "ioctls,name", &hidden, err,
				     sizeof(err)), 0);
	for (i = 0; i < vfs_vm_nfields; i++)
		cr_expect_eq(!(hidden & (1ull << i)), (int)i == name || (int)i == ioctls,
			     "field %s", vfs_vm_fields[i].key);
	cr_expect_eq(vfs_fields_pick(vfs_vm_fields, vfs_vm_nfields, "ioctls,nope", &hidden, err,
				     sizeof(err)), -1);
	cr_expect(strstr(err, "'nope'") != NULL, "%s", err);
	cr_expect(!(hidden & (1ull << ioctls)), "a bad list leaves the columns as they were");
	cr_expect_eq(vfs_fields_pick(vfs_vm_fields, vfs_vm_nfields, "", &hidden, err, sizeof(err)), 0);
	cr_expect_eq(hidden, 0);
	cr_expect_eq(vfs_fields_pick(vfs_vm_fields, vfs_vm_nfields, "name,", &hidden, err,
				     sizeof(err)), 0, "a trailing comma is harmless");
}
