/*
 * pg_rig: a scratch PostgreSQL server in a temporary directory (see pg_rig.h). The tools
 * run as child processes with their output in the directory's tool.log; when the caller
 * is root each child drops to nobody's uid and gid (and no supplementary groups) before
 * it execs, and the directory is given to nobody.
 */
#include "pg_rig.h"

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define PG_BIN "/usr/lib/postgresql/15/bin"

/* Run argv as the server's user; exit status or -1. */
static int run_pg(const struct pg_rig *r, char *const argv[])
{
	char log[96];
	pid_t pid;
	int st;

	snprintf(log, sizeof(log), "%s/tool.log", r->dir);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		if (geteuid() == 0 &&
		    (setgroups(0, NULL) < 0 || setgid(r->gid) < 0 || setuid(r->uid) < 0))
			_exit(126);
		execv(argv[0], argv);
		_exit(127);
	}
	if (waitpid(pid, &st, 0) < 0)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int pg_rig_start_server(struct pg_rig *r)
{
	char data[96], log[96], opts[192];

	snprintf(data, sizeof(data), "%s/data", r->dir);
	snprintf(log, sizeof(log), "%s/server.log", r->dir);
	snprintf(opts, sizeof(opts),
		 "-c listen_addresses='' -c unix_socket_directories='%s' -c fsync=off", r->dir);
	char *argv[] = {
	    PG_BIN "/pg_ctl", "start", "-w", "-t", "60", "-D", data, "-l", log, "-o", opts, NULL};
	if (run_pg(r, argv) != 0) {
		fprintf(stderr, "pg_ctl start failed (see %s/server.log)\n", r->dir);
		return -1;
	}
	r->up = true;
	return 0;
}

int pg_rig_stop_server(struct pg_rig *r, const char *mode)
{
	char data[96];

	snprintf(data, sizeof(data), "%s/data", r->dir);
	char *argv[] = {PG_BIN "/pg_ctl", "stop", "-w", "-t", "60", "-D", data, "-m",
			(char *)mode,	  NULL};
	if (run_pg(r, argv) != 0)
		return -1;
	r->up = false;
	return 0;
}

int pg_rig_start(struct pg_rig *r)
{
	char data[96];

	memset(r, 0, sizeof(*r));
	snprintf(r->dir, sizeof(r->dir), "/tmp/rinki-pg-XXXXXX");
	if (!mkdtemp(r->dir)) {
		r->dir[0] = '\0';
		return -1;
	}
	r->uid = geteuid();
	r->gid = getegid();
	if (geteuid() == 0) {
		struct passwd *pw = getpwnam("nobody");
		if (!pw || chown(r->dir, pw->pw_uid, pw->pw_gid) < 0) {
			fprintf(stderr, "pg_rig: no user nobody to run the server as\n");
			return -1;
		}
		r->uid = pw->pw_uid;
		r->gid = pw->pw_gid;
	}
	snprintf(data, sizeof(data), "%s/data", r->dir);
	char *argv[] = {PG_BIN "/initdb", "-D",		  data, "-U",
			"county",	  "--auth=trust", "-E", "UTF8",
			"--locale=C",	  "--no-sync",	  NULL};
	if (run_pg(r, argv) != 0) {
		fprintf(stderr, "initdb failed (see %s/tool.log)\n", r->dir);
		return -1;
	}
	snprintf(r->conninfo, sizeof(r->conninfo), "host=%s dbname=postgres user=county", r->dir);
	return pg_rig_start_server(r);
}

void pg_rig_fini(struct pg_rig *r)
{
	pid_t pid;

	if (r->up)
		pg_rig_stop_server(r, "immediate");
	if (!r->dir[0])
		return;
	pid = fork();
	if (pid == 0) {
		execlp("rm", "rm", "-rf", r->dir, (char *)NULL);
		_exit(127);
	}
	if (pid > 0)
		waitpid(pid, NULL, 0);
	r->dir[0] = '\0';
}
