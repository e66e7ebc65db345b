// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <math.h>	/* isnan, NAN: macros, no libm */
#include <stdio.h>
#include "stats.h"

int vfs_cmp_u64(__u64 a, __u64 b)
{
	return VFS_SPACESHIP(a, b);
}

int vfs_cmp_s64(__s64 a, __s64 b)
{
	return VFS_SPACESHIP(a, b);
}

int vfs_cmp_rate(double a, double b)
{
	if (isnan(a) || isnan(b))
		return isnan(a) ? (isnan(b) ? 0 : -1) : 1;
	return VFS_SPACESHIP(a, b);
}

bool vfs_hist_quantile(const __u32 *slots, unsigned int nslots, double q, __u64 *out)
{
	__u64 total = 0, rank, cum = 0;
	unsigned int i;

	*out = 0;
	for (i = 0; i < nslots; i++)
		total += slots[i];
	if (!total || !(q > 0))
		return false;
	if (q > 1)
		q = 1;
	rank = (__u64)(q * (double)total);
	if ((double)rank < q * (double)total)
		rank++;		/* ceil without libm */
	if (rank < 1)
		rank = 1;
	if (rank > total)
		rank = total;
	for (i = 0; i < nslots; i++) {
		cum += slots[i];
		if (cum >= rank)
			break;
	}
	/* slot 63 would need 2^64: saturate */
	*out = i + 1 >= 64 ? ~0ull : 1ull << (i + 1);
	return true;
}

__u64 vfs_delta(__u64 prev, __u64 cur)
{
	return cur >= prev ? cur - prev : cur;
}

double vfs_rate(__u64 prev, __u64 cur, __u64 dt_ns)
{
	if (!dt_ns)
		return NAN;
	return (double)vfs_delta(prev, cur) * 1e9 / (double)dt_ns;
}

const char *vfs_fmt_ns(__u64 ns, char *buf, size_t len)
{
	if (ns < 1000)
		snprintf(buf, len, "%lluns", (unsigned long long)ns);
	else if (ns < 1000000)
		snprintf(buf, len, "%.1fus", ns / 1e3);
	else if (ns < 1000000000)
		snprintf(buf, len, "%.2fms", ns / 1e6);
	else
		snprintf(buf, len, "%.2fs", ns / 1e9);
	return buf;
}

const char *vfs_fmt_bytes(__u64 bytes, char *buf, size_t len)
{
	static const char unit[] = "KMGTPE";
	double v = (double)bytes / 1024;
	unsigned int u = 0;

	if (bytes < 1024) {
		snprintf(buf, len, "%lluB", (unsigned long long)bytes);
		return buf;
	}
	while (v >= 1024 && u < sizeof(unit) - 2) {
		v /= 1024;
		u++;
	}
	if (u >= 1 && v < 10)
		snprintf(buf, len, "%.2f%ciB", v, unit[u]);
	else if (v < 100)
		snprintf(buf, len, "%.1f%ciB", v, unit[u]);
	else
		snprintf(buf, len, "%.0f%ciB", v, unit[u]);
	return buf;
}

const char *vfs_fmt_rate(double rate, char *buf, size_t len)
{
	if (isnan(rate))
		snprintf(buf, len, "-");
	else if (rate == 0)
		snprintf(buf, len, "0");
	else if (rate < 100)
		snprintf(buf, len, "%.1f", rate);
	else if (rate < 10000)
		snprintf(buf, len, "%.0f", rate);
	else if (rate < 10e6)
		snprintf(buf, len, "%.1fk", rate / 1e3);
	else
		snprintf(buf, len, "%.2fM", rate / 1e6);
	return buf;
}
