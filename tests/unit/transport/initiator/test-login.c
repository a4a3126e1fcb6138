/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The login state machine, driven with Login Responses built here and
 * passed through the real PDU codec (iscsi_pdu_encode_buf + iscsi_pdu_parse).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "chap.h"
#include "login.h"

/* A text literal with its embedded NULs and the final one. */
#define TXT(s) s, sizeof(s)

#define ITT 0x11223344u
#define CMDSN 0x1000u
#define TSIH 0x0042u

static const uint8_t isid[6] = {0x80, 0x12, 0x34, 0x56, 0x00, 0x01};
static const uint8_t secret[] = "initiator-secret-0123";
static const uint8_t tsecret[] = "target-secret-456789";

#define SECURITY_T1 (ISCSI_LOGIN_FLAG_TRANSIT | ISCSI_STAGE_OPERATIONAL)
#define SECURITY_T0 0x00
#define OPERATIONAL_T1                                                                             \
	(ISCSI_LOGIN_FLAG_TRANSIT | ISCSI_STAGE_OPERATIONAL << ISCSI_LOGIN_CSG_SHIFT |             \
	 ISCSI_STAGE_FULL_FEATURE)
#define OPERATIONAL_T0 (ISCSI_STAGE_OPERATIONAL << ISCSI_LOGIN_CSG_SHIFT)

static struct iscsi_login_config cfg;
static struct iscsi_chap_creds creds;
static struct iscsi_login *l;
static lb_err err;

/* The next response's header fields; tests change them to misbehave. */
static struct {
	uint32_t itt;
	uint8_t isid[6];
	uint16_t tsih;
	uint32_t statsn;
	uint8_t version_max, version_active;
	uint8_t opcode;
} rsp;

/* Every key=value of every request, to check that none repeats. */
static char sent_keys[64][64];
static size_t n_sent_keys;

struct req {
	union iscsi_hdr h;
	char text[8192 + 1];
	size_t len;
};
static struct req req;

static int setup(void **state)
{
	cfg = (struct iscsi_login_config){
		.initiator_name = "iqn.2024-01.org.example:init",
		.initiator_alias = "host1",
		.target_name = "iqn.2001-04.com.example:storage.disk1",
		.cid = 7,
		.cmdsn = CMDSN,
		.itt = ITT,
	};
	memcpy(cfg.isid, isid, sizeof(isid));
	iscsi_params_init(&cfg.want);
	cfg.want.max_recv_dsl = 262144;
	cfg.want.max_burst = 1048576;
	cfg.want.first_burst = 262144;
	cfg.want.initial_r2t = false;
	cfg.want.immediate_data = true;
	cfg.want.max_outstanding_r2t = 4;
	creds = (struct iscsi_chap_creds){
		.name = "init-user",
		.secret = secret,
		.secret_len = sizeof(secret) - 1,
	};
	rsp.itt = ITT;
	memcpy(rsp.isid, isid, sizeof(isid));
	rsp.tsih = 0;
	rsp.statsn = 100;
	rsp.version_max = rsp.version_active = 0;
	rsp.opcode = ISCSI_OP_LOGIN_RSP;
	n_sent_keys = 0;
	l = NULL;
	lb_err_clear(&err);
	return 0;
}

static int teardown(void **state)
{
	iscsi_login_free(l);
	return 0;
}

/* Start over within one test. */
static void reset(void **state)
{
	iscsi_login_free(l);
	setup(state);
}

static void start(void)
{
	assert_int_equal(iscsi_login_new(&cfg, &l, &err), 0);
	assert_int_equal(iscsi_login_get_state(l), ISCSI_LOGIN_SECURITY_OFFER);
}

static void record_keys(void)
{
	for (size_t pos = 0; pos < req.len; pos += strlen(req.text + pos) + 1) {
		size_t klen = strcspn(req.text + pos, "=");

		assert_true(klen < sizeof(sent_keys[0]));
		for (size_t i = 0; i < n_sent_keys; i++)
			if (strlen(sent_keys[i]) == klen &&
			    !memcmp(sent_keys[i], req.text + pos, klen))
				fail_msg("%.*s sent twice", (int)klen, req.text + pos);
		assert_true(n_sent_keys < 64);
		memcpy(sent_keys[n_sent_keys], req.text + pos, klen);
		sent_keys[n_sent_keys++][klen] = '\0';
	}
}

/* Build the next request and decode it into req. */
static void build(void)
{
	uint8_t buf[16384];
	ssize_t n = iscsi_login_build_request(l, buf, sizeof(buf), &err);

	if (n < 0)
		fail_msg("build_request: %s", lb_err_msg(&err, (int)n));
	assert_true(n >= (ssize_t)ISCSI_BHS_LEN);
	memcpy(req.h.raw, buf, ISCSI_BHS_LEN);
	req.len = iscsi_hdr_dlength(&req.h);
	assert_int_equal((size_t)n, ISCSI_BHS_LEN + req.len + iscsi_pad4((uint32_t)req.len));
	memcpy(req.text, buf + ISCSI_BHS_LEN, req.len);
	req.text[req.len] = '\0';
	if (req.len)
		assert_int_equal(req.text[req.len - 1], '\0');

	/* What every Login Request carries. */
	assert_int_equal(req.h.bhs.opcode, ISCSI_OP_LOGIN_REQ | ISCSI_OP_IMMEDIATE);
	assert_int_equal(req.h.login_req.version_max, 0);
	assert_int_equal(req.h.login_req.version_min, 0);
	assert_memory_equal(req.h.login_req.isid, isid, sizeof(isid));
	assert_int_equal(be32toh(req.h.login_req.itt), ITT);
	assert_int_equal(be16toh(req.h.login_req.cid), 7);
	assert_int_equal(be16toh(req.h.login_req.tsih), cfg.tsih);
	assert_int_equal(be32toh(req.h.login_req.cmdsn), CMDSN);
	assert_false(req.h.bhs.flags & ISCSI_LOGIN_FLAG_CONTINUE);
	record_keys();
}

static const char *req_value(const char *key)
{
	size_t klen = strlen(key);

	for (size_t pos = 0; pos < req.len; pos += strlen(req.text + pos) + 1)
		if (!strncmp(req.text + pos, key, klen) && req.text[pos + klen] == '=')
			return req.text + pos + klen + 1;
	return NULL;
}

static void assert_req(const char *key, const char *value)
{
	const char *v = req_value(key);

	if (!v)
		fail_msg("request lacks %s", key);
	assert_string_equal(v, value);
}

/* Feed one Login Response with these flags, status and text. */
static int respond_status(uint8_t flags, uint8_t cls, uint8_t detail, const char *text, size_t len)
{
	struct iscsi_pdu_limits limits;
	struct iscsi_pdu_view view;
	union iscsi_hdr h;
	uint8_t buf[ISCSI_BHS_LEN + 8192 + 4];
	ssize_t n;

	iscsi_pdu_limits_init(&limits);
	iscsi_hdr_init(&h, rsp.opcode, flags);
	h.login_rsp.version_max = rsp.version_max;
	h.login_rsp.version_active = rsp.version_active;
	memcpy(h.login_rsp.isid, rsp.isid, sizeof(rsp.isid));
	h.login_rsp.tsih = htobe16(rsp.tsih);
	h.login_rsp.itt = htobe32(rsp.itt);
	h.login_rsp.statsn = htobe32(rsp.statsn++);
	h.login_rsp.exp_cmdsn = htobe32(CMDSN);
	h.login_rsp.max_cmdsn = htobe32(CMDSN + 31);
	h.login_rsp.status_class = cls;
	h.login_rsp.status_detail = detail;
	n = iscsi_pdu_encode_buf(&h, NULL, 0, text, len, &limits, buf, sizeof(buf), NULL);
	assert_true(n > 0);
	assert_int_equal(iscsi_pdu_parse(buf, (size_t)n, &limits, &view, NULL), n);
	lb_err_clear(&err);
	return iscsi_login_handle_response(l, &view, &err);
}

static int respond(uint8_t flags, const char *text, size_t len)
{
	return respond_status(flags, 0, 0, text, len);
}

static const char all_answers[] = "HeaderDigest=None\0DataDigest=None\0"
				  "MaxRecvDataSegmentLength=65536\0MaxConnections=1\0"
				  "InitialR2T=Yes\0ImmediateData=No\0MaxBurstLength=262144\0"
				  "FirstBurstLength=65536\0DefaultTime2Wait=2\0"
				  "DefaultTime2Retain=0\0MaxOutstandingR2T=1\0DataPDUInOrder=Yes\0"
				  "DataSequenceInOrder=Yes\0ErrorRecoveryLevel=0\0";

/* Security stage with AuthMethod=None, up to the operational offer. */
static void security_none(void)
{
	start();
	build();
	assert_int_equal(respond(SECURITY_T1, TXT("TargetPortalGroupTag=1\0AuthMethod=None")), 0);
	assert_int_equal(iscsi_login_get_state(l), ISCSI_LOGIN_OPERATIONAL);
	build();
	assert_int_equal(req.h.bhs.flags, OPERATIONAL_T1);
}

static void finish_operational(const char *text, size_t len)
{
	rsp.tsih = TSIH;
	assert_int_equal(respond(OPERATIONAL_T1, text, len), 1);
	assert_int_equal(iscsi_login_get_state(l), ISCSI_LOGIN_FULL_FEATURE);
}

/* ---- happy paths ------------------------------------------------------- */

static void test_none_first_request(void **state)
{
	start();
	build();
	assert_int_equal(req.h.bhs.flags, SECURITY_T1);
	assert_int_equal(be32toh(req.h.login_req.exp_statsn), 0);
	assert_req("InitiatorName", "iqn.2024-01.org.example:init");
	assert_req("InitiatorAlias", "host1");
	assert_req("SessionType", "Normal");
	assert_req("TargetName", "iqn.2001-04.com.example:storage.disk1");
	assert_req("AuthMethod", "None");
	assert_null(req_value("HeaderDigest"));
	assert_null(req_value("CHAP_A"));
}

static void test_none_full_login(void **state)
{
	struct iscsi_login_result res;

	security_none();
	assert_int_equal(be32toh(req.h.login_req.exp_statsn), 101);
	assert_req("MaxBurstLength", "1048576");
	assert_req("InitialR2T", "No");
	assert_req("ImmediateData", "Yes");
	assert_req("MaxRecvDataSegmentLength", "262144");
	assert_null(req_value("InitiatorName"));
	assert_null(req_value("AuthMethod"));

	assert_int_equal(iscsi_login_result(l, &res), -EINVAL);
	finish_operational(all_answers, sizeof(all_answers));
	assert_int_equal(iscsi_login_result(l, &res), 0);
	assert_int_equal(res.tsih, TSIH);
	assert_int_equal(res.statsn, 101);
	assert_int_equal(res.exp_cmdsn, CMDSN);
	assert_int_equal(res.max_cmdsn, CMDSN + 31);
	assert_int_equal(res.params.max_burst, 262144);	  /* minimum */
	assert_int_equal(res.params.first_burst, 65536);  /* minimum */
	assert_true(res.params.initial_r2t);		  /* No OR Yes */
	assert_false(res.params.immediate_data);	  /* Yes AND No */
	assert_int_equal(res.params.max_xmit_dsl, 65536); /* declared */
	assert_int_equal(res.params.max_recv_dsl, 262144);
	assert_int_equal(res.params.default_time2retain, 0);
	assert_int_equal(res.params.max_outstanding_r2t, 1);
	assert_int_equal(res.params.tpgt, 1);
	assert_false(res.params.header_digest);

	/* Nothing more to send or take. */
	assert_int_equal(iscsi_login_build_request(l, (uint8_t[64]){0}, 64, &err), -EINVAL);
	assert_int_equal(respond(OPERATIONAL_T1, NULL, 0), -EINVAL);
}

static void test_discovery_session(void **state)
{
	struct iscsi_login_result res;

	cfg.target_name = NULL;
	cfg.initiator_alias = NULL;
	start();
	build();
	assert_req("SessionType", "Discovery");
	assert_null(req_value("TargetName"));
	assert_null(req_value("InitiatorAlias"));
	assert_int_equal(respond(SECURITY_T1, TXT("AuthMethod=None")), 0);
	build();
	assert_req("HeaderDigest", "None");
	assert_req("MaxRecvDataSegmentLength", "262144");
	assert_req("DefaultTime2Wait", "2");
	assert_null(req_value("MaxBurstLength"));
	assert_null(req_value("InitialR2T"));
	assert_null(req_value("ImmediateData"));
	assert_null(req_value("MaxConnections"));
	finish_operational(TXT("HeaderDigest=None\0DataDigest=None\0DefaultTime2Wait=2\0"
			       "DefaultTime2Retain=0\0ErrorRecoveryLevel=0"));
	assert_int_equal(iscsi_login_result(l, &res), 0);
	assert_int_equal(res.params.default_time2retain, 0);
}

static void test_request_fields(void **state)
{
	cfg.tsih = 9;
	rsp.tsih = 9;
	start();
	build(); /* build() checks opcode, I bit, ISID, ITT, CID, TSIH, CmdSN */
	assert_int_equal(respond(SECURITY_T1, TXT("AuthMethod=None")), 0);
	build();
	assert_int_equal(be32toh(req.h.login_req.exp_statsn), 101);
	assert_int_equal(respond(OPERATIONAL_T1, all_answers, sizeof(all_answers)), 1);
}

static void test_build_buffer_too_small(void **state)
{
	uint8_t small[ISCSI_BHS_LEN + 8];

	start();
	assert_int_equal(iscsi_login_build_request(l, small, sizeof(small), &err), -ENOBUFS);
	assert_int_equal(iscsi_login_get_state(l), ISCSI_LOGIN_SECURITY_OFFER);
	build(); /* the same request, whole */
	assert_req("AuthMethod", "None");
	/* One request at a time. */
	assert_int_equal(iscsi_login_build_request(l, (uint8_t[1024]){0}, 1024, &err), -EINVAL);
}

static void test_response_without_request(void **state)
{
	start();
	assert_int_equal(respond(SECURITY_T1, NULL, 0), -EINVAL);
}

static void test_invalid_config(void **state)
{
	struct iscsi_login *x = NULL;
	static const uint8_t short_secret[] = "short";

	cfg.initiator_name = "";
	assert_int_equal(iscsi_login_new(&cfg, &x, &err), -EINVAL);
	cfg.initiator_name = "iqn.2024-01.org.example:init";
	creds.secret = short_secret;
	creds.secret_len = sizeof(short_secret) - 1;
	cfg.chap = &creds;
	assert_int_equal(iscsi_login_new(&cfg, &x, &err), -EINVAL);
	creds.secret = secret;
	creds.secret_len = sizeof(secret) - 1;
	cfg.chap_algs = 1u << 3;
	assert_int_equal(iscsi_login_new(&cfg, &x, &err), -EINVAL);
	cfg.chap_algs = 0;
	cfg.want.first_burst = cfg.want.max_burst + 1;
	assert_int_equal(iscsi_login_new(&cfg, &x, &err), -EINVAL);
	assert_null(x);
}

/* ---- CHAP -------------------------------------------------------------- */

#define CHALLENGE_HEX "0x000102030405060708090a0b0c0d0e0f1011121314151617"

static void chap_to_response(void)
{
	cfg.chap = &creds;
	start();
	build();
	assert_int_equal(req.h.bhs.flags, SECURITY_T0);
	assert_req("AuthMethod", "CHAP");
	assert_int_equal(respond(SECURITY_T0, TXT("TargetPortalGroupTag=1\0AuthMethod=CHAP")), 0);
	assert_int_equal(iscsi_login_get_state(l), ISCSI_LOGIN_SECURITY_CHAP_A);
	build();
	assert_int_equal(req.h.bhs.flags, SECURITY_T0);
	assert_req("CHAP_A", "8,7,6,5");
	assert_int_equal(req.len, sizeof("CHAP_A=8,7,6,5"));
	assert_int_equal(respond(SECURITY_T0, TXT("CHAP_A=5\0CHAP_I=7\0CHAP_C=" CHALLENGE_HEX)), 0);
	assert_int_equal(iscsi_login_get_state(l), ISCSI_LOGIN_SECURITY_CHAP_R);
	build();
	assert_int_equal(req.h.bhs.flags, SECURITY_T1);
}

static void assert_chap_r(const char *value, uint8_t id, const uint8_t *sec, size_t sec_len,
			  const uint8_t *chal, size_t chal_len)
{
	uint8_t digest[ISCSI_CHAP_DIGEST_MAX];
	char hex[2 + 2 * ISCSI_CHAP_DIGEST_MAX + 1];
	int n = iscsi_chap_compute(ISCSI_CHAP_MD5, id, sec, sec_len, chal, chal_len, digest);

	assert_int_equal(n, 16);
	assert_int_equal(iscsi_binary_encode_hex(digest, (size_t)n, hex, sizeof(hex)), 0);
	assert_string_equal(value, hex);
}

static void test_chap_one_way(void **state)
{
	uint8_t chal[24];

	for (int i = 0; i < 24; i++)
		chal[i] = (uint8_t)i;
	chap_to_response();
	assert_req("CHAP_N", "init-user");
	assert_chap_r(req_value("CHAP_R"), 7, secret, sizeof(secret) - 1, chal, sizeof(chal));
	assert_null(req_value("CHAP_I"));
	assert_null(req_value("CHAP_C"));
	assert_int_equal(respond(SECURITY_T1, NULL, 0), 0);
	assert_int_equal(iscsi_login_get_state(l), ISCSI_LOGIN_OPERATIONAL);
	build();
	assert_int_equal(req.h.bhs.flags, OPERATIONAL_T1);
	finish_operational(all_answers, sizeof(all_answers));
}

static void test_chap_algorithm_subset(void **state)
{
	cfg.chap = &creds;
	cfg.chap_algs = ISCSI_CHAP_ALG_BIT(ISCSI_CHAP_MD5);
	start();
	build();
	assert_int_equal(respond(SECURITY_T0, TXT("AuthMethod=CHAP")), 0);
	build();
	assert_req("CHAP_A", "5");
	/* A target picking what we did not offer. */
	assert_int_equal(respond(SECURITY_T0, TXT("CHAP_A=7\0CHAP_I=7\0CHAP_C=" CHALLENGE_HEX)),
			 -EPROTO);
	assert_int_equal(iscsi_login_get_state(l), ISCSI_LOGIN_FAILED);
}

/* The target's answer to our mutual challenge, computed from the request;
 * returns the length of the text. */
static size_t target_answer(const char *sec, size_t sec_len, char *out, size_t cap)
{
	uint8_t chal[ISCSI_CHAP_BINARY_MAX], digest[ISCSI_CHAP_DIGEST_MAX];
	char hex[2 + 2 * ISCSI_CHAP_DIGEST_MAX + 1];
	uint64_t id;
	size_t clen;
	int n;

	assert_non_null(req_value("CHAP_I"));
	assert_non_null(req_value("CHAP_C"));
	assert_int_equal(iscsi_text_parse_number(req_value("CHAP_I"), 255, &id), 0);
	assert_int_equal(iscsi_binary_decode(req_value("CHAP_C"), chal, sizeof(chal), &clen), 0);
	assert_true(clen >= ISCSI_CHAP_CHALLENGE_MIN);
	n = iscsi_chap_compute(ISCSI_CHAP_MD5, (uint8_t)id, (const uint8_t *)sec, sec_len, chal,
			       clen, digest);
	assert_int_equal(n, 16);
	assert_int_equal(iscsi_binary_encode_hex(digest, (size_t)n, hex, sizeof(hex)), 0);
	n = snprintf(out, cap, "CHAP_N=target-user%cCHAP_R=%s", '\0', hex);
	assert_true(n > 0 && (size_t)n < cap);
	return (size_t)n + 1;
}

static void test_chap_mutual_ok(void **state)
{
	char text[256];
	size_t len;

	creds.target_name = "target-user";
	creds.target_secret = tsecret;
	creds.target_secret_len = sizeof(tsecret) - 1;
	chap_to_response();
	assert_req("CHAP_N", "init-user");
	len = target_answer((const char *)tsecret, sizeof(tsecret) - 1, text, sizeof(text));
	assert_int_equal(respond(SECURITY_T1, text, len), 0);
	assert_int_equal(iscsi_login_get_state(l), ISCSI_LOGIN_OPERATIONAL);
	build();
	finish_operational(all_answers, sizeof(all_answers));
}

static void assert_no_secret_in(const char *msg)
{
	assert_null(strstr(msg, (const char *)secret));
	assert_null(strstr(msg, (const char *)tsecret));
}

static void test_chap_mutual_wrong_response(void **state)
{
	static const char wrong[] = "a-different-secret-99";
	char text[256];
	size_t len;

	creds.target_secret = tsecret;
	creds.target_secret_len = sizeof(tsecret) - 1;
	chap_to_response();
	len = target_answer(wrong, sizeof(wrong) - 1, text, sizeof(text));
	assert_int_equal(respond(SECURITY_T1, text, len), -EACCES);
	assert_int_equal(iscsi_login_get_state(l), ISCSI_LOGIN_FAILED);
	assert_no_secret_in(err.msg);
}

static void test_chap_mutual_wrong_name(void **state)
{
	char text[256];
	size_t len;

	creds.target_name = "someone-else";
	creds.target_secret = tsecret;
	creds.target_secret_len = sizeof(tsecret) - 1;
	chap_to_response();
	len = target_answer((const char *)tsecret, sizeof(tsecret) - 1, text, sizeof(text));
	assert_int_equal(respond(SECURITY_T1, text, len), -EACCES);
}

static void test_chap_mutual_unanswered(void **state)
{
	creds.target_secret = tsecret;
	creds.target_secret_len = sizeof(tsecret) - 1;
	chap_to_response();
	/* Moving on without proving itself. */
	assert_int_equal(respond(SECURITY_T1, NULL, 0), -EACCES);
	assert_int_equal(iscsi_login_get_state(l), ISCSI_LOGIN_FAILED);
}

static void test_chap_unsolicited_target_response(void **state)
{
	chap_to_response();
	assert_int_equal(respond(SECURITY_T1, TXT("CHAP_N=t\0CHAP_R=0x00")), -EPROTO);
}

static void test_chap_target_rejects(void **state)
{
	cfg.chap = &creds;
	start();
	build();
	assert_int_equal(respond_status(0, 2, 1, TXT("AuthMethod=Reject")), -EACCES);
	assert_string_equal(err.msg, "login failed: authentication failed (0201)");
	assert_int_equal(iscsi_login_get_state(l), ISCSI_LOGIN_FAILED);
	assert_int_equal(iscsi_login_build_request(l, (uint8_t[1024]){0}, 1024, &err), -EINVAL);
}

static void test_auth_method_refused(void **state)
{
	cfg.chap = &creds;
	start();
	build();
	assert_int_equal(respond(SECURITY_T0, TXT("AuthMethod=None")), -EACCES);
	reset(state);
	start();
	build();
	assert_int_equal(respond(SECURITY_T1, TXT("AuthMethod=Reject")), -EACCES);
}

static void test_chap_short_challenge(void **state)
{
	cfg.chap = &creds;
	start();
	build();
	assert_int_equal(respond(SECURITY_T0, TXT("AuthMethod=CHAP")), 0);
	build();
	assert_int_equal(respond(SECURITY_T0, TXT("CHAP_A=5\0CHAP_I=1\0CHAP_C=0x0102")), -EACCES);
}

/* ---- status classes ---------------------------------------------------- */

static void test_status_errors(void **state)
{
	static const struct {
		uint8_t cls, detail;
		int r;
		const char *msg;
	} cases[] = {
		{2, 0x00, -EPROTO, "login failed: initiator error (0200)"},
		{2, 0x01, -EACCES, "login failed: authentication failed (0201)"},
		{2, 0x02, -EACCES, "login failed: authorization failure (0202)"},
		{2, 0x03, -ENOENT, "login failed: target not found (0203)"},
		{2, 0x04, -ENOENT, "login failed: target removed (0204)"},
		{2, 0x05, -EPROTO, "login failed: unsupported version (0205)"},
		{2, 0x07, -EPROTO, "login failed: missing parameter (0207)"},
		{2, 0x0b, -EPROTO, "login failed: invalid request during login (020b)"},
		{3, 0x00, -EIO, "login failed: target error (0300)"},
		{3, 0x01, -EAGAIN, "login failed: service unavailable (0301)"},
		{3, 0x02, -EAGAIN, "login failed: out of resources (0302)"},
		{3, 0x7f, -EIO, "login failed: target error (037f)"},
		{9, 0x00, -EPROTO, "login failed: unknown status (0900)"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		reset(state);
		start();
		build();
		/* tgtd leaves ISID and StatSN zero in a failing response. */
		memset(rsp.isid, 0, sizeof(rsp.isid));
		rsp.statsn = 0;
		assert_int_equal(respond_status(0, cases[i].cls, cases[i].detail, NULL, 0),
				 cases[i].r);
		assert_string_equal(err.msg, cases[i].msg);
		assert_int_equal(iscsi_login_get_state(l), ISCSI_LOGIN_FAILED);
	}
}

static void test_status_words(void **state)
{
	assert_string_equal(iscsi_login_status_str(0, 0), "success");
	assert_string_equal(iscsi_login_status_str(1, 1), "target moved temporarily");
	assert_string_equal(iscsi_login_status_str(1, 2), "target moved permanently");
	assert_string_equal(iscsi_login_status_str(2, 6), "too many connections");
	assert_string_equal(iscsi_login_status_str(2, 8), "can't include in session");
	assert_string_equal(iscsi_login_status_str(2, 9), "session type not supported");
	assert_string_equal(iscsi_login_status_str(2, 10), "session does not exist");
	assert_string_equal(iscsi_login_status_str(2, 0x55), "initiator error");
	assert_string_equal(iscsi_login_state_name(ISCSI_LOGIN_OPERATIONAL), "operational");
}

static void test_redirect_temporary(void **state)
{
	struct iscsi_target_address a;
	bool temporary = false;

	start();
	assert_int_equal(iscsi_login_redirect(l, &a, &temporary), -EINVAL);
	build();
	assert_int_equal(respond_status(0, 1, 1, TXT("TargetAddress=10.0.0.2:3261,2")), 1);
	assert_int_equal(iscsi_login_get_state(l), ISCSI_LOGIN_REDIRECTED);
	assert_int_equal(iscsi_login_redirect(l, &a, &temporary), 0);
	assert_string_equal(a.host, "10.0.0.2");
	assert_int_equal(a.port, 3261);
	assert_int_equal(a.tpgt, 2);
	assert_true(temporary);
}

static void test_redirect_permanent_ipv6(void **state)
{
	struct iscsi_target_address a;
	bool temporary = true;

	start();
	build();
	/* Redirected in the operational stage, with other keys around it. */
	assert_int_equal(respond(SECURITY_T1, TXT("AuthMethod=None")), 0);
	build();
	assert_int_equal(respond_status(OPERATIONAL_T0, 1, 2,
					TXT("X-foo=1\0TargetAddress=[fd00::2]\0TargetAlias=x")),
			 1);
	assert_int_equal(iscsi_login_redirect(l, &a, &temporary), 0);
	assert_string_equal(a.host, "fd00::2");
	assert_int_equal(a.port, 3260);
	assert_int_equal(a.tpgt, -1);
	assert_false(temporary);
}

static void test_redirect_without_address(void **state)
{
	start();
	build();
	assert_int_equal(respond_status(0, 1, 1, TXT("TargetAlias=x")), -EPROTO);
	reset(state);
	start();
	build();
	assert_int_equal(respond_status(0, 1, 1, TXT("TargetAddress=[::1")), -EPROTO);
	reset(state);
	start();
	build();
	assert_int_equal(respond_status(0, 1, 3, TXT("TargetAddress=h")), -EPROTO);
}

/* ---- header checks ----------------------------------------------------- */

static void test_wrong_itt(void **state)
{
	start();
	build();
	rsp.itt = ITT + 1;
	assert_int_equal(respond(SECURITY_T1, TXT("AuthMethod=None")), -EPROTO);
	assert_non_null(strstr(err.msg, "ITT"));
	assert_int_equal(iscsi_login_get_state(l), ISCSI_LOGIN_FAILED);
}

static void test_wrong_isid(void **state)
{
	start();
	build();
	rsp.isid[5] ^= 1;
	assert_int_equal(respond(SECURITY_T1, TXT("AuthMethod=None")), -EPROTO);
	assert_non_null(strstr(err.msg, "ISID"));
}

static void test_wrong_stage(void **state)
{
	start();
	build();
	/* The response claims CSG=1 while we are in the security stage. */
	assert_int_equal(respond(OPERATIONAL_T1, TXT("AuthMethod=None")), -EPROTO);
	assert_string_equal(err.msg, "Login Response for stage 1; we are in stage 0");
}

static void test_wrong_next_stage(void **state)
{
	start();
	build();
	assert_int_equal(respond(ISCSI_LOGIN_FLAG_TRANSIT | ISCSI_STAGE_FULL_FEATURE,
				 TXT("AuthMethod=None")),
			 -EPROTO);
	assert_string_equal(err.msg, "target moves to stage 3; we asked for 1");
}

static void test_unrequested_transit(void **state)
{
	cfg.chap = &creds;
	start();
	build();
	assert_int_equal(respond(SECURITY_T1, TXT("AuthMethod=CHAP")), -EPROTO);
	assert_string_equal(err.msg, "target set the T bit, which we did not ask for");
}

static void test_wrong_opcode_and_version(void **state)
{
	start();
	build();
	rsp.opcode = ISCSI_OP_TEXT_RSP;
	assert_int_equal(respond(SECURITY_T1, NULL, 0), -EPROTO);

	reset(state);
	start();
	build();
	rsp.version_active = 1;
	rsp.version_max = 1;
	assert_int_equal(respond(SECURITY_T1, NULL, 0), -EPROTO);

	/* Version-max may be higher than what is active, but must not change. */
	reset(state);
	start();
	build();
	rsp.version_max = 2;
	assert_int_equal(respond(SECURITY_T1, TXT("AuthMethod=None")), 0);
	build();
	rsp.version_max = 3;
	assert_int_equal(respond(OPERATIONAL_T0, NULL, 0), -EPROTO);
}

static void test_wrong_statsn(void **state)
{
	start();
	build();
	assert_int_equal(respond(SECURITY_T1, TXT("AuthMethod=None")), 0);
	build();
	rsp.statsn += 5;
	assert_int_equal(respond(OPERATIONAL_T1, all_answers, sizeof(all_answers)), -EPROTO);
}

static void test_tsih_checks(void **state)
{
	security_none();
	rsp.tsih = 0; /* a new session must get a TSIH */
	assert_int_equal(respond(OPERATIONAL_T1, all_answers, sizeof(all_answers)), -EPROTO);

	reset(state);
	cfg.tsih = 5;
	security_none();
	rsp.tsih = 6; /* another session's */
	assert_int_equal(respond(OPERATIONAL_T1, all_answers, sizeof(all_answers)), -EPROTO);
}

/* ---- keys -------------------------------------------------------------- */

static void test_continuation(void **state)
{
	static const char part1[] = "HeaderDigest=None\0DataDigest=None\0MaxBurstLe";
	static const char part2[] = "ngth=131072\0MaxRecvDataSegmentLength=16384\0";
	struct iscsi_login_result res;

	security_none();
	/* C=1: the set is incomplete, nothing is processed yet. */
	assert_int_equal(
		respond(OPERATIONAL_T0 | ISCSI_LOGIN_FLAG_CONTINUE, part1, sizeof(part1) - 1), 0);
	build();
	assert_int_equal(req.len, 0);
	assert_int_equal(req.h.bhs.flags, OPERATIONAL_T0);
	assert_int_equal(respond(OPERATIONAL_T0, part2, sizeof(part2) - 1), 0);
	/* Complete: nothing to answer, so an empty request asks to transit. */
	build();
	assert_int_equal(req.len, 0);
	assert_int_equal(req.h.bhs.flags, OPERATIONAL_T1);
	finish_operational(NULL, 0);
	assert_int_equal(iscsi_login_result(l, &res), 0);
	assert_int_equal(res.params.max_burst, 131072);
	assert_int_equal(res.params.max_xmit_dsl, 16384);
}

static void test_continuation_with_transit(void **state)
{
	security_none();
	assert_int_equal(
		respond(OPERATIONAL_T1 | ISCSI_LOGIN_FLAG_CONTINUE, TXT("DataDigest=None")),
		-EPROTO);
}

static void test_not_understood_answers(void **state)
{
	struct iscsi_login_result res;

	security_none();
	finish_operational(TXT("MaxOutstandingR2T=NotUnderstood\0ErrorRecoveryLevel=Irrelevant\0"
			       "MaxBurstLength=65536"));
	assert_int_equal(iscsi_login_result(l, &res), 0);
	assert_int_equal(res.params.max_outstanding_r2t, 1); /* the default */
	assert_int_equal(res.params.error_recovery_level, 0);
	assert_int_equal(res.params.max_burst, 65536);
	assert_int_equal(res.params.first_burst, 65536); /* capped at MaxBurstLength */
}

static void test_unknown_key_answered(void **state)
{
	security_none();
	assert_int_equal(respond(OPERATIONAL_T0, TXT("X-com.example.Foo=bar\0DataDigest=None")), 0);
	assert_int_equal(iscsi_login_get_state(l), ISCSI_LOGIN_OPERATIONAL);
	build();
	assert_int_equal(req.h.bhs.flags, OPERATIONAL_T1);
	assert_req("X-com.example.Foo", "NotUnderstood");
	assert_int_equal(req.len, sizeof("X-com.example.Foo=NotUnderstood"));
	finish_operational(TXT("HeaderDigest=None"));
}

static void test_another_round(void **state)
{
	struct iscsi_login_result res;

	security_none();
	/* T=0 with an offer of its own: we answer only that, once. */
	assert_int_equal(respond(OPERATIONAL_T0, TXT("HeaderDigest=None\0IFMarker=Yes\0"
						     "MaxBurstLength=524288")),
			 0);
	build();
	assert_int_equal(req.h.bhs.flags, OPERATIONAL_T1);
	assert_req("IFMarker", "No");
	assert_int_equal(req.len, sizeof("IFMarker=No"));
	/* T=0 again, nothing new: an empty request. */
	assert_int_equal(respond(OPERATIONAL_T0, NULL, 0), 0);
	build();
	assert_int_equal(req.len, 0);
	assert_int_equal(be32toh(req.h.login_req.exp_statsn), 103);
	finish_operational(TXT("ImmediateData=Yes"));
	assert_int_equal(iscsi_login_result(l, &res), 0);
	assert_int_equal(res.params.max_burst, 524288);
	assert_true(res.params.immediate_data);
}

/* tgtd, when it declares a MaxRecvDataSegmentLength of its own, answers
 * T=0 with NSG=1 left in the flags ("stay"), then transits on the next,
 * empty request. */
static void test_tgtd_stay(void **state)
{
	struct iscsi_login_result res;

	security_none();
	assert_int_equal(respond(OPERATIONAL_T0 | ISCSI_STAGE_OPERATIONAL,
				 TXT("HeaderDigest=None\0MaxRecvDataSegmentLength=65536")),
			 0);
	build();
	assert_int_equal(req.len, 0);
	assert_int_equal(req.h.bhs.flags, OPERATIONAL_T1);
	finish_operational(NULL, 0);
	assert_int_equal(iscsi_login_result(l, &res), 0);
	assert_int_equal(res.params.max_xmit_dsl, 65536);
}

static void test_key_repeated_in_a_set(void **state)
{
	security_none();
	assert_int_equal(respond(OPERATIONAL_T1, TXT("HeaderDigest=None\0HeaderDigest=None")),
			 -EPROTO);
	assert_non_null(strstr(err.msg, "twice"));
}

static void test_key_repeated_across_sets(void **state)
{
	security_none();
	assert_int_equal(respond(OPERATIONAL_T0, TXT("MaxBurstLength=65536\0X-a=1")), 0);
	build();
	assert_int_equal(respond(OPERATIONAL_T0, TXT("MaxBurstLength=65536")), -EPROTO);

	reset(state);
	security_none();
	assert_int_equal(respond(OPERATIONAL_T0, TXT("X-a=1")), 0);
	build();
	assert_int_equal(respond(OPERATIONAL_T0, TXT("X-a=1")), -EPROTO);

	reset(state);
	start();
	build();
	assert_int_equal(respond(SECURITY_T1, TXT("AuthMethod=None\0AuthMethod=None")), -EPROTO);
}

static void test_security_stage_offer(void **state)
{
	start();
	build();
	assert_int_equal(respond(SECURITY_T1, TXT("AuthMethod=None\0MaxBurstLength=4096")),
			 -EPROTO);
}

static void test_security_stage_more_rounds(void **state)
{
	start();
	build();
	/* tgtd answers keys it does not know NotUnderstood; a target may also
	 * keep T=0 for a while: the next request resends nothing of ours. */
	assert_int_equal(respond(SECURITY_T0, TXT("X-vendor=1")), 0);
	build();
	assert_int_equal(req.h.bhs.flags, SECURITY_T1);
	assert_req("X-vendor", "NotUnderstood");
	assert_null(req_value("InitiatorName"));
	assert_int_equal(respond(SECURITY_T1, TXT("AuthMethod=None\0InitiatorAlias=NotUnderstood")),
			 0);
	assert_int_equal(iscsi_login_get_state(l), ISCSI_LOGIN_OPERATIONAL);
}

static void test_final_response_with_offer(void **state)
{
	security_none();
	rsp.tsih = TSIH;
	assert_int_equal(respond(OPERATIONAL_T1, TXT("IFMarker=Yes")), -EPROTO);
}

static void test_malformed_text(void **state)
{
	security_none();
	assert_int_equal(respond(OPERATIONAL_T0, TXT("HeaderDigest")), -EPROTO);
}

static void test_reply_too_large(void **state)
{
	char text[8192];
	size_t len = 0;

	security_none();
	/* 150 made-up keys in two PDUs: 150 NotUnderstood answers do not fit
	 * one Login Request. */
	for (int i = 0; i < 150; i++)
		len += (size_t)snprintf(text + len, sizeof(text) - len,
					"X-com.example.vendor-key-with-a-long-name-%03d=1", i) +
		       1;
	assert_true(len > 4096);
	assert_int_equal(respond(OPERATIONAL_T0 | ISCSI_LOGIN_FLAG_CONTINUE, text, 4096), 0);
	build();
	assert_int_equal(respond(OPERATIONAL_T0, text + 4096, len - 4096), -EMSGSIZE);
	assert_string_equal(err.msg, "answers to the target's keys exceed 8192 bytes");
	assert_int_equal(iscsi_login_get_state(l), ISCSI_LOGIN_FAILED);
}

static void test_endless_login(void **state)
{
	int r = 0;

	security_none();
	for (int i = 0; i < 100 && r == 0; i++) {
		r = respond(OPERATIONAL_T0, NULL, 0);
		if (r == 0)
			build();
	}
	assert_int_equal(r, -EPROTO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_none_first_request, setup, teardown),
		cmocka_unit_test_setup_teardown(test_none_full_login, setup, teardown),
		cmocka_unit_test_setup_teardown(test_discovery_session, setup, teardown),
		cmocka_unit_test_setup_teardown(test_request_fields, setup, teardown),
		cmocka_unit_test_setup_teardown(test_build_buffer_too_small, setup, teardown),
		cmocka_unit_test_setup_teardown(test_response_without_request, setup, teardown),
		cmocka_unit_test_setup_teardown(test_invalid_config, setup, teardown),
		cmocka_unit_test_setup_teardown(test_chap_one_way, setup, teardown),
		cmocka_unit_test_setup_teardown(test_chap_algorithm_subset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_chap_mutual_ok, setup, teardown),
		cmocka_unit_test_setup_teardown(test_chap_mutual_wrong_response, setup, teardown),
		cmocka_unit_test_setup_teardown(test_chap_mutual_wrong_name, setup, teardown),
		cmocka_unit_test_setup_teardown(test_chap_mutual_unanswered, setup, teardown),
		cmocka_unit_test_setup_teardown(test_chap_unsolicited_target_response, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_chap_target_rejects, setup, teardown),
		cmocka_unit_test_setup_teardown(test_auth_method_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_chap_short_challenge, setup, teardown),
		cmocka_unit_test_setup_teardown(test_status_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_status_words, setup, teardown),
		cmocka_unit_test_setup_teardown(test_redirect_temporary, setup, teardown),
		cmocka_unit_test_setup_teardown(test_redirect_permanent_ipv6, setup, teardown),
		cmocka_unit_test_setup_teardown(test_redirect_without_address, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_itt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_isid, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_stage, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_next_stage, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unrequested_transit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_opcode_and_version, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_statsn, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tsih_checks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_continuation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_continuation_with_transit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_understood_answers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_key_answered, setup, teardown),
		cmocka_unit_test_setup_teardown(test_another_round, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tgtd_stay, setup, teardown),
		cmocka_unit_test_setup_teardown(test_key_repeated_in_a_set, setup, teardown),
		cmocka_unit_test_setup_teardown(test_key_repeated_across_sets, setup, teardown),
		cmocka_unit_test_setup_teardown(test_security_stage_offer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_security_stage_more_rounds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_final_response_with_offer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed_text, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reply_too_large, setup, teardown),
		cmocka_unit_test_setup_teardown(test_endless_login, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
