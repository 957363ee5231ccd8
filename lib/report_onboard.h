/*
 * report_onboard.h - the outputs of the onboarding commands (`listings`,
 * `locks discover`) as data: JSON trees the caller prints and frees, and
 * aligned tables appended to a strbuf.  Pure: the join of what Stays or
 * Tuya answered with the locks table is done here, from plain arrays,
 * so it is tested without a server.  Nothing here writes to a stream.
 */
#ifndef STAYS_REPORT_ONBOARD_H
#define STAYS_REPORT_ONBOARD_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "match.h"
#include "model.h"
#include "stays.h"
#include "tuya_parse.h"
#include "util.h"

/*
 * listings: one entry per listing, with the devices the locks table maps
 * to it:
 *   [{"id", "shortId", "internalName", "city", "address",
 *     "devices": [{"deviceId", "name"}]}]
 * shortId, internalName, city, address and a device's name are null when
 * Stays (or the mapping) has none.  All arrays borrowed.
 */
cJSON *report_listings_json(const struct stays_listing *v, size_t n,
			    const struct lock_map *locks, size_t nlocks);

/* The same as a table: LISTING SHORT NAME CITY DEVICES (devices joined by
 * ","; "-" for nothing), with a header line when there are rows. */
void report_listings_table(const struct stays_listing *v, size_t n,
			   const struct lock_map *locks, size_t nlocks,
			   struct strbuf *out);

/*
 * locks discover: one entry per Tuya device:
 *   [{"id", "name", "category", "product", "online", "isLock",
 *     "listingId"}]
 * online is null when Tuya did not say; listingId is the listing the
 * locks table maps the device to, or null.  All arrays borrowed.
 */
cJSON *report_devices_json(const struct tuya_device *v, size_t n,
			   const struct lock_map *locks, size_t nlocks);

/* The same as a table: DEVICE NAME CATEGORY PRODUCT ONLINE LOCK LISTING. */
void report_devices_table(const struct tuya_device *v, size_t n,
			  const struct lock_map *locks, size_t nlocks,
			  struct strbuf *out);

/*
 * locks suggest: one entry per suggestion of match_suggest() over the
 * listings l and the devices d it was given, best first:
 *   [{"listingId", "listingName", "deviceId", "deviceName", "score",
 *     "reason", "command"}]
 * command is the `locks add` line that maps the pair (with "-c CONFIG"
 * when config is not NULL); nothing is mapped here.
 */
cJSON *report_suggest_json(const struct match_pair *p, size_t n,
			   const struct stays_listing *const *l,
			   const struct tuya_device *const *d, const char *config);

/* The same as text: a line per suggestion, then its command, indented. */
void report_suggest_text(const struct match_pair *p, size_t n,
			 const struct stays_listing *const *l,
			 const struct tuya_device *const *d, const char *config,
			 struct strbuf *out);

#endif
