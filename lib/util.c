/*
 * util.c - allocation, strbuf and time parsing/formatting helpers.
 *
 * Civil-date arithmetic follows Howard Hinnant's days_from_civil, so no
 * function here depends on the process time zone.
 */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "util.h"

static void oom(size_t n)
{
	fprintf(stderr, "out of memory allocating %zu bytes\n", n);
	abort();
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		oom(n);
	return p;
}

void *xcalloc(size_t nmemb, size_t size)
{
	void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);

	if (!p)
		oom(nmemb * size);
	return p;
}

void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (!q)
		oom(n);
	return q;
}

char *xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

void *xgrow(void *arr, size_t elsize, size_t need, size_t *alloc)
{
	size_t n;

	if (need <= *alloc)
		return arr;
	n = *alloc ? *alloc : 8;
	while (n < need) {
		if (n > SIZE_MAX / 2)
			oom(SIZE_MAX);
		n *= 2;
	}
	if (n > SIZE_MAX / elsize)
		oom(SIZE_MAX);
	arr = xrealloc(arr, n * elsize);
	*alloc = n;
	return arr;
}

void strbuf_add(struct strbuf *sb, const void *data, size_t len)
{
	sb->buf = xgrow(sb->buf, 1, sb->len + len + 1, &sb->alloc);
	if (len)
		memcpy(sb->buf + sb->len, data, len);
	sb->len += len;
	sb->buf[sb->len] = '\0';
}

void strbuf_adds(struct strbuf *sb, const char *s)
{
	strbuf_add(sb, s, strlen(s));
}

void strbuf_addf(struct strbuf *sb, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	sb->buf = xgrow(sb->buf, 1, sb->len + (size_t)n + 1, &sb->alloc);
	va_start(ap, fmt);
	vsnprintf(sb->buf + sb->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	sb->len += (size_t)n;
}

void strbuf_reset(struct strbuf *sb)
{
	sb->len = 0;
	if (sb->buf)
		sb->buf[0] = '\0';
}

void strbuf_release(struct strbuf *sb)
{
	free(sb->buf);
	sb->buf = NULL;
	sb->len = sb->alloc = 0;
}

const char *strbuf_str(const struct strbuf *sb)
{
	return sb->buf ? sb->buf : "";
}

int xstrlcpy(char *dst, const char *src, size_t size)
{
	size_t n = strlen(src);

	if (!size)
		return -1;
	if (n >= size) {
		memcpy(dst, src, size - 1);
		dst[size - 1] = '\0';
		return -1;
	}
	memcpy(dst, src, n + 1);
	return 0;
}

long util_days_from_civil(int y, int m, int d)
{
	long yy = (long)y - (m <= 2);
	long era = (yy >= 0 ? yy : yy - 399) / 400;
	long yoe = yy - era * 400;
	long doy = (153L * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return era * 146097 + doe - 719468;
}

void util_civil_from_days(long z, int *y, int *m, int *d)
{
	long era, doe, yoe, doy, mp, yy;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	yy = yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yy + (*m <= 2));
}

int util_valid_date(int y, int m, int d)
{
	static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int leap, max;

	if (y < 1970 || y > 9999 || m < 1 || m > 12 || d < 1)
		return 0;
	leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	max = mdays[m - 1] + (m == 2 && leap);
	return d <= max;
}

int util_hex_value(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

void util_fmt_utc(time_t t, char *buf, size_t size)
{
	long days = (long)(t / 86400);
	long secs = (long)(t % 86400);
	int y, m, d;

	if (secs < 0) {
		secs += 86400;
		days--;
	}
	util_civil_from_days(days, &y, &m, &d);
	snprintf(buf, size, "%04d-%02d-%02dT%02ld:%02ld:%02ldZ", y, m, d,
		 secs / 3600, secs / 60 % 60, secs % 60);
}

/* Parse exactly n digits at *p into *out, advancing *p. */
static int digits(const char **p, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if ((*p)[i] < '0' || (*p)[i] > '9')
			return -1;
		v = v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	*out = v;
	return 0;
}

int util_parse_date(const char *s, int *y, int *m, int *d)
{
	const char *p = s;

	if (digits(&p, 4, y) || *p++ != '-' || digits(&p, 2, m) ||
	    *p++ != '-' || digits(&p, 2, d) || *p)
		return -1;
	return util_valid_date(*y, *m, *d) ? 0 : -1;
}

int util_parse_hhmm(const char *s, int *h, int *m)
{
	const char *p = s;

	if (digits(&p, 2, h) || *p++ != ':' || digits(&p, 2, m) || *p)
		return -1;
	return (*h < 24 && *m < 60) ? 0 : -1;
}

int util_parse_hhmm_ss(const char *s, int *h, int *m)
{
	char hm[6];
	const char *p;
	int sec;

	if (strlen(s) == 5)
		return util_parse_hhmm(s, h, m);
	if (strlen(s) != 8 || s[5] != ':')
		return -1;
	memcpy(hm, s, 5);
	hm[5] = '\0';
	p = s + 6;
	if (digits(&p, 2, &sec) || sec > 59)
		return -1;
	return util_parse_hhmm(hm, h, m);
}

int util_valid_time_suffix(const char *s)
{
	const char *p = s;
	int h, mi, sec, oh, om;

	if (!*p)
		return 1;
	if (*p++ != 'T' || digits(&p, 2, &h) || *p++ != ':' || digits(&p, 2, &mi) ||
	    h > 23 || mi > 59)
		return 0;
	if (*p == ':') {
		p++;
		if (digits(&p, 2, &sec) || sec > 59)
			return 0;
		if (*p == '.') {
			size_t n = strspn(++p, "0123456789");

			if (n == 0 || n > 9)
				return 0;
			p += n;
		}
	}
	if (*p == 'Z')
		return p[1] == '\0';
	if (*p == '+' || *p == '-') {
		p++;
		if (digits(&p, 2, &oh) || oh > 23)
			return 0;
		if (*p == ':')
			p++;
		if (digits(&p, 2, &om) || om > 59)
			return 0;
	}
	return *p == '\0';
}

const char *util_url_problem(const char *s)
{
	const char *p;
	size_t n;

	if (strncmp(s, "https://", 8) == 0)
		p = s + 8;
	else if (strncmp(s, "http://", 7) == 0)
		p = s + 7;
	else
		return "is not an http:// or https:// URL";
	if (*p == '[') {
		n = strspn(p + 1, "0123456789abcdefABCDEF:.");
		if (n == 0 || p[1 + n] != ']')
			return "has a malformed [IPv6] host";
		p += n + 2;
	} else {
		n = strspn(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.");
		if (n == 0)
			return "has no host name";
		if (p[0] == '.' || p[0] == '-' || p[n - 1] == '-')
			return "has a malformed host name";
		for (size_t i = 0; i + 1 < n; i++)
			if (p[i] == '.' && p[i + 1] == '.')
				return "has a malformed host name";
		p += n;
	}
	if (*p == ':') {
		long port = 0;

		n = strspn(++p, "0123456789");
		if (n == 0 || n > 5)
			return "has a malformed port";
		for (size_t i = 0; i < n; i++)
			port = port * 10 + (p[i] - '0');
		if (port < 1 || port > 65535)
			return "has a port out of range";
		p += n;
	}
	if (*p && *p != '/' && *p != '?')
		return "has a character that cannot follow the host";
	for (; *p; p++)
		if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f)
			return "has a space or control character";
	return NULL;
}

int util_parse_time(const char *s, time_t *out)
{
	const char *p = s;
	int y, mo, d, h, mi, sec = 0, oh, om;
	long off = 0;

	if (!*s)
		return -1;
	if (strspn(s, "0123456789") == strlen(s)) {
		char *end;
		long long v;

		errno = 0;
		v = strtoll(s, &end, 10);
		if (errno || *end || v > (long long)253402300799LL)
			return -1;
		*out = (time_t)v;
		return 0;
	}
	if (digits(&p, 4, &y) || *p++ != '-' || digits(&p, 2, &mo) ||
	    *p++ != '-' || digits(&p, 2, &d) || (*p != 'T' && *p != ' '))
		return -1;
	p++;
	if (digits(&p, 2, &h) || *p++ != ':' || digits(&p, 2, &mi))
		return -1;
	if (*p == ':') {
		p++;
		if (digits(&p, 2, &sec))
			return -1;
	}
	if (*p == 'Z' && p[1] == '\0') {
		off = 0;
	} else if ((*p == '+' || *p == '-') && p[1]) {
		int sign = *p == '-' ? -1 : 1;

		p++;
		if (digits(&p, 2, &oh) || *p++ != ':' || digits(&p, 2, &om) ||
		    *p || oh > 23 || om > 59)
			return -1;
		off = sign * (oh * 3600L + om * 60L);
	} else {
		return -1;
	}
	if (!util_valid_date(y, mo, d) || h > 23 || mi > 59 || sec > 60)
		return -1;
	*out = (time_t)(util_days_from_civil(y, mo, d) * 86400L + h * 3600L +
			mi * 60L + sec - off);
	return 0;
}

int util_parse_duration(const char *s, long *seconds)
{
	char *end;
	long v, mult = 1;

	if (!*s || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno)
		return -1;
	switch (*end) {
	case '\0': mult = 1; break;
	case 's': mult = 1; end++; break;
	case 'm': mult = 60; end++; break;
	case 'h': mult = 3600; end++; break;
	case 'd': mult = 86400; end++; break;
	default: return -1;
	}
	if (*end || v > 366L * 86400 / mult)
		return -1;
	*seconds = v * mult;
	return 0;
}

int util_uuid(char out[37])
{
	unsigned char b[16];
	size_t got = 0;

	while (got < sizeof(b)) {
		ssize_t n = getrandom(b + got, sizeof(b) - got, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		got += (size_t)n;
	}
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	snprintf(out, 37,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9],
		 b[10], b[11], b[12], b[13], b[14], b[15]);
	return 0;
}
