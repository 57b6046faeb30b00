/*
 * relay: a small table of threads (worker phone -> officer ISSI, call-log id,
 * expiry). An officer's text (or a status SDS a route names) opens or refreshes the
 * thread for the worker it went to; a worker's SMS looks its thread up by number.
 * Numbers compare as gw_e164_same() (full E.164, core/e164.h): "+358401234567" and
 * "0401234567" are one phone, "+46401234567" or an alphanumeric sender is none of ours. Texts route
 * as voice calls (status -1), statuses by the route naming their code, both at the time the SDS was
 * received. Threads expire after GW_RELAY_THREAD_MS; the oldest is reused when the table is full.
 */
#include "service/relay.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/e164.h"
#include "core/log.h"

#define THREADS	   16
#define RATE_SLOTS 16
#define RATE_MAX   10	       /* texts one officer may have relayed ... */
#define RATE_MS	   (60 * 1000) /* ... per this window */

struct thread {
	int used;
	char phone[32];
	char worker[64];
	char officer[18];
	int64_t incident;
	int64_t expires_ms;
};

struct gw_relay {
	struct gw_loop *loop;
	struct gw_db *db;
	struct gw_relay_ops ops;
	const struct gw_roster *roster;
	struct thread t[THREADS];
	struct {
		char issi[18];
		int64_t window_ms;
		int count;
	} rate[RATE_SLOTS];
};

/*
 * A radio that floods texts (a stuck key, a script) must not flood the worker's
 * phone: each officer gets RATE_MAX relayed texts per RATE_MS. 1 when allowed.
 */
static int rate_ok(struct gw_relay *r, const char *issi)
{
	int64_t now = gw_loop_now_ms(r->loop);
	int slot = -1, oldest = 0;
	for (int i = 0; i < RATE_SLOTS; i++) {
		if (strcmp(r->rate[i].issi, issi) == 0) {
			slot = i;
			break;
		}
		if (r->rate[i].window_ms < r->rate[oldest].window_ms)
			oldest = i;
	}
	if (slot < 0) {
		slot = oldest;
		snprintf(r->rate[slot].issi, sizeof(r->rate[slot].issi), "%s", issi);
		r->rate[slot].window_ms = now;
		r->rate[slot].count = 0;
	}
	if (now - r->rate[slot].window_ms >= RATE_MS) {
		r->rate[slot].window_ms = now;
		r->rate[slot].count = 0;
	}
	return ++r->rate[slot].count <= RATE_MAX;
}

int gw_relay_new(struct gw_loop *loop, struct gw_db *db, const struct gw_relay_ops *ops,
		 struct gw_relay **out)
{
	struct gw_relay *r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->loop = loop;
	r->db = db;
	r->ops = *ops;
	*out = r;
	return 0;
}

void gw_relay_free(struct gw_relay *r)
{
	free(r);
}

void gw_relay_set_roster(struct gw_relay *r, const struct gw_roster *roster)
{
	r->roster = roster;
}

static void log_ev(struct gw_relay *r, int64_t incident, const char *kind, const char *detail)
{
	if (!r->db || incident <= 0)
		return;
	int rc = gw_db_event_append(r->db, incident, gw_loop_wall_ms(r->loop), kind, detail);
	if (rc < 0)
		LOGP(GW_LOG_CALL, GW_LOG_ERROR, "message log write failed (%s): %s", strerror(-rc),
		     kind);
}

static struct thread *find(struct gw_relay *r, const char *phone)
{
	int64_t now = gw_loop_now_ms(r->loop);
	for (int i = 0; i < THREADS; i++)
		if (r->t[i].used && r->t[i].expires_ms > now && gw_e164_same(r->t[i].phone, phone))
			return &r->t[i];
	return NULL;
}

static struct thread *slot(struct gw_relay *r)
{
	int64_t now = gw_loop_now_ms(r->loop);
	struct thread *oldest = &r->t[0];
	for (int i = 0; i < THREADS; i++) {
		if (!r->t[i].used || r->t[i].expires_ms <= now)
			return &r->t[i];
		if (r->t[i].expires_ms < oldest->expires_ms)
			oldest = &r->t[i];
	}
	return oldest;
}

/* Characters of a UTF-8 text (continuation bytes not counted). */
static size_t utf8_len(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

/*
 * A text the rate limit dropped still gets its own call-log entry (outcome "message
 * rate_limited"): a "rate_limited" event with the sender and the length, and the body as
 * an "sds_text" event like every officer text, so retention blanks it the same way. One
 * transaction, so a flood costs one commit per text. Returns the entry's id, 0 when not
 * logged.
 */
static int64_t log_dropped(struct gw_relay *r, const char *issi, const char *line, const char *kind,
			   const char *body)
{
	if (!r->db)
		return 0;
	int64_t now = gw_loop_wall_ms(r->loop), id = 0;
	struct gw_incident_rec rec = {.started_ms = now,
				      .caller = issi,
				      .caller_name =
					  r->roster ? gw_roster_org(r->roster, issi) : NULL,
				      .line = line,
				      .radio_cci = -1};
	bool batch = gw_db_batch_begin(r->db) >= 0;
	if (gw_db_incident_open(r->db, &rec, &id) < 0)
		id = 0;
	char detail[96];
	snprintf(detail, sizeof(detail), "from %s, %zu characters, over %d texts a minute", issi,
		 utf8_len(body), RATE_MAX);
	log_ev(r, id, "rate_limited", detail);
	log_ev(r, id, kind, body);
	if (id)
		gw_db_incident_close(r->db, id, now, "message rate_limited", -1, NULL);
	if (batch && gw_db_batch_commit(r->db) < 0)
		LOGP(GW_LOG_CALL, GW_LOG_ERROR, "message log commit failed");
	return id;
}

/*
 * One officer SDS (what: "text" or "status", for the log; kind and body: its call-log event)
 * to the first worker on duty on line at rx_ms, by SMS msg (NULL: made from the text). A
 * call-log entry of its own; unstaffed: the officer is told by SDS. Returns as
 * gw_relay_officer_text().
 */
static int relay_officer(struct gw_relay *r, const char *issi, int64_t rx_ms, const char *line,
			 const char *what, const char *kind, const char *body, const char *msg)
{
	if (!rate_ok(r, issi)) {
		int64_t id = log_dropped(r, issi, line, kind, body);
		LOGP(GW_LOG_CALL, GW_LOG_WARN,
		     "%s from %s dropped: more than %d texts a minute from one radio (call log "
		     "%lld)",
		     what, issi, RATE_MAX, (long long)id);
		return -EBUSY;
	}
	const char *org = r->roster ? gw_roster_org(r->roster, issi) : NULL;
	const char *line_fi = line ? gw_roster_line_name_fi(r->roster, line) : NULL;
	struct gw_roster_step step;
	int n = line ? gw_roster_chain(r->roster, line, rx_ms, &step, 1) : 0;
	char who[128], sms[480];
	snprintf(who, sizeof(who), "%s%s%s%s", org ? org : "", org ? " (" : "", issi,
		 org ? ")" : "");

	int64_t id = 0;
	if (r->db) {
		struct gw_incident_rec rec = {.started_ms = rx_ms,
					      .caller = issi,
					      .caller_name = org,
					      .line = line,
					      .radio_cci = -1};
		if (gw_db_incident_open(r->db, &rec, &id) < 0)
			id = 0;
	}
	log_ev(r, id, kind, body);
	if (n <= 0) {
		LOGP(GW_LOG_CALL, GW_LOG_NOTICE, "%s from %s: nobody on duty for line %s", what,
		     who, line ? line : "(no route)");
		snprintf(sms, sizeof(sms), "%s: ei päivystäjää vuorossa, viestiä ei välitetty.",
			 line_fi ? line_fi : "Päivystys");
		int rc = r->ops.send_sds(r->ops.arg, issi, sms);
		log_ev(r, id, rc < 0 ? "sds_failed" : "sds", "unstaffed");
		if (r->db && id)
			gw_db_incident_close(r->db, id, gw_loop_wall_ms(r->loop),
					     "message unstaffed", -1, NULL);
		return 0;
	}
	if (!msg) {
		snprintf(sms, sizeof(sms), "VIRVE %s: %s (vastaa tähän viestiin)", who, body);
		msg = sms;
	}
	int rc = r->ops.send_sms(r->ops.arg, step.phone, msg);
	if (rc < 0) {
		LOGP(GW_LOG_CALL, GW_LOG_ERROR, "%s from %s not relayed to %s: %s", what, who,
		     step.name, strerror(-rc));
		log_ev(r, id, "sms_failed", step.handle);
		if (r->db && id)
			gw_db_incident_close(r->db, id, gw_loop_wall_ms(r->loop), "message failed",
					     -1, NULL);
		return rc;
	}
	LOGP(GW_LOG_CALL, GW_LOG_NOTICE, "%s from %s relayed by SMS to %s %s", what, who, step.name,
	     step.phone);
	log_ev(r, id, "sms", step.handle);
	/* The entry is closed at once; replies still append their events to it. */
	if (r->db && id)
		gw_db_incident_close(r->db, id, gw_loop_wall_ms(r->loop), "message relayed", -1,
				     step.handle);
	struct thread *t = find(r, step.phone);
	if (!t)
		t = slot(r);
	*t = (struct thread){.used = 1, .incident = id};
	snprintf(t->phone, sizeof(t->phone), "%s", step.phone);
	snprintf(t->worker, sizeof(t->worker), "%s", step.handle);
	snprintf(t->officer, sizeof(t->officer), "%s", issi);
	t->expires_ms = gw_loop_now_ms(r->loop) + GW_RELAY_THREAD_MS;
	return 1;
}

int gw_relay_officer_text(struct gw_relay *r, const char *issi, const char *text)
{
	int64_t rx_ms = gw_loop_wall_ms(r->loop); /* called as the SDS is received */
	const char *line =
	    r->roster ? gw_roster_route_at(r->roster, issi, -1, (time_t)(rx_ms / 1000)) : NULL;
	return relay_officer(r, issi, rx_ms, line, "text", "sds_text", text, NULL);
}

int gw_relay_officer_status(struct gw_relay *r, const char *issi, int code, const char *meaning)
{
	int64_t rx_ms = gw_loop_wall_ms(r->loop); /* called as the SDS is received */
	const char *line =
	    r->roster ? gw_roster_route_status_at(r->roster, issi, code, (time_t)(rx_ms / 1000))
		      : NULL;
	if (!line)
		return -ENOENT; /* no route names this status: the caller only logs it */
	const char *org = gw_roster_org(r->roster, issi);
	char body[160], msg[240];
	snprintf(body, sizeof(body), "0x%04x (%s)", (unsigned)code, meaning ? meaning : "status");
	snprintf(msg, sizeof(msg), "status %s from %s%s%s", body, issi, org ? "/" : "",
		 org ? org : "");
	return relay_officer(r, issi, rx_ms, line, "status", "sds_status", body, msg);
}

int gw_relay_worker_text(struct gw_relay *r, const char *from, const char *text)
{
	struct thread *t = find(r, from);
	if (!t) {
		LOGP(GW_LOG_CALL, GW_LOG_NOTICE, "SMS from %s with no open thread: not relayed",
		     from);
		return 0;
	}
	char msg[480];
	snprintf(msg, sizeof(msg), "%s: %s", t->worker, text);
	log_ev(r, t->incident, "sms_text", text);
	int rc = r->ops.send_sds(r->ops.arg, t->officer, msg);
	log_ev(r, t->incident, rc < 0 ? "sds_failed" : "sds", t->officer);
	if (rc < 0) {
		LOGP(GW_LOG_CALL, GW_LOG_ERROR, "reply from %s not relayed to %s: %s", from,
		     t->officer, strerror(-rc));
		return rc;
	}
	LOGP(GW_LOG_CALL, GW_LOG_NOTICE, "reply from %s relayed by SDS to officer %s", t->worker,
	     t->officer);
	t->expires_ms = gw_loop_now_ms(r->loop) + GW_RELAY_THREAD_MS;
	return 1;
}
