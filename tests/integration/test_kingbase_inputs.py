"""kingbase_deploy.yml refuses bad Kingbase inputs before changing anything (controller-local hosts)."""
import json
import os
import subprocess

import pytest

from conftest import ROOT

pytestmark = pytest.mark.integration
BIN = ROOT / ".venv" / "bin"


def run_deploy(inventory, playbook="playbooks/kingbase_deploy.yml"):
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_STDOUT_CALLBACK="json")
    env.pop("ANSIBLE_VAULT_PASSWORD_FILE", None)
    return subprocess.run([str(BIN / "ansible-playbook"), "-i", str(ROOT / inventory), playbook,
                           "-e", "change_id=TEST-2026-0001"], env=env, cwd=ROOT, capture_output=True, text=True)


def failures(report):
    out = {}
    for play in report["plays"]:
        for task in play["tasks"]:
            for host, result in task["hosts"].items():
                if result.get("failed"):
                    msg = result.get("msg")
                    out.setdefault(play["play"]["name"], {}).setdefault(host, []).extend(
                        msg if isinstance(msg, list) else [str(msg)])
    return out


def refused_before_any_change(inventory, playbook, check_play, later_plays):
    """Run a deploy playbook on bad inputs; assert that only check_play failed and that none of the plays
    named (or starting with) later_plays ran a task. Returns {host: [messages]} of check_play."""
    res = run_deploy(inventory, playbook)
    assert res.returncode != 0
    report = json.loads(res.stdout)
    failed = failures(report)
    assert list(failed) == [check_play]
    assert not any(p["tasks"] for p in report["plays"] if p["play"]["name"].startswith(tuple(later_plays)))
    return failed[check_play]


def test_bad_kingbase_inputs_are_all_refused_before_any_change():
    res = run_deploy("tests/fixtures/inventories/kingbase_bad")
    assert res.returncode != 0
    report = json.loads(res.stdout)
    failed = failures(report)
    assert list(failed) == ["Check the Kingbase inputs of every node before changing any"]
    played = [p["play"]["name"] for p in report["plays"]]
    assert "Install, configure and cluster KingbaseES" not in played or not any(
        p["tasks"] for p in report["plays"] if p["play"]["name"] == "Install, configure and cluster KingbaseES")
    a = " ".join(failed["Check the Kingbase inputs of every node before changing any"]["kb-bad-a"])
    for expected in [
        'kb-bad-a: kingbase_version = "V8R6C8" : not a Kingbase version',
        "kb-bad-a: kingbase_port = 70000 : out of range; allowed: 1-65535",
        "kb-bad-a: shared_buffers (kingbase_shared_buffers / kingbase_settings) = 4096GB : not below the host memory",
        'kb-bad-a: kingbase_hba_rules[0].address = "10.0.0.300/33" : not a network',
        "kb-bad-a: vault_kingbase_superuser_password (kingbase_superuser_password) = (not set) : missing from vault",
        "kb-bad-a: vault_kingbase_esrep_password (kingbase_esrep_password) = (not set) : missing from vault",
    ]:
        assert expected in a, expected
    b = " ".join(failed["Check the Kingbase inputs of every node before changing any"]["kb-bad-b"])
    assert "kingbase_version" not in b and "missing from vault" in b


def test_two_primaries_are_refused_by_inventory_validation(tmp_path):
    inv = (ROOT / "tests/fixtures/inventories/kingbase_bad/hosts.yml").read_text()
    (tmp_path / "group_vars").mkdir()
    (tmp_path / "group_vars" / "all.yml").write_text(
        (ROOT / "tests/fixtures/inventories/kingbase_bad/group_vars/all.yml").read_text())
    (tmp_path / "hosts.yml").write_text(inv.replace("kingbase_node_role: standby", "kingbase_node_role: primary"))
    res = run_deploy(tmp_path)
    assert res.returncode != 0
    failed = failures(json.loads(res.stdout))
    assert list(failed) == ["Validate the inventory and the run's inputs"]
    # The validate play runs once (run_once), on whichever host comes first.
    messages = [m for host_msgs in failed[list(failed)[0]].values() for m in host_msgs]
    assert any("2 hosts are primary in kingbase_cluster_name hongze" in m for m in messages)
