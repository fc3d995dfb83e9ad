"""Which hosts the end of a play still has to give the lock back on (plugins/filter/plan.py,
lock_holders, used by roles/node/tasks/unlock.yml). No Ansible run."""

import pytest

from ansible_collections.routednet.fabric.plugins.filter.plan import lock_holders

RELEASED = {"__routednet_converged": {"lock_released": True}}
NOT_RELEASED = {"__routednet_converged": {"lock_released": False}}
NEVER_CONVERGED = {"__routednet_converged": {}}

# (id, each host's variables, among, hosts left to release)
CASES = [
    ("a run that went well: nothing left", {"n1": RELEASED, "n2": RELEASED}, None, []),
    ("refused before any converge: every host", {"n1": NEVER_CONVERGED, "n2": NEVER_CONVERGED}, None, ["n1", "n2"]),
    ("one host's converge failed", {"n1": RELEASED, "n2": NOT_RELEASED, "n3": RELEASED}, None, ["n2"]),
    ("no result registered at all", {"n1": {}, "n2": RELEASED}, None, ["n1"]),
    ("a check run's converge gives back nothing", {"n1": NOT_RELEASED}, None, ["n1"]),
    ("only the hosts asked about, in the play's order", {"n1": NEVER_CONVERGED, "n2": NEVER_CONVERGED, "n3": NEVER_CONVERGED}, ["n3", "n1"], ["n1", "n3"]),
    ("asked about none", {"n1": NEVER_CONVERGED}, [], []),
]


@pytest.mark.parametrize(("hostvars", "among", "held"), [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_lock_holders(hostvars, among, held):
    assert lock_holders(hostvars, list(hostvars), among) == held
