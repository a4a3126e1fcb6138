#!/bin/bash
# CHAP against a real tgtd: one-way and mutual, right and wrong secrets,
# secrets from a descriptor, a file or the environment and never on argv
# or in output.
# tgtd numbers CHAP_A differently from IANA (7 means SHA-1 to it; see
# lib-tgtd.sh), so the logins here offer MD5, the one algorithm both
# sides agree on; our SHA-1/SHA-256/SHA3-256 are covered by test-chap.c.
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib-tgtd.sh"
tgt_require

TMP=$(mktemp -d)
trap 'tgt_cleanup; rm -rf "$TMP"' EXIT
trap 'exit 1' INT TERM
T1=iqn.2026-11.org.lunbridge.test:chap1
T2=iqn.2026-11.org.lunbridge.test:chap2
SECRET=initiator-secret-0123
TSECRET=target-secret-456789

tgt_start || exit 1
tgt_mkimg "$TMP/lun" 1M
tgt_add_target 1 "$T1"
tgt_add_lun 1 1 "$TMP/lun"
tgt_bind_all 1
tgt_chap 1 alice "$SECRET"
tgt_add_target 2 "$T2"
tgt_add_lun 2 1 "$TMP/lun"
tgt_bind_all 2
tgt_chap 2 alice "$SECRET"
tgt_chap_mutual 2 tgt-bob "$TSECRET"

printf '%s\n' "$SECRET" >"$TMP/secret"
printf '%s\n' "$TSECRET" >"$TMP/tsecret"
printf '%s\n' wrong-secret-0000 >"$TMP/wrong"
chmod 600 "$TMP/secret" "$TMP/tsecret" "$TMP/wrong"
MD5=(--chap-algorithms md5)
luns() { "$LUNBRIDGE" luns -p "$TGT_PORTAL" "$@"; }
count() { luns "$@" --json | jq length; }

expect_eq "one-way CHAP, secret from a file" 2 "$(count -T "$T1" "${MD5[@]}" --chap-user alice --chap-secret-file "$TMP/secret")"
expect_eq "one-way CHAP, secret from the environment" 2 \
	"$(LUNBRIDGE_CHAP_SECRET=$SECRET count -T "$T1" "${MD5[@]}" --chap-user alice)"
expect_fail_match "wrong secret" "^lunbridge: login to 127\.0\.0\.1:$TGT_PORT failed: .*authentication failed" \
	luns -T "$T1" "${MD5[@]}" --chap-user alice --chap-secret-file "$TMP/wrong"
expect_fail_match "wrong user" "^lunbridge: login to 127\.0\.0\.1:$TGT_PORT failed: .*authentication failed" \
	luns -T "$T1" "${MD5[@]}" --chap-user mallory --chap-secret-file "$TMP/secret"
expect_fail_match "no CHAP on a CHAP target" "^lunbridge: login to 127\.0\.0\.1:$TGT_PORT failed: .*authentication failed" \
	luns -T "$T1"

expect_eq "mutual CHAP" 2 "$(count -T "$T2" "${MD5[@]}" --chap-user alice --chap-secret-file "$TMP/secret" \
	--chap-target-user tgt-bob --chap-target-secret-file "$TMP/tsecret")"
expect_eq "mutual CHAP, target secret from the environment" 2 \
	"$(LUNBRIDGE_CHAP_TARGET_SECRET=$TSECRET count -T "$T2" "${MD5[@]}" --chap-user alice \
		--chap-secret-file "$TMP/secret" --chap-target-user tgt-bob)"
printf '%s\n' other-target-secret >"$TMP/twrong"; chmod 600 "$TMP/twrong"
expect_fail_match "mutual CHAP: the target does not know our secret for it" \
	"^lunbridge: login to 127\.0\.0\.1:$TGT_PORT failed: .*(authentication|target).*" \
	luns -T "$T2" "${MD5[@]}" --chap-user alice --chap-secret-file "$TMP/secret" \
	--chap-target-user tgt-bob --chap-target-secret-file "$TMP/twrong"
expect_fail_match "mutual CHAP: the target gives another name" \
	"^lunbridge: login to 127\.0\.0\.1:$TGT_PORT failed: .*" \
	luns -T "$T2" "${MD5[@]}" --chap-user alice --chap-secret-file "$TMP/secret" \
	--chap-target-user tgt-carol --chap-target-secret-file "$TMP/tsecret"

# secrets from a descriptor: a pipe (to its end or first newline) or an
# open file, read once and closed
expect_eq "one-way CHAP, secret from a pipe" 2 \
	"$(count -T "$T1" "${MD5[@]}" --chap-user alice --chap-secret-fd 3 3< <(printf '%s\n' "$SECRET"))"
expect_eq "one-way CHAP, secret from a pipe without a newline" 2 \
	"$(count -T "$T1" "${MD5[@]}" --chap-user alice --chap-secret-fd 3 3< <(printf '%s' "$SECRET"))"
expect_eq "one-way CHAP, secret from stdin, the first line only" 2 \
	"$(printf '%s\r\nnot-this-line\n' "$SECRET" | count -T "$T1" "${MD5[@]}" --chap-user alice --chap-secret-fd 0)"
expect_eq "one-way CHAP, secret from an open 0600 file" 2 \
	"$(count -T "$T1" "${MD5[@]}" --chap-user alice --chap-secret-fd 7 7<"$TMP/secret")"
expect_fail_match "wrong secret from a descriptor" "^lunbridge: login to 127\.0\.0\.1:$TGT_PORT failed: .*authentication failed" \
	luns -T "$T1" "${MD5[@]}" --chap-user alice --chap-secret-fd 3 3<"$TMP/wrong"
expect_eq "mutual CHAP, both secrets from descriptors" 2 \
	"$(count -T "$T2" "${MD5[@]}" --chap-user alice --chap-secret-fd 3 --chap-target-user tgt-bob \
		--chap-target-secret-fd 4 3< <(printf '%s\n' "$SECRET") 4< <(printf '%s\n' "$TSECRET"))"
expect_fail_match "mutual CHAP: a wrong target secret from a descriptor" \
	"^lunbridge: login to 127\.0\.0\.1:$TGT_PORT failed: .*(authentication|target).*" \
	luns -T "$T2" "${MD5[@]}" --chap-user alice --chap-secret-fd 3 --chap-target-user tgt-bob \
	--chap-target-secret-fd 4 3< <(printf '%s\n' "$SECRET") 4<"$TMP/twrong"
# discovery sessions authenticate too, once tgtd is told (an account
# bound without a target)
tgt_adm --mode account --op bind --user alice >/dev/null || fail "tgtd: discovery CHAP not set"
expect_fail_match "discovery: wrong secret from a descriptor" "^lunbridge: login to 127\.0\.0\.1:$TGT_PORT failed: .*authentication failed" \
	"$LUNBRIDGE" discover -p "$TGT_PORTAL" "${MD5[@]}" --chap-user alice --chap-secret-fd 3 3<"$TMP/wrong"
expect_eq "discovery with the secret from a descriptor" "$T1" \
	"$("$LUNBRIDGE" discover -p "$TGT_PORTAL" --json "${MD5[@]}" --chap-user alice --chap-secret-fd 3 \
		3< <(printf '%s\n' "$SECRET") | jq -r --arg t "$T1" '.[] | select(.target == $t) | .target')"
# bad descriptors and conflicting sources: one line each (of a usage
# error, the first; the second is the --help hint)
first_line() { "$@" 2>&1 >/dev/null | head -1 >&2; return "${PIPESTATUS[0]}"; }
expect_fail "a descriptor that is not open" "lunbridge: --chap-secret-fd 9: descriptor 9 is not open" \
	luns -T "$T1" --chap-user alice --chap-secret-fd 9
expect_fail "a descriptor that is a directory" "lunbridge: --chap-secret-fd 3: descriptor 3 is a directory" \
	luns -T "$T1" --chap-user alice --chap-secret-fd 3 3<"$TMP"
expect_fail "an empty descriptor" "lunbridge: --chap-target-secret-fd 4: the CHAP target secret is empty" \
	luns -T "$T2" --chap-user alice --chap-secret-fd 3 --chap-target-secret-fd 4 3<"$TMP/secret" 4</dev/null
expect_fail "a secret of 257 bytes" "lunbridge: --chap-secret-fd 3: the CHAP secret is longer than 256 bytes" \
	luns -T "$T1" --chap-user alice --chap-secret-fd 3 3< <(head -c 257 /dev/zero | tr '\0' s)
chmod 644 "$TMP/wrong"
expect_fail "a world-readable file as a descriptor" \
	"lunbridge: --chap-secret-fd 3: descriptor 3 is a file readable by everyone (mode 0644); chmod o-r it" \
	luns -T "$T1" --chap-user alice --chap-secret-fd 3 3<"$TMP/wrong"
chmod 600 "$TMP/wrong"
expect_fail_match "a descriptor and a file for the same secret" \
	"^lunbridge: --chap-secret-fd and --chap-secret-file both give the CHAP secret; give one$" \
	first_line luns -T "$T1" --chap-user alice --chap-secret-fd 3 --chap-secret-file "$TMP/secret" 3<"$TMP/secret"
expect_fail_match "a descriptor and a file for the target secret" \
	"^lunbridge: --chap-target-secret-fd and --chap-target-secret-file both give the CHAP target secret; give one$" \
	first_line luns -T "$T2" --chap-user alice --chap-secret-file "$TMP/secret" \
	--chap-target-secret-fd 3 --chap-target-secret-file "$TMP/tsecret" 3<"$TMP/tsecret"
expect_fail_match "one descriptor for both secrets" \
	"^lunbridge: --chap-secret-fd and --chap-target-secret-fd are both descriptor 3; the two secrets differ$" \
	first_line luns -T "$T2" --chap-user alice --chap-secret-fd 3 --chap-target-secret-fd 3 3<"$TMP/secret"
expect_fail_match "a descriptor that is not a number" \
	"^lunbridge: --chap-secret-fd: 'x' is not a number from 0 to 2147483647$" \
	first_line luns -T "$T1" --chap-user alice --chap-secret-fd x
expect_fail_match "a secret descriptor without a user" "^lunbridge: a CHAP secret is given but no --chap-user$" \
	first_line luns -T "$T1" --chap-secret-fd 3 3<"$TMP/secret"

# secrets never on argv, never in what we print
expect_fail_match "no option takes a secret" "^lunbridge: secrets are not taken on the command line, where every user can read them; use --chap-secret-fd, --chap-secret-file or \\\$LUNBRIDGE_CHAP_SECRET$" \
	bash -c '"$LUNBRIDGE" luns -p x -T y --chap-secret s 2>&1 | head -1 >&2; exit 2'
out=$(luns -T "$T1" "${MD5[@]}" --chap-user alice --chap-secret-file "$TMP/wrong" 2>&1;
	luns -T "$T2" "${MD5[@]}" --chap-user alice --chap-secret-file "$TMP/secret" \
		--chap-target-user tgt-bob --chap-target-secret-file "$TMP/twrong" 2>&1)
if grep -q -e wrong-secret -e "$SECRET" -e other-target-secret -e "$TSECRET" <<<"$out"; then
	fail "a secret appears in our output"
else
	pass "no secret in our output"
fi
chmod 644 "$TMP/secret"
expect_fail_match "world-readable secret file refused" \
	"^lunbridge: CHAP secret file .*/secret is readable by everyone \(mode 0644\); chmod o-r it$" \
	luns -T "$T1" --chap-user alice --chap-secret-file "$TMP/secret"
chmod 600 "$TMP/secret"
printf 'short\n' >"$TMP/short"; chmod 600 "$TMP/short"
expect_fail_match "too short a secret refused before connecting" "^lunbridge: .*(12|short).*" \
	luns -T "$T1" --chap-user alice --chap-secret-file "$TMP/short"
expect_fail_match "secret without user" "^lunbridge: a CHAP secret is given but no --chap-user$" \
	bash -c '"$LUNBRIDGE" luns -p x -T y --chap-secret-file /dev/null 2>&1 | head -1 >&2; exit 2'
expect_fail_match "unknown algorithm" "^lunbridge: --chap-algorithms: unknown algorithm 'sha512' \(sha3-256, sha256, sha1, md5\)$" \
	bash -c '"$LUNBRIDGE" luns -p x -T y --chap-algorithms sha512 2>&1 | head -1 >&2; exit 2'
finish
