// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "cli.h"

int vfs_parse_tier_force(const char *arg, enum vfs_tier force[VFS_CLASS_MAX],
			 char *err, size_t errlen)
{
	static const enum vfs_tier tiers[] = {
		VFS_TIER_TRACEPOINT, VFS_TIER_FENTRY, VFS_TIER_KPROBE,
	};
	const char *eq = strchr(arg, '=');
	size_t i, n;
	int c;

	if (!eq) {
		snprintf(err, errlen, "--tier wants CLASS=TIER, got '%s'", arg);
		return -1;
	}
	n = eq - arg;
	for (c = 0; c < VFS_CLASS_MAX; c++)
		if (strlen(vfs_class_name(c)) == n && !strncmp(arg, vfs_class_name(c), n))
			break;
	if (c == VFS_CLASS_MAX) {
		snprintf(err, errlen, "--tier: unknown class '%.*s' (see --features)", (int)n, arg);
		return -1;
	}
	for (i = 0; i < sizeof(tiers) / sizeof(tiers[0]); i++)
		if (!strcmp(eq + 1, vfs_tier_name(tiers[i]))) {
			force[c] = tiers[i];
			return 0;
		}
	snprintf(err, errlen, "--tier: unknown tier '%s' (tracepoint, fentry, kprobe)", eq + 1);
	return -1;
}

int vfs_parse_u64(const char *what, const char *arg, __u64 min, __u64 max, int sizes,
		  __u64 *out, char *err, size_t errlen)
{
	unsigned long long v;
	char *end;
	int shift = 0;

	if (!arg || !isdigit((unsigned char)arg[0])) {
		snprintf(err, errlen, "%s: '%s' is not a number", what, arg ? arg : "");
		return -1;
	}
	errno = 0;
	v = strtoull(arg, &end, 10);
	if (errno == ERANGE) {
		snprintf(err, errlen, "%s: '%s' is too large (at most %llu)", what, arg,
			 (unsigned long long)max);
		return -1;
	}
	if (sizes && *end) {
		switch (*end) {
		case 'k': case 'K': shift = 10; break;
		case 'M': shift = 20; break;
		case 'G': shift = 30; break;
		default: shift = -1;
		}
		if (shift >= 0 && !end[1])
			end++;
	}
	if (errno || *end || shift < 0) {
		snprintf(err, errlen, "%s: '%s' is not a number%s", what, arg,
			 sizes ? " (suffixes: k, M, G)" : "");
		return -1;
	}
	if (shift && v > (~0ull >> shift)) {
		snprintf(err, errlen, "%s: '%s' is too large", what, arg);
		return -1;
	}
	v <<= shift;
	if (v < min || v > max) {
		snprintf(err, errlen, "%s: %llu is out of range [%llu, %llu]", what, v,
			 (unsigned long long)min, (unsigned long long)max);
		return -1;
	}
	*out = v;
	return 0;
}

int vfs_cli_collector_opt(int opt, const char *arg, struct vfs_collector_opts *o,
			  char *err, size_t errlen)
{
	__u64 v;

	switch (opt) {
	case 'v':
		o->verbose = true;
		return 1;
	case VFS_OPT_TIER:
		return vfs_parse_tier_force(arg, o->force, err, errlen) ? -1 : 1;
	case VFS_OPT_RINGBUF:
		if (vfs_parse_u64("--ringbuf", arg, 4096, 1ull << 30, 1, &v, err, errlen))
			return -1;
		if (v & (v - 1)) {
			snprintf(err, errlen, "--ringbuf: %llu is not a power of two (e.g. 256k, 4M)",
				 (unsigned long long)v);
			return -1;
		}
		o->ringbuf_bytes = v;
		return 1;
	case VFS_OPT_MAP_ENTRIES:
		if (vfs_parse_u64("--map-entries", arg, 1, 1 << 20, 0, &v, err, errlen))
			return -1;
		o->map_entries = v;
		return 1;
	case VFS_OPT_PIN:
		o->share = VFS_SHARE_PIN;
		return 1;
	case VFS_OPT_SHARED:
		o->share = VFS_SHARE_AUTO;
		return 1;
	case VFS_OPT_PRIVATE:
		o->share = VFS_SHARE_PRIVATE;
		return 1;
	case VFS_OPT_GC_GRACE:
		if (vfs_parse_u64("--gc-grace", arg, 1, 86400, 0, &v, err, errlen))
			return -1;
		o->gc_grace_ns = v * 1000000000ull;
		return 1;
	default:
		return 0;
	}
}

void vfs_cli_bad_option(int opt, char *const argv[], char *err, size_t errlen)
{
	const char *last = argv[optind - 1];
	char name[64];

	/* a long option is still in argv; a short one may sit inside a group (-bZ) */
	if (!strncmp(last, "--", 2) && (opt == ':' || optopt == 0 || optopt > 255))
		snprintf(name, sizeof(name), "%.*s", (int)strcspn(last, "="), last);
	else
		snprintf(name, sizeof(name), "-%c", optopt);
	if (opt == ':')
		snprintf(err, errlen, "option %s needs a value (see --help)", name);
	else
		snprintf(err, errlen, "unknown option %s (see --help)", name);
}

__s64 vfs_realtime_offset_ns(void)
{
	struct timespec m0, r, m1;

	/* the realtime reading between two monotonic ones: error < their gap / 2 */
	clock_gettime(CLOCK_MONOTONIC, &m0);
	clock_gettime(CLOCK_REALTIME, &r);
	clock_gettime(CLOCK_MONOTONIC, &m1);
	return ((__s64)r.tv_sec * 1000000000 + r.tv_nsec) -
	       (((__s64)m0.tv_sec + m1.tv_sec) * 500000000 + ((__s64)m0.tv_nsec + m1.tv_nsec) / 2);
}

void vfs_print_version(FILE *f, const char *tool)
{
	fprintf(f, "%s %s (BPF ABI %d)\n", tool, vfs_version, vfs_abi_version);
}

/* the long option @name (up to '=' or its end) names, as getopt_long matches */
static const struct option *long_match(const struct option *lo, const char *name)
{
	const struct option *hit = NULL;
	size_t n = strcspn(name, "=");
	int hits = 0;

	for (; lo && lo->name; lo++) {
		if (strncmp(lo->name, name, n))
			continue;
		if (strlen(lo->name) == n)
			return lo;
		hit = lo;
		hits++;
	}
	return hits == 1 ? hit : NULL;
}

bool vfs_cli_wants_version(int argc, char *const argv[], const char *shortopts,
			   const struct option *longopts)
{
	const char *a, *p, *s;
	int i;

	for (i = 1; i < argc; i++) {
		a = argv[i];
		if (!strcmp(a, "--"))
			break;
		if (!strcmp(a, "--version"))
			return true;
		if (a[0] != '-' || !a[1])
			continue;	/* an operand: getopt_long looks past it */
		if (a[1] == '-') {
			const struct option *lo = long_match(longopts, a + 2);

			if (lo && lo->has_arg == required_argument && !strchr(a, '='))
				i++;	/* its value is the next word */
			continue;
		}
		for (p = a + 1; *p; p++) {
			s = *p == ':' ? NULL : strchr(shortopts ? shortopts : "", *p);
			if (s && s[1] == ':') {
				if (!p[1])
					i++;
				break;	/* the rest of the word is the value */
			}
		}
	}
	return false;
}

int vfs_cli_version(int argc, char *const argv[], const char *tool, const char *shortopts,
		    const struct option *longopts)
{
	if (!vfs_cli_wants_version(argc, argv, shortopts, longopts))
		return 0;
	vfs_print_version(stdout, tool);
	return 1;
}

int vfs_cli_rescan(struct vfs_collector *c, const char *tool)
{
	char msg[320];
	int n = vfs_collector_rescan(c, msg, sizeof(msg));

	if (msg[0])
		fprintf(stderr, "%s: %s\n", tool, msg);
	return n;
}
