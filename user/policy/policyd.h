/* SPDX-License-Identifier: GPL-2.0 */
/* vfio-policyd's shared state between the main loop, apply and control. */
#ifndef PD_POLICYD_H
#define PD_POLICYD_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>
#include "compile.h"
#include "conf.h"
#include "policy_bpf.h"

#define PD_DEFAULT_CONFIG	"/etc/vfioscope/policy.yaml"
#define PD_DEFAULT_SOCKET	"/run/vfioscope/policyd.sock"

/* a process the discovery matched, and what was done to it */
struct pd_vm {
	pid_t pid;
	uint32_t rule;
	uint64_t vm;			/* VFS_POL_VM_*: whose quota it spends */
	char name[64];
	uint64_t want_memlock;		/* the rule's cap, applied once the policy is */
	uint64_t memlock;		/* RLIMIT_MEMLOCK set, 0 if none */
	int memlock_err;		/* errno of the last prlimit, 0 if fine */
	bool ipc_lock;			/* has CAP_IPC_LOCK: the memlock cap does not bind */
};

/* a process's VM name, resolved once per (pid, comm): see discover() */
struct pd_name {
	pid_t pid;
	unsigned int age;		/* scans since resolved */
	char comm[16];
	char name[64];
};

/* an instance under a share (knobs.c), as measured at the last tick */
struct pd_share_inst {
	size_t mdev;			/* its entry in conf.mdevs */
	size_t seq;			/* its place in the sysfs listing */
	char uuid[40];
	uint64_t count, count_ns;	/* the use counter and when it was read */
	uint64_t used;			/* per second since the tick before */
	int fresh;			/* first seen: not measured yet */
	uint64_t knob;			/* the knob's value (read, then written) */
	uint32_t weight;		/* of its owner's rule, or the default */
	uint32_t rule;			/* its owner's rule id, 0: no VM */
	pid_t pid;
	char vm[64];			/* its owner's name, "" if none */
	uint64_t writes, errors;	/* knob writes made and failed */
};

struct pd_state {
	const char *config;
	const char *pin_dir;
	struct pd_conf conf;		/* running policy */
	struct pd_compiled comp;
	bool have_policy;
	uint32_t generation;
	char last_error[512];
	struct pd_bpf *bpf;
	struct pd_vm *vms;
	size_t nvms, capvms;
	struct pd_name *names, *names_next;	/* by pid, ascending; swapped per scan */
	size_t nnames, nnames_next, capnames, capnames_next;
	uint64_t reloads, reload_failures;
	uint64_t retired;	/* pol_stats entries of exited VMs folded (retire_exited) */
	uint64_t retire_grace_ns;	/* how long an exited VM's entries stay (--gc-grace) */
	struct pd_dead {
		uint64_t id;		/* a tgid (counters) or a VFS_POL_VM_* (buckets) */
		uint64_t since;		/* CLOCK_MONOTONIC ns it was first seen gone */
	} *dead, *dead_next;		/* swapped per scan, like names */
	size_t ndead, ndead_next, capdead, capdead_next;
	/* the kernel's VFIO file_operations (pol_fops) and why a kind is not */
	struct vfs_pol_fops fops;
	char fops_why[VFS_FD_KIND_MAX][96];
	uint64_t modules_hash;		/* /proc/modules when fops were resolved */
	/*
	 * /proc/kallsyms, opened before the daemon drops its capabilities: the
	 * kernel decides at open whether a reader sees addresses (CAP_SYSLOG),
	 * so later reads through it still do
	 */
	FILE *kallsyms;
	FILE *modules;			/* /proc/modules, opened like kallsyms */
	/* entries the kernel maps could not take at the last sync */
	size_t targets_failed, members_failed;
	bool scan_soon;			/* a VFIO caller no rule covers was reported */
	char map_error[160];
	struct pd_share_inst *sinst;	/* rebuilt at every share tick */
	size_t nsinst, capsinst;
};

/* rate-limited log line to stderr (journal under systemd) */
void pd_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Parse, validate and compile @path, then apply it; on any failure the
 * running policy stays and stays applied. 0 or -1 (reason in last_error
 * and logged).
 */
int pd_reload(struct pd_state *s, const char *path);
/* discovery: match processes by name/pid, sync targets and memlock limits */
int pd_scan(struct pd_state *s);
/* CLOCK_MONOTONIC in ns */
uint64_t pd_mono_ns(void);
/* the fixed knob values of the configured mdev types, on every instance */
void pd_apply_knobs(const struct pd_conf *conf);
/* the shares' closed loop: measure, split, write the knobs that move */
void pd_share_tick(struct pd_state *s);
/* "status" and "vms" replies of the control socket */
void pd_write_status(struct pd_state *s, FILE *out);
void pd_write_vms(struct pd_state *s, FILE *out);
bool pd_enforcing(const struct pd_state *s);
/* why the policy is not enforced (one sentence, may use @buf), or NULL */
const char *pd_not_enforced_why(const struct pd_state *s, char *buf, size_t len);
/* pol_fops from /proc/kallsyms when the module list changed */
void pd_resolve_fops(struct pd_state *s);
/* why calls on VFIO files of kind @k are not charged, or NULL */
const char *pd_kind_gap(const struct pd_state *s, int k);
/* a kernel-side counter of what the policy programs could not do */
uint64_t pd_health(const struct pd_state *s, enum vfs_pol_health h);
/* a rule's name for output: its name, "mdev-type-cap" (0), or the id in hex */
const char *pd_rule_label(const struct pd_state *s, uint32_t id, char *buf, size_t len);

/* the cgroup id of a cgroup2 path (its directory's inode number) */
int pd_cgroup_id(const char *path, uint64_t *id, void *ctx);

#endif
