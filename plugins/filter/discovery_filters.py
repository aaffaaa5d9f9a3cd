# -*- coding: utf-8 -*-
"""Controller-side rules of discovery (playbooks/discover.yml, role discovery).

- discovery_record: the discovered-facts file of one host (what the inventory loads as discovery_facts):
  volatile values (process ids, usage percentages) left out, and the time it was read kept from the
  previous file while nothing changed, so a second discovery of an unchanged host rewrites nothing.
- discovery_declared: what the inventory says about each host (groups, node roles, layout variables).
- discovery_differences: where the inventory and the discovered host disagree, each with a zh_CN note.
- discovery_summary: counts for the 资产与配置清单.
"""
from __future__ import annotations

import copy
import json

import yaml

# Keys whose values change between two reads of an unchanged host.
VOLATILE_KEYS = ("pid", "used_pct", "size_bytes")
SCHEMA = 1

# Inventory variables that declare a layout, compared with what was discovered: (variable, component, path in
# the discovered facts, zh_CN name).
LAYOUT_VARIABLES = (
    ("kingbase_bin_dir", "kingbase", ("kingbase", "bin_dir"), "数据库程序目录"),
    ("kingbase_data_dir", "kingbase", ("kingbase", "data_dir"), "数据库数据目录"),
    ("kingbase_port", "kingbase", ("kingbase", "port"), "数据库端口"),
    ("kingbase_os_user", "kingbase", ("kingbase", "os_user"), "数据库运行用户"),
    ("bes_home", "bes", ("bes", "instances", 0, "home"), "BES 安装目录"),
    ("bes_instance_root", "bes", ("bes", "instances", 0, "instance_root"), "BES 实例目录"),
    ("bes_os_user", "bes", ("bes", "instances", 0, "user"), "BES 运行用户"),
    ("bes_start_method", "bes", ("bes", "instances", 0, "start_method"), "BES 启动方式"),
)

# Component -> the inventory group whose hosts run it.
COMPONENT_GROUPS = {"kingbase": "kingbase", "bes": "bes", "cache": "preview_cache", "preview": "preview"}
COMPONENT_ZH = {"kingbase": "金仓数据库", "bes": "BES 应用服务器", "cache": "Redis 缓存", "preview": "文档预览服务"}


def _strip_volatile(value):
    if isinstance(value, dict):
        return dict((k, _strip_volatile(v)) for k, v in value.items() if k not in VOLATILE_KEYS)
    if isinstance(value, list):
        return [_strip_volatile(v) for v in value]
    return value


def discovery_record(facts, previous=None, read_at="", read_by="playbooks/discover.yml"):
    """The content of a host's discovered-facts file.

    facts: the module's discovered facts; previous: the file's current discovery_facts (or None);
    read_at: this run's time. When the stable facts equal the previous file's, the previous read_at is
    kept (the file then says since when the host has looked like this) and the content is unchanged.
    """
    stable = _strip_volatile(copy.deepcopy(facts or {}))
    previous = previous if isinstance(previous, dict) else {}
    old = dict((k, v) for k, v in previous.items() if k not in ("schema", "read_at", "read_by"))
    same = bool(previous) and previous.get("schema") == SCHEMA and old == stable
    record = {"schema": SCHEMA, "read_at": previous.get("read_at") if same else read_at, "read_by": read_by}
    record.update(stable)
    return record


def _get(data, path):
    for part in path:
        if isinstance(part, int):
            if not isinstance(data, list) or len(data) <= part:
                return None
            data = data[part]
        else:
            if not isinstance(data, dict):
                return None
            data = data.get(part)
    return data


def discovery_declared(hostvars, hosts):
    """{host: {groups, kingbase_node_role, kingbase_cluster_name, <layout variables set in the inventory>}}."""
    out = {}
    for host in hosts:
        hv = hostvars[host]
        entry = {"groups": sorted(hv.get("group_names", [])), "ansible_host": hv.get("ansible_host")}
        for name in ("kingbase_node_role", "kingbase_cluster_name") + tuple(v[0] for v in LAYOUT_VARIABLES):
            if name in hv:
                entry[name] = hv[name]
        out[host] = entry
    return out


def _diff(host, component, item, declared, discovered, note):
    return {"host": host, "component": component, "item": item, "declared": declared, "discovered": discovered, "note": note}


def discovery_differences(facts_by_host, declared_by_host):
    """Where the inventory and the discovered hosts disagree: a list sorted by host, component, item.

    Hosts with no facts (unreachable, or discovery failed there) are reported once each."""
    out = []
    for host in sorted(declared_by_host):
        declared = declared_by_host[host]
        facts = facts_by_host.get(host)
        if not facts:
            out.append(_diff(host, "host", "discovery", "reachable", None, "未能读取该主机（不可达或发现失败），清单中的声明未经核实"))
            continue
        groups = set(declared.get("groups", []))
        for component, group in sorted(COMPONENT_GROUPS.items()):
            present = bool((facts.get(component) or {}).get("present"))
            listed = group in groups
            if present and not listed:
                out.append(_diff(host, component, "group " + group, False, True,
                                 "主机上运行着%s，但清单未将其列入 %s 组" % (COMPONENT_ZH[component], group)))
            elif listed and not present and component in ("kingbase", "bes", "cache"):
                out.append(_diff(host, component, "group " + group, True, False,
                                 "清单将主机列入 %s 组，但主机上未发现运行中的%s" % (group, COMPONENT_ZH[component])))
        kingbase = facts.get("kingbase") or {}
        role = kingbase.get("role")
        declared_role = declared.get("kingbase_node_role")
        if kingbase.get("present") and declared_role in ("primary", "standby") and role and role != declared_role:
            out.append(_diff(host, "kingbase", "kingbase_node_role", declared_role, role,
                             "清单声明为%s，实际为%s（可能发生过故障切换；核实后更新清单）" % (_role_zh(declared_role), _role_zh(role))))
        for name, component, path, zh in LAYOUT_VARIABLES:
            if name not in declared:
                continue
            value = _get(facts, path)
            if not (facts.get(component) or {}).get("present") or value is None:
                continue
            if str(declared[name]) != str(value):
                out.append(_diff(host, component, name, declared[name], value, "%s：清单为 %s，实际为 %s" % (zh, declared[name], value)))
    return out


def _role_zh(role):
    return {"primary": "主库", "standby": "备库"}.get(role, role)


def discovery_components(facts):
    """The components found running in one host's facts, in report order."""
    return [c for c in ("kingbase", "bes", "cache", "preview") if ((facts or {}).get(c) or {}).get("present")]


def discovered_config_files(facts, component):
    """The vendor's configuration files discovery found for a component, as baseline sources
    ({name, path, format}, named by their path: a role may own a file of the same name elsewhere, e.g. the
    project's own sys_rman.conf): for Kingbase the files of the load chain after kingbase.conf (es_rep.conf,
    kingbase.auto.conf, K39), the sys_rman configuration archive_command names and system crontabs with
    Kingbase entries (/etc/cron.d); for BES each instance's configuration files. [] without facts."""
    facts = facts if isinstance(facts, dict) else {}
    part = facts.get(component) or {}
    if not part.get("present"):
        return []
    out, seen = [], set()

    def add(path, fmt):
        if path and path not in seen:
            seen.add(path)
            out.append({"name": path, "path": path, "format": fmt})
    if component == "kingbase":
        config_file = part.get("config_file") or ""
        for path in (part.get("config") or {}).get("chain", []):
            if path != config_file and not path.endswith("/kingbase.conf"):
                add(path, "kv")
        backup = part.get("backup") or {}
        if backup.get("config"):
            add(backup["config"], "kv")
        if backup.get("sys_backup_conf"):
            add(backup["sys_backup_conf"], "kv")
        for entry in part.get("cron", []):
            if entry.get("source", "").startswith("/etc/cron.d/") or entry.get("source") == "/etc/crontab":
                add(entry["source"], "lines")
    elif component == "bes":
        for instance in part.get("instances", []):
            for path in instance.get("config_files", []):
                fmt = "xml" if path.endswith((".config", ".xml")) else "lines"
                add(path, fmt)
    return out


def _bes_http_listeners(part):
    """The HTTP listeners server.config declares that the JVM was found listening on: [{name, port, address}]."""
    out = []
    for instance in (part or {}).get("instances", []):
        listening = set(e["port"] for e in instance.get("listeners", []))
        for entry in (instance.get("server_config") or {}).get("listeners", []):
            if entry.get("port") in listening:
                out.append({"name": entry.get("name") or "http-listener", "port": entry["port"],
                            "address": entry.get("address") or "0.0.0.0"})
    return out


def discovered_ports(facts):
    """The ports a discovered host's components were found listening on, as os_baseline's expected ports per
    group ({group: [{port, name}]}): the database's port, BES's HTTP listeners from server.config. A
    component discovery did not find (or a layout it cannot read) keeps the inventory's list."""
    facts = facts if isinstance(facts, dict) else {}
    out = {}
    kingbase = facts.get("kingbase") or {}
    if kingbase.get("present") and kingbase.get("port"):
        out["kingbase"] = [{"port": kingbase["port"], "name": "Kingbase"}]
    bes = _bes_http_listeners(facts.get("bes"))
    if bes:
        out["bes"] = [{"port": e["port"], "name": "BES " + e["name"]} for e in bes]
    return out


def discovered_bes_listeners(facts, defaults):
    """bes_listeners for a discovered host: server.config's HTTP listeners the JVM listens on, each with the
    tuning fields of the role's first default listener; the defaults where discovery found none."""
    found = _bes_http_listeners((facts if isinstance(facts, dict) else {}).get("bes"))
    if not found:
        return defaults
    template = dict(defaults[0]) if defaults else {}
    return [dict(template, **entry) for entry in found]


def discovery_summary(facts_by_host, hosts, differences):
    """Counts for the report's first section."""
    counts = {"hosts": len(hosts), "reached": 0, "kingbase": 0, "bes": 0, "cache": 0, "preview": 0}
    for host in hosts:
        facts = facts_by_host.get(host)
        if not facts:
            continue
        counts["reached"] += 1
        for component in ("kingbase", "bes", "cache", "preview"):
            if (facts.get(component) or {}).get("present"):
                counts[component] += 1
    counts["differences"] = len(differences)
    counts["hosts_with_differences"] = len(set(d["host"] for d in differences))
    return counts


FACTS_HEADER = (
    "# GENERATED by playbooks/discover.yml (role discovery): what was found running on this host, read-only.\n"
    "# The inventory loads it as discovery_facts; roles take the layout from it (docs/adoption.md).\n"
    "# Do not edit: run discover.yml again. read_at: when these values were first read (unchanged since).\n")


def discovery_host_facts(hostvars, hosts, this_run=True):
    """{host: discovery_facts} of the hosts this run read (discovery_read set), or with this_run false of every
    host whose inventory loaded a facts file; others are left out."""
    return dict((h, hostvars[h]["discovery_facts"]) for h in hosts
                if (hostvars[h].get("discovery_read") or not this_run) and isinstance(hostvars[h].get("discovery_facts"), dict))


def _previous(path):
    """The discovery_facts of an existing facts file, or None."""
    try:
        with open(path, encoding="utf-8") as handle:
            data = yaml.safe_load(handle)
    except (OSError, yaml.YAMLError):
        return None
    return data.get("discovery_facts") if isinstance(data, dict) else None


def discovery_fact_files(hostvars, hosts):
    """report_files entries writing each read host's discovered-facts file (absolute dest in its inventory).

    The file already there is the previous record: while the host's facts are unchanged its read_at is kept,
    so the content is identical and nothing is rewritten (read from the file itself, so this holds wherever
    discovery_facts_file points)."""
    out = []
    for host, facts in sorted(discovery_host_facts(hostvars, hosts).items()):
        path = hostvars[host]["discovery_facts_path"]
        # Through JSON: Ansible's own string types (unsafe text) become plain ones safe_dump can write.
        plain = json.loads(json.dumps(facts))
        body = dict((k, v) for k, v in plain.items() if k not in ("schema", "read_at", "read_by"))
        record = discovery_record(body, _previous(path), plain.get("read_at", ""), plain.get("read_by", "playbooks/discover.yml"))
        text = yaml.safe_dump({"discovery_facts": record}, allow_unicode=True, default_flow_style=False,
                              sort_keys=True, width=120)
        out.append({"dest": path, "content": "---\n" + FACTS_HEADER + text})
    return out


class FilterModule(object):
    def filters(self):
        return {
            "discovery_record": discovery_record,
            "discovery_declared": discovery_declared,
            "discovery_differences": discovery_differences,
            "discovery_summary": discovery_summary,
            "discovery_host_facts": discovery_host_facts,
            "discovery_components": discovery_components,
            "discovered_config_files": discovered_config_files,
            "discovered_ports": discovered_ports,
            "discovered_bes_listeners": discovered_bes_listeners,
            "discovery_fact_files": discovery_fact_files,
        }
