/*
 * roster_time: the roster's local time (roster.timezone, Europe/Helsinki unless set; see
 * roster.c's opening comment), dates and times as the roster CSV writes them, and their
 * formatting. The zone comes from the system tz database (core/tz.c), loaded once by
 * gw_roster_set_timezone before any lookup; until then, or when the tz database has no
 * Europe/Helsinki, Helsinki time by the EU summer-time rule. No I/O and no allocation
 * per call.
 */
#include "store/roster_priv.h"

#include "core/tz.h"

/* ---- time ---------------------------------------------------------------------------- */

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
static int64_t days_from_civil(int y, int m, int d)
{
	y -= m <= 2;
	int era = (y >= 0 ? y : y - 399) / 400;
	int yoe = y - era * 400;
	int doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return (int64_t)era * 146097 + doe - 719468;
}

/* The date of a day number (H. Hinnant's civil_from_days). */
static void civil_from_days(int64_t z, int *y, int *m, int *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yoe + era * 400 + (*m <= 2));
}

static int days_in_month(int y, int m)
{
	static const int dm[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return m == 2 && leap ? 29 : dm[m - 1];
}

/* Day of the week of a day number: 0 Monday .. 6 Sunday (1970-01-01 was a Thursday). */
int roster_weekday(int64_t day)
{
	return (int)(((day % 7) + 7 + 3) % 7);
}

int64_t roster_floor_div(int64_t a, int64_t b)
{
	return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

/* UTC ms of an EU summer-time switch: the last Sunday of month m at 01:00 UTC. */
static int64_t eu_switch_ms(int y, int m)
{
	int64_t last = days_from_civil(y, m, days_in_month(y, m));
	last -= (roster_weekday(last) + 1) % 7;
	return (last * 86400 + 3600) * 1000;
}

/* Europe/Helsinki's offset from UTC at t_ms, in minutes (120 or 180). */
static int helsinki_offset_min(int64_t t_ms)
{
	int y, m, d;

	civil_from_days(roster_floor_div(t_ms, DAY_MS), &y, &m, &d);
	return t_ms >= eu_switch_ms(y, 3) && t_ms < eu_switch_ms(y, 10) ? 180 : 120;
}

/* The zone of roster.timezone; NULL: the EU rule above (Europe/Helsinki). */
static struct gw_tz *zone;
static char zone_name[GW_TZ_NAME_MAX] = "Europe/Helsinki";

int gw_roster_set_timezone(const char *name, char *why, size_t len)
{
	struct gw_tz *tz = NULL;
	int rc;

	if (name && (rc = gw_tz_load(NULL, name, &tz, why, len)) < 0)
		return rc;
	gw_tz_free(zone);
	zone = tz;
	snprintf(zone_name, sizeof(zone_name), "%s", name ? name : "Europe/Helsinki");
	return 0;
}

const char *gw_roster_timezone(bool *from_tzdb)
{
	if (from_tzdb)
		*from_tzdb = zone != NULL;
	return zone_name;
}

/* What is in effect at t_ms: offset east of UTC in seconds, abbreviation, summer time. */
static int32_t zone_at(int64_t t_ms, const char **abbr, bool *dst)
{
	struct gw_tz_info in;

	if (!zone) {
		int off = helsinki_offset_min(t_ms);
		if (abbr)
			*abbr = off == 180 ? "EEST" : "EET";
		if (dst)
			*dst = off == 180;
		return off * 60;
	}
	gw_tz_at(zone, roster_floor_div(t_ms, 1000), &in);
	if (abbr)
		*abbr = in.abbr;
	if (dst)
		*dst = in.dst;
	return in.off_s;
}

const char *gw_roster_zone_abbr(int64_t t_ms)
{
	const char *abbr;
	zone_at(t_ms, &abbr, NULL);
	return abbr;
}

static int64_t off_ms(int64_t t_ms)
{
	return (int64_t)zone_at(t_ms, NULL, NULL) * 1000;
}

int gw_roster_utc_offset_min(int64_t t_ms)
{
	return (int)(off_ms(t_ms) / 60000);
}

/*
 * UTC ms of a Helsinki wall-clock time: ms_of_day after local midnight of day number day.
 * The two written rules for the clock changes (last Sundays of March and October, the
 * hour 03:00-03:59 local):
 *  - spring gap: a time inside the hour that does not exist moves to its end, 04:00
 *    summer time (01:00 UTC): a shift edge in the gap is where the gap ends;
 *  - autumn overlap: the hour that happens twice is split by elapsed time: 03:00 + x
 *    (0 <= x < 60 min) is 2x after the first 03:00 (00:00 UTC). The repeated hour's two
 *    elapsed hours are shared in proportion, so 03:00 is the first 03:00, 03:30 is the
 *    second 03:00 (01:00 UTC), and the mapping keeps its order and has no holes.
 */
static int64_t eu_local_to_utc_ms(int64_t local)
{
	int64_t summer = local - 180 * 60000, winter = local - 120 * 60000;
	bool s_ok = helsinki_offset_min(summer) == 180, w_ok = helsinki_offset_min(winter) == 120;
	int y, m, d;

	if (s_ok != w_ok)
		return s_ok ? summer : winter;
	civil_from_days(roster_floor_div(summer, DAY_MS), &y, &m, &d);
	if (!s_ok) /* spring gap: its end is the switch instant */
		return eu_switch_ms(y, 3);
	int64_t first = eu_switch_ms(y, 10) - 3600000; /* the first 03:00, in UTC */
	return first + 2 * (summer - first);
}

int64_t roster_local_to_utc_ms(int64_t day, int64_t ms_of_day)
{
	int64_t local = day * DAY_MS + ms_of_day;
	int64_t cur = local - 26 * 3600000LL; /* no offset is 26 h or more (RFC 8536) */
	int64_t o = off_ms(cur), ch;

	if (!zone)
		return eu_local_to_utc_ms(local);
	/* Walk the zone's changes from before the earliest instant local can be: the first
	   change after the candidate with the offset so far decides (gap or overlap). */
	for (int i = 0; i < 16; i++) {
		if (!gw_tz_next_change(zone, roster_floor_div(cur, 1000), 53 * 3600, &ch))
			return local - o;
		int64_t c = ch * 1000, o_a = off_ms(c);
		if (local - o < c) {		/* local happens before the change */
			if (local - o_a >= c) { /* and after it: the repeated wall time */
				int64_t first = c - (o - o_a); /* the repeated span's first start */
				return first + 2 * (local - o - first);
			}
			return local - o;
		}
		if (local - o_a < c) /* in neither: the gap; its end is the change */
			return c;
		cur = c;
		o = o_a;
	}
	return local - o;
}

int64_t roster_local_to_utc(int64_t day, int min)
{
	return roster_local_to_utc_ms(day, (int64_t)min * 60000);
}

int64_t gw_roster_local_to_utc(int y, int m, int d, int minute)
{
	return roster_local_to_utc(days_from_civil(y, m, d), minute);
}

/* Local day number and minute of the day of t_ms. */
int64_t roster_utc_to_local_day(int64_t t_ms, int *min)
{
	int64_t local = t_ms + off_ms(t_ms);
	int64_t day = roster_floor_div(local, DAY_MS);
	if (min)
		*min = (int)((local - day * DAY_MS) / 60000);
	return day;
}

/* ---- Finnish public holidays ------------------------------------------------------- */

/* Day number of Easter Sunday of year y (Gregorian; the anonymous Meeus/Jones/Butcher rule). */
static int64_t easter_day(int y)
{
	int a = y % 19, b = y / 100, c = y % 100, d = b / 4, e = b % 4;
	int f = (b + 8) / 25, g = (b - f + 1) / 3, h = (19 * a + b - d - g + 15) % 30;
	int i = c / 4, k = c % 4, l = (32 + 2 * e + 2 * i - h - k) % 7;
	int m = (a + 11 * h + 22 * l) / 451;
	int month = (h + l - 7 * m + 114) / 31, day = (h + l - 7 * m + 114) % 31 + 1;
	return days_from_civil(y, month, day);
}

/*
 * The Finnish public holidays and the two eves that are kept as holidays (Midsummer Eve,
 * Christmas Eve), by the Finnish names: fixed dates, Easter-based ones and the three
 * that fall on the weekday of a date range (Midsummer Eve: the Friday of 19-25 June,
 * Midsummer Day the Saturday after, All Saints' Day the Saturday of 31 October-6 November).
 */
const char *roster_fi_holiday(int64_t day)
{
	static const struct {
		int m, d;
		const char *name;
	} fixed[] = {{1, 1, "Uudenvuodenpäivä"},  {1, 6, "Loppiainen"},	  {5, 1, "Vappu"},
		     {12, 6, "Itsenäisyyspäivä"}, {12, 24, "Jouluaatto"}, {12, 25, "Joulupäivä"},
		     {12, 26, "Tapaninpäivä"}};
	static const struct {
		int off;
		const char *name;
	} easter[] = {{-2, "Pitkäperjantai"},
		      {0, "Pääsiäispäivä"},
		      {1, "2. pääsiäispäivä"},
		      {39, "Helatorstai"},
		      {49, "Helluntaipäivä"}};
	int y, m, d, wd = roster_weekday(day);
	int64_t e;

	civil_from_days(day, &y, &m, &d);
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		if (fixed[i].m == m && fixed[i].d == d)
			return fixed[i].name;
	e = easter_day(y);
	for (size_t i = 0; i < sizeof(easter) / sizeof(easter[0]); i++)
		if (day == e + easter[i].off)
			return easter[i].name;
	if (m == 6 && wd == 4 && d >= 19 && d <= 25)
		return "Juhannusaatto";
	if (m == 6 && wd == 5 && d >= 20 && d <= 26)
		return "Juhannuspäivä";
	if (wd == 5 && ((m == 10 && d == 31) || (m == 11 && d <= 6)))
		return "Pyhäinpäivä";
	return NULL;
}

void roster_format_date(int64_t day, char *buf, size_t len)
{
	int y, m, d;

	civil_from_days(day, &y, &m, &d);
	snprintf(buf, len, "%04d-%02d-%02d", y, m, d);
}

const char *gw_roster_fi_holiday(int y, int m, int d)
{
	if (y < 1970 || y > 9999 || m < 1 || m > 12 || d < 1 || d > days_in_month(y, m))
		return NULL;
	return roster_fi_holiday(days_from_civil(y, m, d));
}

/* Read exactly n digits at *p into *v and advance. */
bool roster_digits(const char **p, int n, int *v)
{
	*v = 0;
	for (int i = 0; i < n; i++) {
		char ch = (*p)[i];
		if (ch < '0' || ch > '9')
			return false;
		*v = *v * 10 + (ch - '0');
	}
	*p += n;
	return true;
}

/* "YYYY-MM-DD" (a real date, 1970..9999) to its day number. */
bool roster_parse_date(const char *s, int64_t *day)
{
	int y, m, d;
	const char *p = s;

	if (!s || !roster_digits(&p, 4, &y) || *p++ != '-' || !roster_digits(&p, 2, &m) ||
	    *p++ != '-' || !roster_digits(&p, 2, &d) || *p)
		return false;
	if (y < 1970 || m < 1 || m > 12 || d < 1 || d > days_in_month(y, m))
		return false;
	*day = days_from_civil(y, m, d);
	return true;
}

/* "HH:MM" (00:00..23:59) to minutes after midnight. */
bool roster_parse_hhmm(const char *s, int *min)
{
	int h, m;
	const char *p = s;

	if (!roster_digits(&p, 2, &h) || *p++ != ':' || !roster_digits(&p, 2, &m) || *p || h > 23 ||
	    m > 59)
		return false;
	*min = h * 60 + m;
	return true;
}

/* An ISO 8601 time's fields; has_off false when it names no zone (a local time). */
struct iso_time {
	int y, mo, d, h, mi, sec, frac;
	bool has_off;
	int off_min; /* east of UTC */
};

static int parse_iso(const char *s, struct iso_time *t)
{
	int oh = 0, om = 0, sign = 1;
	const char *p = s;

	memset(t, 0, sizeof(*t));
	if (!roster_digits(&p, 4, &t->y) || *p++ != '-' || !roster_digits(&p, 2, &t->mo) ||
	    *p++ != '-' || !roster_digits(&p, 2, &t->d) || *p++ != 'T' ||
	    !roster_digits(&p, 2, &t->h) || *p++ != ':' || !roster_digits(&p, 2, &t->mi))
		return -EINVAL;
	if (*p == ':') {
		p++;
		if (!roster_digits(&p, 2, &t->sec))
			return -EINVAL;
		if (*p == '.') {
			int n = 0;
			p++;
			for (; *p >= '0' && *p <= '9'; p++, n++)
				if (n < 3)
					t->frac = t->frac * 10 + (*p - '0');
			if (n == 0 || n > 9)
				return -EINVAL;
			for (; n < 3; n++)
				t->frac *= 10;
		}
	}
	if (*p == 'Z') {
		p++;
		t->has_off = true;
	} else if (*p == '+' || *p == '-') {
		sign = *p++ == '-' ? -1 : 1;
		if (!roster_digits(&p, 2, &oh))
			return -EINVAL;
		if (*p == ':')
			p++;
		if ((p[-1] == ':' || *p) && !roster_digits(&p, 2, &om))
			return -EINVAL;
		if (oh > 14 || om > 59 || (oh == 14 && om > 0))
			return -EINVAL;
		t->has_off = true;
		t->off_min = sign * (oh * 60 + om);
	}
	if (*p)
		return -EINVAL;
	if (t->y < 1970 || t->mo < 1 || t->mo > 12 || t->d < 1 ||
	    t->d > days_in_month(t->y, t->mo) || t->h > 23 || t->mi > 59 || t->sec > 59)
		return -EINVAL;
	return 0;
}

int gw_roster_parse_time(const char *s, int64_t *ms)
{
	struct iso_time t;

	if (parse_iso(s, &t) < 0 || !t.has_off)
		return -EINVAL;
	int64_t sec = days_from_civil(t.y, t.mo, t.d) * 86400 + t.h * 3600 + t.mi * 60 + t.sec;
	*ms = (sec - (int64_t)t.off_min * 60) * 1000 + t.frac;
	return 0;
}

/* "+03:00" for an offset in minutes (|off_min| < 15 h). */
static void format_offset(int off_min, char *buf, size_t len)
{
	unsigned a = (unsigned)(off_min < 0 ? -off_min : off_min) % (15 * 60);
	snprintf(buf, len, "%c%02u:%02u", off_min < 0 ? '-' : '+', a / 60 % 15, a % 60);
}

int gw_roster_parse_local_time(const char *s, int64_t *ms, char *why, size_t len)
{
	struct iso_time t;
	char given[16], zoff[16];

	if (parse_iso(s, &t) < 0)
		return roster_bad(why, len, "bad time '%s' (want e.g. 2026-01-01T08:00, local)", s);
	if (!t.has_off) {
		int64_t in_day = ((int64_t)t.h * 3600 + t.mi * 60 + t.sec) * 1000 + t.frac;
		*ms = roster_local_to_utc_ms(days_from_civil(t.y, t.mo, t.d), in_day);
		return 0;
	}
	gw_roster_parse_time(s, ms);
	if (t.off_min == 0) /* UTC: no claim about the wall clock */
		return 0;
	bool dst, dst_b, dst_a;
	int off = zone_at(*ms, NULL, &dst) / 60;
	if (off == t.off_min)
		return 0;
	/* the zone's offsets half a year before and after: is the given one of them? */
	int before = zone_at(*ms - 182 * DAY_MS, NULL, &dst_b) / 60;
	int after = zone_at(*ms + 182 * DAY_MS, NULL, &dst_a) / 60;
	bool other = (t.off_min == before && dst_b != dst) || (t.off_min == after && dst_a != dst);
	format_offset(t.off_min, given, sizeof(given));
	format_offset(off, zoff, sizeof(zoff));
	roster_bad(why, len,
		   "time '%s': %s is not %s's offset then (%s, %s time)%s; write "
		   "the local time without an offset",
		   s, given, zone_name, zoff, dst ? "summer" : "winter",
		   other ? (dst ? ": a winter offset on a summer date, or a time in the "
				  "spring gap"
				: ": a summer offset on a winter date")
			 : "");
	return -ERANGE;
}

/* Local ISO 8601 with the zone's offset, as the CSV export writes it. */
void roster_format_local(int64_t ms, char *buf, size_t len)
{
	int off = gw_roster_utc_offset_min(ms);
	int64_t local = ms + off_ms(ms);
	int64_t day = roster_floor_div(local, DAY_MS), rest = local - day * DAY_MS;
	int y, m, d, sec = (int)(rest / 1000 % 60), frac = (int)(rest % 1000);
	char o[16];
	int n;

	civil_from_days(day, &y, &m, &d);
	if (y > 9999) { /* past what a 4-digit year says in local time: UTC it is */
		roster_format_utc(ms, buf, len);
		return;
	}
	format_offset(off, o, sizeof(o));
	n = snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d", y, m, d, (int)(rest / 3600000),
		     (int)(rest / 60000 % 60));
	if (n > 0 && (size_t)n < len && (sec || frac))
		n += snprintf(buf + n, len - (size_t)n, ":%02d", sec);
	if (n > 0 && (size_t)n < len && frac)
		n += snprintf(buf + n, len - (size_t)n, ".%03d", frac);
	if (n > 0 && (size_t)n < len)
		snprintf(buf + n, len - (size_t)n, "%s", o);
}

/* UTC ISO 8601 as the CSV export writes it: minutes, seconds and ms only when needed. */
void roster_format_utc(int64_t ms, char *buf, size_t len)
{
	int64_t day = roster_floor_div(ms, DAY_MS), rest = ms - day * DAY_MS;
	int y, m, d, sec = (int)(rest / 1000 % 60), frac = (int)(rest % 1000);
	int n;

	civil_from_days(day, &y, &m, &d);
	n = snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d", y, m, d, (int)(rest / 3600000),
		     (int)(rest / 60000 % 60));
	if (n > 0 && (size_t)n < len && (sec || frac))
		n += snprintf(buf + n, len - (size_t)n, ":%02d", sec);
	if (n > 0 && (size_t)n < len && frac)
		n += snprintf(buf + n, len - (size_t)n, ".%03d", frac);
	if (n > 0 && (size_t)n < len)
		snprintf(buf + n, len - (size_t)n, "Z");
}

void gw_roster_format_time(int64_t t_ms, char *buf, size_t len)
{
	roster_format_local(t_ms, buf, len);
}

void gw_roster_format_clock(int64_t t_ms, enum gw_clock_prec prec, char *buf, size_t len)
{
	const char *abbr = "UTC";
	int64_t ms = t_ms + (t_ms >= 0 ? (int64_t)zone_at(t_ms, &abbr, NULL) * 1000 : 0);
	int64_t day = roster_floor_div(ms, DAY_MS), rest = ms - day * DAY_MS;
	int y, m, d, n;

	civil_from_days(day, &y, &m, &d);
	if (t_ms < 0 || y > 9999) {
		snprintf(buf, len, "@%lld", (long long)t_ms);
		return;
	}
	n = snprintf(buf, len, "%04d-%02d-%02d %02d:%02d", y, m, d, (int)(rest / 3600000),
		     (int)(rest / 60000 % 60));
	if (n > 0 && (size_t)n < len && prec != GW_CLOCK_MIN)
		n += snprintf(buf + n, len - (size_t)n, ":%02d", (int)(rest / 1000 % 60));
	if (n > 0 && (size_t)n < len && prec == GW_CLOCK_MS)
		n += snprintf(buf + n, len - (size_t)n, ".%03d", (int)(rest % 1000));
	if (n > 0 && (size_t)n < len)
		snprintf(buf + n, len - (size_t)n, " %s", abbr);
}

int gw_roster_parse_when(const char *s, bool end_of_day, int64_t *ms)
{
	int y, mo, d, n = -1;
	char why[240], iso[32];
	int64_t probe;

	if (gw_roster_parse_local_time(s, ms, why, sizeof(why)) == 0)
		return 0;
	if (sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3 || n != 10 || s[n] != '\0')
		return -EINVAL;
	/* Validate through the ISO parser (rejects 2026-02-30 and the like). */
	snprintf(iso, sizeof(iso), "%.10sT00:00Z", s);
	if (gw_roster_parse_time(iso, &probe) < 0)
		return -EINVAL;
	/* The next local midnight is d + 1 (the date arithmetic carries into the month). */
	*ms = gw_roster_local_to_utc(y, mo, end_of_day ? d + 1 : d, 0);
	return 0;
}
