# -*- coding: utf-8 -*-
# Copyright: routednet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Quick checks of IPv4 texts that are already canonical.

A call for a large cluster carries tens of thousands of addresses; ipaddress costs
~5 us for each. These accept exactly the canonical texts (what the collection's own
planning writes) and return None for anything else, which the caller then hands to
ipaddress, so that what is accepted and how an error is worded do not change.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import socket


def canonical_address(text):
    """``text`` when it is an IPv4 address in canonical dotted-quad form, else None."""
    try:
        return text if socket.inet_ntoa(socket.inet_pton(socket.AF_INET, text)) == text else None
    except (OSError, TypeError, ValueError):
        return None


def canonical_network(text):
    """``text`` when it is an IPv4 network ``address/length`` in canonical form with no
    host bits set, else None."""
    if not isinstance(text, str):
        return None
    address, _slash, length = text.partition("/")
    if not length.isdigit() or str(int(length)) != length or int(length) > 32 or canonical_address(address) is None:
        return None
    host_bits = (1 << (32 - int(length))) - 1
    return None if int.from_bytes(socket.inet_aton(address), "big") & host_bits else text
