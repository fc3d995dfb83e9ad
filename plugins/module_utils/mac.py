# -*- coding: utf-8 -*-
# Copyright: routednet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""MAC addresses derived from names: the same on every run and after a device is made
again, with no state to keep."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib


def stable_mac(seed):
    """A locally administered unicast MAC from the text ``seed``."""
    digest = bytearray(hashlib.sha256(seed.encode("utf-8")).digest()[:6])
    digest[0] = (digest[0] & 0xFC) | 0x02
    return ":".join("%02x" % b for b in digest)
