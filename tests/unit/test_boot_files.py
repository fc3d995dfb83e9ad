"""The boot program is complete on its own: installed as boot_restore installs it, it runs
in an isolated Python that has nothing of the collection but the files it was given, and
imports nothing else of the collection. No root: its one step runs in check mode."""

import json
import os
import subprocess
import sys

import pytest

from ansible_collections.routednet.fabric.plugins.module_utils.state import boot_files, saved_state

# Runs the installed restore, then lists where each module of the collection came from.
PROBE = r"""
import json, sys
sys.path.insert(0, sys.argv[1])
from ansible_collections.routednet.fabric.plugins.module_utils.state import restore
rc = restore.main([sys.argv[2], "--check"])
where = {name: getattr(module, "__file__", None) for name, module in sys.modules.items() if name.startswith("ansible_collections")}
print(json.dumps({"rc": rc, "modules": where}))
"""


def install(tmp_path, document=None):
    lib_dir = str(tmp_path / "lib")
    state_file = str(tmp_path / "boot-state.json")
    sysctl = str(tmp_path / "sysctl.d" / "90-routednet.conf")
    steps = [{"module": "ip_forwarding", "params": {"state": "present", "persist_file": sysctl}}]
    files = boot_files.wanted_files(saved_state.state_of("n1", steps, document), state_file, lib_dir, str(tmp_path / "units"), sys.executable)
    for path, (data, mode) in files.items():
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as handle:
            handle.write(data)
        os.chmod(path, mode)
    return lib_dir, state_file, sysctl


def isolated(*argv):
    """This Python with no PYTHONPATH, user site or working directory on its path."""
    return subprocess.run([sys.executable, "-I", *argv], capture_output=True, text=True, check=False, cwd="/", env={"PATH": os.environ["PATH"]})


def test_the_installed_program_imports_only_the_files_it_was_given(tmp_path):
    lib_dir, state_file, sysctl = install(tmp_path)
    res = isolated("-c", PROBE, lib_dir, state_file)
    assert res.returncode == 0, res.stderr
    found = json.loads(res.stdout.splitlines()[-1])
    assert found["rc"] == 0, res.stdout
    outside = {name: path for name, path in found["modules"].items() if path is not None and not path.startswith(lib_dir + os.sep)}
    assert outside == {}, "the boot program imported the collection from outside its own copy"
    loaded = {name.rsplit("module_utils.", 1)[1] for name, path in found["modules"].items() if path and "module_utils." in name}
    # restore.py imports every converge module at once, so everything listed is used (and
    # the packages they are in)
    wanted = set(boot_files.BOOT_MODULES) | {name.split(".")[0] for name in boot_files.BOOT_MODULES if "." in name}
    assert loaded == wanted, loaded ^ wanted
    assert "step 1/1 ip_forwarding: would change: " in res.stdout and "write %s" % sysctl in res.stdout, res.stdout
    assert not os.path.exists(sysctl), "check mode wrote the file"


# the roles' state file (format 2) keeps the document beside the steps it runs
@pytest.mark.parametrize("document", [None, {"format": 1, "node": "n1", "forwarding": {}}], ids=["steps", "document"])
def test_the_launcher_runs_as_the_unit_runs_it(tmp_path, document):
    lib_dir, state_file, sysctl = install(tmp_path, document)
    with open(state_file) as handle:
        assert json.load(handle)["format"] == (1 if document is None else 2)
    res = isolated(os.path.join(lib_dir, boot_files.LAUNCHER), state_file, "--check")
    assert res.returncode == 0, res.stderr
    assert res.stdout.splitlines()[-1] == "routednet-restore: 1 step(s), 0 failed (node n1)", res.stdout


def test_an_earlier_layouts_files_are_stale_and_only_those(tmp_path):
    lib_dir, state_file, _sysctl = install(tmp_path)
    wanted = boot_files.wanted_files(saved_state.state_of("n1", [], None), state_file, lib_dir, str(tmp_path / "units"), sys.executable)
    package = os.path.join(lib_dir, "ansible_collections", "routednet", "fabric", "plugins", "module_utils")
    # module_utils/netlink.py before it moved to module_utils/host/; and a file not ours
    old = os.path.join(package, "netlink.py")
    with open(old, "w") as handle:
        handle.write("")
    with open(os.path.join(lib_dir, "operator-notes.txt"), "w") as handle:
        handle.write("mine")
    assert boot_files.stale_files(lib_dir, wanted) == [old]
