/*
 * monitor: talkgroup monitor mode. A group-call +CTICN (comms type point-to-
 * multipoint or broadcast) whose called GSSI is in radio.monitor_gssi is taken
 * here instead of by the call manager: nobody is paged. The caller is the first
 * talker; every +CTXG with another talking party ends the current spurt and
 * starts the next one, +CDTXC (or our own grant) ends it. Each spurt becomes a
 * "group_talk" system event at its start time, and the release a "group_call"
 * event at the call's start time. Lengths come from the monotonic clock, times
 * from the wall clock.
 */
#include "service/monitor.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"

#define MON_CALLS 8

struct mcall {
	int cci; /* -1: free */
	uint32_t gssi;
	char caller[GW_PEI_ID_MAX];
	int64_t start_wall, start_mono;
	char talker[GW_PEI_ID_MAX]; /* "" when nobody talks */
	int64_t talk_wall, talk_mono;
	int talks;
};

struct gw_monitor {
	struct gw_loop *loop;
	struct gw_db *db;
	uint32_t gssi[GW_CONF_GSSI_MAX];
	int ngssi;
	struct mcall calls[MON_CALLS];
};

int gw_monitor_new(struct gw_loop *loop, const struct gw_conf *conf, struct gw_db *db,
		   struct gw_monitor **out)
{
	struct gw_monitor *m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->loop = loop;
	m->db = db;
	m->ngssi = gw_conf_gssi_list(conf->radio_monitor_gssi, m->gssi, GW_CONF_GSSI_MAX);
	if (m->ngssi < 0) {
		free(m);
		return -EINVAL;
	}
	for (int i = 0; i < MON_CALLS; i++)
		m->calls[i].cci = -1;
	if (m->ngssi)
		LOGP(GW_LOG_CALL, GW_LOG_NOTICE, "monitoring group calls on %s (logged, not paged)",
		     conf->radio_monitor_gssi);
	*out = m;
	return 0;
}

static struct mcall *find(const struct gw_monitor *m, int cci)
{
	for (int i = 0; i < MON_CALLS; i++)
		if (m->calls[i].cci >= 0 && m->calls[i].cci == cci)
			return (struct mcall *)&m->calls[i];
	return NULL;
}

int gw_monitor_owns(const struct gw_monitor *m, int cci)
{
	return m && cci >= 0 && find(m, cci) != NULL;
}

static void write_event(struct gw_monitor *m, int64_t t_wall, const char *kind, const char *detail)
{
	LOGP(GW_LOG_CALL, GW_LOG_INFO, "%s: %s", kind, detail);
	if (!m->db)
		return;
	int rc = gw_db_system_event_append(m->db, t_wall, kind, detail);
	if (rc < 0)
		LOGP(GW_LOG_CALL, GW_LOG_ERROR, "%s not written to the call log (%s): %s", kind,
		     strerror(-rc), detail);
}

/* The current spurt ends now: log who talked, from when, how long. */
static void talk_end(struct gw_monitor *m, struct mcall *c)
{
	if (!c->talker[0])
		return;
	char detail[160];
	snprintf(detail, sizeof(detail), "gssi %u cci %d talker %s ms %lld", (unsigned)c->gssi,
		 c->cci, c->talker, (long long)(gw_loop_now_ms(m->loop) - c->talk_mono));
	write_event(m, c->talk_wall, "group_talk", detail);
	c->talker[0] = '\0';
}

static void talk_start(struct gw_monitor *m, struct mcall *c, const char *who)
{
	if (!who || !*who || strcmp(who, c->talker) == 0)
		return;
	talk_end(m, c);
	snprintf(c->talker, sizeof(c->talker), "%s", who);
	c->talk_wall = gw_loop_wall_ms(m->loop);
	c->talk_mono = gw_loop_now_ms(m->loop);
	c->talks++;
}

/* A group's SSI: a 17-digit GTSI ends in it. */
static uint32_t gssi_of(const char *id)
{
	size_t n = strlen(id);
	return (uint32_t)strtoul(n == 17 ? id + 9 : id, NULL, 10);
}

int gw_monitor_incoming(struct gw_monitor *m, const struct gw_pei_call_in *in)
{
	if (!m || !m->ngssi || in->comms_type < 1 || !in->called[0])
		return 0;
	uint32_t g = gssi_of(in->called);
	int hit = 0;
	for (int i = 0; i < m->ngssi; i++)
		hit |= m->gssi[i] == g;
	if (!hit)
		return 0;
	struct mcall *c = find(m, in->cci);
	if (c)
		return 1; /* the same call indicated again (e.g. hang time over) */
	for (int i = 0; i < MON_CALLS && !c; i++)
		if (m->calls[i].cci < 0)
			c = &m->calls[i];
	if (!c) {
		LOGP(GW_LOG_CALL, GW_LOG_WARN,
		     "more than %d monitored group calls: call %d on %u not logged", MON_CALLS,
		     in->cci, (unsigned)g);
		return 1; /* still never paged */
	}
	memset(c, 0, sizeof(*c));
	c->cci = in->cci;
	c->gssi = g;
	snprintf(c->caller, sizeof(c->caller), "%s", in->calling);
	c->start_wall = gw_loop_wall_ms(m->loop);
	c->start_mono = gw_loop_now_ms(m->loop);
	LOGP(GW_LOG_CALL, GW_LOG_NOTICE, "group call %d on monitored group %u from %s", c->cci,
	     (unsigned)g, c->caller[0] ? c->caller : "(unknown)");
	talk_start(m, c, in->calling);
	return 1;
}

int gw_monitor_floor(struct gw_monitor *m, int cci, enum gw_pei_floor ev, const char *talker)
{
	struct mcall *c = m && cci >= 0 ? find(m, cci) : NULL;
	if (!c)
		return 0;
	if (ev == GW_PEI_FLOOR_OTHER || ev == GW_PEI_FLOOR_INTERRUPTED)
		talk_start(m, c, talker);
	else if (ev == GW_PEI_FLOOR_CEASED || ev == GW_PEI_FLOOR_GRANTED)
		talk_end(m, c);
	return 1;
}

static void call_end(struct gw_monitor *m, struct mcall *c, int cause)
{
	char detail[200];
	talk_end(m, c);
	snprintf(detail, sizeof(detail), "gssi %u cci %d caller %s ms %lld talks %d cause %d (%s)",
		 (unsigned)c->gssi, c->cci, c->caller[0] ? c->caller : "-",
		 (long long)(gw_loop_now_ms(m->loop) - c->start_mono), c->talks, cause,
		 cause < 0 ? "monitor stopped" : gw_pei_cause_name(cause));
	write_event(m, c->start_wall, "group_call", detail);
	c->cci = -1;
}

int gw_monitor_released(struct gw_monitor *m, int cci, int cause)
{
	struct mcall *c = m && cci >= 0 ? find(m, cci) : NULL;
	if (!c)
		return 0;
	call_end(m, c, cause);
	return 1;
}

void gw_monitor_free(struct gw_monitor *m)
{
	if (!m)
		return;
	for (int i = 0; i < MON_CALLS; i++)
		if (m->calls[i].cci >= 0)
			call_end(m, &m->calls[i], -1);
	free(m);
}
