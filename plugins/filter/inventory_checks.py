# -*- coding: utf-8 -*-
"""Inventory validation for huaian-platform-ops.

`check_inventory()` is a pure function over plain dictionaries so that it can be unit-tested without
Ansible; the `inventory_problems` filter adapts Ansible's hostvars to it. Every problem is reported,
never only the first, each naming host, variable, value and what is allowed.
"""
from __future__ import annotations

import re

try:
    import netaddr
except ImportError:  # pragma: no cover - the venv always has it; the filter says so if not
    netaddr = None

DOCUMENTATION = r"""
name: inventory_problems
short_description: List every problem in an inventory against the project's inventory rules
description:
  - Takes C(hostvars), the list of hosts to check and the rules from the C(inventory_validate) role.
  - Returns a list of problems; each has C(host), C(variable), C(value), C(allowed) and C(message).
positional: hosts, rules
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
  rules:
    description: The rule set (see roles/inventory_validate/defaults/main.yml).
    type: dict
    required: true
"""

SECRET_NAME = re.compile(r"(pass(word|phrase)?|secret|token|private_key|vault_)", re.IGNORECASE)
MISSING = object()


def render(variable, value):
    """A value as it may appear in an error message: secrets are never shown."""
    if value is MISSING:
        return "(not set)"
    if SECRET_NAME.search(variable or ""):
        return "(redacted)"
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def problem(host, variable, value, allowed, what):
    shown = render(variable, value)
    return {
        "host": host,
        "variable": variable,
        "value": shown,
        "allowed": allowed,
        "message": "%s: %s = %s: %s; allowed: %s" % (host, variable, shown, what, allowed),
    }


def valid_ip(value):
    if not isinstance(value, str) or netaddr is None:
        return False
    return netaddr.valid_ipv4(value, flags=netaddr.INET_PTON) or netaddr.valid_ipv6(value)


def parse_cidr(value):
    if not isinstance(value, str) or "/" not in value or netaddr is None:
        return None
    try:
        return netaddr.IPNetwork(value)
    except (netaddr.AddrFormatError, ValueError, TypeError):
        return None


def _blank(value):
    return value is MISSING or value is None or (isinstance(value, str) and not value.strip())


def check_addresses(hosts, rules, out):
    network_connections = set(rules.get("address_connections", []))
    platform_groups = rules.get("platform_groups", [])
    subnet_var = rules.get("platform_subnet_var", "platform_subnet")
    seen = {}
    bad_subnets = set()
    for name in sorted(hosts):
        hv = hosts[name]["vars"]
        connection = hv.get("ansible_connection", MISSING)
        if connection is not MISSING and connection not in network_connections:
            continue  # local, podman, ...: ansible_host is not a network address there
        address = hv.get("ansible_host", MISSING)
        if _blank(address):
            out.append(problem(name, "ansible_host", address, "an IPv4 or IPv6 address",
                               "no address (the operator fills it in)"))
            continue
        if not valid_ip(address):
            out.append(problem(name, "ansible_host", address, "an IPv4 or IPv6 address", "not an IP address"))
            continue
        canonical = str(netaddr.IPAddress(address))
        seen.setdefault(canonical, []).append(name)
        subnet = hv.get(subnet_var, MISSING)
        platform = [g for g in hosts[name]["groups"] if g in platform_groups]
        if _blank(subnet):
            continue
        network = parse_cidr(subnet)
        if network is None:
            key = (tuple(platform), str(subnet))
            if key not in bad_subnets:
                bad_subnets.add(key)
                out.append(problem("group " + (platform[0] if platform else "?"), subnet_var, subnet,
                                   "a network in CIDR form, e.g. 10.20.30.0/24", "not a CIDR network"))
            continue
        if netaddr.IPAddress(address) not in network:
            out.append(problem(name, "ansible_host", address,
                               "an address inside %s = %s (%s)" % (subnet_var, subnet, ", ".join(platform)),
                               "outside the platform's subnet"))
    for address, names in sorted(seen.items()):
        if len(names) > 1:
            for name in names:
                others = ", ".join(n for n in names if n != name)
                out.append(problem(name, "ansible_host", address, "an address no other host uses",
                                   "duplicate address, also used by " + others))


def check_platforms(hosts, rules, out):
    platform_groups = rules.get("platform_groups", [])
    if not platform_groups:
        return
    for name in sorted(hosts):
        member = [g for g in hosts[name]["groups"] if g in platform_groups]
        if len(member) != 1:
            out.append(problem(name, "group_names", member or MISSING,
                               "exactly one platform group of: " + ", ".join(platform_groups),
                               "in %d platform groups" % len(member)))


def check_required(hosts, rules, out):
    for group, variables in sorted((rules.get("required_vars") or {}).items()):
        for name in sorted(hosts):
            if group != "all" and group not in hosts[name]["groups"]:
                continue
            for variable in variables:
                value = hosts[name]["vars"].get(variable, MISSING)
                if _blank(value):
                    out.append(problem(name, variable, value, "a value (required on hosts in group %s)" % group,
                                       "required variable missing"))


def check_allowed_values(hosts, rules, out):
    for variable, allowed in sorted((rules.get("allowed_values") or {}).items()):
        for name in sorted(hosts):
            value = hosts[name]["vars"].get(variable, MISSING)
            if value is MISSING or value is None:
                continue
            if value not in allowed:
                out.append(problem(name, variable, value, "one of " + ", ".join(map(str, allowed)),
                                   "value not allowed"))


def check_booleans(hosts, rules, out):
    for variable in sorted(rules.get("booleans") or []):
        for name in sorted(hosts):
            value = hosts[name]["vars"].get(variable, MISSING)
            if value is MISSING or value is None or isinstance(value, bool):
                continue
            what = "a string, not a boolean" if isinstance(value, str) else "not a boolean"
            out.append(problem(name, variable, value, "true or false (unquoted YAML booleans)", what))


def check_removed(hosts, rules, out):
    for variable, hint in sorted((rules.get("removed_vars") or {}).items()):
        for name in sorted(hosts):
            if variable in hosts[name]["vars"]:
                out.append(problem(name, variable, hosts[name]["vars"][variable], hint,
                                   "variable was removed"))


def check_clusters(hosts, rules, out):
    for spec in rules.get("clusters") or []:
        group, name_var, role_var = spec["group"], spec["name_var"], spec["role_var"]
        leader, follower = spec.get("leader", "primary"), spec.get("follower", "standby")
        min_followers = int(spec.get("min_followers", 1))
        clusters = {}
        for name in sorted(hosts):
            if group not in hosts[name]["groups"]:
                continue
            cluster = hosts[name]["vars"].get(name_var, MISSING)
            if _blank(cluster):
                continue  # reported by required_vars
            clusters.setdefault(cluster, []).append(name)
        for cluster, members in sorted(clusters.items()):
            roles = {m: hosts[m]["vars"].get(role_var, MISSING) for m in members}
            leaders = [m for m, r in roles.items() if r == leader]
            followers = [m for m, r in roles.items() if r == follower]
            where = "%s %s (%s)" % (name_var, cluster, ", ".join(members))
            if len(leaders) != 1:
                for member in (leaders or members):
                    out.append(problem(member, role_var, roles[member],
                                       "exactly one %s per cluster" % leader,
                                       "%d hosts are %s in %s" % (len(leaders), leader, where)))
            if len(followers) < min_followers:
                out.append(problem(members[0], role_var, roles[members[0]],
                                   "at least %d %s per cluster" % (min_followers, follower),
                                   "%d %s in %s" % (len(followers), follower, where)))


CHECKS = (check_addresses, check_platforms, check_required, check_allowed_values, check_booleans,
          check_removed, check_clusters)


def check_inventory(hosts, rules):
    """Return every problem found.

    hosts: {inventory_hostname: {"groups": [group, ...], "vars": {name: value}}}
    rules: see roles/inventory_validate/defaults/main.yml (keys without the role prefix).
    """
    if netaddr is None:
        return [problem("controller", "netaddr", MISSING, "the netaddr Python package in the controller venv",
                        "not installed")]
    out = []
    for check in CHECKS:
        check(hosts, rules, out)
    return out


def wanted_variables(rules):
    names = {"ansible_host", "ansible_connection", rules.get("platform_subnet_var", "platform_subnet")}
    for variables in (rules.get("required_vars") or {}).values():
        names.update(variables)
    names.update((rules.get("allowed_values") or {}).keys())
    names.update(rules.get("booleans") or [])
    names.update((rules.get("removed_vars") or {}).keys())
    for spec in rules.get("clusters") or []:
        names.update((spec["name_var"], spec["role_var"]))
    return names


def inventory_problems(hostvars, hosts, rules):
    """Filter: adapt Ansible hostvars (lazy, templated) to check_inventory."""
    names = wanted_variables(rules)
    plain = {}
    for host in hosts:
        hv = hostvars[host]
        plain[host] = {
            "groups": list(hv.get("group_names", [])),
            "vars": {n: hv[n] for n in names if n in hv},
        }
    return check_inventory(plain, rules)


class FilterModule(object):
    def filters(self):
        return {"inventory_problems": inventory_problems}
