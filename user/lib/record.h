/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * vfiotop's recordings: the model's input, frame by frame, as NDJSON, so
 * that --replay reproduces the frames --record saw. Format (version 1):
 *
 *   line 1, the header:
 *     {"format":"vfiotop-record","version":1,"abi":<VFS_ABI_VERSION>,
 *      "writer":"vfiotop <version>","page_size":4096,
 *      "maps":{"ioctl_stats":{"key_size":24,"value_size":160},...}}
 *   then one line per frame:
 *     {"frame":1,"ts_ns":<CLOCK_MONOTONIC>,"rt_ns":<CLOCK_REALTIME>,
 *      "lost":<events lost since attach>,
 *      "names":[[<pid>,"<VM name>"],...],
 *      "maps":{"ioctl_stats":["<hex key><hex value>",...],...},
 *      "events":["<hex event>",...]}
 *
 * Maps hold whole-map snapshots (per-CPU values already folded) as the
 * raw bpf/abi.h structs in hex; "names" the VM name of every VM row of the
 * frame; "events" the raw stream events that arrived since the previous
 * frame. A map the header does not list was absent (its family not
 * loaded). "writer" names the build that wrote the recording (--version's
 * string); recordings from before it have none and read the same. The
 * reader checks every field and length and stops at the first bad line
 * with "FILE:LINE: reason".
 */
#ifndef VFIOSCOPE_RECORD_H
#define VFIOSCOPE_RECORD_H

#include <stdbool.h>
#include <stdio.h>
#include "model.h"

#define VFS_RECORD_VERSION	1

struct vfs_rec {
	FILE *f;
	const char *path;
	char *ev;		/* this frame's events, as JSON strings joined by ',' */
	size_t evlen, evcap;
	bool failed, header;
};

/* create @path (the header follows with the first frame); 0 or -1 with a sentence in @err */
int vfs_rec_open(struct vfs_rec *r, const char *path, char *err, size_t len);
/* keep one event for the next frame */
void vfs_rec_event(struct vfs_rec *r, const struct vfs_event_hdr *ev, size_t size);
/* write the frame @m just computed; 0 or -1 with a sentence in @err */
int vfs_rec_frame(struct vfs_rec *r, const struct vfs_model *m, char *err, size_t len);
/* 0 or -1 with a sentence in @err (a write that failed late) */
int vfs_rec_close(struct vfs_rec *r, char *err, size_t len);

struct vfs_replay_name {
	__u32 pid;
	char name[VFS_VM_NAME_LEN];
};

struct vfs_replay {
	FILE *f;
	const char *path;
	unsigned long line;
	char *buf;
	size_t bufcap;
	__u32 key_size[VFS_IN_MAX], value_size[VFS_IN_MAX];
	struct vfs_replay_name *names;
	size_t nnames, capnames;
	void *evbuf;
	size_t evcap;
	char writer[128];	/* the header's "writer", "" when it has none */
};

/*
 * Open a recording and check its header; sets @m's namer and page size.
 * 0 or -1 with "FILE:LINE: reason" in @err.
 */
int vfs_replay_open(struct vfs_replay *p, const char *path, struct vfs_model *m,
		    char *err, size_t len);
/*
 * Feed the next frame to @m (events, losses, maps) and compute it: 1, 0 at
 * the end of the file, -1 with "FILE:LINE: reason" in @err.
 */
int vfs_replay_next(struct vfs_replay *p, struct vfs_model *m, char *err, size_t len);
void vfs_replay_close(struct vfs_replay *p);

#endif
