/*
 * SipHash-2-4 after the reference implementation (public domain, github.com/veorq/SipHash),
 * written for the MCU: byte-wise little-endian loads, no unaligned access, no tables.
 */
#include "fw_siphash.h"

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))

static uint64_t load64(const uint8_t *p, size_t n)
{
	uint64_t v = 0;

	for (size_t i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static void rounds(uint64_t v[4], int n)
{
	while (n--) {
		v[0] += v[1];
		v[1] = ROTL(v[1], 13);
		v[1] ^= v[0];
		v[0] = ROTL(v[0], 32);
		v[2] += v[3];
		v[3] = ROTL(v[3], 16);
		v[3] ^= v[2];
		v[0] += v[3];
		v[3] = ROTL(v[3], 21);
		v[3] ^= v[0];
		v[2] += v[1];
		v[1] = ROTL(v[1], 17);
		v[1] ^= v[2];
		v[2] = ROTL(v[2], 32);
	}
}

uint64_t fw_siphash(const uint8_t key[FW_SIPHASH_KEY_SIZE], const void *in, size_t len)
{
	const uint8_t *p = in;
	uint64_t k0 = load64(key, 8), k1 = load64(key + 8, 8);
	uint64_t v[4] = {
	    0x736f6d6570736575ull ^ k0,
	    0x646f72616e646f6dull ^ k1,
	    0x6c7967656e657261ull ^ k0,
	    0x7465646279746573ull ^ k1,
	};
	size_t left = len;

	for (; left >= 8; left -= 8, p += 8) {
		uint64_t m = load64(p, 8);
		v[3] ^= m;
		rounds(v, 2);
		v[0] ^= m;
	}
	uint64_t b = (uint64_t)(len & 0xFF) << 56 | load64(p, left);
	v[3] ^= b;
	rounds(v, 2);
	v[0] ^= b;
	v[2] ^= 0xFF;
	rounds(v, 4);
	return v[0] ^ v[1] ^ v[2] ^ v[3];
}
