"""Steps as node_state and the boot restore take them: each checked against its module's spec."""

from ansible_collections.routednet.fabric.plugins.module_utils.state import restore, state_steps


def test_a_step_saved_under_the_route_modules_old_name_runs_the_routes_module():
    # a boot-state file written before the module was called routes
    old = [{"module": "hostgw_route", "params": {"netns": "p1", "routes": [{"dst": "default", "via": "10.244.1.1"}]}}]
    checked, errors = state_steps.validated(old)
    assert errors == []
    assert checked[0]["module"] == "routes" and checked[0]["params"]["routes"][0]["onlink"] is False
    assert restore.CONVERGE[restore.ALIASES["hostgw_route"]] is restore.CONVERGE["routes"]


def test_a_step_of_no_module_or_bad_params_is_named():
    checked, errors = state_steps.validated([{"module": "routes", "params": {"routes": [{"via": "10.0.0.1"}]}}])
    assert len(errors) == 1 and errors[0].startswith("step 1 (routes): ") and "dst" in errors[0], errors
    assert restore.run_step({"module": "nosuch", "params": {}}) == {"failed": True, "msg": "unknown module 'nosuch' in the state file"}
