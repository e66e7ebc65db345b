// SPDX-License-Identifier: GPL-2.0
/*
 * Applying a compiled policy to the pinned maps as a diff, the discovery
 * of processes selected by name or pid (a /proc scan every
 * discovery_interval_ms), RLIMIT_MEMLOCK on their processes, the reference
 * mdev driver's knobs, and the control socket's status and vms replies.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "identity.h"
#include "policyd.h"
#include "vec.h"

#define CGROUP2_ROOT "/sys/fs/cgroup"
#define CAP_IPC_LOCK_BIT 14

int pd_cgroup_id(const char *path, uint64_t *id, void *ctx)
{
	char full[512];
	struct stat st;

	snprintf(full, sizeof(full), "%s%s", CGROUP2_ROOT, path);
	if (stat(full, &st))
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	*id = st.st_ino;
	return 0;
}

/* make map @m hold exactly @n entries (packed @keys, @vals) */
static int sync_map(struct pd_state *s, enum pd_map m, const void *keys, const void *vals,
		    size_t n, size_t ksize, size_t vsize, char *err, size_t errlen)
{
	struct pd_entries cur = { 0 }, want = { n, ksize, vsize, keys, vals };
	void *ck = NULL, *cv = NULL;
	struct pd_op *ops = NULL;
	size_t i, nops;
	int r;

	r = pd_bpf_dump(s->bpf, m, &ck, &cv, &cur.n, &cur.ksize, &cur.vsize);
	if (r) {
		snprintf(err, errlen, "cannot read a policy map: %s", strerror(-r));
		return -1;
	}
	cur.keys = ck;
	cur.vals = cv;
	if (cur.ksize != ksize || cur.vsize != vsize) {
		snprintf(err, errlen, "a pinned policy map has another layout: `vfio-policyd --unload` first");
		r = -1;
		goto out;
	}
	ops = calloc(cur.n + n + 1, sizeof(*ops));
	if (!ops) {
		snprintf(err, errlen, "out of memory");
		r = -1;
		goto out;
	}
	nops = pd_diff(&cur, &want, ops);
	for (i = 0; i < nops && !r; i++) {
		if (ops[i].op == PD_OP_UPDATE)
			r = pd_bpf_update(s->bpf, m, (const char *)keys + ops[i].index * ksize,
					  (const char *)vals + ops[i].index * vsize);
		else
			r = pd_bpf_delete(s->bpf, m, (const char *)ck + ops[i].index * ksize);
		if (r)
			snprintf(err, errlen, "cannot update a policy map: %s", strerror(-r));
	}
out:
	free(ops);
	free(ck);
	free(cv);
	return r ? -1 : 0;
}

/* targets: discovered processes first (file order), then static ones */
static int sync_targets(struct pd_state *s, const struct pd_compiled *c, char *err,
			size_t errlen)
{
	size_t n = 0, i, j;
	struct vfs_pol_target *k = calloc(s->nvms + c->ntargets + 1, sizeof(*k));
	uint32_t *v = calloc(s->nvms + c->ntargets + 1, sizeof(*v));
	int r = -1;

	if (!k || !v) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	for (i = 0; i < s->nvms; i++) {
		k[n] = (struct vfs_pol_target){ .id = (uint64_t)s->vms[i].pid, .kind = VFS_POL_T_TGID };
		v[n++] = s->vms[i].rule;
	}
	for (i = 0; i < c->ntargets; i++) {
		for (j = 0; j < n; j++)
			if (!memcmp(&k[j], &c->targets[i].key, sizeof(k[j])))
				break;
		if (j < n || (c->targets[i].key.kind == VFS_POL_T_TGID &&
			      kill((pid_t)c->targets[i].key.id, 0) && errno == ESRCH))
			continue;
		k[n] = c->targets[i].key;
		v[n++] = c->targets[i].rule;
	}
	r = sync_map(s, PD_MAP_TARGET, k, v, n, sizeof(*k), sizeof(*v), err, errlen);
out:
	free(k);
	free(v);
	return r;
}

static int count_dir(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/*
 * Instances that exist before the counting programs are attached: from
 * sysfs, for types the count map does not know yet.
 */
static void seed_mdev_counts(struct pd_state *s)
{
	DIR *bus = opendir("/sys/class/mdev_bus");
	struct dirent *p, *t;

	if (!bus)
		return;
	while ((p = readdir(bus))) {
		char path[512];
		DIR *types;

		if (p->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/sys/class/mdev_bus/%s/mdev_supported_types",
			 p->d_name);
		types = opendir(path);
		if (!types)
			continue;
		while ((t = readdir(types))) {
			struct vfs_pol_mdev_key key = { 0 };
			char dpath[1024];
			__s64 n, have;

			if (t->d_name[0] == '.' || strlen(p->d_name) >= sizeof(key.parent) ||
			    strlen(t->d_name) >= sizeof(key.type))
				continue;
			memcpy(key.parent, p->d_name, strlen(p->d_name));
			memcpy(key.type, t->d_name, strlen(t->d_name));
			snprintf(dpath, sizeof(dpath), "%s/%s/devices", path, t->d_name);
			n = count_dir(dpath);
			if (n >= 0 && pd_bpf_lookup(s->bpf, PD_MAP_MDEV_COUNT, &key, &have))
				pd_bpf_update(s->bpf, PD_MAP_MDEV_COUNT, &key, &n);
		}
		closedir(types);
	}
	closedir(bus);
}

/* the maps and links for @c; on failure some of it may be applied */
static int apply(struct pd_state *s, const struct pd_compiled *c, char *err, size_t errlen)
{
	uint32_t *rk = calloc(c->nrules + 1, sizeof(*rk));
	struct vfs_pol_rule *rv = calloc(c->nrules + 1, sizeof(*rv));
	struct vfs_pol_mdev_key *mk = calloc(c->nmdevs + 1, sizeof(*mk));
	struct vfs_pol_mdev_cap *mv = calloc(c->nmdevs + 1, sizeof(*mv));
	uint32_t zero = 0;
	size_t i;
	int r = -1;

	if (!rk || !rv || !mk || !mv) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	for (i = 0; i < c->nrules; i++) {
		rk[i] = c->rules[i].id;
		rv[i] = c->rules[i].rule;
	}
	for (i = 0; i < c->nmdevs; i++) {
		mk[i] = c->mdevs[i].key;
		mv[i] = c->mdevs[i].cap;
	}
	/*
	 * Rules before the targets that name them. A target whose rule is
	 * gone for a moment finds no rule: that process is not limited.
	 */
	if (pd_bpf_update(s->bpf, PD_MAP_CONF, &zero, &c->conf)) {
		snprintf(err, errlen, "cannot write the policy mode: %s", strerror(errno));
		goto out;
	}
	r = sync_map(s, PD_MAP_RULE, rk, rv, c->nrules, sizeof(*rk), sizeof(*rv), err, errlen);
	if (!r)
		r = sync_targets(s, c, err, errlen);
	if (!r)
		r = sync_map(s, PD_MAP_MDEV_CAP, mk, mv, c->nmdevs, sizeof(*mk), sizeof(*mv), err,
			     errlen);
	if (!r && c->needs_mdev_lsm)
		seed_mdev_counts(s);
	if (!r)
		r = pd_bpf_sync_links(s->bpf, c->needs_ioctl_lsm, c->needs_mdev_lsm, err, errlen);
out:
	free(rk);
	free(rv);
	free(mk);
	free(mv);
	return r;
}

/* ------------------------------------------------------------- discovery */
static bool has_ipc_lock(pid_t pid)
{
	char path[64], line[256];
	unsigned long long eff = 0;
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		found = sscanf(line, "CapEff: %llx", &eff) == 1;
	fclose(f);
	return (eff >> CAP_IPC_LOCK_BIT) & 1;
}

/* RLIMIT_MEMLOCK of @vm to @bytes, read back to verify */
static void set_memlock(struct pd_vm *vm, uint64_t bytes)
{
	struct rlimit want = { bytes, bytes }, got;

	vm->memlock = bytes;
	vm->memlock_err = 0;
	vm->ipc_lock = has_ipc_lock(vm->pid);
	if (prlimit(vm->pid, RLIMIT_MEMLOCK, NULL, &got)) {
		vm->memlock_err = errno;
		return;
	}
	if (got.rlim_cur == bytes && got.rlim_max == bytes)
		return;
	if (prlimit(vm->pid, RLIMIT_MEMLOCK, &want, NULL) ||
	    prlimit(vm->pid, RLIMIT_MEMLOCK, NULL, &got)) {
		vm->memlock_err = errno;
	} else if (got.rlim_cur != bytes) {
		vm->memlock_err = EPERM;
	} else {
		pd_log("vm %d (%s): RLIMIT_MEMLOCK set to %llu bytes%s", (int)vm->pid, vm->name,
		       (unsigned long long)bytes,
		       vm->ipc_lock ? ", but it has CAP_IPC_LOCK: type1 does not apply the limit" : "");
	}
	if (vm->memlock_err)
		pd_log("vm %d (%s): cannot set RLIMIT_MEMLOCK to %llu: %s", (int)vm->pid, vm->name,
		       (unsigned long long)bytes, strerror(vm->memlock_err));
}

static const struct pd_rule *rule_src(const struct pd_compiled *c, uint32_t id)
{
	size_t i;

	for (i = 0; i < c->nrules; i++)
		if (c->rules[i].id == id)
			return c->rules[i].src;
	return NULL;
}

static struct pd_vm *add_vm(struct pd_state *s, pid_t pid)
{
	size_t i;

	for (i = 0; i < s->nvms; i++)
		if (s->vms[i].pid == pid)
			return NULL;	/* already matched */
	if (s->nvms == s->capvms) {
		size_t cap = s->capvms ? s->capvms * 2 : 64;
		struct pd_vm *n = realloc(s->vms, cap * sizeof(*n));

		if (!n)
			return NULL;
		s->vms = n;
		s->capvms = cap;
	}
	memset(&s->vms[s->nvms], 0, sizeof(s->vms[0]));
	s->vms[s->nvms].pid = pid;
	return &s->vms[s->nvms++];
}

/* processes of cgroup-selected rules, for their memlock limits */
static void cgroup_members(struct pd_state *s, const struct pd_compiled *c,
			   const struct pd_vm *old, size_t nold)
{
	size_t i, j, k;

	for (i = 0; i < c->nrules; i++) {
		const struct pd_rule *r = c->rules[i].src;

		if (!r->max_pinned_bytes)
			continue;
		for (j = 0; j < r->nsel; j++) {
			char path[512];
			FILE *f;
			int pid;

			if (r->sel[j].kind != PD_SEL_CGROUP)
				continue;
			snprintf(path, sizeof(path), CGROUP2_ROOT "%s/cgroup.procs", r->sel[j].value);
			f = fopen(path, "r");
			if (!f)
				continue;
			while (fscanf(f, "%d", &pid) == 1) {
				struct pd_vm *vm = add_vm(s, pid);

				if (!vm)
					continue;
				vm->rule = c->rules[i].id;
				snprintf(vm->name, sizeof(vm->name), "cgroup:%s", r->sel[j].value);
				for (k = 0; k < nold; k++)
					if (old[k].pid == pid && old[k].memlock == r->max_pinned_bytes) {
						*vm = old[k];
						break;
					}
				if (k == nold)
					set_memlock(vm, r->max_pinned_bytes);
			}
			fclose(f);
		}
	}
}

/* re-read a known process's cmdline and cgroup every this many scans */
#define PD_NAME_MAX_AGE 20

/*
 * @pid's VM name. A name comes from the cmdline (QEMU -name) or the cgroup
 * (libvirt scope), which only change with an exec, and an exec changes
 * comm: so a scan reads the two files again only for a new pid, a new
 * comm, or a name PD_NAME_MAX_AGE scans old, and otherwise opens one /proc
 * file per process. The previous scan's table is s->names (ascending pid,
 * /proc's order); this scan's is built in s->names_next.
 */
static const char *vm_name(struct pd_state *s, size_t *hint, pid_t pid, const char *comm)
{
	struct pd_name *n, *old = NULL;

	while (*hint < s->nnames && s->names[*hint].pid < pid)
		(*hint)++;
	if (*hint < s->nnames && s->names[*hint].pid == pid)
		old = &s->names[*hint];
	if (vfs_grow((void **)&s->names_next, &s->capnames_next, s->nnames_next + 1,
		     sizeof(*n)))
		return NULL;
	n = &s->names_next[s->nnames_next++];
	if (old && !strcmp(old->comm, comm) && old->age < PD_NAME_MAX_AGE) {
		*n = *old;
		n->age++;
		return n->name;
	}
	n->pid = pid;
	n->age = 0;
	snprintf(n->comm, sizeof(n->comm), "%s", comm);
	vfs_vm_name(pid, comm, n->name, sizeof(n->name));
	return n->name;
}

/*
 * Rebuild s->vms for @c: every process whose name or pid a rule selects.
 * Processes already known keep their memlock result (set once per process
 * and limit).
 */
/*
 * A table rebuilt by each scan (*@next) becomes the current one; the old
 * current one's buffer is reused for the next scan.
 */
static void swap_scan(void **cur, void **next, size_t *cap, size_t *capnext)
{
	void *t = *cur;
	size_t c = *cap;

	*cur = *next;
	*cap = *capnext;
	*next = t;
	*capnext = c;
}

static void discover(struct pd_state *s, const struct pd_compiled *c)
{
	struct pd_vm *old = s->vms;
	size_t nold = s->nvms, k;
	DIR *d = opendir("/proc");
	struct dirent *e;
	size_t hint = 0;

	s->vms = NULL;
	s->nvms = s->capvms = 0;
	s->nnames_next = 0;
	while (d && (e = readdir(d))) {
		const struct pd_crule *cr;
		const struct pd_rule *r;
		char path[64], comm[32] = "";
		const char *name;
		struct pd_vm *vm;
		FILE *f;
		pid_t pid;

		if (!isdigit((unsigned char)e->d_name[0]))
			continue;
		pid = atoi(e->d_name);
		snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (!fgets(comm, sizeof(comm), f))
			comm[0] = '\0';
		fclose(f);
		comm[strcspn(comm, "\n")] = '\0';
		name = vm_name(s, &hint, pid, comm);
		if (!name)
			continue;
		cr = pd_match_process(c, pid, name);
		if (!cr)
			continue;
		vm = add_vm(s, pid);
		if (!vm)
			continue;
		vm->rule = cr->id;
		snprintf(vm->name, sizeof(vm->name), "%s", name);
		r = cr->src;
		for (k = 0; k < nold; k++)
			if (old[k].pid == pid)
				break;
		if (k < nold && old[k].rule == cr->id && old[k].memlock == r->max_pinned_bytes) {
			vm->memlock = old[k].memlock;
			vm->memlock_err = old[k].memlock_err;
			vm->ipc_lock = old[k].ipc_lock;
		} else if (r->max_pinned_bytes) {
			set_memlock(vm, r->max_pinned_bytes);
		}
		if (k == nold)
			pd_log("vm %d (%s) matched rule %s", (int)pid, name, r->name);
	}
	if (d)
		closedir(d);
	swap_scan((void **)&s->names, (void **)&s->names_next, &s->capnames, &s->capnames_next);
	s->nnames = s->nnames_next;
	/* cgroup members are listed for memlock; the kernel matches their cgroup */
	cgroup_members(s, c, old, nold);
	free(old);
}

/* the reference driver's knobs on every instance of a configured type */
static void apply_knobs(const struct pd_conf *conf)
{
	DIR *d;
	struct dirent *e;
	size_t i, j;

	for (i = 0; i < conf->nmdevs && !conf->mdevs[i].nknobs; i++)
		;
	if (i == conf->nmdevs || !(d = opendir("/sys/bus/mdev/devices")))
		return;
	while ((e = readdir(d))) {
		char path[512], link[512], *type, *parent;
		ssize_t n;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/sys/bus/mdev/devices/%s/mdev_type", e->d_name);
		n = readlink(path, link, sizeof(link) - 1);
		if (n <= 0)
			continue;
		link[n] = '\0';
		/* .../<parent>/mdev_supported_types/<type> */
		type = strrchr(link, '/');
		if (!type)
			continue;
		*type++ = '\0';
		parent = strstr(link, "/mdev_supported_types");
		if (!parent)
			continue;
		*parent = '\0';
		parent = strrchr(link, '/');
		parent = parent ? parent + 1 : link;
		for (i = 0; i < conf->nmdevs; i++) {
			const struct pd_mdev *m = &conf->mdevs[i];

			if (strcmp(m->parent, parent) || strcmp(m->type, type))
				continue;
			for (j = 0; j < m->nknobs; j++) {
				unsigned long long cur = ~0ull;
				FILE *f;

				snprintf(path, sizeof(path), "/sys/bus/mdev/devices/%s/%s", e->d_name,
					 m->knobs[j].name);
				f = fopen(path, "r+");
				if (!f) {
					pd_log("mdev %s: cannot open %s: %s", e->d_name,
					       m->knobs[j].name, strerror(errno));
					continue;
				}
				if (fscanf(f, "%llu", &cur) != 1 || cur != m->knobs[j].value) {
					rewind(f);
					if (fprintf(f, "%llu\n", (unsigned long long)m->knobs[j].value) < 0 ||
					    fflush(f))
						pd_log("mdev %s: cannot set %s: %s", e->d_name,
						       m->knobs[j].name, strerror(errno));
					else
						pd_log("mdev %s: %s = %llu", e->d_name, m->knobs[j].name,
						       (unsigned long long)m->knobs[j].value);
				}
				fclose(f);
			}
		}
	}
	closedir(d);
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/*
 * Whether the entries of @tgid are due for retirement: it is gone and was
 * already gone a grace period ago (scans note when they first saw it gone,
 * in dead_next; retire_exited() swaps it in).
 */
static bool gone_long(struct pd_state *s, uint32_t tgid, uint64_t now)
{
	size_t i, n = s->ndead;
	uint64_t since = now;

	if (kill((pid_t)tgid, 0) == 0 || errno != ESRCH)
		return false;
	for (i = 0; i < n; i++)
		if (s->dead[i].tgid == tgid) {
			since = s->dead[i].since;
			break;
		}
	/* dead_next holds this scan's; a tgid in both maps is noted once */
	for (i = 0; i < s->ndead_next; i++)
		if (s->dead_next[i].tgid == tgid)
			return now - since >= s->retire_grace_ns;
	if (!vfs_grow((void **)&s->dead_next, &s->capdead_next, s->ndead_next + 1,
		      sizeof(*s->dead_next)))
		s->dead_next[s->ndead_next++] = (struct pd_dead){ tgid, since };
	return now - since >= s->retire_grace_ns;
}

/*
 * The per-VM entries of VMs that exited a grace period ago: their counters
 * join the rule's retired entry (tgid 0, which no caller has: the hooks run
 * in the caller's context), so the per-rule sums /metrics publishes never
 * go back; their token buckets go. The policy maps do not grow with VM
 * churn, and a VM's own counters stay readable (`vms`) for the grace period.
 */
static void retire_exited(struct pd_state *s)
{
	struct vfs_pol_stat_key *k = NULL;
	struct vfs_pol_bucket_key *bk = NULL;
	uint64_t now = mono_ns();
	void *v = NULL;
	size_t n = 0, ks, vs, i;
	int r;

	s->ndead_next = 0;
	if (!pd_bpf_dump(s->bpf, PD_MAP_STATS, (void **)&k, &v, &n, &ks, &vs)) {
		for (i = 0; i < n; i++) {
			struct vfs_pol_stat_key to = k[i];

			if (!k[i].tgid || !gone_long(s, k[i].tgid, now))
				continue;
			to.tgid = 0;
			r = pd_bpf_stat_retire(s->bpf, &k[i], &to);
			if (r)
				pd_log("cannot retire the counters of exited VM %u: %s", k[i].tgid,
				       strerror(-r));
			else
				s->retired++;
		}
		free(k);
		free(v);
	}
	v = NULL;
	if (!pd_bpf_dump(s->bpf, PD_MAP_BUCKET, (void **)&bk, &v, &n, &ks, &vs)) {
		for (i = 0; i < n; i++)
			if (bk[i].tgid && gone_long(s, bk[i].tgid, now))
				pd_bpf_delete(s->bpf, PD_MAP_BUCKET, &bk[i]);
		free(bk);
		free(v);
	}
	swap_scan((void **)&s->dead, (void **)&s->dead_next, &s->capdead, &s->capdead_next);
	s->ndead = s->ndead_next;
}

int pd_scan(struct pd_state *s)
{
	char err[256];

	if (!s->have_policy)
		return 0;
	if (s->comp.unresolved) {
		/* cgroups absent at load: look again (a VM's scope appears when it starts) */
		struct pd_resolver res = { pd_cgroup_id, NULL };
		struct pd_compiled c;

		if (!pd_compile(&s->conf, &res, s->generation, &c, err, sizeof(err))) {
			pd_compiled_free(&s->comp);
			s->comp = c;
		}
	}
	discover(s, &s->comp);
	apply_knobs(&s->conf);
	if (sync_targets(s, &s->comp, err, sizeof(err))) {
		pd_log("discovery: %s", err);
		return -1;
	}
	retire_exited(s);
	return 0;
}

/* ----------------------------------------------------------------- reload */
int pd_reload(struct pd_state *s, const char *path)
{
	struct pd_resolver res = { pd_cgroup_id, NULL };
	struct pd_conf conf;
	struct pd_compiled comp;
	char err[512], err2[256];

	s->reloads++;
	if (pd_conf_load(path, &conf, err, sizeof(err)))
		goto fail;
	if (pd_compile(&conf, &res, s->generation + 1, &comp, err, sizeof(err))) {
		pd_conf_free(&conf);
		goto fail;
	}
	discover(s, &comp);
	if (apply(s, &comp, err2, sizeof(err2))) {
		snprintf(err, sizeof(err), "%s: cannot apply: %s", path, err2);
		pd_compiled_free(&comp);
		pd_conf_free(&conf);
		/* back to the running policy (or to nothing) */
		if (s->have_policy) {
			discover(s, &s->comp);
			if (apply(s, &s->comp, err2, sizeof(err2)))
				pd_log("cannot restore the running policy: %s", err2);
		}
		goto fail;
	}
	if (s->have_policy) {
		pd_compiled_free(&s->comp);
		pd_conf_free(&s->conf);
	}
	/* compiled rules point into conf's arrays, which do not move */
	s->conf = conf;
	s->comp = comp;
	s->have_policy = true;
	s->generation++;
	s->last_error[0] = '\0';
	apply_knobs(&s->conf);
	pd_log("policy %s generation %u applied: %zu rules, mode %s%s", path, s->generation,
	       s->conf.nrules, pd_mode_name(s->conf.mode),
	       pd_enforcing(s) ? ", enforcing" : ", not enforcing");
	return 0;
fail:
	s->reload_failures++;
	snprintf(s->last_error, sizeof(s->last_error), "%s", err);
	pd_log("%s%s", err, s->have_policy ? " (the running policy stays)" : "");
	return -1;
}

bool pd_enforcing(const struct pd_state *s)
{
	const struct pd_bpf_state *b = pd_bpf_state(s->bpf);

	return s->have_policy && b->lsm_active && s->conf.mode == VFS_POL_MODE_ENFORCE &&
	       (b->ioctl_lsm || b->mdev || !s->comp.needs_ioctl_lsm);
}

/* ------------------------------------------------------------ the replies */
void pd_write_status(struct pd_state *s, FILE *out)
{
	const struct pd_bpf_state *b = pd_bpf_state(s->bpf);

	fprintf(out, "policy %s\n", s->have_policy ? s->conf.file : "none");
	fprintf(out, "generation %u\n", s->generation);
	fprintf(out, "mode %s\n", s->have_policy ? pd_mode_name(s->conf.mode) : "none");
	fprintf(out, "bpf_lsm %s\n", b->lsm_active ? "active" : "inactive");
	if (!b->lsm_active)
		fprintf(out, "note BPF LSM is not usable (%s): quotas are counted, not enforced\n",
			b->lsm_why);
	fprintf(out, "enforcing %s\n", pd_enforcing(s) ? "yes" : "no");
	fprintf(out, "link file_ioctl %s\n", b->ioctl_lsm ? "pinned" : "none");
	fprintf(out, "link ioctl_monitor %s\n", b->ioctl_monitor ? "pinned" : "none");
	fprintf(out, "link mdev %s\n", b->mdev ? "pinned" : "none");
	fprintf(out, "adopted %s\n", b->adopted ? "yes" : "no");
	fprintf(out, "rules %zu\n", s->have_policy ? s->conf.nrules : 0);
	fprintf(out, "vms %zu\n", s->nvms);
	fprintf(out, "reloads %llu failed %llu\n", (unsigned long long)s->reloads,
		(unsigned long long)s->reload_failures);
	if (s->last_error[0])
		fprintf(out, "last_error %s\n", s->last_error);
}

const char *pd_rule_label(const struct pd_state *s, uint32_t id, char *buf, size_t len)
{
	const struct pd_rule *r = s->have_policy ? rule_src(&s->comp, id) : NULL;

	if (r)
		return r->name;
	if (!id)
		return "mdev-type-cap";
	snprintf(buf, len, "%08x", id);
	return buf;
}

void pd_write_vms(struct pd_state *s, FILE *out)
{
	struct vfs_pol_stat_key *k = NULL;
	struct vfs_pol_stat *v = NULL;
	size_t n = 0, ks, vs, i;
	char buf[16];

	for (i = 0; i < s->nvms; i++) {
		const struct pd_vm *vm = &s->vms[i];

		fprintf(out, "vm %d name %s rule %s memlock %llu%s%s\n", (int)vm->pid, vm->name,
			pd_rule_label(s, vm->rule, buf, sizeof(buf)), (unsigned long long)vm->memlock,
			vm->memlock_err ? " memlock_error " : "",
			vm->memlock_err ? strerror(vm->memlock_err) : "");
		if (vm->ipc_lock && vm->memlock)
			fprintf(out, "vm %d note has CAP_IPC_LOCK: type1 does not apply RLIMIT_MEMLOCK\n",
				(int)vm->pid);
	}
	if (pd_bpf_dump(s->bpf, PD_MAP_STATS, (void **)&k, (void **)&v, &n, &ks, &vs))
		return;
	for (i = 0; i < n; i++)
		fprintf(out, "stat rule %s pid %u class %s allowed %llu throttled %llu denied %llu would_deny %llu\n",
			pd_rule_label(s, k[i].rule, buf, sizeof(buf)), k[i].tgid,
			pd_class_name(k[i].class), (unsigned long long)v[i].allowed,
			(unsigned long long)v[i].throttled, (unsigned long long)v[i].denied,
			(unsigned long long)v[i].would_deny);
	free(k);
	free(v);
}
