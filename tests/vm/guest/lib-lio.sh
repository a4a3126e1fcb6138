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
#   lio_loop FILE                             a loop device over FILE (detached
#                                             at exit); LIO_LOOP names it
#   lio_block NAME DEVICE                     an iblock backstore on a block
#                                             device (its block size)
#   lio_attrib NAME KEY VALUE                 attrib/KEY (emulate_tpu, ...)
#   lio_serial NAME SERIAL                    wwn/vpd_unit_serial
#   lio_target IQN [TPG]                      target and portal group (1),
#                                             demo mode, no authentication;
#                                             again for tpgt_2, tpgt_3, ...
#   lio_portal IQN TPG ADDR PORT              a network portal
#   lio_portal_iser IQN TPG ADDR PORT         iSER on that portal (ib_isert)
#   lio_lun IQN TPG LUN NAME                  NAME as LUN
#   lio_chap IQN TPG USER SECRET [MUSER MSECRET]   CHAP (mutual with MUSER)
#   lio_alua_group NAME GROUP ID TYPE         an ALUA target port group of
#                                             backstore NAME, tg_pt_gp_id ID,
#                                             TYPE implicit|explicit|both
#   lio_alua_state NAME GROUP STATE           its alua_access_state: 0 or
#                                             active/optimized, 1 or
#                                             active/non-optimized, 2 or
#                                             standby, 3 or unavailable,
#                                             15 (0xf) or transitioning
#                                             (SPC-4's codes; 0xe, offline,
#                                             is a port's, not a group's)
#   lio_alua_attr NAME GROUP KEY VALUE        its KEY (trans_delay_msecs:
#                                             how long a change of its state
#                                             holds it in transitioning, up
#                                             to 30000; the write to
#                                             alua_access_state returns then)
#   lio_alua_lun IQN TPG LUN GROUP            the LUN's port (in that portal
#                                             group) into GROUP (alua_tg_pt_gp)
#   lio_enable IQN [TPG]                      start serving
#   lio_clear                                 remove everything lio_* made
#
# Backstores live under core/fileio_0 and core/iblock_0; a NAME is unique
# across both.  Each backstore has its ALUA group default_tg_pt_gp (id 0),
# which every LUN's port is in until lio_alua_lun moves it.  REPORT TARGET
# PORT GROUPS answers with the groups that have a port in them.

LIO=/sys/kernel/config/target
_lio_backstores=()
_lio_targets=()
_lio_loops=()
LIO_LOOP=

# FILE VALUE: write VALUE to a configfs attribute, loudly.  No newline:
# LIO's CHAP attributes keep one as part of the name or secret.
_lio_w() {
	if ! printf '%s' "$2" >"$1" 2>/dev/null; then
		echo "lio: cannot write '$2' to ${1#"$LIO"/}" >&2
		return 1
	fi
}

_lio_store() { # NAME: the backstore's directory
	local d
	for d in "$LIO/core/fileio_0/$1" "$LIO/core/iblock_0/$1"; do
		[ -d "$d" ] && { echo "$d"; return 0; }
	done
	echo "lio: no backstore '$1'" >&2
	return 1
}

lio_require() {
	local m
	for m in target_core_mod iscsi_target_mod target_core_file target_core_iblock; do
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
	local file=$2 size=$3 bs=${4:-512} d=$LIO/core/fileio_0/$1
	mkdir -p "$d" || return 1
	_lio_backstores+=("$d")
	# the block size after enable: enabling sets it to the backing's
	_lio_w "$d/control" "fd_dev_name=$file,fd_dev_size=$size" &&
		_lio_w "$d/enable" 1 &&
		_lio_w "$d/attrib/block_size" "$bs"
}

# Call it from the main shell: LIO_LOOP and the cleanup are set here.
lio_loop() {
	modprobe loop || { echo "lio: modprobe loop failed" >&2; return 1; }
	LIO_LOOP=$(losetup --find --show "$1") || { echo "lio: losetup $1 failed" >&2; return 1; }
	_lio_loops+=("$LIO_LOOP")
}

lio_block() {
	local d=$LIO/core/iblock_0/$1
	mkdir -p "$d" || return 1
	_lio_backstores+=("$d")
	_lio_w "$d/control" "udev_path=$2" && _lio_w "$d/enable" 1
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

lio_alua_group() {
	local d type
	case $4 in
	implicit) type=1 ;;
	explicit) type=2 ;;
	both) type=3 ;;
	*) echo "lio: ALUA access type '$4': implicit, explicit or both" >&2; return 1 ;;
	esac
	d=$(_lio_store "$1") || return 1
	mkdir -p "$d/alua/$2" && _lio_w "$d/alua/$2/tg_pt_gp_id" "$3" &&
		_lio_w "$d/alua/$2/alua_access_type" "$type"
}

lio_alua_state() {
	local d state
	case $3 in
	0 | active/optimized) state=0 ;;
	1 | active/non-optimized) state=1 ;;
	2 | standby) state=2 ;;
	3 | unavailable) state=3 ;;
	15 | 0xf | transitioning) state=15 ;;
	*) echo "lio: ALUA access state '$3' is not one lio_alua_state knows" >&2; return 1 ;;
	esac
	d=$(_lio_store "$1") && _lio_w "$d/alua/$2/alua_access_state" "$state"
}

lio_alua_attr() { local d; d=$(_lio_store "$1") && _lio_w "$d/alua/$2/$3" "$4"; }

lio_alua_lun() { _lio_w "$LIO/iscsi/$1/tpgt_$2/lun/lun_$3/alua_tg_pt_gp" "$4"; }

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
		for t in "$d"/alua/*; do
			[ "$(basename "$t")" = default_tg_pt_gp ] || rmdir "$t" 2>/dev/null
		done
		rmdir "$d" 2>/dev/null
	done
	for d in ${_lio_loops[@]+"${_lio_loops[@]}"}; do
		losetup -d "$d" 2>/dev/null
	done
	_lio_targets=()
	_lio_backstores=()
	_lio_loops=()
}
