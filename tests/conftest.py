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


def run_module_main(module, monkeypatch, capsys, args):
    """The JSON a module's main() prints for args (AnsibleModule reads them as AnsiballZ would pass them)."""
    import json

    import pytest
    from ansible.module_utils import basic
    from ansible.module_utils.common.text.converters import to_bytes
    monkeypatch.setattr(basic, "_ANSIBLE_ARGS", to_bytes(json.dumps({"ANSIBLE_MODULE_ARGS": args})))
    monkeypatch.setattr(basic, "_ANSIBLE_PROFILE", "legacy", raising=False)
    with pytest.raises(SystemExit):
        module.main()
    return json.loads(capsys.readouterr().out)


def load_script(name, path):
    """A program without a .py suffix (a lab stand-in, lab/lab.py) imported as module `name`."""
    import importlib.machinery
    import importlib.util

    loader = importlib.machinery.SourceFileLoader(name, str(path))
    spec = importlib.util.spec_from_loader(name, loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module
