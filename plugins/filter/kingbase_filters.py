# -*- coding: utf-8 -*-
"""Filters for Kingbase output read on the controller."""
from __future__ import annotations

import re

DOCUMENTATION = r"""
name: repmgr_cluster_show
short_description: Parse the table printed by C(repmgr cluster show)
description:
  - Returns one dict per node with C(id), C(name), C(role), C(status), C(upstream), C(location),
    C(running) (status mentions running), C(marked_primary) (status starts with C(*)) and
    C(flags) (C(!) role differs from metadata, C(?) unreachable).
options:
  _input:
    description: The command's stdout.
    type: str
    required: true
"""


def repmgr_cluster_show(text):
    rows = []
    header = None
    for line in (text or "").splitlines():
        if "|" not in line:
            continue
        cells = [c.strip() for c in line.split("|")]
        if header is None:
            header = [c.lower() for c in cells]
            continue
        row = dict(zip(header, cells))
        status = row.get("status", "")
        try:
            node_id = int(row.get("id", ""))
        except ValueError:
            node_id = None
        rows.append({
            "id": node_id,
            "name": row.get("name", ""),
            "role": row.get("role", ""),
            "status": status,
            "upstream": row.get("upstream", ""),
            "location": row.get("location", ""),
            "running": "running" in status and "!" not in status and "?" not in status,
            "marked_primary": status.startswith("*"),
            "flags": "".join(ch for ch in "!?" if ch in status),
        })
    return rows


def kingbase_settings_lowered(live_lines, desired):
    """Names whose desired numeric value is below the live one ("name value" lines from the server).

    Hot standby refuses to run when such a setting is lower on the standby than on its primary, so a
    rolling change that lowers one must change the primary first.
    """
    lowered = []
    for line in live_lines or []:
        parts = str(line).split()
        if len(parts) != 2 or parts[0] not in desired:
            continue
        try:
            live, wanted = int(parts[1]), int(str(desired[parts[0]]))
        except ValueError:
            continue
        if wanted < live:
            lowered.append(parts[0])
    return sorted(lowered)


def repmgr_failover_window(text):
    """Seconds repmgrd waits, once the primary stops answering, before it starts a failover: reconnect_attempts x
    reconnect_interval of a repmgr.conf's text (repmgr's defaults 6 x 10 when a key is absent)."""
    keys = {}
    for raw in (text or "").splitlines():
        line = raw.split("#", 1)[0].strip()
        if "=" in line:
            key, value = line.split("=", 1)
            keys[key.strip()] = value.strip().strip("'\"")
    try:
        return int(keys.get("reconnect_attempts", 6)) * int(keys.get("reconnect_interval", 10))
    except ValueError:
        return None

# --- initdb-time attributes (K43) ----------------------------------------------------------------------------
# Fixed by initdb for the life of a cluster; the names are those sys_settings reports.
INITDB_ATTRIBUTES = ("database_mode", "enable_ci", "data_checksums", "server_encoding", "lc_collate", "lc_ctype")
DATABASE_MODES = ("pg", "oracle", "mysql")
# The option spellings (UNCONFIRMED for KingbaseES; the role's kingbase_initdb_*_option variables).
DEFAULT_SPELLINGS = {"database_mode": "-m", "enable_ci": "--enable-ci", "data_checksums": "-k",
                     "encoding": "-E", "locale": "--locale="}
# PostgreSQL-style long forms that initdb also takes; read (never written) when planning.
_LONG_FORMS = {"database_mode": "--dbmode=", "data_checksums": "--data-checksums", "encoding": "--encoding=",
               "lc_collate": "--lc-collate=", "lc_ctype": "--lc-ctype="}


def _spellings(spellings):
    out = dict(DEFAULT_SPELLINGS)
    out.update(dict((k, v) for k, v in (spellings or {}).items() if v))
    unknown = sorted(set(out) - set(DEFAULT_SPELLINGS))
    if unknown:
        raise ValueError("unknown initdb option name(s): %s (allowed: %s)" % (", ".join(unknown), ", ".join(sorted(DEFAULT_SPELLINGS))))
    return out


def _with_value(spelling, value):
    """An option with its value: one word when the spelling ends in '=' (--locale=), else two (-E UTF8)."""
    return [spelling + value] if spelling.endswith("=") else [spelling, value]


def kingbase_initdb_argv(attributes, spellings=None):
    """The initdb options that create a cluster with these attributes.

    attributes: {database_mode ('' = not given: initdb's own default), enable_ci (bool), data_checksums (bool),
    encoding ('' = not given), locale ('' = not given)}; spellings: {database_mode, enable_ci, data_checksums,
    encoding, locale} -> the option as this initdb spells it (a trailing '=' joins option and value).
    Order: encoding, locale, database mode, enable_ci, data checksums (the greenfield defaults give exactly
    ["-E", "UTF8", "--locale=zh_CN.UTF-8"]). An unknown database mode or a non-boolean switch is a ValueError.
    """
    attributes = attributes or {}
    sp = _spellings(spellings)
    mode = str(attributes.get("database_mode") or "").strip().lower()
    if mode and mode not in DATABASE_MODES:
        raise ValueError("database_mode must be one of %s or empty, got %r" % (", ".join(DATABASE_MODES), mode))
    for name in ("enable_ci", "data_checksums"):
        if not isinstance(attributes.get(name, False), bool):
            raise ValueError("%s must be a boolean, got %r" % (name, attributes.get(name)))
    argv = []
    if attributes.get("encoding"):
        argv += _with_value(sp["encoding"], str(attributes["encoding"]))
    if attributes.get("locale"):
        argv += _with_value(sp["locale"], str(attributes["locale"]))
    if mode:
        argv += _with_value(sp["database_mode"], mode)
    if attributes.get("enable_ci"):
        argv.append(sp["enable_ci"])
    if attributes.get("data_checksums"):
        argv.append(sp["data_checksums"])
    return argv


def kingbase_initdb_planned(options, spellings=None, default_database_mode="pg"):
    """The initdb-time attributes a cluster made with these initdb options will report (sys_settings names and
    forms: on/off for the switches), read from the option list itself so an operator's own
    kingbase_initdb_options is judged as given. Not given: database_mode is default_database_mode (what this
    initdb makes without the option; '' or None: unknown), enable_ci and data_checksums are off, encoding and
    locale are None (initdb takes them from its environment: unknown).
    """
    sp = _spellings(spellings)
    out = {"database_mode": (str(default_database_mode).strip().lower() or None) if default_database_mode else None,
           "enable_ci": "off", "data_checksums": "off", "server_encoding": None, "lc_collate": None, "lc_ctype": None}
    valued = [("database_mode", sp["database_mode"]), ("database_mode", _LONG_FORMS["database_mode"]),
              ("encoding", sp["encoding"]), ("encoding", _LONG_FORMS["encoding"]),
              ("locale", sp["locale"]), ("lc_collate", _LONG_FORMS["lc_collate"]), ("lc_ctype", _LONG_FORMS["lc_ctype"])]
    switches = [("enable_ci", sp["enable_ci"]), ("data_checksums", sp["data_checksums"]),
                ("data_checksums", _LONG_FORMS["data_checksums"])]
    options = [str(o) for o in (options or [])]
    i = 0
    while i < len(options):
        word = options[i]
        i += 1
        for name, spelling in switches:
            if word == spelling:
                out[name] = "on"
        for name, spelling in valued:
            if spelling.endswith("="):
                if not word.startswith(spelling):
                    continue
                value = word[len(spelling):]
            elif word == spelling and i < len(options):
                value = options[i]
                i += 1
            else:
                continue
            if name == "database_mode":
                out["database_mode"] = value.strip().lower()
            elif name == "encoding":
                out["server_encoding"] = value
            elif name == "locale":
                out["lc_collate"] = out["lc_ctype"] = value
            else:
                out[name] = value
            break
    return out


def kingbase_initdb_read(stdout):
    """The initdb-time attributes from "name|setting" lines (ksql -At on sys_settings): every name of
    INITDB_ATTRIBUTES, None for one the server did not report."""
    out = dict((name, None) for name in INITDB_ATTRIBUTES)
    for line in (stdout or "").splitlines():
        name, sep, value = line.partition("|")
        if sep and name.strip() in out:
            out[name.strip()] = value.strip()
    return out


def repmgr_conf_value(value):
    """A repmgr.conf value as the vendor's deployer writes it: numbers and booleans bare, the rest single-quoted."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return "'%s'" % str(value).replace("'", "\\'")


def repmgr_settings_problems(settings, ownership, vip, vendor_vip):
    """Inputs of the cluster role that cannot be right on this host, one sentence each (variable, value, allowed)."""
    problems = []
    for name in sorted(settings or {}, key=str):
        if not re.match(r"^[a-z_][a-z0-9_]*$", str(name)):
            problems.append("kingbase_cluster_repmgr_settings key %r : not a repmgr.conf key; allowed: lower-case letters, "
                            "digits and _" % (name,))
    if settings and ownership != "block":
        problems.append("kingbase_cluster_repmgr_settings = %s : only for a vendor's cluster (kingbase_config_ownership: "
                        "block); on a cluster the project installed set the kingbase_cluster_* variables" % sorted(settings))
    vendor_ip = str(vendor_vip or "").split("/")[0]
    if ownership == "block" and vip and vendor_ip != str(vip):
        problems.append("kingbase_cluster_vip = %s : on a vendor's cluster kbha holds the virtual IP of repmgr.conf "
                        "(virtual_ip = %s); the project adds no second mechanism; allowed: %s"
                        % (vip, vendor_ip or "(none)", "the same address" if vendor_ip else
                           "empty, or virtual_ip set through the vendor's tools first"))
    return problems


def repmgr_node_name(host, hostvars):
    """The name repmgr knows a host by (repmgr.conf's node_name, which is also the standby's application_name
    on the primary). A vendor's installer names the nodes node1, node2, ... whatever the host is called
    (UNCONFIRMED that every installer version does): the inventory's kingbase_cluster_node_name if set, else
    the node_name discovery read from the host's repmgr.conf, else the inventory name (a cluster the project
    built names its nodes so)."""
    hv = hostvars[host] if host in hostvars else {}
    override = hv.get("kingbase_cluster_node_name")
    if isinstance(override, str) and override:
        return override
    facts = hv.get("discovery_facts") or {}
    kingbase = facts.get("kingbase") if isinstance(facts, dict) else None
    repmgr = (kingbase or {}).get("repmgr") if isinstance(kingbase, dict) else None
    name = (((repmgr or {}).get("keys") or {}).get("node_name")) if isinstance(repmgr, dict) else None
    return name if isinstance(name, str) and name else host


def repmgr_node_names(hosts, hostvars):
    """repmgr_node_name of each host, in order."""
    return [repmgr_node_name(h, hostvars) for h in hosts or []]


def _read(reads, key):
    for res in reads or []:
        item = res.get("item") or {}
        if item.get("key") == key and "stdout" in res:
            return res
    return None


def kingbase_cluster_deviations(host, members, hostvars, reads, shown=None, license=None, cluster=None,
                                kbha_marker="kbha -A daemon"):
    """The cluster health check of one node (kingbase_cluster's verify entry point): every deviation from a
    healthy cluster, as sentences naming inventory hosts (with the repmgr name when it differs).

    members: the cluster's inventory hosts; hostvars: their variables (kingbase_state of each, node names);
    reads: the verify task's loop results keyed by item.key (receiver, senders, cluster_show, repmgrd, crontab);
    shown: results of `show <setting>` with item.key / item.value; license: kingbase_license_check's result
    ({fail, message})."""
    hv = hostvars[host]
    state = hv.get("kingbase_state") or {}
    names = dict(zip(members, repmgr_node_names(members, hostvars)))

    def label(m):
        return m if names.get(m, m) == m else "%s (repmgr node %s)" % (m, names[m])

    p = []
    r = {k: _read(reads, k) for k in ("receiver", "senders", "cluster_show", "repmgrd", "crontab")}
    primaries = [m for m in members if m in hostvars and isinstance(hostvars[m].get("kingbase_state"), dict)
                 and hostvars[m]["kingbase_state"].get("running") and not hostvars[m]["kingbase_state"].get("in_recovery")]
    if not state.get("running"):
        p.append("server not running")
    else:
        if len(primaries) != 1:
            p.append("cluster %s has %d running primaries (%s); exactly 1 expected" % (cluster, len(primaries), ", ".join(primaries)))
        if state.get("in_recovery"):
            receiver = (r["receiver"] or {}).get("stdout", "")
            if receiver != "streaming":
                p.append("standby not streaming (wal receiver: %s)" % (receiver or "none"))
        else:
            lines = (r["senders"] or {}).get("stdout_lines") or ((r["senders"] or {}).get("stdout") or "").splitlines()
            streaming = [ln.rsplit(" ", 1)[0] for ln in lines if ln.endswith(" streaming")]
            for m in members:
                if m != host and names[m] not in streaming:
                    p.append("primary has no streaming replication to %s" % label(m))
        nodes = repmgr_cluster_show((r["cluster_show"] or {}).get("stdout", ""))
        marked = [n for n in nodes if n["marked_primary"] and n["running"]]
        if len(marked) != 1:
            p.append("repmgr cluster show lists %d running primaries; 1 expected" % len(marked))
        for m in members:
            row = next((n for n in nodes if n["name"] == names[m]), None)
            if row is None:
                p.append("repmgr cluster show does not list %s" % label(m))
            elif not row["running"] or row["role"] not in ("primary", "standby"):
                p.append("repmgr cluster show: %s is %s / %s" % (label(m), row["role"], row["status"]))
        for s in shown or []:
            item = s.get("item") or {}
            if "stdout" in s and s["stdout"] != str(item.get("value")):
                p.append("setting %s is %s, configured %s" % (item.get("key"), s["stdout"], item.get("value")))
    if license and license.get("fail"):
        message = license.get("message") or ""
        prefix = host + ": "
        p.append(message[len(prefix):] if message.startswith(prefix) else message)
    if (r["repmgrd"] or {}).get("rc", 1) != 0:
        p.append("repmgrd not running")
    if kbha_marker not in ((r["crontab"] or {}).get("stdout") or ""):
        p.append("kbha keep-alive crontab entry missing")
    return p


class FilterModule(object):
    def filters(self):
        return {
            "repmgr_cluster_show": repmgr_cluster_show,
            "kingbase_settings_lowered": kingbase_settings_lowered,
            "repmgr_failover_window": repmgr_failover_window,
            "repmgr_conf_value": repmgr_conf_value,
            "repmgr_settings_problems": repmgr_settings_problems,
            "kingbase_initdb_argv": kingbase_initdb_argv,
            "kingbase_initdb_planned": kingbase_initdb_planned,
            "kingbase_initdb_read": kingbase_initdb_read,
            "repmgr_node_name": repmgr_node_name,
            "repmgr_node_names": repmgr_node_names,
            "kingbase_cluster_deviations": kingbase_cluster_deviations,
        }
