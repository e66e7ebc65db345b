// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Hostile text made safe for terminals, logs, JSON and Prometheus: safetext.h */
#include "safetext.h"
#include <stdio.h>
#include <string.h>

/* the continuation bytes allowed after lead byte @b0: [lo, hi] for the first one */
static int utf8_lead(unsigned char b0, unsigned char *lo, unsigned char *hi)
{
	*lo = 0x80;
	*hi = 0xbf;
	if (b0 >= 0xc2 && b0 <= 0xdf)
		return 2;
	if (b0 >= 0xe0 && b0 <= 0xef) {
		if (b0 == 0xe0)
			*lo = 0xa0;	/* below: overlong */
		else if (b0 == 0xed)
			*hi = 0x9f;	/* above: UTF-16 surrogates */
		return 3;
	}
	if (b0 >= 0xf0 && b0 <= 0xf4) {
		if (b0 == 0xf0)
			*lo = 0x90;	/* below: overlong */
		else if (b0 == 0xf4)
			*hi = 0x8f;	/* above: beyond U+10FFFF */
		return 4;
	}
	return 0;	/* continuation byte, overlong C0/C1, or F5..FF */
}

int vfs_utf8_char(const char *s, size_t n, uint32_t *cp)
{
	const unsigned char *u = (const unsigned char *)s;
	unsigned char lo, hi;
	uint32_t c;
	int len, i;

	if (!n)
		return 0;
	if (u[0] < 0x80) {
		*cp = u[0];
		return 1;
	}
	len = utf8_lead(u[0], &lo, &hi);
	if (!len)
		return -1;
	c = u[0] & (0xff >> (len + 1));
	for (i = 1; i < len; i++) {
		if ((size_t)i >= n || u[i] < lo || u[i] > hi)
			return -i;	/* the valid prefix is replaced as one */
		c = (c << 6) | (u[i] & 0x3f);
		lo = 0x80;
		hi = 0xbf;
	}
	*cp = c;
	return len;
}

bool vfs_unsafe_cp(uint32_t cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == 0x061c ||
	       cp == 0x200e || cp == 0x200f || (cp >= 0x2028 && cp <= 0x202e) ||
	       (cp >= 0x2066 && cp <= 0x2069);
}

/* append @n bytes of @p if they fit whole (room for the NUL kept) */
static bool emit(char *out, size_t len, size_t *o, const char *p, size_t n)
{
	if (*o + n + 1 > len)
		return false;
	memmove(out + *o, p, n);
	*o += n;
	return true;
}

size_t vfs_safe_text(char *out, size_t len, const char *s, size_t n, unsigned int how)
{
	static const char fffd[] = "\xef\xbf\xbd";
	size_t i = 0, o = 0;
	bool ok = true;

	if (!len)
		return 0;
	n = strnlen(s, n);
	while (i < n && ok) {
		uint32_t cp = 0;
		int r = vfs_utf8_char(s + i, n - i, &cp);
		size_t clen = r < 0 ? (size_t)-r : (size_t)r;
		char esc[16];
		size_t k;

		if (r > 0 && (how & VFS_SAFE_NL) && cp == '\n') {
			ok = emit(out, len, &o, s + i, 1);
		} else if (r > 0 && !vfs_unsafe_cp(cp) &&
			   !((how & VFS_SAFE_ASCII) && cp > 0x7e)) {
			ok = emit(out, len, &o, s + i, clen);
		} else if (how & VFS_SAFE_QMARK) {
			for (k = 0; k < clen && ok; k++)
				ok = emit(out, len, &o, "?", 1);
		} else if (how & VFS_SAFE_UTF8) {
			/* C0 and DEL are the consumer's to escape */
			if (r > 0 && (cp < 0x20 || cp == 0x7f))
				ok = emit(out, len, &o, s + i, 1);
			else
				ok = emit(out, len, &o, fffd, 3);
		} else if (r > 0 && cp >= 0x80) {
			snprintf(esc, sizeof(esc), "\\u%04x", (unsigned int)cp);
			ok = emit(out, len, &o, esc, 6);
		} else {
			/* a control byte, or each byte of an invalid sequence */
			for (k = 0; k < clen && ok; k++) {
				snprintf(esc, sizeof(esc), "\\x%02x", (unsigned char)s[i + k]);
				ok = emit(out, len, &o, esc, 4);
			}
		}
		if (ok)
			i += clen;
	}
	out[o] = '\0';
	return o;
}

bool vfs_text_is_safe(const char *s, size_t n, unsigned int how)
{
	size_t i = 0;

	n = strnlen(s, n);
	while (i < n) {
		uint32_t cp = 0;
		int r = vfs_utf8_char(s + i, n - i, &cp);

		if (r < 0)
			return false;
		if (vfs_unsafe_cp(cp) && !((how & VFS_SAFE_NL) && cp == '\n') &&
		    !((how & VFS_SAFE_UTF8) && (cp < 0x20 || cp == 0x7f)))
			return false;
		if ((how & VFS_SAFE_ASCII) && cp > 0x7e)
			return false;
		i += (size_t)r;
	}
	return true;
}
