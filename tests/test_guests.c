/*
 * test_guests.c - the guest of a stay: parsing what Stays answers for a
 * reservation and a client (lib/stays_guest.c, table-driven: real shapes,
 * placeholders, wrong types, values that must not reach a guest's
 * message), the guests and listing_names tables (lib/guests.c), and the
 * on_pin hook's input built from them (pinrun_hook_input()).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <cjson/cJSON.h>

#include "db.h"
#include "guests.h"
#include "pinrun.h"
#include "testutil.h"

#define RID "6650f1a2c3d4e5f6a7b80001"
#define CID "6650f1a0c3d4e5f6a7b8c9aa"

/* ---- the reservation's guest ------------------------------------------ */

static const struct {
	const char *json;       /* after {"_id":RID, */
	const char *client, *name, *phone, *problem;
} resv_cases[] = {
	/* The single-GET's shape (stays-api.md §3): the primary entry. */
	{ "\"_idclient\":\"" CID "\",\"guestsDetails\":{\"adults\":2,\"list\":["
	  "{\"type\":\"adult\",\"name\":\"adult_1\"},"
	  "{\"type\":\"adult\",\"name\":\"Maria Silva\",\"_idcontact\":\"" CID "\","
	  "\"phones\":[{\"iso\":\"+5521987654321\",\"hint\":\"AirBnB\"}],\"primary\":true}]}}",
	  CID, "Maria Silva", "+5521987654321", "" },
	/* The list item's shape: no list, so nothing but the client id. */
	{ "\"_idclient\":\"" CID "\",\"guestsDetails\":{\"adults\":2,\"children\":0}}",
	  CID, "", "", "" },
	/* No primary: the first entry; a placeholder is not a name. */
	{ "\"guestsDetails\":{\"list\":[{\"name\":\"child_12\",\"phones\":[{\"iso\":\"(21) 98765-4321\"}]}]}}",
	  "", "", "(21) 98765-4321", "" },
	/* Accents kept; control characters are not. */
	{ "\"guestsDetails\":{\"list\":[{\"name\":\"Jos\\u00e9 da Concei\\u00e7\\u00e3o\\u0007\",\"primary\":true}]}}",
	  "", "Jos\xc3\xa9 da Concei\xc3\xa7\xc3\xa3o?", "", "" },
	/* Wrong types and shapes are left out and named. */
	{ "\"_idclient\":42,\"guestsDetails\":{\"list\":[{\"name\":\"Ana\",\"primary\":true}]}}",
	  "", "Ana", "", "the reservation has an _idclient that is not a valid id" },
	{ "\"_idclient\":\"../../admin\",\"guestsDetails\":[]}",
	  "", "", "", "the reservation has an _idclient that is not a valid id" },
	{ "\"guestsDetails\":{\"list\":{\"name\":\"Ana\"}}}",
	  "", "", "", "the reservation has a guestsDetails.list that is not an array" },
	{ "\"guestsDetails\":{\"list\":[{\"name\":7,\"primary\":true,\"phones\":\"+55\"}]}}",
	  "", "", "", "the primary guest has a name that is not a string" },
	{ "\"guestsDetails\":{\"list\":[{\"name\":\"Ana\",\"primary\":true,"
	  "\"phones\":[{\"iso\":\"call me\"},{\"iso\":\"+1 55\"},{\"iso\":\"+55+21\"}]}]}}",
	  "", "Ana", "", "the primary guest has no valid phone number" },
	{ "\"guestsDetails\":{\"list\":[{\"name\":\"   \",\"primary\":true,"
	  "\"phones\":[{\"iso\":7},{\"iso\":\"+351 912 345 678\"}]}]}}",
	  "", "", "+351 912 345 678", "" },
	{ "\"guestsDetails\":null,\"_idclient\":null}", "", "", "", "" },
};

static void test_guest_of_reservation(void **state)
{
	char body[2048], eb[ERRBUF_SIZE];
	struct stays_guest g;

	(void)state;
	for (size_t i = 0; i < sizeof(resv_cases) / sizeof(*resv_cases); i++) {
		snprintf(body, sizeof(body), "{\"_id\":\"" RID "\",%s", resv_cases[i].json);
		if (stays_parse_guest_of(body, strlen(body), RID, &g, eb) != ERR_OK)
			fail_msg("case %zu: %s", i, eb);
		assert_string_equal(g.client, resv_cases[i].client);
		assert_string_equal(g.name, resv_cases[i].name);
		assert_string_equal(g.phone, resv_cases[i].phone);
		assert_string_equal(g.problem, resv_cases[i].problem);
		assert_string_equal(g.email, "");
	}
}

static void test_guest_of_bad_answers(void **state)
{
	static const char *const bodies[] = {
		"[]", "{\"_id\":\"6650f1a2c3d4e5f6a7b80002\"}", "{\"id\":\"RV02J\"}",
		"{\"_id\":\"" RID "\"", "null", "<html></html>",
	};
	char eb[ERRBUF_SIZE];
	struct stays_guest g;

	(void)state;
	for (size_t i = 0; i < sizeof(bodies) / sizeof(*bodies); i++)
		assert_int_equal(stays_parse_guest_of(bodies[i], strlen(bodies[i]), RID, &g, eb),
				 ERR_PROTOCOL);
	assert_non_null(strstr(eb, "HTML"));
}

/* ---- the client -------------------------------------------------------- */

static const struct {
	const char *pre_name, *pre_phone;       /* what the reservation gave */
	const char *json;
	const char *name, *phone, *email, *language;
} client_cases[] = {
	/* stays-api.md §5's fields. */
	{ "", "", "{\"_id\":\"" CID "\",\"kind\":\"person\",\"fName\":\"Maria\",\"lName\":\"Silva\","
	  "\"name\":\"Maria Silva\",\"email\":\"maria@example.com\",\"prefLang\":\"pt_BR\","
	  "\"phones\":[{\"iso\":\"+5521987654321\",\"hint\":\"AirBnB\"}]}",
	  "Maria Silva", "+5521987654321", "maria@example.com", "pt_BR" },
	/* The reservation's name and phone win; contactEmails: "main" first. */
	{ "Maria S.", "+5521900000000", "{\"name\":\"Maria Silva\",\"phones\":[{\"iso\":\"+5521987654321\"}],"
	  "\"contactEmails\":[{\"adr\":\"other@example.com\",\"type\":\"other\"},"
	  "{\"adr\":\"main@example.com\",\"type\":\"main\"}],\"prefLang\":\"en\"}",
	  "Maria S.", "+5521900000000", "main@example.com", "en" },
	/* fName + lName; the first valid address; bad values left out. */
	{ "", "", "{\"fName\":\"John\",\"lName\":\"Smith\",\"email\":\"not an email\","
	  "\"contactEmails\":[{\"adr\":\"x@\"},{\"adr\":\"john@example.org\"}],"
	  "\"prefLang\":\"en_US; rm -rf /\"}",
	  "John Smith", "", "john@example.org", "" },
	{ "", "", "{\"lName\":\"Smith\",\"email\":\"a\\\"b@example.com\",\"prefLang\":7,"
	  "\"contactEmails\":\"x\"}", "Smith", "", "", "" },
	{ "", "", "{}", "", "", "", "" },
};

static void test_client(void **state)
{
	char eb[ERRBUF_SIZE];
	struct stays_guest g;

	(void)state;
	for (size_t i = 0; i < sizeof(client_cases) / sizeof(*client_cases); i++) {
		const char *b = client_cases[i].json;

		memset(&g, 0, sizeof(g));
		xstrlcpy(g.client, CID, sizeof(g.client));
		xstrlcpy(g.name, client_cases[i].pre_name, sizeof(g.name));
		xstrlcpy(g.phone, client_cases[i].pre_phone, sizeof(g.phone));
		if (stays_parse_client(b, strlen(b), &g, eb) != ERR_OK)
			fail_msg("case %zu: %s", i, eb);
		assert_string_equal(g.name, client_cases[i].name);
		assert_string_equal(g.phone, client_cases[i].phone);
		assert_string_equal(g.email, client_cases[i].email);
		assert_string_equal(g.language, client_cases[i].language);
	}
	/* Another client's answer, or not an object, is a protocol error. */
	assert_int_equal(stays_parse_client("{\"_id\":\"6650f1a0c3d4e5f6a7b8c9ab\"}", 34, &g, eb),
			 ERR_PROTOCOL);
	assert_int_equal(stays_parse_client("[1]", 3, &g, eb), ERR_PROTOCOL);
}

/* ---- the tables and the hook's input ----------------------------------- */

struct fx {
	char dir[64];
	char path[128];
	sqlite3 *db;
	struct config cfg;
	struct plan_policy pol;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char eb[ERRBUF_SIZE];

	if (!f || test_tmp_setup("test_guests", f->dir, f->path, &f->cfg) != 0)
		return -1;
	if (db_open(f->path, DB_READWRITE, &f->db, eb) != ERR_OK)
		return -1;
	plan_policy_from_config(&f->cfg, &f->pol);
	test_sql(f->db, "INSERT INTO reservations (id, code, listing_id, checkin_date, checkin_time, "
		 "checkout_date, type, guests, status, created_at, updated_at) VALUES "
		 "('R1', 'RV001', 'L1', '2026-12-10', '16:30', '2026-12-12', 'booked', 3, 'active', 0, 0), "
		 "('R2', 'RV002', 'L1', '2026-11-20', NULL, '2026-11-29', 'booked', 1, 'active', 0, 0), "
		 "('R3', 'RV003', 'L1', '2026-12-20', NULL, '2026-12-22', 'canceled', 1, 'canceled', 0, 0)");
	test_sql(f->db, "INSERT INTO locks (device_id, listing_id, name, timezone, created_at) VALUES "
		 "('D1', 'L1', 'Front door', 'America/New_York', 0), ('D2', 'L1', NULL, NULL, 0)");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];

	db_close(f->db);
	config_release(&f->cfg);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	free(f);
	return system(cmd);
}

static struct stays_guest guest(const char *name, const char *phone, const char *email,
				const char *lang)
{
	struct stays_guest g;

	memset(&g, 0, sizeof(g));
	xstrlcpy(g.name, name, sizeof(g.name));
	xstrlcpy(g.phone, phone, sizeof(g.phone));
	xstrlcpy(g.email, email, sizeof(g.email));
	xstrlcpy(g.language, lang, sizeof(g.language));
	return g;
}

static void test_need_save_forget(void **state)
{
	struct fx *f = *state;
	struct stays_guest g = guest("Ana", "+5521999990000", "", "");
	sqlite3_stmt *need_st = NULL;   /* one statement for every call, writes between */
	char eb[ERRBUF_SIZE];
	long attempts, n;
	int need;

	assert_int_equal(guests_need(f->db, &need_st, "R1", "L1", &need, &attempts, eb), ERR_OK);
	assert_true(need);
	assert_int_equal(guests_need(f->db, &need_st, "R1", "L9", &need, &attempts, eb), ERR_OK);
	assert_false(need);     /* no lock on L9: no PIN, no look-up */
	/* A failure keeps the part that came and counts. */
	assert_int_equal(guests_save(f->db, "R1", &g, 0, "HTTP 503", 100, eb), ERR_OK);
	g = guest("", "", "ana@example.com", "pt_BR");
	assert_int_equal(guests_save(f->db, "R1", &g, 0, "HTTP 503 again", 200, eb), ERR_OK);
	assert_int_equal(guests_need(f->db, &need_st, "R1", "L1", &need, &attempts, eb), ERR_OK);
	assert_true(need);
	assert_int_equal(attempts, 2);
	assert_string_equal(test_rows(f->db, "SELECT * FROM guests"),
			    "R1|Ana|+5521999990000|ana@example.com|pt_BR|NULL|2|HTTP 503 again|200\n");
	/* Success: never asked again; less never overwrites more. */
	g = guest("", "", "", "");
	xstrlcpy(g.problem, "the client has no valid phone number", sizeof(g.problem));
	assert_int_equal(guests_save(f->db, "R1", &g, 1, "ignored", 300, eb), ERR_OK);
	assert_int_equal(guests_need(f->db, &need_st, "R1", "L1", &need, &attempts, eb), ERR_OK);
	assert_false(need);
	assert_string_equal(test_rows(f->db, "SELECT * FROM guests"),
			    "R1|Ana|+5521999990000|ana@example.com|pt_BR|300|2|"
			    "the client has no valid phone number|300\n");

	/* Forget: a stay over before `before`, a canceled one, an old orphan. */
	g = guest("Bo", "", "", "");
	assert_int_equal(guests_save(f->db, "R2", &g, 1, NULL, 300, eb), ERR_OK);
	assert_int_equal(guests_save(f->db, "R3", &g, 1, NULL, 300, eb), ERR_OK);
	assert_int_equal(guests_save(f->db, "NEW", &g, 1, NULL, 300, eb), ERR_OK);
	assert_int_equal(guests_save(f->db, "OLD", &g, 1, NULL, 10, eb), ERR_OK);
	assert_int_equal(guests_forget(f->db, "2026-11-29", 2 * 86400 + 100, &n, eb), ERR_OK);
	assert_int_equal(n, 2);         /* R3 canceled, OLD orphaned */
	assert_int_equal(guests_forget(f->db, "2026-11-30", 2 * 86400 + 100, &n, eb), ERR_OK);
	assert_int_equal(n, 1);         /* R2 checked out on the 29th */
	assert_string_equal(test_rows(f->db, "SELECT reservation_id FROM guests ORDER BY 1"),
			    "NEW\nR1\n");	/* The kept statement sees what was written since it was prepared. */
	assert_int_equal(guests_need(f->db, &need_st, "R2", "L1", &need, &attempts, eb), ERR_OK);
	assert_true(need);
	assert_int_equal(guests_need(f->db, &need_st, "NEW", "L1", &need, &attempts, eb), ERR_OK);
	assert_false(need);
	sqlite3_finalize(need_st);
}

static void test_listing_names(void **state)
{
	struct fx *f = *state;
	struct stays_listing l;
	char eb[ERRBUF_SIZE];
	int stale;

	memset(&l, 0, sizeof(l));
	xstrlcpy(l.id, "L1", sizeof(l.id));
	assert_int_equal(guests_listing_stale(f->db, "L1", 1000, &stale, eb), ERR_OK);
	assert_true(stale);
	xstrlcpy(l.name, "Copacabana 302", sizeof(l.name));
	assert_int_equal(guests_listing_save(f->db, &l, 1000, eb), ERR_OK);
	assert_int_equal(guests_listing_stale(f->db, "L1", 1000 + LISTING_NAME_MAX_AGE - 1, &stale,
					      eb), ERR_OK);
	assert_false(stale);
	assert_int_equal(guests_listing_stale(f->db, "L1", 1000 + LISTING_NAME_MAX_AGE, &stale, eb),
			 ERR_OK);
	assert_true(stale);
	assert_string_equal(test_rows(f->db, "SELECT * FROM listing_names"),
			    "L1|NULL|Copacabana 302|1000\n");
}

static void test_hook_input(void **state)
{
	struct fx *f = *state;
	struct stays_guest g = guest("Maria Silva", "+5521987654321", "maria@example.com", "pt_BR");
	struct stays_listing l;
	struct hook_notice n;
	struct cred_row c;
	char eb[ERRBUF_SIZE], *text;
	int found;

	memset(&c, 0, sizeof(c));
	xstrlcpy(c.pin, "4821937", sizeof(c.pin));
	c.valid_from = 1796936400;      /* 2026-12-10T21:00:00Z */
	c.valid_until = 1797087600;     /* 2026-12-12T15:00:00Z */

	/* Nothing known but the stay: every member is there, null; the
	 * [pins] zone (America/Sao_Paulo) for a lock without one. */
	assert_int_equal(guests_notice(f->db, &f->pol, "R1", "D2", &n, &found, eb), ERR_OK);
	assert_true(found);
	text = pinrun_hook_input(&n, &c);
	assert_string_equal(text,
		"{\"reservationId\":\"R1\",\"reservationCode\":\"RV001\",\"listingId\":\"L1\","
		"\"deviceId\":\"D2\",\"lockName\":null,\"pin\":\"4821937\","
		"\"validFrom\":\"2026-12-10T21:00:00Z\",\"validUntil\":\"2026-12-12T15:00:00Z\","
		"\"validFromLocal\":\"2026-12-10T18:00\",\"validUntilLocal\":\"2026-12-12T12:00\","
		"\"checkIn\":\"2026-12-10T19:30:00Z\",\"checkOut\":\"2026-12-12T14:00:00Z\","
		"\"checkInLocal\":\"2026-12-10T16:30\",\"checkOutLocal\":\"2026-12-12T11:00\","
		"\"timezone\":\"America/Sao_Paulo\",\"guests\":3,"
		"\"guest\":{\"name\":null,\"phone\":null,\"email\":null,\"language\":null},"
		"\"listing\":{\"id\":\"L1\",\"name\":null},\"lock\":{\"id\":\"D2\",\"name\":null}}");
	cJSON_free(text);

	/* With the guest, the listing's name and a lock in New York. */
	assert_int_equal(guests_save(f->db, "R1", &g, 1, NULL, 300, eb), ERR_OK);
	memset(&l, 0, sizeof(l));
	xstrlcpy(l.id, "L1", sizeof(l.id));
	xstrlcpy(l.name, "Copacabana \"302\"", sizeof(l.name));
	assert_int_equal(guests_listing_save(f->db, &l, 300, eb), ERR_OK);
	assert_int_equal(guests_notice(f->db, &f->pol, "R1", "D1", &n, &found, eb), ERR_OK);
	text = pinrun_hook_input(&n, &c);
	assert_non_null(strstr(text, "\"lockName\":\"Front door\""));
	assert_non_null(strstr(text, "\"validFromLocal\":\"2026-12-10T16:00\","
			       "\"validUntilLocal\":\"2026-12-12T10:00\","
			       "\"checkIn\":\"2026-12-10T21:30:00Z\",\"checkOut\":\"2026-12-12T16:00:00Z\","
			       "\"checkInLocal\":\"2026-12-10T16:30\",\"checkOutLocal\":\"2026-12-12T11:00\","
			       "\"timezone\":\"America/New_York\",\"guests\":3,"
			       "\"guest\":{\"name\":\"Maria Silva\",\"phone\":\"+5521987654321\","
			       "\"email\":\"maria@example.com\",\"language\":\"pt_BR\"},"
			       "\"listing\":{\"id\":\"L1\",\"name\":\"Copacabana \\\"302\\\"\"},"
			       "\"lock\":{\"id\":\"D1\",\"name\":\"Front door\"}}"));
	cJSON_free(text);

	assert_int_equal(guests_notice(f->db, &f->pol, "R9", "D1", &n, &found, eb), ERR_OK);
	assert_false(found);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_guest_of_reservation),
		cmocka_unit_test(test_guest_of_bad_answers),
		cmocka_unit_test(test_client),
		cmocka_unit_test_setup_teardown(test_need_save_forget, setup, teardown),
		cmocka_unit_test_setup_teardown(test_listing_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hook_input, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
