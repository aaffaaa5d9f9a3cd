"""host_baseline_facts: main() against a fake AnsibleModule, and Python 3.7 compatibility of host-side code."""
import ast
import pathlib

import pytest

import host_baseline_facts as mod
from conftest import ROOT


class FakeModule:
    def __init__(self, params, commands):
        self.params = params
        self.commands = commands
        self.ran = []

    def get_bin_path(self, name, opt_dirs=None):
        return "/usr/bin/" + name if name in self.commands else None

    def run_command(self, args, environ_update=None):
        self.ran.append(args)
        return self.commands[pathlib.Path(args[0]).name]


def params(tmp_path, **over):
    base = {"accounts": [], "limits_items": ["nofile", "nproc"], "managed_limits_file": None,
            "limits_conf": str(tmp_path / "limits.conf"), "limits_dir": str(tmp_path / "limits.d"),
            "sysctl_keys": [], "sysctl_file": None, "locales": [], "sshd": True}
    base.update(over)
    return base


def test_collect_reads_limits_and_reports_overrides(tmp_path, monkeypatch):
    (tmp_path / "limits.d").mkdir()
    managed = tmp_path / "limits.d" / "90-huaian-platform.conf"
    managed.write_text("root - nofile 65536\n")
    (tmp_path / "limits.d" / "99-x.conf").write_text("root soft nofile 1024\n")
    (tmp_path / "sysctl.conf").write_text("vm.swappiness = 10\n")
    module = FakeModule(params(tmp_path, accounts=["root", "no-such-account-xyz"], managed_limits_file=str(managed),
                               sysctl_file=str(tmp_path / "sysctl.conf"), locales=["zh_CN.UTF-8"]),
                        {"chronyc": (0, "Leap status     : Normal\nSystem time     : 0.1 seconds fast of NTP time\n", ""),
                         "locale": (0, "C\nzh_CN.utf8\n", ""),
                         "sshd": (0, "permitrootlogin no\n", "")})
    result = mod.collect(module)
    assert result["missing_accounts"] == ["no-such-account-xyz"]
    assert result["limits"]["root"]["nofile"]["soft"]["value"] == 1024
    assert [o["source"] for o in result["limit_overrides"]] == [str(tmp_path / "limits.d" / "99-x.conf")]
    assert result["sysctl_file"] == {"vm.swappiness": "10"}
    assert result["chrony"]["offset_seconds"] == 0.1
    assert result["locales_missing"] == []
    assert result["sshd"] == {"permitrootlogin": "no"}
    # read-only: only the three reading commands ran
    assert sorted(pathlib.Path(c[0]).name for c in module.ran) == ["chronyc", "locale", "sshd"]


def test_collect_without_chrony_or_sshd(tmp_path):
    module = FakeModule(params(tmp_path, sshd=False), {"locale": (1, "", "boom")})
    result = mod.collect(module)
    assert result["chrony"] is None and result["sshd"] is None and result["locales"] == []


HOST_SIDE = (sorted((ROOT / "plugins" / "modules").glob("*.py")) + sorted((ROOT / "plugins" / "module_utils").glob("*.py"))
             # Scripts roles install on the hosts (e.g. roles/bes/files/bes-wait-http).
             + sorted(p for p in (ROOT / "roles").glob("*/files/*") if p.read_text(errors="replace").startswith("#!/usr/bin/python3")))


@pytest.mark.parametrize("path", HOST_SIDE, ids=lambda p: p.name)
def test_host_side_code_parses_as_python_3_7(path):
    ast.parse(path.read_text(), filename=str(path), feature_version=(3, 7))


@pytest.mark.parametrize("path", sorted((ROOT / "plugins" / "modules").glob("*.py")), ids=lambda p: p.name)
def test_modules_are_documented(path):
    tree = ast.parse(path.read_text())
    names = {t.id for node in tree.body if isinstance(node, ast.Assign) for t in node.targets if isinstance(t, ast.Name)}
    assert {"DOCUMENTATION", "EXAMPLES", "RETURN"} <= names
