/*
 * rinkictl_user: rinkictl user add|passwd|disable|enable|list, the web console's accounts.
 * The commands are rinki-web's own (tools/web/usercmd.c on tools/web/users.c), run on the
 * accounts file rinki.conf names (web.users) after dropping to web.user as rinki-web
 * does, so a file made here belongs to rinki-web and rinkid's database is never touched.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "core/conf.h"
#include "core/priv.h"
#include "web/usercmd.h"

#define DEFAULT_CONF "/etc/rinki/rinki.conf"
#define ARGS_MAX     8

/*
 * rinkictl user SUBCOMMAND ... [-c FILE] [--allow-root]: rinki-web's account commands on
 * web.users of FILE (default /etc/rinki/rinki.conf), as web.user (root stays root only
 * with --allow-root, as rinki-web's). dbpath is unused. Returns the exit status.
 */
int ctl_user_main(const char *dbpath, int argc, char **argv);

int ctl_user_main(const char *dbpath, int argc, char **argv)
{
	const char *conf_path = DEFAULT_CONF;
	static struct gw_conf conf;
	char *args[ARGS_MAX];
	int n = 0, rc;
	bool allow_root = false;

	(void)dbpath;
	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "-c") == 0 && i + 1 < argc)
			conf_path = argv[++i];
		else if (strcmp(argv[i], "--allow-root") == 0)
			allow_root = true;
		else if (n < ARGS_MAX)
			args[n++] = argv[i];
		else
			return web_user_cmd("rinkictl", NULL, 0, NULL); /* usage */
	}
	if (n == 0)
		return web_user_cmd("rinkictl", NULL, 0, NULL);
	if (sodium_init() < 0) {
		fprintf(stderr, "rinkictl: libsodium does not start\n");
		return 1;
	}
	gw_conf_defaults(&conf);
	if ((rc = gw_conf_load(&conf, conf_path)) < 0) {
		fprintf(stderr, "rinkictl: %s: %s\n", conf_path,
			rc == -EINVAL ? "errors above" : strerror(-rc));
		return 1;
	}
	if (gw_priv_drop(conf.web_user, allow_root) < 0) {
		fprintf(stderr, "rinkictl: cannot become user '%s' (web.user)\n", conf.web_user);
		return 1;
	}
	struct web_users *users;
	if ((rc = web_users_open(conf.web_users, &users)) < 0) {
		fprintf(stderr, "rinkictl: %s: cannot open the accounts file: %s\n", conf.web_users,
			strerror(-rc));
		return 1;
	}
	rc = web_user_cmd("rinkictl", users, n, args);
	web_users_close(users);
	return rc;
}
