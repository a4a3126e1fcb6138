/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Login and Text key=value data (RFC 7143 §6, §13): reassembly of text
 * split across PDUs with the C bit, a validating parser, a builder that
 * emits each key once, and TargetAddress parsing.  The negotiation of the
 * operational keys is in negotiate.h.
 */
#ifndef LUNBRIDGE_ISCSI_TEXT_H
#define LUNBRIDGE_ISCSI_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lb-err.h"

#define ISCSI_TEXT_KEY_MAX 63		 /* §6.1: key names, bytes */
#define ISCSI_TEXT_VALUE_MAX 255	 /* §6.1: an individual value */
#define ISCSI_TEXT_LARGE_VALUE_MAX 8192	 /* CHAP_C/CHAP_R (1024 binary bytes) */
#define ISCSI_TEXT_SEQ_DEFAULT_MAX 65536 /* our cap on a reassembled text set */
#define ISCSI_NAME_MAX 223		 /* §4.2.7.1: iSCSI names */

/* ---- reassembly (C bit) ------------------------------------------------ */

/* Text of one negotiation step, possibly spanning PDUs. */
struct iscsi_text_seq {
	char *buf; /* always NUL-terminated past len */
	size_t len;
	size_t cap;
	size_t max;
};

/* max 0: ISCSI_TEXT_SEQ_DEFAULT_MAX.  iscsi_text_seq_free() accepts NULL
 * and works as a cleanup: _cleanup_(iscsi_text_seq_free) struct ... seq; */
void iscsi_text_seq_init(struct iscsi_text_seq *seq, size_t max);
void iscsi_text_seq_reset(struct iscsi_text_seq *seq);
void iscsi_text_seq_free(struct iscsi_text_seq *seq);

/* Append one PDU's data segment.  more is the PDU's C bit.  Returns 1 when
 * the set is complete (C=0) and can be parsed, 0 when more PDUs must
 * follow, -EMSGSIZE past seq->max. */
int iscsi_text_seq_append(struct iscsi_text_seq *seq, const void *data, size_t len, bool more,
			  lb_err *err);

/* ---- parsing ----------------------------------------------------------- */

struct iscsi_kv {
	const char *key;   /* NUL-terminated */
	const char *value; /* NUL-terminated, valid UTF-8 */
	size_t value_len;
};

/* Walks NUL-separated key=value pairs in place (the '=' becomes NUL). */
struct iscsi_text_iter {
	char *buf;
	size_t len;
	size_t pos;
};

void iscsi_text_iter_init(struct iscsi_text_iter *it, struct iscsi_text_seq *seq);

/* 1 and *ret filled, 0 at the end, -EBADMSG for a malformed pair (no '=',
 * bad key characters, key or value too long, invalid UTF-8). */
int iscsi_text_next(struct iscsi_text_iter *it, struct iscsi_kv *ret, lb_err *err);

/* Largest value length accepted for key. */
size_t iscsi_text_value_max(const char *key);

bool iscsi_text_key_valid(const char *key, size_t len);
bool iscsi_utf8_valid(const char *s, size_t len);

/* numerical-value (§6.1): decimal or 0x-hex, at most max: -EINVAL/-ERANGE. */
int iscsi_text_parse_number(const char *value, uint64_t max, uint64_t *ret);
/* "Yes"/"No": -EINVAL otherwise. */
int iscsi_text_parse_bool(const char *value, bool *ret);

/* ---- building ---------------------------------------------------------- */

struct iscsi_text_builder {
	char *buf;
	size_t len;
	size_t cap;
	size_t max;
};

/* max 0: ISCSI_TEXT_SEQ_DEFAULT_MAX.  iscsi_text_builder_free() accepts
 * NULL and works with _cleanup_() like iscsi_text_seq_free(). */
void iscsi_text_builder_init(struct iscsi_text_builder *b, size_t max);
void iscsi_text_builder_free(struct iscsi_text_builder *b);
/* Appends "key=value\0".  -EEXIST if key was already added, -EINVAL for a
 * bad key or value, -EMSGSIZE past b->max. */
int iscsi_text_add(struct iscsi_text_builder *b, const char *key, const char *value);
int iscsi_text_add_u32(struct iscsi_text_builder *b, const char *key, uint32_t value);
int iscsi_text_add_bool(struct iscsi_text_builder *b, const char *key, bool value);
bool iscsi_text_has(const struct iscsi_text_builder *b, const char *key);

/* ---- declarative target keys ------------------------------------------- */

/* TargetAddress=domainname[:port][,portal-group-tag] (§13.8); IPv6
 * literals in brackets.  tpgt is -1 when absent. */
struct iscsi_target_address {
	char host[256];
	uint16_t port;
	int32_t tpgt;
};
int iscsi_target_address_parse(const char *value, struct iscsi_target_address *ret);

#endif
