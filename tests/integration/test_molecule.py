"""The molecule scenarios, each on a lab of its own (molecule/*/create.yml)."""

import os

import pytest

from labhelpers import BIN, assert_clean, run

pytestmark = [pytest.mark.lab, pytest.mark.slow]


@pytest.mark.parametrize("scenario", ["default", "vxlan", "crosssubnet"])
def test_molecule_scenario(scenario):
    res = run(os.path.join(BIN, "molecule"), "test", "--scenario-name", scenario, timeout=1200)
    out = res.stdout + res.stderr
    assert res.returncode == 0, out[-6000:]
    steps = ["converge", "idempotence", "verify"] + (["prepare", "side_effect"] if scenario == "crosssubnet" else [])
    for step in steps:
        assert "%s > %s: Executed: Successful" % (scenario, step) in out
    assert_clean("molecule-" + scenario)
