/*
 * pins.c - `stays-reconcile pins` (pins.h): what PINs the database says
 * are on the locks, the drift against what the locks list, and the on_pin
 * hook run again for a guest who lost the message.
 *
 * The view and --remote never write: the database is opened read-only and
 * no run lock is taken (the credentials are read in one statement, so the
 * view is consistent even while pin-runner works).  --remote asks Tuya
 * for each lock's list of temporary passwords - the call pin-runner uses
 * to find its own - with a fresh token that is not stored; it changes
 * nothing, on the lock or in the database.  --resend writes only
 * credentials.notified_at, one short transaction per hook that succeeded,
 * and sends exactly what pin-runner sends (pinrun_hook_input()).  No PIN
 * reaches a message; the view shows PINs masked unless --show-pin.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "hook.h"
#include "ids.h"
#include "onboard.h"
#include "pinrun.h"
#include "pins.h"
#include "report_pins.h"
#include "store.h"
#include "banned.h"

struct pins_cmd {
	const char *lock;       /* --lock, or NULL */
	const char *resend;     /* --resend CODE, or NULL */
	int remote, json, show_pin;
};

/* -1 when the command line is good, else the exit status. */
static int pins_options(struct global *g, int argc, char **argv, struct pins_cmd *pc)
{
	static const struct option opts[] = {
		GLOBAL_LONGOPTS,
		{ "json", no_argument, NULL, OPT_JSON },
		{ "lock", required_argument, NULL, OPT_LOCK },
		{ "remote", no_argument, NULL, OPT_REMOTE },
		{ "show-pin", no_argument, NULL, OPT_SHOW_PIN },
		{ "resend", required_argument, NULL, OPT_RESEND },
		{ NULL, 0, NULL, 0 }
	};
	int c;

	optind = 0;
	while ((c = getopt_long(argc, argv, GLOBAL_SHORTOPTS, opts, NULL)) != -1) {
		if (cli_global_opt(g, c, optarg))
			continue;
		switch (c) {
		case OPT_JSON: pc->json = 1; break;
		case OPT_LOCK: pc->lock = optarg; break;
		case OPT_REMOTE: pc->remote = 1; break;
		case OPT_SHOW_PIN: pc->show_pin = 1; break;
		case OPT_RESEND: pc->resend = optarg; break;
		default: return cli_usage_error(g, "bad option for pins");
		}
	}
	if (optind < argc)
		return cli_usage_error(g, "unexpected argument '%s'", argv[optind]);
	if (pc->lock && !ids_device_valid(pc->lock))
		return cli_usage_error(g, "bad device id '%s': letters, digits, '_' and '-' only (at most %d)",
				       pc->lock, TUYA_DEVICE_ID_MAX);
	if (pc->resend && !ids_code_valid(pc->resend))
		return cli_usage_error(g, "bad reservation code '%s'", pc->resend);
	if (pc->resend && (pc->remote || pc->json || pc->show_pin))
		return cli_usage_error(g, "pins --resend takes only --lock");
	return -1;
}

/* The live credentials (of lock and code, may be NULL); none when there
 * is no database yet.  0 or the exit status. */
static int read_live(struct global *g, sqlite3 *db, const char *lock, const char *code,
		     struct live_cred **v, size_t *n)
{
	char eb[ERRBUF_SIZE];
	enum err e;

	*v = NULL;
	*n = 0;
	if (!db || db_version(db) <= 0)
		return 0;
	if ((e = pinstore_live(db, lock, code, v, n, eb)) != ERR_OK) {
		cli_error(g, "%s", eb);
		return err_exitcode(e);
	}
	return 0;
}

/* ---- --remote --------------------------------------------------------------- */

/* The devices to ask: --lock, else every mapped lock and every lock a
 * live credential is on (sorted, once each; owned array of borrowed). */
static int remote_devices(struct global *g, sqlite3 *db, const struct pins_cmd *pc,
			  const struct live_cred *v, size_t n, struct lock_map **locks,
			  const char ***devs, size_t *ndev)
{
	size_t nlocks = 0, alloc = 0;
	char eb[ERRBUF_SIZE];
	enum err e;

	*locks = NULL;
	*devs = NULL;
	*ndev = 0;
	if (pc->lock) {
		*devs = xcalloc(1, sizeof(**devs));
		(*devs)[(*ndev)++] = pc->lock;
		return 0;
	}
	if (db && db_version(db) > 0 && (e = store_lock_list(db, locks, &nlocks, eb)) != ERR_OK) {
		cli_error(g, "%s", eb);
		return err_exitcode(e);
	}
	for (size_t i = 0; i < nlocks + n; i++) {
		const char *d = i < nlocks ? (*locks)[i].device : v[i - nlocks].device;
		size_t j;

		for (j = 0; j < *ndev && strcmp((*devs)[j], d) != 0; j++)
			;
		if (j < *ndev)
			continue;
		*devs = xgrow(*devs, sizeof(**devs), *ndev + 1, &alloc);
		(*devs)[(*ndev)++] = d;
	}
	return 0;
}

/* Each lock's passwords against the database: *drift (owned), whose
 * names are borrowed from lists[ndev] (the caller releases them). */
static int remote_drift(struct global *g, const struct config *cfg, const char **devs,
			size_t ndev, struct tuya_password_list *lists,
			const struct live_cred *v, size_t n,
			struct pin_drift **drift, size_t *ndrift)
{
	struct tuya_status st = TUYA_STATUS_INIT;
	struct tuya_conn t;
	size_t alloc = 0;
	char eb[ERRBUF_SIZE];
	int code;
	enum err e;

	if ((code = onboard_tuya_connect(g, cfg, "pins --remote", &t)) != 0)
		goto out;
	for (size_t i = 0; i < ndev; i++) {
		struct tuya_password_list *l = &lists[i];

		if ((e = tuya_list_temp_passwords(t.c, devs[i], l, &st, eb)) != ERR_OK) {
			cli_error(g, "%s", eb);
			code = err_exitcode(e);
			goto out;
		}
		*ndrift = pins_drift(devs[i], l->v, l->n, v, n, drift, *ndrift, &alloc);
		if (g->verbosity > 0)
			fprintf(stderr, "lock %s: %zu temporary password%s listed\n", devs[i], l->n,
				l->n == 1 ? "" : "s");
	}
out:
	onboard_tuya_release(&t);
	return code;
}

/* ---- the view ----------------------------------------------------------------- */

static void print_view(const struct pins_cmd *pc,
		       const struct pins_view *pv, const struct pin_drift *d, size_t nd,
		       size_t ndev)
{
	struct strbuf out = STRBUF_INIT;

	if (pc->json && pc->remote) {
		cJSON *o = cJSON_CreateObject();

		cJSON_AddItemToObject(o, "pins", report_pins_json(pv));
		cJSON_AddItemToObject(o, "drift", report_drift_json(d, nd));
		cli_print_json(o);
		return;
	}
	if (pc->json) {
		cli_print_json(report_pins_json(pv));
		return;
	}
	report_pins_table(pv, &out);
	if (pc->remote) {
		if (pv->n)
			strbuf_adds(&out, "\n");
		report_drift_text(d, nd, &out);
		strbuf_addf(&out, "%zu lock%s checked: %s\n", ndev, ndev == 1 ? "" : "s",
			    nd ? "the locks and the database differ" : "no drift");
	}
	fputs(strbuf_str(&out), stdout);
	strbuf_release(&out);
}

static int pins_show(struct global *g, const struct config *cfg, sqlite3 *db,
		     const struct pins_cmd *pc)
{
	struct tuya_password_list *lists = NULL;
	struct lock_map *locks = NULL;
	struct live_cred *v = NULL;
	struct pin_drift *drift = NULL;
	const char **devs = NULL;
	size_t n = 0, ndev = 0, nd = 0;
	int code;

	if ((code = read_live(g, db, pc->lock, NULL, &v, &n)) != 0)
		goto out;
	if (pc->remote) {
		if ((code = remote_devices(g, db, pc, v, n, &locks, &devs, &ndev)) != 0)
			goto out;
		lists = xcalloc(ndev + 1, sizeof(*lists));
		if ((code = remote_drift(g, cfg, devs, ndev, lists, v, n, &drift, &nd)) != 0)
			goto out;
	}
	print_view(pc, &(struct pins_view){ v, n, cfg->pins.timezone, pc->show_pin },
		   drift, nd, ndev);
	code = nd ? 1 : 0;
out:
	for (size_t i = 0; lists && i < ndev; i++)
		tuya_password_list_release(&lists[i]);
	free(lists);
	free(drift);
	free(devs);
	free(locks);
	pinstore_live_free(v, n);
	return code;
}

/* ---- --resend ----------------------------------------------------------------- */

/* Run on_pin for l; 0, or 1 after a message when the hook failed. */
static int resend_one(struct global *g, const struct config *cfg, sqlite3 *db,
		      const struct live_cred *l)
{
	char *text, eb[ERRBUF_SIZE];
	struct plan_policy pol;
	struct hook_notice n;
	int found;
	enum err e;

	plan_policy_from_config(cfg, &pol);
	if ((e = guests_notice(db, &pol, l->resv, l->device, &n, &found, eb)) != ERR_OK) {
		cli_error(g, "%s", eb);
		return err_exitcode(e);
	}
	if (!found) {
		cli_error(g, "reservation %s is not in the database", l->code);
		return err_exitcode(ERR_DATA);
	}
	if (!(text = pinrun_hook_input(&n, &l->c))) {
		cli_error(g, "cannot build the hook's input");
		return err_exitcode(ERR_INTERNAL);
	}
	e = hook_run(cfg->hooks.on_pin, text, eb);
	explicit_bzero(text, strlen(text));
	cJSON_free(text);
	if (e != ERR_OK) {
		cli_error(g, "on_pin %s (for %s on lock %s, password id %lld)", eb, l->code,
			  l->device, (long long)l->c.password_id);
		return 1;
	}
	if ((e = pinstore_notified(db, l->c.rowid, NULL, g->now, eb)) != ERR_OK) {
		cli_error(g, "%s", eb);
		return err_exitcode(e);
	}
	if (g->verbosity > 0)
		printf("on_pin run again for %s on lock %s (password id %lld, %s)\n", l->code,
		       l->device, (long long)l->c.password_id, l->c.state);
	return 0;
}

/* 1 if l's PIN is on its lock and wanted: what a guest may be told. */
static int resendable(const struct live_cred *l)
{
	return strcmp(l->c.state, "unconfirmed") == 0 || strcmp(l->c.state, "active") == 0;
}

static int pins_resend(struct global *g, const struct config *cfg, const struct pins_cmd *pc)
{
	struct live_cred *v = NULL;
	size_t n = 0, sent = 0;
	char eb[ERRBUF_SIZE];
	sqlite3 *db = NULL;
	int code, failed = 0;
	enum err e;

	if (!cfg->hooks.on_pin) {
		cli_error(g, "pins --resend needs [hooks] on_pin");
		return err_exitcode(ERR_CONFIG);
	}
	if ((e = db_open(cfg->db_path, DB_READONLY, &db, eb)) != ERR_OK) {
		cli_error(g, "%s", eb);
		return err_exitcode(e);
	}
	code = read_live(g, db, pc->lock, pc->resend, &v, &n);
	db_close(db);
	db = NULL;
	for (size_t i = 0; code == 0 && i < n; i++) {
		if (!resendable(&v[i]))
			continue;
		if (!db && (e = db_open(cfg->db_path, DB_READWRITE, &db, eb)) != ERR_OK) {
			cli_error(g, "%s", eb);
			code = err_exitcode(e);
			break;
		}
		sent++;
		if ((code = resend_one(g, cfg, db, &v[i])) == 1) {
			failed = 1;
			code = 0;
		}
	}
	if (code == 0 && !sent) {
		cli_error(g, "no PIN on a lock for reservation %s%s%s", pc->resend,
			  pc->lock ? " on lock " : "", pc->lock ? pc->lock : "");
		code = err_exitcode(ERR_DATA);
	}
	db_close(db);
	pinstore_live_free(v, n);
	return code ? code : failed;
}

int cmd_pins(struct global *g, int argc, char **argv)
{
	struct pins_cmd pc = { 0 };
	struct config cfg;
	char eb[ERRBUF_SIZE];
	sqlite3 *db = NULL;
	int code;
	enum err e;

	if ((code = pins_options(g, argc, argv, &pc)) >= 0)
		return code;
	if ((e = cli_load_config(g, &cfg, 0)) != ERR_OK) {
		config_release(&cfg);
		return err_exitcode(e);
	}
	if (pc.resend) {
		code = pins_resend(g, &cfg, &pc);
	} else if ((e = db_open(cfg.db_path, DB_READONLY, &db, eb)) != ERR_OK) {
		cli_error(g, "%s", eb);
		code = err_exitcode(e);
	} else {
		code = pins_show(g, &cfg, db, &pc);
	}
	db_close(db);
	config_release(&cfg);
	return code;
}
