/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Migration sessions from VFIO migration FSM arcs and migration data
 * events (pure: no libbpf, no I/O). Used by vfiomig, live and on replay.
 *
 * Per device, a segment opens at the first arc seen while none is open
 * (normally the one leaving RUNNING) and is classified by the arcs asked
 * for: an arc into STOP_COPY / PRE_COPY / PRE_COPY_P2P makes it a source
 * session, an arc into RESUMING a destination session. It closes when a
 * source's STOP_COPY -> STOP ends (done), when a destination's arc into
 * RUNNING ends (done), when an arc fails (failed, with its errno) or when a
 * source goes back to RUNNING before finishing (cancelled). A segment that
 * never became either (e.g. RUNNING -> STOP -> RUNNING) is not a migration
 * and is dropped, unless one of its arcs failed: failures are always kept.
 *
 * Pairing: a destination session, when it asks for RESUMING, takes the
 * oldest finished, unpaired source session of the same process whose
 * STOP_COPY -> STOP ended before (one process doing both sides, as
 * vfio-exercise does). Otherwise it is paired when it runs (its arc into
 * RUNNING ends): with a finished, unpaired source saved before then whose
 * bytes read equal the bytes it wrote (when both sides' drivers report
 * data; unknown bytes do not exclude), looked for in the same process,
 * then in processes of the same name, then in any process; the first of
 * these that has candidates decides, and only if they are all one
 * process's (one VM: its oldest saved device). Candidates of two processes
 * (two migrations at once that bytes and names cannot tell apart) leave
 * the destination unpaired. This is how two VMM processes on one host
 * (QEMU's source and its incoming side) come out as one migration, though
 * the incoming side asks for RESUMING long before the source is saved.
 * A migration groups a process's source sessions (a VM's devices) with
 * their destinations; it is complete when every source failed, was
 * cancelled, or its destination is done or failed. With local pairing off
 * (the host is only one side: sources and destinations on different
 * hosts), nothing is paired and a source is complete at its STOP_COPY ->
 * STOP.
 *
 * A process that exits (a VM exit event) with sessions open fails them:
 * the device was left mid-migration, in the state of its last arc. A
 * destination that fails so (or by an arc error) before it ran, in a
 * process of its own, is paired with the source it was loading from: the
 * one VM's unpaired source session, still open or not yet reported, that
 * began before the failure (same process, then same name, then any, as
 * above; candidates of two processes leave it alone). The migration then
 * completes when that source is done with it, normally when its VMM
 * brings the device back to RUNNING (cancelled), and is reported failed,
 * naming the side, its device and the arc it failed in or after. Without
 * exit events (a replay file recorded without them) a killed destination
 * stays open and is reported incomplete at the end, apart from its source.
 *
 * A data event may carry bytes its fd moved before the collector could
 * attach to the driver's f_ops (learned at run time): they count in the
 * session's totals, and in bytes_unseen, with no point of their own.
 *
 * A read of a data fd that fails with ENOMSG while the device is in
 * PRE_COPY or PRE_COPY_P2P is the uAPI's "no data right now" (VMMs poll
 * for pre-copy data that way): it is counted as a poll, not an error.
 *
 * Times are CLOCK_MONOTONIC ns (bpf_ktime_get_ns), as the events carry.
 * "Running" states are RUNNING and PRE_COPY (the VM runs), as in
 * vfio-exercise: downtime starts when a source arc leaves them.
 */
#ifndef VFIOSCOPE_MIGMODEL_H
#define VFIOSCOPE_MIGMODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <linux/types.h>
#include "abi.h"

struct json_object;

/* enum vfio_device_mig_state, as the uAPI numbers them */
enum vfs_mig_state {
	VFS_MIG_ERROR = 0,
	VFS_MIG_STOP = 1,
	VFS_MIG_RUNNING = 2,
	VFS_MIG_STOP_COPY = 3,
	VFS_MIG_RESUMING = 4,
	VFS_MIG_RUNNING_P2P = 5,
	VFS_MIG_PRE_COPY = 6,
	VFS_MIG_PRE_COPY_P2P = 7,
};

/* LOST: the recorder's own account of what it lost (replay files only) */
enum vfs_mm_kind { VFS_MM_ARC = 1, VFS_MM_DATA = 2, VFS_MM_EXIT = 3, VFS_MM_LOST = 4,
		   VFS_MM_PRECOPY = 5 };

/* one input event, whatever its source (ring buffer or NDJSON) */
struct vfs_mm_event {
	enum vfs_mm_kind kind;
	__u64 ts_ns;		/* when it was emitted */
	__u32 pid;
	char comm[VFS_COMM_LEN + 1];
	char dev[VFS_NAME_LEN + 1];
	/* arc */
	__u32 from, to;
	__u64 start_ns, end_ns;
	/* both: arc 0/-errno, data bytes moved or -errno */
	__s64 ret;
	/* exit: the process @pid exited at ts_ns */
	/* data */
	bool write;		/* false: read (saving), true: write (resuming) */
	__u64 bytes;		/* asked for; lost: how many */
	__u64 unseen;		/* moved before the collector attached (learned f_ops) */
	/* precopy: VFIO_MIG_GET_PRECOPY_INFO's answer (ret 0) */
	__u64 initial_bytes, dirty_bytes;
	char why[32];		/* lost: the reason (vfiosnoop's drop name) */
	/* CLOCK_REALTIME - CLOCK_MONOTONIC when the input carried it */
	bool has_realtime;
	__s64 realtime_offset_ns;
};

/*
 * From a ring-buffer event: 1 converted (a migration event or a VM's
 * exit), 0 another event, -1 too short for its type.
 */
int vfs_mm_event_from_raw(const struct vfs_event_hdr *ev, size_t size, struct vfs_mm_event *out);
/*
 * From one object of `vfiosnoop -j -c migration` (the keys vfs_event_json
 * writes, and "realtime_ns" when present): 1 converted, 0 another event
 * (skipped), -1 malformed with a sentence in @err.
 */
int vfs_mm_event_from_json(struct json_object *o, struct vfs_mm_event *out,
			   char *err, size_t errlen);
/*
 * Read a replay file (one `vfiosnoop -j -c migration` object per line,
 * blank lines allowed) into *@out, @nout events in time order: arcs at
 * their end, data at its timestamp, file order between equal times (the
 * ring buffer is only per-CPU ordered). @name names the file in errors.
 * 0, or -1 with a sentence naming the line in @err (*@out is then NULL).
 */
int vfs_mm_read_replay(FILE *f, const char *name, struct vfs_mm_event **out, size_t *nout,
		       char *err, size_t errlen);
/* "STOP_COPY" -> 3; -1 if unknown */
int vfs_mm_state_parse(const char *name);

enum vfs_mm_role { VFS_MM_UNKNOWN = 0, VFS_MM_SOURCE, VFS_MM_DEST };
enum vfs_mm_status {
	VFS_MM_OPEN = 0,	/* still going */
	VFS_MM_DONE,		/* finished its part */
	VFS_MM_FAILED,		/* an arc failed: err */
	VFS_MM_CANCELLED,	/* a source went back to running */
	VFS_MM_INCOMPLETE,	/* the input ended first (flush) */
};

struct vfs_mm_arc {
	__u32 from, to;
	__u64 start_ns, end_ns;
	__s64 ret;
};

struct vfs_mm_point {		/* cumulative bytes after one data event */
	__u64 ts_ns;
	__u64 total;
};

struct vfs_mm_session {
	char dev[VFS_NAME_LEN + 1];
	__u32 pid;
	char comm[VFS_COMM_LEN + 1];
	enum vfs_mm_role role;
	enum vfs_mm_status status;
	int err;		/* positive errno of the failing arc */
	struct vfs_mm_arc *arcs;
	size_t narcs, arcs_cap;
	__u64 bytes_read, bytes_written;	/* moved (ret > 0) */
	__u64 data_events, data_errors;
	__u64 data_polls;	/* reads answered ENOMSG in PRE_COPY(_P2P): no data yet */
	__u64 bytes_unseen;	/* of bytes_read/written: moved before the attach */
	/*
	 * PRE_COPY convergence, from VFIO_MIG_GET_PRECOPY_INFO (drivers whose
	 * f_ops were learned): how often the VMM asked, the first and the
	 * latest answer, the most dirty bytes reported, failed queries.
	 */
	__u64 precopy_queries, precopy_errors;
	__u64 precopy_initial_first, precopy_initial_last;
	__u64 precopy_dirty_last, precopy_dirty_max;
	__u64 precopy_first_ns, precopy_last_ns;
	struct vfs_mm_point *points;
	size_t npoints, points_cap;
	/* key instants, 0 = not reached */
	__u64 stop_ns;		/* source: start of the first arc out of running */
	__u64 stop_copy_end_ns;	/* source: end of STOP_COPY -> STOP */
	__u64 resuming_ns;	/* destination: start of STOP -> RESUMING */
	__u64 running_ns;	/* destination: end of the arc into RUNNING */
	struct vfs_mm_session *peer;
	struct vfs_mm_migration *mig;
	bool closed;
	bool exited;		/* failed: its process exited with it open */
	__u64 exit_ns;
	/* the device's own work in the blackout, 0 = not reached */
	__u64 save_start_ns;	/* source: start of the arc into STOP_COPY */
	__u64 resume_end_ns;	/* destination: end of RESUMING -> STOP */
};

/* one source device (or lone destination) and its figures */
struct vfs_mm_pair {
	struct vfs_mm_session *src;	/* NULL: destination only */
	struct vfs_mm_session *dst;	/* NULL: not (yet) resumed here */
	bool has_downtime;		/* both ends known */
	__u64 downtime_ns;		/* src stop -> dst running */
	__u64 stop_copy_ns;		/* src stop -> STOP_COPY->STOP end */
	/*
	 * When the destination starts loading (with both ends known): its
	 * STOP -> RESUMING start; when it was RESUMING before the source was
	 * saved (a VMM's incoming side waiting for the stream), its first
	 * data write since the source stopped, but not before the save's end
	 * (loading while the source still saved: no gap), or the save's end
	 * if its driver reports no data.
	 */
	__u64 load_ns;
	__u64 transfer_ns;		/* that end -> load_ns */
	__u64 resume_ns;		/* load_ns (or dst RESUMING start) -> dst running */
	/*
	 * The device's share of the stop window: the time it was being saved
	 * (src: arc into STOP_COPY start -> STOP_COPY -> STOP end) plus being
	 * loaded (dst: load_ns -> RESUMING -> STOP end). In a VM
	 * whose devices stop and start together, every device's downtime is
	 * about the VM's; the share says which device the window was spent on.
	 */
	__u64 share_ns;
};

struct vfs_mm_migration {
	__u32 pid;
	char comm[VFS_COMM_LEN + 1];
	/* the destinations' process (its first device's), filled by completion; 0: none */
	__u32 dst_pid;
	char dst_comm[VFS_COMM_LEN + 1];
	struct vfs_mm_pair *pairs;
	size_t npairs, pairs_cap;
	/* filled by completion */
	enum vfs_mm_status status;	/* DONE, FAILED, CANCELLED, INCOMPLETE */
	int err;			/* first failure's errno (0: its process exited) */
	const char *err_dev;		/* and its device */
	enum vfs_mm_role err_side;	/* the failing session's side */
	const struct vfs_mm_arc *err_arc;	/* the arc that failed, or its last one */
	bool err_exited;		/* the failing side's process exited */
	__u64 t0_ns;			/* earliest arc start of any member */
	__u64 t1_ns;			/* latest arc end */
	bool has_downtime;
	__u64 stop_ns, running_ns;	/* first device stopped, last running */
	__u64 downtime_ns;
	int dominant;			/* pair index with the largest share_ns, -1 */
	bool emitted;
	/*
	 * The VM's downtime split (when has_downtime): first stop -> last
	 * source's STOP_COPY -> STOP end; -> first destination's RESUMING
	 * start (0 when loading began before the last save ended); -> last
	 * running. They add up to downtime_ns.
	 */
	__u64 stop_copy_ns, transfer_ns, resume_ns;
};

struct vfs_migmodel;

struct vfs_migmodel *vfs_migmodel_new(void);
void vfs_migmodel_free(struct vfs_migmodel *m);
/* feed one event, in emission order. Returns 0 or -ENOMEM. */
int vfs_migmodel_feed(struct vfs_migmodel *m, const struct vfs_mm_event *ev);
/*
 * The next complete migration, in order of completion, or NULL. With
 * @flush, migrations still open are closed (status INCOMPLETE unless one
 * failed) and returned too. The model keeps ownership.
 */
const struct vfs_mm_migration *vfs_migmodel_next(struct vfs_migmodel *m, bool flush);
/*
 * Whether sources and destinations on this host are paired (default: on).
 * Off: each side is reported alone, to be joined with the other host's.
 */
void vfs_migmodel_set_local_pairing(struct vfs_migmodel *m, bool on);
/*
 * The stream is known to have lost events (a recording's "lost" records,
 * e.g. probe runs a preemptible kernel skipped): a data event may be
 * missing, so unequal bytes no longer keep a destination from its source;
 * time order and the VMs' names still decide, and still refuse a choice
 * between two processes.
 */
void vfs_migmodel_set_lossy(struct vfs_migmodel *m, bool lossy);
/* data events for no known session (counted, not lost silently) */
__u64 vfs_migmodel_unattributed(const struct vfs_migmodel *m);

const char *vfs_mm_status_name(enum vfs_mm_status s);
const char *vfs_mm_role_name(enum vfs_mm_role r);
/* whether the VM runs in @state (RUNNING, PRE_COPY) */
bool vfs_mm_running(__u32 state);

/* session @i in creation order (open ones included), NULL past the last */
const struct vfs_mm_session *vfs_migmodel_session(const struct vfs_migmodel *m, size_t i);
/* the session is open and its device in PRE_COPY or PRE_COPY_P2P */
bool vfs_mm_session_in_precopy(const struct vfs_mm_session *s);

#endif
