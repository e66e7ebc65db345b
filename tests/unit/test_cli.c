// SPDX-License-Identifier: GPL-2.0
#include <criterion/criterion.h>
#include <string.h>
#include "cli.h"
#include "abi.h"

Test(cli, tier_force_parses_known_pairs)
{
	enum vfs_tier f[VFS_CLASS_MAX] = { 0 };
	char err[160];

	cr_assert_eq(vfs_parse_tier_force("migration-arcs=tracepoint", f, err, sizeof(err)), 0);
	cr_expect_eq(f[VFS_CLASS_MIG_ARC], VFS_TIER_TRACEPOINT);
	cr_assert_eq(vfs_parse_tier_force("vfio-ioctl=kprobe", f, err, sizeof(err)), 0);
	cr_expect_eq(f[VFS_CLASS_IOCTL], VFS_TIER_KPROBE);
	cr_expect_eq(f[VFS_CLASS_DMA], VFS_TIER_NONE);
}

Test(cli, tier_force_names_what_is_wrong)
{
	enum vfs_tier f[VFS_CLASS_MAX] = { 0 };
	char err[160];

	cr_expect_eq(vfs_parse_tier_force("vfio-ioctl", f, err, sizeof(err)), -1);
	cr_expect(strstr(err, "CLASS=TIER"));
	cr_expect_eq(vfs_parse_tier_force("nosuch=fentry", f, err, sizeof(err)), -1);
	cr_expect(strstr(err, "unknown class 'nosuch'"));
	cr_expect_eq(vfs_parse_tier_force("vfio-ioctl=uprobe", f, err, sizeof(err)), -1);
	cr_expect(strstr(err, "unknown tier 'uprobe'"));
	/* a class name that is a prefix of another is not a match */
	cr_expect_eq(vfs_parse_tier_force("vfio=fentry", f, err, sizeof(err)), -1);
}

Test(cli, u64_ranges_and_suffixes)
{
	__u64 v;
	char err[160];

	cr_assert_eq(vfs_parse_u64("-d", "5", 1, 10, 0, &v, err, sizeof(err)), 0);
	cr_expect_eq(v, 5);
	cr_assert_eq(vfs_parse_u64("--ringbuf", "4M", 4096, 1ull << 30, 1, &v, err, sizeof(err)), 0);
	cr_expect_eq(v, 4ull << 20);
	cr_assert_eq(vfs_parse_u64("--ringbuf", "64k", 4096, 1ull << 30, 1, &v, err, sizeof(err)), 0);
	cr_expect_eq(v, 65536);
	cr_expect_eq(vfs_parse_u64("-d", "0", 1, 10, 0, &v, err, sizeof(err)), -1);
	cr_expect(strstr(err, "out of range"));
	cr_expect_eq(vfs_parse_u64("-d", "-3", 1, 10, 0, &v, err, sizeof(err)), -1);
	cr_expect_eq(vfs_parse_u64("-d", "3x", 1, 10, 0, &v, err, sizeof(err)), -1);
	cr_expect_eq(vfs_parse_u64("-d", "4k", 1, 1 << 20, 0, &v, err, sizeof(err)), -1);
	cr_expect_eq(vfs_parse_u64("-d", "99999999999999999999999", 1, ~0ull, 0, &v, err,
				   sizeof(err)), -1);
	cr_expect_eq(vfs_parse_u64("--ringbuf", "17179869184G", 1, ~0ull, 1, &v, err,
				   sizeof(err)), -1);
	cr_expect(strstr(err, "too large"));
	cr_expect_eq(vfs_parse_u64("-d", "", 1, 10, 0, &v, err, sizeof(err)), -1);
}

/* --version as getopt_long would read the line, whatever else it holds */
Test(cli, version_is_found_where_getopt_sees_an_option)
{
	static const struct option lo[] = {
		{ "replay", required_argument, NULL, 'P' },
		{ "features", no_argument, NULL, 'F' },
		{ "view", required_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	static const struct { const char *argv[6]; bool want; } cases[] = {
		{ { "t", "--version" }, true },
		{ { "t", "-b", "--features", "--version" }, true },
		{ { "t", "stray", "--version" }, true },	/* getopt looks past operands */
		{ { "t", "--replay=x", "--version" }, true },
		{ { "t", "-d5", "--version" }, true },
		{ { "t", "-bj", "--version" }, true },
		{ { "t" }, false },
		{ { "t", "--versio" }, false },
		{ { "t", "--replay", "--version" }, false },	/* --replay's value */
		{ { "t", "--rep", "--version" }, false },	/* an abbreviation, as getopt takes it */
		{ { "t", "-f", "--version" }, false },
		{ { "t", "-bf", "--version" }, false },
		{ { "t", "--", "--version" }, false },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int argc = 0;

		while (argc < 6 && cases[i].argv[argc])
			argc++;
		cr_expect_eq(vfs_cli_wants_version(argc, (char *const *)cases[i].argv, ":bjd:f:",
						   lo), cases[i].want, "case %zu", i);
	}
}

Test(cli, version_line_names_tool_version_and_abi)
{
	char buf[256], want[256];
	FILE *f = fmemopen(buf, sizeof(buf), "w");

	cr_assert_not_null(f);
	vfs_print_version(f, "vfiotop");
	fclose(f);
	snprintf(want, sizeof(want), "vfiotop %s (BPF ABI %d)\n", vfs_version, VFS_ABI_VERSION);
	cr_assert_str_eq(buf, want);
	cr_assert(vfs_version[0] >= '0' && vfs_version[0] <= '9', "version '%s'", vfs_version);
}
