/*
 * text: rinki-web's words in Finnish, Swedish and English. Pages name a string by its
 * enum and the user's language; every entry has all three (a test checks it).
 */
#ifndef WEB_TEXT_H
#define WEB_TEXT_H

enum web_lang { WEB_LANG_FI, WEB_LANG_SV, WEB_LANG_EN, WEB_LANG_COUNT };

enum web_str {
	T_ONCALL,
	T_CALLLOG,
	T_SYSTEM,
	T_OVERVIEW,
	T_LOGOUT,
	T_LOGIN,
	T_USER,
	T_PASSWORD,
	T_LOGIN_FAILED,
	T_RATE,
	T_NOW,
	T_NEXT14,
	T_NOBODY,
	T_GAP,
	T_FROM,
	T_TO,
	T_LINE,
	T_OUTCOME,
	T_FILTER,
	T_ALL,
	T_STARTED,
	T_CALLER,
	T_ACCEPTED,
	T_DURATION,
	T_EVENTS,
	T_CHAIN_OK,
	T_CHAIN_BROKEN,
	T_INCIDENT,
	T_NOT_FOUND,
	T_FORBIDDEN,
	T_CSRF,
	T_RINKID_DOWN,
	T_RADIO,
	T_MODEM,
	T_BOARD,
	T_DATABASE,
	T_COUNTERS,
	T_CALLS,
	T_ANSWERED,
	T_UNANSWERED,
	T_ESCALATED,
	T_WITHIN60,
	T_COVERAGE,
	T_GAP_HOURS,
	T_LAST30,
	T_PASSWORD_CHANGE,
	T_OLD_PW,
	T_NEW_PW,
	T_SAVE,
	T_PW_CHANGED,
	T_PW_BAD,
	T_PHONE,
	T_DB_ERROR,
	T_ROSTER_EMPTY,
	T_TEMP,
	T_OPEN,
	T_SHOWN_MAX,
	T_ON_DUTY,
	T_UNTIL,
	T_NONE,
	T_BAD_INPUT,
	T_INCIDENT_LIVE,
	T_N_EVENTS,
	T_N_INCIDENTS,
	T_HEAD,
	T_TIME,
	T_SINCE_START,
	T_EVENT,
	T_DETAIL,
	T_REPORT,
	T_MONTH,
	T_SHOW,
	T_CSV,
	T_PER_DAY,
	T_HEATMAP,
	T_ACCEPT_DIST,
	T_WHO_TOOK,
	T_BY_FIRST,
	T_BY_LATER,
	T_BY_FALLBACK,
	T_BY_NOBODY,
	T_CHECK_OK,
	T_CHECK_BAD,
	T_TOTAL,
	T_ACCEPT_P50,
	T_ACCEPT_P90,
	T_TEXTS,
	T_STATUSES,
	T_PER_LINE,
	T_NO_CALLS,
	T_COUNT
};

/* The string in lang (falls back to Finnish for an out-of-range lang). */
const char *web_t(enum web_lang lang, enum web_str s);

/* The language of a code ("fi", "sv", "en"); Finnish for anything else. */
enum web_lang web_lang_parse(const char *code);

/* The code of a language ("fi", ...). */
const char *web_lang_code(enum web_lang lang);

/*
 * The first of fi, sv, en named in an Accept-Language header (NULL: none), in the
 * header's order (q-values are not weighed); Finnish when none is.
 */
enum web_lang web_lang_accept(const char *header);

#endif
