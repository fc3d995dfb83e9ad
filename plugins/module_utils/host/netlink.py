# -*- coding: utf-8 -*-
# Copyright: routednet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Netlink access shared by every routednet.fabric module.

One place that imports pyroute2, opens a socket in the right network
namespace and turns kernel errors into messages that name the object.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import ctypes
import json
import os
import shutil
import sys
import zipfile
from ansible_collections.routednet.fabric.plugins.module_utils.outcome import Failure

# pyroute2 is imported by load() (require_pyroute2 calls it), not when this file is:
# the collection's private copy, if any, has to be put in place first, and code on the
# controller that shares these helpers needs no pyroute2 at all.
IPRoute = PYROUTE2_VERSION = None


class NetlinkError(Exception):
    """pyroute2's NetlinkError once load() ran; until then a stand-in, so that except
    clauses stay valid."""


# Every link the collection creates carries this alias (IFLA_IFALIAS); only
# links with it are ever changed in ways that could hurt an operator's own.
OWNER_ALIAS = "routednet.fabric"

# Every route the collection creates carries this protocol number; prune and
# absent only ever delete routes with it.  201 is unused by iproute2's
# rt_protos, Calico (80), kube-router (17), bird (12) and zebra (11).
ROUTEDNET_RT_PROTO = 201

AF_INET = 2
AF_INET6 = 10
IFF_UP = 0x1
RTNH_F_ONLINK = 0x4
RT_TABLE_MAIN = 254
RTN_UNICAST = 1


# The oldest pyroute2 the modules work with: Debian 12's. 0.5 and 0.6 (RHEL 9's EPEL,
# Ubuntu 22.04) ignore the interface filter of address dumps; such hosts get the
# private copy below.
MIN_PYROUTE2 = (0, 7, 2)

# Where the collection keeps its own copy of pyroute2 on a host whose Python has none
# that works: pyroute2 is pure Python, so the controller ships the one it runs (see the
# node_facts action plugin). A fixed path, because the modules and the boot-time restore
# must find it before they read any option; the mark file inside makes it ours.
PRIVATE_LIBRARY = "/usr/local/lib/routednet-pyroute2"
PRIVATE_MARK = ".routednet-pyroute2.json"

# Where named network namespaces are (ip netns, pyroute2's netns, podman, CNI).
NETNS_DIR = "/run/netns"

# routednet_pyroute2_install: where a host's pyroute2 comes from (docs: doc_fragments/pyroute2.py)
PYROUTE2_INSTALL = ("auto", "distro", "private", "none")
# The options of the calls that may run on the private copy (node_facts, node_state;
# documented in the doc fragment routednet.fabric.pyroute2).
PYROUTE2_OPTIONS = dict(
    pyroute2_install=dict(type="str", default="auto", choices=list(PYROUTE2_INSTALL)),
    pyroute2_archive=dict(type="path"),
)

LOADED = {}  # what load() found: source (system/private/none), version, usable, problem


def version_tuple(text):
    parts = []
    for piece in str(text).split(".")[:3]:
        digits = "".join(ch for ch in piece if ch.isdigit())
        parts.append(int(digits or 0))
    return tuple(parts)


def private_version(directory=None):
    """The version of the private copy in ``directory`` (default PRIVATE_LIBRARY), or None when there is none of ours."""
    directory = directory or PRIVATE_LIBRARY
    try:
        with open(os.path.join(directory, PRIVATE_MARK)) as handle:
            version = str(json.load(handle)["version"])
    except (IOError, OSError, ValueError, KeyError, TypeError):
        return None
    return version if os.path.isdir(os.path.join(directory, version, "pyroute2")) else None


def installed_version(pyroute2):
    """pyroute2's version; Debian's 0.7.2 says "unknown" in __version__, its metadata knows."""
    text = str(getattr(pyroute2, "__version__", "") or "")
    if text and text[0].isdigit():
        return text
    found = _version_beside(getattr(pyroute2, "__path__", None) or [])
    if found:
        return found
    try:
        import importlib.metadata  # noqa: PLC0415  (only for a pyroute2 that does not know its version)

        return importlib.metadata.version("pyroute2")
    except Exception:  # no metadata (Python < 3.8 has no importlib.metadata either)
        return text or "unknown"


def metadata_dirs(package_dir):
    """The names of the pyroute2-<version>.dist-info (or .egg-info) directories beside the
    package directory ``package_dir``, sorted; [] when it cannot be read."""
    parent = os.path.dirname(os.path.abspath(package_dir))
    try:
        names = os.listdir(parent)
    except OSError:
        return []
    return sorted(name for name in names if name.startswith("pyroute2-") and name.endswith((".dist-info", ".egg-info")))


def metadata_version(name):
    """The version a metadata directory's name gives (``pyroute2-0.6.9-py3.9.egg-info``: 0.6.9)."""
    return name[len("pyroute2-") :].rsplit(".", 1)[0].split("-")[0]


def _version_beside(package_dirs):
    """The version in the name of the one pyroute2-<version>.dist-info (or .egg-info)
    beside the package, which is what importlib.metadata would read - without importing
    it and scanning every path entry (about 20 ms of each call's start-up). None when
    there is none, or more than one to choose from."""
    for package_dir in package_dirs:
        found = metadata_dirs(package_dir)
        if len(found) == 1 and metadata_version(found[0])[:1].isdigit():
            return metadata_version(found[0])
    return None


def load(use_private=True, private_dir=None):
    """Import pyroute2, once: the private copy when there is one (and ``use_private``),
    else the Python's own. Returns LOADED; never raises."""
    global IPRoute, PYROUTE2_VERSION, NetlinkError
    if LOADED:
        return LOADED
    source = "system"
    private_dir = private_dir or PRIVATE_LIBRARY
    private = private_version(private_dir) if use_private else None
    if private:
        sys.path.insert(0, os.path.join(private_dir, private))
        source = "private"
    try:
        # here, not at the top: the private copy's directory must be on the path first
        pyroute2, iproute, error_class = _import_pyroute2()
    except ImportError as exc:
        LOADED.update(source="none", version=None, usable=False, problem="no pyroute2 (%s)" % exc)
        return LOADED
    version = installed_version(pyroute2)
    LOADED.update(source=source, version=version, usable=version_tuple(version) >= MIN_PYROUTE2, problem=None)
    if not LOADED["usable"]:
        LOADED["problem"] = "pyroute2 %s, older than %s" % (version, ".".join(map(str, MIN_PYROUTE2)))
        return LOADED
    IPRoute, PYROUTE2_VERSION, NetlinkError = iproute, version, error_class
    _short_attribute_names()
    return LOADED


def pyroute2_netns():
    """pyroute2's netns module (create, remove), imported only by a call that creates or
    removes a namespace: it loads ctypes.util and its helpers, a sixth of pyroute2's
    import time, which a converged host's calls never need. After load()."""
    from pyroute2 import netns as netns_module  # noqa: PLC0415

    return netns_module


def _import_whole():
    import pyroute2  # noqa: PLC0415
    from pyroute2 import IPRoute as iproute  # noqa: PLC0415
    from pyroute2.netlink.exceptions import NetlinkError as error_class  # noqa: PLC0415

    return pyroute2, iproute, error_class


class _NoLab(object):
    """What pyroute2 0.7's LAB_API is outside its documentation's sandbox (pyroute2.lab,
    use_mock false): a mixin that adds nothing. Its real module imports unittest.mock and
    with it asyncio and ssl, a third of pyroute2's import time, for that sandbox only."""


@contextlib.contextmanager
def _no_platform_programs():
    """While pyroute2 0.7's config is imported: platform.architecture() without running
    file(1) on the Python (the pointer size is all pyroute2 reads of it), and uname's
    processor field, which pyroute2 never reads, without running uname -p. Two programs
    less per call; pyroute2 0.9 asks platform the same way itself."""
    import platform  # noqa: PLC0415

    architecture = platform.architecture

    def pointer_size_only(executable="", bits="", linkage=""):
        return architecture("", bits, linkage)

    platform.architecture = pointer_size_only
    try:
        # (Python >= 3.9 finds the processor late, once, and keeps it in the cached uname)
        platform.uname().__dict__.setdefault("processor", "")
    except (AttributeError, TypeError):
        pass
    try:
        yield
    finally:
        platform.architecture = architecture


def _import_pyroute2():
    """pyroute2, its IPRoute and NetlinkError: all the modules use of it at start-up.

    pyroute2's own __init__ imports every part of it (NDB, asyncio, unittest.mock, and on
    0.7 every installed package's entry points): about 0.3 s of CPU, in each of the two
    calls per host and run, more than their netlink work. So the package is first put in
    place bare - its directory, not its __init__ - and only those parts are imported; on
    a pyroute2 that has pyroute2.lab (0.7, 0.8), with _NoLab in its place.
    A pyroute2 laid out otherwise, or whose version only its __init__ knows, is imported
    the ordinary way instead."""
    if "pyroute2" in sys.modules:
        return _import_whole()
    import importlib.util  # noqa: PLC0415
    import types  # noqa: PLC0415

    spec = importlib.util.find_spec("pyroute2")
    if spec is None or not spec.submodule_search_locations:
        return _import_whole()  # (which says what is missing)
    bare = types.ModuleType("pyroute2")
    bare.__path__, bare.__spec__, bare.__file__, bare.__package__ = list(spec.submodule_search_locations), spec, spec.origin, "pyroute2"
    sys.modules["pyroute2"] = bare
    lab = types.ModuleType("pyroute2.lab")
    lab.LAB_API, lab.use_mock, lab.registry = _NoLab, False, []
    sys.modules["pyroute2.lab"] = lab
    try:
        with _no_platform_programs():
            from pyroute2.iproute.linux import IPRoute as iproute  # noqa: PLC0415
        from pyroute2.netlink.exceptions import NetlinkError as error_class  # noqa: PLC0415

        try:
            from pyroute2.config.version import __version__ as version  # noqa: PLC0415
        except ImportError:  # Debian's 0.7.2 has none: its metadata knows (installed_version)
            version = "unknown"
        bare.__version__ = version
        # (kept on the package, so that load() does not look the metadata up again)
        bare.__version__ = installed_version(bare)
        if not bare.__version__[:1].isdigit():
            raise ImportError("pyroute2's version is known only to its __init__")
    except Exception:
        for name in [n for n in sys.modules if n == "pyroute2" or n.startswith("pyroute2.")]:
            del sys.modules[name]
        return _import_whole()
    return bare, iproute, error_class


def _short_attribute_names():
    """Let msg.get("ifname") find IFLA_IFNAME on every supported pyroute2.

    Before 0.7.7 get() with a short name walks the string as a path of nested
    attributes, one character each, and returns None; get_nested() with the one name
    works. Only this process's pyroute2 is patched, and only when it needs it."""
    from pyroute2.netlink import nlmsg_base  # noqa: PLC0415  (loaded by load())
    from pyroute2.netlink.rtnl.ifinfmsg import ifinfmsg  # noqa: PLC0415

    probe = ifinfmsg()
    probe["attrs"] = [("IFLA_IFNAME", "probe")]
    if probe.get("ifname") == "probe":
        return
    original = nlmsg_base.get

    def get(self, key, default=None):
        if isinstance(key, str) and key not in self:
            key = (key,)
        return original(self, key, default)

    nlmsg_base.get = get


def problem_text(status):
    """One line for an operator: what this host's Python has and what to set."""
    return (
        "%s: %s for %s (Python %s); routednet.fabric needs pyroute2 >= %s. Fix: run a provisioning playbook with "
        "routednet_pyroute2_install=auto (the default) or private: it installs the collection's own copy"
        % (os.uname()[1], status.get("problem"), sys.executable, sys.version.split()[0], ".".join(map(str, MIN_PYROUTE2)))
    )


def require_pyroute2():
    """Raise Failure with a clear message when pyroute2 is missing or too old."""
    status = load()
    if not status["usable"]:
        raise Failure(problem_text(status), pyroute2=dict(status, python=sys.executable))


def install_private(archive, directory=None):
    """Put the private copy from ``archive`` (a zip the controller sent) in ``directory``,
    as ``directory``/VERSION/pyroute2 with the mark file naming VERSION. Takes only an
    empty or missing directory or one of ours (the directory may be a mount point, so it
    is never renamed itself). Returns the version installed. Raises OSError/ValueError."""
    directory = directory or PRIVATE_LIBRARY
    if os.path.isdir(directory) and os.listdir(directory) and not os.path.exists(os.path.join(directory, PRIVATE_MARK)):
        raise ValueError("%s exists and is not the collection's (no %s in it); move it away" % (directory, PRIVATE_MARK))
    if not os.path.isdir(directory):
        os.makedirs(directory, 0o755)
    with zipfile.ZipFile(archive) as bundle:
        version = str(json.loads(bundle.read(PRIVATE_MARK).decode("utf-8"))["version"])
        fresh = os.path.join(directory, ".new-%d" % os.getpid())
        bundle.extractall(fresh)
    final = os.path.join(directory, version)
    if os.path.lexists(final):
        shutil.rmtree(final)
    os.rename(os.path.join(fresh, "lib"), final)
    # the mark is switched last and whole: a module starting meanwhile finds a complete copy
    mark = os.path.join(fresh, PRIVATE_MARK)
    os.rename(mark, os.path.join(directory, PRIVATE_MARK))
    for entry in os.listdir(directory):
        if entry not in (version, PRIVATE_MARK):
            shutil.rmtree(os.path.join(directory, entry), ignore_errors=True)
    return version


def remove_directory(directory):
    """Everything in ``directory``, then the directory itself unless it is a mount point."""
    for entry in os.listdir(directory):
        path = os.path.join(directory, entry)
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path)
        else:
            os.remove(path)
    if not os.path.ismount(directory):
        os.rmdir(directory)


def remove_private(directory=None):
    """Remove the private copy (only ours); True when there was one."""
    directory = directory or PRIVATE_LIBRARY
    if not os.path.exists(os.path.join(directory, PRIVATE_MARK)):
        return False
    remove_directory(directory)
    return True


def prepare_pyroute2(module, install=True):
    """For the calls that may get the private copy (node_facts, node_state): load pyroute2,
    from the archive the action plugin sent if there is one. With ``install`` (node_state,
    outside check mode) the archive becomes the host's private copy, and a private copy the
    operator no longer wants (routednet_pyroute2_install=distro or none) goes; otherwise
    (node_facts, which must change nothing: a plan refused after it leaves every host as it
    was) the archive is used from this call's temporary directory only.
    Returns the changes made or, without ``install``, due (texts)."""
    p = module.params
    mode = p.get("pyroute2_install") or "auto"
    install = install and not module.check_mode
    changes = []
    try:
        if p.get("pyroute2_archive"):
            target = PRIVATE_LIBRARY if install else os.path.join(module.tmpdir, "python")
            version = install_private(p["pyroute2_archive"], target)
            changes.append("install the collection's private pyroute2 %s in %s" % (version, PRIVATE_LIBRARY))
            load(private_dir=target)
        elif mode in ("distro", "none") and private_version():
            if install:
                remove_private()
            changes.append("remove the collection's private pyroute2 from %s (routednet_pyroute2_install=%s)" % (PRIVATE_LIBRARY, mode))
            load(use_private=False)
        else:
            load()
    except (IOError, OSError, ValueError) as exc:
        raise Failure("%s: cannot install the collection's private pyroute2: %s" % (os.uname()[1], exc)) from exc
    return changes


def list_netns():
    """Names of the named network namespaces of this host (exact names)."""
    try:
        return set(os.listdir(NETNS_DIR))
    except FileNotFoundError:  # (no namespace was ever named on this host)
        return set()


def missing_in_check_mode(request, *names):
    """In check mode, the first named namespace that does not exist yet.

    An earlier task of the same run (the netns module) would have created it,
    so check mode predicts that everything inside it gets created instead of
    failing.
    """
    if not request.check_mode:
        return None
    present = list_netns()
    return next((name for name in names if name and name not in present), None)


def predict_link_in_pending_netns(request, what, state, *names):
    """Check mode, a namespace not created yet: the result predicting that ``what`` gets created.

    For the link modules (bridge, veth, tunnel); None when every namespace exists or
    outside check mode.
    """
    missing = missing_in_check_mode(request, *names)
    if missing and state == "present":
        return dict(changed=True, changes=["create %s (netns %s does not exist yet)" % (what, missing)])
    if missing:
        return dict(changed=False, changes=[])
    return None


CLONE_NEWNET = 0x40000000


def _setns(fd):
    """setns(2) for a network namespace (os.setns only exists from Python 3.12)."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.setns(fd, CLONE_NEWNET) != 0:
        error = ctypes.get_errno()
        raise OSError(error, os.strerror(error))


def _iproute_in(netns):
    """A plain IPRoute socket made inside the named namespace; the thread returns to its
    own namespace at once. A socket stays in the namespace it was made in, and this works
    the same on every pyroute2 (before 0.9 NetNS is a proxy through a pipe, on which the
    bulk requests' raw netlink cannot work)."""
    back = os.open("/proc/self/ns/net", os.O_RDONLY)
    try:
        target = os.open(os.path.join(NETNS_DIR, netns), os.O_RDONLY)
        try:
            _setns(target)
        finally:
            os.close(target)
        try:
            return IPRoute()
        finally:
            _setns(back)
    finally:
        os.close(back)


def open_rtnl(netns=None):
    """An RTNL socket in the host namespace or in the named one.

    Never creates a namespace: a missing one is a clear failure.
    """
    try:
        if netns:
            if netns not in list_netns():
                raise Failure("network namespace '%s' does not exist on this host" % netns)
            return _iproute_in(netns)
        return IPRoute()
    except (OSError, NetlinkError) as exc:
        where = "network namespace '%s'" % netns if netns else "the host namespace"
        raise Failure("cannot open netlink in %s: %s" % (where, exc)) from exc


def kernel_error(what, exc, **extra):
    """Raise Failure naming the object concerned and what the kernel said."""
    said = exc.args[1] if isinstance(exc, NetlinkError) and len(exc.args) > 1 else str(exc)
    raise Failure("%s: the kernel refused: %s" % (what, said), **extra)


def where(netns):
    """Human text for a namespace in messages."""
    return "netns %s" % netns if netns else "host"


class Undo(object):
    """The kernel changes one module call has made, to be undone newest first when a
    later one is refused: a call that fails part-way leaves the host as it was."""

    def __init__(self):
        self.steps = []

    def did(self, text, undo):
        self.steps.append((text, undo))

    def rollback(self):
        """Undo everything recorded; return the texts of the undos the kernel refused."""
        refused = []
        for text, undo in reversed(self.steps):
            try:
                undo()
            except NetlinkError as exc:
                refused.append("%s: %s" % (text, exc))
        return refused


def refused_part_way(what, exc, undo, **extra):
    """Roll back the call's earlier changes, then raise Failure saying what was refused and what was undone."""
    refused = undo.rollback()
    said = exc.args[1] if isinstance(exc, NetlinkError) and len(exc.args) > 1 else str(exc)
    if refused:
        outcome = "undoing its earlier changes failed too, the host is half-applied: %s" % "; ".join(refused)
    elif undo.steps:
        outcome = "the %d change(s) this call had made before were undone; the host is as it was" % len(undo.steps)
    else:
        outcome = "nothing had been changed yet"
    raise Failure("%s: the kernel refused: %s (%s)" % (what, said, outcome), undone=len(undo.steps) - len(refused), **extra)
