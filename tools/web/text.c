/*
 * text: the message catalogue of rinki-web (text.h), one row per string with its three
 * languages side by side, so a missing translation shows in review.
 */
#include "text.h"

#include <stddef.h>
#include <string.h>

static const char *const cat[T_COUNT][WEB_LANG_COUNT] = {
    [T_ONCALL] = {"Päivystys", "Jour", "On call"},
    [T_CALLLOG] = {"Puheluloki", "Samtalslogg", "Call log"},
    [T_SYSTEM] = {"Järjestelmä", "System", "System"},
    [T_OVERVIEW] = {"Yhteenveto", "Översikt", "Overview"},
    [T_LOGOUT] = {"Kirjaudu ulos", "Logga ut", "Log out"},
    [T_LOGIN] = {"Kirjaudu", "Logga in", "Log in"},
    [T_USER] = {"Käyttäjätunnus", "Användarnamn", "User name"},
    [T_PASSWORD] = {"Salasana", "Lösenord", "Password"},
    [T_LOGIN_FAILED] = {"Kirjautuminen epäonnistui: väärä tunnus tai salasana, tai tili on "
			"lukittu.",
			"Inloggningen misslyckades: fel namn eller lösenord, eller kontot är "
			"låst.",
			"Login failed: wrong name or password, or the account is locked."},
    [T_RATE] = {"Liian monta yritystä. Odota hetki.", "För många försök. Vänta en stund.",
		"Too many attempts. Wait a moment."},
    [T_NOW] = {"Nyt", "Nu", "Now"},
    [T_NEXT14] = {"Seuraavat 14 päivää", "De kommande 14 dagarna", "The next 14 days"},
    [T_NOBODY] = {"Ei ketään päivystämässä", "Ingen i jour", "Nobody on duty"},
    [T_GAP] = {"Aukko", "Lucka", "Gap"},
    [T_FROM] = {"Alkaen", "Från", "From"},
    [T_TO] = {"Asti", "Till", "To"},
    [T_LINE] = {"Linja", "Linje", "Line"},
    [T_OUTCOME] = {"Lopputulos", "Utfall", "Outcome"},
    [T_FILTER] = {"Suodata", "Filtrera", "Filter"},
    [T_ALL] = {"kaikki", "alla", "all"},
    [T_STARTED] = {"Alkoi", "Började", "Started"},
    [T_CALLER] = {"Soittaja", "Uppringare", "Caller"},
    [T_ACCEPTED] = {"Vastasi", "Svarade", "Accepted by"},
    [T_DURATION] = {"Kesto", "Längd", "Duration"},
    [T_EVENTS] = {"Tapahtumat", "Händelser", "Events"},
    [T_CHAIN_OK] = {"Lokiketju ehjä", "Loggkedjan är intakt", "Log chain intact"},
    [T_CHAIN_BROKEN] = {"Lokiketju rikki", "Loggkedjan är bruten", "Log chain broken"},
    [T_INCIDENT] = {"Tapaus", "Ärende", "Incident"},
    [T_NOT_FOUND] = {"Sivua ei löydy", "Sidan finns inte", "No such page"},
    [T_FORBIDDEN] = {"Ei oikeutta tähän sivuun", "Ingen behörighet till sidan",
		     "You may not open this page"},
    [T_CSRF] = {"Lomake vanhentui tai ei ole tältä sivustolta. Yritä uudelleen.",
		"Formuläret har gått ut eller kommer inte härifrån. Försök igen.",
		"The form expired or did not come from this site. Try again."},
    [T_RINKID_DOWN] = {"rinkid ei vastaa", "rinkid svarar inte", "rinkid does not answer"},
    [T_RADIO] = {"Radio", "Radio", "Radio"},
    [T_MODEM] = {"Modeemi", "Modem", "Modem"},
    [T_BOARD] = {"I/O-kortti", "I/O-kort", "I/O board"},
    [T_DATABASE] = {"Tietokanta", "Databas", "Database"},
    [T_COUNTERS] = {"Laskurit", "Räknare", "Counters"},
    [T_CALLS] = {"Puhelut", "Samtal", "Calls"},
    [T_ANSWERED] = {"Vastatut", "Besvarade", "Answered"},
    [T_UNANSWERED] = {"Vastaamatta", "Obesvarade", "Unanswered"},
    [T_ESCALATED] = {"Eskaloituneet", "Eskalerade", "Escalated"},
    [T_WITHIN60] = {"Vastattu 60 s:ssa", "Besvarade inom 60 s", "Answered within 60 s"},
    [T_COVERAGE] = {"Kattavuus 14 pv", "Täckning 14 d", "Coverage, 14 days"},
    [T_GAP_HOURS] = {"Aukkoja (h)", "Luckor (h)", "Gaps (h)"},
    [T_LAST30] = {"Viimeiset 30 päivää", "De senaste 30 dagarna", "The last 30 days"},
    [T_PASSWORD_CHANGE] = {"Vaihda salasana", "Byt lösenord", "Change password"},
    [T_OLD_PW] = {"Nykyinen salasana", "Nuvarande lösenord", "Current password"},
    [T_NEW_PW] = {"Uusi salasana (10–128 merkkiä)", "Nytt lösenord (10–128 tecken)",
		  "New password (10-128 characters)"},
    [T_SAVE] = {"Tallenna", "Spara", "Save"},
    [T_PW_CHANGED] = {"Salasana vaihdettu.", "Lösenordet har bytts.", "Password changed."},
    [T_PW_BAD] = {"Nykyinen salasana on väärä tai uusi ei kelpaa.",
		  "Nuvarande lösenord är fel eller det nya duger inte.",
		  "The current password is wrong or the new one is not acceptable."},
    [T_PHONE] = {"Puhelin", "Telefon", "Phone"},
    [T_DB_ERROR] = {"Tietokantaa ei voi lukea", "Databasen kan inte läsas",
		    "Cannot read the database"},
    [T_ROSTER_EMPTY] = {"Vuorolista on tyhjä", "Jourlistan är tom", "The roster is empty"},
    [T_TEMP] = {"väliaikainen vuorolista", "tillfällig jourlista", "temporary roster"},
    [T_OPEN] = {"käynnissä", "pågår", "open"},
    [T_SHOWN_MAX] = {"Näytetään uusimmat 500.", "De 500 senaste visas.",
		     "The newest 500 are shown."},
    [T_ON_DUTY] = {"Päivystää", "I jour", "On duty"},
    [T_UNTIL] = {"asti", "till", "until"},
    [T_NONE] = {"ei mitään", "inget", "none"},
    [T_BAD_INPUT] = {"Virheellinen haku", "Felaktig sökning", "Bad search"},
    [T_INCIDENT_LIVE] = {"Käynnissä oleva tapaus", "Pågående ärende", "Live incident"},
    [T_N_EVENTS] = {"tapahtumaa", "händelser", "events"},
    [T_N_INCIDENTS] = {"tapausta", "ärenden", "incidents"},
    [T_HEAD] = {"ketjun pää", "kedjans huvud", "head"},
    [T_TIME] = {"Aika", "Tid", "Time"},
    [T_SINCE_START] = {"s alusta", "s från start", "s from start"},
    [T_EVENT] = {"Tapahtuma", "Händelse", "Event"},
    [T_DETAIL] = {"Tiedot", "Uppgifter", "Details"},
    [T_REPORT] = {"Raportti", "Rapport", "Report"},
    [T_MONTH] = {"Kuukausi", "Månad", "Month"},
    [T_SHOW] = {"Näytä", "Visa", "Show"},
    [T_CSV] = {"Lataa CSV", "Ladda ner CSV", "Download CSV"},
    [T_PER_DAY] = {"Puhelut päivittäin", "Samtal per dag", "Calls per day"},
    [T_HEATMAP] = {"Puhelut viikonpäivän ja tunnin mukaan", "Samtal per veckodag och timme",
		   "Calls by weekday and hour"},
    [T_ACCEPT_DIST] = {"Vastaamiseen kulunut aika", "Tid till svar", "Time to accept"},
    [T_WHO_TOOK] = {"Kuka vastasi", "Vem svarade", "Who took the call"},
    [T_BY_FIRST] = {"ensimmäinen", "den första", "first worker"},
    [T_BY_LATER] = {"myöhempi vaihe", "ett senare steg", "a later step"},
    [T_BY_FALLBACK] = {"varahenkilö", "reserven", "fallback"},
    [T_BY_NOBODY] = {"ei kukaan", "ingen", "nobody"},
    [T_CHECK_OK] = {"Tarkistus: jokainen tapaus laskettu kerran",
		    "Kontroll: varje ärende räknat en gång", "Check: every incident counted once"},
    [T_CHECK_BAD] = {"Tarkistus EI täsmää", "Kontrollen stämmer INTE", "Check does NOT add up"},
    [T_TOTAL] = {"Yhteensä", "Totalt", "Total"},
    [T_ACCEPT_P50] = {"Vastausaika, mediaani", "Tid till svar, median", "Time to accept, p50"},
    [T_ACCEPT_P90] = {"Vastausaika, 90 %", "Tid till svar, 90 %", "Time to accept, p90"},
    [T_TEXTS] = {"Tekstiviestit", "Textmeddelanden", "Texts"},
    [T_STATUSES] = {"Tilaviestit", "Statusmeddelanden", "Statuses"},
    [T_PER_LINE] = {"Linjoittain", "Per linje", "Per line"},
    [T_NO_CALLS] = {"Ei puheluita", "Inga samtal", "No calls"},
    [T_ROSTER] = {"Vuorolista", "Jourlista", "Roster"},
    [T_UPLOAD] = {"Lataa vuorolista", "Ladda upp jourlistan", "Upload the roster"},
    [T_CSV_FILE] = {"CSV-tiedosto", "CSV-fil", "CSV file"},
    [T_REPLACE_MANUAL] = {"korvaa käsin tehdyt muutokset", "ersätt manuella ändringar",
			  "replace manual changes"},
    [T_PREVIEW] = {"Esikatsele", "Förhandsgranska", "Preview"},
    [T_DOWNLOAD] = {"Lataa vuorolista CSV:nä", "Ladda ner jourlistan som CSV",
		    "Download the roster as CSV"},
    [T_OVERRIDES] = {"Poikkeukset", "Undantag", "Overrides"},
    [T_KIND] = {"Laji", "Typ", "Kind"},
    [T_WORKER] = {"Työntekijä", "Arbetstagare", "Worker"},
    [T_REMOVE] = {"Poista", "Ta bort", "Remove"},
    [T_OVERRIDE_ADD] = {"Lisää poikkeus", "Lägg till undantag", "Add an override"},
    [T_REASON] = {"Syy", "Orsak", "Reason"},
    [T_NEXT] = {"Jatka", "Fortsätt", "Next"},
    [T_WORKERS] = {"Työntekijät", "Arbetstagare", "Workers"},
    [T_LANGUAGE] = {"Kieli", "Språk", "Language"},
    [T_DISABLED] = {"pois käytöstä", "inaktiv", "disabled"},
    [T_PIN_RESET] = {"nollaa PIN", "nollställ PIN", "reset the PIN"},
    [T_REFUSED] = {"rinkid ei hyväksynyt muutosta", "rinkid godtog inte ändringen",
		   "rinkid refused the change"},
    [T_DONE] = {"Tehty", "Klart", "Done"},
    [T_CHANGES] = {"Mikä muuttuu", "Vad ändras", "What changes"},
    [T_NOW_STORED] = {"nyt", "nu", "now"},
    [T_IN_FILE] = {"tiedostossa", "i filen", "in the file"},
    [T_MANUAL] = {"Käsin tehdyt muutokset", "Manuella ändringar", "Manual changes"},
    [T_ERRORS] = {"virhettä", "fel", "errors"},
    [T_ROW] = {"Rivi", "Rad", "Row"},
    [T_ROWS] = {"riviä", "rader", "rows"},
    [T_CONFLICTS] = {"ristiriitaa", "konflikter", "conflicts"},
    [T_APPLY] = {"Ota käyttöön", "Verkställ", "Apply"},
    [T_CANCEL] = {"Peruuta", "Avbryt", "Cancel"},
    [T_EXPIRED] = {"Esikatselu vanheni. Lataa tiedosto uudelleen.",
		   "Förhandsgranskningen gick ut. Ladda upp filen igen.",
		   "The preview expired. Upload the file again."},
    [T_CONFIRM] = {"Vahvista", "Bekräfta", "Confirm"},
    [T_CONFIRM_OVERRIDE] = {"Vahvista poikkeus", "Bekräfta undantaget", "Confirm the override"},
    [T_CONFIRM_REMOVE] = {"Vahvista poikkeuksen poisto", "Bekräfta borttagningen av undantag",
			  "Confirm removing override"},
    [T_KIND_ADD] = {"päivystää myös", "har också jour", "is also on duty"},
    [T_KIND_REPLACE] = {"tilalle tulee", "ersätts av", "is replaced by"},
    [T_KIND_REMOVE] = {"ei päivystä", "har inte jour", "is off duty"},
    [T_BY_WORKER] = {"Tilalle", "Ersättare", "Replaced by"},
    [T_WORKER_FILE] = {"Kieli ja puhelinnumero muuttuvat vuorolistatiedostolla.",
		       "Språk och telefonnummer ändras med jourlistfilen.",
		       "Language and phone number change with the roster file."},
    [T_ERRORS_HEAD] = {"Virheet riveittäin", "Fel per rad", "Errors by row"},
    [T_PER_MUNI] = {"Puhelut kunnittain", "Samtal per kommun", "Calls per municipality"},
    [T_MEMBER_MUNI] = {"jäsenkunta", "medlemskommun", "member municipality"},
    [T_CONTRACT_MUNI] = {"sopimuskunta", "avtalskommun", "contract municipality"},
    [T_NO_MUNI] = {"ei kuntaa", "ingen kommun", "no municipality"},
};

const char *web_t(enum web_lang lang, enum web_str s)
{
	if ((unsigned)s >= T_COUNT)
		return "?";
	if ((unsigned)lang >= WEB_LANG_COUNT)
		lang = WEB_LANG_FI;
	return cat[s][lang] ? cat[s][lang] : "?";
}

static const char *const codes[WEB_LANG_COUNT] = {"fi", "sv", "en"};

enum web_lang web_lang_parse(const char *code)
{
	for (int i = 0; i < WEB_LANG_COUNT; i++)
		if (code && strcmp(code, codes[i]) == 0)
			return (enum web_lang)i;
	return WEB_LANG_FI;
}

const char *web_lang_code(enum web_lang lang)
{
	return (unsigned)lang < WEB_LANG_COUNT ? codes[lang] : "fi";
}

enum web_lang web_lang_accept(const char *h)
{
	if (!h)
		return WEB_LANG_FI;
	for (const char *p = h; *p;) {
		while (*p == ' ' || *p == ',')
			p++;
		for (int i = 0; i < WEB_LANG_COUNT; i++)
			if (strncmp(p, codes[i], 2) == 0 && (p[2] == '\0' || strchr(",;- ", p[2])))
				return (enum web_lang)i;
		p = strchr(p, ',');
		if (!p)
			break;
	}
	return WEB_LANG_FI;
}
