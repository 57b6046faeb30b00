/*
 * msgcat: the one catalogue of texts rinki sends people, in Finnish, Swedish and English:
 * the SMS pages, reply and missed-call texts a worker gets (in the worker's roster
 * language) and the SDS an officer gets (in prompt.language). Texts name their blanks
 * ({who}, {line}, {code}, ...), never printf conversions, so a translation can put them in
 * any order and a value can never be read as a format.
 */
#ifndef GW_MSGCAT_H
#define GW_MSGCAT_H

#include <stddef.h>

enum gw_msg {
	GW_MSG_PAGE,		 /* SMS page without a code: {who} {line} */
	GW_MSG_PAGE_CODE,	 /* SMS page with its accept code: {who} {line} {code} */
	GW_MSG_MISSED,		 /* SMS to the first worker: nobody took it: {who} {line} */
	GW_MSG_UNREACHED,	 /* SDS to the officer: nobody reached: {line} */
	GW_MSG_UNSTAFFED,	 /* SDS to the officer: nobody on duty: {line} */
	GW_MSG_BUSY,		 /* SDS to a second officer: busy */
	GW_MSG_BUSY_FALLBACK,	 /* same, naming where else to call: {fallback} */
	GW_MSG_CODE_EXPIRED,	 /* SMS reply: the code is spent: {code} */
	GW_MSG_CODE_UNKNOWN,	 /* SMS reply: no such code: {code} */
	GW_MSG_ALREADY_TAKEN,	 /* SMS reply: somebody took the call already */
	GW_MSG_USE_CODE,	 /* SMS reply: a bare "ok" does not accept */
	GW_MSG_ACCEPT_CALLING,	 /* SMS reply: accept taken, the gateway calls you */
	GW_MSG_ACCEPT_GAVE_UP,	 /* SMS: your accept lapsed, the call went on: {line} */
	GW_MSG_RELAY_TO_WORKER,	 /* SMS carrying an officer's text: {who} {text} */
	GW_MSG_RELAY_UNSTAFFED,	 /* SDS to the officer: text not relayed: {line} */
	GW_MSG_RELAY_FAILED_SMS, /* SDS to the officer: the SMS failed: {who} */
	GW_MSG_RELAY_FAILED_SDS, /* SMS to the worker: the SDS failed: {to} */
	GW_MSG_COUNT
};

/* One blank's value: name without braces ("who"), value (NULL reads as ""). */
struct gw_msg_arg {
	const char *name;
	const char *value;
};

/*
 * The language code the catalogue has for lang: "fi", "sv" or "en"; anything else
 * (NULL, "", "de") gives "fi", the service's own language.
 */
const char *gw_msg_lang(const char *lang);

/*
 * Fill text id in lang (gw_msg_lang's choice) into buf (len >= 1), replacing each {name}
 * by args[i].value for the arg with that name (n args). A blank without a value, or a '{'
 * that starts no blank, is copied as it is. A result that does not fit is cut at a
 * character boundary. Returns the length written, or -E2BIG when it was cut, -EINVAL for
 * an id out of range (buf then "").
 */
int gw_msg_format(enum gw_msg id, const char *lang, const struct gw_msg_arg *args, size_t n,
		  char *buf, size_t len);

/* The raw template of id in lang ("fi", "sv", "en"; others NULL), for checks and tests. */
const char *gw_msg_template(enum gw_msg id, const char *lang);

/* The blanks id may use, space-separated ("who line code"), for checks and tests. */
const char *gw_msg_blanks(enum gw_msg id);

#endif
