/*
 * e164: phone numbers to their E.164 form and the comparison every module uses (the rule
 * is in e164.h). Pure: no I/O, no state.
 */
#include "core/e164.h"

#include <errno.h>
#include <string.h>

#define FI_CC "358"

/* True when s is n >= 1 ASCII digits and nothing else. */
static bool all_digits(const char *s, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

int gw_e164_canon(const char *number, char out[GW_E164_MAX])
{
	const char *cc = "", *rest;

	out[0] = '\0';
	if (!number)
		return -EINVAL;
	if (number[0] == '+')
		rest = number + 1;
	else if (number[0] == '0' && number[1] == '0')
		rest = number + 2;
	else if (number[0] == '0') {
		cc = FI_CC;
		rest = number + 1;
	} else
		return -EINVAL;
	size_t n = strlen(rest), len = strlen(cc) + n;
	/* E.164: a country code never starts with 0; 3..15 digits in all */
	if (!all_digits(rest, n) || rest[0] == '0' || len < 3 || len > 15)
		return -EINVAL;
	out[0] = '+';
	memcpy(out + 1, cc, strlen(cc));
	memcpy(out + 1 + strlen(cc), rest, n + 1);
	return (int)len + 1;
}

bool gw_e164_same(const char *a, const char *b)
{
	char x[GW_E164_MAX], y[GW_E164_MAX];

	return gw_e164_canon(a, x) > 0 && gw_e164_canon(b, y) > 0 && strcmp(x, y) == 0;
}
