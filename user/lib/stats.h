/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Pure arithmetic and formatting over collector counters: log2-histogram
 * quantiles, rates from counter deltas, comparisons that cannot overflow,
 * human units. No I/O, no allocation: unit-tested in tests/unit/test_top.c.
 */
#ifndef VFIOSCOPE_STATS_H
#define VFIOSCOPE_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

/*
 * Three-way comparison without subtraction (htop's SPACESHIP_NUMBER): -1, 0
 * or 1, right for any two values of one type, 64-bit and negative included.
 */
#define VFS_SPACESHIP(a, b) (((a) > (b)) - ((a) < (b)))

int vfs_cmp_u64(__u64 a, __u64 b);
int vfs_cmp_s64(__s64 a, __s64 b);
/* an unknown rate (NaN) orders below every known one, equal to another NaN */
int vfs_cmp_rate(double a, double b);

/*
 * Quantile @q (0 < q <= 1) of a log2 histogram whose slot i counts values
 * in [2^i, 2^(i+1)) (slot 0 also takes 0), as the upper bound of the slot
 * holding the ceil(q * total)-th smallest value: the true quantile is
 * below the returned value and at least half of it (slot 0: below 2).
 * Returns false (and *out = 0) when the histogram is empty.
 */
bool vfs_hist_quantile(const __u32 *slots, unsigned int nslots, double q, __u64 *out);

/*
 * Per-second rate of a counter sampled as @prev then @cur, @dt_ns apart.
 * A counter that went backwards was reset (its key was deleted and
 * re-created, or its owner restarted): it counted @cur since. Returns NaN
 * (unknown) when dt_ns is 0.
 */
double vfs_rate(__u64 prev, __u64 cur, __u64 dt_ns);
/* the counter delta with the same reset rule */
__u64 vfs_delta(__u64 prev, __u64 cur);

/*
 * Nanoseconds as "850ns", "12.5us", "3.20ms", "1.50s" (ASCII "us": fixed
 * byte width in terminal columns). Returns @buf.
 */
const char *vfs_fmt_ns(__u64 ns, char *buf, size_t len);
/* bytes as "512B", "4.0KiB", "12.5MiB", "3.00GiB", "1.00TiB". Returns @buf. */
const char *vfs_fmt_bytes(__u64 bytes, char *buf, size_t len);
/* a rate as "0", "12.5", "1234", "12.3k", "4.56M"; NaN as "-". Returns @buf. */
const char *vfs_fmt_rate(double rate, char *buf, size_t len);

#endif
