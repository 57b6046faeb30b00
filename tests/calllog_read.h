/*
 * calllog_read: tests read back the newest incident of a call log, its row and its
 * events' kinds and details joined ("open,call_in,...," and "detail|detail|...").
 * Header-only, for unit and integration tests alike (include after cmocka.h).
 */
#ifndef RINKI_TESTS_CALLLOG_READ_H
#define RINKI_TESTS_CALLLOG_READ_H

#include <stdio.h>
#include <string.h>

#include "store/db.h"

struct logged {
	int64_t id;
	char line[16], outcome[24], accepted[16];
	int cause;
	bool has_cause, ended;
	char kinds[512];
	char details[1024];
};

static inline void logged_id(const struct gw_db_incident *inc, void *arg)
{
	((struct logged *)arg)->id = inc->id;
}
static inline void logged_row(const struct gw_db_incident *inc, void *arg)
{
	struct logged *l = arg;
	snprintf(l->line, sizeof(l->line), "%s", inc->line ? inc->line : "");
	snprintf(l->outcome, sizeof(l->outcome), "%s", inc->outcome ? inc->outcome : "");
	snprintf(l->accepted, sizeof(l->accepted), "%s", inc->accepted_by ? inc->accepted_by : "");
	l->cause = inc->cause;
	l->has_cause = inc->has_cause;
	l->ended = inc->ended;
}
static inline void logged_event(const struct gw_db_event *ev, void *arg)
{
	struct logged *l = arg;
	strncat(l->kinds, ev->kind, sizeof(l->kinds) - strlen(l->kinds) - 2);
	strcat(l->kinds, ",");
	strncat(l->details, ev->detail ? ev->detail : "",
		sizeof(l->details) - strlen(l->details) - 2);
	strcat(l->details, "|");
}
/* Only the events of incident id (l is cleared first). */
static inline void logged_events(struct gw_db *db, int64_t id, struct logged *l)
{
	memset(l, 0, sizeof(*l));
	l->id = id;
	assert_true(gw_db_event_list(db, id, logged_event, l) > 0);
}
/* The newest incident of db into l. */
static inline void logged_newest(struct gw_db *db, struct logged *l)
{
	memset(l, 0, sizeof(*l));
	assert_int_equal(gw_db_incident_list(db, 1, logged_id, l), 1);
	assert_int_equal(gw_db_incident_get(db, l->id, logged_row, l), 0);
	assert_true(gw_db_event_list(db, l->id, logged_event, l) > 0);
}

#endif
