/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Volume configuration files: parsing into attach's options (no I/O but
 * the file read). */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "volume-conf.h"

#define CONF_MAX (64u << 10)

enum key_kind {
	KEY_VALUE, /* --option VALUE */
	KEY_YES,   /* "yes": nothing, "no": --option */
	KEY_FLAG,  /* "yes": --option, "no": nothing */
};

static const struct conf_key {
	const char *key, *option;
	enum key_kind kind;
	bool required;
} conf_keys[] = {
	{"portal", "--portal", KEY_VALUE, true},
	{"target", "--targetname", KEY_VALUE, true},
	{"lun", "--lun", KEY_VALUE, true},
	{"export", "--export", KEY_VALUE, true},
	{"iface", "--interface", KEY_VALUE, false},
	{"iface_dir", "--iface-dir", KEY_VALUE, false},
	/* multipath (docs/MULTIPATH.md): paths are words, each a --path */
	{"paths", "--paths", KEY_VALUE, false},
	{"all_portals", "--all-portals", KEY_FLAG, false},
	{"path_policy", "--path-policy", KEY_VALUE, false},
	{"failback", "--failback", KEY_VALUE, false},
	{"no_path_timeout", "--no-path-timeout", KEY_VALUE, false},
	{"engine", "--engine", KEY_VALUE, false},
	{"queues", "--queues", KEY_VALUE, false},
	{"max_sessions", "--max-sessions", KEY_VALUE, false},
	{"timeout", "--timeout", KEY_VALUE, false},
	{"command_timeout", "--command-timeout", KEY_VALUE, false},
	{"request_timeout", "--request-timeout", KEY_VALUE, false},
	{"replacement_timeout", "--replacement-timeout", KEY_VALUE, false},
	{"noop_out_interval", "--noop-out-interval", KEY_VALUE, false},
	{"noop_out_timeout", "--noop-out-timeout", KEY_VALUE, false},
	{"device_timeout", "--device-timeout", KEY_VALUE, false},
	{"header_digest", "--header-digest", KEY_VALUE, false},
	{"data_digest", "--data-digest", KEY_VALUE, false},
	{"chap_user", "--chap-user", KEY_VALUE, false},
	{"chap_secret_file", "--chap-secret-file", KEY_VALUE, false},
	{"chap_target_user", "--chap-target-user", KEY_VALUE, false},
	{"chap_target_secret_file", "--chap-target-secret-file", KEY_VALUE, false},
	{"chap_algorithms", "--chap-algorithms", KEY_VALUE, false},
	/* the NBD socket export (docs: "TLS"); secrets only as file paths */
	{"tls", "--tls", KEY_VALUE, false},
	{"tls_creds", "--tls-creds", KEY_VALUE, false},
	{"tls_psk", "--tls-psk", KEY_VALUE, false},
	{"tls_verify_peer", "--tls-verify-peer", KEY_FLAG, false},
	{"insecure", "--insecure", KEY_FLAG, false},
	{"socket_group", "--socket-group", KEY_VALUE, false},
	{"fallback", "--no-fallback", KEY_YES, false},
	{"recovery", "--no-recovery", KEY_YES, false},
};

#define NKEYS (sizeof(conf_keys) / sizeof(conf_keys[0]))

const char *lb_conf_dir(void)
{
	const char *d = getenv("LUNBRIDGE_CONF_DIR");

	return d && *d ? d : LB_CONF_DIR_DEFAULT;
}

void lb_volume_conf_clear(struct lb_volume_conf *c)
{
	free(c->argv);
	free(c->text);
	memset(c, 0, sizeof(*c));
}

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

int lb_volume_conf_parse(const char *text, const char *path, struct lb_volume_conf *ret,
			 lb_err *err)
{
	struct lb_volume_conf c = {0};
	const char *seen[NKEYS] = {0};
	unsigned line = 0;
	char *p, *next;
	int r = 0;

	memset(ret, 0, sizeof(*ret));
	c.text = strdup(text);
	/* at most two words per key, and the NULL */
	c.argv = calloc(2 * NKEYS + 1, sizeof(*c.argv));
	if (!c.text || !c.argv) {
		lb_volume_conf_clear(&c);
		return lb_err_set(err, ENOMEM, "out of memory");
	}
	for (p = c.text; p; p = next) {
		char *eq, *key, *value;
		size_t k;

		line++;
		next = strchr(p, '\n');
		if (next)
			*next++ = '\0';
		p = trim(p);
		if (!*p || *p == '#')
			continue;
		eq = strchr(p, '=');
		if (!eq) {
			r = lb_err_set(err, EINVAL, "%s:%u: not a 'key = value' line", path, line);
			break;
		}
		*eq = '\0';
		key = trim(p);
		value = trim(eq + 1);
		for (k = 0; k < NKEYS; k++)
			if (strcmp(key, conf_keys[k].key) == 0)
				break;
		if (k == NKEYS) {
			r = lb_err_set(err, EINVAL, "%s:%u: unknown key '%.64s'", path, line, key);
			break;
		}
		if (seen[k]) {
			r = lb_err_set(err, EINVAL, "%s:%u: '%s' is set twice", path, line, key);
			break;
		}
		if (!*value) {
			r = lb_err_set(err, EINVAL, "%s:%u: '%s' has no value", path, line, key);
			break;
		}
		seen[k] = value;
		if (conf_keys[k].kind == KEY_YES || conf_keys[k].kind == KEY_FLAG) {
			if (strcmp(value, conf_keys[k].kind == KEY_YES ? "no" : "yes") == 0)
				c.argv[c.argc++] = (char *)conf_keys[k].option;
			else if (strcmp(value, conf_keys[k].kind == KEY_YES ? "yes" : "no") != 0) {
				r = lb_err_set(err, EINVAL,
					       "%s:%u: '%s' is 'yes' or 'no', not '%.64s'", path,
					       line, key, value);
				break;
			}
			continue;
		}
		c.argv[c.argc++] = (char *)conf_keys[k].option;
		c.argv[c.argc++] = value;
	}
	for (size_t k = 0; r == 0 && k < NKEYS; k++)
		if (conf_keys[k].required && !seen[k])
			r = lb_err_set(err, EINVAL, "%s: '%s' is missing", path, conf_keys[k].key);
	if (r < 0) {
		lb_volume_conf_clear(&c);
		return r;
	}
	*ret = c;
	return 0;
}

char **lb_volume_conf_argv(const struct lb_volume_conf *c, char *argv0, char *name,
			   char *const *extra, size_t nextra, int *ret_argc)
{
	char **av = calloc(c->argc + nextra + 4, sizeof(*av));
	size_t n = 0;

	if (!av)
		return NULL;
	av[n++] = argv0;
	for (size_t i = 0; i < c->argc; i++)
		av[n++] = c->argv[i];
	av[n++] = (char *)"--name";
	av[n++] = name;
	for (size_t i = 0; i < nextra; i++)
		av[n++] = extra[i];
	*ret_argc = (int)n;
	return av;
}

int lb_volume_conf_load(const char *dir, const char *name, struct lb_volume_conf *ret, lb_err *err)
{
	_cleanup_free_ char *path = NULL, *text = NULL;
	_cleanup_close_ int fd = -1;
	struct stat st;
	size_t len = 0;
	ssize_t n;

	if (asprintf(&path, "%s/%s.conf", dir, name) < 0) {
		path = NULL;
		return lb_err_set(err, ENOMEM, "out of memory");
	}
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return errno == ENOENT ? lb_err_set(err, ENOENT,
						    "no volume '%s' is configured (%s)", name, path)
				       : lb_err_set(err, errno, "%s: %m", path);
	if (fstat(fd, &st) < 0)
		return lb_err_set(err, errno, "%s: %m", path);
	if (!S_ISREG(st.st_mode) || st.st_size > (off_t)CONF_MAX)
		return lb_err_set(err, EINVAL, "%s: not a regular file of at most %u bytes", path,
				  CONF_MAX);
	text = malloc((size_t)st.st_size + 1);
	if (!text)
		return lb_err_set(err, ENOMEM, "out of memory");
	while (len < (size_t)st.st_size &&
	       ((n = read(fd, text + len, (size_t)st.st_size - len)) > 0 ||
		(n < 0 && errno == EINTR)))
		if (n > 0)
			len += (size_t)n;
	text[len] = '\0';
	if (memchr(text, '\0', len))
		return lb_err_set(err, EINVAL, "%s: holds a NUL byte", path);
	return lb_volume_conf_parse(text, path, ret, err);
}
