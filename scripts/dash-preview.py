#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""dash-preview.py: a Grafana dashboard of dashboards/ against a real Prometheus.

Every target of every panel is evaluated through Prometheus' HTTP API
(/api/v1/query_range over the window; /api/v1/query at its end for
instant table targets), with the dashboard's template variables resolved
the way Grafana does: a label_values() variable takes the first value
Prometheus has (or --var NAME=VALUE), an "include All" one ".*";
$__rate_interval is 4 scrape intervals, $__interval the step. The grid
(gridPos) is drawn as one PNG: time series as lines with their
legendFormat, stat panels as their last values, tables as text, heatmaps
as bucket increases over time.

Per panel it prints each query, the number of series returned, how many
carry a nonzero value, and any Prometheus error. Exit status: 0, 1 if
Prometheus rejected any query (a parse error, an unknown function...), 2
on bad input or an unreachable server.
"""
import argparse
import datetime
import json
import math
import os
import re
import sys
import urllib.error
import urllib.parse
import urllib.request

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402

BG, PANEL, FG, DIM = "#111217", "#181b1f", "#ccccdc", "#8e8e8e"
COLORS = ["#73bf69", "#f2cc0c", "#5794f2", "#ff9830", "#f2495c", "#b877d9",
          "#8ab8ff", "#ffcb7d", "#96d98d", "#ff7383", "#ca95e5", "#fade2a"]


def die(msg):
    print("dash-preview: " + msg, file=sys.stderr)
    sys.exit(2)


class Prom:
    def __init__(self, url):
        self.url = url.rstrip("/")

    def get(self, path, params):
        """(data, None) or (None, error text from Prometheus)"""
        q = urllib.parse.urlencode(params, doseq=True)
        try:
            with urllib.request.urlopen(self.url + path + "?" + q, timeout=30) as r:
                body = json.load(r)
        except urllib.error.HTTPError as e:
            try:
                body = json.load(e)
            except ValueError:
                return None, "HTTP %d" % e.code
        except (urllib.error.URLError, OSError) as e:
            die("cannot reach Prometheus at %s: %s" % (self.url, e))
        if body.get("status") != "success":
            return None, "%s: %s" % (body.get("errorType", "error"), body.get("error", "?"))
        return body["data"], None


def load_dashboard(path):
    try:
        with open(path) as f:
            d = json.load(f)
    except (OSError, ValueError) as e:
        die("%s: %s" % (path, e))
    if not isinstance(d.get("panels"), list) or not d["panels"]:
        die("%s is not a Grafana dashboard: it has no panels" % path)
    return d


def panels_of(dash):
    """the drawable panels, rows' collapsed children included"""
    for p in dash["panels"]:
        if p.get("type") == "row":
            yield from p.get("panels", [])
        else:
            yield p


def substitute(expr, values):
    def one(m):
        name = m.group(1) or m.group(2) or m.group(3)
        return values.get(name, m.group(0))
    return re.sub(r"\$\{(\w+)(?::\w+)?\}|\[\[(\w+)\]\]|\$(\w+)", one, expr)


def resolve_variables(dash, prom, given, end, rate_interval, step):
    values = {"__rate_interval": rate_interval, "__interval": "%ds" % step,
              "__range": "1h", "datasource": "prometheus"}
    for v in dash.get("templating", {}).get("list", []):
        name = v.get("name")
        if not name or name in values:
            continue
        if name in given:
            values[name] = given[name]
            continue
        if v.get("includeAll"):
            values[name] = v.get("allValue") or ".*"
            continue
        q = v.get("definition") or (v.get("query") or {}).get("query", "")
        m = re.fullmatch(r"\s*label_values\((.*),\s*(\w+)\)\s*", substitute(q, values))
        if not m:
            die("variable $%s: give it with --var %s=VALUE (query %r)" % (name, name, q))
        data, err = prom.get("/api/v1/label/%s/values" % m.group(2),
                             {"match[]": m.group(1), "end": end, "start": end - 3600})
        if err or not data:
            die("variable $%s: %s has no value in Prometheus%s" %
                (name, q, ": " + err if err else ""))
        values[name] = sorted(data)[0]
    for k, v in given.items():
        values.setdefault(k, v)
    return values


def legend(fmt, metric):
    if fmt and fmt != "__auto":
        return re.sub(r"\{\{\s*(\w+)\s*\}\}", lambda m: metric.get(m.group(1), ""), fmt)
    labels = ", ".join('%s="%s"' % kv for kv in sorted(metric.items()) if kv[0] != "__name__")
    return metric.get("__name__", "") + ("{%s}" % labels if labels else "")


def fmt_value(v, unit):
    if v is None or math.isnan(v):
        return "-"
    if unit in ("bytes", "Bps"):
        for p in ["", "Ki", "Mi", "Gi", "Ti"]:
            if abs(v) < 1024 or p == "Ti":
                s = "%.3g %sB" % (v, p)
                return s + "/s" if unit == "Bps" else s
            v /= 1024
    if unit == "s":
        for div, suf in ((1, "s"), (1e-3, "ms"), (1e-6, "µs"), (1e-9, "ns")):
            if abs(v) >= div or suf == "ns":
                return "%.3g %s" % (v / div, suf) if v else "0 s"
    for div, suf in ((1e9, "G"), (1e6, "M"), (1e3, "k"), (1, "")):
        if abs(v) >= div or div == 1:
            s = "%.3g%s" % (v / div, suf)
            break
    return s + " ops/s" if unit == "ops" else s


def run_panel(p, prom, values, start, end, step):
    """evaluate every target; returns a list of target results"""
    out = []
    for t in p.get("targets", []):
        if t.get("hide") or not t.get("expr"):
            continue
        expr = substitute(t["expr"], values)
        r = {"refId": t.get("refId", "A"), "expr": expr, "legend": t.get("legendFormat", ""),
             "instant": bool(t.get("instant")) and not t.get("range"), "series": []}
        if r["instant"]:
            data, err = prom.get("/api/v1/query", {"query": expr, "time": end})
        else:
            data, err = prom.get("/api/v1/query_range",
                                 {"query": expr, "start": start, "end": end, "step": step})
        r["error"] = err
        if data:
            for s in data.get("result", []):
                pts = s.get("values") or ([s["value"]] if "value" in s else [])
                r["series"].append({"metric": s.get("metric", {}),
                                    "points": [(float(ts), float(v)) for ts, v in pts]})
        out.append(r)
    return out


def nonzero(series):
    return any(v != 0 and not math.isnan(v) for _, v in series["points"])


def style_axes(ax, title):
    ax.set_facecolor(PANEL)
    for s in ax.spines.values():
        s.set_color("#2c3235")
    ax.tick_params(colors=DIM, labelsize=7)
    ax.set_title(title, color=FG, fontsize=9, loc="left", pad=4)


def draw_timeseries(ax, results, unit, start, end):
    n = 0
    for r in results:
        for s in r["series"]:
            xs = [datetime.datetime.fromtimestamp(ts) for ts, _ in s["points"]]
            ys = [v for _, v in s["points"]]
            ax.plot(xs, ys, color=COLORS[n % len(COLORS)], linewidth=1.2,
                    label=legend(r["legend"], s["metric"])[:60])
            n += 1
    ax.set_xlim(datetime.datetime.fromtimestamp(start), datetime.datetime.fromtimestamp(end))
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%H:%M:%S"))
    ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: fmt_value(v, unit)))
    ax.grid(color="#2c3235", linewidth=0.5)
    if n:
        ax.legend(loc="upper left", fontsize=6, facecolor=PANEL, edgecolor=PANEL,
                  labelcolor=FG, ncol=2 if n > 4 else 1)
    else:
        ax.text(0.5, 0.5, "No data", color=DIM, ha="center", va="center", transform=ax.transAxes)


def draw_heatmap(ax, results):
    import numpy as np
    rows = {}
    times = []
    for r in results:
        for s in r["series"]:
            le = s["metric"].get("le", "")
            rows[le] = dict(s["points"])
            times = sorted(set(times) | set(rows[le]))
    les = sorted(rows, key=lambda x: float(x))
    if not les:
        ax.text(0.5, 0.5, "No data", color=DIM, ha="center", va="center", transform=ax.transAxes)
        return
    z = np.array([[rows[le].get(t, 0.0) for t in times] for le in les])
    # increases per bucket: from cumulative le buckets to per bucket counts
    z = np.diff(np.vstack([np.zeros(len(times)), z]), axis=0).clip(min=0)
    # only the buckets that hold something, one empty bucket either side
    full = [i for i in range(len(les)) if z[i].any()] or [0]
    lo, hi = max(0, full[0] - 1), min(len(les) - 1, full[-1] + 1)
    z = np.ma.masked_equal(z[lo:hi + 1], 0)
    cmap = matplotlib.colormaps["inferno"].copy()
    cmap.set_bad(PANEL)
    ax.imshow(z, aspect="auto", origin="lower", cmap=cmap, interpolation="nearest")
    n = hi - lo + 1
    keep = list(range(0, n, max(1, -(-n // 6))))
    ax.set_yticks(keep)
    ax.set_yticklabels(["≤" + fmt_value(float(les[lo + i]), "s") for i in keep])
    ticks = list(range(0, len(times), max(1, len(times) // 5)))
    ax.set_xticks(ticks)
    ax.set_xticklabels([datetime.datetime.fromtimestamp(times[i]).strftime("%H:%M:%S") for i in ticks])


def draw_stat(ax, results, unit):
    ax.set_xticks([])
    ax.set_yticks([])
    vals = []
    for r in results:
        for s in r["series"]:
            last = s["points"][-1][1] if s["points"] else float("nan")
            vals.append((legend(r["legend"], s["metric"]), last))
    if not vals:
        ax.text(0.5, 0.5, "No data", color=DIM, ha="center", va="center", transform=ax.transAxes)
        return
    for i, (name, v) in enumerate(vals):
        x = (i + 0.5) / len(vals)
        ax.text(x, 0.5, fmt_value(v, unit), color=COLORS[0], fontsize=22, weight="bold",
                ha="center", va="center", transform=ax.transAxes)
        ax.text(x, 0.12, name[:40], color=DIM, fontsize=7, ha="center", transform=ax.transAxes)


def table_rows(p, results):
    """Grafana's merge + organize: one row per label set, one column per target"""
    rename, exclude = {}, {}
    for tr in p.get("transformations") or []:
        if tr.get("id") == "organize":
            rename = tr["options"].get("renameByName", {})
            exclude = tr["options"].get("excludeByName", {})
    multi = len(results) > 1
    labels, rows = [], {}
    for r in results:
        for s in r["series"]:
            m = {k: v for k, v in s["metric"].items() if k != "__name__"}
            for k in m:
                if k not in labels:
                    labels.append(k)
            key = tuple(sorted(m.items()))
            rows.setdefault(key, dict(m))["Value #" + r["refId"] if multi else "Value"] = \
                s["points"][-1][1] if s["points"] else float("nan")
    cols = [c for c in labels if not exclude.get(c)]
    cols += ["Value #" + r["refId"] if multi else "Value" for r in results]
    cols = [c for c in dict.fromkeys(cols) if not exclude.get(c)]
    unit = (p.get("fieldConfig", {}).get("defaults", {}) or {}).get("unit", "")
    body = [[(fmt_value(row[c], unit) if isinstance(row.get(c), float) else str(row.get(c, "")))
             for c in cols] for _, row in sorted(rows.items())]
    return [rename.get(c, c) for c in cols], body


def draw_table(ax, p, results):
    ax.set_xticks([])
    ax.set_yticks([])
    head, body = table_rows(p, results)
    if not body:
        ax.text(0.5, 0.5, "No data", color=DIM, ha="center", va="center", transform=ax.transAxes)
        return
    t = ax.table(cellText=body[:14], colLabels=head, loc="upper center", cellLoc="left")
    t.auto_set_font_size(False)
    t.set_fontsize(6.5)
    for (row, _), c in t.get_celld().items():
        c.set_facecolor(PANEL)
        c.set_edgecolor("#2c3235")
        c.get_text().set_color(FG if row else "#6e9fff")


def preview(path, a, prom, given, out_png, out_json):
    """one dashboard: returns the number of queries Prometheus rejected"""
    dash = load_dashboard(path)
    end = a.end
    start = end - a.window
    values = resolve_variables(dash, prom, given, end, "%ds" % (4 * a.scrape_interval), a.step)
    panels = list(panels_of(dash))
    rejected = 0
    report = []
    print("%s: %s" % (path, dash.get("title", "")))
    for v in sorted(k for k in values if not k.startswith("__") and k != "datasource"):
        print("  $%s = %s" % (v, values[v]))
    for p in panels:
        p["_results"] = run_panel(p, prom, values, start, end, a.step)
        print("panel %r (%s)" % (p.get("title", ""), p.get("type")))
        for r in p["_results"]:
            nz = sum(1 for s in r["series"] if nonzero(s))
            print("  %s: %s" % (r["refId"], r["expr"]))
            if r["error"]:
                rejected += 1
                print("     REJECTED by Prometheus: %s" % r["error"])
            else:
                print("     %d series, %d nonzero" % (len(r["series"]), nz))
            report.append({"panel": p.get("title", ""), "type": p.get("type"),
                           "refId": r["refId"], "expr": r["expr"], "error": r["error"],
                           "series": len(r["series"]), "nonzero": nz,
                           "nonzero_labels": [s["metric"] for s in r["series"] if nonzero(s)],
                           "points": sum(len(s["points"]) for s in r["series"])})
    if out_json:
        with open(out_json, "w") as f:
            json.dump({"dashboard": dash.get("title", ""), "file": path,
                       "variables": {k: v for k, v in values.items() if not k.startswith("__")},
                       "targets": report}, f, indent=1)
    if out_png:
        draw(dash, panels, out_png, a.dpi, start, end)
    print("%s: %d panels, %d queries, %d rejected by Prometheus" %
          (path, len(panels), len(report), rejected))
    return rejected


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("dashboard", nargs="+", help="Grafana dashboard JSON files")
    ap.add_argument("-o", "--out", help="the PNG to write (one dashboard)")
    ap.add_argument("--json", help="write per-target results (series counts, errors) here (one dashboard)")
    ap.add_argument("--out-dir", help="write NAME.png and NAME.json per dashboard NAME.json here")
    ap.add_argument("--prometheus", default="http://127.0.0.1:9090", help="Prometheus URL")
    ap.add_argument("--window", type=float, default=300, help="seconds before --end (300)")
    ap.add_argument("--end", type=float, help="end of the window, Unix seconds (now)")
    ap.add_argument("--step", type=int, default=2, help="query_range step, seconds (2)")
    ap.add_argument("--scrape-interval", type=int, default=1,
                    help="Prometheus' scrape interval, seconds: $__rate_interval is 4 of them (1)")
    ap.add_argument("--var", action="append", default=[], metavar="NAME=VALUE",
                    help="a template variable's value")
    ap.add_argument("--dpi", type=int, default=72)
    a = ap.parse_args()
    if (a.out or a.json) and len(a.dashboard) > 1:
        die("-o and --json take one dashboard; use --out-dir for several")
    given = {}
    for kv in a.var:
        if "=" not in kv:
            die("--var %r is not NAME=VALUE" % kv)
        k, v = kv.split("=", 1)
        given[k] = v
    prom = Prom(a.prometheus)
    # one window for all the dashboards, however long drawing takes
    a.end = a.end or datetime.datetime.now().timestamp()
    rejected = 0
    for path in a.dashboard:
        png, js = a.out, a.json
        if a.out_dir:
            base = os.path.join(a.out_dir, os.path.splitext(os.path.basename(path))[0])
            png, js = base + ".png", base + ".json"
        rejected += preview(path, a, prom, given, png, js)
    return 1 if rejected else 0


def draw(dash, panels, out, dpi, start, end):
    rows = max(p["gridPos"]["y"] + p["gridPos"]["h"] for p in panels)
    cw, rh = 0.75, 0.32          # inches per grid column and grid row
    W, H = 24 * cw, rows * rh + 0.6
    fig = plt.figure(figsize=(W, H), facecolor=BG)
    fig.text(0.006, 1 - 0.3 / H, "%s   %s - %s" % (
        dash.get("title", ""), datetime.datetime.fromtimestamp(start).strftime("%H:%M:%S"),
        datetime.datetime.fromtimestamp(end).strftime("%H:%M:%S")),
        color=FG, fontsize=12, va="center")
    pad = 0.08
    for p in panels:
        g = p["gridPos"]
        left = (g["x"] * cw + pad + 0.75) / W
        bottom = 1 - ((g["y"] + g["h"]) * rh + 0.6 - pad - 0.3) / H
        width = (g["w"] * cw - 2 * pad - 0.85) / W
        height = (g["h"] * rh - 2 * pad - 0.45) / H
        ax = fig.add_axes([left, bottom, width, height])
        style_axes(ax, p.get("title", ""))
        unit = (p.get("fieldConfig", {}).get("defaults", {}) or {}).get("unit", "")
        t = p.get("type")
        if t in ("stat", "gauge"):
            draw_stat(ax, p["_results"], unit)
        elif t == "table":
            draw_table(ax, p, p["_results"])
        elif t == "heatmap":
            draw_heatmap(ax, p["_results"])
        else:
            draw_timeseries(ax, p["_results"], unit, start, end)
    fig.savefig(out, dpi=dpi, facecolor=BG)
    plt.close(fig)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BrokenPipeError:
        sys.exit(1)
