// SPDX-License-Identifier: GPL-2.0
/*
 * vfiomig: the SVG timeline (--svg): per migration, a lane per device side
 * with its arcs coloured by the state they lead to, and the downtime
 * parts as bars.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "event_fmt.h"
#include "safetext.h"
#include "vfiomig.h"

static void xml_text(FILE *f, const char *text)
{
	/* the file says UTF-8: an invalid byte would make it unreadable */
	char buf[3 * 512];
	const char *s = buf;

	vfs_safe_text(buf, sizeof(buf), text, (size_t)-1, VFS_SAFE_UTF8);
	for (; *s; s++) {
		switch (*s) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&apos;", f); break;
		default:
			/* control characters are not allowed in XML 1.0 */
			fputc((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s, f);
		}
	}
}

#define SVG_W		1100.0
#define SVG_LEFT	330.0
#define SVG_RIGHT	30.0
#define LANE_H		34.0

static const char *state_colour(__u32 st)
{
	switch (st) {
	case VFS_MIG_RUNNING: return "#b7e4b0";
	case VFS_MIG_PRE_COPY: case VFS_MIG_PRE_COPY_P2P: return "#fde3a7";
	case VFS_MIG_STOP_COPY: return "#f9b26b";
	case VFS_MIG_RESUMING: return "#9ecae1";
	case VFS_MIG_RUNNING_P2P: return "#d9f0a3";
	case VFS_MIG_STOP: return "#d0d0d0";
	default: return "#f4a6a6";
	}
}

static const char *arc_colour(const struct vfs_mm_arc *a)
{
	if (a->ret < 0)
		return "#d62728";
	switch (a->to) {
	case VFS_MIG_STOP_COPY: case VFS_MIG_PRE_COPY: case VFS_MIG_PRE_COPY_P2P:
		return "#e6550d";	/* into saving */
	case VFS_MIG_RESUMING:
		return "#3182bd";	/* into resuming */
	case VFS_MIG_RUNNING: case VFS_MIG_RUNNING_P2P:
		return "#31a354";	/* back to running */
	default:
		return "#636363";	/* into STOP */
	}
}

struct scale {
	__u64 t0, t1;
	double px_per_ns;
};

static double sx(const struct scale *sc, __u64 t)
{
	if (t < sc->t0)
		t = sc->t0;
	return SVG_LEFT + (double)(t - sc->t0) * sc->px_per_ns;
}

static void svg_lane(FILE *f, const struct scale *sc, const struct vfs_mm_session *s,
		     bool is_src, double y)
{
	char label[160];
	size_t i;

	snprintf(label, sizeof(label), "%s %s", side_name(s, is_src), s->dev);
	fprintf(f, "<text x=\"8\" y=\"%.1f\" class=\"lane\">", y + LANE_H / 2 + 4);
	xml_text(f, label);
	fprintf(f, "</text>\n");
	fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#eeeeee\"/>\n",
		SVG_LEFT, y + LANE_H, SVG_W - SVG_RIGHT, y + LANE_H);
	/* the state the device sits in between arcs */
	for (i = 0; i < s->narcs; i++) {
		const struct vfs_mm_arc *a = &s->arcs[i];
		__u64 end = i + 1 < s->narcs ? s->arcs[i + 1].start_ns : sc->t1;
		double x0, x1;

		if (a->ret < 0)
			continue;
		x0 = sx(sc, a->end_ns);
		x1 = sx(sc, end);
		if (x1 - x0 < 0.5)
			continue;
		fprintf(f, "<rect x=\"%.2f\" y=\"%.1f\" width=\"%.2f\" height=\"%.1f\" fill=\"%s\">"
			"<title>", x0, y + 9, x1 - x0, LANE_H - 18, state_colour(a->to));
		fprintf(f, "%s for %.3f ms", vfs_mig_state_name(a->to), ms(end - a->end_ns));
		fprintf(f, "</title></rect>\n");
		if (x1 - x0 > 8.0 * strlen(vfs_mig_state_name(a->to)))
			fprintf(f, "<text x=\"%.2f\" y=\"%.1f\" class=\"state\">%s</text>\n",
				(x0 + x1) / 2, y + LANE_H / 2 + 4, vfs_mig_state_name(a->to));
	}
	/* the arcs themselves: at least 2 px so they show */
	for (i = 0; i < s->narcs; i++) {
		const struct vfs_mm_arc *a = &s->arcs[i];
		double x0 = sx(sc, a->start_ns), w = sx(sc, a->end_ns) - x0;

		if (a->end_ns < sc->t0)
			continue;	/* before the view (see "earlier arcs") */
		fprintf(f, "<rect x=\"%.2f\" y=\"%.1f\" width=\"%.2f\" height=\"%.1f\" fill=\"%s\"%s>"
			"<title>%s -&gt; %s: %.3f ms", x0, y + 3, w < 2 ? 2 : w, LANE_H - 6,
			arc_colour(a), a->ret < 0 ? " stroke=\"#000000\"" : "",
			vfs_mig_state_name(a->from), vfs_mig_state_name(a->to),
			ms(a->end_ns - a->start_ns));
		if (a->ret < 0)
			fprintf(f, ", failed: %s", errname((int)-a->ret));
		fprintf(f, "</title></rect>\n");
		/* named in the lane, on the side of the arc with room for it */
		if (a->ret < 0)
			fprintf(f, "<text x=\"%.2f\" y=\"%.1f\" class=\"fail\"%s>%s -&gt; %s "
				"failed: %s</text>\n", x0 > (SVG_LEFT + SVG_W) / 2 ? x0 - 4 :
				x0 + (w < 2 ? 2 : w) + 4, y + LANE_H / 2 + 4,
				x0 > (SVG_LEFT + SVG_W) / 2 ? " text-anchor=\"end\"" : "",
				vfs_mig_state_name(a->from), vfs_mig_state_name(a->to),
				errname((int)-a->ret));
	}
}

static double nice_step(double span_ms)
{
	double raw = span_ms / 8, p = 1e-6, m;

	if (!(raw > 0))
		return 1;
	while (p * 10 <= raw)	/* no libm: the largest power of ten <= raw */
		p *= 10;
	m = raw / p;
	return (m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10) * p;
}

/* the three parts of a downtime, in order, and how they are drawn */
static const struct { const char *name, *colour; } part[3] = {
	{ "source stop-copy", "#ef6548" },
	{ "transfer gap", "#fdd835" },
	{ "destination resume", "#4292c6" },
};

#define BAR_H		22.0

/* rows of the breakdown: the VM's, then each device pair with both ends */
static size_t svg_bars(const struct vfs_mm_migration *g)
{
	size_t i, n = 0;

	if (!g->has_downtime)
		return 0;
	/* one device: its bar would repeat the VM's */
	for (i = 0; i < g->npairs && g->npairs > 1; i++)
		n += g->pairs[i].has_downtime;
	return n + 1;
}

/*
 * One breakdown row: @label left, the parts from @t0 at their times, each
 * named with its length where it fits, its length only where that fits.
 */
static void svg_bar(FILE *f, const struct scale *sc, double y, const char *label, bool bold,
		    __u64 t0, const __u64 len[3])
{
	__u64 t = t0;
	int k;

	fprintf(f, "<text x=\"8\" y=\"%.1f\" class=\"bar\"%s>", y + BAR_H / 2 + 4,
		bold ? " font-weight=\"bold\"" : "");
	xml_text(f, label);
	fprintf(f, "</text>\n");
	for (k = 0; k < 3; k++) {
		double x0 = sx(sc, t), x1 = sx(sc, t + len[k]), w = x1 - x0;
		char txt[64];

		fprintf(f, "<rect x=\"%.2f\" y=\"%.1f\" width=\"%.2f\" height=\"%.1f\" fill=\"%s\" "
			"stroke=\"#ffffff\" stroke-width=\"0.5\"><title>%s: %.3f ms</title></rect>\n",
			x0, y + 2, w, BAR_H - 4, part[k].colour, part[k].name, ms(len[k]));
		snprintf(txt, sizeof(txt), "%s %.1f ms", part[k].name, ms(len[k]));
		/* about 6 px per character at 10 px */
		if (w < 6.0 * strlen(txt) + 6)
			snprintf(txt, sizeof(txt), "%.1f", ms(len[k]));
		if (w >= 6.0 * strlen(txt) + 6)
			fprintf(f, "<text x=\"%.2f\" y=\"%.1f\" class=\"state\">%s</text>\n",
				(x0 + x1) / 2, y + BAR_H / 2 + 4, txt);
		t += len[k];
	}
}

static double svg_breakdown(FILE *f, const struct scale *sc, const struct vfs_mm_migration *g,
			    double y)
{
	__u64 len[3] = { g->stop_copy_ns, g->transfer_ns, g->resume_ns };
	char label[200];
	size_t i;

	if (!g->has_downtime)
		return y;
	snprintf(label, sizeof(label), "VM downtime %.3f ms", ms(g->downtime_ns));
	svg_bar(f, sc, y, label, true, g->stop_ns, len);
	y += BAR_H;
	for (i = 0; i < g->npairs && g->npairs > 1; i++) {
		const struct vfs_mm_pair *p = &g->pairs[i];

		if (!p->has_downtime)
			continue;
		len[0] = p->stop_copy_ns;
		len[1] = p->transfer_ns;
		len[2] = p->resume_ns;
		snprintf(label, sizeof(label), "%s %.3f ms%s", p->src->dev, ms(p->downtime_ns),
			 (int)i == g->dominant && g->npairs > 1 ? " dominant" : "");
		svg_bar(f, sc, y, label, (int)i == g->dominant && g->npairs > 1,
			p->src->stop_ns, len);
		y += BAR_H;
	}
	return y;
}

static double svg_migration(FILE *f, const struct vfs_mm_migration *g, double y)
{
	struct scale sc = { .t0 = g->t0_ns, .t1 = g->t1_ns };
	double span, step, t, lanes_y, h, zero;
	char title[256];
	__u64 margin;
	size_t i, nl = 0;

	for (i = 0; i < g->npairs; i++)
		nl += !!g->pairs[i].src + !!g->pairs[i].dst;
	/*
	 * With a downtime, the view is the blackout with a margin either side
	 * (a destination may have waited stopped for long before it: that
	 * wait is cut at the left edge) and time 0 is the first stop.
	 */
	if (g->has_downtime) {
		margin = g->downtime_ns / 12 + 1;
		if (g->stop_ns - margin > sc.t0)
			sc.t0 = g->stop_ns - margin;
		if (g->running_ns + margin > sc.t1)
			sc.t1 = g->running_ns + margin;
	}
	span = (double)(sc.t1 - sc.t0);
	if (span <= 0)
		span = 1e6;
	/* a little room after the last arc */
	sc.t1 = sc.t0 + (__u64)(span * 1.03);
	sc.px_per_ns = (SVG_W - SVG_LEFT - SVG_RIGHT) / (double)(sc.t1 - sc.t0);
	zero = g->has_downtime ? ms((__s64)(g->stop_ns - sc.t0)) : 0;

	snprintf(title, sizeof(title), "pid %u (%s): %s", g->pid, g->comm,
		 vfs_mm_status_name(g->status));
	fprintf(f, "<text x=\"8\" y=\"%.1f\" class=\"title\">", y + 18);
	xml_text(f, title);
	if (g->status == VFS_MM_FAILED) {
		fprintf(f, " (%s on ", errname(g->err));
		xml_text(f, g->err_dev);
		fprintf(f, ")");
	}
	if (g->has_downtime)
		fprintf(f, ", downtime %.3f ms", ms(g->downtime_ns));
	if (g->dominant >= 0 && g->npairs > 1) {
		fprintf(f, ", dominated by ");
		xml_text(f, g->pairs[g->dominant].src->dev);
	}
	fprintf(f, "</text>\n");
	lanes_y = y + 30;
	h = nl * LANE_H;

	/* the downtime window, under everything */
	if (g->stop_ns) {
		__u64 end = g->has_downtime ? g->running_ns : sc.t1;
		double x0 = sx(&sc, g->stop_ns), x1 = sx(&sc, end);

		fprintf(f, "<rect x=\"%.2f\" y=\"%.1f\" width=\"%.2f\" height=\"%.1f\" "
			"fill=\"#ff0000\" fill-opacity=\"0.08\" stroke=\"#cc0000\" "
			"stroke-dasharray=\"4 3\"/>\n", x0, lanes_y - 2, x1 - x0, h + 4);
		if (!g->has_downtime)
			fprintf(f, "<text x=\"%.2f\" y=\"%.1f\" class=\"down\">stopped, not resumed: "
				"%.3f ms</text>\n", (x0 + x1) / 2, lanes_y + h + 14,
				ms(end - g->stop_ns));
	}
	y = lanes_y;
	for (i = 0; i < g->npairs; i++) {
		if (g->pairs[i].src) {
			svg_lane(f, &sc, g->pairs[i].src, true, y);
			y += LANE_H;
		}
		if (g->pairs[i].dst) {
			svg_lane(f, &sc, g->pairs[i].dst, false, y);
			y += LANE_H;
		}
	}
	/* the downtime, split: the VM's and each device's */
	y = svg_breakdown(f, &sc, g, y + 6);
	/* time axis in ms from the first stop (or the first arc) */
	y += 14;
	fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#000000\"/>\n",
		SVG_LEFT, y, SVG_W - SVG_RIGHT, y);
	step = nice_step(ms(sc.t1 - sc.t0));
	/* ticks at multiples of step relative to zero, inside the view */
	for (t = -step * (double)(long)(zero / step); t <= ms(sc.t1 - sc.t0) - zero + 1e-9;
	     t += step) {
		double x = SVG_LEFT + (t + zero) * 1e6 * sc.px_per_ns;

		fprintf(f, "<line x1=\"%.2f\" y1=\"%.1f\" x2=\"%.2f\" y2=\"%.1f\" stroke=\"#000000\"/>"
			"<text x=\"%.2f\" y=\"%.1f\" class=\"tick\">%g</text>\n",
			x, y, x, y + 5, x, y + 17, t > -1e-9 && t < 1e-9 ? 0.0 : t);
	}
	/* arcs before the view: the destinations' wait, cut */
	if (sc.t0 > g->t0_ns)
		fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" class=\"axis\">the first arc was "
			"%.1f ms before the view</text>\n", SVG_W - SVG_RIGHT, y + 31,
			ms(sc.t0 - g->t0_ns));
	fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" class=\"axis\">%s</text>\n", SVG_LEFT - 8, y + 17,
		g->has_downtime ? "ms from the first stop" : "ms from the first arc");
	return y + 40;
}

int vfiomig_write_svg(const char *path, const struct vfs_mm_migration *const *done, size_t ndone)
{
	static const struct { const char *colour, *what; } legend[] = {
		{ "#e6550d", "arc into a saving state" }, { "#3182bd", "arc into RESUMING" },
		{ "#31a354", "arc into RUNNING(_P2P)" }, { "#636363", "arc into STOP" },
		{ "#d62728", "failed arc" },
	};
	static const __u32 states[] = {
		VFS_MIG_RUNNING, VFS_MIG_RUNNING_P2P, VFS_MIG_PRE_COPY, VFS_MIG_STOP_COPY,
		VFS_MIG_STOP, VFS_MIG_RESUMING,
	};
	double h = 40 + 3 * 20, y, x;
	size_t i, j;
	FILE *f;

	for (i = 0; i < ndone; i++) {
		h += 30 + 20 + 40 + BAR_H * svg_bars(done[i]);
		for (j = 0; j < done[i]->npairs; j++)
			h += LANE_H * (!!done[i]->pairs[j].src + !!done[i]->pairs[j].dst);
	}
	f = fopen(path, "w");
	if (!f) {
		fprintf(stderr, "vfiomig: cannot write the SVG file %s: %s\n", path, strerror(errno));
		return -1;
	}
	fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
		"viewBox=\"0 0 %.0f %.0f\" font-family=\"sans-serif\">\n"
		"<style>.title{font-size:15px;font-weight:bold}.lane{font-size:12px}"
		".state{font-size:10px;text-anchor:middle}.tick{font-size:10px;text-anchor:middle}"
		".axis{font-size:10px;text-anchor:end}.bar{font-size:11px}"
		".down{font-size:12px;fill:#cc0000;text-anchor:middle}"
		".fail{font-size:11px;fill:#d62728}.legend{font-size:11px}</style>\n"
		"<rect width=\"100%%\" height=\"100%%\" fill=\"#ffffff\"/>\n",
		SVG_W, h, SVG_W, h);
	y = 10;
	for (i = 0; i < ndone; i++)
		y = svg_migration(f, done[i], y);
	if (!ndone)
		fprintf(f, "<text x=\"8\" y=\"24\" class=\"title\">no migration seen</text>\n");
	/* legend: arcs; states between arcs; the downtime's parts */
	for (i = 0; i < sizeof(legend) / sizeof(legend[0]); i++) {
		x = 8 + i * 215.0;
		fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"12\" height=\"12\" fill=\"%s\"/>"
			"<text x=\"%.1f\" y=\"%.1f\" class=\"legend\">%s</text>\n",
			x, y, legend[i].colour, x + 16, y + 10, legend[i].what);
	}
	y += 20;
	for (i = 0; i < sizeof(states) / sizeof(states[0]); i++) {
		x = 8 + i * 178.0;
		fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"12\" height=\"12\" fill=\"%s\"/>"
			"<text x=\"%.1f\" y=\"%.1f\" class=\"legend\">in %s</text>\n",
			x, y, state_colour(states[i]), x + 16, y + 10, vfs_mig_state_name(states[i]));
	}
	y += 20;
	for (i = 0; i < 3; i++) {
		x = 8 + i * 215.0;
		fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"12\" height=\"12\" fill=\"%s\"/>"
			"<text x=\"%.1f\" y=\"%.1f\" class=\"legend\">downtime: %s</text>\n",
			x, y, part[i].colour, x + 16, y + 10, part[i].name);
	}
	fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" class=\"legend\">(the dashed box: the VM's "
		"downtime)</text>\n", 8 + 3 * 215.0, y + 10);
	fprintf(f, "</svg>\n");
	if (fclose(f)) {
		fprintf(stderr, "vfiomig: writing %s: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}
