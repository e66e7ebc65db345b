/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A validated policy compiled into the BPF maps' keys and values (pure),
 * and the diff between two sets of map entries as the update/delete
 * operations that turn one into the other.
 */
#ifndef PD_COMPILE_H
#define PD_COMPILE_H

#include <stdbool.h>
#include <stdio.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "conf.h"

/* the 32-bit id of a rule (FNV-1a of its name, never 0) */
uint32_t pd_rule_id(const char *name);

/* rate r/s with burst b as GCRA parameters */
struct vfs_pol_bucket_cfg pd_bucket_cfg(uint64_t rate, uint64_t burst);

/* system facts compilation needs, supplied by the caller (tests fake them) */
struct pd_resolver {
	/* cgroup2 path -> cgroup id; 0 or -errno */
	int (*cgroup_id)(const char *path, uint64_t *id, void *ctx);
	void *ctx;
};

struct pd_crule {
	uint32_t id;
	const struct pd_rule *src;
	struct vfs_pol_rule rule;
};

struct pd_ctarget {
	struct vfs_pol_target key;
	uint32_t rule;		/* rule id */
	const struct pd_selector *sel;	/* where it came from */
};

struct pd_cmdev {
	struct vfs_pol_mdev_key key;
	struct vfs_pol_mdev_cap cap;
	const struct pd_mdev *src;
};

struct pd_compiled {
	struct vfs_pol_conf conf;
	struct pd_crule *rules;
	size_t nrules;
	/* static targets: pid and cgroup selectors (names are discovered) */
	struct pd_ctarget *targets;
	size_t ntargets;
	struct pd_cmdev *mdevs;		/* only entries with max_instances */
	size_t nmdevs;
	bool needs_ioctl_lsm;		/* some rule has a rate */
	bool needs_mdev_lsm;		/* some rule or mdev entry caps instances */
	bool has_name_selectors;
	size_t unresolved;		/* cgroups that do not exist (yet) */
};

/*
 * Compile @conf (which must stay alive: rules point into it). @generation
 * is stamped into the conf entry. 0, or -1 with "file:line: reason".
 */
int pd_compile(const struct pd_conf *conf, const struct pd_resolver *res, uint32_t generation,
	       struct pd_compiled *out, char *err, size_t errlen);
void pd_compiled_free(struct pd_compiled *c);
/* human-readable listing (vfio-policyd --check) */
void pd_compiled_print(const struct pd_compiled *c, FILE *out);

/*
 * The first rule of @conf (file order) a process falls under by name or
 * pid; NULL if none. Cgroup selectors are matched by the kernel.
 */
/* the shares of @conf, one line each (after pd_compiled_print in --check) */
void pd_shares_print(const struct pd_conf *conf, FILE *out);
const struct pd_crule *pd_match_process(const struct pd_compiled *c, pid_t pid,
					const char *name);

/* a map's entries: @n keys of @ksize and values of @vsize, packed */
struct pd_entries {
	size_t n, ksize, vsize;
	const void *keys;
	const void *vals;
};

enum pd_op_kind { PD_OP_UPDATE = 1, PD_OP_DELETE = 2 };

struct pd_op {
	enum pd_op_kind op;
	size_t index;		/* into want (UPDATE) or cur (DELETE) */
};

/*
 * Operations turning @cur into @want: DELETE for keys gone, then UPDATE
 * for keys new or with another value (so a full map makes room before it
 * takes new keys); unchanged entries produce nothing. @ops
 * must hold cur->n + want->n. Returns the number of operations.
 */
size_t pd_diff(const struct pd_entries *cur, const struct pd_entries *want, struct pd_op *ops);

#endif
