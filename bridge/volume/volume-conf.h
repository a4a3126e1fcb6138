/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A configured volume: /etc/lunbridge/volumes/NAME.conf ($LUNBRIDGE_CONF_DIR
 * elsewhere), what `lunbridge attach NAME` runs and the systemd unit
 * lunbridge@NAME.service starts.  One "key = value" per line, '#' starts a
 * comment line; each key is an attach option of the same name:
 *
 *   portal, target, lun, export        (required)
 *   iface, iface_dir, engine, queues, max_sessions, timeout, command_timeout,
 *   request_timeout, replacement_timeout, device_timeout,
 *   header_digest, data_digest,
 *   chap_user, chap_secret_file, chap_target_user, chap_target_secret_file,
 *   chap_algorithms, fallback (yes|no), recovery (yes|no),
 *   tls (off|on|require), tls_creds, tls_psk, tls_verify_peer (yes|no),
 *   insecure (yes|no), socket_group
 *
 * The file is turned into attach's argv, so that the options are checked
 * once, by the same code, with the same words.  No secrets in the file:
 * only the paths of secret files.
 */
#ifndef LUNBRIDGE_VOLUME_CONF_H
#define LUNBRIDGE_VOLUME_CONF_H

#include <stddef.h>

#include "lb-err.h"

#define LB_CONF_DIR_DEFAULT "/etc/lunbridge/volumes"

/* $LUNBRIDGE_CONF_DIR, else /etc/lunbridge/volumes. */
const char *lb_conf_dir(void);

struct lb_volume_conf {
	char **argv; /* "--portal", "IP", ...; NULL-terminated */
	size_t argc;
	char *text; /* the file, which argv's values point into */
};

/* Parse TEXT (a file's content; PATH names it in errors: "PATH:LINE: ...").
 * -EINVAL for an unknown or repeated key, a line without '=', an empty
 * value, a required key missing, or a yes/no key with another word. */
int lb_volume_conf_parse(const char *text, const char *path, struct lb_volume_conf *ret,
			 lb_err *err);
/* Read DIR/NAME.conf and parse it (-ENOENT: "no volume NAME configured in DIR"). */
int lb_volume_conf_load(const char *dir, const char *name, struct lb_volume_conf *ret, lb_err *err);
void lb_volume_conf_clear(struct lb_volume_conf *c);

/* attach's whole argv for the volume: ARGV0, the file's options,
 * "--name" NAME, then EXTRA (the command line's own, --daemon); the
 * strings are borrowed.  NULL when out of memory; free the array. */
char **lb_volume_conf_argv(const struct lb_volume_conf *c, char *argv0, char *name,
			   char *const *extra, size_t nextra, int *ret_argc);

#endif
