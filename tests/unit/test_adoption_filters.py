"""Observe before manage: the adoption rules (plugins/filter/adoption_filters.py)."""
import yaml

from adoption_filters import adoption_problems, adoption_refusals, change_id_valid, check_adoption, inventory_default, refuse
from conftest import ROOT

COMPONENTS = yaml.safe_load((ROOT / "playbooks/vars/adoption.yml").read_text())["adoption_components"]
PATTERN = yaml.safe_load((ROOT / "roles/change_control/defaults/main.yml").read_text())["change_control_id_pattern"]


class Loaded(str):
    """A string as Ansible's YAML loader returns it: with the file and line it came from."""

    def __new__(cls, value, path, line):
        obj = str.__new__(cls, value)
        obj.ansible_pos = (path, line, 1)
        return obj


def host(groups, **adoption):
    return {"groups": list(groups), "vars": dict(adoption)}


def estate(default="observe"):
    mode = Loaded(default, "/inv/group_vars/all/adoption.yml", 12)
    return {
        "hzq-kb01": host(["platforms", "hongze", "kingbase", "kingbase_hongze"], adoption_mode_default=mode),
        "hzq-kb02": host(["platforms", "hongze", "kingbase", "kingbase_hongze"], adoption_mode_default=mode),
        "hzq-bes01": host(["platforms", "hongze", "bes", "attachments"], adoption_mode_default=mode),
        "hzq-bak01": host(["platforms", "hongze", "backup_server"], adoption_mode_default=mode),
    }


def messages(found):
    return [p["message"] for p in found]


# --- the components ---------------------------------------------------------------------------------------

def test_the_components_name_their_groups_and_roles():
    assert set(COMPONENTS) == {"os", "kingbase", "backup", "bes", "platform_lb", "preview", "preview_cache",
                               "migration"}
    for name, spec in COMPONENTS.items():
        assert set(spec) == {"groups", "roles"}, name
        assert spec["groups"] and spec["roles"], name
        for role in spec["roles"]:
            assert (ROOT / "roles" / role / "tasks").is_dir(), (name, role)
    roles = [r for spec in COMPONENTS.values() for r in spec["roles"]]
    assert len(roles) == len(set(roles)), "a role belongs to one component"


# --- validation of the adoption variables ----------------------------------------------------------------

def test_a_consistent_inventory_has_no_problem():
    hosts = estate()
    hosts["hzq-kb01"]["vars"].update(adoption_modes={"kingbase": "managed", "os": "observe"},
                                     adoption_changes={"kingbase": "CR-2026-0142"})
    assert check_adoption(hosts, COMPONENTS, PATTERN) == []
    assert check_adoption(estate("managed"), COMPONENTS, PATTERN) == []


def test_every_bad_adoption_variable_is_reported_in_one_pass():
    hosts = estate()
    hosts["hzq-kb01"]["vars"].update(
        adoption_modes={"kingbase": "managed", "tomcat": "managed", "bes": True, "os": "Managed"},
        adoption_changes={"tomcat": "CR-2026-0001", "os": "cr 17"})
    hosts["hzq-kb02"]["vars"]["adoption_modes"] = {"kingbase": "managed"}
    hosts["hzq-kb02"]["vars"]["adoption_changes"] = {"kingbase": "CR-2026-0142", "bes": "CR-2026-0143"}
    hosts["hzq-bes01"]["vars"]["adoption_modes"] = "managed"
    hosts["hzq-bak01"]["vars"]["adoption_mode_default"] = "managed"
    found = messages(check_adoption(hosts, COMPONENTS, PATTERN))
    assert found == [
        "hzq-bak01: adoption_mode_default = 'managed': differs from the inventory's default, observe on 3 hosts "
        "(e.g. hzq-bes01); allowed: one adoption_mode_default for the whole inventory (group_vars/all); manage one "
        "component on a host with adoption_modes and adoption_changes",
        "hzq-bes01: adoption_modes = 'managed': not a mapping; allowed: a mapping of component to observe or "
        "managed, e.g. {kingbase: managed}",
        "hzq-kb01: adoption_changes.os = 'cr 17': not a change id; allowed: a string matching %s, e.g. CR-2026-0142"
        % PATTERN,
        "hzq-kb01: adoption_changes.tomcat = 'CR-2026-0001': unknown component; allowed: one of backup, bes, kingbase, "
        "migration, os, platform_lb, preview, preview_cache",
        "hzq-kb01: adoption_modes.bes = True: not a mode (a boolean); allowed: observe or managed",
        "hzq-kb01: adoption_modes.kingbase = 'managed': managing a component the inventory observes is a recorded "
        "change, and adoption_changes.kingbase is not set; allowed: adoption_changes.kingbase: <the change id, "
        "e.g. CR-2026-0142> beside it, after reviewing the discovery",
        "hzq-kb01: adoption_modes.os = 'Managed': not a mode; allowed: observe or managed",
        "hzq-kb01: adoption_modes.tomcat = 'managed': unknown component; allowed: one of backup, bes, kingbase, "
        "migration, os, platform_lb, preview, preview_cache",
        "hzq-kb02: adoption_changes.bes = 'CR-2026-0143': bes is not managed on this host (a host's or group's "
        "adoption_modes replaces the whole mapping of its parent groups); allowed: a change id only for a component "
        "set to managed (adoption_modes.bes: managed)",
    ]


def test_a_missing_or_bad_default_is_listed_once_for_all_its_hosts_with_its_file():
    hosts = estate()
    for name in hosts:
        del hosts[name]["vars"]["adoption_mode_default"]
    (missing,) = check_adoption(hosts, COMPONENTS, PATTERN)
    assert missing["message"] == (
        "hzq-bak01, hzq-bes01, hzq-kb01, hzq-kb02: adoption_mode_default = (not set): required: every inventory says "
        "whether it observes or manages what the project did not install; allowed: observe (the vendors installed it) "
        "or managed (the project did), in group_vars/all")
    bad = Loaded("yes", "/inv/group_vars/all/adoption.yml", 3)
    for name in hosts:
        hosts[name]["vars"]["adoption_mode_default"] = bad
    (wrong,) = check_adoption(hosts, COMPONENTS, PATTERN)
    assert wrong["value"] == "'yes' (/inv/group_vars/all/adoption.yml:3)"
    assert wrong["hosts"] == sorted(hosts)


def test_a_string_is_not_a_boolean_and_false_is_not_a_mode():
    hosts = estate()
    hosts["hzq-kb01"]["vars"]["adoption_modes"] = {"kingbase": False}
    (problem,) = check_adoption(hosts, COMPONENTS, PATTERN)
    assert problem["message"].endswith("not a mode (a boolean); allowed: observe or managed")


def test_the_inventory_default_is_managed_only_when_every_host_says_so():
    assert inventory_default(estate("managed")) == "managed"
    assert inventory_default(estate("observe")) == "observe"
    mixed = estate("managed")
    mixed["hzq-kb01"]["vars"]["adoption_mode_default"] = "observe"
    assert inventory_default(mixed) == "observe"
    del mixed["hzq-kb01"]["vars"]["adoption_mode_default"]
    assert inventory_default(mixed) == "observe"
    assert inventory_default({}) == "observe"


# --- the guard -----------------------------------------------------------------------------------------

def everything(hosts):
    return {c: sorted(hosts) for c in COMPONENTS}


def test_an_observing_inventory_refuses_every_component_the_run_changes_on_its_hosts():
    hosts = estate()
    found = refuse(hosts, everything(hosts), COMPONENTS, PATTERN)
    assert [(r["host"], r["component"]) for r in found] == [
        ("hzq-bak01", "backup"), ("hzq-bak01", "os"),
        ("hzq-bes01", "backup"), ("hzq-bes01", "bes"), ("hzq-bes01", "os"),
        ("hzq-kb01", "backup"), ("hzq-kb01", "kingbase"), ("hzq-kb01", "os"),
        ("hzq-kb02", "backup"), ("hzq-kb02", "kingbase"), ("hzq-kb02", "os"),
    ]
    assert found[6]["message"] == (
        "hzq-kb01: kingbase is observe, from adoption_mode_default = 'observe' (/inv/group_vars/all/adoption.yml:12) "
        "and no adoption_modes.kingbase: this run would change it; allowed: after reviewing its discovery, "
        "adoption_modes.kingbase: managed and adoption_changes.kingbase: <change id, e.g. CR-2026-0142> for hzq-kb01 "
        "or one of its groups in the inventory")


def test_only_the_hosts_and_components_of_the_run_are_judged():
    hosts = estate()
    found = refuse(hosts, {"bes": ["hzq-bes01", "hzq-kb01"], "os": []}, COMPONENTS, PATTERN)
    assert [(r["host"], r["component"]) for r in found] == [("hzq-bes01", "bes")]
    # A host outside the inventory (the implicit localhost) carries no component.
    assert refuse(hosts, {"os": ["localhost"]}, COMPONENTS, PATTERN) == []


def test_a_managed_component_needs_its_change_id_in_an_observing_inventory():
    hosts = estate()
    kb01 = hosts["hzq-kb01"]["vars"]
    kb01["adoption_modes"] = {"kingbase": Loaded("managed", "/inv/host_vars/hzq-kb01.yml", 2)}
    kb01["adoption_changes"] = {"kingbase": "CR-2026-0142"}
    hosts["hzq-kb02"]["vars"]["adoption_modes"] = {"kingbase": "managed"}
    hosts["hzq-kb02"]["vars"]["adoption_changes"] = {"kingbase": "soon"}
    found = refuse(hosts, {"kingbase": sorted(hosts)}, COMPONENTS, PATTERN)
    assert [(r["host"], r["mode"], r["why"]) for r in found] == [
        ("hzq-kb02", "observe", "adoption_modes.kingbase = 'managed', but adoption_changes.kingbase = 'soon' "
                                "is not a change id")]
    kb01["adoption_modes"]["kingbase"] = "observe"
    assert [r["host"] for r in refuse(hosts, {"kingbase": sorted(hosts)}, COMPONENTS, PATTERN)] == [
        "hzq-kb01", "hzq-kb02"]


def test_a_host_cannot_opt_out_of_observe_through_the_default():
    hosts = estate()
    hosts["hzq-kb01"]["vars"]["adoption_mode_default"] = "managed"
    (refusal,) = refuse(hosts, {"kingbase": ["hzq-kb01"]}, COMPONENTS, PATTERN)
    assert refusal["why"] == ("adoption_mode_default = 'managed' and no adoption_modes.kingbase, but the inventory's "
                              "default is observe")


def test_a_managed_inventory_passes_unless_a_component_is_set_to_observe():
    hosts = estate("managed")
    assert refuse(hosts, everything(hosts), COMPONENTS, PATTERN) == []
    hosts["hzq-bes01"]["vars"]["adoption_modes"] = {"bes": "observe"}
    (refusal,) = refuse(hosts, everything(hosts), COMPONENTS, PATTERN)
    assert (refusal["host"], refusal["component"], refusal["mode"]) == ("hzq-bes01", "bes", "observe")


def test_bad_values_are_never_managed():
    hosts = estate("managed")
    hosts["hzq-bes01"]["vars"]["adoption_modes"] = {"bes": True}
    (refusal,) = refuse(hosts, {"bes": ["hzq-bes01"]}, COMPONENTS, PATTERN)
    assert refusal["mode"] == "observe" and refusal["why"].endswith("not a mode")


def test_adoption_settings_given_with_extra_vars_and_unknown_declarations_are_refused():
    hosts = estate("managed")
    found = refuse(hosts, {"tomcat": ["hzq-bes01"]}, COMPONENTS, PATTERN,
                   extra_vars=["change_id", "adoption_modes", "adoption_run_components"])
    assert messages(found) == [
        "extra vars: adoption_modes given with -e: adoption settings come from the inventory and the playbook's "
        "declaration, never from the command line; allowed: set adoption_modes and adoption_changes in the inventory "
        "(docs/runbooks/adoption.md)",
        "extra vars: adoption_run_components given with -e: adoption settings come from the inventory and the "
        "playbook's declaration, never from the command line; allowed: set adoption_modes and adoption_changes in "
        "the inventory (docs/runbooks/adoption.md)",
        "playbook: adoption_run_components.tomcat: unknown component; allowed: one of backup, bes, kingbase, "
        "migration, os, platform_lb, preview, preview_cache",
    ]


# --- the filters' adapters -------------------------------------------------------------------------------

class FakeHostVars(dict):
    class _Manager:
        extra_vars = {"change_id": "CR-2026-0142", "adoption_mode_default": "managed"}

    _variable_manager = _Manager()


def test_the_filters_read_hostvars():
    hostvars = FakeHostVars({
        "hzq-kb01": {"group_names": ["hongze", "kingbase"], "adoption_mode_default": "observe", "other": 1},
        "hzq-bes01": {"group_names": ["hongze", "bes"], "adoption_mode_default": "observe"},
    })
    assert adoption_problems(hostvars, ["hzq-kb01", "hzq-bes01"], COMPONENTS, PATTERN) == []
    found = adoption_refusals(hostvars, {"kingbase": ["hzq-kb01", "hzq-bes01"]}, COMPONENTS, PATTERN,
                              ["hzq-kb01", "hzq-bes01"])
    assert [(r["host"], r["component"]) for r in found] == [("extra vars", None), ("hzq-kb01", "kingbase")]


def test_a_change_id_must_match_as_a_whole():
    assert change_id_valid("CR-2026-0142", PATTERN)
    for bad in ("CR-2026-0142\n", "CR-2026-0142 ", " CR-2026-0142", "CR-2026-0142\nrm -rf /", "", None, 20260142):
        assert not change_id_valid(bad, PATTERN), repr(bad)
