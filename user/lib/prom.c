// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "prom.h"
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "safetext.h"

void prom_buf_reset(struct prom_buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
	b->err = 0;
	b->family[0] = '\0';
	b->nsamples = 0;
}

void prom_buf_free(struct prom_buf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

static void fail(struct prom_buf *b, int err)
{
	if (!b->err)
		b->err = err;
}

/* room for @need more bytes plus the terminating NUL */
static bool reserve(struct prom_buf *b, size_t need)
{
	size_t cap = b->cap ? b->cap : 4096;
	char *p;

	if (b->err)
		return false;
	if (b->len + need + 1 <= b->cap)
		return true;
	while (cap < b->len + need + 1)
		cap *= 2;
	p = realloc(b->data, cap);
	if (!p) {
		fail(b, -ENOMEM);
		return false;
	}
	b->data = p;
	b->cap = cap;
	return true;
}

static void put(struct prom_buf *b, const char *s, size_t n)
{
	if (!reserve(b, n))
		return;
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

static void puts_(struct prom_buf *b, const char *s)
{
	put(b, s, strlen(s));
}

/*
 * @s escaped: backslash and newline always, the double quote too in label
 * values (HELP text leaves it as is, as the format says). The format is
 * UTF-8 and one invalid byte makes Prometheus reject the whole scrape: an
 * invalid sequence (bytes that are not UTF-8, a VM name cut inside a
 * character) is written as U+FFFD, so no character is ever cut either.
 */
static void put_escaped(struct prom_buf *b, const char *s, bool quote)
{
	const char *run = s, *end = s + strlen(s);

	while (s < end) {
		const char *esc = NULL;
		uint32_t cp;
		int r = vfs_utf8_char(s, (size_t)(end - s), &cp);

		if (r < 0)
			esc = "\xef\xbf\xbd";	/* U+FFFD */
		else if (*s == '\\')
			esc = "\\\\";
		else if (*s == '\n')
			esc = "\\n";
		else if (quote && *s == '"')
			esc = "\\\"";
		if (!esc) {
			s += r;
			continue;
		}
		put(b, run, (size_t)(s - run));
		puts_(b, esc);
		s += r < 0 ? -r : r;
		run = s;
	}
	put(b, run, (size_t)(s - run));
}

static bool name_ok(const char *s, bool colon)
{
	const char *p;

	if (!s || !*s || (*s >= '0' && *s <= '9'))
		return false;
	for (p = s; *p; p++) {
		char c = *p;

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || (colon && c == ':')))
			return false;
	}
	return true;
}

bool prom_metric_name_ok(const char *name)
{
	return name_ok(name, true);
}

bool prom_label_name_ok(const char *name)
{
	return name_ok(name, false) && strncmp(name, "__", 2);
}

static const char *type_name(enum prom_type t)
{
	switch (t) {
	case PROM_COUNTER:
		return "counter";
	case PROM_GAUGE:
		return "gauge";
	case PROM_HISTOGRAM:
		return "histogram";
	default:
		return "untyped";
	}
}

int prom_family(struct prom_buf *b, const char *name, enum prom_type type, const char *help)
{
	if (b->err)
		return b->err;
	if (!strcmp(b->family, name))
		return 0;
	if (!prom_metric_name_ok(name) || strlen(name) >= sizeof(b->family)) {
		fail(b, -EINVAL);
		return b->err;
	}
	snprintf(b->family, sizeof(b->family), "%s", name);
	b->type = type;
	puts_(b, "# HELP ");
	puts_(b, name);
	puts_(b, " ");
	put_escaped(b, help ? help : "", false);
	puts_(b, "\n# TYPE ");
	puts_(b, name);
	puts_(b, " ");
	puts_(b, type_name(type));
	puts_(b, "\n");
	return b->err;
}

/* @name is the current family's, or (histograms) its _bucket/_sum/_count */
static bool in_family(const struct prom_buf *b, const char *name)
{
	size_t n = strlen(b->family);

	if (!n || strncmp(name, b->family, n))
		return false;
	if (!name[n])
		return b->type != PROM_HISTOGRAM;
	return b->type == PROM_HISTOGRAM && (!strcmp(name + n, "_bucket") ||
					     !strcmp(name + n, "_sum") ||
					     !strcmp(name + n, "_count"));
}

/* "name{a="x",b="y"" up to, not including, the closing brace */
static bool sample_start(struct prom_buf *b, const char *name, const struct prom_label *l,
			 size_t nl)
{
	size_t i;

	if (b->err)
		return false;
	if (!in_family(b, name)) {
		fail(b, -EINVAL);
		return false;
	}
	for (i = 0; i < nl; i++)
		if (!prom_label_name_ok(l[i].name) || !l[i].value) {
			fail(b, -EINVAL);
			return false;
		}
	puts_(b, name);
	for (i = 0; i < nl; i++) {
		puts_(b, i ? "," : "{");
		puts_(b, l[i].name);
		puts_(b, "=\"");
		put_escaped(b, l[i].value, true);
		puts_(b, "\"");
	}
	return true;
}

static void sample_end(struct prom_buf *b, size_t nl, const char *value)
{
	puts_(b, nl ? "} " : " ");
	puts_(b, value);
	puts_(b, "\n");
	b->nsamples++;
}

void prom_sample_u64(struct prom_buf *b, const char *name, const struct prom_label *l,
		     size_t nl, __u64 v)
{
	char tmp[24];

	if (!sample_start(b, name, l, nl))
		return;
	snprintf(tmp, sizeof(tmp), "%llu", (unsigned long long)v);
	sample_end(b, nl, tmp);
}

void prom_sample_double(struct prom_buf *b, const char *name, const struct prom_label *l,
			size_t nl, double v)
{
	char tmp[32];

	if (!sample_start(b, name, l, nl))
		return;
	if (isnan(v))
		snprintf(tmp, sizeof(tmp), "NaN");
	else if (isinf(v))
		snprintf(tmp, sizeof(tmp), "%s", v > 0 ? "+Inf" : "-Inf");
	else if (snprintf(tmp, sizeof(tmp), "%.15g", v), strtod(tmp, NULL) != v)
		snprintf(tmp, sizeof(tmp), "%.17g", v);	/* the shortest that reads back */
	sample_end(b, nl, tmp);
}

const char *prom_fmt_scaled(__u64 v, unsigned int exp, char *buf, size_t len)
{
	__u64 div = 1;
	unsigned int i;
	char frac[24];
	size_t n;

	if (exp > 19)
		exp = 19;
	for (i = 0; i < exp; i++)
		div *= 10;
	if (!exp || !(v % div)) {
		snprintf(buf, len, "%llu", (unsigned long long)(v / div));
		return buf;
	}
	snprintf(frac, sizeof(frac), "%0*llu", (int)exp, (unsigned long long)(v % div));
	for (n = strlen(frac); n && frac[n - 1] == '0'; n--)
		frac[n - 1] = '\0';
	snprintf(buf, len, "%llu.%s", (unsigned long long)(v / div), frac);
	return buf;
}

/* the histogram sample @name{labels...,le="@le"} @v */
static void bucket(struct prom_buf *b, const char *name, const struct prom_label *l, size_t nl,
		   const char *le, __u64 v)
{
	char tmp[24];

	if (!sample_start(b, name, l, nl))
		return;
	puts_(b, nl ? ",le=\"" : "{le=\"");
	puts_(b, le);
	puts_(b, "\"");
	snprintf(tmp, sizeof(tmp), "%llu", (unsigned long long)v);
	sample_end(b, 1, tmp);
}

void prom_hist_log2(struct prom_buf *b, const struct prom_label *l, size_t nl,
		    const __u64 *slots, unsigned int nslots, __u64 sum, unsigned int exp)
{
	char name[PROM_NAME_MAX + 8], le[32];
	__u64 cum = 0;
	unsigned int i;

	if (b->err)
		return;
	if (b->type != PROM_HISTOGRAM || !nslots || nslots > 64) {
		fail(b, -EINVAL);
		return;
	}
	snprintf(name, sizeof(name), "%s_bucket", b->family);
	/* the last slot has no upper bound: it is only in +Inf */
	for (i = 0; i + 1 < nslots; i++) {
		cum += slots[i];
		bucket(b, name, l, nl, prom_fmt_scaled((2ull << i) - 1, exp, le, sizeof(le)), cum);
	}
	cum += slots[nslots - 1];
	bucket(b, name, l, nl, "+Inf", cum);
	snprintf(name, sizeof(name), "%s_sum", b->family);
	if (sample_start(b, name, l, nl))
		sample_end(b, nl, prom_fmt_scaled(sum, exp, le, sizeof(le)));
	snprintf(name, sizeof(name), "%s_count", b->family);
	prom_sample_u64(b, name, l, nl, cum);
}
