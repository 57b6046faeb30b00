/*
 * Unit tests for gateway/callback.c: the call-back FSM driven with fake phone and radio
 * legs, a frozen clock, a real database (roster with PINs, call log) in a temporary
 * directory and prompt WAVs written by the test (each prompt's length names it). The
 * trace of leg actions is the behaviour under test; the call log is read back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/log.h"
#include "service/call.h"
#include "service/callback.h"
#include "store/db.h"
#include "store/roster.h"

#include "../calllog_read.h"

/* 2026-11-25T12:00:00Z */
#define T0_WALL 1795608000000LL
#define AINO	"+358401234567" /* PIN 2468, Swedish */
#define MIKKO	"+358401234568" /* no PIN */

static const char roster_csv[] =
    "line,sos,Sosiaali- ja kriisipäivystys,Social- och krisjour,Social and crisis on-call\n"
    "worker,aino,Aino Virtanen,+358401234567,,1,sv\n"
    "worker,mikko,Mikko Korhonen,+358401234568,\n"
    "shift,sos,aino,2026-11-25T00:00Z,2026-11-26T00:00Z,1\n"
    "route,sos,,0\n"
    "directory,2269001,\"Poliisi, Mikkeli\"\n";

static const char *const langs[] = {"fi", "sv", "en"};

struct fx {
	char dir[64], path[128];
	struct gw_loop *loop;
	struct gw_conf conf;
	struct gw_db *db;
	struct gw_roster *roster;
	struct gw_callback *cb;
	struct gw_calls *calls;
	char trace[4096];
	int dial_rc; /* what radio_dial returns */
};

static void tr(struct fx *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void tr(struct fx *f, const char *fmt, ...)
{
	char b[128];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(b, sizeof(b), fmt, ap);
	va_end(ap);
	strncat(f->trace, b, sizeof(f->trace) - strlen(f->trace) - 1);
	strncat(f->trace, ";", sizeof(f->trace) - strlen(f->trace) - 1);
}

/* Prompt (lang l, prompt p) is 80 * (10 l + p + 1) samples: 10 ms steps at 8 kHz. */
static size_t prompt_len(int l, int p)
{
	return (size_t)80 * (size_t)(10 * l + p + 1);
}
static int64_t prompt_ms(int l, int p)
{
	return (int64_t)prompt_len(l, p) / 8;
}

static int op_answer(void *arg)
{
	tr(arg, "ANSWER");
	return 0;
}
/* as gw_modem_hangup: ended(LOCAL) from inside the hang-up */
static int op_hangup(void *arg)
{
	struct fx *f = arg;
	tr(f, "CHUP");
	if (f->calls)
		gw_calls_phone_ended(f->calls, GW_MODEM_END_LOCAL);
	return 0;
}
static void op_play(void *arg, const int16_t *pcm, size_t n)
{
	(void)pcm;
	int id = (int)(n / 80) - 1;
	tr(arg, "PLAY %s/%s", langs[id / 10], gw_cb_prompt_name(id % 10));
}
static int op_dial(void *arg, const char *issi, bool simplex)
{
	struct fx *f = arg;
	tr(f, "ATD %s %s", issi, simplex ? "simplex" : "duplex");
	return f->dial_rc;
}
static int op_radio_hangup(void *arg, int cci)
{
	tr(arg, "ATH %d", cci);
	return 0;
}
static void op_bridge(void *arg, int on)
{
	tr(arg, on ? "BRIDGE" : "VOICE OFF");
}
static int op_radio_answer(void *arg, int cci)
{
	tr(arg, "ATA %d", cci);
	return 0;
}
static int op_phone_dial(void *arg, const char *number)
{
	tr(arg, "PAGE %s", number);
	return 0;
}
static int op_reject(void *arg)
{
	tr(arg, "REJECT");
	return 0;
}
static int op_sds(void *arg, const char *issi, const char *text)
{
	(void)text;
	tr(arg, "SDS %s", issi);
	return 0;
}

static void put16(FILE *fp, unsigned v)
{
	fputc((int)(v & 0xff), fp);
	fputc((int)(v >> 8 & 0xff), fp);
}
static void put32(FILE *fp, unsigned v)
{
	put16(fp, v & 0xffff);
	put16(fp, v >> 16);
}
static void write_wav(const char *path, size_t n)
{
	FILE *fp = fopen(path, "wb");
	assert_non_null(fp);
	fputs("RIFF", fp);
	put32(fp, (unsigned)(36 + n * 2));
	fputs("WAVEfmt ", fp);
	put32(fp, 16);
	put16(fp, 1);
	put16(fp, 1);
	put32(fp, 8000);
	put32(fp, 16000);
	put16(fp, 2);
	put16(fp, 16);
	fputs("data", fp);
	put32(fp, (unsigned)(n * 2));
	for (size_t i = 0; i < n; i++)
		put16(fp, (unsigned)(i * 37 & 0x3ff));
	fclose(fp);
}

static void prompts_write(struct fx *f)
{
	char p[256];
	for (int l = 0; l < 3; l++) {
		snprintf(p, sizeof(p), "%s/%s", f->dir, langs[l]);
		assert_int_equal(mkdir(p, 0700), 0);
		for (int i = 0; i < GW_CB_PROMPT_COUNT; i++) {
			snprintf(p, sizeof(p), "%s/%s/%s.wav", f->dir, langs[l],
				 gw_cb_prompt_name(i));
			write_wav(p, prompt_len(l, i));
		}
	}
}

static int setup(void **state)
{
	static struct fx f;
	memset(&f, 0, sizeof(f));
	snprintf(f.dir, sizeof(f.dir), "/tmp/rinki-cb-XXXXXX");
	assert_non_null(mkdtemp(f.dir));
	snprintf(f.path, sizeof(f.path), "%s/rinki.db", f.dir);
	assert_int_equal(gw_db_open(f.path, &f.db), 0);
	struct gw_db_roster r;
	assert_int_equal(
	    gw_roster_parse_csv("test.csv", roster_csv, strlen(roster_csv), &r, NULL, NULL), 0);
	assert_int_equal(gw_db_roster_replace(f.db, &r), 0);
	gw_db_roster_clear(&r);
	char hash[GW_ROSTER_PIN_HASH_MAX];
	assert_int_equal(gw_roster_hash_pin("2468", hash), 0);
	assert_int_equal(gw_db_worker_set_pin(f.db, "aino", hash), 0);
	assert_int_equal(gw_roster_load(f.db, &f.roster), 0);
	f.loop = gw_loop_new();
	gw_loop_clock_override(f.loop, 5000, T0_WALL);
	gw_conf_defaults(&f.conf);
	f.dial_rc = 7;
	struct gw_callback_ops ops = {.phone_answer = op_answer,
				      .phone_hangup = op_hangup,
				      .play = op_play,
				      .radio_dial = op_dial,
				      .radio_hangup = op_radio_hangup,
				      .bridge = op_bridge,
				      .arg = &f};
	assert_int_equal(gw_callback_new(f.loop, &f.conf, f.db, &ops, &f.cb), 0);
	gw_callback_set_roster(f.cb, f.roster);
	prompts_write(&f);
	assert_int_equal(gw_callback_load_prompts(f.cb, f.dir, 8000), 0);
	struct gw_call_ops cops = {.radio_answer = op_radio_answer,
				   .radio_hangup = op_radio_hangup,
				   .phone_dial = op_phone_dial,
				   .phone_hangup = op_hangup,
				   .phone_reject = op_reject,
				   .radio_sds = op_sds,
				   .arg = &f};
	assert_int_equal(gw_calls_new(f.loop, &f.conf, f.db, &cops, &f.calls), 0);
	gw_calls_set_roster(f.calls, f.roster);
	gw_calls_set_callback(f.calls, f.cb);
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[160];
	gw_calls_free(f->calls);
	gw_callback_free(f->cb);
	gw_roster_free(f->roster);
	gw_db_close(f->db);
	gw_loop_free(f->loop);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	return 0;
}

/* keys as the worker presses them, through the call module's key path */
static void keys(struct fx *f, const char *s)
{
	for (; *s; s++) {
		gw_calls_phone_key(f->calls, *s, GW_DTMF_SRC_MODEM);
		gw_loop_clock_advance(f->loop, 200); /* not the same press as the last */
	}
}

static char logbuf[2048]; /* error lines of the log, while a test captures them */

static void sink(enum gw_log_cat cat, enum gw_log_level level, const char *line, void *arg)
{
	(void)cat;
	(void)arg;
	if (level <= GW_LOG_ERROR) {
		strncat(logbuf, line, sizeof(logbuf) - strlen(logbuf) - 2);
		strcat(logbuf, "\n");
	}
}

static void read_log(struct fx *f, struct logged *l)
{
	logged_newest(f->db, l);
}

/* Aino calls in and is answered: the PIN prompt in her language (sv). */
static void ring_aino(struct fx *f)
{
	assert_int_equal(gw_calls_phone_incoming(f->calls, AINO), 1);
	assert_string_equal(f->trace, "ANSWER;PLAY sv/cb_pin;");
	assert_int_equal(gw_callback_state(f->cb), GW_CB_ST_PIN);
	f->trace[0] = '\0';
}

static void no_row(const struct gw_db_report_row *row, void *arg)
{
	(void)arg;
	fail_msg("report row for line '%s'", row->line);
}

static void test_right_pin_bridged_radio_releases(void **state)
{
	struct fx *f = *state;
	ring_aino(f);
	keys(f, "2468#");
	assert_string_equal(f->trace, "PLAY sv/cb_issi;");
	assert_int_equal(gw_callback_state(f->cb), GW_CB_ST_ISSI);
	keys(f, "2269001#");
	assert_string_equal(f->trace, "PLAY sv/cb_issi;ATD 2269001 duplex;PLAY sv/cb_hold;");
	assert_int_equal(gw_callback_state(f->cb), GW_CB_ST_DIALING);
	/* another handle is not ours */
	assert_int_equal(gw_callback_dial_state(f->cb, 8, 3, GW_PEI_DIAL_CONNECTED, 0), 0);
	assert_int_equal(gw_callback_dial_state(f->cb, 7, 3, GW_PEI_DIAL_PROGRESS, 2), 1);
	assert_int_equal(gw_callback_dial_state(f->cb, 7, 3, GW_PEI_DIAL_CONNECTED, 0), 1);
	assert_int_equal(gw_callback_state(f->cb), GW_CB_ST_BRIDGED);
	f->trace[0] = '\0';
	/* the dial guard no longer runs; keys in the conversation are not ours */
	gw_loop_clock_advance(f->loop, 120000);
	keys(f, "5#");
	assert_int_equal(gw_callback_state(f->cb), GW_CB_ST_BRIDGED);
	assert_string_equal(f->trace, "");
	gw_callback_dial_state(f->cb, 7, 3, GW_PEI_DIAL_RELEASED, 1);
	assert_string_equal(f->trace, "VOICE OFF;CHUP;");
	assert_false(gw_callback_live(f->cb));
	struct logged l;
	read_log(f, &l);
	assert_string_equal(l.line, "callback");
	assert_string_equal(l.outcome, "connected");
	assert_string_equal(l.accepted, "aino");
	assert_true(l.has_cause);
	assert_int_equal(l.cause, 1);
	assert_string_equal(l.kinds, "open,call_in,pin_ok,dial,connected,released,close,");
	assert_non_null(strstr(l.details, "2269001 duplex"));
	assert_null(strstr(l.details, "2468")); /* never the PIN */
	/* our own hang-up's end is no news */
	gw_calls_phone_ended(f->calls, GW_MODEM_END_LOCAL);
	/* no authority call: not in the monthly report */
	assert_int_equal(gw_db_report(f->db, 0, T0_WALL + 86400000LL, 60000, no_row, NULL), 0);
}

static void test_wrong_pin_three_times_locks_out(void **state)
{
	struct fx *f = *state;
	f->conf.callback_lockout_s = 300;
	ring_aino(f);
	keys(f, "1111#");
	assert_string_equal(f->trace, "PLAY sv/cb_wrong_pin;");
	keys(f, "246#"); /* too short: not a PIN, wrong all the same */
	keys(f, "24680#");
	assert_string_equal(f->trace,
			    "PLAY sv/cb_wrong_pin;PLAY sv/cb_wrong_pin;PLAY sv/cb_goodbye;");
	assert_int_equal(gw_callback_state(f->cb), GW_CB_ST_GOODBYE);
	/* keys during goodbye change nothing; the phone is hung up after the prompt */
	keys(f, "2468#");
	gw_loop_clock_advance(f->loop, prompt_ms(1, GW_CB_PROMPT_GOODBYE) + 300);
	assert_string_equal(
	    f->trace,
	    "PLAY sv/cb_wrong_pin;PLAY sv/cb_wrong_pin;PLAY sv/cb_goodbye;VOICE OFF;CHUP;");
	assert_false(gw_callback_live(f->cb));
	struct logged l;
	read_log(f, &l);
	assert_string_equal(l.outcome, "pin_failed");
	assert_string_equal(l.kinds, "open,call_in,pin_bad,pin_bad,pin_bad,locked_out,close,");
	assert_null(strstr(l.details, "1111"));
	assert_null(strstr(l.details, "24680"));
	/* locked out: the next call is rejected as before */
	assert_true(gw_callback_lockout_left(f->cb, "0401234567") > 0);
	f->trace[0] = '\0';
	assert_int_equal(gw_calls_phone_incoming(f->calls, AINO), 0);
	assert_string_equal(f->trace, "REJECT;");
	gw_loop_clock_advance(f->loop, 300 * 1000);
	f->trace[0] = '\0';
	ring_aino(f);
	keys(f, "2468#");
	assert_int_equal(gw_callback_state(f->cb), GW_CB_ST_ISSI);
}

static void test_wrong_pins_count_across_calls(void **state)
{
	struct fx *f = *state;
	ring_aino(f);
	keys(f, "1111#1112#");
	gw_calls_phone_ended(f->calls, GW_MODEM_END_NO_CARRIER); /* hangs up, calls again */
	assert_false(gw_callback_live(f->cb));
	f->trace[0] = '\0';
	ring_aino(f);
	keys(f, "1113#");
	assert_string_equal(f->trace, "PLAY sv/cb_goodbye;");
	assert_true(gw_callback_lockout_left(f->cb, AINO) > 0);
}

/* Three wrong PINs from Aino's phone. */
static void lock_aino_out(struct fx *f)
{
	f->conf.callback_lockout_s = 600;
	ring_aino(f);
	keys(f, "1111#1112#1113#");
	gw_loop_clock_advance(f->loop, prompt_ms(1, GW_CB_PROMPT_GOODBYE) + 300);
	assert_false(gw_callback_live(f->cb));
	f->trace[0] = '\0';
}

/* A number that only ends like a worker's is not that worker: no call-back, no PIN asked. */
static void test_spoofed_number_no_callback(void **state)
{
	struct fx *f = *state;
	static const char *const fakes[] = {"+46401234567", "401234567", "358401234567",
					    "+3584012345670", "A401234567"};
	for (size_t i = 0; i < sizeof(fakes) / sizeof(fakes[0]); i++)
		assert_int_equal(gw_calls_phone_incoming(f->calls, fakes[i]), 0);
	assert_string_equal(f->trace, "REJECT;REJECT;REJECT;REJECT;REJECT;");
	assert_false(gw_callback_live(f->cb));
	/* the national form of her own number is her */
	assert_int_equal(gw_calls_phone_incoming(f->calls, "0401234567"), 1);
}

/* A lock-out outlives the daemon: it is in the database, not in a table that forgets. */
static void test_lockout_survives_restart(void **state)
{
	struct fx *f = *state;
	lock_aino_out(f);
	struct gw_callback_ops ops = {.phone_answer = op_answer,
				      .phone_hangup = op_hangup,
				      .play = op_play,
				      .radio_dial = op_dial,
				      .radio_hangup = op_radio_hangup,
				      .bridge = op_bridge,
				      .arg = f};
	gw_callback_free(f->cb);
	assert_int_equal(gw_callback_new(f->loop, &f->conf, f->db, &ops, &f->cb), 0);
	gw_callback_set_roster(f->cb, f->roster);
	assert_int_equal(gw_callback_load_prompts(f->cb, f->dir, 8000), 0);
	gw_calls_set_callback(f->calls, f->cb);
	assert_true(gw_callback_lockout_left(f->cb, AINO) > 590 * 1000);
	assert_int_equal(gw_calls_phone_incoming(f->calls, AINO), 0);
	assert_string_equal(f->trace, "REJECT;");
	/* and it ends when its time is up */
	gw_loop_clock_advance(f->loop, 600 * 1000);
	f->trace[0] = '\0';
	ring_aino(f);
}

/* The lock-out is the worker's too: a new phone number in the roster does not lift it. */
static void test_lockout_follows_worker(void **state)
{
	struct fx *f = *state;
	lock_aino_out(f);
	static const char moved[] =
	    "line,sos,Sosiaali- ja kriisipäivystys,Social- och krisjour,Social and crisis on-call\n"
	    "worker,aino,Aino Virtanen,+358409999999,,1,sv\n"
	    "shift,sos,aino,2026-11-25T00:00Z,2026-11-26T00:00Z,1\n"
	    "route,sos,,0\n";
	struct gw_db_roster r;
	assert_int_equal(gw_roster_parse_csv("moved.csv", moved, strlen(moved), &r, NULL, NULL), 0);
	assert_int_equal(gw_db_roster_replace(f->db, &r), 0);
	gw_db_roster_clear(&r);
	gw_roster_free(f->roster);
	assert_int_equal(gw_roster_load(f->db, &f->roster), 0);
	gw_callback_set_roster(f->cb, f->roster);
	gw_calls_set_roster(f->calls, f->roster);
	assert_int_equal(gw_calls_phone_incoming(f->calls, "+358409999999"), 0);
	assert_string_equal(f->trace, "REJECT;");
	assert_true(gw_callback_lockout_left(f->cb, "+358409999999") > 0);
}

static void test_star_clears_entry(void **state)
{
	struct fx *f = *state;
	ring_aino(f);
	keys(f, "99*2468#");
	assert_int_equal(gw_callback_state(f->cb), GW_CB_ST_ISSI);
	keys(f, "55*123#");
	assert_string_equal(f->trace, "PLAY sv/cb_issi;ATD 123 duplex;PLAY sv/cb_hold;");
}

static void test_key_timeouts(void **state)
{
	struct fx *f = *state;
	int64_t pin_ms = prompt_ms(1, GW_CB_PROMPT_PIN);
	ring_aino(f);
	/* the key time runs from the prompt's end */
	gw_loop_clock_advance(f->loop, pin_ms + 10000 - 1);
	assert_int_equal(gw_callback_state(f->cb), GW_CB_ST_PIN);
	gw_calls_phone_key(f->calls, '2', GW_DTMF_SRC_INBAND); /* a key restarts it */
	gw_loop_clock_advance(f->loop, 9999);
	assert_int_equal(gw_callback_state(f->cb), GW_CB_ST_PIN);
	gw_loop_clock_advance(f->loop, 1);
	assert_string_equal(f->trace, "PLAY sv/cb_goodbye;");
	gw_loop_clock_advance(f->loop, prompt_ms(1, GW_CB_PROMPT_GOODBYE) + 300);
	assert_string_equal(f->trace, "PLAY sv/cb_goodbye;VOICE OFF;CHUP;");
	struct logged l;
	read_log(f, &l);
	assert_string_equal(l.outcome, "timeout");
	assert_string_equal(l.kinds, "open,call_in,timeout,close,");

	/* the ISSI stage too, with callback.key_time */
	f->conf.callback_key_time_s = 5;
	f->trace[0] = '\0';
	ring_aino(f);
	keys(f, "2468#");
	gw_loop_clock_advance(f->loop, prompt_ms(1, GW_CB_PROMPT_ISSI) + 5000);
	assert_string_equal(f->trace, "PLAY sv/cb_issi;PLAY sv/cb_goodbye;");
}

static void test_bad_issi(void **state)
{
	struct fx *f = *state;
	ring_aino(f);
	keys(f, "2468#");
	keys(f, "0#");	      /* ISSI 0 */
	keys(f, "16777216#"); /* over 24 bits */
	keys(f, "#");	      /* nothing */
	assert_string_equal(f->trace, "PLAY sv/cb_issi;PLAY sv/cb_issi;PLAY sv/cb_issi;"
				      "PLAY sv/cb_goodbye;");
	gw_loop_clock_advance(f->loop, 2000);
	struct logged l;
	read_log(f, &l);
	assert_string_equal(l.outcome, "bad_number");
	assert_string_equal(l.kinds, "open,call_in,pin_ok,issi_bad,issi_bad,issi_bad,close,");
}

static void test_parse_id(void **state)
{
	(void)state;
	char out[GW_PEI_ID_MAX];
	assert_int_equal(gw_callback_parse_id("2269001", out), 0);
	assert_string_equal(out, "2269001");
	assert_int_equal(gw_callback_parse_id("00000042", out), 0);
	assert_string_equal(out, "42");
	assert_int_equal(gw_callback_parse_id("16777215", out), 0);
	assert_int_equal(gw_callback_parse_id("16777216", out), -EINVAL);
	assert_int_equal(gw_callback_parse_id("0", out), -EINVAL);
	assert_int_equal(gw_callback_parse_id("", out), -EINVAL);
	assert_int_equal(gw_callback_parse_id("123456789", out), -EINVAL);
	assert_int_equal(gw_callback_parse_id("12a", out), -EINVAL);
	assert_int_equal(gw_callback_parse_id("02440123402269001", out), 0);
	assert_string_equal(out, "02440123402269001");
	assert_int_equal(gw_callback_parse_id("02440123400000000", out), -EINVAL); /* SSI 0 */
	assert_int_equal(gw_callback_parse_id("20000123402269001", out), -EINVAL); /* MCC */
	assert_int_equal(gw_callback_parse_id("024401234022690011", out), -EINVAL);
}

static void to_dialing(struct fx *f)
{
	ring_aino(f);
	keys(f, "2468#2269001#");
	assert_int_equal(gw_callback_state(f->cb), GW_CB_ST_DIALING);
	f->trace[0] = '\0';
}

static void test_radio_refuses_or_rejects(void **state)
{
	struct fx *f = *state;
	to_dialing(f);
	gw_callback_dial_state(f->cb, 7, -1, GW_PEI_DIAL_FAILED, 3);
	assert_string_equal(f->trace, "PLAY sv/cb_no_answer;");
	gw_loop_clock_advance(f->loop, prompt_ms(1, GW_CB_PROMPT_NOANSWER) + 300);
	assert_string_equal(f->trace, "PLAY sv/cb_no_answer;VOICE OFF;CHUP;");
	struct logged l;
	read_log(f, &l);
	assert_string_equal(l.outcome, "no_answer");
	assert_string_equal(l.kinds, "open,call_in,pin_ok,dial,radio_failed,close,");

	/* the called radio rejects: +CTCR while dialling */
	f->trace[0] = '\0';
	f->dial_rc = 8;
	ring_aino(f);
	keys(f, "2468#2269001#");
	f->trace[0] = '\0';
	gw_callback_dial_state(f->cb, 8, 4, GW_PEI_DIAL_RELEASED, 11);
	assert_string_equal(f->trace, "PLAY sv/cb_no_answer;");
	/* the terminal will not even start the dial */
	gw_loop_clock_advance(f->loop, 5000);
	f->trace[0] = '\0';
	f->dial_rc = -ENOTCONN;
	ring_aino(f);
	keys(f, "2468#2269001#");
	assert_string_equal(f->trace, "PLAY sv/cb_issi;ATD 2269001 duplex;PLAY sv/cb_no_answer;");
}

static void test_radio_never_answers(void **state)
{
	struct fx *f = *state;
	f->conf.callback_simplex = true;
	ring_aino(f);
	keys(f, "2468#2269001#");
	assert_non_null(strstr(f->trace, "ATD 2269001 simplex;"));
	f->trace[0] = '\0';
	gw_callback_dial_state(f->cb, 7, 5, GW_PEI_DIAL_PROGRESS, 2);
	gw_loop_clock_advance(f->loop, (int64_t)f->conf.ring_time_s * 1000);
	assert_string_equal(f->trace, "ATH 5;PLAY sv/cb_no_answer;");
	/* its release, logged in the call-back */
	gw_callback_dial_state(f->cb, 7, 5, GW_PEI_DIAL_RELEASED, 1);
	gw_loop_clock_advance(f->loop, 2000);
	struct logged l;
	read_log(f, &l);
	assert_string_equal(l.kinds, "open,call_in,pin_ok,dial,timeout,released,close,");
}

static void test_worker_hangs_up(void **state)
{
	struct fx *f = *state;
	/* while entering the PIN */
	ring_aino(f);
	keys(f, "24");
	gw_calls_phone_ended(f->calls, GW_MODEM_END_NO_CARRIER);
	assert_string_equal(f->trace, "VOICE OFF;");
	struct logged l;
	read_log(f, &l);
	assert_string_equal(l.outcome, "abandoned");
	assert_string_equal(l.kinds, "open,call_in,phone_ended,close,");
	/* while the radio is called, before the terminal names the call: ATH when it does */
	f->trace[0] = '\0';
	to_dialing(f);
	gw_calls_phone_ended(f->calls, GW_MODEM_END_NO_CARRIER);
	assert_string_equal(f->trace, "VOICE OFF;");
	gw_callback_dial_state(f->cb, 7, 9, GW_PEI_DIAL_PROGRESS, 0);
	assert_string_equal(f->trace, "VOICE OFF;ATH 9;");
	gw_callback_dial_state(f->cb, 7, 9, GW_PEI_DIAL_RELEASED, 1);
	/* while bridged: the radio leg ends too */
	f->trace[0] = '\0';
	to_dialing(f);
	gw_callback_dial_state(f->cb, 7, 4, GW_PEI_DIAL_CONNECTED, 0);
	gw_calls_phone_ended(f->calls, GW_MODEM_END_NO_CARRIER);
	assert_string_equal(f->trace, "BRIDGE;ATH 4;VOICE OFF;");
	read_log(f, &l);
	assert_string_equal(l.outcome, "connected");
	assert_string_equal(l.kinds, "open,call_in,pin_ok,dial,connected,phone_ended,close,");
}

static void test_not_taken(void **state)
{
	struct fx *f = *state;
	/* no PIN, not in the roster, withheld: rejected as before */
	assert_int_equal(gw_calls_phone_incoming(f->calls, MIKKO), 0);
	assert_int_equal(gw_calls_phone_incoming(f->calls, "+358409876543"), 0);
	assert_int_equal(gw_calls_phone_incoming(f->calls, ""), 0);
	assert_string_equal(f->trace, "REJECT;REJECT;REJECT;");
	/* while an authority call is live */
	struct gw_pei_call_in in = {.cci = 1, .calling = "2269001"};
	gw_calls_radio_incoming(f->calls, &in);
	gw_calls_phone_dial_acked(f->calls); /* the modem answers the ATD: the start is complete */
	assert_int_equal(gw_calls_state(f->calls), GW_CALL_ST_PAGING);
	f->trace[0] = '\0';
	assert_int_equal(gw_calls_phone_incoming(f->calls, AINO), 0);
	assert_string_equal(f->trace, "REJECT;");
	assert_false(gw_callback_live(f->cb));
}

/* An authority call while a call-back is live gets the busy treatment. */
static void test_authority_call_busy_during_callback(void **state)
{
	struct fx *f = *state;
	to_dialing(f);
	int64_t cb_id = gw_callback_id(f->cb);
	assert_true(cb_id > 0);
	struct gw_pei_call_in in = {.cci = 2, .calling = "2269001"};
	gw_calls_radio_incoming(f->calls, &in);
	assert_string_equal(f->trace, "SDS 2269001;");
	assert_int_equal(gw_calls_state(f->calls), GW_CALL_ST_CLOSED);
	assert_int_equal(gw_callback_state(f->cb), GW_CB_ST_DIALING);
	struct logged l;
	read_log(f, &l); /* the busy entry */
	assert_string_equal(l.outcome, "busy");
	assert_non_null(strstr(l.details, "live"));
	logged_events(f->db, cb_id, &l);
	assert_non_null(strstr(l.kinds, "second_call,"));
}

/* An event the state does not accept is refused, logged with the machine's prefix, and
   changes nothing: a second "connected" for the bridged dial, a dial report after it. */
static void test_event_not_accepted_refused(void **state)
{
	struct fx *f = *state;
	to_dialing(f);
	gw_callback_dial_state(f->cb, 7, 4, GW_PEI_DIAL_CONNECTED, 0);
	assert_int_equal(gw_callback_state(f->cb), GW_CB_ST_BRIDGED);
	char prefix[64];
	snprintf(prefix, sizeof(prefix),
		 "callback(%lld){BRIDGED}: ", (long long)gw_callback_id(f->cb));
	f->trace[0] = '\0';
	logbuf[0] = '\0';
	gw_log_set_sink(sink, NULL);
	assert_int_equal(gw_callback_dial_state(f->cb, 7, 4, GW_PEI_DIAL_CONNECTED, 0), 1);
	gw_log_set_sink(NULL, NULL);
	assert_non_null(strstr(logbuf, prefix));
	assert_non_null(
	    strstr(logbuf, "event radio connected not accepted in this state, rejected"));
	assert_int_equal(gw_callback_state(f->cb), GW_CB_ST_BRIDGED);
	assert_string_equal(f->trace, "");
	/* the machine still works: the radio's release ends the call-back as ever */
	gw_callback_dial_state(f->cb, 7, 4, GW_PEI_DIAL_RELEASED, 1);
	assert_string_equal(f->trace, "VOICE OFF;CHUP;");
	assert_false(gw_callback_live(f->cb));
}

/* callback.key_time and call.ring_time are live keys (SIGHUP): read when a timer is armed,
   so a change under a live call-back applies from the next key or the dial. */
static void test_timers_follow_live_config(void **state)
{
	struct fx *f = *state;
	ring_aino(f);
	f->conf.callback_key_time_s = 3;
	gw_calls_phone_key(f->calls, '2', GW_DTMF_SRC_INBAND);
	gw_loop_clock_advance(f->loop, 2999);
	assert_int_equal(gw_callback_state(f->cb), GW_CB_ST_PIN);
	gw_loop_clock_advance(f->loop, 1);
	assert_int_equal(gw_callback_state(f->cb), GW_CB_ST_GOODBYE);
	gw_loop_clock_advance(f->loop, prompt_ms(1, GW_CB_PROMPT_GOODBYE) + 300);
	assert_false(gw_callback_live(f->cb));

	f->trace[0] = '\0';
	ring_aino(f);
	keys(f, "2468#");
	f->conf.ring_time_s = 7;
	keys(f, "2269001#");
	assert_int_equal(gw_callback_state(f->cb), GW_CB_ST_DIALING);
	gw_loop_clock_advance(f->loop, 7000 - 200 - 1); /* keys() stepped 200 ms past the '#' */
	assert_int_equal(gw_callback_state(f->cb), GW_CB_ST_DIALING);
	gw_loop_clock_advance(f->loop, 1);
	assert_int_equal(gw_callback_state(f->cb), GW_CB_ST_GOODBYE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_right_pin_bridged_radio_releases, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_wrong_pin_three_times_locks_out, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_spoofed_number_no_callback, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_lockout_survives_restart, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_lockout_follows_worker, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_wrong_pins_count_across_calls, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_star_clears_entry, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_key_timeouts, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_issi, setup, teardown),
	    cmocka_unit_test(test_parse_id),
	    cmocka_unit_test_setup_teardown(test_radio_refuses_or_rejects, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_radio_never_answers, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_worker_hangs_up, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_not_taken, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_authority_call_busy_during_callback, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_event_not_accepted_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_timers_follow_live_config, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
