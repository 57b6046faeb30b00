/*
 * pei_sds: the radio driver's SDS side: sending (AT+CTSDS/AT+CMGS jobs with their network
 * and delivery reports, retries and the hold while a transmission is on), receiving
 * (+CTSDSR, decoded by sds.c) and reassembly of concatenated texts. See pei.c's opening
 * comment for the driver as a whole.
 */
#include "radio/pei_priv.h"

/* ---- SDS ------------------------------------------------------------------------------ */

const char *gw_pei_sds_state_name(enum gw_pei_sds_state st)
{
	static const char *const names[] = {
	    [GW_PEI_SDS_ACCEPTED] = "accepted by the terminal",
	    [GW_PEI_SDS_SENT] = "sent (network accepted)",
	    [GW_PEI_SDS_DELIVERED] = "delivered",
	    [GW_PEI_SDS_UNCONFIRMED] = "sent, delivery not confirmed",
	    [GW_PEI_SDS_FAILED] = "failed",
	};
	return (unsigned)st < sizeof(names) / sizeof(names[0]) ? names[st] : "?";
}

/* Identities compare by their SSI: a 17-digit TSI ends in the 8-digit SSI. */
const char *pei_ssi_of(const char *id)
{
	size_t n = strlen(id);
	const char *p = n == 17 ? id + 9 : id;
	while (*p == '0' && p[1])
		p++;
	return p;
}

static void job_report(struct sds_job *j, enum gw_pei_sds_state st, int detail)
{
	struct gw_pei *pei = j->pei;
	LOGP(GW_LOG_RADIO, st == GW_PEI_SDS_FAILED ? GW_LOG_WARN : GW_LOG_INFO,
	     "SDS %d to %s (ref %u): %s", j->handle, j->to, j->ref, gw_pei_sds_state_name(st));
	if (j->handle && pei->ops.sds_state)
		pei->ops.sds_state(pei->ops.arg, j->handle, st, detail);
}

static void job_free(struct sds_job *j)
{
	gw_timer_cancel(j->pei->loop, &j->timer);
	j->st = JOB_FREE;
}

static void job_send(struct sds_job *j);

/* A transmission on a live call: ours (asked or held) or another party's. */
static int floor_busy(const struct gw_pei *pei)
{
	for (int i = 0; i < MAX_CALLS; i++)
		if (pei->calls[i].cci >= 0 && (pei->calls[i].own != OWN_NONE || pei->calls[i].down))
			return 1;
	return 0;
}

/* The floor changed: SDS held back for a transmission go when it is free. */
void pei_sds_floor_free(struct gw_pei *pei)
{
	if (floor_busy(pei))
		return;
	for (int i = 0; i < SDS_JOBS; i++) {
		struct sds_job *j = &pei->jobs[i];
		if (j->st == JOB_HELD) {
			gw_timer_cancel(pei->loop, &j->timer);
			job_send(j);
		}
	}
}

static void job_failed(struct sds_job *j, int detail)
{
	if (j->tries < GW_PEI_SDS_TRIES) {
		j->st = JOB_RETRY;
		gw_timer_schedule(j->pei->loop, &j->timer, SDS_RETRY_MS);
		return;
	}
	job_report(j, GW_PEI_SDS_FAILED, detail);
	job_free(j);
}

void pei_on_job_timer(struct gw_loop *loop, void *arg)
{
	(void)loop;
	struct sds_job *j = arg;
	switch (j->st) {
	case JOB_RETRY:
		job_send(j);
		return;
	case JOB_HELD:
		LOGP(GW_LOG_RADIO, GW_LOG_WARN,
		     "SDS to %s held %d s for a transmission: sending now", j->to,
		     SDS_HOLD_MAX_MS / 1000);
		j->hold_over = 1;
		job_send(j);
		return;
	case JOB_WAIT_NET:
		/* no "+CMGS: <inst>,<status>": some terminals send none; wait for the report */
		j->st = JOB_WAIT_REPORT;
		gw_timer_schedule(j->pei->loop, &j->timer, SDS_REPORT_WAIT_MS);
		return;
	case JOB_WAIT_REPORT:
		if (j->handle)
			job_report(j, GW_PEI_SDS_UNCONFIRMED, 0);
		job_free(j);
		return;
	default:
		return;
	}
}

static void ctsds_done(struct gw_at *at, const struct gw_at_resp *r, void *arg)
{
	(void)at;
	struct gw_pei *pei = arg;
	pei->sds_type = r->result == GW_AT_OK ? GW_SDS_AI_SDSTL : -1;
}

static void cmgs_done(struct gw_at *at, const struct gw_at_resp *r, void *arg)
{
	(void)at;
	struct sds_job *j = arg;
	if (j->st != JOB_WAIT_CMGS)
		return;
	if (r->result != GW_AT_OK) {
		LOGP(GW_LOG_RADIO, GW_LOG_WARN, "SDS to %s: AT+CMGS %s %d (try %d of %d)", j->to,
		     gw_at_result_name(r->result), r->err, j->tries, GW_PEI_SDS_TRIES);
		job_failed(j, r->result == GW_AT_CME_ERROR ? r->err : 0);
		return;
	}
	j->inst = -1;
	char buf[64];
	const char *f[3];
	long v;
	for (int i = 0; i < r->nlines; i++)
		if (gw_at_fields(r->lines[i] + 6, buf, sizeof(buf), f, 3) >= 1 &&
		    gw_at_int(f[0], 0, 65535, &v) == 0)
			j->inst = (int)v;
	if (j->handle)
		job_report(j, GW_PEI_SDS_ACCEPTED, j->inst);
	j->st = JOB_WAIT_NET;
	gw_timer_schedule(j->pei->loop, &j->timer, SDS_REPORT_WAIT_MS);
}

static void job_send(struct sds_job *j)
{
	struct gw_pei *pei = j->pei;
	char cmd[48];
	if (!j->hold_over && floor_busy(pei)) {
		if (j->st != JOB_HELD) {
			LOGP(GW_LOG_RADIO, GW_LOG_INFO,
			     "SDS to %s (ref %u) waits: a transmission is in progress", j->to,
			     j->ref);
			j->st = JOB_HELD;
			gw_timer_schedule(pei->loop, &j->timer, SDS_HOLD_MAX_MS);
		}
		return;
	}
	j->tries++;
	j->st = JOB_WAIT_CMGS;
	if (pei->sds_type != GW_SDS_AI_SDSTL)
		gw_at_cmd(pei->at, "AT+CTSDS=12,0,0,0,1", NULL, T_CMD_MS, 0, ctsds_done, pei);
	snprintf(cmd, sizeof(cmd), "AT+CMGS=%s,%d", j->to, j->bits);
	if (gw_at_cmd_data(pei->at, cmd, j->hex, "+CMGS:", T_CMD_MS, 0, cmgs_done, j) < 0)
		job_failed(j, 0);
}

static struct sds_job *job_new(struct gw_pei *pei)
{
	for (int i = 0; i < SDS_JOBS; i++)
		if (pei->jobs[i].st == JOB_FREE)
			return &pei->jobs[i];
	return NULL;
}

int pei_valid_id(const char *id)
{
	size_t n = strlen(id);
	return n > 0 && n < GW_PEI_ID_MAX && strspn(id, "0123456789") == n;
}

int gw_pei_send_sds(struct gw_pei *pei, const char *to, const char *text)
{
	if (!pei_valid_id(to))
		return -EINVAL;
	struct sds_job *j = job_new(pei);
	if (!j)
		return -EBUSY;
	uint8_t ref = ++pei->sds_ref ? pei->sds_ref : ++pei->sds_ref; /* refs 1..255 */
	int rc =
	    gw_sds_encode_text(text, GW_SDS_RR_RECEIVED, ref, j->hex, sizeof(j->hex), &j->bits);
	if (rc < 0)
		return rc == -ENOBUFS ? -EMSGSIZE : rc;
	if (j->bits > GW_SDS_MAX_BITS)
		return -EMSGSIZE;
	snprintf(j->to, sizeof(j->to), "%s", to);
	j->pei = pei;
	j->ref = ref;
	j->tries = 0;
	j->hold_over = 0;
	j->handle = ++pei->sds_handles;
	if (pei->sds_handles == 0x7fffffff)
		pei->sds_handles = 0;
	LOGP(GW_LOG_RADIO, GW_LOG_INFO, "SDS %d to %s (ref %u): %s", j->handle, to, ref, text);
	job_send(j);
	return j->handle;
}

/* Acknowledge a received text that asked for a receipt report (not tracked). */
static void send_receipt(struct gw_pei *pei, const char *to, const struct gw_sds_msg *m)
{
	struct sds_job *j = job_new(pei);
	if (!j) {
		LOGP(GW_LOG_RADIO, GW_LOG_WARN, "no room to acknowledge SDS %u from %s",
		     m->text.ref, to);
		return;
	}
	if (gw_sds_encode_report(m->pid, 0x00, m->text.ref, j->hex, sizeof(j->hex), &j->bits) < 0)
		return;
	snprintf(j->to, sizeof(j->to), "%s", to);
	j->pei = pei;
	j->ref = m->text.ref;
	j->tries = GW_PEI_SDS_TRIES - 1; /* one retry at most for an acknowledgement */
	j->hold_over = 0;
	j->handle = 0;
	job_send(j);
}

/* +CMGS: <inst>,<status>[,<ref>] after the send: 4 sent, 5 failed. */
void pei_urc_cmgs(struct gw_at *at, const char *const *lines, int n, void *arg)
{
	(void)at;
	(void)n;
	struct gw_pei *pei = arg;
	char buf[64];
	const char *f[4];
	long inst, st;
	if (gw_at_fields(lines[0] + 6, buf, sizeof(buf), f, 4) < 2 ||
	    gw_at_int(f[0], 0, 65535, &inst) < 0 || gw_at_int(f[1], 0, 99, &st) < 0) {
		LOGP(GW_LOG_RADIO, GW_LOG_WARN, "malformed +CMGS report skipped: %.60s", lines[0]);
		return;
	}
	for (int i = 0; i < SDS_JOBS; i++) {
		struct sds_job *j = &pei->jobs[i];
		if (j->st != JOB_WAIT_NET || j->inst != inst)
			continue;
		if (st == 4) {
			if (!j->handle) {
				job_free(j); /* an acknowledgement: nothing more to wait for */
				return;
			}
			job_report(j, GW_PEI_SDS_SENT, 0);
			j->st = JOB_WAIT_REPORT;
			gw_timer_schedule(pei->loop, &j->timer, SDS_REPORT_WAIT_MS);
		} else {
			LOGP(GW_LOG_RADIO, GW_LOG_WARN, "SDS to %s not sent (status %ld)", j->to,
			     st);
			job_failed(j, (int)st);
		}
		return;
	}
	LOGP(GW_LOG_RADIO, GW_LOG_INFO, "+CMGS report for unknown SDS instance %ld", inst);
}

int gw_pei_parse_ctsdsr(const char *line, int *ai, char *from, char *to, int *bits)
{
	const char *p = pei_params_of(line, "+CTSDSR:");
	const char *f[8];
	char buf[128];
	long v;
	if (!p)
		return -EINVAL;
	int n = gw_at_fields(p, buf, sizeof(buf), f, 8);
	const char *fa, *ffrom = "", *fto, *fbits;
	switch (n) {
	case 3:
		fa = f[0], fto = f[1], fbits = f[2];
		break;
	case 4:
		fa = f[0], fto = f[1], fbits = f[3];
		break;
	case 6:
	case 7:
		fa = f[0], ffrom = f[1], fto = f[3], fbits = f[5];
		break;
	default:
		return -EINVAL;
	}
	if (gw_at_int(fa, 0, 15, &v) < 0)
		return -EINVAL;
	*ai = (int)v;
	if (gw_at_int(fbits, 1, GW_SDS_MAX_BITS, &v) < 0)
		return -EINVAL;
	*bits = (int)v;
	if ((*ffrom && pei_parse_id(ffrom, from) < 0) || pei_parse_id(fto, to) < 0)
		return -EINVAL;
	if (!*ffrom)
		from[0] = '\0';
	return 0;
}

/* A report on one of our SDS: match the sender and reference. 1 when consumed. */
static int take_report(struct gw_pei *pei, const char *from, const struct gw_sds_msg *m)
{
	for (int i = 0; i < SDS_JOBS; i++) {
		struct sds_job *j = &pei->jobs[i];
		if (j->st == JOB_FREE || !j->handle || j->ref != m->report.ref ||
		    strcmp(pei_ssi_of(j->to), pei_ssi_of(from)) != 0)
			continue;
		enum gw_sds_dclass dc = gw_sds_delivery_class(m->report.status);
		if (dc == GW_SDS_DC_SUCCESS) {
			job_report(j, GW_PEI_SDS_DELIVERED, m->report.status);
			job_free(j);
		} else if (dc == GW_SDS_DC_TEMPORARY) {
			LOGP(GW_LOG_RADIO, GW_LOG_INFO, "SDS %d to %s: %s, waiting", j->handle,
			     j->to, gw_sds_delivery_name(m->report.status));
		} else {
			LOGP(GW_LOG_RADIO, GW_LOG_WARN, "SDS %d to %s: %s", j->handle, j->to,
			     gw_sds_delivery_name(m->report.status));
			job_report(j, GW_PEI_SDS_FAILED, m->report.status);
			job_free(j);
		}
		return 1;
	}
	return 0;
}

void pei_urc_ctsdsr(struct gw_at *at, const char *const *lines, int n, void *arg)
{
	(void)at;
	struct gw_pei *pei = arg;
	int ai, bits;
	char from[GW_PEI_ID_MAX], to[GW_PEI_ID_MAX];
	if (gw_pei_parse_ctsdsr(lines[0], &ai, from, to, &bits) < 0) {
		LOGP(GW_LOG_RADIO, GW_LOG_ERROR, "malformed +CTSDSR skipped: %.100s", lines[0]);
		return;
	}
	if (n < 2) {
		LOGP(GW_LOG_RADIO, GW_LOG_ERROR, "SDS from %s without its data line, skipped",
		     from);
		return;
	}
	static struct gw_sds_msg m; /* about 1.5 KB; the loop is single-threaded */
	const char *why = "";
	int rc = gw_sds_decode(ai, bits, lines[1], &m, &why);
	if (rc < 0) {
		LOGP(GW_LOG_RADIO, GW_LOG_WARN, "SDS from %s not understood (%s): %.80s",
		     *from ? from : "?", why, lines[1]);
		return;
	}
	if ((m.kind == GW_SDS_REPORT || m.kind == GW_SDS_ACK) && take_report(pei, from, &m))
		return;
	if (m.kind == GW_SDS_TEXT && m.text.sdstl &&
	    (m.text.report_req == GW_SDS_RR_RECEIVED || m.text.report_req == GW_SDS_RR_BOTH) &&
	    *from)
		send_receipt(pei, from, &m);
	if (m.kind == GW_SDS_TEXT && m.text.concat) {
		static char text[GW_SDS_TEXT_MAX];
		rc = gw_sds_reasm_add(&pei->reasm, from, &m, (uint64_t)gw_loop_now_ms(pei->loop),
				      text, sizeof(text));
		if (rc <= 0)
			return; /* waiting for more parts (or a part was refused: logged there) */
		snprintf(m.text.text, sizeof(m.text.text), "%s", text);
		m.text.len = strlen(m.text.text);
		m.text.concat = false;
	}
	if (pei->ops.sds_in)
		pei->ops.sds_in(pei->ops.arg, from, &m);
}
