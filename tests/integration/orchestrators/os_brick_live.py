#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The os-brick connector against a real tgtd through lunbridge, run by
test-os-brick.sh (which starts tgtd with a CHAP account and sets the
environment): connect_volume returns a path that serves the LUN's bytes,
a second connect is harmless, the CHAP secret is in no process's argv and
in no log line, disconnect_volume removes the volume (twice is harmless),
a wrong secret fails with one line that does not hold it."""
import glob
import io
import json
import logging
import os
import stat
import subprocess
import unittest

from osbrick_path import lunbridge

E = os.environ
SECRET = E['OSB_SECRET']
PROPS = {'target_portal': E['TGT_PORTAL'], 'target_iqn': E['OSB_IQN'], 'target_lun': 1,
         'volume_id': 'a1b2c3d4-0000-4000-8000-000000000001', 'access_mode': 'rw',
         'auth_method': 'CHAP', 'auth_username': E['OSB_USER'], 'auth_password': SECRET}


def lunbridge_list():
    out = subprocess.run([E['LUNBRIDGE'], 'list', '--json'], capture_output=True,
                         check=True).stdout
    return {v['name']: v for v in json.loads(out)}


def argv_holding(secret):
    """The pids whose command line holds secret."""
    found = []
    for path in glob.glob('/proc/[0-9]*/cmdline'):
        try:
            with open(path, 'rb') as f:
                if secret.encode() in f.read():
                    found.append(path.split('/')[2])
        except OSError:
            pass
    return found


def read_uri(uri, length):
    """length bytes from the start of an NBD URI or a block device."""
    if uri.startswith('/dev/'):
        with open(uri, 'rb') as f:
            return f.read(length)
    import nbd
    h = nbd.NBD()
    h.connect_uri(uri)
    data = h.pread(length, 0)
    h.shutdown()
    return data


class Live(unittest.TestCase):
    def setUp(self):
        self.log = io.StringIO()
        handler = logging.StreamHandler(self.log)
        logging.getLogger().addHandler(handler)
        logging.getLogger().setLevel(logging.DEBUG)
        self.addCleanup(logging.getLogger().removeHandler, handler)
        # OSB_EXPORT (the kernel lab: nbd or ublk); else a kernel NBD
        # device when this host has one, else an NBD server
        export = E.get('OSB_EXPORT') or (
            'nbd' if os.path.exists('/dev/nbd0') else
            'nbd+unix:///{name}?socket=%s/{name}.sock' % E['TMP'])
        self.c = lunbridge.LunbridgeConnector(None, export=export, chap_algorithms='md5')

    def test_connect_disconnect(self):
        name = lunbridge.volume_name(PROPS)
        info = self.c.connect_volume(PROPS)
        self.assertEqual(info['lunbridge_name'], name)
        self.assertIn(info['type'], ('block', 'nbd'))
        if E.get('OSB_EXPORT'):
            # a kernel device, named as udev's rules name it
            self.assertEqual(info['type'], 'block')
            self.assertEqual(info['path'], '/dev/disk/by-lunbridge/' + name)
            self.assertTrue(stat.S_ISBLK(os.stat(info['path']).st_mode), info['path'])
            self.assertTrue(self.c.check_valid_device(info['path']))
        self.assertRegex(info['scsi_wwn'] or '', r'^3[0-9a-f]+$')
        with open(E['OSB_IMAGE'], 'rb') as f:
            want = f.read(1 << 20)
        self.assertEqual(read_uri(info['path'], 1 << 20), want, 'the LUN\'s first MiB')
        vols = lunbridge_list()
        self.assertEqual(list(vols), [name])
        pid = vols[name]['pid']

        self.assertEqual(argv_holding(SECRET), [], 'the CHAP secret in a command line')
        self.assertEqual(self.c.get_volume_paths(PROPS), [info['path']])
        self.assertTrue(self.c.check_valid_device(info['path']) or info['type'] == 'nbd')

        again = self.c.connect_volume(PROPS)
        self.assertEqual(again, info, 'a second connect returns the same')
        self.assertEqual(lunbridge_list()[name]['pid'], pid, 'and the same bridge')

        self.c.disconnect_volume(PROPS, info)
        self.assertEqual(lunbridge_list(), {}, 'disconnect_volume detached it')
        self.assertEqual(self.c.get_volume_paths(PROPS), [])
        self.assertFalse(os.path.exists('/dev/disk/by-lunbridge/' + name), 'the link is gone')
        self.c.disconnect_volume(PROPS, info)  # nothing there: harmless

        wrong = dict(PROPS, auth_password='Wr0ng-' + SECRET)
        with self.assertRaises(lunbridge.LunbridgeError) as cm:
            self.c.connect_volume(wrong)
        self.assertNotIn(wrong['auth_password'], str(cm.exception))
        self.assertRegex(str(cm.exception), 'login|auth', str(cm.exception))
        self.assertEqual(lunbridge_list(), {}, 'a failed connect leaves nothing')

        log = self.log.getvalue()
        self.assertIn('lunbridge attach', log, 'the debug log was captured')
        self.assertNotIn(SECRET, log, 'the secret in a log line')


if __name__ == '__main__':
    unittest.main(verbosity=2)
