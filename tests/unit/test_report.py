"""The verify matrix."""

from ansible_collections.routednet.fabric.plugins.module_utils.report import verify_matrix


def test_verify_matrix_marks_misses_and_same_node_pairs():
    lines = verify_matrix(
        {
            "n1": [{"source": "a", "node": "n2", "pod": "b", "address": "10.0.2.2", "ok": True, "ttl": 62, "path": {"kind": "vxlan"}}],
            "n2": [{"source": "b", "node": "n1", "pod": "a", "address": "10.0.1.2", "ok": False, "ttl": None}],
        }
    )
    assert lines[0].split() == ["from", "\\", "to", "n1/a", "n2/b"]
    assert lines[1].split() == ["n1/a", "-", "62", "vxlan"]
    assert lines[2].split() == ["n2/b", "FAIL", "-"]
    assert all(line == line.rstrip() for line in lines)
