/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Login and Text key=value data (RFC 7143 §6, §13): reassembly of text
 * split across PDUs with the C bit, a validating parser, a builder that
 * emits each key once, and the negotiation of the operational keys.
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

/* ---- operational parameters ------------------------------------------- */

/* Negotiated session and connection parameters.  Initialised to the RFC
 * 7143 §13 defaults by iscsi_params_init(). */
struct iscsi_params {
	bool header_digest; /* CRC32C */
	bool data_digest;
	uint32_t max_connections;
	bool initial_r2t;
	bool immediate_data;
	uint32_t max_recv_dsl; /* declared by us */
	uint32_t max_xmit_dsl; /* declared by the target */
	uint32_t max_burst;
	uint32_t first_burst;
	uint32_t default_time2wait;
	uint32_t default_time2retain;
	uint32_t max_outstanding_r2t;
	bool data_pdu_in_order;
	bool data_seq_in_order;
	uint32_t error_recovery_level;
	/* Declared by the target. */
	char target_name[ISCSI_NAME_MAX + 1];
	char target_alias[ISCSI_TEXT_VALUE_MAX + 1];
	int32_t tpgt; /* -1: not declared */
	bool has_target_address;
	struct iscsi_target_address target_address;
};

void iscsi_params_init(struct iscsi_params *p);

/* One negotiation (login operational stage, or a Text renegotiation). */
struct iscsi_neg {
	struct iscsi_params want; /* what we offer; *_digest true: "CRC32C,None" */
	struct iscsi_params result;
	bool discovery;
	uint32_t offered; /* bit per key: we sent it */
	uint32_t settled; /* bit per key: the target answered or offered it */
};

/* want: our values (from iscsi_params_init() then tuned); discovery selects
 * the keys allowed in a discovery session.  -EINVAL for out-of-range wants. */
int iscsi_neg_init(struct iscsi_neg *neg, const struct iscsi_params *want, bool discovery,
		   lb_err *err);

/* Add our offer (every applicable operational key) to b. */
int iscsi_neg_offer(struct iscsi_neg *neg, struct iscsi_text_builder *b, lb_err *err);

/* Process one pair from the target.  Answers to our offers update the
 * result; keys the target offers get an answer in reply.  Returns 0 when
 * handled, -ENOENT for keys this layer does not own (AuthMethod, CHAP_*,
 * unknown keys: see iscsi_neg_not_understood()), -EPROTO for a protocol
 * violation (answer outside what we offered, a key repeated, a bad
 * declarative value). */
int iscsi_neg_process(struct iscsi_neg *neg, const struct iscsi_kv *kv,
		      struct iscsi_text_builder *reply, lb_err *err);

/* Reply "key=NotUnderstood" for an unknown key from the target. */
int iscsi_neg_not_understood(struct iscsi_text_builder *reply, const char *key);

/* Conclude: keys the target left unanswered take their implied or default
 * values, FirstBurstLength is capped at MaxBurstLength.  Copies the result
 * to *ret. */
int iscsi_neg_finish(struct iscsi_neg *neg, struct iscsi_params *ret, lb_err *err);

#endif
