// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "collector.h"
#include "kbtf.h"
#include "map_iter.h"
#include "policy_bpf.h"
#include "policy.skel.h"

struct pd_bpf {
	struct policy_bpf *skel;
	char dir[200];
	struct ring_buffer *rb;
	pd_event_fn fn;
	void *fn_ctx;
	struct pd_bpf_state st;
};

/* programs in attach groups: one pinned link each, named after the program */
enum pd_group { G_IOCTL_LSM, G_IOCTL_MON, G_MDEV, G_FORK };

struct prog_ref {
	const char *name;
	enum pd_group group;
	const char *module;	/* whose BTF the target is in ("vmlinux": none) */
};

static const struct prog_ref progs[] = {
	{ "pol_file_ioctl", G_IOCTL_LSM, "vmlinux" },
	/* where the kernel has the hook (loadable() says; see bpf/policy.bpf.c) */
	{ "pol_file_ioctl_compat", G_IOCTL_LSM, "vmlinux" },
	{ "pol_fork", G_FORK, "vmlinux" },
	{ "pol_mon_container", G_IOCTL_MON, "vfio" },
	{ "pol_mon_group", G_IOCTL_MON, "vfio" },
	{ "pol_mon_device", G_IOCTL_MON, "vfio" },
	{ "pol_mdev_create", G_MDEV, "vmlinux" },
	{ "pol_mdev_created", G_MDEV, "mdev" },
	{ "pol_mdev_rm_enter", G_MDEV, "mdev" },
	{ "pol_mdev_rm_exit", G_MDEV, "mdev" },
};
#define NPROGS (sizeof(progs) / sizeof(progs[0]))

static struct bpf_map *map_of(struct pd_bpf *b, enum pd_map m)
{
	struct bpf_map *maps[PD_MAP_MAX] = {
		[PD_MAP_CONF] = b->skel->maps.pol_conf,
		[PD_MAP_TARGET] = b->skel->maps.pol_target,
		[PD_MAP_RULE] = b->skel->maps.pol_rule,
		[PD_MAP_STATS] = b->skel->maps.pol_stats,
		[PD_MAP_MDEV_CAP] = b->skel->maps.pol_mdev_cap,
		[PD_MAP_MDEV_COUNT] = b->skel->maps.pol_mdev_count,
		[PD_MAP_RULE_MDEV] = b->skel->maps.pol_rule_mdev,
		[PD_MAP_BUCKET] = b->skel->maps.pol_bucket,
		[PD_MAP_MEMBER] = b->skel->maps.pol_member,
		[PD_MAP_FOPS] = b->skel->maps.pol_fops,
		[PD_MAP_HEALTH] = b->skel->maps.pol_health,
	};

	return maps[m];
}

static void link_path(const struct pd_bpf *b, const char *prog, char *out, size_t len)
{
	snprintf(out, len, "%s/link_%s", b->dir, prog);
}

static int mkdirs(const char *dir)
{
	char p[256];
	char *s;

	snprintf(p, sizeof(p), "%s", dir);
	for (s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0700) && errno != EEXIST)
			return -errno;
		*s = '/';
	}
	if (mkdir(p, 0700) && errno != EEXIST)
		return -errno;
	return 0;
}

/* a program can load when the module holding its target is there */
static bool loadable(const struct prog_ref *p, const char *func)
{
	return vfs_module_loaded(p->module) && vfs_btf_has_func(p->module, func);
}

/*
 * Open and load the policy object into b->skel, its maps pinned under
 * b->dir; LSM programs only with @lsm. 0, or -errno with @err set (and
 * b->skel destroyed).
 */
static int load_skel(struct pd_bpf *b, bool lsm, char *err, size_t errlen)
{
	struct bpf_map *map;
	size_t i;
	int r;

	vfs_kbtf_attach_handlers();	/* failing, libbpf resolves (slower) */
	b->skel = policy_bpf__open();
	if (!b->skel) {
		r = -errno;
		snprintf(err, errlen, "cannot open the policy BPF object: %s", strerror(-r));
		return r;
	}
	bpf_object__for_each_map(map, b->skel->obj) {
		char path[256];

		if (bpf_map__is_internal(map))
			continue;
		snprintf(path, sizeof(path), "%s/%s", b->dir, bpf_map__name(map));
		if (bpf_map__set_pin_path(map, path)) {
			snprintf(err, errlen, "cannot set the pin path of map %s", bpf_map__name(map));
			r = -EINVAL;
			goto fail;
		}
	}
	for (i = 0; i < NPROGS; i++) {
		struct bpf_program *p = bpf_object__find_program_by_name(b->skel->obj,
									  progs[i].name);
		const char *sec = p ? bpf_program__section_name(p) : NULL;
		const char *func = sec ? strchr(sec, '/') : NULL;

		if (!p || !func) {
			snprintf(err, errlen, "program %s is missing from the policy object",
				 progs[i].name);
			r = -EINVAL;
			goto fail;
		}
		if (strcmp(progs[i].module, "vmlinux") && !loadable(&progs[i], func + 1))
			bpf_program__set_autoload(p, false);
		if (!strcmp(progs[i].name, "pol_file_ioctl_compat") && !b->st.compat_hook)
			bpf_program__set_autoload(p, false);
		/* an LSM program that can never be attached is not loaded */
		if (!lsm && !strncmp(sec, "lsm/", 4))
			bpf_program__set_autoload(p, false);
	}
	if (policy_bpf__load(b->skel)) {
		r = -errno;
		snprintf(err, errlen, "cannot load the policy BPF programs: %s (pinned maps of "
			 "another version under %s? `vfio-policyd --unload` removes them)",
			 strerror(-r), b->dir);
		goto fail;
	}
	return 0;
fail:
	policy_bpf__destroy(b->skel);
	b->skel = NULL;
	return r;
}

int pd_bpf_open(struct pd_bpf **out, const char *pin_dir, char *err, size_t errlen)
{
	struct pd_bpf *b = calloc(1, sizeof(*b));
	FILE *f;
	int r;

	*out = NULL;
	if (!b) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	snprintf(b->dir, sizeof(b->dir), "%s", pin_dir);
	/* 6.8+, 6.6.13+, 6.1.74+: before it, compat ioctls went through file_ioctl */
	b->st.compat_hook = vfs_btf_has_func("vmlinux", "bpf_lsm_file_ioctl_compat");
	b->st.lsm_active = vfs_bpf_lsm_active();
	if (!b->st.lsm_active) {
		f = fopen("/sys/kernel/security/lsm", "r");
		if (f)
			fclose(f);
		snprintf(b->st.lsm_why, sizeof(b->st.lsm_why), "%s", f ?
			 "no \"bpf\" in /sys/kernel/security/lsm" :
			 "cannot read /sys/kernel/security/lsm (is securityfs mounted there?)");
	}
	r = mkdirs(pin_dir);
	if (r) {
		snprintf(err, errlen, "cannot create %s: %s (is bpffs mounted on /sys/fs/bpf?)",
			 pin_dir, strerror(-r));
		goto fail;
	}
	r = load_skel(b, b->st.lsm_active, err, errlen);
	/*
	 * A kernel may list bpf among its LSMs and still refuse to load LSM
	 * programs (EPERM before the verifier runs): count, do not enforce
	 */
	if (r == -EPERM && b->st.lsm_active) {
		b->st.lsm_active = false;
		snprintf(b->st.lsm_why, sizeof(b->st.lsm_why), "the kernel refuses to load BPF "
			 "LSM programs (%s) although \"bpf\" is in /sys/kernel/security/lsm",
			 strerror(-r));
		r = load_skel(b, false, err, errlen);
	}
	if (r)
		goto fail;
	*out = b;
	return 0;
fail:
	pd_bpf_close(b);
	return -1;
}

void pd_bpf_close(struct pd_bpf *b)
{
	if (!b)
		return;
	ring_buffer__free(b->rb);
	policy_bpf__destroy(b->skel);
	free(b);
}

static bool pinned(const struct pd_bpf *b, const char *prog)
{
	char path[256];

	link_path(b, prog, path, sizeof(path));
	return access(path, F_OK) == 0;
}

/* every program of @g linked and pinned (keeping pinned ones) or none */
static int sync_group(struct pd_bpf *b, enum pd_group g, bool want, char *err, size_t errlen)
{
	size_t i;

	for (i = 0; i < NPROGS; i++) {
		struct bpf_program *p;
		struct bpf_link *l;
		char path[256];

		if (progs[i].group != g)
			continue;
		link_path(b, progs[i].name, path, sizeof(path));
		if (!want) {
			if (unlink(path) && errno != ENOENT) {
				snprintf(err, errlen, "cannot unpin %s: %s", path, strerror(errno));
				return -1;
			}
			continue;
		}
		if (pinned(b, progs[i].name)) {
			b->st.adopted = true;
			continue;
		}
		p = bpf_object__find_program_by_name(b->skel->obj, progs[i].name);
		if (!bpf_program__autoload(p) && !strcmp(progs[i].name, "pol_file_ioctl_compat"))
			continue;	/* no such hook: file_ioctl sees compat calls */
		if (!bpf_program__autoload(p)) {
			snprintf(err, errlen, "%s cannot be attached: module %s is not loaded",
				 progs[i].name, progs[i].module);
			return -1;
		}
		l = bpf_program__attach(p);
		if (!l) {
			snprintf(err, errlen, "cannot attach %s: %s", progs[i].name, strerror(errno));
			return -1;
		}
		if (bpf_link__pin(l, path)) {
			snprintf(err, errlen, "cannot pin %s: %s", path, strerror(errno));
			bpf_link__destroy(l);
			return -1;
		}
		/* the pin holds the link now: our reference goes, the link stays */
		bpf_link__disconnect(l);
		bpf_link__destroy(l);
	}
	return 0;
}

int pd_bpf_sync_links(struct pd_bpf *b, bool ioctl, bool mdev, char *err, size_t errlen)
{
	bool lsm = b->st.lsm_active;
	int r = 0;

	r |= sync_group(b, G_IOCTL_LSM, ioctl && lsm, err, errlen);
	if (!r)
		r |= sync_group(b, G_IOCTL_MON, ioctl && !lsm, err, errlen);
	if (!r)
		r |= sync_group(b, G_MDEV, mdev && lsm, err, errlen);
	if (!r)
		r |= sync_group(b, G_FORK, ioctl || (mdev && lsm), err, errlen);
	b->st.ioctl_lsm = pinned(b, "pol_file_ioctl");
	b->st.ioctl_compat = pinned(b, "pol_file_ioctl_compat");
	b->st.fork = pinned(b, "pol_fork");
	b->st.ioctl_monitor = pinned(b, "pol_mon_device");
	b->st.mdev = pinned(b, "pol_mdev_create") && pinned(b, "pol_mdev_created");
	return r ? -1 : 0;
}

const struct pd_bpf_state *pd_bpf_state(const struct pd_bpf *b)
{
	return &b->st;
}

int pd_bpf_dump(struct pd_bpf *b, enum pd_map m, void **keys, void **vals, size_t *n,
		size_t *ksize, size_t *vsize)
{
	struct vfs_map_snapshot s = { 0 };
	int r = vfs_map_snapshot(bpf_map__fd(map_of(b, m)), &s);

	if (r)
		return r;
	*keys = s.keys;
	*vals = s.vals;
	*n = s.n;
	*ksize = s.key_size;
	*vsize = s.value_size;
	return 0;
}

int pd_bpf_update(struct pd_bpf *b, enum pd_map m, const void *key, const void *val)
{
	return bpf_map_update_elem(bpf_map__fd(map_of(b, m)), key, val, BPF_ANY) ? -errno : 0;
}

int pd_bpf_delete(struct pd_bpf *b, enum pd_map m, const void *key)
{
	if (bpf_map_delete_elem(bpf_map__fd(map_of(b, m)), key) && errno != ENOENT)
		return -errno;
	return 0;
}

int pd_bpf_lookup(struct pd_bpf *b, enum pd_map m, const void *key, void *val)
{
	return bpf_map_lookup_elem(bpf_map__fd(map_of(b, m)), key, val) ? -errno : 0;
}

int pd_bpf_stat_retire(struct pd_bpf *b, const struct vfs_pol_stat_key *from,
		       const struct vfs_pol_stat_key *to)
{
	int fd = bpf_map__fd(map_of(b, PD_MAP_STATS)), ncpu = libbpf_num_possible_cpus(), i, r = 0;
	struct vfs_pol_stat *acc = NULL, *dead = NULL;

	if (ncpu <= 0)
		return ncpu ? ncpu : -EINVAL;
	/* per-CPU values are 8-byte aligned slots: the struct is 32 bytes */
	acc = calloc(ncpu, sizeof(*acc));
	dead = calloc(ncpu, sizeof(*dead));
	if (!acc || !dead) {
		r = -ENOMEM;
		goto out;
	}
	if (bpf_map_lookup_elem(fd, from, dead)) {
		r = errno == ENOENT ? 0 : -errno;
		goto out;
	}
	if (bpf_map_lookup_elem(fd, to, acc) && errno != ENOENT) {
		r = -errno;
		goto out;
	}
	for (i = 0; i < ncpu; i++) {
		acc[i].allowed += dead[i].allowed;
		acc[i].throttled += dead[i].throttled;
		acc[i].denied += dead[i].denied;
		acc[i].would_deny += dead[i].would_deny;
	}
	if (bpf_map_update_elem(fd, to, acc, BPF_ANY) ||
	    (bpf_map_delete_elem(fd, from) && errno != ENOENT))
		r = -errno;
out:
	free(acc);
	free(dead);
	return r;
}

static int on_event(void *ctx, void *data, size_t size)
{
	struct pd_bpf *b = ctx;
	const struct vfs_event_hdr *h = data;

	if (size >= sizeof(struct vfs_ev_policy) && h->type == VFS_EV_POLICY && b->fn)
		b->fn(data, b->fn_ctx);
	return 0;
}

int pd_bpf_events_fd(struct pd_bpf *b)
{
	if (!b->rb)
		b->rb = ring_buffer__new(bpf_map__fd(b->skel->maps.events), on_event, b, NULL);
	return b->rb ? ring_buffer__epoll_fd(b->rb) : -1;
}

int pd_bpf_events_drain(struct pd_bpf *b, pd_event_fn fn, void *ctx)
{
	if (!b->rb && pd_bpf_events_fd(b) < 0)
		return -1;
	b->fn = fn;
	b->fn_ctx = ctx;
	return ring_buffer__consume(b->rb);
}

int pd_bpf_unpin_all(const char *pin_dir, char *err, size_t errlen)
{
	static const char *const maps[] = {
		"pol_conf", "pol_target", "pol_rule", "pol_bucket", "pol_stats", "pol_mdev_cap",
		"pol_member", "pol_fops", "pol_health", "pol_seen",
		"pol_mdev_count", "pol_rule_mdev", "pol_mdev_owner", "pol_mdev_rm",
		"pol_scratch", "events", "drops", "control",
	};
	char path[256];
	size_t i;
	int bad = 0;

	for (i = 0; i < NPROGS; i++) {
		snprintf(path, sizeof(path), "%s/link_%s", pin_dir, progs[i].name);
		if (unlink(path) && errno != ENOENT)
			bad = errno;
	}
	for (i = 0; i < sizeof(maps) / sizeof(maps[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", pin_dir, maps[i]);
		if (unlink(path) && errno != ENOENT)
			bad = errno;
	}
	if (bad) {
		snprintf(err, errlen, "cannot remove every pin under %s: %s", pin_dir,
			 strerror(bad));
		return -1;
	}
	rmdir(pin_dir);
	return 0;
}
