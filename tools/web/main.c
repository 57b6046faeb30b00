/*
 * rinki-web: the web console of a rinki gateway, for duty coordinators, managers and
 * technicians. A process of its own: started as root it drops to web.user (default
 * rinki-web) before it opens anything; it reads rinki.db through the store layer, asks
 * rinkid for status over the control socket, and keeps its accounts in web.users. It
 * serves web.listen and nothing when that is unset: over HTTPS with web.tls_cert and
 * web.tls_key (read before the privilege drop), and without them on a loopback address
 * only. The same binary manages the accounts (rinki-web user ...) and makes a self-signed
 * certificate (rinki-web tls-selfsigned).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "core/conf.h"
#include "core/log.h"
#include "core/priv.h"
#include "store/roster.h"
#include "usercmd.h"
#include "web.h"

#define CONF_DEFAULT "/etc/rinki/rinki.conf"

static const char usage_text[] =
    "usage: rinki-web [-c CONF] [--allow-root] [--syslog]          serve web.listen\n"
    "       rinki-web [-c CONF] [--allow-root] user add NAME ROLE [--lang fi|sv|en]\n"
    "       rinki-web [-c CONF] [--allow-root] user passwd NAME\n"
    "       rinki-web [-c CONF] [--allow-root] user disable|enable NAME\n"
    "       rinki-web [-c CONF] [--allow-root] user list\n"
    "       rinki-web [-c CONF] [--allow-root] audit [N]\n"
    "       rinki-web tls-selfsigned CERT KEY [HOST]\n"
    "ROLE is coordinator, manager or technician. Passwords are read from the terminal\n"
    "(twice) or, when stdin is not a terminal, as one line from stdin. CONF defaults "
    "to\n" CONF_DEFAULT ".\n";

static int64_t wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int usage(const char *why)
{
	if (why)
		fprintf(stderr, "rinki-web: %s\n", why);
	fputs(usage_text, stderr);
	return 2;
}

static void print_audit(const struct web_audit *a, void *arg)
{
	(void)arg;
	char when[40];
	/* roster.timezone wall clock with its zone, whatever the machine's TZ */
	gw_roster_format_clock(a->t_ms, GW_CLOCK_SEC, when, sizeof(when));
	printf("%-23s  %-18s %-16s %-16s %s\n", when, a->action, a->user ? a->user : "-",
	       a->ip ? a->ip : "-", a->detail ? a->detail : "");
}

/* The machine's name for a self-signed certificate; "localhost" when it has none. */
static void host_name(char *host, size_t len)
{
	if (gethostname(host, len) < 0 || !host[0])
		snprintf(host, len, "localhost");
	host[len - 1] = '\0';
}

/* rinki-web tls-selfsigned CERT KEY [HOST]: a new self-signed pair (never overwritten). */
static int cmd_selfsigned(int argc, char **argv)
{
	char host[256], why[512];

	if (argc != 2 && argc != 3)
		return usage("tls-selfsigned CERT KEY [HOST]");
	if (argc == 3)
		snprintf(host, sizeof(host), "%s", argv[2]);
	else
		host_name(host, sizeof(host));
	if (web_tls_selfsigned(argv[0], argv[1], host, WEB_TLS_SELFSIGNED_DAYS, why, sizeof(why)) <
	    0) {
		fprintf(stderr, "rinki-web: tls-selfsigned: %s\n", why);
		return 1;
	}
	printf("self-signed certificate for %s (%d days) in %s, its key in %s\n", host,
	       WEB_TLS_SELFSIGNED_DAYS, argv[0], argv[1]);
	return 0;
}

/*
 * Before the privilege drop: web.listen with the TLS keys checked, a self-signed pair made
 * when neither file exists yet (first start), and the certificate and key read (so the key
 * may be readable by root only). 0, or the exit status.
 */
static int serve_check(const struct gw_conf *conf, struct sockaddr_storage *sa, unsigned *salen,
		       struct web_tls *tls)
{
	const char *why;
	char msg[512];
	bool use_tls;

	if (web_conf_check(conf, sa, salen, &use_tls, &why) < 0) {
		fprintf(stderr, "rinki-web: web.listen '%s': %s\n", conf->web_listen, why);
		return 1;
	}
	bool made = false;
	char host[256];
	host_name(host, sizeof(host));
	if (use_tls && web_tls_first_start(conf->web_tls_cert, conf->web_tls_key, host, &made, msg,
					   sizeof(msg)) < 0) {
		fprintf(stderr, "rinki-web: %s (web.tls_cert, web.tls_key)\n", msg);
		return 1;
	}
	if (made)
		gw_log(GW_LOG_MAIN, GW_LOG_NOTICE,
		       "rinki-web: made a self-signed certificate for %s in %s (key %s)", host,
		       conf->web_tls_cert, conf->web_tls_key);
	if (use_tls &&
	    web_tls_load(conf->web_tls_cert, conf->web_tls_key, tls, msg, sizeof(msg)) < 0) {
		fprintf(stderr,
			"rinki-web: %s (web.tls_cert, web.tls_key; 'rinki-web tls-selfsigned "
			"CERT KEY' makes a self-signed pair)\n",
			msg);
		return 1;
	}
	return 0;
}

static int serve(struct gw_conf *conf, struct web_users *users, const struct sockaddr_storage *sa,
		 unsigned salen, const struct web_tls *tls)
{
	sigset_t set;
	int port, sig;

	static struct web_app app;
	app.conf = conf;
	app.users = users;
	app.now_ms = wall_ms;
	app.tls = tls->cert != NULL;
	/* signals are taken by sigwait() below, never by the server's thread */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	void *d = web_http_start(&app, sa, salen, tls, &port);
	if (!d)
		return 1;
	char where[96]; /* web.listen's address (checked: "ADDR:PORT" or "[ADDR]:PORT") */
	snprintf(where, sizeof(where), "%.*s:%d",
		 (int)(strrchr(conf->web_listen, ':') - conf->web_listen), conf->web_listen, port);
	const char *scheme = app.tls ? "https" : "http";
	gw_log(GW_LOG_MAIN, GW_LOG_NOTICE, "rinki-web: listening on %s://%s/", scheme, where);
	printf("listening %s://%s/\n", scheme, where);
	fflush(stdout);
	do {
		if (sigwait(&set, &sig) != 0)
			break;
	} while (sig == SIGHUP);
	web_http_stop(d);
	gw_log(GW_LOG_MAIN, GW_LOG_NOTICE, "rinki-web: stopped by signal %d", sig);
	return 0;
}

int main(int argc, char **argv)
{
	const char *conf_path = CONF_DEFAULT;
	bool allow_root = false, use_syslog = false;
	static struct gw_conf conf;
	int i, rc;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "-c") == 0 && i + 1 < argc)
			conf_path = argv[++i];
		else if (strcmp(argv[i], "--allow-root") == 0)
			allow_root = true;
		else if (strcmp(argv[i], "--syslog") == 0)
			use_syslog = true;
		else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
			return fputs(usage_text, stdout), 0;
		else
			return usage("unknown option");
	}
	gw_log_init("rinki-web", use_syslog);
	if (i < argc && strcmp(argv[i], "tls-selfsigned") == 0)
		return cmd_selfsigned(argc - i - 1, argv + i + 1);
	if (sodium_init() < 0) {
		fprintf(stderr, "rinki-web: libsodium does not start\n");
		return 1;
	}
	gw_conf_defaults(&conf);
	if ((rc = gw_conf_load(&conf, conf_path)) < 0) {
		fprintf(stderr, "rinki-web: %s: %s\n", conf_path,
			rc == -EINVAL ? "errors above" : strerror(-rc));
		return 1;
	}
	char why[384]; /* the roster's zone, for every time the console shows */
	if (gw_roster_set_timezone(conf.roster_timezone, why, sizeof(why)) < 0) {
		fprintf(stderr, "rinki-web: roster.timezone: %s\n", why);
		if (strcmp(conf.roster_timezone, "Europe/Helsinki") != 0)
			return 1; /* Helsinki has the built-in rule */
	}
	bool serving = i == argc;
	if (serving && !conf.web_listen[0]) {
		fprintf(stderr, "rinki-web: web.listen is not set in %s: the web console is off\n",
			conf_path);
		return 0;
	}
	struct sockaddr_storage sa;
	unsigned salen = 0;
	static struct web_tls tls;
	if (serving && (rc = serve_check(&conf, &sa, &salen, &tls)) != 0)
		return rc;
	/* least privilege before anything else is opened: the accounts file, the socket, the
	 * db (the TLS key, read above, may stay readable by root only) */
	if (gw_priv_drop(conf.web_user, allow_root) < 0) {
		fprintf(stderr, "rinki-web: cannot become user '%s' (web.user)\n", conf.web_user);
		return 1;
	}
	struct web_users *users;
	if ((rc = web_users_open(conf.web_users, &users)) < 0) {
		fprintf(stderr, "rinki-web: %s: cannot open the accounts file: %s\n",
			conf.web_users, strerror(-rc));
		return 1;
	}
	if (serving)
		rc = serve(&conf, users, &sa, salen, &tls);
	else if (strcmp(argv[i], "user") == 0)
		rc = web_user_cmd("rinki-web", users, argc - i - 1, argv + i + 1);
	else if (strcmp(argv[i], "audit") == 0 && argc - i <= 2) {
		long n = argc - i == 2 ? strtol(argv[i + 1], NULL, 10) : 50;
		rc = web_users_audit_list(users, n > 0 && n < 100000 ? (int)n : 50, print_audit,
					  NULL) < 0;
	} else
		rc = usage("unknown command");
	web_users_close(users);
	web_tls_free(&tls);
	return rc;
}
