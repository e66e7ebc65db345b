#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""ansi2svg.py [--title T] FILE: a terminal screen captured with its SGR
colour sequences (tmux capture-pane -e) drawn as SVG on stdout: one text
run per stretch of equal attributes, backgrounds as rectangles."""
import argparse
import html
import re
import sys

COLOURS = ['#1e1e1e', '#cd3131', '#0dbc79', '#e5e510', '#2472c8', '#bc3fbc', '#11a8cd', '#e5e5e5']
BRIGHT = ['#666666', '#f14c4c', '#23d18b', '#f5f543', '#3b8eea', '#d670d6', '#29b8db', '#ffffff']
FG, BG = '#d4d4d4', '#101418'
CW, CH, FONT = 8.4, 17, 14
SGR = re.compile(r'\x1b\[([0-9;]*)m')


def xterm256(n):
    if n < 8:
        return COLOURS[n]
    if n < 16:
        return BRIGHT[n - 8]
    if n < 232:
        n -= 16
        v = [0, 95, 135, 175, 215, 255]
        return '#%02x%02x%02x' % (v[n // 36], v[n // 6 % 6], v[n % 6])
    g = 8 + (n - 232) * 10
    return '#%02x%02x%02x' % (g, g, g)


def apply(attr, params):
    p = [int(x) if x else 0 for x in params.split(';')] if params else [0]
    i = 0
    while i < len(p):
        c = p[i]
        if c == 0:
            attr.update(fg=None, bg=None, bold=False, rev=False, ul=False)
        elif c == 1:
            attr['bold'] = True
        elif c == 4:
            attr['ul'] = True
        elif c == 7:
            attr['rev'] = True
        elif c == 22:
            attr['bold'] = False
        elif c == 24:
            attr['ul'] = False
        elif c == 27:
            attr['rev'] = False
        elif 30 <= c <= 37:
            attr['fg'] = COLOURS[c - 30]
        elif 40 <= c <= 47:
            attr['bg'] = COLOURS[c - 40]
        elif 90 <= c <= 97:
            attr['fg'] = BRIGHT[c - 90]
        elif 100 <= c <= 107:
            attr['bg'] = BRIGHT[c - 100]
        elif c == 39:
            attr['fg'] = None
        elif c == 49:
            attr['bg'] = None
        elif c in (38, 48) and i + 2 < len(p) and p[i + 1] == 5:
            attr['fg' if c == 38 else 'bg'] = xterm256(p[i + 2])
            i += 2
        i += 1


def runs(line):
    """[(text, fg, bg, bold, ul)] for one captured line"""
    attr = dict(fg=None, bg=None, bold=False, rev=False, ul=False)
    out, pos = [], 0
    for m in list(SGR.finditer(line)) + [None]:
        text = line[pos:m.start() if m else len(line)]
        if text:
            fg, bg = attr['fg'] or FG, attr['bg']
            if attr['rev']:
                fg, bg = bg or BG, fg
            out.append((text, fg, bg, attr['bold'], attr['ul']))
        if m:
            apply(attr, m.group(1))
            pos = m.end()
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--title', default='')
    ap.add_argument('file')
    a = ap.parse_args()
    lines = open(a.file, encoding='utf-8', errors='replace').read().rstrip('\n').split('\n')
    lines = [re.sub(r'\x1b\[[0-9;?]*[A-Za-ln-z]', '', l) for l in lines]
    cols = max((len(SGR.sub('', l)) for l in lines), default=80)
    cols = max(cols, 80)
    top = 30 if a.title else 8
    w, h = int(cols * CW + 16), int(top + len(lines) * CH + 8)
    o = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d">' % (w, h, w, h),
         '<rect width="100%%" height="100%%" rx="6" fill="%s"/>' % BG,
         '<g font-family="DejaVu Sans Mono, Menlo, Consolas, monospace" font-size="%d" xml:space="preserve">' % FONT]
    if a.title:
        o.append('<text x="8" y="20" fill="#8a8a8a">%s</text>' % html.escape(a.title))
    for y, line in enumerate(lines):
        x = 0
        base = top + y * CH
        for text, fg, bg, bold, ul in runs(line):
            if bg:
                o.append('<rect x="%.1f" y="%d" width="%.1f" height="%d" fill="%s"/>' %
                         (8 + x * CW, base, len(text) * CW, CH, bg))
            if text.strip():
                # textLength: columns stay aligned whatever monospace font draws it
                o.append('<text x="%.1f" y="%d" textLength="%.1f" fill="%s"%s%s>%s</text>' %
                         (8 + x * CW, base + CH - 4, len(text) * CW, fg,
                          ' font-weight="bold"' if bold else '',
                          ' text-decoration="underline"' if ul else '', html.escape(text)))
            x += len(text)
    o.append('</g></svg>')
    sys.stdout.write('\n'.join(o) + '\n')


if __name__ == '__main__':
    main()
