"""Node documents, golden, for the seeds' topologies (test_node_document.yaml): what the
controller computes for a node and the steps node_state makes of it, in order."""

import os

import pytest
import yaml

from ansible_collections.routednet.fabric.plugins.module_utils import document_steps, node_document, planning, state_steps

with open(os.path.join(os.path.dirname(__file__), "test_node_document.yaml")) as handle:
    DATA = yaml.safe_load(handle)


def document_of(case):
    topology = DATA["topologies"][case["topology"]]
    plan, _leases = planning.build_plan(topology["nodes"], topology["cluster_cidr"])
    result = {"plan": plan, "settings": {case["node"]: dict(DATA["settings"], **case.get("settings", {}))}}
    return node_document.build(result, case["node"], case["facts"], case["pod_mtu"], case.get("adjacency"))


@pytest.mark.parametrize("case", DATA["cases"], ids=[case["name"] for case in DATA["cases"]])
def test_the_node_document_and_its_steps(case):
    document = document_of(case)
    assert document == case["document"]
    assert document_steps.problems(document) == []
    steps = document_steps.steps(document)
    assert [state_steps.label(step) + ("" if step["save"] else " (clean-up)") for step in steps] == case["steps"]
    # every step is a valid call of its module (what node_state checks before it runs any)
    _checked, errors = state_steps.validated(steps)
    assert errors == []


def test_what_is_not_a_document_is_named():
    assert document_steps.problems({"steps": []}) == ["it is not a node document of format 1 (build it with the routednet.fabric.node_document filter)"]
    document = document_of(DATA["cases"][0])
    del document["routes"]
    assert document_steps.problems(document) == ["it has no routes"]
