/*
 * timeline.c - `stays-reconcile timeline` (timeline.h): the options, the
 * database opened read-only, the rows read (lib/timeline_store.c), the
 * timeline built (lib/timeline.c), rendered (lib/report_timeline.c) to
 * stdout or to the --html file, and the exit code.
 *
 * Never a network call, a lock or a write to the database: it can run
 * every minute beside the other two programs.  The page is written to a
 * temporary file in FILE's folder, synced, made 0644 (a web server
 * reads it; it holds no PIN) and renamed over FILE, so a reader sees the
 * old page or the new one, never half of one.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "db.h"
#include "ids.h"
#include "report_timeline.h"
#include "timeline.h"
#include "timeline_store.h"
#include "tuya.h"
#include "banned.h"

#define DAYS_DEFAULT 14

struct timeline_cmd {
	int days;
	const char *from;       /* --from, or NULL: today */
	const char *lock;       /* --lock, or NULL */
	const char *listing;    /* --listing, or NULL */
	const char *html;       /* --html FILE, or NULL */
	int json;
};

/* -1 when the command line is good, else the exit status. */
static int timeline_options(struct global *g, int argc, char **argv, struct timeline_cmd *tc)
{
	static const struct option opts[] = {
		GLOBAL_LONGOPTS,
		{ "days", required_argument, NULL, OPT_DAYS },
		{ "from", required_argument, NULL, OPT_FROM },
		{ "lock", required_argument, NULL, OPT_LOCK },
		{ "listing", required_argument, NULL, OPT_LISTING },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "html", required_argument, NULL, OPT_HTML },
		{ NULL, 0, NULL, 0 }
	};
	int c, y, m, d;
	char *end;
	long v;

	optind = 0;
	while ((c = getopt_long(argc, argv, GLOBAL_SHORTOPTS, opts, NULL)) != -1) {
		if (cli_global_opt(g, c, optarg))
			continue;
		switch (c) {
		case OPT_DAYS:
			v = strtol(optarg, &end, 10);
			if (*end || end == optarg || v < 1 || v > TL_DAYS_MAX)
				return cli_usage_error(g, "--days must be a number from 1 to %d",
						       TL_DAYS_MAX);
			tc->days = (int)v;
			break;
		case OPT_FROM: tc->from = optarg; break;
		case OPT_LOCK: tc->lock = optarg; break;
		case OPT_LISTING: tc->listing = optarg; break;
		case OPT_JSON: tc->json = 1; break;
		case OPT_HTML: tc->html = optarg; break;
		default: return cli_usage_error(g, "bad option for timeline");
		}
	}
	if (optind < argc)
		return cli_usage_error(g, "unexpected argument '%s'", argv[optind]);
	if (tc->from && util_parse_date(tc->from, &y, &m, &d) != 0)
		return cli_usage_error(g, "bad date '%s': YYYY-MM-DD", tc->from);
	if (tc->lock && tc->listing)
		return cli_usage_error(g, "timeline takes --lock or --listing, not both");
	if (tc->json && tc->html)
		return cli_usage_error(g, "timeline takes --json or --html, not both");
	if (tc->html && !*tc->html)
		return cli_usage_error(g, "--html needs a file name");
	if (tc->lock && !ids_device_valid(tc->lock))
		return cli_usage_error(g, "bad device id '%s': letters, digits, '_' and '-' only (at most %d)",
				       tc->lock, TUYA_DEVICE_ID_MAX);
	if (tc->listing && !ids_listing_valid(tc->listing))
		return cli_usage_error(g, "bad listing id '%s': letters, digits, '_', '-' and '.' only (at most %d)",
				       tc->listing, ID_MAX);
	return -1;
}

/* Write text to path atomically with mode 0644; 0, or 73 after a message. */
static int write_page(struct global *g, const char *path, const struct strbuf *text)
{
	const char *slash = strrchr(path, '/');
	char tmp[4096];
	int fd, n, err = 0;
	FILE *fp;

	if (slash)
		n = snprintf(tmp, sizeof(tmp), "%.*s/.%s.XXXXXX", (int)(slash - path), path,
			     slash + 1);
	else
		n = snprintf(tmp, sizeof(tmp), ".%s.XXXXXX", path);
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		cli_error(g, "cannot write '%s': the name is too long", path);
		return err_exitcode(ERR_DB);
	}
	if ((fd = mkstemp(tmp)) < 0) {
		cli_error(g, "cannot write '%s': %s", path, strerror(errno));
		return err_exitcode(ERR_DB);
	}
	if (fchmod(fd, 0644) != 0 || !(fp = fdopen(fd, "w"))) {
		err = errno;
		close(fd);
	} else {
		if (fwrite(text->buf, 1, text->len, fp) != text->len || fflush(fp) != 0 ||
		    fsync(fileno(fp)) != 0)
			err = errno ? errno : EIO;
		if (fclose(fp) != 0 && !err)
			err = errno;
	}
	if (!err && rename(tmp, path) != 0)
		err = errno;
	if (err) {
		unlink(tmp);
		cli_error(g, "cannot write '%s': %s", path, strerror(err));
		return err_exitcode(ERR_DB);
	}
	return 0;
}

static int render(struct global *g, const struct timeline_cmd *tc, const struct timeline *tl)
{
	struct strbuf out = STRBUF_INIT;
	int code = 0;

	if (tc->json) {
		cli_print_json(report_timeline_json(tl));
	} else if (tc->html) {
		report_timeline_html(tl, &out);
		code = write_page(g, tc->html, &out);
		if (!code && g->verbosity > 0)
			printf("timeline written to '%s' (%zu lock%s, %zu flag%s)\n", tc->html,
			       tl->nlanes, tl->nlanes == 1 ? "" : "s", tl->nflags,
			       tl->nflags == 1 ? "" : "s");
	} else if (g->verbosity >= 0) {
		report_timeline_text(tl, &out);
		fputs(strbuf_str(&out), stdout);
	}
	strbuf_release(&out);
	return code;
}

int cmd_timeline(struct global *g, int argc, char **argv)
{
	struct timeline_cmd tc = { .days = DAYS_DEFAULT };
	struct timeline_rows rows = { 0 };
	struct timeline tl = { 0 };
	struct timeline_input in;
	struct plan_policy pol;
	struct config cfg;
	char eb[ERRBUF_SIZE];
	sqlite3 *db = NULL;
	time_t from, until;
	int code;
	enum err e;

	if ((code = timeline_options(g, argc, argv, &tc)) >= 0)
		return code;
	if ((e = cli_load_config(g, &cfg, 0)) != ERR_OK) {
		config_release(&cfg);
		return err_exitcode(e);
	}
	plan_policy_from_config(&cfg, &pol);
	if ((e = timeline_range(cfg.pins.timezone, tc.from, g->now, tc.days, &from, &until,
				eb)) != ERR_OK ||
	    (e = db_open(cfg.db_path, DB_READONLY, &db, eb)) != ERR_OK ||
	    (e = timeline_load(db, &cfg, g->now, from, until, &rows, eb)) != ERR_OK)
		goto fail;
	timeline_rows_input(&rows, &pol, &in);
	in.device = tc.lock;
	in.listing = tc.listing;
	if ((e = timeline_build(&in, g->now, from, until, tc.days, &tl, eb)) != ERR_OK)
		goto fail;
	code = render(g, &tc, &tl);
	if (!code && tl.nflags)
		code = 1;
	goto out;
fail:
	cli_error(g, "%s", eb);
	code = err_exitcode(e);
out:
	timeline_release(&tl);
	timeline_rows_release(&rows);
	db_close(db);
	config_release(&cfg);
	return code;
}
