/*
 * report_check.h - the result of `stays-reconcile check` as data: a list
 * of items, each ok, warn or fail with a detail and (warn, fail) a fix,
 * and its two renderings: one text line per item, or a JSON tree.  Pure:
 * check.c gathers, this module formats; nothing here writes to a stream.
 *
 * Invariant: no detail or fix holds a secret.  The callers build them
 * from ids, counts, paths and lib/ error messages, which never contain a
 * client secret, a token or a PIN (lib/http.c, lib/tuya.c).
 */
#ifndef STAYS_REPORT_CHECK_H
#define STAYS_REPORT_CHECK_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "util.h"

enum check_status {
	CHECK_OK,
	CHECK_WARN,
	CHECK_FAIL
};

struct check_item {
	enum check_status status;
	char item[80];          /* "config", "stays", "lock DEVICE", ... */
	char detail[512];
	char fix[256];          /* "" for ok */
	int code;               /* fail: its exit status (err_exitcode()) */
};

struct check_list {
	struct check_item *v;   /* owned */
	size_t n, alloc;
	int exit_code;          /* the code of the first fail, 0 when none */
};
#define CHECK_LIST_INIT { NULL, 0, 0, 0 }

/*
 * Append an item; detail is a printf format.  For CHECK_FAIL, code is
 * the exit status it stands for (the first fail's becomes l->exit_code);
 * fix may be NULL (none).  Strings are copied, truncated to the fields.
 */
void check_add(struct check_list *l, enum check_status status, int code, const char *item,
	       const char *fix, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

void check_list_release(struct check_list *l);

/* One line per item: "ok    ITEM      DETAIL", "warn  ITEM      DETAIL;
 * fix: FIX", "FAIL  ..." (ITEM padded to 8), appended to out. */
void report_check_text(const struct check_list *l, struct strbuf *out);

/* {"ok": bool, "exitCode": N, "items": [{"item", "status": "ok"|"warn"|
 * "fail", "detail", "fix"}]}: fix is null for ok items.  The caller owns
 * the tree. */
cJSON *report_check_json(const struct check_list *l);

#endif
