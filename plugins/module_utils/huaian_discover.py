# -*- coding: utf-8 -*-
"""Pure parsing and classification for the estate_discover module (discovery of what the vendors installed).

Runs on every managed host (Python 3.7 on Kylin V10): standard library only, no 3.8+ syntax. Nothing here
reads the system; the module gathers raw text and process entries and these functions turn them into the
discovered facts. Unit-tested on the controller (tests/unit/test_discover.py).

Discovery reads what runs, not what the inventory says: the database's directories come from the running
server and its control chain, BES's from the running JVM. No value that is a secret leaves a host: every
configuration value goes through the baseline redaction (huaian_baseline.redact / mask_text).
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import os
import re

from ansible.module_utils.huaian_inspect_host import _hex_ipv4, _hex_ipv6
from ansible.module_utils.huaian_inspect_kingbase import parse_archive_command, parse_license_file
from ansible.module_utils.huaian_baseline import (
    DEFAULT_REDACT_EXEMPT, DEFAULT_REDACT_KEYS, DEFAULT_REDACT_VALUES, compile_patterns, mask_text, parse_kv, redact)

KEY_PATTERNS = compile_patterns(DEFAULT_REDACT_KEYS)
VALUE_PATTERNS = compile_patterns(DEFAULT_REDACT_VALUES)
EXEMPT_PATTERNS = compile_patterns(DEFAULT_REDACT_EXEMPT)

# Server settings discovery reports (those fixed at initdb first: a migration target must match them, K43).
INITDB_SETTINGS = ("database_mode", "enable_ci", "data_checksums", "server_encoding", "lc_collate", "lc_ctype")
SETTINGS = INITDB_SETTINGS + (
    "server_version", "server_version_num", "port", "data_directory", "config_file", "hba_file",
    "shared_preload_libraries", "archive_mode", "archive_command", "wal_level", "max_wal_size", "wal_keep_size",
    "max_connections", "shared_buffers", "listen_addresses", "synchronous_standby_names")


# --- Secrets -----------------------------------------------------------------------------------------------

def redact_value(key, value):
    """A configuration value as discovery may report it: secrets by key or by value become <redacted>."""
    if not isinstance(value, str):
        return value
    out, _ = redact({key: value}, KEY_PATTERNS, VALUE_PATTERNS, EXEMPT_PATTERNS)
    return out[key]


def redact_text(text):
    """A command line or crontab entry with every word holding a secret masked."""
    return mask_text(text, VALUE_PATTERNS)


def redact_dict(data):
    out, _ = redact(data, KEY_PATTERNS, VALUE_PATTERNS, EXEMPT_PATTERNS)
    return out


# --- Processes ---------------------------------------------------------------------------------------------

def parse_cmdline(raw):
    """/proc/<pid>/cmdline (NUL-separated bytes or text) -> argv list."""
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8", "replace")
    return [arg for arg in raw.split("\0") if arg != ""]


def parse_status(text):
    """/proc/<pid>/status -> {ppid, uid} (real uid)."""
    out = {"ppid": None, "uid": None}
    for line in (text or "").splitlines():
        key, _, value = line.partition(":")
        if key == "PPid":
            out["ppid"] = int(value.split()[0])
        elif key == "Uid":
            out["uid"] = int(value.split()[0])
    return out


def cgroup_unit(text):
    """The systemd unit (a .service or .scope) a process lives in, from /proc/<pid>/cgroup, or ''."""
    for line in (text or "").splitlines():
        path = line.split(":", 2)[-1]
        for part in reversed(path.split("/")):
            if part.endswith(".service") or part.endswith(".scope"):
                return part
    return ""


def argv_option(argv, short=None, long_=None):
    """The value of -X value / -Xvalue / --long=value / --long value in argv, or None."""
    for index, arg in enumerate(argv):
        if short:
            if arg == short and index + 1 < len(argv):
                return argv[index + 1]
            if arg.startswith(short) and len(arg) > len(short) and not arg.startswith("--"):
                return arg[len(short):]
        if long_:
            if arg.startswith(long_ + "="):
                return arg[len(long_) + 1:]
            if arg == long_ and index + 1 < len(argv):
                return argv[index + 1]
    return None


def argv_settings(argv):
    """-c name=value and --name=value server options -> {name: value}."""
    out = {}
    for index, arg in enumerate(argv):
        if arg == "-c" and index + 1 < len(argv):
            name, _, value = argv[index + 1].partition("=")
            out[name.strip().lower()] = value
        elif arg.startswith("--") and "=" in arg:
            name, _, value = arg[2:].partition("=")
            out[name.strip().lower().replace("-", "_")] = value
    return out


def java_properties(argv):
    """-Dname=value options of a JVM command line -> {name: value}."""
    out = {}
    for arg in argv:
        if arg.startswith("-D") and "=" in arg:
            name, _, value = arg[2:].partition("=")
            out[name] = value
    return out


def basename(path):
    return os.path.basename(path or "")


SERVER_NAMES = ("kingbase", "postgres")


def is_db_postmaster(proc, by_pid):
    """A database server's postmaster: a kingbase (or the lab stand-in's postgres) process with a data
    directory on its command line whose parent is not such a server (backends are the postmaster's children)."""
    argv = proc.get("argv") or []
    if not argv:
        return False
    names = {basename(argv[0]).split()[0], basename(proc.get("exe"))}
    if not names & set(SERVER_NAMES):
        return False
    if argv_option(argv, "-D", "--pgdata") is None and "config_file" not in argv_settings(argv):
        return False
    parent = by_pid.get(proc.get("ppid"))
    if parent is not None:
        pnames = {basename((parent.get("argv") or [""])[0]).split()[0], basename(parent.get("exe"))}
        if pnames & set(SERVER_NAMES) and (parent.get("argv") or [""])[0] == argv[0]:
            return False
    return True


def classify(procs):
    """Processes -> {kingbase: [postmasters], repmgrd: [...], java: [...], redis: [...], sentinel: [...],
    securecmdd: [...]} (each a process entry: pid, ppid, uid, user, argv, exe, unit)."""
    by_pid = dict((p["pid"], p) for p in procs)
    out = {"kingbase": [], "repmgrd": [], "java": [], "redis": [], "sentinel": [], "securecmdd": []}
    for proc in procs:
        argv = proc.get("argv") or []
        if not argv:
            continue
        first = argv[0]
        name = basename(first.split()[0]) if first else ""
        exe = basename(proc.get("exe"))
        if is_db_postmaster(proc, by_pid):
            out["kingbase"].append(proc)
        elif name == "repmgrd" or exe == "repmgrd":
            out["repmgrd"].append(proc)
        elif exe == "java" or name == "java":
            out["java"].append(proc)
        elif name.startswith("redis-sentinel") or (name.startswith("redis-server") and "[sentinel]" in first) \
                or (exe.startswith("redis") and "--sentinel" in argv):
            out["sentinel"].append(proc)
        elif name.startswith("redis-server") or exe == "redis-server" or exe == "redis-check-rdb":
            out["redis"].append(proc)
        elif "securecmdd" in name or "securecmdd" in exe:
            out["securecmdd"].append(proc)
    return out


# --- Sockets -----------------------------------------------------------------------------------------------

def parse_net_listeners(text):
    """/proc/net/tcp or tcp6 -> {inode: {address, port, uid}} of LISTEN sockets."""
    out = {}
    for line in (text or "").splitlines()[1:]:
        fields = line.split()
        if len(fields) < 10 or fields[3] != "0A":
            continue
        address, _, port = fields[1].partition(":")
        try:
            host = _hex_ipv6(address) if len(address) == 32 else _hex_ipv4(address)
            out[fields[9]] = {"address": host, "port": int(port, 16), "uid": int(fields[7])}
        except ValueError:
            continue
    return out


def exposed(address):
    """A listener reachable from other hosts (not loopback only)."""
    return not (address.startswith("127.") or address in ("::1", "::ffff:127.0.0.1"))


def listeners_of(socket_inodes, listeners):
    """The LISTEN sockets among a process's socket inodes, sorted by port then address."""
    found = [dict((k, v) for k, v in listeners[i].items() if k != "uid") for i in socket_inodes if i in listeners]
    for entry in found:
        entry["exposed"] = exposed(entry["address"])
    seen, out = set(), []
    for entry in sorted(found, key=lambda e: (e["port"], e["address"])):
        key = (entry["port"], entry["address"])
        if key not in seen:
            seen.add(key)
            out.append(entry)
    return out


def listeners_by_uid(listeners, uid):
    """The LISTEN sockets a user owns, for a process whose descriptors cannot be read (a container without
    CAP_SYS_PTRACE: root there cannot read another user's /proc/<pid>/fd)."""
    return listeners_of([i for i, e in listeners.items() if e.get("uid") == uid], listeners)


# --- Cron --------------------------------------------------------------------------------------------------

_CRON_FIELDS = r"(?:@\w+|\S+\s+\S+\s+\S+\s+\S+\s+\S+)"


def parse_cron(text, source, system=False):
    """A crontab (user: five fields + command; system, /etc/cron.d or /etc/crontab: a user field too) ->
    [{source, schedule, user, command, active}]: active entries and commented-out entries (a commented
    entry is often a deliberate policy, K41). Commands are redacted."""
    out = []
    pattern = re.compile(r"^\s*(#\s*)?(" + _CRON_FIELDS + r")\s+" + (r"(\S+)\s+" if system else r"()") + r"(\S.*)$")
    for line in (text or "").splitlines():
        stripped = line.strip()
        if not stripped:
            continue
        if re.match(r"^[A-Za-z_][A-Za-z0-9_]*\s*=", stripped):
            continue
        match = pattern.match(stripped)
        if not match:
            continue
        commented, schedule, user, command = match.groups()
        if commented and not re.match(r"^[0-9*@/,\-]", schedule):
            continue  # prose in a comment, not an entry
        out.append({"source": source, "schedule": " ".join(schedule.split()), "user": user or None,
                    "command": redact_text(command.strip()), "active": not commented})
    return out


def cron_matching(entries, words):
    """Cron entries whose command mentions any of words."""
    return [e for e in entries if any(w in e["command"] for w in words if w)]


def kbha_entries(entries):
    """The kbha keep-alive entries (K22/K41): {active, command, repmgr_conf, bin_dir, source, schedule}."""
    out = []
    for entry in entries:
        if "kbha" not in entry["command"] or "daemon" not in entry["command"]:
            continue
        words = entry["command"].replace(";", " ; ").split()
        kbha = next((w for w in words if basename(w) == "kbha"), "")
        conf = None
        for index, word in enumerate(words):
            if word == "-f" and index + 1 < len(words):
                conf = words[index + 1]
        item = dict(entry)
        item.update({"bin_dir": os.path.dirname(kbha) if kbha.startswith("/") else None, "repmgr_conf": conf})
        out.append(item)
    return out


# --- Kingbase ----------------------------------------------------------------------------------------------

def parse_sql_rows(text, sep="\t"):
    """ksql -A -t output (one row per line, sep between cells) -> list of cell lists."""
    rows = []
    for line in (text or "").split("\n"):
        if line.strip():
            rows.append(line.rstrip("\r").split(sep))
    return rows


def file_settings_analysis(rows):
    """sys_file_settings rows ({name, sourcefile, sourceline, seqno, setting, applied, error}) -> the load
    chain and which file wins each parameter (K39).

    Returns {chain: [files in the order the server reads them], winners: {name: {file, line, setting}},
    overridden: [{name, file, line, setting, winner_file, winner_line, winner_setting, same_value}],
    errors: [{file, line, name, error}]}. Values are redacted.
    """
    chain, winners, errors, by_name = [], {}, [], {}
    for row in sorted(rows, key=lambda r: int(r.get("seqno") or 0)):
        source = row.get("sourcefile") or ""
        if source and source not in chain:
            chain.append(source)
        if row.get("error"):
            errors.append({"file": source, "line": _int(row.get("sourceline")), "name": row.get("name") or "",
                           "error": row.get("error")})
            continue
        name = (row.get("name") or "").lower()
        if not name:
            continue
        entry = {"file": source, "line": _int(row.get("sourceline")),
                 "setting": redact_value(name, row.get("setting") or ""), "applied": bool(row.get("applied"))}
        by_name.setdefault(name, []).append(entry)
    overridden = []
    for name in sorted(by_name):
        entries = by_name[name]
        # The applied row wins; without one (e.g. a setting the server cannot change without a restart
        # while a later file changed it) the last row is the one the server will use.
        winner = next((e for e in entries if e["applied"]), entries[-1])
        winners[name] = {"file": winner["file"], "line": winner["line"], "setting": winner["setting"]}
        for entry in entries:
            if entry is winner:
                continue
            overridden.append({"name": name, "file": entry["file"], "line": entry["line"], "setting": entry["setting"],
                               "winner_file": winner["file"], "winner_line": winner["line"],
                               "winner_setting": winner["setting"], "same_value": entry["setting"] == winner["setting"]})
    return {"chain": chain, "winners": winners, "overridden": overridden, "errors": errors}


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def preload_list(value):
    """shared_preload_libraries -> list of library names in order (quotes and blanks removed)."""
    return [part.strip().strip("'\"") for part in (value or "").split(",") if part.strip().strip("'\"")]


def parse_ini(text):
    """sys_rman.conf / pgBackRest-style ini -> {section: {key: value}} (later keys win; comments dropped)."""
    out, section = {}, ""
    for raw in (text or "").splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or line.startswith(";"):
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1].strip()
            out.setdefault(section, {})
            continue
        key, sep, value = line.partition("=")
        if not sep:
            continue
        out.setdefault(section, {})[key.strip()] = value.strip()
    return out


def archive_tool(command):
    """A sys_rman archive_command -> {tool, config, stanza} (both '--config=<file>' and '--config <file>',
    K37; the parsing is the inspection's, huaian_inspect_kingbase.parse_archive_command), or {} when the
    command is not a sys_rman/pgBackRest push."""
    parsed = parse_archive_command(command or "")
    if parsed.get("tool") not in ("sys_rman", "pgbackrest"):
        return {}
    return parsed


def parse_repmgr_conf(text):
    """repmgr.conf -> {key: value} with secrets redacted (conninfo passwords, any *password* key)."""
    return redact_dict(parse_kv(text))


def parse_licence(text, today=None):
    """license.dat (K30/K44) -> {fields: {name: value} (redacted, for the record), kind: permanent | trial |
    dated | unknown, valid_days, expiry_date}. The kind is judged as the inspection judges it
    (huaian_inspect_kingbase.parse_license_file: '有效期间 0' permanent, 官方网站试用授权 trial)."""
    fields = {}
    for raw in (text or "").splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or set(line) <= set("=-*"):
            continue
        match = re.match(r"^([^:：=]+?)\s*[:：=]\s*(.*)$", line)
        if match:
            fields[match.group(1).strip()] = match.group(2).strip()
    judged = parse_license_file(text or "", today or datetime.date.today())
    return {"fields": redact_dict(fields), "kind": judged["kind"] or "unknown", "valid_days": judged["valid_days"],
            "expiry_date": judged["expiry_date"]}


def kingbase_bin_dir(postmaster, unit_exec, kbha, has_tools):
    """(bin_dir, source): the directory holding the Kingbase tools that run this server.

    The server's own path comes first (argv[0], then /proc/<pid>/exe). Where that directory does not
    hold the tools (the lab's server is PostgreSQL's postgres, docs/lab.md), the control chain names it:
    the systemd unit's ExecStart, then the kbha keep-alive entry."""
    candidates = []
    argv = postmaster.get("argv") or []
    if argv and argv[0].startswith("/"):
        candidates.append((os.path.dirname(argv[0]), "server command line"))
    if postmaster.get("exe"):
        candidates.append((os.path.dirname(postmaster["exe"]), "server executable"))
    if unit_exec:
        candidates.append((os.path.dirname(unit_exec), "systemd unit %s" % postmaster.get("unit", "")))
    for entry in kbha:
        if entry.get("bin_dir"):
            candidates.append((entry["bin_dir"], "kbha cron entry (%s)" % entry["source"]))
    for path, source in candidates:
        if has_tools(path):
            return path, source
    return (candidates[0] if candidates else (None, "not found"))


def config_owner(head, marker):
    """'project' when kingbase.conf's first lines carry the project's marker (the role wrote the file whole), else
    'vendor' (the roles then write only a managed block, kingbase_config_ownership)."""
    lines = (head or "").splitlines()[:5]
    return "project" if marker and any(marker in line for line in lines) else "vendor"


def control_chain(unit, unit_runs_db, kbha):
    """How the database is kept running (K41): systemd (a unit of its own runs it), kbha (started from cron),
    or manual (sys_monitor.sh or sys_ctl from a login, K41's deliberate manual recovery).

    The server's cgroup names the unit that started it; it counts as the database's own only when that unit
    runs the database's tools (unit_runs_db): a server started from an SSH login sits in ssh.service's or a
    session's cgroup, one kbha started in cron's."""
    active_kbha = [e for e in kbha if e["active"]]
    cron = "active" if active_kbha else ("commented" if kbha else "absent")
    if unit and unit_runs_db:
        return {"kind": "systemd", "unit": unit, "kbha_cron": cron}
    if active_kbha:
        return {"kind": "kbha", "unit": unit or None, "kbha_cron": cron}
    return {"kind": "manual", "unit": unit or None, "kbha_cron": cron}


def unit_runs_database(program, args, tool_names=("sys_ctl", "kingbase", "sys_monitor.sh", "kbha")):
    """Whether a unit's ExecStart runs the database: its program (or, for a shell wrapper, an argument) is one
    of the Kingbase start tools."""
    words = [program or ""] + list(args or [])
    return any(basename(w.strip("'\"")) in tool_names for w in words)


def vip_state(virtual_ip, addresses):
    """Whether this host holds repmgr.conf's virtual_ip ('a.b.c.d' or 'a.b.c.d/nn') among its addresses."""
    if not virtual_ip:
        return None
    address = virtual_ip.split("/")[0].strip()
    return {"address": address, "held": address in addresses}


def parse_ip_addresses(text):
    """`ip -o addr show` -> list of addresses (no prefix)."""
    out = []
    for line in (text or "").splitlines():
        words = line.split()
        for index, word in enumerate(words):
            if word in ("inet", "inet6") and index + 1 < len(words):
                out.append(words[index + 1].split("/")[0])
    return out


# --- BES ---------------------------------------------------------------------------------------------------

def bes_layout(argv, home_properties, instance_properties):
    """A JVM command line -> (home, instance_root) from the first property of each list that is set."""
    props = java_properties(argv)
    home = next((props[p] for p in home_properties if props.get(p)), None)
    instance = next((props[p] for p in instance_properties if props.get(p)), None)
    return home, instance


def parse_server_config(text):
    """BES 9.5 conf/server.config (XML, §1.11) -> {jmx_port, admin_port, listeners: [{name, port, address}]}.

    Element and attribute names vary between builds (UNCONFIRMED): any element whose tag mentions jmx
    and has a port gives the JMX port; one whose tag or name mentions admin gives the console's port."""
    import xml.etree.ElementTree as ET
    out = {"jmx_port": None, "admin_port": None, "listeners": []}
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        out["error"] = "server.config: %s" % exc
        return out
    for element in root.iter():
        tag = element.tag.split("}")[-1].lower()
        port = _int(element.get("port"))
        name = element.get("name") or element.get("id") or ""
        if port is None:
            continue
        if "jmx" in tag:
            out["jmx_port"] = port
        elif "admin" in tag or "admin" in name.lower():
            out["admin_port"] = port
        elif "listener" in tag:
            out["listeners"].append({"name": name, "port": port, "address": element.get("address") or ""})
    return out



# The vendor's start tools (B4, §1.11): iastool ... start --server (in the background) and bin/startserver (in the
# foreground), checked in this order.
BES_START_TOOLS = ("iastool", "startserver")


def bes_start(owner, unit, unit_exec, tools):
    """How a BES instance is started: {method, unit, source}.

    owner: 'project' (the bes role installed it: its own unit, method systemd) or 'vendor'. unit: the systemd unit
    the JVM lives in (cgroup); unit_exec: that unit's ExecStart (program, args) when it is a .service whose file was
    read, else None; tools: the start tools found in the home's bin/. A vendor unit that runs iastool or startserver
    (directly or through a shell) is the vendor's start: the roles restart it with systemctl and never write it. A
    server started from a login (a .scope, or no unit) has no unit to go through: the method is the first vendor
    tool the home holds, or None (unknown: the operator must say)."""
    if owner == "project":
        return {"method": "systemd", "unit": None, "source": "the project's unit %s" % (unit or "(not running)")}
    if unit and unit.endswith(".service") and unit_exec:
        program, args = unit_exec
        words = [basename(w.strip("'\";")) for w in [program or ""] + list(args or [])]
        for tool in BES_START_TOOLS:
            if tool in words:
                return {"method": tool, "unit": unit, "source": "systemd unit %s runs %s" % (unit, tool)}
        method = next((t for t in BES_START_TOOLS if t in (tools or [])), None)
        return {"method": method, "unit": unit,
                "source": "systemd unit %s runs %s; method from the tools in bin/" % (unit, basename(program or "?"))}
    method = next((t for t in BES_START_TOOLS if t in (tools or [])), None)
    return {"method": method, "unit": None,
            "source": "started outside a service unit (%s); method from the tools in bin/" % (unit or "no unit")}

# --- Redis -------------------------------------------------------------------------------------------------

def parse_redis_conf_role(text):
    """redis.conf -> {port, role, master} from port and replicaof/slaveof lines (last wins)."""
    out = {"port": None, "role": "master", "master": None}
    for raw in (text or "").splitlines():
        words = raw.split()
        if not words or words[0].startswith("#"):
            continue
        key = words[0].lower()
        if key == "port" and len(words) > 1:
            out["port"] = _int(words[1])
        elif key in ("replicaof", "slaveof") and len(words) > 2:
            out["role"], out["master"] = "replica", "%s:%s" % (words[1], words[2])
    return out


def parse_redis_version(text):
    """`redis-server --version` -> '7.0.15' or None."""
    match = re.search(r"\bv=([0-9][0-9.]*)", text or "")
    return match.group(1) if match else None


# --- Host --------------------------------------------------------------------------------------------------

def parse_os_release(text):
    fields = {}
    for line in (text or "").splitlines():
        key, sep, value = line.partition("=")
        if sep:
            fields[key.strip()] = value.strip().strip('"')
    return {"id": fields.get("ID"), "version_id": fields.get("VERSION_ID"), "name": fields.get("PRETTY_NAME") or fields.get("NAME"),
            "like": fields.get("ID_LIKE")}


def selinux_state(enforce_text, present):
    if not present:
        return "absent"
    value = (enforce_text or "").strip()
    return {"1": "enforcing", "0": "permissive"}.get(value, "disabled")


def parse_running_units(text):
    """`systemctl list-units --type=service --state=running --no-legend --plain` -> unit names."""
    out = []
    for line in (text or "").splitlines():
        words = line.split()
        if words and words[0].endswith(".service"):
            out.append(words[0])
    return sorted(out)


def unit_matches(units, patterns):
    import fnmatch
    return [u for u in units if any(fnmatch.fnmatchcase(u, p) for p in patterns)]


def exec_start(unit_text):
    """The program of a unit file's first ExecStart= line (prefixes such as '-' and '@' stripped), or None."""
    for line in (unit_text or "").splitlines():
        line = line.strip()
        if line.startswith("ExecStart="):
            value = line.split("=", 1)[1].lstrip("-@+!:")
            words = value.split()
            if words:
                return words[0], words[1:]
    return None


def mount_of(path, mounts):
    """The mount point holding path (the longest mount prefix)."""
    best = None
    for entry in mounts:
        mount = entry["mount"]
        if path == mount or path.startswith(mount.rstrip("/") + "/") or mount == "/":
            if best is None or len(mount) > len(best["mount"]):
                best = entry
    return best
