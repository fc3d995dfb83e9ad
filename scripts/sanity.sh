#!/usr/bin/env bash
# ansible-test sanity needs the collection under .../ansible_collections/routednet/fabric:
# copy the tracked files there and run it with its own virtual environment (.venv-sanity),
# so its pinned tools never clash with the controller's.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x .venv-sanity/bin/python ]; then
    python3 -m venv .venv-sanity
fi
.venv-sanity/bin/pip install -q --disable-pip-version-check "$(grep '^ansible-core' requirements.txt)" "$(grep '^pyroute2' requirements.txt)" 2>&1 \
    | { grep -v "^WARNING: Location 'file:" || true; }

# ansible-test bootstraps pip in its own environments from a host this machine cannot
# reach; its documented escape hatch is a script at this cache path.
mkdir -p ~/.ansible/test/cache
for version in $(.venv-sanity/bin/python - <<'PY'
import glob, re
for path in glob.glob(".venv-sanity/lib/python*/site-packages/ansible_test/_internal/python_requirements.py"):
    print(" ".join(sorted(set(re.findall(r"\bpip='([0-9.]+)'", open(path).read())))))
PY
); do
    cp scripts/ansible_test_get_pip.py ~/.ansible/test/cache/get_pip_"${version//./_}".py
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
target="$work/ansible_collections/routednet/fabric"
mkdir -p "$target"
# tracked and new files as they are in the work tree (a file deleted but not yet committed is left out)
git ls-files -co --exclude-standard | grep -v '^collections/' | while IFS= read -r f; do [ -e "$f" ] && printf '%s\n' "$f"; done \
    | tar -cf - -T - | tar -xf - -C "$target"
cd "$target"
"$OLDPWD/.venv-sanity/bin/ansible-test" sanity --local --requirements --python 3.11 --color no 2>&1 \
    | grep -v -e '^WARNING: Location' -e 'Requirement already satisfied' -e '^Collecting ' -e '^  ' -e '^Installing' -e '^Successfully' -e '^Using cached' -e '^Downloading' \
    ; exit "${PIPESTATUS[0]}"
