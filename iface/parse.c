/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Reading a record file.  iscsiadm writes `iface.KEY = VALUE` lines between
 * "# BEGIN RECORD" and "# END RECORD" comments.  We read what it writes,
 * and what a person writes by hand: any '#' line is a comment, blank lines
 * are skipped, white space around '=' is optional.  Values are kept as
 * written; whether they make sense is iface_rec_validate()'s question.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "iface-internal.h"

#define IFACE_KEY_LEN_MAX 128
#define IFACE_EXTRA_MAX 256

DEFINE_CLEANUP_FUNC(iface_rec, iface_rec_free)

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

static const char *trim(const char *s, const char *end, size_t *ret_len)
{
	while (s < end && is_blank(*s))
		s++;
	while (end > s && is_blank(end[-1]))
		end--;
	*ret_len = (size_t)(end - s);
	return s;
}

static int parse_line(iface_rec *r, const char *line, const char *end, unsigned lineno,
		      lb_err *err)
{
	char key[IFACE_KEY_LEN_MAX + 1], value[IFACE_VALUE_MAX + 1];
	const char *eq, *k, *v;
	size_t klen, vlen;

	eq = memchr(line, '=', (size_t)(end - line));
	if (!eq)
		return lb_err_set(err, EINVAL, "line %u: no '=' between key and value", lineno);
	k = trim(line, eq, &klen);
	v = trim(eq + 1, end, &vlen);
	if (klen == 0)
		return lb_err_set(err, EINVAL, "line %u: no key before '='", lineno);
	if (klen > IFACE_KEY_LEN_MAX)
		return lb_err_set(err, EINVAL, "line %u: key longer than %d characters", lineno,
				  IFACE_KEY_LEN_MAX);
	if (vlen > IFACE_VALUE_MAX)
		return lb_err_set(err, EINVAL, "line %u: value longer than %d characters", lineno,
				  IFACE_VALUE_MAX);
	memcpy(key, k, klen);
	key[klen] = '\0';
	memcpy(value, v, vlen);
	value[vlen] = '\0';

	if (strncmp(key, "iface.", 6) != 0 || klen == 6)
		return lb_err_set(err, EINVAL, "line %u: '%s' is not an iface key", lineno, key);
	for (const char *p = key; *p; p++)
		if (*(const unsigned char *)p <= ' ' || *p == 0x7f)
			return lb_err_set(err, EINVAL, "line %u: key contains white space", lineno);
	if (strcmp(value, "<empty>") == 0)
		value[0] = '\0';

	if (strcmp(key, IFACE_KEY_NAME) == 0) {
		if (strcmp(value, r->name) != 0)
			return lb_err_set(err, EINVAL,
					  "line %u: iface.iscsi_ifacename '%s' does not match the "
					  "file name '%s'",
					  lineno, value, r->name);
		return 0;
	}
	if (iface_key_index(key) < 0 && r->nextra >= IFACE_EXTRA_MAX)
		return lb_err_set(err, E2BIG, "line %u: more than %d unknown keys", lineno,
				  IFACE_EXTRA_MAX);
	return iface_rec_set_raw(r, key, value);
}

int iface_rec_parse(const char *name, const char *text, size_t len, iface_rec **ret,
		    lb_err *err)
{
	_cleanup_(iface_rec_freep) iface_rec *r = NULL;
	const char *p = text, *end = text + len;
	unsigned lineno = 0;
	int rc;

	rc = iface_rec_new(name, &r, err);
	if (rc < 0)
		return rc;
	if (memchr(text, '\0', len))
		return lb_err_set(err, EINVAL, "contains a NUL byte; not a text record");

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eol = nl ? nl : end;
		const char *s = p;

		lineno++;
		while (s < eol && is_blank(*s))
			s++;
		if (s < eol && *s != '#') {
			rc = parse_line(r, s, eol, lineno, err);
			if (rc < 0)
				return rc;
		}
		p = nl ? nl + 1 : end;
	}
	*ret = TAKE_PTR(r);
	return 0;
}
