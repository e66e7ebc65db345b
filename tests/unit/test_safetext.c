// SPDX-License-Identifier: GPL-2.0
/*
 * The shared sanitiser (user/lib/safetext.c): hostile names from VMs and
 * VMMs as a terminal, a log, JSON or Prometheus may take them.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>
#include "safetext.h"

static char out[256];

static const char *esc(const char *s)
{
	vfs_safe_text(out, sizeof(out), s, strlen(s), VFS_SAFE_ESCAPE);
	return out;
}

static const char *utf8(const char *s)
{
	vfs_safe_text(out, sizeof(out), s, strlen(s), VFS_SAFE_UTF8);
	return out;
}

static const char *qmark(const char *s)
{
	vfs_safe_text(out, sizeof(out), s, strlen(s), VFS_SAFE_QMARK);
	return out;
}

Test(safetext, valid_multibyte_names_kept_intact)
{
	/* 2, 3 and 4 bytes, and the highest code point */
	static const char *const names[] = {
		"vm-é", "vm-日本", "vm-\xf0\x9f\x98\x80", "\xf4\x8f\xbf\xbf", "plain-vm_1.2",
		"back\\slash", "\xef\xbf\xbd",
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		cr_expect_str_eq(esc(names[i]), names[i]);
		cr_expect_str_eq(utf8(names[i]), names[i]);
		cr_expect_str_eq(qmark(names[i]), names[i]);
		cr_expect(vfs_text_is_safe(names[i], SIZE_MAX, VFS_SAFE_ESCAPE), "%s", names[i]);
	}
}

Test(safetext, c0_controls_and_del)
{
	cr_expect_str_eq(esc("a\x1b[2Jb"), "a\\x1b[2Jb");
	cr_expect_str_eq(esc("\x07\x08\t\r\n\x7f"), "\\x07\\x08\\x09\\x0d\\x0a\\x7f");
	cr_expect_str_eq(qmark("a\x1b[2Jb\x7f"), "a?[2Jb?");
	/* the consumer (json-c, XML) escapes C0 itself: kept, still valid UTF-8 */
	cr_expect_str_eq(utf8("a\x1b" "b\x7f"), "a\x1b" "b\x7f");
	/* a multi-line reply keeps its newlines only when asked */
	vfs_safe_text(out, sizeof(out), "a\nb\x1b\n", 6, VFS_SAFE_ESCAPE | VFS_SAFE_NL);
	cr_expect_str_eq(out, "a\nb\\x1b\n");
	cr_expect_not(vfs_text_is_safe("a\x1b", 2, VFS_SAFE_ESCAPE));
	cr_expect(vfs_text_is_safe("a\n", 2, VFS_SAFE_ESCAPE | VFS_SAFE_NL));
}

Test(safetext, c1_and_direction_controls)
{
	/* U+009B (CSI), U+0085 (NEL) as UTF-8, the right-to-left override */
	cr_expect_str_eq(esc("a\xc2\x9b" "31mb"), "a\\u009b31mb");
	cr_expect_str_eq(esc("\xc2\x85"), "\\u0085");
	cr_expect_str_eq(esc("vm\xe2\x80\xae" "gpj.exe"), "vm\\u202egpj.exe");
	cr_expect_str_eq(esc("\xe2\x80\xa8"), "\\u2028");
	cr_expect_str_eq(utf8("a\xc2\x9b" "b"), "a\xef\xbf\xbd" "b");
	cr_expect_str_eq(qmark("a\xc2\x9b" "b"), "a??b");
	/* a raw C1 byte is no character at all */
	cr_expect_str_eq(esc("a\x9b" "b"), "a\\x9bb");
}

Test(safetext, invalid_utf8)
{
	/* stray continuation, bytes never in UTF-8, a lead without continuation */
	cr_expect_str_eq(esc("a\x80" "b"), "a\\x80b");
	cr_expect_str_eq(esc("\xfe\xff"), "\\xfe\\xff");
	cr_expect_str_eq(esc("\xe6" "x"), "\\xe6x");
	/* surrogates and beyond U+10FFFF */
	cr_expect_str_eq(esc("\xed\xa0\x80"), "\\xed\\xa0\\x80");
	cr_expect_str_eq(esc("\xf4\x90\x80\x80"), "\\xf4\\x90\\x80\\x80");
	cr_expect_str_eq(utf8("a\x80" "b\xfe"), "a\xef\xbf\xbd" "b\xef\xbf\xbd");
	cr_expect_str_eq(qmark("a\xff" "b"), "a?b");
	cr_expect_not(vfs_text_is_safe("a\x80", 2, VFS_SAFE_UTF8));
}

Test(safetext, overlong_encodings)
{
	uint32_t cp;

	/* '/' as 2, 3 and 4 bytes, and NUL as 2 (modified UTF-8) */
	cr_expect_lt(vfs_utf8_char("\xc0\xaf", 2, &cp), 0);
	cr_expect_lt(vfs_utf8_char("\xe0\x80\xaf", 3, &cp), 0);
	cr_expect_lt(vfs_utf8_char("\xf0\x80\x80\xaf", 4, &cp), 0);
	cr_expect_lt(vfs_utf8_char("\xc1\xbf", 2, &cp), 0);
	cr_expect_str_eq(esc("\xc0\xaf"), "\\xc0\\xaf");
	cr_expect_str_eq(utf8("\xe0\x80\xaf"), "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
	/* the smallest valid 3- and 4-byte forms */
	cr_expect_eq(vfs_utf8_char("\xe0\xa0\x80", 3, &cp), 3);
	cr_expect_eq(cp, 0x800);
	cr_expect_eq(vfs_utf8_char("\xf0\x90\x80\x80", 4, &cp), 4);
	cr_expect_eq(cp, 0x10000);
}

Test(safetext, character_cut_at_the_end)
{
	/* "é" is c3 a9, "日" e6 97 a5: cut after their first bytes */
	char name[64];
	uint32_t cp;

	cr_expect_eq(vfs_utf8_char("\xe6\x97", 2, &cp), -2);
	cr_expect_eq(vfs_utf8_char("\xe6\x97\xa5", 2, &cp), -2);	/* @n cuts it */
	cr_expect_str_eq(utf8("vm-\xe6\x97"), "vm-\xef\xbf\xbd");	/* replaced once */
	cr_expect_str_eq(esc("vm-\xc3"), "vm-\\xc3");
	/* a 63-byte name whose last character straddles the cut */
	memset(name, 'a', 62);
	name[62] = '\xe6';
	name[63] = '\0';
	vfs_safe_text(out, sizeof(out), name, sizeof(name), VFS_SAFE_UTF8);
	cr_expect_eq(strlen(out), 62 + 3);
	cr_expect_str_eq(out + 62, "\xef\xbf\xbd");
	cr_expect(vfs_text_is_safe(out, sizeof(out), VFS_SAFE_UTF8));
}

Test(safetext, output_never_cut_inside_a_character_or_escape)
{
	char small[6];
	size_t n;

	/* "ab" + 3-byte character: 5 bytes with the NUL do not fit in 5 */
	n = vfs_safe_text(small, 5, "ab\xe6\x97\xa5", 5, VFS_SAFE_ESCAPE);
	cr_expect_eq(n, 2);
	cr_expect_str_eq(small, "ab");
	n = vfs_safe_text(small, 6, "ab\xe6\x97\xa5", 5, VFS_SAFE_ESCAPE);
	cr_expect_eq(n, 5);
	/* "\x1b" is 4 bytes: it is left out whole, never written in part */
	n = vfs_safe_text(small, 6, "ab\x1b", 3, VFS_SAFE_ESCAPE);
	cr_expect_str_eq(small, "ab");
	cr_expect_eq(n, 2);
	n = vfs_safe_text(small, 1, "abc", 3, VFS_SAFE_ESCAPE);
	cr_expect_eq(n, 0);
	cr_expect_str_eq(small, "");
	/* the input bound: an unterminated fixed-size name is read no further */
	n = vfs_safe_text(out, sizeof(out), "abcdef", 3, VFS_SAFE_ESCAPE);
	cr_expect_str_eq(out, "abc");
}

Test(safetext, in_place_and_idempotent)
{
	char s[] = "vm\x1b]0;owned\x07\xc3";
	char twice[256];

	/* QMARK keeps the length: in place, as vfiotop's cells do */
	vfs_safe_text(s, sizeof(s), s, sizeof(s), VFS_SAFE_QMARK | VFS_SAFE_ASCII);
	cr_expect_str_eq(s, "vm?]0;owned??");
	/* escaping what is escaped changes nothing (the daemon's replies) */
	esc("a\x1b\xff\\x1b");
	strcpy(twice, out);
	cr_expect_str_eq(twice, "a\\x1b\\xff\\x1b");
	cr_expect_str_eq(esc(twice), twice);
	/* ASCII: every byte outside printable ASCII is one '?' */
	vfs_safe_text(out, sizeof(out), "é\x7f~", 4, VFS_SAFE_QMARK | VFS_SAFE_ASCII);
	cr_expect_str_eq(out, "???~");
}
