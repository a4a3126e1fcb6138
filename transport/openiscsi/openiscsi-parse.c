/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What iscsiadm prints and the node records it keeps: parsing only. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "openiscsi.h"

static const char *const exit_names[LB_OPENISCSI_ERR_MAX + 1] = {
	"ISCSI_SUCCESS",
	"ISCSI_ERR",
	"ISCSI_ERR_SESS_NOT_FOUND",
	"ISCSI_ERR_NOMEM",
	"ISCSI_ERR_TRANS",
	"ISCSI_ERR_LOGIN",
	"ISCSI_ERR_IDBM",
	"ISCSI_ERR_INVAL",
	"ISCSI_ERR_TRANS_TIMEOUT",
	"ISCSI_ERR_INTERNAL",
	"ISCSI_ERR_LOGOUT",
	"ISCSI_ERR_PDU_TIMEOUT",
	"ISCSI_ERR_TRANS_NOT_FOUND",
	"ISCSI_ERR_ACCESS",
	"ISCSI_ERR_TRANS_CAPS",
	"ISCSI_ERR_SESS_EXISTS",
	"ISCSI_ERR_INVALID_MGMT_REQ",
	"ISCSI_ERR_ISNS_UNAVAILABLE",
	"ISCSI_ERR_ISCSID_COMM_ERR",
	"ISCSI_ERR_FATAL_LOGIN",
	"ISCSI_ERR_ISCSID_NOTCONN",
	"ISCSI_ERR_NO_OBJS_FOUND",
	"ISCSI_ERR_SYSFS_LOOKUP",
	"ISCSI_ERR_HOST_NOT_FOUND",
	"ISCSI_ERR_LOGIN_AUTH_FAILED",
	"ISCSI_ERR_ISNS_QUERY",
	"ISCSI_ERR_ISNS_REG_FAILED",
	"ISCSI_ERR_OP_NOT_SUPP",
	"ISCSI_ERR_BUSY",
	"ISCSI_ERR_AGAIN",
	"ISCSI_ERR_UNKNOWN_DISCOVERY_TYPE",
	"ISCSI_ERR_CHILD_TERMINATED",
	"ISCSI_ERR_SESSION_NOT_CONNECTED",
};

const char *lb_openiscsi_exit_name(int code)
{
	return code >= 0 && code <= LB_OPENISCSI_ERR_MAX ? exit_names[code] : "unknown";
}

int lb_openiscsi_exit_errno(int code)
{
	switch (code) {
	case LB_OPENISCSI_OK:
		return 0;
	case LB_OPENISCSI_ERR_TRANS_TIMEOUT:
	case 11: /* PDU_TIMEOUT */
		return -ETIMEDOUT;
	case LB_OPENISCSI_ERR_LOGIN_AUTH_FAILED:
	case 13: /* ACCESS */
		return -EACCES;
	case LB_OPENISCSI_ERR_NO_OBJS_FOUND:
	case 2: /* SESS_NOT_FOUND */
		return -ENOENT;
	case LB_OPENISCSI_ERR_TRANS_NOT_FOUND:
	case 23: /* HOST_NOT_FOUND */
		return -ENODEV;
	case LB_OPENISCSI_ERR_SESS_EXISTS:
		return -EEXIST;
	case LB_OPENISCSI_ERR_ISCSID_NOTCONN:
	case 18: /* ISCSID_COMM_ERR */
		return -ECONNREFUSED;
	case 7: /* INVAL */
		return -EINVAL;
	case 28: /* BUSY */
	case 29: /* AGAIN */
		return -EAGAIN;
	default:
		return -EIO;
	}
}

static bool iqn_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '-' || c == ':' || c == '_';
}

static int parse_u16(const char *s, size_t len, uint16_t *ret)
{
	unsigned v = 0;

	if (len == 0 || len > 5)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v > 65535)
		return -EINVAL;
	*ret = (uint16_t)v;
	return 0;
}

int lb_openiscsi_parse_target(const char *line, struct lb_openiscsi_target *ret)
{
	const char *p = line, *addr, *addr_end, *port, *comma, *space, *iqn, *end;
	size_t len;

	memset(ret, 0, sizeof(*ret));
	end = line + strcspn(line, "\r\n");
	if (*p == '[') {
		addr = p + 1;
		addr_end = memchr(addr, ']', (size_t)(end - addr));
		if (!addr_end || addr_end[1] != ':')
			return -EINVAL;
		port = addr_end + 2;
	} else {
		addr = p;
		addr_end = memchr(addr, ':', (size_t)(end - addr));
		if (!addr_end)
			return -EINVAL;
		port = addr_end + 1;
	}
	len = (size_t)(addr_end - addr);
	if (len == 0 || len >= sizeof(ret->address))
		return -EINVAL;
	for (size_t i = 0; i < len; i++)
		if (!strchr("0123456789abcdefABCDEF.:%", addr[i]) && !iqn_char(addr[i]))
			return -EINVAL;
	comma = memchr(port, ',', (size_t)(end - port));
	if (!comma || parse_u16(port, (size_t)(comma - port), &ret->port) < 0)
		return -EINVAL;
	space = memchr(comma, ' ', (size_t)(end - comma));
	if (!space || parse_u16(comma + 1, (size_t)(space - comma - 1), &ret->tpgt) < 0)
		return -EINVAL;
	iqn = space + 1;
	len = (size_t)(end - iqn);
	if (len == 0 || len >= sizeof(ret->iqn))
		return -EINVAL;
	for (size_t i = 0; i < len; i++)
		if (!iqn_char(iqn[i]))
			return -EINVAL;
	memcpy(ret->address, addr, (size_t)(addr_end - addr));
	memcpy(ret->iqn, iqn, len);
	return 0;
}

int lb_openiscsi_parse_discovery(const char *text, struct lb_openiscsi_target **ret, size_t *ret_n)
{
	_cleanup_free_ struct lb_openiscsi_target *v = NULL;
	size_t n = 0, cap = 0;

	for (const char *p = text; *p;) {
		size_t len = strcspn(p, "\n");
		struct lb_openiscsi_target t;

		/* iscsiadm's own messages start with its name; a record with
		 * an address */
		if (len && strncmp(p, "iscsiadm:", 9) != 0 &&
		    (p[0] == '[' || (p[0] >= '0' && p[0] <= '9') || (p[0] >= 'a' && p[0] <= 'f') ||
		     (p[0] >= 'A' && p[0] <= 'F'))) {
			if (lb_openiscsi_parse_target(p, &t) < 0)
				return -EINVAL;
			if (n == cap) {
				size_t ncap = cap ? cap * 2 : 4;
				struct lb_openiscsi_target *nv = reallocarray(v, ncap, sizeof(*v));

				if (!nv)
					return -ENOMEM;
				v = nv;
				cap = ncap;
			}
			v[n++] = t;
		}
		p += len;
		if (*p == '\n')
			p++;
	}
	*ret = TAKE_PTR(v);
	*ret_n = n;
	return 0;
}

void lb_openiscsi_last_message(const char *text, char *buf, size_t len)
{
	const char *last = NULL;
	size_t last_len = 0;

	if (len)
		buf[0] = '\0';
	for (const char *p = text ? text : ""; *p;) {
		size_t l = strcspn(p, "\n");

		if (l > 10 && strncmp(p, "iscsiadm: ", 10) == 0) {
			last = p + 10;
			last_len = l - 10;
		}
		p += l;
		if (*p == '\n')
			p++;
	}
	if (last && len)
		snprintf(buf, len, "%.*s", (int)last_len, last);
}

int lb_openiscsi_portal(const char *address, uint16_t port, char *buf, size_t len)
{
	int n = strchr(address, ':') ? snprintf(buf, len, "[%s]:%u", address, port)
				      : snprintf(buf, len, "%s:%u", address, port);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int lb_openiscsi_node_path(const char *nodes_dir, const char *iqn, const char *address,
			   uint16_t port, uint16_t tpgt, const char *iface, char *buf, size_t len)
{
	int n;

	/* the parts become path components: no '/', no "..", no empties */
	if (!iqn[0] || !address[0] || !iface[0] || strchr(iqn, '/') || strchr(address, '/') ||
	    strchr(iface, '/') || strcmp(iqn, "..") == 0 || strcmp(iface, "..") == 0 ||
	    iqn[0] == '.' || iface[0] == '.')
		return -EINVAL;
	n = snprintf(buf, len, "%s/%s/%s,%u,%u/%s", nodes_dir ? nodes_dir : LB_OPENISCSI_NODES_DIR,
		     iqn, address, port, tpgt, iface);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* Whether LINE (len bytes) sets KEY: "KEY = ..." or "KEY=...". */
static bool line_sets(const char *line, size_t len, const char *key)
{
	size_t k = strlen(key), i;

	if (len < k || memcmp(line, key, k) != 0)
		return false;
	for (i = k; i < len && (line[i] == ' ' || line[i] == '\t'); i++)
		;
	return i < len && line[i] == '=';
}

int lb_openiscsi_record_set(const char *in, const char *const *keys, const char *const *values,
			    size_t n, char **ret)
{
	_cleanup_free_ char *out = NULL;
	size_t cap = strlen(in) + 2, off = 0;
	bool ended = false;

	for (size_t i = 0; i < n; i++) {
		if (!keys[i][0] || strpbrk(keys[i], " =\n") ||
		    (values[i] && strpbrk(values[i], "\r\n")))
			return -EINVAL;
		if (values[i])
			cap += strlen(keys[i]) + strlen(values[i]) + 4;
	}
	out = malloc(cap);
	if (!out)
		return -ENOMEM;

#define EMIT(p, l)                                                                                 \
	do {                                                                                       \
		memcpy(out + off, (p), (l));                                                       \
		off += (l);                                                                        \
	} while (0)

	for (const char *p = in; *p || !ended;) {
		size_t len = strcspn(p, "\n");
		bool end_line = len >= 12 && strncmp(p, "# END RECORD", 12) == 0;
		bool drop = false;

		if ((end_line || !*p) && !ended) {
			if (!*p && off && out[off - 1] != '\n')
				EMIT("\n", 1);
			for (size_t i = 0; i < n; i++) {
				if (!values[i])
					continue;
				EMIT(keys[i], strlen(keys[i]));
				EMIT(" = ", 3);
				EMIT(values[i], strlen(values[i]));
				EMIT("\n", 1);
			}
			ended = true;
			if (!*p)
				break;
		}
		for (size_t i = 0; i < n && !drop; i++)
			drop = line_sets(p, len, keys[i]);
		if (!drop) {
			EMIT(p, len);
			if (p[len] == '\n')
				EMIT("\n", 1);
		}
		p += len;
		if (*p == '\n')
			p++;
	}
#undef EMIT
	out[off] = '\0';
	*ret = TAKE_PTR(out);
	return 0;
}
