// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The kernel's BTF, parsed once and indexed by name; libbpf's attach
 * targets resolved from it. See kbtf.h.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "kbtf.h"

/*
 * BTFs kept: vmlinux's and modules'. A target in a module is searched in
 * every module before it in BTF id order (libbpf's order), so this bounds
 * how many modules may load before vfio: a virtualization host runs a
 * few hundred (kvm, bridges, netfilter, storage), each BTF kept small.
 */
#define KBTF_MAX 1024

/* one parsed BTF: vmlinux's or a module's, with its name index */
struct kbtf {
	char name[64];
	ino_t ino;		/* of /sys/kernel/btf/NAME when parsed */
	struct btf *btf;	/* NULL: the kernel has none */
	__u32 first;		/* first own type id */
	__u32 *slot;		/* type ids of own FUNCs and TYPEDEFs, 0 = empty */
	__u32 mask;		/* slots - 1 (a power of two minus one) */
	int obj_fd;		/* the kernel's BTF object, for attach; -1 until asked */
};

static struct kbtf kbtfs[KBTF_MAX];
static int nkbtfs;

static uint32_t name_hash(const char *s, int kind)
{
	uint32_t h = 2166136261u ^ (uint32_t)kind;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h;
}

static bool indexed_kind(int kind)
{
	return kind == BTF_KIND_FUNC || kind == BTF_KIND_TYPEDEF;
}

/* the first own type named @name of @kind, by the index */
static int index_find(const struct kbtf *k, const char *name, int kind)
{
	uint32_t i;

	if (!k->btf)
		return -ENODATA;
	if (!indexed_kind(kind))
		return -EINVAL;
	for (i = name_hash(name, kind) & k->mask; k->slot[i]; i = (i + 1) & k->mask) {
		const struct btf_type *t = btf__type_by_id(k->btf, k->slot[i]);

		if (btf_kind(t) == kind && !strcmp(btf__name_by_offset(k->btf, t->name_off), name))
			return (int)k->slot[i];
	}
	return -ENOENT;
}

static void index_put(struct kbtf *k, const char *name, int kind, __u32 id)
{
	uint32_t i = name_hash(name, kind) & k->mask;

	while (k->slot[i])
		i = (i + 1) & k->mask;
	k->slot[i] = id;
}

/* one walk over @k's own types; ascending ids, so the first of a name wins */
static int index_build(struct kbtf *k)
{
	__u32 n = btf__type_cnt(k->btf), id, want = 0, size = 16;

	for (id = k->first; id < n; id++)
		want += indexed_kind(btf_kind(btf__type_by_id(k->btf, id)));
	while (size < 2 * want)
		size <<= 1;
	k->slot = calloc(size, sizeof(*k->slot));
	if (!k->slot)
		return -ENOMEM;
	k->mask = size - 1;
	for (id = k->first; id < n; id++) {
		const struct btf_type *t = btf__type_by_id(k->btf, id);
		const char *name;
		int kind = btf_kind(t);

		if (!indexed_kind(kind) || !t->name_off)
			continue;
		name = btf__name_by_offset(k->btf, t->name_off);
		if (index_find(k, name, kind) < 0)
			index_put(k, name, kind, id);
	}
	return 0;
}

static void kbtf_drop(struct kbtf *k)
{
	btf__free(k->btf);
	free(k->slot);
	if (k->obj_fd >= 0)
		close(k->obj_fd);
	k->btf = NULL;
	k->slot = NULL;
	k->obj_fd = -1;
}

static struct kbtf *kbtf_get(const char *module)
{
	struct kbtf *base = NULL, *k = NULL;
	char path[256];
	struct stat st;
	int i;

	snprintf(path, sizeof(path), "/sys/kernel/btf/%s", module);
	if (stat(path, &st))
		st.st_ino = 0;
	for (i = 0; i < nkbtfs; i++)
		if (!strcmp(kbtfs[i].name, module)) {
			k = &kbtfs[i];
			break;
		}
	if (k && k->ino == st.st_ino)
		return k;
	if (strcmp(module, "vmlinux")) {
		base = kbtf_get("vmlinux");
		if (!base || !base->btf)
			return NULL;
	}
	if (k) {
		kbtf_drop(k);
	} else {
		if (nkbtfs == KBTF_MAX)
			return NULL;
		k = &kbtfs[nkbtfs++];
		snprintf(k->name, sizeof(k->name), "%s", module);
		k->obj_fd = -1;
	}
	k->ino = st.st_ino;
	if (!st.st_ino)
		return k;
	k->btf = base ? btf__parse_split(path, base->btf) : btf__parse(path, NULL);
	if (libbpf_get_error(k->btf)) {
		k->btf = NULL;
		return k;
	}
	k->first = base ? btf__type_cnt(base->btf) : 1;
	if (index_build(k)) {
		btf__free(k->btf);
		k->btf = NULL;
	}
	return k;
}

struct btf *vfs_kbtf(const char *module)
{
	struct kbtf *k = kbtf_get(module);

	return k ? k->btf : NULL;
}

int vfs_kbtf_find(const char *module, const char *name, int kind)
{
	struct kbtf *k = kbtf_get(module);

	return k ? index_find(k, name, kind) : -ENODATA;
}

/* ------------------------------------------------- libbpf's attach targets */
/*
 * The next kernel BTF object of a module after *@id: an fd on it, its
 * name in @name; -ENOENT after the last. BPF programs' own BTFs and
 * vmlinux's are passed over.
 */
static int next_module_btf(__u32 *id, char name[64])
{
	while (!bpf_btf_get_next_id(*id, id)) {
		struct bpf_btf_info info = {};
		__u32 len = sizeof(info);
		int fd = bpf_btf_get_fd_by_id(*id);

		if (fd < 0)
			continue;
		name[0] = '\0';
		info.name = (__u64)(uintptr_t)name;
		info.name_len = 64;
		if (!bpf_obj_get_info_by_fd(fd, &info, &len) && info.kernel_btf &&
		    strcmp(name, "vmlinux"))
			return fd;
		close(fd);
	}
	return -ENOENT;
}

/* the modules' names in BTF id order (libbpf's search order) */
static int module_order(char names[][64], int max)
{
	__u32 id = 0;
	int n = 0, fd;

	while (n < max && (fd = next_module_btf(&id, names[n])) >= 0) {
		close(fd);
		n++;
	}
	return n;
}

/* an fd on @k's BTF object in the kernel, found by name */
static int module_obj_fd(struct kbtf *k)
{
	char name[64];
	__u32 id = 0;
	int fd;

	while (k->obj_fd < 0 && (fd = next_module_btf(&id, name)) >= 0) {
		if (!strcmp(name, k->name))
			k->obj_fd = fd;
		else
			close(fd);
	}
	return k->obj_fd >= 0 ? k->obj_fd : -ENOENT;
}

static char mod_names[KBTF_MAX][64];
static int nmods = -1;

/* @name of @kind: vmlinux first, then the modules; fills the attach ids */
static int resolve(const char *name, int kind, bool vmlinux_only, __u32 *id, int *obj_fd)
{
	int r, i, pass;

	r = vfs_kbtf_find("vmlinux", name, kind);
	if (r > 0 || vmlinux_only) {
		*id = r > 0 ? (__u32)r : 0;
		*obj_fd = 0;
		return r > 0 ? 0 : -ESRCH;
	}
	for (pass = 0; pass < 2; pass++) {
		if (pass || nmods < 0)
			nmods = module_order(mod_names, KBTF_MAX);
		for (i = 0; i < nmods; i++) {
			struct kbtf *k = kbtf_get(mod_names[i]);
			int fd;

			if (!k || (r = index_find(k, name, kind)) <= 0)
				continue;
			fd = module_obj_fd(k);
			if (fd < 0)
				continue;
			*id = (__u32)r;
			*obj_fd = fd;
			return 0;
		}
	}
	return -ESRCH;
}

enum { H_FENTRY, H_FEXIT, H_TP_BTF, H_LSM };

/* targets chosen at run time (vfs_kbtf_set_target), by program */
#define RUNTIME_MAX 64
static struct runtime_target {
	const struct bpf_program *prog;
	char module[64];
	char func[128];
} runtime[RUNTIME_MAX];

int vfs_kbtf_set_target(const struct bpf_program *prog, const char *module, const char *func)
{
	struct runtime_target *t = NULL;
	size_t i;

	for (i = 0; i < RUNTIME_MAX && !t; i++)
		if (runtime[i].prog == prog || !runtime[i].prog)
			t = &runtime[i];
	if (!t)
		return -ENOSPC;
	if (snprintf(t->module, sizeof(t->module), "%s", module) >= (int)sizeof(t->module) ||
	    snprintf(t->func, sizeof(t->func), "%s", func) >= (int)sizeof(t->func))
		return -ENAMETOOLONG;
	t->prog = prog;
	return 0;
}

void vfs_kbtf_forget_target(const struct bpf_program *prog)
{
	size_t i;

	for (i = 0; i < RUNTIME_MAX; i++)
		if (runtime[i].prog == prog)
			runtime[i].prog = NULL;
}

/* @prog's run-time target, NULL when its section names it */
static const struct runtime_target *runtime_of(const struct bpf_program *prog)
{
	size_t i;

	for (i = 0; i < RUNTIME_MAX; i++)
		if (runtime[i].prog == prog)
			return &runtime[i];
	return NULL;
}

/* a run-time target: @t's module's own function, nowhere else */
static int resolve_runtime(const struct runtime_target *t, __u32 *id, int *obj_fd)
{
	struct kbtf *k;
	int r;

	r = vfs_kbtf_find(t->module, t->func, BTF_KIND_FUNC);
	if (r <= 0) {
		fprintf(stderr, "libbpf: prog '%s': %s's BTF has no function %s\n",
			bpf_program__name(t->prog), t->module, t->func);
		return r ?: -ESRCH;
	}
	*id = (__u32)r;
	if (!strcmp(t->module, "vmlinux")) {
		*obj_fd = 0;
		return 0;
	}
	k = kbtf_get(t->module);
	*obj_fd = k ? module_obj_fd(k) : -ENOENT;
	return *obj_fd < 0 ? *obj_fd : 0;
}

static int prepare(struct bpf_program *prog, struct bpf_prog_load_opts *opts, long cookie)
{
	const char *sec = bpf_program__section_name(prog);
	const char *target = strchr(sec, '/');
	char name[256];
	__u32 id;
	int fd, r;

	if (runtime_of(prog)) {
		r = resolve_runtime(runtime_of(prog), &id, &fd);
		if (r)
			return r;
		opts->attach_btf_id = id;
		opts->attach_btf_obj_fd = fd;
		return 0;
	}
	if (!target || !target[1])
		return -EINVAL;
	target++;
	switch (cookie) {
	case H_TP_BTF:
		snprintf(name, sizeof(name), "btf_trace_%s", target);
		r = resolve(name, BTF_KIND_TYPEDEF, false, &id, &fd);
		break;
	case H_LSM:
		snprintf(name, sizeof(name), "bpf_lsm_%s", target);
		r = resolve(name, BTF_KIND_FUNC, true, &id, &fd);
		break;
	default:
		snprintf(name, sizeof(name), "%s", target);
		r = resolve(name, BTF_KIND_FUNC, false, &id, &fd);
		break;
	}
	if (r) {
		fprintf(stderr, "libbpf: prog '%s': the kernel's BTF has no %s\n",
			bpf_program__name(prog), name);
		return r;
	}
	opts->attach_btf_id = id;
	opts->attach_btf_obj_fd = fd;
	return 0;
}

static int attach(const struct bpf_program *prog, long cookie, struct bpf_link **link)
{
	*link = cookie == H_LSM ? bpf_program__attach_lsm(prog) : bpf_program__attach_trace(prog);
	return *link ? 0 : -errno;
}

int vfs_kbtf_attach_handlers(void)
{
	static const struct {
		const char *sec;
		enum bpf_prog_type type;
		enum bpf_attach_type attach;
		long cookie;
	} h[] = {
		{ "fentry/", BPF_PROG_TYPE_TRACING, BPF_TRACE_FENTRY, H_FENTRY },
		{ "fexit/", BPF_PROG_TYPE_TRACING, BPF_TRACE_FEXIT, H_FEXIT },
		{ "tp_btf/", BPF_PROG_TYPE_TRACING, BPF_TRACE_RAW_TP, H_TP_BTF },
		{ "lsm/", BPF_PROG_TYPE_LSM, BPF_LSM_MAC, H_LSM },
	};
	static int done;
	size_t i;
	int r;

	if (done)
		return done < 0 ? done : 0;
	for (i = 0; i < sizeof(h) / sizeof(h[0]); i++) {
		LIBBPF_OPTS(libbpf_prog_handler_opts, o, .cookie = h[i].cookie,
			    .prog_prepare_load_fn = prepare, .prog_attach_fn = attach);

		r = libbpf_register_prog_handler(h[i].sec, h[i].type, h[i].attach, &o);
		if (r < 0)
			return done = r;
	}
	done = 1;
	return 0;
}
