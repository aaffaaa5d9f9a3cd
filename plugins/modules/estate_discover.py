#!/usr/bin/python
# -*- coding: utf-8 -*-
"""estate_discover: read what the vendors installed on a host, without changing anything."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: estate_discover
short_description: Discover the installed layout of Kingbase, BES, Redis, preview services and the host itself
description:
  - "Read-only and check-mode safe: reads C(/proc), configuration files, crontabs and the database's own
    settings; writes nothing on the host. Runs as root; every Kingbase program runs as the database's OS
    user (C(runuser)), connecting with that user's own password file (no secret passes through Ansible)."
  - "Kingbase: the running server's data directory (symbolic links resolved) and the directory of its tools
    (from the server's path, else its control chain), the configuration load chain and which file wins
    each parameter (C(sys_file_settings)), the preload list, the initdb-time attributes, repmgr.conf (from
    the kbha and repmgrd command lines), cron entries, the VIP, sys_securecmdd, the sys_rman configuration
    named by C(archive_command) and the licence fields."
  - "BES: the running JVMs' home, instance root, run user, listeners, JMX and admin console exposure, who
    installed it (C(owner): project when the unit carries O(bes_project_marker), else vendor) and how it is
    started (C(start_method) iastool, startserver or systemd, C(start_unit): the vendor's unit running it).
    Redis: ports, version, role. Preview: the units matching O(preview_unit_patterns) and their listeners.
    Host: OS, Python, architecture, firewalld, SELinux, KYSEC, mounts, running services, listeners."
  - "Every configuration value and command line goes through the baseline redaction: no secret is returned."
options:
  kingbase_sql_names:
    description: Catalog names the queries use (Kingbase's C(sys_) names; a site can correct them).
    type: dict
    default: {}
  kingbase_database:
    description: Database the discovery queries connect to (the vendor's default is C(test), K47).
    type: str
    default: test
  kingbase_user:
    description: Database account for the queries (the vendor's superuser C(system)); its password comes from the OS user's C(~/.kbpass).
    type: str
    default: system
  kingbase_host:
    description: Address the queries connect to on this host.
    type: str
    default: 127.0.0.1
  kingbase_tool_names:
    description: A directory is a Kingbase tools directory when it holds all of these.
    type: list
    elements: str
    default: [ksql, sys_ctl]
  kingbase_project_marker:
    description: >-
      Text the project's own kingbase.conf carries in its first lines (role kingbase, whole ownership); a file
      without it is the vendor's (C(config_owner)).
    type: str
    default: "role kingbase: the whole server configuration"
  bes_home_properties:
    description: JVM system properties naming the BES installation (UNCONFIRMED for BES 9.5; the lab's Tomcat stand-in uses catalina.home).
    type: list
    elements: str
    default: [bes.home, com.bes.installRoot, com.bes.home, catalina.home]
  bes_instance_properties:
    description: JVM system properties naming the BES instance root (UNCONFIRMED; catalina.base in the lab).
    type: list
    elements: str
    default: [com.bes.instanceRoot, bes.instance.root, catalina.base]
  bes_config_files:
    description: Configuration files looked for under the BES home and instance root, relative paths.
    type: list
    elements: str
    default: [conf/server.config, conf/server.xml]
  bes_project_marker:
    description: >-
      Text the unit of a BES the project installed carries in its first lines (role bes, whole ownership); a BES
      whose unit lacks it is the vendor's (C(owner)).
    type: str
    default: "role bes: the whole BES installation"
  bes_admin_ports:
    description: Ports of the BES admin console when server.config does not name one (the vendor default is 1900, §1.11).
    type: list
    elements: int
    default: [1900]
  preview_unit_patterns:
    description: systemd unit names (fnmatch) of preview and conversion services.
    type: list
    elements: str
    default: ["yozo*", "dcs*", "suwell*", "ofd*", "preview*"]
  kysec_status_command:
    description: Command printing Kylin's KYSEC state (UNCONFIRMED CLI, domain research X4); skipped when not installed.
    type: list
    elements: str
    default: [getstatus]
  timeout:
    description: Seconds each command may take.
    type: int
    default: 20
"""

EXAMPLES = r"""
- name: Discover what is installed
  estate_discover:
  become: true
  register: discovery
"""

RETURN = r"""
discovered:
  description: The host's discovered facts (host, kingbase, bes, cache, preview, errors, sources).
  returned: always
  type: dict
"""

import glob
import os
import platform
import pwd
import sys

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.huaian_discover import (
    INITDB_SETTINGS, SETTINGS, archive_tool, argv_option, argv_settings, bes_layout, bes_start, cgroup_unit, classify,
    config_owner, control_chain, cron_matching, unit_runs_database, exec_start, file_settings_analysis, kbha_entries, kingbase_bin_dir, listeners_of,
    mount_of, parse_cmdline, parse_cron, parse_ini, parse_ip_addresses, parse_licence, parse_net_listeners,
    parse_os_release, exposed, parse_redis_conf_role, parse_redis_version, parse_repmgr_conf, parse_running_units,
    parse_server_config, parse_sql_rows, parse_status, preload_list, listeners_by_uid, redact_dict, redact_text, redact_value,
    selinux_state, unit_matches, vip_state)
from ansible.module_utils.huaian_inspect_host import parse_proc_mounts, select_mounts, usage_from_statvfs

SQL_NAMES = {"settings": "sys_settings", "file_settings": "sys_file_settings", "is_in_recovery": "sys_is_in_recovery"}
# Filesystems that hold data (tmpfs and the kernel's own are left out, as df -x tmpfs would).
REAL_FS = ("ext2", "ext3", "ext4", "xfs", "btrfs", "overlay", "nfs", "nfs4", "zfs", "vfat", "jfs", "fuse.glusterfs", "gpfs")
SEP = "\t"


class Host(object):
    """The module's reads of the system, collected with the sources they came from."""

    def __init__(self, module):
        self.module = module
        self.sources = []
        self.errors = []
        self.timeout_bin = module.get_bin_path("timeout")
        self.runuser = module.get_bin_path("runuser", opt_dirs=["/usr/sbin", "/sbin"])

    def read(self, path, record=True, limit=1024 * 1024):
        try:
            with open(path, "rb") as handle:
                data = handle.read(limit).decode("utf-8", "replace")
        except (IOError, OSError):
            return None
        if record:
            self.sources.append(path)
        return data

    def run(self, argv, user=None, env=None, record=True):
        if record:
            self.sources.append(("command (as %s): " % user if user else "command: ") + " ".join(argv)[:200])
        if self.timeout_bin:
            argv = [self.timeout_bin, str(self.module.params["timeout"])] + argv
        environ = {"LC_ALL": "C"}
        environ.update(env or {})
        if user and os.geteuid() == 0 and user != "root" and self.runuser:
            try:
                environ["HOME"] = pwd.getpwnam(user).pw_dir
            except KeyError:
                return 1, "", "no such user %s" % user
            argv = [self.runuser, "-u", user, "--"] + argv
        try:
            return self.module.run_command(argv, environ_update=environ, cwd="/")
        except OSError as exc:
            return 127, "", str(exc)


def user_name(uid):
    try:
        return pwd.getpwuid(uid).pw_name
    except (KeyError, TypeError):
        return str(uid)


def processes(host):
    procs = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        base = "/proc/" + entry
        try:
            with open(base + "/cmdline", "rb") as handle:
                argv = parse_cmdline(handle.read())
            with open(base + "/status") as handle:
                status = parse_status(handle.read())
        except (IOError, OSError):
            continue
        if not argv:
            continue
        try:
            exe = os.readlink(base + "/exe")
        except OSError:
            exe = ""
        procs.append({"pid": int(entry), "ppid": status["ppid"], "uid": status["uid"], "user": user_name(status["uid"]),
                      "argv": argv, "exe": exe.replace(" (deleted)", "")})
    host.sources.append("/proc/<pid>/{cmdline,status,exe}")
    return procs


def socket_map(host):
    """({pid: [listeners]} from the processes' descriptors, {inode: listener} of every LISTEN socket)."""
    listeners = {}
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        listeners.update(parse_net_listeners(host.read(name) or ""))
    by_pid = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        inodes = []
        try:
            for fd in os.listdir("/proc/%s/fd" % entry):
                try:
                    target = os.readlink("/proc/%s/fd/%s" % (entry, fd))
                except OSError:
                    continue
                if target.startswith("socket:["):
                    inodes.append(target[8:-1])
        except OSError:
            continue
        found = listeners_of(inodes, listeners)
        if found:
            by_pid[int(entry)] = found
    return by_pid, listeners


def process_listeners(proc, listeners_by_pid, listeners):
    """A process's listeners: from its descriptors, else (unreadable) those its user owns."""
    if proc["pid"] in listeners_by_pid:
        return listeners_by_pid[proc["pid"]]
    return listeners_by_uid(listeners, proc.get("uid"))


def with_unit(proc):
    try:
        with open("/proc/%d/cgroup" % proc["pid"]) as handle:
            proc["unit"] = cgroup_unit(handle.read())
    except (IOError, OSError):
        proc["unit"] = ""
    return proc


def unit_file(host, unit):
    for base in ("/etc/systemd/system", "/usr/lib/systemd/system", "/lib/systemd/system", "/run/systemd/system"):
        text = host.read(os.path.join(base, unit), record=False)
        if text is not None:
            host.sources.append(os.path.join(base, unit))
            return text
    return None


def all_cron(host, users):
    entries = []
    for user in sorted(set(users)):
        for path in ("/var/spool/cron/crontabs/" + user, "/var/spool/cron/" + user):
            text = host.read(path)
            if text is not None:
                for entry in parse_cron(text, path):
                    entry["user"] = user
                    entries.append(entry)
    for path in ["/etc/crontab"] + sorted(glob.glob("/etc/cron.d/*")):
        text = host.read(path)
        if text is not None:
            entries.extend(parse_cron(text, path, system=True))
    return entries


def host_facts(host, params, units, listeners_by_pid, all_listeners, procs_by_pid):
    os_release = parse_os_release(host.read("/etc/os-release") or host.read("/usr/lib/os-release") or "")
    mounts = select_mounts(parse_proc_mounts(host.read("/proc/mounts") or ""), REAL_FS,
                           ["/proc*", "/sys*", "/dev*", "/run*", "/etc/hostname", "/etc/hosts", "/etc/resolv.conf", "/var/lib/containers/*", "/mnt/sandboxing*"])
    out_mounts = []
    # A file bind-mounted into a container (an SSH key, /etc/hosts) is no filesystem to report.
    for entry in [m for m in mounts if os.path.isdir(m["mount"])]:
        item = {"mount": entry["mount"], "device": entry["device"], "fstype": entry["fstype"], "readonly": entry["readonly"]}
        try:
            st = os.statvfs(entry["mount"])
            usage = usage_from_statvfs(st.f_blocks, st.f_bfree, st.f_bavail, st.f_files, st.f_ffree, st.f_frsize)
            item.update({"size_bytes": usage["size_bytes"], "used_pct": usage["used_pct"]})
        except OSError:
            pass
        out_mounts.append(item)
    firewalld = "active" if "firewalld.service" in units else (
        "inactive" if unit_file(host, "firewalld.service") is not None else "absent")
    selinux_dir = os.path.isdir("/sys/fs/selinux") and os.path.exists("/sys/fs/selinux/enforce")
    selinux = selinux_state(host.read("/sys/fs/selinux/enforce") if selinux_dir else "", selinux_dir)
    kysec = "absent"
    if params["kysec_status_command"] and host.module.get_bin_path(params["kysec_status_command"][0]):
        rc, out, err = host.run(list(params["kysec_status_command"]))
        kysec = (out or err).strip().splitlines()[0][:200] if (out or err).strip() else "rc %d" % rc
    listeners, attributed = [], set()
    for pid, found in sorted(listeners_by_pid.items()):
        proc = procs_by_pid.get(pid, {})
        for entry in found:
            item = dict(entry)
            item.update({"process": os.path.basename((proc.get("argv") or [""])[0].split()[0]) if proc.get("argv") else "",
                         "user": proc.get("user")})
            attributed.add((item["address"], item["port"]))
            listeners.append(item)
    # Sockets of processes whose descriptors root cannot read here: their owner, from the socket table.
    for entry in all_listeners.values():
        if (entry["address"], entry["port"]) not in attributed:
            attributed.add((entry["address"], entry["port"]))
            listeners.append({"address": entry["address"], "port": entry["port"], "exposed": exposed(entry["address"]),
                              "process": None, "user": user_name(entry["uid"])})
    listeners.sort(key=lambda e: (e["port"], e["address"]))
    return {"hostname": platform.node(), "os": os_release, "kernel": platform.release(), "arch": platform.machine(),
            "python": "%d.%d.%d" % sys.version_info[:3], "firewalld": firewalld, "selinux": selinux, "kysec": kysec,
            "mounts": out_mounts, "services": units, "listeners": listeners}


def kingbase_facts(host, params, classes, listeners_by_pid, all_listeners, procs_by_pid, cron, mounts, addresses):
    out = {"present": False}
    postmasters = [with_unit(p) for p in classes["kingbase"]]
    if not postmasters:
        return out
    # One server per host is the estate's layout; more are reported but only the first is described.
    pm = postmasters[0]
    errors = []
    out.update({"present": True, "running": True, "pid": pm["pid"], "os_user": pm["user"],
                "servers": len(postmasters), "errors": errors})
    argv_opts = argv_settings(pm["argv"])
    data_dir = argv_option(pm["argv"], "-D", "--pgdata") or os.path.dirname(argv_opts.get("config_file", "")) or None
    unit_text = unit_file(host, pm["unit"]) if pm["unit"].endswith(".service") else None
    unit_prog = exec_start(unit_text)
    kbha = kbha_entries(cron)
    names = params["kingbase_tool_names"]
    bin_dir, bin_source = kingbase_bin_dir(pm, unit_prog[0] if unit_prog else None, kbha,
                                           lambda d: all(os.path.exists(os.path.join(d, n)) for n in names))
    out.update({"bin_dir": bin_dir, "bin_dir_source": bin_source, "kb_home": os.path.dirname(bin_dir) if bin_dir else None,
                "control": control_chain(pm["unit"], bool(unit_prog) and unit_runs_database(*unit_prog), kbha),
                "kbha_cron": [dict((k, e[k]) for k in ("source", "schedule", "command", "active", "repmgr_conf")) for e in kbha],
                "listeners": process_listeners(pm, listeners_by_pid, all_listeners)})
    # The database's own view: settings and the file that set each.
    names_map = dict(SQL_NAMES)
    names_map.update(params["kingbase_sql_names"] or {})
    # Two queries: a site whose catalog lacks sys_file_settings (or names it otherwise) still gets its settings.
    settings_sql = ("select 's', name, replace(coalesce(setting, ''), E'\\n', ' '), coalesce(sourcefile, ''), "
                    "coalesce(sourceline::text, ''), '', '', '0' from {settings} where name in ({wanted}) "
                    "union all select 'r', 'in_recovery', case when {is_in_recovery}() then 't' else 'f' end, '', '', '', '', '0'"
                    ).format(wanted=", ".join("'%s'" % n for n in SETTINGS), **names_map)
    files_sql = ("select 'f', name, replace(coalesce(setting, ''), E'\\n', ' '), coalesce(sourcefile, ''), "
                 "coalesce(sourceline::text, ''), case when applied then 't' else 'f' end, coalesce(error, ''), seqno::text "
                 "from {file_settings}").format(**names_map)
    rows = []
    if bin_dir:
        port = None
        for entry in out["listeners"]:
            port = entry["port"]
            break
        port = port or argv_opts.get("port") or 54321
        for sql in (settings_sql, files_sql):
            rc, stdout, err = host.run([os.path.join(bin_dir, "ksql"), "-X", "-q", "-A", "-t", "-F", SEP, "-v", "ON_ERROR_STOP=1",
                                        "-h", params["kingbase_host"], "-p", str(port), "-U", params["kingbase_user"],
                                        "-d", params["kingbase_database"], "-c", sql], user=pm["user"])
            if rc != 0:
                errors.append("ksql: %s" % ((err or stdout).strip().splitlines() or ["rc %d" % rc])[0][:300])
            else:
                rows.extend(parse_sql_rows(stdout))
    else:
        errors.append("no directory holding %s found for the running server" % ", ".join(names))
    settings, file_rows, in_recovery = {}, [], None
    for row in rows:
        row = row + [""] * (8 - len(row))
        if row[0] == "s":
            settings[row[1]] = redact_value(row[1], row[2])
        elif row[0] == "f":
            file_rows.append({"name": row[1], "setting": row[2], "sourcefile": row[3], "sourceline": row[4],
                              "applied": row[5] == "t", "error": row[6], "seqno": row[7]})
        elif row[0] == "r":
            in_recovery = row[2] == "t"
    data_dir = settings.get("data_directory") or data_dir
    real = os.path.realpath(data_dir) if data_dir else None
    fs = mount_of(real, mounts) if real else None
    out.update({"data_dir": data_dir, "data_dir_real": real, "data_dir_symlink": bool(data_dir and real != data_dir),
                "data_filesystem": fs["mount"] if fs else None,
                "port": int(settings["port"]) if settings.get("port", "").isdigit() else (out["listeners"][0]["port"] if out["listeners"] else None),
                "version": settings.get("server_version"),
                "role": None if in_recovery is None else ("standby" if in_recovery else "primary"),
                "config_file": settings.get("config_file"),
                "settings": dict((k, settings[k]) for k in sorted(settings) if k not in INITDB_SETTINGS),
                "initdb": dict((k, settings.get(k)) for k in INITDB_SETTINGS),
                "preload_libraries": preload_list(settings.get("shared_preload_libraries"))})
    out["config"] = file_settings_analysis(file_rows) if file_rows else {"chain": [], "winners": {}, "overridden": [], "errors": []}
    head = (host.read(out["config_file"], limit=4096) or "") if out["config_file"] else ""
    out["config_owner"] = config_owner(head, params["kingbase_project_marker"]) if out["config_file"] else None
    # Files of the chain the server reads but sys_file_settings lists no line from (an empty es_rep.conf).
    # repmgr.conf: the kbha entry names it, then repmgrd's command line, then the deployer's place.
    repmgr_paths = [e["repmgr_conf"] for e in kbha if e.get("repmgr_conf")]
    repmgr_paths += [argv_option(p["argv"], "-f", "--config-file") for p in classes["repmgrd"]]
    if out["kb_home"]:
        repmgr_paths.append(os.path.join(out["kb_home"], "etc", "repmgr.conf"))
    repmgr_conf = next((p for p in repmgr_paths if p and os.path.exists(p)), None)
    repmgr = {"conf": repmgr_conf, "repmgrd_running": bool(classes["repmgrd"]), "keys": {}}
    if repmgr_conf:
        repmgr["keys"] = parse_repmgr_conf(host.read(repmgr_conf) or "")
    out["repmgr"] = repmgr
    out["vip"] = vip_state(repmgr["keys"].get("virtual_ip"), addresses)
    # sys_securecmdd (K42, port 8890): by its program name, or by the unit of a process listening (a site's
    # build may run it under another name).
    secure = list(classes["securecmdd"])
    for pid in listeners_by_pid:
        proc = procs_by_pid.get(pid)
        if proc is not None and proc not in secure and "securecmdd" in with_unit(proc).get("unit", ""):
            secure.append(proc)
    out["securecmdd"] = [{"user": p["user"], "unit": with_unit(p)["unit"] or None,
                          "listeners": listeners_by_pid.get(p["pid"], [])} for p in secure]
    words = [w for w in (bin_dir, out["kb_home"], "kbha", "sys_rman", "sys_backup", "repmgr", "kingbase") if w]
    out["cron"] = [dict((k, e[k]) for k in ("source", "user", "schedule", "command", "active")) for e in cron_matching(cron, words)]
    # Backups: the sys_rman configuration archive_command names (K37), the operator's sys_backup.conf (K26).
    winner = out["config"]["winners"].get("archive_command", {})
    command = settings.get("archive_command") or winner.get("setting") or ""
    tool = archive_tool(command)
    backup = {"archive_mode": settings.get("archive_mode"), "archive_command": redact_text(command), "tool": tool.get("tool"),
              "config": tool.get("config"), "stanza": tool.get("stanza"), "options": {}, "sys_backup_conf": None,
              "cron": [dict((k, e[k]) for k in ("source", "user", "schedule", "command", "active"))
                       for e in cron_matching(cron, ("sys_rman", "sys_backup"))]}
    if tool.get("config"):
        text = host.read(tool["config"])
        if text is None:
            errors.append("cannot read the sys_rman configuration %s" % tool["config"])
        else:
            backup["options"] = dict((section, redact_dict(values)) for section, values in parse_ini(text).items())
            repo = next((v.get("repo1-path") for v in parse_ini(text).values() if v.get("repo1-path")), None)
            backup["repo_path"] = repo
            backup["repo_local"] = bool(repo and os.path.isdir(repo))
    if bin_dir:
        for candidate in (os.path.join(bin_dir, "sys_backup.conf"), os.path.join(out["kb_home"] or "", "share", "sys_backup.conf")):
            if os.path.exists(candidate):
                backup["sys_backup_conf"] = candidate
                backup["sys_backup"] = redact_dict(dict((k, v) for k, v in (
                    (line.split("=", 1)[0].strip(), line.split("=", 1)[1].strip().strip("\"'"))
                    for line in (host.read(candidate) or "").splitlines()
                    if "=" in line and not line.strip().startswith("#"))))
                break
    out["backup"] = backup
    # Licence (K30/K44): license.dat beside the tools.
    licence_path = os.path.join(bin_dir, "license.dat") if bin_dir else None
    if licence_path and os.path.exists(licence_path):
        out["licence"] = dict(parse_licence(host.read(licence_path) or ""), path=licence_path)
    else:
        out["licence"] = {"path": None, "kind": "missing", "fields": {}, "valid_days": None}
    tools_conf = os.path.join(out["kb_home"], "etc", "all_nodes_tools.conf") if out["kb_home"] else None
    if tools_conf and os.path.exists(tools_conf):
        mode = os.stat(tools_conf).st_mode & 0o777
        out["all_nodes_tools_conf"] = {"path": tools_conf, "mode": "%04o" % mode}
    else:
        out["all_nodes_tools_conf"] = None
    return out


def bes_facts(host, params, classes, listeners_by_pid, all_listeners):
    instances = []
    for proc in classes["java"]:
        home, instance = bes_layout(proc["argv"], params["bes_home_properties"], params["bes_instance_properties"])
        if not home and not instance:
            continue
        with_unit(proc)
        configs, parsed = [], {}
        for root in [r for r in (instance, home) if r]:
            for rel in params["bes_config_files"]:
                path = os.path.join(root, rel)
                if os.path.exists(path) and path not in configs:
                    configs.append(path)
                    if rel.endswith("server.config") and not parsed:
                        parsed = parse_server_config(host.read(path) or "")
        listeners = process_listeners(proc, listeners_by_pid, all_listeners)
        props = dict((a[2:].split("=", 1)[0], a[2:].split("=", 1)[1]) for a in proc["argv"] if a.startswith("-D") and "=" in a)
        jmx_port = parsed.get("jmx_port") or (int(props["com.sun.management.jmxremote.port"])
                                              if props.get("com.sun.management.jmxremote.port", "").isdigit() else None)
        admin_ports = [parsed["admin_port"]] if parsed.get("admin_port") else list(params["bes_admin_ports"])

        def on(ports):
            found = [e for e in listeners if e["port"] in ports]
            return {"port": ports[0] if len(ports) == 1 else None, "listening": bool(found),
                    "addresses": sorted(set(e["address"] for e in found)), "exposed": any(e["exposed"] for e in found)}
        jmx = on([jmx_port]) if jmx_port else {"port": None, "listening": False, "addresses": [], "exposed": False}
        admin = on(admin_ports)
        admin["port"] = admin_ports[0] if admin_ports else None
        # Who installed it (the project's unit carries its marker) and how it is started.
        unit_text = unit_file(host, proc["unit"]) if proc["unit"].endswith(".service") else None
        owner = config_owner((unit_text or "")[:4096], params["bes_project_marker"])
        tools = [t for t in ("iastool", "startserver") if home and os.path.exists(os.path.join(home, "bin", t))]
        start = bes_start(owner, proc["unit"], exec_start(unit_text) if unit_text else None, tools)
        instances.append({"pid": proc["pid"], "user": proc["user"], "home": home, "instance_root": instance,
                          "java": proc["exe"], "unit": proc["unit"] or None, "config_files": configs,
                          "server_config": parsed or None, "listeners": listeners, "jmx": jmx, "admin_console": admin,
                          "owner": owner, "start_method": start["method"], "start_unit": start["unit"],
                          "start_source": start["source"],
                          "command": redact_text(" ".join(proc["argv"]))[:2000]})
    return {"present": bool(instances), "instances": instances}


def redis_facts(host, classes, listeners_by_pid, all_listeners):
    out = []
    versions = {}
    for kind in ("redis", "sentinel"):
        for proc in classes[kind]:
            with_unit(proc)
            # The program as started (Debian's redis-server is a link to redis-check-rdb, which has no --version).
            name = (proc["argv"][0].split() or [""])[0]
            exe = name if name.startswith("/") else (host.module.get_bin_path(name) or proc["exe"])
            if exe and exe not in versions:
                rc, stdout, _ = host.run([exe, "--version"])
                versions[exe] = parse_redis_version(stdout) if rc == 0 else None
            conf = None
            if proc["unit"].endswith(".service"):
                prog = exec_start(unit_file(host, proc["unit"]))
                conf = next((a for a in (prog[1] if prog else []) if a.endswith(".conf")), None)
            conf = conf or next((a for a in proc["argv"][1:] if a.endswith(".conf")), None)
            item = {"kind": kind, "pid": proc["pid"], "user": proc["user"], "version": versions.get(exe), "unit": proc["unit"] or None,
                    "config": conf, "listeners": process_listeners(proc, listeners_by_pid, all_listeners)}
            if conf:
                text = host.read(conf)
                if text is not None:
                    conf_facts = parse_redis_conf_role(text)
                    if kind == "redis":
                        item.update(conf_facts)
                    # Listeners found through the user (descriptors unreadable) narrowed to the configured port.
                    if proc["pid"] not in listeners_by_pid and conf_facts["port"]:
                        item["listeners"] = [e for e in item["listeners"] if e["port"] == conf_facts["port"]]
            out.append(item)
    return {"present": bool(out), "servers": out}


def main():
    module = AnsibleModule(
        argument_spec=dict(
            kingbase_sql_names=dict(type="dict", default={}),
            kingbase_database=dict(type="str", default="test"),
            kingbase_user=dict(type="str", default="system"),
            kingbase_host=dict(type="str", default="127.0.0.1"),
            kingbase_tool_names=dict(type="list", elements="str", default=["ksql", "sys_ctl"]),
            kingbase_project_marker=dict(type="str", default="role kingbase: the whole server configuration"),
            bes_home_properties=dict(type="list", elements="str",
                                     default=["bes.home", "com.bes.installRoot", "com.bes.home", "catalina.home"]),
            bes_instance_properties=dict(type="list", elements="str",
                                         default=["com.bes.instanceRoot", "bes.instance.root", "catalina.base"]),
            bes_config_files=dict(type="list", elements="str", default=["conf/server.config", "conf/server.xml"]),
            bes_project_marker=dict(type="str", default="role bes: the whole BES installation"),
            bes_admin_ports=dict(type="list", elements="int", default=[1900]),
            preview_unit_patterns=dict(type="list", elements="str", default=["yozo*", "dcs*", "suwell*", "ofd*", "preview*"]),
            kysec_status_command=dict(type="list", elements="str", default=["getstatus"]),
            timeout=dict(type="int", default=20),
        ),
        supports_check_mode=True,
    )
    params = module.params
    host = Host(module)
    procs = processes(host)
    procs_by_pid = dict((p["pid"], p) for p in procs)
    classes = classify(procs)
    listeners_by_pid, all_listeners = socket_map(host)
    rc, stdout, _ = host.run(["systemctl", "list-units", "--type=service", "--state=running", "--no-legend", "--plain"])
    units = parse_running_units(stdout) if rc == 0 else []
    rc, stdout, _ = host.run(["ip", "-o", "addr", "show"])
    addresses = parse_ip_addresses(stdout) if rc == 0 else []
    hostf = host_facts(host, params, units, listeners_by_pid, all_listeners, procs_by_pid)
    users = ["root"] + [p["user"] for p in classes["kingbase"]] + ["kingbase"]
    cron = all_cron(host, users)
    facts = {"host": hostf}
    try:
        facts["kingbase"] = kingbase_facts(host, params, classes, listeners_by_pid, all_listeners, procs_by_pid, cron, hostf["mounts"], addresses)
    except Exception as exc:  # one component's failure is reported, the others are still read
        facts["kingbase"] = {"present": None, "errors": ["discovery failed: %s" % exc]}
    facts["bes"] = bes_facts(host, params, classes, listeners_by_pid, all_listeners)
    facts["cache"] = redis_facts(host, classes, listeners_by_pid, all_listeners)
    preview_units = unit_matches(units, params["preview_unit_patterns"])
    facts["preview"] = {"present": bool(preview_units), "units": preview_units}
    facts["sources"] = sorted(set(host.sources))
    module.exit_json(changed=False, discovered=facts)


if __name__ == "__main__":
    main()
