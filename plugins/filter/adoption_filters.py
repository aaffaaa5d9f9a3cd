# -*- coding: utf-8 -*-
"""Observe before manage: the adoption rules (docs/runbooks/adoption.md).

The estate was installed by the vendors. Until a component's discovery has been reviewed, the project only
observes it on that host; managing it is an explicit inventory change with a change id:

  adoption_mode_default   observe | managed, once for the whole inventory (group_vars/all)
  adoption_modes          {component: observe | managed} per host or group, overriding the default
  adoption_changes        {component: change id} the change that switched the component to managed; required
                          beside adoption_modes.<component>: managed when the inventory's default is observe

`check_adoption()` validates these variables (reported by inventory_validate with the other inventory
problems); `refuse()` is the guard of every changing playbook (roles/adoption, entry point `guard`): which
host/component pairs of the run are not managed, with where the mode comes from. Both are pure functions over
plain dictionaries, unit-tested in tests/unit/test_adoption_filters.py; the filters adapt Ansible's hostvars.
Every problem and every refusal is reported at once, never only the first.
"""
from __future__ import annotations

import os
import re

DOCUMENTATION = r"""
name: adoption_problems
short_description: List every problem with the adoption variables of an inventory
description:
  - Takes C(hostvars), the hosts to check, the adoption components and the change id pattern.
  - Checks adoption_mode_default (set, observe or managed, one value for the whole inventory), adoption_modes
    (known components, observe or managed) and adoption_changes (known components, well-formed change ids, one
    for every component set to managed where the inventory's default is observe, none for a component that is
    not managed).
  - Returns a list of problems; each has C(host), C(variable), C(value), C(allowed) and C(message).
positional: hosts, components, id_pattern
options:
  _input:
    description: C(hostvars).
    type: dict
    required: true
  hosts:
    description: Inventory hostnames to check (normally C(groups['all'])).
    type: list
    elements: str
    required: true
  components:
    description: The adoption components (C(adoption_components), playbooks/vars/adoption.yml); only the names count.
    type: dict
    required: true
  id_pattern:
    description: Regular expression a change id must match (C(change_control_id_pattern)).
    type: str
    required: true
"""

MODES = ("observe", "managed")
# When an inventory does not say (inventory_validate reports it), nothing is managed.
SAFE_MODE = "observe"
# Set in the inventory only; a run given any of these with -e is refused (managing is an inventory change,
# and what a playbook changes is the playbook's declaration).
INVENTORY_VARS = ("adoption_mode_default", "adoption_modes", "adoption_changes")
DECLARATION_VARS = ("adoption_run_components", "adoption_components")
MISSING = object()
EXAMPLE_ID = "CR-2026-0142"
# A problem that is the same on many hosts (a group variable) is listed once, naming this many hosts.
HOSTS_SHOWN = 6


def origin(value):
    """Where a value was read from (file:line of the inventory), when Ansible's YAML loader recorded it."""
    pos = getattr(value, "ansible_pos", None)
    if not pos or not pos[0]:
        return None
    path = str(pos[0])
    here = os.getcwd()
    if path.startswith(here + os.sep):
        path = os.path.relpath(path, here)
    return "%s:%s" % (path, pos[1])


def shown(value):
    if value is MISSING:
        return "(not set)"
    text = repr(value if not isinstance(value, str) else str(value))
    return text if len(text) <= 80 else text[:77] + "..."


def _names(components):
    return sorted(components or {})


def change_id_valid(value, pattern):
    """Filter: is value a change id of this form? The whole string must match: a pattern ending in `$` would
    otherwise accept "CR-2026-0142\n" (Python's `$` also matches before a trailing newline)."""
    return isinstance(value, str) and re.fullmatch(pattern, value) is not None


_id_ok = change_id_valid


def _hosts_text(hosts):
    hosts = sorted(hosts)
    if len(hosts) <= HOSTS_SHOWN:
        return ", ".join(hosts)
    return "%s and %d more hosts" % (", ".join(hosts[:HOSTS_SHOWN]), len(hosts) - HOSTS_SHOWN)


def _problem(hosts, variable, value_text, what, allowed):
    subject = _hosts_text(hosts)
    return {"host": subject, "hosts": sorted(hosts), "variable": variable, "value": value_text, "allowed": allowed,
            "message": "%s: %s = %s: %s; allowed: %s" % (subject, variable, value_text, what, allowed)}


def _with_origin(value):
    where = origin(value) if value is not MISSING else None
    return shown(value) + (" (%s)" % where if where else "")


def inventory_default(hosts):
    """The inventory's default mode: managed only when every host says managed (one host observing is enough
    to make the inventory an observing one: a host cannot opt out of observe through the default)."""
    values = [h["vars"].get("adoption_mode_default", MISSING) for h in hosts.values()]
    if values and all(isinstance(v, str) and v == "managed" for v in values):
        return "managed"
    return SAFE_MODE


def _mapping(hv, name):
    value = hv.get(name, MISSING)
    if value is MISSING or value is None:
        return {}
    return value if isinstance(value, dict) else None


def check_adoption(hosts, components, id_pattern):
    """Every problem with the adoption variables.

    hosts: {inventory_hostname: {"groups": [...], "vars": {adoption_* name: value}}} (every inventory host)
    components: the adoption components (names; a dict's keys)
    id_pattern: the change id form (change_control_id_pattern)
    """
    names = _names(components)
    known = ", ".join(names)
    default = inventory_default(hosts)
    found = {}

    def add(host, variable, value, what, allowed):
        found.setdefault((variable, _with_origin(value), what, allowed), set()).add(host)

    observing = sorted(n for n, h in hosts.items()
                       if h["vars"].get("adoption_mode_default", MISSING) != "managed")
    for name in sorted(hosts):
        hv = hosts[name]["vars"]
        mode_default = hv.get("adoption_mode_default", MISSING)
        if mode_default is MISSING or mode_default is None or (isinstance(mode_default, str) and not mode_default.strip()):
            add(name, "adoption_mode_default", MISSING,
                "required: every inventory says whether it observes or manages what the project did not install",
                "observe (the vendors installed it) or managed (the project did), in group_vars/all")
        elif not isinstance(mode_default, str) or mode_default not in MODES:
            add(name, "adoption_mode_default", mode_default,
                "not a mode" + (" (a boolean)" if isinstance(mode_default, bool) else ""), "observe or managed")
        elif mode_default == "managed" and default != "managed":
            add(name, "adoption_mode_default", mode_default,
                "differs from the inventory's default, observe on %d hosts (e.g. %s)" % (len(observing), observing[0]),
                "one adoption_mode_default for the whole inventory (group_vars/all); manage one component on a host "
                "with adoption_modes and adoption_changes")

        modes = _mapping(hv, "adoption_modes")
        if modes is None:
            add(name, "adoption_modes", hv["adoption_modes"], "not a mapping",
                "a mapping of component to observe or managed, e.g. {kingbase: managed}")
            modes = {}
        changes = _mapping(hv, "adoption_changes")
        if changes is None:
            add(name, "adoption_changes", hv["adoption_changes"], "not a mapping",
                "a mapping of component to the change id that made it managed, e.g. {kingbase: %s}" % EXAMPLE_ID)
            changes = {}

        for component in sorted(modes, key=str):
            value = modes[component]
            variable = "adoption_modes.%s" % component
            if component not in names:
                add(name, variable, value, "unknown component", "one of " + known)
            elif not isinstance(value, str) or value not in MODES:
                add(name, variable, value, "not a mode" + (" (a boolean)" if isinstance(value, bool) else ""),
                    "observe or managed")
            elif value == "managed" and default != "managed" and changes.get(component, MISSING) is MISSING:
                add(name, variable, value,
                    "managing a component the inventory observes is a recorded change, and "
                    "adoption_changes.%s is not set" % component,
                    "adoption_changes.%s: <the change id, e.g. %s> beside it, after reviewing the discovery"
                    % (component, EXAMPLE_ID))
        for component in sorted(changes, key=str):
            value = changes[component]
            variable = "adoption_changes.%s" % component
            if component not in names:
                add(name, variable, value, "unknown component", "one of " + known)
            elif not _id_ok(value, id_pattern):
                add(name, variable, value, "not a change id",
                    "a string matching %s, e.g. %s" % (id_pattern, EXAMPLE_ID))
            elif _mode_of(hv, modes, component)[0] != "managed":
                add(name, variable, value,
                    "%s is not managed on this host (a host's or group's adoption_modes replaces the whole mapping "
                    "of its parent groups)" % component,
                    "a change id only for a component set to managed (adoption_modes.%s: managed)" % component)

    out = [_problem(hosts_, variable, value_text, what, allowed)
           for (variable, value_text, what, allowed), hosts_ in found.items()]
    return sorted(out, key=lambda p: (p["hosts"][0], p["variable"], p["message"]))


def _mode_of(hv, modes, component):
    """(mode, where it comes from) before the change-id rule."""
    if component in modes:
        value = modes[component]
        return value, "adoption_modes.%s = %s" % (component, _with_origin(value))
    value = hv.get("adoption_mode_default", MISSING)
    return (value if value is not MISSING else SAFE_MODE), (
        "adoption_mode_default = %s and no adoption_modes.%s" % (_with_origin(value), component))


def effective_mode(hv, component, default, id_pattern):
    """(mode, explanation) of one component on one host, as the guard applies it: managed only when set to
    managed and, in an observing inventory, recorded with a well-formed change id."""
    modes = _mapping(hv, "adoption_modes") or {}
    changes = _mapping(hv, "adoption_changes") or {}
    mode, said = _mode_of(hv, modes, component)
    if not isinstance(mode, str) or mode not in MODES:
        return SAFE_MODE, said + ", not a mode"
    if mode == "managed" and default != "managed":
        if component not in modes:
            return SAFE_MODE, said + ", but the inventory's default is observe"
        change = changes.get(component, MISSING)
        if not _id_ok(change, id_pattern):
            return SAFE_MODE, said + ", but adoption_changes.%s = %s is not a change id" % (component, shown(change))
        return "managed", said + ", adoption_changes.%s = %s" % (component, shown(change))
    return mode, said


def has_component(host, groups, spec):
    wanted = set((spec or {}).get("groups") or [])
    return "all" in wanted or bool(wanted & set(groups))


def refuse(hosts, scope, components, id_pattern, extra_vars=()):
    """The refusals of a changing run: one per host and component it would change that is not managed.

    hosts: every inventory host, as for check_adoption (the inventory's default needs them all)
    scope: {component: [hosts of the run the playbook would change it on]} (the declaration, --limit applied)
    components: {component: {"groups": [...], "roles": [...]}} (playbooks/vars/adoption.yml)
    extra_vars: names of the run's extra vars (-e)
    Returns [{host, component, mode, why, message}], sorted by host and component.
    """
    out = []
    for name in sorted(set(extra_vars) & set(INVENTORY_VARS + DECLARATION_VARS)):
        out.append({"host": "extra vars", "component": None, "mode": None, "why": "given with -e",
                    "message": "extra vars: %s given with -e: adoption settings come from the inventory and the "
                               "playbook's declaration, never from the command line; allowed: set adoption_modes and "
                               "adoption_changes in the inventory (docs/runbooks/adoption.md)" % name})
    for component in sorted(scope or {}):
        if component not in (components or {}):
            out.append({"host": "playbook", "component": component, "mode": None, "why": "unknown component",
                        "message": "playbook: adoption_run_components.%s: unknown component; allowed: one of %s"
                                   % (component, ", ".join(_names(components)))})
    default = inventory_default(hosts)
    pairs = []
    for component, run_hosts in sorted((scope or {}).items()):
        spec = (components or {}).get(component)
        if spec is None:
            continue
        for host in sorted(set(run_hosts or [])):
            if host not in hosts or not has_component(host, hosts[host]["groups"], spec):
                continue
            mode, why = effective_mode(hosts[host]["vars"], component, default, id_pattern)
            if mode != "managed":
                pairs.append((host, component, mode, why))
    for host, component, mode, why in sorted(pairs):
        out.append({"host": host, "component": component, "mode": mode, "why": why, "message": (
            "%s: %s is %s, from %s: this run would change it; allowed: after reviewing its discovery, "
            "adoption_modes.%s: managed and adoption_changes.%s: <change id, e.g. %s> for %s or one of its "
            "groups in the inventory" % (host, component, mode, why, component, component, EXAMPLE_ID, host))})
    return out


def _plain(hostvars, hosts):
    plain = {}
    for host in hosts:
        hv = hostvars[host]
        plain[host] = {"groups": list(hv.get("group_names", [])),
                       "vars": {n: hv[n] for n in INVENTORY_VARS if n in hv}}
    return plain


def _extra_vars(hostvars):
    """The names given with -e. HostVars keeps the run's variable manager; without it (another Ansible) the
    check is skipped rather than guessed."""
    manager = getattr(hostvars, "_variable_manager", None)
    return sorted(getattr(manager, "extra_vars", None) or {})


def adoption_problems(hostvars, hosts, components, id_pattern):
    """Filter: the adoption variables' problems (inventory_validate)."""
    return check_adoption(_plain(hostvars, hosts), components, id_pattern)


def adoption_refusals(hostvars, scope, components, id_pattern, inventory_hosts):
    """Filter: the guard's refusals (roles/adoption, entry point guard)."""
    return refuse(_plain(hostvars, inventory_hosts), scope, components, id_pattern, _extra_vars(hostvars))


class FilterModule(object):
    def filters(self):
        return {"adoption_problems": adoption_problems, "adoption_refusals": adoption_refusals,
                "change_id_valid": change_id_valid}
