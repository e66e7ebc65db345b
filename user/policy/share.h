/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Device knobs and the closed loop that moves them.
 *
 * A knob is a sysfs attribute of a device instance that caps what the
 * device does for its owner (the reference driver's qos_job_rate); the
 * knob table says, per knob, which attribute of the same instance counts
 * what the knob caps (a monotonic counter: jobs_done). A vendor's knob is
 * a row of that table, not code.
 *
 * A share splits a capacity between the instances of one mdev type by
 * the weight of each instance's owner (its VM's rule) and moves each
 * instance's knob from the use measured on the counter: weighted max-min
 * fairness, work-conserving. An instance that uses less than its knob
 * allows is given what it uses plus headroom; what it leaves goes to the
 * instances that use all of theirs, by weight. Pure: no system state.
 */
#ifndef PD_SHARE_H
#define PD_SHARE_H

#include <stddef.h>
#include <stdint.h>

struct pd_knob_kind {
	const char *knob;	/* attribute written */
	const char *counter;	/* attribute counting what it caps; NULL: none */
	const char *unit;	/* of the knob, e.g. "jobs/s" */
};

/* the known knobs, NULL-terminated */
extern const struct pd_knob_kind pd_knob_kinds[];
const struct pd_knob_kind *pd_knob_kind(const char *knob);

/* an instance that uses this share of its knob or more wants more */
#define PD_SHARE_SATURATED_PCT	80
/* headroom given above the measured use of an instance that wants less */
#define PD_SHARE_HEADROOM_PCT	25

struct pd_split_in {
	uint32_t weight;	/* its owner's weight, >= 1 */
	uint64_t used;		/* measured, in the knob's unit */
	uint64_t cur;		/* the knob now; 0: unlimited */
	int fresh;		/* no measurement yet: counts as wanting more */
};

struct pd_split_conf {
	uint64_t capacity;	/* what the instances share */
	uint64_t min, max;	/* bounds of any instance's knob */
	uint32_t hysteresis;	/* percent: a measured want this close to the knob holds it */
};

/*
 * The knob value of each of @n instances (@out[i]). An instance that uses
 * less than its knob, by no more than the hysteresis, keeps @in[i].cur;
 * the rest of the capacity goes to the others exactly.
 */
void pd_share_split(const struct pd_split_conf *c, const struct pd_split_in *in, size_t n,
		    uint64_t *out);

#endif
