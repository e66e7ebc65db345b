/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Growable arrays: the one helper every table of the library uses. */
#ifndef VFIOSCOPE_VEC_H
#define VFIOSCOPE_VEC_H

#include <errno.h>
#include <stdlib.h>

/*
 * Make *@arr (of *@cap elements of @size bytes) hold at least @need
 * elements, doubling from 16; 0 or -ENOMEM (then *@arr is unchanged).
 * A steady state (need <= cap) allocates nothing.
 */
static inline int vfs_grow(void **arr, size_t *cap, size_t need, size_t size)
{
	size_t c = *cap ? *cap : 16;
	void *p;

	if (need <= *cap)
		return 0;
	while (c < need)
		c *= 2;
	p = realloc(*arr, c * size);
	if (!p)
		return -ENOMEM;
	*arr = p;
	*cap = c;
	return 0;
}

#endif
