"""The seam between the host code and Ansible (module_utils/outcome.py), as node_state and
the boot-time restore use it: a step's result or its failure, never a process exit.
Runs without root: the steps here fail or decide before touching the kernel."""

import pytest

from ansible_collections.routednet.fabric.plugins.module_utils import outcome
from ansible_collections.routednet.fabric.plugins.module_utils.state import restore
from ansible_collections.routednet.fabric.plugins.module_utils.converge import ip_forwarding


def test_a_failure_is_a_result_with_its_fields():
    failure = outcome.Failure("bridge cni0: refused", changes=["create bridge cni0"])
    assert failure.result() == {"failed": True, "msg": "bridge cni0: refused", "changes": ["create bridge cni0"]}
    assert str(failure) == "bridge cni0: refused"


def test_call_returns_what_the_function_returns_or_its_failure():
    assert outcome.call(lambda x: {"changed": x}, True) == {"changed": True}

    def refuse():
        raise outcome.Failure("no", undone=2)

    assert outcome.call(refuse) == {"failed": True, "msg": "no", "undone": 2}


def test_call_lets_any_other_error_through():
    """A bug is not an operator's failure: it must not be dressed up as one."""

    def broken():
        raise KeyError("params")

    with pytest.raises(KeyError):
        outcome.call(broken)


class AnsibleModuleLike(object):
    params, check_mode, _diff = {"state": "absent"}, True, True


def test_a_request_carries_what_an_ansible_module_was_asked():
    request = outcome.Request.of(AnsibleModuleLike())
    assert (request.params, request.check_mode, request.diff) == ({"state": "absent"}, True, True)


def forwarding_step(path, state="present"):
    return {"module": "ip_forwarding", "params": {"state": state, "persist_file": str(path)}}


STEP_CASES = [
    # (id, the file at persist_file before, state, check mode, expected result fields)
    ("someone else's file is refused, naming it", "net.ipv4.ip_forward = 1\n", "present", True, {"failed": True}),
    ("someone else's file is not removed either", "# mine\n", "absent", True, {"failed": True}),
    ("no file of ours to remove: nothing to do", None, "absent", True, {"changed": False, "changes": []}),
    ("ours, removed in check mode: said, not done", ip_forwarding.PERSIST_TEXT, "absent", True, {"changed": True}),
]


@pytest.mark.parametrize("before, state, check_mode, expected", [case[1:] for case in STEP_CASES], ids=[case[0] for case in STEP_CASES])
def test_a_saved_step_answers_with_a_result(tmp_path, before, state, check_mode, expected):
    path = tmp_path / "90-routednet.conf"
    if before is not None:
        path.write_text(before)
    result = restore.run_step(forwarding_step(path, state), check_mode=check_mode)
    assert {key: result.get(key) for key in expected} == expected, result
    if result.get("failed"):
        assert str(path) in result["msg"] and "routednet_sysctl_file" in result["msg"]
    # check mode wrote nothing
    assert (path.read_text() if path.exists() else None) == before


def test_an_unknown_step_fails_without_running_anything():
    assert restore.run_step({"module": "shell", "params": {}}) == {"failed": True, "msg": "unknown module 'shell' in the state file"}
