/*
 * config.c - INI parsing and validation for SPEC.md §3.
 *
 * One table (keys[]) lists every key: its section, type, bounds, default and
 * environment override.  Parsing, defaults, environment overrides and the
 * secret check all walk that table, so a key is added in one place.
 * Invariant after a successful config_load(): every field holds a valid
 * value (defaults filled in), strings are owned by the struct.
 */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "tz.h"
#include "banned.h"

enum ktype {
	K_STR,          /* any non-empty string */
	K_SECRET,       /* a string that makes the file secret-bearing */
	K_URL,          /* http:// or https://, trailing '/' removed */
	K_PATH,         /* absolute path */
	K_PROM,         /* absolute path of a *.prom file (node_exporter) */
	K_LONG,         /* integer in [min, max] */
	K_INT,          /* int in [min, max] */
	K_DURATION,     /* 90m, 2h, ... in [min, max] seconds */
	K_HHMM,         /* HH:MM, stored as minutes after midnight (int) */
	K_TYPES,        /* comma list of Stays reservation types */
	K_TZ,           /* IANA zone name */
	K_CRON          /* 5-field cron expression */
};

struct key {
	const char *section;
	const char *name;
	enum ktype type;
	size_t off;
	long min, max;
	const char *def;        /* default as it would be written in the file */
	const char *env;        /* environment override, or NULL */
};

#define OFF(f) offsetof(struct config, f)

static const struct key keys[] = {
	{ "database", "path", K_PATH, OFF(db_path), 0, 0,
	  "/var/lib/stays-reconcile/stays.db", "STAYS_RECONCILE_DB" },
	{ "database", "keep_days", K_LONG, OFF(keep_days), 1, 36500, "90", NULL },
	{ "schedule", "cron", K_CRON, OFF(cron), 0, 0, "*/30 * * * *", NULL },
	{ "schedule", "pin_runner_every", K_DURATION, OFF(pin_runner_every), 60, 86400, "1m",
	  NULL },
	{ "stays", "url", K_URL, OFF(stays.url), 0, 0, NULL, "STAYS_API_URL" },
	{ "stays", "client_id", K_STR, OFF(stays.client_id), 0, 0, NULL, "STAYS_CLIENT_ID" },
	{ "stays", "client_secret", K_SECRET, OFF(stays.client_secret), 0, 0, NULL,
	  "STAYS_CLIENT_SECRET" },
	{ "stays", "ca_file", K_PATH, OFF(stays.ca_file), 0, 0, NULL, NULL },
	{ "stays", "types", K_TYPES, OFF(stays.types), 0, 0, "reserved,booked,contract", NULL },
	{ "stays", "past_days", K_LONG, OFF(stays.past_days), 0, 3650, "2", NULL },
	{ "stays", "future_days", K_LONG, OFF(stays.future_days), 1, 3650, "365", NULL },
	{ "stays", "timeout", K_LONG, OFF(stays.timeout), 1, 600, "30", NULL },
	{ "stays", "retries", K_LONG, OFF(stays.retries), 1, 10, "3", NULL },
	{ "stays", "max_removals", K_LONG, OFF(stays.max_removals), 0, 1000000, "10", NULL },
	{ "tuya", "url", K_URL, OFF(tuya.url), 0, 0, "https://openapi.tuyaus.com", "TUYA_API_URL" },
	{ "tuya", "client_id", K_STR, OFF(tuya.client_id), 0, 0, NULL, "TUYA_CLIENT_ID" },
	{ "tuya", "client_secret", K_SECRET, OFF(tuya.client_secret), 0, 0, NULL,
	  "TUYA_CLIENT_SECRET" },
	{ "tuya", "ca_file", K_PATH, OFF(tuya.ca_file), 0, 0, NULL, NULL },
	{ "pins", "length", K_INT, OFF(pins.length), 4, 12, "7", NULL },
	{ "pins", "timezone", K_TZ, OFF(pins.timezone), 0, 0, "America/Sao_Paulo", NULL },
	{ "pins", "checkin_time", K_HHMM, OFF(pins.checkin_min), 0, 0, "15:00", NULL },
	{ "pins", "checkout_time", K_HHMM, OFF(pins.checkout_min), 0, 0, "11:00", NULL },
	{ "pins", "generate_before", K_DURATION, OFF(pins.generate_before), 0, 30 * 86400L,
	  "2h", NULL },
	{ "pins", "revoke_after", K_DURATION, OFF(pins.revoke_after), 0, 30 * 86400L,
	  "24h", NULL },
	{ "pins", "valid_before", K_DURATION, OFF(pins.valid_before), 0, 7 * 86400L, "0m", NULL },
	{ "pins", "valid_after", K_DURATION, OFF(pins.valid_after), 0, 7 * 86400L, "0m", NULL },
	{ "pins", "max_attempts", K_LONG, OFF(pins.max_attempts), 1, 1000, "10", NULL },
	{ "hooks", "on_pin", K_PATH, OFF(hooks.on_pin), 0, 0, NULL, NULL },
	{ "hooks", "on_failure", K_PATH, OFF(hooks.on_failure), 0, 0, NULL, NULL },
	{ "metrics", "textfile", K_PROM, OFF(metrics.textfile), 0, 0, NULL, NULL },
};
#define NKEYS (sizeof(keys) / sizeof(keys[0]))
#define SECTION_MAX 32  /* buffer size for a section name */

static const char *const stays_types[] = {
	"reserved", "booked", "contract", "blocked", "maintenance"
};

static const char *const sections[] = {
	"database", "schedule", "stays", "tuya", "pins", "hooks", "metrics"
};

static void *field(struct config *c, const struct key *k)
{
	return (char *)c + k->off;
}

static void free_types(struct config *c)
{
	for (int i = 0; i < c->stays.ntypes; i++)
		free(c->stays.types[i]);
	c->stays.ntypes = 0;
}

/*
 * The setters of set_value(), one per kind of value: each checks v for key
 * k and stores it at f (the field of k in c).  They return NULL on success,
 * else a message (static or in msg).
 */

/*
 * K_PROM: node_exporter's textfile collector reads only the files named
 * *.prom in its folder, so any other name would be written and never seen.
 * The temporary file of each write (lib/metrics_file.c) is a hidden name
 * that does not end in .prom, so the collector never reads half a file.
 */
static const char *prom_problem(const char *v)
{
	const char *base = strrchr(v, '/') + 1;	/* v starts with '/' */
	size_t len = strlen(base);

	if (len <= 5 || strcmp(base + len - 5, ".prom") != 0)
		return "must name a file ending in .prom (node_exporter's textfile collector reads only those)";
	return NULL;
}

/* A string key: K_STR, K_SECRET, K_PATH, K_PROM, K_TZ, K_URL, K_CRON. */
static const char *set_string(struct config *c, const struct key *k, void *f,
			      const char *v, char *msg, size_t msgsize)
{
	const char *problem = NULL;

	if (!*v)
		return "empty value";
	if ((k->type == K_PATH || k->type == K_PROM) && v[0] != '/')
		return "must be an absolute path";
	if (k->type == K_PROM)
		problem = prom_problem(v);
	if (problem)
		return problem;
	if (k->type == K_TZ && !tz_valid(v)) {
		snprintf(msg, msgsize, "unknown time zone '%s'", v);
		return msg;
	}
	if (k->type == K_URL && util_url_problem(v)) {
		snprintf(msg, msgsize, "'%s' %s", v, util_url_problem(v));
		return msg;
	}
	if (k->type == K_CRON) {
		char eb[ERRBUF_SIZE];

		if (cron_parse(v, &c->cron_expr, eb) != ERR_OK) {
			snprintf(msg, msgsize, "%s", eb);
			return msg;
		}
	}
	free(*(char **)f);
	*(char **)f = xstrdup(v);
	if (k->type == K_URL) {
		char *u = *(char **)f;
		size_t len = strlen(u);

		while (len > 8 && u[len - 1] == '/')
			u[--len] = '\0';
	}
	return NULL;
}

/* K_LONG or K_INT: a decimal integer within the key's bounds. */
static const char *set_number(const struct key *k, void *f, const char *v,
			      char *msg, size_t msgsize)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(v, &end, 10);
	if (!*v || *end || errno || n < k->min || n > k->max) {
		snprintf(msg, msgsize, "'%s' is not a number from %ld to %ld",
			 v, k->min, k->max);
		return msg;
	}
	if (k->type == K_INT)
		*(int *)f = (int)n;
	else
		*(long *)f = n;
	return NULL;
}

/* A whole number of seconds as the largest exact unit: 1d, 2h, 90m, 45s. */
static void fmt_duration(long n, char *out, size_t size)
{
	if (n && n % 86400 == 0)
		snprintf(out, size, "%ldd", n / 86400);
	else if (n && n % 3600 == 0)
		snprintf(out, size, "%ldh", n / 3600);
	else if (n && n % 60 == 0)
		snprintf(out, size, "%ldm", n / 60);
	else
		snprintf(out, size, "%lds", n);
}

/* K_DURATION: 90m, 2h, ... within the key's bounds, stored in seconds. */
static const char *set_duration(const struct key *k, void *f, const char *v,
				char *msg, size_t msgsize)
{
	long n;

	if (util_parse_duration(v, &n) != 0) {
		snprintf(msg, msgsize,
			 "bad duration '%s' (a number with s, m, h or d, e.g. 2h)", v);
		return msg;
	}
	if (n < k->min || n > k->max) {
		char lo[24], hi[24];

		fmt_duration(k->min, lo, sizeof(lo));
		fmt_duration(k->max, hi, sizeof(hi));
		if (k->min)
			snprintf(msg, msgsize, "duration '%s' is out of range (from %s to %s)",
				 v, lo, hi);
		else
			snprintf(msg, msgsize, "duration '%s' is out of range (at most %s)", v, hi);
		return msg;
	}
	*(long *)f = n;
	return NULL;
}

/* K_HHMM: HH:MM, stored as minutes after midnight. */
static const char *set_hhmm(void *f, const char *v, char *msg, size_t msgsize)
{
	int h, m;

	if (util_parse_hhmm(v, &h, &m) != 0) {
		snprintf(msg, msgsize, "bad time '%s' (expected HH:MM, 00:00 to 23:59)", v);
		return msg;
	}
	*(int *)f = h * 60 + m;
	return NULL;
}

/* K_TYPES: a comma list of known Stays types, duplicates dropped; replaces
 * c->stays.types only when the whole list is good. */
static const char *set_types(struct config *c, const char *v, char *msg,
			     size_t msgsize)
{
	char *copy = xstrdup(v), *save = NULL, *tok;
	char *list[CONFIG_MAX_TYPES];
	int n_list = 0;
	const char *err = NULL;

	for (tok = strtok_r(copy, ",", &save); tok && !err;
	     tok = strtok_r(NULL, ",", &save)) {
		size_t i, len;
		int dup = 0;

		while (*tok == ' ' || *tok == '\t')
			tok++;
		len = strlen(tok);
		while (len && (tok[len - 1] == ' ' || tok[len - 1] == '\t'))
			tok[--len] = '\0';
		for (i = 0; i < sizeof(stays_types) / sizeof(*stays_types); i++)
			if (strcmp(tok, stays_types[i]) == 0)
				break;
		if (i == sizeof(stays_types) / sizeof(*stays_types)) {
			snprintf(msg, msgsize,
				 "unknown reservation type '%s' (expected reserved, booked, contract, blocked or maintenance)",
				 tok);
			err = msg;
			break;
		}
		for (int j = 0; j < n_list; j++)
			dup |= strcmp(list[j], tok) == 0;
		if (!dup)
			list[n_list++] = tok;
	}
	if (!err && n_list == 0)
		err = "empty list of reservation types";
	if (!err) {
		free_types(c);
		for (int j = 0; j < n_list; j++)
			c->stays.types[j] = xstrdup(list[j]);
		c->stays.ntypes = n_list;
	}
	free(copy);
	return err;
}

/*
 * Check value v for key k and store it.  Returns NULL on success, else a
 * message (static or in msg).
 */
static const char *set_value(struct config *c, const struct key *k,
			     const char *v, char *msg, size_t msgsize)
{
	void *f = field(c, k);

	switch (k->type) {
	case K_STR:
	case K_SECRET:
	case K_PATH:
	case K_PROM:
	case K_TZ:
	case K_URL:
	case K_CRON:
		return set_string(c, k, f, v, msg, msgsize);
	case K_LONG:
	case K_INT:
		return set_number(k, f, v, msg, msgsize);
	case K_DURATION:
		return set_duration(k, f, v, msg, msgsize);
	case K_HHMM:
		return set_hhmm(f, v, msg, msgsize);
	case K_TYPES:
		return set_types(c, v, msg, msgsize);
	}
	return "internal error: unknown key type";
}

static char *trim(char *s)
{
	char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r' ||
			   end[-1] == '\n'))
		*--end = '\0';
	return s;
}

/* Cut an inline comment: ';' or '#' preceded by white space.  v is the
 * text after '=', untrimmed. */
static void cut_comment(char *v)
{
	for (char *p = v; *p; p++) {
		if ((*p == ';' || *p == '#') && p > v && (p[-1] == ' ' || p[-1] == '\t')) {
			*p = '\0';
			return;
		}
	}
}

static const struct key *find_key(const char *section, const char *name)
{
	for (size_t i = 0; i < NKEYS; i++)
		if (strcmp(keys[i].section, section) == 0 &&
		    strcmp(keys[i].name, name) == 0)
			return &keys[i];
	return NULL;
}

static int known_section(const char *s)
{
	for (size_t i = 0; i < sizeof(sections) / sizeof(*sections); i++)
		if (strcmp(sections[i], s) == 0)
			return 1;
	return 0;
}

static void set_defaults(struct config *c)
{
	char msg[ERRBUF_SIZE];

	for (size_t i = 0; i < NKEYS; i++) {
		const char *err;

		if (!keys[i].def)
			continue;
		err = set_value(c, &keys[i], keys[i].def, msg, sizeof(msg));
		assert(err == NULL);	/* the table's defaults are valid */
		(void)err;
	}
}

/*
 * The line parsers of parse_text().  Each takes one trimmed line that is
 * not blank or a comment, reports what is wrong with it to errs as
 * "file:line: message" and returns the number of errors (0 or 1).
 */

/* "[section]": section becomes its name, or "" when it is bad. */
static int section_line(char *line, char section[SECTION_MAX], const char *file,
			int lineno, struct strbuf *errs)
{
	char *end = strchr(line, ']');

	if (!end || trim(end + 1)[0] != '\0') {
		strbuf_addf(errs, "%s:%d: malformed section header\n", file, lineno);
		section[0] = '\0';
		return 1;
	}
	*end = '\0';
	line = trim(line + 1);
	if (!known_section(line)) {
		strbuf_addf(errs, "%s:%d: unknown section [%s]\n", file, lineno, line);
		section[0] = '\0';
		return 1;
	}
	xstrlcpy(section, line, SECTION_MAX);
	return 0;
}

/* "key = value" into *key and *val (pointers into line, which is cut up):
 * an inline comment is cut, a "quoted" value loses its quotes. */
static int split_key_value(char *line, char **key, char **val, const char *file,
			   int lineno, struct strbuf *errs)
{
	char *eq = strchr(line, '=');

	if (!eq) {
		strbuf_addf(errs, "%s:%d: expected 'key = value'\n", file, lineno);
		return 1;
	}
	*eq = '\0';
	*key = trim(line);
	*val = trim(eq + 1);
	if ((*val)[0] != '"') {
		/* Cut the comment first, so that "key =   ; later" is
		 * empty, not "; later". */
		cut_comment(eq + 1);
		*val = trim(eq + 1);
	}
	if ((*val)[0] == '"') {
		/* "quoted": ';' and '#' inside are part of the value. */
		char *close = strchr(*val + 1, '"');
		char *rest;

		if (!close) {
			strbuf_addf(errs, "%s:%d: %s: missing closing quote\n", file,
				    lineno, *key);
			return 1;
		}
		*close = '\0';
		rest = trim(close + 1);
		if (*rest && *rest != ';' && *rest != '#') {
			strbuf_addf(errs, "%s:%d: %s: text after the closing quote\n",
				    file, lineno, *key);
			return 1;
		}
		(*val)++;
	}
	return 0;
}

/* Set key of section to val: a known key, once per file, a good value. */
static int apply_key(struct config *c, const char *section, const char *key,
		     const char *val, const char *file, int lineno,
		     struct strbuf *errs, int *holds_secret, int seen[NKEYS])
{
	const struct key *k;
	const char *err;
	char msg[ERRBUF_SIZE];

	if (!section[0]) {
		strbuf_addf(errs, "%s:%d: key '%s' outside of a known section\n",
			    file, lineno, key);
		return 1;
	}
	k = find_key(section, key);
	if (!k) {
		strbuf_addf(errs, "%s:%d: unknown key '%s' in [%s]\n", file, lineno,
			    key, section);
		return 1;
	}
	if (seen[k - keys]) {
		strbuf_addf(errs, "%s:%d: duplicate key '%s' in [%s]\n", file,
			    lineno, key, section);
		return 1;
	}
	seen[k - keys] = lineno;
	err = set_value(c, k, val, msg, sizeof(msg));
	if (err) {
		strbuf_addf(errs, "%s:%d: %s: %s\n", file, lineno, key, err);
		return 1;
	}
	if (k->type == K_SECRET)
		*holds_secret = 1;
	return 0;
}

/* Parse the file's text; one error line per bad line. */
static int parse_text(struct config *c, const char *file, char *text,
		      struct strbuf *errs, int *holds_secret, int seen[NKEYS])
{
	char section[SECTION_MAX] = "";
	int nerr = 0, lineno = 0;

	for (char *p = text; p && *p; ) {
		char *nl = strchr(p, '\n');
		char *line = p, *key, *val;

		if (nl) {
			*nl = '\0';
			p = nl + 1;
		} else {
			p = NULL;
		}
		lineno++;
		line = trim(line);
		if (!*line || *line == ';' || *line == '#')
			continue;
		if (*line == '[')
			nerr += section_line(line, section, file, lineno, errs);
		else if (split_key_value(line, &key, &val, file, lineno, errs))
			nerr++;
		else
			nerr += apply_key(c, section, key, val, file, lineno, errs,
					  holds_secret, seen);
	}
	return nerr;
}

/*
 * SPEC §3: a PIN must never be removed before the end it was given
 * (revoke_after >= valid_after), nor be due after the start it was given
 * (generate_before >= valid_before).  Reported at the line of the shorter
 * key, or of the other one, or without a line when both are defaults.
 */
static int check_durations(const struct config *c, const char *file, const int seen[NKEYS],
			   struct strbuf *errs)
{
	static const struct {
		const char *shorter, *longer, *why;
	} rules[] = {
		{ "revoke_after", "valid_after",
		  "the PIN would be removed before the end of its window" },
		{ "generate_before", "valid_before",
		  "the PIN would be created after the start of its window" },
	};
	int nerr = 0;

	for (size_t i = 0; i < sizeof(rules) / sizeof(*rules); i++) {
		const struct key *a = find_key("pins", rules[i].shorter);
		const struct key *b = find_key("pins", rules[i].longer);
		long va = *(const long *)((const char *)c + a->off);
		long vb = *(const long *)((const char *)c + b->off);
		int line = seen[a - keys] ? seen[a - keys] : seen[b - keys];

		if (va >= vb)
			continue;
		if (line)
			strbuf_addf(errs, "%s:%d: ", file, line);
		else
			strbuf_addf(errs, "%s: ", file);
		strbuf_addf(errs, "[pins] %s (%lds) is shorter than %s (%lds): %s\n",
			    rules[i].shorter, va, rules[i].longer, vb, rules[i].why);
		nerr++;
	}
	return nerr;
}

static int apply_env(struct config *c, struct strbuf *errs)
{
	char msg[ERRBUF_SIZE];
	int nerr = 0;

	for (size_t i = 0; i < NKEYS; i++) {
		const char *v, *err;

		if (!keys[i].env || !(v = getenv(keys[i].env)))
			continue;
		err = set_value(c, &keys[i], v, msg, sizeof(msg));
		if (err) {
			strbuf_addf(errs, "environment %s: %s\n", keys[i].env, err);
			nerr++;
		}
	}
	return nerr;
}

/* Read at most 1 MiB of the open file fd into a new string. */
static char *read_all(int fd, const char *file, struct strbuf *errs)
{
	struct strbuf sb = STRBUF_INIT;
	char buf[4096];
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			strbuf_addf(errs, "%s: cannot read: %s\n", file, strerror(errno));
			strbuf_release(&sb);
			return NULL;
		}
		if (sb.len + (size_t)n > (1u << 20)) {
			strbuf_addf(errs, "%s: file is larger than 1 MiB\n", file);
			strbuf_release(&sb);
			return NULL;
		}
		strbuf_add(&sb, buf, (size_t)n);
	}
	if (sb.len && memchr(sb.buf, '\0', sb.len)) {
		strbuf_addf(errs, "%s: not a text file\n", file);
		strbuf_release(&sb);
		return NULL;
	}
	strbuf_add(&sb, "", 0);
	return sb.buf;
}

enum err config_load(struct config *c, const char *path, struct strbuf *errs)
{
	const char *file = path;
	int named = 1, fd = -1, holds_secret = 0, nerr = 0;
	int seen[NKEYS] = { 0 };
	struct stat st;
	char *text = NULL;
	enum err e = ERR_OK;

	memset(c, 0, sizeof(*c));
	set_defaults(c);

	if (!file || !*file) {
		file = getenv("STAYS_RECONCILE_CONFIG");
		if (!file || !*file) {
			file = CONFIG_DEFAULT_PATH;
			named = 0;
		}
	}
	fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT && !named)
			goto environment;
		strbuf_addf(errs, "cannot open config file '%s': %s\n", file, strerror(errno));
		e = ERR_CONFIG;
		goto out;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		strbuf_addf(errs, "config file '%s' is not a regular file\n", file);
		e = ERR_CONFIG;
		goto out;
	}
	c->path = xstrdup(file);
	text = read_all(fd, file, errs);
	if (!text) {
		e = ERR_CONFIG;
		goto out;
	}
	nerr += parse_text(c, file, text, errs, &holds_secret, seen);
	if (holds_secret && (st.st_mode & (S_IRWXG | S_IRWXO))) {
		strbuf_reset(errs);
		strbuf_addf(errs,
			    "config file '%s' holds secrets and is accessible by group or others (mode %04o); run: chmod 600 '%s'\n",
			    file, (unsigned)(st.st_mode & 07777), file);
		e = ERR_PERM;
		goto out;
	}
environment:
	nerr += apply_env(c, errs);
	nerr += check_durations(c, c->path ? c->path : "configuration", seen, errs);
	if (nerr)
		e = ERR_CONFIG;
out:
	if (fd >= 0)
		close(fd);
	free(text);
	return e;
}

enum err config_require(const struct config *c, int need, struct strbuf *errs)
{
	const char *file = c->path ? c->path : "configuration";
	int missing = 0;

	for (size_t i = 0; i < NKEYS; i++) {
		const struct key *k = &keys[i];
		int wanted = (strcmp(k->section, "stays") == 0 && (need & CONFIG_NEED_STAYS)) ||
			     (strcmp(k->section, "tuya") == 0 && (need & CONFIG_NEED_TUYA));

		if (!wanted || k->def || k->type == K_PATH)
			continue;
		if (*(char *const *)((const char *)c + k->off))
			continue;
		strbuf_addf(errs, "%s: missing key '%s' in [%s] (or set %s)\n", file,
			    k->name, k->section, k->env);
		missing++;
	}
	return missing ? ERR_CONFIG : ERR_OK;
}

int config_is_pin_type(const struct config *c, const char *type)
{
	for (int i = 0; i < c->stays.ntypes; i++)
		if (strcmp(c->stays.types[i], type) == 0)
			return 1;
	return 0;
}

void config_release(struct config *c)
{
	free(c->path);
	for (size_t i = 0; i < NKEYS; i++) {
		const struct key *k = &keys[i];
		char **p;

		if (k->type == K_LONG || k->type == K_INT || k->type == K_DURATION ||
		    k->type == K_HHMM || k->type == K_TYPES)
			continue;
		p = (char **)((char *)c + k->off);
		if (k->type == K_SECRET && *p)
			explicit_bzero(*p, strlen(*p));
		free(*p);
		*p = NULL;
	}
	free_types(c);
}
