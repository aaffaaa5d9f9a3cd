"""Make the project's plugins importable the way Ansible loads them."""
import os
import pathlib
import sys
import tempfile

import ansible.module_utils

ROOT = pathlib.Path(__file__).resolve().parent.parent
PLUGINS = ROOT / "plugins"

# Modules import their helpers as ansible.module_utils.<name>, as AnsiballZ packs them.
ansible.module_utils.__path__.append(str(PLUGINS / "module_utils"))
for sub in ("filter", "modules", "module_utils"):
    path = str(PLUGINS / sub)
    if path not in sys.path:
        sys.path.insert(0, path)

# The tests' ansible-playbook runs leave their run records (plugins/callback/run_record.py) in a scratch
# directory, not in the project's records/.
os.environ.setdefault("HUAIAN_RECORDS_DIR", tempfile.mkdtemp(prefix="huaian-test-records-"))
