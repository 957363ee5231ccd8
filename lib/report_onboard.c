/*
 * report_onboard.c - JSON and tables of `listings` and `locks discover`
 * (report_onboard.h).  The locks table is small (one row per mapped
 * device), so the joins are plain scans.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "report.h"
#include "report_onboard.h"
#include "tuya_parse.h"
#include "banned.h"

/* The listing the device is mapped to, or NULL. */
static const char *listing_of(const char *device, const struct lock_map *locks,
			      size_t nlocks)
{
	for (size_t i = 0; i < nlocks; i++)
		if (strcmp(locks[i].device, device) == 0)
			return locks[i].listing;
	return NULL;
}

cJSON *report_listings_json(const struct stays_listing *v, size_t n,
			    const struct lock_map *locks, size_t nlocks)
{
	cJSON *arr = cJSON_CreateArray();

	for (size_t i = 0; i < n; i++) {
		cJSON *o = cJSON_CreateObject(), *devs;

		cJSON_AddStringToObject(o, "id", v[i].id);
		report_add_str(o, "shortId", v[i].code);
		report_add_str(o, "internalName", v[i].name);
		report_add_str(o, "city", v[i].city);
		report_add_str(o, "address", v[i].address);
		devs = cJSON_AddArrayToObject(o, "devices");
		for (size_t k = 0; k < nlocks; k++) {
			cJSON *d;

			if (strcmp(locks[k].listing, v[i].id) != 0)
				continue;
			d = cJSON_CreateObject();
			cJSON_AddStringToObject(d, "deviceId", locks[k].device);
			report_add_str(d, "name", locks[k].name);
			cJSON_AddItemToArray(devs, d);
		}
		cJSON_AddItemToArray(arr, o);
	}
	return arr;
}

/* The widest text of the n items of v (each size bytes) at offset, and of
 * the heading h: the width of a column. */
static size_t column_width(const void *v, size_t n, size_t size, size_t offset, const char *h)
{
	size_t w = report_text_width(h);

	for (size_t i = 0; i < n; i++) {
		size_t x = report_text_width((const char *)v + i * size + offset);

		if (x > w)
			w = x;
	}
	return w;
}

#define COLUMN_WIDTH(v, n, field, h) \
	column_width((v), (n), sizeof(*(v)), offsetof(__typeof__(*(v)), field), (h))

void report_listings_table(const struct stays_listing *v, size_t n,
			   const struct lock_map *locks, size_t nlocks,
			   struct strbuf *out)
{
	size_t wn = COLUMN_WIDTH(v, n, name, "NAME"), wc = COLUMN_WIDTH(v, n, city, "CITY");

	if (n) {
		strbuf_addf(out, "%-26s %-8s ", "LISTING", "SHORT");
		report_pad(out, "NAME", wn);
		report_pad(out, "CITY", wc);
		strbuf_adds(out, "DEVICES\n");
	}
	for (size_t i = 0; i < n; i++) {
		size_t len;

		strbuf_addf(out, "%-26s %-8s ", v[i].id, v[i].code[0] ? v[i].code : "-");
		report_pad(out, v[i].name[0] ? v[i].name : "-", wn);
		report_pad(out, v[i].city[0] ? v[i].city : "-", wc);
		len = out->len;
		for (size_t k = 0; k < nlocks; k++)
			if (strcmp(locks[k].listing, v[i].id) == 0)
				strbuf_addf(out, "%s%s", out->len > len ? "," : "", locks[k].device);
		strbuf_adds(out, out->len > len ? "\n" : "-\n");
	}
}

cJSON *report_devices_json(const struct tuya_device *v, size_t n,
			   const struct lock_map *locks, size_t nlocks)
{
	cJSON *arr = cJSON_CreateArray();

	for (size_t i = 0; i < n; i++) {
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "id", v[i].id);
		report_add_str(o, "name", v[i].name);
		report_add_str(o, "category", v[i].category);
		report_add_str(o, "product", v[i].product);
		if (v[i].online < 0)
			cJSON_AddNullToObject(o, "online");
		else
			cJSON_AddBoolToObject(o, "online", v[i].online);
		cJSON_AddBoolToObject(o, "isLock", tuya_is_lock(v[i].category));
		report_add_str(o, "listingId", listing_of(v[i].id, locks, nlocks));
		cJSON_AddItemToArray(arr, o);
	}
	return arr;
}

void report_devices_table(const struct tuya_device *v, size_t n,
			  const struct lock_map *locks, size_t nlocks,
			  struct strbuf *out)
{
	size_t wn = COLUMN_WIDTH(v, n, name, "NAME"), wp = COLUMN_WIDTH(v, n, product, "PRODUCT");

	if (n) {
		strbuf_addf(out, "%-24s ", "DEVICE");
		report_pad(out, "NAME", wn);
		strbuf_addf(out, "%-9s ", "CATEGORY");
		report_pad(out, "PRODUCT", wp);
		strbuf_addf(out, "%-7s %-4s %s\n", "ONLINE", "LOCK", "LISTING");
	}
	for (size_t i = 0; i < n; i++) {
		const char *l = listing_of(v[i].id, locks, nlocks);

		strbuf_addf(out, "%-24s ", v[i].id);
		report_pad(out, v[i].name[0] ? v[i].name : "-", wn);
		strbuf_addf(out, "%-9s ", v[i].category[0] ? v[i].category : "-");
		report_pad(out, v[i].product[0] ? v[i].product : "-", wp);
		strbuf_addf(out, "%-7s %-4s %s\n",
			    v[i].online < 0 ? "-" : v[i].online ? "yes" : "no",
			    tuya_is_lock(v[i].category) ? "yes" : "no", l ? l : "-");
	}
}

/* ---- locks suggest --------------------------------------------------------- */

/* "stays-reconcile [-c CONFIG] locks add LISTING DEVICE"; the ids are
 * validated, the config path is quoted for the shell when it needs it. */
static void suggest_command(const char *listing, const char *device, const char *config,
			    struct strbuf *out)
{
	strbuf_adds(out, "stays-reconcile ");
	if (config) {
		if (config[strspn(config, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				  "0123456789/._-")]) {
			strbuf_adds(out, "-c '");
			for (const char *c = config; *c; c++) {
				if (*c == '\'')
					strbuf_adds(out, "'\\''");
				else
					strbuf_add(out, c, 1);
			}
			strbuf_adds(out, "' ");
		} else {
			strbuf_addf(out, "-c %s ", config);
		}
	}
	strbuf_addf(out, "locks add %s %s", listing, device);
}

cJSON *report_suggest_json(const struct match_pair *p, size_t n,
			   const struct stays_listing *const *l,
			   const struct tuya_device *const *d, const char *config)
{
	cJSON *arr = cJSON_CreateArray();
	struct strbuf cmd = STRBUF_INIT;

	for (size_t i = 0; i < n; i++) {
		const struct stays_listing *li = l[p[i].listing];
		const struct tuya_device *de = d[p[i].device];
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "listingId", li->id);
		report_add_str(o, "listingName", li->name);
		cJSON_AddStringToObject(o, "deviceId", de->id);
		report_add_str(o, "deviceName", de->name);
		cJSON_AddNumberToObject(o, "score", p[i].score);
		cJSON_AddStringToObject(o, "reason", p[i].reason);
		strbuf_reset(&cmd);
		suggest_command(li->id, de->id, config, &cmd);
		cJSON_AddStringToObject(o, "command", strbuf_str(&cmd));
		cJSON_AddItemToArray(arr, o);
	}
	strbuf_release(&cmd);
	return arr;
}

void report_suggest_text(const struct match_pair *p, size_t n,
			 const struct stays_listing *const *l,
			 const struct tuya_device *const *d, const char *config,
			 struct strbuf *out)
{
	for (size_t i = 0; i < n; i++) {
		const struct stays_listing *li = l[p[i].listing];
		const struct tuya_device *de = d[p[i].device];

		strbuf_addf(out, "%3d  %s (%s)  ->  %s (%s): %s\n    ", p[i].score,
			    li->name[0] ? li->name : "-", li->id, de->name[0] ? de->name : "-",
			    de->id, p[i].reason);
		suggest_command(li->id, de->id, config, out);
		strbuf_adds(out, "\n");
	}
}
