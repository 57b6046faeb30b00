/*
 * Integration: rinki-web's account commands as a technician runs them (the binary from
 * RINKI_BIN, an accounts file in a mkdtemp directory). The audit listing prints its times
 * as Helsinki wall clock with the zone (EET/EEST), the same bytes whatever the machine's
 * TZ: run under TZ=UTC and TZ=America/New_York it must not differ. Every child is waited
 * for by pid.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

static char dir[] = "/tmp/rinki-webcli-XXXXXX";
static char conf[128], in[128], outpath[128];
static char out[1 << 14];

/* rinki-web -c conf --allow-root args... with stdin from `in`, stdout into out. */
static int web(const char *const *args)
{
	char bin[256];
	const char *argv[16];
	int n = 0, st;

	snprintf(bin, sizeof(bin), "%s/rinki-web", h_bin());
	argv[n++] = bin;
	argv[n++] = "-c";
	argv[n++] = conf;
	argv[n++] = "--allow-root";
	for (; *args && n < 15; args++)
		argv[n++] = *args;
	argv[n] = NULL;
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int i = open(in, O_RDONLY), o = open(outpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		int e = open("/dev/null", O_WRONLY); /* its log lines carry a monotonic time */
		if (i < 0 || o < 0 || e < 0)
			_exit(126);
		dup2(i, 0);
		dup2(o, 1);
		dup2(e, 2);
		execv(bin, (char *const *)argv);
		_exit(127);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	FILE *f = fopen(outpath, "r");
	assert_non_null(f);
	size_t k = fread(out, 1, sizeof(out) - 1, f);
	out[k] = '\0';
	fclose(f);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void test_audit_times_helsinki_whatever_tz(void **state)
{
	static char first[sizeof(out)];
	const char *const add[] = {"user", "add", "aino", "coordinator", NULL};
	const char *const dis[] = {"user", "disable", "aino", NULL};
	const char *const audit[] = {"audit", NULL};
	const char *tz = getenv("TZ");
	char *tz_was = tz ? strdup(tz) : NULL;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(conf, sizeof(conf), "%s/rinki.conf", dir);
	snprintf(in, sizeof(in), "%s/password", dir);
	snprintf(outpath, sizeof(outpath), "%s/out", dir);
	assert_non_null(f = fopen(conf, "w"));
	fprintf(f, "web.users %s/users.db\n", dir);
	assert_int_equal(fclose(f), 0);
	assert_non_null(f = fopen(in, "w"));
	fputs("kaksitoista merkkiä\n", f);
	assert_int_equal(fclose(f), 0);

	assert_int_equal(web(add), 0);
	assert_int_equal(web(dis), 0);
	assert_int_equal(setenv("TZ", "UTC", 1), 0);
	assert_int_equal(web(audit), 0);
	memcpy(first, out, sizeof(first));
	assert_int_equal(setenv("TZ", "America/New_York", 1), 0);
	assert_int_equal(web(audit), 0);
	if (tz_was)
		setenv("TZ", tz_was, 1);
	else
		unsetenv("TZ");
	free(tz_was);
	print_message("%s", first);
	assert_string_equal(first, out);
	/* two rows (the add and the disable), each with its time and zone */
	int rows = 0;
	for (char *p = first; (p = strstr(p, " EE")) != NULL; p += 3)
		if (!strncmp(p, " EET ", 5) || !strncmp(p, " EEST ", 6))
			rows++;
	assert_true(rows >= 2);
	char cmd[160];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_audit_times_helsinki_whatever_tz),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
