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
ansible_test="$PWD/.venv-sanity/bin/ansible-test"
cd "$target"
quiet() {
    grep -v -e '^WARNING: Location' -e 'Requirement already satisfied' -e '^Collecting ' -e '^  ' -e '^Installing' -e '^Successfully' \
        -e '^Using cached' -e '^Downloading' -e 'Using locale' -e 'Reviewing previous' || true
}
# (set -e with pipefail: a failing ansible-test ends the script with its status)
# everything on the controller's Python
"$ansible_test" sanity --local --requirements --python 3.11 --color no 2>&1 | quiet

# the modules run on the hosts' Pythons: compile and import on each other one supported,
# from this machine's pyenv (each import test in a virtual environment of its own)
for version in 3.9 3.10 3.12 3.13; do
    bin=$(find ~/.pyenv/versions -maxdepth 2 -path "*/versions/$version.*/bin" 2>/dev/null | sort -V | tail -1)
    if [ -z "$bin" ]; then
        echo "sanity.sh: no Python $version in ~/.pyenv/versions; the modules' sanity needs 3.9 to 3.13" >&2
        exit 1
    fi
    echo "== compile and import on Python $version"
    PATH="$bin:$PATH" "$ansible_test" sanity --local --requirements --python "$version" --test compile --test import --color no 2>&1 | quiet
done
