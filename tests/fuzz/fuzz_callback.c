/*
 * fuzz_callback: libFuzzer target for the call-back's outside inputs: the keys a caller
 * types and the radio/phone reports that interleave with them. The first byte picks a
 * mode:
 *
 *   0  the rest is a typed radio number -> gw_callback_parse_id(); an accepted one must
 *      be 1-8 digits without a leading zero and at most 16777215, or 17 digits.
 *   1  the rest is a script for the FSM on a frozen clock: a roster worker (PIN 2468)
 *      rings in, then each byte is a key (0-9 * # A-D), a dial report (handle, cci,
 *      state, cause), a phone end, or a clock step. At the end the phone hangs up and
 *      a minute passes: the call-back must be over. Only a validated identity may
 *      reach the radio dial.
 *
 * Checked besides memory errors and the FSM's own asserts (an undeclared event or
 * transition is logged, never a crash).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "service/call.h"
#include "service/callback.h"
#include "store/db.h"
#include "core/log.h"
#include "store/roster.h"

#define AINO "+358401234567"

static struct gw_loop *loop;
static struct gw_conf conf;
static struct gw_roster *roster;
static struct gw_callback *cb;
static struct gw_calls *calls;
static int dials, phone_up;

static int op_answer(void *arg)
{
	(void)arg;
	phone_up = 1;
	return 0;
}
static int op_hangup(void *arg)
{
	(void)arg;
	int was = phone_up;
	phone_up = 0;
	if (was)
		gw_calls_phone_ended(calls, GW_MODEM_END_LOCAL);
	return 0;
}
static int op_dial(void *arg, const char *issi, bool simplex)
{
	(void)arg;
	(void)simplex;
	char id[GW_PEI_ID_MAX];
	if (gw_callback_parse_id(issi, id) < 0 || strcmp(id, issi) != 0)
		abort(); /* only a validated identity reaches the radio */
	return ++dials;
}
static int op_radio_hangup(void *arg, int cci)
{
	(void)arg;
	(void)cci;
	return 0;
}
static int op_reject(void *arg)
{
	(void)arg;
	return 0;
}

static int init(void)
{
	static const char csv[] = "line,sos,Sosiaali,Social,Social\n"
				  "worker,aino,Aino Virtanen,+358401234567,,1,en\n";
	char dir[] = "/tmp/rinki-fuzz-cb-XXXXXX", path[64], hash[GW_ROSTER_PIN_HASH_MAX];
	struct gw_db *db;
	struct gw_db_roster r;
	gw_log_set_level(GW_LOG_NCATS, GW_LOG_ERROR);
	if (!mkdtemp(dir))
		abort();
	snprintf(path, sizeof(path), "%s/rinki.db", dir);
	if (gw_db_open(path, &db) < 0 ||
	    gw_roster_parse_csv("fuzz.csv", csv, strlen(csv), &r, NULL, NULL) < 0 ||
	    gw_db_roster_replace(db, &r) < 0 || gw_roster_hash_pin("2468", hash) < 0 ||
	    gw_db_worker_set_pin(db, "aino", hash) < 0 || gw_roster_load(db, &roster) < 0)
		abort();
	gw_db_roster_clear(&r);
	gw_db_close(db);
	loop = gw_loop_new();
	gw_loop_clock_override(loop, 1000, 1795608000000LL);
	gw_conf_defaults(&conf);
	conf.callback_lockout_s = 0; /* every input starts answered */
	struct gw_callback_ops ops = {.phone_answer = op_answer,
				      .phone_hangup = op_hangup,
				      .radio_dial = op_dial,
				      .radio_hangup = op_radio_hangup};
	struct gw_call_ops cops = {.phone_reject = op_reject, .phone_hangup = op_hangup};
	if (gw_callback_new(loop, &conf, NULL, &ops, &cb) < 0 ||
	    gw_calls_new(loop, &conf, NULL, &cops, &calls) < 0)
		abort();
	gw_callback_set_roster(cb, roster);
	gw_calls_set_roster(calls, roster);
	gw_calls_set_callback(calls, cb);
	return 0;
}

static void parse_mode(const uint8_t *data, size_t size)
{
	char in[64], out[GW_PEI_ID_MAX];
	size_t n = size < sizeof(in) - 1 ? size : sizeof(in) - 1;
	memcpy(in, data, n);
	in[n] = '\0';
	if (gw_callback_parse_id(in, out) < 0)
		return;
	size_t len = strlen(out);
	if (strspn(out, "0123456789") != len)
		abort();
	if (len <= 8 && (out[0] == '0' || strtoul(out, NULL, 10) > 16777215))
		abort();
	if (len > 8 && len != 17)
		abort();
}

static void script_mode(const uint8_t *data, size_t size)
{
	static const char keys[] = "0123456789*#ABCD";
	if (gw_calls_phone_incoming(calls, AINO) != 1)
		abort();
	for (size_t i = 0; i < size; i++) {
		uint8_t b = data[i];
		switch (b >> 6) {
		case 0:
		case 1: /* a key; most bytes, so PINs and numbers get typed */
			gw_calls_phone_key(calls, keys[b & 15], GW_DTMF_SRC_MODEM);
			gw_loop_clock_advance(loop, 150);
			break;
		case 2: /* a dial report: handle near the last one, state, small cci */
			gw_callback_dial_state(cb, dials - (b & 1), (b >> 1) & 3,
					       (enum gw_pei_dial_state)((b >> 3) & 3), b & 7);
			break;
		default: /* the phone ends, or time passes */
			if ((b & 0x3f) == 0x3f && phone_up) {
				phone_up = 0;
				gw_calls_phone_ended(calls, GW_MODEM_END_NO_CARRIER);
			} else {
				gw_loop_clock_advance(loop, (int64_t)(b & 0x3f) * 500);
			}
		}
		if (!gw_callback_live(cb))
			break;
	}
	if (phone_up) {
		phone_up = 0;
		gw_calls_phone_ended(calls, GW_MODEM_END_NO_CARRIER);
	}
	gw_loop_clock_advance(loop, 60000);
	if (gw_callback_live(cb))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	if (!ready)
		ready = init() == 0;
	if (size < 1)
		return 0;
	if (data[0] & 1)
		script_mode(data + 1, size - 1);
	else
		parse_mode(data + 1, size - 1);
	return 0;
}
