// SPDX-License-Identifier: GPL-2.0
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>
#include <json-c/json.h>
#include "migmodel.h"

#define MS 1000000ull

enum { R = VFS_MIG_RUNNING, S = VFS_MIG_STOP, SC = VFS_MIG_STOP_COPY, RS = VFS_MIG_RESUMING,
       P2P = VFS_MIG_RUNNING_P2P, PC = VFS_MIG_PRE_COPY, PCP = VFS_MIG_PRE_COPY_P2P };

static void arc(struct vfs_migmodel *m, __u32 pid, const char *dev, __u32 from, __u32 to,
		__u64 t0_ms, __u64 t1_ms, int ret)
{
	struct vfs_mm_event e = { .kind = VFS_MM_ARC, .pid = pid, .from = from, .to = to,
				  .start_ns = t0_ms * MS, .end_ns = t1_ms * MS, .ret = ret,
				  .ts_ns = t1_ms * MS };

	strcpy(e.dev, dev);
	strcpy(e.comm, "qemu");
	cr_assert_eq(vfs_migmodel_feed(m, &e), 0);
}

static void data(struct vfs_migmodel *m, __u32 pid, const char *dev, bool write,
		 __u64 ts_ms, __s64 ret)
{
	struct vfs_mm_event e = { .kind = VFS_MM_DATA, .pid = pid, .write = write,
				  .bytes = 65536, .ret = ret, .ts_ns = ts_ms * MS };

	strcpy(e.dev, dev);
	cr_assert_eq(vfs_migmodel_feed(m, &e), 0);
}

/* the exerciser's order: dst waits stopped, src stops and saves, dst resumes */
static void normal(struct vfs_migmodel *m, __u32 pid, const char *s, const char *d, __u64 t)
{
	arc(m, pid, d, R, S, t + 0, t + 1, 0);
	arc(m, pid, s, R, S, t + 10, t + 11, 0);
	arc(m, pid, s, S, SC, t + 11, t + 12, 0);
	data(m, pid, s, false, t + 100, 4096);
	data(m, pid, s, false, t + 161, 0);
	arc(m, pid, s, SC, S, t + 161, t + 162, 0);
	arc(m, pid, d, S, RS, t + 242, t + 243, 0);
	data(m, pid, d, true, t + 244, 4096);
	arc(m, pid, d, RS, S, t + 245, t + 246, 0);
	arc(m, pid, d, S, R, t + 246, t + 250, 0);
}

Test(migmodel, normal_migration_downtime_and_breakdown)
{
	struct vfs_migmodel *m = vfs_migmodel_new();
	const struct vfs_mm_migration *g;

	normal(m, 7, "src-uuid", "dst-uuid", 1000);
	g = vfs_migmodel_next(m, false);
	cr_assert_not_null(g);
	cr_expect_eq(g->status, VFS_MM_DONE);
	cr_expect_eq(g->pid, 7);
	cr_assert_eq(g->npairs, 1);
	cr_expect_str_eq(g->pairs[0].src->dev, "src-uuid");
	cr_expect_str_eq(g->pairs[0].dst->dev, "dst-uuid");
	cr_expect(g->has_downtime);
	cr_expect_eq(g->downtime_ns, 240 * MS);	/* 1010 -> 1250 */
	cr_expect_eq(g->pairs[0].stop_copy_ns, 152 * MS);	/* 1010 -> 1162 */
	cr_expect_eq(g->pairs[0].transfer_ns, 80 * MS);	/* 1162 -> 1242 */
	cr_expect_eq(g->pairs[0].resume_ns, 8 * MS);	/* 1242 -> 1250 */
	cr_expect_eq(g->pairs[0].stop_copy_ns + g->pairs[0].transfer_ns +
		     g->pairs[0].resume_ns, g->downtime_ns);
	cr_expect_eq(g->pairs[0].src->bytes_read, 4096);
	cr_expect_eq(g->pairs[0].dst->bytes_written, 4096);
	cr_expect_eq(g->pairs[0].src->narcs, 3);
	cr_expect_eq(g->pairs[0].dst->narcs, 4);
	cr_expect_eq(g->dominant, 0);
	cr_expect_eq(g->t0_ns, 1000 * MS);
	cr_expect_null(vfs_migmodel_next(m, true));
	vfs_migmodel_free(m);
}

Test(migmodel, nothing_until_the_destination_runs)
{
	struct vfs_migmodel *m = vfs_migmodel_new();

	arc(m, 7, "d", R, S, 0, 1, 0);
	arc(m, 7, "s", R, S, 10, 11, 0);
	arc(m, 7, "s", S, SC, 11, 12, 0);
	arc(m, 7, "s", SC, S, 20, 21, 0);
	arc(m, 7, "d", S, RS, 30, 31, 0);
	cr_expect_null(vfs_migmodel_next(m, false));
	arc(m, 7, "d", RS, S, 32, 33, 0);
	cr_expect_null(vfs_migmodel_next(m, false));
	arc(m, 7, "d", S, R, 33, 34, 0);
	cr_expect_not_null(vfs_migmodel_next(m, false));
	vfs_migmodel_free(m);
}

Test(migmodel, p2p_states)
{
	struct vfs_migmodel *m = vfs_migmodel_new();
	const struct vfs_mm_migration *g;

	arc(m, 9, "d", R, S, 0, 1, 0);
	arc(m, 9, "s", R, P2P, 10, 12, 0);	/* downtime starts here */
	arc(m, 9, "s", P2P, S, 12, 13, 0);
	arc(m, 9, "s", S, SC, 13, 14, 0);
	arc(m, 9, "s", SC, S, 30, 31, 0);
	arc(m, 9, "d", S, RS, 40, 41, 0);
	arc(m, 9, "d", RS, S, 42, 43, 0);
	arc(m, 9, "d", S, P2P, 43, 44, 0);
	arc(m, 9, "d", P2P, R, 44, 50, 0);
	g = vfs_migmodel_next(m, false);
	cr_assert_not_null(g);
	cr_expect_eq(g->status, VFS_MM_DONE);
	cr_expect_eq(g->downtime_ns, 40 * MS);
	cr_expect_eq(g->pairs[0].stop_copy_ns, 21 * MS);
	cr_expect_eq(g->pairs[0].transfer_ns, 9 * MS);
	cr_expect_eq(g->pairs[0].resume_ns, 10 * MS);
	vfs_migmodel_free(m);
}

Test(migmodel, precopy_runs_until_stop_copy)
{
	struct vfs_migmodel *m = vfs_migmodel_new();
	const struct vfs_mm_migration *g;

	arc(m, 9, "d", R, S, 0, 1, 0);
	arc(m, 9, "s", R, PC, 10, 11, 0);	/* still running */
	data(m, 9, "s", false, 20, 1000);
	arc(m, 9, "s", PC, SC, 50, 52, 0);	/* downtime starts */
	data(m, 9, "s", false, 53, 200);
	arc(m, 9, "s", SC, S, 60, 61, 0);
	arc(m, 9, "d", S, RS, 62, 63, 0);
	data(m, 9, "d", true, 64, 1200);
	arc(m, 9, "d", RS, S, 65, 66, 0);
	arc(m, 9, "d", S, R, 66, 70, 0);
	g = vfs_migmodel_next(m, false);
	cr_assert_not_null(g);
	cr_expect_eq(g->downtime_ns, 20 * MS);
	cr_expect_eq(g->pairs[0].stop_copy_ns, 11 * MS);
	cr_expect_eq(g->pairs[0].src->bytes_read, 1200);
	cr_expect_eq(g->pairs[0].src->npoints, 2);
	cr_expect_eq(g->pairs[0].src->points[1].total, 1200);
	cr_expect_eq(g->pairs[0].dst->bytes_written, 1200);
	vfs_migmodel_free(m);
}

Test(migmodel, failing_arc_fails_the_session_with_its_errno)
{
	struct vfs_migmodel *m = vfs_migmodel_new();
	const struct vfs_mm_migration *g;

	arc(m, 5, "d", R, S, 0, 1, 0);
	arc(m, 5, "s", R, S, 10, 11, 0);
	arc(m, 5, "s", S, SC, 11, 12, -EIO);
	g = vfs_migmodel_next(m, false);
	cr_assert_not_null(g, "a failure must be reported at once");
	cr_expect_eq(g->status, VFS_MM_FAILED);
	cr_expect_eq(g->err, EIO);
	cr_expect_str_eq(g->err_dev, "s");
	cr_expect_eq(g->pairs[0].src->role, VFS_MM_SOURCE);
	cr_expect_eq(g->pairs[0].src->narcs, 2);
	cr_expect_not(g->has_downtime);
	/* the waiting destination never resumed: not a migration of its own */
	arc(m, 5, "d", S, R, 20, 21, 0);
	cr_expect_null(vfs_migmodel_next(m, true));
	vfs_migmodel_free(m);
}

Test(migmodel, failing_arc_before_any_saving_state_is_kept)
{
	struct vfs_migmodel *m = vfs_migmodel_new();
	const struct vfs_mm_migration *g;

	arc(m, 5, "s", R, S, 10, 11, -EBUSY);
	g = vfs_migmodel_next(m, false);
	cr_assert_not_null(g);
	cr_expect_eq(g->status, VFS_MM_FAILED);
	cr_expect_eq(g->err, EBUSY);
	vfs_migmodel_free(m);
}

Test(migmodel, pause_and_resume_is_not_a_migration)
{
	struct vfs_migmodel *m = vfs_migmodel_new();

	arc(m, 5, "s", R, S, 10, 11, 0);
	arc(m, 5, "s", S, R, 12, 13, 0);
	cr_expect_null(vfs_migmodel_next(m, true));
	vfs_migmodel_free(m);
}

Test(migmodel, two_devices_in_one_vm)
{
	struct vfs_migmodel *m = vfs_migmodel_new();
	const struct vfs_mm_migration *g;

	arc(m, 3, "d1", R, S, 0, 1, 0);
	arc(m, 3, "d2", R, S, 1, 2, 0);
	arc(m, 3, "s1", R, S, 10, 11, 0);
	arc(m, 3, "s2", R, S, 12, 13, 0);
	arc(m, 3, "s1", S, SC, 13, 14, 0);
	arc(m, 3, "s2", S, SC, 14, 15, 0);
	arc(m, 3, "s1", SC, S, 20, 21, 0);
	arc(m, 3, "s2", SC, S, 40, 41, 0);
	arc(m, 3, "d1", S, RS, 50, 51, 0);
	arc(m, 3, "d1", RS, S, 52, 53, 0);
	arc(m, 3, "d1", S, R, 53, 55, 0);
	cr_expect_null(vfs_migmodel_next(m, false), "s2 has not resumed yet");
	arc(m, 3, "d2", S, RS, 56, 57, 0);
	arc(m, 3, "d2", RS, S, 58, 59, 0);
	arc(m, 3, "d2", S, R, 59, 70, 0);
	g = vfs_migmodel_next(m, false);
	cr_assert_not_null(g);
	cr_assert_eq(g->npairs, 2);
	cr_expect_str_eq(g->pairs[0].dst->dev, "d1");
	cr_expect_str_eq(g->pairs[1].dst->dev, "d2");
	cr_expect_eq(g->pairs[0].downtime_ns, 45 * MS);	/* 10 -> 55 */
	cr_expect_eq(g->pairs[1].downtime_ns, 58 * MS);	/* 12 -> 70 */
	cr_expect_eq(g->stop_ns, 10 * MS);
	cr_expect_eq(g->running_ns, 70 * MS);
	cr_expect_eq(g->downtime_ns, 60 * MS);
	cr_expect_eq(g->pairs[0].share_ns, 11 * MS);	/* saved 13 -> 21, loaded 50 -> 53 */
	cr_expect_eq(g->pairs[1].share_ns, 30 * MS);	/* 14 -> 41, 56 -> 59 */
	cr_expect_eq(g->dominant, 1);
	/* the VM's split: last save ends at 41, first load starts at 50 */
	cr_expect_eq(g->stop_copy_ns, 31 * MS);
	cr_expect_eq(g->transfer_ns, 9 * MS);
	cr_expect_eq(g->resume_ns, 20 * MS);
	vfs_migmodel_free(m);
}

/*
 * QEMU's order: the VM stops (every source), each device is saved in turn,
 * each destination loaded in turn, the VM starts (every destination). The
 * first device's long save dominates although the second runs last.
 */
Test(migmodel, vm_devices_stop_and_start_together)
{
	struct vfs_migmodel *m = vfs_migmodel_new();
	const struct vfs_mm_migration *g;

	arc(m, 4, "d1", R, S, 0, 1, 0);
	arc(m, 4, "d2", R, S, 1, 2, 0);
	arc(m, 4, "s1", R, S, 10, 11, 0);
	arc(m, 4, "s2", R, S, 11, 12, 0);
	arc(m, 4, "s1", S, SC, 12, 13, 0);
	arc(m, 4, "s1", SC, S, 163, 164, 0);	/* 150 ms in STOP_COPY */
	arc(m, 4, "s2", S, SC, 164, 165, 0);
	arc(m, 4, "s2", SC, S, 195, 196, 0);	/* 30 ms */
	arc(m, 4, "d1", S, RS, 200, 201, 0);
	arc(m, 4, "d1", RS, S, 202, 203, 0);
	arc(m, 4, "d2", S, RS, 203, 204, 0);
	arc(m, 4, "d2", RS, S, 205, 206, 0);
	arc(m, 4, "d1", S, R, 206, 207, 0);
	cr_expect_null(vfs_migmodel_next(m, false), "d2 is not running yet");
	arc(m, 4, "d2", S, R, 207, 208, 0);
	g = vfs_migmodel_next(m, false);
	cr_assert_not_null(g);
	cr_assert_eq(g->npairs, 2);
	cr_expect_str_eq(g->pairs[0].dst->dev, "d1");
	cr_expect_str_eq(g->pairs[1].dst->dev, "d2");
	cr_expect_eq(g->pairs[0].downtime_ns, 197 * MS);	/* 10 -> 207 */
	cr_expect_eq(g->pairs[1].downtime_ns, 197 * MS);	/* 11 -> 208 */
	cr_expect_eq(g->pairs[0].share_ns, (152 + 3) * MS);
	cr_expect_eq(g->pairs[1].share_ns, (32 + 3) * MS);
	cr_expect_eq(g->dominant, 0);
	cr_expect_eq(g->downtime_ns, 198 * MS);
	cr_expect_eq(g->stop_copy_ns, 186 * MS);	/* 10 -> 196 */
	cr_expect_eq(g->transfer_ns, 4 * MS);		/* -> 200 */
	cr_expect_eq(g->resume_ns, 8 * MS);		/* -> 208 */
	cr_expect_eq(g->stop_copy_ns + g->transfer_ns + g->resume_ns, g->downtime_ns);
	vfs_migmodel_free(m);
}

Test(migmodel, two_vms_pair_within_their_own_process)
{
	struct vfs_migmodel *m = vfs_migmodel_new();
	const struct vfs_mm_migration *a, *b;

	normal(m, 1, "a-src", "a-dst", 0);
	normal(m, 2, "b-src", "b-dst", 0);
	a = vfs_migmodel_next(m, false);
	b = vfs_migmodel_next(m, false);
	cr_assert(a && b);
	cr_expect_str_eq(a->pairs[0].dst->dev, "a-dst");
	cr_expect_str_eq(b->pairs[0].dst->dev, "b-dst");
	vfs_migmodel_free(m);
}

Test(migmodel, flush_reports_incomplete)
{
	struct vfs_migmodel *m = vfs_migmodel_new();
	const struct vfs_mm_migration *g;

	arc(m, 3, "s", R, S, 10, 11, 0);
	arc(m, 3, "s", S, SC, 11, 12, 0);
	cr_expect_null(vfs_migmodel_next(m, false));
	g = vfs_migmodel_next(m, true);
	cr_assert_not_null(g);
	cr_expect_eq(g->status, VFS_MM_INCOMPLETE);
	vfs_migmodel_free(m);
}

Test(migmodel, json_events_as_vfiosnoop_writes_them)
{
	struct json_object *o;
	struct vfs_mm_event e;
	char err[128];

	o = json_tokener_parse("{\"event\":\"mig_arc\",\"ts_ns\":5,\"pid\":12,\"tid\":12,"
			       "\"comm\":\"vfio-exercise\",\"cgroup_id\":1,\"device\":\"u1\","
			       "\"from\":\"STOP_COPY\",\"to\":\"STOP\",\"start_ns\":3,"
			       "\"end_ns\":4,\"tier\":2,\"ret\":-5,\"errno\":\"EIO\"}");
	cr_assert_eq(vfs_mm_event_from_json(o, &e, err, sizeof(err)), 1, "%s", err);
	cr_expect_eq(e.kind, VFS_MM_ARC);
	cr_expect_eq(e.from, VFS_MIG_STOP_COPY);
	cr_expect_eq(e.to, VFS_MIG_STOP);
	cr_expect_eq(e.ret, -5);
	cr_expect_eq(e.pid, 12);
	cr_expect_str_eq(e.dev, "u1");
	json_object_put(o);
	o = json_tokener_parse("{\"event\":\"mig_data\",\"ts_ns\":5,\"pid\":12,"
			       "\"device\":\"u1\",\"dir\":\"write\",\"bytes\":9,\"ret\":9}");
	cr_assert_eq(vfs_mm_event_from_json(o, &e, err, sizeof(err)), 1, "%s", err);
	cr_expect(e.write);
	cr_expect_eq(e.ret, 9);
	json_object_put(o);
	o = json_tokener_parse("{\"event\":\"lost\",\"reason\":\"ringbuf\",\"count\":1}");
	cr_expect_eq(vfs_mm_event_from_json(o, &e, err, sizeof(err)), 0);
	json_object_put(o);
	o = json_tokener_parse("{\"event\":\"mig_arc\",\"ts_ns\":5,\"pid\":12,\"device\":\"u\","
			       "\"from\":\"FLYING\",\"to\":\"STOP\",\"start_ns\":1,\"end_ns\":2,"
			       "\"ret\":0}");
	cr_expect_eq(vfs_mm_event_from_json(o, &e, err, sizeof(err)), -1);
	cr_expect(strstr(err, "FLYING") != NULL, "%s", err);
	json_object_put(o);
}

Test(migmodel, raw_events_from_the_ring_buffer)
{
	struct vfs_ev_mig_arc a = { 0 };
	struct vfs_mm_event e;

	a.hdr.type = VFS_EV_MIG_ARC;
	a.hdr.size = sizeof(a);
	a.hdr.tgid = 77;
	a.from = VFS_MIG_RUNNING;
	a.to = VFS_MIG_STOP;
	a.start_ns = 1;
	a.end_ns = 2;
	memcpy(a.dev, "0000:00:03.0", 12);
	cr_assert_eq(vfs_mm_event_from_raw(&a.hdr, sizeof(a), &e), 1);
	cr_expect_eq(e.pid, 77);
	cr_expect_str_eq(e.dev, "0000:00:03.0");
	cr_expect_eq(vfs_mm_event_from_raw(&a.hdr, sizeof(a) - 1, &e), -1);
}

static void arc_named(struct vfs_migmodel *m, __u32 pid, const char *comm, const char *dev,
		      __u32 from, __u32 to, __u64 t0_ms, __u64 t1_ms)
{
	struct vfs_mm_event e = { .kind = VFS_MM_ARC, .pid = pid, .from = from, .to = to,
				  .start_ns = t0_ms * MS, .end_ns = t1_ms * MS,
				  .ts_ns = t1_ms * MS };

	strcpy(e.dev, dev);
	strcpy(e.comm, comm);
	cr_assert_eq(vfs_migmodel_feed(m, &e), 0);
}

/*
 * A local migration: each VM's incoming side is another process with the
 * VM's name. vmB's destination resumes first, but takes vmB's source, not
 * the older source of vmA.
 */
Test(migmodel, destination_pairs_by_vm_name)
{
	struct vfs_migmodel *m = vfs_migmodel_new();
	const struct vfs_mm_migration *a, *b;

	arc_named(m, 10, "vmA", "a-src", R, S, 1, 2);
	arc_named(m, 10, "vmA", "a-src", S, SC, 2, 3);
	arc_named(m, 10, "vmA", "a-src", SC, S, 5, 6);
	arc_named(m, 20, "vmB", "b-src", R, S, 7, 8);
	arc_named(m, 20, "vmB", "b-src", S, SC, 8, 9);
	arc_named(m, 20, "vmB", "b-src", SC, S, 10, 11);
	arc_named(m, 21, "vmB", "b-dst", S, RS, 12, 13);
	arc_named(m, 21, "vmB", "b-dst", RS, S, 14, 15);
	arc_named(m, 21, "vmB", "b-dst", S, R, 15, 16);
	arc_named(m, 11, "vmA", "a-dst", S, RS, 20, 21);
	arc_named(m, 11, "vmA", "a-dst", RS, S, 22, 23);
	arc_named(m, 11, "vmA", "a-dst", S, R, 23, 24);
	a = vfs_migmodel_next(m, false);
	b = vfs_migmodel_next(m, false);
	cr_assert(a && b);
	cr_expect_str_eq(b->comm, "vmB");
	cr_expect_str_eq(b->pairs[0].dst->dev, "b-dst");
	cr_expect_eq(b->downtime_ns, 9 * MS);	/* 7 -> 16 */
	cr_expect_str_eq(a->comm, "vmA");
	cr_expect_str_eq(a->pairs[0].dst->dev, "a-dst");
	cr_expect_eq(a->downtime_ns, 23 * MS);	/* 1 -> 24 */
	vfs_migmodel_free(m);
}

/*
 * One side per host: the source host's VM of two devices is one migration,
 * complete when its last device is saved (not at the first one's end,
 * though that device is done before the second is asked for STOP_COPY).
 */
Test(migmodel, unpaired_source_host)
{
	struct vfs_migmodel *m = vfs_migmodel_new();
	const struct vfs_mm_migration *g;

	vfs_migmodel_set_local_pairing(m, false);
	arc(m, 5, "s1", R, S, 0, 1, 0);
	arc(m, 5, "s2", R, S, 1, 2, 0);
	arc(m, 5, "s1", S, SC, 2, 3, 0);
	arc(m, 5, "s1", SC, S, 10, 11, 0);
	cr_expect_null(vfs_migmodel_next(m, false), "s2 is stopped, not saved yet");
	arc(m, 5, "s2", S, SC, 11, 12, 0);
	arc(m, 5, "s2", SC, S, 20, 21, 0);
	g = vfs_migmodel_next(m, false);
	cr_assert_not_null(g);
	cr_expect_eq(g->status, VFS_MM_DONE);
	cr_expect_eq(g->npairs, 2);
	cr_expect_null(g->pairs[0].dst);
	cr_expect_eq(g->pairs[1].src->stop_copy_end_ns, 21 * MS);
	cr_expect(!g->has_downtime);
	/* the destination host: a lone destination, done when it runs */
	arc(m, 6, "d1", S, RS, 30, 31, 0);
	arc(m, 6, "d1", RS, S, 32, 33, 0);
	cr_expect_null(vfs_migmodel_next(m, false));
	arc(m, 6, "d1", S, R, 33, 34, 0);
	g = vfs_migmodel_next(m, false);
	cr_assert_not_null(g);
	cr_expect_null(g->pairs[0].src);
	cr_expect_eq(g->pairs[0].dst->running_ns, 34 * MS);
	vfs_migmodel_free(m);
}
