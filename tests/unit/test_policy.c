// SPDX-License-Identifier: GPL-2.0
/* vfio-policyd's policy file: parse, validate, compile, diff. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <criterion/criterion.h>
#include "../../user/policy/compile.h"
#include "../../user/policy/conf.h"

static char err[512];
static struct pd_conf conf;

static int parse(const char *yaml)
{
	return pd_conf_parse("p.yaml", yaml, strlen(yaml), &conf, err, sizeof(err));
}

/* parse must fail with exactly @want */
static void bad(const char *yaml, const char *want)
{
	cr_assert_eq(parse(yaml), -1, "accepted: %s", yaml);
	cr_expect_str_eq(err, want);
}

/* fake cgroups: "/a" is 100, "/b" 200, anything else absent */
static int fake_cgroup(const char *path, uint64_t *id, void *ctx)
{
	if (!strcmp(path, "/a"))
		*id = 100;
	else if (!strcmp(path, "/b"))
		*id = 200;
	else if (!strcmp(path, "/denied"))
		return -EACCES;
	else
		return -ENOENT;
	return 0;
}

static const struct pd_resolver res = { fake_cgroup, NULL };

static const char *full =
	"mode: monitor\n"
	"discovery_interval_ms: 250\n"
	"rules:\n"
	"  - name: a\n"
	"    match:\n"
	"      - name: \"vm-a*\"\n"
	"      - cgroup: /a\n"
	"      - pid: 77\n"
	"    mode: enforce\n"
	"    rate:\n"
	"      dma_map: {rate: 50, burst: 10}\n"
	"      all: {rate: 1000}\n"
	"    max_pinned_bytes: 64M\n"
	"  - name: b\n"
	"    match: [{cgroup: /a}, {cgroup: /missing}, {name: \"*\"}]\n"
	"    max_mdev: 2\n"
	"mdev:\n"
	"  - {parent: mdacc, type: mdacc-1q, max_instances: 3, knobs: {qos_job_rate: 20}}\n"
	"  - {parent: mdacc, type: mdacc-4q, knobs: {qos_dma_bw: 1k}}\n";

Test(policy, parses_every_key)
{
	cr_assert_eq(parse(full), 0, "%s", err);
	cr_expect_eq(conf.mode, VFS_POL_MODE_MONITOR);
	cr_expect_eq(conf.scan_ms, 250);
	cr_assert_eq(conf.nrules, 2);
	cr_expect_str_eq(conf.rules[0].name, "a");
	cr_expect_eq(conf.rules[0].line, 4);
	cr_expect_eq(conf.rules[0].nsel, 3);
	cr_expect_eq(conf.rules[0].sel[2].kind, PD_SEL_PID);
	cr_expect_eq(conf.rules[0].sel[2].pid, 77);
	cr_expect_eq(conf.rules[0].mode, VFS_POL_MODE_ENFORCE);
	cr_expect_eq(conf.rules[0].rate[VFS_POL_DMA_MAP].rate, 50);
	cr_expect_eq(conf.rules[0].rate[VFS_POL_DMA_MAP].burst, 10);
	cr_expect_eq(conf.rules[0].rate[VFS_POL_ALL].burst, 1, "burst defaults to 1");
	cr_expect_eq(conf.rules[0].max_pinned_bytes, 64ull << 20);
	cr_expect_eq(conf.rules[1].mode, VFS_POL_MODE_INHERIT);
	cr_expect_eq(conf.rules[1].mdev_max, 2);
	cr_assert_eq(conf.nmdevs, 2);
	cr_expect_eq(conf.mdevs[0].max_instances, 3);
	cr_expect_str_eq(conf.mdevs[0].knobs[0].name, "qos_job_rate");
	cr_expect_eq(conf.mdevs[1].knobs[0].value, 1024);
	pd_conf_free(&conf);
}

Test(policy, errors_name_file_and_line)
{
	bad("rules:\n  - name: x\n    match: [{name: a}]\n    rate: {dma_map: {rate: 0}}\n",
	    "p.yaml:4: rate: 0 is out of range [1, 1000000000]");
	bad("mode: enforce\nmdoe: monitor\n",
	    "p.yaml:2: unknown key 'mdoe' in the policy file (known: mode, discovery_interval_ms, rules, mdev)");
	bad("mode: strict\n", "p.yaml:1: mode must be enforce or monitor, not 'strict'");
	bad("rules:\n  - name: x\n    match: [{name: a}]\n    rate: {dma: {rate: 1}}\n",
	    "p.yaml:4: unknown ioctl class 'dma' (all, dma_map, dma_unmap, reset, migration)");
	bad("rules:\n  - name: x\n    match: [{name: a}]\n",
	    "p.yaml:2: rule 'x' sets no quota (rate, max_pinned_bytes or max_mdev) and no share weighs it");
	bad("rules:\n  - name: x\n    max_mdev: 1\n", "p.yaml:2: rules needs 'match'");
	bad("rules:\n  - name: x\n    match: [{name: a, pid: 3}]\n    max_mdev: 1\n",
	    "p.yaml:3: a selector has exactly one of name, cgroup, pid");
	bad("rules:\n  - name: x\n    match: [{cgroup: relative}]\n    max_mdev: 1\n",
	    "p.yaml:3: cgroup must be an absolute path within cgroup2 without . or .., not 'relative'");
	bad("rules:\n  - {name: x, match: [{pid: 1}], max_mdev: 1}\n"
	    "  - {name: x, match: [{pid: 2}], max_mdev: 1}\n",
	    "p.yaml:3: rule name 'x' already used at line 2");
	bad("rules:\n  - name: x\n    name: y\n", "p.yaml:3: 'name' given twice in rules");
	bad("mdev:\n  - {parent: p, type: t}\n",
	    "p.yaml:2: mdev entry p/t sets neither max_instances, knobs nor share");
	bad("mdev:\n  - {parent: p, type: t, knobs: {debug_fault: 1}}\n",
	    "p.yaml:2: unknown knob 'debug_fault' (qos_job_rate, qos_dma_bw)");
	bad("rules:\n  - name: x\n    match: [{name: a}]\n    max_pinned_bytes: 12Q\n",
	    "p.yaml:4: max_pinned_bytes: '12Q' is not a number (suffixes: k, M, G, T)");
	bad("rules: [\n", "p.yaml:2: did not find expected node content while parsing a flow node");
	bad("", "p.yaml:1: the policy file is empty");
	bad("- a\n", "p.yaml:1: the policy file must be a mapping, not a list");
}

Test(policy, gcra_parameters)
{
	struct vfs_pol_bucket_cfg b = pd_bucket_cfg(50, 10);

	cr_expect_eq(b.interval_ns, 20000000);
	cr_expect_eq(b.tolerance_ns, 9 * 20000000ull, "burst 10 = tolerance of 9 intervals");
	b = pd_bucket_cfg(0, 5);
	cr_expect_eq(b.interval_ns, 0, "no rate, no bucket");
	b = pd_bucket_cfg(1000000000, 1);
	cr_expect_eq(b.interval_ns, 1);
	cr_expect_eq(b.tolerance_ns, 0);
}

Test(policy, compiles_targets_in_file_order)
{
	struct pd_compiled c;
	const struct pd_crule *m;

	cr_assert_eq(parse(full), 0, "%s", err);
	cr_assert_eq(pd_compile(&conf, &res, 7, &c, err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(c.conf.generation, 7);
	cr_expect_eq(c.conf.mode, VFS_POL_MODE_MONITOR);
	cr_assert_eq(c.nrules, 2);
	cr_expect_eq(c.rules[0].id, pd_rule_id("a"));
	cr_expect_eq(c.rules[0].rule.bucket[VFS_POL_DMA_MAP].interval_ns, 20000000);
	cr_expect_eq(c.rules[0].rule.bucket[VFS_POL_RESET].interval_ns, 0);
	cr_expect_eq(c.rules[1].rule.flags, VFS_POL_F_MDEV_MAX);
	cr_expect_eq(c.rules[1].rule.mdev_max, 2);
	/* /a belongs to the first rule that names it; /missing waits */
	cr_assert_eq(c.ntargets, 2);
	cr_expect_eq(c.targets[0].key.kind, VFS_POL_T_CGROUP);
	cr_expect_eq(c.targets[0].key.id, 100);
	cr_expect_eq(c.targets[0].rule, pd_rule_id("a"));
	cr_expect_eq(c.targets[1].key.kind, VFS_POL_T_TGID);
	cr_expect_eq(c.targets[1].key.id, 77);
	cr_expect_eq(c.unresolved, 1);
	cr_expect(c.needs_ioctl_lsm);
	cr_expect(c.needs_mdev_lsm);
	cr_expect(c.has_name_selectors);
	cr_assert_eq(c.nmdevs, 1, "only entries with max_instances are caps");
	cr_expect_str_eq(c.mdevs[0].key.type, "mdacc-1q");
	cr_expect_eq(c.mdevs[0].cap.max, 3);
	m = pd_match_process(&c, 5, "vm-a1");
	cr_expect(m && m->id == pd_rule_id("a"));
	m = pd_match_process(&c, 77, "other");
	cr_expect(m && m->id == pd_rule_id("a"), "pid selector");
	m = pd_match_process(&c, 6, "other");
	cr_expect(m && m->id == pd_rule_id("b"), "the catch-all glob of the second rule");
	pd_compiled_free(&c);
	pd_conf_free(&conf);
}

Test(policy, compile_error_names_the_selector_line)
{
	struct pd_compiled c;

	cr_assert_eq(parse("rules:\n  - name: x\n    match:\n      - pid: 1\n      - cgroup: /denied\n"
			   "    max_mdev: 1\n"), 0, "%s", err);
	cr_expect_eq(pd_compile(&conf, &res, 1, &c, err, sizeof(err)), -1);
	cr_expect_str_eq(err, "p.yaml:5: cgroup '/denied': Permission denied");
	pd_conf_free(&conf);
}

Test(policy, no_quota_no_lsm)
{
	struct pd_compiled c;

	cr_assert_eq(parse("mode: enforce\nmdev:\n  - {parent: p, type: t, knobs: {qos_job_rate: 5}}\n"),
		     0, "%s", err);
	cr_assert_eq(pd_compile(&conf, &res, 1, &c, err, sizeof(err)), 0, "%s", err);
	cr_expect(!c.needs_ioctl_lsm);
	cr_expect(!c.needs_mdev_lsm);
	pd_compiled_free(&c);
	pd_conf_free(&conf);
}

Test(policy, diff_updates_changed_and_deletes_gone)
{
	uint32_t ck[] = { 1, 2, 3 }, cv[] = { 10, 20, 30 };
	uint32_t wk[] = { 3, 2, 4 }, wv[] = { 30, 21, 40 };
	struct pd_entries cur = { 3, 4, 4, ck, cv }, want = { 3, 4, 4, wk, wv };
	struct pd_op ops[6];
	size_t n = pd_diff(&cur, &want, ops);

	cr_assert_eq(n, 3);
	/* deletes come first: a full map must make room before new keys */
	cr_expect_eq(ops[0].op, PD_OP_DELETE);
	cr_expect_eq(ops[0].index, 0, "key 1 is gone");
	cr_expect_eq(ops[1].op, PD_OP_UPDATE);
	cr_expect_eq(ops[1].index, 1, "key 2 changed value");
	cr_expect_eq(ops[2].op, PD_OP_UPDATE);
	cr_expect_eq(ops[2].index, 2, "key 4 is new");
	/* applying the same set again does nothing */
	cur = want;
	cr_expect_eq(pd_diff(&cur, &want, ops), 0);
}

Test(policy, rule_ids_are_stable_and_nonzero)
{
	cr_expect_eq(pd_rule_id("tenant-a"), pd_rule_id("tenant-a"));
	cr_expect_neq(pd_rule_id("tenant-a"), pd_rule_id("tenant-b"));
	cr_expect_neq(pd_rule_id(""), 0);
}

/* ---------------------------------------------- who may write the policy */
static struct stat st_of(uid_t uid, mode_t mode)
{
	struct stat st = { .st_uid = uid, .st_mode = mode };

	return st;
}

Test(policy, trusted_owner_and_mode)
{
	struct stat root_file = st_of(0, S_IFREG | 0644), dir = st_of(0, S_IFDIR | 0755);
	struct stat f;

	cr_expect_eq(pd_conf_trusted("p.yaml", &root_file, &dir, 0, err, sizeof(err)), 0);
	/* the daemon's own euid owns it: fine too (a non-root --check of one's file) */
	f = st_of(1000, S_IFREG | 0600);
	cr_expect_eq(pd_conf_trusted("p.yaml", &f, NULL, 1000, err, sizeof(err)), 0);
	cr_expect_eq(pd_conf_trusted("p.yaml", &f, &dir, 0, err, sizeof(err)), -1);
	cr_expect_str_eq(err, "p.yaml:0: owned by uid 1000, not by root: refusing a policy "
			 "another user can rewrite");
	f = st_of(0, S_IFREG | 0664);
	cr_expect_eq(pd_conf_trusted("p.yaml", &f, &dir, 0, err, sizeof(err)), -1);
	cr_expect_str_eq(err, "p.yaml:0: writable by its group (mode 0664): refusing a policy "
			 "others can rewrite (chmod go-w)");
	f = st_of(0, S_IFREG | 0646);
	cr_expect_eq(pd_conf_trusted("p.yaml", &f, &dir, 0, err, sizeof(err)), -1);
	cr_expect_str_eq(err, "p.yaml:0: writable by everyone (mode 0646): refusing a policy "
			 "others can rewrite (chmod go-w)");
}

Test(policy, trusted_directory)
{
	struct stat f = st_of(0, S_IFREG | 0644), d;

	d = st_of(1000, S_IFDIR | 0755);
	cr_expect_eq(pd_conf_trusted("/x/p.yaml", &f, &d, 0, err, sizeof(err)), -1);
	cr_expect_str_eq(err, "/x/p.yaml:0: its directory is owned by uid 1000, not by root: "
			 "refusing a policy another user can replace");
	d = st_of(0, S_IFDIR | 0777);
	cr_expect_eq(pd_conf_trusted("/x/p.yaml", &f, &d, 0, err, sizeof(err)), -1);
	cr_expect_str_eq(err, "/x/p.yaml:0: its directory is writable by everyone (mode 0777): "
			 "refusing a policy others can replace");
	d = st_of(0, S_IFDIR | 0775);
	cr_expect_eq(pd_conf_trusted("/x/p.yaml", &f, &d, 0, err, sizeof(err)), -1);
	/* sticky (/tmp): no one else can replace a file of root's there */
	d = st_of(0, S_IFDIR | 01777);
	cr_expect_eq(pd_conf_trusted("/tmp/p.yaml", &f, &d, 0, err, sizeof(err)), 0);
}

/* the real files: a group-writable policy is refused before it is read */
Test(policy, load_refuses_a_writable_file)
{
	char dir[] = "/tmp/vfioscope-pol-XXXXXX", path[64];
	FILE *f;

	cr_assert_not_null(mkdtemp(dir));
	chmod(dir, 0755);
	snprintf(path, sizeof(path), "%s/p.yaml", dir);
	f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs("rules:\n  - name: a\n    match: [{pid: 1}]\n    max_mdev: 1\n", f);
	fclose(f);
	chmod(path, 0644);
	cr_expect_eq(pd_conf_load(path, &conf, err, sizeof(err)), 0, "%s", err);
	pd_conf_free(&conf);
	chmod(path, 0666);
	cr_expect_eq(pd_conf_load(path, &conf, err, sizeof(err)), -1);
	cr_expect(strstr(err, ":0: writable by everyone (mode 0666)"), "%s", err);
	chmod(path, 0644);
	chmod(dir, 0777);
	cr_expect_eq(pd_conf_load(path, &conf, err, sizeof(err)), -1);
	cr_expect(strstr(err, ":0: its directory is writable by everyone"), "%s", err);
	unlink(path);
	rmdir(dir);
}
