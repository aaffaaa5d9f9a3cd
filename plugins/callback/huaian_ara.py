"""ARA, switched on per run (HUAIAN_ARA=1), its database in the project, every run labelled with its change."""
from __future__ import annotations

DOCUMENTATION = r"""
name: huaian_ara
type: notification
short_description: ARA's callback, on only when HUAIAN_ARA=1, labelling each run with its change request
description:
  - Inactive (loads nothing) unless the environment has C(HUAIAN_ARA=1) (C(make <target> ARA=1) sets it).
  - When active it is ARA's C(ara_default) callback with these defaults, each overridable with ARA's own
    C(ARA_*) variables - the offline API client, the database in C(<project>/.ara/server/ansible.sqlite)
    (C(ARA_BASE_DIR)), and the labels C(cr:<change id or none>) and C(check:<true|false>) on every run.
  - Vault files and the lab's secrets directory are never stored (added to ARA's C(ignored_files));
    extra vars are never stored (ARA's default C(ignored_arguments)).
  - Takes ARA's options (section C([ara]) and C(ARA_*) variables) when active.
requirements:
  - ara (the venv pins it)
"""

import os

from ansible import constants as C
from ansible import context
from ansible.plugins.callback import CallbackBase

ENABLED = os.environ.get("HUAIAN_ARA", "").strip().lower() in ("1", "true", "yes", "on")
# Never stored by ARA, whatever ARA_IGNORED_FILES says: files holding secrets, even encrypted.
SECRET_FILES = ["vault.yml", "vault-password", "/.lab/", "regex:(^|/)vault[^/]*\\.ya?ml$"]


def project_dir():
    return os.path.dirname(C.CONFIG_FILE) if C.CONFIG_FILE else os.getcwd()


def run_labels(change_id, check):
    """The labels every run carries: its change request and whether it was a dry run."""
    cid = str(change_id).strip() if change_id not in (None, "") else "none"
    return ["cr:%s" % cid[:200], "check:%s" % ("true" if check else "false")]


if ENABLED:
    # ARA reads its server settings from the environment when its offline client starts.
    os.environ.setdefault("ARA_BASE_DIR", os.path.join(project_dir(), ".ara", "server"))
    os.environ.setdefault("ARA_API_CLIENT", "offline")
    from ara.plugins.callback import ara_default as _ara

    DOCUMENTATION = _ara.DOCUMENTATION.replace("callback: ara\n", "name: huaian_ara\n", 1)  # noqa: F811

    class CallbackModule(_ara.CallbackModule):
        CALLBACK_VERSION = 2.0
        CALLBACK_TYPE = "notification"
        CALLBACK_NAME = "huaian_ara"
        CALLBACK_NEEDS_ENABLED = True

        def __init__(self):
            super().__init__()
            self._huaian_labelled = False

        def set_options(self, task_keys=None, var_options=None, direct=None):
            super().set_options(task_keys=task_keys, var_options=var_options, direct=direct)
            # Our check:<true|false> replaces ARA's check:<True|False>.
            self.argument_labels = [a for a in self.argument_labels if a != "check"]
            self.ignored_files = list(self.ignored_files) + [p for p in SECRET_FILES if p not in self.ignored_files]
            if "extra_vars" not in self.ignored_arguments:
                self.ignored_arguments = list(self.ignored_arguments) + ["extra_vars"]
            self._compile_ignored_file_patterns()

        def v2_playbook_on_play_start(self, play):
            if not self._huaian_labelled:
                manager = play.get_variable_manager()
                change_id = manager.extra_vars.get("change_id") if manager is not None else None
                labels = run_labels(change_id, context.CLIARGS.get("check", False))
                self.default_labels = list(self.default_labels) + [x for x in labels if x not in self.default_labels]
                self._huaian_labelled = True
            return super().v2_playbook_on_play_start(play)

else:
    class CallbackModule(CallbackBase):
        CALLBACK_VERSION = 2.0
        CALLBACK_TYPE = "notification"
        CALLBACK_NAME = "huaian_ara"
        CALLBACK_NEEDS_ENABLED = True

        def __init__(self, display=None):
            super().__init__(display=display)
            self.disabled = True
