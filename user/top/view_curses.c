// SPDX-License-Identifier: GPL-2.0
/*
 * The interactive view: the only vfiotop file that calls curses. It reads
 * the model's tables and never touches BPF; keys change only the view's
 * state (view, sort column, order).
 */
#include "view.h"
#include <ctype.h>
#include <locale.h>
#include <string.h>
#include <curses.h>

static const char *const help_lines[] = {
	"vfiotop keys",
	"",
	"  q       quit",
	"  v       switch view (VMs, devices)",
	"  < >     sort on the column to the left / right",
	"  r       reverse the order",
	"  h ?     this help (any key returns)",
	"",
	"Counts are since vfiotop attached; rates over the last interval,",
	"\"-\" until a row has two samples. Latency: log2-slot upper bounds.",
};

static void draw_help(void)
{
	size_t i;

	erase();
	for (i = 0; i < sizeof(help_lines) / sizeof(help_lines[0]); i++)
		mvaddstr((int)i, 0, help_lines[i]);
	refresh();
}

static void cell(const char *s, int width, bool left, bool last)
{
	char buf[128];
	char *p;

	snprintf(buf, sizeof(buf), "%s", s);
	for (p = buf; *p; p++)
		if (!isprint((unsigned char)*p))
			*p = '?';
	if (last && left)
		printw("%s", buf);
	else
		printw("%*s ", left ? -width : width, buf);
}

static void draw(const struct vfs_model *m, enum vfs_view v, const char *err)
{
	const struct vfs_table *t = &m->view[v];
	char buf[128];
	size_t i, f;
	int y = 2;

	erase();
	mvprintw(0, 0, "vfiotop  frame %llu  VMs %zu  devices %zu  view %s  sort %s %s",
		 (unsigned long long)m->frame, m->nvms, m->ndevs, vfs_view_name(v),
		 t->fields[t->sort].key, t->desc ? "(desc)" : "(asc)");
	mvprintw(1, 0, "%s", err ? err : "q quit  v view  < > sort  r reverse  h help");
	move(y++, 0);
	attron(A_REVERSE);
	for (f = 0; f < t->nfields; f++) {
		if ((int)f == t->sort)
			attron(A_BOLD);
		cell(t->fields[f].title, t->fields[f].width, t->fields[f].left,
		     f + 1 == t->nfields);
		if ((int)f == t->sort)
			attroff(A_BOLD);
	}
	clrtoeol();
	attroff(A_REVERSE);
	if (!t->n)
		mvprintw(y, 0, "  (%s)", v == VFS_VIEW_VMS ?
			 "no VM has made a VFIO call since vfiotop attached" :
			 "no VFIO or vDPA device has been used since vfiotop attached");
	for (i = 0; i < t->n && y < LINES; i++) {
		move(y++, 0);
		for (f = 0; f < t->nfields; f++)
			cell(vfs_field_text(&t->fields[f], t->rows[i], buf, sizeof(buf)),
			     t->fields[f].width, t->fields[f].left, f + 1 == t->nfields);
	}
	refresh();
}

int top_curses_run(struct vfs_model *m, struct top_opts *o)
{
	enum vfs_view v = o->view;
	bool help = false, rescan = true;
	char err[160] = "";
	__u64 frames = 0;

	setlocale(LC_ALL, "");
	if (!initscr()) {
		fprintf(stderr, "vfiotop: cannot start the terminal UI: use -b\n");
		return 1;
	}
	cbreak();
	noecho();
	curs_set(0);
	keypad(stdscr, TRUE);
	timeout(o->delay_ms > 0x7fffffff ? 0x7fffffff : (int)o->delay_ms);
	while (!top_exiting) {
		int ch, e;

		if (rescan) {
			e = vfs_model_update(m);
			if (e)
				snprintf(err, sizeof(err), "reading the maps: %s", strerror(-e));
			frames++;
			rescan = false;
		}
		if (help)
			draw_help();
		else
			draw(m, v, err[0] ? err : NULL);
		if (o->count && frames >= o->count)
			break;
		ch = getch();
		if (help && ch != ERR) {
			help = false;
			continue;
		}
		switch (ch) {
		case ERR:
			rescan = true;	/* the delay passed */
			break;
		case 'q':
		case 'Q':
			top_exiting = 1;
			break;
		case 'v':
			v = (v + 1) % VFS_VIEW_MAX;
			break;
		case '<':
		case KEY_LEFT:
			if (m->view[v].sort > 0)
				m->view[v].sort--;
			m->view[v].desc = m->view[v].fields[m->view[v].sort].sort_desc;
			vfs_model_sort(m, v);
			break;
		case '>':
		case KEY_RIGHT:
			if ((size_t)m->view[v].sort + 1 < m->view[v].nfields)
				m->view[v].sort++;
			m->view[v].desc = m->view[v].fields[m->view[v].sort].sort_desc;
			vfs_model_sort(m, v);
			break;
		case 'r':
			m->view[v].desc = !m->view[v].desc;
			vfs_model_sort(m, v);
			break;
		case 'h':
		case '?':
			help = true;
			break;
		default:
			break;	/* KEY_RESIZE and others: redraw */
		}
	}
	endwin();
	return 0;
}
