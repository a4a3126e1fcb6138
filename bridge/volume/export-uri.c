/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/un.h>

#include "export-uri.h"
#include "hex.h"

_Static_assert(sizeof(((struct sockaddr_un *)0)->sun_path) == LB_EXPORT_SOCKET_MAX + 1,
	       "a socket path must fit sun_path with its NUL");
_Static_assert(sizeof(((struct lb_export *)0)->socket_path) == LB_EXPORT_SOCKET_MAX + 1,
	       "socket_path holds LB_EXPORT_SOCKET_MAX bytes");
_Static_assert(sizeof(((struct lb_export *)0)->name) == LB_EXPORT_NAME_MAX + 1,
	       "name holds LB_EXPORT_NAME_MAX bytes");
_Static_assert(sizeof(((struct lb_export *)0)->host) > LB_EXPORT_HOST_MAX &&
		       sizeof(((struct lb_export *)0)->host) >= INET6_ADDRSTRLEN,
	       "host holds a name or an IPv6 literal");

#define FORMS                                                                                      \
	"nbd+unix:///NAME?socket=PATH, nbd://HOST[:PORT]/NAME, nbd, /dev/nbdN, ublk, ublk:ID or "  \
	"/dev/ublkbN"

/* ASCII only: the C library's classes follow the locale. */
static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* RFC 3986 unreserved characters: never percent-encoded. */
static bool is_unreserved(char c)
{
	return is_alpha(c) || is_digit(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

static bool is_host_char(char c)
{
	return is_alpha(c) || is_digit(c) || c == '-' || c == '.' || c == '_';
}

/* ---- device numbers ---------------------------------------------------- */

/* A device number as the kernel names devices: decimal digits, no sign,
 * no leading zero (there is no /dev/nbd01), at most LB_EXPORT_INDEX_MAX
 * (both nbd and ublk refuse larger ones). */
static int parse_index(const char *s, const char *input, int *ret, lb_err *err)
{
	unsigned long v = 0;
	const char *p;

	if (*s == '-')
		return lb_err_set(err, EINVAL, "the device number in '%.64s' is negative", input);
	for (p = s; is_digit(*p); p++)
		if (v <= LB_EXPORT_INDEX_MAX)
			v = v * 10 + (unsigned long)(*p - '0');
	if (p == s)
		return lb_err_set(err, EINVAL, "'%.64s' has no device number", input);
	if (*p != '\0')
		return lb_err_set(err, EINVAL, "'%.64s' has '%.16s' after its device number", input,
				  p);
	if (s[0] == '0' && s[1] != '\0')
		return lb_err_set(err, EINVAL, "the device number in '%.64s' has a leading zero",
				  input);
	if (v > LB_EXPORT_INDEX_MAX)
		return lb_err_set(err, EINVAL, "the device number in '%.64s' is larger than %d",
				  input, LB_EXPORT_INDEX_MAX);
	*ret = (int)v;
	return 0;
}

/* ---- URIs -------------------------------------------------------------- */

/* Percent-decode len bytes at s into out, which has room for len + 1.
 * Returns the decoded length, or -EINVAL for a bad escape or a NUL. */
static int pct_decode(const char *s, size_t len, char *out, const char *what, lb_err *err)
{
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		int hi, lo;

		if (s[i] != '%') {
			out[o++] = s[i];
			continue;
		}
		if (len - i < 3 || (hi = lb_hex_value(s[i + 1])) < 0 || (lo = lb_hex_value(s[i + 2])) < 0)
			return lb_err_set(err, EINVAL, "bad percent-escape '%.*s' in the %s",
					  (int)(len - i < 3 ? len - i : 3), s + i, what);
		if (hi == 0 && lo == 0)
			return lb_err_set(err, EINVAL, "NUL byte (%%00) in the %s", what);
		out[o++] = (char)(hi << 4 | lo);
		i += 2;
	}
	out[o] = '\0';
	return (int)o;
}

/* PORT from an authority: RFC 3986 §3.2.3 allows it empty (the default). */
static int parse_port(const char *p, size_t len, uint16_t *ret, lb_err *err)
{
	unsigned long v = 0;
	int shown = len > 16 ? 16 : (int)len;

	if (len == 0) {
		*ret = LB_EXPORT_DEFAULT_PORT;
		return 0;
	}
	for (size_t i = 0; i < len; i++) {
		if (!is_digit(p[i]))
			return lb_err_set(err, EINVAL, "port '%.*s' is not a number", shown, p);
		if (v <= 65535)
			v = v * 10 + (unsigned long)(p[i] - '0');
	}
	if (v == 0 || v > 65535)
		return lb_err_set(err, EINVAL, "port %.*s is out of range (1-65535)", shown, p);
	*ret = (uint16_t)v;
	return 0;
}

/* "[IPv6]" without its brackets: stored in canonical form. */
static int parse_ipv6(const char *h, size_t len, char *out, size_t out_size, lb_err *err)
{
	char text[INET6_ADDRSTRLEN];
	unsigned char addr[16];

	if (memchr(h, '%', len))
		return lb_err_set(err, EINVAL,
				  "scoped IPv6 addresses ('%%25zone') are not supported");
	if (len >= sizeof(text))
		return lb_err_set(err, EINVAL, "'[%.*s...]' is not an IPv6 address", 40, h);
	memcpy(text, h, len);
	text[len] = '\0';
	if (inet_pton(AF_INET6, text, addr) != 1)
		return lb_err_set(err, EINVAL, "'[%s]' is not an IPv6 address", text);
	if (!inet_ntop(AF_INET6, addr, out, (socklen_t)out_size))
		return lb_err_set(err, EINVAL, "cannot format IPv6 address '%s'", text);
	return 0;
}

/* What is wrong with host name h, or NULL.  RFC 1123 names (with '_',
 * which some resolvers allow), optionally ending in '.'; digits and dots
 * alone must make a dotted quad, as getaddrinfo() would read "1234" or
 * "10.1" as an address. */
static const char *hostname_problem(const char *h, size_t len)
{
	bool numeric = true, digit = false;
	size_t label = 0;
	char text[16];
	unsigned char addr[4];

	if (len > LB_EXPORT_HOST_MAX)
		return "is longer than 253 bytes";
	for (size_t i = 0; i < len; i++) {
		if (!is_host_char(h[i]))
			return "has characters other than letters, digits, '-', '.' and '_'";
		numeric = numeric && (is_digit(h[i]) || h[i] == '.');
		digit = digit || is_digit(h[i]);
	}
	if (numeric && digit) {
		if (len >= sizeof(text))
			return "is not an IPv4 address";
		memcpy(text, h, len);
		text[len] = '\0';
		return inet_pton(AF_INET, text, addr) == 1 ? NULL : "is not an IPv4 address";
	}
	for (size_t i = 0; i <= len; i++) {
		if (i < len && h[i] != '.') {
			label++;
			continue;
		}
		if (label == 0 && !(i == len && len > 1))
			return "has an empty label";
		if (label > 63)
			return "has a label longer than 63 bytes";
		if (label > 0 && (h[i - label] == '-' || h[i - 1] == '-'))
			return "has a label that starts or ends with '-'";
		label = 0;
	}
	return NULL;
}

static int parse_hostname(const char *h, size_t len, char *out, lb_err *err)
{
	const char *problem = hostname_problem(h, len);

	if (problem)
		return lb_err_set(err, EINVAL, "host '%.*s' %s", len > 64 ? 64 : (int)len, h,
				  problem);
	memcpy(out, h, len);
	out[len] = '\0';
	return 0;
}

/* HOST[:PORT] or [IPv6][:PORT]; an empty HOST is loopback. */
static int parse_authority(const char *a, size_t len, struct lb_export *e, lb_err *err)
{
	const char *port = NULL;
	size_t port_len = 0;
	int r;

	if (len > 0 && a[0] == '[') {
		const char *close = memchr(a, ']', len);
		size_t rest;

		if (!close)
			return lb_err_set(err, EINVAL, "'[' without ']' in the host");
		rest = len - (size_t)(close + 1 - a);
		if (rest > 0 && close[1] != ':')
			return lb_err_set(err, EINVAL, "'%.*s' after ']' (expected ':PORT')",
					  (int)rest, close + 1);
		if (rest > 0) {
			port = close + 2;
			port_len = rest - 1;
		}
		r = parse_ipv6(a + 1, (size_t)(close - a - 1), e->host, sizeof(e->host), err);
	} else {
		const char *colon = memchr(a, ':', len);
		size_t host_len = colon ? (size_t)(colon - a) : len;

		if (colon) {
			port = colon + 1;
			port_len = len - host_len - 1;
			if (memchr(port, ':', port_len))
				return lb_err_set(err, EINVAL,
						  "IPv6 addresses must be in brackets "
						  "(nbd://[ADDR]:PORT/NAME)");
		}
		if (host_len == 0) {
			(void)strcpy(e->host, "127.0.0.1");
			r = 0;
		} else {
			r = parse_hostname(a, host_len, e->host, err);
		}
	}
	if (r < 0)
		return r;
	return parse_port(port, port_len, &e->port, err);
}

/* The query: socket=PATH for nbd+unix, nothing else for either. */
static int parse_query(const char *q, struct lb_export *e, lb_err *err)
{
	char buf[LB_EXPORT_TEXT_MAX + 1];
	bool have_socket = false;
	int r;

	while (*q) {
		size_t seg = strcspn(q, "&");
		const char *eq = memchr(q, '=', seg);
		size_t key_len = eq ? (size_t)(eq - q) : seg;
		int shown = key_len > 32 ? 32 : (int)key_len;
		const char *val = eq ? eq + 1 : q + seg;
		size_t val_len = (size_t)(q + seg - val);

		if (seg == 0) { /* "?&socket=..." */
			q++;
			continue;
		}
		r = pct_decode(q, key_len, buf, "query parameter name", err);
		if (r < 0)
			return r;
		if (strcmp(buf, "socket") == 0) {
			if (e->kind != LB_EXPORT_NBD_UNIX)
				return lb_err_set(err, EINVAL, "socket= is only for nbd+unix URIs");
			if (have_socket)
				return lb_err_set(err, EINVAL, "socket= is given twice");
			if (val_len >= 3 && strncmp(val, "%00", 3) == 0)
				return lb_err_set(err, EINVAL,
						  "abstract socket names (socket=%%00...) are not "
						  "supported");
			r = pct_decode(val, val_len, buf, "socket path", err);
			if (r < 0)
				return r;
			if (r == 0)
				return lb_err_set(err, EINVAL, "the socket path is empty");
			if (r > LB_EXPORT_SOCKET_MAX)
				return lb_err_set(err, EINVAL,
						  "the socket path is %d bytes, longer than the %d "
						  "that fit in sun_path",
						  r, LB_EXPORT_SOCKET_MAX);
			memcpy(e->socket_path, buf, (size_t)r + 1);
			have_socket = true;
		} else if (strncmp(buf, "tls-", 4) == 0) {
			return lb_err_set(err, EINVAL,
					  "TLS is not supported (query parameter '%.*s')", shown,
					  q);
		} else {
			return lb_err_set(err, EINVAL, "unknown query parameter '%.*s'", shown, q);
		}
		q += seg;
		if (*q == '&')
			q++;
	}
	if (e->kind == LB_EXPORT_NBD_UNIX && !have_socket)
		return lb_err_set(err, EINVAL, "an nbd+unix URI needs ?socket=PATH");
	return 0;
}

/* SCHEME ":" where SCHEME = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ),
 * RFC 3986 §3.1: the scheme's length, or 0 if s does not start with one. */
static size_t scheme_len(const char *s)
{
	size_t n = 0;

	if (!is_alpha(s[0]))
		return 0;
	while (is_alpha(s[n]) || is_digit(s[n]) || s[n] == '+' || s[n] == '-' || s[n] == '.')
		n++;
	return s[n] == ':' ? n : 0;
}

static bool scheme_is(const char *s, size_t n, const char *want)
{
	return strlen(want) == n && strncasecmp(s, want, n) == 0;
}

static int parse_uri(const char *s, size_t n, struct lb_export *e, lb_err *err)
{
	char buf[LB_EXPORT_TEXT_MAX + 1];
	const char *rest, *path, *query;
	size_t auth_len, path_len;
	int r;

	if (scheme_is(s, n, "nbd"))
		e->kind = LB_EXPORT_NBD_TCP;
	else if (scheme_is(s, n, "nbd+unix"))
		e->kind = LB_EXPORT_NBD_UNIX;
	else if (scheme_is(s, n, "nbds") || scheme_is(s, n, "nbds+unix"))
		return lb_err_set(err, EINVAL, "TLS is not supported (scheme '%.*s')", (int)n, s);
	else
		return lb_err_set(err, EINVAL, "unknown scheme '%.*s' (expected nbd or nbd+unix)",
				  n > 32 ? 32 : (int)n, s);
	if (strncmp(s + n + 1, "//", 2) != 0)
		return lb_err_set(err, EINVAL, "expected '//' after '%.*s:'", (int)n, s);
	rest = s + n + 3;
	if (strchr(rest, '#'))
		return lb_err_set(err, EINVAL, "fragments ('#...') are not allowed in the URI");

	auth_len = strcspn(rest, "/?");
	path = rest + auth_len;
	path_len = strcspn(path, "?");
	query = path[path_len] == '?' ? path + path_len + 1 : "";

	if (memchr(rest, '@', auth_len))
		return lb_err_set(err, EINVAL, "user information ('USER@') is not supported");
	if (e->kind == LB_EXPORT_NBD_UNIX && auth_len > 0)
		return lb_err_set(err, EINVAL,
				  "an nbd+unix URI takes no host (nbd+unix:///NAME?socket=PATH)");
	if (e->kind == LB_EXPORT_NBD_TCP) {
		r = parse_authority(rest, auth_len, e, err);
		if (r < 0)
			return r;
	}

	/* The export name is the path less its leading '/'. */
	if (path_len > 0) {
		r = pct_decode(path + 1, path_len - 1, buf, "export name", err);
		if (r < 0)
			return r;
		if (r > LB_EXPORT_NAME_MAX)
			return lb_err_set(err, EINVAL,
					  "the export name is %d bytes, longer than %d", r,
					  LB_EXPORT_NAME_MAX);
		memcpy(e->name, buf, (size_t)r + 1);
	}
	return parse_query(query, e, err);
}

/* ---- parse ------------------------------------------------------------- */

int lb_export_parse(const char *s, struct lb_export *ret, lb_err *err)
{
	struct lb_export e = {.index = -1};
	size_t len, n;
	int r;

	if (!s || !*s)
		return lb_err_set(err, EINVAL, "empty export (expected %s)", FORMS);
	len = strlen(s);
	if (len > LB_EXPORT_TEXT_MAX)
		return lb_err_set(err, EINVAL, "the export is longer than %d bytes",
				  LB_EXPORT_TEXT_MAX);
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] <= ' ' || s[i] == 0x7f)
			return lb_err_set(err, EINVAL,
					  "space or control character at offset %zu of the export "
					  "(percent-encode it in a URI)",
					  i);

	if (strcmp(s, "nbd") == 0) {
		e.kind = LB_EXPORT_NBD_KERNEL;
		r = 0;
	} else if (strcmp(s, "ublk") == 0) {
		e.kind = LB_EXPORT_UBLK;
		r = 0;
	} else if (strncmp(s, "ublk:", 5) == 0) {
		e.kind = LB_EXPORT_UBLK;
		r = parse_index(s + 5, s, &e.index, err);
	} else if (strncmp(s, "/dev/nbd", 8) == 0) {
		e.kind = LB_EXPORT_NBD_KERNEL;
		r = parse_index(s + 8, s, &e.index, err);
	} else if (strncmp(s, "/dev/ublkb", 10) == 0) {
		e.kind = LB_EXPORT_UBLK;
		r = parse_index(s + 10, s, &e.index, err);
	} else if ((n = scheme_len(s)) > 0) {
		r = parse_uri(s, n, &e, err);
	} else {
		r = lb_err_set(err, EINVAL, "'%.64s' is not an export (expected %s)", s, FORMS);
	}
	if (r < 0)
		return r;
	*ret = e;
	return 0;
}

/* ---- format ------------------------------------------------------------ */

struct out {
	char *buf;
	size_t len, pos; /* pos may pass len: the text did not fit */
};

static void put(struct out *o, const char *s, size_t n)
{
	if (o->pos < o->len) {
		size_t room = o->len - o->pos;

		memcpy(o->buf + o->pos, s, n < room ? n : room);
	}
	o->pos += n;
}

static void put_str(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

/* Percent-encode all but unreserved characters and those in keep. */
static void put_encoded(struct out *o, const char *s, const char *keep)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (is_unreserved(*s) || strchr(keep, *s)) {
			put(o, s, 1);
		} else {
			char x[3] = {'%', hex[c >> 4], hex[c & 15]};

			put(o, x, sizeof(x));
		}
	}
}

static bool field_ok(const char *s, size_t size, bool may_be_empty)
{
	size_t n = strnlen(s, size);

	return n < size && (may_be_empty || n > 0);
}

/* What parse_authority() would store: a host name, a dotted quad or an
 * IPv6 literal (the only kind with ':'). */
static bool host_ok(const char *h, size_t size)
{
	unsigned char addr[16];

	if (!field_ok(h, size, false))
		return false;
	if (strchr(h, ':'))
		return !strchr(h, '%') && inet_pton(AF_INET6, h, addr) == 1;
	return hostname_problem(h, strlen(h)) == NULL;
}

int lb_export_format(const struct lb_export *e, char *buf, size_t len)
{
	struct out o = {buf, len, 0};
	char num[32];

	switch (e->kind) {
	case LB_EXPORT_NBD_UNIX:
		if (!field_ok(e->name, sizeof(e->name), true) ||
		    !field_ok(e->socket_path, sizeof(e->socket_path), false))
			return -EINVAL;
		put_str(&o, "nbd+unix:///");
		put_encoded(&o, e->name, "/:@+,=");
		put_str(&o, "?socket=");
		put_encoded(&o, e->socket_path, "/:@,="); /* '+' is a space to some */
		break;
	case LB_EXPORT_NBD_TCP:
		if (!field_ok(e->name, sizeof(e->name), true) ||
		    !host_ok(e->host, sizeof(e->host)) || e->port == 0)
			return -EINVAL;
		put_str(&o, "nbd://");
		if (strchr(e->host, ':')) {
			put_str(&o, "[");
			put_str(&o, e->host);
			put_str(&o, "]");
		} else {
			put_str(&o, e->host);
		}
		(void)snprintf(num, sizeof(num), ":%u/", (unsigned)e->port);
		put_str(&o, num);
		put_encoded(&o, e->name, "/:@+,=");
		break;
	case LB_EXPORT_NBD_KERNEL:
	case LB_EXPORT_UBLK:
		if (e->index < -1 || e->index > LB_EXPORT_INDEX_MAX)
			return -EINVAL;
		if (e->index < 0) {
			put_str(&o, e->kind == LB_EXPORT_UBLK ? "ublk" : "nbd");
		} else {
			(void)snprintf(num, sizeof(num), "%s%d",
				       e->kind == LB_EXPORT_UBLK ? "/dev/ublkb" : "/dev/nbd",
				       e->index);
			put_str(&o, num);
		}
		break;
	default:
		return -EINVAL;
	}
	if (o.pos >= len) {
		if (len > 0)
			buf[len - 1] = '\0';
		return -ENOSPC;
	}
	buf[o.pos] = '\0';
	return 0;
}
