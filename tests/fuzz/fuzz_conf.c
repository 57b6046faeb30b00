/*
 * fuzz_conf: libFuzzer target for the rinki.conf line parser. Each input line
 * goes through gw_conf_parse_line(); checked besides memory errors: a rejected
 * line always comes with a message, an accepted one leaves every numeric key
 * inside its documented range and every string NUL-terminated.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gw_conf c;
	char line[1024], err[256];
	gw_conf_defaults(&c);
	size_t i = 0;
	while (i < size) {
		size_t n = 0;
		while (i < size && data[i] != '\n' && n < sizeof(line) - 1)
			line[n++] = (char)data[i++];
		line[n] = '\0';
		i++;
		err[0] = '\0';
		if (gw_conf_parse_line(&c, line, err, sizeof(err)) < 0 && err[0] == '\0')
			abort();
	}
	if (c.ring_time_s < 5 || c.ring_time_s > 120 || c.rounds < 1 || c.rounds > 5 ||
	    c.clcc_poll_ms < 100 || c.clcc_poll_ms > 5000)
		abort();
	if (memchr(c.radio_port, '\0', sizeof(c.radio_port)) == NULL ||
	    memchr(c.db_path, '\0', sizeof(c.db_path)) == NULL)
		abort();
	return 0;
}
