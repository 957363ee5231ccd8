/*
 * plan_policy.c - the configuration as the planner sees it (see plan.h).
 *
 * Kept apart from plan.c so that the planner does not depend on
 * config.h: a plan test builds a struct plan_policy by hand, with no
 * configuration file.
 */
#include <assert.h>
#include <string.h>

#include "config.h"
#include "plan.h"
#include "banned.h"

void plan_policy_from_config(const struct config *cfg, struct plan_policy *pol)
{
	assert(cfg && pol);
	memset(pol, 0, sizeof(*pol));
	pol->timezone = cfg->pins.timezone;
	pol->checkin_min = cfg->pins.checkin_min;
	pol->checkout_min = cfg->pins.checkout_min;
	pol->generate_before = cfg->pins.generate_before;
	pol->revoke_after = cfg->pins.revoke_after;
	pol->valid_before = cfg->pins.valid_before;
	pol->valid_after = cfg->pins.valid_after;
	pol->pin_types = (const char *const *)cfg->stays.types;
	pol->npin_types = cfg->stays.ntypes;
	pol->max_removals = cfg->stays.max_removals;
}

int plan_is_pin_type(const struct plan_policy *pol, const char *type)
{
	for (int i = 0; i < pol->npin_types; i++)
		if (strcmp(pol->pin_types[i], type) == 0)
			return 1;
	return 0;
}
