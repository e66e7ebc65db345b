// SPDX-License-Identifier: GPL-2.0
/* The Prometheus text writer: escaping, names, histograms, buffer reuse. */
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "prom.h"

Test(prom, family_header_once_and_plain_sample)
{
	struct prom_buf b = { 0 };
	struct prom_label l[] = { { "vm", "web" } };

	cr_assert_eq(prom_family(&b, "x_total", PROM_COUNTER, "X things."), 0);
	prom_sample_u64(&b, "x_total", l, 1, 42);
	cr_assert_eq(prom_family(&b, "x_total", PROM_COUNTER, "X things."), 0);
	prom_sample_u64(&b, "x_total", NULL, 0, 18446744073709551615ull);
	cr_assert_eq(b.err, 0);
	cr_assert_str_eq(b.data, "# HELP x_total X things.\n"
				 "# TYPE x_total counter\n"
				 "x_total{vm=\"web\"} 42\n"
				 "x_total 18446744073709551615\n");
	cr_assert_eq(b.nsamples, 2);
	prom_buf_free(&b);
}

Test(prom, label_values_and_help_are_escaped)
{
	struct prom_buf b = { 0 };
	struct prom_label l[] = { { "vm", "a\\b\"c\nd" }, { "device", "" } };

	prom_family(&b, "g", PROM_GAUGE, "back\\slash \"quoted\"\nnext");
	prom_sample_double(&b, "g", l, 2, 1.5);
	cr_assert_eq(b.err, 0);
	cr_assert_str_eq(b.data, "# HELP g back\\\\slash \"quoted\"\\nnext\n"
				 "# TYPE g gauge\n"
				 "g{vm=\"a\\\\b\\\"c\\nd\",device=\"\"} 1.5\n");
	prom_buf_free(&b);
}

Test(prom, special_doubles)
{
	struct prom_buf b = { 0 };

	prom_family(&b, "g", PROM_GAUGE, "");
	prom_sample_double(&b, "g", NULL, 0, NAN);
	prom_sample_double(&b, "g", NULL, 0, INFINITY);
	prom_sample_double(&b, "g", NULL, 0, -INFINITY);
	prom_sample_double(&b, "g", NULL, 0, 0.1);
	prom_sample_double(&b, "g", NULL, 0, 0.1 + 0.2);
	cr_assert_str_eq(strchr(strchr(b.data, '\n') + 1, '\n') + 1,
			 "g NaN\ng +Inf\ng -Inf\ng 0.1\ng 0.30000000000000004\n");
	prom_buf_free(&b);
}

Test(prom, names_are_validated)
{
	struct prom_buf b = { 0 };
	struct prom_label bad[] = { { "__name__", "x" } };
	struct prom_label dash[] = { { "a-b", "x" } };

	cr_assert(prom_metric_name_ok("a:b_c9"));
	cr_assert(prom_metric_name_ok("_x"));
	cr_assert_not(prom_metric_name_ok("9x"));
	cr_assert_not(prom_metric_name_ok("a-b"));
	cr_assert_not(prom_metric_name_ok(""));
	cr_assert(prom_label_name_ok("vm"));
	cr_assert_not(prom_label_name_ok("a:b"));
	cr_assert_not(prom_label_name_ok("__x"));

	cr_assert_eq(prom_family(&b, "bad name", PROM_GAUGE, ""), -EINVAL);
	cr_assert_eq(b.len, 0, "nothing written after an error");
	prom_buf_reset(&b);
	prom_family(&b, "ok", PROM_GAUGE, "");
	prom_sample_u64(&b, "ok", bad, 1, 1);
	cr_assert_eq(b.err, -EINVAL);
	prom_buf_reset(&b);
	prom_family(&b, "ok", PROM_GAUGE, "");
	prom_sample_u64(&b, "ok", dash, 1, 1);
	cr_assert_eq(b.err, -EINVAL);
	prom_buf_free(&b);
}

Test(prom, sample_outside_its_family_is_an_error)
{
	struct prom_buf b = { 0 };

	prom_sample_u64(&b, "x", NULL, 0, 1);
	cr_assert_eq(b.err, -EINVAL, "no family announced");
	prom_buf_reset(&b);
	prom_family(&b, "x_total", PROM_COUNTER, "");
	prom_sample_u64(&b, "y_total", NULL, 0, 1);
	cr_assert_eq(b.err, -EINVAL);
	prom_buf_reset(&b);
	prom_family(&b, "x_total", PROM_COUNTER, "");
	prom_sample_u64(&b, "x_total_bucket", NULL, 0, 1);
	cr_assert_eq(b.err, -EINVAL, "only histograms have _bucket");
	prom_buf_reset(&b);
	prom_family(&b, "h_seconds", PROM_HISTOGRAM, "");
	prom_sample_u64(&b, "h_seconds", NULL, 0, 1);
	cr_assert_eq(b.err, -EINVAL, "a histogram has no bare sample");
	prom_buf_free(&b);
}

Test(prom, reset_keeps_capacity)
{
	struct prom_buf b = { 0 };
	char *data;
	size_t cap;
	int i;

	prom_family(&b, "x_total", PROM_COUNTER, "");
	for (i = 0; i < 1000; i++)
		prom_sample_u64(&b, "x_total", NULL, 0, (__u64)i);
	cr_assert_eq(b.err, 0);
	data = b.data;
	cap = b.cap;
	prom_buf_reset(&b);
	cr_assert_eq(b.len, 0);
	cr_assert_str_eq(b.data, "");
	prom_family(&b, "x_total", PROM_COUNTER, "");
	for (i = 0; i < 1000; i++)
		prom_sample_u64(&b, "x_total", NULL, 0, (__u64)i);
	cr_assert_eq(b.data, data, "same memory");
	cr_assert_eq(b.cap, cap);
	prom_buf_free(&b);
}

Test(prom, scaled_decimals_are_exact)
{
	char buf[32];

	cr_assert_str_eq(prom_fmt_scaled(1, 9, buf, sizeof(buf)), "0.000000001");
	cr_assert_str_eq(prom_fmt_scaled(2147483647, 9, buf, sizeof(buf)), "2.147483647");
	cr_assert_str_eq(prom_fmt_scaled(3000000000ull, 9, buf, sizeof(buf)), "3");
	cr_assert_str_eq(prom_fmt_scaled(1500000000ull, 9, buf, sizeof(buf)), "1.5");
	cr_assert_str_eq(prom_fmt_scaled(0, 9, buf, sizeof(buf)), "0");
	cr_assert_str_eq(prom_fmt_scaled(4095, 0, buf, sizeof(buf)), "4095");
}

/* the value of the line starting with @prefix, or -1 */
static long long value_of(const char *text, const char *prefix)
{
	const char *p = text;
	size_t n = strlen(prefix);

	while (p && *p) {
		if (!strncmp(p, prefix, n))
			return strtoll(p + n, NULL, 10);
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return -1;
}

Test(prom, log2_histogram_is_cumulative_in_seconds)
{
	struct prom_buf b = { 0 };
	struct prom_label l[] = { { "vm", "a" } };
	__u64 slots[32] = { 0 };
	const char *p;
	long long prev = -1, v;
	int buckets = 0;

	slots[0] = 2;	/* 0 and 1 ns */
	slots[9] = 5;	/* [512, 1024) ns */
	slots[31] = 1;	/* >= 2^31 ns: only +Inf */
	prom_family(&b, "lat_seconds", PROM_HISTOGRAM, "Latency.");
	prom_hist_log2(&b, l, 1, slots, 32, 3000000000ull, 9);
	cr_assert_eq(b.err, 0);
	cr_assert_eq(value_of(b.data, "lat_seconds_bucket{vm=\"a\",le=\"0.000000001\"} "), 2);
	cr_assert_eq(value_of(b.data, "lat_seconds_bucket{vm=\"a\",le=\"0.000000511\"} "), 2);
	cr_assert_eq(value_of(b.data, "lat_seconds_bucket{vm=\"a\",le=\"0.000001023\"} "), 7);
	cr_assert_eq(value_of(b.data, "lat_seconds_bucket{vm=\"a\",le=\"2.147483647\"} "), 7);
	cr_assert_eq(value_of(b.data, "lat_seconds_bucket{vm=\"a\",le=\"+Inf\"} "), 8);
	cr_assert_eq(value_of(b.data, "lat_seconds_count{vm=\"a\"} "), 8);
	cr_assert_neq(strstr(b.data, "lat_seconds_sum{vm=\"a\"} 3\n"), NULL);
	/* 32 buckets, never decreasing, +Inf last */
	for (p = strstr(b.data, "_bucket"); p; p = strstr(p + 1, "_bucket")) {
		v = strtoll(strchr(p, ' ') + 1, NULL, 10);
		cr_assert_geq(v, prev);
		prev = v;
		buckets++;
	}
	cr_assert_eq(buckets, 32);
	cr_assert_eq(prev, 8);
	prom_buf_free(&b);
}

Test(prom, log2_histogram_in_bytes_and_without_labels)
{
	struct prom_buf b = { 0 };
	__u64 slots[4] = { 1, 0, 3, 4 };

	prom_family(&b, "size_bytes", PROM_HISTOGRAM, "Sizes.");
	prom_hist_log2(&b, NULL, 0, slots, 4, 100, 0);
	cr_assert_eq(b.err, 0);
	cr_assert_str_eq(strstr(b.data, "size_bytes_bucket"),
			 "size_bytes_bucket{le=\"1\"} 1\n"
			 "size_bytes_bucket{le=\"3\"} 1\n"
			 "size_bytes_bucket{le=\"7\"} 4\n"
			 "size_bytes_bucket{le=\"+Inf\"} 8\n"
			 "size_bytes_sum 100\n"
			 "size_bytes_count 8\n");
	prom_buf_reset(&b);
	prom_family(&b, "g", PROM_GAUGE, "");
	prom_hist_log2(&b, NULL, 0, slots, 4, 100, 0);
	cr_assert_eq(b.err, -EINVAL, "not a histogram family");
	prom_buf_free(&b);
}

/* Prometheus' own linter accepts what we write */
Test(prom, promtool_accepts_a_rendered_sample)
{
	struct prom_buf b = { 0 };
	struct prom_label l[] = { { "vm", "we\"ird\\vm\n" }, { "pid", "42" } };
	__u64 slots[32] = { 0 };
	char path[] = "/tmp/vfioscope-prom-XXXXXX", cmd[128];
	FILE *f;
	int fd, rc;

	slots[3] = 4;
	slots[12] = 1;
	prom_family(&b, "vfioscope_test_ioctls_total", PROM_COUNTER, "Test \"ioctls\".\nTwo lines.");
	prom_sample_u64(&b, "vfioscope_test_ioctls_total", l, 2, 7);
	prom_family(&b, "vfioscope_test_pinned_bytes", PROM_GAUGE, "Pinned memory.");
	prom_sample_u64(&b, "vfioscope_test_pinned_bytes", l, 2, 4096);
	prom_family(&b, "vfioscope_test_latency_seconds", PROM_HISTOGRAM, "Latency.");
	prom_hist_log2(&b, l, 2, slots, 32, 9000, 9);
	cr_assert_eq(b.err, 0);

	fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	f = fdopen(fd, "w");
	fwrite(b.data, 1, b.len, f);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "promtool check metrics < %s", path);
	rc = system(cmd);
	unlink(path);
	cr_assert(WIFEXITED(rc) && WEXITSTATUS(rc) == 0,
		  "promtool check metrics failed (rc %d) on:\n%s", rc, b.data);
	prom_buf_free(&b);
}

/* write @b to a file and run promtool's linter on it: its exit status */
static int promtool(const struct prom_buf *b)
{
	char path[] = "/tmp/vfioscope-prom-XXXXXX", cmd[128];
	FILE *f;
	int fd, rc;

	fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	f = fdopen(fd, "w");
	fwrite(b->data, 1, b->len, f);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "promtool check metrics < %s 2>&1", path);
	rc = system(cmd);
	unlink(path);
	return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

/*
 * One VM name that is not UTF-8 made Prometheus reject the whole scrape:
 * invalid bytes, an overlong form and a name cut inside a character (63
 * bytes of a 64-byte buffer) are written as U+FFFD; valid names as they are.
 */
Test(prom, label_values_are_always_valid_utf8)
{
	struct prom_buf b = { 0 };
	char cut[64];
	struct prom_label l[] = { { "vm", "bad\xff\xfe" }, { "pid", "1" } };
	struct prom_label l2[] = { { "vm", cut }, { "pid", "2" } };
	struct prom_label l3[] = { { "vm", "vm-日本\"\xc0\xaf" }, { "pid", "3" } };

	memset(cut, 'a', 61);
	memcpy(cut + 61, "\xe6\x97", 2);	/* "日" is e6 97 a5: cut after two bytes */
	cut[63] = '\0';
	prom_family(&b, "vfioscope_test_calls_total", PROM_COUNTER, "Calls \xff.");
	prom_sample_u64(&b, "vfioscope_test_calls_total", l, 2, 1);
	prom_sample_u64(&b, "vfioscope_test_calls_total", l2, 2, 2);
	prom_sample_u64(&b, "vfioscope_test_calls_total", l3, 2, 3);
	cr_assert_eq(b.err, 0);
	cr_expect(strstr(b.data, "# HELP vfioscope_test_calls_total Calls \xef\xbf\xbd.\n"), "%s",
		  b.data);
	cr_expect(strstr(b.data, "{vm=\"bad\xef\xbf\xbd\xef\xbf\xbd\",pid=\"1\"} 1\n"), "%s", b.data);
	cr_expect(strstr(b.data, "aaaa\xef\xbf\xbd\",pid=\"2\"} 2\n"), "%s", b.data);
	cr_expect(strstr(b.data, "{vm=\"vm-日本\\\"\xef\xbf\xbd\xef\xbf\xbd\",pid=\"3\"} 3\n"), "%s",
		  b.data);
	cr_expect_eq(promtool(&b), 0, "promtool refused:\n%s", b.data);
	prom_buf_free(&b);
}
