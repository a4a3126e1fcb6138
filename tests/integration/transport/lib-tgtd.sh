# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
#
# A real tgtd (Debian package `tgt`) private to one integration test: its
# own control socket in the test's directory, its own TCP port on loopback
# (or in a network namespace of the test's), killed with the test.  Sourced
# by the transport tests; works under `set -euo pipefail`.  A function that
# fails returns non-zero and says why on stderr (its own "tgt_...:" line,
# or tgtadm's / qemu-img's message, plus tgtd's log when tgtd won't start).
#
#   . "$(dirname "$0")/lib-tgtd.sh"
#   tgt_require                      # exit 77 if tgtd cannot exist here
#   TMP=$(mktemp -d) ...
#   trap 'tgt_cleanup; rm -rf "$TMP"' EXIT
#   trap 'exit 1' INT TERM           # so the EXIT trap also runs on signals
#   tgt_start                        # 127.0.0.1:$TGT_PORT
#   tgt_mkimg "$TMP/lun1" 8M
#   tgt_add_target 1 iqn.2024-01.org.lunbridge.test:t1
#   tgt_add_lun 1 1 "$TMP/lun1"
#   tgt_bind_all 1
#   tgt_cmp_lun "$(tgt_url iqn.2024-01.org.lunbridge.test:t1 1)" "$TMP/lun1"
#
# Call tgt_start/tgt_restart/tgt_stop from the test's main shell, never
# from a subshell, $(...) or the left side of a pipe: TGT_PID must land in
# the main shell, and tgtd is started with `setpriv --pdeathsig KILL`, so
# it is killed the moment the shell that started it exits, even when that
# shell is SIGKILLed by a meson timeout and no trap runs.  tgtd ignores
# SIGTERM and SIGINT (empty handlers in tgtd.c), hence SIGKILL throughout.
#
# Exported after tgt_start:
#   TGT_PORT      the TCP port (the same on every portal)
#   TGT_PORTAL    the first portal, "127.0.0.1:PORT" ("[v6]:PORT" for IPv6)
#   TGT_PORTALS   every portal, space separated
#   TGT_CTL       tgtd's control port number (tgtd -C, tgtadm -C)
#   TGT_PID       tgtd's pid (empty while stopped)
#   TGT_IPC_SOCKET  the control socket's path prefix (see below)
#   TGT_DIR, TGT_LOG   state directory and tgtd's log (appended on restart)
#
# What the real tgtd 1.0.85 (Debian 12) does, learnt from its sources
# (fujita/tgt) and checked against the installed binary:
#
# - Control channel: tgtd listens on the unix socket "$TGT_IPC_SOCKET.N"
#   (a file; default prefix /var/run/tgtd/socket) and holds a lockf() lock
#   on "$TGT_IPC_SOCKET.N.lock", where N is -C; tgtadm reads the same
#   variable.  Pointing TGT_IPC_SOCKET into the test's directory makes the
#   channel private, so concurrent tests cannot collide whatever N is.  N
#   is still random so that a tgtadm run without the variable reaches no
#   tgtd at all rather than a system tgtd on 0.  Only uid 0 may talk to it
#   (SO_PEERCRED check in mgmt.c).  A pathname socket works across network
#   namespaces, so tgtadm runs outside the namespace tgtd lives in.
# - Portals: `--iscsi portal=A:P,portal=B:P` (one option, comma separated;
#   a second --iscsi replaces the first).  A portal that cannot be bound is
#   only logged ("unable to bind server socket, Address already in use"),
#   and if none could be bound tgtd silently listens on 0.0.0.0:3260 and
#   [::]:3260 instead.  tgt_start therefore checks the portal list tgtd
#   reports and retries on another port.  Ports are drawn below the
#   kernel's ephemeral range: a port in that range can be taken by some
#   outgoing connection while tgtd is down, and an initiator reconnecting
#   to 127.0.0.1:P may then connect to itself (TCP self-connect).
# - Session parameters (tgtadm --op update --mode target --name K --value V)
#   are per target: MaxRecvDataSegmentLength (512..16777215, default 8192),
#   MaxXmitDataSegmentLength (what tgtd sends at most, default 8192),
#   HeaderDigest, DataDigest, InitialR2T, ImmediateData, FirstBurstLength,
#   MaxBurstLength, MaxOutstandingR2T, DataPDUInOrder, DataSequenceInOrder,
#   ErrorRecoveryLevel, DefaultTime2Wait, DefaultTime2Retain,
#   MaxConnections, plus tgt's own nop_interval / nop_count (NOP-In pings).
#   Out-of-range numbers are refused ("invalid request"); values are
#   case-sensitive ("Yes", "No", "None", "CRC32C").
# - Digests: HeaderDigest/DataDigest=CRC32C means "CRC32C allowed", never
#   "required": tgtd always keeps None, and answers CRC32C whenever the
#   initiator's list contains it, whatever its position (RFC 7143 says the
#   first value the target supports).  An initiator offering only None
#   gets None.  DataDigest works the same way.  libiscsi's default offer is
#   HeaderDigest=None,CRC32C (so it gets CRC32C from a CRC32C target) and
#   DataDigest=None always; iscsi-inq/iscsi-ls take ?header_digest=none|
#   crc32c in the URL (iscsi-perf ignores it), qemu-img needs --image-opts
#   (see tgt_read_lun).  tgtadm cannot show what a session negotiated; see
#   tgt_conn_stat for how to tell from its counters.
# - CHAP: tgtd knows CHAP_A=5 (MD5) and CHAP_A=7, which it takes as SHA-1
#   (20-byte digest).  Everyone else (IANA, open-iscsi, LIO, SCST) has 6 =
#   SHA-1, 7 = SHA-256, 8 = SHA3-256.  tgtd picks the first value of the
#   initiator's CHAP_A list it knows and rejects the login (status 0x0200)
#   if there is none.  So: an initiator offering "8,7,6,5" is answered
#   CHAP_A=7, answers with SHA-256 and fails authentication (0x0201);
#   offering "6" alone or "8" alone fails; only MD5 ("5") interoperates.
#   Tests against tgtd must configure our initiator for MD5 only.  Accounts
#   are global (tgt_chap creates the user once, binds it per target); one
#   outgoing account per target; use different users/secrets for the two
#   directions.  Discovery sessions are not authenticated by these helpers
#   (SendTargets lists a CHAP target to anyone).  tgtadm only takes
#   --password on its argv (test secrets, acceptable here); the replay file
#   in $TGT_DIR holds them too.
# - libiscsi (iscsi-ls, iscsi-inq, qemu's iscsi driver) offers CHAP_A=5
#   only and reads LIBISCSI_CHAP_USERNAME / LIBISCSI_CHAP_PASSWORD /
#   LIBISCSI_CHAP_TARGET_USERNAME / LIBISCSI_CHAP_TARGET_PASSWORD from the
#   environment (also user%secret@ and ?target_user=&target_password= in
#   the URL).  Prefer the environment: `LIBISCSI_CHAP_USERNAME=u
#   LIBISCSI_CHAP_PASSWORD=s tgt_read_lun URL OUT`.
# - Backing stores: rdwr (default, a file or block device), null (--bstype
#   null: reads return zeroes, writes are dropped, size fixed at 1 TiB
#   whatever the path says).  --blocksize 4096 sets the logical block size.
#   LUN 0 is always tgt's controller (type 0x0c), so data LUNs start at 1.
#   A file's size should be a multiple of the block size (tgt ignores the
#   tail).

TGTD=${TGTD:-$(command -v tgtd || echo /usr/sbin/tgtd)}
TGTADM=${TGTADM:-$(command -v tgtadm || echo /usr/sbin/tgtadm)}
TGT_TIMEOUT=${TGT_TIMEOUT:-10}   # seconds to wait for tgtd to answer
TGT_NETNS=${TGT_NETNS:-}         # run tgtd in this network namespace
TGT_PID=${TGT_PID:-}
_tgt_own_dir=
_tgt_portal_list=()
_tgt_namespaces=()

# tgt_require: exit 77 (skip) if no tgtd can run here.
tgt_require() {
	if [ ! -x "$TGTD" ] || [ ! -x "$TGTADM" ]; then
		echo "SKIP: tgtd/tgtadm not installed (Debian package tgt)"
		exit 77
	fi
	if [ "$(id -u)" -ne 0 ]; then
		echo "SKIP: tgtd's control socket only accepts uid 0, and this test runs as uid $(id -u)"
		exit 77
	fi
}

# tgt_require_netns: exit 77 if network namespaces cannot be created.
tgt_require_netns() {
	local ns=lbtgt-probe-$$ err
	if ! command -v ip >/dev/null 2>&1; then
		echo "SKIP: no 'ip' command (iproute2), cannot create network namespaces"
		exit 77
	fi
	if ! err=$(ip netns add "$ns" 2>&1); then
		echo "SKIP: cannot create a network namespace (needs CAP_SYS_ADMIN/CAP_NET_ADMIN): $err"
		exit 77
	fi
	ip netns del "$ns" 2>/dev/null || true
}

# tgt_require_tools CMD...: exit 77 if a reference tool is missing.
tgt_require_tools() {
	local c
	for c in "$@"; do
		if ! command -v "$c" >/dev/null 2>&1; then
			echo "SKIP: '$c' not installed"
			exit 77
		fi
	done
}

_tgt_err() { echo "$*" >&2; }

# Run in tgtd's namespace (if any).
_tgt_in_ns() {
	if [ -n "$TGT_NETNS" ]; then
		ip netns exec "$TGT_NETNS" "$@"
	else
		"$@"
	fi
}

_tgt_setup_dir() {
	if [ -z "${TGT_DIR:-}" ]; then
		if [ -n "${TMP:-}" ] && [ -d "$TMP" ]; then
			TGT_DIR=$TMP/tgtd
		else
			TGT_DIR=$(mktemp -d "${TMPDIR:-/tmp}/lbtgt.XXXXXX") || return 1
			_tgt_own_dir=$TGT_DIR
		fi
	fi
	mkdir -p "$TGT_DIR" || return 1
	TGT_IPC_SOCKET=$TGT_DIR/ctl
	# sun_path holds 107 bytes; "$TGT_IPC_SOCKET.NNNNN.lock" must fit.
	if [ ${#TGT_IPC_SOCKET} -gt 90 ]; then
		TGT_DIR=$(mktemp -d /tmp/lbtgt.XXXXXX) || return 1
		_tgt_own_dir=$TGT_DIR
		TGT_IPC_SOCKET=$TGT_DIR/ctl
	fi
	TGT_LOG=$TGT_DIR/tgtd.log
	export TGT_DIR TGT_LOG TGT_IPC_SOCKET
}

# tgt_adm ARGS...: tgtadm against this test's tgtd; not recorded.
tgt_adm() {
	TGT_IPC_SOCKET=$TGT_IPC_SOCKET "$TGTADM" -C "$TGT_CTL" --lld iscsi "$@"
}

# tgt_cfg ARGS...: tgtadm, recorded for tgt_restart's replay on success.
tgt_cfg() {
	local err
	if ! err=$(tgt_adm "$@" 2>&1); then
		_tgt_err "tgt_cfg: tgtadm $*: ${err:-failed}"
		return 1
	fi
	printf '%q ' "$@" >>"$TGT_DIR/replay"
	printf '\n' >>"$TGT_DIR/replay"
}

# "[v6]:p" or "v4:p"
_tgt_fmt() {
	case $1 in
	*:*) printf '[%s]:%s\n' "$1" "$2" ;;
	*) printf '%s:%s\n' "$1" "$2" ;;
	esac
}

# _tgt_split ARG: sets _tgt_h (address, no brackets) and _tgt_p (port or "").
_tgt_split() {
	case $1 in
	\[*\]:*) _tgt_h=${1%%]:*}; _tgt_h=${_tgt_h#[}; _tgt_p=${1##*]:} ;;
	\[*\]) _tgt_h=${1#[}; _tgt_h=${_tgt_h%]}; _tgt_p= ;;
	*:*:*) _tgt_h=$1; _tgt_p= ;;
	*:*) _tgt_h=${1%:*}; _tgt_p=${1##*:} ;;
	*) _tgt_h=$1; _tgt_p= ;;
	esac
}

# A random TCP port below the ephemeral range, not listened on in tgtd's
# namespace.
_tgt_pick_port() {
	local lo hi base=10000 top p i
	read -r lo hi </proc/sys/net/ipv4/ip_local_port_range || lo=32768
	top=$((lo - 1))
	if [ "$top" -le $((base + 1000)) ]; then
		base=$((hi + 1)); top=65535
	fi
	for i in $(seq 50); do
		p=$((base + (RANDOM * 32768 + RANDOM) % (top - base + 1)))
		if [ -z "$(_tgt_in_ns ss -Htln "sport = :$p" 2>/dev/null)" ]; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

# _tgt_launch: start tgtd on _tgt_portal_list; 0 ready, 1 a portal could
# not be bound (try another port), 2 anything else.
_tgt_launch() {
	local arg="" pp off deadline got want pd=()
	for pp in "${_tgt_portal_list[@]}"; do
		arg+=${arg:+,}portal=$pp
	done
	if setpriv --help 2>/dev/null | grep -q pdeathsig; then
		pd=(setpriv --pdeathsig KILL)
	fi
	touch "$TGT_LOG"
	off=$(stat -c %s "$TGT_LOG")
	echo "=== $(date +%T.%N) tgtd -C $TGT_CTL --iscsi $arg${TGT_NETNS:+ (netns $TGT_NETNS)}" >>"$TGT_LOG"
	# No fork in between: `ip netns exec` and setpriv exec, so $! is tgtd.
	if [ -n "$TGT_NETNS" ]; then
		TGT_IPC_SOCKET=$TGT_IPC_SOCKET ip netns exec "$TGT_NETNS" "${pd[@]}" \
			"$TGTD" -f -C "$TGT_CTL" --iscsi "$arg" </dev/null >>"$TGT_LOG" 2>&1 &
	else
		TGT_IPC_SOCKET=$TGT_IPC_SOCKET "${pd[@]}" \
			"$TGTD" -f -C "$TGT_CTL" --iscsi "$arg" </dev/null >>"$TGT_LOG" 2>&1 &
	fi
	TGT_PID=$!
	export TGT_PID
	deadline=$((SECONDS + TGT_TIMEOUT))
	until tgt_adm --mode target --op show >/dev/null 2>&1; do
		if ! kill -0 "$TGT_PID" 2>/dev/null; then
			wait "$TGT_PID" 2>/dev/null || true
			TGT_PID=
			_tgt_err "tgt_start: tgtd exited at once; its log:"
			tail -c +$((off + 1)) "$TGT_LOG" | sed 's/^/    /' >&2
			return 2
		fi
		if [ "$SECONDS" -ge "$deadline" ]; then
			_tgt_err "tgt_start: tgtd (pid $TGT_PID) does not answer tgtadm after ${TGT_TIMEOUT}s"
			tail -c +$((off + 1)) "$TGT_LOG" | sed 's/^/    /' >&2
			tgt_stop
			return 2
		fi
		sleep 0.05
	done
	got=$(tgt_adm --mode portal --op show 2>&1 | sed -n 's/^Portal: \(.*\),[0-9]*$/\1/p' | sort)
	want=$(printf '%s\n' "${_tgt_portal_list[@]}" | sort)
	if [ "$got" != "$want" ]; then
		tgt_stop
		if tail -c +$((off + 1)) "$TGT_LOG" | grep -q 'Address already in use'; then
			return 1
		fi
		_tgt_err "tgt_start: tgtd listens on [$(echo "$got" | tr '\n' ' ')], not on [$(echo "$want" | tr '\n' ' ')]; its log:"
		tail -c +$((off + 1)) "$TGT_LOG" | sed 's/^/    /' >&2
		return 2
	fi
	TGT_PORTALS=${_tgt_portal_list[*]}
	TGT_PORTAL=${_tgt_portal_list[0]}
	_tgt_split "$TGT_PORTAL"
	TGT_PORT=$_tgt_p
	export TGT_PORTALS TGT_PORTAL TGT_PORT
	return 0
}

# tgt_start [ADDR[:PORT]...]: start tgtd listening on each address (default
# 127.0.0.1; 127.0.0.2 etc. work on lo; IPv6 as [::1]).  Addresses without
# a port share one free port, picked here.  Waits until tgtd answers.
tgt_start() {
	local specs=("$@") s rc pick picked _
	[ ${#specs[@]} -gt 0 ] || specs=(127.0.0.1)
	if [ -n "$TGT_PID" ]; then
		_tgt_err "tgt_start: tgtd already running (pid $TGT_PID)"
		return 1
	fi
	_tgt_setup_dir || { _tgt_err "tgt_start: cannot create a state directory"; return 1; }
	: >"$TGT_DIR/replay"
	TGT_CTL=$((1000 + RANDOM % 30000))
	export TGT_CTL
	for _ in $(seq 20); do
		pick=$(_tgt_pick_port) || { _tgt_err "tgt_start: no free TCP port found"; return 1; }
		_tgt_portal_list=()
		picked=0
		for s in "${specs[@]}"; do
			_tgt_split "$s"
			[ -n "$_tgt_p" ] || picked=1
			_tgt_portal_list+=("$(_tgt_fmt "$_tgt_h" "${_tgt_p:-$pick}")")
		done
		rc=0
		_tgt_launch || rc=$?
		if [ "$rc" -eq 1 ] && [ "$picked" -eq 0 ]; then
			_tgt_err "tgt_start: ${_tgt_portal_list[*]}: Address already in use"
			return 1
		fi
		[ "$rc" -ne 1 ] || continue
		return "$rc"
	done
	_tgt_err "tgt_start: ports kept being taken (20 tries); last log:"
	tail -n 20 "$TGT_LOG" | sed 's/^/    /' >&2
	return 1
}

# tgt_start_in_netns NS [ADDR[:PORT]...]: tgt_start inside network
# namespace NS (tgt_netns_setup's TGT_NS_TGT, or the caller's own).
tgt_start_in_netns() {
	TGT_NETNS=$1
	shift
	tgt_start "$@"
}

# tgt_stop: SIGKILL tgtd and reap it.  Safe when not running.
tgt_stop() {
	local pid=$TGT_PID i
	[ -n "$pid" ] || return 0
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true   # also silences bash's "Killed" line
	for i in $(seq 100); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	TGT_PID=
	echo "=== $(date +%T.%N) tgtd $pid killed" 2>/dev/null >>"$TGT_LOG" || true
}

# tgt_restart: kill tgtd (if running) and start it again with the same
# portals and control port, then replay every recorded configuration
# command (targets, LUNs, ACLs, accounts, parameters) in order.
tgt_restart() {
	local rc deadline line
	if [ ${#_tgt_portal_list[@]} -eq 0 ]; then
		_tgt_err "tgt_restart: tgt_start was never called"
		return 1
	fi
	tgt_stop
	deadline=$((SECONDS + 5))
	while :; do
		rc=0
		_tgt_launch || rc=$?
		if [ "$rc" -ne 1 ] || [ "$SECONDS" -ge "$deadline" ]; then
			break
		fi
		sleep 0.2
	done
	if [ "$rc" -eq 1 ]; then
		_tgt_err "tgt_restart: cannot bind ${_tgt_portal_list[*]} again (Address already in use)"
	fi
	[ "$rc" -eq 0 ] || return 1
	# targets and their parameters first, then the rest in its order: an
	# initiator that logs in during the replay must find the parameters
	# (DefaultTime2Wait...) in place, not the defaults (it is let in only
	# once an ACL is bound, which comes later)
	while IFS= read -r line; do
		if ! eval "tgt_adm $line" >/dev/null 2>&1; then
			_tgt_err "tgt_restart: replay failed: tgtadm $line"
			return 1
		fi
	done < <(grep -E -- '--mode target --op (new|update)' "$TGT_DIR/replay"
		grep -vE -- '--mode target --op (new|update)' "$TGT_DIR/replay")
}

# tgt_freeze / tgt_thaw: SIGSTOP / SIGCONT tgtd (a target that hangs:
# connections stay up, nothing is answered).
tgt_freeze() { kill -STOP "$TGT_PID"; }
tgt_thaw() { kill -CONT "$TGT_PID"; }

# tgt_cleanup: for the caller's EXIT trap; stops tgtd, deletes the
# namespaces tgt_netns_setup made and the directories this file made.
tgt_cleanup() {
	tgt_stop || true
	tgt_netns_cleanup || true
	if [ -n "$_tgt_own_dir" ]; then
		rm -rf "$_tgt_own_dir"
		_tgt_own_dir=
	fi
	return 0
}

# tgt_log [N]: the last N (default 40) lines of tgtd's log, indented.
tgt_log() { tail -n "${1:-40}" "$TGT_LOG" | sed 's/^/    | /'; }

# ---- configuration (recorded) ----------------------------------------------

# tgt_add_target TID IQN
tgt_add_target() { tgt_cfg --mode target --op new --tid "$1" --targetname "$2"; }

# tgt_add_lun TID LUN PATH [tgtadm args: --bstype null, --blocksize 4096,
# --bsoflags direct, ...]  (with --bstype null, PATH is any word)
tgt_add_lun() {
	local tid=$1 lun=$2 path=$3
	shift 3
	tgt_cfg --mode logicalunit --op new --tid "$tid" --lun "$lun" --backing-store "$path" "$@"
}

# tgt_bind_all TID: accept every initiator address.
tgt_bind_all() { tgt_cfg --mode target --op bind --tid "$1" --initiator-address ALL; }

# tgt_bind_initiator TID IQN: accept only this initiator name (once any
# name is bound, others are refused; an address ACL is still needed).
tgt_bind_initiator() { tgt_cfg --mode target --op bind --tid "$1" --initiator-name "$2"; }

# tgt_set_param TID KEY VALUE: a session parameter of the target.
tgt_set_param() { tgt_cfg --mode target --op update --tid "$1" --name "$2" --value "$3"; }

_tgt_account() { # USER SECRET: create the account unless it exists
	local list
	list=$(tgt_adm --mode account --op show 2>/dev/null | sed 's/^ *//') || list=
	if printf '%s\n' "$list" | grep -xF -- "$1" >/dev/null; then
		return 0
	fi
	tgt_cfg --mode account --op new --user "$1" --password "$2"
}

# tgt_chap TID USER SECRET: initiators must authenticate (incoming).
tgt_chap() {
	_tgt_account "$2" "$3" || return 1
	tgt_cfg --mode account --op bind --tid "$1" --user "$2"
}

# tgt_chap_mutual TID USER SECRET: the target authenticates itself with
# this account when asked (outgoing; mutual CHAP).
tgt_chap_mutual() {
	_tgt_account "$2" "$3" || return 1
	tgt_cfg --mode account --op bind --tid "$1" --user "$2" --outgoing
}

# ---- inspection (not recorded) ---------------------------------------------

# tgt_sessions TID: the session ids (TSIH) of the target, one a line.
tgt_sessions() {
	tgt_adm --mode conn --op show --tid "$1" | sed -n 's/^Session: \([0-9]*\)$/\1/p' | sort -un
}

# tgt_conn_stat TID SID CID FIELD: one counter of a live connection, from
# `tgtadm --op stat --mode conn`: rxdata_octets, txdata_octets (PDU bytes
# received/sent, headers, digests and data included), dataout_pdus,
# datain_pdus, cmd_pdus, rsp_pdus.  tgtd 1.0.85 cannot show a session's
# negotiated parameters (`--mode session --op show` is "invalid request"),
# but these counters reveal them: a read-only run of N one-block commands
# with HeaderDigest=CRC32C received about N*52 octets (48-byte BHS + 4),
# without it N*48; dataout_pdus counts Data-Out PDUs (InitialR2T, ImmediateData,
# MaxRecvDataSegmentLength at work).
tgt_conn_stat() {
	tgt_adm --mode conn --op stat --tid "$1" --sid "$2" --cid "$3" |
		awk -v f="$4" -v sid="$2" -v cid="$3" '
			$1 == "sid" { for (i = 1; i <= NF; i++) col[$i] = i; next }
			(f in col) && $1 == sid && $2 == cid { print $col[f]; exit }'
}

# tgt_drop_conns TID: close every connection of the target (tgtd stays up).
tgt_drop_conns() {
	local sid='' cid kind n
	tgt_adm --mode conn --op show --tid "$1" |
		sed -n 's/^Session: \([0-9]*\)$/S \1/p; s/^ *Connection: \([0-9]*\)$/C \1/p' >"$TGT_DIR/conns"
	while read -r kind n; do
		if [ "$kind" = S ]; then
			sid=$n
		else
			cid=$n
			tgt_adm --mode conn --op delete --tid "$1" --sid "$sid" --cid "$cid" || return 1
		fi
	done <"$TGT_DIR/conns"
}

# ---- images and reference reads through libiscsi -----------------------------

# tgt_mkimg PATH SIZE: a file of SIZE bytes (head -c suffixes: 64K, 8M, 1G)
# of random content.  SIZE must be a multiple of 512.
tgt_mkimg() {
	local got
	head -c "$2" /dev/urandom >"$1" || return 1
	got=$(stat -c %s "$1")
	if [ $((got % 512)) -ne 0 ] || [ "$got" -eq 0 ]; then
		_tgt_err "tgt_mkimg: $1: $got bytes is not a positive multiple of 512"
		return 1
	fi
}

# tgt_url IQN LUN [HOST:PORT]: a libiscsi URL (default portal $TGT_PORTAL).
tgt_url() { printf 'iscsi://%s/%s/%s\n' "${3:-$TGT_PORTAL}" "$1" "$2"; }

# tgt_read_lun URL OUT: the whole LUN into file OUT, via qemu-img (libiscsi).
# CHAP through LIBISCSI_CHAP_* in the environment, never in the URL.  No
# "?key=value" in URL: qemu-img 7.2 segfaults on it.  For a header digest
# use qemu-img convert -O raw --image-opts "driver=iscsi,transport=tcp,
# portal=$TGT_PORTAL,target=IQN,lun=N,header-digest=crc32c" OUT.
tgt_read_lun() {
	qemu-img convert -q -f raw -O raw "$1" "$2"
}

# tgt_write_lun IN URL: file IN onto the LUN (from its first block).
tgt_write_lun() {
	qemu-img convert -q -n -f raw -O raw "$1" "$2"
}

# tgt_cmp_lun URL FILE: the LUN's content equals FILE (prints cmp's line).
tgt_cmp_lun() {
	local out=$TGT_DIR/cmp.$$.img rc=0
	tgt_read_lun "$1" "$out" || { rm -f "$out"; return 1; }
	cmp -- "$2" "$out" || rc=$?
	rm -f "$out"
	return "$rc"
}

# ---- network namespaces ------------------------------------------------------
#
# tgt_netns_setup: two namespaces joined by two veth links, nothing else:
#
#   $TGT_NS_INI (initiator)                $TGT_NS_TGT (target)
#   veth-a 10.91.1.2/24 02:91:00:00:01:02 <-> veth-at 10.91.1.1/24
#   veth-b 10.91.2.2/24 02:91:00:00:02:02 <-> veth-bt 10.91.2.1/24
#
# Exports TGT_NS_INI, TGT_NS_TGT, TGT_NS_ADDR_A=10.91.1.1,
# TGT_NS_ADDR_B=10.91.2.1 (target side), TGT_NS_SRC_A, TGT_NS_SRC_B
# (initiator side), TGT_NS_DEV_A=veth-a, TGT_NS_DEV_B=veth-b, TGT_NS_MAC_A,
# TGT_NS_MAC_B.  Then e.g.:
#   tgt_start_in_netns "$TGT_NS_TGT" "$TGT_NS_ADDR_A" "$TGT_NS_ADDR_B"
#   ip netns exec "$TGT_NS_INI" iscsi-ls "iscsi://$TGT_NS_ADDR_B:$TGT_PORT"
# Namespace names carry the test's pid, so concurrent tests do not meet;
# tgt_cleanup deletes them, and the next tgt_netns_setup deletes those of
# tests that died without running their trap.
tgt_netns_setup() {
	local i=lbtgt-ini-$$ t=lbtgt-tgt-$$ d ns pid
	# A test killed by SIGKILL runs no trap and leaves its namespaces
	# behind; delete those whose test is gone.
	for ns in $(ip netns list 2>/dev/null | sed -n 's/^\(lbtgt-\(ini\|tgt\)-[0-9]*\)\( .*\)\{0,1\}$/\1/p'); do
		pid=${ns##*-}
		[ -d "/proc/$pid" ] || ip netns del "$ns" 2>/dev/null || true
	done
	ip netns add "$i" || { _tgt_err "tgt_netns_setup: ip netns add $i failed"; return 1; }
	_tgt_namespaces+=("$i")
	ip netns add "$t" || { _tgt_err "tgt_netns_setup: ip netns add $t failed"; return 1; }
	_tgt_namespaces+=("$t")
	{
		ip -n "$i" link add veth-a address 02:91:00:00:01:02 type veth peer name veth-at netns "$t" &&
		ip -n "$i" link add veth-b address 02:91:00:00:02:02 type veth peer name veth-bt netns "$t" &&
		ip -n "$i" addr add 10.91.1.2/24 dev veth-a &&
		ip -n "$i" addr add 10.91.2.2/24 dev veth-b &&
		ip -n "$t" addr add 10.91.1.1/24 dev veth-at &&
		ip -n "$t" addr add 10.91.2.1/24 dev veth-bt
	} || { _tgt_err "tgt_netns_setup: cannot create the veth links"; return 1; }
	for d in lo veth-a veth-b; do
		ip -n "$i" link set "$d" up || return 1
	done
	for d in lo veth-at veth-bt; do
		ip -n "$t" link set "$d" up || return 1
	done
	TGT_NS_INI=$i TGT_NS_TGT=$t
	TGT_NS_ADDR_A=10.91.1.1 TGT_NS_ADDR_B=10.91.2.1
	TGT_NS_SRC_A=10.91.1.2 TGT_NS_SRC_B=10.91.2.2
	TGT_NS_DEV_A=veth-a TGT_NS_DEV_B=veth-b
	TGT_NS_MAC_A=02:91:00:00:01:02 TGT_NS_MAC_B=02:91:00:00:02:02
	export TGT_NS_INI TGT_NS_TGT TGT_NS_ADDR_A TGT_NS_ADDR_B TGT_NS_SRC_A \
		TGT_NS_SRC_B TGT_NS_DEV_A TGT_NS_DEV_B TGT_NS_MAC_A TGT_NS_MAC_B
}

# tgt_if_bytes NS DEV rx|tx: the byte counter of DEV inside namespace NS.
tgt_if_bytes() {
	ip netns exec "$1" cat "/sys/class/net/$2/statistics/$3_bytes"
}

# tgt_netns_cleanup: delete the namespaces tgt_netns_setup made (tgtd in
# them must be stopped first; tgt_cleanup does both).
tgt_netns_cleanup() {
	local ns
	for ns in ${_tgt_namespaces[@]+"${_tgt_namespaces[@]}"}; do
		ip netns del "$ns" 2>/dev/null || true
	done
	_tgt_namespaces=()
}
