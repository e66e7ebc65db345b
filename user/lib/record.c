// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* vfiotop --record / --replay: see record.h for the format. */
#include "cli.h"
#include "record.h"
#include "identity.h"
#include "mdevcap.h"
#include "vec.h"
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

static const char hexd[] = "0123456789abcdef";

static void hex_out(FILE *f, const void *p, size_t n)
{
	const unsigned char *b = p;
	size_t i;

	for (i = 0; i < n; i++) {
		fputc(hexd[b[i] >> 4], f);
		fputc(hexd[b[i] & 15], f);
	}
}

static int hex_val(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* @n bytes from 2n hex digits; false on a bad digit */
static bool hex_in(const char *s, void *out, size_t n)
{
	unsigned char *b = out;
	size_t i;

	for (i = 0; i < n; i++) {
		int hi = hex_val(s[2 * i]), lo = hex_val(s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return false;
		b[i] = (unsigned char)(hi << 4 | lo);
	}
	return true;
}

/* ---------------------------------------------------------------- writer */

int vfs_rec_open(struct vfs_rec *r, const char *path, char *err, size_t len)
{
	memset(r, 0, sizeof(*r));
	r->path = path;
	r->f = fopen(path, "w");
	if (!r->f) {
		snprintf(err, len, "--record: cannot create %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* the header, once the first read has told the maps' sizes */
static void rec_header(struct vfs_rec *r, const struct vfs_model *m)
{
	int i, n = 0;

	fprintf(r->f, "{\"format\":\"vfiotop-record\",\"version\":%d,\"abi\":%d,"
		"\"writer\":\"vfiotop %s\",\"page_size\":%ld,\"maps\":{", VFS_RECORD_VERSION,
		VFS_ABI_VERSION, vfs_version, m->page_size);
	for (i = 0; i < VFS_IN_MAX; i++) {
		if (!m->map[i].key_size)
			continue;
		fprintf(r->f, "%s\"%s\":{\"key_size\":%u,\"value_size\":%u}", n++ ? "," : "",
			vfs_model_map_names[i], m->map[i].key_size, m->map[i].value_size);
	}
	fprintf(r->f, "}}\n");
	r->header = true;
}

void vfs_rec_event(struct vfs_rec *r, const struct vfs_event_hdr *ev, size_t size)
{
	size_t need = r->evlen + 2 * size + 4, i;
	const unsigned char *b = (const void *)ev;

	if (need > r->evcap) {
		size_t c = r->evcap ? r->evcap : 4096;
		char *p;

		while (c < need)
			c *= 2;
		p = realloc(r->ev, c);
		if (!p) {
			r->failed = true;	/* reported by the next frame */
			return;
		}
		r->ev = p;
		r->evcap = c;
	}
	if (r->evlen)
		r->ev[r->evlen++] = ',';
	r->ev[r->evlen++] = '"';
	for (i = 0; i < size; i++) {
		r->ev[r->evlen++] = hexd[b[i] >> 4];
		r->ev[r->evlen++] = hexd[b[i] & 15];
	}
	r->ev[r->evlen++] = '"';
}

int vfs_rec_frame(struct vfs_rec *r, const struct vfs_model *m, char *err, size_t len)
{
	size_t i, j;
	int n = 0;

	if (r->failed) {
		snprintf(err, len, "--record: out of memory keeping events for %s", r->path);
		return -1;
	}
	if (!r->header)
		rec_header(r, m);
	fprintf(r->f, "{\"frame\":%llu,\"ts_ns\":%llu,\"rt_ns\":%llu,\"lost\":%llu,\"names\":[",
		(unsigned long long)m->frame, (unsigned long long)m->ts_ns,
		(unsigned long long)m->rt_ns, (unsigned long long)m->lost);
	for (i = 0; i < m->nvms; i++) {
		struct json_object *s = json_object_new_string(m->vms[i].name);

		fprintf(r->f, "%s[%llu,%s]", i ? "," : "", (unsigned long long)m->vms[i].pid,
			json_object_to_json_string_ext(s, JSON_C_TO_STRING_PLAIN));
		json_object_put(s);
	}
	fprintf(r->f, "],\"maps\":{");
	for (i = 0; i < VFS_IN_MAX; i++) {
		const struct vfs_map_buf *b = &m->map[i];

		if (!b->key_size)
			continue;
		fprintf(r->f, "%s\"%s\":[", n++ ? "," : "", vfs_model_map_names[i]);
		for (j = 0; j < b->n; j++) {
			fputs(j ? ",\"" : "\"", r->f);
			hex_out(r->f, (const char *)b->keys + j * b->key_size, b->key_size);
			hex_out(r->f, (const char *)b->vals + j * b->value_size, b->value_size);
			fputc('"', r->f);
		}
		fputc(']', r->f);
	}
	/* the mdev view as this frame had it: sysfs, which a replay cannot read */
	fputs("},\"mdev\":[", r->f);
	for (i = 0; m->mdev && i < m->mdev->ntypes; i++) {
		fputs(i ? ",\"" : "\"", r->f);
		hex_out(r->f, &m->mdev->types[i], sizeof(m->mdev->types[i]));
		fputc('"', r->f);
	}
	fprintf(r->f, "],\"events\":[%.*s]}\n", (int)r->evlen, r->ev ? r->ev : "");
	r->evlen = 0;
	if (fflush(r->f) || ferror(r->f)) {
		snprintf(err, len, "--record: writing %s: %s", r->path, strerror(errno));
		return -1;
	}
	return 0;
}

int vfs_rec_close(struct vfs_rec *r, char *err, size_t len)
{
	int rc = 0;

	if (r->f && fclose(r->f)) {
		snprintf(err, len, "--record: writing %s: %s", r->path, strerror(errno));
		rc = -1;
	}
	free(r->ev);
	memset(r, 0, sizeof(*r));
	return rc;
}

/* ---------------------------------------------------------------- reader */

static int bad(struct vfs_replay *p, char *err, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int bad(struct vfs_replay *p, char *err, size_t len, const char *fmt, ...)
{
	char what[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	snprintf(err, len, "%s:%lu: %s", p->path, p->line, what);
	return -1;
}

/* the next line as JSON: 1, 0 at the end, -1 */
static int next_json(struct vfs_replay *p, struct json_object **out, char *err, size_t len)
{
	enum json_tokener_error jerr;
	ssize_t n;

	n = getline(&p->buf, &p->bufcap, p->f);
	if (n < 0) {
		if (ferror(p->f))
			return bad(p, err, len, "reading: %s", strerror(errno));
		return 0;
	}
	p->line++;
	if (n == 0 || p->buf[n - 1] != '\n')
		return bad(p, err, len, "truncated: the last line has no end");
	p->buf[n - 1] = 0;
	*out = json_tokener_parse_verbose(p->buf, &jerr);
	if (!*out)
		return bad(p, err, len, "not a JSON line: %s", json_tokener_error_desc(jerr));
	if (!json_object_is_type(*out, json_type_object)) {
		json_object_put(*out);
		return bad(p, err, len, "not a JSON object");
	}
	return 1;
}

static bool get_u64(struct json_object *o, const char *key, __u64 *v)
{
	struct json_object *x;

	if (!json_object_object_get_ex(o, key, &x) || !json_object_is_type(x, json_type_int))
		return false;
	errno = 0;
	*v = json_object_get_uint64(x);
	return !errno && !(json_object_get_int64(x) < 0);
}

static int map_index(const char *name)
{
	int i;

	for (i = 0; i < VFS_IN_MAX; i++)
		if (!strcmp(name, vfs_model_map_names[i]))
			return i;
	return -1;
}

/* the name the recording gives, else what its vm_info entry captured */
static void replay_namer(void *user, __u32 pid, const struct vfs_vm_info *vi, const char *comm,
			 char *out, size_t len)
{
	struct vfs_replay *p = user;
	size_t i;

	for (i = 0; i < p->nnames; i++)
		if (p->names[i].pid == pid) {
			snprintf(out, len, "%s", p->names[i].name);
			return;
		}
	if (vi)
		vfs_vm_name_seen(vi, out, len);
	else
		snprintf(out, len, "%s", comm);
}

int vfs_replay_open(struct vfs_replay *p, const char *path, struct vfs_model *m,
		    char *err, size_t len)
{
	struct json_object *h = NULL, *maps, *fmt;
	__u64 version, abi, page;
	int rc;

	memset(p, 0, sizeof(*p));
	p->path = path;
	p->f = fopen(path, "r");
	if (!p->f) {
		snprintf(err, len, "--replay: cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	rc = next_json(p, &h, err, len);
	if (rc == 0)
		return bad(p, err, len, "empty file, not a vfiotop recording");
	if (rc < 0)
		return -1;
	rc = -1;
	if (!json_object_object_get_ex(h, "format", &fmt) ||
	    !json_object_is_type(fmt, json_type_string) ||
	    strcmp(json_object_get_string(fmt), "vfiotop-record")) {
		bad(p, err, len, "not a vfiotop recording (no \"format\":\"vfiotop-record\")");
		goto out;
	}
	if (!get_u64(h, "version", &version) || version != VFS_RECORD_VERSION) {
		bad(p, err, len, "recording format version not supported (this vfiotop reads %d)",
		    VFS_RECORD_VERSION);
		goto out;
	}
	if (!get_u64(h, "abi", &abi)) {
		bad(p, err, len, "no \"abi\" version in the header");
		goto out;
	}
	if (abi != VFS_ABI_VERSION) {
		bad(p, err, len, "recorded with BPF ABI version %llu, this vfiotop has %d",
		    (unsigned long long)abi, VFS_ABI_VERSION);
		goto out;
	}
	/* which build wrote it: absent in recordings older than the field */
	if (json_object_object_get_ex(h, "writer", &fmt)) {
		if (!json_object_is_type(fmt, json_type_string)) {
			bad(p, err, len, "\"writer\" is not a string");
			goto out;
		}
		snprintf(p->writer, sizeof(p->writer), "%s", json_object_get_string(fmt));
	}
	if (!get_u64(h, "page_size", &page) || !page || page > (1u << 30)) {
		bad(p, err, len, "no valid \"page_size\" in the header");
		goto out;
	}
	if (!json_object_object_get_ex(h, "maps", &maps) ||
	    !json_object_is_type(maps, json_type_object)) {
		bad(p, err, len, "no \"maps\" object in the header");
		goto out;
	}
	{
		json_object_object_foreach(maps, name, spec) {
			int i = map_index(name);
			__u64 ks, vs;

			if (i < 0) {
				bad(p, err, len, "unknown map \"%s\" in the header", name);
				goto out;
			}
			if (!json_object_is_type(spec, json_type_object) ||
			    !get_u64(spec, "key_size", &ks) || !get_u64(spec, "value_size", &vs) ||
			    ks != vfs_model_map_sizes[i][0] || vs != vfs_model_map_sizes[i][1]) {
				bad(p, err, len, "map \"%s\": key_size/value_size are not %u/%u",
				    name, vfs_model_map_sizes[i][0], vfs_model_map_sizes[i][1]);
				goto out;
			}
			p->key_size[i] = (__u32)ks;
			p->value_size[i] = (__u32)vs;
		}
	}
	m->page_size = (long)page;
	m->namer = replay_namer;
	m->namer_user = p;
	rc = 0;
out:
	json_object_put(h);
	return rc;
}


static int load_map(struct vfs_replay *p, int i, struct json_object *arr,
		    struct vfs_map_buf *b, char *err, size_t len)
{
	size_t n = json_object_array_length(arr), ks = p->key_size[i], vs = p->value_size[i], j;

	b->key_size = ks;
	b->value_size = vs;
	b->n = 0;
	if (n > b->cap) {
		size_t kc = b->cap, vc = b->cap;

		if (vfs_grow(&b->keys, &kc, n, ks) || vfs_grow(&b->vals, &vc, n, vs))
			return bad(p, err, len, "out of memory");
		b->cap = kc < vc ? kc : vc;
	}
	for (j = 0; j < n; j++) {
		struct json_object *e = json_object_array_get_idx(arr, j);
		const char *s;

		if (!json_object_is_type(e, json_type_string))
			return bad(p, err, len, "map \"%s\" entry %zu is not a string",
				   vfs_model_map_names[i], j);
		s = json_object_get_string(e);
		if ((size_t)json_object_get_string_len(e) != 2 * (ks + vs))
			return bad(p, err, len, "map \"%s\" entry %zu: %d hex digits, expected %zu",
				   vfs_model_map_names[i], j, json_object_get_string_len(e),
				   2 * (ks + vs));
		if (!hex_in(s, (char *)b->keys + j * ks, ks) ||
		    !hex_in(s + 2 * ks, (char *)b->vals + j * vs, vs))
			return bad(p, err, len, "map \"%s\" entry %zu: not lowercase hex",
				   vfs_model_map_names[i], j);
	}
	b->n = n;
	return 0;
}

/* a frame's mdev rows (hostile: every string is cut to its buffer) */
static int load_mdev(struct vfs_replay *p, struct json_object *arr, struct vfs_mdevcap *c,
		     char *err, size_t len)
{
	size_t n = json_object_array_length(arr), j, rs = sizeof(c->types[0]);

	if (n > VFS_MDEV_TYPES_MAX)
		return bad(p, err, len, "%zu mdev types in a frame, at most %d", n,
			   VFS_MDEV_TYPES_MAX);
	for (j = 0; j < n; j++) {
		struct json_object *e = json_object_array_get_idx(arr, j);
		struct vfs_mdev_row *r = &c->types[j];

		if (!json_object_is_type(e, json_type_string) ||
		    (size_t)json_object_get_string_len(e) != 2 * rs ||
		    !hex_in(json_object_get_string(e), r, rs))
			return bad(p, err, len, "mdev row %zu: not %zu bytes in lowercase hex "
				   "(a recording of another vfiotop version?)", j, rs);
		r->parent[sizeof(r->parent) - 1] = 0;
		r->type[sizeof(r->type) - 1] = 0;
		r->name[sizeof(r->name) - 1] = 0;
		r->api[sizeof(r->api) - 1] = 0;
		r->creators[sizeof(r->creators) - 1] = 0;
		r->seen = true;
	}
	c->ntypes = n;
	return 0;
}

static int load_names(struct vfs_replay *p, struct json_object *arr, char *err, size_t len)
{
	size_t n = json_object_array_length(arr), j;

	if (vfs_grow((void **)&p->names, &p->capnames, n, sizeof(*p->names)))
		return bad(p, err, len, "out of memory");
	p->nnames = 0;
	for (j = 0; j < n; j++) {
		struct json_object *e = json_object_array_get_idx(arr, j), *pid, *name;

		if (!json_object_is_type(e, json_type_array) || json_object_array_length(e) != 2 ||
		    !json_object_is_type(pid = json_object_array_get_idx(e, 0), json_type_int) ||
		    !json_object_is_type(name = json_object_array_get_idx(e, 1), json_type_string) ||
		    json_object_get_int64(pid) < 0 || json_object_get_int64(pid) > UINT32_MAX)
			return bad(p, err, len, "\"names\" entry %zu is not [pid, \"name\"]", j);
		p->names[j].pid = (__u32)json_object_get_int64(pid);
		snprintf(p->names[j].name, sizeof(p->names[j].name), "%s",
			 json_object_get_string(name));
		p->nnames++;
	}
	return 0;
}

static int feed_events(struct vfs_replay *p, struct vfs_model *m, struct json_object *arr,
		       char *err, size_t len)
{
	size_t n = json_object_array_length(arr), j;

	for (j = 0; j < n; j++) {
		struct json_object *e = json_object_array_get_idx(arr, j);
		const struct vfs_event_hdr *h;
		size_t hl, sz;

		if (!json_object_is_type(e, json_type_string))
			return bad(p, err, len, "event %zu is not a string", j);
		hl = (size_t)json_object_get_string_len(e);
		sz = hl / 2;
		if (hl % 2 || sz < sizeof(struct vfs_event_hdr) || sz > 65536)
			return bad(p, err, len, "event %zu: %zu hex digits, not an event", j, hl);
		if (vfs_grow(&p->evbuf, &p->evcap, sz, 1))
			return bad(p, err, len, "out of memory");
		if (!hex_in(json_object_get_string(e), p->evbuf, sz))
			return bad(p, err, len, "event %zu: not lowercase hex", j);
		h = p->evbuf;
		if (h->size != sz)
			return bad(p, err, len, "event %zu: %zu bytes, its header says %u", j, sz,
				   h->size);
		if (vfs_model_event(m, h, sz))
			return bad(p, err, len, "out of memory");
	}
	return 0;
}

int vfs_replay_next(struct vfs_replay *p, struct vfs_model *m, char *err, size_t len)
{
	struct json_object *fr = NULL, *x;
	__u64 ts, rt, lost, frame;
	int rc, i;

	rc = next_json(p, &fr, err, len);
	if (rc <= 0)
		return rc;
	rc = -1;
	if (!get_u64(fr, "frame", &frame) || !get_u64(fr, "ts_ns", &ts) ||
	    !get_u64(fr, "rt_ns", &rt) || !get_u64(fr, "lost", &lost)) {
		bad(p, err, len, "a frame needs \"frame\", \"ts_ns\", \"rt_ns\" and \"lost\" "
		    "(non-negative integers)");
		goto out;
	}
	if (frame != m->frame + 1 || (m->frame && ts < m->ts_ns)) {
		bad(p, err, len, "frame %llu out of order (after frame %llu)",
		    (unsigned long long)frame, (unsigned long long)m->frame);
		goto out;
	}
	if (!json_object_object_get_ex(fr, "names", &x) ||
	    !json_object_is_type(x, json_type_array)) {
		bad(p, err, len, "no \"names\" array");
		goto out;
	}
	if (load_names(p, x, err, len))
		goto out;
	if (!json_object_object_get_ex(fr, "events", &x) ||
	    !json_object_is_type(x, json_type_array)) {
		bad(p, err, len, "no \"events\" array");
		goto out;
	}
	if (feed_events(p, m, x, err, len))
		goto out;
	vfs_model_lost(m, lost);
	if (!json_object_object_get_ex(fr, "maps", &x) || !json_object_is_type(x, json_type_object)) {
		bad(p, err, len, "no \"maps\" object");
		goto out;
	}
	for (i = 0; i < VFS_IN_MAX; i++)
		m->map[i].n = 0;
	{
		json_object_object_foreach(x, name, arr) {
			i = map_index(name);
			if (i < 0 || !p->key_size[i]) {
				bad(p, err, len, "map \"%s\" is not in the header", name);
				goto out;
			}
			if (!json_object_is_type(arr, json_type_array)) {
				bad(p, err, len, "map \"%s\" is not an array", name);
				goto out;
			}
			if (load_map(p, i, arr, &m->map[i], err, len))
				goto out;
		}
	}
	/* older recordings have none: the view then holds what the events say */
	if (m->mdev && json_object_object_get_ex(fr, "mdev", &x)) {
		if (!json_object_is_type(x, json_type_array)) {
			bad(p, err, len, "\"mdev\" is not an array");
			goto out;
		}
		if (load_mdev(p, x, m->mdev, err, len))
			goto out;
	}
	if (vfs_model_compute(m, ts, rt)) {
		bad(p, err, len, "out of memory");
		goto out;
	}
	rc = 1;
out:
	json_object_put(fr);
	return rc;
}

void vfs_replay_close(struct vfs_replay *p)
{
	if (p->f)
		fclose(p->f);
	free(p->buf);
	free(p->names);
	free(p->evbuf);
	memset(p, 0, sizeof(*p));
}
