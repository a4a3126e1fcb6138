#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# `lunbridge iface resolve` against real kernel routes, in network
# namespaces of our own (nothing leaves them; no packet is sent at all,
# the kernel is only asked for routes):
#
#   client ns                        peer ns
#   veth-a 10.231.1.2/24  <------->  veth-ap 10.231.1.1/24
#          fd00:231:1::2/64                  fd00:231:1::1/64
#          02:31:00:00:01:02
#   veth-b 10.231.2.2/24  <------->  veth-bp 10.231.2.1/24
#          fd00:231:2::2/64                  fd00:231:2::1/64
#          02:31:00:00:0b:02
#
# Records in a scratch directory: A (net_ifacename veth-a), B (hwaddress
# of veth-b, written in upper case), C (bound to a device that is absent).
#
# Env: LUNBRIDGE (the built binary).
set -u

: "${LUNBRIDGE:?set LUNBRIDGE to the lunbridge binary}"

MAC_A=02:31:00:00:01:02
MAC_B=02:31:00:00:0b:02
NS_C=lbroute-c-$$
NS_P=lbroute-p-$$

if ! command -v ip >/dev/null 2>&1; then
	echo "SKIP: no 'ip' command (iproute2), cannot create network namespaces"
	exit 77
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/lunbridge-route.XXXXXX") || exit 1
cleanup() {
	ip netns del "$NS_C" 2>/dev/null
	ip netns del "$NS_P" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
DIR="$TMP/ifaces"
mkdir "$DIR"

if ! ip netns add "$NS_C" 2>"$TMP/err"; then
	echo "SKIP: cannot create a network namespace (needs root/CAP_NET_ADMIN): $(cat "$TMP/err")"
	exit 77
fi

# ---- setup: any failure here is a failure, not a skip ----------------------
die() {
	echo "FAIL: setup: $*"
	exit 1
}
cmd() { "$@" || die "$*"; }

cmd ip netns add "$NS_P"
# High, fixed ifindexes: udev's database, keyed by ifindex, has nothing on them.
cmd ip -n "$NS_C" link add veth-a index 23101 address $MAC_A type veth peer name veth-ap netns "$NS_P"
cmd ip -n "$NS_C" link add veth-b index 23102 address $MAC_B type veth peer name veth-bp netns "$NS_P"
cmd ip -n "$NS_C" addr add 10.231.1.2/24 dev veth-a
cmd ip -n "$NS_C" addr add 10.231.2.2/24 dev veth-b
cmd ip -n "$NS_P" addr add 10.231.1.1/24 dev veth-ap
cmd ip -n "$NS_P" addr add 10.231.2.1/24 dev veth-bp
HAVE_IPV6=0
if [ -d /proc/sys/net/ipv6 ]; then
	HAVE_IPV6=1
	cmd ip -n "$NS_C" addr add fd00:231:1::2/64 dev veth-a nodad
	cmd ip -n "$NS_C" addr add fd00:231:2::2/64 dev veth-b nodad
	cmd ip -n "$NS_P" addr add fd00:231:1::1/64 dev veth-ap nodad
	cmd ip -n "$NS_P" addr add fd00:231:2::1/64 dev veth-bp nodad
fi
for dev in lo veth-a veth-b; do cmd ip -n "$NS_C" link set "$dev" up; done
for dev in lo veth-ap veth-bp; do cmd ip -n "$NS_P" link set "$dev" up; done

write_rec() { # NAME KEY VALUE
	printf '# BEGIN RECORD 2.1.8\niface.iscsi_ifacename = %s\niface.transport_name = tcp\n%s = %s\n# END RECORD\n' \
		"$1" "$2" "$3" >"$DIR/$1" || die "cannot write record $1"
}
write_rec A iface.net_ifacename veth-a
write_rec B iface.hwaddress 02:31:00:00:0B:02
write_rec C iface.net_ifacename veth-zz

# ---- checks -----------------------------------------------------------------
failures=0
fail() {
	echo "FAIL: $STEP: $*"
	failures=$((failures + 1))
}

# resolve ARGS...: run in the client namespace; stdout in $TMP/out, stderr
# in $TMP/err, exit status in $rc.
resolve() {
	ip netns exec "$NS_C" "$LUNBRIDGE" iface resolve --iface-dir "$DIR" "$@" \
		>"$TMP/out" 2>"$TMP/err"
	rc=$?
}

expect_out() { # EXPECTED-STDOUT
	if [ "$rc" -ne 0 ]; then
		fail "exit status $rc, stderr: $(cat "$TMP/err")"
		return
	fi
	printf '%s\n' "$1" >"$TMP/want"
	if ! cmp -s "$TMP/want" "$TMP/out"; then
		fail "output differs:"
		diff -u "$TMP/want" "$TMP/out" | sed 's/^/    /'
	fi
	if [ -s "$TMP/err" ]; then
		fail "unexpected stderr: $(cat "$TMP/err")"
	fi
}

jget() { # KEY: the value of KEY in $TMP/out (JSON), "null" for null
	if command -v jq >/dev/null 2>&1; then
		jq -r --arg k "$1" '.[$k] | if . == null then "null" else tostring end' "$TMP/out"
	else
		python3 -c 'import json,sys
v = json.load(open(sys.argv[1]))[sys.argv[2]]
print("null" if v is None else str(v).lower() if isinstance(v, bool) else v)' "$TMP/out" "$1"
	fi
}

# The driver udev reports for a veth inside a namespace: none (no parent
# device, no udev database entry), or "veth" if hw-scan.c learns ethtool.  Learn
# it once, check it is one of those, and expect it everywhere after.
STEP="driver of veth-a"
resolve --portal 10.231.1.10 --json
DRV=$(jget driver 2>/dev/null)
case "$DRV" in
null) DRVTXT=unknown ;;
veth) DRVTXT=veth ;;
*)
	fail "driver '$DRV' (expected null or veth); output: $(cat "$TMP/out" "$TMP/err")"
	DRVTXT=$DRV
	;;
esac

STEP="subnet 1 -> A by net_ifacename"
resolve --portal 10.231.1.10
expect_out "A
# dev veth-a src 10.231.1.2 ($MAC_A, driver $DRVTXT): record bound by net_ifacename"

STEP="subnet 2 with port -> B by hwaddress"
resolve -p 10.231.2.10:860
expect_out "B
# dev veth-b src 10.231.2.2 ($MAC_B, driver $DRVTXT): record bound by hwaddress"

STEP="no route yet"
resolve --portal 10.9.9.9
if [ "$rc" -ne 1 ]; then
	fail "exit status $rc, expected 1"
fi
if [ -s "$TMP/out" ]; then
	fail "unexpected stdout: $(cat "$TMP/out")"
fi
printf 'lunbridge: portal 10.9.9.9: no route (Network is unreachable)\n' >"$TMP/want"
if ! cmp -s "$TMP/want" "$TMP/err"; then
	fail "stderr differs:"
	diff -u "$TMP/want" "$TMP/err" | sed 's/^/    /'
fi

if [ "$HAVE_IPV6" = 1 ]; then
	STEP="IPv6 subnet 2 -> B"
	resolve --portal '[fd00:231:2::10]:3261'
	expect_out "B
# dev veth-b src fd00:231:2::2 ($MAC_B, driver $DRVTXT): record bound by hwaddress"

	STEP="IPv6 bare, subnet 1 -> A"
	resolve --portal fd00:231:1::10
	expect_out "A
# dev veth-a src fd00:231:1::2 ($MAC_A, driver $DRVTXT): record bound by net_ifacename"

	STEP="IPv6 no route"
	resolve --portal '[2001:db8::5]'
	if [ "$rc" -ne 1 ] || [ "$(cat "$TMP/err")" != "lunbridge: portal 2001:db8::5: no route (Network is unreachable)" ]; then
		fail "exit status $rc, stderr: $(cat "$TMP/err")"
	fi
else
	echo "note: this kernel has no IPv6; IPv6 cases not run"
fi

cmd ip -n "$NS_C" route add default via 10.231.1.1

STEP="default route through subnet 1's gateway -> A"
resolve --portal 10.231.99.5
expect_out "A
# dev veth-a via 10.231.1.1 src 10.231.1.2 ($MAC_A, driver $DRVTXT): record bound by net_ifacename"

STEP="the once unroutable portal, now through the default route"
resolve --portal 10.9.9.9:3260
expect_out "A
# dev veth-a via 10.231.1.1 src 10.231.1.2 ($MAC_A, driver $DRVTXT): record bound by net_ifacename"

STEP="--json through the gateway"
resolve --portal 10.231.99.5:861 --json
if [ "$rc" -ne 0 ]; then
	fail "exit status $rc, stderr: $(cat "$TMP/err")"
else
	for kv in portal=10.231.99.5 port=861 netdev=veth-a hwaddress=$MAC_A driver=$DRV \
		gateway=10.231.1.1 source=10.231.1.2 iface=A reason=net_ifacename exists=true; do
		got=$(jget "${kv%%=*}")
		if [ "$got" != "${kv#*=}" ]; then
			fail "${kv%%=*} is '$got', expected '${kv#*=}'"
		fi
	done
fi

STEP="--json, record bound by hwaddress"
resolve --portal 10.231.2.7 --json
if [ "$rc" -ne 0 ]; then
	fail "exit status $rc, stderr: $(cat "$TMP/err")"
else
	for kv in netdev=veth-b hwaddress=$MAC_B gateway=null source=10.231.2.2 iface=B \
		reason=hwaddress exists=true port=3260; do
		got=$(jget "${kv%%=*}")
		if [ "$got" != "${kv#*=}" ]; then
			fail "${kv%%=*} is '$got', expected '${kv#*=}'"
		fi
	done
fi

STEP="bad portal is a usage error"
resolve --portal 10.231.1.10:0
if [ "$rc" -ne 2 ] || [ "$(head -n 1 "$TMP/err")" != "lunbridge: portal '10.231.1.10:0': port 0 is not in 1..65535" ]; then
	fail "exit status $rc, stderr: $(cat "$TMP/err")"
fi

rm -f "$DIR/A" "$DIR/B" "$DIR/C" || die "cannot delete the records"

STEP="records deleted -> default (subnet 2)"
resolve --portal 10.231.2.10
expect_out "default
# dev veth-b src 10.231.2.2 ($MAC_B, driver $DRVTXT): no record bound to veth-b"

STEP="records deleted -> default (through the gateway)"
resolve --portal 10.231.99.5 --json
if [ "$rc" -ne 0 ] || [ "$(jget iface)" != default ] || [ "$(jget reason)" != default ] ||
	[ "$(jget exists)" != true ] || [ "$(jget gateway)" != 10.231.1.1 ]; then
	fail "exit status $rc, output: $(cat "$TMP/out" "$TMP/err")"
fi

if [ "$failures" -ne 0 ]; then
	echo "$failures check(s) failed"
	exit 1
fi
echo "all iface resolve checks passed"
exit 0
