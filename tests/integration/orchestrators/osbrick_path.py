# SPDX-License-Identifier: GPL-2.0-or-later
"""Import the connector from packaging/os-brick as if it were installed in
python3-os-brick's package (which is where a deployment puts it): the two
files join os_brick's own packages through their __path__, and privsep
runs in this process (the tests run as root; no privsep daemon)."""
import os

import os_brick.initiator.connectors
import os_brick.privileged

SRC = os.environ.get('SRC') or os.path.abspath(
    os.path.join(os.path.dirname(__file__), '..', '..', '..'))
_PKG = os.path.join(SRC, 'packaging', 'os-brick', 'os_brick')
os_brick.privileged.__path__.append(os.path.join(_PKG, 'privileged'))
os_brick.initiator.connectors.__path__.append(os.path.join(_PKG, 'initiator', 'connectors'))
os_brick.privileged.default.set_client_mode(False)

from os_brick.initiator.connectors import lunbridge  # noqa: E402
from os_brick.privileged import lunbridge as priv  # noqa: E402

__all__ = ['lunbridge', 'priv']
