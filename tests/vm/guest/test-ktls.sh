#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck source-path=SCRIPTDIR
#
# Guest test (tests/vm/run-vm.sh), KIND = nbd (the socket export: TLS is
# for it alone): the NBD export's TLS records done by the kernel (kTLS,
# the `tls` module this host's kernel lacks).  After the GnuTLS handshake
# the bridge hands the keys to the kernel (TCP_ULP "tls"), and the
# io_uring send and receive paths carry the records: `list --json` says
# "ktls", and nbdcopy through it (x509, then PSK) writes and reads back
# the same bytes that libiscsi reads from the LUN.
set -uo pipefail
# shellcheck source=lib-guest.sh
. "$(dirname "$0")/lib-guest.sh"
vm_init "$@"
# shellcheck source=../../integration/nbd-tls/lib-pki.sh
. "$(dirname "$0")/../../integration/nbd-tls/lib-pki.sh"
br_require nbdcopy nbdinfo certtool psktool jq
IQN=iqn.2026-12.org.lunbridge.test:vm-ktls
modprobe tls || skip "this kernel ($(uname -r)) has no tls module"
P=$TMP/pki
pki_make "$P" || br_abort "certtool/psktool made no credentials"
br_start_target 1 "$IQN" || br_abort "tgtd"
tgt_mkimg "$TMP/lun1" 16M && tgt_add_lun 1 1 "$TMP/lun1" || br_abort "LUN 1"
tgt_mkimg "$TMP/lun2" 16M && tgt_add_lun 1 2 "$TMP/lun2" || br_abort "LUN 2"

# ktls NAME LUN PORT URI ATTACH-ARGS...: write 16 MiB of random data
# through URI with nbdcopy, read it back, compare with the LUN (libiscsi)
ktls() {
	local name=$1 lun=$2 port=$3 uri=$4
	shift 4
	br_attach_fg "$TMP/$name" "$name" "$IQN" "$lun" "nbd://127.0.0.1:$port/$name" "$@" ||
		{ fail "$name: attach with TLS"; return; }
	head -c 16M /dev/urandom >"$TMP/$name.in"
	if nbdcopy "$TMP/$name.in" "$uri" && nbdcopy "$uri" "$TMP/$name.out" &&
		cmp -s "$TMP/$name.in" "$TMP/$name.out"; then
		pass "$name: nbdcopy through kTLS writes 16 MiB and reads the same back"
	else
		fail "$name: nbdcopy through TLS failed or read other bytes"
	fi
	if tgt_cmp_lun "$(tgt_url "$IQN" "$lun")" "$TMP/$name.in"; then
		pass "$name: libiscsi reads from the LUN what went through TLS"
	else
		fail "$name: the LUN does not hold what went through TLS"
	fi
	expect_eq "$name: list --json: the records are the kernel's" "ktls" \
		"$(br_field "$name" .stats.tls.records)"
	grep -i "tls" "$TMP/$name.err" | sed 's/^/    | /'
	"$LUNBRIDGE" detach "$name" >/dev/null || fail "$name: detach"
	br_wait_exit "$BR_PID" || true
}

port=$(br_free_port)
ktls x509 1 "$port" "nbds://127.0.0.1:$port/x509?tls-certificates=$P/client" \
	--tls require --tls-creds "$P/server"
port=$(br_free_port)
ktls psk 2 "$port" "nbds://alice@127.0.0.1:$port/psk?tls-psk-file=$P/keys.psk" \
	--tls require --tls-psk "$P/keys.psk"
finish
