/*
 * fuzz_stays_scan.c - libFuzzer target: the fast path of a reservations
 * page (stays_scan_page()) against the cJSON path
 * (stays_parse_page_tree()) on the same bytes.
 *
 * Checked beyond ASan/UBSan/LSan (abort() on violation, so libFuzzer keeps
 * the input): when the fast path accepts a page, the cJSON path accepts it
 * too, with no malformed item, the same count and the same reservations
 * field for field; when it declines, the fetch_result and the count are as
 * they were.  The body is libFuzzer's exact-sized buffer, not
 * NUL-terminated, so a read past len is a finding.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "stays_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond) do { if (!(cond)) abort(); } while (0)

/* The same reservation, field by field (a struct's padding is not). */
static int resv_same(const struct resv *a, const struct resv *b)
{
	return strcmp(a->id, b->id) == 0 && strcmp(a->code, b->code) == 0 &&
	       strcmp(a->listing, b->listing) == 0 && strcmp(a->in_date, b->in_date) == 0 &&
	       strcmp(a->in_time, b->in_time) == 0 && strcmp(a->out_date, b->out_date) == 0 &&
	       strcmp(a->out_time, b->out_time) == 0 && strcmp(a->type, b->type) == 0 &&
	       a->guests == b->guests && strcmp(a->status, b->status) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *body = (const char *)data;
	struct fetch_result fast, tree;
	size_t nfast = 12345, ntree = 0;
	char errbuf[ERRBUF_SIZE] = "";
	enum err e;

	memset(&fast, 0, sizeof(fast));
	memset(&tree, 0, sizeof(tree));
	if (stays_scan_page(body, size, STAYS_PAGE_LIMIT, &fast, &nfast)) {
		e = stays_parse_page_tree(body, size, STAYS_PAGE_LIMIT, "page 1", 0, &tree,
					  &ntree, errbuf);
		CHECK(e == ERR_OK);
		CHECK(tree.nerrors == 0 && tree.ncancel == 0);
		CHECK(nfast == ntree && fast.n == tree.n && fast.n == nfast);
		for (size_t i = 0; i < fast.n; i++)
			CHECK(resv_same(&fast.items[i], &tree.items[i]));
	} else {
		CHECK(nfast == 12345 && fast.n == 0 && fast.nerrors == 0);
	}
	fetch_result_release(&fast);
	fetch_result_release(&tree);
	return 0;
}
