/*
 * metrics.c - render struct metrics as the Prometheus text exposition
 * format that node_exporter's textfile collector reads (see metrics.h).
 *
 * Pure: no I/O, no clock.  Each family is built as an array of samples and
 * then written with its # HELP and # TYPE lines, so that the output always
 * has the same families in the same order, and a family with no sample is
 * left out whole.  Values are integers, or milliseconds written as seconds
 * with three decimals: exact, and free of the locale and of %g.
 */
#include <assert.h>
#include <string.h>

#include "metrics.h"
#include "banned.h"

const char *const metrics_programs[METRICS_NPROGRAMS] = { "stays-reconcile", "pin-runner" };
const char *const metrics_services[METRICS_NSERVICES] = { "stays", "tuya" };
const char *const metrics_actions[METRICS_NACTIONS] = { "generate", "update", "revoke" };
const char *const metrics_job_statuses[METRICS_NJOB_STATUSES] = {
	"pending", "running", "done", "failed", "canceled"
};
const char *const metrics_cred_states[METRICS_NCRED_STATES] = {
	"creating", "unconfirmed", "active", "revoking", "revoked"
};

#define PREFIX "stays_reconcile_"
#define MAX_LABELS 2
/* Enough for the largest family: jobs by action and status. */
#define MAX_SAMPLES ((size_t)METRICS_NACTIONS * METRICS_NJOB_STATUSES)

struct sample {
	const char *label[MAX_LABELS];  /* names; NULL after the last */
	const char *value[MAX_LABELS];
	long long n;
	int ms;                         /* n is milliseconds: write seconds */
};

struct family {
	const char *name;               /* without PREFIX */
	const char *type;               /* gauge|counter */
	const char *help;
	struct sample s[MAX_SAMPLES];
	size_t n;
};

int metrics_index(const char *const *names, int n, const char *s)
{
	for (int i = 0; i < n; i++)
		if (strcmp(names[i], s) == 0)
			return i;
	return -1;
}

void metrics_escape_label(const char *v, struct strbuf *out)
{
	strbuf_adds(out, "\"");
	for (; *v; v++) {
		if (*v == '\\')
			strbuf_adds(out, "\\\\");
		else if (*v == '"')
			strbuf_adds(out, "\\\"");
		else if (*v == '\n')
			strbuf_adds(out, "\\n");
		else
			strbuf_add(out, v, 1);
	}
	strbuf_adds(out, "\"");
}

/* Add a sample with up to two labels (name, value pairs; NULL: none). */
static void add(struct family *f, long long n, int ms, const char *l1, const char *v1,
		const char *l2, const char *v2)
{
	struct sample *s;

	assert(f->n < MAX_SAMPLES);
	s = &f->s[f->n++];
	memset(s, 0, sizeof(*s));
	s->label[0] = l1;
	s->value[0] = v1;
	s->label[1] = l2;
	s->value[1] = v2;
	s->n = n;
	s->ms = ms;
}

static void write_family(const struct family *f, struct strbuf *out)
{
	if (f->n == 0)
		return;
	/* HELP texts are ours: no '\' or newline to escape. */
	strbuf_addf(out, "# HELP " PREFIX "%s %s\n", f->name, f->help);
	strbuf_addf(out, "# TYPE " PREFIX "%s %s\n", f->name, f->type);
	for (size_t i = 0; i < f->n; i++) {
		const struct sample *s = &f->s[i];

		strbuf_addf(out, PREFIX "%s", f->name);
		for (int j = 0; j < MAX_LABELS && s->label[j]; j++) {
			strbuf_addf(out, "%s%s=", j ? "," : "{", s->label[j]);
			metrics_escape_label(s->value[j], out);
		}
		if (s->label[0])
			strbuf_adds(out, "}");
		if (s->ms)
			strbuf_addf(out, " %lld.%03lld\n", s->n / 1000, s->n % 1000);
		else
			strbuf_addf(out, " %lld\n", s->n);
	}
}

static void init(struct family *f, const char *name, const char *type, const char *help)
{
	f->name = name;
	f->type = type;
	f->help = help;
	f->n = 0;
}

/* The families about each program's last run. */
static void render_runs(const struct metrics *m, struct strbuf *out)
{
	struct family f;
	int p;

	init(&f, "last_run_start_timestamp_seconds", "gauge",
	     "When the last completed run of the program started (Unix time).");
	for (p = 0; p < METRICS_NPROGRAMS; p++)
		if (m->run[p].found)
			add(&f, m->run[p].started_at, 0, "program", metrics_programs[p], NULL, NULL);
	write_family(&f, out);

	init(&f, "last_run_end_timestamp_seconds", "gauge",
	     "When the last completed run of the program ended (Unix time).");
	for (p = 0; p < METRICS_NPROGRAMS; p++)
		if (m->run[p].found)
			add(&f, m->run[p].completed_at, 0, "program", metrics_programs[p], NULL, NULL);
	write_family(&f, out);

	init(&f, "last_run_duration_seconds", "gauge",
	     "How long the last completed run of the program took.");
	for (p = 0; p < METRICS_NPROGRAMS; p++)
		if (m->run[p].found && m->run[p].duration_ms >= 0)
			add(&f, m->run[p].duration_ms, 1, "program", metrics_programs[p], NULL, NULL);
	write_family(&f, out);

	init(&f, "last_run_success", "gauge",
	     "1 if the last completed run of the program succeeded, 0 if it failed.");
	for (p = 0; p < METRICS_NPROGRAMS; p++)
		if (m->run[p].found)
			add(&f, m->run[p].success ? 1 : 0, 0, "program", metrics_programs[p],
			    NULL, NULL);
	write_family(&f, out);

	init(&f, "last_success_timestamp_seconds", "gauge",
	     "When the last successful run of the program ended (Unix time; 0: never).");
	for (p = 0; p < METRICS_NPROGRAMS; p++)
		add(&f, m->run[p].found ? m->run[p].last_success : 0, 0, "program",
		    metrics_programs[p], NULL, NULL);
	write_family(&f, out);

	init(&f, "last_reconciliation_items", "gauge",
	     "The stats of the last completed reconciliation, by kind (as in status --json).");
	if (m->run[METRICS_RECONCILE].found) {
		const struct plan_stats *s = &m->stats;
		const struct {
			const char *kind;
			long n;
		} kinds[] = {
			{ "fetched", s->fetched }, { "created", s->created },
			{ "updated", s->updated }, { "unchanged", s->unchanged },
			{ "canceled", s->canceled }, { "removed", s->removed },
			{ "orphaned", s->orphaned }, { "errors", s->errors },
		};

		for (size_t i = 0; i < sizeof(kinds) / sizeof(*kinds); i++)
			add(&f, kinds[i].n, 0, "kind", kinds[i].kind, NULL, NULL);
	}
	write_family(&f, out);
}

/* One gauge without labels. */
static void render_count(const char *name, const char *help, long n, struct strbuf *out)
{
	struct family f;

	init(&f, name, "gauge", help);
	add(&f, n, 0, NULL, NULL, NULL, NULL);
	write_family(&f, out);
}

void metrics_render(const struct metrics *m, struct strbuf *out)
{
	struct family f;

	render_runs(m, out);

	init(&f, "pin_jobs", "gauge", "PIN jobs in the schedule, by action and status.");
	for (int a = 0; a < METRICS_NACTIONS; a++)
		for (int s = 0; s < METRICS_NJOB_STATUSES; s++)
			add(&f, m->jobs[a][s], 0, "action", metrics_actions[a], "status",
			    metrics_job_statuses[s]);
	write_family(&f, out);

	init(&f, "credentials", "gauge", "PIN credentials recorded, by state.");
	for (int s = 0; s < METRICS_NCRED_STATES; s++)
		add(&f, m->creds[s], 0, "state", metrics_cred_states[s], NULL, NULL);
	write_family(&f, out);

	render_count("pins_unconfirmed",
		     "PINs whose window starts within 24 hours (or has started), not yet confirmed on their lock.",
		     m->unconfirmed, out);
	render_count("pins_unrevoked",
		     "PINs that should be gone (past their revoke time, or a revoke overdue), not yet confirmed gone from their lock.",
		     m->unrevoked, out);
	render_count("pin_jobs_overdue",
		     "PIN jobs due and not run, or failed while still needed.", m->overdue, out);
	render_count("bookings_unmapped",
		     "Bookings that need a PIN on a listing with no lock, checking in within 14 days.",
		     m->unmapped, out);

	init(&f, "requests_total", "counter",
	     "Requests sent to each service, retries included.");
	for (int s = 0; s < METRICS_NSERVICES; s++)
		add(&f, m->requests[s], 0, "service", metrics_services[s], NULL, NULL);
	write_family(&f, out);

	init(&f, "request_errors_total", "counter",
	     "Requests to each service that failed: no answer, an HTTP error, or an error answer.");
	for (int s = 0; s < METRICS_NSERVICES; s++)
		add(&f, m->request_errors[s], 0, "service", metrics_services[s], NULL, NULL);
	write_family(&f, out);
}
