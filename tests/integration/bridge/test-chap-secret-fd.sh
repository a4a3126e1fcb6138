#!/bin/bash
# A running bridge and its CHAP secrets, against tgtd with mutual CHAP:
# given through descriptors (--chap-secret-fd, --chap-target-secret-fd),
# they are nowhere in its /proc/PID/cmdline, environ or open descriptors
# (read and closed), nor in what it prints or logs; given in the
# environment, the variables are cleared once read.  Its memory (read
# through /proc/PID/mem as root) holds each secret exactly once: the copy
# a recovering session logs in again with, which it does after tgtd drops
# the connection; with two paths (two sessions), still once.
set -uo pipefail
. "$(dirname "$0")/lib-bridge.sh"
br_require
br_setup
IQN=iqn.2026-12.org.lunbridge.test:secretfd
SECRET=Initiator-Secret-$$-q7
TSECRET=Target-Secret-$$-k9
tgt_start 127.0.0.1 127.0.0.2 || br_abort "tgtd on two portals"
read -r _ P2 <<<"$TGT_PORTALS"
br_start_target 1 "$IQN" || br_abort "target"
tgt_mkimg "$TMP/lun1" 1M || br_abort "image"
tgt_add_lun 1 1 "$TMP/lun1" || br_abort "LUN"
tgt_chap 1 alice "$SECRET" || br_abort "tgtd: CHAP account"
tgt_chap_mutual 1 tgt-bob "$TSECRET" || br_abort "tgtd: outgoing CHAP account"
CHAP=(--chap-algorithms md5 --chap-user alice --chap-target-user tgt-bob)

# expect_copies DESC EXPECTED ACTUAL: the memory scan's count.  Under
# ASan it is shown, not checked: the scan cannot read such a process (its
# mappings include ASan's shadow memory, terabytes of it: Python's read
# fails with MemoryError and there is no count)
asan=$(ldd "$LUNBRIDGE" 2>/dev/null | grep -q libasan && echo yes || echo no)
expect_copies() {
	if [ "$asan" = yes ]; then
		echo "(under ASan, not checked: $1: expected $2, found $3)"
	else
		expect_eq "$@"
	fi
}

# mem_count PID STRING: how many times STRING is in PID's readable memory
mem_count() {
	/usr/bin/python3 - "$1" "$2" <<'EOF'
import re, sys
pid, needle = sys.argv[1], sys.argv[2].encode()
n = 0
with open('/proc/%s/maps' % pid) as maps, open('/proc/%s/mem' % pid, 'rb', 0) as mem:
    for line in maps:
        addr, perms = line.split()[:2]
        if perms[0] != 'r':
            continue
        lo, hi = (int(x, 16) for x in addr.split('-'))
        try:
            mem.seek(lo)
            data = mem.read(hi - lo)
        except (OSError, ValueError, OverflowError):
            continue  # [vvar], [vsyscall]
        n += len(re.findall(re.escape(needle), data))
print(n)
EOF
}
# in_proc PID FILE: whether either secret is in /proc/PID/FILE
in_proc() { tr '\0' '\n' <"/proc/$1/$2" | grep -c -F -e "$SECRET" -e "$TSECRET"; }
# fd_links PID: where PID's descriptors point
fd_links() { for f in /proc/"$1"/fd/*; do readlink "$f"; done; }

# 1: both secrets through pipes
exec 3< <(printf '%s\n' "$SECRET") 4< <(printf '%s\n' "$TSECRET")
pipes=$(readlink /proc/$$/fd/3 /proc/$$/fd/4)
br_attach fd1 "$IQN" 1 "$(br_unix_export fd1)" "${CHAP[@]}" --chap-secret-fd 3 \
	--chap-target-secret-fd 4 || br_abort "attach with the secrets from descriptors"
exec 3<&- 4<&-
pass "attach with both secrets from descriptors (mutual CHAP): ready"
expect_eq "fd: no secret in /proc/PID/cmdline" 0 "$(in_proc "$BR_PID" cmdline)"
expect_eq "fd: no secret in /proc/PID/environ" 0 "$(in_proc "$BR_PID" environ)"
expect_eq "fd: the two pipes are closed in the bridge" "" \
	"$(fd_links "$BR_PID" | grep -F -x -f <(printf '%s\n' "$pipes"))"
expect_copies "fd: the initiator secret once in the bridge's memory" 1 "$(mem_count "$BR_PID" "$SECRET")"
expect_copies "fd: the target secret once in the bridge's memory" 1 "$(mem_count "$BR_PID" "$TSECRET")"

# a recovering session logs in again with the kept copy: a new session
# (TSIH) once tgtd dropped the connection, and tgtd wants CHAP
before=$(tgt_sessions 1)
tgt_drop_conns 1 || fail "tgtd: cannot drop the connections"
relogged() { local now; now=$(tgt_sessions 1); [ -n "$now" ] && [ "$now" != "$before" ]; }
expect_eq "fd: after tgtd dropped it, the session logged in again (CHAP)" yes \
	"$(br_wait_for "$BR_TIMEOUT" relogged && echo yes)"
br_expect_alive "fd" fd1
expect_copies "fd: still one copy of each secret after the new login" "1 1" \
	"$(mem_count "$BR_PID" "$SECRET") $(mem_count "$BR_PID" "$TSECRET")"
FD1_PID=$BR_PID

# 2: the same secrets in the environment
LUNBRIDGE_CHAP_SECRET=$SECRET LUNBRIDGE_CHAP_TARGET_SECRET=$TSECRET \
	br_attach env1 "$IQN" 1 "$(br_unix_export env1)" "${CHAP[@]}" ||
	br_abort "attach with the secrets from the environment"
pass "attach with both secrets from the environment: ready"
expect_eq "env: the variables are cleared from /proc/PID/environ" 0 "$(in_proc "$BR_PID" environ)"
expect_copies "env: one copy of each secret in the bridge's memory" "1 1" \
	"$(mem_count "$BR_PID" "$SECRET") $(mem_count "$BR_PID" "$TSECRET")"

ENV1_PID=$BR_PID
"$LUNBRIDGE" detach fd1 >"$TMP/detach.out" 2>&1 || fail "detach fd1"
"$LUNBRIDGE" detach env1 >>"$TMP/detach.out" 2>&1 || fail "detach env1"
br_wait_gone "$FD1_PID" >/dev/null 2>&1
br_wait_gone "$ENV1_PID" >/dev/null 2>&1

# 3: two paths, two sessions, one copy of each secret (the second path's
# session logs in with the secret read from the pipe for the first)
exec 3< <(printf '%s\n' "$SECRET") 4< <(printf '%s\n' "$TSECRET")
br_attach mp1 "$IQN" 1 "$(br_unix_export mp1)" "${CHAP[@]}" --chap-secret-fd 3 \
	--chap-target-secret-fd 4 --path "$P2" || br_abort "attach with two paths, secrets from descriptors"
exec 3<&- 4<&-
expect_eq "two paths: tgtd has the volume's two sessions" 2 "$(br_wait_sessions 1 2)"
expect_copies "two paths: one copy of each secret in the bridge's memory" "1 1" \
	"$(mem_count "$BR_PID" "$SECRET") $(mem_count "$BR_PID" "$TSECRET")"
"$LUNBRIDGE" detach mp1 >>"$TMP/detach.out" 2>&1 || fail "detach mp1"

# nothing printed or listed holds a secret
"$LUNBRIDGE" list --json >"$TMP/list.json" 2>&1
if grep -r -q -F -e "$SECRET" -e "$TSECRET" "$TMP"/*.err "$TMP"/*.out "$TMP/list.json" "$LUNBRIDGE_RUN_DIR" \
	<(journalctl -q --since "-10min" 2>/dev/null) </dev/null; then
	fail "a secret appears in what the bridge printed or logged"
else
	pass "no secret in the bridges' output, the run directory, list --json or the journal"
fi
finish
