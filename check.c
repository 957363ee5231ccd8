/*
 * check.c - cmd_check(): the pre-flight of check.h.  Each check_* function
 * looks at one thing and appends its items to a struct check_list
 * (lib/report_check.h), which renders them.  The order is the order of
 * dependence: the configuration, then the database, Stays, Tuya, each
 * mapped lock, what needs a person, and the schedule.  A configuration
 * that does not load stops the check there; anything else that fails is
 * reported and the rest still runs, so one run shows every problem.
 *
 * Nothing here writes: the database is opened read-only, the Stays
 * query is the run's own (its window and types) cut to one page, and the
 * Tuya calls are reads with a fresh token that is not stored (pin-runner's
 * cached token stays its own).  Secrets never reach an item: lib/http.c
 * and lib/tuya.c keep them out of every message, and the items quote only
 * paths, ids and counts.
 */
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "db.h"
#include "http.h"
#include "plan.h"
#include "report_check.h"
#include "run.h"
#include "store.h"
#include "tuya.h"
#include "banned.h"

/* What the checks share. */
struct check {
	struct global *g;
	struct config cfg;
	struct check_list l;
	int has_stays, has_tuya;        /* the keys are set */
	sqlite3 *db;                    /* NULL: no database */
	int version;                    /* its schema version */
	struct http *http;              /* Tuya */
	struct tuya_client *tc;         /* NULL unless Tuya answered */
};

static void sleep_ms(void *ctx, long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	(void)ctx;
	while (nanosleep(&ts, &ts) != 0)
		;
}

/* The wall clock in milliseconds, for Tuya's t header (not --now). */
static long long wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- configuration ------------------------------------------------------ */

/* Each line of errs as a fail of item with code. */
static void fail_lines(struct check *c, const char *item, int code, const char *fix,
		       const char *errs)
{
	while (errs && *errs) {
		size_t n = strcspn(errs, "\n");

		if (n)
			check_add(&c->l, CHECK_FAIL, code, item, fix, "%.*s", (int)n, errs);
		errs += n;
		if (*errs == '\n')
			errs++;
	}
}

/* [stays] or [tuya] present: 1, else the missing keys as fails. */
static int check_keys(struct check *c, int need, const char *section)
{
	struct strbuf errs = STRBUF_INIT;
	char fix[128];
	enum err e = config_require(&c->cfg, need, &errs);

	snprintf(fix, sizeof(fix), "set it in %s (stays-reconcile.conf(5))", section);
	if (e != ERR_OK)
		fail_lines(c, "config", err_exitcode(e), fix, strbuf_str(&errs));
	strbuf_release(&errs);
	return e == ERR_OK;
}

/* 0 when the file loaded (the check goes on), else its exit status. */
static int check_config(struct check *c)
{
	struct strbuf errs = STRBUF_INIT;
	struct stat st;
	enum err e = config_load(&c->cfg, c->g->config_path, &errs);

	if (e != ERR_OK) {
		fail_lines(c, "config", err_exitcode(e), e == ERR_PERM ?
			   "chmod 600 the file (it holds a secret)" :
			   "correct each line named (stays-reconcile.conf(5))", strbuf_str(&errs));
		strbuf_release(&errs);
		return c->l.exit_code ? c->l.exit_code : err_exitcode(e);
	}
	strbuf_release(&errs);
	if (!c->cfg.path)
		check_add(&c->l, CHECK_WARN, 0, "config", "create " CONFIG_DEFAULT_PATH
			  " (stays-reconcile.conf(5))", "no file: defaults and the environment only");
	else if (stat(c->cfg.path, &st) != 0)
		check_add(&c->l, CHECK_OK, 0, "config", NULL, "'%s' loaded", c->cfg.path);
	else if (st.st_mode & 077)
		check_add(&c->l, CHECK_WARN, 0, "config", "chmod 600 the file",
			  "'%s' loaded, but its mode is %04o", c->cfg.path,
			  (unsigned)(st.st_mode & 07777));
	else
		check_add(&c->l, CHECK_OK, 0, "config", NULL, "'%s' loaded, mode %04o",
			  c->cfg.path, (unsigned)(st.st_mode & 07777));
	c->has_stays = check_keys(c, CONFIG_NEED_STAYS, "[stays]");
	c->has_tuya = check_keys(c, CONFIG_NEED_TUYA, "[tuya]");
	return 0;
}

/* ---- database ----------------------------------------------------------- */

static void check_db_file(struct check *c)
{
	const char *path = c->cfg.db_path;
	struct stat st;

	if (stat(path, &st) != 0)
		return;
	if (st.st_mode & 077)
		check_add(&c->l, CHECK_WARN, 0, "database", "chmod 600 the file",
			  "'%s' has mode %04o: others may read the PINs", path,
			  (unsigned)(st.st_mode & 07777));
	if (st.st_uid != geteuid())
		check_add(&c->l, CHECK_WARN, 0, "database",
			  "run check as the user of the cron job, or chown the file to that user",
			  "'%s' belongs to uid %u, not to this user (uid %u)", path,
			  (unsigned)st.st_uid, (unsigned)geteuid());
}

static void check_database(struct check *c)
{
	const char *path = c->cfg.db_path;
	char eb[ERRBUF_SIZE];
	enum err e = db_open(path, DB_READONLY, &c->db, eb);

	if (e != ERR_OK) {
		check_add(&c->l, CHECK_FAIL, err_exitcode(e), "database", strstr(eb, "newer") ?
			  "use the stays-reconcile that wrote it, or restore a backup" :
			  "check [database] path and the file's permissions", "%s", eb);
		return;
	}
	if (!c->db) {
		check_add(&c->l, CHECK_WARN, 0, "database",
			  "`stays-reconcile init` or the first run creates it",
			  "'%s' not created yet", path);
		return;
	}
	c->version = db_version(c->db);
	if (c->version < DB_SCHEMA_VERSION)
		check_add(&c->l, CHECK_WARN, 0, "database", "migrated at the next run",
			  "'%s' has schema version %d, older than %d", path, c->version,
			  DB_SCHEMA_VERSION);
	else
		check_add(&c->l, CHECK_OK, 0, "database", NULL, "'%s' opens read-only, schema version %d",
			  path, c->version);
	check_db_file(c);
}

/* ---- Stays -------------------------------------------------------------- */

static const char *stays_fix(enum err e)
{
	switch (e) {
	case ERR_PERM: return "check [stays] client_id/client_secret";
	case ERR_UNAVAILABLE: return "check [stays] url and the network; try again later";
	default: return "check [stays] url: the account's address, e.g. https://ACCOUNT.stays.net";
	}
}

static void stays_report(struct check *c, const struct fetch_result *fr, const char *from,
			 const char *to)
{
	const char *first = NULL;

	for (size_t i = 0; i < fr->n; i++)
		if (!first || strcmp(fr->items[i].in_date, first) < 0)
			first = fr->items[i].in_date;
	if (first)
		check_add(&c->l, CHECK_OK, 0, "stays", NULL,
			  "%zu reservation%s on the first page, first check-in %s", fr->n,
			  fr->n == 1 ? "" : "s", first);
	else
		check_add(&c->l, CHECK_OK, 0, "stays", NULL,
			  "credentials accepted; no reservation checking out from %s to %s", from, to);
	if (fr->nerrors)
		check_add(&c->l, CHECK_WARN, 0, "stays", "`stays-reconcile run --dry-run` names them",
			  "%ld malformed reservation%s on the first page", fr->nerrors,
			  fr->nerrors == 1 ? "" : "s");
}

/* One request of the run's reservations query (window, types, limit 20). */
static void check_stays(struct check *c)
{
	struct fetch_result fr;
	struct run_http h;
	struct run_stays s;
	char from[11], to[11], eb[ERRBUF_SIZE];
	enum err e;

	if (!c->has_stays)
		return;
	if (plan_local_date(c->cfg.pins.timezone, c->g->now, -c->cfg.stays.past_days, from) ||
	    plan_local_date(c->cfg.pins.timezone, c->g->now, c->cfg.stays.future_days, to)) {
		check_add(&c->l, CHECK_FAIL, err_exitcode(ERR_CONFIG), "stays", "check [pins] timezone",
			  "cannot use time zone '%s'", c->cfg.pins.timezone);
		return;
	}
	memset(&fr, 0, sizeof(fr));
	run_http_init(&h, &c->cfg, sleep_ms, NULL, NULL);
	h.sc.max_pages = 1;
	s = run_http_stays(&h);
	e = s.fetch(s.ctx, from, to, (const char *const *)c->cfg.stays.types, c->cfg.stays.ntypes,
		    &fr, eb);
	if (e != ERR_OK)
		check_add(&c->l, CHECK_FAIL, err_exitcode(e), "stays", stays_fix(e), "%s", eb);
	else
		stays_report(c, &fr, from, to);
	fetch_result_release(&fr);
	run_http_release(&h);
}

/* ---- Tuya --------------------------------------------------------------- */

/* The host of a URL ("openapi.tuyaus.com"), in buf. */
static const char *url_host(const char *url, char *buf, size_t size)
{
	const char *p = strstr(url, "://");

	p = p ? p + 3 : url;
	snprintf(buf, size, "%.*s", (int)strcspn(p, "/?#"), p);
	return buf;
}

static const char *tuya_fix(enum err e)
{
	switch (e) {
	case ERR_PERM:
		return "check [tuya] client_id/client_secret (the cloud project's Access ID and "
		       "Secret) and url (the project's data centre)";
	case ERR_UNAVAILABLE: return "check [tuya] url and the network; try again later";
	default: return "check [tuya] url: the OpenAPI address of the project's data centre";
	}
}

/* The device list, once the token is there: the Smart Lock service. */
static void tuya_devices(struct check *c, enum err e, const struct tuya_status *st,
			 const struct tuya_device_list *dl, const char *eb)
{
	size_t locks = 0;

	if (e != ERR_OK && st->code == 28841105) {
		check_add(&c->l, CHECK_FAIL, err_exitcode(e), "tuya",
			  "subscribe the cloud project to the Smart Lock Open Service "
			  "(Tuya Developer Platform: the project, Service API)",
			  "%s: the project is not subscribed to the Smart Lock Open Service", eb);
		return;
	}
	if (e != ERR_OK) {
		check_add(&c->l, CHECK_FAIL, err_exitcode(e), "tuya", tuya_fix(e), "%s", eb);
		return;
	}
	for (size_t i = 0; i < dl->n; i++)
		locks += tuya_is_lock(dl->v[i].category) != 0;
	check_add(&c->l, CHECK_OK, 0, "tuya", NULL, "%zu device%s linked to the project, %zu lock%s",
		  dl->n, dl->n == 1 ? "" : "s", locks, locks == 1 ? "" : "s");
}

/* A token (from the data centre of [tuya] url), then the device list. */
static void check_tuya(struct check *c)
{
	struct tuya_device_list dl = TUYA_DEVICE_LIST_INIT;
	struct tuya_status st = TUYA_STATUS_INIT;
	char eb[ERRBUF_SIZE], host[256];
	enum err e;

	if (!c->has_tuya)
		return;
	if (!(c->http = http_new(&(struct http_opts){ .timeout = 30,
						     .ca_file = c->cfg.tuya.ca_file }, eb))) {
		check_add(&c->l, CHECK_FAIL, err_exitcode(ERR_INTERNAL), "tuya", NULL, "%s", eb);
		return;
	}
	if ((e = tuya_client_new(&c->tc, c->cfg.tuya.url, c->cfg.tuya.client_id,
				 c->cfg.tuya.client_secret, c->http, wall_ms(), eb)) != ERR_OK) {
		check_add(&c->l, CHECK_FAIL, err_exitcode(e), "tuya", tuya_fix(e), "%s", eb);
		return;
	}
	e = tuya_devices_list(c->tc, &dl, &st, eb);
	if (!tuya_client_token(c->tc)->access[0]) {
		check_add(&c->l, CHECK_FAIL, err_exitcode(e), "tuya", tuya_fix(e), "%s", eb);
		tuya_client_free(c->tc);
		c->tc = NULL;
		goto out;
	}
	check_add(&c->l, CHECK_OK, 0, "tuya", NULL, "access token received from the data centre %s",
		  url_host(c->cfg.tuya.url, host, sizeof(host)));
	tuya_devices(c, e, &st, &dl, eb);
out:
	tuya_device_list_release(&dl);
}

/* ---- the mapped locks --------------------------------------------------- */

/* The temporary passwords on the lock, and how many the database knows. */
static void check_pins(struct check *c, const struct lock_map *m, const char *item)
{
	struct tuya_password_list pl = TUYA_PASSWORD_LIST_INIT;
	struct tuya_status st = TUYA_STATUS_INIT;
	char eb[ERRBUF_SIZE];
	size_t on = 0, known = 0;
	enum err e = tuya_list_temp_passwords(c->tc, m->device, &pl, &st, eb);

	for (size_t i = 0; e == ERR_OK && i < pl.n; i++) {
		int k;

		if (pl.v[i].phase == 0 || pl.v[i].phase == 4)
			continue;       /* deleted */
		on++;
		if ((e = store_password_known(c->db, m->device, (long long)pl.v[i].id, &k, eb)) == ERR_OK)
			known += k != 0;
	}
	if (e != ERR_OK)
		check_add(&c->l, CHECK_FAIL, err_exitcode(e), item, tuya_fix(e), "%s", eb);
	else if (known < on)
		check_add(&c->l, CHECK_WARN, 0, item,
			  "look at them in the Tuya app and delete those nobody needs",
			  "%zu temporary password%s: %zu the database does not know "
			  "(made by hand or by an old system)", on, on == 1 ? "" : "s", on - known);
	else
		check_add(&c->l, CHECK_OK, 0, item, NULL,
			  "%zu temporary password%s, all known to the database", on, on == 1 ? "" : "s");
	tuya_password_list_release(&pl);
}

static void check_lock(struct check *c, const struct lock_map *m)
{
	struct tuya_status st = TUYA_STATUS_INIT;
	struct tuya_device d;
	char item[80], eb[ERRBUF_SIZE], fix[256];
	enum err e;

	snprintf(item, sizeof(item), "lock %s", m->device);
	snprintf(fix, sizeof(fix), "map the right device, and `stays-reconcile locks rm %s %s`",
		 m->listing, m->device);
	if ((e = tuya_device_get(c->tc, m->device, &d, &st, eb)) != ERR_OK) {
		check_add(&c->l, CHECK_FAIL, err_exitcode(e), item, st.code == 1106 ?
			  "link the lock's app account to the cloud project, or unmap it" :
			  tuya_fix(e), "%s", eb);
		return;
	}
	if (!tuya_is_lock(d.category)) {
		check_add(&c->l, CHECK_FAIL, err_exitcode(ERR_DATA), item, fix,
			  "a %s (%s) on listing %s, not a lock", d.category[0] ? d.category : "device",
			  d.product[0] ? d.product : "unknown product", m->listing);
		return;
	}
	if (!d.name[0])
		xstrlcpy(d.name, "(no name)", sizeof(d.name));
	if (d.online == 0)
		check_add(&c->l, CHECK_WARN, 0, item,
			  "check its batteries and its Wi-Fi or gateway; PIN changes wait until it is back",
			  "'%s' (listing %s) is offline", d.name, m->listing);
	else
		check_add(&c->l, CHECK_OK, 0, item, NULL, "'%s' (listing %s): a lock (%s), %s", d.name,
			  m->listing, d.category, d.online ? "online" : "online state unknown");
	check_pins(c, m, item);
}

static void check_locks(struct check *c)
{
	struct lock_map *locks = NULL;
	size_t n = 0;
	char eb[ERRBUF_SIZE];
	enum err e;

	if (c->db && c->version > 0 &&
	    (e = store_lock_list(c->db, &locks, &n, eb)) != ERR_OK) {
		check_add(&c->l, CHECK_FAIL, err_exitcode(e), "locks", NULL, "%s", eb);
		return;
	}
	if (n == 0)
		check_add(&c->l, CHECK_WARN, 0, "locks",
			  "`stays-reconcile locks suggest`, then `stays-reconcile locks add`",
			  "no lock is mapped to a listing");
	for (size_t i = 0; c->tc && i < n; i++)
		check_lock(c, &locks[i]);
	free(locks);
}

/* ---- health ------------------------------------------------------------- */

static void health_line(struct check *c, const struct health_list *l, const char *what,
			const char *fix)
{
	if (l->n)
		check_add(&c->l, CHECK_WARN, 0, "health", fix, "%zu %s", l->n, what);
}

/* The lists of `status` (store_health()). */
static void check_health(struct check *c)
{
	struct health h;
	char eb[ERRBUF_SIZE];
	enum err e;

	if (!c->db || c->version != DB_SCHEMA_VERSION)
		return;
	memset(&h, 0, sizeof(h));
	if ((e = store_health(c->db, &c->cfg, c->g->now, &h, eb)) != ERR_OK) {
		check_add(&c->l, CHECK_FAIL, err_exitcode(e), "health", NULL, "%s", eb);
		health_release(&h);
		return;
	}
	health_line(c, &h.unconfirmed, "PINs not confirmed by their lock, window within 24 h",
		    "`stays-reconcile status` names them: is the lock online?");
	health_line(c, &h.unrevoked, "PINs past their end not confirmed gone",
		    "`stays-reconcile status` names them: is the lock online?");
	health_line(c, &h.overdue, "PIN jobs overdue or failed",
		    "`stays-reconcile jobs` shows their last error; is pin-runner scheduled?");
	health_line(c, &h.unmapped, "bookings on listings with no lock",
		    "`stays-reconcile locks suggest`, then `stays-reconcile locks add`");
	if (!health_any(&h))
		check_add(&c->l, CHECK_OK, 0, "health", NULL, "nothing needs a person");
	health_release(&h);
}

/* ---- schedule ----------------------------------------------------------- */

/*
 * `crontab -l` of this user, bounded by timeout(1) when there is one, with
 * no terminal input: a missing cron is exit 127, not a hang.
 * STAYS_RECONCILE_CRONTAB replaces the command (the tests use it).
 * *sr, *pr: a line that is not a comment runs stays-reconcile, pin-runner.
 * Returns the command's exit status (-1: it could not run or was killed).
 */
static int crontab_scan(int *sr, int *pr)
{
	const char *cmd = getenv("STAYS_RECONCILE_CRONTAB");
	struct strbuf sh = STRBUF_INIT;
	char line[4096];
	FILE *f;
	int rc;

	*sr = *pr = 0;
	if (!cmd || !*cmd)
		cmd = "if command -v timeout >/dev/null; then timeout 10 crontab -l; "
		      "else crontab -l; fi";
	/* Its messages ("no crontab for x") would only confuse the report. */
	strbuf_addf(&sh, "exec 2>/dev/null </dev/null; %s", cmd);
	f = popen(strbuf_str(&sh), "r");
	strbuf_release(&sh);
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		const char *p = line + strspn(line, " \t");

		if (*p == '#')
			continue;
		*sr |= strstr(p, "stays-reconcile") != NULL;
		*pr |= strstr(p, "pin-runner") != NULL;
	}
	rc = pclose(f);
	return rc != -1 && WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

/* The stays-reconcile.timer unit, if one is installed: its path in buf. */
static int timer_find(char *buf, size_t size)
{
	static const char *const dirs[] = {
		"/etc/systemd/system", "/lib/systemd/system", "/usr/lib/systemd/system"
	};

	for (size_t i = 0; i < sizeof(dirs) / sizeof(*dirs); i++) {
		snprintf(buf, size, "%s/stays-reconcile.timer", dirs[i]);
		if (access(buf, F_OK) == 0)
			return 1;
	}
	return 0;
}

static void check_schedule(struct check *c)
{
	const struct passwd *pw = getpwuid(geteuid());
	const char *user = pw ? pw->pw_name : "this user";
	char timer[256];
	int sr, pr, rc = crontab_scan(&sr, &pr);

	if (sr && pr) {
		check_add(&c->l, CHECK_OK, 0, "schedule", NULL,
			  "the crontab of %s runs stays-reconcile and pin-runner", user);
	} else if (sr || pr) {
		check_add(&c->l, CHECK_WARN, 0, "schedule", "add the missing line of crontab.example",
			  "the crontab of %s runs %s but not %s", user,
			  sr ? "stays-reconcile" : "pin-runner", sr ? "pin-runner" : "stays-reconcile");
	} else if (timer_find(timer, sizeof(timer))) {
		check_add(&c->l, CHECK_OK, 0, "schedule", NULL, "systemd timer '%s' is installed",
			  timer);
	} else {
		check_add(&c->l, CHECK_WARN, 0, "schedule", "see crontab.example",
			  "no cron line or timer found for stays-reconcile/pin-runner%s",
			  rc == 0 || rc == 1 ? "" : " (cannot run `crontab -l`: is cron installed?)");
	}
}

/* ---- the command -------------------------------------------------------- */

static int check_run(struct check *c)
{
	int code;

	if ((code = check_config(c)) != 0)
		return code;
	check_database(c);
	check_stays(c);
	check_tuya(c);
	check_locks(c);
	check_health(c);
	check_schedule(c);
	return c->l.exit_code;
}

static void check_print(const struct check *c, int json)
{
	struct strbuf out = STRBUF_INIT;

	if (json) {
		cli_print_json(report_check_json(&c->l));
		return;
	}
	report_check_text(&c->l, &out);
	fputs(strbuf_str(&out), stdout);
	strbuf_release(&out);
}

int cmd_check(struct global *g, int argc, char **argv)
{
	static const struct option opts[] = {
		GLOBAL_LONGOPTS,
		{ "json", no_argument, NULL, OPT_JSON },
		{ NULL, 0, NULL, 0 }
	};
	struct check c;
	int json = 0, ch, code;

	optind = 0;
	while ((ch = getopt_long(argc, argv, GLOBAL_SHORTOPTS, opts, NULL)) != -1) {
		if (cli_global_opt(g, ch, optarg))
			continue;
		if (ch != OPT_JSON)
			return cli_usage_error(g, "bad option for check");
		json = 1;
	}
	if (optind < argc)
		return cli_usage_error(g, "unexpected argument '%s'", argv[optind]);
	memset(&c, 0, sizeof(c));
	c.g = g;
	code = check_run(&c);
	check_print(&c, json);
	tuya_client_free(c.tc);
	http_free(c.http);
	db_close(c.db);
	config_release(&c.cfg);
	check_list_release(&c.l);
	return code;
}
