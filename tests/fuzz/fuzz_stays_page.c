/*
 * fuzz_stays_page.c - libFuzzer target: the bytes are one Stays response
 * body, parsed by stays_parse_page() as a page of the reservations query
 * and again as a page of the canceled query into the same fetch_result,
 * which is then finished (sort, de-duplicate) and released.
 *
 * Checked beyond ASan/UBSan/LSan (abort() on violation, so libFuzzer keeps
 * the input): a page is either rejected whole (count 0, nothing appended)
 * or every array item is accounted for, valid or noted as malformed; at
 * most STAYS_PAGE_LIMIT items; every kept reservation has a safe id and
 * does not end before it starts; after fetch_result_finish() the ids are
 * strictly ascending.
 * The body is passed as libFuzzer's exact-sized buffer, not NUL-terminated:
 * the contract is "body of len bytes", so a read past len is a finding.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "stays.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond) do { if (!(cond)) abort(); } while (0)

/* The one call of the parser. */
static enum err parse_page(const uint8_t *data, size_t size, int canceled,
			   const char *where, struct fetch_result *fr,
			   size_t *count, char *errbuf)
{
	return stays_parse_page((const char *)data, size, STAYS_PAGE_LIMIT,
				where, canceled, fr, count, errbuf);
}

static int id_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	       (ch >= '0' && ch <= '9') || ch == '_' || ch == '-' || ch == '.';
}

static void check_item(const struct resv *r)
{
	CHECK(r->id[0] != '\0');
	for (const char *p = r->id; *p; p++)
		CHECK(id_char(*p));
	CHECK(strlen(r->in_date) == 10 && strlen(r->out_date) == 10);
	CHECK(strcmp(r->out_date, r->in_date) >= 0);
}

static void one_page(const uint8_t *data, size_t size, int canceled,
		     const char *where, struct fetch_result *fr)
{
	char errbuf[ERRBUF_SIZE] = "";
	size_t count = 12345, n0 = fr->n, nc0 = fr->ncancel;
	long nerr0 = fr->nerrors;
	enum err e = parse_page(data, size, canceled, where, fr, &count, errbuf);

	if (e != ERR_OK) {
		CHECK(e == ERR_PROTOCOL);
		CHECK(count == 0 && fr->n == n0 && fr->nerrors == nerr0 && fr->ncancel == nc0);
		CHECK(errbuf[0] != '\0');
		return;
	}
	CHECK(count <= STAYS_PAGE_LIMIT);
	/* Every item is kept, an error, or (canceled query) canceled by id. */
	CHECK((fr->n - n0) + (size_t)(fr->nerrors - nerr0) + (fr->ncancel - nc0) == count);
	CHECK(canceled || fr->ncancel == nc0);
	CHECK(fr->nbad <= (size_t)fr->nerrors);
	for (size_t i = n0; i < fr->n; i++)
		check_item(&fr->items[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fetch_result fr;

	memset(&fr, 0, sizeof(fr));
	one_page(data, size, 0, "page 1 of the reservations query", &fr);
	one_page(data, size, 1, "page 1 of the canceled query", &fr);
	fetch_result_finish(&fr);
	for (size_t i = 0; i + 1 < fr.n; i++)
		CHECK(strcmp(fr.items[i].id, fr.items[i + 1].id) < 0);
	fetch_result_release(&fr);
	{
		/* R6: the same bytes as the answer for one reservation. */
		struct resv r;
		char eb[ERRBUF_SIZE] = "";

		if (stays_parse_reservation((const char *)data, size, &r, eb) == ERR_OK)
			check_item(&r);
		else
			CHECK(eb[0] != '\0');
	}
	return 0;
}
