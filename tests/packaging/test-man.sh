#!/bin/bash
# The man pages: lunbridge(8) and lunbridge-volume.conf(5).
#   (a) groff -man -ww finds nothing to warn about in either page;
#   (b) lunbridge(8) has a section for every command `lunbridge --help`
#       lists (and every `iface` subcommand), and names every option their
#       --help texts show, and every LUNBRIDGE_* variable the code reads;
#   (c) lunbridge-volume.conf(5) documents every key of volume-conf.c's
#       table (each confirmed by the binary), with the option it stands
#       for, the required ones under "Required";
#   (d) lexgrog parses their NAME sections and man -l renders them without
#       a warning.
# LUNBRIDGE: the built binary; SRC: the source root (default: from this
# file's path).  Exit 0, 1 if a check failed, 77 if groff or man is missing.
set -u
: "${LUNBRIDGE:?set LUNBRIDGE to the lunbridge binary}"
SRC=${SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
MAN8=$SRC/packaging/man/lunbridge.8
MAN5=$SRC/packaging/man/lunbridge-volume.conf.5
export LC_ALL=C.UTF-8 MANPAGER=cat PAGER=cat MANWIDTH=80

failures=0
words() { tr '\n' ' ' <<<"$1" | sed 's/ *$//'; }
ok() { echo "ok - $*"; }
not_ok() {
	failures=$((failures + 1))
	echo "not ok - $*"
}
# check DESCRIPTION COMMAND...: ok when COMMAND succeeds
check() {
	local desc=$1
	shift
	if "$@"; then ok "$desc"; else not_ok "$desc"; fi
}

for tool in groff man lexgrog; do
	if ! command -v "$tool" >/dev/null; then
		echo "SKIP: $tool is not installed (groff-base, man-db)"
		exit 77
	fi
done
for f in "$MAN8" "$MAN5"; do
	[ -s "$f" ] || { not_ok "$f exists"; exit 1; }
done
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# The page as plain text, one paragraph a line (no filling, no hyphens).
render() {
	groff -man -Tascii -rLL=5000n -rHY=0 -P-cbou "$1" 2>/dev/null
}
render "$MAN8" >"$TMP/man8.txt"
render "$MAN5" >"$TMP/man5.txt"

# ---- (a) groff warnings ---------------------------------------------------

for f in "$MAN8" "$MAN5"; do
	out=$(groff -man -ww -z "$f" 2>&1)
	rc=$?
	if [ $rc -eq 0 ] && [ -z "$out" ]; then
		ok "groff -man -ww: ${f##*/} has no warnings"
	else
		not_ok "groff -man -ww: ${f##*/} (exit $rc)"
		printf '%s\n' "$out" | sed 's/^/# /'
	fi
done

# ---- (b) commands and options of lunbridge(8) ----------------------------

# has_word FILE WORD: WORD appears in FILE, not as part of a longer option
has_word() {
	grep -qE -- "(^|[^A-Za-z0-9_-])$2([^A-Za-z0-9_-]|\$)" "$1"
}

# The options a --help text shows: the Usage lines (up to the first blank
# line) and the option table's leading -x, --long.
help_options() {
	awk '/^Usage:/ { u = 1 } u && /^$/ { u = 0 } u { print }' <<<"$1" |
		grep -oE '(^|[][[:space:]|])--?[A-Za-z0-9][A-Za-z0-9-]*' | sed 's/^[][[:space:]|]//'
	grep -oE '^[[:space:]]+(-[A-Za-z0-9], )?--?[A-Za-z0-9][A-Za-z0-9-]*' <<<"$1" |
		sed 's/^[[:space:]]*//; s/, /\n/'
}

# The names listed under HEADING ("Commands:") in a help text.
help_list() {
	awk -v h="$1" '$0 == h { on = 1; next } on && /^$/ { exit } on { print $1 }' <<<"$2"
}

# check_help WHAT ARGS...: the page documents WHAT's options, from its --help.
check_help() {
	local what=$1 text rc opts opt missing=''
	shift
	text=$("$LUNBRIDGE" "$@" --help 2>&1)
	rc=$?
	printf '%s\n' "$text" >>"$TMP/help.txt"
	[ $rc -eq 0 ] || not_ok "'lunbridge${what:+ $what} --help' exits 0 (exit $rc)"
	opts=$(help_options "$text" | sort -u)
	for opt in $opts; do
		has_word "$TMP/man8.txt" "$opt" || missing+=" $opt"
	done
	if [ -z "$opts" ]; then
		ok "'lunbridge${what:+ $what} --help' shows no options"
	elif [ -z "$missing" ]; then
		ok "lunbridge.8 names every option of 'lunbridge${what:+ $what}':" "$(words "$opts")"
	else
		not_ok "lunbridge.8 lacks options of 'lunbridge${what:+ $what}':$missing"
	fi
}

# has_section NAME: a .SS heading of lunbridge.8 starts with NAME
# shellcheck disable=SC2317 # called through check
has_section() {
	grep -qE "^\.SS \"?$1( |\"|\$)" "$MAN8"
}

synopsis=$(awk '/^\.SH SYNOPSIS/ { on = 1; next } /^\.SH/ { on = 0 } on' "$MAN8")
main_help=$("$LUNBRIDGE" --help)
commands=$(help_list "Commands:" "$main_help")
if [ -n "$commands" ]; then
	ok "'lunbridge --help' lists commands:" "$(words "$commands")"
else
	not_ok "'lunbridge --help' lists commands"
fi
check_help "" # lunbridge --help: -h, -V
for cmd in $commands; do
	check "lunbridge.8 has a section for '$cmd'" has_section "$cmd"
	check "lunbridge.8's SYNOPSIS shows 'lunbridge $cmd'" \
		grep -qE "^\.B lunbridge $cmd( |\$)" <<<"$synopsis"
	check_help "$cmd" "$cmd"
	if [ "$cmd" = iface ]; then
		subs=$(help_list "Subcommands:" "$("$LUNBRIDGE" iface --help)")
		[ -n "$subs" ] || not_ok "'lunbridge iface --help' lists subcommands"
		for sub in $subs; do
			check "lunbridge.8 has a section for 'iface $sub'" has_section "iface $sub"
			check_help "iface $sub" iface "$sub"
		done
	fi
done

# every LUNBRIDGE_* variable the code reads or the help texts name, under
# ENVIRONMENT
env_section=$(awk '/^ENVIRONMENT/ { on = 1; next } /^[A-Z]/ { on = 0 } on' "$TMP/man8.txt")
vars=$({
	grep -rhoE 'getenv\("LUNBRIDGE_[A-Z_]+"\)' "$SRC"/bridge "$SRC"/iface "$SRC"/transport \
		"$SRC"/common 2>/dev/null | sed 's/getenv("//; s/")//'
	# shellcheck disable=SC2016 # a literal $
	grep -oE '\$LUNBRIDGE_[A-Z_]+' "$TMP/help.txt" | sed 's/^\$//'
} | sort -u)
missing=''
for v in $vars; do
	grep -qE "^ +$v\$" <<<"$env_section" || missing+=" $v"
done
if [ -z "$vars" ]; then
	not_ok "no getenv(\"LUNBRIDGE_...\") found under $SRC"
elif [ -z "$missing" ]; then
	ok "lunbridge.8's ENVIRONMENT has every variable the code reads:" "$(words "$vars")"
else
	not_ok "lunbridge.8's ENVIRONMENT lacks:$missing"
fi

check "lunbridge.8 refers to lunbridge-volume.conf(5)" grep -q 'lunbridge-volume.conf(5)' "$TMP/man8.txt"
check "lunbridge-volume.conf.5 refers to lunbridge(8)" grep -q 'lunbridge(8)' "$TMP/man5.txt"

# ---- (c) the keys of lunbridge-volume.conf(5) -----------------------------

# {"key", "--option", KEY_VALUE|KEY_YES, required}, from the table
table=$(sed -nE 's/^[[:space:]]*\{"([a-z_]+)", "(--[a-z-]+)", KEY_[A-Z]+, (true|false)\},.*/\1 \2 \3/p' \
	"$SRC/bridge/volume/volume-conf.c")
if [ "$(wc -l <<<"$table")" -ge 4 ]; then
	ok "volume-conf.c's key table:" "$(words "$(cut -d' ' -f1 <<<"$table")")"
else
	not_ok "volume-conf.c's key table parsed (got: $table)"
fi

# conf_error LINE: what `volume check` says of a file holding only LINE
mkdir "$TMP/conf"
conf_error() {
	printf '%s\n' "$1" >"$TMP/conf/probe.conf"
	LUNBRIDGE_CONF_DIR=$TMP/conf "$LUNBRIDGE" volume check probe 2>&1
}
if [[ $(conf_error "no_such_key = 1") == *"unknown key 'no_such_key'"* ]]; then
	ok "the binary refuses an unknown key"
else
	not_ok "the binary refuses an unknown key: $(conf_error "no_such_key = 1")"
fi

# The item of KEY in the page: its tag line "KEY = ..." and its text.
key_item() {
	awk -v key="$1" 'index($0, "       " key " = ") == 1 { on = 1; print; next }
		on && /^       [^ ]/ { exit } on { print }' "$TMP/man5.txt"
}
required=$(awk '/^ +Required:/ { on = 1; next } /^ +Optional:/ { on = 0 } on' "$TMP/man5.txt")
while read -r key opt req; do
	[ -n "$key" ] || continue
	err=$(conf_error "$key = yes")
	if [[ $err == *"unknown key"* ]]; then
		not_ok "the binary knows the key '$key': $err"
	fi
	item=$(key_item "$key")
	if [ -z "$item" ]; then
		not_ok "lunbridge-volume.conf.5 documents the key '$key'"
		continue
	fi
	if ! grep -qF -- "$opt" <<<"$item"; then
		not_ok "lunbridge-volume.conf.5: '$key' is said to be $opt"
		continue
	fi
	if [ "$req" = true ] && ! grep -qE "^       $key = " <<<"$required"; then
		not_ok "lunbridge-volume.conf.5: '$key' is under Required"
		continue
	fi
	if [ "$req" = true ]; then opt+=", required"; fi
	ok "lunbridge-volume.conf.5 documents '$key' ($opt)"
done <<<"$table"

# ---- (d) lexgrog and man -l ----------------------------------------------

for f in "$MAN8" "$MAN5"; do
	name=${f##*/}
	name=${name%.[0-9]}
	out=$(lexgrog "$f" 2>&1)
	if [[ $out == *": \"$name - "* ]]; then
		ok "lexgrog: $out"
	else
		not_ok "lexgrog ${f##*/}: $out"
	fi
	err=$(man --warnings -E UTF-8 -l "$f" 2>&1 >"$TMP/out.txt")
	rc=$?
	if [ $rc -eq 0 ] && [ -z "$err" ] && grep -q '^NAME' "$TMP/out.txt" &&
		grep -q '^SEE ALSO' "$TMP/out.txt"; then
		ok "man -l renders ${f##*/} without warnings ($(wc -l <"$TMP/out.txt") lines)"
	else
		not_ok "man -l ${f##*/} (exit $rc)"
		printf '%s\n' "$err" | sed 's/^/# /'
	fi
done

if [ "$failures" -ne 0 ]; then
	echo "# $failures check(s) failed"
	exit 1
fi
exit 0
