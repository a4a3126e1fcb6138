#!/bin/bash
# iface binding in network namespaces: the target portal is reachable over
# two veth links, A (directly) and B (a host route that the kernel prefers
# when unbound).  A session bound to an iface moves its bytes over that
# iface's link only (interface counters show it), by net_ifacename or by
# hwaddress; the record's initiatorname is the name the target sees; a
# session with a source address is seen by the target coming from it; an
# iface bound to a netdev with no path fails clearly.
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib-tgtd.sh"
tgt_require
tgt_require_netns

TMP=$(mktemp -d)
trap 'tgt_cleanup; rm -rf "$TMP"' EXIT
trap 'exit 1' INT TERM
export LUNBRIDGE_IFACE_DIR=$TMP/ifaces
mkdir -p "$LUNBRIDGE_IFACE_DIR"
IQN=iqn.2026-11.org.lunbridge.test:bind
INAME_A=iqn.2026-11.org.lunbridge.test:host-a

tgt_netns_setup || exit 1
INI=$TGT_NS_INI
for d in veth-a veth-b; do
	ip netns exec "$INI" sysctl -qw "net.ipv6.conf.$d.disable_ipv6=1"
done
# the portal (on link A) is also reachable over link B, and unbound
# traffic prefers B: the /32 beats A's /24
ip -n "$INI" route add "$TGT_NS_ADDR_A/32" via "$TGT_NS_ADDR_B" dev veth-b
tgt_start_in_netns "$TGT_NS_TGT" "$TGT_NS_ADDR_A" "$TGT_NS_ADDR_B" || exit 1
tgt_mkimg "$TMP/lun" 4M
tgt_add_target 1 "$IQN"
tgt_add_lun 1 1 "$TMP/lun"
# only host-a's initiator name (set on the records) may log in
tgt_bind_initiator 1 "$INAME_A"

lb() { ip netns exec "$INI" "$LUNBRIDGE" "$@"; }
newrec() { # NAME KEY VALUE
	lb iface new -I "$1" >/dev/null &&
		lb iface update -I "$1" -n "$2" -v "$3" >/dev/null &&
		lb iface update -I "$1" -n iface.initiatorname -v "$INAME_A" >/dev/null
}
newrec by-netdev-a iface.net_ifacename veth-a
newrec by-mac-a iface.hwaddress "$TGT_NS_MAC_A"
newrec by-netdev-b iface.net_ifacename veth-b
newrec by-lo iface.net_ifacename lo

# run `luns` bound to IFACE; print "tx-delta-A tx-delta-B" (bytes)
run_on() {
	local a0 b0 a1 b1
	a0=$(tgt_if_bytes "$INI" veth-a tx) b0=$(tgt_if_bytes "$INI" veth-b tx)
	lb luns -p "$TGT_NS_ADDR_A:$TGT_PORT" -T "$IQN" -I "$1" --json >"$TMP/out.$1" || return 1
	a1=$(tgt_if_bytes "$INI" veth-a tx) b1=$(tgt_if_bytes "$INI" veth-b tx)
	echo "$((a1 - a0)) $((b1 - b0))"
}

for rec in by-netdev-a by-mac-a; do
	d=$(run_on "$rec") || { fail "$rec: luns failed"; continue; }
	read -r da db <<<"$d"
	expect_eq "$rec: 2 LUNs listed" 2 "$(jq length <"$TMP/out.$rec")"
	expect_eq "$rec: bytes sent over veth-a, none over veth-b" "yes 0" \
		"$([ "$da" -gt 0 ] && echo yes || echo no) $db"
done
d=$(run_on by-netdev-b) || fail "by-netdev-b: luns failed"
read -r da db <<<"$d"
expect_eq "by-netdev-b: bytes sent over veth-b, none over veth-a" "0 yes" \
	"$da $([ "${db:-0}" -gt 0 ] && echo yes || echo no)"

printf 'InitiatorName=iqn.2026-11.org.lunbridge.test:someone-else\n' >"$TMP/iname"
expect_fail_match "the default iface, with this host's other initiator name: refused" \
	"^lunbridge: login to $TGT_NS_ADDR_A:$TGT_PORT failed: .*" \
	env LUNBRIDGE_INITIATORNAME_FILE="$TMP/iname" ip netns exec "$INI" "$LUNBRIDGE" luns -p "$TGT_NS_ADDR_A:$TGT_PORT" -T "$IQN"
expect_fail_match "bound to a netdev with no path to the portal" \
	"^lunbridge: connection to $TGT_NS_ADDR_A:$TGT_PORT: connect failed: (Network is unreachable|Connection timed out)$" \
	timeout 60 ip netns exec "$INI" "$LUNBRIDGE" luns -p "$TGT_NS_ADDR_A:$TGT_PORT" -T "$IQN" -I by-lo --timeout 2
ip -n "$INI" link set veth-b down
expect_fail_match "bound to a link that is down" \
	"^lunbridge: connection to $TGT_NS_ADDR_A:$TGT_PORT: connect failed: (Network is unreachable|Connection timed out)$" \
	timeout 60 ip netns exec "$INI" "$LUNBRIDGE" luns -p "$TGT_NS_ADDR_A:$TGT_PORT" -T "$IQN" -I by-netdev-b --timeout 2
# a source address (the session config's bind_addr, iface.ipaddress's
# place): a second address on veth-a; the target sees the connection come
# from it, and from the primary one without it
SRC2=10.91.1.50
ip -n "$INI" addr add "$SRC2/24" dev veth-a
tgt_bind_initiator 1 iqn.2026-11.invalid.lunbridge:test-io
head -c 65536 /dev/urandom >"$TMP/pattern"
# the target's view while a session is up: the workload runs until stopped
conn_from() { # [--bind-addr IP]: the IP Address tgtd shows for the session
	local i ip=
	rm -f "$TMP/stop" "$TMP/progress"
	ip netns exec "$INI" "$LB_ISCSI_IO" -p "$TGT_NS_ADDR_A:$TGT_PORT" -T "$IQN" -l 1 "$@" \
		workload "$TMP/pattern" "$TMP/stop" "$TMP/progress" >"$TMP/io.out" 2>&1 &
	local pid=$!
	for i in $(seq 100); do
		[ -s "$TMP/progress" ] && break
		sleep 0.1
	done
	ip=$(tgt_adm --mode target --op show 2>/dev/null | sed -n 's/^ *IP Address: *//p' | head -1)
	touch "$TMP/stop"
	wait "$pid" || { cat "$TMP/io.out" >&2; ip=failed; }
	echo "$ip"
}
expect_eq "bind-addr $SRC2: the target sees the session come from it" "$SRC2" \
	"$(conn_from --bind-addr "$SRC2")"
expect_eq "no bind-addr: the target sees the primary address" "$TGT_NS_SRC_A" "$(conn_from)"
expect_fail_match "bind-addr not on this host: refused with the address named" \
	"cannot bind to source address 10.91.1.99: Cannot assign requested address" \
	ip netns exec "$INI" "$LB_ISCSI_IO" -p "$TGT_NS_ADDR_A:$TGT_PORT" -T "$IQN" -l 1 \
	--bind-addr 10.91.1.99 read "$TMP/pattern"

lb iface update -I by-mac-a -n iface.hwaddress -v 02:91:00:00:09:09 >/dev/null
expect_fail_match "bound to a MAC no NIC has" \
	"^lunbridge: iface 'by-mac-a': no network device with MAC 02:91:00:00:09:09$" \
	lb luns -p "$TGT_NS_ADDR_A:$TGT_PORT" -T "$IQN" -I by-mac-a
finish
