# SPDX-License-Identifier: GPL-2.0
#
# vfioscope build. `make help` lists the targets.
#
# Layout of the output (all below $(O)):
#   bin/            userspace tools
#   obj/            userspace objects and dependency files
#   lib/            libvfioscope.a (user/lib)
#   bpf/            vmlinux.h, BPF objects and skeletons
#   k/<series>/     per bench kernel: helper modules, our modules, module tree
#   tests/          unit test binary

O	?= build
VFIOSCOPE_CACHE ?= /var/cache/vfioscope
export VFIOSCOPE_CACHE

KERNELS	?= 6.12 6.1
KERNEL	?= 6.12
FLAVOURS ?= stock
FLAVOUR	?= stock
TESTS	?=
SCRIPT	?=

CC	?= gcc
CLANG	?= clang
BPFTOOL	?= bpftool
LLVM_STRIP ?= llvm-strip
ARCH	:= $(shell uname -m | sed 's/x86_64/x86/; s/aarch64/arm64/')

V	?= 0
ifeq ($(V),1)
Q	=
msg	=
else
Q	= @
msg	= @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

WARN	:= -Wall -Wextra -Werror -Wno-unused-parameter -Wmissing-prototypes \
	   -Wstrict-prototypes -Wshadow -Wformat=2
CFLAGS	?= -O2 -g
USER_CFLAGS := $(CPPFLAGS) $(CFLAGS) $(WARN) -std=gnu11 -D_GNU_SOURCE -MMD -MP \
	   -Ibpf -Iuser/lib -Ikernel/include -I$(O)/bpf -I$(O)/gen
LIBBPF_LIBS := $(shell pkg-config --libs libbpf 2>/dev/null || echo -lbpf -lelf -lz)
CRITERION_LIBS := $(shell pkg-config --libs criterion 2>/dev/null || echo -lcriterion)
LDLIBS	:= $(LIBBPF_LIBS) -ljson-c -lncursesw
MHD_LIBS := $(shell pkg-config --libs libmicrohttpd 2>/dev/null || echo -lmicrohttpd)
CC_IS_CLANG := $(shell $(CC) --version 2>/dev/null | grep -q clang && echo y)
# ASan+UBSan build of the library and unit tests (`make check` runs both):
# every UB report is fatal, so a test that trips one fails.
SAN_FLAGS := -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all \
	   -fno-omit-frame-pointer

# Bench kernels whose trees `make deps` prepared: modules get built for each
# (sid: Debian unstable's kernel). A series' kbuild.args holds the make
# arguments its out-of-tree builds need (a kernel built by a gcc newer
# than this machine's: scripts/deps.sh).
KSERIES	:= $(foreach s,6.12 6.1 sid,$(if $(wildcard $(VFIOSCOPE_CACHE)/k/$(s)/.prepared),$(s)))
kbuild_args = $(shell cat $(VFIOSCOPE_CACHE)/k/$(1)/kbuild.args 2>/dev/null)
BTF_VMLINUX := $(VFIOSCOPE_CACHE)/k/6.12/build/vmlinux

.DEFAULT_GOAL := all
.SECONDEXPANSION:
.DELETE_ON_ERROR:
.SECONDARY:
.PHONY: FORCE all help deps user bpf kernel check clang-build fuzz fuzz-build bench vmtest \
	test vmshell vmrun demo clean install uninstall deb

help:
	@echo 'make            build userspace, BPF objects + skeletons, kernel modules'
	@echo 'make deps       set up this Debian machine (root): packages, bench kernels'
	@echo 'make check      unit tests, plain and under ASan+UBSan (no root, no VM)'
	@echo 'make fuzz       every libFuzzer target for FUZZ_SECONDS (default 60) each'
	@echo 'make bench      measured budgets (6.12 guest + host), written to docs/bench.md'
	@echo 'make vmtest     integration scenarios in bench guests [KERNELS="6.12 6.1 sid"] [TESTS=pattern]'
	@echo '                [FLAVOURS="stock patched"]: patched = kernel/patches applied (6.12)'
	@echo 'make clang-build  the userspace built with clang, as warning-free as with gcc'
	@echo 'make test       deps + build + clang-build + check + 10 s fuzz + vmtest (what CI runs)'
	@echo 'make vmshell    interactive root shell in the bench guest [KERNEL=6.12]'
	@echo 'make vmrun      run SCRIPT=path in the bench guest [KERNEL=6.12]'
	@echo 'make demo       the live demo on the bench guest'
	@echo 'make install    the tools, man pages, unit, example policy, dashboards, docs'
	@echo '                [PREFIX=/usr/local] [DESTDIR=] [bindir= sbindir= mandir= sysconfdir= ...]'
	@echo 'make uninstall  remove them again (the same variables)'
	@echo 'make deb        the Debian package, in $(O)/deb'

all: user bpf kernel

deps:
	$(Q)scripts/deps.sh

# ---------------------------------------------------------------- userspace
LIB_SRCS := $(wildcard user/lib/*.c)
LIB_OBJS := $(patsubst user/%.c,$(O)/obj/%.o,$(LIB_SRCS))
LIB	 := $(O)/lib/libvfioscope.a

# tool name -> its main source; tools that load BPF depend on skeletons
TOOLS	 := vfio-exercise vfio-ioctlcount vfiostat vfiosnoop \
	    $(if $(wildcard user/mig/*.c),vfiomig) $(if $(wildcard user/top/*.c),vfiotop) \
	    $(if $(wildcard user/policy/main.c),vfio-policyd)
BINS	 := $(addprefix $(O)/bin/,$(TOOLS))

user: $(BINS)

$(O)/obj/%.o: user/%.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(USER_CFLAGS) -c $< -o $@

# the bench's own programs (not installed) live with the bench
$(O)/obj/bench/%.o: tests/bench/%.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(USER_CFLAGS) -c $< -o $@

# The version the tools print (scripts/version.sh): the header changes only
# when the version does, so a commit recompiles user/lib/version.c alone.
VFS_VERSION := $(shell scripts/version.sh)
$(O)/gen/vfs_version.h: FORCE
	$(Q)mkdir -p $(@D)
	$(Q)echo '#define VFS_VERSION "$(VFS_VERSION)"' | cmp -s - $@ || \
		echo '#define VFS_VERSION "$(VFS_VERSION)"' > $@
$(O)/obj/lib/version.o $(O)/asan/obj/lib/version.o $(O)/fuzz/obj/lib/version.o: $(O)/gen/vfs_version.h

$(LIB): $(LIB_OBJS)
	$(call msg,AR,$@)
	$(Q)mkdir -p $(@D)
	$(Q)rm -f $@ && ar rcs $@ $^

EXERCISE_OBJS := $(patsubst user/%.c,$(O)/obj/%.o,$(wildcard user/exercise/*.c))
# The exerciser builds VFIO requests as a uAPI header whose flexible data[]
# is followed by its payload struct, as the kernel's own VFIO samples do:
# a GNU extension both compilers accept, which clang names.
$(EXERCISE_OBJS): USER_CFLAGS += $(if $(CC_IS_CLANG),-Wno-gnu-variable-sized-type-not-at-end)
# tool -> its objects; every tool links the library, libbpf and json-c
$(O)/bin/vfio-exercise: $(EXERCISE_OBJS)
$(O)/bin/vfio-ioctlcount: $(O)/obj/bench/ioctlcount.o
$(O)/bin/vfiostat: $(patsubst user/%.c,$(O)/obj/%.o,$(wildcard user/stat/*.c))
$(O)/bin/vfiosnoop: $(patsubst user/%.c,$(O)/obj/%.o,$(wildcard user/snoop/*.c))
$(O)/bin/vfiomig: $(patsubst user/%.c,$(O)/obj/%.o,$(wildcard user/mig/*.c))
$(O)/bin/vfiotop: $(patsubst user/%.c,$(O)/obj/%.o,$(wildcard user/top/*.c))
# the policy file's parser and compiler, the knob table and the shares'
# split: pure, shared by the daemon, the unit tests and the fuzz targets
POLICY_CORE := $(O)/obj/policy/conf.o $(O)/obj/policy/compile.o $(O)/obj/policy/share.o
$(O)/bin/vfio-policyd: $(patsubst user/%.c,$(O)/obj/%.o,$(wildcard user/policy/*.c))
$(O)/bin/vfio-policyd: LDLIBS += -lyaml -lmicrohttpd -lsystemd
$(BINS): $(LIB)
	$(call msg,LINK,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $(filter %.o,$^) $(LIB) $(LDLIBS) -o $@

# objects that include a skeleton must wait for it (the library glue
# includes every collector's): see after the BPF section, where SKELS is set

# ---------------------------------------------------------------------- BPF
BPF_SRCS := $(wildcard bpf/*.bpf.c)
BPF_OBJS := $(patsubst bpf/%.bpf.c,$(O)/bpf/%.bpf.o,$(BPF_SRCS))
SKELS	 := $(BPF_OBJS:.bpf.o=.skel.h)
CLANG_BPF_SYS_INCLUDES := $(shell $(CLANG) -v -E - </dev/null 2>&1 | \
	sed -n '/<...> search starts here:/,/End of search list./{ s| \(/.*\)|-idirafter \1|p }')
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Wall -Werror \
	-MMD -MP -Ibpf -I$(O)/bpf $(CLANG_BPF_SYS_INCLUDES)

bpf: $(SKELS)

# policy.bpf.c's token buckets use compare-and-swap (BPF atomics, ISA v3)
$(O)/bpf/policy.bpf.o: BPF_CFLAGS += -mcpu=v3

$(O)/obj/bench/ioctlcount.o: $(O)/bpf/ioctlcount.skel.h
$(LIB_OBJS): $(SKELS)

# Types come from the 6.12 bench kernel's BTF: CO-RE relocates them on
# every other kernel. Without the bench kernels, fall back to the host's.
$(O)/bpf/vmlinux.h:
	$(call msg,GEN,$@)
	$(Q)mkdir -p $(@D)
	$(Q)src=$(BTF_VMLINUX); [ -e $$src ] || src=/sys/kernel/btf/vmlinux; \
		$(BPFTOOL) btf dump file $$src format c > $@

$(O)/bpf/%.bpf.o: bpf/%.bpf.c $(O)/bpf/vmlinux.h
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@
	$(Q)$(LLVM_STRIP) -g $@

$(O)/bpf/%.skel.h: $(O)/bpf/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< > $@

# ------------------------------------------------------------ kernel modules
# Per bench kernel: the helper modules built from Debian's linux-source
# (kernel/bench), our own modules (every kernel/<name>/ with a Kbuild file,
# built in a copy under $(O)/k/<series>/mods/<name> with tracepoints/ on the
# include path), then the module tree the guest mounts on /lib/modules.
KMODS	    := $(patsubst kernel/%/Kbuild,%,$(wildcard kernel/*/Kbuild))
KMOD_STAMPS := $(foreach s,$(KSERIES),$(O)/k/$(s)/modtree/.stamp)
TP_HEADERS  := $(shell find tracepoints -name '*.h' 2>/dev/null)
KMAKE_FLAGS := VFIOSCOPE_TP=$(abspath tracepoints) VFIOSCOPE_KINC=$(abspath kernel/include) W=1

kernel: $(KMOD_STAMPS)

# rewritten only when the set of modules changes, so a removed module
# leaves the tree too
$(O)/k/kmods.list: FORCE
	$(Q)mkdir -p $(@D); echo '$(KMODS)' | cmp -s - $@ || echo '$(KMODS)' > $@
FORCE:

$(O)/k/%/bench/.stamp: kernel/bench/build.sh $(VFIOSCOPE_CACHE)/k/%/.prepared
	$(call msg,KBUILD,bench modules for $*)
	$(Q)kernel/bench/build.sh $(VFIOSCOPE_CACHE)/k/$* $(@D) >/dev/null
	$(Q)touch $@

define kmod_rule
$(O)/k/$(1)/mods/$(2)/.stamp: $(wildcard kernel/$(2)/*) $(TP_HEADERS) $(VFIOSCOPE_CACHE)/k/$(1)/.prepared
	$$(call msg,KBUILD,$(2) for $(1))
	$(Q)mkdir -p $$(@D) && cp -a kernel/$(2)/. $$(@D)/
	$(Q)$(MAKE) -s -C $(VFIOSCOPE_CACHE)/k/$(1)/build M=$(abspath $(O)/k/$(1)/mods/$(2)) $(KMAKE_FLAGS) \
		$(call kbuild_args,$(1)) modules
	$(Q)touch $$@
endef
$(foreach s,$(KSERIES),$(foreach m,$(KMODS),$(eval $(call kmod_rule,$(s),$(m)))))

# drivers link against the tracepoints vfioscope_trace exports: build it first
$(foreach s,$(KSERIES),$(foreach m,$(filter-out vfioscope_trace,$(KMODS)),\
	$(eval $(O)/k/$(s)/mods/$(m)/.stamp: $(O)/k/$(s)/mods/vfioscope_trace/.stamp)))

# The guest's module tree; flock: helpers may build while a tree is in use.
$(O)/k/%/modtree/.stamp: $(O)/k/%/bench/.stamp kernel/bench/modtree.sh $(O)/k/kmods.list \
		$$(foreach m,$$(KMODS),$(O)/k/$$*/mods/$$(m)/.stamp)
	$(call msg,DEPMOD,module tree for $*)
	$(Q)flock /run/lock/vfioscope-modtree.lock kernel/bench/modtree.sh \
		$(VFIOSCOPE_CACHE)/k/$* $(@D) $(O)/k/$*/bench/*.ko \
		$(foreach m,$(KMODS),$(O)/k/$*/mods/$(m)/*.ko)
	$(Q)touch $@

# The patched flavour (6.12): the subsystem modules rebuilt from Debian's
# linux-source with kernel/patches applied (kernel/bench/build-patched.sh),
# our drivers rebuilt against the tracepoints those export (no
# vfioscope_trace: the same tracepoint must not be defined twice), and a
# module tree where the rebuilt modules shadow the stock ones (updates/).
PATCHES	    := $(sort $(wildcard kernel/patches/0*.patch))
PSERIES	    := $(if $(PATCHES),$(filter 6.12,$(KSERIES)))
PKMODS	    := $(filter-out vfioscope_trace,$(KMODS))
kernel: $(foreach s,$(PSERIES),$(O)/k/$(s)/modtree-patched/.stamp)

$(O)/k/%/patched/.stamp: kernel/bench/build-patched.sh $(PATCHES) $(VFIOSCOPE_CACHE)/k/%/.prepared
	$(call msg,KBUILD,patched subsystem modules for $*)
	$(Q)kernel/bench/build-patched.sh $(VFIOSCOPE_CACHE)/k/$* kernel/patches $(@D) >/dev/null
	$(Q)touch $@

define pmod_rule
$(O)/k/$(1)/pmods/$(2)/.stamp: $(wildcard kernel/$(2)/*) $(TP_HEADERS) $(O)/k/$(1)/patched/.stamp
	$$(call msg,KBUILD,$(2) for $(1) patched)
	$(Q)mkdir -p $$(@D) && cp -a kernel/$(2)/. $$(@D)/
	$(Q)$(MAKE) -s -C $(VFIOSCOPE_CACHE)/k/$(1)/build M=$(abspath $(O)/k/$(1)/pmods/$(2)) \
		$(KMAKE_FLAGS) VFIOSCOPE_CORE_TRACE=y \
		VFIOSCOPE_TRACE_SYMVERS=$(abspath $(O)/k/$(1)/patched/Module.symvers) modules
	$(Q)touch $$@
endef
$(foreach s,$(PSERIES),$(foreach m,$(PKMODS),$(eval $(call pmod_rule,$(s),$(m)))))

$(O)/k/%/modtree-patched/.stamp: $(O)/k/%/patched/.stamp kernel/bench/modtree.sh \
		$(O)/k/kmods.list $$(foreach m,$$(PKMODS),$(O)/k/$$*/pmods/$$(m)/.stamp)
	$(call msg,DEPMOD,patched module tree for $*)
	$(Q)flock /run/lock/vfioscope-modtree.lock kernel/bench/modtree.sh \
		-u $(O)/k/$*/patched $(VFIOSCOPE_CACHE)/k/$* $(@D) \
		$(foreach m,$(PKMODS),$(O)/k/$*/pmods/$(m)/*.ko)
	$(Q)touch $@

# ------------------------------------------------------------ installation
# `make install` puts on this host what `make user` built (the tools embed
# their BPF skeletons), never the bench kernels' modules: build as a user,
# install as root. GNU directory variables; DESTDIR stages (packages).
# sysconfdir is /etc for PREFIX=/usr, $(prefix)/etc otherwise.
PREFIX	?= /usr/local
prefix	?= $(PREFIX)
exec_prefix ?= $(prefix)
bindir	?= $(exec_prefix)/bin
sbindir	?= $(exec_prefix)/sbin
datarootdir ?= $(prefix)/share
datadir	?= $(datarootdir)
mandir	?= $(datarootdir)/man
docdir	?= $(datarootdir)/doc/vfioscope
sysconfdir ?= $(if $(filter /usr,$(prefix)),/etc,$(prefix)/etc)
systemdunitdir ?= $(prefix)/lib/systemd/system
bashcompdir ?= $(datadir)/bash-completion/completions
INSTALL	?= install

# vfio-ioctlcount is the bench's minimal BPF proof: not installed
INST_BIN  := $(filter vfiotop vfiosnoop vfiomig vfiostat vfio-exercise,$(TOOLS))
INST_SBIN := $(filter vfio-policyd,$(TOOLS))
MAN_PAGES := $(wildcard man/*.[158])
DOCS	  := README.md $(filter-out docs/README.md,$(wildcard docs/*.md))
DOC_IMGS  := $(wildcard docs/img/*.png docs/img/*.svg)
DASHBOARD_FILES := $(wildcard dashboards/*.json dashboards/*.yml) dashboards/README.md

# the unit's paths are where this install puts things
UNITS	  := vfio-policyd.service vfioscope-exporter.service
$(O)/%.service: user/policy/%.service.in FORCE
	$(Q)sed -e 's|@sbindir@|$(sbindir)|g' -e 's|@sysconfdir@|$(sysconfdir)|g' \
		-e 's|@docdir@|$(docdir)|g' $< > $@.tmp
	$(Q)cmp -s $@.tmp $@ && rm -f $@.tmp || mv $@.tmp $@

install: user $(addprefix $(O)/,$(UNITS))
	$(INSTALL) -d $(DESTDIR)$(bindir) $(DESTDIR)$(sbindir) $(DESTDIR)$(bashcompdir) \
		$(DESTDIR)$(sysconfdir)/vfioscope $(DESTDIR)$(systemdunitdir) \
		$(DESTDIR)$(datadir)/vfioscope/dashboards $(DESTDIR)$(docdir)/img \
		$(addprefix $(DESTDIR)$(mandir)/man,1 5 8)
	$(INSTALL) -m 0755 $(addprefix $(O)/bin/,$(INST_BIN)) $(DESTDIR)$(bindir)
	$(INSTALL) -m 0755 $(addprefix $(O)/bin/,$(INST_SBIN)) $(DESTDIR)$(sbindir)
	$(foreach t,$(INST_BIN) $(INST_SBIN),$(INSTALL) -m 0644 completion/vfioscope \
		$(DESTDIR)$(bashcompdir)/$(t) &&) true
	$(foreach p,$(MAN_PAGES),$(INSTALL) -m 0644 $(p) \
		$(DESTDIR)$(mandir)/man$(subst .,,$(suffix $(p)))/ &&) true
	$(INSTALL) -m 0644 user/policy/policy.example.yaml \
		$(DESTDIR)$(sysconfdir)/vfioscope/policy.yaml.example
	$(INSTALL) -m 0644 $(addprefix $(O)/,$(UNITS)) $(DESTDIR)$(systemdunitdir)
	$(INSTALL) -m 0644 $(DASHBOARD_FILES) $(DESTDIR)$(datadir)/vfioscope/dashboards
	$(INSTALL) -m 0644 $(DOCS) $(DESTDIR)$(docdir)
	$(INSTALL) -m 0644 $(DOC_IMGS) $(DESTDIR)$(docdir)/img

# removes what install put there; the operator's own policy.yaml stays
uninstall:
	rm -f $(addprefix $(DESTDIR)$(bindir)/,$(INST_BIN)) \
		$(addprefix $(DESTDIR)$(sbindir)/,$(INST_SBIN)) \
		$(addprefix $(DESTDIR)$(bashcompdir)/,$(INST_BIN) $(INST_SBIN)) \
		$(foreach p,$(MAN_PAGES),$(DESTDIR)$(mandir)/man$(subst .,,$(suffix $(p)))/$(notdir $(p))) \
		$(DESTDIR)$(sysconfdir)/vfioscope/policy.yaml.example \
		$(addprefix $(DESTDIR)$(systemdunitdir)/,$(UNITS)) \
		$(addprefix $(DESTDIR)$(datadir)/vfioscope/dashboards/,$(notdir $(DASHBOARD_FILES))) \
		$(addprefix $(DESTDIR)$(docdir)/,$(notdir $(DOCS))) \
		$(addprefix $(DESTDIR)$(docdir)/img/,$(notdir $(DOC_IMGS)))
	rmdir $(DESTDIR)$(datadir)/vfioscope/dashboards $(DESTDIR)$(datadir)/vfioscope \
		$(DESTDIR)$(docdir)/img $(DESTDIR)$(docdir) $(DESTDIR)$(sysconfdir)/vfioscope 2>/dev/null || true

# The Debian package (debian/), built by dpkg-buildpackage in a copy of the
# tree's files under $(O)/deb/src whose VERSION file says what it was copied
# from (so the packaged tools print this tree's version), then checked with
# lintian (errors fail). $(O)/deb/vfioscope.deb is the package under a
# name that does not change: tests/vm/scenarios/94-package.sh installs it.
DEB_O	  := $(O)/deb
DEB_FILES := $(if $(wildcard .git),$(wildcard $(shell git ls-files -co --exclude-standard 2>/dev/null)))
DEB_JOBS  ?= 2

deb: $(DEB_O)/vfioscope.deb

$(DEB_O)/vfioscope.deb: $(DEB_FILES) $(O)/gen/vfs_version.h
	$(call msg,DEB,$@)
	$(Q)[ -n "$(DEB_FILES)" ] || { echo 'make deb: needs a git checkout (git ls-files)' >&2; exit 1; }
	$(Q)for t in dpkg-buildpackage dh lintian; do command -v $$t > /dev/null || \
		{ echo "make deb: no $$t here (make deps installs it)" >&2; exit 1; }; done
	$(Q)rm -rf $(DEB_O) && mkdir -p $(DEB_O)/src
	$(Q)git ls-files -z -co --exclude-standard | tar --null -T - --ignore-failed-read -cf - 2>/dev/null | \
		tar -xf - -C $(DEB_O)/src
	$(Q)echo '$(VFS_VERSION)' > $(DEB_O)/src/VERSION
	$(Q)cd $(DEB_O)/src && dpkg-buildpackage -b -us -uc -j$(DEB_JOBS) > ../build.log 2>&1 || \
		{ tail -n 30 ../build.log; echo 'make deb: dpkg-buildpackage failed ($(DEB_O)/build.log)' >&2; exit 1; }
	$(Q)lintian --fail-on error --tag-display-limit 0 $(DEB_O)/vfioscope_*.deb \
		> $(DEB_O)/lintian.txt 2>&1 || \
		{ cat $(DEB_O)/lintian.txt; echo 'make deb: lintian found errors' >&2; exit 1; }
	$(Q)grep -v '^running with root privileges' $(DEB_O)/lintian.txt || true
	$(Q)cp $(DEB_O)/vfioscope_*.deb $@

# -------------------------------------------------------------------- tests
# the daemon's /metrics endpoint and the policy core, linked into the unit
# tests too
METRICS_OBJS := $(O)/obj/policy/metrics.o
UNIT_LIBS := $(CRITERION_LIBS) $(LDLIBS) $(MHD_LIBS) -lyaml

UNIT_SRCS := $(wildcard tests/unit/*.c)
UNIT_OBJS := $(patsubst tests/unit/%.c,$(O)/obj/tests/%.o,$(UNIT_SRCS))
UNIT_BIN  := $(O)/tests/unit-tests

$(O)/obj/tests/%.o: tests/unit/%.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(USER_CFLAGS) -Iuser/policy -c $< -o $@

$(UNIT_BIN): $(UNIT_OBJS) $(POLICY_CORE) $(METRICS_OBJS) $(LIB)
	$(call msg,LINK,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $^ $(UNIT_LIBS) -o $@

# The same tests and library once more under ASan+UBSan, in their own
# object tree (the BPF skeletons are shared).
ASAN_O	  := $(O)/asan
ASAN_LIB  := $(ASAN_O)/lib/libvfioscope.a
ASAN_UNIT := $(ASAN_O)/tests/unit-tests

$(ASAN_O)/obj/%.o: user/%.c
	$(call msg,CC-SAN,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(USER_CFLAGS) $(SAN_FLAGS) -c $< -o $@

$(ASAN_O)/obj/tests/%.o: tests/unit/%.c
	$(call msg,CC-SAN,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(USER_CFLAGS) $(SAN_FLAGS) -Iuser/policy -c $< -o $@

# the library includes the skeletons: an explicit list (a pattern rule
# without a recipe would add no prerequisite)
$(patsubst user/%.c,$(ASAN_O)/obj/%.o,$(LIB_SRCS)): $(SKELS)

$(ASAN_LIB): $(patsubst user/%.c,$(ASAN_O)/obj/%.o,$(LIB_SRCS))
	$(call msg,AR,$@)
	$(Q)mkdir -p $(@D)
	$(Q)rm -f $@ && ar rcs $@ $^

$(ASAN_UNIT): $(patsubst tests/unit/%.c,$(ASAN_O)/obj/tests/%.o,$(UNIT_SRCS)) \
		$(patsubst $(O)/obj/%,$(ASAN_O)/obj/%,$(POLICY_CORE) $(METRICS_OBJS)) $(ASAN_LIB)
	$(call msg,LINK,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(SAN_FLAGS) $^ $(UNIT_LIBS) -o $@

# The CO-RE audit (tests/core-audit.sh): its two self-test objects, built
# like ours against the same vmlinux.h
AUDIT_OBJS := $(patsubst tests/core-audit/%.bpf.c,$(O)/bpf/core-audit/%.bpf.o,\
	$(wildcard tests/core-audit/*.bpf.c))
$(O)/bpf/core-audit/%.bpf.o: tests/core-audit/%.bpf.c $(O)/bpf/vmlinux.h
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@
	$(Q)$(LLVM_STRIP) -g $@

# Criterion prints its synthesis; each run's result file feeds `make test`'s
# total. Both runs happen even when the first fails.
check: $(UNIT_BIN) $(ASAN_UNIT) $(BINS) $(BPF_OBJS) $(AUDIT_OBJS)
	$(Q)rc=0; tests/run-unit.sh $(UNIT_BIN) $(O)/results/check || rc=1; \
	echo '  unit tests again under ASan+UBSan:'; \
	tests/run-unit.sh --sanitized $(ASAN_UNIT) $(O)/results/check-asan || rc=1; \
	echo '  absurd command-line values for every tool:'; \
	tests/cli-absurd.sh $(O)/bin $(O)/results/cli || rc=1; \
	echo '  --help against the man page, every tool:'; \
	tests/man-help.sh $(O)/bin $(O)/results/man-help || rc=1; \
	echo '  make install and uninstall into a scratch DESTDIR:'; \
	tests/install.sh $(O) $(O)/results/install || rc=1; \
	echo '  the bench rules (RETRY, the closing line, make bench verdicts) on made-up runs:'; \
	tests/harness-rules.sh $(O)/results/harness-rules || rc=1; \
	echo '  dashboards and alert rules against a real scrape:'; \
	if scripts/check-dashboards.sh dashboards/testdata/scrape.txt; then \
		echo '1 0 0' > $(O)/results/dashboards; \
	else echo '0 1 0' > $(O)/results/dashboards; rc=1; fi; \
	echo '  CO-RE audit: every field and hook of the BPF objects against each kernel BTF here:'; \
	tests/core-audit.sh $(O)/bpf/core-audit $(O)/results/core-audit $(BPF_OBJS) || rc=1; \
	$(if $(PATCHES),echo '  the tracepoint patch series (checkpatch; git am; headers):'; \
	if kernel/patches/check.sh; then echo '1 0 0' > $(O)/results/patches; \
	else echo '0 1 0' > $(O)/results/patches; rc=1; fi;) \
	exit $$rc

# ------------------------------------------------------------------ fuzzing
# Every tests/fuzz/fuzz_<name>.c is a libFuzzer target, linked with the
# library built for it by clang with the fuzzer's coverage and ASan+UBSan.
# `make fuzz` runs each for FUZZ_SECONDS from its seed corpus
# tests/fuzz/corpus/<name>/; the inputs it adds stay in $(O)/fuzz/corpus.
FUZZ_SECONDS ?= 60
FUZZ_SRCS  := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS  := $(patsubst tests/fuzz/%.c,$(O)/fuzz/bin/%,$(FUZZ_SRCS))
FUZZ_FLAGS := -O1 -g -fsanitize=fuzzer-no-link,address,undefined \
	      -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_LIB   := $(O)/fuzz/lib/libvfioscope.a

$(O)/fuzz/obj/%.o: user/%.c
	$(call msg,CC-FUZZ,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(USER_CFLAGS) $(FUZZ_FLAGS) -c $< -o $@

$(patsubst user/%.c,$(O)/fuzz/obj/%.o,$(LIB_SRCS)): $(SKELS)

$(FUZZ_LIB): $(patsubst user/%.c,$(O)/fuzz/obj/%.o,$(LIB_SRCS))
	$(call msg,AR,$@)
	$(Q)mkdir -p $(@D)
	$(Q)rm -f $@ && ar rcs $@ $^

$(O)/fuzz/bin/%: tests/fuzz/%.c $(FUZZ_LIB)
	$(call msg,FUZZER,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(USER_CFLAGS) $(FUZZ_FLAGS) -fsanitize=fuzzer $< $(FUZZ_LIB) \
		$(LDLIBS) -o $@

# the policy file's parser and compiler live with the daemon, not in the library
$(O)/fuzz/bin/fuzz_policy: tests/fuzz/fuzz_policy.c $(O)/fuzz/obj/policy/conf.o \
		$(O)/fuzz/obj/policy/compile.o $(O)/fuzz/obj/policy/share.o $(FUZZ_LIB)
	$(call msg,FUZZER,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(USER_CFLAGS) $(FUZZ_FLAGS) -fsanitize=fuzzer -Iuser/policy $< \
		$(filter %.o,$^) $(FUZZ_LIB) $(LDLIBS) -lyaml -o $@

fuzz-build: $(FUZZ_BINS)

fuzz: $(FUZZ_BINS)
	$(Q)tests/fuzz/run.sh --seconds $(FUZZ_SECONDS) --work $(O)/fuzz \
		--result $(O)/results/fuzz $(FUZZ_BINS)

# The userspace also builds warning-free with clang (its own tree); the
# result counts in `make test`'s total as one test.
clang-build:
	$(Q)mkdir -p $(O)/results
	$(Q)if $(MAKE) --no-print-directory O=$(O)/clang CC=$(CLANG) user; then \
		echo '1 0 0' > $(O)/results/clang-build; \
	else echo 'clang build: FAILED'; echo '0 1 0' > $(O)/results/clang-build; exit 1; fi

# The budgets of the design as measured figures: docs/bench.md.
bench: all
	$(Q)scripts/bench.sh

# `make test` runs, under QEMU TCG on a 2-core CI machine inside its time
# budget, one scenario for each thing the product does, against the real
# clients (QEMU 10, libvirt, Prometheus, the kernel's drivers); `make
# vmtest` runs every scenario. Measured on the bench host (2026-12-03,
# fresh clone, `CI=true bash .ci/run`): 42-47 min for the whole of
# make test with 40 and 44 still in; CI's machines have been ~1.3x slower.
#
# Left to `make vmtest` on 6.12 (SLOW_TESTS), each with what covers its
# subject in `make test`:
#   07 every tier of every class (on 6.1 and patched: where tiers differ)
#   12 mdacc job QoS knobs (66 moves them), 14 mdacc stress (10, 13)
#   16 missing prerequisites (a guest of its own: no BPF LSM)
#   20, 22, 24 variant bind, PRE_COPY, rebind (21, 23, 25, 43)
#   32 vdpa lifecycle (30, 31), 40, 41, 42 vfiomig against the exerciser,
#   two devices, live (43, 47: vfiomig against QEMU's own figures)
#   44 three QEMUs named, pins and devices (43, 47, 49)
#   45 QEMU migration that fails (43), 48 QEMU vhost-vdpa (49: libvirt)
#   51 vfiotop in tmux (50, 52), 64 churn, 90 ring sizes (09), 91 restart
#   cycles (63), 71 dashboard previews (70), 94 the Debian package,
#   81 the series' own events (unsupported on stock: runs patched)
SLOW_TESTS ?= ^(07|12|14|16|20|22|24|32|40|41|42|44|45|48|51|64|71|81|90|91|94)-

# On 6.1, what differs on the older kernel: the collectors' CO-RE reads
# and every tier choice (06, 07), the DMAR unit's fault records read on
# 6.1's intel-iommu (18), the edu variant's 6.1 uAPI (21), the
# out-of-tree vDPA stack (30) and the enforcement (60, 65).
OLD_KERNEL_TESTS ?= ^(01|06|07|18|21|30|60|65)-

# On the patched 6.12 modules: the tracepoint tier counts what the fentry
# tier counts (07: every class, 08: migration arcs) and the requests only
# the series traces (81).
PATCHED_TESTS ?= ^(07|08|81)-

# 94-package installs `make deb`'s package in the guest: built here, on the
# host, when the scenario is selected (20 s, then only when a file changed;
# the guest's CPU is emulated and its root read-only)
VMTEST_DEB := $(if $(shell echo 94-package | grep -Eq -- '$(TESTS)' && ! echo 94-package | grep -Eq -- '$(or $(EXCLUDE),^$$)' && echo y),deb)

# `make test` boots Debian unstable's kernel (series sid, when `make deps`
# prepared it) for the scenarios that show the bench, the collectors and
# the enforcement work there: the modules with their BTF, the collectors'
# CO-RE reads and hooks on a live VFIO device, and the policy programs
# (their kernfs_node read is the one that changed name in 6.15). One
# guest runs the three; the rest run with `make vmtest KERNELS=sid`. VFIOSCOPE_SID=0 make deps leaves sid out.
SID_TESTS ?= ^(01|06|60)-
SSERIES	  := $(filter sid,$(KSERIES))

# EXCLUDE (a regex) leaves scenarios out of `make vmtest`.
EXCLUDE	   ?=

vmtest: all $(VMTEST_DEB)
	$(Q)tests/vm/run.sh --kernels "$(KERNELS)" --flavours "$(FLAVOURS)" --tests "$(TESTS)" \
		--exclude "$(EXCLUDE)" --result $(O)/results/vmtest

# each stage says when it ended, in seconds since `make test` started: CI's
# log shows where its time went
test_stage = echo "make test: $(1) done at $$(( $$(date +%s) - $$(cat $(O)/.test-t0) ))s"

test:
	$(Q)rm -rf $(O)/results
	$(Q)mkdir -p $(O) && date +%s > $(O)/.test-t0
	$(Q)$(MAKE) --no-print-directory deps
	$(Q)$(call test_stage,deps)
	$(Q)$(MAKE) --no-print-directory all
	$(Q)$(call test_stage,build)
	$(Q)$(MAKE) --no-print-directory clang-build || true
	$(Q)$(MAKE) --no-print-directory check || true
	$(Q)$(call test_stage,clang build and check)
	$(Q)$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=10 || true
	$(Q)$(call test_stage,fuzz)
	$(Q)$(MAKE) --no-print-directory vmtest KERNELS=6.12 FLAVOURS=stock EXCLUDE='$(SLOW_TESTS)' || true
	$(Q)$(call test_stage,6.12 scenarios)
	$(Q)tests/vm/run.sh --kernels 6.1 --tests '$(OLD_KERNEL_TESTS)' \
		--result $(O)/results/vmtest-6.1 || true
	$(Q)$(call test_stage,6.1 scenarios)
	$(Q)$(if $(PSERIES),tests/vm/run.sh --kernels 6.12 --flavours patched \
		--tests '$(PATCHED_TESTS)' --result $(O)/results/vmtest-patched || true)
	$(Q)$(call test_stage,patched scenarios)
	$(Q)$(if $(SSERIES),tests/vm/run.sh --kernels sid --tests '$(SID_TESTS)' \
		--result $(O)/results/vmtest-sid || true)
	$(Q)$(call test_stage,sid scenarios)
	$(Q)tests/summary.sh $(O)/results/clang-build $(O)/results/check $(O)/results/check-asan \
		$(O)/results/cli $(O)/results/man-help $(O)/results/install $(O)/results/harness-rules \
		$(O)/results/dashboards \
		$(O)/results/core-audit $(if $(PATCHES),$(O)/results/patches) $(O)/results/fuzz \
		$(O)/results/vmtest $(O)/results/vmtest-6.1 $(if $(PSERIES),$(O)/results/vmtest-patched) \
		$(if $(SSERIES),$(O)/results/vmtest-sid)

vmshell: all
	$(Q)VFIOSCOPE_FLAVOUR=$(FLAVOUR) tests/vm/bench/runvm.sh --shell $(KERNEL)

vmrun: all
	$(Q)[ -n "$(SCRIPT)" ] || { echo 'usage: make vmrun KERNEL=6.12 SCRIPT=path/to/script.sh' >&2; exit 2; }
	$(Q)VFIOSCOPE_FLAVOUR=$(FLAVOUR) tests/vm/bench/runvm.sh $(KERNEL) $(SCRIPT)

# on a terminal: vfiotop interactive in the guest (q quits, the guest powers
# off); DEMO_ARGS="-b -n 3" (or no terminal): vfiotop's frames, then off
DEMO_ARGS ?=
demo:
	$(Q)$(MAKE) --no-print-directory deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)if [ -z "$(DEMO_ARGS)" ] && [ -t 0 ] && [ -t 1 ]; then \
		tests/vm/bench/runvm.sh --interactive $(KERNEL) tests/vm/demo.sh; \
	else \
		VFIOSCOPE_DEMO_ARGS="$(or $(DEMO_ARGS),-b -n 3)" tests/vm/bench/runvm.sh $(KERNEL) tests/vm/demo.sh; \
	fi

clean:
	rm -rf $(O)

-include $(shell find $(O) -name '*.d' 2>/dev/null)
