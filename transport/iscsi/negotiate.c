/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "negotiate.h"

/* ---- negotiation -------------------------------------------------------- */

void iscsi_params_init(struct iscsi_params *p)
{
	*p = (struct iscsi_params){
		.header_digest = false,
		.data_digest = false,
		.max_connections = 1,
		.initial_r2t = true,
		.immediate_data = true,
		.max_recv_dsl = 8192,
		.max_xmit_dsl = 8192,
		.max_burst = 262144,
		.first_burst = 65536,
		.default_time2wait = 2,
		.default_time2retain = 20,
		.max_outstanding_r2t = 1,
		.data_pdu_in_order = true,
		.data_seq_in_order = true,
		.error_recovery_level = 0,
		.tpgt = -1,
	};
}

enum key_kind {
	K_DIGEST,  /* list: CRC32C, None */
	K_NUM_MIN, /* numerical, result = minimum */
	K_NUM_MAX, /* numerical, result = maximum */
	K_BOOL_OR,
	K_BOOL_AND,
	K_MRDSL,   /* MaxRecvDataSegmentLength: declarative */
	K_MARKER,  /* IFMarker/OFMarker (RFC 3720): AND, we say No */
	K_MARKINT, /* IFMarkInt/OFMarkInt: Irrelevant without markers */
	K_TARGET_NAME,
	K_TARGET_ALIAS,
	K_TPGT,
	K_TARGET_ADDRESS,
};

struct key_def {
	const char *name;
	enum key_kind kind;
	size_t off; /* field in struct iscsi_params */
	uint32_t min, max;
	bool normal_only; /* Irrelevant in a discovery session */
};

#define P(f) offsetof(struct iscsi_params, f)
static const struct key_def keys[] = {
	{"HeaderDigest", K_DIGEST, P(header_digest), 0, 0, false},
	{"DataDigest", K_DIGEST, P(data_digest), 0, 0, false},
	{"MaxRecvDataSegmentLength", K_MRDSL, P(max_xmit_dsl), 512, 16777215, false},
	{"MaxConnections", K_NUM_MIN, P(max_connections), 1, 65535, true},
	{"InitialR2T", K_BOOL_OR, P(initial_r2t), 0, 0, true},
	{"ImmediateData", K_BOOL_AND, P(immediate_data), 0, 0, true},
	{"MaxBurstLength", K_NUM_MIN, P(max_burst), 512, 16777215, true},
	{"FirstBurstLength", K_NUM_MIN, P(first_burst), 512, 16777215, true},
	{"DefaultTime2Wait", K_NUM_MAX, P(default_time2wait), 0, 3600, false},
	{"DefaultTime2Retain", K_NUM_MIN, P(default_time2retain), 0, 3600, false},
	{"MaxOutstandingR2T", K_NUM_MIN, P(max_outstanding_r2t), 1, 65535, true},
	{"DataPDUInOrder", K_BOOL_OR, P(data_pdu_in_order), 0, 0, true},
	{"DataSequenceInOrder", K_BOOL_OR, P(data_seq_in_order), 0, 0, true},
	{"ErrorRecoveryLevel", K_NUM_MIN, P(error_recovery_level), 0, 2, false},
	{"IFMarker", K_MARKER, 0, 0, 0, false},
	{"OFMarker", K_MARKER, 0, 0, 0, false},
	{"IFMarkInt", K_MARKINT, 0, 0, 0, false},
	{"OFMarkInt", K_MARKINT, 0, 0, 0, false},
	{"TargetName", K_TARGET_NAME, 0, 0, 0, false},
	{"TargetAlias", K_TARGET_ALIAS, 0, 0, 0, false},
	{"TargetPortalGroupTag", K_TPGT, 0, 0, 65535, false},
	{"TargetAddress", K_TARGET_ADDRESS, 0, 0, 0, false},
};
#undef P
_Static_assert(sizeof(keys) / sizeof(keys[0]) <= 32, "key bits are a uint32_t");

static const struct key_def *key_find(const char *name)
{
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (!strcmp(keys[i].name, name))
			return &keys[i];
	return NULL;
}

static uint32_t key_bit(const struct key_def *d)
{
	return 1u << (unsigned)(d - keys);
}

static uint32_t *u32_field(struct iscsi_params *p, const struct key_def *d)
{
	return (uint32_t *)(void *)((char *)p + d->off);
}

static bool *bool_field(struct iscsi_params *p, const struct key_def *d)
{
	return (bool *)(void *)((char *)p + d->off);
}

static bool key_applies(const struct iscsi_neg *neg, const struct key_def *d)
{
	switch (d->kind) {
	case K_DIGEST:
	case K_NUM_MIN:
	case K_NUM_MAX:
	case K_BOOL_OR:
	case K_BOOL_AND:
	case K_MRDSL:
		return !(neg->discovery && d->normal_only);
	default:
		return false; /* never offered by us */
	}
}

int iscsi_neg_init(struct iscsi_neg *neg, const struct iscsi_params *want, bool discovery,
		   lb_err *err)
{
	struct iscsi_params w = *want;

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const struct key_def *d = &keys[i];
		uint32_t v;

		if (d->kind != K_NUM_MIN && d->kind != K_NUM_MAX)
			continue;
		v = *u32_field(&w, d);
		if (v < d->min || v > d->max)
			return lb_err_set(err, EINVAL, "%s=%u is outside %u..%u", d->name, v,
					  d->min, d->max);
	}
	if (w.max_recv_dsl < 512 || w.max_recv_dsl > 16777215)
		return lb_err_set(err, EINVAL,
				  "MaxRecvDataSegmentLength=%u is outside 512..16777215",
				  w.max_recv_dsl);
	if (w.first_burst > w.max_burst)
		return lb_err_set(err, EINVAL, "FirstBurstLength %u exceeds MaxBurstLength %u",
				  w.first_burst, w.max_burst);

	*neg = (struct iscsi_neg){.want = w, .discovery = discovery};
	iscsi_params_init(&neg->result);
	return 0;
}

int iscsi_neg_offer(struct iscsi_neg *neg, struct iscsi_text_builder *b, lb_err *err)
{
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const struct key_def *d = &keys[i];
		int r = 0;

		if (!key_applies(neg, d))
			continue;
		switch (d->kind) {
		case K_DIGEST:
			r = iscsi_text_add(b, d->name,
					   *bool_field(&neg->want, d) ? "CRC32C,None" : "None");
			break;
		case K_MRDSL:
			r = iscsi_text_add_u32(b, d->name, neg->want.max_recv_dsl);
			if (r == 0)
				neg->result.max_recv_dsl = neg->want.max_recv_dsl;
			break;
		case K_NUM_MIN:
		case K_NUM_MAX:
			r = iscsi_text_add_u32(b, d->name, *u32_field(&neg->want, d));
			break;
		case K_BOOL_OR:
		case K_BOOL_AND:
			r = iscsi_text_add_bool(b, d->name, *bool_field(&neg->want, d));
			break;
		default:
			break;
		}
		if (r < 0)
			return lb_err_set(err, r, "cannot add %s to the login text", d->name);
		/* A declaration expects no answer. */
		if (d->kind != K_MRDSL)
			neg->offered |= key_bit(d);
	}
	return 0;
}

int iscsi_neg_not_understood(struct iscsi_text_builder *reply, const char *key)
{
	return iscsi_text_add(reply, key, "NotUnderstood");
}

static bool is_special_value(const char *v)
{
	return !strcmp(v, "NotUnderstood") || !strcmp(v, "Irrelevant") || !strcmp(v, "Reject");
}

/* Pick from the target's digest list the first value we accept. */
static const char *digest_choose(const char *list, bool want_crc)
{
	const char *p = list;

	while (*p) {
		size_t n = strcspn(p, ",");

		if (n == 6 && !memcmp(p, "CRC32C", 6) && want_crc)
			return "CRC32C";
		if (n == 4 && !memcmp(p, "None", 4))
			return "None";
		p += n;
		if (*p == ',')
			p++;
	}
	return NULL;
}

static int parse_ranged(const struct key_def *d, const char *value, uint32_t *ret)
{
	uint64_t v;
	int r = iscsi_text_parse_number(value, d->max, &v);

	if (r < 0)
		return r;
	if (v < d->min)
		return -ERANGE;
	*ret = (uint32_t)v;
	return 0;
}

/* The target's answer to a key we offered. */
static int neg_answer(struct iscsi_neg *neg, const struct key_def *d, const char *value,
		      lb_err *err)
{
	uint32_t v, ours;
	bool b;

	switch (d->kind) {
	case K_DIGEST:
		if (!strcmp(value, "None"))
			*bool_field(&neg->result, d) = false;
		else if (!strcmp(value, "CRC32C") && *bool_field(&neg->want, d))
			*bool_field(&neg->result, d) = true;
		else
			return lb_err_set(err, EPROTO,
					  "target answered %s=%s, which we did not offer", d->name,
					  value);
		return 0;
	case K_NUM_MIN:
	case K_NUM_MAX:
		if (parse_ranged(d, value, &v) < 0)
			return lb_err_set(err, EPROTO, "target answered %s with '%s', not %u..%u",
					  d->name, value, d->min, d->max);
		ours = *u32_field(&neg->want, d);
		if (d->kind == K_NUM_MIN ? v > ours : v < ours)
			return lb_err_set(err, EPROTO, "target answered %s=%u to our offer of %u",
					  d->name, v, ours);
		*u32_field(&neg->result, d) = v;
		return 0;
	case K_BOOL_OR:
	case K_BOOL_AND:
		if (iscsi_text_parse_bool(value, &b) < 0)
			return lb_err_set(err, EPROTO, "target answered %s with '%s', not Yes/No",
					  d->name, value);
		if (d->kind == K_BOOL_OR)
			*bool_field(&neg->result, d) = *bool_field(&neg->want, d) || b;
		else
			*bool_field(&neg->result, d) = *bool_field(&neg->want, d) && b;
		return 0;
	default:
		return lb_err_set(err, EPROTO, "unexpected answer for %s", d->name);
	}
}

/* A key the target offers: compute the result and answer it. */
static int neg_respond(struct iscsi_neg *neg, const struct key_def *d, const char *value,
		       struct iscsi_text_builder *reply, lb_err *err)
{
	const char *answer;
	char num[16];
	uint32_t v, ours;
	bool b, res;
	int r;

	if (neg->discovery && d->normal_only) {
		answer = "Irrelevant";
		goto out;
	}
	switch (d->kind) {
	case K_DIGEST:
		answer = digest_choose(value, *bool_field(&neg->want, d));
		if (!answer)
			answer = "Reject";
		else
			*bool_field(&neg->result, d) = !strcmp(answer, "CRC32C");
		break;
	case K_NUM_MIN:
	case K_NUM_MAX:
		if (parse_ranged(d, value, &v) < 0) {
			answer = "Reject";
			break;
		}
		ours = *u32_field(&neg->want, d);
		if (d->kind == K_NUM_MIN)
			v = v < ours ? v : ours;
		else
			v = v > ours ? v : ours;
		*u32_field(&neg->result, d) = v;
		(void)snprintf(num, sizeof(num), "%u", v);
		answer = num;
		break;
	case K_BOOL_OR:
	case K_BOOL_AND:
		if (iscsi_text_parse_bool(value, &b) < 0) {
			answer = "Reject";
			break;
		}
		if (d->kind == K_BOOL_OR)
			res = *bool_field(&neg->want, d) || b;
		else
			res = *bool_field(&neg->want, d) && b;
		*bool_field(&neg->result, d) = res;
		answer = res ? "Yes" : "No";
		break;
	case K_MARKER:
		answer = iscsi_text_parse_bool(value, &b) < 0 ? "Reject" : "No";
		break;
	case K_MARKINT:
		answer = "Irrelevant";
		break;
	default:
		return lb_err_set(err, EPROTO, "unexpected offer of %s", d->name);
	}
out:
	r = iscsi_text_add(reply, d->name, answer);
	if (r < 0)
		return lb_err_set(err, r, "cannot answer %s", d->name);
	return 0;
}

static int neg_declare(struct iscsi_neg *neg, const struct key_def *d, const struct iscsi_kv *kv,
		       lb_err *err)
{
	struct iscsi_params *res = &neg->result;
	uint32_t v;

	switch (d->kind) {
	case K_MRDSL:
		if (parse_ranged(d, kv->value, &v) < 0)
			return lb_err_set(err, EPROTO, "target declared %s='%s', not %u..%u",
					  d->name, kv->value, d->min, d->max);
		res->max_xmit_dsl = v;
		return 0;
	case K_TARGET_NAME:
		if (kv->value_len == 0 || kv->value_len > ISCSI_NAME_MAX)
			return lb_err_set(err, EPROTO, "target declared a %zu-byte TargetName",
					  kv->value_len);
		memcpy(res->target_name, kv->value, kv->value_len + 1);
		return 0;
	case K_TARGET_ALIAS:
		/* value_len <= ISCSI_TEXT_VALUE_MAX: checked by the parser. */
		if (kv->value_len >= sizeof(res->target_alias))
			return lb_err_set(err, EPROTO, "TargetAlias too long");
		memcpy(res->target_alias, kv->value, kv->value_len + 1);
		return 0;
	case K_TPGT:
		if (parse_ranged(d, kv->value, &v) < 0)
			return lb_err_set(err, EPROTO, "target declared %s='%s', not 0..65535",
					  d->name, kv->value);
		res->tpgt = (int32_t)v;
		return 0;
	case K_TARGET_ADDRESS:
		if (iscsi_target_address_parse(kv->value, &res->target_address) < 0)
			return lb_err_set(err, EPROTO, "target declared an invalid TargetAddress");
		res->has_target_address = true;
		return 0;
	default:
		return lb_err_set(err, EPROTO, "%s is not declarative", d->name);
	}
}

int iscsi_neg_process(struct iscsi_neg *neg, const struct iscsi_kv *kv,
		      struct iscsi_text_builder *reply, lb_err *err)
{
	const struct key_def *d = key_find(kv->key);
	uint32_t bit;

	if (!d)
		return -ENOENT;
	bit = key_bit(d);

	if (neg->settled & bit)
		return lb_err_set(err, EPROTO, "target sent %s twice", d->name);
	neg->settled |= bit;

	switch (d->kind) {
	case K_MRDSL:
	case K_TARGET_NAME:
	case K_TARGET_ALIAS:
	case K_TPGT:
	case K_TARGET_ADDRESS:
		return neg_declare(neg, d, kv, err);
	default:
		break;
	}

	if (is_special_value(kv->value)) {
		/* Only an answer may say NotUnderstood/Irrelevant/Reject; the
		 * key then keeps its default. */
		if (!(neg->offered & bit))
			return lb_err_set(err, EPROTO, "target sent %s=%s unprompted", d->name,
					  kv->value);
		return 0;
	}
	if (neg->offered & bit)
		return neg_answer(neg, d, kv->value, err);
	return neg_respond(neg, d, kv->value, reply, err);
}

int iscsi_neg_finish(struct iscsi_neg *neg, struct iscsi_params *ret, lb_err *err)
{
	struct iscsi_params *res = &neg->result;

	/* §6.2.2: an answer is optional when the offer decides the outcome
	 * (OR with Yes, AND with No); other unanswered keys keep defaults. */
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const struct key_def *d = &keys[i];
		bool ours;

		if (!(neg->offered & key_bit(d)) || (neg->settled & key_bit(d)))
			continue;
		if (d->kind != K_BOOL_OR && d->kind != K_BOOL_AND)
			continue;
		ours = *bool_field(&neg->want, d);
		if (d->kind == K_BOOL_OR ? ours : !ours)
			*bool_field(res, d) = ours;
	}
	/* §13.14: FirstBurstLength MUST NOT exceed MaxBurstLength. */
	if (res->first_burst > res->max_burst)
		res->first_burst = res->max_burst;
	(void)err;
	*ret = *res;
	return 0;
}
