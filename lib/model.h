/*
 * model.h - the plain data the reconciliation works on.
 *
 * Fixed-size fields: Stays ids are 24 hex characters and codes about 6, so
 * the bounds below are generous; the Stays parser rejects longer values as
 * malformed (R8) instead of truncating them, so no field is ever cut.
 */
#ifndef STAYS_MODEL_H
#define STAYS_MODEL_H

#include <stddef.h>
#include <string.h>
#include <time.h>

#define ID_MAX 64       /* Stays _id, _idlisting, Tuya device id */
#define CODE_MAX 32     /* Stays short id */
#define TYPE_MAX 16
#define TZ_MAX 64
#define JOB_ID_MAX (16 + 2 * ID_MAX)

/* A reservation as fetched from Stays or as stored (R3's tracked fields). */
struct resv {
	char id[ID_MAX + 1];
	char code[CODE_MAX + 1];
	char listing[ID_MAX + 1];
	char in_date[11];       /* YYYY-MM-DD */
	char in_time[6];        /* HH:MM, "" when Stays gave none */
	char out_date[11];
	char out_time[6];
	char type[TYPE_MAX + 1];
	int guests;
	char status[9];         /* stored rows: active|canceled|removed */
};

/* One row of the listing -> lock mapping. */
struct lock_map {
	char device[ID_MAX + 1];
	char listing[ID_MAX + 1];
	char name[65];          /* "" when none */
	int pin_length;         /* 0: [pins] length */
	char tz[TZ_MAX + 1];    /* "": [pins] timezone */
};

/* One pin_jobs row, as far as planning needs it. */
struct job {
	char id[JOB_ID_MAX + 1];
	char action[9];         /* generate|revoke|update */
	char resv[ID_MAX + 1];
	char device[ID_MAX + 1];
	time_t due;
	time_t valid_from;      /* 0 when NULL */
	time_t valid_until;
	char status[9];         /* pending|running|done|failed|canceled */
};

/*
 * A credential that is (or may be) on a lock: every state but revoked
 * (creating, unconfirmed, active, revoking; see schema.sql).
 */
struct cred {
	char resv[ID_MAX + 1];
	char device[ID_MAX + 1];
	time_t valid_from;
	time_t valid_until;
	char state[12];
	int has_password;       /* the cloud gave it a password id */
};

/* 1 if state is one of a credential that is wanted on the lock (creating,
 * unconfirmed, active), as opposed to revoking or revoked. */
static inline int cred_state_wanted(const char *state)
{
	return strcmp(state, "creating") == 0 || strcmp(state, "unconfirmed") == 0 ||
	       strcmp(state, "active") == 0;
}

/*
 * 1 if the n rows of v are sorted by id with each id once: the contract of
 * the arrays plan.c and store.c search with bsearch().  One linear pass,
 * cheap enough for an assert() on every run.
 */
static inline int resv_sorted_unique(const struct resv *v, size_t n)
{
	for (size_t i = 1; i < n; i++)
		if (strcmp(v[i - 1].id, v[i].id) >= 0)
			return 0;
	return 1;
}

static inline int jobs_sorted_unique(const struct job *v, size_t n)
{
	for (size_t i = 1; i < n; i++)
		if (strcmp(v[i - 1].id, v[i].id) >= 0)
			return 0;
	return 1;
}

#endif
