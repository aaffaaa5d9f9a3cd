"""roles/kingbase_backup/vars/main.yml's plumbing around the sysrman_vendor_plans rule, rendered as Ansible renders
it (Jinja with Ansible's core filters and the project's; a string result read back as a literal): a cluster that
adopts the vendor's sys_backup.sh schedule gets no stanza and no jobs on its backup host, one that retires it does.
"""
import ast
import pathlib

import jinja2
import yaml
from ansible.plugins.filter.core import FilterModule as CoreFilters
from ansible.plugins.test.core import TestModule as CoreTests

import backup_filters

ROOT = pathlib.Path(__file__).resolve().parents[2]
VARS = yaml.safe_load((ROOT / "roles" / "kingbase_backup" / "vars" / "main.yml").read_text())
KB = "/home/kingbase/cluster/kingbase/bin"
FULL = {"source": "/etc/cron.d/KINGBASECRON", "schedule": "0 2 */7 * *", "active": True,
        "command": KB + "/sys_rman --config=/home/kingbase/kbbr_repo/sys_rman.conf --stanza=kingbase --archive-copy --type=full backup"}


def evaluate(name, context, literal=True):
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, extensions=["jinja2.ext.do"])
    env.filters.update(CoreFilters().filters())
    env.filters.update(backup_filters.FilterModule().filters())
    env.tests.update(CoreTests().tests())
    text = env.from_string(VARS[name]).render(**context).strip()
    return ast.literal_eval(text) if literal else text


def context(setup, change="", here="qjp-bak01"):
    backup = {"config": "/home/kingbase/kbbr_repo/sys_rman.conf", "stanza": "kingbase", "cron": []}
    hostvars = {}
    for host, crons in (("qjp-kb01", []), ("qjp-kb02", [FULL])):
        hostvars[host] = {"kingbase_cluster_name": "kingbase", "platform_backup_host": "qjp-bak01",
                          "kingbase_backup_methods": ["sys_rman"], "adoption_mode_default": "observe",
                          "kingbase_backup_vendor_setup": setup, "kingbase_backup_vendor_retire_change": change,
                          "discovery_facts": {"kingbase": {"backup": dict(backup, cron=crons)}}}
    ctx = {"hostvars": hostvars, "groups": {"kingbase": ["qjp-kb01", "qjp-kb02"]}, "inventory_hostname": here,
           "change_control_id_pattern": r"^[A-Z][A-Z0-9]{1,9}-[0-9]{4}-[0-9]{3,6}$", "kingbase_cluster_name": "kingbase"}
    ctx["__kingbase_backup_change_id_pattern"] = evaluate("__kingbase_backup_change_id_pattern", ctx, literal=False)
    assert ctx["__kingbase_backup_change_id_pattern"] == ctx["change_control_id_pattern"]
    ctx["__kingbase_backup_vendor_plans"] = evaluate("__kingbase_backup_vendor_plans", ctx)
    ctx["__kingbase_backup_vendor_plan"] = evaluate("__kingbase_backup_vendor_plan", ctx)
    return ctx


def test_adopt_leaves_the_stanza_off_the_backup_host():
    ctx = context("adopt")
    assert evaluate("__kingbase_backup_repo_stanzas", ctx) == {}
    assert evaluate("__kingbase_backup_adopted_stanzas", ctx) == ["kingbase"]
    assert ctx["__kingbase_backup_vendor_plan"]["adopt"] is True


def test_retire_gives_the_backup_host_the_stanza_and_the_host_its_retirement():
    ctx = context("retire", "CR-2026-0142")
    assert evaluate("__kingbase_backup_repo_stanzas", ctx) == {"kingbase": ["qjp-kb01", "qjp-kb02"]}
    assert evaluate("__kingbase_backup_adopted_stanzas", ctx) == []
    assert ctx["__kingbase_backup_vendor_plan"]["retire"] == ["qjp-kb02"]


def test_only_a_cluster_with_project_backups_uses_a_backup_host():
    adopt = dict(context("adopt", here="qjp-kb01"), kingbase_backup_methods=["sys_rman"])
    assert evaluate("__kingbase_backup_uses_host", adopt, literal=False) == "False"
    assert evaluate("__kingbase_backup_uses_host", dict(adopt, kingbase_backup_methods=["sys_rman", "sys_dump"]),
                    literal=False) == "True"
    retire = dict(context("retire", "CR-2026-0142", here="qjp-kb01"), kingbase_backup_methods=["sys_rman"])
    assert evaluate("__kingbase_backup_uses_host", retire, literal=False) == "True"
