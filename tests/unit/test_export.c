// SPDX-License-Identifier: GPL-2.0
/*
 * The exporter's pure parts: the Prometheus column of the field tables,
 * and migration histograms from raw collector events (no collector).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "export.h"
#include "mighist.h"
#include "rows.h"

static void check_table(const struct vfs_field *f, size_t n, const char *prefix)
{
	size_t i, j, len;

	for (i = 0; i < n; i++) {
		if (!f[i].prom) {
			cr_assert_eq(f[i].prom_kind, VFS_PROM_NONE, "%s", f[i].key);
			continue;
		}
		len = strlen(f[i].prom);
		cr_assert(prom_metric_name_ok(f[i].prom), "%s", f[i].prom);
		cr_assert(!strncmp(f[i].prom, prefix, strlen(prefix)), "%s", f[i].prom);
		cr_assert(f[i].type == VFS_FT_U64 || f[i].type == VFS_FT_BYTES ||
			  f[i].type == VFS_FT_LIMIT, "%s: only integer fields are exported", f[i].key);
		/* a limit is a level (+Inf when there is none), never a count */
		cr_assert(f[i].type != VFS_FT_LIMIT || f[i].prom_kind == VFS_PROM_GAUGE, "%s",
			  f[i].key);
		/* Prometheus conventions: counters end in _total, units in the name */
		cr_assert_eq(f[i].prom_kind == VFS_PROM_COUNTER,
			     len > 6 && !strcmp(f[i].prom + len - 6, "_total"), "%s", f[i].prom);
		if (f[i].type == VFS_FT_BYTES || f[i].type == VFS_FT_LIMIT)
			cr_assert_neq(strstr(f[i].prom, "_bytes"), NULL, "%s", f[i].prom);
		for (j = 0; j < i; j++)
			cr_assert(!f[j].prom || strcmp(f[i].prom, f[j].prom), "%s twice", f[i].prom);
	}
}

Test(export, field_tables_name_prometheus_families)
{
	check_table(vfs_vm_fields, vfs_vm_nfields, "vfioscope_vm_");
	check_table(vfs_dev_fields, vfs_dev_nfields, "vfioscope_device_");
	cr_assert_str_eq(vfs_vm_fields[vfs_field_find(vfs_vm_fields, vfs_vm_nfields,
						      "pinned_bytes")].prom,
			 "vfioscope_vm_pinned_bytes");
}

Test(export, log2_slot_matches_the_bpf_side)
{
	cr_assert_eq(vfs_mh_slot(0), 0);
	cr_assert_eq(vfs_mh_slot(1), 0);
	cr_assert_eq(vfs_mh_slot(2), 1);
	cr_assert_eq(vfs_mh_slot(1023), 9);
	cr_assert_eq(vfs_mh_slot(1024), 10);
	cr_assert_eq(vfs_mh_slot(240000000), 27);
	cr_assert_eq(vfs_mh_slot(~0ull), VFS_MH_SLOTS - 1);
}

#define MS 1000000ull
/* a pid no process can have: the VM's name is its comm */
#define PID 0x7ffffff0u

static void raw_arc(struct vfs_export *e, const char *dev, __u32 from, __u32 to,
		    __u64 t0_ms, __u64 t1_ms)
{
	struct vfs_ev_mig_arc a = {
		.hdr = { .type = VFS_EV_MIG_ARC, .version = VFS_ABI_VERSION, .size = sizeof(a),
			 .ts_ns = t1_ms * MS, .tgid = PID, .comm = "qemu-a" },
		.start_ns = t0_ms * MS, .end_ns = t1_ms * MS, .from = from, .to = to,
	};

	snprintf(a.dev, sizeof(a.dev), "%s", dev);
	cr_assert_eq(vfs_export_event(e, &a.hdr, sizeof(a)), 0);
}

/* the value on the line starting with @prefix; -1 if there is none */
static double value(const char *text, const char *prefix)
{
	const char *p = strstr(text, prefix);

	while (p && p != text && p[-1] != '\n')
		p = strstr(p + 1, prefix);
	return p ? strtod(p + strlen(prefix), NULL) : -1;
}

Test(export, migration_histograms_from_raw_events)
{
	enum { R = VFS_MIG_RUNNING, S = VFS_MIG_STOP, SC = VFS_MIG_STOP_COPY,
	       RS = VFS_MIG_RESUMING };
	struct prom_buf b = { 0 };
	struct vfs_export *e;
	char path[] = "/tmp/vfioscope-export-XXXXXX", cmd[128];
	FILE *f;
	int fd, rc, i;

	cr_assert_eq(vfs_export_new(&e, NULL), 0);
	/* two migrations; downtime 240 ms, then 3 s */
	for (i = 0; i < 2; i++) {
		__u64 t = 1000 + (__u64)i * 10000, tail = i ? 2760 : 0;

		raw_arc(e, "no-such-dst", R, S, t, t + 1);
		raw_arc(e, "no-such-src", R, S, t + 10, t + 11);
		raw_arc(e, "no-such-src", S, SC, t + 11, t + 12);
		raw_arc(e, "no-such-src", SC, S, t + 161, t + 162);
		raw_arc(e, "no-such-dst", S, RS, t + 242, t + 243);
		raw_arc(e, "no-such-dst", RS, S, t + 245, t + 246);
		raw_arc(e, "no-such-dst", S, R, t + 246, t + 250 + tail);
	}
	cr_assert_eq(vfs_export_render(e, &b), 0);
	cr_assert_eq(b.err, 0);

	cr_assert_eq(value(b.data, "vfioscope_migrations_total{vm=\"qemu-a\",status=\"ok\"} "), 2,
		     "%s", b.data);
	/* 240 ms is in slot 27 (le 0.268435455 s), 3 s in slot 31 (le 4.294967295 s) */
	cr_assert_eq(value(b.data, "vfioscope_migration_downtime_seconds_bucket{vm=\"qemu-a\","
			   "le=\"0.134217727\"} "), 0);
	cr_assert_eq(value(b.data, "vfioscope_migration_downtime_seconds_bucket{vm=\"qemu-a\","
			   "le=\"0.268435455\"} "), 1);
	cr_assert_eq(value(b.data, "vfioscope_migration_downtime_seconds_bucket{vm=\"qemu-a\","
			   "le=\"2.147483647\"} "), 1);
	cr_assert_eq(value(b.data, "vfioscope_migration_downtime_seconds_bucket{vm=\"qemu-a\","
			   "le=\"4.294967295\"} "), 2);
	cr_assert_eq(value(b.data, "vfioscope_migration_downtime_seconds_count{vm=\"qemu-a\"} "), 2);
	cr_assert_eq(value(b.data, "vfioscope_migration_downtime_seconds_sum{vm=\"qemu-a\"} "), 3.24);
	cr_assert_eq(value(b.data, "vfioscope_migration_last_downtime_seconds{vm=\"qemu-a\"} "), 3);
	cr_assert_eq(value(b.data, "vfioscope_migration_device_downtime_seconds_count{vm=\"qemu-a\","
			   "driver=\"\"} "), 2);
	/* STOP_COPY -> STOP took 1 ms on the source each time */
	cr_assert_eq(value(b.data, "vfioscope_migration_arc_duration_seconds_count{vm=\"qemu-a\","
			   "driver=\"\",side=\"src\",from=\"STOP_COPY\",to=\"STOP\"} "), 2);
	cr_assert_eq(value(b.data, "vfioscope_migration_arc_duration_seconds_sum{vm=\"qemu-a\","
			   "driver=\"\",side=\"dst\",from=\"STOP\",to=\"RUNNING\"} "), 2.768);
	cr_assert_eq(value(b.data, "vfioscope_migration_events_total{outcome=\"used\"} "), 14);

	fd = mkstemp(path);
	f = fdopen(fd, "w");
	fputs(b.data, f);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "promtool check metrics < %s", path);
	rc = system(cmd);
	unlink(path);
	cr_assert(WIFEXITED(rc) && WEXITSTATUS(rc) == 0, "promtool rejected:\n%s", b.data);
	prom_buf_free(&b);
	vfs_export_free(e);
}

/* a source in pre-copy: the driver's latest answer, gone once it stops */
Test(export, precopy_bytes_while_in_precopy)
{
	enum { R = VFS_MIG_RUNNING, PC = VFS_MIG_PRE_COPY, SC = VFS_MIG_STOP_COPY };
	struct vfs_ev_mig_precopy p = {
		.hdr = { .type = VFS_EV_MIG_PRECOPY, .version = VFS_ABI_VERSION, .size = sizeof(p),
			 .ts_ns = 1002 * MS, .tgid = PID, .comm = "qemu-a" },
		.initial_bytes = 4096, .dirty_bytes = 512, .dev = "no-such-src",
	};
	struct prom_buf b = { 0 };
	struct vfs_export *e;

	cr_assert_eq(vfs_export_new(&e, NULL), 0);
	raw_arc(e, "no-such-src", R, PC, 1000, 1001);
	cr_assert_eq(vfs_export_event(e, &p.hdr, sizeof(p)), 0);
	p.hdr.ts_ns = 1003 * MS;
	p.initial_bytes = 1024;
	cr_assert_eq(vfs_export_event(e, &p.hdr, sizeof(p)), 0);
	cr_assert_eq(vfs_export_render(e, &b), 0);
	cr_assert_eq(value(b.data, "vfioscope_migration_precopy_bytes{vm=\"qemu-a\","
			   "device=\"no-such-src\",kind=\"initial\"} "), 1024, "%s", b.data);
	cr_assert_eq(value(b.data, "vfioscope_migration_precopy_bytes{vm=\"qemu-a\","
			   "device=\"no-such-src\",kind=\"dirty\"} "), 512);
	free(b.data);
	memset(&b, 0, sizeof(b));
	raw_arc(e, "no-such-src", PC, SC, 1010, 1011);
	cr_assert_eq(vfs_export_render(e, &b), 0);
	cr_assert_eq(value(b.data, "vfioscope_migration_precopy_bytes{"), -1, "%s", b.data);
	free(b.data);
	vfs_export_free(e);
}
