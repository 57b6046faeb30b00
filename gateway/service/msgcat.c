/*
 * msgcat: every text rinki sends a person, once, in Finnish, Swedish and English. The
 * table below is the catalogue; gw_msg_format() fills a template's named blanks. A worker
 * reads SMS in the language the roster gives them, an officer reads SDS in
 * prompt.language. test_msgcat checks that every text exists in every language and uses
 * only the blanks its entry declares.
 */
#include "service/msgcat.h"

#include <errno.h>
#include <string.h>

#include "core/text.h"

enum { L_FI, L_SV, L_EN, L_COUNT };

struct entry {
	const char *blanks;
	const char *text[L_COUNT];
};

static const struct entry catalogue[GW_MSG_COUNT] = {
    [GW_MSG_PAGE] = {"who line",
		     {"VIRVE-puhelu: {who}, {line}. Vastaa puheluun ja paina 4.",
		      "VIRVE-samtal: {who}, {line}. Svara och tryck 4.",
		      "VIRVE call: {who}, {line}. Answer the call and press 4."}},
    [GW_MSG_PAGE_CODE] =
	{"who line code",
	 {"VIRVE-puhelu: {who}, {line}. Vastaa puheluun ja paina 4, tai vastaa tähän {code}a.",
	  "VIRVE-samtal: {who}, {line}. Svara och tryck 4, eller svara här {code}a.",
	  "VIRVE call: {who}, {line}. Answer the call and press 4, or reply {code}a here."}},
    [GW_MSG_MISSED] = {"who line",
		       {"Vastaamaton VIRVE-puhelu: {who}, {line}. Kukaan ei vastannut.",
			"Obesvarat VIRVE-samtal: {who}, {line}. Ingen svarade.",
			"Missed VIRVE call: {who}, {line}. Nobody answered."}},
    [GW_MSG_UNREACHED] = {"line",
			  {"{line}: päivystäjää ei tavoitettu. Yritä uudelleen hetken kuluttua.",
			   "{line}: jouren nåddes inte. Försök igen om en stund.",
			   "{line}: no on-call worker reached. Try again in a moment."}},
    [GW_MSG_UNSTAFFED] = {"line",
			  {"{line}: ei päivystäjää vuorossa juuri nyt.",
			   "{line}: ingen jourhavande i tjänst just nu.",
			   "{line}: nobody on duty right now."}},
    [GW_MSG_BUSY] = {"",
		     {"rinki varattu, toinen viranomaispuhelu kesken: soita hetken päästä "
		      "uudelleen.",
		      "Upptaget, ett annat myndighetssamtal pågår: ring igen om en stund.",
		      "Busy with another authority call: try again in a moment."}},
    [GW_MSG_BUSY_FALLBACK] =
	{"fallback",
	 {"rinki varattu, toinen viranomaispuhelu kesken: soita uudelleen tai {fallback}.",
	  "Upptaget, ett annat myndighetssamtal pågår: ring igen eller {fallback}.",
	  "Busy with another authority call: try again or call {fallback}."}},
    [GW_MSG_CODE_EXPIRED] =
	{"code",
	 {"Koodi {code} on vanhentunut: puhelua ei voi enää ottaa vastaan sillä.",
	  "Koden {code} har gått ut: samtalet kan inte längre tas emot med den.",
	  "Code {code} has expired: the call can no longer be taken with it."}},
    [GW_MSG_CODE_UNKNOWN] = {"code",
			     {"Koodia {code} ei tunneta. Tarkista koodi viimeisimmästä viestistä.",
			      "Koden {code} är okänd. Kontrollera koden i det senaste meddelandet.",
			      "Code {code} is not known. Check the code in the latest message."}},
    [GW_MSG_ALREADY_TAKEN] = {"",
			      {"Puhelu on jo otettu vastaan.", "Samtalet har redan tagits emot.",
			       "The call has already been taken."}},
    [GW_MSG_USE_CODE] = {"",
			 {"Kuittaa puhelu viestin koodilla (esim. 37a) tai vastaa puheluun ja "
			  "paina 4.",
			  "Kvittera samtalet med koden i meddelandet (t.ex. 37a) eller svara och "
			  "tryck 4.",
			  "Accept the call with the code in the message (e.g. 37a) or answer the "
			  "call and press 4."}},
    [GW_MSG_ACCEPT_CALLING] = {"",
			       {"Otit puhelun. Soitamme sinulle nyt: vastaa puheluun.",
				"Du tog samtalet. Vi ringer dig nu: svara.",
				"You took the call. We are calling you now: answer it."}},
    [GW_MSG_ACCEPT_GAVE_UP] = {"line",
			       {"Emme tavoittaneet sinua kuittauksesi jälkeen: puhelu ({line}) "
				"siirtyi seuraavalle päivystäjälle.",
				"Vi nådde dig inte efter din kvittering: samtalet ({line}) gick "
				"vidare till nästa jourhavande.",
				"We could not reach you after your accept: the call ({line}) went "
				"on to the next on-call worker."}},
    [GW_MSG_RELAY_TO_WORKER] = {"who text",
				{"VIRVE {who}: {text} (vastaa tähän viestiin)",
				 "VIRVE {who}: {text} (svara på det här meddelandet)",
				 "VIRVE {who}: {text} (reply to this message)"}},
    [GW_MSG_RELAY_UNSTAFFED] =
	{"line",
	 {"{line}: ei päivystäjää vuorossa, viestiä ei välitetty.",
	  "{line}: ingen jourhavande i tjänst, meddelandet förmedlades inte.",
	  "{line}: nobody on duty, the message was not relayed."}},
    [GW_MSG_RELAY_FAILED_SMS] =
	{"who",
	 {"Viestiä ei voitu välittää päivystäjälle ({who}). Soita päivystykseen.",
	  "Meddelandet kunde inte förmedlas till jourhavande ({who}). Ring jouren.",
	  "The message could not be relayed to the on-call worker ({who}). Call the on-call "
	  "service."}},
    [GW_MSG_RELAY_FAILED_SDS] =
	{"to",
	 {"Vastaustasi ei voitu välittää VIRVE-radioon {to}. Soita tai yritä uudelleen "
	  "lyhyemmin.",
	  "Ditt svar kunde inte förmedlas till VIRVE-radion {to}. Ring eller försök igen "
	  "kortare.",
	  "Your reply could not be relayed to VIRVE radio {to}. Call, or try again shorter."}},
};

static const char *const lang_codes[L_COUNT] = {"fi", "sv", "en"};

static int lang_index(const char *lang)
{
	for (int i = 0; lang && i < L_COUNT; i++)
		if (strcmp(lang, lang_codes[i]) == 0)
			return i;
	return -1;
}

const char *gw_msg_lang(const char *lang)
{
	int i = lang_index(lang);
	return lang_codes[i < 0 ? L_FI : i];
}

const char *gw_msg_template(enum gw_msg id, const char *lang)
{
	int i = lang_index(lang);
	if ((unsigned)id >= GW_MSG_COUNT || i < 0)
		return NULL;
	return catalogue[id].text[i];
}

const char *gw_msg_blanks(enum gw_msg id)
{
	return (unsigned)id < GW_MSG_COUNT ? catalogue[id].blanks : NULL;
}

/* Append s (n bytes) to buf (len) at *used; cut at a character boundary. 0 when cut. */
static int put(char *buf, size_t len, size_t *used, const char *s, size_t n)
{
	size_t room = len - 1 - *used;
	size_t take = n;
	if (take > room) {
		take = 0;
		while (take < room) { /* whole characters only */
			unsigned k = gw_utf8_len((const unsigned char *)s + take, n - take, NULL);
			if (k == 0)
				k = 1; /* a byte that is no character: counts as one */
			if (take + k > room)
				break;
			take += k;
		}
	}
	memcpy(buf + *used, s, take);
	*used += take;
	buf[*used] = '\0';
	return take == n;
}

int gw_msg_format(enum gw_msg id, const char *lang, const struct gw_msg_arg *args, size_t n,
		  char *buf, size_t len)
{
	if (len == 0)
		return -EINVAL;
	buf[0] = '\0';
	if ((unsigned)id >= GW_MSG_COUNT)
		return -EINVAL;
	const char *t = catalogue[id].text[lang_index(gw_msg_lang(lang))];
	size_t used = 0;
	int whole = 1;
	while (*t && whole) {
		const char *open = strchr(t, '{');
		const char *close = open ? strchr(open, '}') : NULL;
		if (!open || !close) {
			whole = put(buf, len, &used, t, strlen(t));
			break;
		}
		whole = put(buf, len, &used, t, (size_t)(open - t));
		const char *value = NULL;
		size_t nl = (size_t)(close - open - 1);
		for (size_t i = 0; i < n && whole; i++)
			if (args[i].name && strlen(args[i].name) == nl &&
			    memcmp(args[i].name, open + 1, nl) == 0)
				value = args[i].value ? args[i].value : "";
		if (whole)
			whole = value ? put(buf, len, &used, value, strlen(value))
				      : put(buf, len, &used, open, nl + 2);
		t = close + 1;
	}
	return whole ? (int)used : -E2BIG;
}
