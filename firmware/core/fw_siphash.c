/*
 * SipHash-2-4 after the reference implementation (public domain, github.com/veorq/SipHash),
 * written small for the 4 KiB bootloader: every 64-bit word is a pair of 32-bit halves (low,
 * high), a SipRound is four steps of one form run from a table, and the message goes through
 * one byte loop; byte-wise little-endian loads, no unaligned access.
 */
#include "fw_siphash.h"

/*
 * SipRound: four steps a += b; b = rotl(b, r) ^ a; and for two of them a = rotl(a, 32) (bit 7
 * of r). The entries: index of a, index of b, r.
 */
static const uint8_t steps[4][3] = {{0, 1, 13 | 0x80}, {2, 3, 16}, {0, 3, 21}, {2, 1, 17 | 0x80}};

/* v: v0..v3 as low, high pairs. */
static void rounds(uint32_t v[8], int n)
{
	while (n--)
		for (unsigned i = 0; i < 4; i++) {
			uint32_t *a = &v[2 * steps[i][0]], *b = &v[2 * steps[i][1]];
			unsigned r = steps[i][2] & 0x7Fu;
			uint32_t lo = a[0] + b[0], bl = b[0], bh = b[1];

			a[1] += b[1] + (lo < bl);
			a[0] = lo;
			b[0] = (bl << r | bh >> (32 - r)) ^ a[0];
			b[1] = (bh << r | bl >> (32 - r)) ^ a[1];
			if (steps[i][2] & 0x80) {
				a[0] = a[1];
				a[1] = lo;
			}
		}
}

/* "somepseudorandomlygeneratedbytes" as the low, high halves of v0..v3. */
static const uint32_t init[8] = {0x70736575u, 0x736f6d65u, 0x6e646f6du, 0x646f7261u,
				 0x6e657261u, 0x6c796765u, 0x79746573u, 0x74656462u};

/* The halves are filled through their bytes, which is little-endian order only on such CPUs. */
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "fw_siphash needs a little-endian CPU");

uint64_t fw_siphash(const uint8_t key[FW_SIPHASH_KEY_SIZE], const void *in, size_t len)
{
	const uint8_t *p = in;
	uint32_t v[8];
	union {
		uint32_t w[2];
		uint8_t b[8];
	} m = {{0, 0}};

	for (unsigned i = 0; i < sizeof(v); i++) /* v0 = k0 ^ c0, v1 = k1 ^ c1, v2 = k0 ^ ... */
		((uint8_t *)v)[i] = (uint8_t)(((const uint8_t *)init)[i] ^ key[i & 15]);
	/* A block is compressed when its eighth byte is in; the last one, with the length in its
	 * top byte, at the end. */
	for (size_t i = 0; i <= len; i++) {
		if (i == len)
			m.b[7] = (uint8_t)len;
		else
			m.b[i & 7] = p[i];
		if ((i & 7) == 7 || i == len) {
			v[6] ^= m.w[0];
			v[7] ^= m.w[1];
			rounds(v, 2);
			v[0] ^= m.w[0];
			v[1] ^= m.w[1];
			m.w[0] = m.w[1] = 0;
		}
	}
	v[4] ^= 0xFF;
	rounds(v, 4);
	return (uint64_t)(v[1] ^ v[3] ^ v[5] ^ v[7]) << 32 | (v[0] ^ v[2] ^ v[4] ^ v[6]);
}
