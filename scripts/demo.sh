#!/usr/bin/env bash
# The main job on the default lab: set up, bring the lab up (seed 000's two nodes, Debian systems),
# provision host-gw, verify the pod ping matrix. Leaves the lab up for you to explore.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$PWD/.venv/bin:$PATH"

echo "== lab up (inventories/lab)"
ansible-playbook playbooks/lab.yml
echo "== host-gw"
ansible-playbook playbooks/hostgw.yml -i inventories/lab
echo "== verify: every pod pings every pod on the other nodes (TTL 62 = routed twice, no tunnel)"
ansible-playbook playbooks/verify.yml -i inventories/lab -e verify_expected_ttl=62

cat <<'DONE'

The lab is up. Try:
  . .venv/bin/activate
  ansible-playbook playbooks/hostgw.yml -i inventories/lab           # again: changed=0
  ansible-playbook playbooks/hostgw.yml -i inventories/lab --check --diff
  ip netns exec rnlab-default-node-node1 ip route                     # node1's routes
  ansible -i inventories/lab node1 -a 'systemctl status routednet-restore.service'   # its boot unit
  ansible-playbook playbooks/lab.yml -e lab_state=absent              # remove the lab
DONE
