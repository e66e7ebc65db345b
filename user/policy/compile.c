// SPDX-License-Identifier: GPL-2.0
/* Policy compilation and map diffs: pure functions, unit-tested. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "compile.h"

uint32_t pd_rule_id(const char *name)
{
	uint32_t h = 2166136261u;

	while (*name) {
		h ^= (unsigned char)*name++;
		h *= 16777619u;
	}
	return h ? h : 1;
}

struct vfs_pol_bucket_cfg pd_bucket_cfg(uint64_t rate, uint64_t burst)
{
	struct vfs_pol_bucket_cfg b = { 0, 0 };

	if (!rate)
		return b;
	b.interval_ns = 1000000000ull / rate;
	if (!b.interval_ns)
		b.interval_ns = 1;
	b.tolerance_ns = (burst ? burst - 1 : 0) * b.interval_ns;
	return b;
}

int pd_compile(const struct pd_conf *conf, const struct pd_resolver *res, uint32_t generation,
	       struct pd_compiled *out, char *err, size_t errlen)
{
	size_t i, j, nsel = 0;
	int cls, r;

	memset(out, 0, sizeof(*out));
	out->conf.mode = conf->mode;
	out->conf.generation = generation;
	for (i = 0; i < conf->nrules; i++)
		for (j = 0; j < conf->rules[i].nsel; j++)
			if (conf->rules[i].sel[j].kind != PD_SEL_CGROUP)
				out->conf.flags |= VFS_POL_C_DISCOVER;
	for (i = 0; i < conf->nrules; i++)
		nsel += conf->rules[i].nsel;
	out->rules = calloc(conf->nrules + 1, sizeof(*out->rules));
	out->targets = calloc(nsel + 1, sizeof(*out->targets));
	out->mdevs = calloc(conf->nmdevs + 1, sizeof(*out->mdevs));
	if (!out->rules || !out->targets || !out->mdevs) {
		snprintf(err, errlen, "%s:0: out of memory", conf->file);
		pd_compiled_free(out);
		return -1;
	}
	for (i = 0; i < conf->nrules; i++) {
		const struct pd_rule *src = &conf->rules[i];
		struct pd_crule *cr = &out->rules[out->nrules++];

		cr->id = pd_rule_id(src->name);
		cr->src = src;
		cr->rule.mode = src->mode;
		for (cls = 0; cls < VFS_POL_BUCKETS; cls++) {
			cr->rule.bucket[cls] = pd_bucket_cfg(src->rate[cls].rate, src->rate[cls].burst);
			if (src->rate[cls].rate)
				out->needs_ioctl_lsm = true;
		}
		if (src->has_mdev_max) {
			cr->rule.flags |= VFS_POL_F_MDEV_MAX;
			cr->rule.mdev_max = src->mdev_max;
			out->needs_mdev_lsm = true;
		}
		for (j = 0; j < src->nsel; j++) {
			const struct pd_selector *s = &src->sel[j];
			struct pd_ctarget t = { .rule = cr->id, .sel = s };
			size_t k;

			if (s->kind == PD_SEL_NAME) {
				out->has_name_selectors = true;
				continue;
			}
			if (s->kind == PD_SEL_PID) {
				t.key.kind = VFS_POL_T_TGID;
				t.key.id = (uint64_t)s->pid;
			} else {
				t.key.kind = VFS_POL_T_CGROUP;
				uint64_t cg = 0;

				r = res->cgroup_id(s->value, &cg, res->ctx);
				t.key.id = cg;
				if (r == -ENOENT) {
					/* not there yet (a VM not started): resolved again later */
					out->unresolved++;
					continue;
				}
				if (r) {
					snprintf(err, errlen, "%s:%d: cgroup '%s': %s", conf->file,
						 s->line, s->value, strerror(-r));
					pd_compiled_free(out);
					return -1;
				}
			}
			/* the first rule in the file owns a target */
			for (k = 0; k < out->ntargets; k++)
				if (!memcmp(&out->targets[k].key, &t.key, sizeof(t.key)))
					break;
			if (k == out->ntargets)
				out->targets[out->ntargets++] = t;
		}
	}
	for (i = 0; i < conf->nmdevs; i++) {
		const struct pd_mdev *m = &conf->mdevs[i];
		struct pd_cmdev *cm;

		if (!m->has_max)
			continue;
		cm = &out->mdevs[out->nmdevs++];
		cm->src = m;
		/* both fit (the parser bounds them) and the rest stays zero */
		memcpy(cm->key.parent, m->parent, strlen(m->parent));
		memcpy(cm->key.type, m->type, strlen(m->type));
		cm->cap.max = m->max_instances;
		cm->cap.mode = VFS_POL_MODE_INHERIT;
		out->needs_mdev_lsm = true;
	}
	return 0;
}

void pd_compiled_free(struct pd_compiled *c)
{
	free(c->rules);
	free(c->targets);
	free(c->mdevs);
	memset(c, 0, sizeof(*c));
}

static void print_target(const struct pd_ctarget *t, FILE *out)
{
	fprintf(out, "target %s %llu -> rule %08x\n",
		t->key.kind == VFS_POL_T_TGID ? "pid" : "cgroup-id",
		(unsigned long long)t->key.id, t->rule);
}

/* whether selector @sel resolved to a target */
static bool resolved(const struct pd_compiled *c, const struct pd_selector *sel)
{
	size_t i;

	for (i = 0; i < c->ntargets; i++)
		if (c->targets[i].sel == sel)
			return true;
	return false;
}

void pd_compiled_print(const struct pd_compiled *c, FILE *out)
{
	size_t i, j;
	int cls;

	fprintf(out, "mode %s\n", pd_mode_name(c->conf.mode));
	fprintf(out, "lsm file_ioctl %s\n", c->needs_ioctl_lsm ? "attach" : "none");
	fprintf(out, "lsm mdev-create %s\n", c->needs_mdev_lsm ? "attach" : "none");
	for (i = 0; i < c->nrules; i++) {
		const struct pd_crule *r = &c->rules[i];

		fprintf(out, "rule %s id %08x mode %s\n", r->src->name, r->id,
			pd_mode_name(r->rule.mode));
		for (j = 0; j < r->src->nsel; j++)
			if (r->src->sel[j].kind == PD_SEL_NAME)
				fprintf(out, "  match name '%s' (discovered)\n", r->src->sel[j].value);
			else if (r->src->sel[j].kind == PD_SEL_CGROUP)
				fprintf(out, "  match cgroup %s%s\n", r->src->sel[j].value,
					resolved(c, &r->src->sel[j]) ? "" :
					" (absent: matched once it exists)");
			else
				fprintf(out, "  match pid %d\n", (int)r->src->sel[j].pid);
		for (cls = 0; cls < VFS_POL_BUCKETS; cls++)
			if (r->rule.bucket[cls].interval_ns)
				fprintf(out, "  rate %s %llu/s burst %llu: interval %llu ns tolerance %llu ns\n",
					pd_class_name(cls), (unsigned long long)r->src->rate[cls].rate,
					(unsigned long long)r->src->rate[cls].burst,
					(unsigned long long)r->rule.bucket[cls].interval_ns,
					(unsigned long long)r->rule.bucket[cls].tolerance_ns);
		if (r->src->max_pinned_bytes)
			fprintf(out, "  memlock %llu bytes (RLIMIT_MEMLOCK of each process)\n",
				(unsigned long long)r->src->max_pinned_bytes);
		if (r->rule.flags & VFS_POL_F_MDEV_MAX)
			fprintf(out, "  mdev_max %u\n", r->rule.mdev_max);
	}
	for (i = 0; i < c->ntargets; i++)
		print_target(&c->targets[i], out);
	for (i = 0; i < c->nmdevs; i++)
		fprintf(out, "mdev %s/%s max %u\n", c->mdevs[i].key.parent, c->mdevs[i].key.type,
			c->mdevs[i].cap.max);
}

void pd_shares_print(const struct pd_conf *conf, FILE *out)
{
	size_t i, j;

	for (i = 0; i < conf->nmdevs; i++) {
		const struct pd_mdev *m = &conf->mdevs[i];

		if (!m->share.set)
			continue;
		fprintf(out, "share %s/%s knob %s capacity %llu min %llu max %llu hysteresis %u%% default_weight %u",
			m->parent, m->type, m->share.knob, (unsigned long long)m->share.capacity,
			(unsigned long long)m->share.min, (unsigned long long)m->share.max,
			m->share.hysteresis, m->share.default_weight);
		for (j = 0; j < m->share.nweights; j++)
			fprintf(out, " %s:%u", m->share.weights[j].rule, m->share.weights[j].weight);
		fputc('\n', out);
	}
}

const struct pd_crule *pd_match_process(const struct pd_compiled *c, pid_t pid,
					const char *name)
{
	size_t i, j;

	for (i = 0; i < c->nrules; i++) {
		const struct pd_rule *r = c->rules[i].src;

		for (j = 0; j < r->nsel; j++)
			if ((r->sel[j].kind == PD_SEL_PID && r->sel[j].pid == pid) ||
			    (r->sel[j].kind == PD_SEL_NAME && name &&
			     pd_glob_match(r->sel[j].value, name)))
				return &c->rules[i];
	}
	return NULL;
}

static const void *at(const void *base, size_t i, size_t size)
{
	return (const char *)base + i * size;
}

/* index of @key in @e, or e->n; entry counts are small (rules, targets) */
static size_t find(const struct pd_entries *e, const void *key)
{
	size_t i;

	for (i = 0; i < e->n; i++)
		if (!memcmp(at(e->keys, i, e->ksize), key, e->ksize))
			return i;
	return e->n;
}

size_t pd_diff(const struct pd_entries *cur, const struct pd_entries *want, struct pd_op *ops)
{
	size_t i, k, n = 0;

	/* deletes first: a full map makes room before it takes new keys */
	for (i = 0; i < cur->n; i++)
		if (find(want, at(cur->keys, i, cur->ksize)) == want->n)
			ops[n++] = (struct pd_op){ PD_OP_DELETE, i };
	for (i = 0; i < want->n; i++) {
		k = find(cur, at(want->keys, i, want->ksize));
		if (k == cur->n || memcmp(at(cur->vals, k, cur->vsize),
					  at(want->vals, i, want->vsize), want->vsize))
			ops[n++] = (struct pd_op){ PD_OP_UPDATE, i };
	}
	return n;
}
