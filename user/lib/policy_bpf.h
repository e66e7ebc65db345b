/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * vfio-policyd's BPF side: load bpf/policy.bpf.c with every map pinned
 * under a bpffs directory (reused when already pinned, so counters and
 * buckets survive the daemon), attach the programs a policy needs and pin
 * their links (enforcement survives kill -9), adopt links already pinned
 * (a restart leaves no gap), detach and unpin what a policy no longer needs.
 */
#ifndef VFIOSCOPE_POLICY_BPF_H
#define VFIOSCOPE_POLICY_BPF_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "abi.h"

#define PD_PIN_DIR "/sys/fs/bpf/vfioscope/policy"

enum pd_map {
	PD_MAP_CONF, PD_MAP_TARGET, PD_MAP_RULE, PD_MAP_STATS, PD_MAP_MDEV_CAP,
	PD_MAP_MDEV_COUNT, PD_MAP_RULE_MDEV, PD_MAP_BUCKET, PD_MAP_MEMBER, PD_MAP_FOPS,
	PD_MAP_HEALTH, PD_MAP_MAX,
};

/* what is attached (pinned links), and how */
struct pd_bpf_state {
	bool lsm_active;	/* "bpf" in /sys/kernel/security/lsm */
	bool ioctl_lsm;		/* lsm/file_ioctl linked: rates enforced */
	bool ioctl_monitor;	/* fentry on VFIO's ioctls linked: counted only */
	bool ioctl_compat;	/* lsm/file_ioctl_compat linked too */
	bool compat_hook;	/* the kernel has file_ioctl_compat (else file_ioctl sees both) */
	bool fork;		/* the fork hook that makes a VM's children members */
	bool mdev;		/* lsm/file_permission + mdev counting linked */
	bool adopted;		/* some links were found pinned at start */
	char lsm_why[160];	/* without lsm_active: why, one sentence */
};

struct pd_bpf;

/*
 * Load the programs with the maps under @pin_dir (created if needed, mode
 * 0700). 0, or -1 with a sentence in @err.
 */
int pd_bpf_open(struct pd_bpf **out, const char *pin_dir, char *err, size_t errlen);
void pd_bpf_close(struct pd_bpf *b);

/*
 * Make the pinned links match what a policy needs: rate quotas (@ioctl)
 * and mdev caps (@mdev); the fork hook goes with either. Links already pinned are kept as they are; links
 * not needed are unpinned (detached). Without BPF LSM, rate quotas are
 * counted through fentry on VFIO's ioctl handlers instead. 0, or -1 with
 * a sentence in @err (the links that could be made stay).
 */
int pd_bpf_sync_links(struct pd_bpf *b, bool ioctl, bool mdev, char *err, size_t errlen);
const struct pd_bpf_state *pd_bpf_state(const struct pd_bpf *b);

/* whole map read, per-CPU values summed as 64-bit counters; 0 or -errno */
int pd_bpf_dump(struct pd_bpf *b, enum pd_map m, void **keys, void **vals, size_t *n,
		size_t *ksize, size_t *vsize);
int pd_bpf_update(struct pd_bpf *b, enum pd_map m, const void *key, const void *val);
int pd_bpf_delete(struct pd_bpf *b, enum pd_map m, const void *key);
int pd_bpf_lookup(struct pd_bpf *b, enum pd_map m, const void *key, void *val);
/*
 * Add @from's per-CPU counters in pol_stats into @to's, slot by slot
 * (creating @to), then delete @from: an exited VM's counts join its rule's
 * retired entry. 0 also when @from is already gone.
 */
int pd_bpf_stat_retire(struct pd_bpf *b, const struct vfs_pol_stat_key *from,
		       const struct vfs_pol_stat_key *to);

/* policy events (struct vfs_ev_policy): a pollable fd and a drain */
typedef void (*pd_event_fn)(const struct vfs_ev_policy *e, void *ctx);
int pd_bpf_events_fd(struct pd_bpf *b);
int pd_bpf_events_drain(struct pd_bpf *b, pd_event_fn fn, void *ctx);

/* remove every pin under @pin_dir (links first: enforcement stops) */
int pd_bpf_unpin_all(const char *pin_dir, char *err, size_t errlen);

#endif
