/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * CHAP.  Known answers were computed independently:
 *   python3 -c "import hashlib; print(hashlib.md5(b'\x01' + b'lunbridge-secret'
 *               + bytes(range(16))).hexdigest())"
 * and with `openssl dgst -md5` / `-sha3-256` on the same bytes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <string.h>
#include <cmocka.h>

#include "chap.h"

static const uint8_t secret[] = "lunbridge-secret";
static const uint8_t tsecret[] = "target-secret-456789";
static uint8_t chal16[16];

#define CHAL16_HEX "0x000102030405060708090a0b0c0d0e0f"

static int setup(void **state)
{
	for (int i = 0; i < 16; i++)
		chal16[i] = (uint8_t)i;
	return 0;
}

static void hexify(const uint8_t *b, size_t n, char *out)
{
	assert_int_equal(iscsi_binary_encode_hex(b, n, out, 2 + 2 * n + 1), 0);
}

static void known_answer(enum iscsi_chap_alg alg, const char *want)
{
	uint8_t out[ISCSI_CHAP_DIGEST_MAX];
	char hex[2 + 64 + 1];
	int n = iscsi_chap_compute(alg, 1, secret, 16, chal16, 16, out);

	assert_int_equal(n, (int)iscsi_chap_digest_len(alg));
	hexify(out, (size_t)n, hex);
	assert_string_equal(hex, want);
}

static void test_md5_known_answer(void **state)
{
	known_answer(ISCSI_CHAP_MD5, "0x40709d8b463d911cdfc4250978f52aeb");
}

static void test_sha1_known_answer(void **state)
{
	known_answer(ISCSI_CHAP_SHA1, "0x1e014206fdf85ba97847392d9ed32d27170336a9");
}

static void test_sha256_known_answer(void **state)
{
	known_answer(ISCSI_CHAP_SHA256,
		     "0x83825a0cc0273bbcbdb6cc20e91f3b8deaaeae7841b46cc01ab0d0e1536239aa");
}

static void test_sha3_256_known_answer(void **state)
{
	known_answer(ISCSI_CHAP_SHA3_256,
		     "0x436023c523a13c4375c765eebd9c460f11bc98dbd2ab6c1017f6d1b7b6ea029b");
}

static void test_unknown_alg(void **state)
{
	uint8_t out[ISCSI_CHAP_DIGEST_MAX];

	assert_int_equal(iscsi_chap_compute((enum iscsi_chap_alg)9, 1, secret, 16, chal16, 16, out),
			 -EOPNOTSUPP);
}

static void test_decode_hex(void **state)
{
	uint8_t out[32];
	size_t n;

	assert_int_equal(iscsi_binary_decode(CHAL16_HEX, out, sizeof(out), &n), 0);
	assert_int_equal(n, 16);
	assert_memory_equal(out, chal16, 16);
	assert_int_equal(iscsi_binary_decode("0XaBc", out, sizeof(out), &n), 0); /* odd */
	assert_int_equal(n, 2);
	assert_int_equal(out[0], 0x0a);
	assert_int_equal(out[1], 0xbc);
}

static void test_decode_base64(void **state)
{
	uint8_t out[32];
	size_t n;

	assert_int_equal(iscsi_binary_decode("0bAAECAwQFBgcICQoLDA0ODw==", out, sizeof(out), &n),
			 0);
	assert_int_equal(n, 16);
	assert_memory_equal(out, chal16, 16);
	assert_int_equal(iscsi_binary_decode("0BAAECAwQFBgcICQoLDA0ODw", out, sizeof(out), &n), 0);
	assert_int_equal(n, 16);
}

static void test_decode_invalid(void **state)
{
	uint8_t out[4];
	size_t n;

	assert_int_equal(iscsi_binary_decode("0x", out, sizeof(out), &n), -EINVAL);
	assert_int_equal(iscsi_binary_decode("0xzz", out, sizeof(out), &n), -EINVAL);
	assert_int_equal(iscsi_binary_decode("1234", out, sizeof(out), &n), -EINVAL);
	assert_int_equal(iscsi_binary_decode("0bA", out, sizeof(out), &n), -EINVAL);
	assert_int_equal(iscsi_binary_decode("0bAB=C", out, sizeof(out), &n), -EINVAL);
	assert_int_equal(iscsi_binary_decode("0bAB==", out, sizeof(out), &n), -EINVAL);
	assert_int_equal(iscsi_binary_decode("0x0102030405", out, sizeof(out), &n), -EMSGSIZE);
}

static void test_offer_preference_order(void **state)
{
	struct iscsi_chap c;
	struct iscsi_text_builder b;

	iscsi_text_builder_init(&b, 0);
	assert_int_equal(iscsi_chap_init(&c, 0), 0);
	assert_int_equal(iscsi_chap_offer(&c, &b), 0);
	assert_string_equal(b.buf, "CHAP_A=8,7,6,5");
	iscsi_text_builder_free(&b);

	iscsi_text_builder_init(&b, 0);
	assert_int_equal(iscsi_chap_init(&c, ISCSI_CHAP_ALG_BIT(ISCSI_CHAP_MD5) |
						     ISCSI_CHAP_ALG_BIT(ISCSI_CHAP_SHA256)),
			 0);
	assert_int_equal(iscsi_chap_offer(&c, &b), 0);
	assert_string_equal(b.buf, "CHAP_A=7,5");
	iscsi_text_builder_free(&b);
}

static void test_init_rejects_unknown_bits(void **state)
{
	struct iscsi_chap c;

	assert_int_equal(iscsi_chap_init(&c, 1u << 4), -EINVAL);
}

static struct iscsi_chap_creds creds(bool mutual)
{
	return (struct iscsi_chap_creds){
		.name = "iqn.2024-01.org.example:init",
		.secret = secret,
		.secret_len = 16,
		.target_name = mutual ? "iqn.2003-01.org.example:disk" : NULL,
		.target_secret = mutual ? tsecret : NULL,
		.target_secret_len = mutual ? sizeof(tsecret) - 1 : 0,
	};
}

static void test_respond_one_way(void **state)
{
	struct iscsi_chap c;
	struct iscsi_chap_creds cr = creds(false);
	struct iscsi_text_builder b;

	iscsi_text_builder_init(&b, 0);
	assert_int_equal(iscsi_chap_init(&c, 0), 0);
	assert_int_equal(iscsi_chap_respond(&c, &cr, "5", "1", CHAL16_HEX, &b, NULL), 0);
	assert_memory_equal(b.buf,
			    "CHAP_N=iqn.2024-01.org.example:init\0"
			    "CHAP_R=0x40709d8b463d911cdfc4250978f52aeb",
			    b.len);
	assert_false(iscsi_text_has(&b, "CHAP_C"));
	iscsi_text_builder_free(&b);
}

static void test_respond_rejects_alg_not_offered(void **state)
{
	struct iscsi_chap c;
	struct iscsi_chap_creds cr = creds(false);
	struct iscsi_text_builder b;

	iscsi_text_builder_init(&b, 0);
	assert_int_equal(iscsi_chap_init(&c, ISCSI_CHAP_ALG_BIT(ISCSI_CHAP_SHA256)), 0);
	assert_int_equal(iscsi_chap_respond(&c, &cr, "5", "1", CHAL16_HEX, &b, NULL), -EPROTO);
	assert_int_equal(iscsi_chap_respond(&c, &cr, "7,5", "1", CHAL16_HEX, &b, NULL), -EPROTO);
	iscsi_text_builder_free(&b);
}

static void test_respond_rejects_short_challenge(void **state)
{
	struct iscsi_chap c;
	struct iscsi_chap_creds cr = creds(false);
	struct iscsi_text_builder b;

	iscsi_text_builder_init(&b, 0);
	assert_int_equal(iscsi_chap_init(&c, 0), 0);
	assert_int_equal(iscsi_chap_respond(&c, &cr, "5", "1", "0x00010203040506070809", &b, NULL),
			 -EACCES);
	iscsi_text_builder_free(&b);
}

static void test_respond_rejects_bad_identifier(void **state)
{
	struct iscsi_chap c;
	struct iscsi_chap_creds cr = creds(false);
	struct iscsi_text_builder b;

	iscsi_text_builder_init(&b, 0);
	assert_int_equal(iscsi_chap_init(&c, 0), 0);
	assert_int_equal(iscsi_chap_respond(&c, &cr, "5", "256", CHAL16_HEX, &b, NULL), -EPROTO);
	assert_int_equal(iscsi_chap_respond(&c, &cr, "5", NULL, CHAL16_HEX, &b, NULL), -EPROTO);
	iscsi_text_builder_free(&b);
}

static void test_respond_rejects_oversized_challenge(void **state)
{
	static char big[2 + 2 * 1025 + 1] = "0x";
	struct iscsi_chap c;
	struct iscsi_chap_creds cr = creds(false);
	struct iscsi_text_builder b;

	memset(big + 2, 'a', 2 * 1025);
	iscsi_text_builder_init(&b, 0);
	assert_int_equal(iscsi_chap_init(&c, 0), 0);
	assert_int_equal(iscsi_chap_respond(&c, &cr, "5", "1", big, &b, NULL), -EPROTO);
	iscsi_text_builder_free(&b);
}

/* A challenge we issued in one login (mutual CHAP), sent back by a target
 * in another, is refused: within one login ours comes after the target's,
 * so a reflection always crosses logins. */
static void test_respond_rejects_reflected_challenge(void **state)
{
	struct iscsi_chap first, second;
	struct iscsi_chap_creds cr = creds(true);
	struct iscsi_text_builder b;
	char ours[2 + 2 * ISCSI_CHAP_DIGEST_MAX + 1];
	lb_err err;

	iscsi_text_builder_init(&b, 0);
	assert_int_equal(iscsi_chap_init(&first, 0), 0);
	assert_int_equal(iscsi_chap_respond(&first, &cr, "5", "1", CHAL16_HEX, &b, NULL), 0);
	hexify(first.challenge, first.challenge_len, ours);

	b.len = 0;
	assert_int_equal(iscsi_chap_init(&second, 0), 0);
	assert_int_equal(iscsi_chap_respond(&second, &cr, "5", "2", ours, &b, &err), -EACCES);
	assert_string_equal(err.msg, "target sent back a CHAP challenge we issued (a reflection)");
	/* one-way CHAP too: the answer would be just as useful to the reflector */
	cr = creds(false);
	assert_int_equal(iscsi_chap_respond(&second, &cr, "5", "2", ours, &b, NULL), -EACCES);
	iscsi_text_builder_free(&b);
}

/* A challenge nobody issued is answered, again and again (a target may
 * send the same one twice; only ours are refused). */
static void test_respond_accepts_foreign_challenge_twice(void **state)
{
	struct iscsi_chap c;
	struct iscsi_chap_creds cr = creds(true);
	struct iscsi_text_builder b;

	iscsi_text_builder_init(&b, 0);
	for (int i = 0; i < 2; i++) {
		b.len = 0;
		assert_int_equal(iscsi_chap_init(&c, 0), 0);
		assert_int_equal(iscsi_chap_respond(&c, &cr, "5", "1", CHAL16_HEX, &b, NULL), 0);
		/* and ours is never the target's */
		assert_false(c.challenge_len == 16 && !memcmp(c.challenge, chal16, 16));
	}
	iscsi_text_builder_free(&b);
}

static void test_mutual_roundtrip(void **state)
{
	struct iscsi_chap c;
	struct iscsi_chap_creds cr = creds(true);
	struct iscsi_text_builder b;
	uint8_t resp[ISCSI_CHAP_DIGEST_MAX];
	char hex[80];
	int n;

	iscsi_text_builder_init(&b, 0);
	assert_int_equal(iscsi_chap_init(&c, 0), 0);
	assert_int_equal(iscsi_chap_respond(&c, &cr, "7", "9", CHAL16_HEX, &b, NULL), 0);
	assert_true(iscsi_text_has(&b, "CHAP_I"));
	assert_true(iscsi_text_has(&b, "CHAP_C"));
	assert_int_equal(c.challenge_len, 32); /* SHA-256 digest size */
	assert_memory_not_equal(c.challenge, chal16, 16);

	/* The target answers with H(our id || target secret || our challenge). */
	n = iscsi_chap_compute(ISCSI_CHAP_SHA256, c.id, tsecret, sizeof(tsecret) - 1, c.challenge,
			       c.challenge_len, resp);
	assert_int_equal(n, 32);
	hexify(resp, 32, hex);
	assert_int_equal(iscsi_chap_verify(&c, &cr, "iqn.2003-01.org.example:disk", hex, NULL), 0);
	hex[5] ^= 1;
	assert_int_equal(iscsi_chap_verify(&c, &cr, "iqn.2003-01.org.example:disk", hex, NULL),
			 -EACCES);
	iscsi_text_builder_free(&b);
}

static void test_verify_md5_known_answer(void **state)
{
	struct iscsi_chap_creds cr = creds(true);
	struct iscsi_chap c = {.alg = ISCSI_CHAP_MD5, .id = 0xa5, .challenge_len = 20};

	memset(c.challenge, 0xaa, 20);
	assert_int_equal(iscsi_chap_verify(&c, &cr, "iqn.2003-01.org.example:disk",
					   "0x05c272b5bc34390e1082a44aa40aa6ef", NULL),
			 0);
}

static void test_verify_wrong_name(void **state)
{
	struct iscsi_chap_creds cr = creds(true);
	struct iscsi_chap c = {.alg = ISCSI_CHAP_MD5, .id = 0xa5, .challenge_len = 20};

	memset(c.challenge, 0xaa, 20);
	assert_int_equal(iscsi_chap_verify(&c, &cr, "iqn.2003-01.org.example:other",
					   "0x05c272b5bc34390e1082a44aa40aa6ef", NULL),
			 -EACCES);
}

static void test_verify_missing_response(void **state)
{
	struct iscsi_chap_creds cr = creds(true);
	struct iscsi_chap c = {.alg = ISCSI_CHAP_MD5, .challenge_len = 20};

	assert_int_equal(iscsi_chap_verify(&c, &cr, NULL, NULL, NULL), -EACCES);
}

static void test_creds_same_secret_rejected(void **state)
{
	struct iscsi_chap_creds cr = creds(true);
	lb_err err = {0};

	cr.target_secret = secret;
	cr.target_secret_len = 16;
	assert_int_equal(iscsi_chap_check_creds(&cr, &err), -EINVAL);
	assert_null(strstr(err.msg, "lunbridge-secret")); /* never echo secrets */
}

static void test_creds_short_secret_rejected(void **state)
{
	struct iscsi_chap_creds cr = creds(false);

	cr.secret_len = 11;
	assert_int_equal(iscsi_chap_check_creds(&cr, NULL), -EINVAL);
}

static void test_random_bytes(void **state)
{
	uint8_t a[32] = {0}, b[32] = {0};

	assert_int_equal(iscsi_random_bytes(a, sizeof(a)), 0);
	assert_int_equal(iscsi_random_bytes(b, sizeof(b)), 0);
	assert_memory_not_equal(a, b, sizeof(a));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_md5_known_answer),
		cmocka_unit_test(test_sha1_known_answer),
		cmocka_unit_test(test_sha256_known_answer),
		cmocka_unit_test(test_sha3_256_known_answer),
		cmocka_unit_test(test_unknown_alg),
		cmocka_unit_test(test_decode_hex),
		cmocka_unit_test(test_decode_base64),
		cmocka_unit_test(test_decode_invalid),
		cmocka_unit_test(test_offer_preference_order),
		cmocka_unit_test(test_init_rejects_unknown_bits),
		cmocka_unit_test(test_respond_one_way),
		cmocka_unit_test(test_respond_rejects_alg_not_offered),
		cmocka_unit_test(test_respond_rejects_short_challenge),
		cmocka_unit_test(test_respond_rejects_bad_identifier),
		cmocka_unit_test(test_respond_rejects_oversized_challenge),
		cmocka_unit_test(test_respond_rejects_reflected_challenge),
		cmocka_unit_test(test_respond_accepts_foreign_challenge_twice),
		cmocka_unit_test(test_mutual_roundtrip),
		cmocka_unit_test(test_verify_md5_known_answer),
		cmocka_unit_test(test_verify_wrong_name),
		cmocka_unit_test(test_verify_missing_response),
		cmocka_unit_test(test_creds_same_secret_rejected),
		cmocka_unit_test(test_creds_short_secret_rejected),
		cmocka_unit_test(test_random_bytes),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
