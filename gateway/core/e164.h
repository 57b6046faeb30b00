/*
 * e164: the one phone-number comparison of rinki. A number is an identity (the worker an
 * SMS accept or a call-back PIN belongs to), so two numbers are the same only when their
 * full E.164 forms are equal; there is no suffix matching.
 *
 * The rule (gw_e164_canon): "+" and 3-15 digits is E.164 as written. Written the way
 * numbers are dialled in Finland, where the gateway's SIM is at home, "00" and digits is
 * "+" and those digits, and "0" and digits (national, trunk prefix 0) is "+358" and the
 * digits after the 0. That is how a roster number written "0401234567" meets the
 * network's "+358401234567"; the network gives a number in national form (TON unknown or
 * national) only for a Finnish subscriber, so the rule holds for either side. Anything
 * else (no prefix, letters, blanks, an alphanumeric SMS sender, too short or long) is no
 * number and is the same as nothing, not even itself.
 */
#ifndef GW_E164_H
#define GW_E164_H

#include <stdbool.h>
#include <stddef.h>

#define GW_E164_MAX 17 /* "+", 15 digits, NUL */

/*
 * Write the E.164 form of number (the rule above) into out (GW_E164_MAX bytes).
 * Returns the length, or -EINVAL when number is not a phone number (out is then "").
 */
int gw_e164_canon(const char *number, char out[GW_E164_MAX]);

/* True when a and b are both phone numbers with the same E.164 form. NULL is no number. */
bool gw_e164_same(const char *a, const char *b);

#endif
