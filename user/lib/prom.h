/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Prometheus text exposition format 0.0.4, written into a growable buffer
 * that a scrape handler reuses: prom_buf_reset() keeps the capacity, so a
 * steady state of scrapes allocates nothing. Pure: no I/O, no BPF; tested
 * in tests/unit/test_prom.c.
 *
 * A family is announced once (# HELP, # TYPE), then its samples follow,
 * contiguous as the format requires. A sample whose name does not belong
 * to the current family, an invalid metric or label name, or a failed
 * allocation records the first error in the buffer (prom_buf.err) and
 * writes nothing more: the caller checks once, after rendering.
 *
 * Histograms come from vfioscope's log2 slot arrays: slot i counts values
 * in [2^i, 2^(i+1)) of the base unit (slot 0 also takes 0, the last slot
 * everything above). The values are integers, so slot i holds exactly the
 * values <= 2^(i+1) - 1: that is its bucket's "le", scaled by 10^-exp
 * (exp 9: nanoseconds as seconds; exp 0: bytes as bytes) and written as an
 * exact decimal. Buckets are cumulative and end with le="+Inf" (= _count).
 */
#ifndef VFIOSCOPE_PROM_H
#define VFIOSCOPE_PROM_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#define PROM_CONTENT_TYPE	"text/plain; version=0.0.4; charset=utf-8"
#define PROM_NAME_MAX		128

enum prom_type {
	PROM_COUNTER,
	PROM_GAUGE,
	PROM_HISTOGRAM,
	PROM_UNTYPED,
};

struct prom_buf {
	char *data;
	size_t len, cap;
	int err;			/* first error (-EINVAL, -ENOMEM), 0: none */
	char family[PROM_NAME_MAX];	/* the family samples belong to now */
	enum prom_type type;
	__u64 nsamples;			/* written since the last reset */
};

struct prom_label {
	const char *name;
	const char *value;
};

/* empty the buffer, keeping its memory; forget the current family */
void prom_buf_reset(struct prom_buf *b);
void prom_buf_free(struct prom_buf *b);

/* [a-zA-Z_:][a-zA-Z0-9_:]* */
bool prom_metric_name_ok(const char *name);
/* [a-zA-Z_][a-zA-Z0-9_]*, not starting with "__" (reserved) */
bool prom_label_name_ok(const char *name);

/*
 * Announce family @name: "# HELP" (escaped) and "# TYPE" lines, unless
 * @name is already the current family (then nothing is written).
 * Returns 0 or the buffer's error.
 */
int prom_family(struct prom_buf *b, const char *name, enum prom_type type, const char *help);

/*
 * One sample of the current family: @name is the family's (counters and
 * gauges) or the family's plus _bucket/_sum/_count (histograms).
 */
void prom_sample_u64(struct prom_buf *b, const char *name, const struct prom_label *l,
		     size_t nl, __u64 v);
void prom_sample_double(struct prom_buf *b, const char *name, const struct prom_label *l,
			size_t nl, double v);

/*
 * A histogram's samples for one label set, from @nslots log2 slots (see
 * above) with @sum in the base unit, scaled by 10^-@exp. The family must
 * be a PROM_HISTOGRAM.
 */
void prom_hist_log2(struct prom_buf *b, const struct prom_label *l, size_t nl,
		    const __u64 *slots, unsigned int nslots, __u64 sum, unsigned int exp);

/* @v * 10^-@exp as an exact decimal ("0.000000511", "3", "2.5"). Returns @buf. */
const char *prom_fmt_scaled(__u64 v, unsigned int exp, char *buf, size_t len);

#endif
