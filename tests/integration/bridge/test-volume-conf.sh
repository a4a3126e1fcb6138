#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Configured volumes against a real tgtd: `lunbridge volume check NAME`
# accepts a good NAME.conf and names the problem (file, line, key) of bad
# ones; `lunbridge attach NAME --daemon` runs what the file says, `list`
# shows it under that name, `detach NAME` ends it.
set -uo pipefail
. "$(dirname "$0")/lib-bridge.sh"
br_require nbdinfo jq
br_setup
IQN=iqn.2026-11.org.lunbridge.test:conf
L=$LUNBRIDGE
export LUNBRIDGE_CONF_DIR=$TMP/volumes
mkdir -p "$LUNBRIDGE_CONF_DIR"

br_start_target 1 "$IQN" || exit 1
tgt_mkimg "$TMP/lun1" 8M || exit 1
tgt_add_lun 1 1 "$TMP/lun1" || exit 1

X=$(br_unix_export vol1)
cat >"$LUNBRIDGE_CONF_DIR/vol1.conf" <<CONF
# a test volume
portal = $TGT_PORTAL
target = $IQN
lun = 1
export = $X
timeout = 5
CONF
expect_eq "volume check vol1: ok" \
	"volume vol1: ok: $IQN LUN 1 at $TGT_PORTAL on iface default, export $X" \
	"$("$L" volume check vol1 2>&1)"

conf() { printf '%s\n' "$2" >"$LUNBRIDGE_CONF_DIR/$1.conf"; }
conf bad1 "portal = $TGT_PORTAL
target = $IQN
lun = 1
exprt = ublk"
expect_fail "volume check: an unknown key, with file and line" \
	"lunbridge: volume bad1: $LUNBRIDGE_CONF_DIR/bad1.conf:4: unknown key 'exprt'" \
	"$L" volume check bad1
conf bad2 "portal = $TGT_PORTAL
target = $IQN
export = ublk"
expect_fail "volume check: a required key missing" \
	"lunbridge: volume bad2: $LUNBRIDGE_CONF_DIR/bad2.conf: 'lun' is missing" \
	"$L" volume check bad2
conf bad3 "portal = $TGT_PORTAL
target = $IQN
lun = 1
export = ublk
iface = nosuch"
expect_fail_match "volume check: an iface that does not exist" \
	"^lunbridge: iface 'nosuch': " "$L" volume check bad3
expect_fail "volume check: no such volume" \
	"lunbridge: volume nope: no volume 'nope' is configured ($LUNBRIDGE_CONF_DIR/nope.conf)" \
	"$L" volume check nope
expect_fail "attach of a volume not configured" \
	"lunbridge: no volume 'nope' is configured ($LUNBRIDGE_CONF_DIR/nope.conf)" \
	"$L" attach nope

BR_WHERE=$("$L" attach vol1 --daemon 2>"$TMP/vol1.err")
rc=$?
pid=$(br_lock_pid vol1)
[ -z "$pid" ] || br_track "$pid"
expect_eq "attach vol1 --daemon: serves, prints the export" "0 $X" "$rc $BR_WHERE"
expect_eq "list: vol1 as configured" "vol1 $IQN 1 $X ready" \
	"$(br_json vol1 | jq -r '"\(.name) \(.target) \(.lun) \(.export) \(.state)"')"
expect_eq "the export serves the LUN" 8388608 "$(nbdinfo --size "$X" 2>&1)"
out=$("$L" attach vol1 2>"$TMP/err")
expect_eq "attach vol1 again: the same LUN and export, so its export again, exit 0" \
	"0 $X" "$? $out$(cat "$TMP/err")"
expect_eq "attach vol1 again: the same bridge" "$pid" "$(br_lock_pid vol1)"
expect_eq "detach vol1" "detached vol1" "$("$L" detach vol1 2>&1)"
expect_eq "nothing left of vol1" "" "$(br_files vol1)"
finish
