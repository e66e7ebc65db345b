#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""CO-RE audit: every struct field, enumerator and type the BPF objects
relocate, and every kernel function/tracepoint/LSM hook they attach to,
checked against each kernel's BTF that is available.

core-audit.py [--markdown] [--kernel NAME=VMLINUX[,MODDIR...]]... OBJ.bpf.o...

Without --kernel: the bench kernels prepared in $VFIOSCOPE_CACHE/k/<series>
(vmlinux BTF from build/vmlinux; module BTF from the .ko files of the
subsystems we read, split BTF on top of that vmlinux, plus the bench's own
helper modules in build/k/<series>/bench) and the running host
(/sys/kernel/btf/vmlinux and the modules it has loaded).

A field relocation absent on a kernel passes only with a fallback the
program itself carries: a bpf_core_field_exists() on the same access, a
bpf_core_type_exists() on its root type, or a flavour of the same type
(struct x___a / struct x___b) whose own access is present there. A type
whose holder module has no BTF on that kernel (the host without VFIO) is
"n/a": nothing can be said, and nothing is claimed. Hooks are reported
(present/absent); the collectors decide per hook at run time and say why
(vfs_fentry_why_not), so an absent hook is listed, not failed.
Exit 1 when a needed field is absent with no fallback.
"""
import glob
import lzma
import os
import re
import struct
import subprocess
import sys

# ------------------------------------------------------------------ ELF
def elf_sections(data):
    if data[:4] != b'\x7fELF' or data[4] != 2:
        raise ValueError('not a 64-bit ELF')
    end = '<' if data[5] == 1 else '>'
    shoff, = struct.unpack_from(end + 'Q', data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from(end + 'HHH', data, 0x3a)
    hdrs = []
    for i in range(shnum):
        name, typ, flags, addr, off, size = struct.unpack_from(end + 'IIQQQQ', data, shoff + i * shentsize)
        hdrs.append((name, typ, off, size))
    stroff = hdrs[shstrndx][2]
    out = {}
    for name, typ, off, size in hdrs:
        n = data[stroff + name:data.index(b'\0', stroff + name)].decode()
        out[n] = data[off:off + size] if typ != 8 else b''  # NOBITS
    return out


def read_file(path):
    with open(path, 'rb') as f:
        data = f.read()
    if path.endswith('.xz'):
        return lzma.decompress(data)
    if path.endswith('.zst'):
        return subprocess.run(['zstd', '-dcq', path], check=True, capture_output=True).stdout
    return data


# ------------------------------------------------------------------ BTF
INT, PTR, ARRAY, STRUCT, UNION, ENUM, FWD, TYPEDEF, VOLATILE, CONST, RESTRICT, \
    FUNC, FUNC_PROTO, VAR, DATASEC, FLOAT, DECL_TAG, TYPE_TAG, ENUM64 = range(1, 20)
MODIFIERS = (TYPEDEF, VOLATILE, CONST, RESTRICT, TYPE_TAG)


class BTF:
    """Types by id (1-based; a split BTF continues its base's ids)."""

    def __init__(self, raw, base=None):
        magic, = struct.unpack_from('<H', raw, 0)
        if magic != 0xeB9F:
            raise ValueError('bad BTF magic')
        hdr_len, type_off, type_len, str_off, str_len = struct.unpack_from('<IIIII', raw, 4)
        self.base = base
        self.first = base.count if base else 1
        self.str_base = base.str_end if base else 0
        self.strs = raw[hdr_len + str_off:hdr_len + str_off + str_len]
        self.str_end = self.str_base + str_len
        self.types = base.types[:] if base else [None]
        self.by_name = dict(base.by_name) if base else {}
        t = raw[hdr_len + type_off:hdr_len + type_off + type_len]
        p = 0
        while p < len(t):
            name_off, info, size = struct.unpack_from('<III', t, p)
            p += 12
            kind = (info >> 24) & 0x1f
            vlen = info & 0xffff
            extra = []
            if kind in (INT, VAR, DECL_TAG):
                p += 4
            elif kind == ARRAY:
                extra = struct.unpack_from('<III', t, p)
                p += 12
            elif kind in (STRUCT, UNION):
                for i in range(vlen):
                    extra.append(struct.unpack_from('<III', t, p + 12 * i))
                p += 12 * vlen
            elif kind == ENUM:
                for i in range(vlen):
                    extra.append(struct.unpack_from('<Ii', t, p + 8 * i))
                p += 8 * vlen
            elif kind == FUNC_PROTO:
                p += 8 * vlen
            elif kind == DATASEC:
                p += 12 * vlen
            elif kind == ENUM64:
                for i in range(vlen):
                    extra.append(struct.unpack_from('<III', t, p + 12 * i)[:1])
                p += 12 * vlen
            elif kind not in (PTR, FWD, TYPEDEF, VOLATILE, CONST, RESTRICT, FUNC, FLOAT, TYPE_TAG):
                raise ValueError('unknown BTF kind %d' % kind)
            tid = len(self.types)
            self.types.append((kind, name_off, size, extra))
            name = self.str(name_off)
            if name:
                self.by_name.setdefault((kind, name), tid)
        self.count = len(self.types)

    def str(self, off):
        if off < self.str_base:
            return self.base.str(off)
        off -= self.str_base
        return self.strs[off:self.strs.index(b'\0', off)].decode()

    def kind(self, tid):
        return self.types[tid][0]

    def name(self, tid):
        return self.str(self.types[tid][1])

    def skip_mods(self, tid):
        while tid and self.types[tid][0] in MODIFIERS:
            tid = self.types[tid][2]
        return tid

    def members(self, tid):
        kind, _, _, extra = self.types[tid]
        return [(self.str(n), typ) for n, typ, _ in extra] if kind in (STRUCT, UNION) else []

    def find_member(self, tid, name):
        """member NAME of struct/union TID, looking into anonymous members"""
        for n, typ in self.members(tid):
            if n == name:
                return typ
            if not n:
                inner = self.skip_mods(typ)
                if self.kind(inner) in (STRUCT, UNION):
                    r = self.find_member(inner, name)
                    if r is not None:
                        return r
        return None

    def named(self, kinds, name):
        for k in kinds:
            tid = self.by_name.get((k, name))
            if tid:
                return tid
        return None


def btf_of_elf(path, base=None):
    secs = elf_sections(read_file(path))
    if '.BTF' not in secs:
        return None
    # a module built with a distilled base (pahole --btf_features=
    # distilled_base) numbers its types after that base, not vmlinux's;
    # names still resolve against vmlinux (Kernel.struct_named)
    if base is not None and '.BTF.base' in secs:
        base = BTF(secs['.BTF.base'])
    return BTF(secs['.BTF'], base)


def btf_of_raw(path, base=None):
    with open(path, 'rb') as f:
        return BTF(f.read(), base)


# ------------------------------------------------------------ relocations
KIND_NAMES = ['byte_off', 'byte_sz', 'field_exists', 'signed', 'lshift', 'rshift',
              'local_type_id', 'target_type_id', 'type_exists', 'type_size',
              'enumval_exists', 'enumval_value', 'type_matches']
FIELD_KINDS = range(0, 6)
TYPE_KINDS = (8, 9, 12)
ENUM_KINDS = (10, 11)


def flavourless(name):
    i = name.find('___')
    return name[:i] if i > 0 else name


class Reloc:
    def __init__(self, obj, kind, root, path, enumval=None):
        self.obj, self.kind, self.root, self.path, self.enumval = obj, kind, root, path, enumval

    def access(self):
        if self.enumval is not None:
            return '%s::%s' % (self.root, self.enumval)
        return '.'.join([self.root] + [f'{t}.{f}' if False else f for t, f in self.path]) \
            if self.path else self.root

    def key(self):
        return (self.root, tuple(self.path), self.enumval)


def relocs_of(obj):
    secs = elf_sections(read_file(obj))
    btf = BTF(secs['.BTF'])
    ext = secs.get('.BTF.ext', b'')
    out = []
    if len(ext) < 32:
        return btf, out, secs
    _, _, _, hdr_len = struct.unpack_from('<HBBI', ext, 0)
    if hdr_len < 32:
        return btf, out, secs
    core_off, core_len = struct.unpack_from('<II', ext, 24)
    d = ext[hdr_len + core_off:hdr_len + core_off + core_len]
    if not d:
        return btf, out, secs
    rec_size, = struct.unpack_from('<I', d, 0)
    p = 4
    seen = set()
    while p < len(d):
        _, num = struct.unpack_from('<II', d, p)
        p += 8
        for i in range(num):
            _, type_id, acc_off, kind = struct.unpack_from('<IIII', d, p + i * rec_size)
            acc = [int(x) for x in btf.str(acc_off).split(':')]
            root = btf.skip_mods(type_id)
            rname = btf.name(root)
            path, enumval = [], None
            if kind in FIELD_KINDS:
                tid = root
                for idx in acc[1:]:
                    tid = btf.skip_mods(tid)
                    k = btf.kind(tid)
                    if k == ARRAY:
                        tid = btf.types[tid][3][0]
                        continue
                    n, typ = btf.members(tid)[idx]
                    path.append((btf.name(tid), n))
                    tid = typ
                # anonymous members carry no name to match: drop them
                path = [(t, n) for t, n in path if n]
            elif kind in ENUM_KINDS:
                enumval = btf.str(btf.types[root][3][acc[0]][0])
            elif kind not in TYPE_KINDS:
                continue
            r = Reloc(os.path.basename(obj), kind, rname, path, enumval)
            sig = (r.kind, r.key())
            if sig not in seen:
                seen.add(sig)
                out.append(r)
        p += num * rec_size
    return btf, out, secs


def hooks_of(secs):
    out = []
    for name in secs:
        m = re.match(r'^(fentry|fexit|fmod_ret|tp_btf|lsm|kprobe|kretprobe)/(.+)$', name)
        if m:
            out.append((m.group(1), m.group(2)))
    return sorted(set(out))


# ----------------------------------------------------------------- kernels
# the modules whose types and functions the programs touch
MODULES = ['vfio', 'vfio_iommu_type1', 'vfio-pci-core', 'vfio_pci_core', 'vfio-pci', 'vfio_pci',
           'mdev', 'vdpa', 'vduse', 'virtio_vdpa', 'vhost_vdpa', 'vhost', 'vringh', 'vhost_iotlb',
           'vdpa_sim', 'vdpa_sim_blk', 'vdpa_sim_net', 'iommufd']


class Kernel:
    def __init__(self, name, vmlinux, modfiles, raw=False):
        self.name = name
        self.vmlinux = (btf_of_raw if raw else btf_of_elf)(vmlinux)
        if self.vmlinux is None:
            raise ValueError(f'{vmlinux}: no .BTF')
        self.mods = {}
        for m in modfiles:
            mname = re.sub(r'\.ko(\.xz|\.zst)?$', '', os.path.basename(m)).replace('-', '_')
            b = (btf_of_raw(m, self.vmlinux) if raw else btf_of_elf(m, self.vmlinux))
            if b is not None:
                self.mods[mname] = b

    def all(self):
        return [self.vmlinux] + list(self.mods.values())

    def struct_named(self, name):
        """(btf, tid) of every struct/union/enum/typedef of NAME"""
        hits = []
        for b in self.all():
            tid = b.named((STRUCT, UNION, ENUM, ENUM64, TYPEDEF, INT), name)
            if tid:
                hits.append((b, tid))
        return hits

    def func(self, name):
        return [n for n, b in [('vmlinux', self.vmlinux)] + list(self.mods.items())
                if b.named((FUNC,), name)]


def bench_kernels(cache, repo):
    out = []
    for kdir in sorted(glob.glob(os.path.join(cache, 'k', '*'))):
        series = os.path.basename(kdir)
        if not os.path.exists(os.path.join(kdir, '.prepared')):
            continue
        kver = open(os.path.join(kdir, 'kver')).read().strip()
        vml = os.path.join(kdir, 'build', 'vmlinux')
        if not os.path.exists(vml):
            continue
        mods = []
        tree = os.path.join(kdir, 'root', 'lib', 'modules', kver, 'kernel')
        for f in glob.glob(os.path.join(tree, '**', '*.ko*'), recursive=True):
            base = re.sub(r'\.ko(\.xz|\.zst)?$', '', os.path.basename(f))
            if base in MODULES:
                mods.append(f)
        # the bench's helper modules and ours (vfioscope_trace defines the
        # tracepoints the tp_btf programs attach to on stock kernels)
        mods += glob.glob(os.path.join(repo, 'build', 'k', series, 'bench', '*.ko'))
        mods += glob.glob(os.path.join(repo, 'build', 'k', series, 'mods', '*', '*.ko'))
        out.append((f'{series} ({kver})', vml, mods, False))
    if os.path.exists('/sys/kernel/btf/vmlinux'):
        mods = [f for f in glob.glob('/sys/kernel/btf/*')
                if os.path.basename(f).replace('_', '-') in [m.replace('_', '-') for m in MODULES]]
        out.append((f'host ({os.uname().release})', '/sys/kernel/btf/vmlinux', mods, True))
    return out


# ------------------------------------------------------------------- check
HOLDERS = [('virtio_vdpa_', 'virtio_vdpa'), ('vhost_vdpa', 'vhost_vdpa'), ('vhost_', 'vhost'),
           ('vdpa_', 'vdpa'), ('mdev_', 'mdev'), ('vfio_pci_', 'vfio_pci_core'), ('vfio_', 'vfio')]


def holder(tname):
    """the module that defines a subsystem type (by its prefix)"""
    for pre, mod in HOLDERS:
        if tname.startswith(pre):
            return mod
    return 'vmlinux'


def field_state(k, r):
    """present / absent / n/a (no BTF holds the root type)"""
    if r.enumval is not None:
        hits = k.struct_named(r.root)
        if not hits:
            return 'n/a'
        for b, tid in hits:
            if any(b.str(n) == r.enumval for n, *_ in b.types[b.skip_mods(tid)][3]):
                return 'present'
        return 'absent'
    hits = k.struct_named(flavourless(r.root))
    if not hits:
        # gone from a module whose BTF we have is absent; a type of a
        # module this kernel has no BTF of is n/a
        return 'absent' if holder(flavourless(r.root)) in k.mods else 'n/a'
    if not r.path:
        return 'present'
    for b, tid in hits:
        cur = b.skip_mods(tid)
        ok = True
        for _, fname in r.path:
            m = b.find_member(cur, fname)
            if m is None:
                ok = False
                break
            cur = b.skip_mods(m)
            while b.kind(cur) == ARRAY:
                cur = b.skip_mods(b.types[cur][3][0])
        if ok:
            return 'present'
    return 'absent'


def verdict(k, r, relocs, cache):
    st = cache.setdefault((k.name, r.kind in TYPE_KINDS, r.key()), field_state(k, r))
    if st != 'absent':
        return st, ''
    # a fallback the program carries, the most direct first: a probe of
    # this very access, of its type, then another flavour of the same
    # struct reaching the same depth by another name that this kernel has
    mine = [o for o in relocs if o.obj == r.obj]
    if any(o.kind == 2 and o.key() == r.key() for o in mine):
        return 'guarded', 'bpf_core_field_exists'
    if any(o.kind == 8 and o.root == r.root for o in mine) and r.kind != 8:
        return 'guarded', 'bpf_core_type_exists'
    for o in mine:
        if (o.root != r.root and '___' in o.root and '___' in r.root
                and flavourless(o.root) == flavourless(r.root)
                and o.kind in FIELD_KINDS and r.kind in FIELD_KINDS
                and len(o.path) == len(r.path) and o.path and o.path[-1][1] != r.path[-1][1]
                and verdict_state(k, o, cache) == 'present'):
            return 'renamed', 'flavour %s: %s' % (o.root, '.'.join(f for _, f in o.path))
    return 'ABSENT', 'no fallback'


def verdict_state(k, r, cache):
    return cache.setdefault((k.name, r.kind in TYPE_KINDS, r.key()), field_state(k, r))


def main(argv):
    md = False
    objs = []
    kspecs = []
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == '--markdown':
            md = True
        elif a == '--kernel':
            i += 1
            name, rest = argv[i].split('=', 1)
            parts = rest.split(',')
            raw = not parts[0].endswith(('vmlinux',)) or parts[0].startswith('/sys/')
            mods = []
            for d in parts[1:]:
                mods += glob.glob(os.path.join(d, '**', '*.ko*'), recursive=True) if os.path.isdir(d) else [d]
            kspecs.append((name, parts[0], mods, raw))
        else:
            objs.append(a)
        i += 1
    if not objs:
        print(__doc__, file=sys.stderr)
        return 2
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    if not kspecs:
        kspecs = bench_kernels(os.environ.get('VFIOSCOPE_CACHE', '/var/cache/vfioscope'), repo)
    kernels = []
    for name, vml, mods, raw in kspecs:
        try:
            kernels.append(Kernel(name, vml, mods, raw))
        except (OSError, ValueError) as e:
            print(f'core-audit: {name}: no usable BTF ({e}): not audited')
    if not kernels:
        print('core-audit: no kernel BTF available: nothing audited')
        return 0

    relocs, hooks = [], []
    for o in objs:
        _, rs, secs = relocs_of(o)
        relocs += rs
        hooks += [(os.path.basename(o), t, h) for t, h in hooks_of(secs)]

    cache = {}
    bad = 0
    counts = {k.name: {} for k in kernels}
    rows = []
    done = set()
    for r in relocs:
        if r.kind not in FIELD_KINDS and r.kind not in TYPE_KINDS and r.kind not in ENUM_KINDS:
            continue
        what = 'type' if r.kind in TYPE_KINDS else 'enum' if r.kind in ENUM_KINDS else 'field'
        label = r.root + ('' if not r.path else '->' + '.'.join(f for _, f in r.path)) \
            if r.enumval is None else f'{r.root}::{r.enumval}'
        if r.kind == 2:
            label += ' (exists?)'
        elif r.kind == 8:
            label += ' (type exists?)'
        sig = (r.obj, label)
        if sig in done:
            continue
        done.add(sig)
        cells = []
        for k in kernels:
            if r.kind in (2, 8):  # the guard itself: answered either way
                st = verdict_state(k, r, cache)
                v, why = ('n/a' if st == 'n/a' else 'probe:' + st), ''
            else:
                v, why = verdict(k, r, relocs, cache)
            counts[k.name][v.split(':')[0]] = counts[k.name].get(v.split(':')[0], 0) + 1
            if v == 'ABSENT':
                bad += 1
                print(f'core-audit: FAIL {k.name}: {r.obj}: {what} {label} is absent and the '
                      f'program has no fallback for it', file=sys.stderr)
            cells.append(v + (f' ({why})' if why and v != 'ABSENT' else ''))
        rows.append((r.obj, what, label, cells))
    for obj, typ, h in hooks:
        cells = []
        for k in kernels:
            if typ == 'tp_btf':
                where = k.func('') if False else [n for n, b in [('vmlinux', k.vmlinux)] + list(k.mods.items())
                                                  if b.named((TYPEDEF,), 'btf_trace_' + h)]
            elif typ == 'lsm':
                where = k.func('bpf_lsm_' + h)
            else:
                where = k.func(h)
            if h.startswith('vfs_learned_'):
                # bpf/migfops.bpf.c: targets chosen at run time (a driver's
                # data fd f_ops), not in any kernel by this name
                v = 'run-time'
            elif where:
                v = 'present (%s)' % where[0]
            else:
                modless = not k.mods and typ not in ('lsm',)
                v = 'n/a' if modless and h not in ('sched_process_fork', 'sched_process_exit') else 'absent'
            cells.append(v)
            counts[k.name]['hook ' + v.split(' ')[0]] = counts[k.name].get('hook ' + v.split(' ')[0], 0) + 1
        rows.append((obj, typ, h, cells))

    if md:
        print('| object | what | access / hook | ' + ' | '.join(k.name for k in kernels) + ' |')
        print('|---|---|---|' + '---|' * len(kernels))
        for obj, what, label, cells in rows:
            print(f'| {obj} | {what} | `{label}` | ' + ' | '.join(cells) + ' |')
    else:
        w = max(len(l) for _, _, l, _ in rows)
        print('%-16s %-10s %-*s  %s' % ('object', 'what', w, 'access/hook', '  '.join(k.name for k in kernels)))
        for obj, what, label, cells in rows:
            print('%-16s %-10s %-*s  %s' % (obj, what, w, label, '  |  '.join(cells)))
    print()
    for k in kernels:
        c = counts[k.name]
        print(f'core-audit: {k.name}: ' + ', '.join(f'{n} {v}' for v, n in sorted(c.items())) +
              f' ({len(k.mods)} module BTFs)')
    if bad:
        print(f'core-audit: {bad} relocation(s) absent with no fallback')
        return 1
    print('core-audit: every relocation present or covered by a fallback')
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
