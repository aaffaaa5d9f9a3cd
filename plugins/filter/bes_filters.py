# -*- coding: utf-8 -*-
"""Filters of the bes role: heap sizing, JDBC URLs, JVM options and the cross-field input rules.

Pure functions, unit-tested in tests/unit/test_bes_filters.py; the role's validate step and templates
call them so the rules live in one place.
"""
from __future__ import annotations

import re

VERSION_PATTERN = re.compile(r"^[0-9]+(\.[0-9]+){1,4}$")
GC_FLAGS = {"G1": "-XX:+UseG1GC", "Parallel": "-XX:+UseParallelGC", "Serial": "-XX:+UseSerialGC"}


def bes_heap_mb(memtotal_mb, ratio=0.5, max_mb=31744, min_mb=512):
    """Heap sized from host memory: ratio of RAM, rounded down to 256 MB, within [min_mb, max_mb].

    Above ~31 GB the JVM loses compressed object pointers, hence the default ceiling.
    """
    heap = int(int(memtotal_mb) * float(ratio)) // 256 * 256
    return max(int(min_mb), min(int(max_mb), heap))


def bes_pool_defaults(pool, defaults):
    """A JDBC pool with the role's defaults filled in (explicit keys win; params merged)."""
    merged = dict(defaults or {})
    merged.update(pool or {})
    params = dict((defaults or {}).get("params") or {})
    params.update((pool or {}).get("params") or {})
    merged["params"] = params
    return merged


def bes_jdbc_url(endpoints, database, scheme="kingbase8", multihost_params=None, vip="", vip_port=None):
    """The JDBC URL of a Kingbase cluster.

    endpoints: ["host:port", ...] of the cluster's members. With a VIP the URL names the VIP only (it
    follows the primary); otherwise every member is listed and multihost_params (e.g.
    targetServerType=primary) let the driver find the primary. A single member needs no parameters.
    """
    params = {}
    if vip:
        port = vip_port or (endpoints[0].rsplit(":", 1)[1] if endpoints else "54321")
        hosts = "%s:%s" % (vip, port)
    else:
        hosts = ",".join(endpoints)
        if len(endpoints) > 1:
            params.update(multihost_params or {})
    url = "jdbc:%s://%s/%s" % (scheme, hosts, database)
    if params:
        url += "?" + "&".join("%s=%s" % (k, params[k]) for k in sorted(params))
    return url


def bes_gc_options(major, gc="G1", extra=None, log=True, log_dir="", count=5, size_mb=20):
    """GC selection and GC-log options in the syntax of the given Java major version."""
    opts = [GC_FLAGS.get(gc, "-XX:+UseG1GC")] + list(extra or [])
    if log:
        path = "%s/gc.log" % log_dir.rstrip("/")
        if int(major) >= 9:
            opts.append("-Xlog:gc*,safepoint:file=%s:time,uptime,level,tags:filecount=%d,filesize=%dm"
                        % (path, int(count), int(size_mb)))
        else:
            opts += ["-Xloggc:%s" % path, "-XX:+PrintGCDetails", "-XX:+PrintGCDateStamps",
                     "-XX:+UseGCLogFileRotation", "-XX:NumberOfGCLogFiles=%d" % int(count),
                     "-XX:GCLogFileSize=%dM" % int(size_mb)]
    return opts


def _show(value):
    if value is None or value == "":
        return "(not set)"
    return repr(value) if isinstance(value, str) else str(value)


def bes_input_problems(cfg):
    """Every problem with one host's BES inputs, as 'variable = value : reason; allowed: ...' strings.

    cfg keys: version, media_exists, media_path, listeners, admin_port, os_user, os_uid, heap_mb,
    memtotal_mb, gc, pools (defaults filled), groups (inventory group -> hosts), pool_password_lengths
    (per pool), driver_files_missing, applications_missing, health_url, java_major, ownership (bes_ownership:
    on a vendor's BES no media is needed and the run user stays the vendor's).
    """
    p = []
    version = cfg.get("version") or ""
    if not VERSION_PATTERN.match(str(version)):
        p.append("bes_version = %s : not a BES version; allowed: dotted digits, e.g. 9.5.5.7266" % _show(version))
    elif not cfg.get("media_exists") and cfg.get("ownership", "whole") == "whole":
        p.append("bes_version = %s : no media %s on the controller; allowed: a version whose media is in "
                 "bes_media_dir" % (_show(version), cfg.get("media_path")))
    user = cfg.get("os_user") or ""
    # A BES the vendor installed keeps the vendor's run user (the role changes no account); inspection reports root.
    if cfg.get("ownership", "whole") != "whole":
        pass
    elif not user or user == "root" or str(cfg.get("os_uid")) == "0":
        uid = cfg.get("os_uid")
        p.append("bes_os_user = %s (uid %s) : the server never runs as root; allowed: a dedicated non-root "
                 "account, e.g. bes" % (_show(user), "unknown" if uid in (None, "") else uid))
    listeners = cfg.get("listeners") or []
    if not listeners:
        p.append("bes_listeners = [] : allowed: at least one HTTP listener")
    seen_ports = {}
    seen_names = set()
    admin_port = cfg.get("admin_port")
    for i, lst in enumerate(listeners):
        name = lst.get("name") or ""
        port = lst.get("port")
        where = "bes_listeners[%d]" % i
        if not re.match(r"^[A-Za-z0-9_.-]+$", name):
            p.append("%s.name = %s : allowed: letters, digits, '.', '_' and '-', e.g. http-listener-1" % (where, _show(name)))
        elif name in seen_names:
            p.append("%s.name = %s : used by another listener; allowed: a unique name" % (where, _show(name)))
        seen_names.add(name)
        if not str(port).isdigit() or not 1 <= int(port) <= 65535:
            p.append("%s.port = %s : allowed: 1-65535" % (where, _show(port)))
            continue
        port = int(port)
        if port in seen_ports:
            p.append("%s.port = %d : also the port of %s; allowed: one listener per port"
                     % (where, port, seen_ports[port]))
        elif admin_port is not None and str(admin_port).isdigit() and port == int(admin_port):
            p.append("%s.port = %d : also bes_admin_port; allowed: a port the admin console does not use" % (where, port))
        seen_ports[port] = name or where
        if int(lst.get("max_threads", 1)) < int(lst.get("min_spare_threads", 0)):
            p.append("%s.max_threads = %s : below min_spare_threads %s; allowed: max_threads >= min_spare_threads"
                     % (where, lst.get("max_threads"), lst.get("min_spare_threads")))
    if not str(admin_port).isdigit() or not 1 <= int(admin_port) <= 65535:
        p.append("bes_admin_port = %s : allowed: 1-65535" % _show(admin_port))
    heap, mem = int(cfg.get("heap_mb") or 0), int(cfg.get("memtotal_mb") or 0)
    if heap <= 0:
        p.append("bes_heap_size_mb = %s : allowed: a positive size in MB, or 0 to size from host memory" % heap)
    elif mem and heap >= mem:
        p.append("bes_heap_size_mb = %d : not below the host memory of %d MB; allowed: less than the host "
                 "memory (the JVM needs room beyond the heap; about half of it)" % (heap, mem))
    if cfg.get("gc") not in GC_FLAGS:
        p.append("bes_gc = %s : allowed: %s" % (_show(cfg.get("gc")), ", ".join(sorted(GC_FLAGS))))
    if not str(cfg.get("java_major", "")).isdigit():
        p.append("bes_java_major_version = %s : allowed: a Java major version, e.g. 8, 11, 17" % _show(cfg.get("java_major")))
    groups = cfg.get("groups") or {}
    pool_names = set()
    for i, pool in enumerate(cfg.get("pools") or []):
        where = "bes_jdbc_pools[%d]" % i
        name = pool.get("name") or ""
        if not re.match(r"^[A-Za-z0-9_-]+$", name):
            p.append("%s.name = %s : allowed: letters, digits, '_' and '-' (JNDI jdbc/<name>)" % (where, _show(name)))
        elif name in pool_names:
            p.append("%s.name = %s : used by another pool; allowed: a unique name" % (where, _show(name)))
        pool_names.add(name)
        cluster = pool.get("kingbase_cluster") or ""
        if not groups.get(cluster):
            p.append("%s.kingbase_cluster = %s : no such inventory group with hosts; allowed: a Kingbase cluster "
                     "group, e.g. kingbase_city_a" % (where, _show(cluster)))
        for key in ("database", "user"):
            if not pool.get(key):
                p.append("%s.%s = (not set) : allowed: a Kingbase %s name" % (where, key, key))
        lengths = cfg.get("pool_password_lengths") or []
        if i < len(lengths) and int(lengths[i]) == 0:
            p.append("%s.password = (not set) : missing from vault; allowed: a vault variable, e.g. "
                     "vault_kingbase_app_<name>_password" % where)
        if int(pool.get("min_idle", 0)) > int(pool.get("max_total", 1)):
            p.append("%s.min_idle = %s : above max_total %s; allowed: min_idle <= max_total"
                     % (where, pool.get("min_idle"), pool.get("max_total")))
    for path in cfg.get("driver_files_missing") or []:
        p.append("bes_jdbc_driver_files: %s : no such file on the controller; allowed: an existing jar" % path)
    if cfg.get("pools") and not cfg.get("driver_files_count"):
        p.append("bes_jdbc_driver_files = [] : JDBC pools need the driver jar; allowed: the Kingbase JDBC jar's path")
    for path in cfg.get("applications_missing") or []:
        p.append("bes_applications: %s : no such file on the controller; allowed: an existing .war" % path)
    return p


OWNERSHIPS = ("whole", "vendor")
START_METHODS = ("systemd", "iastool", "startserver")
# The vendor's files the role can render on a BES the vendor installed (bes_vendor_config_files), each with the
# variable naming its template.
VENDOR_FILES = {"server.config": "bes_server_config_template"}
# Entry points that switch BES_HOME between the project's version trees.
VERSION_SWITCHES = ("upgrade", "rollback")


def bes_ownership_problems(cfg):
    """Every way this run would change what the vendor owns, or could not run, on one host; one sentence each.

    cfg keys: ownership (bes_ownership), start_method, start_unit, discovered (discovery_facts.bes.present),
    vendor_files (bes_vendor_config_files), templates ({variable: template} of those files), commands
    ({variable: command} of the start method in use), driver_files, license_src, applications, action (the
    entry point the playbook runs: main, tune, upgrade, rollback).
    """
    p = []
    ownership, method = cfg.get("ownership"), cfg.get("start_method")
    if ownership not in OWNERSHIPS:
        p.append("bes_ownership = %s : allowed: whole (a BES the project installs from media and owns) or vendor "
                 "(a BES the vendor installed: its tree, run user and start stay the vendor's)" % _show(ownership))
    if method not in START_METHODS:
        p.append("bes_start_method = %s : allowed: %s (on a BES the vendor installed, from discovery: what its unit or "
                 "its bin/ runs)" % (_show(method), ", ".join(START_METHODS)))
    elif ownership == "whole" and method != "systemd":
        p.append("bes_start_method = %s with bes_ownership = whole : a BES the project installs runs under the role's "
                 "own unit; allowed: systemd" % _show(method))
    elif ownership == "vendor" and method == "systemd":
        p.append("bes_start_method = systemd with bes_ownership = vendor : the role would write its own unit and start "
                 "the vendor's BES with it, beside the vendor's start; allowed: iastool or startserver (the vendor's "
                 "start, from discovery), or bes_ownership: whole")
    if ownership != "vendor":
        return p
    if not cfg.get("discovered"):
        p.append("bes_ownership = vendor : this host has no discovery facts for BES (discovery_facts.bes), so the "
                 "vendor's home, instance root, run user and start are unknown; allowed: run playbooks/discover.yml "
                 "with BES running first, or whole for a BES the project installs")
    if method in ("iastool", "startserver") and not cfg.get("start_unit"):
        for variable, command in sorted((cfg.get("commands") or {}).items()):
            if not command:
                p.append("%s = %s : bes_start_method = %s runs it (no vendor unit, bes_start_unit is empty); "
                         "allowed: the vendor's command" % (variable, _show(command), method))
    for i, entry in enumerate(cfg.get("vendor_files") or []):
        if entry not in VENDOR_FILES:
            p.append("bes_vendor_config_files[%d] = %s : allowed: %s" % (i, _show(entry), ", ".join(sorted(VENDOR_FILES))))
        elif not (cfg.get("templates") or {}).get(VENDOR_FILES[entry]):
            p.append("%s = (not set) : bes_vendor_config_files lists %s; allowed: a template of the vendor's %s "
                     "(the operator's own for the real format)" % (VENDOR_FILES[entry], entry, entry))
    where = "on a BES the vendor installed (bes_ownership = vendor) "
    if cfg.get("driver_files"):
        p.append("bes_jdbc_driver_files = %s : %sthe role copies nothing into the vendor's lib/; allowed: [] (the "
                 "vendor's drivers stay), or bes_ownership: whole" % (cfg.get("driver_files"), where))
    if cfg.get("license_src"):
        p.append("bes_license_src = %s : %sthe licence stays the vendor's; allowed: '' , or bes_ownership: whole"
                 % (_show(cfg.get("license_src")), where))
    if cfg.get("applications"):
        p.append("bes_applications = %s : %sthe role deploys nothing into the vendor's deployments/; allowed: [] "
                 "(deploy through the vendor's console or iastool), or bes_ownership: whole"
                 % (sorted(a.get("name", "?") for a in cfg.get("applications")), where))
    if cfg.get("action") in VERSION_SWITCHES:
        p.append("bes_ownership = vendor : bes_%s.yml switches BES_HOME between the project's version trees, which a "
                 "vendor's BES_HOME is not; allowed: the vendor's own upgrade or patch procedure, or bes_ownership: "
                 "whole for a BES the project installed" % cfg.get("action"))
    return p


class FilterModule(object):
    def filters(self):
        return {
            "bes_heap_mb": bes_heap_mb,
            "bes_pool_defaults": bes_pool_defaults,
            "bes_jdbc_url": bes_jdbc_url,
            "bes_gc_options": bes_gc_options,
            "bes_input_problems": bes_input_problems,
            "bes_ownership_problems": bes_ownership_problems,
        }
