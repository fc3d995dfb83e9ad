"""How the modules find pyroute2's version and the host's namespaces without the costly
imports (module_utils/host/netlink.py). No kernel, no root."""

import json
import subprocess
import sys
import textwrap

import pytest

from ansible_collections.routednet.fabric.plugins.module_utils.host import netlink

# (id, entries beside the package directory, version found)
BESIDE = [
    ("Debian's wheel metadata", ["pyroute2", "pyroute2-0.7.2.dist-info", "yaml"], "0.7.2"),
    ("an egg-info of setup.py install", ["pyroute2", "pyroute2-0.7.11.egg-info"], "0.7.11"),
    ("an egg-info naming its Python", ["pyroute2", "pyroute2-0.6.9-py3.9.egg-info"], "0.6.9"),
    ("another package's metadata only", ["pyroute2", "pyroute2_extra-1.0.dist-info", "pyroute2.minimal-0.5.dist-info"], None),
    ("no metadata", ["pyroute2"], None),
    ("two to choose from: left to importlib.metadata", ["pyroute2", "pyroute2-0.7.2.dist-info", "pyroute2-0.9.7.dist-info"], None),
]


@pytest.mark.parametrize(("names", "version"), [case[1:] for case in BESIDE], ids=[case[0] for case in BESIDE])
def test_version_from_the_metadata_directory_beside_the_package(tmp_path, names, version):
    for name in names:
        (tmp_path / name).mkdir()
    assert netlink._version_beside([str(tmp_path / "pyroute2")]) == version


def test_version_of_a_package_whose_directory_is_gone():
    assert netlink._version_beside(["/nonexistent/routednet-test/pyroute2"]) is None


def test_installed_version_prefers_what_the_package_says(tmp_path):
    (tmp_path / "pyroute2-0.7.2.dist-info").mkdir()
    package = type("Package", (), {"__version__": "0.9.7", "__path__": [str(tmp_path / "pyroute2")]})
    assert netlink.installed_version(package) == "0.9.7"
    package.__version__ = "unknown"
    assert netlink.installed_version(package) == "0.7.2"


def test_named_namespaces_of_a_host_that_never_named_one(tmp_path, monkeypatch):
    monkeypatch.setattr(netlink, "NETNS_DIR", str(tmp_path / "netns"))
    assert netlink.list_netns() == set()
    (tmp_path / "netns").mkdir()
    (tmp_path / "netns" / "pod1").touch()
    assert netlink.list_netns() == {"pod1"}


def test_load_imports_only_what_the_calls_use():
    """In a fresh interpreter: IPRoute works, pyroute2's __init__ (which imports all of it,
    NDB too) did not run, and pyroute2.lab, where a pyroute2 has one, is the stand-in. Which
    of netns and unittest.mock stay out depends on the pyroute2 (0.7's IPRoute needs
    neither); its netns module comes when asked for."""
    probe = textwrap.dedent(
        """
        import json, sys
        from ansible_collections.routednet.fabric.plugins.module_utils.host import netlink
        loaded = netlink.load(use_private=False)
        ipr = netlink.IPRoute()
        links = len(ipr.get_links())
        ipr.close()
        lab = sys.modules.get("pyroute2.lab")
        print(json.dumps(dict(loaded=loaded, links=links, ndb="pyroute2.ndb" in sys.modules,
                              whole=hasattr(sys.modules["pyroute2"], "IPRoute"),
                              lab=None if lab is None else lab.LAB_API is netlink._NoLab)))
        """
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=netlink_root())
    seen = json.loads(out.stdout)
    assert seen["loaded"]["usable"] and seen["loaded"]["version"][:1].isdigit(), seen
    assert seen["links"] >= 1
    assert not seen["ndb"] and not seen["whole"] and seen["lab"] in (None, True), seen
    asked = (
        "from ansible_collections.routednet.fabric.plugins.module_utils.host import netlink as n\nn.load(use_private=False)\nprint(n.pyroute2_netns().__name__)"
    )
    netns = subprocess.run([sys.executable, "-c", asked], capture_output=True, text=True, check=True, cwd=netlink_root())
    assert netns.stdout.strip() == "pyroute2.netns"


def netlink_root():
    """The directory whose ansible_collections/ holds this collection (what the tests import)."""
    import ansible_collections  # noqa: PLC0415

    return list(ansible_collections.__path__)[0].rsplit("/ansible_collections", 1)[0]
