# -*- coding: utf-8 -*-
# Copyright: routednet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Netlink in bulk: many requests per write, dumps the kernel filters, a light parser.

A node of a large cluster holds one route per peer (with a tunnel that keeps per-peer
entries, one neighbour and one FDB entry more). One pyroute2 request per entry waits for
each acknowledgement and costs about 150 us of Python encoding; ``ip -batch`` costs ~12 us. The few
fixed-layout messages the collection sends by the thousand (IPv4 and IPv6 routes,
neighbour and FDB entries) are therefore packed here with ``struct``, written in
chunks on the pyroute2 socket already open in the right namespace, and every
acknowledgement is read back and matched to its request by sequence number. The
dumps ask the kernel to filter (our protocol's routes, one device's entries), so a
converged host's check reads only what the collection owns.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import gc
import os
import socket
import struct

from ansible_collections.routednet.fabric.plugins.module_utils.host import netlink
from ansible_collections.routednet.fabric.plugins.module_utils.host.netlink import AF_INET, AF_INET6, RTN_UNICAST, RTNH_F_ONLINK

NLMSG_NOOP = 1
NLMSG_ERROR = 2
NLMSG_DONE = 3
NLM_F_REQUEST = 0x1
NLM_F_ACK = 0x4
NLM_F_DUMP = 0x300
NLM_F_REPLACE = 0x100
NLM_F_CREATE = 0x400
NLM_F_APPEND = 0x800

RTM_NEWROUTE, RTM_DELROUTE, RTM_GETROUTE = 24, 25, 26
RTM_NEWNEIGH, RTM_DELNEIGH, RTM_GETNEIGH = 28, 29, 30
RTA_DST, RTA_OIF, RTA_GATEWAY, RTA_PRIORITY, RTA_TABLE = 1, 4, 5, 6, 15
NDA_DST, NDA_LLADDR, NDA_IFINDEX = 1, 2, 8

AF_BRIDGE = 7
RT_SCOPE_UNIVERSE, RT_SCOPE_LINK, RT_SCOPE_NOWHERE = 0, 253, 255
RT_TABLE_COMPAT = 252
NUD_PERMANENT = 0x80
NTF_SELF = 0x2

SOL_NETLINK = 270
NETLINK_GET_STRICT_CHK = 12

HEADER = struct.Struct("=IHHII")  # nlmsghdr: length, type, flags, sequence, port
RTMSG = struct.Struct("=BBBBBBBBI")  # family, dst_len, src_len, tos, table, protocol, scope, type, flags
NDMSG = struct.Struct("=BxxxiHBB")  # family, ifindex, state, flags, type
ATTR = struct.Struct("=HH")
U32 = struct.Struct("=I")
ERRNO = struct.Struct("=i")

# Requests per write: should all be refused, their answers (~1 KiB of receive buffer
# each) must fit in the socket's receive buffer, or the kernel drops some and we
# cannot know which requests were applied.
MAX_CHUNK = 500
ACK_BUFFER_COST = 4096
FIRST_SEQUENCE = 0x40000000  # far from the sequence numbers pyroute2 uses on the same socket


class BulkError(Exception):
    """The socket failed outside any one request (not a refusal of a request)."""


class Refused(Exception):
    """The kernel refused ``change``; ``error`` is a NetlinkError saying why."""

    def __init__(self, change, error):
        super(Refused, self).__init__(change.what(), error)
        self.what, self.error = change.what(), error


class Change(object):
    """One request of a bulk apply, with what it does and how to take it back.

    ``what()`` words it; ``inverse()`` returns (words, request) that undo it, or None.
    Both are called only when needed (a refusal, a rollback): a large call builds
    thousands of changes and most never need either. ``harmless`` holds the errno
    values that mean the change was already made (an entry to delete that is gone)."""

    __slots__ = ("request", "what", "inverse", "harmless")

    def __init__(self, request, what, inverse=None, harmless=()):
        self.request, self.what, self.inverse, self.harmless = request, what, inverse, harmless


class _UndoText(object):
    """The words of an undo step, worked out when printed."""

    def __init__(self, change):
        self.change = change

    def __str__(self):
        return self.change.inverse()[0]


def _attr(kind, payload):
    length = ATTR.size + len(payload)
    return ATTR.pack(length, kind) + payload + b"\0" * (-length % 4)


def address_family(text):
    """AF_INET6 for an IPv6 address (or network) written as text, AF_INET otherwise."""
    return AF_INET6 if ":" in text else AF_INET


def _ip(text):
    return socket.inet_pton(address_family(text), text)


def _mac(text):
    return bytes.fromhex(text.replace(":", ""))


def route_message(kind, route, proto, oif=None):
    """The body (after nlmsghdr) of an RTM_NEWROUTE/RTM_DELROUTE for one of our routes
    (IPv4 or IPv6, by its destination).

    A delete names the table, destination, metric and our protocol, so the kernel
    never removes a route of another protocol in its place; any scope matches."""
    address, _slash, length = route["dst"].partition("/")
    head, tail = _route_parts(kind, route["table"], proto, route.get("metric") or 0, route.get("via"), oif, bool(route.get("onlink")))
    return RTMSG.pack(address_family(address), int(length), *head) + _attr(RTA_DST, _ip(address)) + tail


_ROUTE_PARTS = {}


def _route_parts(kind, table, proto, metric, via, oif, onlink):
    """What a route message holds besides its destination; the routes of one call
    share it, so it is packed once."""
    key = (kind, table, proto, metric, via, oif, onlink)
    if key not in _ROUTE_PARTS:
        # a delete matches any scope; a route via a gateway is global, one without is on-link
        scope = RT_SCOPE_NOWHERE if kind == RTM_DELROUTE else (RT_SCOPE_UNIVERSE if via else RT_SCOPE_LINK)
        flags = RTNH_F_ONLINK if onlink and kind == RTM_NEWROUTE else 0
        head = (0, 0, table if table < 256 else RT_TABLE_COMPAT, proto, scope, RTN_UNICAST, flags)
        tail = _attr(RTA_TABLE, U32.pack(table))
        if metric:
            tail += _attr(RTA_PRIORITY, U32.pack(metric))
        if kind == RTM_NEWROUTE:
            if via:
                tail += _attr(RTA_GATEWAY, _ip(via))
            if oif is not None:
                tail += _attr(RTA_OIF, U32.pack(oif))
        _ROUTE_PARTS[key] = (head, tail)
    return _ROUTE_PARTS[key]


# ndmsg, then attributes: NDA_DST (4 or 16 bytes), NDA_LLADDR (6 bytes, padded to 8)
NEIGHBOUR = struct.Struct("=BxxxiHBB HH4s HH6sxx")
NEIGHBOUR_DEL = struct.Struct("=BxxxiHBB HH4s")
NEIGHBOUR6 = struct.Struct("=BxxxiHBB HH16s HH6sxx")
NEIGHBOUR6_DEL = struct.Struct("=BxxxiHBB HH16s")
FDB = struct.Struct("=BxxxiHBB HH6sxx HH4s")
FDB6 = struct.Struct("=BxxxiHBB HH6sxx HH16s")


def neighbour_message(index, ip, mac=None):
    """A permanent neighbour entry (IPv4 or IPv6, by ``ip``) on device ``index``
    (RTM_NEWNEIGH body; without ``mac``, the RTM_DELNEIGH body)."""
    if ":" in ip:
        if mac is None:
            return NEIGHBOUR6_DEL.pack(AF_INET6, index, NUD_PERMANENT, 0, 0, 20, NDA_DST, _ip(ip))
        return NEIGHBOUR6.pack(AF_INET6, index, NUD_PERMANENT, 0, 0, 20, NDA_DST, _ip(ip), 10, NDA_LLADDR, _mac(mac))
    if mac is None:
        return NEIGHBOUR_DEL.pack(AF_INET, index, NUD_PERMANENT, 0, 0, 8, NDA_DST, _ip(ip))
    return NEIGHBOUR.pack(AF_INET, index, NUD_PERMANENT, 0, 0, 8, NDA_DST, _ip(ip), 10, NDA_LLADDR, _mac(mac))


def fdb_message(index, mac, dst):
    """A permanent FDB entry of a tunnel device: ``mac`` behind the remote end ``dst``
    (an IPv4 or IPv6 underlay address)."""
    if ":" in dst:
        return FDB6.pack(AF_BRIDGE, index, NUD_PERMANENT, NTF_SELF, 0, 10, NDA_LLADDR, _mac(mac), 20, NDA_DST, _ip(dst))
    return FDB.pack(AF_BRIDGE, index, NUD_PERMANENT, NTF_SELF, 0, 10, NDA_LLADDR, _mac(mac), 8, NDA_DST, _ip(dst))


def attributes(buf, offset, end):
    """{type: payload} of the netlink attributes in buf[offset:end] (the last of a type wins)."""
    found = {}
    while offset + ATTR.size <= end:
        length, kind = ATTR.unpack_from(buf, offset)
        if length < ATTR.size:
            break
        found[kind & 0x3FFF] = buf[offset + ATTR.size : offset + length]
        offset += (length + 3) & ~3
    return found


def _ip_text(payload):
    if payload is None or len(payload) not in (4, 16):
        return None
    return socket.inet_ntop(AF_INET if len(payload) == 4 else AF_INET6, payload)


def _mac_text(payload):
    return payload.hex(":") if payload else None


@contextlib.contextmanager
def no_collection_pauses():
    """Cyclic garbage collection off while tens of thousands of small objects that all
    stay alive are made: its passes would find nothing and cost a third of the time."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


class Channel(object):
    """Bulk requests and filtered dumps on the socket of an open pyroute2 IPRoute/NetNS.

    It shares that socket (a duplicate of its descriptor, so it sits in the same
    namespace and port) and uses it only while pyroute2 is not waiting for a reply."""

    def __init__(self, ipr):
        self.sock = socket.socket(fileno=os.dup(ipr.fileno()))
        self.sequence = FIRST_SEQUENCE
        buffer = self.sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
        self.chunk = max(16, min(MAX_CHUNK, buffer // ACK_BUFFER_COST))

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _next(self):
        self.sequence += 1
        return self.sequence

    def _message(self, kind, flags, body, sequence):
        return HEADER.pack(HEADER.size + len(body), kind, flags, sequence, 0) + body

    def _receive(self):
        data = self.sock.recv(1 << 20)
        if not data:
            raise BulkError("netlink socket closed")
        return data

    def send(self, requests, harmless=None):
        """Send ``requests`` ([(kind, flags, body)]) in chunks.

        Returns (done, refused): the indices of the requests the kernel applied, and
        (index, errno) of the first refusal or None; ``harmless(index, errno)`` says
        which errors are not refusals (neither done nor refused). The kernel answers a
        request only when it refuses it; each chunk ends with a no-op that it always
        answers, and that answer comes after those of every request before it. After
        a chunk with a refusal no further chunk is sent; requests of that chunk after
        the refused one may still have been applied, and are in ``done``."""
        done, refused = [], None
        for start in range(0, len(requests), self.chunk):
            batch = requests[start : start + self.chunk]
            first = self.sequence + 1
            messages = [self._message(kind, flags | NLM_F_REQUEST, body, self._next()) for kind, flags, body in batch]
            barrier = self._next()
            messages.append(self._message(NLMSG_NOOP, NLM_F_REQUEST | NLM_F_ACK, b"", barrier))
            self.sock.sendall(b"".join(messages))
            errors = {}
            while barrier is not None:
                data = self._receive()
                offset = 0
                while offset + HEADER.size <= len(data):
                    length, kind, _flags, sequence, _port = HEADER.unpack_from(data, offset)
                    if kind == NLMSG_ERROR and sequence == barrier:
                        barrier = None
                    elif kind == NLMSG_ERROR and first <= sequence < first + len(batch):
                        errors[start + sequence - first] = -ERRNO.unpack_from(data, offset + HEADER.size)[0]
                    offset += (length + 3) & ~3 if length else len(data)
            for index in range(start, start + len(batch)):
                error = errors.get(index)
                if not error:
                    done.append(index)
                elif refused is None and not (harmless and harmless(index, error)):
                    refused = (index, error)
            if refused is not None:
                break
        return done, refused

    def apply(self, changes, undo):
        """Apply ``changes`` ([Change]) in bulk; record in ``undo`` (a netlink.Undo) the
        inverse of each one applied; raise Refused at the first refusal (the caller
        rolls back)."""
        done, refused = self.send([c.request for c in changes], lambda i, error: error in changes[i].harmless)
        for index in done:
            change = changes[index]
            if change.inverse is not None:
                undo.did(_UndoText(change), lambda change=change: self.apply_one(change.inverse()[1]))
        if refused is not None:
            index, error = refused
            raise Refused(changes[index], netlink.NetlinkError(error, os.strerror(error)))

    def apply_one(self, request):
        """Send one request; raise NetlinkError when the kernel refuses it."""
        _done, refused = self.send([request])
        if refused is not None:
            raise netlink.NetlinkError(refused[1], os.strerror(refused[1]))

    def dump(self, kind, body):
        """Every message of a dump request, as (type, buffer, body offset, end)."""
        # strict checking makes the kernel apply the filters in ``body``; pyroute2
        # shares the socket and does not expect it, so it is only on for our dumps
        self.sock.setsockopt(SOL_NETLINK, NETLINK_GET_STRICT_CHK, 1)
        try:
            sequence = self._next()
            self.sock.sendall(self._message(kind, NLM_F_REQUEST | NLM_F_DUMP, body, sequence))
            found = []
            while True:
                data = self._receive()
                offset = 0
                while offset + HEADER.size <= len(data):
                    length, msg_type, _flags, msg_sequence, _port = HEADER.unpack_from(data, offset)
                    if msg_sequence == sequence:
                        if msg_type == NLMSG_DONE:
                            return found
                        if msg_type == NLMSG_ERROR:
                            error = -ERRNO.unpack_from(data, offset + HEADER.size)[0]
                            raise BulkError("dump refused: %s" % os.strerror(error))
                        found.append((msg_type, data, offset + HEADER.size, offset + length))
                    offset += (length + 3) & ~3 if length else len(data)
        finally:
            self.sock.setsockopt(SOL_NETLINK, NETLINK_GET_STRICT_CHK, 0)

    def routes(self, proto=0, table=0, family=AF_INET):
        """Unicast routes of ``family``, of one protocol and/or table if given (0: all), as
        dicts with dst, via, oif, onlink, metric, table, proto."""
        request = RTMSG.pack(family, 0, 0, 0, table if table < 256 else RT_TABLE_COMPAT, proto, 0, RTN_UNICAST, 0)
        if table:
            request += _attr(RTA_TABLE, U32.pack(table))
        found = []
        for msg_type, data, offset, end in self.dump(RTM_GETROUTE, request):
            if msg_type != RTM_NEWROUTE:
                continue
            msg_family, dst_len, _src, _tos, short_table, protocol, _scope, route_type, flags = RTMSG.unpack_from(data, offset)
            if msg_family != family or route_type != RTN_UNICAST:
                continue
            attrs = attributes(data, offset + RTMSG.size, end)
            found.append(
                {
                    "dst": "%s/%d" % (_ip_text(attrs.get(RTA_DST)) or ("0.0.0.0" if family == AF_INET else "::"), dst_len),
                    "via": _ip_text(attrs.get(RTA_GATEWAY)),
                    "oif": U32.unpack(attrs[RTA_OIF])[0] if RTA_OIF in attrs else None,
                    "onlink": bool(flags & RTNH_F_ONLINK),
                    "metric": U32.unpack(attrs[RTA_PRIORITY])[0] if RTA_PRIORITY in attrs else 0,
                    "table": U32.unpack(attrs[RTA_TABLE])[0] if RTA_TABLE in attrs else short_table,
                    "proto": protocol,
                }
            )
        return found

    def neighbours(self, index, family=AF_INET):
        """Entries of device ``index``: [(state, flags, ip or None, mac or None)]; with
        family AF_BRIDGE the device's FDB (ip is the remote VTEP)."""
        request = NDMSG.pack(family, 0, 0, 0, 0) + _attr(NDA_IFINDEX, U32.pack(index))
        found = []
        for msg_type, data, offset, end in self.dump(RTM_GETNEIGH, request):
            if msg_type != RTM_NEWNEIGH:
                continue
            msg_family, msg_index, state, flags, _type = NDMSG.unpack_from(data, offset)
            if msg_family != family or msg_index != index:
                continue
            attrs = attributes(data, offset + NDMSG.size, end)
            found.append((state, flags, _ip_text(attrs.get(NDA_DST)), _mac_text(attrs.get(NDA_LLADDR))))
        return found
