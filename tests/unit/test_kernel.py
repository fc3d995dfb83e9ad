"""Which tunnel kinds a kernel offers, read from /sys/module and the module index."""

import pytest

from ansible_collections.routednet.fabric.plugins.module_utils.host.kernel import feature_state

RELEASE = "6.1.0-test"


@pytest.fixture
def roots(tmp_path):
    sys_module = tmp_path / "sys" / "module"
    index = tmp_path / "lib" / "modules" / RELEASE
    sys_module.mkdir(parents=True)
    index.mkdir(parents=True)
    return sys_module, index


def state(roots, name):
    sys_module, index = roots
    return feature_state(name, RELEASE, sys_module=str(sys_module), modules_root=str(index.parent))


def test_loaded_or_built_in_with_parameters_is_present(roots):
    (roots[0] / "vxlan").mkdir()
    assert state(roots, "vxlan") == "present"


def test_built_in_without_sysfs_entry(roots):
    (roots[1] / "modules.builtin").write_text("kernel/net/ipv4/ip_tunnel.ko\nkernel/net/ipv4/ipip.ko\n")
    assert state(roots, "ipip") == "builtin"


@pytest.mark.parametrize("suffix", [".ko", ".ko.xz", ".ko.zst"])
def test_loadable_module_in_any_compression(roots, suffix):
    (roots[1] / "modules.dep").write_text("kernel/net/ipv4/ipip%s: kernel/net/ipv4/tunnel4%s kernel/net/ipv4/ip_tunnel%s\n" % (suffix, suffix, suffix))
    assert state(roots, "ipip") == "module"
    # a module that only depends on tunnel4 does not make tunnel4 itself 'ipip'
    assert state(roots, "tunnel4") == "missing"


def test_nothing_anywhere_is_missing(roots):
    (roots[1] / "modules.dep").write_text("kernel/drivers/net/vxlan/vxlan.ko: kernel/net/ipv4/udp_tunnel.ko\n")
    assert state(roots, "ipip") == "missing"
    # no index at all for the running release (this build machine's kernel)
    assert feature_state("ipip", "9.9.9-none", sys_module=str(roots[0]), modules_root=str(roots[1].parent)) == "missing"
