// SPDX-License-Identifier: GPL-2.0
/*
 * Policy file: libyaml builds the document tree (node marks carry the
 * lines), a table of keys per mapping drives typed parsers with range
 * checks, then whole-file validation (unique rule names and ids, no
 * overlapping mdev entries). Nothing here touches the system.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>
#include "compile.h"
#include "conf.h"
#include "share.h"

struct ctx {
	yaml_document_t *doc;
	const char *file;
	char *err;
	size_t errlen;
};

static int fail(struct ctx *c, const yaml_node_t *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct ctx *c, const yaml_node_t *n, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(c->err, c->errlen, "%s:%lu: %s", c->file,
		 n ? (unsigned long)n->start_mark.line + 1 : 1ul, msg);
	return -1;
}

static const char *kind_name(const yaml_node_t *n)
{
	switch (n->type) {
	case YAML_SCALAR_NODE: return "a scalar";
	case YAML_SEQUENCE_NODE: return "a list";
	case YAML_MAPPING_NODE: return "a mapping";
	default: return "empty";
	}
}

static int want(struct ctx *c, const yaml_node_t *n, yaml_node_type_t t, const char *what)
{
	static const char *const names[] = {
		[YAML_SCALAR_NODE] = "a scalar", [YAML_SEQUENCE_NODE] = "a list",
		[YAML_MAPPING_NODE] = "a mapping",
	};

	if (n->type == t)
		return 0;
	return fail(c, n, "%s must be %s, not %s", what, names[t], kind_name(n));
}

static const char *scalar(const yaml_node_t *n)
{
	return (const char *)n->data.scalar.value;
}

static int str_copy(struct ctx *c, const yaml_node_t *n, const char *what, char *out,
		    size_t outlen)
{
	if (want(c, n, YAML_SCALAR_NODE, what))
		return -1;
	if (!n->data.scalar.length)
		return fail(c, n, "%s is empty", what);
	if (n->data.scalar.length >= outlen)
		return fail(c, n, "%s is longer than %zu characters", what, outlen - 1);
	if (strlen(scalar(n)) != n->data.scalar.length)
		return fail(c, n, "%s contains a NUL character", what);
	memcpy(out, scalar(n), n->data.scalar.length + 1);
	return 0;
}

/* an unsigned decimal in [min, max]; with @sizes, k/M/G/T are powers of 1024 */
static int num(struct ctx *c, const yaml_node_t *n, const char *what, uint64_t min,
	       uint64_t max, int sizes, uint64_t *out)
{
	const char *s;
	unsigned long long v;
	char *end;
	int shift = 0;

	if (want(c, n, YAML_SCALAR_NODE, what))
		return -1;
	s = scalar(n);
	if (s[0] == '-' && isdigit((unsigned char)s[1]))
		return fail(c, n, "%s: '%s' is negative (0 or more)", what, s);
	if (!isdigit((unsigned char)s[0]))
		return fail(c, n, "%s: '%s' is not a number", what, s);
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno == ERANGE)
		return fail(c, n, "%s: '%s' is too large (at most %llu)", what, s,
			    (unsigned long long)max);
	if (sizes && *end && !end[1]) {
		static const char sfxs[] = "kKMGT";
		const char *sfx = strchr(sfxs, *end);

		if (sfx) {
			shift = sfx - sfxs < 2 ? 10 : 10 * (int)(sfx - sfxs);
			end++;
		}
	}
	if (errno || *end)
		return fail(c, n, "%s: '%s' is not a number%s", what, s,
			    sizes ? " (suffixes: k, M, G, T)" : "");
	if (shift && v > (~0ull >> shift))
		return fail(c, n, "%s: '%s' is too large", what, s);
	v <<= shift;
	if (v < min || v > max)
		return fail(c, n, "%s: %llu is out of range [%llu, %llu]", what, v,
			    (unsigned long long)min, (unsigned long long)max);
	*out = v;
	return 0;
}

/* num() into a 32-bit field (@max fits) */
static int num32(struct ctx *c, const yaml_node_t *n, const char *what, uint32_t min,
		 uint32_t max, uint32_t *out)
{
	uint64_t v;

	if (num(c, n, what, min, max, 0, &v))
		return -1;
	*out = (uint32_t)v;
	return 0;
}

static int mode_of(struct ctx *c, const yaml_node_t *n, enum vfs_pol_mode *out)
{
	if (want(c, n, YAML_SCALAR_NODE, "mode"))
		return -1;
	if (!strcmp(scalar(n), "enforce"))
		*out = VFS_POL_MODE_ENFORCE;
	else if (!strcmp(scalar(n), "monitor"))
		*out = VFS_POL_MODE_MONITOR;
	else
		return fail(c, n, "mode must be enforce or monitor, not '%s'", scalar(n));
	return 0;
}

/* one key of a mapping: its name and the parser of its value */
struct key {
	const char *name;
	int (*parse)(struct ctx *c, yaml_node_t *v, void *obj);
};

/*
 * Walk mapping @n: every key must be in @keys (NULL-terminated), none
 * twice, and those flagged in @required must be present.
 */
static int walk(struct ctx *c, yaml_node_t *n, const char *what, const struct key *keys,
		unsigned int required, void *obj)
{
	yaml_node_pair_t *p;
	unsigned int seen = 0;
	size_t i;

	if (want(c, n, YAML_MAPPING_NODE, what))
		return -1;
	for (p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(c->doc, p->key);
		yaml_node_t *v = yaml_document_get_node(c->doc, p->value);

		if (want(c, k, YAML_SCALAR_NODE, "a key"))
			return -1;
		for (i = 0; keys[i].name; i++)
			if (!strcmp(keys[i].name, scalar(k)))
				break;
		if (!keys[i].name) {
			char list[256] = "";

			for (i = 0; keys[i].name; i++)
				snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s",
					 i ? ", " : "", keys[i].name);
			return fail(c, k, "unknown key '%s' in %s (known: %s)", scalar(k), what,
				    list);
		}
		if (seen & (1u << i))
			return fail(c, k, "'%s' given twice in %s", scalar(k), what);
		seen |= 1u << i;
		if (keys[i].parse(c, v, obj))
			return -1;
	}
	for (i = 0; keys[i].name; i++)
		if ((required & (1u << i)) && !(seen & (1u << i)))
			return fail(c, n, "%s needs '%s'", what, keys[i].name);
	return 0;
}

/* ------------------------------------------------------------ selectors */
static int sel_name(struct ctx *c, yaml_node_t *v, void *o)
{
	struct pd_selector *s = o;

	s->kind = PD_SEL_NAME;
	return str_copy(c, v, "name", s->value, sizeof(s->value));
}

static int sel_cgroup(struct ctx *c, yaml_node_t *v, void *o)
{
	struct pd_selector *s = o;

	s->kind = PD_SEL_CGROUP;
	if (str_copy(c, v, "cgroup", s->value, sizeof(s->value)))
		return -1;
	if (s->value[0] != '/' || strstr(s->value, "/../") || strstr(s->value, "/./") ||
	    (strlen(s->value) >= 3 && !strcmp(s->value + strlen(s->value) - 3, "/..")))
		return fail(c, v, "cgroup must be an absolute path within cgroup2 without . or .., not '%s'",
			    s->value);
	return 0;
}

static int sel_pid(struct ctx *c, yaml_node_t *v, void *o)
{
	struct pd_selector *s = o;
	uint64_t pid;

	s->kind = PD_SEL_PID;
	if (num(c, v, "pid", 1, 4194304, 0, &pid))
		return -1;
	s->pid = (pid_t)pid;
	return 0;
}

static int rule_match(struct ctx *c, yaml_node_t *v, void *o)
{
	static const struct key keys[] = {
		{ "name", sel_name }, { "cgroup", sel_cgroup }, { "pid", sel_pid }, { NULL, NULL },
	};
	struct pd_rule *r = o;
	yaml_node_item_t *it;

	if (want(c, v, YAML_SEQUENCE_NODE, "match"))
		return -1;
	if (v->data.sequence.items.top == v->data.sequence.items.start)
		return fail(c, v, "match is an empty list: the rule would select nothing");
	for (it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
		yaml_node_t *n = yaml_document_get_node(c->doc, *it);
		struct pd_selector *s;

		if (r->nsel == PD_MAX_SELECTORS)
			return fail(c, n, "more than %d selectors in one rule", PD_MAX_SELECTORS);
		s = &r->sel[r->nsel];
		if (want(c, n, YAML_MAPPING_NODE, "a selector"))
			return -1;
		if (n->data.mapping.pairs.top - n->data.mapping.pairs.start != 1)
			return fail(c, n, "a selector has exactly one of name, cgroup, pid");
		if (walk(c, n, "a selector", keys, 0, s))
			return -1;
		s->line = n->start_mark.line + 1;
		r->nsel++;
	}
	return 0;
}

/* ---------------------------------------------------------------- rules */
static int bucket_rate(struct ctx *c, yaml_node_t *v, void *o)
{
	return num(c, v, "rate", 1, 1000000000, 0, &((struct pd_bucket *)o)->rate);
}

static int bucket_burst(struct ctx *c, yaml_node_t *v, void *o)
{
	return num(c, v, "burst", 1, 1000000000, 0, &((struct pd_bucket *)o)->burst);
}

static int rule_rate(struct ctx *c, yaml_node_t *v, void *o)
{
	static const struct key keys[] = {
		{ "rate", bucket_rate }, { "burst", bucket_burst }, { NULL, NULL },
	};
	struct pd_rule *r = o;
	yaml_node_pair_t *p;
	int cls;

	if (want(c, v, YAML_MAPPING_NODE, "rate"))
		return -1;
	for (p = v->data.mapping.pairs.start; p < v->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(c->doc, p->key);
		yaml_node_t *b = yaml_document_get_node(c->doc, p->value);
		struct pd_bucket *bk;

		if (want(c, k, YAML_SCALAR_NODE, "a class"))
			return -1;
		for (cls = 0; cls < VFS_POL_BUCKETS; cls++)
			if (!strcmp(scalar(k), pd_class_name(cls)))
				break;
		if (cls == VFS_POL_BUCKETS)
			return fail(c, k, "unknown ioctl class '%s' (all, dma_map, dma_unmap, reset, migration)",
				    scalar(k));
		bk = &r->rate[cls];
		if (bk->line)
			return fail(c, k, "class '%s' given twice", scalar(k));
		/* walk() flags: bit 0 rate, bit 1 burst; burst defaults to 1 */
		if (walk(c, b, "a class's bucket", keys, 1u << 0, bk))
			return -1;
		if (!bk->burst)
			bk->burst = 1;
		bk->line = b->start_mark.line + 1;
	}
	return 0;
}

static int rule_name(struct ctx *c, yaml_node_t *v, void *o)
{
	struct pd_rule *r = o;
	const char *s;

	if (str_copy(c, v, "rule name", r->name, sizeof(r->name)))
		return -1;
	for (s = r->name; *s; s++)
		if (!(*s == '-' || *s == '_' || *s == '.' || (*s >= '0' && *s <= '9') ||
		      (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z')))
			return fail(c, v, "rule name '%s' may hold only letters, digits, '-', '_', '.'",
				    r->name);
	return 0;
}

static int rule_mode(struct ctx *c, yaml_node_t *v, void *o)
{
	return mode_of(c, v, &((struct pd_rule *)o)->mode);
}

static int rule_pinned(struct ctx *c, yaml_node_t *v, void *o)
{
	return num(c, v, "max_pinned_bytes", 4096, 1ull << 50, 1,
		   &((struct pd_rule *)o)->max_pinned_bytes);
}

static int rule_mdev(struct ctx *c, yaml_node_t *v, void *o)
{
	struct pd_rule *r = o;

	r->has_mdev_max = 1;
	return num32(c, v, "max_mdev", 0, 65535, &r->mdev_max);
}

/* ----------------------------------------------------------------- mdev */
static int mdev_parent(struct ctx *c, yaml_node_t *v, void *o)
{
	return str_copy(c, v, "parent", ((struct pd_mdev *)o)->parent, VFS_NAME_LEN);
}

static int mdev_type(struct ctx *c, yaml_node_t *v, void *o)
{
	return str_copy(c, v, "type", ((struct pd_mdev *)o)->type, VFS_NAME_LEN);
}

static int mdev_max(struct ctx *c, yaml_node_t *v, void *o)
{
	struct pd_mdev *m = o;

	m->has_max = 1;
	return num32(c, v, "max_instances", 0, 65535, &m->max_instances);
}

/* "qos_job_rate, qos_dma_bw": the knob table's names, for messages */
static const char *knob_names(void)
{
	static char list[128];
	const struct pd_knob_kind *k;

	if (!list[0])
		for (k = pd_knob_kinds; k->knob; k++)
			snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s",
				 k == pd_knob_kinds ? "" : ", ", k->knob);
	return list;
}

/* fixed knob values; only the knob table's attributes are ever written */
static int mdev_knobs(struct ctx *c, yaml_node_t *v, void *o)
{
	struct pd_mdev *m = o;
	yaml_node_pair_t *p;
	size_t i;

	if (want(c, v, YAML_MAPPING_NODE, "knobs"))
		return -1;
	for (p = v->data.mapping.pairs.start; p < v->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(c->doc, p->key);
		yaml_node_t *val = yaml_document_get_node(c->doc, p->value);
		struct pd_knob *kn = &m->knobs[m->nknobs];

		if (want(c, k, YAML_SCALAR_NODE, "a knob"))
			return -1;
		if (!pd_knob_kind(scalar(k)))
			return fail(c, k, "unknown knob '%s' (%s)", scalar(k), knob_names());
		for (i = 0; i < m->nknobs; i++)
			if (!strcmp(m->knobs[i].name, scalar(k)))
				return fail(c, k, "knob '%s' given twice", scalar(k));
		if (m->nknobs == PD_MAX_KNOBS)
			return fail(c, k, "more than %d knobs", PD_MAX_KNOBS);
		snprintf(kn->name, sizeof(kn->name), "%s", scalar(k));
		if (num(c, val, kn->name, 0, ~0u, 1, &kn->value))
			return -1;
		m->nknobs++;
	}
	return 0;
}

/* ---------------------------------------------------------------- share */
static int share_knob(struct ctx *c, yaml_node_t *v, void *o)
{
	struct pd_share *sh = o;
	const struct pd_knob_kind *k;

	if (str_copy(c, v, "knob", sh->knob, sizeof(sh->knob)))
		return -1;
	k = pd_knob_kind(sh->knob);
	if (!k)
		return fail(c, v, "unknown knob '%s' (%s)", sh->knob, knob_names());
	if (!k->counter)
		return fail(c, v, "knob '%s' has no counter of its use: a share cannot measure it",
			    sh->knob);
	return 0;
}

static int share_capacity(struct ctx *c, yaml_node_t *v, void *o)
{
	return num(c, v, "capacity", 1, ~0u, 1, &((struct pd_share *)o)->capacity);
}

static int share_min(struct ctx *c, yaml_node_t *v, void *o)
{
	return num(c, v, "min", 1, ~0u, 1, &((struct pd_share *)o)->min);
}

static int share_max(struct ctx *c, yaml_node_t *v, void *o)
{
	return num(c, v, "max", 1, ~0u, 1, &((struct pd_share *)o)->max);
}

static int share_hysteresis(struct ctx *c, yaml_node_t *v, void *o)
{
	return num32(c, v, "hysteresis", 0, 90, &((struct pd_share *)o)->hysteresis);
}

static int share_default_weight(struct ctx *c, yaml_node_t *v, void *o)
{
	return num32(c, v, "default_weight", 1, 1000, &((struct pd_share *)o)->default_weight);
}

/* weights: {RULE: N, ...}; the rules are checked against the file's in validate() */
static int share_weights(struct ctx *c, yaml_node_t *v, void *o)
{
	struct pd_share *sh = o;
	yaml_node_pair_t *p;
	size_t i;

	if (want(c, v, YAML_MAPPING_NODE, "weights"))
		return -1;
	for (p = v->data.mapping.pairs.start; p < v->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(c->doc, p->key);
		yaml_node_t *val = yaml_document_get_node(c->doc, p->value);
		struct pd_weight *w = &sh->weights[sh->nweights];

		if (sh->nweights == PD_MAX_WEIGHTS)
			return fail(c, k, "more than %d weights", PD_MAX_WEIGHTS);
		if (str_copy(c, k, "a rule name", w->rule, sizeof(w->rule)))
			return -1;
		for (i = 0; i < sh->nweights; i++)
			if (!strcmp(sh->weights[i].rule, w->rule))
				return fail(c, k, "weight of rule '%s' given twice", w->rule);
		if (num32(c, val, "a weight", 1, 1000, &w->weight))
			return -1;
		w->line = k->start_mark.line + 1;
		sh->nweights++;
	}
	return 0;
}

static int mdev_share(struct ctx *c, yaml_node_t *v, void *o)
{
	static const struct key keys[] = {
		{ "knob", share_knob }, { "capacity", share_capacity }, { "min", share_min },
		{ "max", share_max }, { "hysteresis", share_hysteresis },
		{ "default_weight", share_default_weight }, { "weights", share_weights },
		{ NULL, NULL },
	};
	struct pd_share *sh = &((struct pd_mdev *)o)->share;

	sh->hysteresis = 10;
	sh->default_weight = 1;
	if (walk(c, v, "share", keys, 7u /* knob, capacity, min */, sh))
		return -1;
	if (!sh->max)
		sh->max = sh->capacity;
	if (sh->min > sh->max)
		return fail(c, v, "share: min %llu is above max %llu", (unsigned long long)sh->min,
			    (unsigned long long)sh->max);
	if (sh->max > sh->capacity)
		return fail(c, v, "share: max %llu is above the capacity %llu",
			    (unsigned long long)sh->max, (unsigned long long)sh->capacity);
	sh->set = 1;
	sh->line = v->start_mark.line + 1;
	return 0;
}

/* --------------------------------------------------------------- top */
static int top_mode(struct ctx *c, yaml_node_t *v, void *o)
{
	return mode_of(c, v, &((struct pd_conf *)o)->mode);
}

static int top_scan(struct ctx *c, yaml_node_t *v, void *o)
{
	uint64_t ms;

	if (num(c, v, "discovery_interval_ms", 50, 60000, 0, &ms))
		return -1;
	((struct pd_conf *)o)->scan_ms = (uint32_t)ms;
	return 0;
}

/* a list of mappings parsed by @keys into @n elements of @size at *@arr */
static int list_of(struct ctx *c, yaml_node_t *v, const char *what, const struct key *keys,
		   unsigned int required, size_t size, size_t max, void **arr, size_t *n)
{
	yaml_node_item_t *it;
	size_t cnt = v->type == YAML_SEQUENCE_NODE ?
		(size_t)(v->data.sequence.items.top - v->data.sequence.items.start) : 0;

	if (want(c, v, YAML_SEQUENCE_NODE, what))
		return -1;
	if (cnt > max)
		return fail(c, v, "more than %zu entries in %s", max, what);
	*arr = calloc(cnt ? cnt : 1, size);
	if (!*arr)
		return fail(c, v, "out of memory");
	for (it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
		yaml_node_t *e = yaml_document_get_node(c->doc, *it);
		char *obj = (char *)*arr + *n * size;

		/* the first int after the name in both element types is the line */
		if (walk(c, e, what, keys, required, obj))
			return -1;
		if (size == sizeof(struct pd_rule))
			((struct pd_rule *)obj)->line = e->start_mark.line + 1;
		else
			((struct pd_mdev *)obj)->line = e->start_mark.line + 1;
		(*n)++;
	}
	return 0;
}

static int top_rules(struct ctx *c, yaml_node_t *v, void *o)
{
	static const struct key keys[] = {
		{ "name", rule_name }, { "match", rule_match }, { "mode", rule_mode },
		{ "rate", rule_rate }, { "max_pinned_bytes", rule_pinned },
		{ "max_mdev", rule_mdev }, { NULL, NULL },
	};
	struct pd_conf *conf = o;

	return list_of(c, v, "rules", keys, 3u /* name, match */, sizeof(struct pd_rule),
		       VFS_POL_MAX_RULES, (void **)&conf->rules, &conf->nrules);
}

static int top_mdev(struct ctx *c, yaml_node_t *v, void *o)
{
	static const struct key keys[] = {
		{ "parent", mdev_parent }, { "type", mdev_type },
		{ "max_instances", mdev_max }, { "knobs", mdev_knobs }, { "share", mdev_share },
		{ NULL, NULL },
	};
	struct pd_conf *conf = o;

	return list_of(c, v, "mdev", keys, 3u /* parent, type */, sizeof(struct pd_mdev),
		       256, (void **)&conf->mdevs, &conf->nmdevs);
}

/* whole-file rules: what single keys cannot see */
static int validate(struct ctx *c, struct pd_conf *conf)
{
	size_t i, j;
	int cls;

	for (i = 0; i < conf->nrules; i++) {
		struct pd_rule *r = &conf->rules[i];
		int any = r->max_pinned_bytes || r->has_mdev_max;

		for (cls = 0; cls < VFS_POL_BUCKETS; cls++)
			any |= r->rate[cls].rate != 0;
		/* a rule may only select a VM for a share's weight */
		for (j = 0; !any && j < conf->nmdevs; j++) {
			size_t w;

			for (w = 0; w < conf->mdevs[j].share.nweights; w++)
				any |= !strcmp(conf->mdevs[j].share.weights[w].rule, r->name);
		}
		if (!any) {
			snprintf(c->err, c->errlen, "%s:%d: rule '%s' sets no quota (rate, max_pinned_bytes or max_mdev) and no share weighs it",
				 c->file, r->line, r->name);
			return -1;
		}
		for (j = 0; j < i; j++) {
			if (!strcmp(conf->rules[j].name, r->name)) {
				snprintf(c->err, c->errlen, "%s:%d: rule name '%s' already used at line %d",
					 c->file, r->line, r->name, conf->rules[j].line);
				return -1;
			}
			if (pd_rule_id(conf->rules[j].name) == pd_rule_id(r->name)) {
				snprintf(c->err, c->errlen, "%s:%d: rule names '%s' and '%s' hash to the same id: rename one",
					 c->file, r->line, r->name, conf->rules[j].name);
				return -1;
			}
		}
	}
	for (i = 0; i < conf->nmdevs; i++) {
		struct pd_mdev *m = &conf->mdevs[i];

		if (!m->has_max && !m->nknobs && !m->share.set) {
			snprintf(c->err, c->errlen, "%s:%d: mdev entry %s/%s sets neither max_instances, knobs nor share",
				 c->file, m->line, m->parent, m->type);
			return -1;
		}
		for (j = 0; m->share.set && j < m->nknobs; j++)
			if (!strcmp(m->knobs[j].name, m->share.knob)) {
				snprintf(c->err, c->errlen, "%s:%d: knob '%s' is both fixed (knobs) and shared (share)",
					 c->file, m->share.line, m->share.knob);
				return -1;
			}
		for (j = 0; j < m->share.nweights; j++) {
			const struct pd_weight *w = &m->share.weights[j];
			size_t r;

			for (r = 0; r < conf->nrules && strcmp(conf->rules[r].name, w->rule); r++)
				;
			if (r == conf->nrules) {
				snprintf(c->err, c->errlen, "%s:%d: share weight for rule '%s', which no rule is named",
					 c->file, w->line, w->rule);
				return -1;
			}
		}
		for (j = 0; j < i; j++)
			if (!strcmp(conf->mdevs[j].parent, m->parent) &&
			    !strcmp(conf->mdevs[j].type, m->type)) {
				snprintf(c->err, c->errlen, "%s:%d: mdev %s/%s already configured at line %d",
					 c->file, m->line, m->parent, m->type, conf->mdevs[j].line);
				return -1;
			}
	}
	return 0;
}

int pd_conf_parse(const char *file, const char *buf, size_t len, struct pd_conf *out,
		  char *err, size_t errlen)
{
	static const struct key keys[] = {
		{ "mode", top_mode }, { "discovery_interval_ms", top_scan },
		{ "rules", top_rules }, { "mdev", top_mdev }, { NULL, NULL },
	};
	struct ctx c = { .file = file, .err = err, .errlen = errlen };
	yaml_parser_t parser;
	yaml_document_t doc;
	yaml_node_t *root;
	int ret = -1;

	memset(out, 0, sizeof(*out));
	snprintf(out->file, sizeof(out->file), "%s", file);
	out->mode = VFS_POL_MODE_ENFORCE;
	out->scan_ms = 500;
	if (!yaml_parser_initialize(&parser)) {
		snprintf(err, errlen, "%s:1: cannot initialise the YAML parser", file);
		return -1;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
	if (!yaml_parser_load(&parser, &doc)) {
		snprintf(err, errlen, "%s:%lu: %s%s%s", file,
			 (unsigned long)(parser.problem_mark.line + 1),
			 parser.problem ? parser.problem : "invalid YAML",
			 parser.context ? " " : "", parser.context ? parser.context : "");
		yaml_parser_delete(&parser);
		return -1;
	}
	c.doc = &doc;
	root = yaml_document_get_root_node(&doc);
	if (!root)
		snprintf(err, errlen, "%s:1: the policy file is empty", file);
	else if (!walk(&c, root, "the policy file", keys, 0, out) && !validate(&c, out))
		ret = 0;
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	if (ret)
		pd_conf_free(out);
	return ret;
}

int pd_conf_trusted(const char *path, const struct stat *file, const struct stat *dir,
		    uid_t euid, char *err, size_t errlen)
{
	if (file->st_uid != 0 && file->st_uid != euid) {
		snprintf(err, errlen, "%s:0: owned by uid %u, not by root: refusing a policy "
			 "another user can rewrite", path, (unsigned int)file->st_uid);
		return -1;
	}
	if (file->st_mode & (S_IWGRP | S_IWOTH)) {
		snprintf(err, errlen, "%s:0: writable by %s (mode %04o): refusing a policy "
			 "others can rewrite (chmod go-w)", path,
			 file->st_mode & S_IWOTH ? "everyone" : "its group",
			 (unsigned int)(file->st_mode & 07777));
		return -1;
	}
	if (!dir)
		return 0;
	if (dir->st_uid != 0 && dir->st_uid != euid) {
		snprintf(err, errlen, "%s:0: its directory is owned by uid %u, not by root: "
			 "refusing a policy another user can replace", path,
			 (unsigned int)dir->st_uid);
		return -1;
	}
	/* a sticky directory (/tmp) lets no one replace a file of ours */
	if ((dir->st_mode & (S_IWGRP | S_IWOTH)) && !(dir->st_mode & S_ISVTX)) {
		snprintf(err, errlen, "%s:0: its directory is writable by %s (mode %04o): "
			 "refusing a policy others can replace", path,
			 dir->st_mode & S_IWOTH ? "everyone" : "its group",
			 (unsigned int)(dir->st_mode & 07777));
		return -1;
	}
	return 0;
}

/* the directory @path is in, after symbolic links: the one that holds the file */
static int dir_of(const char *path, struct stat *st)
{
	char *real = realpath(path, NULL), *slash;
	int r;

	if (!real)
		return -1;
	slash = strrchr(real, '/');
	if (slash == real)
		slash[1] = '\0';	/* "/policy.yaml": the root */
	else if (slash)
		*slash = '\0';
	r = stat(real, st);
	free(real);
	return r;
}

int pd_conf_load(const char *path, struct pd_conf *out, char *err, size_t errlen)
{
	/* O_NONBLOCK: a FIFO in the policy's place must not hang the daemon */
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	char *buf = NULL;
	size_t len = 0, cap = 0, n;
	struct stat st, dst;
	FILE *f;
	int ret;

	memset(out, 0, sizeof(*out));
	if (fd < 0) {
		snprintf(err, errlen, "%s:0: cannot open: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st)) {
		snprintf(err, errlen, "%s:0: cannot stat: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s:0: not a regular file (%s)", path,
			 S_ISDIR(st.st_mode) ? "a directory" : "a device, pipe or socket");
		close(fd);
		return -1;
	}
	if (dir_of(path, &dst)) {
		snprintf(err, errlen, "%s:0: cannot stat its directory: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	if (pd_conf_trusted(path, &st, &dst, geteuid(), err, errlen)) {
		close(fd);
		return -1;
	}
	f = fdopen(fd, "r");
	if (!f) {
		snprintf(err, errlen, "%s:0: cannot read: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	do {
		if (len == cap) {
			char *nb = realloc(buf, cap = cap ? cap * 2 : 4096);

			if (!nb || cap > (1u << 24)) {
				free(nb ? nb : buf);
				fclose(f);
				snprintf(err, errlen, "%s:0: too large (over 16 MiB) or out of memory", path);
				return -1;
			}
			buf = nb;
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
	} while (n);
	if (ferror(f)) {
		snprintf(err, errlen, "%s:0: cannot read: %s", path, strerror(errno));
		free(buf);
		fclose(f);
		return -1;
	}
	fclose(f);
	ret = pd_conf_parse(path, buf, len, out, err, errlen);
	free(buf);
	return ret;
}

void pd_conf_free(struct pd_conf *c)
{
	free(c->rules);
	free(c->mdevs);
	c->rules = NULL;
	c->mdevs = NULL;
	c->nrules = c->nmdevs = 0;
}

const char *pd_class_name(enum vfs_pol_class c)
{
	static const char *const names[VFS_POL_CLASS_MAX] = {
		[VFS_POL_ALL] = "all", [VFS_POL_DMA_MAP] = "dma_map",
		[VFS_POL_DMA_UNMAP] = "dma_unmap", [VFS_POL_RESET] = "reset",
		[VFS_POL_MIGRATION] = "migration", [VFS_POL_OTHER] = "other",
	};

	return (unsigned int)c < VFS_POL_CLASS_MAX ? names[c] : "?";
}

const char *pd_mode_name(enum vfs_pol_mode m)
{
	switch (m) {
	case VFS_POL_MODE_ENFORCE: return "enforce";
	case VFS_POL_MODE_MONITOR: return "monitor";
	default: return "inherit";
	}
}

int pd_glob_match(const char *glob, const char *name)
{
	return fnmatch(glob, name, 0) == 0;
}
