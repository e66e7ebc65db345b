// SPDX-License-Identifier: GPL-2.0
/* vfio-policyd's shares: the policy keys and the split (user/policy/share.c). */
#include <stdint.h>
#include <string.h>
#include <criterion/criterion.h>
#include "../../user/policy/conf.h"
#include "../../user/policy/share.h"

static const struct pd_split_conf c200 = { .capacity = 200, .min = 10, .max = 200, .hysteresis = 10 };

static void split(const struct pd_split_conf *c, const struct pd_split_in *in, size_t n,
		  uint64_t *out)
{
	memset(out, 0xee, n * sizeof(*out));
	pd_share_split(c, in, n, out);
}

Test(share, saturated_instances_split_by_weight)
{
	struct pd_split_in in[2] = { { .weight = 3, .fresh = 1 }, { .weight = 1, .fresh = 1 } };
	uint64_t out[2];

	split(&c200, in, 2, out);
	cr_expect_eq(out[0], 150);
	cr_expect_eq(out[1], 50);
	/* each uses what it was given: it wants more, nothing moves */
	in[0] = (struct pd_split_in){ .weight = 3, .used = 146, .cur = 150 };
	in[1] = (struct pd_split_in){ .weight = 1, .used = 49, .cur = 50 };
	split(&c200, in, 2, out);
	cr_expect_eq(out[0], 150);
	cr_expect_eq(out[1], 50);
	/* unlimited (0) counts as using all it may */
	in[0].cur = in[1].cur = 0;
	split(&c200, in, 2, out);
	cr_expect_eq(out[0], 150);
	cr_expect_eq(out[1], 50);
}

Test(share, an_idle_instance_gives_its_share_back)
{
	struct pd_split_in in[2] = { { .weight = 3, .used = 148, .cur = 150 },
				     { .weight = 1, .used = 0, .cur = 50 } };
	uint64_t out[2];

	split(&c200, in, 2, out);
	cr_expect_eq(out[1], 10, "idle: the floor, got %llu", (unsigned long long)out[1]);
	cr_expect_eq(out[0], 190, "busy: the rest, got %llu", (unsigned long long)out[0]);
	/* it wakes: at its floor it uses all of it, and is given its weight back */
	in[0] = (struct pd_split_in){ .weight = 3, .used = 188, .cur = 190 };
	in[1] = (struct pd_split_in){ .weight = 1, .used = 10, .cur = 10 };
	split(&c200, in, 2, out);
	cr_expect_eq(out[0], 150);
	cr_expect_eq(out[1], 50);
}

Test(share, light_use_gets_headroom_and_leaves_the_rest)
{
	/* 60 of 150 used: not saturated; wants 60 + 25 % = 75 */
	struct pd_split_in in[3] = { { .weight = 3, .used = 60, .cur = 150 },
				     { .weight = 1, .used = 50, .cur = 50 },
				     { .weight = 1, .used = 0, .cur = 0, .fresh = 1 } };
	uint64_t out[3];

	split(&c200, in, 3, out);
	cr_expect_eq(out[0], 75);
	/* the two others share the 125 left by weight 1:1 */
	cr_expect_eq(out[1], 62);
	cr_expect_eq(out[2], 62);
}

Test(share, an_offer_is_by_weight)
{
	/* 96 of 150 used: wants 120, under its 3/4 offer of 150: served; the rest, 80, to the other */
	struct pd_split_in in[2] = { { .weight = 3, .used = 96, .cur = 150 },
				     { .weight = 1, .used = 50, .cur = 50 } };
	uint64_t out[2];

	split(&c200, in, 2, out);
	cr_expect_eq(out[0], 120);
	cr_expect_eq(out[1], 80);
}

Test(share, bounds_and_hysteresis)
{
	struct pd_split_conf c = c200;
	struct pd_split_in in[2] = { { .weight = 3, .fresh = 1 }, { .weight = 1, .fresh = 1 } };
	uint64_t out[2];

	c.max = 120;
	split(&c, in, 2, out);
	cr_expect_eq(out[0], 120, "max bounds an instance");
	c.max = 200;
	c.min = 60;
	split(&c, in, 2, out);
	cr_expect_eq(out[1], 60, "min bounds an instance");
	/*
	 * 70 of 100 used: wants 87, more than 10 % below its knob: moves.
	 * 75 used: wants 93, within 10 %: held at 100. Either way the other,
	 * saturated, gets exactly the rest.
	 */
	c = c200;
	in[0] = (struct pd_split_in){ .weight = 1, .used = 70, .cur = 100 };
	in[1] = (struct pd_split_in){ .weight = 1, .used = 100, .cur = 100 };
	split(&c, in, 2, out);
	cr_expect_eq(out[0], 87);
	cr_expect_eq(out[1], 113);
	in[0].used = 75;
	split(&c, in, 2, out);
	cr_expect_eq(out[0], 100, "a 7 %% move is held, got %llu", (unsigned long long)out[0]);
	cr_expect_eq(out[1], 100);
}

Test(share, held_moves_strand_no_capacity)
{
	/*
	 * An offer is never held: the idle one falls 12 -> 10 (its floor)
	 * and the saturated one, at 188 of 188, is given all 190 left, a
	 * 1 % move (held back, 2 of 200 would stay unused for good).
	 */
	struct pd_split_in in[2] = { { .weight = 3, .used = 188, .cur = 188 },
				     { .weight = 1, .used = 0, .cur = 12 } };
	uint64_t out[2];

	split(&c200, in, 2, out);
	cr_expect_eq(out[1], 10);
	cr_expect_eq(out[0], 190, "the rest, exactly: got %llu", (unsigned long long)out[0]);
	/* and a weight change moves saturated instances exactly, however little */
	in[0] = (struct pd_split_in){ .weight = 31, .used = 150, .cur = 150 };
	in[1] = (struct pd_split_in){ .weight = 9, .used = 50, .cur = 50 };
	split(&c200, in, 2, out);
	cr_expect_eq(out[0], 155);
	cr_expect_eq(out[1], 45);
	cr_expect_leq(out[0] + out[1], c200.capacity);
}

Test(share, no_instance_and_huge_values)
{
	struct pd_split_conf c = { .capacity = UINT32_MAX, .min = 1, .max = UINT32_MAX };
	struct pd_split_in in[2] = { { .weight = 1000, .used = UINT64_MAX, .cur = UINT64_MAX },
				     { .weight = 1000, .used = UINT64_MAX, .cur = 1 } };
	uint64_t out[2];

	pd_share_split(&c, in, 0, out);
	split(&c, in, 2, out);
	cr_expect_eq(out[0], UINT32_MAX / 2);
	cr_expect_eq(out[1], UINT32_MAX / 2);
}

/* the policy keys */
static char err[512];
static struct pd_conf conf;

static int parse(const char *yaml)
{
	return pd_conf_parse("p.yaml", yaml, strlen(yaml), &conf, err, sizeof(err));
}

static void bad(const char *yaml, const char *want)
{
	cr_assert_eq(parse(yaml), -1, "accepted: %s", yaml);
	cr_expect_str_eq(err, want);
}

#define RULES "rules:\n  - {name: a, match: [{name: a}], max_mdev: 9}\n" \
	      "  - {name: b, match: [{name: b}], max_mdev: 9}\n"

Test(share, policy_keys)
{
	cr_assert_eq(parse(RULES "mdev:\n  - parent: p\n    type: t\n    share:\n"
			   "      knob: qos_job_rate\n      capacity: 200\n      min: 10\n"
			   "      weights: {a: 3, b: 1}\n"), 0, "%s", err);
	cr_expect(conf.mdevs[0].share.set);
	cr_expect_eq(conf.mdevs[0].share.capacity, 200);
	cr_expect_eq(conf.mdevs[0].share.max, 200, "max defaults to the capacity");
	cr_expect_eq(conf.mdevs[0].share.hysteresis, 10);
	cr_expect_eq(conf.mdevs[0].share.default_weight, 1);
	cr_expect_eq(conf.mdevs[0].share.nweights, 2);
	cr_expect_str_eq(conf.mdevs[0].share.weights[0].rule, "a");
	cr_expect_eq(conf.mdevs[0].share.weights[0].weight, 3);
	pd_conf_free(&conf);

	/* a rule that only selects a VM for a weight is no error */
	cr_assert_eq(parse("rules:\n  - {name: a, match: [{name: a}]}\nmdev:\n  - parent: p\n"
			   "    type: t\n    share: {knob: qos_job_rate, capacity: 9, min: 1, "
			   "weights: {a: 2}}\n"), 0, "%s", err);
	pd_conf_free(&conf);

	bad(RULES "mdev:\n  - parent: p\n    type: t\n    share:\n"
	    "      knob: qos_job_rate\n      capacity: 200\n      min: 10\n      weights: {c: 3}\n",
	    "p.yaml:11: share weight for rule 'c', which no rule is named");
	bad("mdev:\n  - parent: p\n    type: t\n    share: {knob: qos_dma_bw, capacity: 1M, min: 1k}\n",
	    "p.yaml:4: knob 'qos_dma_bw' has no counter of its use: a share cannot measure it");
	bad("mdev:\n  - parent: p\n    type: t\n    share: {knob: qos_job_rate, capacity: 200}\n",
	    "p.yaml:4: share needs 'min'");
	bad("mdev:\n  - parent: p\n    type: t\n    share: {knob: qos_job_rate, capacity: 200, min: 300}\n",
	    "p.yaml:4: share: min 300 is above max 200");
	bad("mdev:\n  - parent: p\n    type: t\n    knobs: {qos_job_rate: 5}\n"
	    "    share: {knob: qos_job_rate, capacity: 200, min: 10}\n",
	    "p.yaml:5: knob 'qos_job_rate' is both fixed (knobs) and shared (share)");
	bad(RULES "mdev:\n  - parent: p\n    type: t\n"
	    "    share: {knob: qos_job_rate, capacity: 200, min: 10, weights: {a: 0}}\n",
	    "p.yaml:7: a weight: 0 is out of range [1, 1000]");
}
