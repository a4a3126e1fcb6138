# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
#
# LIO, the kernel's own iSCSI target, configured through configfs (no
# targetcli), for the kernel lab's guest tests: a second target beside
# tgtd, closer to what arrays run.  Everything made here is removed again
# by lio_clear (registered with vm_on_exit by lio_require).
#
#   lio_require                               modules, configfs; skip if none
#   lio_fileio NAME FILE SIZE [BLOCK_SIZE]    a fileio backstore (512 default)
#   lio_attrib NAME KEY VALUE                 attrib/KEY (emulate_tpu, ...)
#   lio_serial NAME SERIAL                    wwn/vpd_unit_serial
#   lio_target IQN [TPG]                      target and portal group (1),
#                                             demo mode, no authentication
#   lio_portal IQN TPG ADDR PORT              a network portal
#   lio_portal_iser IQN TPG ADDR PORT         iSER on that portal (ib_isert)
#   lio_lun IQN TPG LUN NAME                  NAME as LUN
#   lio_chap IQN TPG USER SECRET [MUSER MSECRET]   CHAP (mutual with MUSER)
#   lio_enable IQN [TPG]                      start serving
#   lio_clear                                 remove everything lio_* made
#
# Backstores live under core/fileio_0.  Block backstores, several portal
# groups and ALUA groups come with the tests that need them (multipath).

LIO=/sys/kernel/config/target
_lio_backstores=()
_lio_targets=()

# FILE VALUE: write VALUE to a configfs attribute, loudly.  No newline:
# LIO's CHAP attributes keep one as part of the name or secret.
_lio_w() {
	if ! printf '%s' "$2" >"$1" 2>/dev/null; then
		echo "lio: cannot write '$2' to ${1#"$LIO"/}" >&2
		return 1
	fi
}

_lio_store() { # NAME: the backstore's directory
	local d=$LIO/core/fileio_0/$1
	[ -d "$d" ] && { echo "$d"; return 0; }
	echo "lio: no backstore '$1'" >&2
	return 1
}

lio_require() {
	local m
	for m in target_core_mod iscsi_target_mod target_core_file; do
		modinfo "$m" >/dev/null 2>&1 || skip "this kernel ($(uname -r)) has no $m module"
		modprobe "$m" || br_abort "modprobe $m"
	done
	if [ ! -d "$LIO" ]; then
		mountpoint -q /sys/kernel/config || mount -t configfs configfs /sys/kernel/config ||
			br_abort "mount configfs"
	fi
	[ -d "$LIO/iscsi" ] || mkdir "$LIO/iscsi" 2>/dev/null || br_abort "LIO: no $LIO/iscsi"
	vm_on_exit lio_clear
}

lio_fileio() {
	local name=$1 file=$2 size=$3 bs=${4:-512} d=$LIO/core/fileio_0/$1
	mkdir -p "$d" || return 1
	_lio_backstores+=("$d")
	# the block size after enable: enabling sets it to the backing's
	_lio_w "$d/control" "fd_dev_name=$file,fd_dev_size=$size" &&
		_lio_w "$d/enable" 1 &&
		_lio_w "$d/attrib/block_size" "$bs"
}

lio_attrib() { local d; d=$(_lio_store "$1") && _lio_w "$d/attrib/$2" "$3"; }
lio_serial() { local d; d=$(_lio_store "$1") && _lio_w "$d/wwn/vpd_unit_serial" "$2"; }

lio_target() {
	local iqn=$1 tpg=$LIO/iscsi/$1/tpgt_${2:-1}
	mkdir -p "$tpg" || return 1
	_lio_targets+=("$LIO/iscsi/$iqn")
	# demo mode: any initiator, read-write, no ACLs
	_lio_w "$tpg/attrib/generate_node_acls" 1 &&
		_lio_w "$tpg/attrib/cache_dynamic_acls" 1 &&
		_lio_w "$tpg/attrib/demo_mode_write_protect" 0 &&
		_lio_w "$tpg/attrib/authentication" 0
}

lio_portal() { mkdir -p "$LIO/iscsi/$1/tpgt_$2/np/$3:$4"; }

lio_portal_iser() { _lio_w "$LIO/iscsi/$1/tpgt_$2/np/$3:$4/iser" 1; }

lio_lun() {
	local l=$LIO/iscsi/$1/tpgt_$2/lun/lun_$3 d
	d=$(_lio_store "$4") || return 1
	mkdir -p "$l" && ln -s "$d" "$l/$4"
}

lio_chap() {
	local a=$LIO/iscsi/$1/tpgt_$2/auth
	_lio_w "$a/userid" "$3" && _lio_w "$a/password" "$4" || return 1
	if [ -n "${5:-}" ]; then
		_lio_w "$a/userid_mutual" "$5" && _lio_w "$a/password_mutual" "$6" || return 1
	fi
	_lio_w "$LIO/iscsi/$1/tpgt_$2/attrib/authentication" 1
}

lio_enable() { _lio_w "$LIO/iscsi/$1/tpgt_${2:-1}/enable" 1; }

# Take down what lio_* made, leaves first: configfs removes only empty
# directories (rmdir), and links before what they point at.
lio_clear() {
	local t tpg l d
	for t in ${_lio_targets[@]+"${_lio_targets[@]}"}; do
		for tpg in "$t"/tpgt_*; do
			[ -d "$tpg" ] || continue
			printf '0\n' >"$tpg/enable" 2>/dev/null
			for l in "$tpg"/lun/lun_*; do
				[ -d "$l" ] || continue
				find "$l" -maxdepth 1 -type l -exec rm -f {} + 2>/dev/null
				rmdir "$l" 2>/dev/null
			done
			for d in "$tpg"/np/* "$tpg"/acls/*; do
				[ -d "$d" ] && rmdir "$d" 2>/dev/null
			done
			rmdir "$tpg" 2>/dev/null
		done
		rmdir "$t" 2>/dev/null
	done
	for d in ${_lio_backstores[@]+"${_lio_backstores[@]}"}; do
		rmdir "$d" 2>/dev/null
	done
	_lio_targets=()
	_lio_backstores=()
}
