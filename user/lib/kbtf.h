/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The kernel's BTF, parsed once per process and indexed by name.
 *
 * libbpf (1.1, bookworm's) finds a type by name with a linear walk over
 * every type: over vmlinux's ~130,000 for each lookup, and for a function
 * in a module over vmlinux again and then every module before it (a split
 * BTF's walk starts at the base's first type). It does that for every
 * fentry, fexit and tp_btf program it loads. Measured in the 6.12 bench
 * guest (TCG), those walks were half of vfiostat's 31 s start-up.
 *
 * Here each BTF is walked once into a hash of its own FUNC and TYPEDEF
 * names, and vfs_kbtf_attach_handlers() makes libbpf take its fentry,
 * fexit, tp_btf and lsm attach targets from it (libbpf's documented
 * custom SEC() handlers): the same first match libbpf would pick, vmlinux
 * first, then the modules in the kernel's BTF id order.
 */
#ifndef VFS_KBTF_H
#define VFS_KBTF_H

#include <stdbool.h>

struct btf;

/*
 * @module's BTF ("vmlinux" for the kernel's own), split on vmlinux's;
 * NULL when the kernel has none. Parsed again when the module was
 * reloaded since (its /sys/kernel/btf file is a new one).
 */
struct btf *vfs_kbtf(const char *module);

/*
 * The first type id named @name of BTF kind @kind among @module's own
 * types (for a module: not its base's); -ENOENT when none, or another
 * -errno when @module has no BTF.
 */
int vfs_kbtf_find(const char *module, const char *name, int kind);

/*
 * Register the custom SEC() handlers for fentry/, fexit/, tp_btf/ and
 * lsm/ (once per process; before the first bpf_object is opened, since
 * libbpf picks a program's handler at open). 0 or -errno.
 */
int vfs_kbtf_attach_handlers(void);

/*
 * Attach fentry/fexit program @prog to @module's own function @func
 * ("vmlinux" for the kernel's), whatever its section names: a target
 * learned at run time. Before bpf_object__load(); forget it after the
 * object is closed (the table holds 64).
 */
struct bpf_program;
int vfs_kbtf_set_target(const struct bpf_program *prog, const char *module, const char *func);
void vfs_kbtf_forget_target(const struct bpf_program *prog);

#endif
