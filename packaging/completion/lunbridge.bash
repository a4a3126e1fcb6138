# bash completion for lunbridge(8)                    -*- shell-script -*-
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Subcommands, the iface subcommands, each one's options, and values where
# they are cheap: iface names (`lunbridge iface list`), iface keys, engines,
# export forms, digests, CHAP algorithms, configured volumes
# ($LUNBRIDGE_CONF_DIR/*.conf), running volumes ($LUNBRIDGE_RUN_DIR/*.lock),
# ublk and NBD devices, files and directories.  Uses bash-completion's
# _init_completion when it is loaded, and works without it.

_lunbridge_commands="iface discover luns attach list detach volume udev help"
_lunbridge_iface_commands="list show new update delete generate check resolve"
_lunbridge_session_opts="-p --portal -I --interface --iface-dir --chap-user
	--chap-secret-fd --chap-secret-file --chap-target-user
	--chap-target-secret-fd --chap-target-secret-file
	--chap-algorithms --header-digest --data-digest --timeout --command-timeout
	--request-timeout --replacement-timeout --noop-out-interval --noop-out-timeout -h --help"

# The options of COMMAND (and iface SUBCOMMAND), one string.
_lunbridge_opts()
{
	case $1 in
	discover) echo "$_lunbridge_session_opts --json" ;;
	luns) echo "-T --targetname $_lunbridge_session_opts --json" ;;
	attach)
		echo "-T --targetname -l --lun --export --name --queues --max-sessions --daemon" \
			"--no-recovery --engine --no-fallback --json --device-timeout" \
			"--tls --tls-creds --tls-psk --tls-psk-fd --tls-verify-peer --insecure" \
			"--socket-group" \
			"$_lunbridge_session_opts"
		;;
	list) echo "--json -h --help" ;;
	detach) echo "--timeout --force --if-attached --all -h --help" ;;
	volume | udev) echo "-h --help" ;;
	iface)
		case $2 in
		list | generate) echo "--iface-dir --json -h --help" ;;
		show | check) echo "-I --interface --iface-dir --json -h --help" ;;
		new | delete) echo "-I --interface --iface-dir -h --help" ;;
		update) echo "-I --interface -n --name -v --value --iface-dir -h --help" ;;
		resolve) echo "-p --portal --iface-dir --json -h --help" ;;
		esac
		;;
	esac
}

# The other form of option $2 of command $1: -p for --portal, and so on.
_lunbridge_other()
{
	case $2 in
	-p) echo --portal ;; --portal) echo -p ;;
	-I) echo --interface ;; --interface) echo -I ;;
	-T) echo --targetname ;; --targetname) echo -T ;;
	-l) echo --lun ;; --lun) echo -l ;;
	-v) echo --value ;; --value) echo -v ;;
	-n) echo --name ;;
	--name) [[ $1 == iface ]] && echo -n ;;
	esac
	return 0
}

# The volumes configured in $LUNBRIDGE_CONF_DIR (default /etc/lunbridge/volumes).
_lunbridge_configured()
{
	local f
	for f in "${LUNBRIDGE_CONF_DIR:-/etc/lunbridge/volumes}"/*.conf; do
		[[ -f $f ]] || continue
		f=${f##*/}
		printf '%s\n' "${f%.conf}"
	done
}

# The volumes with a lock in the run directory (their bridges run, or died
# and left a device for detach), and with DEV or EXPORT as argument also
# their devices or exports, read from NAME.json.  Nothing when the directory
# is not readable (not root).
_lunbridge_running()
{
	local d=${LUNBRIDGE_RUN_DIR:-/run/lunbridge} f name line re
	for f in "$d"/*.lock; do
		[[ -f $f ]] || continue
		name=${f##*/}
		name=${name%.lock}
		printf '%s\n' "$name"
		[[ ${1-} ]] || continue
		re="\"$1\": *\"([^\"]*)\""
		line=$(head -c 65536 -- "$d/$name.json" 2>/dev/null) || continue
		if [[ $line =~ $re ]]; then
			line=${BASH_REMATCH[1]}
			printf '%s\n' "${line//\\\//\/}"
		fi
	done
}

# The iface records, by `lunbridge iface list` (first field).
_lunbridge_ifaces()
{
	local lb=$1 dir=${2-} name _
	"$lb" iface list ${dir:+--iface-dir "$dir"} 2>/dev/null | while read -r name _; do
		[[ $name ]] && printf '%s\n' "$name"
	done
}

# The iface keys, from the built-in record's form.
_lunbridge_iface_keys()
{
	local lb=$1 key _
	"$lb" iface show -I default 2>/dev/null | while read -r key _; do
		[[ $key == iface.* ]] && printf '%s\n' "$key"
	done
}

# ublk and NBD disks: kernel names, or /dev paths when the word starts with /.
_lunbridge_devices()
{
	local f
	if [[ ${1-} == /* ]]; then
		for f in /dev/ublkb[0-9]* /dev/nbd[0-9]*; do
			[[ -b $f && $f != *p[0-9]* ]] && printf '%s\n' "$f"
		done
	else
		for f in /sys/block/ublkb[0-9]* /sys/block/nbd[0-9]*; do
			[[ -e $f ]] && printf '%s\n' "${f##*/}"
		done
	fi
	return 0
}

# COMPREPLY from a newline-separated list, the words starting with $cur.
_lunbridge_reply()
{
	local w
	COMPREPLY=()
	while IFS= read -r w; do
		[[ $w && $w == "$cur"* ]] && COMPREPLY+=("$w")
	done <<<"$1"
}

# The word under the cursor and the ones before it, from COMP_LINE (without
# bash-completion): words split on blanks, ':' and '=' kept inside words.
_lunbridge_words()
{
	local line
	if [[ ${COMP_LINE+set} && ${COMP_POINT+set} ]]; then
		line=${COMP_LINE:0:COMP_POINT}
		read -ra words <<<"$line"
		if [[ ! $line || $line == *[[:blank:]] ]]; then
			words+=("")
		fi
		cword=$((${#words[@]} - 1))
	else
		words=("${COMP_WORDS[@]}")
		cword=$COMP_CWORD
	fi
	cur=${words[cword]}
	prev=
	((cword > 0)) && prev=${words[cword - 1]}
	return 0
}

_lunbridge()
{
	local cur prev words cword
	if declare -F _init_completion >/dev/null 2>&1; then
		_init_completion -n := || return
	else
		_lunbridge_words
	fi

	local lb=${words[0]:-lunbridge}
	type -P -- "$lb" >/dev/null 2>&1 || lb=lunbridge

	# --option=value: complete the value as if it were the next word
	local eqpre=
	if [[ $cur == --*=* ]]; then
		prev=${cur%%=*}
		eqpre=${cur%%=*}=
		cur=${cur#*=}
	fi

	local cmd=${words[1]-} sub=${words[2]-} i iface_dir='' pos=0 list='' word
	for ((i = 1; i < cword; i++)); do
		[[ ${words[i]} == --iface-dir ]] && iface_dir=${words[i + 1]-}
		[[ ${words[i]} == --iface-dir=* ]] && iface_dir=${words[i]#*=}
	done

	COMPREPLY=()
	if ((cword == 1)); then
		if [[ $cur == -* ]]; then
			list="-h --help -V --version"
		else
			list=$_lunbridge_commands
		fi
		_lunbridge_reply "${list// /$'\n'}"
		_lunbridge_fix "$eqpre"
		return 0
	fi

	if [[ $cmd == iface ]] && ((cword == 2)); then
		if [[ $cur == -* ]]; then list="-h --help"; else list=$_lunbridge_iface_commands; fi
		_lunbridge_reply "${list// /$'\n'}"
		_lunbridge_fix "$eqpre"
		return 0
	fi
	[[ $cmd == volume ]] && ((cword == 2)) && [[ $cur != -* ]] && {
		_lunbridge_reply "check"
		_lunbridge_fix "$eqpre"
		return 0
	}

	# the value of the option before the cursor
	case $prev in
	-I | --interface)
		# attach also takes "auto": the record the route leaves by
		word=$(_lunbridge_ifaces "$lb" "$iface_dir")
		[[ $cmd != attach ]] || word+=$'\nauto'
		_lunbridge_reply "$word"
		_lunbridge_fix "$eqpre"
		return 0
		;;
	--iface-dir)
		compopt -o filenames 2>/dev/null
		mapfile -t COMPREPLY < <(compgen -d -- "$cur")
		_lunbridge_fix "$eqpre"
		return 0
		;;
	--chap-secret-file | --chap-target-secret-file)
		compopt -o filenames 2>/dev/null
		mapfile -t COMPREPLY < <(compgen -f -- "$cur")
		_lunbridge_fix "$eqpre"
		return 0
		;;
	--engine)
		_lunbridge_reply $'iscsi\nkernel'
		_lunbridge_fix "$eqpre"
		return 0
		;;
	--header-digest | --data-digest)
		_lunbridge_reply $'none\ncrc32c'
		_lunbridge_fix "$eqpre"
		return 0
		;;
	--chap-algorithms)
		local head=
		[[ $cur == *,* ]] && head=${cur%,*},
		list=
		for word in sha3-256 sha256 sha1 md5; do
			[[ ,$head == *",$word,"* ]] || list+="$head$word"$'\n'
		done
		_lunbridge_reply "$list"
		_lunbridge_fix "$eqpre"
		return 0
		;;
	--export)
		_lunbridge_reply $'nbd+unix:///\nnbd://\nnbd\n/dev/nbd\nublk\nublk:\n/dev/ublkb'
		# the prefixes go on; "nbd" and "ublk" alone are whole
		if ((${#COMPREPLY[@]} > 1)) || [[ ${COMPREPLY[0]-} == *[:/] || ${COMPREPLY[0]-} == /dev/* ]]; then
			compopt -o nospace 2>/dev/null
		fi
		_lunbridge_fix "$eqpre"
		return 0
		;;
	-n)
		[[ $cmd == iface && $sub == update ]] || return 0
		_lunbridge_reply "$(_lunbridge_iface_keys "$lb")"
		_lunbridge_fix "$eqpre"
		return 0
		;;
	--name)
		if [[ $cmd == iface && $sub == update ]]; then
			_lunbridge_reply "$(_lunbridge_iface_keys "$lb")"
			_lunbridge_fix "$eqpre"
		fi
		return 0
		;;
	-p | --portal | -T | --targetname | -l | --lun | --queues | --max-sessions | --timeout | \
		--command-timeout | --request-timeout | --replacement-timeout | \
		--noop-out-interval | --noop-out-timeout | \
		--device-timeout | --chap-user | --chap-target-user | -v | --value | \
		--chap-secret-fd | --chap-target-secret-fd)
		return 0 # free text
		;;
	esac
	[[ $eqpre ]] && return 0

	# positional arguments: how many before the cursor
	local first=2
	[[ $cmd == iface || $cmd == volume ]] && first=3
	for ((i = first; i < cword; i++)); do
		case ${words[i]} in
		--export | --name | --queues | --max-sessions | --engine | --iface-dir | --chap-user | \
			--chap-secret-file | --chap-target-user | --chap-target-secret-file | \
			--chap-secret-fd | --chap-target-secret-fd | \
			--chap-algorithms | --header-digest | --data-digest | --timeout | \
			--command-timeout | --request-timeout | --replacement-timeout | \
			--noop-out-interval | --noop-out-timeout | \
			--device-timeout | --portal | --targetname | --lun | --interface | --value | \
			-p | -T | -l | -I | -n | -v)
			((i++))
			;;
		-*) ;;
		*) ((pos++)) ;;
		esac
	done

	list=
	case $cmd in
	attach)
		if [[ ${words[2]-} && ${words[2]} != -* ]] && ((cword > 2)); then
			list="--daemon -h --help" # attach NAME [--daemon]
		elif ((cword == 2)) && [[ $cur != -* ]] && list=$(_lunbridge_configured) && [[ $list ]]; then
			: # attach NAME: the configured volumes
		else
			list=$(_lunbridge_opts attach)
		fi
		;;
	volume)
		if [[ $sub == check ]] && ((pos == 0)) && [[ $cur != -* ]]; then
			list=$(_lunbridge_configured)
		elif [[ $cur == -* ]]; then
			list=$(_lunbridge_opts volume)
		fi
		;;
	detach)
		if ((pos == 0)) && [[ $cur != -* ]]; then
			case $cur in
			/*) list=$(_lunbridge_running device) ;;
			nbd*) list=$(_lunbridge_running export) ;;
			*) list=$(_lunbridge_running) ;;
			esac
		elif ((pos == 0)); then
			list=$(_lunbridge_opts detach)
		else # a volume is named: --all no longer fits
			list=$(_lunbridge_opts detach | sed 's/ --all//')
		fi
		;;
	udev)
		if ((pos == 0)) && [[ $cur != -* ]]; then
			list=$(_lunbridge_devices "$cur")
		else
			list=$(_lunbridge_opts udev)
		fi
		;;
	iface | discover | luns | list)
		((pos == 0)) || return 0
		list=$(_lunbridge_opts "$cmd" "$sub")
		;;
	*)
		return 0
		;;
	esac

	# options already on the line (in either form) are not offered again
	local out='' seen other
	for word in $list; do
		if [[ $word == -* && $word != -h && $word != --help ]]; then
			other=$(_lunbridge_other "$cmd" "$word")
			for ((i = 1; i < cword; i++)); do
				seen=${words[i]%%=*}
				[[ $seen == "$word" || $seen == "$other" ]] && continue 2
			done
		fi
		out+=$word$'\n'
	done
	_lunbridge_reply "$out"
	_lunbridge_fix "$eqpre"
	return 0
}

# Bash replaces only the part of the word after the last COMP_WORDBREAKS
# character (':' in ublk:0, nbd+unix:///, iface names with MACs; '=' in
# --option=value): cut what comes before it off the replies.  EQPRE is the
# "--option=" the value was split from.
_lunbridge_fix()
{
	local word=$1$cur pre='' i c
	for ((i = ${#word} - 1; i >= 0; i--)); do
		c=${word:i:1}
		if [[ ($c == : || $c == =) && ${COMP_WORDBREAKS-} == *"$c"* ]]; then
			pre=${word:0:i+1}
			break
		fi
	done
	for i in "${!COMPREPLY[@]}"; do
		COMPREPLY[i]=$1${COMPREPLY[i]}
		COMPREPLY[i]=${COMPREPLY[i]#"$pre"}
	done
	return 0
}

complete -F _lunbridge lunbridge
