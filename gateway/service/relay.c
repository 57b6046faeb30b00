/*
 * relay: a small table of threads (worker phone -> officer ISSI, call-log id,
 * expiry). An officer's text (or a status SDS a route names) opens or refreshes the
 * thread for the worker it went to; a worker's SMS looks its thread up by number.
 * Numbers compare as gw_e164_same() (full E.164, core/e164.h): "+358401234567" and
 * "0401234567" are one phone, "+46401234567" or an alphanumeric sender is none of ours.
 * Texts route as voice calls (status -1), statuses by the route naming their code, both
 * at the time the SDS was received. Threads expire after GW_RELAY_THREAD_MS; the oldest
 * is reused when the table is full.
 *
 * Every SMS and SDS goes through the outbox (struct out, one allocation each, in a
 * growable array): tried at once, and when the driver refuses it or fails it later, again
 * after 2, 4, 8 ... 60 s, until GW_RELAY_TRIES sends or GW_RELAY_GIVE_UP_MS. One timer,
 * armed for the earliest retry. What finally fails is logged and told to whoever sent it.
 */
#include "service/relay.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/e164.h"
#include "core/log.h"
#include "service/msgcat.h"

#define THREADS	       16
#define RATE_MAX       10	   /* texts one officer may have relayed ... */
#define RATE_MS	       (60 * 1000) /* ... per this window */
#define RETRY_FIRST_MS 2000	   /* back-off after the first failed send, doubling ... */
#define RETRY_MAX_MS   60000	   /* ... up to this */

enum out_kind { OUT_SMS, OUT_SDS };

/* One message in the outbox. */
struct out {
	struct gw_relay *r; /* NULL: the relay is gone, only the done callback may come */
	enum out_kind kind;
	char to[32]; /* phone number or ISSI */
	char text[480];
	int64_t incident; /* call-log entry for its events; 0 none */
	bool close_entry; /* close the entry as relayed/failed when this one ends */
	char tell[32];	  /* told when it finally fails: officer ISSI (SMS) or phone (SDS) */
	char who[64];	  /* for the events: worker handle or officer ISSI */
	int tries;
	bool in_flight;		   /* an async send the driver has not finished */
	int64_t first_ms, next_ms; /* monotonic */
};

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
	const char *officer_lang; /* gw_msg_lang()'s: static */
	struct thread t[THREADS];
	struct rate {
		char issi[18];
		int64_t window_ms;
		int count;
	} * rate; /* radios that texted within RATE_MS */
	size_t nrate, caprate;
	struct out **out; /* the outbox, in the order messages came */
	size_t nout, capout;
	struct gw_timer retry;
};

static void on_retry(struct gw_loop *loop, void *arg);

/*
 * A radio that floods texts (a stuck key, a script) must not flood the worker's
 * phone: each officer gets RATE_MAX relayed texts per RATE_MS. One entry per radio that
 * texted within the window, grown as needed: entries go only when their window has
 * passed, never to make room, so other radios cannot make the relay forget a flooder.
 * 1 when allowed.
 */
static int rate_ok(struct gw_relay *r, const char *issi)
{
	int64_t now = gw_loop_now_ms(r->loop);
	struct rate *e = NULL;
	size_t keep = 0;
	for (size_t i = 0; i < r->nrate; i++) {
		if (now - r->rate[i].window_ms >= RATE_MS)
			continue; /* its window passed: forgotten, as it may be */
		r->rate[keep++] = r->rate[i];
	}
	r->nrate = keep;
	for (size_t i = 0; i < r->nrate && !e; i++)
		if (strcmp(r->rate[i].issi, issi) == 0)
			e = &r->rate[i];
	if (!e) {
		if (r->nrate == r->caprate) {
			size_t cap = r->caprate ? 2 * r->caprate : 16;
			struct rate *n = realloc(r->rate, cap * sizeof(*n));
			if (!n)
				return 0; /* cannot count it: refused rather than unlimited */
			r->rate = n;
			r->caprate = cap;
		}
		e = &r->rate[r->nrate++];
		snprintf(e->issi, sizeof(e->issi), "%s", issi);
		e->window_ms = now;
		e->count = 0;
	}
	return ++e->count <= RATE_MAX;
}

int gw_relay_new(struct gw_loop *loop, struct gw_db *db, const struct gw_relay_ops *ops,
		 struct gw_relay **out)
{
	struct gw_relay *r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->loop = loop;
	r->officer_lang = gw_msg_lang(NULL);
	r->db = db;
	r->ops = *ops;
	gw_timer_init(&r->retry, on_retry, r);
	*out = r;
	return 0;
}

void gw_relay_free(struct gw_relay *r)
{
	if (!r)
		return;
	gw_timer_cancel(r->loop, &r->retry);
	for (size_t i = 0; i < r->nout; i++) {
		if (r->out[i]->in_flight)
			r->out[i]->r = NULL; /* its done callback frees it */
		else
			free(r->out[i]);
	}
	free(r->out);
	free(r->rate);
	free(r);
}

void gw_relay_set_officer_lang(struct gw_relay *r, const char *lang)
{
	r->officer_lang = gw_msg_lang(lang);
}

/* The language the worker with this phone reads: the roster's, else the officers'. */
static const char *worker_lang(const struct gw_relay *r, const char *phone)
{
	const char *lang = r->roster ? gw_roster_worker_lang(r->roster, phone) : NULL;
	return lang && *lang ? gw_msg_lang(lang) : r->officer_lang;
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

/* ---- outbox ---------------------------------------------------------------------------- */

/* Arm the retry timer for the earliest waiting message (none: disarmed). */
static void out_arm(struct gw_relay *r)
{
	int64_t now = gw_loop_now_ms(r->loop), next = -1;
	for (size_t i = 0; i < r->nout; i++) {
		const struct out *m = r->out[i];
		if (!m->in_flight && (next < 0 || m->next_ms < next))
			next = m->next_ms;
	}
	if (next < 0)
		gw_timer_cancel(r->loop, &r->retry);
	else
		gw_timer_schedule(r->loop, &r->retry, next > now ? next - now : 0);
}

static void out_remove(struct gw_relay *r, struct out *m)
{
	for (size_t i = 0; i < r->nout; i++)
		if (r->out[i] == m) {
			memmove(&r->out[i], &r->out[i + 1], (r->nout - i - 1) * sizeof(*r->out));
			r->nout--;
			break;
		}
	free(m);
}

static struct out *out_add(struct gw_relay *r, enum out_kind kind, const char *to, const char *text,
			   int64_t incident, const char *tell, const char *who, bool close_entry);

/* m went out: its event, and the entry closed as relayed when it is the officer's text. */
static void out_sent(struct out *m)
{
	struct gw_relay *r = m->r;
	log_ev(r, m->incident, m->kind == OUT_SMS ? "sms" : "sds", m->who);
	if (m->close_entry && r->db && m->incident)
		gw_db_incident_close(r->db, m->incident, gw_loop_wall_ms(r->loop),
				     "message relayed", -1, m->who);
	out_remove(r, m);
}

/* m failed for good: logged, its sender told (through the outbox, told of nothing more). */
static void out_failed(struct out *m, int rc)
{
	struct gw_relay *r = m->r;
	char text[240];
	LOGP(GW_LOG_CALL, GW_LOG_ERROR, "%s to %s failed after %d send(s): %s; told: %s",
	     m->kind == OUT_SMS ? "SMS" : "SDS", m->to, m->tries,
	     rc < 0 ? strerror(-rc) : "network error", m->tell[0] ? m->tell : "nobody");
	log_ev(r, m->incident, m->kind == OUT_SMS ? "sms_failed" : "sds_failed", m->who);
	if (m->close_entry && r->db && m->incident)
		gw_db_incident_close(r->db, m->incident, gw_loop_wall_ms(r->loop), "message failed",
				     -1, NULL);
	if (m->close_entry) /* the text never reached the worker: no reply can answer it */
		for (int i = 0; i < THREADS; i++)
			if (r->t[i].used && r->t[i].incident == m->incident &&
			    gw_e164_same(r->t[i].phone, m->to))
				r->t[i].used = 0;
	if (m->tell[0] && m->kind == OUT_SMS) {
		const struct gw_msg_arg a = {"who", m->who};
		gw_msg_format(GW_MSG_RELAY_FAILED_SMS, r->officer_lang, &a, 1, text, sizeof(text));
		out_add(r, OUT_SDS, m->tell, text, m->incident, "", m->tell, false);
	} else if (m->tell[0]) {
		const struct gw_msg_arg a = {"to", m->to};
		gw_msg_format(GW_MSG_RELAY_FAILED_SDS, worker_lang(r, m->tell), &a, 1, text,
			      sizeof(text));
		out_add(r, OUT_SMS, m->tell, text, m->incident, "", m->who, false);
	}
	out_remove(r, m);
}

/* A send of m failed with rc: try again later, or give up. */
static void out_retry(struct out *m, int rc)
{
	struct gw_relay *r = m->r;
	int64_t now = gw_loop_now_ms(r->loop);
	if (rc == -EINVAL || rc == -EMSGSIZE || m->tries >= GW_RELAY_TRIES ||
	    now - m->first_ms >= GW_RELAY_GIVE_UP_MS) {
		out_failed(m, rc);
		out_arm(r);
		return;
	}
	int64_t wait = RETRY_FIRST_MS;
	for (int i = 1; i < m->tries && wait < RETRY_MAX_MS; i++)
		wait *= 2;
	m->next_ms = now + (wait < RETRY_MAX_MS ? wait : RETRY_MAX_MS);
	LOGP(GW_LOG_CALL, GW_LOG_WARN, "%s to %s not sent (%s): try %d in %lld s",
	     m->kind == OUT_SMS ? "SMS" : "SDS", m->to, rc < 0 ? strerror(-rc) : "network error",
	     m->tries + 1, (long long)((m->next_ms - now) / 1000));
	out_arm(r);
}

static void out_done(void *arg, int rc, int mr)
{
	struct out *m = arg;
	(void)mr;
	if (!m->r) {
		free(m); /* the relay is gone */
		return;
	}
	m->in_flight = false;
	if (rc == 0)
		out_sent(m);
	else
		out_retry(m, rc < 0 ? rc : -EIO);
}

/* One send of m; its outcome (now, or in out_done) sends it on, retries or fails it. */
static void out_try(struct out *m)
{
	struct gw_relay *r = m->r;
	int rc;
	m->tries++;
	if (m->kind == OUT_SDS) {
		rc = r->ops.send_sds(r->ops.arg, m->to, m->text);
	} else if (r->ops.send_sms_async) {
		m->in_flight = true;
		rc = r->ops.send_sms_async(r->ops.arg, m->to, m->text, out_done, m);
		if (rc >= 0)
			return; /* out_done says how it went */
		m->in_flight = false;
	} else {
		rc = r->ops.send_sms(r->ops.arg, m->to, m->text);
	}
	if (rc >= 0)
		out_sent(m);
	else
		out_retry(m, rc);
}

static void on_retry(struct gw_loop *loop, void *arg)
{
	struct gw_relay *r = arg;
	int64_t now = gw_loop_now_ms(loop);
	/* out_try may add (a failure notice) and remove: pick one due message at a time */
	for (;;) {
		struct out *due = NULL;
		for (size_t i = 0; i < r->nout && !due; i++)
			if (!r->out[i]->in_flight && r->out[i]->next_ms <= now)
				due = r->out[i];
		if (!due)
			break;
		due->next_ms = INT64_MAX; /* out_retry sets the next time; else it is gone */
		out_try(due);
	}
	out_arm(r);
}

/*
 * Put a message in the outbox and try it at once. tell: who hears of its final failure
 * ("" nobody); close_entry: its end closes the call-log entry. Returns the message while
 * it waits, NULL when it already ended (sent or failed) or could not be queued (logged as
 * failed).
 */
static struct out *out_add(struct gw_relay *r, enum out_kind kind, const char *to, const char *text,
			   int64_t incident, const char *tell, const char *who, bool close_entry)
{
	struct out *m = NULL;
	if (r->nout < GW_RELAY_OUTBOX_MAX && r->nout == r->capout) {
		size_t cap = r->capout ? 2 * r->capout : 16;
		struct out **n = realloc(r->out, cap * sizeof(*n));
		if (n) {
			r->out = n;
			r->capout = cap;
		}
	}
	if (r->nout < r->capout && r->nout < GW_RELAY_OUTBOX_MAX)
		m = calloc(1, sizeof(*m));
	if (!m) {
		LOGP(GW_LOG_CALL, GW_LOG_ERROR, "%s to %s dropped: the outbox is full (%zu)",
		     kind == OUT_SMS ? "SMS" : "SDS", to, r->nout);
		log_ev(r, incident, kind == OUT_SMS ? "sms_failed" : "sds_failed", who);
		if (close_entry && r->db && incident)
			gw_db_incident_close(r->db, incident, gw_loop_wall_ms(r->loop),
					     "message failed", -1, NULL);
		return NULL;
	}
	m->r = r;
	m->kind = kind;
	snprintf(m->to, sizeof(m->to), "%s", to);
	snprintf(m->text, sizeof(m->text), "%s", text);
	m->incident = incident;
	m->close_entry = close_entry;
	snprintf(m->tell, sizeof(m->tell), "%s", tell);
	snprintf(m->who, sizeof(m->who), "%s", who);
	m->first_ms = m->next_ms = gw_loop_now_ms(r->loop);
	r->out[r->nout++] = m;
	out_try(m);
	for (size_t i = 0; i < r->nout; i++)
		if (r->out[i] == m)
			return m;
	return NULL;
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
 * to the first worker on duty on line at rx_ms (outside its office hours, on its after-hours
 * line), by SMS msg (NULL: made from the text). A
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
	struct gw_roster_step step;
	/* outside the line's office hours, its after-hours line's worker */
	const char *after = line ? gw_roster_after_hours_line(r->roster, line, rx_ms) : NULL;
	int n = line ? gw_roster_chain(r->roster, after ? after : line, rx_ms, &step, 1) : 0;
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
	if (after) {
		char detail[96];
		snprintf(detail, sizeof(detail), "line %s outside its office hours: %s", line,
			 after);
		log_ev(r, id, "after_hours", detail);
	}
	if (n <= 0) {
		LOGP(GW_LOG_CALL, GW_LOG_NOTICE, "%s from %s: nobody on duty for line %s", what,
		     who, line ? line : "(no route)");
		static const char *const no_line[] = {"Päivystys", "Jouren", "On-call service"};
		const char *ol = r->officer_lang;
		const char *name = line ? gw_roster_line_name_in(r->roster, line, ol) : NULL;
		const struct gw_msg_arg a = {"line", name && *name ? name
								   : no_line[ol[0] == 's'   ? 1
									     : ol[0] == 'e' ? 2
											    : 0]};
		gw_msg_format(GW_MSG_RELAY_UNSTAFFED, ol, &a, 1, sms, sizeof(sms));
		if (r->db && id)
			gw_db_incident_close(r->db, id, gw_loop_wall_ms(r->loop),
					     "message unstaffed", -1, NULL);
		out_add(r, OUT_SDS, issi, sms, id, "", "unstaffed", false);
		return 0;
	}
	if (!msg) {
		const struct gw_msg_arg a[] = {{"who", who}, {"text", body}};
		gw_msg_format(GW_MSG_RELAY_TO_WORKER, worker_lang(r, step.phone), a, 2, sms,
			      sizeof(sms));
		msg = sms;
	}
	LOGP(GW_LOG_CALL, GW_LOG_NOTICE, "%s from %s goes by SMS to %s %s", what, who, step.name,
	     step.phone);
	/* The thread is open while the SMS waits, so a quick reply finds it; a final failure
	   closes it. The entry is closed when the SMS is sent (or fails); replies still
	   append their events to it. */
	struct thread *t = find(r, step.phone);
	if (!t)
		t = slot(r);
	*t = (struct thread){.used = 1, .incident = id};
	snprintf(t->phone, sizeof(t->phone), "%s", step.phone);
	snprintf(t->worker, sizeof(t->worker), "%s", step.handle);
	snprintf(t->officer, sizeof(t->officer), "%s", issi);
	t->expires_ms = gw_loop_now_ms(r->loop) + GW_RELAY_THREAD_MS;
	out_add(r, OUT_SMS, step.phone, msg, id, issi, step.handle, true);
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
	LOGP(GW_LOG_CALL, GW_LOG_NOTICE, "reply from %s goes by SDS to officer %s", t->worker,
	     t->officer);
	t->expires_ms = gw_loop_now_ms(r->loop) + GW_RELAY_THREAD_MS;
	/* the worker (from, the number it came from) is told if it finally fails */
	out_add(r, OUT_SDS, t->officer, msg, t->incident, from, t->officer, false);
	return 1;
}
