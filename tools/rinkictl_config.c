/*
 * rinkictl_config: the rinkictl commands about rinki.conf. "config show" prints the
 * configuration rinkid would run with: the file loaded over the built-in defaults (the
 * prompt directory make baked in for PREFIX, for one), every key with its value. It uses
 * the gateway's own conf module, so it reads the file exactly as rinkid does.
 * Exit status: 0 ok, 1 the file has errors or cannot be read, 2 usage.
 */
#include <stdio.h>
#include <string.h>

#include "core/conf.h"

#define DEFAULT_CONF "/etc/rinki/rinki.conf"
#define EXIT_USAGE   2

int ctl_config_main(const char *dbpath, int argc, char **argv);

static int usage(const char *what)
{
	fprintf(stderr, "rinkictl: %s\nusage: rinkictl config show [-c FILE]\n", what);
	return EXIT_USAGE;
}

/* Parse [-c FILE] from argv[1..]; the path in *conf_path. 0 or the usage exit status. */
static int conf_arg(int argc, char **argv, const char **conf_path)
{
	*conf_path = DEFAULT_CONF;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-c") == 0 && i + 1 < argc)
			*conf_path = argv[++i];
		else
			return usage("config: unexpected argument");
	}
	return 0;
}

static int cmd_show(int argc, char **argv)
{
	static struct gw_conf conf; /* large */
	const char *path;
	int rc = conf_arg(argc, argv, &path);
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
		return usage("config: the subcommand is show");
	if (strcmp(argv[0], "show") == 0)
		return cmd_show(argc, argv);
	return usage("config: unknown subcommand");
}
