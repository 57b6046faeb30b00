/*
 * rinkictl_config: the rinkictl commands about rinki.conf. "config show" prints the
 * configuration rinkid would run with: the file loaded over the built-in defaults (the
 * prompt directory make baked in for PREFIX, for one), every key with its value. "config
 * check" runs the checks rinkid runs before it starts (service/preflight: groups, prompt
 * files, voice bridge, key source) and the roster check on db.path's roster: a service line
 * with nobody on duty now or in the next 14 days. Both use the gateway's own modules, so
 * they read the file exactly as rinkid does.
 * Exit status: 0 ok (check: no errors, warnings allowed), 1 errors or an unreadable file,
 * 2 usage.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/conf.h"
#include "service/preflight.h"
#include "store/db.h"
#include "store/roster.h"

#define DEFAULT_CONF "/etc/rinki/rinki.conf"
#define EXIT_USAGE   2

int ctl_config_main(const char *dbpath, int argc, char **argv);

static int usage(const char *what)
{
	fprintf(stderr,
		"rinkictl: %s\nusage: rinkictl config show [-c FILE]\n"
		"       rinkictl config check [-c FILE] [--at TIME] [--no-roster]\n",
		what);
	return EXIT_USAGE;
}

/*
 * Parse [-c FILE] (and, when at and no_roster are not NULL, [--at TIME] [--no-roster]) from
 * argv[1..]. 0 or the usage exit status.
 */
static int conf_arg(int argc, char **argv, const char **conf_path, int64_t *at, bool *no_roster)
{
	*conf_path = DEFAULT_CONF;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-c") == 0 && i + 1 < argc)
			*conf_path = argv[++i];
		else if (no_roster && strcmp(argv[i], "--no-roster") == 0)
			*no_roster = true;
		else if (at && strcmp(argv[i], "--at") == 0 && i + 1 < argc) {
			if (gw_roster_parse_time(argv[++i], at) < 0)
				return usage("config check: --at takes a TIME with a zone, e.g. "
					     "2026-03-01T14:00+02:00");
		} else
			return usage("config: unexpected argument");
	}
	return 0;
}

struct tally {
	const char *path;
	int errors, warnings;
};

static void print_finding(enum gw_preflight_level level, const char *key, const char *msg,
			  void *arg)
{
	struct tally *t = arg;
	if (level == GW_PREFLIGHT_ERROR)
		t->errors++;
	else
		t->warnings++;
	printf("%s: %s: %s: %s\n", t->path, level == GW_PREFLIGHT_ERROR ? "error" : "warning", key,
	       msg);
}

/* The roster rinkid would load: db.path's, when it is there. */
static void check_roster(const struct gw_conf *conf, int64_t at, struct tally *t)
{
	struct gw_db *db;
	struct gw_roster *r;
	int rc = gw_db_open_flags(conf->db_path, GW_DB_NOCREATE, &db);
	if (rc < 0) {
		print_finding(GW_PREFLIGHT_WARN, "db.path",
			      rc == -ENOENT ? "no database yet: import a roster" : strerror(-rc),
			      t);
		return;
	}
	if (gw_roster_load_at(db, at, &r) < 0) {
		print_finding(GW_PREFLIGHT_ERROR, "db.path", "cannot load the roster", t);
	} else {
		gw_preflight_roster(r, at, GW_PREFLIGHT_ROSTER_DAYS, print_finding, t);
		gw_roster_free(r);
	}
	gw_db_close(db);
}

static int cmd_check(int argc, char **argv)
{
	static struct gw_conf conf; /* large */
	const char *path;
	int64_t at = -1;
	bool no_roster = false;
	int rc = conf_arg(argc, argv, &path, &at, &no_roster);
	if (rc)
		return rc;
	if (at < 0) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		at = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	}
	gw_conf_defaults(&conf);
	if (gw_conf_load(&conf, path) < 0)
		return 1; /* each error was reported as file:line */
	struct tally t = {.path = path};
	gw_preflight_conf(&conf, print_finding, &t);

	/* not as root before rinkid starts: opening the database would create its -wal/-shm
	   files owned by root */
	if (!no_roster) {
		/* the roster in its zone (a zone that does not load was reported above) */
		gw_roster_set_timezone(conf.roster_timezone, NULL, 0);
		check_roster(&conf, at, &t);
	}
	printf("%s: %d error(s), %d warning(s)%s\n", path, t.errors, t.warnings,
	       t.errors ? ": fix the errors before rinkid runs with this file" : "");
	return t.errors ? 1 : 0;
}

static int cmd_show(int argc, char **argv)
{
	static struct gw_conf conf; /* large */
	const char *path;
	int rc = conf_arg(argc, argv, &path, NULL, NULL);
	if (rc)
		return rc;
	gw_conf_defaults(&conf);
	if (gw_conf_load(&conf, path) < 0)
		return 1; /* each error was reported as file:line */
	printf("# %s over the built-in defaults\n", path);
	return gw_conf_write(&conf, stdout) < 0 ? 1 : 0;
}

int ctl_config_main(const char *dbpath, int argc, char **argv)
{
	(void)dbpath;
	if (argc < 1)
		return usage("config: the subcommand is show or check");
	if (strcmp(argv[0], "show") == 0)
		return cmd_show(argc, argv);
	if (strcmp(argv[0], "check") == 0)
		return cmd_check(argc, argv);
	return usage("config: unknown subcommand");
}
