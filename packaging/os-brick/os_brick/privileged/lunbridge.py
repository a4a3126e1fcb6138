# SPDX-License-Identifier: GPL-2.0-or-later
"""lunbridge's privileged half for os-brick: runs in the privsep daemon.

Installed as os_brick/privileged/lunbridge.py: oslo.privsep takes
entrypoints of os_brick.privileged.default only from modules below
os_brick.privileged, and the privsep daemon Nova and Cinder already start
(the rootwrap filter for privsep-helper with os_brick.privileged.default)
runs it as root with no new rootwrap rule.

CHAP secrets reach lunbridge through a descriptor: each is written into a
memfd (never a file on disk, no name another process could open) passed
to the child as --chap-secret-fd N, which reads it once and closes it.
Only the number is on the command line.
"""
import os
import subprocess

import os_brick.privileged

LUNBRIDGE = os.environ.get('LUNBRIDGE', 'lunbridge')

# option -> the connector's name for the secret it carries
_SECRET_OPTIONS = (
    ('chap', '--chap-secret-fd'),
    ('chap_target', '--chap-target-secret-fd'),
)


def _secret_fd(value):
    fd = os.memfd_create('lunbridge-chap', os.MFD_CLOEXEC)
    os.write(fd, value.encode() if isinstance(value, str) else value)
    # lunbridge reads from the descriptor's offset
    os.lseek(fd, 0, os.SEEK_SET)
    os.set_inheritable(fd, True)
    return fd


@os_brick.privileged.default.entrypoint
def run(args, secrets=None, timeout=None):
    """lunbridge ARGS (a list), with SECRETS ({'chap': ..., 'chap_target':
    ...}) as descriptors; returns (exit status, stdout, stderr)."""
    fds = []
    argv = [LUNBRIDGE] + list(args)
    try:
        for key, option in _SECRET_OPTIONS:
            if secrets and secrets.get(key):
                fd = _secret_fd(secrets[key])
                fds.append(fd)
                argv += [option, str(fd)]
        p = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True,
                           pass_fds=fds, timeout=timeout, check=False)
    except OSError as e:
        # no lunbridge here: an answer, not an exception that would take
        # get_connector_properties (every protocol's) down with it
        return 127, '', 'lunbridge: %s: %s' % (argv[0], e.strerror)
    finally:
        for fd in fds:
            os.close(fd)
    return p.returncode, p.stdout.decode(errors='replace'), \
        p.stderr.decode(errors='replace')


@os_brick.privileged.default.entrypoint
def read_first_block(path):
    """Whether the first 512 bytes of PATH can be read (check_valid_device)."""
    try:
        with open(path, 'rb', buffering=0) as f:
            f.read(512)
        return True
    except OSError:
        return False


@os_brick.privileged.default.entrypoint
def set_read_only(device):
    """BLKROSET on a block device: the kernel refuses writes to it."""
    p = subprocess.run(['blockdev', '--setro', device], capture_output=True, check=False)
    return p.returncode, p.stderr.decode(errors='replace')


@os_brick.privileged.default.entrypoint
def read_text(path):
    """A root-only file's text (/etc/iscsi/initiatorname.iscsi), or None."""
    try:
        with open(path, encoding='utf-8', errors='replace') as f:
            return f.read()
    except OSError:
        return None
