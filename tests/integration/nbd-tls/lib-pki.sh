# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
#
# Test credentials for the NBD export's TLS, made with GnuTLS's certtool
# and psktool (Debian's gnutls-bin), in the layouts qemu and libnbd read:
#
#   pki_make DIR   DIR/server: ca-cert.pem server-cert.pem server-key.pem
#                  DIR/client: ca-cert.pem client-cert.pem client-key.pem
#                  DIR/nocert: ca-cert.pem alone (a client without a cert)
#                  DIR/other:  another CA, and a client cert it signed
#                  DIR/keys.psk, DIR/wrong.psk: user "alice", two keys
# The server's certificate names 127.0.0.1 and localhost.

_pki_cert() { # TEMPLATE-TEXT OUT-PREFIX CA-PREFIX(or "self")
	local tmpl=$1 out=$2 ca=$3
	printf '%s\n' "$tmpl" >"$out.info"
	certtool --generate-privkey --key-type=ecdsa --outfile "$out-key.pem" 2>/dev/null || return 1
	if [ "$ca" = self ]; then
		certtool --generate-self-signed --load-privkey "$out-key.pem" \
			--template "$out.info" --outfile "$out-cert.pem" 2>/dev/null
	else
		certtool --generate-certificate --load-privkey "$out-key.pem" \
			--load-ca-certificate "$ca-cert.pem" --load-ca-privkey "$ca-key.pem" \
			--template "$out.info" --outfile "$out-cert.pem" 2>/dev/null
	fi
}

pki_make() {
	local d=$1 ca_t srv_t cli_t
	mkdir -p "$d/gen" "$d/server" "$d/client" "$d/nocert" "$d/other" || return 1
	ca_t=$'cn = "lunbridge test CA"\nca\ncert_signing_key\nexpiration_days = 2'
	srv_t=$'cn = "localhost"\ndns_name = "localhost"\nip_address = "127.0.0.1"\ntls_www_server\nencryption_key\nsigning_key\nexpiration_days = 2'
	cli_t=$'cn = "lunbridge test client"\ntls_www_client\nencryption_key\nsigning_key\nexpiration_days = 2'
	_pki_cert "$ca_t" "$d/gen/ca" self || return 1
	_pki_cert "${ca_t/test CA/other CA}" "$d/gen/other-ca" self || return 1
	_pki_cert "$srv_t" "$d/gen/server" "$d/gen/ca" || return 1
	_pki_cert "$cli_t" "$d/gen/client" "$d/gen/ca" || return 1
	_pki_cert "$cli_t" "$d/gen/other-client" "$d/gen/other-ca" || return 1
	cp "$d/gen/ca-cert.pem" "$d/server/"
	cp "$d/gen/server-cert.pem" "$d/gen/server-key.pem" "$d/server/"
	cp "$d/gen/ca-cert.pem" "$d/gen/client-cert.pem" "$d/gen/client-key.pem" "$d/client/"
	cp "$d/gen/ca-cert.pem" "$d/nocert/"
	cp "$d/gen/other-ca-cert.pem" "$d/other/ca-cert.pem"
	cp "$d/gen/other-client-cert.pem" "$d/other/client-cert.pem"
	cp "$d/gen/other-client-key.pem" "$d/other/client-key.pem"
	psktool -u alice -p "$d/keys.psk" >/dev/null 2>&1 || return 1
	psktool -u alice -p "$d/wrong.psk" >/dev/null 2>&1 || return 1
	chmod 600 "$d/keys.psk" "$d/wrong.psk"
}
