# -*- coding: utf-8 -*-
# Copyright: routednet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the running kernel offers: is a feature built in, loaded, or loadable.

Read from files only (/sys/module and the module index of the running release),
so asking never loads anything or changes the host.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.routednet.fabric.plugins.module_utils.backends import BACKENDS

SYS_MODULE = "/sys/module"
MODULES_ROOT = "/lib/modules"
MODULE_SUFFIXES = (".ko", ".ko.xz", ".ko.zst", ".ko.gz")

# Features a backend needs, as the kernel module that provides each.
FEATURES = tuple(sorted(set(feature for backend in BACKENDS.values() for feature, _config in backend.KERNEL)))


def _module_name(index_line):
    """'kernel/net/ipv4/ipip.ko.xz: deps' -> 'ipip' (module names use _ for -)."""
    base = os.path.basename(index_line.split(":", 1)[0].strip())
    for suffix in MODULE_SUFFIXES:
        if base.endswith(suffix):
            return base[: -len(suffix)].replace("-", "_")
    return None


def _listed(index, name):
    try:
        with open(index) as handle:
            return any(_module_name(line) == name for line in handle)
    except (IOError, OSError):
        return False


def feature_state(name, release=None, sys_module=SYS_MODULE, modules_root=MODULES_ROOT):
    """present (loaded, or built in with parameters), builtin, module (loadable) or missing."""
    release = release or os.uname()[2]
    if os.path.isdir(os.path.join(sys_module, name)):
        return "present"
    index_dir = os.path.join(modules_root, release)
    if _listed(os.path.join(index_dir, "modules.builtin"), name):
        return "builtin"
    if _listed(os.path.join(index_dir, "modules.dep"), name):
        return "module"
    return "missing"


def features(release=None):
    release = release or os.uname()[2]
    return dict((name, feature_state(name, release)) for name in FEATURES)
