/*
 * pulse: run a command (a test binary) and freeze chosen processes of its tree in short
 * random pulses (SIGSTOP, a few ms, SIGCONT), so that timing races between rinkid and the
 * simulators show on an idle machine, without loading it: a stopped process lets its peers'
 * output pile up in its ptys and sockets, and finds several of them readable at once when it
 * runs again, as a busy machine would make it.
 *
 *     pulse [-n name]... [-a] [-r run_ms] [-s stop_ms] [-S seed] -- command [arg]...
 *
 * Only descendants of the command whose name (/proc/<pid>/comm) is one of the -n names are
 * touched (default: rinkid, tetra-sim and modem-sim), never another process of the machine.
 * Each pulse lets the tree run 0..run_ms (default 20), then stops one of the matching
 * processes picked at random (-a: all of them) for 1..stop_ms (default 30), then continues
 * it. Every process it stopped is continued before it exits, also on SIGINT and SIGTERM
 * (which it passes on to the command). It prints the seed and the count of pulses on
 * stderr and exits with the command's exit status (128 + signal when it was killed).
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_NAMES 8
#define MAX_PROCS 4096
#define MAX_HITS  64

struct proc {
	pid_t pid, ppid;
	char comm[32];
};

static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
	got_signal = sig;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR && !got_signal)
		;
}

/* /proc/<pid>/stat's ppid and /proc/<pid>/comm; false when the process is gone. */
static bool read_proc(pid_t pid, struct proc *p)
{
	char path[64], buf[512];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "re");
	if (!f)
		return false;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* "pid (comm) state ppid ...": comm may hold spaces and parentheses, so from the last ')'
	 */
	char *rp = strrchr(buf, ')');
	char state;
	int ppid;
	if (!rp || sscanf(rp + 1, " %c %d", &state, &ppid) != 2)
		return false;
	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	if (!fgets(p->comm, sizeof(p->comm), f))
		p->comm[0] = '\0';
	fclose(f);
	p->comm[strcspn(p->comm, "\n")] = '\0';
	p->pid = pid;
	p->ppid = ppid;
	return true;
}

/* The processes below root whose comm is one of names, into hits; returns their count. */
static int find_targets(pid_t root, char *const *names, int nnames, pid_t *hits)
{
	static struct proc procs[MAX_PROCS];
	int np = 0, nh = 0;
	DIR *d = opendir("/proc");
	if (!d)
		return 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL && np < MAX_PROCS) {
		if (!isdigit((unsigned char)e->d_name[0]))
			continue;
		if (read_proc((pid_t)atoi(e->d_name), &procs[np]))
			np++;
	}
	closedir(d);
	for (int i = 0; i < np && nh < MAX_HITS; i++) {
		bool named = false;
		for (int k = 0; k < nnames; k++)
			named |= strcmp(procs[i].comm, names[k]) == 0;
		if (!named)
			continue;
		/* up the parent chain to root (bounded: a chain never has more links than procs) */
		pid_t up = procs[i].ppid;
		for (int hop = 0; hop < np && up > 1 && up != root; hop++) {
			pid_t next = 0;
			for (int j = 0; j < np; j++)
				if (procs[j].pid == up) {
					next = procs[j].ppid;
					break;
				}
			up = next;
		}
		if (up == root)
			hits[nh++] = procs[i].pid;
	}
	return nh;
}

static void usage(void)
{
	fprintf(stderr, "usage: pulse [-n name]... [-a] [-r run_ms] [-s stop_ms] [-S seed] -- "
			"command [arg]...\n");
	exit(2);
}

static long arg_ms(const char *s)
{
	char *end;
	long v = strtol(s, &end, 10);
	if (*s == '\0' || *end != '\0' || v < 1 || v > 10000) {
		fprintf(stderr, "pulse: '%s' is not a time in ms (1..10000)\n", s);
		exit(2);
	}
	return v;
}

int main(int argc, char **argv)
{
	static char *defaults[] = {"rinkid", "tetra-sim", "modem-sim"};
	char *names[MAX_NAMES];
	int nnames = 0, opt;
	bool all = false;
	long run_ms = 20, stop_ms = 30;
	unsigned seed = (unsigned)time(NULL) ^ (unsigned)getpid();
	while ((opt = getopt(argc, argv, "+n:ar:s:S:")) != -1) {
		switch (opt) {
		case 'n':
			if (nnames == MAX_NAMES || strlen(optarg) > 15)
				usage(); /* comm holds 15 characters */
			names[nnames++] = optarg;
			break;
		case 'a':
			all = true;
			break;
		case 'r':
			run_ms = arg_ms(optarg);
			break;
		case 's':
			stop_ms = arg_ms(optarg);
			break;
		case 'S': {
			char *end;
			unsigned long v = strtoul(optarg, &end, 10);
			if (!isdigit((unsigned char)*optarg) || *end != '\0' || v > 0xffffffffUL)
				usage();
			seed = (unsigned)v;
			break;
		}
		default:
			usage();
		}
	}
	if (optind >= argc)
		usage();
	if (nnames == 0) {
		for (int i = 0; i < 3; i++)
			names[i] = defaults[i];
		nnames = 3;
	}
	srand(seed);

	struct sigaction sa = {.sa_handler = on_signal};
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	pid_t child = fork();
	if (child < 0) {
		perror("pulse: fork");
		return 1;
	}
	if (child == 0) {
		execvp(argv[optind], argv + optind);
		perror("pulse: exec");
		_exit(127);
	}

	long pulses = 0, stopped_ms = 0;
	int status = 0;
	for (;;) {
		pid_t w = waitpid(child, &status, WNOHANG);
		if (w == child)
			break;
		if (got_signal) {
			kill(child, got_signal);
			got_signal = 0;
		}
		sleep_ms(rand() % (run_ms + 1));
		pid_t hits[MAX_HITS];
		int nh = find_targets(child, names, nnames, hits);
		if (nh == 0) {
			sleep_ms(1);
			continue;
		}
		int first = all ? 0 : rand() % nh, last = all ? nh : first + 1;
		long ms = 1 + rand() % stop_ms;
		for (int i = first; i < last; i++)
			kill(hits[i], SIGSTOP);
		sleep_ms(ms);
		/* continued whatever happened meanwhile (a signal to pulse too) */
		for (int i = first; i < last; i++)
			kill(hits[i], SIGCONT);
		pulses++;
		stopped_ms += ms;
	}
	fprintf(stderr, "pulse: seed %u, %ld pulses, %ld ms stopped\n", seed, pulses, stopped_ms);
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}
