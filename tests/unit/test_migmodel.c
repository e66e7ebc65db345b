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
	/* the recorder's losses travel with the events, for the reader to say */
	o = json_tokener_parse("{\"event\":\"lost\",\"reason\":\"ringbuf\",\"count\":7}");
	cr_assert_eq(vfs_mm_event_from_json(o, &e, err, sizeof(err)), 1, "%s", err);
	cr_expect_eq(e.kind, VFS_MM_LOST);
	cr_expect_eq(e.bytes, 7);
	cr_expect_str_eq(e.why, "ringbuf");
	json_object_put(o);
	o = json_tokener_parse("{\"event\":\"lost\",\"reason\":\"ringbuf\",\"count\":-1}");
	cr_expect_eq(vfs_mm_event_from_json(o, &e, err, sizeof(err)), -1);
	json_object_put(o);
	o = json_tokener_parse("{\"event\":\"vm_name\",\"pid\":1}");
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

static void data_named(struct vfs_migmodel *m, __u32 pid, const char *comm, const char *dev,
		       bool write, __u64 ts_ms, __s64 ret)
{
	struct vfs_mm_event e = { .kind = VFS_MM_DATA, .pid = pid, .write = write,
				  .bytes = 65536, .ret = ret, .ts_ns = ts_ms * MS };

	strcpy(e.dev, dev);
	strcpy(e.comm, comm);
	cr_assert_eq(vfs_migmodel_feed(m, &e), 0);
}

/*
 * A VMM's live migration on one host, as QEMU does it: two processes of
 * the same name; the incoming side enters RESUMING when the stream begins
 * (t0 + 5), long before the source stops; the source pre-copies, polling
 * its data fd (ENOMSG: no data right now) and saves BYTES in all; the
 * destination writes them and runs. With @bytes_known false, neither
 * driver reports data.
 */
static void qemu_like(struct vfs_migmodel *m, __u32 spid, __u32 dpid, const char *s,
		      const char *d, __u64 t0, __s64 bytes, bool bytes_known)
{
	const char *q = "qemu-system-x86";

	arc_named(m, dpid, q, d, R, S, t0 + 4, t0 + 5);
	arc_named(m, dpid, q, d, S, RS, t0 + 5, t0 + 6);
	arc_named(m, spid, q, s, R, PC, t0 + 10, t0 + 11);
	if (bytes_known) {
		data_named(m, spid, q, s, false, t0 + 12, 16);
		data_named(m, spid, q, s, false, t0 + 13, -ENOMSG);
		data_named(m, spid, q, s, false, t0 + 14, -ENOMSG);
		data_named(m, dpid, q, d, true, t0 + 15, 16);
		data_named(m, spid, q, s, false, t0 + 20, -ENOMSG);
	}
	arc_named(m, spid, q, s, PC, SC, t0 + 50, t0 + 51);		/* the blackout starts */
	if (bytes_known) {
		data_named(m, spid, q, s, false, t0 + 52, bytes - 16);
		data_named(m, spid, q, s, false, t0 + 53, 0);
	}
	arc_named(m, spid, q, s, SC, S, t0 + 53, t0 + 54);		/* saved */
	if (bytes_known)
		data_named(m, dpid, q, d, true, t0 + 60, bytes - 16);	/* the rest arrives */
	arc_named(m, dpid, q, d, RS, S, t0 + 70, t0 + 71);
	arc_named(m, dpid, q, d, S, R, t0 + 71, t0 + 72);
}

Test(migmodel, two_processes_pair_by_time_and_bytes)
{
	struct vfs_migmodel *m = vfs_migmodel_new();
	const struct vfs_mm_migration *g;
	const struct vfs_mm_pair *p;

	qemu_like(m, 100, 200, "0000:00:03.0", "0000:00:04.0", 1000, 64, true);
	g = vfs_migmodel_next(m, false);
	cr_assert_not_null(g, "printed when the destination runs");
	cr_expect_eq(g->status, VFS_MM_DONE);
	cr_expect_eq(g->pid, 100);
	cr_expect_eq(g->dst_pid, 200);
	cr_expect_str_eq(g->dst_comm, "qemu-system-x86");
	cr_assert_eq(g->npairs, 1);
	p = &g->pairs[0];
	cr_assert_not_null(p->dst);
	cr_expect_str_eq(p->dst->dev, "0000:00:04.0");
	cr_expect(p->has_downtime);
	cr_expect_eq(p->downtime_ns, 22 * MS);		/* 1050 -> 1072 */
	cr_expect_eq(p->stop_copy_ns, 4 * MS);		/* 1050 -> 1054 */
	/* it waited in RESUMING since 1005: loading this state starts at the write at 1060 */
	cr_expect_eq(p->load_ns, 1060 * MS);
	cr_expect_eq(p->transfer_ns, 6 * MS);		/* 1054 -> 1060 */
	cr_expect_eq(p->resume_ns, 12 * MS);		/* 1060 -> 1072 */
	cr_expect_eq(p->share_ns, (4 + 11) * MS);	/* 1050..1054 + 1060..1071 */
	cr_expect_eq(g->downtime_ns, 22 * MS);
	cr_expect_eq(g->stop_copy_ns + g->transfer_ns + g->resume_ns, g->downtime_ns);
	cr_expect_eq(g->transfer_ns, 6 * MS);
	cr_expect_eq(p->src->bytes_read, 64);
	cr_expect_eq(p->dst->bytes_written, 64);
	cr_expect_eq(p->src->data_polls, 3);
	cr_expect_eq(p->src->data_errors, 0);
	/* nothing left over: not the source (postmigrate STOP), not the destination alone */
	cr_expect_null(vfs_migmodel_next(m, true));
	vfs_migmodel_free(m);
}

/* the bytes are what tells two simultaneous migrations of one VMM name apart */
Test(migmodel, two_migrations_at_once_pair_by_bytes)
{
	struct vfs_migmodel *m = vfs_migmodel_new();
	const struct vfs_mm_migration *a, *b;

	/* both sources saved before either destination runs; B's runs first */
	arc_named(m, 11, "qemu", "a-dst", S, RS, 1, 2);
	arc_named(m, 21, "qemu", "b-dst", S, RS, 1, 2);
	arc_named(m, 10, "qemu", "a-src", R, SC, 10, 11);
	data_named(m, 10, "qemu", "a-src", false, 12, 100);
	arc_named(m, 20, "qemu", "b-src", R, SC, 12, 13);
	data_named(m, 20, "qemu", "b-src", false, 14, 200);
	arc_named(m, 10, "qemu", "a-src", SC, S, 15, 16);
	arc_named(m, 20, "qemu", "b-src", SC, S, 17, 18);
	data_named(m, 21, "qemu", "b-dst", true, 19, 200);
	data_named(m, 11, "qemu", "a-dst", true, 20, 100);
	arc_named(m, 21, "qemu", "b-dst", RS, R, 25, 26);
	b = vfs_migmodel_next(m, false);
	cr_assert_not_null(b);
	cr_expect_eq(b->pid, 20);
	cr_expect_eq(b->dst_pid, 21);
	cr_expect_str_eq(b->pairs[0].dst->dev, "b-dst");
	cr_expect_null(vfs_migmodel_next(m, false), "A's destination does not run yet");
	arc_named(m, 11, "qemu", "a-dst", RS, R, 27, 28);
	a = vfs_migmodel_next(m, false);
	cr_assert_not_null(a);
	cr_expect_eq(a->pid, 10);
	cr_expect_eq(a->dst_pid, 11);
	cr_expect_str_eq(a->pairs[0].dst->dev, "a-dst");
	cr_expect_null(vfs_migmodel_next(m, true));
	vfs_migmodel_free(m);
}

/* equal bytes and equal names: two VMs could have sent it, so none is guessed */
Test(migmodel, two_migrations_at_once_equal_bytes_stay_unpaired)
{
	struct vfs_migmodel *m = vfs_migmodel_new();
	const struct vfs_mm_migration *g;
	int src_only = 0;

	arc_named(m, 11, "qemu", "a-dst", S, RS, 1, 2);
	arc_named(m, 10, "qemu", "a-src", R, SC, 10, 11);
	data_named(m, 10, "qemu", "a-src", false, 12, 64);
	arc_named(m, 20, "qemu", "b-src", R, SC, 12, 13);
	data_named(m, 20, "qemu", "b-src", false, 14, 64);
	arc_named(m, 10, "qemu", "a-src", SC, S, 15, 16);
	arc_named(m, 20, "qemu", "b-src", SC, S, 17, 18);
	data_named(m, 11, "qemu", "a-dst", true, 20, 64);
	arc_named(m, 11, "qemu", "a-dst", RS, R, 25, 26);
	g = vfs_migmodel_next(m, false);
	cr_assert_not_null(g, "the destination is reported, alone");
	cr_expect_eq(g->pid, 11);
	cr_expect_null(g->pairs[0].src);
	cr_expect(!g->has_downtime);
	while ((g = vfs_migmodel_next(m, true))) {
		cr_expect_null(g->pairs[0].dst);
		cr_expect_eq(g->status, VFS_MM_INCOMPLETE);
		src_only++;
	}
	cr_expect_eq(src_only, 2);
	vfs_migmodel_free(m);
}

/* a source saved after the destination ran is not its source (time order) */
Test(migmodel, a_source_saved_after_the_destination_runs_is_not_paired)
{
	struct vfs_migmodel *m = vfs_migmodel_new();
	const struct vfs_mm_migration *g;

	arc_named(m, 11, "qemu", "d", S, RS, 1, 2);
	arc_named(m, 11, "qemu", "d", RS, R, 5, 6);
	g = vfs_migmodel_next(m, false);
	cr_assert_not_null(g);
	cr_expect_null(g->pairs[0].src);
	arc_named(m, 10, "qemu", "s", R, SC, 10, 11);
	arc_named(m, 10, "qemu", "s", SC, S, 15, 16);
	cr_expect_null(vfs_migmodel_next(m, false));
	g = vfs_migmodel_next(m, true);
	cr_assert_not_null(g);
	cr_expect_null(g->pairs[0].dst);
	vfs_migmodel_free(m);
}

/* source pid 10 reads 64 bytes, destination pid 11 writes 48, times fitting */
static void unequal_streams(struct vfs_migmodel *m)
{
	arc_named(m, 11, "qemu", "d", S, RS, 1, 2);
	arc_named(m, 10, "qemu", "s", R, SC, 10, 11);
	data_named(m, 10, "qemu", "s", false, 12, 64);
	arc_named(m, 10, "qemu", "s", SC, S, 15, 16);
	data_named(m, 11, "qemu", "d", true, 20, 48);
	arc_named(m, 11, "qemu", "d", RS, R, 25, 26);
}

/* different bytes: not the same stream, however well the times fit */
Test(migmodel, different_bytes_are_not_paired)
{
	struct vfs_migmodel *m = vfs_migmodel_new();
	const struct vfs_mm_migration *g;

	unequal_streams(m);
	g = vfs_migmodel_next(m, false);
	cr_assert_not_null(g);
	cr_expect_eq(g->pid, 11);
	cr_expect_null(g->pairs[0].src);
	vfs_migmodel_free(m);
}

/*
 * A stream that lost events (a recording's "lost" records: a preemptible
 * kernel skipped a probe run) may miss a data event: unequal bytes no
 * longer decide; time order and the one candidate still pair them.
 */
Test(migmodel, lossy_stream_pairs_despite_different_bytes)
{
	struct vfs_migmodel *m = vfs_migmodel_new();
	const struct vfs_mm_migration *g;

	vfs_migmodel_set_lossy(m, true);
	unequal_streams(m);
	g = vfs_migmodel_next(m, false);
	cr_assert_not_null(g);
	cr_expect_eq(g->pid, 10);
	cr_assert_eq(g->npairs, 1);
	cr_assert_not_null(g->pairs[0].src);
	cr_assert_not_null(g->pairs[0].dst);
	cr_expect_eq(g->pairs[0].src->bytes_read, 64);
	cr_expect_eq(g->pairs[0].dst->bytes_written, 48);
	vfs_migmodel_free(m);
}

/*
 * Bytes unknown (drivers without the data tracepoint): one saved source is
 * paired by time order alone, and the gap ends at the save (no write to
 * date the load by); two VMs' sources could be it: unpaired.
 */
Test(migmodel, bytes_unknown_pairs_by_time_order_only_when_one_vm_fits)
{
	struct vfs_migmodel *m = vfs_migmodel_new();
	const struct vfs_mm_migration *g;

	qemu_like(m, 100, 200, "s", "d", 0, 0, false);
	g = vfs_migmodel_next(m, false);
	cr_assert_not_null(g);
	cr_expect_eq(g->dst_pid, 200);
	cr_expect_eq(g->pairs[0].downtime_ns, 22 * MS);
	cr_expect_eq(g->pairs[0].load_ns, 54 * MS);
	cr_expect_eq(g->pairs[0].transfer_ns, 0);
	cr_expect_eq(g->pairs[0].resume_ns, 18 * MS);
	vfs_migmodel_free(m);

	m = vfs_migmodel_new();
	arc_named(m, 11, "qemu", "d", S, RS, 1, 2);
	arc_named(m, 10, "qemu", "s1", R, SC, 10, 11);
	arc_named(m, 20, "qemu", "s2", R, SC, 10, 11);
	arc_named(m, 10, "qemu", "s1", SC, S, 15, 16);
	arc_named(m, 20, "qemu", "s2", SC, S, 15, 16);
	arc_named(m, 11, "qemu", "d", RS, R, 25, 26);
	g = vfs_migmodel_next(m, false);
	cr_assert_not_null(g);
	cr_expect_null(g->pairs[0].src, "two VMs fit: undecided");
	vfs_migmodel_free(m);
}

/* a VM of two devices between two processes: n-th destination to run, n-th source saved */
Test(migmodel, two_device_vm_between_two_processes)
{
	struct vfs_migmodel *m = vfs_migmodel_new();
	const struct vfs_mm_migration *g;

	arc_named(m, 2, "qemu", "d1", S, RS, 1, 2);
	arc_named(m, 2, "qemu", "d2", S, RS, 1, 2);
	arc_named(m, 1, "qemu", "s1", R, SC, 10, 11);
	arc_named(m, 1, "qemu", "s2", R, SC, 10, 11);
	data_named(m, 1, "qemu", "s1", false, 12, 64);
	data_named(m, 1, "qemu", "s2", false, 13, 64);
	arc_named(m, 1, "qemu", "s1", SC, S, 14, 15);
	arc_named(m, 1, "qemu", "s2", SC, S, 15, 16);
	data_named(m, 2, "qemu", "d1", true, 20, 64);
	data_named(m, 2, "qemu", "d2", true, 21, 64);
	arc_named(m, 2, "qemu", "d1", RS, R, 25, 26);
	cr_expect_null(vfs_migmodel_next(m, false), "d2 does not run yet");
	arc_named(m, 2, "qemu", "d2", RS, R, 26, 27);
	g = vfs_migmodel_next(m, false);
	cr_assert_not_null(g);
	cr_assert_eq(g->npairs, 2);
	cr_expect_str_eq(g->pairs[0].dst->dev, "d1");
	cr_expect_str_eq(g->pairs[1].dst->dev, "d2");
	cr_expect(g->has_downtime);
	cr_expect_eq(g->downtime_ns, 17 * MS);		/* 10 -> 27 */
	cr_expect_null(vfs_migmodel_next(m, true), "no destination-only leftover");
	vfs_migmodel_free(m);
}

/* ENOMSG is "no data right now" only in PRE_COPY: in STOP_COPY it is an error */
Test(migmodel, enomsg_in_precopy_is_a_poll)
{
	struct vfs_migmodel *m = vfs_migmodel_new();
	const struct vfs_mm_session *s;

	arc(m, 9, "s", R, PC, 10, 11, 0);
	data(m, 9, "s", false, 12, -ENOMSG);
	data(m, 9, "s", false, 13, -ENOMSG);
	data(m, 9, "s", false, 14, -EIO);		/* a real failure, even in PRE_COPY */
	data(m, 9, "s", false, 15, 16);
	arc(m, 9, "s", PC, SC, 20, 21, 0);
	data(m, 9, "s", false, 22, -ENOMSG);		/* not pre-copy: an error */
	data(m, 9, "s", false, 23, 48);
	arc(m, 9, "s", SC, S, 24, 25, 0);
	arc(m, 9, "p", R, PCP, 30, 31, 0);		/* PRE_COPY_P2P polls too */
	data(m, 9, "p", false, 32, -ENOMSG);
	s = vfs_migmodel_session(m, 0);
	cr_assert_not_null(s);
	cr_expect_eq(s->data_polls, 2);
	cr_expect_eq(s->data_errors, 2);
	cr_expect_eq(s->data_events, 6);
	cr_expect_eq(s->bytes_read, 64);
	s = vfs_migmodel_session(m, 1);
	cr_assert_not_null(s);
	cr_expect_eq(s->data_polls, 1);
	cr_expect_eq(s->data_errors, 0);
	vfs_migmodel_free(m);
}

/*
 * The stream flows as the source is read: the destination writes the
 * stop-copy data before the source's STOP_COPY -> STOP ends. Loading began
 * before the save ended: no gap. Its pre-copy write (before the stop) does
 * not count as loading.
 */
Test(migmodel, load_while_the_source_still_saves_leaves_no_gap)
{
	struct vfs_migmodel *m = vfs_migmodel_new();
	const struct vfs_mm_migration *g;
	const char *q = "qemu-system-x86";

	arc_named(m, 2, q, "d", R, S, 1, 2);
	arc_named(m, 2, q, "d", S, RS, 2, 3);
	arc_named(m, 1, q, "s", R, PC, 5, 6);
	data_named(m, 1, q, "s", false, 7, 16);
	data_named(m, 2, q, "d", true, 8, 16);
	arc_named(m, 1, q, "s", PC, SC, 20, 21);
	data_named(m, 1, q, "s", false, 22, 48);
	data_named(m, 2, q, "d", true, 24, 48);
	arc_named(m, 1, q, "s", SC, S, 26, 27);
	arc_named(m, 2, q, "d", RS, S, 30, 31);
	arc_named(m, 2, q, "d", S, R, 31, 32);
	g = vfs_migmodel_next(m, false);
	cr_assert_not_null(g);
	cr_expect_eq(g->pairs[0].load_ns, 27 * MS);
	cr_expect_eq(g->pairs[0].stop_copy_ns, 7 * MS);	/* 20 -> 27 */
	cr_expect_eq(g->pairs[0].transfer_ns, 0);
	cr_expect_eq(g->pairs[0].resume_ns, 5 * MS);		/* 27 -> 32 */
	cr_expect_eq(g->pairs[0].share_ns, (7 + 4) * MS);	/* 20..27 + 27..31 */
	vfs_migmodel_free(m);
}

static void vm_exit(struct vfs_migmodel *m, __u32 pid, __u64 ts_ms)
{
	struct vfs_mm_event e = { .kind = VFS_MM_EXIT, .pid = pid, .ts_ns = ts_ms * MS };

	strcpy(e.comm, "qemu");
	cr_assert_eq(vfs_migmodel_feed(m, &e), 0);
}

/* QEMU's incoming side (pid 20) killed while RESUMING, the source (10) in PRE_COPY */
static void killed_destination(struct vfs_migmodel *m, bool with_exit)
{
	arc(m, 20, "dst-dev", R, S, 100, 102, 0);
	arc(m, 10, "src-dev", R, PC, 101, 105, 0);
	arc(m, 20, "dst-dev", S, RS, 102, 110, 0);
	data(m, 10, "src-dev", false, 120, -ENOMSG);
	if (with_exit)
		vm_exit(m, 20, 600);
	/* the stream broke: QEMU brings its device back */
	arc(m, 10, "src-dev", PC, R, 660, 661, 0);
}

Test(migmodel, killed_destination_fails_one_migration)
{
	struct vfs_migmodel *m = vfs_migmodel_new();
	const struct vfs_mm_migration *g;

	killed_destination(m, true);
	g = vfs_migmodel_next(m, false);
	cr_assert_not_null(g, "reported when the source is back in RUNNING");
	cr_expect_eq(g->status, VFS_MM_FAILED);
	cr_expect_eq(g->pid, 10);
	cr_expect_eq(g->dst_pid, 20);
	cr_expect_eq(g->err_side, VFS_MM_DEST);
	cr_expect(g->err_exited);
	cr_expect_eq(g->err, 0);
	cr_expect_str_eq(g->err_dev, "dst-dev");
	cr_assert_not_null(g->err_arc);
	cr_expect_eq(g->err_arc->from, S);
	cr_expect_eq(g->err_arc->to, RS);
	cr_assert_eq(g->npairs, 1);
	cr_expect_eq(g->pairs[0].src->status, VFS_MM_CANCELLED);
	cr_expect_eq(g->pairs[0].src->arcs[g->pairs[0].src->narcs - 1].to, R);
	cr_expect_eq(g->pairs[0].src->data_polls, 1);
	cr_expect_not(g->has_downtime);
	cr_expect_null(vfs_migmodel_next(m, true), "one migration, not two");
	vfs_migmodel_free(m);
}

Test(migmodel, killed_destination_without_exit_events_stays_apart)
{
	struct vfs_migmodel *m = vfs_migmodel_new();
	const struct vfs_mm_migration *g;

	killed_destination(m, false);
	g = vfs_migmodel_next(m, false);
	cr_assert_not_null(g);
	cr_expect_eq(g->status, VFS_MM_CANCELLED);
	g = vfs_migmodel_next(m, true);
	cr_assert_not_null(g);
	cr_expect_eq(g->status, VFS_MM_INCOMPLETE);
	cr_expect_eq(g->pid, 20);
	vfs_migmodel_free(m);
}

Test(migmodel, exit_of_a_vm_not_migrating_changes_nothing)
{
	struct vfs_migmodel *m = vfs_migmodel_new();

	arc(m, 30, "dev", R, S, 10, 11, 0);
	vm_exit(m, 30, 20);
	vm_exit(m, 31, 21);
	cr_expect_null(vfs_migmodel_next(m, true));
	vfs_migmodel_free(m);
}

/*
 * Learned f_ops: bytes an fd moved before the collector attached arrive
 * with the first event after it (unseen), or alone when the fd is released
 * (ret 0); they count in the totals and in bytes_unseen. The VMM's
 * GET_PRECOPY_INFO answers give the convergence; a failed one is counted
 * apart and changes no figure.
 */
Test(migmodel, unseen_bytes_and_precopy_info)
{
	struct vfs_migmodel *m = vfs_migmodel_new();
	struct vfs_mm_event e = { .kind = VFS_MM_DATA, .pid = 9, .bytes = 65536 };
	const struct vfs_mm_session *s;
	const struct { __u64 ts, initial, dirty; __s64 ret; } pi[] = {
		{ 12, 100, 0, 0 }, { 13, 60, 8, 0 }, { 14, 0, 0, -EINVAL }, { 15, 0, 4, 0 },
	};
	size_t i;

	arc(m, 9, "s", R, PC, 10, 11, 0);
	for (i = 0; i < 4; i++) {
		struct vfs_mm_event p = { .kind = VFS_MM_PRECOPY, .pid = 9, .ts_ns = pi[i].ts * MS,
					  .initial_bytes = pi[i].initial,
					  .dirty_bytes = pi[i].dirty, .ret = pi[i].ret };

		strcpy(p.dev, "s");
		cr_assert_eq(vfs_migmodel_feed(m, &p), 0);
	}
	/* 40 bytes moved before the attach, 60 seen */
	strcpy(e.dev, "s");
	e.ts_ns = 16 * MS;
	e.ret = 60;
	e.unseen = 40;
	cr_assert_eq(vfs_migmodel_feed(m, &e), 0);
	arc(m, 9, "s", PC, SC, 20, 21, 0);
	data(m, 9, "s", false, 22, 8);
	arc(m, 9, "s", SC, S, 24, 25, 0);
	/* a resuming fd whose every write went before the attach: its release */
	arc(m, 9, "d", R, S, 30, 31, 0);
	arc(m, 9, "d", S, RS, 32, 33, 0);
	strcpy(e.dev, "d");
	e.write = true;
	e.bytes = 0;
	e.ret = 0;
	e.unseen = 108;
	e.ts_ns = 34 * MS;
	cr_assert_eq(vfs_migmodel_feed(m, &e), 0);
	arc(m, 9, "d", RS, S, 35, 36, 0);
	arc(m, 9, "d", S, R, 36, 37, 0);

	s = vfs_migmodel_session(m, 0);
	cr_assert_not_null(s);
	cr_expect_eq(s->bytes_read, 108);
	cr_expect_eq(s->bytes_unseen, 40);
	cr_expect_eq(s->data_errors, 0);
	cr_expect_eq(s->precopy_queries, 3);
	cr_expect_eq(s->precopy_errors, 1);
	cr_expect_eq(s->precopy_initial_first, 100);
	cr_expect_eq(s->precopy_initial_last, 0);
	cr_expect_eq(s->precopy_dirty_last, 4);
	cr_expect_eq(s->precopy_dirty_max, 8);
	cr_expect_eq(s->precopy_last_ns - s->precopy_first_ns, 3 * MS);
	s = vfs_migmodel_session(m, 1);
	cr_assert_not_null(s);
	cr_expect_eq(s->bytes_written, 108);
	cr_expect_eq(s->bytes_unseen, 108);
	cr_expect_eq(s->data_errors, 0);
	vfs_migmodel_free(m);
}

/* what vfiosnoop -j writes for the two, read back */
Test(migmodel, json_precopy_and_unseen)
{
	struct json_object *o;
	struct vfs_mm_event e;
	char err[128];

	o = json_tokener_parse("{\"event\":\"mig_precopy\",\"ts_ns\":5,\"pid\":12,\"device\":\"x\","
			       "\"initial_bytes\":24,\"dirty_bytes\":3,\"ret\":0}");
	cr_assert_eq(vfs_mm_event_from_json(o, &e, err, sizeof(err)), 1, "%s", err);
	cr_expect_eq(e.kind, VFS_MM_PRECOPY);
	cr_expect_eq(e.initial_bytes, 24);
	cr_expect_eq(e.dirty_bytes, 3);
	json_object_put(o);
	o = json_tokener_parse("{\"event\":\"mig_data\",\"ts_ns\":5,\"pid\":12,\"device\":\"x\","
			       "\"dir\":\"read\",\"bytes\":8,\"ret\":8,\"unseen\":-1}");
	cr_expect_eq(vfs_mm_event_from_json(o, &e, err, sizeof(err)), -1);
	json_object_put(o);
	o = json_tokener_parse("{\"event\":\"mig_data\",\"ts_ns\":5,\"pid\":12,\"device\":\"x\","
			       "\"dir\":\"read\",\"bytes\":8,\"ret\":8,\"unseen\":30}");
	cr_assert_eq(vfs_mm_event_from_json(o, &e, err, sizeof(err)), 1, "%s", err);
	cr_expect_eq(e.unseen, 30);
	json_object_put(o);
}
