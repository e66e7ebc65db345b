/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Command-line values shared by the tools: strict parsing, clear errors. */
#ifndef VFIOSCOPE_CLI_H
#define VFIOSCOPE_CLI_H

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stddef.h>
#include <linux/types.h>
#include "collector.h"

/*
 * "CLASS=TIER" (e.g. "migration-arcs=tracepoint") into @force. Returns 0,
 * or -1 with a sentence in @err naming what was wrong.
 */
int vfs_parse_tier_force(const char *arg, enum vfs_tier force[VFS_CLASS_MAX],
			 char *err, size_t errlen);

/*
 * An unsigned decimal within [min, max] (suffixes k, M, G for powers of
 * 1024 when @sizes). Returns 0 or -1 with a sentence in @err.
 */
int vfs_parse_u64(const char *what, const char *arg, __u64 min, __u64 max, int sizes,
		  __u64 *out, char *err, size_t errlen);

/*
 * The collector options every tool takes. Put VFS_CLI_COLLECTOR_LONGOPTS
 * in the getopt_long table, pass each option to vfs_cli_collector_opt()
 * first: it returns 1 when it took the option, 0 when the option is the
 * tool's own, -1 with a sentence in @err when the value is bad.
 */
enum {
	VFS_OPT_TIER = 0x1000, VFS_OPT_RINGBUF, VFS_OPT_MAP_ENTRIES,
	VFS_OPT_PIN, VFS_OPT_SHARED, VFS_OPT_PRIVATE, VFS_OPT_GC_GRACE,
};

#define VFS_CLI_COLLECTOR_LONGOPTS \
	{ "tier", required_argument, NULL, VFS_OPT_TIER }, \
	{ "ringbuf", required_argument, NULL, VFS_OPT_RINGBUF }, \
	{ "map-entries", required_argument, NULL, VFS_OPT_MAP_ENTRIES }, \
	{ "pin", no_argument, NULL, VFS_OPT_PIN }, \
	{ "shared", no_argument, NULL, VFS_OPT_SHARED }, \
	{ "private", no_argument, NULL, VFS_OPT_PRIVATE }, \
	{ "gc-grace", required_argument, NULL, VFS_OPT_GC_GRACE }

/*
 * vfs_collector_rescan() for a line-oriented tool: its sentence on stderr
 * as "@tool: ...". Returns how many maps and programs were added.
 */
int vfs_cli_rescan(struct vfs_collector *c, const char *tool);

#define VFS_CLI_COLLECTOR_USAGE \
	"collector options:\n" \
	"  -v             libbpf's debug output\n" \
	"  --tier C=T     force tier T (tracepoint, fentry, kprobe) for class C\n" \
	"  --ringbuf B    event ring buffer size (power of two; k, M suffixes)\n" \
	"  --map-entries N  size of the per-VM/device hash maps\n" \
	"  --shared       use the collectors pinned under " VFS_PIN_ROOT " when there\n" \
	"                 are some (one set of probes for every reader)\n" \
	"  --pin          the same, and load and pin them when there are none: they\n" \
	"                 stay attached after exit (remove with vfiostat --unpin)\n" \
	"  --private      load a set of this process's own\n" \
	"  --gc-grace S   keep an exited VM or a removed device S seconds (marked)\n" \
	"                 before its map entries are deleted (default 30)\n"

int vfs_cli_collector_opt(int opt, const char *arg, struct vfs_collector_opts *o,
			  char *err, size_t errlen);

/*
 * The sentence for getopt's complaint @opt ('?' unknown option, ':' missing
 * value; run getopt with opterr = 0 and an optstring starting with ':'),
 * naming the option as typed: "unknown option --bogus (see --help)".
 */
void vfs_cli_bad_option(int opt, char *const argv[], char *err, size_t errlen);

/*
 * CLOCK_REALTIME - CLOCK_MONOTONIC now, in ns: added to an event's
 * monotonic time (bpf_ktime_get_ns) it gives wall-clock time, the common
 * ground of two hosts' outputs (as good as their clock synchronisation).
 */
__s64 vfs_realtime_offset_ns(void);

/*
 * The build's version (scripts/version.sh: "0.1.0-12-gabcdef0") and the
 * BPF ABI version its programs speak (bpf/abi.h), for --version, the
 * daemon's build-info metric and vfiotop's recordings.
 */
extern const char vfs_version[];
extern const int vfs_abi_version;

/* "TOOL VERSION (BPF ABI N)" and a newline to @f */
void vfs_print_version(FILE *f, const char *tool);

/*
 * Does argv ask for --version, as getopt_long(@shortopts, @longopts) would
 * read it? Scanned before the tool parses its options, so that --version
 * wins over whatever else the line holds, but not taken where it is an
 * option's value ("-f --version") or after "--". @longopts may be NULL.
 */
bool vfs_cli_wants_version(int argc, char *const argv[], const char *shortopts,
			   const struct option *longopts);

/*
 * The hook each tool calls first: print the version and return 1 when argv
 * asks for it, else 0.
 */
int vfs_cli_version(int argc, char *const argv[], const char *tool, const char *shortopts,
		    const struct option *longopts);

#define VFS_CLI_VERSION_USAGE \
	"  -h, --help     this text\n" \
	"  --version      the version and the BPF ABI version, then exit\n"

#endif
