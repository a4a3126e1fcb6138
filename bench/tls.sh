#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# bench/tls.sh: the NBD export's TLS cost, as ratios in one run.  One tgtd
# LUN of SIZE (a file in the test's directory), four
# NBD servers on loopback TCP in front of it:
#   lunbridge        --export nbd://127.0.0.1:P/x          (plaintext)
#   lunbridge-tls    the same with --tls require --tls-creds (x509)
#   qemu-nbd         qemu-nbd iscsi://... (libiscsi), plaintext
#   qemu-nbd-tls     the same with --tls-creds (tls-creds-x509)
# nbdcopy reads SIZE from each (to null:) and writes SIZE into each (from a
# file), ROUNDS times, interleaved; the table gives the median MiB/s and
# each contender's ratio to plaintext lunbridge.  Records are done by the
# kernel (kTLS) where it has the tls module, else by the user-space relay:
# the table says which (`list --json` stats.tls.records).  Not a test: no
# thresholds.
#
#   bench/tls.sh [--size 1G] [--rounds 3] [--lunbridge PATH]
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$HERE")
SIZE=1G
ROUNDS=3
LUNBRIDGE=${LUNBRIDGE:-$ROOT/build/bridge/cli/lunbridge}
while [ $# -gt 0 ]; do
	case $1 in
	--size) SIZE=$2; shift 2 ;;
	--rounds) ROUNDS=$2; shift 2 ;;
	--lunbridge) LUNBRIDGE=$2; shift 2 ;;
	*) echo "tls.sh: unknown option '$1'" >&2; exit 2 ;;
	esac
done
export LUNBRIDGE
. "$ROOT/tests/integration/bridge/lib-bridge.sh"
. "$ROOT/tests/integration/nbd-tls/lib-pki.sh"
br_require nbdcopy qemu-nbd certtool psktool
br_setup
IQN=iqn.2026-12.org.lunbridge.bench:tls
P=$TMP/pki
pki_make "$P" || { echo "tls.sh: no credentials" >&2; exit 1; }
br_start_target 1 "$IQN" || exit 1
head -c "$SIZE" /dev/urandom >"$TMP/src" || exit 1
# a file LUN of SIZE: nbdcopy reads the whole export
cp "$TMP/src" "$TMP/lun" && tgt_add_lun 1 1 "$TMP/lun" || exit 1

declare -A URI
p1=$(br_free_port); p2=$(br_free_port); p3=$(br_free_port); p4=$(br_free_port)
br_attach plain "$IQN" 1 "nbd://127.0.0.1:$p1/x" || exit 1
br_attach tls "$IQN" 1 "nbd://127.0.0.1:$p2/x" --tls require --tls-creds "$P/server" || exit 1
URI[lunbridge]="nbd://127.0.0.1:$p1/x"
URI[lunbridge-tls]="nbds://127.0.0.1:$p2/x?tls-certificates=$P/client"
qemu-nbd -f raw -x x -b 127.0.0.1 -p "$p3" -e 8 -t --cache=none "$(tgt_url "$IQN" 1)" \
	>"$TMP/qn.log" 2>&1 &
br_track $!
qemu-nbd -f raw -x x -b 127.0.0.1 -p "$p4" -e 8 -t --cache=none \
	--object "tls-creds-x509,id=tls0,endpoint=server,dir=$P/server,verify-peer=off" \
	--tls-creds tls0 "$(tgt_url "$IQN" 1)" >"$TMP/qnt.log" 2>&1 &
br_track $!
URI[qemu-nbd]="nbd://127.0.0.1:$p3/x"
URI[qemu-nbd-tls]="nbds://127.0.0.1:$p4/x?tls-certificates=$P/client"
br_wait_for 10 nbdinfo --size "${URI[qemu-nbd]}" >/dev/null 2>&1
br_wait_for 10 nbdinfo --size "${URI[qemu-nbd-tls]}" >/dev/null 2>&1

CONT=(lunbridge lunbridge-tls qemu-nbd qemu-nbd-tls)
bytes=$(stat -c %s "$TMP/src")
# mibs SECONDS: MiB/s of SIZE in that time
mibs() { awk -v b="$bytes" -v s="$1" 'BEGIN { printf "%.1f", b / 1048576 / s }'; }
run() { # DIRECTION CONTENDER: seconds for one nbdcopy
	local t0 t1
	t0=$(date +%s.%N)
	if [ "$1" = read ]; then
		nbdcopy --request-size=1048576 "${URI[$2]}" null: || return 1
	else
		nbdcopy --request-size=1048576 "$TMP/src" "${URI[$2]}" || return 1
	fi
	t1=$(date +%s.%N)
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }'
}
declare -A R
for ((r = 1; r <= ROUNDS; r++)); do
	for d in read write; do
		for c in "${CONT[@]}"; do
			s=$(run "$d" "$c") || { echo "tls.sh: nbdcopy $d $c failed" >&2; exit 1; }
			R[$d.$c]+="$(mibs "$s") "
		done
	done
done
median() { tr ' ' '\n' <<<"$1" | sed '/^$/d' | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
records=$(br_field tls .stats.tls.records)
echo "nbdcopy, $SIZE, $ROUNDS rounds, median MiB/s (ratio to plaintext lunbridge); lunbridge-tls records: $records"
printf '%-14s %-22s %-22s\n' contender read write
for c in "${CONT[@]}"; do
	line=$(printf '%-14s' "$c")
	for d in read write; do
		m=$(median "${R[$d.$c]}")
		base=$(median "${R[$d.lunbridge]}")
		line+=$(printf ' %-22s' "$m ($(awk -v a="$m" -v b="$base" 'BEGIN { printf "%.2f", a / b }'))")
	done
	echo "$line"
done
