/*
 * onboard.c - `listings`, `locks discover` and the device check of
 * `locks add` (onboard.h): from zero to a trusted mapping.
 *
 * Each command asks one service, joins the answer with the locks table
 * (read-only: nothing here writes the database) and prints through
 * lib/report_onboard.c.  A malformed item in an answer is a warning and
 * exit status 1 (the rest is shown, as `run` does with bad reservations);
 * a refused credential is 77, an unreachable service 69, a malformed
 * answer 76 (err_exitcode()).  Secrets never reach a message: lib/http.c
 * and lib/tuya.c keep them out of every errbuf.
 *
 * The Tuya calls fetch a fresh access token and do not store it: these
 * are interactive commands, and pin-runner's cached token stays its own.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "db.h"
#include "http.h"
#include "onboard.h"
#include "report_onboard.h"
#include "stays.h"
#include "store.h"
#include "tuya.h"
#include "banned.h"

static void sleep_ms(void *ctx, long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	(void)ctx;
	while (nanosleep(&ts, &ts) != 0)
		;
}

static void note(void *ctx, const char *msg)
{
	struct global *g = ctx;

	if (g->verbosity > 0)
		fprintf(stderr, "%s\n", msg);
}

/* The wall clock in milliseconds: Tuya compares the t header with its own
 * clock, so --now (which moves the reconciliation's clock) is not used. */
static long long wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Each line of errors as a warning (unless -q); 1 if there were any. */
static int warn_items(const struct global *g, const struct strbuf *errors, long n)
{
	if (n && g->verbosity >= 0)
		cli_error_lines(g, strbuf_str(errors));
	return n ? 1 : 0;
}

/* The locks table, read-only; none when there is no database yet. */
static int read_locks(struct global *g, sqlite3 *db, struct lock_map **locks, size_t *n)
{
	char eb[ERRBUF_SIZE];
	enum err e;

	*locks = NULL;
	*n = 0;
	if (!db || db_version(db) <= 0)
		return 0;
	if ((e = store_lock_list(db, locks, n, eb)) != ERR_OK) {
		cli_error(g, "%s", eb);
		return err_exitcode(e);
	}
	return 0;
}

/* ---- listings ------------------------------------------------------------ */

static int listings_fetch(struct global *g, const struct config *cfg,
			  struct stays_listing_list *l)
{
	struct http_opts ho = {
		.timeout = cfg->stays.timeout, .ca_file = cfg->stays.ca_file,
		.basic_user = cfg->stays.client_id, .basic_pass = cfg->stays.client_secret,
	};
	struct stays_client sc;
	char eb[ERRBUF_SIZE];
	enum err e;

	memset(&sc, 0, sizeof(sc));
	if (!(sc.http = http_new(&ho, eb))) {
		cli_error(g, "%s", eb);
		return err_exitcode(ERR_INTERNAL);
	}
	sc.base_url = cfg->stays.url;
	sc.attempts = cfg->stays.retries;
	sc.sleep_ms = sleep_ms;
	sc.note = note;
	sc.ctx = g;
	e = stays_listings(&sc, l, eb);
	http_free(sc.http);
	if (e != ERR_OK) {
		cli_error(g, "%s", eb);
		return err_exitcode(e);
	}
	return 0;
}

int cmd_listings(struct global *g, int argc, char **argv)
{
	static const struct option opts[] = {
		GLOBAL_LONGOPTS,
		{ "json", no_argument, NULL, OPT_JSON },
		{ NULL, 0, NULL, 0 }
	};
	struct stays_listing_list l = STAYS_LISTING_LIST_INIT;
	struct lock_map *locks = NULL;
	size_t nlocks = 0;
	struct config cfg;
	char eb[ERRBUF_SIZE];
	sqlite3 *db = NULL;
	int json = 0, c, code;
	enum err e;

	optind = 0;
	while ((c = getopt_long(argc, argv, GLOBAL_SHORTOPTS, opts, NULL)) != -1) {
		if (cli_global_opt(g, c, optarg))
			continue;
		if (c != OPT_JSON)
			return cli_usage_error(g, "bad option for listings");
		json = 1;
	}
	if (optind < argc)
		return cli_usage_error(g, "unexpected argument '%s'", argv[optind]);
	if ((e = cli_load_config(g, &cfg, CONFIG_NEED_STAYS)) != ERR_OK) {
		config_release(&cfg);
		return err_exitcode(e);
	}
	if ((e = db_open(cfg.db_path, DB_READONLY, &db, eb)) != ERR_OK) {
		cli_error(g, "%s", eb);
		code = err_exitcode(e);
		goto out;
	}
	if ((code = read_locks(g, db, &locks, &nlocks)) != 0 ||
	    (code = listings_fetch(g, &cfg, &l)) != 0)
		goto out;
	if (json) {
		cli_print_json(report_listings_json(l.v, l.n, locks, nlocks));
	} else {
		struct strbuf out = STRBUF_INIT;

		report_listings_table(l.v, l.n, locks, nlocks, &out);
		fputs(strbuf_str(&out), stdout);
		strbuf_release(&out);
	}
	if (g->verbosity > 0)
		fprintf(json ? stderr : stdout, "%zu listing%s in %ld page%s\n", l.n,
			l.n == 1 ? "" : "s", l.pages, l.pages == 1 ? "" : "s");
	code = warn_items(g, &l.errors, l.nerrors);
out:
	stays_listing_list_release(&l);
	free(locks);
	db_close(db);
	config_release(&cfg);
	return code;
}

/* ---- Tuya ------------------------------------------------------------------ */

void onboard_tuya_release(struct tuya_conn *t)
{
	tuya_client_free(t->c);
	http_free(t->http);
}

int onboard_tuya_connect(struct global *g, const struct config *cfg, const char *why,
			 struct tuya_conn *t)
{
	struct strbuf errs = STRBUF_INIT;
	char eb[ERRBUF_SIZE];
	enum err e;

	memset(t, 0, sizeof(*t));
	if ((e = config_require(cfg, CONFIG_NEED_TUYA, &errs)) != ERR_OK) {
		cli_error_lines(g, strbuf_str(&errs));
		cli_error(g, "%s needs the [tuya] credentials", why);
		strbuf_release(&errs);
		return err_exitcode(e);
	}
	strbuf_release(&errs);
	if (!(t->http = http_new(&(struct http_opts){ .timeout = 30,
						     .ca_file = cfg->tuya.ca_file }, eb))) {
		cli_error(g, "%s", eb);
		return err_exitcode(ERR_INTERNAL);
	}
	if ((e = tuya_client_new(&t->c, cfg->tuya.url, cfg->tuya.client_id,
				 cfg->tuya.client_secret, t->http, wall_ms(), eb)) != ERR_OK) {
		cli_error(g, "%s", eb);
		return err_exitcode(e);
	}
	return 0;
}

int onboard_discover(struct global *g, const struct config *cfg, sqlite3 *db, int json)
{
	struct tuya_device_list l = TUYA_DEVICE_LIST_INIT;
	struct tuya_status st = TUYA_STATUS_INIT;
	struct lock_map *locks = NULL;
	size_t nlocks = 0;
	struct tuya_conn t;
	char eb[ERRBUF_SIZE];
	int code;
	enum err e;

	if ((code = onboard_tuya_connect(g, cfg, "locks discover", &t)) != 0 ||
	    (code = read_locks(g, db, &locks, &nlocks)) != 0)
		goto out;
	if ((e = tuya_devices_list(t.c, &l, &st, eb)) != ERR_OK) {
		cli_error(g, "%s", eb);
		code = err_exitcode(e);
		goto out;
	}
	if (json) {
		cli_print_json(report_devices_json(l.v, l.n, locks, nlocks));
	} else {
		struct strbuf out = STRBUF_INIT;

		report_devices_table(l.v, l.n, locks, nlocks, &out);
		fputs(strbuf_str(&out), stdout);
		strbuf_release(&out);
	}
	if (g->verbosity > 0)
		fprintf(json ? stderr : stdout, "%zu device%s in %ld page%s\n", l.n,
			l.n == 1 ? "" : "s", l.pages, l.pages == 1 ? "" : "s");
	code = warn_items(g, &l.errors, l.nerrors);
out:
	tuya_device_list_release(&l);
	free(locks);
	onboard_tuya_release(&t);
	return code;
}

int onboard_check_device(struct global *g, const struct config *cfg, const char *device)
{
	struct tuya_status st = TUYA_STATUS_INIT;
	struct tuya_device d;
	struct tuya_conn t;
	char eb[ERRBUF_SIZE];
	int code;
	enum err e;

	if ((code = onboard_tuya_connect(g, cfg, "locks add (without --no-check)", &t)) != 0)
		goto out;
	e = tuya_device_get(t.c, device, &d, &st, eb);
	if (e != ERR_OK) {
		cli_error(g, "%s", eb);
		if (st.code == 1106 || st.code == 2010) {
			/* 1106 is also the answer for an unknown id: Tuya does not
			 * tell "no such device" from "not yours". */
			cli_error(g, "device %s %s; nothing mapped (--no-check maps it anyway)",
				  device, st.code == 1106 ?
				  "does not exist or is not linked to the Tuya cloud project" :
				  "does not exist");
			code = err_exitcode(ERR_PERM);
		} else {
			code = err_exitcode(e);
		}
		goto out;
	}
	if (!tuya_is_lock(d.category)) {
		cli_error(g, "device %s is a %s (%s), not a lock; nothing mapped (--no-check maps it anyway)",
			  device, d.category[0] ? d.category : "device without a category",
			  d.product[0] ? d.product : "unknown product");
		code = err_exitcode(ERR_DATA);
		goto out;
	}
	if (g->verbosity > 0)
		printf("tuya device %s: %s (%s, %s), %s\n", device, d.name[0] ? d.name : "-",
		       d.category, d.product[0] ? d.product : "-",
		       d.online < 0 ? "online state unknown" : d.online ? "online" : "offline");
out:
	onboard_tuya_release(&t);
	return code;
}

/* ---- locks suggest --------------------------------------------------------- */

/* [stays] configured; 0 or 78 after the messages. */
static int need_stays(struct global *g, const struct config *cfg, const char *why)
{
	struct strbuf errs = STRBUF_INIT;
	enum err e = config_require(cfg, CONFIG_NEED_STAYS, &errs);

	if (e != ERR_OK) {
		cli_error_lines(g, strbuf_str(&errs));
		cli_error(g, "%s needs the [stays] credentials", why);
	}
	strbuf_release(&errs);
	return e == ERR_OK ? 0 : err_exitcode(e);
}

static int mapped_listing(const char *id, const struct lock_map *locks, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(locks[i].listing, id) == 0)
			return 1;
	return 0;
}

static int mapped_device(const char *id, const struct lock_map *locks, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(locks[i].device, id) == 0)
			return 1;
	return 0;
}

/* What is left to pair: listings with no lock, and locks on no listing. */
struct unmapped {
	const struct stays_listing **l;
	const struct tuya_device **d;
	struct match_listing *ml;
	struct match_device *md;
	size_t nl, nd;
};

static void unmapped_build(struct unmapped *u, const struct stays_listing_list *ll,
			   const struct tuya_device_list *dl, const struct lock_map *locks,
			   size_t nlocks)
{
	memset(u, 0, sizeof(*u));
	u->l = xcalloc(ll->n + 1, sizeof(*u->l));
	u->ml = xcalloc(ll->n + 1, sizeof(*u->ml));
	u->d = xcalloc(dl->n + 1, sizeof(*u->d));
	u->md = xcalloc(dl->n + 1, sizeof(*u->md));
	for (size_t i = 0; i < ll->n; i++) {
		const struct stays_listing *x = &ll->v[i];

		if (mapped_listing(x->id, locks, nlocks))
			continue;
		u->l[u->nl] = x;
		u->ml[u->nl++] = (struct match_listing){ x->id, x->code, x->name,
							 x->city[0] ? x->city : x->address };
	}
	for (size_t i = 0; i < dl->n; i++) {
		const struct tuya_device *x = &dl->v[i];

		if (!tuya_is_lock(x->category) || mapped_device(x->id, locks, nlocks))
			continue;
		u->d[u->nd] = x;
		u->md[u->nd++] = (struct match_device){ x->id, x->name, 0 };
	}
}

static void unmapped_release(struct unmapped *u)
{
	free(u->l);
	free(u->ml);
	free(u->d);
	free(u->md);
}

static void suggest_print(const struct global *g, const struct unmapped *u,
			  const struct match_pair *p, size_t n, int json)
{
	struct strbuf out = STRBUF_INIT;

	if (json) {
		cli_print_json(report_suggest_json(p, n, u->l, u->d, g->config_path));
		return;
	}
	report_suggest_text(p, n, u->l, u->d, g->config_path, &out);
	if (!n)
		strbuf_addf(&out, "no suggestion: %zu listing%s and %zu lock%s are not mapped\n",
			    u->nl, u->nl == 1 ? "" : "s", u->nd, u->nd == 1 ? "" : "s");
	fputs(strbuf_str(&out), stdout);
	strbuf_release(&out);
}

int onboard_suggest(struct global *g, const struct config *cfg, sqlite3 *db, int json)
{
	struct stays_listing_list ll = STAYS_LISTING_LIST_INIT;
	struct tuya_device_list dl = TUYA_DEVICE_LIST_INIT;
	struct tuya_status st = TUYA_STATUS_INIT;
	struct match_pair *pairs = NULL;
	struct lock_map *locks = NULL;
	struct unmapped u = { 0 };
	size_t nlocks = 0, n;
	struct tuya_conn t;
	char eb[ERRBUF_SIZE];
	int code;
	enum err e;

	memset(&t, 0, sizeof(t));
	if ((code = need_stays(g, cfg, "locks suggest")) != 0 ||
	    (code = onboard_tuya_connect(g, cfg, "locks suggest", &t)) != 0 ||
	    (code = read_locks(g, db, &locks, &nlocks)) != 0 ||
	    (code = listings_fetch(g, cfg, &ll)) != 0)
		goto out;
	if ((e = tuya_devices_list(t.c, &dl, &st, eb)) != ERR_OK) {
		cli_error(g, "%s", eb);
		code = err_exitcode(e);
		goto out;
	}
	unmapped_build(&u, &ll, &dl, locks, nlocks);
	n = match_suggest(u.ml, u.nl, u.md, u.nd, &pairs);
	suggest_print(g, &u, pairs, n, json);
	code = warn_items(g, &ll.errors, ll.nerrors) | warn_items(g, &dl.errors, dl.nerrors);
out:
	free(pairs);
	unmapped_release(&u);
	stays_listing_list_release(&ll);
	tuya_device_list_release(&dl);
	free(locks);
	onboard_tuya_release(&t);
	return code;
}
