#!/bin/bash
# TLS on the NBD socket export, against a real tgtd: x509 and PSK with
# libnbd's tools (nbds:// URIs) and qemu's (tls-creds-x509); the data
# through TLS equals what plaintext and libiscsi read; `require` refuses
# a plaintext client (ERR_TLS_REQD, said in the bridge's log); a wrong CA
# or PSK fails the handshake; --tls-verify-peer wants a client cert;
# `list --json` shows the mode and who does the records; a TCP export off
# loopback needs --tls require or --insecure; --socket-group; NAME.conf.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../bridge/lib-bridge.sh"
. "$here/lib-pki.sh"
br_require nbdinfo nbdcopy nbdsh qemu-img qemu-io certtool psktool
br_setup
IQN=iqn.2026-12.org.lunbridge.test:nbd-tls
P=$TMP/pki
pki_make "$P" || br_abort "certtool/psktool made no credentials"

br_start_target 1 "$IQN" || exit 1
for l in 1 2 3 4 5 6; do
	tgt_mkimg "$TMP/lun$l" 8M || exit 1
	tgt_add_lun 1 "$l" "$TMP/lun$l" || exit 1
done

# the bridge's log: a foreground attach's stderr
log_has() { grep -q -- "$2" "$TMP/$1.err"; }

# an attach that must be refused, with --daemon: were it not, it would
# return once serving
refused() { # NAME ARGS...: attach --daemon; stderr and stdout to $out
	local name=$1
	shift
	out=$("$LUNBRIDGE" attach -p "$TGT_PORTAL" -T "$IQN" --name "$name" --daemon "$@" 2>&1)
	rc=$?
	[ -z "$(br_lock_pid "$name")" ] || br_track "$(br_lock_pid "$name")"
}

# ---- x509, required -----------------------------------------------------------

port=$(br_free_port) || exit 1
br_attach_fg "$TMP/x509" x509 "$IQN" 1 "nbd://127.0.0.1:$port/x509" \
	--tls require --tls-creds "$P/server" || br_abort "attach x509"
TLS="nbds://127.0.0.1:$port/x509?tls-certificates=$P/client"
PLAIN="nbd://127.0.0.1:$port/x509"

tgt_mkimg "$TMP/in" 8M
if nbdcopy "$TMP/in" "$TLS" && tgt_cmp_lun "$(tgt_url "$IQN" 1)" "$TMP/in"; then
	pass "x509: nbdcopy writes through TLS, libiscsi reads the same"
else
	fail "x509: what nbdcopy wrote through TLS is not what libiscsi reads"
fi
if nbdcopy "$TLS" "$TMP/out" && cmp -s "$TMP/in" "$TMP/out"; then
	pass "x509: nbdcopy reads it back through TLS"
else
	fail "x509: nbdcopy reads other bytes back through TLS"
fi
rm -f "$TMP/out"

if nbdinfo "$PLAIN" >/dev/null 2>&1; then
	fail "require: a plaintext nbdinfo connected"
else
	pass "require: a plaintext nbdinfo is refused"
fi
# the replies on the wire: ERR_TLS_REQD in plaintext (ABORT still ACKed
# elsewhere), then STARTTLS, a handshake (Python's ssl), GO over TLS, and
# a second STARTTLS refused with ERR_INVALID
out=$("$BR_PY" - "$port" "$P/client" <<'PY'
import socket, ssl, struct, sys
MAGIC = 0x49484156454F5054
def opt(s, o, data=b""):
    s.sendall(struct.pack(">QII", MAGIC, o, len(data)) + data)
def recvn(s, n):
    b = b""
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c:
            raise EOFError
        b += c
    return b
def reply(s):
    _, o, t, n = struct.unpack(">QIII", recvn(s, 20))
    return t, recvn(s, n)
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
recvn(s, 18)
s.sendall(struct.pack(">I", 3))
go = struct.pack(">I", 4) + b"x509" + struct.pack(">H", 0)
opt(s, 7, go)
t, msg = reply(s)
out = ["go:%x:%s" % (t, msg.decode())]
opt(s, 5)
t, _ = reply(s)
out.append("starttls:%x" % t)
ctx = ssl.create_default_context(cafile=sys.argv[2] + "/ca-cert.pem")
ctx.load_cert_chain(sys.argv[2] + "/client-cert.pem", sys.argv[2] + "/client-key.pem")
ts = ctx.wrap_socket(s, server_hostname="127.0.0.1")
opt(ts, 5)
t, _ = reply(ts)
out.append("again:%x" % t)
opt(ts, 7, go)
while True:
    t, _ = reply(ts)
    if t == 1:
        break
out.append("go-over-tls:%x" % t)
print(" ".join(out))
PY
)
expect_eq "require: GO in plaintext gets ERR_TLS_REQD; STARTTLS, then GO over TLS; STARTTLS again: ERR_INVALID" \
	"go:80000005:TLS is required starttls:1 again:80000003 go-over-tls:1" "$out"
if br_wait_for 5 log_has x509 "option .* refused: TLS is required"; then
	pass "require: the bridge logs the plaintext client's refusal"
else
	fail "require: no 'TLS is required' line in the bridge's log"
fi

# plaintext EXPORT_NAME (the old way in) is just closed: nothing to read
out=$("$BR_PY" - "$port" <<'PY'
import socket, struct, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.recv(18)
s.sendall(struct.pack(">I", 1))
s.sendall(struct.pack(">QII", 0x49484156454F5054, 1, 4) + b"x509")
data = s.recv(512)
print("closed" if data == b"" else "got %d bytes" % len(data))
PY
)
expect_eq "require: plaintext NBD_OPT_EXPORT_NAME gets the connection closed" closed "$out"

if nbdinfo "nbds://127.0.0.1:$port/x509?tls-certificates=$P/other" >/dev/null 2>&1; then
	fail "x509: a client trusting another CA connected"
else
	pass "x509: a client trusting another CA is refused"
fi
if br_wait_for 5 log_has x509 "TLS handshake failed"; then
	pass "x509: the bridge logs the failed handshake"
else
	fail "x509: no 'TLS handshake failed' in the bridge's log"
fi

# qemu's client: tls-creds-x509, a pattern written by qemu-io, read by nbdcopy
QOBJ="tls-creds-x509,id=tls0,endpoint=client,dir=$P/client"
QIMG="driver=nbd,host=127.0.0.1,port=$port,export=x509,tls-creds=tls0"
if qemu-io --object "$QOBJ" --image-opts "$QIMG" -c 'write -P 0x5a 1M 2M' >/dev/null &&
	nbdcopy "$TLS" "$TMP/out" &&
	cmp -s <(dd if="$TMP/out" bs=1M skip=1 count=2 status=none) <(head -c 2M /dev/zero | tr '\0' '\132'); then
	pass "qemu-io writes a pattern through TLS (tls-creds-x509), nbdcopy reads it"
else
	fail "qemu-io's pattern through TLS does not read back"
fi
if qemu-img convert -q --object "$QOBJ" --image-opts "$QIMG" -O raw "$TMP/out2" &&
	cmp -s "$TMP/out" "$TMP/out2"; then
	pass "qemu-img reads through TLS what nbdcopy reads"
else
	fail "qemu-img reads other bytes through TLS"
fi
rm -f "$TMP/out" "$TMP/out2"

expect_eq "list --json: stats.tls of the x509 export" \
	"require x509 false gnutls" \
	"$(br_field x509 '.stats.tls | "\(.mode) \(.auth) \(.verify_peer) \(.records)"')"
expect_eq "list --json: handshakes and failures counted" "true true" \
	"$(br_field x509 '.stats.tls | "\(.handshakes >= 4) \(.handshake_failures >= 1)"')"

# ---- TLS offered: plaintext and TLS on one export ------------------------------------

port2=$(br_free_port) || exit 1
br_attach_fg "$TMP/on" on "$IQN" 2 "nbd://127.0.0.1:$port2/on" \
	--tls on --tls-creds "$P/server" || br_abort "attach on"
tgt_mkimg "$TMP/a" 8M
tgt_mkimg "$TMP/b" 8M
if nbdcopy "$TMP/a" "nbd://127.0.0.1:$port2/on" &&
	nbdcopy "nbds://127.0.0.1:$port2/on?tls-certificates=$P/client" "$TMP/out" &&
	cmp -s "$TMP/a" "$TMP/out"; then
	pass "on: written in plaintext, read back the same through TLS"
else
	fail "on: plaintext write, TLS read differ"
fi
if nbdcopy "$TMP/b" "nbds://127.0.0.1:$port2/on?tls-certificates=$P/client" &&
	nbdcopy "nbd://127.0.0.1:$port2/on" "$TMP/out" && cmp -s "$TMP/b" "$TMP/out"; then
	pass "on: written through TLS, read back the same in plaintext"
else
	fail "on: TLS write, plaintext read differ"
fi
rm -f "$TMP/out" "$TMP/a" "$TMP/b"
expect_eq "list --json: mode on" "on" "$(br_field on .stats.tls.mode)"

# ---- PSK -----------------------------------------------------------------------------

port3=$(br_free_port) || exit 1
br_attach_fg "$TMP/psk" psk "$IQN" 3 "nbd://127.0.0.1:$port3/psk" \
	--tls-psk "$P/keys.psk" || br_abort "attach psk"
PSK="nbds://alice@127.0.0.1:$port3/psk?tls-psk-file=$P/keys.psk"
tgt_mkimg "$TMP/in" 8M
if nbdcopy "$TMP/in" "$PSK" && nbdcopy "$PSK" "$TMP/out" && cmp -s "$TMP/in" "$TMP/out" &&
	tgt_cmp_lun "$(tgt_url "$IQN" 3)" "$TMP/in"; then
	pass "psk: nbdcopy in and out through TLS-PSK, libiscsi reads the same"
else
	fail "psk: data through TLS-PSK differs"
fi
rm -f "$TMP/out"
if nbdinfo "nbds://alice@127.0.0.1:$port3/psk?tls-psk-file=$P/wrong.psk" \
	>/dev/null 2>&1; then
	fail "psk: a client with the wrong key connected"
else
	pass "psk: a client with the wrong key is refused"
fi
if nbdinfo "nbd://127.0.0.1:$port3/psk" >/dev/null 2>&1; then
	fail "psk: credentials alone (no --tls) did not require TLS"
else
	pass "psk: credentials alone mean --tls require"
fi
expect_eq "list --json: PSK, required" "require psk" \
	"$(br_field psk '.stats.tls | "\(.mode) \(.auth)"')"

# the same keys from a descriptor (read once, then closed)
port7=$(br_free_port) || exit 1
br_attach pskfd "$IQN" 6 "nbd://127.0.0.1:$port7/pskfd" --tls-psk-fd 3 3<"$P/keys.psk" ||
	br_abort "attach --tls-psk-fd"
if nbdinfo "nbds://alice@127.0.0.1:$port7/pskfd?tls-psk-file=$P/keys.psk" >/dev/null; then
	pass "--tls-psk-fd: the keys from descriptor 3 let a TLS-PSK client in"
else
	fail "--tls-psk-fd: a TLS-PSK client with the keys is refused"
fi
if nbdinfo "nbds://alice@127.0.0.1:$port7/pskfd?tls-psk-file=$P/wrong.psk" >/dev/null 2>&1; then
	fail "--tls-psk-fd: the wrong key connected"
else
	pass "--tls-psk-fd: the wrong key is refused"
fi
expect_eq "--tls-psk-fd: the bridge keeps no descriptor on the key file" "" \
	"$(ls -l "/proc/$BR_PID/fd" 2>/dev/null | grep -F "$P/keys.psk")"
refused x -l 6 --export "nbd://127.0.0.1:$port7/x" --tls-psk-fd 3 3</dev/null
expect_eq "--tls-psk-fd with nothing to read: one line" \
	"lunbridge: --tls-psk fd 3: no key in it" "$out"
"$LUNBRIDGE" detach pskfd >/dev/null || fail "detach pskfd"

cp "$P/keys.psk" "$TMP/open.psk"
chmod 644 "$TMP/open.psk"
refused y -l 6 --export "nbd://127.0.0.1:$port7/y" --tls-psk "$TMP/open.psk"
expect_eq "--tls-psk readable by everyone: refused in one line" \
	"1 lunbridge: --tls-psk $TMP/open.psk: not a regular file, or readable by everyone (chmod o-r)" \
	"$rc $out"

# nbdsh: the handle says TLS was negotiated
out=$("$BR_PY" - "$PSK" <<'PY'
import nbd, sys
h = nbd.NBD()
h.set_uri_allow_local_file(True)
h.connect_uri(sys.argv[1])
h.pwrite(b"\x42" * 65536, 0)
ok = h.get_tls_negotiated() and h.pread(65536, 0) == b"\x42" * 65536
h.shutdown()
print("ok" if ok else "not ok")
PY
)
expect_eq "nbdsh (libnbd): TLS negotiated, data reads back" ok "$out"

# ---- client certificates ---------------------------------------------------------------

port4=$(br_free_port) || exit 1
br_attach_fg "$TMP/peer" peer "$IQN" 4 "nbd://127.0.0.1:$port4/peer" \
	--tls require --tls-creds "$P/server" --tls-verify-peer || br_abort "attach peer"
if nbdinfo "nbds://127.0.0.1:$port4/peer?tls-certificates=$P/nocert" >/dev/null 2>&1; then
	fail "verify-peer: a client without a certificate connected"
else
	pass "verify-peer: a client without a certificate is refused"
fi
if nbdinfo "nbds://127.0.0.1:$port4/peer?tls-certificates=$P/client" >/dev/null 2>&1; then
	pass "verify-peer: a client with the CA's certificate connects"
else
	fail "verify-peer: a client with the CA's certificate is refused"
fi
expect_eq "list --json: verify_peer" true "$(br_field peer .stats.tls.verify_peer)"

# ---- exports off loopback, --insecure, --socket-group -------------------------------

port5=$(br_free_port) || exit 1
refused open -l 5 --export "nbd://0.0.0.0:$port5/open"
expect_eq "0.0.0.0 without TLS: exit 2, one line" "2 1" "$rc $(printf '%s\n' "$out" | wc -l)"
expect_match "0.0.0.0 without TLS: the line says why" \
	"not loopback.*--tls require.*--insecure" "$out"
refused open2 -l 5 --export "nbd://0.0.0.0:$port5/open" --tls on --tls-creds "$P/server"
expect_match "0.0.0.0 with --tls on (plaintext allowed): refused too" "not loopback" "$out"
br_attach open "$IQN" 5 "nbd://0.0.0.0:$port5/open" --insecure || br_abort "attach --insecure"
if nbdinfo "nbd://127.0.0.1:$port5/open" >/dev/null; then
	pass "--insecure: the 0.0.0.0 export serves in the clear"
else
	fail "--insecure: the 0.0.0.0 export does not serve"
fi

grp=$(getent group nogroup | cut -d: -f1)
[ -n "$grp" ] || grp=$(getent group 65534 | cut -d: -f1)
br_attach sock "$IQN" 6 "$(br_unix_export sock)" --socket-group "$grp" ||
	br_abort "attach --socket-group"
expect_eq "--socket-group: the socket is 0660, root's, the group's" "660 root $grp" \
	"$(stat -c '%a %U %G' "$TMP/sock.nbd")"
refused s2 -l 6 --export "$(br_unix_export s2)" --socket-group no-such-group-here
expect_eq "--socket-group of an unknown group: refused, saying so" \
	"lunbridge: --socket-group 'no-such-group-here': no such group" "$(head -n 1 <<<"$out")"

# ---- NAME.conf -------------------------------------------------------------------------

export LUNBRIDGE_CONF_DIR=$TMP/conf
mkdir -p "$LUNBRIDGE_CONF_DIR"
port6=$(br_free_port) || exit 1
cat >"$LUNBRIDGE_CONF_DIR/bad.conf" <<CONF
portal = $TGT_PORTAL
target = $IQN
lun = 5
export = nbd://0.0.0.0:$port6/bad
CONF
out=$("$LUNBRIDGE" volume check bad 2>&1)
expect_match "NAME.conf on 0.0.0.0 without tls: volume check refuses it" "not loopback" "$out"
echo "insecure = maybe" >>"$LUNBRIDGE_CONF_DIR/bad.conf"
out=$("$LUNBRIDGE" volume check bad 2>&1)
expect_match "NAME.conf: insecure is yes or no" "'insecure' is 'yes' or 'no'" "$out"
cat >"$LUNBRIDGE_CONF_DIR/conf.conf" <<CONF
portal = $TGT_PORTAL
target = $IQN
lun = 5
export = nbd://127.0.0.1:$port6/conf
tls = require
tls_psk = $P/keys.psk
CONF
"$LUNBRIDGE" attach conf --daemon >/dev/null 2>"$TMP/conf.err" || br_abort "attach conf"
br_track "$(br_lock_pid conf)"
if nbdinfo "nbd://127.0.0.1:$port6/conf" >/dev/null 2>&1; then
	fail "NAME.conf tls = require: a plaintext client connected"
else
	pass "NAME.conf tls = require: a plaintext client is refused"
fi
if nbdinfo "nbds://alice@127.0.0.1:$port6/conf?tls-psk-file=$P/keys.psk" \
	>/dev/null; then
	pass "NAME.conf tls_psk: a TLS-PSK client connects"
else
	fail "NAME.conf tls_psk: a TLS-PSK client is refused"
fi

for v in x509 on psk peer open sock conf; do
	br_expect_alive "end of test" "$v"
done
finish
