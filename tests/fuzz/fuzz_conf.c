/*
 * fuzz_conf: libFuzzer target for the rinki.conf line parser. Each input line
 * goes through gw_conf_parse_line(); checked besides memory errors: a rejected
 * line always comes with a message, an accepted one leaves every numeric key
 * inside its documented range and every string NUL-terminated, and what
 * gw_conf_write() makes of the result parses line by line without an error
 * into a configuration that writes the same text again.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/conf.h"

/* gw_conf_write(c) into a malloc'd string (*len bytes); aborts when it cannot. */
static char *written(const struct gw_conf *c, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);
	if (!f || gw_conf_write(c, f) < 0 || fclose(f) != 0)
		abort();
	return buf;
}

/* What gw_conf_write() wrote loads back: every line parses, and writes the same again. */
static void check_round_trip(const struct gw_conf *c)
{
	static struct gw_conf back; /* large */
	char err[256];
	size_t len1, len2;
	char *text = written(c, &len1);
	gw_conf_defaults(&back);
	for (char *line = text, *nl; *line; line = nl + 1) {
		nl = strchr(line, '\n');
		if (!nl)
			abort(); /* every line ends in LF */
		*nl = '\0';
		if (gw_conf_parse_line(&back, line, err, sizeof(err)) < 0)
			abort();
		*nl = '\n';
	}
	char *again = written(&back, &len2);
	if (len1 != len2 || memcmp(text, again, len1) != 0)
		abort();
	free(text);
	free(again);
}

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
	    c.clcc_poll_ms < 100 || c.clcc_poll_ms > 5000 || c.clcc_grace_ms < 0 ||
	    c.clcc_grace_ms > 60000)
		abort();
	if (memchr(c.radio_port, '\0', sizeof(c.radio_port)) == NULL ||
	    memchr(c.db_path, '\0', sizeof(c.db_path)) == NULL)
		abort();
	check_round_trip(&c);
	return 0;
}
