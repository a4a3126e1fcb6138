#!/bin/bash
# The bash completion (packaging/completion/lunbridge.bash): _lunbridge's
# COMPREPLY for command lines, with bash-completion loaded (when installed)
# and without it; every command `lunbridge --help` lists and every iface
# subcommand `lunbridge iface --help` lists is offered.
# LUNBRIDGE: the built binary; SRC: the source root (default: from this
# file's path).  Exit 0, or 1 if a check failed.
set -u
: "${LUNBRIDGE:?set LUNBRIDGE to the lunbridge binary}"
SRC=${SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
COMPLETION=$SRC/packaging/completion/lunbridge.bash
BASH_COMPLETION=/usr/share/bash-completion/bash_completion

failures=0
ok() { echo "ok - $*"; }
not_ok() {
	failures=$((failures + 1))
	echo "not ok - $*"
}

[ -s "$COMPLETION" ] || { not_ok "$COMPLETION exists"; exit 1; }
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# The world the completion looks at: `lunbridge` on PATH, two configured
# volumes, iface records, a volume in the run directory.
mkdir -p "$TMP/bin" "$TMP/conf" "$TMP/ifaces" "$TMP/run"
ln -s "$LUNBRIDGE" "$TMP/bin/lunbridge"
export PATH="$TMP/bin:$PATH"
export LUNBRIDGE_CONF_DIR=$TMP/conf LUNBRIDGE_IFACE_DIR=$TMP/ifaces LUNBRIDGE_RUN_DIR=$TMP/run
printf 'portal = 192.0.2.1\ntarget = iqn.2026-11.com.example:t1\nlun = 1\nexport = ublk\n' \
	>"$TMP/conf/vol1.conf"
cp "$TMP/conf/vol1.conf" "$TMP/conf/vol2.conf"
touch "$TMP/conf/not-a-volume.txt" "$TMP/secret-one" "$TMP/secret-two"
# (iface new takes iscsiadm's lock in /run/lock: written by hand if that fails)
for iface in storage0 cxgb4i.00:07:43:28:b2:58; do
	"$LUNBRIDGE" iface new -I "$iface" >/dev/null 2>&1 ||
		printf '# BEGIN RECORD 2.1.8\niface.iscsi_ifacename = %s\niface.transport_name = tcp\n# END RECORD\n' \
			"$iface" >"$TMP/ifaces/$iface"
done
touch "$TMP/run/vm42-root.lock"
printf '{"name":"vm42-root","export":"ublk","device":"\\/dev\\/ublkb7"}\n' >"$TMP/run/vm42-root.json"

# complete MODE LINE: the replies _lunbridge gives for LINE (the cursor at
# its end), one a line, sorted.  COMP_WORDS is split as bash splits it:
# on blanks, and around runs of ':' and '=' (COMP_WORDBREAKS).  MODE
# "bash-completion" sources bash-completion first.
complete_line() {
	bash --norc --noprofile -c '
		mode=$1 completion=$2 line=$3 bc=$4
		if [ "$mode" = bash-completion ]; then
			. "$bc" || exit 3
		fi
		. "$completion" || exit 3
		complete -p lunbridge 2>/dev/null | grep -q -- "-F _lunbridge" || exit 4
		COMP_WORDS=()
		w="" brk=""
		for ((i = 0; i < ${#line}; i++)); do
			c=${line:i:1}
			case $c in
			[[:blank:]])
				[ -n "$w" ] && COMP_WORDS+=("$w")
				w="" brk=""
				;;
			[:=])
				[ -n "$w" ] && [ -z "$brk" ] && COMP_WORDS+=("$w") && w=""
				w+=$c brk=1
				;;
			*)
				[ -n "$brk" ] && COMP_WORDS+=("$w") && w="" brk=""
				w+=$c
				;;
			esac
		done
		if [ -z "$line" ] || [[ $line == *[[:blank:]] ]]; then
			COMP_WORDS+=("")
		else
			COMP_WORDS+=("$w")
		fi
		COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
		COMP_LINE=$line
		COMP_POINT=${#line}
		COMPREPLY=()
		_lunbridge lunbridge "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
		printf "%s\n" "${COMPREPLY[@]}"
	' complete "$1" "$COMPLETION" "$2" "$BASH_COMPLETION" | sed '/^$/d' | sort
	return "${PIPESTATUS[0]}"
}

# expect MODE LINE WORD...: the replies are exactly the WORDs
expect() {
	local mode=$1 line=$2 got want rc
	shift 2
	got=$(complete_line "$mode" "$line")
	rc=$?
	want=$(printf '%s\n' "$@" | sed '/^$/d' | sort)
	if [ $rc -ne 0 ]; then
		not_ok "$mode: '$line': the completion did not load or run (exit $rc)"
	elif [ "$got" = "$want" ]; then
		ok "$mode: '$line' -> $(tr '\n' ' ' <<<"$got")"
	else
		not_ok "$mode: '$line'"
		echo "# expected: $(tr '\n' ' ' <<<"$want")"
		echo "# got:      $(tr '\n' ' ' <<<"$got")"
	fi
}

# expect_offers MODE LINE WORD...: the replies include every WORD
expect_offers() {
	local mode=$1 line=$2 got w missing=''
	shift 2
	got=$(complete_line "$mode" "$line")
	for w in "$@"; do
		grep -qxF -- "$w" <<<"$got" || missing+=" $w"
	done
	if [ -z "$missing" ]; then
		ok "$mode: '$line' offers$(printf ' %s' "$@")"
	else
		not_ok "$mode: '$line' does not offer:$missing (got: $(tr '\n' ' ' <<<"$got"))"
	fi
}

# The names listed under HEADING in a help text.
help_list() {
	awk -v h="$1" '$0 == h { on = 1; next } on && /^$/ { exit } on { print $1 }' <<<"$2"
}
commands=$(help_list "Commands:" "$("$LUNBRIDGE" --help)")
iface_commands=$(help_list "Subcommands:" "$("$LUNBRIDGE" iface --help)")
[ -n "$commands" ] || not_ok "'lunbridge --help' lists commands"
[ -n "$iface_commands" ] || not_ok "'lunbridge iface --help' lists subcommands"

modes=plain
if [ -r "$BASH_COMPLETION" ]; then
	modes+=" bash-completion"
else
	echo "# $BASH_COMPLETION is not installed: checking without it only"
fi

for mode in $modes; do
	# shellcheck disable=SC2086 # lists of words
	{
		expect_offers "$mode" "lunbridge " $commands
		expect_offers "$mode" "lunbridge " iface discover luns attach list detach volume udev
		expect "$mode" "lunbridge -" -h --help -V --version
		expect "$mode" "lunbridge de" detach
		expect_offers "$mode" "lunbridge iface " $iface_commands
		expect "$mode" "lunbridge iface " list show new update delete generate check resolve
		expect "$mode" "lunbridge iface show -" -I --interface --iface-dir --json -h --help
		expect "$mode" "lunbridge iface update -I storage0 -n iface.net_" iface.net_ifacename
	}
	expect "$mode" "lunbridge attach --en" --engine
	expect "$mode" "lunbridge attach --engine " iscsi kernel
	expect "$mode" "lunbridge attach --engine=k" kernel
	expect "$mode" "lunbridge attach --no-" --no-recovery --no-fallback
	expect "$mode" "lunbridge attach -p 192.0.2.1 --po"
	expect "$mode" "lunbridge attach " vol1 vol2
	expect "$mode" "lunbridge attach vol" vol1 vol2
	expect "$mode" "lunbridge attach vol1 " --daemon -h --help
	expect "$mode" "lunbridge attach --export nbd" nbd+unix:/// nbd:// nbd
	expect "$mode" "lunbridge attach --export nbd+unix:" ///
	expect "$mode" "lunbridge attach -I " default iser storage0 cxgb4i.00:07:43:28:b2:58 auto
	expect "$mode" "lunbridge luns -I " default iser storage0 cxgb4i.00:07:43:28:b2:58
	expect "$mode" "lunbridge attach --js" --json
	expect "$mode" "lunbridge attach -I cxgb4i.00:07" 07:43:28:b2:58
	expect "$mode" "lunbridge attach --header-digest " none crc32c
	expect "$mode" "lunbridge attach --chap-algorithms md5,sha" md5,sha3-256 md5,sha256 md5,sha1
	expect "$mode" "lunbridge luns --chap-secret-file $TMP/secret-" \
		"$TMP/secret-one" "$TMP/secret-two"
	expect "$mode" "lunbridge luns --chap-secret-f" --chap-secret-fd --chap-secret-file
	expect "$mode" "lunbridge luns --chap-target-secret-fd "
	expect "$mode" "lunbridge luns --chap-secret-fd 3 --chap-target-secret-f" \
		--chap-target-secret-fd --chap-target-secret-file
	expect "$mode" "lunbridge volume " check
	expect "$mode" "lunbridge volume check " vol1 vol2
	expect "$mode" "lunbridge list " --json -h --help
	expect "$mode" "lunbridge detach " vm42-root
	expect "$mode" "lunbridge detach /dev/ub" /dev/ublkb7
	expect "$mode" "lunbridge detach vm42-root " --timeout --force --if-attached -h --help
	expect "$mode" "lunbridge discover -p 192.0.2.1 -I storage0 --j" --json
done

if [ "$failures" -ne 0 ]; then
	echo "# $failures check(s) failed"
	exit 1
fi
exit 0
