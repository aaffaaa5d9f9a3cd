"""Every boolean option of the roles' argument specs is checked by inventory_validate (a quoted "false" is a
string, truthy in a `when:`, and an argument spec's bool type converts it silently), except the switches given
per run with -e, which arrive as strings and are read with `| bool`."""
import pathlib

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
# Given per run (-e key=value is always a string): read with `| bool` where used.
RUN_SWITCHES = {
    "change_control_required", "change_control_controller_plays", "inventory_validate_fail_on_problems",
    "inspection_deep", "inspection_report_deep", "bes_inspect_heap_attach", "platform_lb_hold"}


def bool_options():
    found = set()
    for spec in sorted(ROOT.glob("roles/*/meta/argument_specs.yml")):
        for entry in (yaml.safe_load(spec.read_text()).get("argument_specs") or {}).values():
            for name, option in (entry.get("options") or {}).items():
                if option.get("type") == "bool":
                    found.add(name)
    return found


def checked():
    return set(yaml.safe_load((ROOT / "roles/inventory_validate/defaults/main.yml").read_text())["inventory_validate_booleans"])


def test_every_boolean_option_an_inventory_sets_is_checked():
    assert bool_options() - RUN_SWITCHES - checked() == set()


def test_the_checked_list_names_only_real_boolean_options():
    assert checked() - bool_options() == set()
    assert checked() & RUN_SWITCHES == set()
