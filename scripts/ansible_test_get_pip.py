"""Stand-in for the get-pip bootstrap script that ansible-test downloads.

ansible-test fetches get-pip from a host this machine cannot reach; its
documented escape hatch is a script saved at ~/.ansible/test/cache/get_pip_<ver>.py.
This one installs the pip bundled with Python (ensurepip) and then the asked-for
packages from the ordinary package index.

ansible-test runs pip with a pared-down environment, so a CA bundle given to pip
through PIP_CERT (as on machines behind a TLS-inspecting proxy) is lost; the
bundle is written into the new environment's own pip.conf instead.
"""

import ensurepip
import os
import subprocess
import sys

# Options only the real get-pip understands.
GET_PIP_ONLY = {"--no-setuptools", "--no-wheel"}
CA_BUNDLE = os.environ.get("PIP_CERT") or "/etc/ssl/certs/ca-certificates.crt"

if os.path.exists(CA_BUNDLE) and sys.prefix != sys.base_prefix:
    with open(os.path.join(sys.prefix, "pip.conf"), "w") as handle:
        handle.write("[global]\ncert = %s\n" % CA_BUNDLE)
saved_env = dict(os.environ)
ensurepip.bootstrap(upgrade=True)
# ensurepip points PIP_CONFIG_FILE at /dev/null for its own run; undo that.
os.environ.clear()
os.environ.update(saved_env)
args = [arg for arg in sys.argv[1:] if arg not in GET_PIP_ONLY]
sys.exit(subprocess.call([sys.executable, "-m", "pip", "install"] + args))
