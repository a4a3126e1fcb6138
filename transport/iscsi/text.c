/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hex.h"
#include "iscsi-spec.h"
#include "text.h"

/* ---- reassembly -------------------------------------------------------- */

void iscsi_text_seq_init(struct iscsi_text_seq *seq, size_t max)
{
	*seq = (struct iscsi_text_seq){.max = max ? max : ISCSI_TEXT_SEQ_DEFAULT_MAX};
}

void iscsi_text_seq_reset(struct iscsi_text_seq *seq)
{
	seq->len = 0;
	if (seq->buf)
		seq->buf[0] = '\0';
}

void iscsi_text_seq_free(struct iscsi_text_seq *seq)
{
	if (!seq)
		return;
	free(seq->buf);
	seq->buf = NULL;
	seq->len = seq->cap = 0;
}

static int seq_reserve(struct iscsi_text_seq *seq, size_t need)
{
	size_t cap;
	char *p;

	if (need <= seq->cap)
		return 0;
	cap = seq->cap ? seq->cap : 1024;
	while (cap < need)
		cap *= 2;
	p = realloc(seq->buf, cap);
	if (!p)
		return -ENOMEM;
	seq->buf = p;
	seq->cap = cap;
	return 0;
}

int iscsi_text_seq_append(struct iscsi_text_seq *seq, const void *data, size_t len, bool more,
			  lb_err *err)
{
	int r;

	/* +2: a terminator we may add, and the sentinel NUL past len. */
	if (len > seq->max || seq->len > seq->max - len)
		return lb_err_set(err, EMSGSIZE, "text exceeds %zu bytes", seq->max);
	r = seq_reserve(seq, seq->len + len + 2);
	if (r < 0)
		return lb_err_set(err, r, "out of memory for %zu bytes of text", seq->len + len);
	if (len)
		memcpy(seq->buf + seq->len, data, len);
	seq->len += len;
	seq->buf[seq->len] = '\0';
	if (more)
		return 0;
	/* Every pair must end in NUL (§6.1); tolerate a sender that leaves
	 * off the last one, as long as the set is complete. */
	if (seq->len > 0 && seq->buf[seq->len - 1] != '\0') {
		seq->len++;
		seq->buf[seq->len] = '\0';
	}
	return 1;
}

/* ---- parsing ----------------------------------------------------------- */

bool iscsi_text_key_valid(const char *key, size_t len)
{
	if (len == 0 || len > ISCSI_TEXT_KEY_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = key[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '-' || c == '+' || c == '@' || c == '_'))
			return false;
	}
	return true;
}

bool iscsi_utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	while (i < len) {
		unsigned char c = p[i];
		size_t n;
		uint32_t cp, min;

		if (c == 0)
			return false;
		if (c < 0x80) {
			i++;
			continue;
		} else if ((c & 0xe0) == 0xc0) {
			n = 1, cp = c & 0x1f, min = 0x80;
		} else if ((c & 0xf0) == 0xe0) {
			n = 2, cp = c & 0x0f, min = 0x800;
		} else if ((c & 0xf8) == 0xf0) {
			n = 3, cp = c & 0x07, min = 0x10000;
		} else {
			return false;
		}
		if (len - i - 1 < n)
			return false;
		for (size_t k = 1; k <= n; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (p[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += n + 1;
	}
	return true;
}

size_t iscsi_text_value_max(const char *key)
{
	/* CHAP_C and CHAP_R are large-binary-values of up to 1024 bytes;
	 * vendor keys get room so that we can answer NotUnderstood. */
	if (!strcmp(key, "CHAP_C") || !strcmp(key, "CHAP_R") || !strncmp(key, "X-", 2) ||
	    !strncmp(key, "X#", 2))
		return ISCSI_TEXT_LARGE_VALUE_MAX;
	return ISCSI_TEXT_VALUE_MAX;
}

void iscsi_text_iter_init(struct iscsi_text_iter *it, struct iscsi_text_seq *seq)
{
	*it = (struct iscsi_text_iter){.buf = seq->buf, .len = seq->buf ? seq->len : 0};
}

int iscsi_text_next(struct iscsi_text_iter *it, struct iscsi_kv *ret, lb_err *err)
{
	const char *entry, *eq, *nul;
	size_t entry_len, key_len;

	/* Skip empty entries (stray NULs some targets add). */
	while (it->pos < it->len && it->buf[it->pos] == '\0')
		it->pos++;
	if (it->pos >= it->len)
		return 0;

	entry = it->buf + it->pos;
	nul = memchr(entry, '\0', it->len - it->pos);
	if (!nul)
		return lb_err_set(err, EBADMSG, "text pair is not NUL-terminated");
	entry_len = (size_t)(nul - entry);
	eq = memchr(entry, '=', entry_len);
	if (!eq)
		return lb_err_set(err, EBADMSG, "text pair without '='");
	key_len = (size_t)(eq - entry);
	if (!iscsi_text_key_valid(entry, key_len))
		return lb_err_set(err, EBADMSG, "invalid key name (%zu bytes)", key_len);

	it->buf[it->pos + key_len] = '\0'; /* in place: the key becomes a string */
	ret->key = entry;
	ret->value = eq + 1;
	ret->value_len = entry_len - key_len - 1;
	if (ret->value_len > iscsi_text_value_max(ret->key))
		return lb_err_set(err, EBADMSG, "value of %s is %zu bytes (maximum %zu)", ret->key,
				  ret->value_len, iscsi_text_value_max(ret->key));
	if (!iscsi_utf8_valid(ret->value, ret->value_len))
		return lb_err_set(err, EBADMSG, "value of %s is not valid UTF-8", ret->key);
	it->pos += entry_len + 1;
	return 1;
}

int iscsi_text_parse_number(const char *value, uint64_t max, uint64_t *ret)
{
	unsigned base = 10;
	uint64_t v = 0;
	const char *p = value;

	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		base = 16;
		p += 2;
	}
	if (*p == '\0')
		return -EINVAL;
	for (; *p; p++) {
		int d = lb_hex_value(*p);

		if (d < 0 || (unsigned)d >= base)
			return -EINVAL;
		if (v > (max - (uint64_t)d) / base)
			return -ERANGE;
		v = v * base + (uint64_t)d;
	}
	*ret = v;
	return 0;
}

int iscsi_text_parse_bool(const char *value, bool *ret)
{
	if (!strcmp(value, "Yes"))
		*ret = true;
	else if (!strcmp(value, "No"))
		*ret = false;
	else
		return -EINVAL;
	return 0;
}

/* ---- building ---------------------------------------------------------- */

void iscsi_text_builder_init(struct iscsi_text_builder *b, size_t max)
{
	*b = (struct iscsi_text_builder){.max = max ? max : ISCSI_TEXT_SEQ_DEFAULT_MAX};
}

void iscsi_text_builder_free(struct iscsi_text_builder *b)
{
	if (!b)
		return;
	free(b->buf);
	b->buf = NULL;
	b->len = b->cap = 0;
}

bool iscsi_text_has(const struct iscsi_text_builder *b, const char *key)
{
	size_t klen = strlen(key);

	for (size_t pos = 0; pos < b->len;) {
		const char *e = b->buf + pos;
		size_t elen = strnlen(e, b->len - pos);

		if (elen > klen && e[klen] == '=' && !memcmp(e, key, klen))
			return true;
		pos += elen + 1;
	}
	return false;
}

int iscsi_text_add(struct iscsi_text_builder *b, const char *key, const char *value)
{
	size_t klen = strlen(key), vlen = strlen(value), need;

	if (!iscsi_text_key_valid(key, klen) || vlen > iscsi_text_value_max(key) ||
	    !iscsi_utf8_valid(value, vlen))
		return -EINVAL;
	if (iscsi_text_has(b, key))
		return -EEXIST;
	need = klen + 1 + vlen + 1;
	if (need > b->max - b->len)
		return -EMSGSIZE;
	if (b->len + need > b->cap) {
		size_t cap = b->cap ? b->cap : 512;
		char *p;

		while (cap < b->len + need)
			cap *= 2;
		p = realloc(b->buf, cap);
		if (!p)
			return -ENOMEM;
		b->buf = p;
		b->cap = cap;
	}
	memcpy(b->buf + b->len, key, klen);
	b->buf[b->len + klen] = '=';
	memcpy(b->buf + b->len + klen + 1, value, vlen + 1);
	b->len += need;
	return 0;
}

int iscsi_text_add_u32(struct iscsi_text_builder *b, const char *key, uint32_t value)
{
	char s[16];

	(void)snprintf(s, sizeof(s), "%u", value);
	return iscsi_text_add(b, key, s);
}

int iscsi_text_add_bool(struct iscsi_text_builder *b, const char *key, bool value)
{
	return iscsi_text_add(b, key, value ? "Yes" : "No");
}

/* ---- TargetAddress ------------------------------------------------------ */

static int parse_u16_until(const char **pp, char stop, uint16_t *ret)
{
	const char *p = *pp;
	uint32_t v = 0;

	if (*p < '0' || *p > '9')
		return -EINVAL;
	for (; *p >= '0' && *p <= '9'; p++) {
		v = v * 10 + (uint32_t)(*p - '0');
		if (v > 65535)
			return -ERANGE;
	}
	if (*p != stop && *p != '\0')
		return -EINVAL;
	*pp = p;
	*ret = (uint16_t)v;
	return 0;
}

int iscsi_target_address_parse(const char *value, struct iscsi_target_address *ret)
{
	struct iscsi_target_address a = {.port = ISCSI_DEFAULT_PORT, .tpgt = -1};
	const char *host, *p;
	size_t hlen;
	uint16_t v;
	int r;

	if (value[0] == '[') {
		host = value + 1;
		p = strchr(host, ']');
		if (!p)
			return -EINVAL;
		hlen = (size_t)(p - host);
		p++;
	} else {
		host = value;
		hlen = strcspn(value, ":,");
		p = value + hlen;
	}
	if (hlen == 0 || hlen >= sizeof(a.host))
		return -EINVAL;
	for (size_t i = 0; i < hlen; i++)
		if ((unsigned char)host[i] <= ' ' || host[i] == '[' || host[i] == ']' ||
		    host[i] == ',' || (unsigned char)host[i] == 0x7f)
			return -EINVAL;
	memcpy(a.host, host, hlen);
	a.host[hlen] = '\0';

	if (*p == ':') {
		p++;
		r = parse_u16_until(&p, ',', &v);
		if (r < 0 || v == 0)
			return -EINVAL;
		a.port = v;
	}
	if (*p == ',') {
		p++;
		r = parse_u16_until(&p, '\0', &v);
		if (r < 0)
			return -EINVAL;
		a.tpgt = v;
	}
	if (*p != '\0')
		return -EINVAL;
	*ret = a;
	return 0;
}
