/* SPDX-License-Identifier: GPL-2.0 */
/* vfiotop's views: batch text, JSON (view_batch.c), curses (view_curses.c). */
#ifndef VFIOTOP_VIEW_H
#define VFIOTOP_VIEW_H

#include <signal.h>
#include <stdio.h>
#include "model.h"

struct top_opts {
	__u64 delay_ms;		/* between frames */
	__u64 count;		/* frames; 0: until interrupted */
	enum vfs_view view;
	bool json;
};

extern volatile sig_atomic_t top_exiting;

/* one frame as text: a header line, the column titles, the rows */
void top_print_text(const struct vfs_model *m, enum vfs_view v, FILE *out);
/* one frame as one JSON document on one line (every view) */
void top_print_json(const struct vfs_model *m, FILE *out);
/* the interactive view; returns the exit status */
int top_curses_run(struct vfs_model *m, struct top_opts *o);

#endif
