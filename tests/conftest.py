"""Make the project's plugins importable the way Ansible loads them."""
import pathlib
import sys

import ansible.module_utils

ROOT = pathlib.Path(__file__).resolve().parent.parent
PLUGINS = ROOT / "plugins"

# Modules import their helpers as ansible.module_utils.<name>, as AnsiballZ packs them.
ansible.module_utils.__path__.append(str(PLUGINS / "module_utils"))
for sub in ("filter", "modules", "module_utils"):
    path = str(PLUGINS / sub)
    if path not in sys.path:
        sys.path.insert(0, path)
