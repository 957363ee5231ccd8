/*
 * cli.c - shared helpers of the programs' main files (see cli.h).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "cli.h"
#include "metrics.h"
#include "banned.h"

int cli_global_opt(struct global *g, int c, const char *arg)
{
	switch (c) {
	case 'c':
		g->config_path = arg;
		return 1;
	case 'v':
		g->verbosity = 1;
		return 1;
	case 'q':
		g->verbosity = -1;
		return 1;
	case OPT_NOW:
		if (util_parse_time(arg, &g->now) != 0) {
			cli_usage_error(g, "bad --now time '%s' (use e.g. 2026-12-01T10:00:00Z or Unix seconds)",
					arg);
			exit(EX_USAGE);
		}
		return 1;
	case 'h':
		g->usage(stdout);
		exit(cli_finish(g, 0));
	case OPT_VERSION:
		printf("%s %s\n", g->prog, VERSION);
		exit(cli_finish(g, 0));
	}
	return 0;
}

static void verror(const struct global *g, const char *fmt, va_list ap)
{
	fprintf(stderr, "%s: ", g->prog);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void cli_error(const struct global *g, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verror(g, fmt, ap);
	va_end(ap);
}

void cli_error_lines(const struct global *g, const char *text)
{
	while (text && *text) {
		size_t n = strcspn(text, "\n");

		fprintf(stderr, "%s: %.*s\n", g->prog, (int)n, text);
		text += n;
		if (*text == '\n')
			text++;
	}
}

int cli_usage_error(const struct global *g, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verror(g, fmt, ap);
	va_end(ap);
	g->usage(stderr);
	return EX_USAGE;
}

enum err cli_load_config(const struct global *g, struct config *cfg, int need)
{
	struct strbuf errs = STRBUF_INIT;
	enum err e = config_load(cfg, g->config_path, &errs);

	if (e == ERR_OK && need)
		e = config_require(cfg, need, &errs);
	if (e != ERR_OK)
		cli_error_lines(g, strbuf_str(&errs));
	strbuf_release(&errs);
	return e;
}

void cli_print_json(cJSON *doc)
{
	char *s = cJSON_Print(doc);

	if (s) {
		fputs(s, stdout);
		fputc('\n', stdout);
		cJSON_free(s);
	}
	cJSON_Delete(doc);
}

int cli_finish(const struct global *g, int code)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		cli_error(g, "cannot write output: %s", strerror(errno));
		return EX_IOERR;
	}
	return code;
}

void cli_lock_path(const char *db_path, const char *suffix, char *buf, size_t size)
{
	snprintf(buf, size, "%s%s", db_path, suffix);
}

void cli_write_metrics(const struct global *g, const struct config *cfg, sqlite3 *db)
{
	const char *path = cfg->metrics.textfile;
	struct strbuf text = STRBUF_INIT;
	struct metrics m;
	char eb[ERRBUF_SIZE];
	int fd;
	enum err e;

	if (!path || !db)
		return;
	metrics_file_lock(path, &fd);
	e = metrics_collect(db, cfg, g->now, &m, eb);
	if (e == ERR_OK) {
		metrics_render(&m, &text);
		e = metrics_write_file(path, strbuf_str(&text), text.len, eb);
	}
	metrics_file_unlock(fd);
	if (e != ERR_OK && g->verbosity >= 0) {
		if (e == ERR_IO)        /* the message names the file */
			cli_error(g, "warning: %s", eb);
		else
			cli_error(g, "warning: cannot write metrics file '%s': %s", path, eb);
	}
	strbuf_release(&text);
}
