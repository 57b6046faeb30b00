/*
 * rinkid: parse the command line, load the configuration, then build, run and free the
 * gateway (service/rinkid.c, which holds the wiring).
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>

#include "core/conf.h"
#include "core/log.h"
#include "service/preflight.h"
#include "service/rinkid.h"

#define DEFAULT_CONF "/etc/rinki/rinki.conf"

static void usage(FILE *f)
{
	fprintf(f, "usage: rinkid [-c CONFIG] [-d] [--allow-root] [--check-config] [--version]\n"
		   "  -c, --config FILE   configuration (default " DEFAULT_CONF ")\n"
		   "  -d, --debug         log every AT line (debug level, all categories)\n"
		   "  -s, --syslog        log to journald (or syslog) instead of stderr\n"
		   "      --allow-root    keep running as root (else drop to run.user)\n"
		   "      --check-config  parse the configuration, report errors and exit\n"
		   "      --version       print the version and exit\n");
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"config", required_argument, NULL, 'c'}, {"debug", no_argument, NULL, 'd'},
	    {"syslog", no_argument, NULL, 's'},	      {"check-config", no_argument, NULL, 'C'},
	    {"version", no_argument, NULL, 'V'},      {"allow-root", no_argument, NULL, 'R'},
	    {"help", no_argument, NULL, 'h'},	      {NULL, 0, NULL, 0},
	};
	struct gw_rinkid_opts o = {.conf_path = DEFAULT_CONF};
	int use_syslog = 0, check_only = 0, opt;
	while ((opt = getopt_long(argc, argv, "c:dsh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			o.conf_path = optarg;
			break;
		case 'd':
			o.debug = true;
			break;
		case 's':
			use_syslog = 1;
			break;
		case 'C':
			check_only = 1;
			break;
		case 'R':
			o.allow_root = true;
			break;
		case 'V':
			printf("rinkid %s\n", GW_RINKID_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	static struct gw_conf conf; /* large */
	gw_log_init("rinkid", use_syslog);
	gw_conf_defaults(&conf);
	if (gw_conf_load(&conf, o.conf_path) < 0)
		return 1;
	/* what parses but cannot work on this machine (groups, prompts): refused, warnings logged
	 */
	if (gw_preflight_conf(&conf, NULL, NULL) < 0)
		return 1;
	if (check_only) {
		printf("%s: configuration ok\n", o.conf_path);
		return 0;
	}
	gw_log_set_level(GW_LOG_NCATS, o.debug ? GW_LOG_DEBUG : gw_log_parse_level(conf.log_level));
	/* A file-size limit (LimitFSIZE=, a size-limited file) is a failed write the call log
	   spools, not a reason to die mid-incident as SIGXFSZ's default action would. */
	signal(SIGXFSZ, SIG_IGN);
	struct gw_rinkid *d;
	if (gw_rinkid_new(&conf, &o, &d) < 0)
		return 1;
	gw_rinkid_run(d);
	gw_rinkid_free(d);
	return 0;
}
