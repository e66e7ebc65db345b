/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vfio-policyd's policy file: YAML (libyaml) parsed and validated into a
 * struct pd_conf. Pure: no system state is read; every error is one line
 * "FILE:LINE: reason".
 */
#ifndef PD_CONF_H
#define PD_CONF_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <linux/types.h>
#include "abi.h"

#define PD_NAME_MAX		64
#define PD_MAX_SELECTORS	64
#define PD_MAX_KNOBS		8
#define PD_MAX_WEIGHTS		64

enum pd_sel_kind { PD_SEL_NAME = 1, PD_SEL_CGROUP, PD_SEL_PID };

struct pd_selector {
	enum pd_sel_kind kind;
	char value[256];	/* name glob or cgroup path (absolute, in cgroup2) */
	pid_t pid;
	int line;
};

struct pd_bucket {
	uint64_t rate;		/* calls per second; 0: no bucket */
	uint64_t burst;		/* calls admitted at once (>= 1) */
	int line;
};

struct pd_rule {
	char name[PD_NAME_MAX];
	int line;
	struct pd_selector sel[PD_MAX_SELECTORS];
	size_t nsel;
	enum vfs_pol_mode mode;			/* INHERIT unless set */
	struct pd_bucket rate[VFS_POL_BUCKETS];	/* by enum vfs_pol_class */
	uint64_t max_pinned_bytes;		/* 0: not limited */
	int has_mdev_max;
	uint32_t mdev_max;
};

struct pd_knob {
	char name[32];		/* a qos_* attribute of the mdev instance */
	uint64_t value;
};

/* a closed loop over one knob of a type's instances: see share.h */
struct pd_share {
	int set, line;
	char knob[32];		/* a knob with a counter in pd_knob_kinds */
	uint64_t capacity;	/* split between the instances */
	uint64_t min, max;	/* bounds per instance (max defaults to capacity) */
	uint32_t hysteresis;	/* percent (default 10) */
	uint32_t default_weight;	/* an owner no weight names (default 1) */
	struct pd_weight {
		char rule[PD_NAME_MAX];
		uint32_t weight;
		int line;
	} weights[PD_MAX_WEIGHTS];
	size_t nweights;
};

struct pd_mdev {
	char parent[VFS_NAME_LEN];	/* parent device name */
	char type[VFS_NAME_LEN];	/* type directory name */
	int line;
	int has_max;
	uint32_t max_instances;
	struct pd_knob knobs[PD_MAX_KNOBS];
	size_t nknobs;
	struct pd_share share;
};

struct pd_conf {
	char file[256];
	enum vfs_pol_mode mode;		/* MONITOR or ENFORCE (default ENFORCE) */
	uint32_t scan_ms;		/* name-glob discovery period */
	struct pd_rule *rules;
	size_t nrules;
	struct pd_mdev *mdevs;
	size_t nmdevs;
};

/*
 * Parse and validate @len bytes of YAML named @file into @out (zeroed
 * first). 0 on success; -1 with "file:line: reason" in @err.
 */
int pd_conf_parse(const char *file, const char *buf, size_t len, struct pd_conf *out,
		  char *err, size_t errlen);
/*
 * The same, reading @path: a regular file (opened without blocking), owned
 * by root or @euid and writable by no one else, in a directory of root or
 * the euid that no one else can write to (unless sticky): a policy another
 * user could rewrite or replace is refused, as "FILE:0: reason".
 */
int pd_conf_load(const char *path, struct pd_conf *out, char *err, size_t errlen);
/*
 * The ownership and mode rules of pd_conf_load over @file and its
 * directory @dir (NULL: not checked): 0, or -1 with "FILE:0: reason".
 */
int pd_conf_trusted(const char *path, const struct stat *file, const struct stat *dir,
		    uid_t euid, char *err, size_t errlen);
void pd_conf_free(struct pd_conf *c);

const char *pd_class_name(enum vfs_pol_class c);
const char *pd_mode_name(enum vfs_pol_mode m);
/* shell-style glob over a VM name (fnmatch without path rules) */
int pd_glob_match(const char *glob, const char *name);

#endif
