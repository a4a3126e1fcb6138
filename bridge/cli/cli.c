/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Helpers shared by the subcommands: error lines, the record directory, JSON. */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cleanup.h"
#include "cli.h"

void cli_error(const char *fmt, ...)
{
	va_list ap;

	fputs("lunbridge: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* An option of ours at argv[i] ("--opt VALUE" or "--opt=VALUE"): its
 * value in *ret (NULL for a flag), how many words it takes, 0 if not. */
static int opt_match(char **argv, int argc, int i, const char *opt, bool flag, char **ret)
{
	size_t n = strlen(opt);

	if (strncmp(argv[i], opt, n) != 0)
		return 0;
	if (argv[i][n] == '\0') {
		if (flag) {
			*ret = NULL;
			return 1;
		}
		if (i + 1 >= argc)
			return -1;
		*ret = argv[i + 1];
		return 2;
	}
	if (argv[i][n] == '=' && !flag) {
		*ret = argv[i] + n + 1;
		return 1;
	}
	return 0;
}

int cli_take_opts(const char *cmd, int *argc, char **argv, const struct cli_opt *opts, size_t n,
		  int (*take)(void *arg, int k, char *value), void *arg)
{
	int out = 1, i;

	for (i = 1; i < *argc;) {
		char *v = NULL;
		int k, used = 0, rc;

		if (strcmp(argv[i], "--") == 0)
			break;
		for (k = 0; k < (int)n; k++) {
			used = opt_match(argv, *argc, i, opts[k].name, opts[k].flag, &v);
			if (used)
				break;
		}
		if (used < 0)
			return cli_usage_error(cmd, "%s needs a value", opts[k].name);
		if (!used) {
			argv[out++] = argv[i++];
			continue;
		}
		i += used;
		rc = take(arg, k, v);
		if (rc >= 0)
			return rc;
	}
	/* what follows a "--" stays */
	while (i < *argc)
		argv[out++] = argv[i++];
	argv[out] = NULL;
	*argc = out;
	return -1;
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fputs("lunbridge: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'lunbridge %s --help'.\n", cmd);
	return CLI_EXIT_USAGE;
}

enum { OPT_IFACE_DIR = 0x100, OPT_JSON };

int cli_iface_parse_opts(int argc, char **argv, const char *want, const char *help,
			 cli_iface_opts *o)
{
	static const struct option longopts[] = {
		{"interface", required_argument, NULL, 'I'},
		{"name", required_argument, NULL, 'n'},
		{"value", required_argument, NULL, 'v'},
		{"portal", required_argument, NULL, 'p'},
		{"iface-dir", required_argument, NULL, OPT_IFACE_DIR},
		{"json", no_argument, NULL, OPT_JSON},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":I:n:v:p:h", longopts, NULL)) != -1) {
		if (c != 'h' && c != OPT_IFACE_DIR && c != OPT_JSON && c != '?' && c != ':' &&
		    !strchr(want, c))
			return cli_usage_error(o->cmd, "'%s' does not take -%c", o->cmd, c);
		switch (c) {
		case 'I':
			o->name = optarg;
			break;
		case 'n':
			o->key = optarg;
			break;
		case 'v':
			o->value = optarg;
			o->value_given = true;
			break;
		case 'p':
			o->portal = optarg;
			break;
		case OPT_IFACE_DIR:
			o->dir = optarg;
			break;
		case OPT_JSON:
			if (!strchr(want, 'j'))
				return cli_usage_error(o->cmd, "'%s' does not take --json", o->cmd);
			o->json = true;
			break;
		case 'h':
			fputs(help, stdout);
			return CLI_EXIT_OK;
		case ':':
			return cli_usage_error(o->cmd, "option '%s' needs a value",
					       argv[optind - 1]);
		default:
			return cli_usage_error(o->cmd, "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cli_usage_error(o->cmd, "unexpected argument '%s'", argv[optind]);
	if (strchr(want, 'I') && !o->name)
		return cli_usage_error(o->cmd, "which iface? Name it with -I NAME");
	if (strchr(want, 'n') && !o->key)
		return cli_usage_error(o->cmd, "which key? Name it with -n iface.KEY");
	if (strchr(want, 'p') && !o->portal)
		return cli_usage_error(o->cmd, "which portal? Name it with --portal IP[:PORT]");
	if (strchr(want, 'v') && !o->value_given)
		return cli_usage_error(o->cmd, "no value; give one with -v VALUE (-v '' clears)");
	return -1;
}

int cli_open_store(const char *dir, iface_store **ret)
{
	lb_err err = {{0}};
	int rc = iface_store_open(dir, ret, &err);

	if (rc < 0) {
		cli_error("iface directory: %s", lb_err_msg(&err, rc));
		return CLI_EXIT_FAILURE;
	}
	return CLI_EXIT_OK;
}

void cli_print_json(json_object *o)
{
	puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
						       JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

static int add_key(const char *key, const char *value, void *arg)
{
	json_object *o = arg;

	json_object_object_add(o, key, value ? json_object_new_string(value) : NULL);
	return 0;
}

json_object *cli_iface_rec_json(const iface_rec *r)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "name", json_object_new_string(iface_rec_name(r)));
	json_object_object_add(o, "builtin",
			       json_object_new_boolean(iface_name_is_builtin(iface_rec_name(r))));
	(void)iface_rec_foreach(r, add_key, o);
	return o;
}
