// SPDX-License-Identifier: GPL-2.0
#include <criterion/criterion.h>
#include <string.h>
#include "cli.h"

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
