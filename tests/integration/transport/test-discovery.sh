#!/bin/bash
# SendTargets discovery through our initiator against a real tgtd with
# several targets and two portals, compared with libiscsi's iscsi-ls; and
# the clear, bounded failures: refused, unreachable, bad iface, offload
# iface.
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib-tgtd.sh"
tgt_require
tgt_require_tools iscsi-ls jq

TMP=$(mktemp -d)
trap 'tgt_cleanup; ip netns del lbt-disc-$$ 2>/dev/null; rm -rf "$TMP"' EXIT
trap 'exit 1' INT TERM
export LUNBRIDGE_IFACE_DIR=$TMP/ifaces
mkdir -p "$LUNBRIDGE_IFACE_DIR"

tgt_start 127.0.0.1 127.0.0.2 || exit 1
for i in 1 2 3; do
	tgt_mkimg "$TMP/lun$i" 1M
	tgt_add_target "$i" "iqn.2026-11.org.lunbridge.test:disc$i"
	tgt_add_lun "$i" 1 "$TMP/lun$i"
	tgt_bind_all "$i"
done

# 1. the lines, as iscsiadm prints them (tgtd names the portal asked)
out=$("$LUNBRIDGE" discover -p "$TGT_PORTAL")
rc=$?
expect_eq "discover exits 0" 0 "$rc"
want() { for i in 1 2 3; do echo "$1:$TGT_PORT,1 iqn.2026-11.org.lunbridge.test:disc$i"; done; }
expect_eq "discover lists the 3 targets" "$(want 127.0.0.1)" "$(printf '%s\n' "$out" | sort)"

# 2. the same set as libiscsi sees
ref=$(iscsi-ls "iscsi://$TGT_PORTAL" | sed -n 's/^Target:\([^ ]*\) Portal:\(.*\)$/\2 \1/p' | sort)
expect_eq "discover matches iscsi-ls" "$ref" "$(printf '%s\n' "$out" | sort)"

# 3. the second portal answers for itself, as it does to iscsi-ls
out2=$("$LUNBRIDGE" discover -p "127.0.0.2:$TGT_PORT" | sort)
expect_eq "second portal lists the 3 targets" "$(want 127.0.0.2)" "$out2"
ref2=$(iscsi-ls "iscsi://127.0.0.2:$TGT_PORT" | sed -n 's/^Target:\([^ ]*\) Portal:\(.*\)$/\2 \1/p' | sort)
expect_eq "second portal matches iscsi-ls" "$ref2" "$out2"

# 4. JSON
json=$("$LUNBRIDGE" discover -p "$TGT_PORTAL" --json)
expect_eq "JSON: three targets" 3 "$(jq length <<<"$json")"
expect_eq "JSON: portal of disc2" "127.0.0.1:$TGT_PORT,1" \
	"$(jq -r '.[] | select(.target == "iqn.2026-11.org.lunbridge.test:disc2") | .portals[] | "\(.address):\(.port),\(.tpgt)"' <<<"$json" | sort | xargs)"

# 5. failures: one line, non-zero, bounded by the connect timeout
free_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
expect_fail_match "refused connection" \
	"^lunbridge: connection to 127\.0\.0\.1:$free_port: connect failed: Connection refused$" \
	timeout 60 "$LUNBRIDGE" discover -p "127.0.0.1:$free_port"
# in a namespace of our own: no route at all, then a route into the void
tgt_require_netns
NS=lbt-disc-$$
ip netns add "$NS" && ip -n "$NS" link set lo up
expect_fail_match "no route to the portal" \
	"^lunbridge: connection to 192\.0\.2\.1:3260: connect failed: Network is unreachable$" \
	timeout 60 ip netns exec "$NS" "$LUNBRIDGE" discover -p 192.0.2.1 --timeout 2
ip -n "$NS" route add 192.0.2.0/24 dev lo
expect_fail_match "portal that never answers: connect timeout" \
	"^lunbridge: connection to 192\.0\.2\.1:3260: connect failed: Connection timed out$" \
	timeout 60 ip netns exec "$NS" "$LUNBRIDGE" discover -p 192.0.2.1 --timeout 2
ip netns del "$NS"
expect_fail_match "bad portal" "^lunbridge: portal '300\.1\.1\.1': " \
	"$LUNBRIDGE" discover -p 300.1.1.1
expect_fail_match "missing iface" "^lunbridge: iface 'nosuch': " \
	"$LUNBRIDGE" discover -p "$TGT_PORTAL" -I nosuch
"$LUNBRIDGE" iface new -I cxgb4i.00:07:43:28:b2:58 >/dev/null &&
	"$LUNBRIDGE" iface update -I cxgb4i.00:07:43:28:b2:58 -n iface.transport_name -v cxgb4i >/dev/null &&
	"$LUNBRIDGE" iface update -I cxgb4i.00:07:43:28:b2:58 -n iface.hwaddress -v 00:07:43:28:b2:58 >/dev/null
expect_fail_match "offload iface refused, naming its engine" \
	"^lunbridge: iface 'cxgb4i\.00:07:43:28:b2:58': transport 'cxgb4i' runs in the kernel and is served by the open-iscsi engine" \
	"$LUNBRIDGE" discover -p "$TGT_PORTAL" -I cxgb4i.00:07:43:28:b2:58
expect_fail_match "netdev that does not exist" "^lunbridge: iface 'ghost': network device 'nosuchnic0' does not exist$" \
	bash -c '"$LUNBRIDGE" iface new -I ghost >/dev/null && "$LUNBRIDGE" iface update -I ghost -n iface.net_ifacename -v nosuchnic0 >/dev/null && "$LUNBRIDGE" discover -p "$TGT_PORTAL" -I ghost'
err=$("$LUNBRIDGE" discover 2>&1 >/dev/null); rc=$?
expect_eq "no portal: usage error" "2 lunbridge: which portal? Name it with -p IP[:PORT]" "$rc $(head -1 <<<"$err")"
finish
