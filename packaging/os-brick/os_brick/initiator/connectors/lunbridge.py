# SPDX-License-Identifier: GPL-2.0-or-later
"""An os-brick connector that brings Cinder's iSCSI volumes to the host
through lunbridge (one bridge process per volume, a ublk or kernel NBD
device, /dev/disk/by-lunbridge/NAME) instead of open-iscsi's kernel
sessions.

It takes the connection properties Cinder's iSCSI drivers return (the
same as os_brick.initiator.connectors.iscsi.ISCSIConnector), so it can
stand in for that connector under the protocol name ISCSI; see
packaging/os-brick/README.md for how a deployment wires it in.

The pure parts (names, lunbridge's arguments) are module functions that
the tests call directly; everything that needs root goes through
os_brick.privileged.lunbridge.
"""
import json
import os
import re

from oslo_log import log as logging

from os_brick import exception
from os_brick import initiator
from os_brick import utils
from os_brick.initiator.connectors import base
from os_brick.privileged import lunbridge as priv

LOG = logging.getLogger(__name__)

LINK_DIR = '/dev/disk/by-lunbridge'
NAME_MAX = 64
INITIATORNAME_FILE = '/etc/iscsi/initiatorname.iscsi'


class LunbridgeError(exception.BrickException):
    message = 'lunbridge: %(reason)s'


# ---- connection properties -> lunbridge (no I/O) ---------------------------

def volume_name(props):
    """The volume's name on this host: stable for the same properties, so
    that connect, disconnect and get_volume_paths agree without state.
    Cinder's volume_id when given, else the target's last part and LUN."""
    vid = props.get('volume_id')
    if vid:
        base_name = 'cinder-%s' % vid
    else:
        portal, iqn, lun = targets(props)[0]
        base_name = '%s-%s' % (iqn.rsplit(':', 1)[-1], lun)
    name = re.sub(r'[^A-Za-z0-9_.:-]', '_', base_name)[:NAME_MAX]
    if name[0] in '.-':
        name = '_' + name[1:]
    return name


def targets(props):
    """[(portal, iqn, lun), ...] as os-brick's iSCSI connector reads them:
    target_portals/target_iqns/target_luns (one IQN or LUN may serve every
    portal), else target_portal/target_iqn/target_lun."""
    if props.get('target_portals'):
        portals = list(props['target_portals'])
        iqns = props.get('target_iqns') or [props.get('target_iqn')] * len(portals)
        luns = props.get('target_luns') or [props.get('target_lun')] * len(portals)
        if len(iqns) != len(portals) or len(luns) != len(portals):
            raise LunbridgeError(reason='target_portals, target_iqns and target_luns '
                                 'differ in length')
        out = list(zip(portals, iqns, luns))
    elif props.get('target_portal'):
        out = [(props['target_portal'], props.get('target_iqn'), props.get('target_lun'))]
    else:
        raise LunbridgeError(reason='no target_portal or target_portals')
    for portal, iqn, lun in out:
        if not iqn or lun is None:
            raise LunbridgeError(reason='portal %s: no target IQN or LUN' % portal)
    return [(p, i, int(lun)) for p, i, lun in out]


def chap(props, prefix=''):
    """(user, secret) of auth_* (or discovery_auth_*), or (None, None).
    Only CHAP is an iSCSI auth method; anything else is refused."""
    method = props.get(prefix + 'auth_method')
    if not method or str(method).lower() == 'none':
        return None, None
    if str(method).upper() != 'CHAP':
        raise LunbridgeError(reason='%sauth_method %s: only CHAP is known' % (prefix, method))
    user, secret = props.get(prefix + 'auth_username'), props.get(prefix + 'auth_password')
    if not user or not secret:
        raise LunbridgeError(reason='%sauth_method CHAP without a user name and password'
                             % prefix)
    return user, secret


def export_for(name, export):
    """The --export for NAME: a template with {name} (an NBD socket for
    tests), else 'ublk' or 'nbd' as given."""
    return export.format(name=name)


def is_device_export(export):
    return not export.startswith('nbd+unix:') and not export.startswith('nbd://')


def attach_args(props, name, export, iface=None, chap_algorithms=None, have_paths=False):
    """lunbridge's attach argv (without the program) and its secrets.

    The first target is the volume's portal; the others become --path
    PORTAL,IQN,LUN[,IFACE] when this lunbridge has multipath (have_paths),
    and are left out (with a warning) otherwise.  No secret is in argv:
    the caller passes them as descriptors."""
    tlist = targets(props)
    portal, iqn, lun = tlist[0]
    args = ['attach', '-p', portal, '-T', iqn, '-l', str(lun),
            '--export', export_for(name, export), '--name', name, '--daemon', '--json']
    if iface:
        args += ['-I', iface]
    if chap_algorithms:
        args += ['--chap-algorithms', chap_algorithms]
    secrets = {}
    user, secret = chap(props)
    if user:
        args += ['--chap-user', user]
        secrets['chap'] = secret
    for p, i, n in tlist[1:]:
        if have_paths:
            args += ['--path', ','.join([p, i, str(n)] + ([iface] if iface else []))]
    if len(tlist) > 1 and not have_paths:
        LOG.warning('lunbridge: volume %s has %d portals; this lunbridge has no '
                    'multipath (--path), so only %s is used', name, len(tlist), portal)
    return args, secrets


def discover_args(props, portal, iface=None, chap_algorithms=None):
    """`lunbridge discover` for properties without a target IQN, with
    discovery_auth_* as its CHAP."""
    args = ['discover', '-p', portal, '--json']
    if iface and iface != 'auto':  # auto is attach's alone
        args += ['-I', iface]
    if chap_algorithms:
        args += ['--chap-algorithms', chap_algorithms]
    secrets = {}
    user, secret = chap(props, 'discovery_')
    if user:
        args += ['--chap-user', user]
        secrets['chap'] = secret
    return args, secrets


def iface_for(transport):
    """Nova's [libvirt]/iscsi_iface reaches the connector as transport;
    'default' (nothing set) becomes lunbridge's auto: the record the route
    to the portal leaves by, which is 'default' when none is bound."""
    if not transport or transport == 'default':
        return 'auto'
    return transport


def scrub(text, secrets):
    """TEXT with every secret replaced (for logs and exceptions)."""
    for s in (secrets or {}).values():
        if s:
            text = text.replace(s if isinstance(s, str) else s.decode(), '***')
    return text


def parse_initiatorname(text):
    for line in (text or '').splitlines():
        line = line.strip()
        if line.startswith('InitiatorName='):
            return line.split('=', 1)[1].strip() or None
    return None


# ---- the connector ----------------------------------------------------------

class LunbridgeConnector(base.BaseLinuxConnector):
    """Cinder's iSCSI volumes through lunbridge."""

    platform = initiator.PLATFORM_ALL
    os_type = initiator.OS_TYPE_LINUX

    def __init__(self, root_helper, driver=None, execute=None, use_multipath=False,
                 device_scan_attempts=initiator.DEVICE_SCAN_ATTEMPTS_DEFAULT,
                 transport='default', export=None, chap_algorithms=None, *args, **kwargs):
        super().__init__(root_helper, driver=driver, execute=execute,
                         device_scan_attempts=device_scan_attempts, *args, **kwargs)
        self.use_multipath = use_multipath
        self.iface = iface_for(transport)
        # ublk where the kernel has it, else the kernel's NBD device;
        # $LUNBRIDGE_OSBRICK_EXPORT or export= for anything else
        self.export = (export or os.environ.get('LUNBRIDGE_OSBRICK_EXPORT') or
                       ('ublk' if os.path.exists('/dev/ublk-control') else 'nbd'))
        self.chap_algorithms = (chap_algorithms or
                                os.environ.get('LUNBRIDGE_OSBRICK_CHAP_ALGORITHMS'))
        self._have_paths = None

    # -- properties

    @staticmethod
    def get_connector_properties(root_helper, *args, **kwargs):
        """The initiator name lunbridge logs in with, so that Cinder builds
        the target's ACL for it: the 'default' record's
        iface.initiatorname if set, else /etc/iscsi/initiatorname.iscsi
        ($LUNBRIDGE_INITIATORNAME_FILE), as lunbridge itself reads it."""
        props = {}
        rc, out, _ = priv.run(['iface', 'show', '-I', 'default', '--json'])
        name = None
        if rc == 0:
            try:
                name = json.loads(out).get('iface.initiatorname')
            except ValueError:
                name = None
        if not name:
            name = parse_initiatorname(priv.read_text(
                os.environ.get('LUNBRIDGE_INITIATORNAME_FILE') or INITIATORNAME_FILE))
        if name:
            props['initiator'] = name
        return props

    def get_search_path(self):
        return LINK_DIR

    # -- lunbridge

    def _run(self, args, secrets=None, check=True):
        rc, out, err = priv.run(args, secrets)
        # lunbridge's one line, without its "lunbridge: " (the exception
        # says it), and never a secret
        err = re.sub(r'(?m)^lunbridge: ', '', scrub(err, secrets))
        if check and rc != 0:
            raise LunbridgeError(reason='%s: %s' % (args[0], err.strip() or 'exit %d' % rc))
        return rc, out, err

    def _multipath(self):
        """Does this lunbridge take --path (multipath)?"""
        if self._have_paths is None:
            _, out, _ = self._run(['attach', '--help'], check=False)
            self._have_paths = '--path' in out
        return self._have_paths

    def _status(self, name):
        """The volume's `list --json` object, or None if not attached."""
        _, out, _ = self._run(['list', '--json'])
        for v in json.loads(out or '[]'):
            if v.get('name') == name:
                return v
        return None

    def _discover(self, props):
        """Properties without an IQN: the targets the portal names."""
        portal = props.get('target_portal') or (props.get('target_portals') or [None])[0]
        args, secrets = discover_args(props, portal, self.iface, self.chap_algorithms)
        _, out, _ = self._run(args, secrets)
        found = json.loads(out)
        if not found:
            raise exception.TargetPortalNotFound(target_portal=portal)
        props = dict(props)
        props['target_iqn'] = found[0].get('target') or found[0].get('name')
        return props

    # -- the contract

    # encrypted volumes: the symlink the encryptor owns, as the stock
    # connectors do
    @utils.connect_volume_prepare_result
    def connect_volume(self, connection_properties):
        props = connection_properties
        if not props.get('target_iqn') and not props.get('target_iqns'):
            props = self._discover(props)
        name = volume_name(props)
        export = export_for(name, self.export)
        ro = props.get('access_mode') == 'ro'
        if ro and not is_device_export(export):
            raise LunbridgeError(reason='volume %s: access_mode ro needs a block device '
                                 'export (ublk, nbd), not %s' % (name, export))
        args, secrets = attach_args(props, name, self.export, self.iface,
                                    self.chap_algorithms,
                                    have_paths=self.use_multipath and self._multipath())
        LOG.debug('lunbridge %s', ' '.join(args))
        _, out, _ = self._run(args, secrets)
        res = json.loads(out.strip().splitlines()[-1])
        if res.get('already_attached'):
            LOG.info('lunbridge: volume %s was attached already', name)
        device = res.get('device')
        if ro and device:
            rc, err = priv.set_read_only(device)
            if rc != 0:
                raise LunbridgeError(reason='volume %s: blockdev --setro %s: %s'
                                     % (name, device, err.strip()))
        info = {'scsi_wwn': res.get('wwn'), 'lunbridge_name': name}
        if device:
            link = res.get('link') or os.path.join(LINK_DIR, name)
            # udev makes the link; a host without lunbridge's rule has the
            # device alone
            info.update(type='block', path=link if os.path.exists(link) else device)
        else:
            # an NBD server (tests, or qemu's own NBD client): its URI
            info.update(type='nbd', path=res.get('uri'))
        return info

    @utils.connect_volume_undo_prepare_result(unlink_after=True)
    def disconnect_volume(self, connection_properties, device_info, force=False,
                          ignore_errors=False):
        """Detach (flush, logout, device removed).  force: even while the
        device is open or mounted; ignore_errors (with force): log a
        failure instead of raising it, as os-brick defines them."""
        name = (device_info or {}).get('lunbridge_name') or volume_name(connection_properties)
        args = ['detach', '--if-attached', name] + (['--force'] if force else [])
        rc, out, err = self._run(args, check=False)
        if rc == 0:
            LOG.debug('lunbridge: %s', out.strip() or 'volume %s was not attached' % name)
            return
        msg = err.strip() or 'volume %s: detach exited %d' % (name, rc)
        if force and ignore_errors:
            LOG.warning('lunbridge: %s (ignored)', msg)
            return
        raise LunbridgeError(reason=msg)

    def get_volume_paths(self, connection_properties):
        name = volume_name(connection_properties)
        link = os.path.join(LINK_DIR, name)
        if os.path.exists(link):
            return [link]
        v = self._status(name)
        if v and (v.get('device') or v.get('export')):
            return [v.get('device') or v['export']]  # an NBD server: its URI
        return []

    @utils.connect_volume_undo_prepare_result
    def extend_volume(self, connection_properties):
        """The size the volume serves.  lunbridge reads a LUN's capacity at
        attach; a LUN grown since is refused until it is attached again."""
        name = volume_name(connection_properties)
        v = self._status(name)
        if not v:
            raise LunbridgeError(reason='volume %s is not attached' % name)
        portal, iqn, lun = targets(connection_properties)[0]
        user, secret = chap(connection_properties)
        args = ['luns', '-p', portal, '-T', iqn, '--json', '-I', v.get('iface') or 'default']
        if self.chap_algorithms:
            args += ['--chap-algorithms', self.chap_algorithms]
        if user:
            args += ['--chap-user', user]
        _, out, _ = self._run(args, {'chap': secret} if user else None)
        now = next((x.get('size') for x in json.loads(out) if x.get('lun') == lun), None)
        if now is not None and now != v.get('size'):
            raise LunbridgeError(
                reason='volume %s: the LUN has %s bytes, the device %s; lunbridge '
                       'serves the size it attached with: detach and attach again'
                       % (name, now, v.get('size')))
        return v.get('size')

    def check_valid_device(self, path, run_as_root=True):
        return priv.read_first_block(path)

    def get_all_available_volumes(self, connection_properties=None):
        return super().get_all_available_volumes(connection_properties)
