/*
 * ids.c - identifier validators (see ids.h).
 */
#include <string.h>

#include "ids.h"
#include "banned.h"

static int alnum(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	       (ch >= '0' && ch <= '9');
}

int ids_stays_valid(const char *s, size_t max)
{
	size_t n = 0;

	if (!s)
		return 0;
	for (; s[n]; n++)
		if (!alnum(s[n]) && s[n] != '_' && s[n] != '-' && s[n] != '.')
			return 0;
	return n >= 1 && n <= max;
}

int ids_listing_valid(const char *s)
{
	return ids_stays_valid(s, ID_MAX);
}

int ids_code_valid(const char *s)
{
	return ids_stays_valid(s, CODE_MAX);
}

int ids_device_valid(const char *s)
{
	size_t n = 0;

	if (!s)
		return 0;
	for (; s[n]; n++)
		if (!alnum(s[n]) && s[n] != '_' && s[n] != '-')
			return 0;
	return n >= 1 && n <= TUYA_DEVICE_ID_MAX;
}

int ids_password_valid(int64_t id)
{
	return id > 0;
}
