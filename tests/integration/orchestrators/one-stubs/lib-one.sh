# shellcheck shell=bash
# Shared by the OpenNebula driver tests: OpenNebula's side and the hosts'
# stood in for (see test-opennebula.sh).
#
#   one_setup DIR: $ONE_LOCATION/var/remotes laid out as OpenNebula has it
#   (tm/tm_common.sh, datastore/xpath.rb, tm/lunbridge: the driver under
#   test), the stubs first on PATH, TM = the driver's directory, and the
#   stubs' files under DIR: hosts/HOST (each host's conf, secrets, links),
#   calls (every stub's argv), scripts (what ssh ran), one.log (the
#   driver's log), vm.xml (what `onevm show -x` prints).  The libvirt secret
#   is ONE_STUB_USAGE (web-chap) = ONE_STUB_SECRET.

_one_here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

one_setup() {
	local r
	export ONE_LOCATION=$1/one
	r=$ONE_LOCATION/var/remotes
	mkdir -p "$r/tm" "$r/datastore" "$1/hosts" || return 1
	cp "$_one_here/remotes/tm/tm_common.sh" "$r/tm/" &&
		cp "$_one_here/remotes/datastore/xpath.rb" "$r/datastore/" &&
		cp -r "$SRC/packaging/opennebula/tm/lunbridge" "$r/tm/lunbridge" || return 1
	TM=$r/tm/lunbridge
	export PATH=$_one_here/bin:$PATH
	export ONE_STUB_ROOT=$1/hosts ONE_STUB_CALLS=$1/calls ONE_STUB_SCRIPTS=$1/scripts
	export ONE_STUB_LOG=$1/one.log ONE_STUB_VM_XML=$1/vm.xml
	export ONE_STUB_USAGE=${ONE_STUB_USAGE:-web-chap} ONE_STUB_SECRET=${ONE_STUB_SECRET:-Chap:Secret-$$}
	export LUNBRIDGE_ONE=$SRC/packaging/opennebula/node/lunbridge-one
	: >"$ONE_STUB_CALLS"
	: >"$ONE_STUB_SCRIPTS"
	: >"$ONE_STUB_LOG"
}
