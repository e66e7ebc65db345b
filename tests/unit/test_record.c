// SPDX-License-Identifier: GPL-2.0
/*
 * The rows model fed by hand (no BPF), its recordings and their replay:
 * a replay reproduces the rows, and a damaged file stops at the bad line
 * with FILE:LINE and a reason.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli.h"
#include "model.h"
#include "record.h"
#include "mdevcap.h"

#define SEC 1000000000ull

static void test_namer(void *user, __u32 pid, const struct vfs_vm_info *vi, const char *comm,
		       char *out, size_t len)
{
	snprintf(out, len, "vm-%u", pid);
}

static void put(struct vfs_map_buf *b, __u32 ks, __u32 vs, const void *k, const void *v)
{
	b->key_size = ks;
	b->value_size = vs;
	if (b->n == b->cap) {
		b->cap = b->cap ? b->cap * 2 : 8;
		b->keys = realloc(b->keys, b->cap * ks);
		b->vals = realloc(b->vals, b->cap * vs);
		cr_assert(b->keys && b->vals);
	}
	memcpy((char *)b->keys + b->n * ks, k, ks);
	memcpy((char *)b->vals + b->n * vs, v, vs);
	b->n++;
}

/* frame @i of a synthetic workload: two VMs, one device, one queue */
static void fill(struct vfs_model *m, unsigned int i)
{
	struct vfs_cmd_key ck = { .obj = 0xffff1000, .tgid = 100, .cmd = 0x3b6e, .kind = VFS_FD_DEVICE };
	struct vfs_cmd_val cv = { .count = 1000ull * i, .errors = i, .lat_sum_ns = 5000ull * i };
	struct vfs_vm_info vi = { .first_ns = 1, .locked_pages = 256 };
	struct vfs_obj_info oi = { .kind = VFS_FD_DEVICE, .owner_tgid = 100, .group_id = 7 };
	struct vfs_vq_key qk = { .obj = 0xffff2000, .qid = 1, .path = VFS_VDPA_PATH_VHOST };
	struct vfs_vq_val qv = { .kicks = 50ull * i, .calls = 40ull * i };
	struct vfs_errno_key ek = { .obj = 0xffff1000, .tgid = 100, .cmd = 0x3b6e, .err = 22,
				    .kind = VFS_FD_DEVICE };
	__u64 errs = i;
	__u32 pid;
	__u64 obj = 0xffff1000;
	int k;

	for (k = 0; k < VFS_IN_MAX; k++)
		m->map[k].n = 0;
	cv.hist[10] = 600 * i;
	cv.hist[12] = 400 * i;
	put(&m->map[VFS_IN_IOCTL], sizeof(ck), sizeof(cv), &ck, &cv);
	ck.tgid = 200;
	ck.obj = 0xffff3000;
	cv.count = 7;
	cv.errors = 0;
	put(&m->map[VFS_IN_IOCTL], sizeof(ck), sizeof(cv), &ck, &cv);
	strcpy(vi.comm, "qemu-a");
	pid = 100;
	put(&m->map[VFS_IN_VMINFO], sizeof(pid), sizeof(vi), &pid, &vi);
	strcpy(vi.comm, "qemu-b");
	pid = 200;
	put(&m->map[VFS_IN_VMINFO], sizeof(pid), sizeof(vi), &pid, &vi);
	strcpy(oi.name, "0000:00:05.0");
	put(&m->map[VFS_IN_OBJ], sizeof(obj), sizeof(oi), &obj, &oi);
	put(&m->map[VFS_IN_VQ], sizeof(qk), sizeof(qv), &qk, &qv);
	put(&m->map[VFS_IN_ERRNO], sizeof(ek), sizeof(errs), &ek, &errs);
	/* what a live frame's sysfs scan found: one mdev type, changing */
	memset(&m->mdev->types[0], 0, sizeof(m->mdev->types[0]));
	strcpy(m->mdev->types[0].parent, "mdacc0");
	strcpy(m->mdev->types[0].type, "mdacc-1q");
	strcpy(m->mdev->types[0].name, "1 queue");
	strcpy(m->mdev->types[0].api, "vfio-pci");
	strcpy(m->mdev->types[0].creators, "vm-a:1");
	m->mdev->types[0].available = 8 - i;
	m->mdev->types[0].instances = i;
	m->mdev->types[0].low = 8 - i;
	m->mdev->types[0].seen = true;
	m->mdev->ntypes = 1;
}

static void model(struct vfs_model *m)
{
	cr_assert_eq(vfs_model_init(m, NULL), 0);
	m->namer = test_namer;
	m->page_size = 4096;
}

static char *tmp_path(void)
{
	static char path[64];
	int fd;

	snprintf(path, sizeof(path), "/tmp/vfs-rec-XXXXXX");
	fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	close(fd);
	return path;
}

/* the lifecycle event of frame 2 (a name that needs JSON escaping) */
static struct vfs_ev_vdpa vdpa_add(void)
{
	struct vfs_ev_vdpa ev = { .hdr = { .type = VFS_EV_VDPA, .version = 1, .size = sizeof(ev),
					   .ts_ns = SEC, .tgid = 100 },
				  .op = VFS_VDPA_ADD };

	strcpy(ev.hdr.comm, "vdpa \"tool\"");
	strcpy(ev.name, "vdpa0");
	return ev;
}

/* a recording of @frames frames, with one lifecycle event in frame 2 */
static char *record(unsigned int frames)
{
	struct vfs_model m;
	struct vfs_rec r;
	char err[256] = "", *path = tmp_path();
	unsigned int i;

	model(&m);
	cr_assert_eq(vfs_rec_open(&r, path, err, sizeof(err)), 0, "%s", err);
	for (i = 1; i <= frames; i++) {
		fill(&m, i);
		if (i == 2) {
			struct vfs_ev_vdpa ev = vdpa_add();

			cr_assert_eq(vfs_model_event(&m, &ev.hdr, sizeof(ev)), 0);
			vfs_rec_event(&r, &ev.hdr, sizeof(ev));
		}
		cr_assert_eq(vfs_model_compute(&m, i * SEC, 1700000000ull * SEC + i * SEC), 0);
		cr_assert_eq(vfs_rec_frame(&r, &m, err, sizeof(err)), 0, "%s", err);
	}
	cr_assert_eq(vfs_rec_close(&r, err, sizeof(err)), 0);
	vfs_model_free(&m);
	return path;
}

Test(top_model, rows_rates_and_views)
{
	struct vfs_model m;
	struct vfs_drill d;
	const struct vfs_vm_row *a;

	model(&m);
	fill(&m, 1);
	cr_assert_eq(vfs_model_compute(&m, SEC, SEC), 0);
	cr_assert_eq(m.nvms, 2);
	cr_assert_eq(m.ndevs, 1);
	cr_assert_eq(m.nvqs, 1);
	cr_assert(isnan(m.vms[0].ioctl_rate), "no rate on the first frame");
	fill(&m, 3);
	cr_assert_eq(vfs_model_compute(&m, 3 * SEC, 3 * SEC), 0);
	a = m.view[VFS_VIEW_VMS].rows[0];	/* most ioctls first */
	cr_assert_eq(a->pid, 100);
	cr_assert_str_eq(a->name, "vm-100");
	cr_assert_eq(a->ioctls, 3000);
	cr_assert_float_eq(a->ioctl_rate, 1000.0, 1e-9, "2000 ioctls in 2 s");
	cr_assert_eq(a->pinned_bytes, 256 * 4096);
	cr_assert_eq(a->devices, 1);
	cr_assert_float_eq(m.vqs[0].kick_rate, 50.0, 1e-9);
	cr_assert_float_eq(m.vqs[0].call_rate, 40.0, 1e-9);
	cr_assert_eq(m.vqs[0].stalls, 0, "kicked and called back: no stall");
	cr_assert(vfs_model_drill(&m, VFS_VIEW_VMS, a, &d));
	cr_assert_eq(d.ncmd, 1);
	cr_assert_eq(d.cmd[0].count, 3000);
	cr_assert_eq(d.cmd[0].hist[12], 1200);
	cr_assert_eq(d.nerr, 1);
	cr_assert_eq(d.err[0].err, 22);
	cr_assert_eq(d.err[0].count, 3);
	cr_assert(vfs_model_drill(&m, VFS_VIEW_DEVICES, m.view[VFS_VIEW_DEVICES].rows[0], &d));
	cr_assert_eq(d.ncmd, 1, "the other VM's ioctls are on another object");
	cr_assert_not(vfs_model_drill(&m, VFS_VIEW_QUEUES, m.view[VFS_VIEW_QUEUES].rows[0], &d));
	vfs_model_free(&m);
}

Test(top_model, latency_quantiles_never_above_the_slowest_call)
{
	struct vfs_model m;
	const struct vfs_dev_row *d;

	model(&m);
	fill(&m, 1);	/* 600 calls in slot 10, 400 in slot 12 (4096..8191 ns) */
	((struct vfs_cmd_val *)VFS_MAP_BUF_VAL(&m.map[VFS_IN_IOCTL], struct vfs_cmd_val, 0))
		->lat_max_ns = 5000;
	cr_assert_eq(vfs_model_compute(&m, SEC, SEC), 0);
	d = m.view[VFS_VIEW_DEVICES].rows[0];
	cr_assert_eq(d->p50_ns, 1 << 11, "the median's slot bound is below the max: kept");
	cr_assert_eq(d->p99_ns, 5000, "slot 12's bound (8192) capped at the slowest call");
	vfs_model_free(&m);
}

/* the device's resets: every cause and result counted, the newest one's duration */
Test(top_model, device_reset_columns)
{
	struct vfs_reset_key k = { .obj = 0xffff1000, .tgid = 100, .method = VFS_RESET_FLR,
				   .cause = VFS_RESET_C_IOCTL };
	struct vfs_reset_val v = { .count = 3, .last_ns = 5 * SEC, .last_dur_ns = 102000000 };
	struct vfs_model m;
	const struct vfs_dev_row *d;
	const struct vfs_vm_row *a;

	model(&m);
	fill(&m, 1);
	put(&m.map[VFS_IN_RESET], sizeof(k), sizeof(v), &k, &v);
	k.cause = VFS_RESET_C_RELEASE;
	v.count = 1;
	v.last_ns = 6 * SEC;
	v.last_dur_ns = 99000000;
	put(&m.map[VFS_IN_RESET], sizeof(k), sizeof(v), &k, &v);
	k.method = VFS_RESET_NONE;
	k.cause = VFS_RESET_C_OPEN;
	k.ret = -25;
	v.count = 2;
	v.last_ns = 4 * SEC;
	v.last_dur_ns = 1000;
	put(&m.map[VFS_IN_RESET], sizeof(k), sizeof(v), &k, &v);
	/* a reset no VFIO call caused, of a PCI device no VFIO device has: its VM only */
	k.obj = 0;
	put(&m.map[VFS_IN_RESET], sizeof(k), sizeof(v), &k, &v);
	/* one of the VFIO device's PCI device (sysfs "reset"): the device by name */
	strcpy(k.dev, "0000:00:05.0");
	k.method = VFS_RESET_FLR;
	k.cause = VFS_RESET_C_OTHER;
	k.ret = 0;
	v.count = 1;
	v.last_ns = 7 * SEC;
	v.last_dur_ns = 100000000;
	put(&m.map[VFS_IN_RESET], sizeof(k), sizeof(v), &k, &v);
	cr_assert_eq(vfs_model_compute(&m, SEC, SEC), 0);
	cr_assert_eq(m.ndevs, 1);
	d = &m.devs[0];
	cr_assert_eq(d->resets, 7);
	cr_assert_eq(d->reset_fails, 2);
	cr_assert_eq(d->last_reset_ns, 100000000, "the sysfs reset, which ended last");
	a = m.vms[0].pid == 100 ? &m.vms[0] : &m.vms[1];
	cr_assert_eq(a->resets, 9);
	vfs_model_free(&m);
}

/* IOMMU faults: on the VFIO device and the VM that owned it when they came */
Test(top_model, iommu_fault_columns)
{
	struct vfs_fault_key k = { .obj = 0xffff1000, .tgid = 100, .sid = 0x28, .reason = 6,
				   .flags = VFS_FAULT_F_READ };
	struct vfs_fault_val v = { .count = 7 };
	const struct vfs_vm_row *a, *b;
	struct vfs_model m;

	model(&m);
	fill(&m, 1);
	put(&m.map[VFS_IN_FAULT], sizeof(k), sizeof(v), &k, &v);
	/* the same device under VM 200 later: its own faults, not VM 100's */
	k.tgid = 200;
	v.count = 2;
	put(&m.map[VFS_IN_FAULT], sizeof(k), sizeof(v), &k, &v);
	/* a requester no VFIO device has: nobody's row */
	k.obj = 0;
	k.tgid = 0;
	k.sid = 0x10;
	v.count = 5;
	put(&m.map[VFS_IN_FAULT], sizeof(k), sizeof(v), &k, &v);
	cr_assert_eq(vfs_model_compute(&m, SEC, SEC), 0);
	cr_assert_eq(m.ndevs, 1);
	cr_expect_eq(m.devs[0].iommu_faults, 9);
	a = m.vms[0].pid == 100 ? &m.vms[0] : &m.vms[1];
	b = m.vms[0].pid == 100 ? &m.vms[1] : &m.vms[0];
	cr_expect_eq(a->iommu_faults, 7);
	cr_expect_eq(b->iommu_faults, 2);
	/* the next frame counts afresh: the map holds totals */
	fill(&m, 2);
	put(&m.map[VFS_IN_FAULT], sizeof(k), sizeof(v), &k, &v);
	cr_assert_eq(vfs_model_compute(&m, 2 * SEC, 2 * SEC), 0);
	cr_expect_eq(m.devs[0].iommu_faults, 0);
	vfs_model_free(&m);
}

Test(top_model, a_kicked_queue_without_calls_stalls)
{
	struct vfs_model m;

	model(&m);
	fill(&m, 1);
	cr_assert_eq(vfs_model_compute(&m, SEC, SEC), 0);
	fill(&m, 2);
	cr_assert_eq(vfs_model_compute(&m, 2 * SEC, 2 * SEC), 0);
	cr_assert_eq(m.vqs[0].stalls, 0);
	/* frame 3: more kicks, the calls of frame 2 */
	fill(&m, 3);
	VFS_MAP_BUF_VAL(&m.map[VFS_IN_VQ], struct vfs_vq_val, 0)->calls = 80;
	cr_assert_eq(vfs_model_compute(&m, 3 * SEC, 3 * SEC), 0);
	cr_assert_eq(m.vqs[0].stalls, 1);
	/* frame 4: nothing kicked, nothing called: idle, not stalled */
	fill(&m, 3);
	VFS_MAP_BUF_VAL(&m.map[VFS_IN_VQ], struct vfs_vq_val, 0)->calls = 80;
	cr_assert_eq(vfs_model_compute(&m, 4 * SEC, 4 * SEC), 0);
	cr_assert_eq(m.vqs[0].stalls, 1);
	vfs_model_free(&m);
}

Test(top_model, lost_events_make_an_event_row)
{
	struct vfs_model m;
	const struct vfs_event_row *e;

	model(&m);
	vfs_model_lost(&m, 0);
	vfs_model_lost(&m, 5);
	vfs_model_lost(&m, 5);
	cr_assert_eq(vfs_model_compute(&m, SEC, SEC), 0);
	cr_assert_eq(m.view[VFS_VIEW_EVENTS].n, 1);
	e = m.view[VFS_VIEW_EVENTS].rows[0];
	cr_assert_str_eq(e->text, "lost 5 events (ring buffer full), 5 in all");
	cr_assert_eq(m.lost, 5);
	vfs_model_free(&m);
}

Test(top_replay, reproduces_the_recorded_rows)
{
	char *path = record(4), err[256] = "";
	struct vfs_model a, b;
	struct vfs_replay p;
	unsigned int i;
	size_t v, r, f;

	model(&a);
	model(&b);
	cr_assert_eq(vfs_replay_open(&p, path, &b, err, sizeof(err)), 0, "%s", err);
	for (i = 1; i <= 4; i++) {
		fill(&a, i);
		if (i == 2) {
			struct vfs_ev_vdpa ev = vdpa_add();

			vfs_model_event(&a, &ev.hdr, sizeof(ev));
		}
		vfs_model_compute(&a, i * SEC, 1700000000ull * SEC + i * SEC);
		cr_assert_eq(vfs_replay_next(&p, &b, err, sizeof(err)), 1, "%s", err);
		cr_assert_eq(b.frame, a.frame);
		cr_assert_eq(b.rt_ns, a.rt_ns);
		for (v = 0; v < VFS_VIEW_MAX; v++) {
			const struct vfs_table *ta = &a.view[v], *tb = &b.view[v];

			cr_assert_eq(ta->n, tb->n, "view %s", vfs_view_name(v));
			for (r = 0; r < ta->n; r++)
				for (f = 0; f < ta->nfields; f++) {
					char x[192], y[192];

					vfs_field_text(&ta->fields[f], ta->rows[r], x, sizeof(x));
					vfs_field_text(&tb->fields[f], tb->rows[r], y, sizeof(y));
					cr_assert_str_eq(x, y, "frame %u view %s field %s", i,
							 vfs_view_name(v), ta->fields[f].key);
				}
		}
	}
	cr_assert_eq(b.view[VFS_VIEW_EVENTS].n, 1);
	cr_assert_eq(vfs_replay_next(&p, &b, err, sizeof(err)), 0, "the end");
	vfs_replay_close(&p);
	vfs_model_free(&a);
	vfs_model_free(&b);
	unlink(path);
}

/* replay @path to its end: the error of the first bad line, or "" */
static void replay_error(const char *path, char *err, size_t len)
{
	struct vfs_model m;
	struct vfs_replay p;
	int rc;

	err[0] = 0;
	model(&m);
	if (!vfs_replay_open(&p, path, &m, err, len)) {
		while ((rc = vfs_replay_next(&p, &m, err, len)) == 1)
			;
		if (rc == 0)
			err[0] = 0;
	}
	vfs_replay_close(&p);
	vfs_model_free(&m);
}

/* keep the first @bytes of @path, or replace line @line with @text */
static void damage(const char *path, long bytes, int line, const char *text)
{
	FILE *f = fopen(path, "r+");
	char *buf = NULL, *all = NULL;
	size_t cap = 0, alen = 0;
	ssize_t n;
	int l = 0;

	cr_assert_not_null(f);
	if (bytes >= 0) {
		cr_assert_eq(ftruncate(fileno(f), bytes), 0);
		fclose(f);
		return;
	}
	while ((n = getline(&buf, &cap, f)) > 0) {
		const char *s = ++l == line ? text : buf;

		all = realloc(all, alen + strlen(s) + 1);
		memcpy(all + alen, s, strlen(s) + 1);
		alen += strlen(s);
	}
	rewind(f);
	cr_assert_eq(ftruncate(fileno(f), 0), 0);
	fputs(all, f);
	fclose(f);
	free(buf);
	free(all);
}

/* replay @path to its end: the writer, the frames, the last frame's VM ioctls */
static void replay_all(const char *path, char *writer, size_t wlen, unsigned int *frames,
		       __u64 *ioctls)
{
	struct vfs_model m;
	struct vfs_replay p;
	char err[256] = "";
	size_t i;
	int rc;

	model(&m);
	cr_assert_eq(vfs_replay_open(&p, path, &m, err, sizeof(err)), 0, "%s", err);
	snprintf(writer, wlen, "%s", p.writer);
	*frames = 0;
	while ((rc = vfs_replay_next(&p, &m, err, sizeof(err))) == 1)
		++*frames;
	cr_assert_eq(rc, 0, "%s", err);
	*ioctls = 0;
	for (i = 0; i < m.nvms; i++)
		*ioctls += m.vms[i].ioctls;
	vfs_replay_close(&p);
	vfs_model_free(&m);
}

Test(top_replay, header_names_the_writer_and_older_recordings_still_read)
{
	char *path = record(3), *line = NULL, *at, *end, want[160], writer[128], old[128];
	unsigned int frames, old_frames;
	__u64 ioctls, old_ioctls;
	size_t cap = 0;
	FILE *f;

	snprintf(want, sizeof(want), "\"writer\":\"vfiotop %s\",", vfs_version);
	f = fopen(path, "r");
	cr_assert_not_null(f);
	cr_assert_gt(getline(&line, &cap, f), 0);
	fclose(f);
	at = strstr(line, want);
	cr_assert_not_null(at, "header without the writer: %s", line);
	replay_all(path, writer, sizeof(writer), &frames, &ioctls);
	snprintf(want, sizeof(want), "vfiotop %s", vfs_version);
	cr_assert_str_eq(writer, want);
	cr_assert_eq(frames, 3);
	cr_assert_gt(ioctls, 0);

	/* the same recording as written before the field existed */
	end = strchr(at + strlen("\"writer\":\""), '"');
	memmove(at, end + 2, strlen(end + 2) + 1);
	cr_assert_null(strstr(line, "writer"));
	damage(path, -1, 1, line);
	replay_all(path, old, sizeof(old), &old_frames, &old_ioctls);
	cr_assert_str_eq(old, "");
	cr_assert_eq(old_frames, frames);
	cr_assert_eq(old_ioctls, ioctls);
	free(line);
	unlink(path);
}

Test(top_replay, truncated_file_names_file_and_line)
{
	char *path = record(3), err[256], want[128];
	FILE *f = fopen(path, "r");
	long size;

	fseek(f, 0, SEEK_END);
	size = ftell(f);
	fclose(f);
	damage(path, size - 40, 0, NULL);
	replay_error(path, err, sizeof(err));
	snprintf(want, sizeof(want), "%s:4: truncated: the last line has no end", path);
	cr_assert_str_eq(err, want);
	unlink(path);
}

#define STR_(x) #x
#define STR(x) STR_(x)
#define ABI_STR STR(VFS_ABI_VERSION)

Test(top_replay, corrupt_lines_are_named)
{
	static const struct { int line; const char *text, *want; } cases[] = {
		{ 1, "{\"format\":\"other\"}\n", "1: not a vfiotop recording" },
		{ 1, "{\"format\":\"vfiotop-record\",\"version\":9}\n", "1: recording format version not supported" },
		{ 1, "{\"format\":\"vfiotop-record\",\"version\":1,\"abi\":" ABI_STR ",\"page_size\":4096,"
		     "\"maps\":{\"ioctl_stats\":{\"key_size\":8,\"value_size\":160}}}\n",
		  "1: map \"ioctl_stats\": key_size/value_size are not 24/160" },
		{ 1, "{\"format\":\"vfiotop-record\",\"version\":1,\"abi\":" ABI_STR ",\"writer\":7,"
		     "\"page_size\":4096,\"maps\":{}}\n", "1: \"writer\" is not a string" },
		{ 2, "{\"frame\":1,\n", "2: not a JSON line" },
		{ 2, "[1,2]\n", "2: not a JSON object" },
		{ 2, "{\"frame\":1,\"ts_ns\":1}\n", "2: a frame needs" },
		{ 3, "{\"frame\":5,\"ts_ns\":9000000000,\"rt_ns\":1,\"lost\":0,\"names\":[],"
		     "\"maps\":{},\"events\":[]}\n", "3: frame 5 out of order (after frame 1)" },
		{ 2, "{\"frame\":1,\"ts_ns\":1,\"rt_ns\":1,\"lost\":0,\"names\":[],"
		     "\"maps\":{\"vq_stats\":[\"00\"]},\"events\":[]}\n",
		  "2: map \"vq_stats\" entry 0: 2 hex digits, expected 64" },
		{ 2, "{\"frame\":1,\"ts_ns\":1,\"rt_ns\":1,\"lost\":0,\"names\":[],\"maps\":{},"
		     "\"events\":[\"0100\"]}\n", "2: event 0: 4 hex digits, not an event" },
		{ 2, "{\"frame\":1,\"ts_ns\":1,\"rt_ns\":1,\"lost\":0,\"names\":[[1]],"
		     "\"maps\":{},\"events\":[]}\n", "2: \"names\" entry 0 is not [pid, \"name\"]" },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *path = record(3), err[256], want[256];

		damage(path, -1, cases[i].line, cases[i].text);
		replay_error(path, err, sizeof(err));
		snprintf(want, sizeof(want), "%s:%s", path, cases[i].want);
		cr_assert(!strncmp(err, want, strlen(want)), "case %zu: '%s', want '%s...'", i,
			  err, want);
		unlink(path);
	}
}

Test(top_replay, empty_and_missing_files)
{
	char *path = tmp_path(), err[256], want[128];

	replay_error(path, err, sizeof(err));
	snprintf(want, sizeof(want), "%s:0: empty file, not a vfiotop recording", path);
	cr_assert_str_eq(err, want);
	unlink(path);
	replay_error("/nonexistent/rec", err, sizeof(err));
	cr_assert_str_eq(err, "--replay: cannot open /nonexistent/rec: No such file or directory");
}

/* an exited VM and a removed device: marked while in the maps, then gone */
Test(top_model, exited_and_gone_rows_are_marked_then_dropped)
{
	struct vfs_model m;
	struct vfs_vm_info *vi;
	struct vfs_obj_info *oi;
	size_t capvms, capdevs;

	model(&m);
	fill(&m, 1);
	cr_assert_eq(vfs_model_compute(&m, SEC, SEC), 0);
	cr_assert_str_eq(m.vms[0].state, "running");
	cr_assert_str_eq(m.devs[0].state, "live");

	/* pid 100 exited and its device was removed: both still counted */
	fill(&m, 2);
	vi = VFS_MAP_BUF_VAL(&m.map[VFS_IN_VMINFO], struct vfs_vm_info, 0);
	vi->exit_ns = 2 * SEC;
	oi = VFS_MAP_BUF_VAL(&m.map[VFS_IN_OBJ], struct vfs_obj_info, 0);
	oi->gone_ns = 2 * SEC;
	cr_assert_eq(vfs_model_compute(&m, 2 * SEC, 2 * SEC), 0);
	cr_assert_eq(m.nvms, 2);
	cr_assert_eq(m.vms[0].pid, 100);
	cr_assert_str_eq(m.vms[0].state, "exited");
	cr_assert_str_eq(m.vms[1].state, "running");
	cr_assert_eq(m.ndevs, 1);
	cr_assert_str_eq(m.devs[0].state, "gone");
	cr_assert_eq(m.vms[0].ioctls, 2000, "an exited VM keeps its counts while shown");

	/* collected: every entry of pid 100 and of the device left the maps */
	capvms = m.capvms;
	capdevs = m.capdevs;
	fill(&m, 3);
	m.map[VFS_IN_IOCTL].n = 0;
	m.map[VFS_IN_ERRNO].n = 0;
	m.map[VFS_IN_OBJ].n = 0;
	*VFS_MAP_BUF_KEY(&m.map[VFS_IN_VMINFO], __u32, 0) = 200;
	m.map[VFS_IN_VMINFO].n = 1;
	cr_assert_eq(vfs_model_compute(&m, 3 * SEC, 3 * SEC), 0);
	cr_assert_eq(m.nvms, 1);
	cr_assert_eq(m.vms[0].pid, 200);
	cr_assert_eq(m.view[VFS_VIEW_VMS].n, 1);
	cr_assert_eq(m.ndevs, 0);
	cr_assert_eq(m.view[VFS_VIEW_DEVICES].n, 0);
	cr_assert_eq(m.capvms, capvms, "dropping rows allocates nothing");
	cr_assert_eq(m.capdevs, capdevs);
	vfs_model_free(&m);
}

/*
 * A VM whose counters were read before its vm_info entry (the maps are
 * read apart) and whose process is gone by then: named from what vm_info
 * captured once the entry is read
 */
Test(top_model, vm_named_from_capture_when_its_info_comes_late)
{
	static const char argv[] = "qemu\0-name\0guest=late-vm,debug-threads=on";
	struct vfs_cmd_key ck = { .obj = 0xffff1000, .tgid = 4194303, .cmd = 0x3b6e,
				  .kind = VFS_FD_DEVICE };
	struct vfs_cmd_val cv = { .count = 3 };
	struct vfs_vm_info vi = { .first_ns = 5, .exit_ns = 6 };
	struct vfs_model m;
	__u32 pid = ck.tgid;

	cr_assert_eq(vfs_model_init(&m, NULL), 0);	/* the default namer */
	m.page_size = 4096;
	put(&m.map[VFS_IN_IOCTL], sizeof(ck), sizeof(cv), &ck, &cv);
	m.map[VFS_IN_VMINFO].key_size = sizeof(pid);
	m.map[VFS_IN_VMINFO].value_size = sizeof(vi);
	cr_assert_eq(vfs_model_compute(&m, SEC, SEC), 0);
	cr_assert_eq(m.nvms, 1);
	cr_expect_str_eq(m.vms[0].name, "?", "nothing known of it yet");

	memcpy(vi.argv, argv, sizeof(argv));
	vi.argv_len = vi.arg_len = sizeof(argv);
	strcpy(vi.comm, "qemu-kvm");
	put(&m.map[VFS_IN_VMINFO], sizeof(pid), sizeof(vi), &pid, &vi);
	cr_assert_eq(vfs_model_compute(&m, 2 * SEC, 2 * SEC), 0);
	cr_assert_eq(m.nvms, 1);
	cr_expect_str_eq(m.vms[0].name, "late-vm");
	cr_expect_str_eq(m.vms[0].comm, "qemu-kvm");
	cr_expect_eq(m.vms[0].ioctls, 3, "the row is the same, its counts kept");
	/* kept while the row lives, not resolved again */
	cr_assert_eq(vfs_model_compute(&m, 3 * SEC, 3 * SEC), 0);
	cr_expect_str_eq(m.vms[0].name, "late-vm");
	vfs_model_free(&m);
}

/*
 * RLIMIT_MEMLOCK headroom: type1 (locked_vm) and vhost-vdpa (pinned_vm)
 * are held to the limit apart, so the smaller of the two (vhost-vdpa's
 * where it pins); CAP_IPC_LOCK frees type1's ledger only; no limit read
 * yet: unknown; unlimited: inf.
 */
Test(top_model, memlock_limit_and_headroom)
{
	static const struct {
		__u64 limit, locked, vhost;
		__u32 flags;
		__u64 want_limit, want_headroom;
	} c[] = {
		{ 8 << 20, 256, 0, VFS_MEMLOCK_KNOWN, 8 << 20, (8 << 20) - (256 << 12) },
		{ 8 << 20, 256, 1024, VFS_MEMLOCK_KNOWN, 8 << 20, (8 << 20) - (1024 << 12) },
		{ 8 << 20, 4096, 0, VFS_MEMLOCK_KNOWN, 8 << 20, 0 },	/* over: mlock() */
		{ 8 << 20, 4096, 256, VFS_MEMLOCK_KNOWN | VFS_MEMLOCK_BYPASS, 8 << 20,
		  (8 << 20) - (256 << 12) },
		{ 8 << 20, 4096, 0, VFS_MEMLOCK_KNOWN | VFS_MEMLOCK_BYPASS, 8 << 20, VFS_LIMIT_INF },
		{ ~0ull, 256, 256, VFS_MEMLOCK_KNOWN, VFS_LIMIT_INF, VFS_LIMIT_INF },
		{ 8 << 20, 256, 0, 0, VFS_LIMIT_UNKNOWN, VFS_LIMIT_UNKNOWN },
	};
	struct vfs_vm_info vi = { .first_ns = 1 };
	const struct vfs_field *f;
	struct json_object *o, *v;
	struct vfs_model m;
	char buf[32];
	__u32 pid = 300;
	size_t i;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		model(&m);
		vi.memlock_limit = c[i].limit;
		vi.locked_pages = c[i].locked;
		vi.vhost_pinned_pages = c[i].vhost;
		vi.memlock_flags = c[i].flags;
		put(&m.map[VFS_IN_VMINFO], sizeof(pid), sizeof(vi), &pid, &vi);
		cr_assert_eq(vfs_model_compute(&m, SEC, SEC), 0);
		cr_assert_eq(m.nvms, 1);
		cr_expect_eq(m.vms[0].memlock_limit, c[i].want_limit, "case %zu", i);
		cr_expect_eq(m.vms[0].memlock_headroom, c[i].want_headroom, "case %zu: %llu", i,
			     (unsigned long long)m.vms[0].memlock_headroom);
		f = &vfs_vm_fields[vfs_field_find(vfs_vm_fields, vfs_vm_nfields, "memlock_headroom")];
		o = json_object_new_object();
		vfs_field_json(f, &m.vms[0], o);
		cr_assert(json_object_object_get_ex(o, "memlock_headroom", &v));
		vfs_field_text(f, &m.vms[0], buf, sizeof(buf));
		if (c[i].want_headroom == VFS_LIMIT_UNKNOWN) {
			cr_expect_null(v);
			cr_expect_str_eq(buf, "-");
		} else if (c[i].want_headroom == VFS_LIMIT_INF) {
			cr_expect_eq(json_object_get_int64(v), -1);
			cr_expect_str_eq(buf, "unlim");
		} else {
			cr_expect_eq(json_object_get_uint64(v), c[i].want_headroom);
		}
		json_object_put(o);
		vfs_model_free(&m);
	}
}
