/*
 * tz.h - wall-clock time in a named IANA zone, without a time zone library.
 *
 * Implemented by reading the TZif files (RFC 8536) of the zoneinfo
 * directory ourselves, with their POSIX TZ footer rule for instants after
 * the last transition.  The process's environment and the C library's time
 * zone state are never modified (no setenv, tzset, localtime): zone == NULL
 * is the machine's zone as the TZ variable says at the time of the call.
 * Parsed zones are cached for the life of the process.  Not thread-safe;
 * the programs are single-threaded.
 *
 * "Wall" times are represented as a linear count of seconds: the value
 * timegm() would give for the same calendar fields (so arithmetic on them has
 * no DST in it).  Policy for the two DST anomalies, decided here once:
 *   - a wall time that does not exist (spring-forward gap) has 0 instants;
 *   - a wall time that happens twice (fall-back overlap) has 2 instants,
 *     returned earlier first.
 */
#ifndef STAYS_TZ_H
#define STAYS_TZ_H

#include <time.h>

/*
 * 1 if zone is a usable IANA name ("America/Sao_Paulo", "UTC") installed in
 * the zoneinfo directory ($TZDIR or /usr/share/zoneinfo), else 0.  Rejects
 * absolute paths, "..", and POSIX TZ strings, which glibc would silently
 * treat as UTC; names are case-sensitive.  The file must be a complete,
 * consistent TZif file (versions 1 to 4, at most 1 MiB) without
 * leap-second records: the right/ zones count leap seconds in time_t and
 * are refused.  zone is only read.
 */
int tz_valid(const char *zone);

/*
 * The instants at which the wall clock of zone (NULL = machine local zone)
 * shows wall (see above).  Writes up to 2 instants into out, earlier first,
 * and returns how many (0, 1 or 2).  Returns -1 if zone cannot be used
 * (a named zone that tz_valid() refuses; the machine zone never fails: TZ
 * unset is /etc/localtime, TZ="" is UTC, ":NAME" or "NAME" a TZif file,
 * absolute or under the zoneinfo directory, else a POSIX TZ string such as
 * "EST5EDT,M3.2.0,M11.1.0", and whatever cannot be used is UTC, as in
 * glibc).  Walls and instants beyond about a billion years have no
 * instants and no wall time (0 here, -1 below).
 */
int tz_instants(const char *zone, time_t wall, time_t out[2]);

/*
 * One instant for a wall time, with the policy used for check-in/check-out
 * times: in a gap, the first instant after the gap (the clock jumps over
 * it, so the event happens when the clock shows a valid time again); in an
 * overlap, the earlier instant.  Returns 0, or -1 if zone cannot be used.
 */
int tz_wall_to_instant(const char *zone, time_t wall, time_t *out);

/* The wall time (linear seconds, see above) of instant t in zone (NULL =
 * machine local).  Returns 0, or -1 if zone cannot be used. */
int tz_instant_to_wall(const char *zone, time_t t, time_t *wall);

/* Linear wall seconds for a civil date and time of day. */
time_t tz_wall(int y, int mo, int d, int h, int mi);

#endif
