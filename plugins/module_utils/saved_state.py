# -*- coding: utf-8 -*-
# Copyright: routednet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reading the state file the boot_restore module writes (kept small: node_facts reads it too)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

STATE_FORMAT = 1


def load_state(path):
    """The state file's content; ValueError names what is wrong with it."""
    try:
        with open(path) as handle:
            state = json.load(handle)
    except (IOError, OSError) as exc:
        raise ValueError("cannot read %s: %s" % (path, exc)) from None
    except ValueError as exc:
        raise ValueError("%s is not JSON: %s" % (path, exc)) from None
    if not isinstance(state, dict) or state.get("format") != STATE_FORMAT or not isinstance(state.get("steps"), list):
        raise ValueError("%s is not a routednet.fabric state file of format %d" % (path, STATE_FORMAT))
    return state


def saved_pods(path):
    """The pod namespaces in the saved state; none when there is no readable one."""
    try:
        state = load_state(path)
    except ValueError:
        return []
    return sorted(step["params"]["name"] for step in state["steps"] if step.get("module") == "netns" and step["params"].get("state", "present") == "present")


def saved_names(path):
    """The names the saved state gives the bridge, the sysctl.d file and the firewall's
    table (None for each without a readable state): what a rename must clean up."""
    try:
        steps = load_state(path)["steps"]
    except ValueError:
        steps = []

    def first(module, key):
        return next((step["params"].get(key) for step in steps if step.get("module") == module and step["params"].get("state", "present") == "present"), None)

    return {"bridge": first("bridge", "name"), "persist_file": first("ip_forwarding", "persist_file"), "firewall_table": first("firewall", "table")}
