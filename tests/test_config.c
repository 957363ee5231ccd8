/*
 * test_config.c - the INI configuration: defaults, every key, environment
 * overrides, FILE:LINE errors (all of them), the secret-mode check.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "config.h"

static char dir[64];

static const char *const envs[] = {
	"STAYS_RECONCILE_CONFIG", "STAYS_RECONCILE_DB", "STAYS_API_URL", "STAYS_CLIENT_ID",
	"STAYS_CLIENT_SECRET", "TUYA_API_URL", "TUYA_CLIENT_ID", "TUYA_CLIENT_SECRET"
};

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/test_config.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	for (size_t i = 0; i < sizeof(envs) / sizeof(*envs); i++)
		unsetenv(envs[i]);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd);
}

/* Write text to dir/name with mode; return the path (static buffer). */
static const char *write_file(const char *name, const char *text, mode_t mode)
{
	static char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	assert_int_equal(chmod(path, mode), 0);
	return path;
}

static enum err load(const char *text, mode_t mode, struct config *c, struct strbuf *errs)
{
	return config_load(c, write_file("c.conf", text, mode), errs);
}

static void test_defaults(void **state)
{
	struct config c;
	struct strbuf errs = STRBUF_INIT;

	(void)state;
	assert_int_equal(load("", 0600, &c, &errs), ERR_OK);
	assert_string_equal(c.db_path, "/var/lib/stays-reconcile/stays.db");
	assert_int_equal(c.keep_days, 90);
	assert_string_equal(c.cron, "*/30 * * * *");
	assert_null(c.stays.url);
	assert_int_equal(c.stays.ntypes, 3);
	assert_string_equal(c.stays.types[0], "reserved");
	assert_string_equal(c.stays.types[2], "contract");
	assert_int_equal(c.stays.past_days, 2);
	assert_int_equal(c.stays.future_days, 365);
	assert_int_equal(c.stays.timeout, 30);
	assert_int_equal(c.stays.retries, 3);
	assert_int_equal(c.stays.max_removals, 10);
	assert_string_equal(c.tuya.url, "https://openapi.tuyaus.com");
	assert_int_equal(c.pins.length, 7);
	assert_string_equal(c.pins.timezone, "America/Sao_Paulo");
	assert_int_equal(c.pins.checkin_min, 15 * 60);
	assert_int_equal(c.pins.checkout_min, 11 * 60);
	assert_int_equal(c.pins.generate_before, 7200);
	assert_int_equal(c.pin_runner_every, 60);
	assert_int_equal(c.pins.revoke_after, 86400);
	assert_int_equal(c.pins.valid_before, 0);
	assert_int_equal(c.pins.valid_after, 0);
	assert_int_equal(c.pins.max_attempts, 10);
	assert_null(c.hooks.on_pin);
	assert_null(c.metrics.textfile);
	/* Credentials are required only by the commands that need them. */
	assert_int_equal(config_require(&c, 0, &errs), ERR_OK);
	assert_int_equal(config_require(&c, CONFIG_NEED_STAYS, &errs), ERR_CONFIG);
	assert_non_null(strstr(strbuf_str(&errs), "missing key 'client_id' in [stays] (or set STAYS_CLIENT_ID)"));
	assert_non_null(strstr(strbuf_str(&errs), "missing key 'url' in [stays]"));
	assert_null(strstr(strbuf_str(&errs), "[tuya]"));
	config_release(&c);
	strbuf_release(&errs);
}

static const char full[] =
	"; a full configuration\n"
	"[database]\n"
	"path = /srv/stays/stays.db      ; STAYS_RECONCILE_DB\n"
	"\n"
	"[schedule]\n"
	"cron = 0,30 * * * *\n"
	"pin_runner_every = 5m\n"
	"[stays]\n"
	"url = https://acme.stays.net/\n"
	"client_id = fake-id\n"
	"client_secret = \"fake ;secret # x\"   ; a comment\n"
	"types = booked, contract\n"
	"past_days = 3\n"
	"future_days = 200\n"
	"timeout = 10\n"
	"retries = 5\n"
	"max_removals = 4\n"
	"[tuya]\n"
	"url = https://openapi.tuyaeu.com\n"
	"client_id = tuya-id\n"
	"client_secret = tuya-secret\n"
	"[pins]\n"
	"length = 6\n"
	"timezone = Europe/Lisbon\n"
	"checkin_time = 16:30\n"
	"checkout_time = 10:00\n"
	"generate_before = 1d\n"
	"revoke_after = 90m\n"
	"valid_before = 30m\n"
	"valid_after = 15m\n"
	"max_attempts = 3\n"
	"# hooks\n"
	"[hooks]\n"
	"on_pin = /usr/local/libexec/send-pin\n"
	"on_failure = /usr/local/libexec/alert\n"
	"[metrics]\n"
	"textfile = /var/lib/prometheus/node-exporter/stays-reconcile.prom\n";

static void test_full(void **state)
{
	struct config c;
	struct strbuf errs = STRBUF_INIT;

	(void)state;
	assert_int_equal(load(full, 0600, &c, &errs), ERR_OK);
	assert_string_equal(strbuf_str(&errs), "");
	assert_string_equal(c.db_path, "/srv/stays/stays.db");
	assert_string_equal(c.cron, "0,30 * * * *");
	assert_string_equal(c.stays.url, "https://acme.stays.net");
	assert_string_equal(c.stays.client_secret, "fake ;secret # x");
	assert_int_equal(c.stays.ntypes, 2);
	assert_string_equal(c.stays.types[0], "booked");
	assert_int_equal(c.stays.retries, 5);
	assert_int_equal(c.stays.max_removals, 4);
	assert_string_equal(c.tuya.url, "https://openapi.tuyaeu.com");
	assert_int_equal(c.pins.length, 6);
	assert_string_equal(c.pins.timezone, "Europe/Lisbon");
	assert_int_equal(c.pins.checkin_min, 16 * 60 + 30);
	assert_int_equal(c.pins.generate_before, 86400);
	assert_int_equal(c.pin_runner_every, 300);
	assert_int_equal(c.pins.revoke_after, 5400);
	assert_int_equal(c.pins.valid_before, 1800);
	assert_int_equal(c.pins.max_attempts, 3);
	assert_string_equal(c.hooks.on_failure, "/usr/local/libexec/alert");
	assert_string_equal(c.metrics.textfile,
			    "/var/lib/prometheus/node-exporter/stays-reconcile.prom");
	assert_true(config_is_pin_type(&c, "booked"));
	assert_false(config_is_pin_type(&c, "reserved"));
	assert_int_equal(config_require(&c, CONFIG_NEED_STAYS | CONFIG_NEED_TUYA, &errs), ERR_OK);
	config_release(&c);
	strbuf_release(&errs);
}

static void test_env_overrides(void **state)
{
	struct config c;
	struct strbuf errs = STRBUF_INIT;

	(void)state;
	setenv("STAYS_RECONCILE_DB", "/tmp/env.db", 1);
	setenv("STAYS_API_URL", "http://127.0.0.1:9", 1);
	setenv("STAYS_CLIENT_ID", "env-id", 1);
	setenv("STAYS_CLIENT_SECRET", "env-secret", 1);
	setenv("TUYA_CLIENT_SECRET", "env-tuya", 1);
	assert_int_equal(load(full, 0600, &c, &errs), ERR_OK);
	assert_string_equal(c.db_path, "/tmp/env.db");
	assert_string_equal(c.stays.url, "http://127.0.0.1:9");
	assert_string_equal(c.stays.client_id, "env-id");
	assert_string_equal(c.stays.client_secret, "env-secret");
	assert_string_equal(c.tuya.client_secret, "env-tuya");
	assert_string_equal(c.tuya.client_id, "tuya-id");
	config_release(&c);

	/* A bad value in the environment is reported by its name. */
	setenv("STAYS_API_URL", "ftp://x", 1);
	assert_int_equal(load("", 0600, &c, &errs), ERR_CONFIG);
	assert_non_null(strstr(strbuf_str(&errs), "environment STAYS_API_URL: 'ftp://x' is not an http:// or https:// URL"));
	config_release(&c);
	for (size_t i = 0; i < sizeof(envs) / sizeof(*envs); i++)
		unsetenv(envs[i]);
	strbuf_release(&errs);
}

static void test_config_path_from_env(void **state)
{
	struct config c;
	struct strbuf errs = STRBUF_INIT;
	const char *p = write_file("env.conf", "[pins]\nlength = 8\n", 0600);

	(void)state;
	setenv("STAYS_RECONCILE_CONFIG", p, 1);
	assert_int_equal(config_load(&c, NULL, &errs), ERR_OK);
	assert_int_equal(c.pins.length, 8);
	assert_string_equal(c.path, p);
	config_release(&c);
	/* -c wins over the environment. */
	assert_int_equal(config_load(&c, write_file("c2.conf", "", 0600), &errs), ERR_OK);
	assert_int_equal(c.pins.length, 7);
	config_release(&c);
	unsetenv("STAYS_RECONCILE_CONFIG");
	strbuf_release(&errs);
}

static void test_missing_file(void **state)
{
	struct config c;
	struct strbuf errs = STRBUF_INIT;
	char path[128];

	(void)state;
	snprintf(path, sizeof(path), "%s/nope.conf", dir);
	assert_int_equal(config_load(&c, path, &errs), ERR_CONFIG);
	assert_non_null(strstr(strbuf_str(&errs), "cannot open config file"));
	assert_non_null(strstr(strbuf_str(&errs), "nope.conf"));
	config_release(&c);
	strbuf_release(&errs);
}

/* Every error path: each bad line reported as FILE:LINE, all of them. */
static const struct {
	const char *text;
	const char *msg;        /* expected substring after "FILE:" */
} bad[] = {
	{ "[stays]\nbogus = 1\n", "2: unknown key 'bogus' in [stays]" },
	{ "[nosuch]\n", "1: unknown section [nosuch]" },
	{ "[stays\n", "1: malformed section header" },
	{ "url = https://x\n", "1: key 'url' outside of a known section" },
	{ "[stays]\njust words\n", "2: expected 'key = value'" },
	{ "[stays]\nurl = \n", "2: url: empty value" },
	{ "[stays]\nurl = acme.stays.net\n", "2: url: 'acme.stays.net' is not an http:// or https:// URL" },
	{ "[stays]\nurl = https://exa mple.com\n", "2: url: 'https://exa mple.com' has a character that cannot follow the host" },
	{ "[stays]\nurl = https://\n", "2: url: 'https://' has no host name" },
	{ "[stays]\nurl = https://acme..stays.net\n", "2: url: 'https://acme..stays.net' has a malformed host name" },
	{ "[stays]\nurl = https://acme.stays.net:0\n", "2: url: 'https://acme.stays.net:0' has a port out of range" },
	{ "[stays]\nurl = https://acme.stays.net/a b\n", "2: url: 'https://acme.stays.net/a b' has a space or control character" },
	{ "[stays]\nclient_id =   ; fill in later\n", "2: client_id: empty value" },
	{ "[stays]\nclient_id =\t# later\n", "2: client_id: empty value" },
	{ "[pins]\nrevoke_after = 1h\nvalid_after = 2h\n", "2: [pins] revoke_after (3600s) is shorter than valid_after (7200s)" },
	{ "[pins]\nvalid_before = 3h\n", "2: [pins] generate_before (7200s) is shorter than valid_before (10800s)" },
	{ "[stays]\ntimeout = 0\n", "2: timeout: '0' is not a number from 1 to 600" },
	{ "[stays]\nretries = three\n", "2: retries: 'three' is not a number from 1 to 10" },
	{ "[stays]\npast_days = -1\n", "2: past_days: '-1' is not a number" },
	{ "[database]\nkeep_days = 0\n", "2: keep_days: '0' is not a number from 1 to 36500" },
	{ "[stays]\ntypes = booked,canceled\n", "2: types: unknown reservation type 'canceled'" },
	{ "[stays]\ntypes = ,\n", "2: types: empty list of reservation types" },
	{ "[pins]\nlength = 3\n", "2: length: '3' is not a number from 4 to 12" },
	{ "[pins]\ntimezone = Mars/Olympus\n", "2: timezone: unknown time zone 'Mars/Olympus'" },
	{ "[pins]\ntimezone = ../../etc/passwd\n", "2: timezone: unknown time zone" },
	{ "[pins]\ntimezone = right/America/Sao_Paulo\n", "2: timezone: unknown time zone" },
	{ "[pins]\ncheckin_time = 25:00\n", "2: checkin_time: bad time '25:00' (expected HH:MM" },
	{ "[pins]\ngenerate_before = 2 hours\n", "2: generate_before: bad duration '2 hours'" },
	{ "[pins]\nrevoke_after = 5x\n", "2: revoke_after: bad duration '5x'" },
	{ "[pins]\nvalid_after = 30d\n", "2: valid_after: duration '30d' is out of range (at most 7d)" },
	{ "[schedule]\npin_runner_every = 30s\n",
	  "2: pin_runner_every: duration '30s' is out of range (from 1m to 1d)" },
	{ "[pins]\nmax_attempts = 0\n", "2: max_attempts: '0' is not a number from 1 to 1000" },
	{ "[hooks]\non_pin = send-pin\n", "2: on_pin: must be an absolute path" },
	{ "[schedule]\ncron = */30 * * *\n", "2: cron: bad cron expression" },
	{ "[schedule]\ncron = 61 * * * *\n", "2: cron: bad cron expression" },
	{ "[database]\npath = relative.db\n", "2: path: must be an absolute path" },
	{ "[metrics]\ntextfile = stays.prom\n", "2: textfile: must be an absolute path" },
	{ "[metrics]\ntextfile = /var/lib/node-exporter/stays.txt\n",
	  "2: textfile: must name a file ending in .prom" },
	{ "[metrics]\ntextfile = /var/lib/node-exporter/\n",
	  "2: textfile: must name a file ending in .prom" },
	{ "[metrics]\ntextfile = /var/lib/node-exporter/.prom\n",
	  "2: textfile: must name a file ending in .prom" },
	{ "[metrics]\ntextfile =\n", "2: textfile: empty value" },
	{ "[metrics]\npath = /x.prom\n", "2: unknown key 'path' in [metrics]" },
	{ "[pins]\nlength = 6\nlength = 7\n", "3: duplicate key 'length' in [pins]" },
	{ "[stays]\nclient_id = \"abc\n", "2: client_id: missing closing quote" },
	{ "[stays]\nclient_id = \"abc\" def\n", "2: client_id: text after the closing quote" },
};

static void test_errors(void **state)
{
	struct config c;
	struct strbuf errs = STRBUF_INIT;
	char want[256];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		strbuf_reset(&errs);
		assert_int_equal(load(bad[i].text, 0600, &c, &errs), ERR_CONFIG);
		snprintf(want, sizeof(want), "%s/c.conf:%s", dir, bad[i].msg);
		if (!strstr(strbuf_str(&errs), want))
			fail_msg("case %zu: want '%s' in '%s'", i, want, strbuf_str(&errs));
		config_release(&c);
	}
	strbuf_release(&errs);
}

static void test_all_errors_reported(void **state)
{
	struct config c;
	struct strbuf errs = STRBUF_INIT;
	const char *s;
	int lines = 0;

	(void)state;
	assert_int_equal(load("[stays]\ntimeout = x\nretries = 0\n[pins]\nlength = 99\nfoo = 1\n",
			      0600, &c, &errs), ERR_CONFIG);
	for (s = strbuf_str(&errs); *s; s++)
		lines += *s == '\n';
	assert_int_equal(lines, 4);
	assert_non_null(strstr(strbuf_str(&errs), "c.conf:2:"));
	assert_non_null(strstr(strbuf_str(&errs), "c.conf:3:"));
	assert_non_null(strstr(strbuf_str(&errs), "c.conf:5:"));
	assert_non_null(strstr(strbuf_str(&errs), "c.conf:6:"));
	config_release(&c);
	strbuf_release(&errs);
}

/* What is valid stays valid: URLs and inline comments. */
static void test_values_kept(void **state)
{
	struct config c;
	struct strbuf errs = STRBUF_INIT;

	(void)state;
	assert_int_equal(load("[stays]\nurl = https://acme.stays.net:8443/x/ ; comment\n"
			      "client_id = abc;def\n[tuya]\nurl = http://127.0.0.1:8080\n"
			      "client_id = \"id ; with # marks\" ; comment\n"
			      "[pins]\nrevoke_after = 2h\nvalid_after = 2h\n", 0600, &c, &errs), ERR_OK);
	assert_string_equal(c.stays.url, "https://acme.stays.net:8443/x");
	assert_string_equal(c.stays.client_id, "abc;def");
	assert_string_equal(c.tuya.url, "http://127.0.0.1:8080");
	assert_string_equal(c.tuya.client_id, "id ; with # marks");
	config_release(&c);
	strbuf_release(&errs);
}

static void test_secret_mode(void **state)
{
	struct config c;
	struct strbuf errs = STRBUF_INIT;

	(void)state;
	/* A secret in a file others can read is refused, as ssh does. */
	assert_int_equal(load("[stays]\nclient_secret = s3\n", 0644, &c, &errs), ERR_PERM);
	assert_non_null(strstr(strbuf_str(&errs), "holds secrets and is accessible by group or others (mode 0644)"));
	config_release(&c);
	strbuf_reset(&errs);
	assert_int_equal(load("[tuya]\nclient_secret = s3\n", 0640, &c, &errs), ERR_PERM);
	config_release(&c);
	strbuf_reset(&errs);
	/* Without a secret the mode does not matter. */
	assert_int_equal(load("[stays]\nclient_id = x\n", 0644, &c, &errs), ERR_OK);
	config_release(&c);
	assert_int_equal(load("[stays]\nclient_secret = s3\n", 0600, &c, &errs), ERR_OK);
	config_release(&c);
	strbuf_release(&errs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_env_overrides),
		cmocka_unit_test(test_config_path_from_env),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_all_errors_reported),
		cmocka_unit_test(test_values_kept),
		cmocka_unit_test(test_secret_mode),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
