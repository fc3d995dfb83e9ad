"""Which pyroute2 the modules use on a host, on the Pythons hosts have.

Each case runs netlink.py (the modules' one door to pyroute2) in a real interpreter of
this machine, in a process of its own: Debian 12's /usr/bin/python3 with Debian's own
python3-pyroute2 0.7.2 (its short attribute names and NetNS need the compatibility
path), pyenv's 3.9 and 3.13 without any pyroute2 (the oldest and newest Python the
collection supports), and the collection's private copy built from the controller's
pyroute2 (plugin_utils/private_pyroute2.py) installed and used on both.
"""

import io
import json
import os
import subprocess
import sys
import zipfile

import pytest

from conftest import REPO
from ansible_collections.routednet.fabric.plugins.module_utils.host import netlink
from ansible_collections.routednet.fabric.plugins.plugin_utils import private_pyroute2

sys.path.insert(0, os.path.join(REPO, "lab"))
import routednet_lab  # noqa: E402  (the lab tool finds the nodes' Pythons)

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root: makes network namespaces")

# Reads the loader's verdict and, when usable, the links of a namespace through
# open_rtnl (setns + IPRoute), with the names read the way the modules read them.
PROBE = r"""
import json, sys
from ansible_collections.routednet.fabric.plugins.module_utils.host import netlink
from ansible_collections.routednet.fabric.plugins.module_utils.outcome import Failure

private_dir, netns = sys.argv[1], sys.argv[2]
status = netlink.load(private_dir=private_dir) if private_dir else netlink.load()
out = {"status": status, "python": sys.version_info[:2]}
if status["usable"]:
    try:
        netlink.require_pyroute2()
        with netlink.open_rtnl(netns) as ipr:
            out["links"] = sorted(m.get("ifname") for m in ipr.link("dump"))
            out["addresses"] = sorted(m.get("address") for m in ipr.addr("dump", index=ipr.link_lookup(ifname="dv0")[0]))
    except Failure as failure:
        out["failed"] = failure.result()
else:
    out["message"] = netlink.problem_text(status)
print(json.dumps(out))
"""


def python(version):
    try:
        return routednet_lab.node_python(version)
    except routednet_lab.LabError as exc:
        pytest.fail(str(exc))


def probe(interpreter, netns, private_dir="", extra_path=None):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(([extra_path] if extra_path else []) + [os.path.join(REPO, "collections")]))
    env.pop("PYTHONHOME", None)
    res = subprocess.run([interpreter, "-c", PROBE, private_dir, netns], capture_output=True, text=True, env=env, check=False)
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout)


@pytest.fixture
def namespace(netns):
    """A namespace with a veth pair, one end addressed, the other not (so an unfiltered
    address dump would show two links' addresses)."""
    ns = netns("src")
    subprocess.run(["ip", "-n", ns, "link", "add", "dv0", "type", "veth", "peer", "name", "dv1"], check=True)
    subprocess.run(["ip", "-n", ns, "addr", "add", "10.77.0.1/24", "dev", "dv0"], check=True)
    subprocess.run(["ip", "-n", ns, "addr", "add", "10.77.1.1/24", "dev", "dv1"], check=True)
    return ns


@pytest.fixture
def private_copy(tmp_path):
    """The private copy as a host gets it: the controller's archive, installed by netlink."""
    version, data = private_pyroute2.archive_bytes()
    archive = tmp_path / "bundle.zip"
    archive.write_bytes(data)
    target = tmp_path / "routednet-pyroute2"
    assert netlink.install_private(str(archive), str(target)) == version
    return str(target), version


def test_debian_python_uses_its_own_pyroute2_0_7_2(namespace):
    found = probe("/usr/bin/python3", namespace)
    assert found["status"]["source"] == "system"
    assert found["status"]["version"] == "0.7.2", "scripts/setup.sh installs Debian 12's python3-pyroute2"
    assert found["status"]["usable"]
    # short names read (0.7.2 alone would return None), in the namespace, filtered by link
    assert found["links"] == ["dv0", "dv1", "lo"]
    assert found["addresses"] == ["10.77.0.1"]


@pytest.mark.parametrize("version", ["3.9", "3.13"])
def test_a_python_without_pyroute2_is_told_what_to_set(namespace, version):
    found = probe(python(version), namespace)
    assert found["status"] == {"source": "none", "version": None, "usable": False, "problem": found["status"]["problem"]}
    message = found["message"]
    assert "no pyroute2" in message and "(Python %s." % version in message
    assert "routednet_pyroute2_install=auto" in message and "Traceback" not in message


@pytest.mark.parametrize("version", ["3.9", "3.13"])
def test_the_private_copy_works_on_the_oldest_and_newest_python(namespace, private_copy, version):
    directory, copied = private_copy
    found = probe(python(version), namespace, private_dir=directory)
    assert found["status"]["source"] == "private" and found["status"]["version"] == copied and found["status"]["usable"]
    assert found["python"] == [int(v) for v in version.split(".")]
    assert found["links"] == ["dv0", "dv1", "lo"]
    assert found["addresses"] == ["10.77.0.1"]


def test_the_private_copy_wins_over_the_hosts_own(namespace, private_copy):
    directory, copied = private_copy
    found = probe("/usr/bin/python3", namespace, private_dir=directory)
    assert found["status"]["source"] == "private" and found["status"]["version"] == copied


def test_a_pyroute2_older_than_0_7_2_is_refused_naming_its_version(namespace, tmp_path):
    # as RHEL 9's EPEL (0.5.14) or Ubuntu 22.04 (0.6.4) would have it: a package that says its version
    fake = tmp_path / "site"
    (fake / "pyroute2" / "netlink").mkdir(parents=True)
    (fake / "pyroute2" / "__init__.py").write_text("__version__ = '0.6.4'\nclass IPRoute: pass\nfrom pyroute2 import netns\n")
    (fake / "pyroute2" / "netns.py").write_text("")
    (fake / "pyroute2" / "netlink" / "__init__.py").write_text("")
    (fake / "pyroute2" / "netlink" / "exceptions.py").write_text("class NetlinkError(Exception): pass\n")
    found = probe(python("3.9"), namespace, extra_path=str(fake))
    assert found["status"]["usable"] is False and found["status"]["version"] == "0.6.4"
    assert "pyroute2 0.6.4, older than 0.7.2" in found["message"]


def test_installing_the_private_copy_never_takes_a_directory_that_is_not_ours(tmp_path):
    version, data = private_pyroute2.archive_bytes()
    archive = tmp_path / "bundle.zip"
    archive.write_bytes(data)
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    (theirs / "notes.txt").write_text("an operator's file\n")
    with pytest.raises(ValueError, match="is not the collection's"):
        netlink.install_private(str(archive), str(theirs))
    assert sorted(os.listdir(theirs)) == ["notes.txt"]
    # an empty directory (a mount point, say) is taken, and a second install replaces only ours
    empty = tmp_path / "empty"
    empty.mkdir()
    assert netlink.install_private(str(archive), str(empty)) == version
    assert netlink.install_private(str(archive), str(empty)) == version
    assert sorted(os.listdir(empty)) == sorted([netlink.PRIVATE_MARK, version])
    assert netlink.remove_private(str(empty)) is True
    assert not empty.exists()
    assert netlink.remove_private(str(theirs)) is False and (theirs / "notes.txt").exists()


def test_the_archive_carries_sources_and_licences_but_no_bytecode():
    version, data = private_pyroute2.archive_bytes()
    names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    assert netlink.PRIVATE_MARK in names and "lib/pyroute2/__init__.py" in names
    assert not [n for n in names if n.endswith(".pyc") or "__pycache__" in n]
    assert [n for n in names if n.startswith("lib/pyroute2-licence/") and "LICENSE" in n.upper()]
    assert json.loads(zipfile.ZipFile(io.BytesIO(data)).read(netlink.PRIVATE_MARK))["version"] == version == netlink.installed_version(__import__("pyroute2"))


def test_the_decommission_removes_the_private_copy_and_only_then(module, monkeypatch, tmp_path):
    version, data = private_pyroute2.archive_bytes()
    (tmp_path / "bundle.zip").write_bytes(data)
    private = tmp_path / "routednet-pyroute2"
    netlink.install_private(str(tmp_path / "bundle.zip"), str(private))
    monkeypatch.setattr(netlink, "PRIVATE_LIBRARY", str(private))
    files = dict(state_file=str(tmp_path / "etc" / "boot-state.json"), lib_dir=str(tmp_path / "lib"), unit_dir=str(tmp_path / "units"))
    # what a run with routednet_boot_restore=false does: the copy stays
    kept = module("boot_restore", dict(files, state="absent"))
    assert not kept.failed and not kept["changed"] and netlink.private_version(str(private)) == version
    # the decommission's last step; check mode only says so
    planned = module("boot_restore", dict(files, state="absent", private_pyroute2=True), check=True)
    assert planned["changes"] == ["remove the collection's private pyroute2 %s" % private] and private.exists()
    removed = module("boot_restore", dict(files, state="absent", private_pyroute2=True))
    assert removed["changed"] and not private.exists()


class FakeModule(object):
    """What prepare_pyroute2 reads of an AnsibleModule (its failures raise outcome.Failure)."""

    def __init__(self, tmpdir, check_mode=False, **params):
        self.params, self.check_mode, self.tmpdir = params, check_mode, str(tmpdir)


@pytest.mark.parametrize(
    "call, installs",
    [("node_facts", False), ("node_state in check mode", False), ("node_state", True)],
)
def test_only_node_state_installs_the_copy_and_never_in_check_mode(tmp_path, monkeypatch, call, installs):
    """node_facts must change nothing: a plan refused after it leaves every host as it was."""
    version, data = private_pyroute2.archive_bytes()
    (tmp_path / "bundle.zip").write_bytes(data)
    private = tmp_path / "routednet-pyroute2"
    monkeypatch.setattr(netlink, "PRIVATE_LIBRARY", str(private))
    monkeypatch.setattr(netlink, "LOADED", {})
    (tmp_path / "task").mkdir()
    module = FakeModule(tmp_path / "task", check_mode="check" in call, pyroute2_archive=str(tmp_path / "bundle.zip"), pyroute2_install="auto")
    changes = netlink.prepare_pyroute2(module, install=call != "node_facts")
    assert changes == ["install the collection's private pyroute2 %s in %s" % (version, private)]
    assert netlink.LOADED["usable"] and netlink.LOADED["source"] == "private"
    assert (netlink.private_version(str(private)) == version) is installs
    assert private.exists() is installs
