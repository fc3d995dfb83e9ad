"""The IPv6 underlay address of a host, case by case from test_underlay_v6.yaml, and a
pinned routednet_underlay_ip_v6 (module_utils/host/underlay_v6.py). No kernel."""

import os

import pytest
import yaml

from ansible_collections.routednet.fabric.plugins.module_utils.host import underlay_v6

with open(os.path.join(os.path.dirname(__file__), "test_underlay_v6.yaml")) as handle:
    CASES = yaml.safe_load(handle)


@pytest.mark.parametrize("case", CASES, ids=[case["id"] for case in CASES])
def test_choose(case):
    chosen, passed = underlay_v6.choose(case["addresses"], case["dev"])
    assert (chosen["address"] if chosen else None) == case["chosen"]
    assert passed == case["passed"]


ADDRESSES = [
    {"dev": "eth0", "address": "2001:db8:1::8a3f:1/64", "flags": 0x01, "scope": 0},
    {"dev": "eth1", "address": "fd00::5/64", "flags": 0x80, "scope": 0},
]


def test_a_pinned_address_on_any_interface():
    entry, why = underlay_v6.pinned(ADDRESSES, "fd00::5")
    assert entry["dev"] == "eth1" and why == ""


def test_a_pinned_temporary_address_says_why_it_cannot_stay():
    assert underlay_v6.pinned(ADDRESSES, "2001:db8:1::8a3f:1")[1] == "temporary"


def test_a_pinned_address_still_in_duplicate_address_detection_is_taken():
    tentative = [{"dev": "eth0", "address": "fd00::7/64", "flags": 0xC0, "scope": 0}]
    assert underlay_v6.pinned(tentative, "fd00::7") == (tentative[0], "")
    assert underlay_v6.choose(tentative, "eth0")[0] is None  # (found: only one that is ready)


def test_a_pinned_address_the_host_does_not_have():
    assert underlay_v6.pinned(ADDRESSES, "fd00::6") == (None, "")


def test_a_pinned_address_that_is_not_ipv6():
    with pytest.raises(ValueError):
        underlay_v6.pinned(ADDRESSES, "10.0.0.1")
