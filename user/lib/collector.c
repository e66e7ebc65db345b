// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The collector core: shared maps, families, tier bookkeeping, feature
 * probes, event stream and loss counters. See collector.h.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "collector.h"
#include "dump.h"
#include "gc.h"
#include "kbtf.h"
#include "migfops.skel.h"

static const struct vfs_family *const families[] = {
	&vfs_family_vfio,
	&vfs_family_vdpa,
};
#define NR_FAMILIES (sizeof(families) / sizeof(families[0]))

struct named_fd {
	char name[BPF_OBJ_NAME_LEN];
	int fd;
	bool owned;		/* ours to close (not a loaded object's) */
};

struct vfs_collector {
	struct vfs_collector_opts opts;
	int events_fd, drops_fd, control_fd;
	struct bpf_object *obj[NR_FAMILIES];	/* loaded here (not shared) */
	struct named_link {
		struct bpf_link *link;
		char name[96];		/* <family>.<program>: its pin name */
	} *links;
	size_t nlinks;
	struct named_fd *maps;			/* every family's maps, by name */
	size_t nmaps;
	struct attached_prog {			/* attached programs (misses) */
		int fd;
		__u32 id;
		bool owned;			/* opened from a pinned set's link */
	} *progs;
	size_t nprogs;
	bool pinned;				/* maps and links live in pin_root */
	int stream_lock;			/* shared: this reader consumes events */
	char root[128];
	struct vfs_tier_choice tiers[VFS_CLASS_MAX];
	struct ring_buffer *rb;
	vfs_event_cb cb;
	void *cb_user;
	char stream_why[256];			/* why the stream was not taken */
	struct learned_fops {			/* migration f_ops attached to */
		__u64 fops;
		struct bpf_object *obj;		/* NULL: not attachable (said once) */
		struct bpf_link *links[4];
	} *learned;
	size_t nlearned;
	/* where start-up went, ms (loaded here only): probing the kernel
	 * (modules, BTF, tiers), libbpf's load (BTF for CO-RE, relocation,
	 * the verifier), attaching */
	double t_probe, t_load, t_attach;
	double t_verify;			/* of t_load: the kernel's verifier */
	__u64 verified_insns;
	/* modules loaded after the open (vfs_collector_rescan) */
	struct bpf_object **late;		/* the objects loaded for them */
	size_t nlate;
	__u64 modsig;				/* /proc/modules' names, last probe (0: none) */
	double rescan_ms;			/* the last rescan */
	unsigned int gen;			/* maps or programs were added */
	__u32 meta_tier[VFS_CLASS_MAX];		/* a pinned set's tiers, last adopted */
	char rescan_why[256];			/* the last rescan's failure, said */
};

static void learned_free(struct learned_fops *l);
static int modules_signature(__u64 *sig);
static double now_ms(void);

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
	[VFS_CLASS_RESET] = "device-reset",
	[VFS_CLASS_IOMMU_FAULT] = "iommu-fault",
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
	[VFS_DROP_RECURSION] = "probe_recursion",
	[VFS_DROP_MAP_RESET] = "map_full_reset",
	[VFS_DROP_MAP_FAULT] = "map_full_iommu_fault",
	[VFS_DROP_MIG_FD_UNKNOWN] = "mig_fd_unknown",
	[VFS_DROP_INFLIGHT_BUSY] = "inflight_busy",
};

const char *vfs_drop_name(enum vfs_drop d)
{
	return d < VFS_DROP_MAX && drop_names[d] ? drop_names[d] : "unused";
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
	if (t->tier != VFS_TIER_NONE && cls != VFS_CLASS_IOCTL && c->opts.classes &&
	    !(c->opts.classes & VFS_CLASS_BIT(cls))) {
		snprintf(t->reason, sizeof(t->reason), "not loaded: this tool was not asked "
			 "for it (here: %s, %.110s)", vfs_tier_name(t->tier), why);
		t->tier = VFS_TIER_NONE;
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
	if (c->nlinks)
		fprintf(out, "%-16s %-11s %zu programs in %.0f ms: probing the kernel %.0f ms, "
			"load (BTF, CO-RE, verifier) %.0f ms, attach %.0f ms; of the load, the "
			"verifier %.0f ms (%llu instructions processed)\n", "start-up", "loaded",
			c->nlinks, c->t_probe + c->t_load + c->t_attach, c->t_probe, c->t_load,
			c->t_attach, c->t_verify, (unsigned long long)c->verified_insns);
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

bool vfs_btf_has_func(const char *module, const char *func)
{
	/* a module's BTF includes its base's: so does the answer */
	return vfs_kbtf_find(module, func, BTF_KIND_FUNC) > 0 ||
	       (strcmp(module, "vmlinux") && vfs_kbtf(module) &&
		vfs_kbtf_find("vmlinux", func, BTF_KIND_FUNC) > 0);
}

const char *vfs_fentry_why_not(const char *module, const char *func, char *buf, size_t len)
{
	if (!vfs_module_loaded(module)) {
		snprintf(buf, len, "module %s is not loaded", module);
		return buf;
	}
	if (!vfs_kbtf(module)) {
		snprintf(buf, len, "the kernel has no BTF for %s (/sys/kernel/btf/%s)",
			 strcmp(module, "vmlinux") ? module : "itself", module);
		return buf;
	}
	if (vfs_btf_has_func(module, func))
		return NULL;
	snprintf(buf, len, "%s's BTF has no function %s: renamed, removed or inlined in this kernel",
		 module, func);
	return buf;
}

/*
 * tracefs knows whether an event exists without parsing any BTF: one read
 * of available_events ("system:event" lines), not a walk over every
 * system's directory (eventfs makes each of those lookups costly); read
 * once while a collector opens (tracefs_forget() at its end: the next
 * open reads it afresh), not once per question.
 */
static char *tracefs_events;

static void tracefs_forget(void)
{
	free(tracefs_events);
	tracefs_events = NULL;
}

static const char *tracefs_events_read(void)
{
	static const char *const files[] = {
		"/sys/kernel/tracing/available_events", "/sys/kernel/debug/tracing/available_events",
	};
	size_t r, len = 0, cap = 0;
	char *buf = NULL, *nb;
	FILE *f = NULL;

	if (tracefs_events)
		return tracefs_events;
	for (r = 0; r < sizeof(files) / sizeof(files[0]) && !f; r++)
		f = fopen(files[r], "r");
	if (!f)
		return NULL;
	do {
		if (cap - len < 4096) {
			cap = cap ? 2 * cap : 65536;
			nb = realloc(buf, cap + 1);
			if (!nb) {
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = nb;
		}
		r = fread(buf + len, 1, cap - len, f);
		len += r;
	} while (r);
	fclose(f);
	buf[len] = '\0';
	tracefs_events = buf;
	return buf;
}

static bool tracefs_has_event(const char *tp)
{
	const char *ev = tracefs_events_read(), *at;
	size_t n = strlen(tp);

	/* ":EVENT\n" ends a line whole */
	for (at = ev; at && (at = strchr(at, ':')); at++)
		if (!strncmp(at + 1, tp, n) && (at[1 + n] == '\n' || at[1 + n] == '\0'))
			return true;
	return false;
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

		if (vfs_module_loaded(m) && vfs_kbtf_find(m, type, BTF_KIND_TYPEDEF) > 0) {
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
/* libbpf hands its own format strings through: tell the compiler so */
__attribute__((format(printf, 2, 0)))
static int print_libbpf(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

__attribute__((format(printf, 2, 0)))
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

static int add_map(struct vfs_collector *c, const char *name, int fd, bool owned)
{
	struct named_fd *m;

	/* the kernel keeps 15 characters of a map's name: a longer one
	 * would be found by no reader, here or in a pinned set */
	if (strlen(name) >= sizeof(m->name)) {
		fprintf(stderr, "vfioscope: BPF map name '%s' is longer than %zu characters\n",
			name, sizeof(m->name) - 1);
		return -ENAMETOOLONG;
	}
	m = realloc(c->maps, (c->nmaps + 1) * sizeof(*m));
	if (!m)
		return -ENOMEM;
	c->maps = m;
	snprintf(m[c->nmaps].name, sizeof(m->name), "%s", name);
	m[c->nmaps].owned = owned;
	m[c->nmaps++].fd = fd;
	return 0;
}

static int add_prog(struct vfs_collector *c, int fd, bool owned)
{
	struct attached_prog *p = realloc(c->progs, (c->nprogs + 1) * sizeof(*p));
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);

	if (!p)
		return -ENOMEM;
	c->progs = p;
	p[c->nprogs].fd = fd;
	p[c->nprogs].owned = owned;
	p[c->nprogs++].id = bpf_obj_get_info_by_fd(fd, &info, &len) ? 0 : info.id;
	return 0;
}

static bool prog_known(const struct vfs_collector *c, __u32 id)
{
	size_t i;

	for (i = 0; id && i < c->nprogs; i++)
		if (c->progs[i].id == id)
			return true;
	return false;
}

/* the target a program needs is present on this kernel */
static bool target_present(const struct vfs_prog_spec *s)
{
	char owner[64];

	switch (s->tier) {
	case VFS_TIER_TRACEPOINT:
		return vfs_tracepoint_owner(s->target, owner, sizeof(owner));
	case VFS_TIER_FENTRY:
		return vfs_module_loaded(s->module) && vfs_btf_has_func(s->module, s->target);
	case VFS_TIER_KPROBE:
		return vfs_kprobe_ok(s->module, s->target);
	default:
		return false;
	}
}

static bool wanted(const struct vfs_collector *c, const struct vfs_prog_spec *s)
{
	int i;

	if (!s->any_of)
		return c->tiers[s->cls].tier == s->tier ||
		       (s->also != VFS_TIER_NONE && c->tiers[s->cls].tier == s->also);
	for (i = 0; i < VFS_CLASS_MAX; i++)
		if ((s->any_of & VFS_CLASS_BIT(i)) && c->tiers[i].tier != VFS_TIER_NONE)
			return true;
	return false;
}

/* a link name: "<family>-<program>" (its pin is "link-" and this) */
static void link_name(char *buf, size_t len, const struct vfs_family *f, const char *prog)
{
	snprintf(buf, len, "%s-%s", f->name, prog);
}

/* @s's program is attached in this set already (by us, or pinned by anyone) */
static bool attached(const struct vfs_collector *c, const struct vfs_family *f,
		     const struct vfs_prog_spec *s)
{
	char name[sizeof(c->links->name)], path[PATH_MAX];
	size_t i;

	link_name(name, sizeof(name), f, s->prog);
	for (i = 0; i < c->nlinks; i++)
		if (!strcmp(c->links[i].name, name))
			return true;
	if (!c->pinned)
		return false;
	snprintf(path, sizeof(path), "%s/link-%s", c->root, name);
	return access(path, F_OK) == 0;
}

/* open a family's object: tiers, autoload, sizes, the shared maps */
static int family_open(struct vfs_collector *c, const struct vfs_family *f,
		       struct bpf_object **out, bool late)
{
	static const char *const shared[] = { "events", "drops", "control" };
	int fds[] = { c->events_fd, c->drops_fd, c->control_fd };
	LIBBPF_OPTS(bpf_object_open_opts, oo, .object_name = f->name);
	const void *elf;
	struct bpf_object *obj;
	struct bpf_program *p;
	struct bpf_map *m;
	size_t size, i;
	int err;

	elf = f->elf(&size);
	obj = bpf_object__open_mem(elf, size, &oo);
	if (!obj)
		return -errno;
	f->choose(c);
	bpf_object__for_each_program(p, obj) {
		bool load = false;

		for (i = 0; i < f->nspecs; i++)
			if (!strcmp(f->specs[i].prog, bpf_program__name(p))) {
				load = wanted(c, &f->specs[i]) && target_present(&f->specs[i]) &&
				       !(late && attached(c, f, &f->specs[i]));
				break;
			}
		bpf_program__set_autoload(p, load);
	}
	for (i = 0; c->opts.map_entries && f->sized_maps && f->sized_maps[i]; i++) {
		m = bpf_object__find_map_by_name(obj, f->sized_maps[i]);
		if (m && (err = bpf_map__set_max_entries(m, c->opts.map_entries)))
			goto fail;
	}
	for (i = 0; i < 3; i++) {
		m = bpf_object__find_map_by_name(obj, shared[i]);
		if (m && (err = bpf_map__reuse_fd(m, fds[i])))
			goto fail;
	}
	*out = obj;
	return 0;
fail:
	bpf_object__close(obj);
	return err;
}

/*
 * The maps of bpf/vm.bpf.h: every family that includes it defines them,
 * the first to load creates them and the others reuse them, so a VMM that
 * only drives vhost-vdpa is a VM (named, pins counted) like a VFIO one.
 */
static bool shared_ledger(const char *map)
{
	return !strcmp(map, "vm_info");
}

/*
 * The verifier's own account of each program's load (log level 4: its
 * time and instructions processed, a few lines), to tell its share of the
 * load from libbpf's (BTF, CO-RE). Not with -v: libbpf's full log then.
 */
#define STATS_LOG 512

static char *verifier_stats_ask(const struct vfs_collector *c, struct bpf_object *obj)
{
	struct bpf_program *p;
	size_t n = 0, i = 0;
	char *bufs;

	if (c->opts.verbose)
		return NULL;
	bpf_object__for_each_program(p, obj)
		n += bpf_program__autoload(p);
	bufs = calloc(n ?: 1, STATS_LOG);
	if (!bufs)
		return NULL;
	bpf_object__for_each_program(p, obj) {
		if (!bpf_program__autoload(p))
			continue;
		bpf_program__set_log_buf(p, bufs + i++ * STATS_LOG, STATS_LOG);
		bpf_program__set_log_level(p, 4);
	}
	return bufs;
}

static void verifier_stats_take(struct vfs_collector *c, struct bpf_object *obj, char *bufs)
{
	unsigned long long us, insns;
	struct bpf_program *p;
	const char *log, *l;
	size_t size;

	if (!bufs)
		return;
	bpf_object__for_each_program(p, obj) {
		if (!bpf_program__autoload(p) || !(log = bpf_program__log_buf(p, &size)))
			continue;
		if ((l = strstr(log, "verification time ")) &&
		    sscanf(l, "verification time %llu usec", &us) == 1)
			c->t_verify += us / 1000.0;
		if ((l = strstr(log, "processed ")) && sscanf(l, "processed %llu insns", &insns) == 1)
			c->verified_insns += insns;
		bpf_program__set_log_buf(p, NULL, 0);
	}
	free(bufs);
}

/* load and attach one family; record its maps and programs */
static int family_load(struct vfs_collector *c, const struct vfs_family *f,
		       struct bpf_object *obj, bool late, char *err, size_t errlen)
{
	struct bpf_program *p;
	struct bpf_map *m;
	bool any = false;
	char *stats;
	double t0;
	int r;

	/*
	 * A family none of whose programs serves here (its modules absent,
	 * its classes not asked for) is not loaded: libbpf would still parse
	 * the kernel's BTF for its relocations and create its maps. Readers
	 * find no maps of it and show none of its rows.
	 */
	bpf_object__for_each_program(p, obj)
		any |= bpf_program__autoload(p);
	if (!any)
		return 0;

	/*
	 * One VM ledger: a family loaded earlier made it, later ones write
	 * it. Loaded late (vfs_collector_rescan), a family's programs write
	 * every map of the set they share a name with: the counters its
	 * programs loaded at open already fill, read by the same readers.
	 */
	bpf_object__for_each_map(m, obj) {
		int fd;

		if ((!late && !shared_ledger(bpf_map__name(m))) || strchr(bpf_map__name(m), '.') ||
		    (fd = vfs_collector_map_fd(c, bpf_map__name(m))) < 0)
			continue;
		if ((r = bpf_map__reuse_fd(m, fd))) {
			snprintf(err, errlen, "%s collectors: cannot share the VM map %s: %s",
				 f->name, bpf_map__name(m), strerror(-r));
			return r;
		}
	}
	stats = verifier_stats_ask(c, obj);
	t0 = now_ms();
	r = bpf_object__load(obj);
	c->t_load += now_ms() - t0;
	verifier_stats_take(c, obj, stats);
	t0 = now_ms();
	if (r) {
		snprintf(err, errlen, "%s collectors: cannot load: %s%s", f->name, strerror(-r),
			 r == -EPERM ? " (run as root: BPF needs CAP_BPF and CAP_PERFMON)" :
			 " (run with -v for libbpf's details)");
		return r;
	}
	bpf_object__for_each_program(p, obj) {
		struct named_link *ls;
		struct bpf_link *l;

		if (!bpf_program__autoload(p))
			continue;
		l = bpf_program__attach(p);
		if (!l) {
			r = -errno;
			snprintf(err, errlen, "%s collectors: cannot attach %s: %s", f->name,
				 bpf_program__name(p), strerror(-r));
			return r;
		}
		ls = realloc(c->links, (c->nlinks + 1) * sizeof(*ls));
		if (!ls) {
			bpf_link__destroy(l);
			return -ENOMEM;
		}
		c->links = ls;
		ls[c->nlinks].link = l;
		link_name(ls[c->nlinks++].name, sizeof(ls->name), f, bpf_program__name(p));
		if ((r = add_prog(c, bpf_program__fd(p), false)))
			return r;
	}
	c->t_attach += now_ms() - t0;
	bpf_object__for_each_map(m, obj) {
		const char *name = bpf_map__name(m);

		/* internal maps (.rodata, .bss) and the core's own are not the family's */
		if (strchr(name, '.') || !strcmp(name, "events") || !strcmp(name, "drops") ||
		    !strcmp(name, "control") || vfs_collector_map_fd(c, name) >= 0)
			continue;
		if ((r = add_map(c, name, bpf_map__fd(m), false)))
			return r;
	}
	return 0;
}

/* ------------------------------------------------------------------ pinning */
/*
 * A pinned set is a directory in bpffs: "map-<name>" for every map,
 * "link-<family>-<program>" for every attachment (bpffs reserves dots in
 * names), and "meta", an array map holding the ABI version and the tier
 * choices (so a reader of the set reports what the loader chose, and a set
 * made by another vfioscope version is refused instead of misread).
 */
struct pin_meta {
	__u32 abi;
	__u32 nclass;
	__u32 tier[VFS_CLASS_MAX];
	char reason[VFS_CLASS_MAX][sizeof(((struct vfs_tier_choice *)0)->reason)];
};

static const char *root_of(const struct vfs_collector_opts *o)
{
	return o && o->pin_root ? o->pin_root : VFS_PIN_ROOT;
}

static int mkdir_p(const char *path)
{
	char buf[256], *s;

	snprintf(buf, sizeof(buf), "%s", path);
	for (s = buf + 1; *s; s++)
		if (*s == '/') {
			*s = 0;
			if (mkdir(buf, 0755) && errno != EEXIST)
				return -errno;
			*s = '/';
		}
	return mkdir(buf, 0755) && errno != EEXIST ? -errno : 0;
}

int vfs_collector_unpin(const char *root, char *err, size_t errlen)
{
	char path[PATH_MAX];
	struct dirent *d;
	DIR *dir;
	int r = 0;

	root = root ?: VFS_PIN_ROOT;
	dir = opendir(root);
	if (!dir) {
		if (errno == ENOENT)
			return 0;
		r = -errno;
		snprintf(err, errlen, "cannot open %s: %s", root, strerror(-r));
		return r;
	}
	while ((d = readdir(dir))) {
		if (strncmp(d->d_name, "map-", 4) && strncmp(d->d_name, "link-", 5) &&
		    strcmp(d->d_name, "meta"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", root, d->d_name);
		if (unlink(path) && !r) {
			r = -errno;
			snprintf(err, errlen, "cannot remove %s: %s", path, strerror(-r));
		}
	}
	closedir(dir);
	if (!r && rmdir(root)) {
		r = -errno;
		snprintf(err, errlen, "cannot remove %s: %s", root, strerror(-r));
	}
	return r;
}

static int pin_fd(const char *root, const char *what, const char *name, int fd)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s-%s", root, what, name);
	return bpf_obj_pin(fd, path) ? -errno : 0;
}

/* the meta of this reader's tier choices (and remember them as the set's) */
static void meta_of(struct vfs_collector *c, struct pin_meta *meta)
{
	int i;

	for (i = 0; i < VFS_CLASS_MAX; i++) {
		meta->tier[i] = c->meta_tier[i] = c->tiers[i].tier;
		memcpy(meta->reason[i], c->tiers[i].reason, sizeof(meta->reason[i]));
	}
}

/* pin the maps from @map0 and the links from @link0 on (all of them: 0, 0) */
static int pin_entries(struct vfs_collector *c, size_t map0, size_t link0)
{
	char path[PATH_MAX];
	size_t i;
	int r = 0;

	for (i = map0; !r && i < c->nmaps; i++)
		r = pin_fd(c->root, "map", c->maps[i].name, c->maps[i].fd);
	for (i = link0; !r && i < c->nlinks; i++) {
		snprintf(path, sizeof(path), "%s/link-%s", c->root, c->links[i].name);
		r = bpf_link__pin(c->links[i].link, path);
	}
	return r;
}

static int pin_set(struct vfs_collector *c, char *err, size_t errlen)
{
	struct pin_meta meta = { .abi = VFS_ABI_VERSION, .nclass = VFS_CLASS_MAX };
	char path[PATH_MAX];
	__u32 zero = 0;
	int r, fd;

	if ((r = mkdir_p(c->root))) {
		snprintf(err, errlen, "cannot create %s: %s (is bpffs mounted on /sys/fs/bpf?)",
			 c->root, strerror(-r));
		return r;
	}
	meta_of(c, &meta);
	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "vfs_meta", 4, sizeof(meta), 1, NULL);
	if (fd < 0 || bpf_map_update_elem(fd, &zero, &meta, BPF_ANY)) {
		r = -errno;
		goto fail;
	}
	snprintf(path, sizeof(path), "%s/meta", c->root);
	r = bpf_obj_pin(fd, path) ? -errno : 0;
	close(fd);
	if (!r && !(r = pin_entries(c, 0, 0)))
		return 0;
fail:
	snprintf(err, errlen, "cannot pin the collectors under %s: %s", c->root, strerror(-r));
	vfs_collector_unpin(c->root, path, sizeof(path));
	return r;
}

/*
 * Why a user without CAP_BPF could not open @path (-EACCES or -EPERM from
 * BPF_OBJ_GET): the directory it cannot search, the pin it cannot read, or
 * the sysctl that closes bpf() to such users altogether before Linux 5.19.
 */
static void why_no_access(const char *path, int r, int rdonly, char *err, size_t errlen)
{
	char dir[PATH_MAX], *s;
	int v = -1;
	FILE *f;

	f = fopen("/proc/sys/kernel/unprivileged_bpf_disabled", "r");
	if (f) {
		if (fscanf(f, "%d", &v) != 1)
			v = -1;
		fclose(f);
	}
	/* bpffs answers EACCES; EPERM before any path walk is the sysctl */
	if (r == -EPERM && v > 0) {
		snprintf(err, errlen, "cannot open %s: this kernel refuses every bpf() call of "
			 "a user without CAP_BPF while kernel.unprivileged_bpf_disabled is %d "
			 "(before Linux 5.19 it guards all commands, not only loading): reading "
			 "the pinned collectors needs root (or CAP_BPF) here", path, v);
		return;
	}
	snprintf(dir, sizeof(dir), "%s", path);
	for (s = strchr(dir + 1, '/'); s; s = strchr(s + 1, '/')) {
		*s = 0;
		if (access(dir, X_OK)) {
			snprintf(err, errlen, "cannot open %s: uid %u may not search the directory "
				 "%s (it needs execute permission on every directory up to the "
				 "pins: see the permission recipe in docs/permissions.md)", path,
				 getuid(), dir);
			return;
		}
		*s = '/';
	}
	if (access(path, rdonly ? R_OK : R_OK | W_OK)) {
		snprintf(err, errlen, "cannot open %s: uid %u has no %s permission on it (an "
			 "operator grants it with chgrp and chmod g+r: see docs/permissions.md)",
			 path, getuid(), rdonly ? "read" : "read and write");
		return;
	}
	snprintf(err, errlen, "cannot open %s: %s (reading the pinned collectors needs root, "
		 "or read access to the pins: see docs/permissions.md)", path, strerror(-r));
}

/* BPF_OBJ_GET of @path, read-only for a VFS_SHARE_READ reader */
static int obj_get(const struct vfs_collector *c, const char *path)
{
	LIBBPF_OPTS(bpf_obj_get_opts, o,
		.file_flags = c->opts.share == VFS_SHARE_READ ? BPF_F_RDONLY : 0);

	return bpf_obj_get_opts(path, &o);
}

/* the pinned set's meta: 0, -ENOENT (none), or -errno + @err */
static int read_meta(struct vfs_collector *c, struct pin_meta *meta, char *err, size_t errlen)
{
	bool rdonly = c->opts.share == VFS_SHARE_READ;
	char path[PATH_MAX];
	__u32 zero = 0;
	int r, fd;

	snprintf(path, sizeof(path), "%s/meta", c->root);
	fd = obj_get(c, path);
	if (fd < 0) {
		r = -errno;
		if (r == -EACCES || r == -EPERM)
			why_no_access(path, r, rdonly, err, errlen);
		else if (r != -ENOENT)
			snprintf(err, errlen, "cannot open the pinned collectors (%s): %s", path,
				 strerror(-r));
		return r;
	}
	r = bpf_map_lookup_elem(fd, &zero, meta) ? -errno : 0;
	close(fd);
	if (r || meta->abi != VFS_ABI_VERSION || meta->nclass != VFS_CLASS_MAX) {
		snprintf(err, errlen, "the collectors pinned under %s were made by another "
			 "vfioscope version (ABI %u, this is %u): remove them with "
			 "`vfiostat --unpin`", c->root, r ? 0 : meta->abi, VFS_ABI_VERSION);
		return -EPROTO;
	}
	return 0;
}

/* take the meta's tier choices as this reader's */
static void adopt_tiers(struct vfs_collector *c, const struct pin_meta *meta)
{
	int i;

	for (i = 0; i < VFS_CLASS_MAX; i++) {
		c->tiers[i].tier = meta->tier[i];
		memcpy(c->tiers[i].reason, meta->reason[i], sizeof(c->tiers[i].reason));
		c->meta_tier[i] = meta->tier[i];
	}
}

/*
 * Open the maps and links pinned under c->root that this reader does not
 * hold yet (all of them at open; those a later extension added after it,
 * see vfs_collector_rescan). Returns how many, or -errno + @err.
 */
static int adopt_pins(struct vfs_collector *c, char *err, size_t errlen)
{
	bool rdonly = c->opts.share == VFS_SHARE_READ;
	char path[PATH_MAX];
	struct dirent *d;
	int r = 0, n = 0, fd;
	DIR *dir;

	dir = opendir(c->root);
	if (!dir) {
		r = -errno;
		snprintf(err, errlen, "cannot list %s: %s%s", c->root, strerror(-r),
			 r == -EACCES ? " (it needs read permission: see docs/permissions.md)" : "");
		return r;
	}
	while (!r && (d = readdir(dir))) {
		bool map = !strncmp(d->d_name, "map-", 4);

		/* links open read-write only; a read-only reader needs none */
		if (!map && (rdonly || strncmp(d->d_name, "link-", 5)))
			continue;
		if (map && vfs_collector_map_fd(c, d->d_name + 4) >= 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", c->root, d->d_name);
		fd = obj_get(c, path);
		if (fd < 0) {
			r = -errno;
			if (r == -EACCES || r == -EPERM)
				why_no_access(path, r, rdonly, err, errlen);
			else
				snprintf(err, errlen, "cannot open %s: %s", path, strerror(-r));
		} else if (map) {
			if (!(r = add_map(c, d->d_name + 4, fd, true)))
				n++;
		} else {
			struct bpf_link_info li = {};
			__u32 len = sizeof(li);
			int pfd = -1;

			/* only the program, for its miss counter */
			if (!bpf_obj_get_info_by_fd(fd, &li, &len) && !prog_known(c, li.prog_id))
				pfd = bpf_prog_get_fd_by_id(li.prog_id);
			close(fd);
			if (pfd >= 0 && !(r = add_prog(c, pfd, true)))
				n++;
		}
	}
	closedir(dir);
	return r ?: n;
}

/* adopt the set pinned under c->root: 0, -ENOENT (none), or -errno + @err */
static int open_pinned(struct vfs_collector *c, char *err, size_t errlen)
{
	struct pin_meta meta;
	int r;

	if ((r = read_meta(c, &meta, err, errlen)))
		return r;
	adopt_tiers(c, &meta);
	if ((r = adopt_pins(c, err, errlen)) < 0)
		return r;
	c->events_fd = vfs_collector_map_fd(c, "events");
	c->drops_fd = vfs_collector_map_fd(c, "drops");
	c->control_fd = vfs_collector_map_fd(c, "control");
	if (c->events_fd < 0 || c->drops_fd < 0 || c->control_fd < 0) {
		snprintf(err, errlen, "the collectors pinned under %s are incomplete: remove "
			 "them with `vfiostat --unpin`", c->root);
		return -EPROTO;
	}
	c->pinned = true;
	return 0;
}

/* load every family in this process (and pin the set when asked) */
static int load_all(struct vfs_collector *c, char *err, size_t errlen)
{
	struct vfs_control ctl = { .stream = VFS_STREAM_DEFAULT };
	__u32 zero = 0;
	double t0;
	size_t i;
	int r = 0;

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
		return r;
	}
	if ((r = add_map(c, "events", c->events_fd, true)))
		return r;
	c->drops_fd = bpf_map_create(BPF_MAP_TYPE_PERCPU_ARRAY, "drops", 4, 8, VFS_DROP_MAX, NULL);
	if (c->drops_fd < 0 || (r = add_map(c, "drops", c->drops_fd, true)))
		goto nomap;
	c->control_fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "control", 4, sizeof(ctl), 1, NULL);
	if (c->control_fd < 0 || (r = add_map(c, "control", c->control_fd, true)))
		goto nomap;
	bpf_map_update_elem(c->control_fd, &zero, &ctl, BPF_ANY);

	t0 = now_ms();
	for (i = 0; i < NR_FAMILIES; i++) {
		r = family_open(c, families[i], &c->obj[i], false);
		if (r) {
			snprintf(err, errlen, "%s collectors: cannot open: %s", families[i]->name,
				 strerror(-r));
			return r;
		}
	}
	c->t_probe = now_ms() - t0;
	for (i = 0; i < NR_FAMILIES; i++)
		if ((r = family_load(c, families[i], c->obj[i], false, err, errlen)))
			return r;
	if (c->opts.share == VFS_SHARE_PIN) {
		if ((r = pin_set(c, err, errlen)))
			return r;
		c->pinned = true;
	}
	return 0;
nomap:
	r = r ?: -errno;
	snprintf(err, errlen, "cannot create BPF maps: %s", strerror(-r));
	return r;
}

int vfs_collector_open(struct vfs_collector **out, const struct vfs_collector_opts *opts,
		       char *err, size_t errlen)
{
	struct vfs_collector *c;
	int r, i;

	*out = NULL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	if (opts)
		c->opts = *opts;
	c->events_fd = c->drops_fd = c->control_fd = c->stream_lock = -1;
	snprintf(c->root, sizeof(c->root), "%s", root_of(opts));
	libbpf_set_print(c->opts.verbose ? print_libbpf_verbose : print_libbpf);
	/* without them libbpf finds the same targets, only slower */
	vfs_kbtf_attach_handlers();

	if (access("/sys/kernel/btf/vmlinux", R_OK))
		snprintf(err, errlen, "note: the kernel has no BTF (/sys/kernel/btf/vmlinux): "
			 "only counts per process and command are possible");

	r = -ENOENT;
	if (c->opts.share != VFS_SHARE_PRIVATE) {
		r = open_pinned(c, err, errlen);
		if (r && r != -ENOENT)
			goto fail;
		for (i = 0; !r && i < VFS_CLASS_MAX; i++)
			if (c->opts.force[i] != VFS_TIER_NONE) {
				snprintf(err, errlen, "tiers cannot be forced on the collectors "
					 "pinned under %s: use a private set", c->root);
				r = -EINVAL;
				goto fail;
			}
	}
	if (r == -ENOENT && c->opts.share == VFS_SHARE_READ) {
		snprintf(err, errlen, "no collectors are pinned under %s: without root only a "
			 "pinned set can be read (root pins one with `vfiostat --pin`)", c->root);
		goto fail;
	}
	if (r == -ENOENT && (r = load_all(c, err, errlen)))
		goto fail;
	modules_signature(&c->modsig);
	c->rescan_ms = now_ms();
	tracefs_forget();
	*out = c;
	return 0;
fail:
	tracefs_forget();
	vfs_collector_close(c);
	return r;
}

/* ------------------------------------------------------ modules loaded later */
/*
 * vfio-pci is often loaded after the collectors opened: when the first VM
 * with a passed-through device starts (libvirt's nodedev-detach loads it),
 * as are vhost_vdpa, mdev parents and variant drivers. A service started
 * at boot would report those classes unsupported until restarted. So the
 * readers call vfs_collector_rescan() as they go: when the kernel's list
 * of modules changed, each family is probed again, and the programs that
 * can serve now are loaded and attached in an object of their own whose
 * maps are the set's (same counters, same readers). A class served
 * already keeps its tier and its programs: nothing is attached twice,
 * nothing counted twice.
 */

/*
 * A hash of the names in /proc/modules into @sig: 0, or -EAGAIN while one
 * is still loading or unloading (its BTF or functions may not be there
 * yet: @sig is left as it was, so the next settled look sees a change), or
 * -errno (a kernel without modules).
 */
static int modules_signature(__u64 *sig)
{
	__u64 h = 14695981039346656037ull;
	char *line = NULL, *s;
	size_t cap = 0;
	bool settled = true;
	FILE *f = fopen("/proc/modules", "re");

	if (!f)
		return -errno;
	/* "name size refs deps state address" */
	while (getline(&line, &cap, f) > 0) {
		char name[64], state[16];

		if (sscanf(line, "%63s %*s %*s %*s %15s", name, state) != 2)
			continue;
		settled &= !strcmp(state, "Live");
		for (s = name; *s; s++)
			h = (h ^ (unsigned char)*s) * 1099511628211ull;
		h = (h ^ ' ') * 1099511628211ull;
	}
	free(line);
	fclose(f);
	if (!settled)
		return -EAGAIN;
	*sig = h;
	return 0;
}

/*
 * A pinned set extended since this reader last looked (its meta's tiers
 * changed): adopt the new maps and links, and the tiers. Returns how many
 * maps and programs were added, or -errno + @err.
 */
static int readopt(struct vfs_collector *c, char *err, size_t errlen)
{
	struct pin_meta meta;
	int r;

	if ((r = read_meta(c, &meta, err, errlen)))
		return r;
	if (!memcmp(meta.tier, c->meta_tier, sizeof(meta.tier)))
		return 0;
	adopt_tiers(c, &meta);
	return adopt_pins(c, err, errlen);
}

/* pin what an extension added (maps from @map0, links from @link0), and its tiers */
static int pin_more(struct vfs_collector *c, size_t map0, size_t link0)
{
	struct pin_meta meta = { .abi = VFS_ABI_VERSION, .nclass = VFS_CLASS_MAX };
	char path[PATH_MAX];
	__u32 zero = 0;
	int r, fd;

	if ((r = pin_entries(c, map0, link0)))
		return r;
	meta_of(c, &meta);
	snprintf(path, sizeof(path), "%s/meta", c->root);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return -errno;
	r = bpf_map_update_elem(fd, &zero, &meta, BPF_ANY) ? -errno : 0;
	close(fd);
	return r;
}

/*
 * Load and attach what family @f can serve now and has not attached yet.
 * All or nothing: on a failure what it attached is detached, and the
 * classes it would have served say why. Returns how many programs and
 * maps it added, or -errno + @err.
 */
static int extend_family(struct vfs_collector *c, const struct vfs_family *f,
			 char *err, size_t errlen)
{
	struct vfs_tier_choice was[VFS_CLASS_MAX];
	size_t nlinks = c->nlinks, nprogs = c->nprogs, nmaps = c->nmaps;
	struct bpf_object *obj, **late;
	int r, i;

	memcpy(was, c->tiers, sizeof(was));
	r = family_open(c, f, &obj, true);
	if (r) {
		memcpy(c->tiers, was, sizeof(was));
		snprintf(err, errlen, "%s collectors: cannot open: %s", f->name, strerror(-r));
		return r;
	}
	/*
	 * Its choice ran again and the autoloads follow it (family_open). A
	 * class served already keeps its tier (the programs on it stay), and
	 * takes the new reason only where the choice is the same tier.
	 */
	for (i = 0; i < VFS_CLASS_MAX; i++)
		if (was[i].tier != VFS_TIER_NONE && c->tiers[i].tier != was[i].tier)
			c->tiers[i] = was[i];
	r = family_load(c, f, obj, true, err, errlen);
	if (!r && c->nlinks > nlinks) {
		late = realloc(c->late, (c->nlate + 1) * sizeof(*late));
		if (late) {
			c->late = late;
			late[c->nlate++] = obj;
			return (int)(c->nlinks - nlinks + c->nmaps - nmaps);
		}
		r = -ENOMEM;
		snprintf(err, errlen, "%s collectors: out of memory", f->name);
	}
	while (c->nlinks > nlinks)
		bpf_link__destroy(c->links[--c->nlinks].link);
	c->nprogs = nprogs;
	c->nmaps = nmaps;
	bpf_object__close(obj);
	for (i = 0; i < VFS_CLASS_MAX; i++) {
		if (was[i].tier != VFS_TIER_NONE) {
			c->tiers[i] = was[i];
			continue;
		}
		if (r && c->tiers[i].tier != VFS_TIER_NONE)
			snprintf(c->tiers[i].reason, sizeof(c->tiers[i].reason),
				 "could serve since a module appeared, but: %.140s", err);
		else if (c->tiers[i].tier != VFS_TIER_NONE)
			c->tiers[i] = was[i];	/* nothing of it could attach */
		c->tiers[i].tier = VFS_TIER_NONE;
	}
	return r;
}

/*
 * The readers' hook for modules loaded later (see the top of this part):
 * at most once a second, a look at /proc/modules and, on a pinned set, at
 * its meta; the families are probed again only when the modules changed.
 */
int vfs_collector_rescan(struct vfs_collector *c, char *msg, size_t msglen)
{
	char why[256] = "";
	double now = now_ms();
	int r, n = 0, lock = -1;
	size_t i, map0, link0;
	__u64 sig;

	msg[0] = '\0';
	if (now - c->rescan_ms < 1000)
		return 0;
	c->rescan_ms = now;
	if (c->pinned) {
		if ((r = readopt(c, why, sizeof(why))) < 0)
			goto out;
		n += r;
	}
	if (modules_signature(&sig) || sig == c->modsig)
		goto out;
	c->modsig = sig;
	/* a read-only reader loads nothing: it sees what a loader adds */
	if (c->opts.share == VFS_SHARE_READ)
		goto out;
	if (c->pinned) {
		/* one extender of a pinned set at a time, on what it holds now */
		lock = open(c->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (lock < 0 || flock(lock, LOCK_EX)) {
			snprintf(why, sizeof(why), "cannot lock %s to extend it: %s", c->root,
				 strerror(errno));
			goto out;
		}
		if ((r = readopt(c, why, sizeof(why))) < 0)
			goto out;
		n += r;
	}
	map0 = c->nmaps;
	link0 = c->nlinks;
	for (i = 0; i < NR_FAMILIES; i++) {
		char e[256];

		r = extend_family(c, families[i], e, sizeof(e));
		if (r > 0)
			n += r;
		else if (r < 0 && !why[0])
			snprintf(why, sizeof(why), "%s", e);
	}
	if (c->pinned && c->nlinks > link0 && (r = pin_more(c, map0, link0)))
		snprintf(why, sizeof(why), "cannot pin the collectors added under %s: %s",
			 c->root, strerror(-r));
	tracefs_forget();
out:
	if (lock >= 0)
		close(lock);
	if (n > 0)
		c->gen++;
	/* a failure is said once: the same one a second later is no news */
	if (strcmp(why, c->rescan_why)) {
		snprintf(c->rescan_why, sizeof(c->rescan_why), "%s", why);
		if (why[0])
			snprintf(msg, msglen, "a module loaded since the start could not be "
				 "served: %s", why);
	}
	if (n > 0 && !msg[0])
		snprintf(msg, msglen, "the kernel's modules changed: %d maps and programs added "
			 "(--features says what each class uses now)", n);
	return n > 0 ? n : 0;
}

unsigned int vfs_collector_generation(const struct vfs_collector *c)
{
	return c->gen;
}

__u64 vfs_collector_gc_grace_ns(const struct vfs_collector *c)
{
	return c->opts.gc_grace_ns ?: VFS_GC_GRACE_NS;
}

bool vfs_collector_shared(const struct vfs_collector *c)
{
	return c->pinned;
}

void vfs_collector_close(struct vfs_collector *c)
{
	size_t i;

	if (!c)
		return;
	ring_buffer__free(c->rb);
	/* pinned links stay attached: destroying ours only drops this reference */
	for (i = 0; i < c->nlinks; i++)
		bpf_link__destroy(c->links[i].link);
	for (i = 0; i < c->nlearned; i++)
		learned_free(&c->learned[i]);
	free(c->learned);
	for (i = 0; i < NR_FAMILIES; i++)
		bpf_object__close(c->obj[i]);
	/* the objects closed their own maps and programs; the rest are ours */
	for (i = 0; i < c->nmaps; i++)
		if (c->maps[i].owned)
			close(c->maps[i].fd);
	for (i = 0; i < c->nlate; i++)
		bpf_object__close(c->late[i]);
	free(c->late);
	for (i = 0; i < c->nprogs; i++)
		if (c->progs[i].owned)
			close(c->progs[i].fd);
	if (c->stream_lock >= 0)
		close(c->stream_lock);
	free(c->links);
	free(c->maps);
	free(c->progs);
	free(c);
}

int vfs_collector_map_fd(const struct vfs_collector *c, const char *map)
{
	size_t i;

	for (i = 0; i < c->nmaps; i++)
		if (!strcmp(c->maps[i].name, map))
			return c->maps[i].fd;
	return -ENOENT;
}

void vfs_collector_dump(struct vfs_collector *c, struct vfs_dump *d)
{
	const char *const *row;
	__u64 drops[VFS_DROP_MAX];
	size_t i;

	for (i = 0; i < NR_FAMILIES; i++)
		for (row = families[i]->rows; row && *row; row++)
			vfs_dump_declare(d, *row);
	for (i = 0; i < NR_FAMILIES; i++)
		families[i]->dump(c, d);
	if (!vfs_collector_drops(c, drops))
		for (i = 0; i < VFS_DROP_MAX; i++)
			if (drop_names[i])
				vfs_dump_pair(d, "drops", drop_names[i], drops[i]);
}

static int rb_trampoline(void *ctx, void *data, size_t size)
{
	struct vfs_collector *c = ctx;
	const struct vfs_event_hdr *h = data;

	if (size < sizeof(*h) || h->size > size)
		return 0;	/* a foreign or truncated record: ignore it */
	return c->cb ? c->cb(c->cb_user, h, size) : 0;
}

#define STREAM_LOCK_DIR "/run/vfioscope"

/* one lock file per pin root: the root's path, flattened */
static void lock_path(const struct vfs_collector *c, char *buf, size_t len)
{
	char *s;

	snprintf(buf, len, STREAM_LOCK_DIR "/stream%s.lock", c->root);
	for (s = buf + strlen(STREAM_LOCK_DIR) + 1; *s; s++)
		if (*s == '/')
			*s = '_';
}

static int stream_fail(struct vfs_collector *c, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int stream_fail(struct vfs_collector *c, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->stream_why, sizeof(c->stream_why), fmt, ap);
	va_end(ap);
	return err;
}

/*
 * A pinned set's ring buffer has one consumer: a POSIX lock names it. The
 * lock is ours alone (root's): directory 0700, file 0600, neither followed
 * if a symbolic link. Anyone who can open the file can hold the lock and
 * starve the daemon's event and migration figures, so a directory or file
 * in the way that belongs to someone else, or is not a directory or a
 * regular file, is refused with a sentence; one of ours that others could
 * open (an older version's 0644 file) is made anew.
 */
static int take_stream(struct vfs_collector *c)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	char path[PATH_MAX];
	const char *name;
	struct stat st;
	int dfd, fd, err;

	c->stream_why[0] = '\0';
	if (mkdir(STREAM_LOCK_DIR, 0700) && errno != EEXIST)
		return stream_fail(c, -errno, "cannot create %s: %s", STREAM_LOCK_DIR,
				   strerror(errno));
	dfd = open(STREAM_LOCK_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0)
		return stream_fail(c, -errno, "cannot open %s: %s", STREAM_LOCK_DIR,
				   errno == ELOOP || errno == ENOTDIR ?
				   "not a directory (a symbolic link?)" : strerror(errno));
	if (fstat(dfd, &st)) {
		err = stream_fail(c, -errno, "cannot stat %s: %s", STREAM_LOCK_DIR, strerror(errno));
		goto out_dir;
	}
	if (st.st_uid != geteuid()) {
		err = stream_fail(c, -EPERM, "%s belongs to uid %u, not to this uid %u: the "
				  "stream lock is not taken there", STREAM_LOCK_DIR,
				  (unsigned int)st.st_uid, (unsigned int)geteuid());
		goto out_dir;
	}
	/* others may not add or replace files in it */
	if ((st.st_mode & (S_IWGRP | S_IWOTH)) &&
	    fchmod(dfd, st.st_mode & 0755 & ~(S_IWGRP | S_IWOTH))) {
		err = stream_fail(c, -errno, "%s is writable by others and cannot be "
				  "changed: %s", STREAM_LOCK_DIR, strerror(errno));
		goto out_dir;
	}
	lock_path(c, path, sizeof(path));
	name = path + strlen(STREAM_LOCK_DIR) + 1;
	fd = openat(dfd, name, O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0600);
	if (fd >= 0 && !fstat(fd, &st) && S_ISREG(st.st_mode) && st.st_uid == geteuid() &&
	    (st.st_mode & 077)) {
		/* ours but open to others, who may hold it open: a new one */
		close(fd);
		if (unlinkat(dfd, name, 0)) {
			err = stream_fail(c, -errno, "cannot replace %s (mode %04o): %s", path,
					  (unsigned int)(st.st_mode & 07777), strerror(errno));
			goto out_dir;
		}
		fd = openat(dfd, name, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	}
	if (fd < 0) {
		err = stream_fail(c, -errno, "cannot open the stream lock %s: %s", path,
				  errno == ELOOP ? "a symbolic link" : strerror(errno));
		goto out_dir;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_uid != geteuid()) {
		err = stream_fail(c, -EPERM, "the stream lock %s is not a regular file of uid "
				  "%u (owner uid %u, mode %04o): others could hold it; remove it",
				  path, (unsigned int)geteuid(), (unsigned int)st.st_uid,
				  (unsigned int)(st.st_mode & 07777));
		goto out_fd;
	}
	if (fcntl(fd, F_SETLK, &fl)) {
		struct flock who = { .l_type = F_WRLCK, .l_whence = SEEK_SET };

		if (fcntl(fd, F_GETLK, &who) || who.l_type == F_UNLCK)
			who.l_pid = 0;
		err = stream_fail(c, -EBUSY, "the event stream is read by pid %d (it holds %s)",
				  (int)who.l_pid, path);
		goto out_fd;
	}
	close(dfd);
	c->stream_lock = fd;
	return 0;
out_fd:
	close(fd);
out_dir:
	close(dfd);
	return err;
}

const char *vfs_collector_stream_error(const struct vfs_collector *c)
{
	return c->stream_why;
}

int vfs_collector_stream_holder(const struct vfs_collector *c)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	char path[PATH_MAX];
	int fd, pid = 0;

	if (!c->pinned)
		return 0;
	if (c->stream_lock >= 0)
		return getpid();
	lock_path(c, path, sizeof(path));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	if (!fcntl(fd, F_GETLK, &fl) && fl.l_type != F_UNLCK)
		pid = fl.l_pid;
	close(fd);
	return pid;
}

/* ------------------------------------------------- learned migration f_ops */
/*
 * Migration data fds carry their driver's own file_operations: there is no
 * common function to attach to on a stock kernel. bpf/vfio.bpf.c queues
 * each f_op it sees on a data fd a state change returned (map mig_fops);
 * the process that consumes the stream attaches bpf/migfops.bpf.c's
 * programs to that f_op's read, write, unlocked_ioctl and release, by the
 * names /proc/kallsyms gives their addresses, through the owning module's
 * BTF. Bytes an fd moved before the attach are recovered from its f_pos
 * (struct vfs_ev_mig_data.unseen: by the first event after it, the sweep
 * at the device's next state change, or its release). On a pinned set
 * the links are pinned with it ("link-learned-<f_op>-<program>"), so the
 * next reader finds them there and attaches nothing twice.
 */
#define NLEARNED 4
static const char *const learned_progs[NLEARNED] = { "migf_read", "migf_write", "migf_ioctl",
						     "migf_release" };

static void learned_free(struct learned_fops *l)
{
	struct bpf_program *p;
	int i;

	for (i = 0; i < NLEARNED; i++)
		bpf_link__destroy(l->links[i]);
	memset(l->links, 0, sizeof(l->links));
	if (l->obj) {
		bpf_object__for_each_program(p, l->obj)
			vfs_kbtf_forget_target(p);
		bpf_object__close(l->obj);
		l->obj = NULL;
	}
}

/* /proc/kallsyms, read once per batch of newly learned f_ops */
static char *ksyms_read(void)
{
	size_t len = 0, cap = 1 << 20;
	char *buf = malloc(cap), *nb;
	ssize_t n;
	int fd = open("/proc/kallsyms", O_RDONLY | O_CLOEXEC);

	if (fd < 0 || !buf)
		goto fail;
	while ((n = read(fd, buf + len, cap - len - 1)) > 0) {
		len += (size_t)n;
		if (cap - len - 1 < 65536) {
			nb = realloc(buf, cap * 2);
			if (!nb)
				goto fail;
			buf = nb;
			cap *= 2;
		}
	}
	if (n < 0)
		goto fail;
	close(fd);
	buf[len] = '\0';
	return buf;
fail:
	if (fd >= 0)
		close(fd);
	free(buf);
	return NULL;
}

/*
 * One kallsyms line: "ADDR TYPE NAME[\t[MODULE]]", a function's (t or T);
 * pointers into the line, lengths; false for anything else.
 */
struct ksym_line {
	unsigned long long addr;
	const char *name, *mod;
	size_t nlen, mlen;
};

static bool ksym_parse(const char *l, struct ksym_line *k)
{
	char *e;

	k->addr = strtoull(l, &e, 16);
	if (e == l || e[0] != ' ' || (e[1] != 't' && e[1] != 'T') || e[2] != ' ')
		return false;
	k->name = e + 3;
	k->nlen = strcspn(k->name, "\t\n");
	k->mod = "vmlinux";
	k->mlen = 7;
	if (k->name[k->nlen] == '\t' && k->name[k->nlen + 1] == '[') {
		k->mod = k->name + k->nlen + 2;
		k->mlen = strcspn(k->mod, "]\n");
	}
	return true;
}

static const char *ksym_next(const char *l)
{
	l = strchr(l, '\n');
	return l ? l + 1 : NULL;
}

/* the function at @addr in @ksyms: name and module; -ENOENT, -ENOTUNIQ, -ENAMETOOLONG */
static int ksym_at(const char *ksyms, __u64 addr, char name[128], char module[64])
{
	struct ksym_line k, f = { 0 };
	const char *l;
	int dups = 0;

	for (l = ksyms; l && *l && !f.name; l = ksym_next(l))
		if (ksym_parse(l, &k) && k.addr == addr)
			f = k;
	if (!f.name)
		return -ENOENT;
	if (f.nlen >= 128 || f.mlen >= 64)
		return -ENAMETOOLONG;
	memcpy(name, f.name, f.nlen);
	name[f.nlen] = '\0';
	memcpy(module, f.mod, f.mlen);
	module[f.mlen] = '\0';
	/* a static function's name may be another's in the same module */
	for (l = ksyms; l && *l; l = ksym_next(l))
		if (ksym_parse(l, &k) && k.addr != addr && k.nlen == f.nlen && k.mlen == f.mlen &&
		    !memcmp(k.name, f.name, f.nlen) && !memcmp(k.mod, f.mod, f.mlen))
			dups++;
	return dups ? -ENOTUNIQ : 0;
}

static int learned_pin_path(const struct vfs_collector *c, __u64 fops, int i, char *buf,
			    size_t len)
{
	return snprintf(buf, len, "%s/link-learned-%llx-%s", c->root, (unsigned long long)fops,
			learned_progs[i]);
}

/* attach to one learned f_op; reasons it cannot go to stderr, once */
static int learn_one(struct vfs_collector *c, struct learned_fops *l,
		     const struct vfs_fops_val *v, const char *ksyms)
{
	static const char *const shared[] = { "events", "drops", "control", "mig_files",
					      "mig_fops", "mig_tp_objs" };
	LIBBPF_OPTS(bpf_object_open_opts, oo, .object_name = "migfops");
	const __u64 addr[NLEARNED] = { v->read, v->write, v->ioctl, v->release };
	char name[NLEARNED][128], module[NLEARNED][64], path[PATH_MAX];
	const void *elf;
	struct bpf_program *p;
	struct bpf_map *m;
	size_t size, i;
	int r, n = 0;

	for (i = 0; i < NLEARNED; i++) {
		name[i][0] = '\0';
		if (!addr[i])
			continue;
		r = ksyms ? ksym_at(ksyms, addr[i], name[i], module[i]) : -ENOENT;
		/* a migration driver's own function, never one the kernel shares */
		if (!r && !strcmp(module[i], "vmlinux"))
			r = -EPERM;
		if (r) {
			fprintf(stderr, "vfioscope: migration data: the %s function of f_op %llx "
				"cannot be named (%s): not attached\n", learned_progs[i] + 5,
				(unsigned long long)l->fops, r == -ENOTUNIQ ?
				"its name is not unique in its module" : r == -EPERM ?
				"it is the kernel's, not a driver module's" : "not in /proc/kallsyms");
			name[i][0] = '\0';
			continue;
		}
		/* another reader of this pinned set attached it already */
		learned_pin_path(c, l->fops, (int)i, path, sizeof(path));
		if (c->pinned && !access(path, F_OK)) {
			name[i][0] = '\0';
			continue;
		}
		n++;
	}
	if (!n)
		return 0;
	elf = migfops_bpf__elf_bytes(&size);
	l->obj = bpf_object__open_mem(elf, size, &oo);
	if (!l->obj) {
		r = -errno;
		goto fail;
	}
	for (i = 0; i < sizeof(shared) / sizeof(shared[0]); i++) {
		int fd = vfs_collector_map_fd(c, shared[i]);

		m = bpf_object__find_map_by_name(l->obj, shared[i]);
		if (!m || fd < 0 || (r = bpf_map__reuse_fd(m, fd))) {
			r = m && fd >= 0 ? r : -ENOENT;
			goto fail;
		}
	}
	bpf_object__for_each_program(p, l->obj) {
		for (i = 0; i < NLEARNED && strcmp(bpf_program__name(p), learned_progs[i]); i++)
			;
		bpf_program__set_autoload(p, i < NLEARNED && name[i][0]);
		if (i < NLEARNED && name[i][0] &&
		    (r = vfs_kbtf_set_target(p, module[i], name[i])))
			goto fail;
	}
	if ((r = bpf_object__load(l->obj)))
		goto fail;
	/* all attached, or none: a failed f_op leaves no program behind */
	for (i = 0; i < NLEARNED; i++) {
		p = bpf_object__find_program_by_name(l->obj, learned_progs[i]);
		if (!name[i][0] || !p)
			continue;
		l->links[i] = bpf_program__attach(p);
		if (!l->links[i]) {
			r = -errno;
			goto fail;
		}
	}
	for (i = 0; i < NLEARNED; i++) {
		if (!l->links[i])
			continue;
		p = bpf_object__find_program_by_name(l->obj, learned_progs[i]);
		if ((r = add_prog(c, bpf_program__fd(p), false)))
			return r;	/* attached all the same: only its misses go uncounted */
		learned_pin_path(c, l->fops, (int)i, path, sizeof(path));
		if (c->pinned && (r = bpf_link__pin(l->links[i], path)))
			fprintf(stderr, "vfioscope: migration data: cannot pin %s: %s (attached "
				"while this reader runs)\n", path, strerror(-r));
		if (c->opts.verbose)
			fprintf(stderr, "vfioscope: migration data: %s on %s [%s]\n",
				i == NLEARNED - 1 ? "fentry" : "fexit", name[i], module[i]);
	}
	return 0;
fail:
	fprintf(stderr, "vfioscope: migration data: cannot attach to the data fd functions "
		"%s %s %s %s: %s\n", name[0], name[1], name[2], name[3], strerror(-r));
	learned_free(l);
	return r;
}

/* CLOCK_MONOTONIC in ms: bpf_ktime_get_ns()'s clock */
static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* attach to every f_op learned since the last call (the stream's reader) */
static void learn_fops(struct vfs_collector *c)
{
	const struct vfs_tier_choice *t = &c->tiers[VFS_CLASS_MIG_DATA];
	int fd = vfs_collector_map_fd(c, "mig_fops");
	__u64 key, *prev = NULL;
	struct vfs_fops_val v;
	char *ksyms = NULL;
	double t0, t1;
	size_t i;

	if (fd < 0 || t->tier == VFS_TIER_NONE || t->tier == VFS_TIER_KPROBE)
		return;
	while (!bpf_map_get_next_key(fd, prev, &key)) {
		struct learned_fops *l;

		prev = &key;
		for (i = 0; i < c->nlearned && c->learned[i].fops != key; i++)
			;
		if (i < c->nlearned || bpf_map_lookup_elem(fd, &key, &v))
			continue;
		l = realloc(c->learned, (c->nlearned + 1) * sizeof(*l));
		if (!l)
			return;
		c->learned = l;
		l = &c->learned[c->nlearned++];
		memset(l, 0, sizeof(*l));
		l->fops = key;
		t0 = now_ms();
		if (!ksyms)
			ksyms = ksyms_read();
		t1 = now_ms();
		learn_one(c, l, &v, ksyms);
		if (c->opts.verbose)
			fprintf(stderr, "vfioscope: migration data: f_op %llx attached %.0f ms after "
				"it was seen (kallsyms %.0f ms, load and attach %.0f ms)\n",
				(unsigned long long)key, now_ms() - (double)v.first_ns / 1e6,
				t1 - t0, now_ms() - t1);
	}
	free(ksyms);
}

int vfs_collector_poll(struct vfs_collector *c, int timeout_ms, vfs_event_cb cb, void *user)
{
	int r;

	c->cb = cb;
	c->cb_user = user;
	if (c->opts.share == VFS_SHARE_READ)
		return -EACCES;	/* consuming moves the ring's read position: a write */
	learn_fops(c);
	if (!c->rb) {
		if (c->pinned && c->stream_lock < 0 && (r = take_stream(c)))
			return r;
		c->rb = ring_buffer__new(c->events_fd, rb_trampoline, c, NULL);
		if (!c->rb)
			return -errno;
	}
	r = ring_buffer__poll(c->rb, timeout_ms);
	/* the programs wake us only past a fill level: drain what came anyway */
	if (r == 0)
		r = ring_buffer__consume(c->rb);
	return r;
}

int vfs_collector_stream(struct vfs_collector *c, __u32 stream_mask)
{
	struct vfs_control ctl = { .stream = VFS_STREAM_DEFAULT };
	__u32 zero = 0;

	/* on a shared set, never take away what another reader asked for */
	if (c->pinned)
		bpf_map_lookup_elem(c->control_fd, &zero, &ctl);
	ctl.stream |= stream_mask;
	return bpf_map_update_elem(c->control_fd, &zero, &ctl, BPF_ANY) ? -errno : 0;
}

static __u64 recursion_misses(const struct vfs_collector *c)
{
	__u64 n = 0;
	size_t i;

	for (i = 0; i < c->nprogs; i++) {
		struct bpf_prog_info info = {};
		__u32 len = sizeof(info);

		if (!bpf_obj_get_info_by_fd(c->progs[i].fd, &info, &len))
			n += info.recursion_misses;
	}
	return n;
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
	out[VFS_DROP_RECURSION] += recursion_misses(c);
	return 0;
}
