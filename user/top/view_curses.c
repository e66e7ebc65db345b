// SPDX-License-Identifier: GPL-2.0
/*
 * The interactive view: the only vfiotop file that calls curses. It reads
 * the model's tables and never touches BPF; keys change only the view's
 * state (view, sort column and order, filter, pause, interval, cursor,
 * drill-down). Lines are built in a buffer and clipped to the terminal's
 * width, so 80x24 and a serial console work; colours only when the
 * terminal has them.
 */
#include "view.h"
#include <ctype.h>
#include <locale.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <curses.h>
#include "stats.h"
#include "vfio_ioctl.h"

struct ui {
	enum vfs_view v;
	bool help, paused, drill, colour;
	bool editing, editing_cols;	/* typing a filter / a column list */
	bool searching;			/* typing a search (F3) */
	struct vfs_filter *filter;	/* the options' (shared with batch mode) */
	char edit[128];
	size_t cursor;			/* row index among the shown rows */
	size_t dcursor;			/* command index in the drill-down */
	__u64 key_obj;			/* the drilled row's id (pid or device address) */
	char key_name[160];
	struct vfs_drill d;
	char msg[256];
};

static const char *const help_lines[] = {
	"vfiotop keys",
	"",
	"  q  F10      quit",
	"  v  Tab      next view;  1-6: VMs, devices, queues, migrations, events, mdev",
	"  m           the mdev view: capacity per parent and type, and who created the instances",
	"  < >         sort on the column to the left / right (also Left/Right;",
	"              F6: the next column)",
	"  r           reverse the sort order",
	"  F3          search: select the next row showing a text, any case",
	"  /  F4       filter: an extended regular expression, any case, matched",
	"              against the text columns; Enter applies, Esc clears",
	"  c           columns to show: keys separated by commas (vfiotop -h lists",
	"              them); Enter applies, an empty list shows all",
	"  Up Down j k select a row;  PgUp PgDn Home End",
	"  Enter       drill-down on the selected VM or device: per-ioctl",
	"              latency histogram and errno breakdown (Esc returns)",
	"  p  Space    pause / resume refreshing",
	"  + -         refresh interval longer / shorter",
	"  h ?  F1     this help (any key returns)",
	"",
	"Counts are since vfiotop attached; rates over the last interval,",
	"\"-\" until a row has two samples. Latency: log2-slot upper bounds.",
	"Any other key does nothing.",
};

/* one line of at most the screen's width at @y */
static void line_at(int y, const char *s, attr_t a)
{
	if (y >= LINES)
		return;
	move(y, 0);
	if (a)
		attron(a);
	addnstr(s, COLS);
	clrtoeol();
	if (a)
		attroff(a);
}

static size_t cell(char *out, size_t len, const char *s, const struct vfs_field *f, bool last)
{
	char buf[192];

	snprintf(buf, sizeof(buf), "%s", s);
	top_printable(buf);
	if (last && f->left)
		return snprintf(out, len, "%s", buf);
	return snprintf(out, len, "%*s ", f->left ? -(int)f->width : (int)f->width, buf);
}

static void row_text(const struct vfs_table *t, const void *row, char *out, size_t len)
{
	char buf[192];
	size_t f, o = 0, last = 0;

	for (f = 0; f < t->nfields; f++)
		if (!(t->hidden & (1ull << f)))
			last = f;
	out[0] = 0;
	for (f = 0; f < t->nfields && o < len; f++) {
		const char *s;

		if (t->hidden & (1ull << f))
			continue;
		s = row ? vfs_field_text(&t->fields[f], row, buf, sizeof(buf)) : t->fields[f].title;
		o += cell(out + o, len - o, s, &t->fields[f], f == last);
	}
}

/* the rows shown (filtered), in order; returns how many */
static size_t shown_rows(const struct vfs_table *t, const struct vfs_filter *filter,
			 const void **out,
			 size_t max)
{
	size_t i, n = 0;

	for (i = 0; i < t->n; i++)
		if (top_row_matches(t, t->rows[i], filter)) {
			if (n < max)
				out[n] = t->rows[i];
			n++;
		}
	return n;
}

static void header(const struct vfs_model *m, const struct top_source *s, struct ui *u,
		   const struct top_opts *o)
{
	const struct vfs_table *t = &m->view[u->v];
	char l[512], tbuf[16];
	time_t now = (time_t)(m->rt_ns / 1000000000ull);
	struct tm tm;
	int v, n;

	localtime_r(&now, &tm);
	strftime(tbuf, sizeof(tbuf), "%H:%M:%S", &tm);
	snprintf(l, sizeof(l), "vfiotop %s  frame %llu  every %.1fs  VMs %zu  devices %zu  "
		 "lost %llu  %s%s", tbuf, (unsigned long long)m->frame, o->delay_ms / 1000.0,
		 m->nvms, m->ndevs, (unsigned long long)m->lost, top_source_name(s),
		 u->paused ? "  [PAUSED]" : "");
	line_at(0, l, u->colour ? COLOR_PAIR(1) | A_BOLD : A_BOLD);
	/* the state first: on a narrow terminal the view list is what is cut */
	n = snprintf(l, sizeof(l), "sort %s %s%s%s  ", t->fields[t->sort].key,
		     t->desc ? "desc" : "asc", u->filter->set ? "  filter: " : "",
		     u->filter->text);
	for (v = 0; v < VFS_VIEW_MAX && n < (int)sizeof(l); v++)
		n += snprintf(l + n, sizeof(l) - n, "%s%d:%s%s ", v == (int)u->v ? "[" : "", v + 1,
			      vfs_view_name(v), v == (int)u->v ? "]" : "");
	line_at(1, l, 0);
}

static void draw_table(const struct vfs_model *m, struct ui *u)
{
	const struct vfs_table *t = &m->view[u->v];
	static const void *rows[4096];
	size_t n, i, first = 0, room;
	char l[1024];
	int y = 3;

	row_text(t, NULL, l, sizeof(l));
	line_at(2, l, A_REVERSE);
	n = shown_rows(t, u->filter, rows, sizeof(rows) / sizeof(rows[0]));
	if (n > sizeof(rows) / sizeof(rows[0]))
		n = sizeof(rows) / sizeof(rows[0]);
	if (u->cursor >= n)
		u->cursor = n ? n - 1 : 0;
	room = LINES > 5 ? (size_t)LINES - 5 : 1;
	if (u->cursor >= room)
		first = u->cursor - room + 1;
	if (!t->n)
		line_at(y++, "  (no rows yet: see the events view, or h for help)", 0);
	else if (!n)
		line_at(y++, "  (no row matches the filter; / then Esc clears it)", 0);
	if (!t->n) {
		snprintf(l, sizeof(l), "  (%s)", top_view_empty(u->v));
		line_at(y++, l, 0);
	}
	for (i = first; i < n && y < LINES - 1; i++) {
		row_text(t, rows[i], l, sizeof(l));
		line_at(y++, l, i == u->cursor ? (u->colour ? COLOR_PAIR(2) : A_BOLD | A_UNDERLINE) : 0);
	}
	while (y < LINES - 1)
		line_at(y++, "", 0);
	if (u->editing)
		snprintf(l, sizeof(l), "filter: %s_   (Enter applies, Esc clears)", u->edit);
	else if (u->searching)
		snprintf(l, sizeof(l), "search: %s_   (Enter selects the next row with it, Esc cancels)",
			 u->edit);
	else if (u->editing_cols)
		snprintf(l, sizeof(l), "columns: %s_   (keys, comma-separated; empty: all)", u->edit);
	else if (u->msg[0])
		snprintf(l, sizeof(l), "%s", u->msg);
	else
		snprintf(l, sizeof(l), "q quit  1-6/v view  <> sort  r rev  / filter  c cols  Enter drill  "
			 "p pause  +- delay  h help");
	line_at(LINES - 1, l, A_REVERSE);
}

/* the selected row's id, for the drill-down to follow it across frames */
static bool select_row(const struct vfs_model *m, struct ui *u)
{
	const struct vfs_table *t = &m->view[u->v];
	const void *rows[1];
	size_t i, k = 0;

	for (i = 0; i < t->n; i++) {
		if (!top_row_matches(t, t->rows[i], u->filter))
			continue;
		if (k++ != u->cursor)
			continue;
		rows[0] = t->rows[i];
		if (u->v == VFS_VIEW_VMS) {
			const struct vfs_vm_row *r = rows[0];

			u->key_obj = r->pid;
			snprintf(u->key_name, sizeof(u->key_name), "VM %s (pid %llu)", r->name,
				 (unsigned long long)r->pid);
			return true;
		}
		if (u->v == VFS_VIEW_DEVICES) {
			const struct vfs_dev_row *r = rows[0];

			u->key_obj = r->obj;
			snprintf(u->key_name, sizeof(u->key_name), "device %s (%s)", r->name,
				 r->owner);
			return true;
		}
	}
	return false;
}

static const void *drilled_row(const struct vfs_model *m, const struct ui *u)
{
	size_t i;

	if (u->v == VFS_VIEW_VMS) {
		for (i = 0; i < m->nvms; i++)
			if (m->vms[i].pid == u->key_obj)
				return &m->vms[i];
	} else {
		for (i = 0; i < m->ndevs; i++)
			if (m->devs[i].obj == u->key_obj)
				return &m->devs[i];
	}
	return NULL;
}

static void draw_drill(const struct vfs_model *m, struct ui *u)
{
	const void *row = drilled_row(m, u);
	const struct vfs_drill_cmd *c;
	char l[512], b1[16], b2[16], b3[16], b4[16], nb[16];
	__u64 p50, p99, maxn = 0;
	size_t i, lo = VFS_HIST_SLOTS, hi = 0;
	int y = 2;

	snprintf(l, sizeof(l), "drill-down: %s   Up/Down: command  Esc: back", u->key_name);
	line_at(1, l, A_BOLD);
	if (!row || !vfs_model_drill(m, u->v, row, &u->d)) {
		line_at(y++, "  (this row left the maps)", 0);
		while (y < LINES)
			line_at(y++, "", 0);
		return;
	}
	line_at(y++, "COMMAND                       COUNT   ERRS     AVG     MAX     P50     P99",
		A_REVERSE);
	if (u->dcursor >= u->d.ncmd)
		u->dcursor = u->d.ncmd ? u->d.ncmd - 1 : 0;
	for (i = 0; i < u->d.ncmd && y < LINES / 2; i++) {
		c = &u->d.cmd[i];
		vfs_hist_quantile(c->hist, VFS_HIST_SLOTS, 0.5, &p50);
		vfs_hist_quantile(c->hist, VFS_HIST_SLOTS, 0.99, &p99);
		snprintf(l, sizeof(l), "%-26s %9llu %6llu %7s %7s %7s %7s",
			 vfio_ioctl_str(c->kind, c->cmd, nb, sizeof(nb)), (unsigned long long)c->count,
			 (unsigned long long)c->errors,
			 vfs_fmt_ns(c->count ? c->lat_sum_ns / c->count : 0, b1, sizeof(b1)),
			 vfs_fmt_ns(c->lat_max_ns, b2, sizeof(b2)),
			 p50 ? vfs_fmt_ns(p50, b3, sizeof(b3)) : "-",
			 p99 ? vfs_fmt_ns(p99, b4, sizeof(b4)) : "-");
		line_at(y++, l, i == u->dcursor ? A_BOLD | A_UNDERLINE : 0);
	}
	if (!u->d.ncmd)
		line_at(y++, "  (no ioctl counted)", 0);
	if (u->d.ncmd) {
		c = &u->d.cmd[u->dcursor];
		for (i = 0; i < VFS_HIST_SLOTS; i++)
			if (c->hist[i]) {
				if (i < lo)
					lo = i;
				hi = i;
				if (c->hist[i] > maxn)
					maxn = c->hist[i];
			}
		snprintf(l, sizeof(l), "latency histogram of %s (log2 slots)",
			 vfio_ioctl_str(c->kind, c->cmd, nb, sizeof(nb)));
		line_at(y++, l, A_BOLD);
		for (i = lo; i <= hi && i < VFS_HIST_SLOTS && y < LINES - 3; i++) {
			char bar[41];
			int w = maxn ? (int)((__u64)c->hist[i] * 40 / maxn) : 0;

			memset(bar, '#', w);
			bar[w] = 0;
			snprintf(l, sizeof(l), "  %7s .. %-7s %9u |%s",
				 vfs_fmt_ns(i ? 1ull << i : 0, b1, sizeof(b1)),
				 vfs_fmt_ns(2ull << i, b2, sizeof(b2)), c->hist[i], bar);
			line_at(y++, l, 0);
		}
	}
	line_at(y++, "ERRNO            COMMAND                        COUNT", A_REVERSE);
	for (i = 0; i < u->d.nerr && y < LINES; i++) {
		const struct vfs_drill_errno *e = &u->d.err[i];

		snprintf(l, sizeof(l), "%-16s %-26s %9llu", strerrorname_np(e->err) ?
			 strerrorname_np(e->err) : "?", vfio_ioctl_str(e->kind, e->cmd, nb, sizeof(nb)),
			 (unsigned long long)e->count);
		line_at(y++, l, 0);
	}
	if (!u->d.nerr && y < LINES)
		line_at(y++, "  (no failed ioctl)", 0);
	while (y < LINES)
		line_at(y++, "", 0);
}

static void draw(const struct vfs_model *m, const struct top_source *s, struct ui *u,
		 const struct top_opts *o)
{
	size_t i;

	erase();
	if (u->help) {
		for (i = 0; i < sizeof(help_lines) / sizeof(help_lines[0]); i++)
			line_at((int)i, help_lines[i], i ? 0 : A_BOLD);
	} else {
		header(m, s, u, o);
		if (u->drill)
			draw_drill(m, u);
		else
			draw_table(m, u);
	}
	refresh();
}

static void set_sort(struct vfs_model *m, struct ui *u, int delta)
{
	struct vfs_table *t = &m->view[u->v];
	int i = t->sort + delta;

	if (i < 0 || (size_t)i >= t->nfields)
		return;
	t->sort = i;
	t->desc = t->fields[i].sort_desc;
	vfs_model_sort(m, u->v);
}

/* the shown columns' keys, comma-separated ("" when all are shown) */
static void columns_text(const struct vfs_table *t, char *out, size_t len)
{
	size_t f, o = 0;

	out[0] = 0;
	for (f = 0; t->hidden && f < t->nfields && o < len; f++)
		if (!(t->hidden & (1ull << f)))
			o += snprintf(out + o, len - o, "%s%s", o ? "," : "", t->fields[f].key);
}

/* a key while typing a filter or a column list */
/*
 * F3: select the next shown row (after the cursor, wrapping) whose text
 * contains @what in any case, as htop's search does; the filter stays.
 */
static void search_next(const struct vfs_model *m, struct ui *u, const char *what)
{
	static const void *rows[4096];
	const struct vfs_table *t = &m->view[u->v];
	size_t n = shown_rows(t, u->filter, rows, sizeof(rows) / sizeof(rows[0])), i, at;
	char l[512];

	if (n > sizeof(rows) / sizeof(rows[0]))
		n = sizeof(rows) / sizeof(rows[0]);
	for (i = 1; *what && i <= n; i++) {
		at = (u->cursor + i) % n;
		row_text(t, rows[at], l, sizeof(l));
		if (strcasestr(l, what)) {
			u->cursor = at;
			return;
		}
	}
	snprintf(u->msg, sizeof(u->msg), "search: no row shows '%.100s'", what);
}

static void edit_key(struct vfs_model *m, struct ui *u, int ch)
{
	struct vfs_table *t = &m->view[u->v];
	size_t n = strlen(u->edit);
	char why[200];	/* fits u->msg with its prefix */

	if (u->searching && (ch == '\n' || ch == '\r' || ch == KEY_ENTER || ch == 27)) {
		if (ch != 27)
			search_next(m, u, u->edit);
		u->searching = false;
	} else if (ch == '\n' || ch == '\r' || ch == KEY_ENTER) {
		/* a bad expression or key keeps what applied before, and says why */
		if (u->editing && vfs_filter_set(u->filter, u->edit, why, sizeof(why)))
			snprintf(u->msg, sizeof(u->msg), "%s", why);
		else if (u->editing_cols &&
			 vfs_fields_pick(t->fields, t->nfields, u->edit, &t->hidden, why, sizeof(why)))
			snprintf(u->msg, sizeof(u->msg), "columns: %s", why);
		u->editing = u->editing_cols = false;
		u->cursor = 0;
	} else if (ch == 27) {
		if (u->editing)
			vfs_filter_free(u->filter);
		u->edit[0] = 0;
		u->editing = u->editing_cols = false;
	} else if ((ch == KEY_BACKSPACE || ch == 127 || ch == 8) && n) {
		u->edit[n - 1] = 0;
	} else if (ch >= 32 && ch < 127 && n + 1 < sizeof(u->edit)) {
		u->edit[n] = (char)ch;
		u->edit[n + 1] = 0;
	}
}

static void set_timeout(const struct top_opts *o)
{
	timeout(o->delay_ms > 0x7fffffff ? 0x7fffffff : (int)o->delay_ms);
}

int top_curses_run(struct vfs_model *m, struct top_source *s, struct top_opts *o)
{
	struct ui u = { .v = o->view };
	char err[320] = "";
	bool rescan = true, ended = false;
	__u64 frames = 0;
	int rc = TOP_EXIT_OK;

	u.filter = &o->filter;
	setlocale(LC_ALL, "");
	if (!initscr()) {
		fprintf(stderr, "vfiotop: cannot start the terminal UI: use -b\n");
		return TOP_EXIT_ERROR;
	}
	cbreak();
	noecho();
	curs_set(0);
	keypad(stdscr, TRUE);
	set_escdelay(25);
	/* https://no-color.org: set and not empty means no colour */
	if (has_colors() && !(getenv("NO_COLOR") && getenv("NO_COLOR")[0])) {
		start_color();
		use_default_colors();
		init_pair(1, COLOR_CYAN, -1);
		init_pair(2, COLOR_BLACK, COLOR_CYAN);
		u.colour = true;
	}
	set_timeout(o);
	while (!top_exiting) {
		int ch;

		if (rescan && !u.paused && !ended) {
			int r = top_source_frame(s, m, err, sizeof(err));

			if (r < 0) {
				snprintf(u.msg, sizeof(u.msg), "%s", err);
				rc = TOP_EXIT_ERROR;
				ended = true;
			} else if (r == 0) {
				snprintf(u.msg, sizeof(u.msg), "the recording ended: q quits");
				ended = true;
			} else {
				const char *note = top_source_note(s);

				frames++;
				if (note)
					snprintf(u.msg, sizeof(u.msg), "%s", note);
			}
		}
		rescan = false;
		draw(m, s, &u, o);
		if (o->count && frames >= o->count)
			break;
		ch = getch();
		if (ch == ERR) {
			rescan = true;	/* the interval passed */
			continue;
		}
		if (u.help) {
			u.help = false;
			continue;
		}
		if (u.editing || u.editing_cols || u.searching) {
			edit_key(m, &u, ch);
			continue;
		}
		u.msg[0] = ended ? u.msg[0] : 0;
		switch (ch) {
		case 'q':
		case 'Q':
		case KEY_F(10):
			top_exiting = 1;
			break;
		case 'v':
		case '\t':
			u.v = (u.v + 1) % VFS_VIEW_MAX;
			u.drill = false;
			u.cursor = 0;
			break;
		case '1': case '2': case '3': case '4': case '5': case '6':
			u.v = ch - '1';
			u.drill = false;
			u.cursor = 0;
			break;
		case 'm':
			u.v = VFS_VIEW_MDEV;
			u.drill = false;
			u.cursor = 0;
			break;
		case '<':
		case KEY_LEFT:
			set_sort(m, &u, -1);
			break;
		case '>':
		case KEY_RIGHT:
		case KEY_F(6):
			set_sort(m, &u, 1);
			break;
		case 'r':
			m->view[u.v].desc = !m->view[u.v].desc;
			vfs_model_sort(m, u.v);
			break;
		case KEY_F(3):
			u.searching = true;
			u.edit[0] = 0;
			break;
		case '/':
		case KEY_F(4):
			u.editing = true;
			snprintf(u.edit, sizeof(u.edit), "%s", u.filter->text);
			break;
		case 'c':
			u.editing_cols = true;
			columns_text(&m->view[u.v], u.edit, sizeof(u.edit));
			break;
		case 'p':
		case ' ':
			u.paused = !u.paused;
			break;
		case '+':
			o->delay_ms = o->delay_ms * 2 > 3600000 ? 3600000 : o->delay_ms * 2;
			set_timeout(o);
			break;
		case '-':
			o->delay_ms = o->delay_ms / 2 < 100 ? 100 : o->delay_ms / 2;
			set_timeout(o);
			break;
		case KEY_UP:
		case 'k':
			if (u.drill && u.dcursor)
				u.dcursor--;
			else if (!u.drill && u.cursor)
				u.cursor--;
			break;
		case KEY_DOWN:
		case 'j':
			if (u.drill)
				u.dcursor++;
			else
				u.cursor++;	/* clamped when drawn */
			break;
		case KEY_PPAGE:
			u.cursor = u.cursor > 10 ? u.cursor - 10 : 0;
			break;
		case KEY_NPAGE:
			u.cursor += 10;
			break;
		case KEY_HOME:
			u.cursor = 0;
			break;
		case KEY_END:
			u.cursor = (size_t)-1 / 2;
			break;
		case '\n':
		case '\r':
		case KEY_ENTER:
			if (u.drill)
				u.drill = false;
			else if (select_row(m, &u))
				u.drill = true, u.dcursor = 0;
			else
				snprintf(u.msg, sizeof(u.msg), "drill-down: select a row of the VMs "
					 "or devices view (1 or 2)");
			break;
		case 27:
		case KEY_BACKSPACE:
			u.drill = false;
			break;
		case 'h':
		case '?':
		case KEY_F(1):
			u.help = true;
			break;
		default:
			break;	/* KEY_RESIZE and others: redraw */
		}
	}
	endwin();
	if (rc && err[0])
		fprintf(stderr, "vfiotop: %s\n", err);
	return rc;
}
