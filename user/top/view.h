/* SPDX-License-Identifier: GPL-2.0 */
/* vfiotop's views: batch text, JSON (view_batch.c), curses (view_curses.c). */
#ifndef VFIOTOP_VIEW_H
#define VFIOTOP_VIEW_H

#include <signal.h>
#include <stdio.h>
#include "model.h"

/* exit statuses, each with its own sentence on stderr */
enum top_exit {
	TOP_EXIT_OK = 0,
	TOP_EXIT_ERROR = 1,	/* a read, write or replay file failed */
	TOP_EXIT_USAGE = 2,	/* bad command line */
	TOP_EXIT_NOT_ROOT = 3,	/* live source without root */
	TOP_EXIT_NO_BPF = 4,	/* the collectors could not be loaded */
	TOP_EXIT_NOTHING = 5,	/* -n frames and the view stayed empty in all of them */
};

struct top_source;

struct top_opts {
	__u64 delay_ms;		/* between frames */
	__u64 count;		/* frames; 0: until interrupted */
	enum vfs_view view;
	bool json;
	bool pretty;		/* --pretty: indented JSON (implies -j) */
	struct vfs_filter filter;	/* rows shown: a text column matches it */
};

extern volatile sig_atomic_t top_exiting;

/*
 * The next frame from the source (live: drain the stream, read the maps,
 * record; replay: the next recorded frame): 1, 0 when a replay ended, -1
 * with a sentence in @err.
 */
int top_source_frame(struct top_source *s, struct vfs_model *m, char *err, size_t len);
/* what a module loaded since the start changed, once (NULL: nothing new) */
const char *top_source_note(struct top_source *s);
/* wait @ms for the next frame (live: draining the stream); false if told to stop */
bool top_source_wait(struct top_source *s, __u64 ms);
/* "live" or "replay FILE" */
const char *top_source_name(const struct top_source *s);

/* why a view has no rows */
const char *top_view_empty(enum vfs_view v);
/* a row has a text column @filter matches (NULL or clear: every row) */
bool top_row_matches(const struct vfs_table *t, const void *row, const struct vfs_filter *filter);
/* names come from processes: nothing that moves the cursor */
void top_printable(char *s);

/* one frame as text: a header line, the column titles, the rows */
void top_print_text(const struct vfs_model *m, enum vfs_view v, const struct vfs_filter *filter,
		    FILE *out);
/* one frame as one JSON document on one line (every view) */
void top_print_json(const struct vfs_model *m, const struct vfs_filter *filter, bool pretty,
		    FILE *out);
/* the interactive view; returns the exit status */
int top_curses_run(struct vfs_model *m, struct top_source *s, struct top_opts *o);

#endif
