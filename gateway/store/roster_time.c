/*
 * roster_time: Helsinki local time by the EU summer-time rule (see roster.c's opening
 * comment for why not the C library's TZ database), dates and times as the roster CSV
 * writes them, and their formatting. Pure functions: no I/O, no state.
 */
#include "store/roster_priv.h"

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

int gw_roster_utc_offset_min(int64_t t_ms)
{
	return helsinki_offset_min(t_ms);
}

/*
 * UTC ms of local (Helsinki) minute min of day number day. A local time that occurs
 * twice (autumn, 03:00-03:59) is its first occurrence; one that does not exist (spring,
 * 03:00-03:59) is read with the winter offset, i.e. an hour later on the clock.
 */
int64_t roster_local_to_utc(int64_t day, int min)
{
	int64_t local = day * DAY_MS + (int64_t)min * 60000;
	int64_t summer = local - 180 * 60000, winter = local - 120 * 60000;

	if (helsinki_offset_min(summer) == 180)
		return summer;
	return winter;
}

int64_t gw_roster_local_to_utc(int y, int m, int d, int minute)
{
	return roster_local_to_utc(days_from_civil(y, m, d), minute);
}

/* Local day number and minute of the day of t_ms. */
int64_t roster_utc_to_local_day(int64_t t_ms, int *min)
{
	int64_t local = t_ms + (int64_t)helsinki_offset_min(t_ms) * 60000;
	int64_t day = roster_floor_div(local, DAY_MS);
	if (min)
		*min = (int)((local - day * DAY_MS) / 60000);
	return day;
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

int gw_roster_parse_time(const char *s, int64_t *ms)
{
	int y, mo, d, h, mi, sec = 0, frac = 0, oh = 0, om = 0, sign = 1;
	const char *p = s;

	if (!roster_digits(&p, 4, &y) || *p++ != '-' || !roster_digits(&p, 2, &mo) || *p++ != '-' ||
	    !roster_digits(&p, 2, &d) || *p++ != 'T' || !roster_digits(&p, 2, &h) || *p++ != ':' ||
	    !roster_digits(&p, 2, &mi))
		return -EINVAL;
	if (*p == ':') {
		p++;
		if (!roster_digits(&p, 2, &sec))
			return -EINVAL;
		if (*p == '.') {
			int n = 0;
			p++;
			for (; *p >= '0' && *p <= '9'; p++, n++)
				if (n < 3)
					frac = frac * 10 + (*p - '0');
			if (n == 0 || n > 9)
				return -EINVAL;
			for (; n < 3; n++)
				frac *= 10;
		}
	}
	if (*p == 'Z') {
		p++;
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
	} else {
		return -EINVAL;
	}
	if (*p)
		return -EINVAL;
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 ||
	    mi > 59 || sec > 59)
		return -EINVAL;
	int64_t t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
	t -= sign * (oh * 3600 + om * 60);
	*ms = t * 1000 + frac;
	return 0;
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
