/*
 * Unit tests for gateway/service/preflight.c: every finding a configuration or roster
 * gets before rinkid runs with it (groups, voice bridge, prompt files, key source, lines
 * nobody is on duty for), and the prompt file list against the modules that load the
 * prompts and against tools/prompts.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/conf.h"
#include "core/log.h"
#include "service/callback.h"
#include "service/preflight.h"
#include "store/db.h"
#include "store/roster.h"
#include "voice/prompt.h"

static char dir[] = "/tmp/rinki-test-preflight-XXXXXX";
static char found[16][600];
static int n_found, n_errors;

static void on_finding(enum gw_preflight_level level, const char *key, const char *msg, void *arg)
{
	(void)arg;
	if (n_found < 16)
		snprintf(found[n_found], sizeof(found[0]), "%s %s: %s",
			 level == GW_PREFLIGHT_ERROR ? "error" : "warn", key, msg);
	n_found++;
	n_errors += level == GW_PREFLIGHT_ERROR;
}

/* True when a finding starts with prefix ("error ctl.group") and contains text. */
static bool has(const char *prefix, const char *text)
{
	for (int i = 0; i < n_found && i < 16; i++)
		if (strncmp(found[i], prefix, strlen(prefix)) == 0 && strstr(found[i], text))
			return true;
	for (int i = 0; i < n_found && i < 16; i++)
		print_message("  found: %s\n", found[i]);
	print_message("  missing: %s...%s\n", prefix, text);
	return false;
}

static int check(const struct gw_conf *c)
{
	n_found = n_errors = 0;
	return gw_preflight_conf(c, on_finding, NULL);
}

/* A configuration with nothing to say: a bridge, its prompts, a vendor that reports keys. */
static void good_conf(struct gw_conf *c)
{
	gw_conf_defaults(c);
	snprintf(c->audio_radio, sizeof(c->audio_radio), "plughw:CARD=Radio,DEV=0");
	snprintf(c->audio_phone, sizeof(c->audio_phone), "plughw:CARD=Modem,DEV=0");
	snprintf(c->prompt_dir, sizeof(c->prompt_dir), "%s/prompts", dir);
	snprintf(c->modem_vendor, sizeof(c->modem_vendor), "quectel");
	c->ctl_group[0] = c->ctl_admin_group[0] = '\0'; /* test_groups sets them */
}

static void make_prompts(const char *lang)
{
	char path[300];
	snprintf(path, sizeof(path), "%s/prompts", dir);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/prompts/%s", dir, lang);
	mkdir(path, 0700);
	for (int i = 0; gw_preflight_prompt_file(i); i++) {
		snprintf(path, sizeof(path), "%s/prompts/%s/%s.wav", dir, lang,
			 gw_preflight_prompt_file(i));
		FILE *f = fopen(path, "w");
		assert_non_null(f);
		fclose(f);
	}
}

static void test_clean_conf(void **state)
{
	(void)state;
	struct gw_conf c;
	good_conf(&c);
	assert_int_equal(check(&c), 0);
	assert_int_equal(n_found, 0);
}

static void test_groups(void **state)
{
	(void)state;
	struct gw_conf c;
	good_conf(&c);
	struct group *g = getgrgid(0); /* exists on every Linux machine */
	assert_non_null(g);
	snprintf(c.ctl_group, sizeof(c.ctl_group), "%s", g->gr_name);
	snprintf(c.ctl_admin_group, sizeof(c.ctl_admin_group), "4242"); /* a gid: taken */
	assert_int_equal(check(&c), 0);
	snprintf(c.ctl_group, sizeof(c.ctl_group), "rinki-typo-no-such-group");
	assert_int_equal(check(&c), -EINVAL);
	assert_true(has("error ctl.group", "no group 'rinki-typo-no-such-group'"));
	assert_true(has("error ctl.group", "without its control socket"));
	snprintf(c.ctl_group, sizeof(c.ctl_group), "%s", g->gr_name);
	snprintf(c.ctl_admin_group, sizeof(c.ctl_admin_group), "rinki-admn");
	assert_int_equal(check(&c), -EINVAL);
	assert_int_equal(n_errors, 1);
	assert_true(has("error ctl.admin_group", "no group 'rinki-admn'"));
	/* the defaults: never an error, as rinkid goes on without them; a warning for each
	   one missing on this machine (one without the package's groups) */
	snprintf(c.ctl_group, sizeof(c.ctl_group), "rinki-status");
	snprintf(c.ctl_admin_group, sizeof(c.ctl_admin_group), "rinki-admin");
	bool no_status = !getgrnam("rinki-status"), no_admin = !getgrnam("rinki-admin");
	assert_int_equal(check(&c), (int)no_status + (int)no_admin);
	assert_int_equal(n_errors, 0);
	if (no_status)
		assert_true(has("warn ctl.group", "no group 'rinki-status' (the default)"));
	if (no_admin)
		assert_true(has("warn ctl.admin_group", "no group 'rinki-admin' (the default)"));
}

static void test_no_bridge_and_key_source(void **state)
{
	(void)state;
	struct gw_conf c;
	gw_conf_defaults(&c); /* no audio, modem.vendor generic */
	c.ctl_group[0] = c.ctl_admin_group[0] = '\0';
	assert_int_equal(check(&c), 2);
	assert_int_equal(n_errors, 0);
	assert_true(has("warn audio.radio", "no announcement"));
	assert_true(has("warn modem.vendor", "generic reports no keys"));
	assert_true(has("warn modem.vendor", "only the SMS page's reply code accepts"));
	c.sms_page = false;
	assert_int_equal(check(&c), 2);
	assert_true(has("warn modem.vendor", "nobody can accept a call"));
	/* a vendor that reports keys: only the bridge is missing */
	snprintf(c.modem_vendor, sizeof(c.modem_vendor), "simcom");
	assert_int_equal(check(&c), 1);
	assert_true(has("warn audio.radio", "not set"));
	/* half a bridge is no bridge */
	snprintf(c.audio_radio, sizeof(c.audio_radio), "hw:0");
	assert_int_equal(check(&c), 1);
	assert_true(has("warn audio.phone", "only one of audio.radio and audio.phone"));
	/* in-band keys on the phone's audio are a key source with a generic modem */
	good_conf(&c);
	snprintf(c.modem_vendor, sizeof(c.modem_vendor), "huawei");
	assert_int_equal(check(&c), 0);
}

static void test_prompts_missing(void **state)
{
	(void)state;
	struct gw_conf c;
	char path[300];
	good_conf(&c);
	snprintf(path, sizeof(path), "%s/prompts/fi/cb_pin.wav", dir);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(check(&c), -EINVAL);
	assert_true(has("error prompt.dir", "1 prompt(s) of prompt.language fi missing"));
	assert_true(has("error prompt.dir", "fi/cb_pin.wav"));
	make_prompts("fi");
	/* another language's: a warning, workers of that language hear prompt.language */
	snprintf(path, sizeof(path), "%s/prompts/sv/keys.wav", dir);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(check(&c), 1);
	assert_true(has("warn prompt.dir", "1 sv prompt(s) missing"));
	make_prompts("sv");
	/* no such directory at all: every prompt of every language */
	snprintf(c.prompt_dir, sizeof(c.prompt_dir), "%s/nothing", dir);
	assert_int_equal(check(&c), -EINVAL);
	assert_true(has("error prompt.dir", "11 prompt(s) of prompt.language fi missing"));
	assert_int_equal(n_found, 3);
}

/* The list is what prompt.c and callback.c load, and what make builds from tools/prompts. */
static void test_prompt_list(void **state)
{
	(void)state;
	int n = 0;
	while (gw_preflight_prompt_file(n))
		n++;
	assert_int_equal(n, GW_PROMPT_COUNT + GW_CB_PROMPT_COUNT);
	for (int p = 0; p < GW_PROMPT_COUNT + GW_CB_PROMPT_COUNT; p++) {
		const char *name =
		    p < GW_PROMPT_COUNT
			? gw_prompt_name((enum gw_prompt_id)p)
			: gw_cb_prompt_name((enum gw_cb_prompt)(p - GW_PROMPT_COUNT));
		bool listed = false;
		for (int i = 0; i < n; i++)
			listed |= strcmp(gw_preflight_prompt_file(i), name) == 0;
		if (!listed)
			fail_msg("prompt %s is loaded but not in preflight's list", name);
	}
	for (int i = 0; i < n; i++) {
		char txt[200];
		snprintf(txt, sizeof(txt), "tools/prompts/fi/%s.txt", gw_preflight_prompt_file(i));
		if (access(txt, R_OK) != 0)
			fail_msg("%s: no source for a listed prompt", txt);
	}
	DIR *d = opendir("tools/prompts/fi");
	assert_non_null(d);
	int txts = 0;
	for (struct dirent *e; (e = readdir(d));)
		txts +=
		    strlen(e->d_name) > 4 && strcmp(e->d_name + strlen(e->d_name) - 4, ".txt") == 0;
	closedir(d);
	assert_int_equal(txts, n);
}

static int64_t t(const char *iso)
{
	int64_t ms;
	assert_int_equal(gw_roster_parse_time(iso, &ms), 0);
	return ms;
}

static void test_roster_gaps(void **state)
{
	(void)state;
	char dbpath[300], csvpath[300];
	struct gw_db *db;
	struct gw_roster *r;
	snprintf(dbpath, sizeof(dbpath), "%s/r.db", dir);
	snprintf(csvpath, sizeof(csvpath), "%s/r.csv", dir);
	FILE *f = fopen(csvpath, "w");
	assert_non_null(f);
	fputs("line,sos,Sosiaalipäivystys,Socialjour,Social on-call\n"
	      "line,mhs,Mielenterveys,Mentalvård,Mental health\n"
	      "line,lsp,Lastensuojelu,Barnskydd,Child protection\n"
	      "line,vwc,Väkivaltatyö,Våldsarbete,Violence work\n"
	      "worker,aino,Aino Virtanen,+358401234567,\n"
	      "worker,mikko,Mikko Korhonen,+358401234568,\n"
	      /* sos: covered all the time (a daily rotation) */
	      "rotation,r1,sos,daily,2026-01-01,08:00,1\n"
	      "rotation_member,r1,1,aino\n"
	      "rotation_member,r1,2,mikko\n"
	      /* mhs: a night off on 2026-03-05, 20:00-08:00 Helsinki (UTC+2) */
	      "shift,mhs,aino,2026-02-01T00:00Z,2026-03-05T18:00Z,1\n"
	      "shift,mhs,mikko,2026-03-06T06:00Z,2026-06-01T00:00Z,1\n"
	      /* lsp: nobody at all; vwc: nobody from 2026-03-10 10:00 Helsinki on */
	      "shift,vwc,mikko,2026-02-01T00:00Z,2026-03-10T08:00Z,1\n",
	      f);
	fclose(f);
	assert_int_equal(gw_db_open(dbpath, &db), 0);
	assert_int_equal(gw_roster_import_file(db, csvpath, NULL, NULL, NULL), 0);
	int64_t now = t("2026-03-01T10:00Z");
	assert_int_equal(gw_roster_load_at(db, now, &r), 0);
	n_found = n_errors = 0;
	assert_int_equal(gw_preflight_roster(r, now, GW_PREFLIGHT_ROSTER_DAYS, on_finding, NULL),
			 3);
	assert_int_equal(n_found, 3);
	assert_true(has("warn roster", "line lsp: nobody on duty now or in the next 14 days"));
	assert_true(has("warn roster",
			"line mhs: nobody on duty from 2026-03-05 20:00 to 2026-03-06 08:00"));
	assert_true(has("warn roster", "line vwc: nobody on duty from 2026-03-10 10:00"));
	/* a week later than the mhs gap: only lsp and vwc */
	n_found = 0;
	assert_int_equal(gw_preflight_roster(r, t("2026-03-06T08:00Z"), 14, on_finding, NULL), 2);
	assert_false(strstr(found[0], "mhs") || strstr(found[1], "mhs"));
	gw_roster_free(r);
	gw_db_close(db);
	const char *suffix[] = {"", "-wal", "-shm"};
	for (int i = 0; i < 3; i++) {
		char p[320];
		snprintf(p, sizeof(p), "%s%s", dbpath, suffix[i]);
		unlink(p);
	}
	unlink(csvpath);
}

static int group_setup(void **state)
{
	(void)state;
	if (!mkdtemp(dir))
		return -1;
	gw_log_set_level(GW_LOG_NCATS, GW_LOG_ERROR);
	make_prompts("fi");
	make_prompts("sv");
	make_prompts("en");
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	char cmd[100];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* roster.timezone: a zone of the tz database passes; a missing or bad one is an error. */
static void test_timezone(void **state)
{
	(void)state;
	struct gw_conf c;
	good_conf(&c);
	assert_string_equal(c.roster_timezone, "Europe/Helsinki");
	snprintf(c.roster_timezone, sizeof(c.roster_timezone), "Europe/Stockholm");
	assert_int_equal(check(&c), 0);
	assert_int_equal(n_found, 0);
	snprintf(c.roster_timezone, sizeof(c.roster_timezone), "Europe/Stokholm");
	assert_int_equal(check(&c), -EINVAL);
	assert_true(has("error roster.timezone", "/usr/share/zoneinfo/Europe/Stokholm"));
	snprintf(c.roster_timezone, sizeof(c.roster_timezone), "../../etc/passwd");
	assert_int_equal(check(&c), -EINVAL);
	assert_true(has("error roster.timezone", "not a zone name"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_clean_conf),
	    cmocka_unit_test(test_groups),
	    cmocka_unit_test(test_no_bridge_and_key_source),
	    cmocka_unit_test(test_prompts_missing),
	    cmocka_unit_test(test_prompt_list),
	    cmocka_unit_test(test_roster_gaps),
	    cmocka_unit_test(test_timezone),
	};
	return cmocka_run_group_tests_name("preflight", tests, group_setup, group_teardown);
}
