/*
 * roster_list: the roster's listings as rinkictl prints them ("worker list", "override
 * list", "roster temp"), a table for people or JSON, all from the record kinds' column
 * tables (store/roster_fields.c).
 */
#ifndef GW_ROSTER_LIST_H
#define GW_ROSTER_LIST_H

#include <stdbool.h>
#include <stdio.h>

#include "store/db.h"

/*
 * Write the listing name ("workers", "overrides", "temp_rosters") of roster d to out: a
 * header and one padded line per row (text escaped for a terminal, times Helsinki wall
 * clock), or with json one {"name":[...]} line. Returns 0, -ENOENT for an unknown name,
 * -EIO when out failed, or another negative errno.
 */
int gw_roster_list(const struct gw_db_roster *d, const char *name, bool json, FILE *out);

#endif
