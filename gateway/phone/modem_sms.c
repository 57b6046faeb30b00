/*
 * modem_sms: the phone driver's SMS side: sending (AT+CMGS jobs in PDU mode, one at a time,
 * the body after the "> " prompt, given up with ESC), receiving (+CMTI, AT+CMGR, the
 * stored-message listing after init) and reassembly of concatenated texts. See modem.c's
 * opening comment for the driver as a whole.
 */
#include "phone/modem_priv.h"

#include "core/event.h"

/* ---- SMS ------------------------------------------------------------------------------- */

static void sms_part_done(struct gw_at *at, const struct gw_at_resp *r, void *arg)
{
	(void)at;
	struct sms_part *pt = arg;
	struct sms_job *j = pt->j;
	int mr = -1;
	/* given up so a page could be dialled: the SMS goes again behind it */
	if (r->result == GW_AT_PREEMPTED && !j->failed && pt->preempted++ < 3 &&
	    gw_at_cmd_prompt(j->m->at, pt->cmd, pt->hex, "+CMGS:", T_SMS_MS, sms_part_done, pt) ==
		0)
		return;
	if (j->failed) {
		/* an earlier part failed: the rest was reported already */
	} else if (r->result == GW_AT_OK) {
		for (int i = 0; i < r->nlines; i++) {
			long v;
			const char *p = r->lines[i] + 6;
			while (*p == ' ')
				p++;
			if (strncmp(r->lines[i], "+CMGS:", 6) == 0 && gw_at_int(p, 0, 255, &v) == 0)
				mr = (int)v;
		}
	} else {
		j->failed = 1;
		int rc = r->result == GW_AT_CMS_ERROR || r->result == GW_AT_CME_ERROR
			     ? (r->err > 0 ? r->err : 500)
			 : r->result == GW_AT_TIMEOUT ? -ETIMEDOUT
			 : r->result == GW_AT_ABORTED ? -ECONNABORTED
						      : -EIO;
		LOGP(GW_LOG_MODEM, GW_LOG_WARN, "SMS part %d of %d failed: %s %d", j->done + 1,
		     j->parts, gw_at_result_name(r->result), r->err);
		if (j->cb)
			j->cb(j->arg, rc, -1);
	}
	if (++j->done == j->parts) {
		if (!j->failed && j->cb)
			j->cb(j->arg, 0, mr);
		j->used = 0;
	}
}

int gw_modem_send_sms(struct gw_modem *m, const char *number, const char *text, gw_modem_sms_cb cb,
		      void *arg)
{
	if (!m->ready)
		return -ENOTCONN;
	struct sms_job *j = NULL;
	for (int i = 0; i < SMS_JOBS && !j; i++)
		if (!m->jobs[i].used)
			j = &m->jobs[i];
	if (!j)
		return -EBUSY;
	struct gw_sms_submit sub;
	gw_sms_submit_defaults(&sub);
	sub.to = number;
	sub.text = text;
	sub.ref = ++m->sms_ref;
	struct gw_sms_pdu pdus[SMS_PARTS_MAX];
	char err[128];
	int n = gw_sms_encode(&sub, pdus, SMS_PARTS_MAX, err, sizeof(err));
	if (n < 0) {
		LOGP(GW_LOG_MODEM, GW_LOG_ERROR, "SMS to %s not sent: %s", number, err);
		return n == -ENOSPC ? -EMSGSIZE : n;
	}
	j->m = m;
	j->used = 1;
	j->parts = n;
	j->done = 0;
	j->failed = 0;
	j->cb = cb;
	j->arg = arg;
	for (int i = 0; i < n; i++) {
		struct sms_part *pt = &j->part[i];
		pt->j = j;
		pt->preempted = 0;
		snprintf(pt->cmd, sizeof(pt->cmd), "AT+CMGS=%d", pdus[i].tpdu_len);
		memcpy(pt->hex, pdus[i].hex, sizeof(pt->hex)); /* same size, NUL-terminated */
		int rc = gw_at_cmd_prompt(m->at, pt->cmd, pt->hex, "+CMGS:", T_SMS_MS,
					  sms_part_done, pt);
		if (rc < 0) {
			/* parts already queued report through the job; count the rest as failed */
			LOGP(GW_LOG_MODEM, GW_LOG_ERROR, "SMS to %s: part %d not queued: %s",
			     number, i + 1, strerror(-rc));
			if (i == 0) {
				j->used = 0;
				return rc;
			}
			j->parts = i;
			break;
		}
	}
	LOGP(GW_LOG_MODEM, GW_LOG_INFO, "SMS to %s queued in %d part(s)", number, n);
	return n;
}

static void cmgd_done(struct gw_at *at, const struct gw_at_resp *r, void *arg)
{
	(void)at;
	(void)arg;
	if (r->result != GW_AT_OK && r->result != GW_AT_ABORTED)
		LOGP(GW_LOG_MODEM, GW_LOG_ERROR, "deleting a received SMS failed: %s %d",
		     gw_at_result_name(r->result), r->err);
}

static void delete_sms(struct gw_modem *m, long idx)
{
	char cmd[32];
	snprintf(cmd, sizeof(cmd), "AT+CMGD=%ld", idx);
	gw_at_cmd(m->at, cmd, NULL, T_CMD_MS, 0, cmgd_done, m);
}

/* s with every byte outside printable ASCII as '?' into out (for a log line). Returns out. */
const char *modem_printable(const char *s, char *out, size_t len)
{
	size_t i = 0;
	for (; s[i] && i + 1 < len; i++)
		out[i] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
	out[i] = '\0';
	return out;
}

/* Message idx was read (or found unreadable): delete it; list again when a listing was cut. */
static void read_done(struct gw_modem *m, long idx)
{
	delete_sms(m, idx);
	if (m->cmgl_more && m->cmgr.n == 0)
		modem_list_sms(m); /* queued behind the AT+CMGD just sent */
}

/* A stored SMS deleted unread by anyone (reason: unreadable, unparsable, not_a_number;
   detail: why, never the text): an "sms_dropped" line of the event stream. */
static void emit_dropped(long idx, const char *reason, const char *detail)
{
	if (!gw_event_on())
		return;
	struct gw_event e;
	gw_event_begin(&e, "sms_dropped");
	gw_event_int(&e, "index", idx);
	gw_event_str(&e, "reason", reason);
	gw_event_str(&e, "detail", detail);
	gw_event_emit(&e);
}

static void cmgr_done(struct gw_at *at, const struct gw_at_resp *r, void *arg)
{
	(void)at;
	struct gw_modem *m = arg;
	/* AT+CMGR answers come in the order they were asked: the oldest index is this one's */
	long idx = m->cmgr.idx[m->cmgr.head];
	m->cmgr.head = (m->cmgr.head + 1) % CMGR_PENDING;
	m->cmgr.n--;
	if (r->result == GW_AT_ABORTED)
		return; /* the port went away: the message stays stored and is read later */
	/* +CMGR: <stat>,[<alpha>],<length> then the PDU line */
	const char *pdu = NULL;
	for (int i = 0; i + 1 < r->nlines; i++)
		if (strncmp(r->lines[i], "+CMGR:", 6) == 0)
			pdu = r->lines[i + 1];
	if (r->result != GW_AT_OK || !pdu) {
		LOGP(GW_LOG_MODEM, GW_LOG_WARN, "SMS %ld unreadable (%s %d): deleted", idx,
		     gw_at_result_name(r->result), r->err);
		emit_dropped(idx, "unreadable", gw_at_result_name(r->result));
		read_done(m, idx);
		return;
	}
	static struct gw_sms_msg msg; /* large; the loop is single-threaded */
	char err[128], from[GW_SMS_ADDR_MAX], shown[GW_SMS_ADDR_MAX];
	int type = gw_sms_decode(pdu, &msg, err, sizeof(err));
	if (type < 0) {
		LOGP(GW_LOG_MODEM, GW_LOG_WARN, "SMS %ld does not parse (%s): deleted", idx, err);
		emit_dropped(idx, "unparsable", err);
	} else if (type == GW_SMS_STATUS_REPORT) {
		LOGP(GW_LOG_MODEM, GW_LOG_INFO, "SMS status report: message %u to %s status 0x%02x",
		     msg.mr, msg.addr, msg.status);
	} else if (gw_sms_sender_number(&msg, from, sizeof(from)) < 0) {
		/* a name anyone can set: logged as received, never reported as a number */
		LOGP(GW_LOG_MODEM, GW_LOG_NOTICE,
		     "SMS %ld from '%s' (type of address 0x%02x, not a phone number): dropped", idx,
		     modem_printable(msg.addr, shown, sizeof(shown)), msg.addr_toa);
		emit_dropped(idx, "not_a_number", "the sender is not a phone number");
	} else {
		static char text[GW_SMS_REASM_TEXT_MAX];
		unsigned dropped = m->reasm.dropped;
		int done =
		    gw_sms_reasm_add(&m->reasm, &msg, gw_loop_now_ms(m->loop), text, sizeof(text));
		if (m->reasm.dropped != dropped)
			LOGP(GW_LOG_MODEM, GW_LOG_WARN,
			     "an incomplete SMS from %s dropped to make room for one from %s",
			     m->reasm.last_dropped, from);
		if (done == 1 && m->ops.sms_in)
			m->ops.sms_in(m->ops.arg, from, text, msg.scts.valid ? msg.scts.utc_ms : 0);
		else if (done < 0)
			LOGP(GW_LOG_MODEM, GW_LOG_WARN, "SMS part from %s dropped: %s", from,
			     strerror(-done));
	}
	read_done(m, idx);
}

/*
 * Queue AT+CMGR for the stored message idx (from +CMTI or AT+CMGL): cmgr_done delivers and
 * deletes it. An index already queued is not asked twice. Returns 0, or -ENOBUFS when
 * CMGR_PENDING reads are queued (the message stays stored) or the AT queue is full.
 */
static int read_sms(struct gw_modem *m, long idx)
{
	for (int i = 0; i < m->cmgr.n; i++)
		if (m->cmgr.idx[(m->cmgr.head + i) % CMGR_PENDING] == idx)
			return 0;
	/* Kept in the driver, not allocated: a command dropped with the engine gets no callback */
	if (m->cmgr.n == CMGR_PENDING) {
		LOGP(GW_LOG_MODEM, GW_LOG_WARN, "%d AT+CMGR unanswered: SMS %ld left for later",
		     CMGR_PENDING, idx);
		return -ENOBUFS;
	}
	char cmd[32];
	snprintf(cmd, sizeof(cmd), "AT+CMGR=%ld", idx);
	if (gw_at_cmd(m->at, cmd, "+CMGR:", T_CMD_MS, 0, cmgr_done, m) < 0)
		return -ENOBUFS;
	m->cmgr.idx[(m->cmgr.head + m->cmgr.n) % CMGR_PENDING] = idx;
	m->cmgr.n++;
	return 0;
}

int gw_modem_parse_cmgl(const char *line, struct gw_modem_cmgl *out)
{
	if (strncmp(line, "+CMGL:", 6) != 0)
		return -EINVAL;
	char buf[128];
	const char *f[5];
	long idx, stat, len;
	/* PDU mode: <index>,<stat>,[<alpha>],<length>; the alpha may be left out altogether */
	int n = gw_at_fields(line + 6, buf, sizeof(buf), f, 4);
	if ((n != 3 && n != 4) || gw_at_int(f[0], 0, 9999, &idx) < 0 ||
	    gw_at_int(f[1], 0, 4, &stat) < 0 || gw_at_int(f[n - 1], 1, 255, &len) < 0)
		return -EINVAL;
	out->index = idx;
	out->stat = (int)stat;
	out->length = (int)len;
	return 0;
}

static void cmgl_done(struct gw_at *at, const struct gw_at_resp *r, void *arg)
{
	(void)at;
	struct gw_modem *m = arg;
	if (r->result == GW_AT_ABORTED)
		return; /* listed again after the next init */
	if (r->result != GW_AT_OK) {
		LOGP(GW_LOG_MODEM, GW_LOG_WARN, "listing the stored SMS failed: %s %d",
		     gw_at_result_name(r->result), r->err);
		return;
	}
	int found = 0, queued = 0;
	for (int i = 0; i < r->nlines; i++) {
		struct gw_modem_cmgl e;
		if (strncmp(r->lines[i], "+CMGL:", 6) != 0)
			continue; /* a PDU line: AT+CMGR reads it again */
		if (gw_modem_parse_cmgl(r->lines[i], &e) < 0) {
			LOGP(GW_LOG_MODEM, GW_LOG_WARN,
			     "stored-SMS line without a usable index, "
			     "skipped: %.60s",
			     r->lines[i]);
			continue;
		}
		if (e.stat > 1)
			continue; /* stored to send (AT+CMGW): not rinki's, left alone */
		found++;
		queued += read_sms(m, e.index) == 0;
	}
	/* a full response may have dropped lines: list again once these are deleted */
	m->cmgl_more = queued > 0 && (queued < found || r->nlines == GW_AT_RESP_LINES);
	if (found)
		LOGP(GW_LOG_MODEM, GW_LOG_NOTICE, "%d stored SMS found, %d read now", found,
		     queued);
}

/*
 * List the messages stored while nobody listened (rinkid down, or the drain after ESC) and
 * read each as a +CMTI would. At most CMGL_ROUNDS listings after one init, so a message that
 * will not delete cannot keep the queue busy.
 */
void modem_list_sms(struct gw_modem *m)
{
	m->cmgl_more = 0;
	if (m->cmgl_rounds >= CMGL_ROUNDS) {
		LOGP(GW_LOG_MODEM, GW_LOG_WARN, "stored SMS left after %d listings", CMGL_ROUNDS);
		return;
	}
	m->cmgl_rounds++;
	gw_at_cmd(m->at, "AT+CMGL=4", "+CMGL:", T_CMD_MS, 0, cmgl_done, m);
}

void modem_urc_cmti(struct gw_at *at, const char *const *lines, int n, void *arg)
{
	(void)at;
	(void)n;
	struct gw_modem *m = arg;
	char buf[64];
	const char *f[3];
	long idx;
	if (gw_at_fields(lines[0] + 6, buf, sizeof(buf), f, 3) != 2 ||
	    gw_at_int(f[1], 0, 9999, &idx) < 0) {
		LOGP(GW_LOG_MODEM, GW_LOG_WARN,
		     "new-SMS indication without a usable index, "
		     "skipped: %.60s",
		     lines[0]);
		return;
	}
	read_sms(m, idx);
}
