/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Text that a VM, a VMM or a local user controls (comm, QEMU's -name, a
 * policy file's contents, device names), made safe for where it goes: a
 * terminal, a log line, a control-socket reply, JSON, XML or Prometheus.
 * One decoder and one sanitiser for every tool; tests/unit/test_safetext.c.
 *
 * UTF-8 is decoded strictly (RFC 3629): overlong forms, surrogates, code
 * points above U+10FFFF, stray continuation bytes and a character cut
 * short (at the end of a fixed-size buffer, say) are invalid. Unsafe in a
 * terminal: C0 controls, DEL, C1 controls (U+0080..U+009F: U+009B is CSI
 * to many terminals), and the invisible direction and line-breaking
 * controls (U+061C, U+200E, U+200F, U+2028..U+202E, U+2066..U+2069).
 */
#ifndef VFIOSCOPE_SAFETEXT_H
#define VFIOSCOPE_SAFETEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* how vfs_safe_text() writes what is unsafe */
enum {
	/*
	 * default (0): for a terminal or a log line. Each invalid byte and
	 * each C0 control or DEL as "\xNN", each other unsafe character as
	 * "\uNNNN"; valid UTF-8 otherwise kept. A backslash is kept as is, so
	 * sanitising twice changes nothing.
	 */
	VFS_SAFE_ESCAPE = 0,
	/* one '?' per byte of anything unsafe: the output is as long as the input */
	VFS_SAFE_QMARK = 1 << 0,
	/* with QMARK: every byte outside printable ASCII too (one column per byte) */
	VFS_SAFE_ASCII = 1 << 1,
	/*
	 * valid UTF-8 for a consumer with its own escaping (JSON, XML,
	 * Prometheus): invalid bytes and C1, direction and line-breaking
	 * controls as U+FFFD; C0 controls and DEL kept, the consumer's
	 * escaping deals with them.
	 */
	VFS_SAFE_UTF8 = 1 << 2,
	/* keep '\n' (a multi-line reply); otherwise it is a control like any other */
	VFS_SAFE_NL = 1 << 3,
};

/*
 * The UTF-8 character at @s (at most @n bytes): its length (1..4), with
 * its code point in *@cp; or, if the bytes there are not a valid
 * character, minus the length of the invalid sequence to replace (the
 * longest prefix of a valid character, at least one byte: a character cut
 * at the end of the buffer counts once). 0 if @n is 0.
 */
int vfs_utf8_char(const char *s, size_t n, uint32_t *cp);

/* whether a valid code point is unsafe in a terminal (see above) */
bool vfs_unsafe_cp(uint32_t cp);

/*
 * @s, at most @n bytes of it and up to its NUL, made safe as @how says,
 * into @out (@len bytes, NUL-terminated when @len > 0). Never cuts a
 * character or an escape: what does not fit is left out whole. Returns
 * the length written. With VFS_SAFE_QMARK @out may be @s (in place).
 */
size_t vfs_safe_text(char *out, size_t len, const char *s, size_t n, unsigned int how);

/* whether vfs_safe_text(@how) would leave @s (@n bytes, up to a NUL) as it is */
bool vfs_text_is_safe(const char *s, size_t n, unsigned int how);

#endif
