/*
 * fuzz_msgcat: libFuzzer target for the message catalogue (gateway/service/msgcat.c), whose
 * blanks are filled with what outsiders send: an officer's SDS text, an SMS sender's
 * number, a directory name.
 *
 * Byte 0 picks the message, byte 1 the language (fi, sv, en or an unknown one) and byte 2
 * the buffer size (1..256); the rest is split at NUL bytes into blank values in the order
 * who, line, code, fallback, text, to. Checked: the result is NUL-terminated within the
 * buffer, a cut result is a prefix of the whole one, the return value is the length or
 * -E2BIG exactly when cut, and a cut never splits a character that was whole.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/text.h"
#include "service/msgcat.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const langs[] = {"fi", "sv", "en", "xx"};
	static const char *const names[] = {"who", "line", "code", "fallback", "text", "to"};
	if (size < 3)
		return 0;
	enum gw_msg id = (enum gw_msg)(data[0] % (GW_MSG_COUNT + 1)); /* one past: refused */
	const char *lang = langs[data[1] % 4];
	size_t len = 1 + data[2];
	char *copy = malloc(size - 3 + 1);
	if (!copy)
		return 0;
	memcpy(copy, data + 3, size - 3);
	copy[size - 3] = '\0';
	struct gw_msg_arg args[6];
	size_t n = 0;
	for (char *p = copy; n < 6; n++) {
		args[n] = (struct gw_msg_arg){names[n], p};
		char *end = memchr(p, '\0', (size_t)(copy + (size - 3) - p) + 1);
		if (end == copy + (size - 3)) {
			n++;
			break;
		}
		p = end + 1;
	}
	static char whole[1 << 17], buf[257];
	int full = gw_msg_format(id, lang, args, n, whole, sizeof(whole));
	int rc = gw_msg_format(id, lang, args, n, buf, len);
	if (memchr(buf, '\0', len) == NULL)
		abort();
	if (full == -EINVAL) {
		if (rc != -EINVAL || buf[0])
			abort();
	} else if (full >= 0) {
		size_t got = strlen(buf);
		if (memcmp(buf, whole, got) != 0)
			abort();
		if ((size_t)full < len ? rc != full : rc != -E2BIG)
			abort();
		/* a cut between the bytes of a character the whole text has whole: never */
		if (rc == -E2BIG && got < (size_t)full) {
			size_t i = 0;
			while (i < got) {
				unsigned k = gw_utf8_len((const unsigned char *)whole + i,
							 (size_t)full - i, NULL);
				i += k ? k : 1;
			}
			if (i != got)
				abort();
		}
	}
	free(copy);
	return 0;
}
