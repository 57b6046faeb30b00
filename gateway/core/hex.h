/*
 * hex.h: one hex digit's value, for the codecs (sds, sms) and the simulators, which all
 * read PDUs written as hex. Header-only: no module needs more than this.
 */
#ifndef GW_HEX_H
#define GW_HEX_H

/* The value 0..15 of the hex digit c (either case), or -1 when c is not one. */
static inline int gw_hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

#endif
