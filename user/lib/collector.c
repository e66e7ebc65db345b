// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The collector core: shared maps, families, tier bookkeeping, feature
 * probes, event stream and loss counters. See collector.h.
 */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "collector.h"

static const struct vfs_family *const families[] = {
	&vfs_family_vfio,
	&vfs_family_vdpa,
};
#define NR_FAMILIES (sizeof(families) / sizeof(families[0]))

struct vfs_collector {
	struct vfs_collector_opts opts;
	int events_fd, drops_fd, control_fd;
	void *ctx[NR_FAMILIES];
	struct vfs_tier_choice tiers[VFS_CLASS_MAX];
	struct ring_buffer *rb;
	vfs_event_cb cb;
	void *cb_user;
};

static const char *const class_names[VFS_CLASS_MAX] = {
	[VFS_CLASS_IOCTL] = "vfio-ioctl",
	[VFS_CLASS_DMA] = "dma-map",
	[VFS_CLASS_PIN] = "pin-pages",
	[VFS_CLASS_REGION] = "region-access",
	[VFS_CLASS_IRQ_SET] = "irq-setup",
	[VFS_CLASS_IRQ_SIGNAL] = "irq-delivery",
	[VFS_CLASS_MDEV] = "mdev-lifecycle",
	[VFS_CLASS_MIG_ARC] = "migration-arcs",
	[VFS_CLASS_MIG_DATA] = "migration-data",
	[VFS_CLASS_VDPA_DEV] = "vdpa-device",
	[VFS_CLASS_VDPA_VQ] = "vdpa-virtqueue",
	[VFS_CLASS_DMA_RESULT] = "dma-results",
	[VFS_CLASS_MIG_REQUEST] = "migration-requests",
};

const char *vfs_class_name(enum vfs_class c)
{
	return c < VFS_CLASS_MAX ? class_names[c] : "?";
}

const char *vfs_tier_name(enum vfs_tier t)
{
	switch (t) {
	case VFS_TIER_TRACEPOINT: return "tracepoint";
	case VFS_TIER_FENTRY: return "fentry";
	case VFS_TIER_KPROBE: return "kprobe";
	default: return "unsupported";
	}
}

static const char *const drop_names[VFS_DROP_MAX] = {
	[VFS_DROP_RINGBUF] = "ringbuf_full",
	[VFS_DROP_MAP_IOCTL] = "map_full_ioctl",
	[VFS_DROP_MAP_ERRNO] = "map_full_errno",
	[VFS_DROP_MAP_OBJ] = "map_full_obj",
	[VFS_DROP_MAP_VM] = "map_full_vm",
	[VFS_DROP_MAP_REGION] = "map_full_region",
	[VFS_DROP_MAP_IRQ] = "map_full_irq",
	[VFS_DROP_MAP_INFLIGHT] = "map_full_inflight",
	[VFS_DROP_MAP_MIG] = "map_full_migration",
	[VFS_DROP_MAP_VDPA] = "map_full_vdpa",
};

const char *vfs_drop_name(enum vfs_drop d)
{
	return d < VFS_DROP_MAX && drop_names[d] ? drop_names[d] : "unused";
}

const struct vfs_collector_opts *vfs_collector_opts(const struct vfs_collector *c)
{
	return &c->opts;
}

enum vfs_tier vfs_collector_choose(struct vfs_collector *c, enum vfs_class cls,
				   enum vfs_tier tier, const char *reason, ...)
{
	struct vfs_tier_choice *t = &c->tiers[cls];
	char why[sizeof(t->reason)];
	va_list ap;

	va_start(ap, reason);
	vsnprintf(why, sizeof(why), reason, ap);
	va_end(ap);
	if (c->opts.force[cls] != VFS_TIER_NONE && c->opts.force[cls] != tier) {
		t->tier = c->opts.force[cls];
		snprintf(t->reason, sizeof(t->reason), "forced (automatic: %s, %.150s)",
			 vfs_tier_name(tier), why);
	} else {
		t->tier = tier;
		snprintf(t->reason, sizeof(t->reason), "%s", why);
	}
	return t->tier;
}

const struct vfs_tier_choice *vfs_collector_tier(const struct vfs_collector *c,
						 enum vfs_class cls)
{
	return &c->tiers[cls];
}

void vfs_collector_print_features(const struct vfs_collector *c, FILE *out)
{
	int i;

	fprintf(out, "%-16s %-11s %s\n", "CLASS", "TIER", "WHY");
	for (i = 0; i < VFS_CLASS_MAX; i++)
		fprintf(out, "%-16s %-11s %s\n", vfs_class_name(i),
			vfs_tier_name(c->tiers[i].tier), c->tiers[i].reason);
	fprintf(out, "%-16s %-11s %s\n", "bpf-lsm", vfs_bpf_lsm_active() ? "active" : "inactive",
		vfs_bpf_lsm_active() ? "quota enforcement is possible" :
		"BPF LSM is not active: add lsm=...,bpf to the kernel command line");
}

/* ------------------------------------------------------------------ probes */
bool vfs_module_loaded(const char *module)
{
	char path[256];

	if (!strcmp(module, "vmlinux"))
		return true;
	snprintf(path, sizeof(path), "/sys/module/%s", module);
	return access(path, F_OK) == 0;
}

/* parsed BTFs: vmlinux first, then modules as asked for */
static struct {
	char name[64];
	struct btf *btf;
} btf_cache[64];
static int btf_cached;

static struct btf *btf_of(const char *module)
{
	char path[256];
	struct btf *base = NULL, *b;
	int i;

	for (i = 0; i < btf_cached; i++)
		if (!strcmp(btf_cache[i].name, module))
			return btf_cache[i].btf;
	if (strcmp(module, "vmlinux"))
		base = btf_of("vmlinux");
	snprintf(path, sizeof(path), "/sys/kernel/btf/%s", module);
	if (access(path, R_OK))
		b = NULL;
	else if (base)
		b = btf__parse_split(path, base);
	else if (!strcmp(module, "vmlinux"))
		b = btf__parse(path, NULL);
	else
		b = NULL;
	if (libbpf_get_error(b))
		b = NULL;
	if (btf_cached < (int)(sizeof(btf_cache) / sizeof(btf_cache[0]))) {
		snprintf(btf_cache[btf_cached].name, sizeof(btf_cache[0].name), "%s", module);
		btf_cache[btf_cached++].btf = b;
	}
	return b;
}

bool vfs_btf_has_func(const char *module, const char *func)
{
	struct btf *b = btf_of(module);

	return b && btf__find_by_name_kind(b, func, BTF_KIND_FUNC) > 0;
}

/* tracefs knows whether an event exists without parsing any BTF */
static bool tracefs_has_event(const char *tp)
{
	static const char *const roots[] = {
		"/sys/kernel/tracing/events", "/sys/kernel/debug/tracing/events",
	};
	char path[512];
	struct dirent *de;
	bool found = false;
	size_t r;
	DIR *d;

	for (r = 0; r < sizeof(roots) / sizeof(roots[0]) && !found; r++) {
		d = opendir(roots[r]);
		if (!d)
			continue;
		while (!found && (de = readdir(d))) {
			if (de->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s/%s", roots[r], de->d_name, tp);
			found = access(path, F_OK) == 0;
		}
		closedir(d);
	}
	return found;
}

/*
 * The modules whose BTF may define vfioscope's tracepoints: the trace
 * module our drivers use, and the subsystems the patch series instruments.
 * Parsing every module's BTF would cost seconds on a small or emulated
 * machine.
 */
static const char *const tp_modules[] = {
	"vfioscope_trace", "vfio", "vfio_iommu_type1", "vfio_pci_core", "mdev",
	"vdpa", "vhost_vdpa", "virtio_vdpa", "vduse", "vmlinux",
};

bool vfs_tracepoint_owner(const char *tp, char *owner, size_t len)
{
	char type[128];
	size_t i;

	if (!tracefs_has_event(tp))
		return false;
	snprintf(type, sizeof(type), "btf_trace_%s", tp);
	for (i = 0; i < sizeof(tp_modules) / sizeof(tp_modules[0]); i++) {
		const char *m = tp_modules[i];
		struct btf *b;
		int id, own;

		if (!vfs_module_loaded(m))
			continue;
		b = btf_of(m);
		if (!b)
			continue;
		/* a split BTF also finds its base's types: ask for its own */
		own = strcmp(m, "vmlinux") ? (int)btf__type_cnt(btf_of("vmlinux")) : 1;
		id = btf__find_by_name_kind(b, type, BTF_KIND_TYPEDEF);
		if (id >= own) {
			snprintf(owner, len, "%s", m);
			return true;
		}
	}
	return false;
}

bool vfs_kprobe_ok(const char *module, const char *func)
{
	char line[512], want[256];
	bool ok = false;
	FILE *f;
	size_t n;

	f = fopen("/sys/kernel/tracing/available_filter_functions", "r");
	if (!f)
		f = fopen("/sys/kernel/debug/tracing/available_filter_functions", "r");
	if (!f)
		return false;
	if (strcmp(module, "vmlinux"))
		snprintf(want, sizeof(want), "%s [%s]", func, module);
	else
		snprintf(want, sizeof(want), "%s", func);
	n = strlen(want);
	while (!ok && fgets(line, sizeof(line), f))
		ok = !strncmp(line, want, n) && (line[n] == '\n' || line[n] == '\0');
	fclose(f);
	return ok;
}

bool vfs_bpf_lsm_active(void)
{
	char buf[512] = "";
	FILE *f = fopen("/sys/kernel/security/lsm", "r");
	char *tok, *save;

	if (!f)
		return false;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	fclose(f);
	for (tok = strtok_r(buf, ",\n", &save); tok; tok = strtok_r(NULL, ",\n", &save))
		if (!strcmp(tok, "bpf"))
			return true;
	return false;
}

/* ---------------------------------------------------------------- lifecycle */
int vfs_collector_share_maps(struct vfs_collector *c, struct bpf_object *obj)
{
	static const char *const names[] = { "events", "drops", "control" };
	int fds[] = { c->events_fd, c->drops_fd, c->control_fd };
	size_t i;
	int err;

	for (i = 0; i < 3; i++) {
		struct bpf_map *m = bpf_object__find_map_by_name(obj, names[i]);

		if (!m)
			continue;
		err = bpf_map__reuse_fd(m, fds[i]);
		if (err)
			return err;
	}
	return 0;
}

static int print_libbpf(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static int print_libbpf_verbose(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return vfprintf(stderr, fmt, ap);
}

static size_t pow2_at_least(size_t v)
{
	size_t p = 4096;

	while (p < v)
		p <<= 1;
	return p;
}

int vfs_collector_open(struct vfs_collector **out, const struct vfs_collector_opts *opts,
		       char *err, size_t errlen)
{
	struct vfs_control ctl = { .stream = VFS_STREAM_DEFAULT };
	struct vfs_collector *c;
	__u32 zero = 0;
	size_t i;
	int r;

	*out = NULL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	if (opts)
		c->opts = *opts;
	c->events_fd = c->drops_fd = c->control_fd = -1;
	libbpf_set_print(c->opts.verbose ? print_libbpf_verbose : print_libbpf);

	if (access("/sys/kernel/btf/vmlinux", R_OK))
		snprintf(err, errlen, "note: the kernel has no BTF (/sys/kernel/btf/vmlinux): "
			 "only counts per process and command are possible");

	c->events_fd = bpf_map_create(BPF_MAP_TYPE_RINGBUF, "events", 0, 0,
				      pow2_at_least(c->opts.ringbuf_bytes ?: 1 << 20), NULL);
	if (c->events_fd < 0) {
		r = -errno;
		if (r == -EPERM)
			snprintf(err, errlen, "not allowed to create BPF maps: run as root "
				 "(loading BPF needs CAP_BPF and CAP_PERFMON)");
		else
			snprintf(err, errlen, "cannot create the event ring buffer: %s "
				 "(the kernel needs BPF ring buffers, Linux 5.8+)", strerror(-r));
		goto fail;
	}
	c->drops_fd = bpf_map_create(BPF_MAP_TYPE_PERCPU_ARRAY, "drops", 4, 8, VFS_DROP_MAX, NULL);
	c->control_fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "control", 4, sizeof(ctl), 1, NULL);
	if (c->drops_fd < 0 || c->control_fd < 0) {
		r = -errno;
		snprintf(err, errlen, "cannot create BPF maps: %s", strerror(-r));
		goto fail;
	}
	bpf_map_update_elem(c->control_fd, &zero, &ctl, BPF_ANY);

	for (i = 0; i < NR_FAMILIES; i++) {
		r = families[i]->open(c, &c->ctx[i]);
		if (r) {
			snprintf(err, errlen, "%s collectors: cannot open: %s", families[i]->name,
				 strerror(-r));
			goto fail;
		}
	}
	for (i = 0; i < NR_FAMILIES; i++) {
		r = families[i]->load(c, c->ctx[i]);
		if (r) {
			snprintf(err, errlen, "%s collectors: cannot load or attach: %s%s",
				 families[i]->name, strerror(-r),
				 r == -EPERM ? " (run as root: BPF needs CAP_BPF and CAP_PERFMON)" :
				 " (run with -v for libbpf's details)");
			goto fail;
		}
	}
	*out = c;
	return 0;
fail:
	vfs_collector_close(c);
	return r;
}

void vfs_collector_close(struct vfs_collector *c)
{
	size_t i;

	if (!c)
		return;
	ring_buffer__free(c->rb);
	for (i = 0; i < NR_FAMILIES; i++)
		if (c->ctx[i])
			families[i]->destroy(c->ctx[i]);
	if (c->events_fd >= 0)
		close(c->events_fd);
	if (c->drops_fd >= 0)
		close(c->drops_fd);
	if (c->control_fd >= 0)
		close(c->control_fd);
	free(c);
}

int vfs_collector_map_fd(const struct vfs_collector *c, const char *map)
{
	size_t i;
	int fd;

	if (!strcmp(map, "events"))
		return c->events_fd;
	if (!strcmp(map, "drops"))
		return c->drops_fd;
	if (!strcmp(map, "control"))
		return c->control_fd;
	for (i = 0; i < NR_FAMILIES; i++) {
		fd = c->ctx[i] ? families[i]->map_fd(c->ctx[i], map) : -1;
		if (fd >= 0)
			return fd;
	}
	return -ENOENT;
}

void vfs_collector_dump(struct vfs_collector *c, FILE *out)
{
	__u64 drops[VFS_DROP_MAX];
	size_t i;

	for (i = 0; i < NR_FAMILIES; i++)
		if (c->ctx[i])
			families[i]->dump(c, c->ctx[i], out);
	if (!vfs_collector_drops(c, drops))
		for (i = 0; i < VFS_DROP_MAX; i++)
			if (drop_names[i])
				fprintf(out, "drops %s %llu\n", drop_names[i],
					(unsigned long long)drops[i]);
}

static int rb_trampoline(void *ctx, void *data, size_t size)
{
	struct vfs_collector *c = ctx;
	const struct vfs_event_hdr *h = data;

	if (size < sizeof(*h) || h->size > size)
		return 0;	/* a foreign or truncated record: ignore it */
	return c->cb ? c->cb(c->cb_user, h, size) : 0;
}

int vfs_collector_poll(struct vfs_collector *c, int timeout_ms, vfs_event_cb cb, void *user)
{
	c->cb = cb;
	c->cb_user = user;
	if (!c->rb) {
		c->rb = ring_buffer__new(c->events_fd, rb_trampoline, c, NULL);
		if (!c->rb)
			return -errno;
	}
	return ring_buffer__poll(c->rb, timeout_ms);
}

int vfs_collector_stream(struct vfs_collector *c, __u32 stream_mask)
{
	struct vfs_control ctl = { .stream = VFS_STREAM_DEFAULT | stream_mask };
	__u32 zero = 0;

	return bpf_map_update_elem(c->control_fd, &zero, &ctl, BPF_ANY) ? -errno : 0;
}

int vfs_collector_drops(const struct vfs_collector *c, __u64 out[VFS_DROP_MAX])
{
	int ncpu = libbpf_num_possible_cpus();
	__u64 *vals;
	__u32 k;
	int i;

	if (ncpu <= 0)
		return ncpu;
	vals = calloc(ncpu, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	for (k = 0; k < VFS_DROP_MAX; k++) {
		out[k] = 0;
		if (bpf_map_lookup_elem(c->drops_fd, &k, vals))
			continue;
		for (i = 0; i < ncpu; i++)
			out[k] += vals[i];
	}
	free(vals);
	return 0;
}
