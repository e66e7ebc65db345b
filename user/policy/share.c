// SPDX-License-Identifier: GPL-2.0
/*
 * The knob table and the share's split (see share.h). Weighted water-
 * filling: every instance is offered capacity × weight / Σ weights of the
 * instances still unserved; one that wants less than its offer gets what
 * it wants and leaves the rest to the others; when every remaining
 * instance wants more than its offer, each gets its offer. Then bounds.
 * The hysteresis damps measured wants, not offers (see demand()).
 */
#include <stdlib.h>
#include <string.h>
#include "share.h"

const struct pd_knob_kind pd_knob_kinds[] = {
	/* kernel/mdacc: a one-job token bucket per instance, 0 unlimited */
	{ "qos_job_rate", "jobs_done", "jobs/s" },
	/* kernel/mdacc: DMA bytes per second, 0 unlimited; no byte counter */
	{ "qos_dma_bw", NULL, "bytes/s" },
	{ NULL, NULL, NULL },
};

const struct pd_knob_kind *pd_knob_kind(const char *knob)
{
	const struct pd_knob_kind *k;

	for (k = pd_knob_kinds; k->knob; k++)
		if (!strcmp(k->knob, knob))
			return k;
	return NULL;
}

/*
 * What instance @in wants: UINT64_MAX when it uses all it is allowed.
 * The hysteresis is applied here, to the measurement: a want within
 * hysteresis % of the knob is the knob (a use that wobbles moves nothing).
 * Offers are never held back: the capacity is split exactly, so a move
 * held for one instance can neither strand part of the capacity nor
 * give the others more than there is.
 */
static uint64_t demand(const struct pd_split_conf *c, const struct pd_split_in *in)
{
	unsigned __int128 want, d;

	if (in->fresh || !in->cur ||
	    (unsigned __int128)in->used * 100 >= (unsigned __int128)in->cur * PD_SHARE_SATURATED_PCT)
		return UINT64_MAX;
	want = (unsigned __int128)in->used * (100 + PD_SHARE_HEADROOM_PCT) / 100;
	if (want < c->min)
		want = c->min;
	d = want > in->cur ? want - in->cur : in->cur - want;
	if (d * 100 <= (unsigned __int128)in->cur * c->hysteresis)
		want = in->cur;
	return want > UINT64_MAX ? UINT64_MAX : (uint64_t)want;
}

void pd_share_split(const struct pd_split_conf *c, const struct pd_split_in *in, size_t n,
		    uint64_t *out)
{
	unsigned char *served = calloc(n ? n : 1, 1);
	uint64_t *want = calloc(n ? n : 1, sizeof(*want));
	unsigned __int128 left = c->capacity, sum_w;
	size_t i;
	int moved;

	if (!served || !want) {
		/* no memory: nothing moves */
		for (i = 0; i < n; i++)
			out[i] = in[i].cur;
		free(served);
		free(want);
		return;
	}
	for (i = 0; i < n; i++)
		want[i] = demand(c, &in[i]);
	do {
		unsigned __int128 taken = 0;

		sum_w = 0;
		for (i = 0; i < n; i++)
			if (!served[i])
				sum_w += in[i].weight ? in[i].weight : 1;
		if (!sum_w)
			break;
		/* every instance that wants no more than its offer is served */
		moved = 0;
		for (i = 0; i < n; i++) {
			unsigned __int128 offer;

			if (served[i])
				continue;
			offer = left * (in[i].weight ? in[i].weight : 1) / sum_w;
			if (want[i] <= offer) {
				out[i] = want[i];
				taken += want[i];
				served[i] = 1;
				moved = 1;
			}
		}
		left = taken < left ? left - taken : 0;
		if (!moved) {
			for (i = 0; i < n; i++)
				if (!served[i])
					out[i] = (uint64_t)(left * (in[i].weight ? in[i].weight : 1) /
							    sum_w);
		}
	} while (moved);

	for (i = 0; i < n; i++) {
		if (out[i] < c->min)
			out[i] = c->min;
		if (out[i] > c->max)
			out[i] = c->max;
	}
	free(served);
	free(want);
}
