/*
 * usercmd: rinki-web's account commands for the command line, shared by rinki-web
 * (main.c) and rinkictl (tools/rinkictl_user.c). The checks are users.c's; this file
 * reads the password from the terminal or stdin and words the answers.
 */
#include "usercmd.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

static int64_t wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int usage(const char *prog, const char *why)
{
	fprintf(stderr, "%s: %s\nusage:\n%s", prog, why, WEB_USERCMD_SYNOPSIS);
	return 2;
}

/* Read one password: from the terminal without echo (twice), else one line of stdin. */
static int read_password(char *buf, size_t len)
{
	bool tty = isatty(STDIN_FILENO);
	char again[WEB_USERS_PW_MAX + 2];

	for (int round = 0; round < (tty ? 2 : 1); round++) {
		char *dst = round ? again : buf;
		size_t dlen = round ? sizeof(again) : len;
		struct termios old, quiet;
		if (tty) {
			fputs(round ? "again: " : "password: ", stderr);
			tcgetattr(STDIN_FILENO, &old);
			quiet = old;
			quiet.c_lflag &= ~(tcflag_t)ECHO;
			tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
		}
		char *ok = fgets(dst, (int)dlen, stdin);
		if (tty) {
			tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
			fputs("\n", stderr);
		}
		if (!ok)
			return -EIO;
		size_t n = strcspn(dst, "\n");
		if (dst[n] != '\n' && !feof(stdin))
			return -EMSGSIZE;
		dst[n] = '\0';
	}
	if (tty && strcmp(buf, again) != 0)
		return -EINVAL;
	sodium_memzero(again, sizeof(again));
	return 0;
}

static void print_user(const struct web_user *u, void *arg)
{
	int64_t now = *(int64_t *)arg;
	printf("%-24s %-12s %s%s%s\n", u->name, web_role_name(u->role), u->lang,
	       u->disabled ? "  DISABLED" : "", u->locked_until_ms > now ? "  LOCKED" : "");
}

static int cmd_add(const char *prog, struct web_users *u, const char *name, int argc, char **argv,
		   char *pw, size_t pwlen, int64_t now)
{
	const char *lang = "fi";
	int rc;

	if (argc == 5 && strcmp(argv[3], "--lang") == 0)
		lang = argv[4];
	else if (argc != 3)
		return usage(prog, "user add NAME ROLE [--lang fi|sv|en]");
	int role = web_role_parse(argv[2]);
	if (role < 0)
		return usage(prog, "ROLE is coordinator, manager or technician");
	if (strcmp(lang, "fi") && strcmp(lang, "sv") && strcmp(lang, "en"))
		return usage(prog, "--lang is fi, sv or en");
	if (read_password(pw, pwlen) < 0) {
		fprintf(stderr, "%s: no password read (or the two differ)\n", prog);
		return 1;
	}
	if (!web_users_password_ok(pw)) {
		fprintf(stderr, "%s: a password is %d-%d characters of text\n", prog,
			WEB_USERS_PW_MIN, WEB_USERS_PW_MAX);
		return 1;
	}
	rc = web_users_add(u, name, role, lang, pw, "cli", now);
	if (rc == -EEXIST) {
		fprintf(stderr, "%s: user '%s' exists\n", prog, name);
		return 1;
	}
	if (rc < 0) {
		fprintf(stderr, "%s: cannot add '%s': %s\n", prog, name, strerror(-rc));
		return 1;
	}
	printf("user %s added (%s)\n", name, web_role_name(role));
	return 0;
}

int web_user_cmd(const char *prog, struct web_users *u, int argc, char **argv)
{
	int64_t now = wall_ms();
	char pw[WEB_USERS_PW_MAX + 2];
	int rc;

	if (argc < 1)
		return usage(prog, "user: add, passwd, disable, enable or list");
	if (strcmp(argv[0], "list") == 0 && argc == 1)
		return web_users_list(u, print_user, &now) < 0 ? 1 : 0;
	if (argc < 2)
		return usage(prog, "user: NAME missing");
	const char *name = argv[1];
	if (!web_users_name_ok(name)) {
		fprintf(stderr,
			"%s: '%s' is not a user name (1-%d of a-z 0-9 . _ -, starting with a "
			"letter)\n",
			prog, name, WEB_USERS_NAME_MAX);
		return 1;
	}
	if (strcmp(argv[0], "add") == 0) {
		rc = cmd_add(prog, u, name, argc, argv, pw, sizeof(pw), now);
		sodium_memzero(pw, sizeof(pw));
		return rc;
	}
	if (argc != 2)
		return usage(prog, "one NAME");
	if (strcmp(argv[0], "passwd") == 0) {
		if (read_password(pw, sizeof(pw)) < 0) {
			fprintf(stderr, "%s: no password read (or the two differ)\n", prog);
			return 1;
		}
		rc = web_users_passwd(u, name, pw, "cli", now);
		sodium_memzero(pw, sizeof(pw));
	} else if (strcmp(argv[0], "disable") == 0 || strcmp(argv[0], "enable") == 0) {
		rc = web_users_set_disabled(u, name, argv[0][0] == 'd', "cli", now);
	} else {
		return usage(prog, "user: add, passwd, disable, enable or list");
	}
	if (rc == -ENOENT)
		fprintf(stderr, "%s: no user '%s'\n", prog, name);
	else if (rc == -EINVAL)
		fprintf(stderr, "%s: a password is %d-%d characters of text\n", prog,
			WEB_USERS_PW_MIN, WEB_USERS_PW_MAX);
	else if (rc < 0)
		fprintf(stderr, "%s: %s\n", prog, strerror(-rc));
	else
		printf("user %s: %s done\n", name, argv[0]);
	return rc < 0 ? 1 : 0;
}
