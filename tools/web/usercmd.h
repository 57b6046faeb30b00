/*
 * usercmd: the account commands (user add|passwd|disable|enable|list) that both
 * `rinki-web user ...` and `rinkictl user ...` run, so the two cannot drift apart.
 */
#ifndef WEB_USERCMD_H
#define WEB_USERCMD_H

#include "users.h"

/* The synopsis lines of the user commands (without the program's name). */
#define WEB_USERCMD_SYNOPSIS                                                                       \
	"user add NAME ROLE [--lang fi|sv|en]\n"                                                   \
	"user passwd NAME\n"                                                                       \
	"user disable|enable NAME\n"                                                               \
	"user list\n"

/*
 * Run one account command on u: argv[0] is add, passwd, disable, enable or list.
 * Passwords are read from the terminal (twice, not shown) or as one line of standard
 * input. Messages go to stdout and stderr prefixed with prog; every change is audited
 * as done by "cli". Returns 0 done, 1 failed, 2 usage.
 */
int web_user_cmd(const char *prog, struct web_users *u, int argc, char **argv);

#endif
