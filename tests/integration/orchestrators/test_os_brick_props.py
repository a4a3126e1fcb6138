#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The os-brick connector's mapping of Cinder's iSCSI connection
properties onto lunbridge (no target, no root): names, attach arguments,
multipath paths, CHAP kept out of argv, access_mode, the iface, and
disconnect's force/ignore_errors.  lunbridge itself is a stub here (the
privileged run() is replaced); test-os-brick.sh runs the real thing."""
import json
import sys
import unittest
from unittest import mock

try:
    from osbrick_path import lunbridge, priv
except ImportError as e:  # meson: 77 is a skip
    print('SKIP: %s (python3-os-brick; packaging/scripts/install-deps.sh)' % e)
    sys.exit(77)

ONE = {'target_portal': '10.0.0.5:3260', 'target_iqn': 'iqn.2010-10.org.openstack:volume-1',
       'target_lun': 1, 'volume_id': '8c3b2a52-6a2e-4b4d-9bd7-0f6f0b2f0a11',
       'auth_method': 'CHAP', 'auth_username': 'u1', 'auth_password': 'S3cr3t-pw',
       'access_mode': 'rw'}
MULTI = {'target_portals': ['10.0.1.5:3260', '10.0.2.5:3260'],
         'target_iqns': ['iqn.a:t1', 'iqn.a:t2'], 'target_luns': [3, 4],
         'target_portal': '10.0.1.5:3260', 'target_iqn': 'iqn.a:t1', 'target_lun': 3}


class Names(unittest.TestCase):
    def test_volume_id(self):
        self.assertEqual(lunbridge.volume_name(ONE), 'cinder-8c3b2a52-6a2e-4b4d-9bd7-0f6f0b2f0a11')

    def test_without_volume_id(self):
        p = dict(ONE)
        del p['volume_id']
        self.assertEqual(lunbridge.volume_name(p), 'volume-1-1')

    def test_sanitized_and_bounded(self):
        n = lunbridge.volume_name({'volume_id': '/x y' * 40, **MULTI})
        self.assertLessEqual(len(n), 64)
        self.assertRegex(n, r'^[A-Za-z0-9_][A-Za-z0-9_.:-]*$')


class Targets(unittest.TestCase):
    def test_single(self):
        self.assertEqual(lunbridge.targets(ONE),
                         [('10.0.0.5:3260', 'iqn.2010-10.org.openstack:volume-1', 1)])

    def test_plural(self):
        self.assertEqual(lunbridge.targets(MULTI),
                         [('10.0.1.5:3260', 'iqn.a:t1', 3), ('10.0.2.5:3260', 'iqn.a:t2', 4)])

    def test_one_iqn_for_every_portal(self):
        p = {'target_portals': ['a:1', 'b:1'], 'target_iqn': 'iqn.x', 'target_lun': 0}
        self.assertEqual(lunbridge.targets(p), [('a:1', 'iqn.x', 0), ('b:1', 'iqn.x', 0)])

    def test_lengths_differ(self):
        with self.assertRaises(lunbridge.LunbridgeError):
            lunbridge.targets({'target_portals': ['a', 'b'], 'target_iqns': ['x'],
                               'target_luns': [1, 2]})

    def test_nothing(self):
        with self.assertRaises(lunbridge.LunbridgeError):
            lunbridge.targets({'target_iqn': 'iqn.x', 'target_lun': 1})


class AttachArgs(unittest.TestCase):
    def test_single_with_chap(self):
        args, secrets = lunbridge.attach_args(ONE, 'v', 'ublk', 'auto', 'md5')
        self.assertEqual(args, ['attach', '-p', '10.0.0.5:3260', '-T',
                                'iqn.2010-10.org.openstack:volume-1', '-l', '1',
                                '--export', 'ublk', '--name', 'v', '--daemon', '--json',
                                '-I', 'auto', '--chap-algorithms', 'md5', '--chap-user', 'u1'])
        self.assertEqual(secrets, {'chap': 'S3cr3t-pw'})
        self.assertNotIn('S3cr3t-pw', ' '.join(args))

    def test_paths_when_multipath(self):
        args, _ = lunbridge.attach_args(MULTI, 'v', 'nbd', 'rec-a', have_paths=True)
        self.assertEqual(args[args.index('--path') + 1], '10.0.2.5:3260,iqn.a:t2,4,rec-a')
        self.assertEqual(args.count('--path'), 1)

    def test_no_paths_without_multipath(self):
        with self.assertLogs(lunbridge.LOG.logger, 'WARNING') as logs:
            args, _ = lunbridge.attach_args(MULTI, 'v', 'nbd', None, have_paths=False)
        self.assertNotIn('--path', args)
        self.assertIn('only 10.0.1.5:3260 is used', logs.output[0])

    def test_socket_template(self):
        args, _ = lunbridge.attach_args(ONE, 'v9', 'nbd+unix:///{name}?socket=/run/x/{name}.sock')
        self.assertIn('nbd+unix:///v9?socket=/run/x/v9.sock', args)

    def test_auth_none_and_unknown(self):
        p = dict(ONE, auth_method='None')
        self.assertNotIn('--chap-user', lunbridge.attach_args(p, 'v', 'nbd')[0])
        with self.assertRaises(lunbridge.LunbridgeError):
            lunbridge.attach_args(dict(ONE, auth_method='KRB5'), 'v', 'nbd')
        with self.assertRaises(lunbridge.LunbridgeError):
            lunbridge.attach_args(dict(ONE, auth_password=''), 'v', 'nbd')

    def test_discovery_chap(self):
        p = dict(ONE, discovery_auth_method='CHAP', discovery_auth_username='d',
                 discovery_auth_password='DiscPw')
        args, secrets = lunbridge.discover_args(p, '10.0.0.5:3260', 'auto')
        self.assertEqual(args, ['discover', '-p', '10.0.0.5:3260', '--json', '--chap-user', 'd'])
        self.assertEqual(secrets, {'chap': 'DiscPw'})

    def test_iface_from_nova_transport(self):
        self.assertEqual(lunbridge.iface_for('default'), 'auto')
        self.assertEqual(lunbridge.iface_for(None), 'auto')
        self.assertEqual(lunbridge.iface_for('storage0'), 'storage0')


def result(**kw):
    r = {'name': 'n', 'device': '/dev/nbd3', 'uri': None, 'link': '/dev/disk/by-lunbridge/n',
         'wwn': '36001405abcdef', 'already_attached': False}
    r.update(kw)
    return 0, json.dumps(r) + '\n', ''


class Connector(unittest.TestCase):
    def setUp(self):
        self.calls = []
        self.answers = {}
        p = mock.patch.object(priv, 'run', side_effect=self.run_stub)
        p.start()
        self.addCleanup(p.stop)

    def run_stub(self, args, secrets=None, timeout=None):
        self.calls.append((list(args), dict(secrets or {})))
        return self.answers.get(args[0], (0, '', ''))

    def conn(self, **kw):
        return lunbridge.LunbridgeConnector(None, export=kw.pop('export', 'nbd'), **kw)

    def test_connect_block(self):
        self.answers['attach'] = result()
        with mock.patch('os.path.exists', return_value=True):
            info = self.conn().connect_volume(ONE)
        self.assertEqual(info, {'type': 'block', 'path': '/dev/disk/by-lunbridge/n',
                                'scsi_wwn': '36001405abcdef',
                                'lunbridge_name': lunbridge.volume_name(ONE)})
        args, secrets = self.calls[-1]
        self.assertEqual(secrets, {'chap': 'S3cr3t-pw'})
        self.assertNotIn('S3cr3t-pw', repr(args))

    def test_connect_ro_on_a_socket_refused(self):
        with self.assertRaisesRegex(lunbridge.LunbridgeError, 'access_mode ro'):
            self.conn(export='nbd+unix:///{name}?socket=/tmp/{name}').connect_volume(
                dict(ONE, access_mode='ro'))
        self.assertEqual(self.calls, [])

    def test_connect_ro_sets_the_device_read_only(self):
        self.answers['attach'] = result()
        with mock.patch.object(priv, 'set_read_only', return_value=(0, '')) as ro, \
                mock.patch('os.path.exists', return_value=True):
            self.conn().connect_volume(dict(ONE, access_mode='ro'))
        ro.assert_called_once_with('/dev/nbd3')

    def test_connect_failure_scrubs_the_secret(self):
        self.answers['attach'] = (1, '', 'lunbridge: login failed for S3cr3t-pw\n')
        with self.assertRaises(lunbridge.LunbridgeError) as cm:
            self.conn().connect_volume(ONE)
        self.assertNotIn('S3cr3t-pw', str(cm.exception))

    def test_disconnect(self):
        self.conn().disconnect_volume(ONE, {'lunbridge_name': 'x'})
        self.assertEqual(self.calls[-1][0], ['detach', '--if-attached', 'x'])
        self.conn().disconnect_volume(ONE, None, force=True)
        self.assertEqual(self.calls[-1][0],
                         ['detach', '--if-attached', lunbridge.volume_name(ONE), '--force'])

    def test_disconnect_errors(self):
        self.answers['detach'] = (1, '', 'lunbridge: volume x: mounted on /mnt\n')
        with self.assertRaisesRegex(lunbridge.LunbridgeError, 'mounted on /mnt'):
            self.conn().disconnect_volume(ONE, {'lunbridge_name': 'x'})
        # force without ignore_errors still raises; with it, logs
        with self.assertRaises(lunbridge.LunbridgeError):
            self.conn().disconnect_volume(ONE, {'lunbridge_name': 'x'}, force=True)
        self.conn().disconnect_volume(ONE, {'lunbridge_name': 'x'}, force=True,
                                      ignore_errors=True)

    def test_connector_properties(self):
        self.answers['iface'] = (0, json.dumps({'iface.initiatorname': None}), '')
        with mock.patch.object(priv, 'read_text',
                               return_value='## x\nInitiatorName=iqn.1993-08.org.debian:01:ab\n'):
            props = lunbridge.LunbridgeConnector.get_connector_properties(None)
        self.assertEqual(props, {'initiator': 'iqn.1993-08.org.debian:01:ab'})
        self.answers['iface'] = (0, json.dumps({'iface.initiatorname': 'iqn.rec'}), '')
        self.assertEqual(lunbridge.LunbridgeConnector.get_connector_properties(None),
                         {'initiator': 'iqn.rec'})

    def test_extend_refuses_a_grown_lun(self):
        self.answers['list'] = (0, json.dumps([{'name': lunbridge.volume_name(ONE),
                                                'size': 100, 'iface': 'default'}]), '')
        self.answers['luns'] = (0, json.dumps([{'lun': 1, 'size': 200}]), '')
        with self.assertRaisesRegex(lunbridge.LunbridgeError, 'has 200 bytes, the device 100'):
            self.conn().extend_volume(ONE)
        self.answers['luns'] = (0, json.dumps([{'lun': 1, 'size': 100}]), '')
        self.assertEqual(self.conn().extend_volume(ONE), 100)

    def test_is_an_initiator_connector(self):
        from os_brick.initiator import initiator_connector
        self.assertTrue(issubclass(lunbridge.LunbridgeConnector,
                                   initiator_connector.InitiatorConnector))
        self.assertEqual(self.conn().get_search_path(), '/dev/disk/by-lunbridge')


class Privileged(unittest.TestCase):
    def test_no_lunbridge_is_an_answer(self):
        with mock.patch.object(priv, 'LUNBRIDGE', '/nonexistent/lunbridge'):
            rc, out, err = priv.run(['list', '--json'])
        self.assertEqual((rc, out), (127, ''))
        self.assertIn('/nonexistent/lunbridge', err)

    def test_secret_by_descriptor(self):
        """The secret reaches the child in a memfd it reads by number
        (--chap-secret-fd N); only the number is in argv."""
        with mock.patch.object(priv, 'LUNBRIDGE', '/bin/sh'):
            rc, out, _ = priv.run(['-c', 'echo "$@"; readlink /proc/self/fd/$2; cat <&$2; echo;'
                                   ' readlink /proc/self/fd/$4; cat <&$4', 'sh'],
                                  {'chap': 'S3cr3t', 'chap_target': 'T4rg3t'})
        argv, link, value, tlink, tvalue = out.split('\n')[:5]
        self.assertRegex(argv, r'^--chap-secret-fd [0-9]+ --chap-target-secret-fd [0-9]+$')
        self.assertTrue(link.startswith('/memfd:'), link)
        self.assertTrue(tlink.startswith('/memfd:'), tlink)
        self.assertEqual((rc, value, tvalue), (0, 'S3cr3t', 'T4rg3t'))


class Wiring(unittest.TestCase):
    """packaging/os-brick's patch applies to the installed os-brick, and the
    patched connector map builds this connector for ISCSI (what Nova's
    iSCSI volume driver and Cinder ask for) and asks it for properties."""

    def test_patch(self):
        import importlib.util
        import os
        import shutil
        import subprocess
        import tempfile
        import os_brick.initiator.connector as orig
        from osbrick_path import SRC
        with tempfile.TemporaryDirectory() as d:
            os.makedirs(os.path.join(d, 'os_brick', 'initiator'))
            dst = os.path.join(d, 'os_brick', 'initiator', 'connector.py')
            shutil.copy(orig.__file__, dst)
            patch = os.path.join(SRC, 'packaging', 'os-brick', 'os-brick-6.1-connector-map.patch')
            with open(patch, 'rb') as f:
                subprocess.run(['patch', '-s', '-p1', '-d', d], stdin=f, check=True)
            spec = importlib.util.spec_from_file_location('os_brick.initiator.patched', dst)
            m = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(m)
        c = m.InitiatorConnector.factory('ISCSI', None, transport='storage0', export='nbd')
        self.assertIsInstance(c, lunbridge.LunbridgeConnector)
        self.assertEqual(c.iface, 'storage0')
        self.assertIn('os_brick.initiator.connectors.lunbridge.LunbridgeConnector',
                      m.unix_connector_list)


if __name__ == '__main__':
    unittest.main(verbosity=2)
