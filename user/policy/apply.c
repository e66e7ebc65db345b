// SPDX-License-Identifier: GPL-2.0
/*
 * Applying a compiled policy to the pinned maps as a diff, the discovery
 * of processes selected by name or pid (a /proc scan every
 * discovery_interval_ms), RLIMIT_MEMLOCK on their processes, and the
 * control socket's status and vms replies (device knobs: knobs.c).
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
#include "collector.h"
#include "identity.h"
#include "policyd.h"
#include "vec.h"
#include "vfio_ioctl.h"

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

/*
 * Make map @m hold exactly @n entries (packed @keys, @vals): deletes first,
 * then updates. An update the map refuses (full) does not stop the others:
 * how many failed goes to *@failed, the first reason to @err. 0, or -1.
 */
static int sync_map(struct pd_state *s, enum pd_map m, const void *keys, const void *vals,
		    size_t n, size_t ksize, size_t vsize, size_t *failed, char *err,
		    size_t errlen)
{
	struct pd_entries cur = { 0 }, want = { n, ksize, vsize, keys, vals };
	void *ck = NULL, *cv = NULL;
	struct pd_op *ops = NULL;
	size_t i, nops, bad = 0;
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
	for (i = 0; i < nops; i++) {
		int e;

		if (ops[i].op == PD_OP_UPDATE)
			e = pd_bpf_update(s->bpf, m, (const char *)keys + ops[i].index * ksize,
					  (const char *)vals + ops[i].index * vsize);
		else
			e = pd_bpf_delete(s->bpf, m, (const char *)ck + ops[i].index * ksize);
		if (e && !bad++)
			snprintf(err, errlen, "cannot update a policy map: %s%s", strerror(-e),
				 e == -E2BIG ? " (the map is full)" : "");
	}
	r = bad ? -1 : 0;
out:
	if (failed)
		*failed = bad;
	free(ops);
	free(ck);
	free(cv);
	return r;
}

/* cgroup selectors: pol_target (pid and name selectors are members) */
static int sync_targets(struct pd_state *s, const struct pd_compiled *c, char *err,
			size_t errlen)
{
	struct vfs_pol_target *k = calloc(c->ntargets + 1, sizeof(*k));
	uint32_t *v = calloc(c->ntargets + 1, sizeof(*v));
	size_t n = 0, i, j;
	int r = -1;

	if (!k || !v) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	for (i = 0; i < c->ntargets; i++) {
		if (c->targets[i].key.kind != VFS_POL_T_CGROUP)
			continue;
		for (j = 0; j < n; j++)
			if (!memcmp(&k[j], &c->targets[i].key, sizeof(k[j])))
				break;
		if (j < n)
			continue;	/* the first rule (file order) selecting it wins */
		k[n] = c->targets[i].key;
		v[n++] = c->targets[i].rule;
	}
	r = sync_map(s, PD_MAP_TARGET, k, v, n, sizeof(*k), sizeof(*v), &s->targets_failed, err,
		     errlen);
out:
	free(k);
	free(v);
	return r;
}

static bool alive(uint32_t tgid)
{
	return kill((pid_t)tgid, 0) == 0 || errno != ESRCH;
}

static bool has_rule(const struct pd_compiled *c, uint32_t id)
{
	size_t i;

	for (i = 0; i < c->nrules; i++)
		if (c->rules[i].id == id)
			return true;
	return false;
}

/*
 * pol_member: every matched process (s->vms), and the children the fork
 * hook added that still live and whose rule still exists (a child of a
 * VM matched now follows that VM's rule). Entries of exited processes go.
 *
 * The fork hook writes this map while we do: a child forked after our
 * read is an entry we never saw, and it must stay (a generic "make the
 * map equal this set" would delete it, and the child, its exec'd
 * successors and their children would leave their VM's quota for good).
 * So only an entry read here, still holding what was read, is deleted;
 * what was read is the only thing compared.
 */
static int sync_members(struct pd_state *s, const struct pd_compiled *c, char *err,
			size_t errlen)
{
	struct vfs_pol_member *cv = NULL, *v = NULL, now;
	struct pd_entries cur, want;
	struct pd_op *ops = NULL;
	uint32_t *ck = NULL, *k = NULL;
	size_t ncur = 0, ks, vs, n = 0, i, j, nops, bad = 0;
	int r = -1, e;

	e = pd_bpf_dump(s->bpf, PD_MAP_MEMBER, (void **)&ck, (void **)&cv, &ncur, &ks, &vs);
	if (e) {
		snprintf(err, errlen, "cannot read a policy map: %s", strerror(-e));
		return -1;
	}
	if (ncur && (ks != sizeof(*k) || vs != sizeof(*v))) {
		snprintf(err, errlen, "a pinned policy map has another layout: `vfio-policyd --unload` first");
		goto out;
	}
	k = calloc(s->nvms + ncur + 1, sizeof(*k));
	v = calloc(s->nvms + ncur + 1, sizeof(*v));
	if (!k || !v) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	for (i = 0; i < s->nvms; i++) {
		k[n] = (uint32_t)s->vms[i].pid;
		v[n++] = (struct vfs_pol_member){ .vm = s->vms[i].vm, .rule = s->vms[i].rule };
	}
	for (i = 0; i < ncur; i++) {
		struct vfs_pol_member m = cv[i];

		if (!(m.flags & VFS_POL_M_INHERITED) || !alive(ck[i]))
			continue;
		for (j = 0; j < s->nvms && k[j] != ck[i]; j++)
			;
		if (j < s->nvms)
			continue;	/* matched itself now */
		for (j = 0; j < s->nvms; j++)
			if (s->vms[j].vm == m.vm) {
				m.rule = s->vms[j].rule;
				break;
			}
		if (!has_rule(c, m.rule))
			continue;
		k[n] = ck[i];
		v[n++] = m;
	}
	cur = (struct pd_entries){ ncur, sizeof(*k), sizeof(*v), ck, cv };
	want = (struct pd_entries){ n, sizeof(*k), sizeof(*v), k, v };
	ops = calloc(ncur + n + 1, sizeof(*ops));
	if (!ops) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	nops = pd_diff(&cur, &want, ops);
	for (i = 0; i < nops; i++) {
		const struct pd_op *o = &ops[i];

		if (o->op == PD_OP_UPDATE) {
			e = pd_bpf_update(s->bpf, PD_MAP_MEMBER, &k[o->index], &v[o->index]);
		} else {
			/* deleted only as read: not a child forked since */
			if (pd_bpf_lookup(s->bpf, PD_MAP_MEMBER, &ck[o->index], &now) ||
			    memcmp(&now, &cv[o->index], sizeof(now)))
				continue;
			e = pd_bpf_delete(s->bpf, PD_MAP_MEMBER, &ck[o->index]);
			if (e == -ENOENT)
				e = 0;
		}
		if (e && !bad++)
			snprintf(err, errlen, "cannot update a policy map: %s%s", strerror(-e),
				 e == -E2BIG ? " (the map is full)" : "");
	}
	s->members_failed = bad;
	r = bad ? -1 : 0;
out:
	free(ops);
	free(ck);
	free(cv);
	free(k);
	free(v);
	return r;
}

static int sync_processes(struct pd_state *s, const struct pd_compiled *c, char *err,
			  size_t errlen)
{
	int r = sync_targets(s, c, err, errlen);

	if (!r)
		r = sync_members(s, c, err, errlen);
	if (r)
		snprintf(s->map_error, sizeof(s->map_error), "%s", err);
	else
		s->map_error[0] = '\0';
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
	r = sync_map(s, PD_MAP_RULE, rk, rv, c->nrules, sizeof(*rk), sizeof(*rv), NULL, err,
		     errlen);
	if (!r)
		r = sync_processes(s, c, err, errlen);
	if (!r)
		r = sync_map(s, PD_MAP_MDEV_CAP, mk, mv, c->nmdevs, sizeof(*mk), sizeof(*mv), NULL,
			     err, errlen);
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

/*
 * RLIMIT_MEMLOCK of @vm down to @bytes, read back to verify. Limits are
 * only ever lowered: a VM's name is its own claim, so a policy value above
 * what the process has must not raise it (soft or hard).
 */
static void set_memlock(struct pd_vm *vm, uint64_t bytes)
{
	struct rlimit want, got;

	vm->memlock_err = 0;
	vm->ipc_lock = has_ipc_lock(vm->pid);
	if (prlimit(vm->pid, RLIMIT_MEMLOCK, NULL, &got)) {
		vm->memlock_err = errno;
		goto out;
	}
	want.rlim_cur = got.rlim_cur < bytes ? got.rlim_cur : bytes;
	want.rlim_max = got.rlim_max < bytes ? got.rlim_max : bytes;
	if (want.rlim_cur == got.rlim_cur && want.rlim_max == got.rlim_max) {
		vm->memlock = got.rlim_cur;
		if (got.rlim_cur < bytes)
			pd_log("vm %d (%s): RLIMIT_MEMLOCK is %llu, below the rule's %llu: left alone",
			       (int)vm->pid, vm->name, (unsigned long long)got.rlim_cur,
			       (unsigned long long)bytes);
		return;
	}
	if (prlimit(vm->pid, RLIMIT_MEMLOCK, &want, NULL) ||
	    prlimit(vm->pid, RLIMIT_MEMLOCK, NULL, &got)) {
		vm->memlock_err = errno;
	} else if (got.rlim_cur != want.rlim_cur || got.rlim_max != want.rlim_max) {
		vm->memlock_err = EPERM;
	} else {
		vm->memlock = got.rlim_cur;
		pd_log("vm %d (%s): RLIMIT_MEMLOCK lowered to %llu bytes%s", (int)vm->pid, vm->name,
		       (unsigned long long)got.rlim_cur,
		       vm->ipc_lock ? ", but it has CAP_IPC_LOCK: type1 does not apply the limit" : "");
	}
out:
	if (vm->memlock_err)
		pd_log("vm %d (%s): cannot lower RLIMIT_MEMLOCK to %llu: %s", (int)vm->pid, vm->name,
		       (unsigned long long)bytes, strerror(vm->memlock_err));
}

/*
 * The limits of the VMs the applied policy caps: called only once its maps
 * and links are in place, so a failed reload leaves no limit behind.
 */
static void commit_memlock(struct pd_state *s)
{
	size_t i;

	for (i = 0; i < s->nvms; i++) {
		struct pd_vm *vm = &s->vms[i];

		if (vm->want_memlock && (vm->memlock != vm->want_memlock || vm->memlock_err) &&
		    !(vm->memlock && vm->memlock < vm->want_memlock))
			set_memlock(vm, vm->want_memlock);
	}
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
				vm->vm = 0;	/* the kernel matches the cgroup itself */
				snprintf(vm->name, sizeof(vm->name), "cgroup:%s", r->sel[j].value);
				vm->want_memlock = r->max_pinned_bytes;
				for (k = 0; k < nold; k++)
					if (old[k].pid == pid) {
						vm->memlock = old[k].memlock;
						vm->memlock_err = old[k].memlock_err;
						vm->ipc_lock = old[k].ipc_lock;
						break;
					}
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

#define FNV64_BASIS 0xcbf29ce484222325ull

/* FNV-1a 64 of @str, continuing from @h (FNV64_BASIS to start) */
static uint64_t fnv1a64(uint64_t h, const char *str)
{
	for (; *str; str++)
		h = (h ^ (unsigned char)*str) * 0x100000001b3ull;
	return h;
}

/* a VM name's VFS_POL_VM_NAME id */
static uint64_t name_vm(const char *name)
{
	return VFS_POL_VM_NAME | (fnv1a64(FNV64_BASIS, name) & VFS_POL_VM_ID_MASK);
}

/* whether @pid holds a VFIO, iommufd or vhost-vdpa file */
static bool holds_vfio(pid_t pid)
{
	static const char *const want[] = {
		"/dev/vfio/", "anon_inode:[vfio-device]", "/dev/iommu", "/dev/vhost-vdpa-",
	};
	char path[64], link[128], fd[320];
	struct dirent *e;
	bool found = false;
	size_t i;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	d = opendir(path);
	if (!d)
		return false;
	while (!found && (e = readdir(d))) {
		ssize_t n;

		if (e->d_name[0] == '.')
			continue;
		snprintf(fd, sizeof(fd), "%s/%s", path, e->d_name);
		n = readlink(fd, link, sizeof(link) - 1);
		if (n <= 0)
			continue;
		link[n] = '\0';
		for (i = 0; i < sizeof(want) / sizeof(want[0]) && !found; i++)
			found = !strncmp(link, want[i], strlen(want[i]));
	}
	closedir(d);
	return found;
}

/* whether @pid lives under machine.slice (where libvirt puts its VMs) */
static bool in_machine_slice(pid_t pid)
{
	char path[64], line[512];
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		found = !strncmp(line, "0::/machine.slice/", 18);
	fclose(f);
	return found;
}

static bool selects_pid(const struct pd_crule *cr, pid_t pid)
{
	size_t j;

	for (j = 0; j < cr->src->nsel; j++)
		if (cr->src->sel[j].kind == PD_SEL_PID && cr->src->sel[j].pid == pid)
			return true;
	return false;
}

static const struct pd_vm *old_vm(const struct pd_vm *old, size_t nold, pid_t pid)
{
	size_t k;

	for (k = 0; k < nold; k++)
		if (old[k].pid == pid)
			return &old[k];
	return NULL;
}

/*
 * Rebuild s->vms for @c, with no side effect (limits are set by
 * commit_memlock() once the policy is applied):
 * - a process selected by pid is its own VM (VFS_POL_VM_PROC);
 * - a process whose VM name a rule selects is that named VM
 *   (VFS_POL_VM_NAME: every process claiming one name shares one quota),
 *   but only while it holds a VFIO, iommufd or vhost-vdpa file or lives
 *   under machine.slice: a name is the process's own claim, and a process
 *   that drives no device is nobody's VM;
 * - a process matched once stays in its VM for life, whatever it renames
 *   itself to (its pol_member entry must still be there: the fork hook
 *   clears an entry whose tgid a new process took).
 * Processes already known keep their memlock result.
 */
static void discover(struct pd_state *s, const struct pd_compiled *c)
{
	const struct pd_bpf_state *b = pd_bpf_state(s->bpf);
	struct pd_vm *old = s->vms;
	size_t nold = s->nvms;
	DIR *d = opendir("/proc");
	struct dirent *e;
	size_t hint = 0;

	s->vms = NULL;
	s->nvms = s->capvms = 0;
	s->nnames_next = 0;
	while (d && (e = readdir(d))) {
		const struct pd_crule *cr;
		const struct pd_vm *was;
		char path[64], comm[32] = "";
		const char *name;
		struct pd_vm *vm;
		uint64_t vmid;
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
		was = old_vm(old, nold, pid);
		if (was && !was->vm)
			was = NULL;	/* listed for its cgroup only */
		cr = pd_match_process(c, pid, name);
		if (cr && selects_pid(cr, pid)) {
			vmid = VFS_POL_VM_PROC | (uint32_t)pid;
		} else if (cr) {
			vmid = name_vm(name);
			if (!(was && was->vm == vmid) && !holds_vfio(pid) && !in_machine_slice(pid))
				cr = NULL;
		}
		if (!cr && was) {
			struct vfs_pol_member m;

			/* matched before, renamed since: still that VM */
			if (!has_rule(c, was->rule) ||
			    (b->fork && (pd_bpf_lookup(s->bpf, PD_MAP_MEMBER, &(uint32_t){ (uint32_t)pid },
						       &m) || m.vm != was->vm)))
				continue;
			vm = add_vm(s, pid);
			if (!vm)
				continue;
			*vm = *was;
			vm->want_memlock = rule_src(c, vm->rule)->max_pinned_bytes;
			continue;
		}
		if (!cr)
			continue;
		vm = add_vm(s, pid);
		if (!vm)
			continue;
		vm->rule = cr->id;
		vm->vm = vmid;
		vm->want_memlock = cr->src->max_pinned_bytes;
		snprintf(vm->name, sizeof(vm->name), "%s", name);
		if (was) {
			vm->memlock = was->memlock;
			vm->memlock_err = was->memlock_err;
			vm->ipc_lock = was->ipc_lock;
		} else {
			pd_log("vm %d (%s) matched rule %s", (int)pid, name, cr->src->name);
		}
	}
	if (d)
		closedir(d);
	swap_scan((void **)&s->names, (void **)&s->names_next, &s->capnames, &s->capnames_next);
	s->nnames = s->nnames_next;
	/* cgroup members are listed for memlock; the kernel matches their cgroup */
	cgroup_members(s, c, old, nold);
	free(old);
}

uint64_t pd_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/*
 * Whether @id (a tgid, or a VFS_POL_VM_* of a bucket) is due for
 * retirement: @gone says it is gone now, and it was already gone a grace
 * period ago (scans note when they first saw it gone, in dead_next;
 * retire_exited() swaps it in).
 */
static bool gone_long(struct pd_state *s, uint64_t id, bool gone, uint64_t now)
{
	size_t i, n = s->ndead;
	uint64_t since = now;

	if (!gone)
		return false;
	for (i = 0; i < n; i++)
		if (s->dead[i].id == id) {
			since = s->dead[i].since;
			break;
		}
	/* dead_next holds this scan's; an id in both maps is noted once */
	for (i = 0; i < s->ndead_next; i++)
		if (s->dead_next[i].id == id)
			return now - since >= s->retire_grace_ns;
	if (!vfs_grow((void **)&s->dead_next, &s->capdead_next, s->ndead_next + 1,
		      sizeof(*s->dead_next)))
		s->dead_next[s->ndead_next++] = (struct pd_dead){ id, since };
	return now - since >= s->retire_grace_ns;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* add the ids of @path's cgroup and of each cgroup right below it */
static void live_cgroups(const char *path, uint64_t **ids, size_t *n, size_t *cap)
{
	char full[1024];
	struct dirent *e;
	struct stat st;
	DIR *d;

	snprintf(full, sizeof(full), "%s%s", CGROUP2_ROOT, path);
	if (stat(full, &st) || vfs_grow((void **)ids, cap, *n + 1, sizeof(**ids)))
		return;
	(*ids)[(*n)++] = VFS_POL_VM_CGROUP | ((uint64_t)st.st_ino & VFS_POL_VM_ID_MASK);
	d = opendir(full);
	if (!d)
		return;
	while ((e = readdir(d))) {
		char sub[1280];

		if (e->d_type != DT_DIR || e->d_name[0] == '.')
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", full, e->d_name);
		if (!stat(sub, &st) && !vfs_grow((void **)ids, cap, *n + 1, sizeof(**ids)))
			(*ids)[(*n)++] = VFS_POL_VM_CGROUP |
					 ((uint64_t)st.st_ino & VFS_POL_VM_ID_MASK);
	}
	closedir(d);
}

/*
 * The VMs whose quotas still have a holder: the VM of every live member
 * process, and every selected cgroup and cgroup right below one. Sorted.
 */
static uint64_t *live_vms(struct pd_state *s, size_t *n)
{
	struct vfs_pol_member *mv = NULL;
	uint32_t *mk = NULL;
	uint64_t *ids = NULL;
	size_t nm = 0, ks, vs, cap = 0, i, j;

	*n = 0;
	if (!pd_bpf_dump(s->bpf, PD_MAP_MEMBER, (void **)&mk, (void **)&mv, &nm, &ks, &vs))
		for (i = 0; i < nm; i++)
			if (alive(mk[i]) && !vfs_grow((void **)&ids, &cap, *n + 1, sizeof(*ids)))
				ids[(*n)++] = mv[i].vm;
	free(mk);
	free(mv);
	if (s->have_policy)
		for (i = 0; i < s->conf.nrules; i++)
			for (j = 0; j < s->conf.rules[i].nsel; j++)
				if (s->conf.rules[i].sel[j].kind == PD_SEL_CGROUP)
					live_cgroups(s->conf.rules[i].sel[j].value, &ids, n, &cap);
	if (*n)
		qsort(ids, *n, sizeof(*ids), cmp_u64);
	return ids;
}

/*
 * The per-VM entries of VMs that went away a grace period ago. Counters
 * (per process) join the rule's retired entry (tgid 0, which no caller
 * has: the hooks run in the caller's context), so the per-rule sums
 * /metrics publishes never go back; token buckets (per VM) go once no
 * process of their VM is left; pol_member entries of exited processes go
 * at once (a new process at that tgid gets its own from the fork hook). The
 * policy maps do not grow with VM churn, and a VM's own counters stay
 * readable (`vms`) for the grace period.
 */
static void retire_exited(struct pd_state *s)
{
	struct vfs_pol_stat_key *k = NULL;
	struct vfs_pol_bucket_key *bk = NULL;
	uint64_t now = pd_mono_ns(), *live;
	void *v = NULL;
	size_t n = 0, ks, vs, i, nlive;
	int r;

	s->ndead_next = 0;
	if (!pd_bpf_dump(s->bpf, PD_MAP_STATS, (void **)&k, &v, &n, &ks, &vs)) {
		for (i = 0; i < n; i++) {
			struct vfs_pol_stat_key to = k[i];

			if (!k[i].tgid || !gone_long(s, k[i].tgid, !alive(k[i].tgid), now))
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
	live = live_vms(s, &nlive);
	v = NULL;
	if (!pd_bpf_dump(s->bpf, PD_MAP_BUCKET, (void **)&bk, &v, &n, &ks, &vs)) {
		for (i = 0; i < n; i++) {
			bool gone = !bsearch(&bk[i].vm, live, nlive, sizeof(*live), cmp_u64);

			if (gone_long(s, bk[i].vm, gone, now))
				pd_bpf_delete(s->bpf, PD_MAP_BUCKET, &bk[i]);
		}
		free(bk);
		free(v);
	}
	free(live);
	swap_scan((void **)&s->dead, (void **)&s->dead_next, &s->capdead, &s->capdead_next);
	s->ndead = s->ndead_next;
}

/* ----------------------------------------------------- VFIO file kinds */
static const struct {
	const char *sym;
	const char *module;
} kind_fops[VFS_FD_KIND_MAX] = {
	[VFS_FD_CONTAINER] = { "vfio_fops", "vfio" },
	[VFS_FD_GROUP] = { "vfio_group_fops", "vfio" },
	[VFS_FD_DEVICE] = { "vfio_device_fops", "vfio" },
	[VFS_FD_IOMMUFD] = { "iommufd_fops", "iommufd" },
};

/*
 * The module list as names and load addresses: what moves file_operations.
 * Not the whole of /proc/modules, whose use counts change whenever a VM
 * opens or closes a container (a kallsyms read each time: 0.5 s of a TCG
 * guest, long enough for a scrape of /metrics to time out).
 */
static uint64_t modules_hash(struct pd_state *s)
{
	uint64_t h = FNV64_BASIS;
	char line[512], name[64], addr[32];
	FILE *f;

	/* opened once, before the capability drop: addresses stay visible */
	if (!s->modules)
		s->modules = fopen("/proc/modules", "re");
	else
		rewind(s->modules);
	f = s->modules;
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		char *last = strrchr(line, ' ');

		if (sscanf(line, "%63s", name) != 1 || !last ||
		    sscanf(last, "%31s", addr) != 1)
			continue;
		h = fnv1a64(fnv1a64(h, name), addr);
	}
	return h;
}

/*
 * pol_fops from /proc/kallsyms: which file_operations make a file a VFIO
 * container, group, device or iommufd file. Read again only when the
 * module list changed (a module loaded, unloaded or reloaded elsewhere).
 * Each kind that cannot be resolved says why in s->fops_why.
 */
void pd_resolve_fops(struct pd_state *s)
{
	uint64_t h = modules_hash(s);
	struct vfs_pol_fops t = { 0 };
	bool hidden = false;
	char line[512];
	uint32_t zero = 0;
	FILE *f;
	int k;

	if (h && h == s->modules_hash)
		return;
	if (!s->kallsyms)
		s->kallsyms = fopen("/proc/kallsyms", "re");
	else
		rewind(s->kallsyms);	/* a fresh listing, read with the opener's rights */
	f = s->kallsyms;
	while (f && fgets(line, sizeof(line), f)) {
		unsigned long long addr;
		char type, sym[128], mod[64] = "";

		/* 170k lines on a distribution kernel: only *_fops are of interest */
		if (!strstr(line, "_fops") ||
		    sscanf(line, "%llx %c %127s [%63[^]]]", &addr, &type, sym, mod) < 3)
			continue;
		for (k = VFS_FD_CONTAINER; k < VFS_FD_KIND_MAX; k++) {
			if (strcmp(sym, kind_fops[k].sym) ||
			    (mod[0] && strcmp(mod, kind_fops[k].module)))
				continue;
			if (!addr)
				hidden = true;
			else
				t.fops[k] = addr;
		}
	}
	for (k = VFS_FD_CONTAINER; k < VFS_FD_KIND_MAX; k++) {
		char *why = s->fops_why[k];

		why[0] = '\0';
		if (t.fops[k])
			continue;
		if (!f)
			snprintf(why, sizeof(s->fops_why[k]), "cannot read /proc/kallsyms");
		else if (hidden)
			snprintf(why, sizeof(s->fops_why[k]),
				 "/proc/kallsyms hides addresses (kernel.kptr_restrict)");
		else
			snprintf(why, sizeof(s->fops_why[k]), "no %s in /proc/kallsyms (%s not loaded)",
				 kind_fops[k].sym, kind_fops[k].module);
	}
	t.generation = s->fops.generation + 1;
	if (pd_bpf_update(s->bpf, PD_MAP_FOPS, &zero, &t)) {
		pd_log("cannot write the VFIO file kinds: %s", strerror(errno));
		return;
	}
	s->fops = t;
	s->modules_hash = h;
}

/*
 * Why VFIO calls of kind @k are not charged, or NULL when they are. iommufd
 * absent is no gap: without it no file of that kind exists.
 */
const char *pd_kind_gap(const struct pd_state *s, int k)
{
	if (s->fops.fops[k])
		return NULL;
	if (k == VFS_FD_IOMMUFD && !vfs_module_loaded("iommufd"))
		return NULL;
	return s->fops_why[k][0] ? s->fops_why[k] : "not resolved yet";
}

uint64_t pd_health(const struct pd_state *s, enum vfs_pol_health h)
{
	uint64_t *vals = NULL, v = 0;
	uint32_t *k = NULL;
	size_t n = 0, ks, vs, i;

	/* a dump sums the per-CPU slots */
	if (pd_bpf_dump(s->bpf, PD_MAP_HEALTH, (void **)&k, (void **)&vals, &n, &ks, &vs))
		return 0;
	for (i = 0; i < n; i++)
		if (k[i] == (uint32_t)h)
			v = vals[i];
	free(k);
	free(vals);
	return v;
}

int pd_scan(struct pd_state *s)
{
	char err[256];

	pd_resolve_fops(s);
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
	pd_apply_knobs(&s->conf);
	if (sync_processes(s, &s->comp, err, sizeof(err)))
		pd_log("discovery: %s", err);
	commit_memlock(s);
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
	pd_resolve_fops(s);
	/* discovery has no side effect: limits are set once the policy is applied */
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
		} else {
			s->nvms = 0;
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
	/*
	 * the shares' instances index the old policy's mdev entries: they go,
	 * and the next tick measures afresh under the new policy
	 */
	s->nsinst = 0;
	s->last_error[0] = '\0';
	commit_memlock(s);
	pd_apply_knobs(&s->conf);
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

/* a sentence on what keeps the policy from being enforced, or NULL */
const char *pd_not_enforced_why(const struct pd_state *s, char *buf, size_t len)
{
	const struct pd_bpf_state *b = pd_bpf_state(s->bpf);
	int k;

	if (!s->have_policy)
		return "no policy";
	if (!b->lsm_active)
		return b->lsm_why;
	if (s->conf.mode != VFS_POL_MODE_ENFORCE)
		return "the policy's mode is monitor";
	if (s->comp.needs_ioctl_lsm && !b->ioctl_lsm)
		return "the file_ioctl program is not linked";
	if (s->comp.needs_ioctl_lsm && b->compat_hook && !b->ioctl_compat)
		return "the file_ioctl_compat program is not linked: 32-bit callers pass";
	if (s->comp.needs_ioctl_lsm)
		for (k = VFS_FD_CONTAINER; k < VFS_FD_KIND_MAX; k++)
			if (pd_kind_gap(s, k)) {
				snprintf(buf, len, "%s files: %s", vfio_fd_kind_name(k), pd_kind_gap(s, k));
				return buf;
			}
	if (s->comp.needs_mdev_lsm && !b->mdev)
		return "the mdev programs are not linked";
	if (s->map_error[0]) {
		snprintf(buf, len, "some VMs are not in the kernel's maps: %s", s->map_error);
		return buf;
	}
	return NULL;
}

bool pd_enforcing(const struct pd_state *s)
{
	char buf[192];

	return !pd_not_enforced_why(s, buf, sizeof(buf));
}

/* ------------------------------------------------------------ the replies */
void pd_write_status(struct pd_state *s, FILE *out)
{
	const struct pd_bpf_state *b = pd_bpf_state(s->bpf);
	char buf[192];
	const char *why = pd_not_enforced_why(s, buf, sizeof(buf));
	size_t i;
	int k;

	fprintf(out, "policy %s\n", s->have_policy ? s->conf.file : "none");
	fprintf(out, "generation %u\n", s->generation);
	fprintf(out, "mode %s\n", s->have_policy ? pd_mode_name(s->conf.mode) : "none");
	fprintf(out, "bpf_lsm %s\n", b->lsm_active ? "active" : "inactive");
	if (!b->lsm_active)
		fprintf(out, "note BPF LSM is not usable (%s): quotas are counted, not enforced\n",
			b->lsm_why);
	fprintf(out, "enforcing %s\n", why ? "no" : "yes");
	if (why && s->have_policy)
		fprintf(out, "not_enforced %s\n", why);
	fprintf(out, "link file_ioctl %s\n", b->ioctl_lsm ? "pinned" : "none");
	fprintf(out, "link file_ioctl_compat %s\n", b->ioctl_compat ? "pinned" :
		b->compat_hook ? "none" : "none (no such hook: file_ioctl sees 32-bit calls)");
	fprintf(out, "link fork %s\n", b->fork ? "pinned" : "none");
	fprintf(out, "link ioctl_monitor %s\n", b->ioctl_monitor ? "pinned" : "none");
	fprintf(out, "link mdev %s\n", b->mdev ? "pinned" : "none");
	for (k = VFS_FD_CONTAINER; k < VFS_FD_KIND_MAX; k++) {
		const char *gap = pd_kind_gap(s, k);

		if (s->fops.fops[k])
			fprintf(out, "kind %s charged\n", vfio_fd_kind_name(k));
		else if (gap)
			fprintf(out, "kind %s not charged: %s\n", vfio_fd_kind_name(k), gap);
		else
			fprintf(out, "kind %s absent\n", vfio_fd_kind_name(k));
	}
	fprintf(out, "unclassified_calls %llu\n",
		(unsigned long long)pd_health(s, VFS_POL_H_UNCLASSIFIED));
	fprintf(out, "member_table_full %llu\n",
		(unsigned long long)pd_health(s, VFS_POL_H_MEMBER_FULL));
	fprintf(out, "bucket_table_full %llu\n",
		(unsigned long long)pd_health(s, VFS_POL_H_BUCKET_FULL));
	fprintf(out, "targets_not_mapped %zu\n", s->targets_failed);
	fprintf(out, "members_not_mapped %zu\n", s->members_failed);
	fprintf(out, "adopted %s\n", b->adopted ? "yes" : "no");
	fprintf(out, "rules %zu\n", s->have_policy ? s->conf.nrules : 0);
	fprintf(out, "vms %zu\n", s->nvms);
	fprintf(out, "reloads %llu failed %llu\n", (unsigned long long)s->reloads,
		(unsigned long long)s->reload_failures);
	/* each instance under a share, as of the last tick; the VM's name last */
	for (i = 0; i < s->nsinst; i++) {
		const struct pd_share_inst *p = &s->sinst[i];
		const struct pd_mdev *m = &s->conf.mdevs[p->mdev];
		char rule[16];

		fprintf(out, "share %s/%s mdev %s rule %s weight %u %s %llu used ", m->parent,
			m->type, p->uuid, p->rule ? pd_rule_label(s, p->rule, rule, sizeof(rule)) : "-",
			p->weight, m->share.knob, (unsigned long long)p->knob);
		if (p->fresh)
			fputs("-", out);
		else
			fprintf(out, "%llu", (unsigned long long)p->used);
		fprintf(out, " vm %s\n", p->vm[0] ? p->vm : "-");
	}
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

		fprintf(out, "vm %d name %s rule %s vm %016llx memlock %llu%s%s\n", (int)vm->pid,
			vm->name, pd_rule_label(s, vm->rule, buf, sizeof(buf)),
			(unsigned long long)vm->vm, (unsigned long long)vm->memlock,
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
