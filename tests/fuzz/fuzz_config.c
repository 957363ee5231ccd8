/*
 * fuzz_config.c - libFuzzer target: the bytes are a configuration file.
 *
 * The input is written to one memfd, created once, and config_load() reads
 * it as "/proc/self/fd/N": first with mode 0600 (the file may hold
 * secrets), then config_require() for each need and both; then again with
 * mode 0640, where the only allowed difference is ERR_PERM (a file that
 * sets a client_secret is refused).  The environment overrides that
 * config_load() reads are cleared once at start, so a run depends on the
 * input alone.
 *
 * Checked beyond ASan/UBSan/LSan (abort() on violation): the documented
 * return codes only; after ERR_OK every field holds a usable value
 * (config.c's invariant: defaults filled in, strings owned); requiring
 * both needs fails exactly when requiring either one fails.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond) do { if (!(cond)) abort(); } while (0)

static int fd = -1;
static char path[64];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const char *const env[] = {
		"STAYS_RECONCILE_CONFIG", "STAYS_RECONCILE_DB", "STAYS_API_URL",
		"STAYS_CLIENT_ID", "STAYS_CLIENT_SECRET", "TUYA_API_URL",
		"TUYA_CLIENT_ID", "TUYA_CLIENT_SECRET", "TZDIR"
	};

	(void)argc;
	(void)argv;
	for (size_t i = 0; i < sizeof(env) / sizeof(*env); i++)
		unsetenv(env[i]);
	fd = memfd_create("fuzz_config", MFD_CLOEXEC);
	if (fd < 0) {
		perror("memfd_create");
		abort();
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	return 0;
}

static void put_input(const uint8_t *data, size_t size)
{
	size_t off = 0;

	if (ftruncate(fd, 0) != 0)
		abort();
	while (off < size) {
		ssize_t n = pwrite(fd, data + off, size - off, (off_t)off);

		if (n <= 0)
			abort();
		off += (size_t)n;
	}
}

static int is_url(const char *s)
{
	return s && (strncmp(s, "https://", 8) == 0 || strncmp(s, "http://", 7) == 0);
}

static void check_loaded(const struct config *c)
{
	CHECK(c->path && strcmp(c->path, path) == 0);
	CHECK(c->db_path && c->db_path[0] == '/');
	CHECK(c->cron && c->cron[0]);
	CHECK(c->cron_expr.minute && c->cron_expr.hour && c->cron_expr.dom &&
	      c->cron_expr.month && c->cron_expr.dow);
	CHECK(!c->stays.url || is_url(c->stays.url));
	CHECK(is_url(c->tuya.url));
	CHECK(c->stays.ntypes >= 1 && c->stays.ntypes <= CONFIG_MAX_TYPES);
	for (int i = 0; i < c->stays.ntypes; i++)
		CHECK(c->stays.types[i] && c->stays.types[i][0]);
	CHECK(!c->stays.ca_file || c->stays.ca_file[0] == '/');
	CHECK(!c->tuya.ca_file || c->tuya.ca_file[0] == '/');
	CHECK(!c->hooks.on_pin || c->hooks.on_pin[0] == '/');
	CHECK(!c->hooks.on_failure || c->hooks.on_failure[0] == '/');
	CHECK(c->stays.past_days >= 0 && c->stays.past_days <= 3650);
	CHECK(c->stays.future_days >= 1 && c->stays.future_days <= 3650);
	CHECK(c->stays.timeout >= 1 && c->stays.timeout <= 600);
	CHECK(c->stays.retries >= 1 && c->stays.retries <= 10);
	CHECK(c->pins.length >= 4 && c->pins.length <= 12);
	CHECK(c->pins.timezone && c->pins.timezone[0]);
	CHECK(c->pins.checkin_min >= 0 && c->pins.checkin_min < 24 * 60);
	CHECK(c->pins.checkout_min >= 0 && c->pins.checkout_min < 24 * 60);
	CHECK(c->pins.generate_before >= 0 && c->pins.revoke_after >= 0);
	CHECK(c->pins.valid_before >= 0 && c->pins.valid_after >= 0);
	CHECK(c->pins.max_attempts >= 1 && c->pins.max_attempts <= 1000);
}

static enum err require(const struct config *c, int need)
{
	struct strbuf errs = STRBUF_INIT;
	enum err e = config_require(c, need, &errs);

	CHECK(e == ERR_OK || e == ERR_CONFIG);
	CHECK((e == ERR_OK) == (errs.len == 0));
	strbuf_release(&errs);
	return e;
}

static enum err load(mode_t mode, int check)
{
	struct config c;
	struct strbuf errs = STRBUF_INIT;
	enum err e;

	if (fchmod(fd, mode) != 0)
		abort();
	e = config_load(&c, path, &errs);
	CHECK(e == ERR_OK || e == ERR_CONFIG || e == ERR_PERM);
	CHECK((e == ERR_OK) == (errs.len == 0));
	if (e == ERR_OK && check) {
		enum err s, t, both;

		check_loaded(&c);
		s = require(&c, CONFIG_NEED_STAYS);
		t = require(&c, CONFIG_NEED_TUYA);
		both = require(&c, CONFIG_NEED_STAYS | CONFIG_NEED_TUYA);
		CHECK((both == ERR_OK) == (s == ERR_OK && t == ERR_OK));
	}
	config_release(&c);
	strbuf_release(&errs);
	return e;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum err own, others;

	put_input(data, size);
	own = load(0600, 1);
	others = load(0640, 0);
	CHECK(others == own || others == ERR_PERM);
	return 0;
}
