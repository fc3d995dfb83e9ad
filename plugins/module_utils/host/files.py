# -*- coding: utf-8 -*-
# Copyright: routednet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reading and writing the collection's files on a host: the sysctl.d file, the files
container runtimes read, the boot restore's state and program."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

TMP_SUFFIX = ".routednet-tmp"


def read_text(path):
    """The file's text, or None when there is none. (A file that is not UTF-8 text raises
    ValueError: it exists, and is nobody's to overwrite.)"""
    try:
        with open(path) as handle:
            return handle.read()
    except (IOError, OSError):
        return None


def read_bytes(path):
    """The file's bytes, or None when there is none."""
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except (IOError, OSError):
        return None


def write_atomically(path, data, mode=0o644):
    """Write ``data`` (text or bytes) to ``path`` through a file beside it, then rename it
    into place: a reader sees the old file or the new one, never part of one. The
    directory is made (0755) where missing."""
    directory = os.path.dirname(path)
    if not os.path.isdir(directory):
        os.makedirs(directory, 0o755)
    tmp = path + TMP_SUFFIX
    with open(tmp, "wb") as handle:
        handle.write(data.encode("utf-8") if isinstance(data, str) else data)
        handle.flush()
        os.fsync(handle.fileno())
    os.chmod(tmp, mode)
    os.rename(tmp, path)
