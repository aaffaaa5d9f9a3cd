#!/usr/bin/python
# -*- coding: utf-8 -*-
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: host_inspect
short_description: Inspect a host in one call and judge it against thresholds
description:
  - Gathers CPU, memory and swap, load, disk and inode use per mount, required mounts, the chrony
    offset, failed systemd units, OOM kills in the kernel log, effective pam_limits of service
    accounts, listening TCP ports, certificate expiry and security baseline items (password policy,
    login-failure lockout, sshd settings, auditd, firewall, world-writable files), and judges them
    against thresholds into findings with a stable code, a severity and a Chinese message and action.
  - Never fails because the host is unhealthy; fails only on invalid parameters.
  - Read-only; safe in check mode. Runs on Python 3.7 (Kylin V10). Needs root for C(sshd -T), the
    kernel log, certificates readable only by root and a complete world-writable search.
  - Every command (chronyc, systemctl, journalctl, dmesg, sshd -T, openssl) runs under coreutils
    C(timeout) (30 s, SIGKILL 5 s later); one that times out counts as unreadable, like a failed one.
    The world-writable C(find) may take 300 s and runs under C(nice -n 19) and C(ionice -c 3) when
    installed.
version_added: "0.2.0"
author: huaian-platform-ops
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
options:
  thresholds:
    description:
      - Thresholds merged over the defaults below; an unknown key is an error naming the key.
      - C(disk_used_warning_pct) 80, C(disk_used_critical_pct) 90, C(inode_used_warning_pct) 80,
        C(inode_used_critical_pct) 90 (per judged mount, C(df)'s formula).
      - C(mem_used_warning_pct) 90, C(mem_used_critical_pct) 95 (MemTotal - MemAvailable),
        C(swap_used_warning_pct) 50, C(swap_used_critical_pct) 80.
      - C(load_per_core_warning) 1.5, C(load_per_core_critical) 3.0 (5-minute load average per usable CPU).
      - C(time_offset_warning_ms) 500, C(time_offset_critical_ms) 1000 (chrony's system time offset).
      - C(oom_kills_warning) 1, C(oom_kills_critical) 3 (kills within I(oom_window_hours)).
      - C(cert_warning_days) 30 (a certificate expiring within this many days is a warning).
      - C(pass_max_days) 90 (largest PASS_MAX_DAYS allowed), C(pass_min_len) 8 (smallest password length),
        C(lockout_deny_max) 5 (largest failed-login count before lockout).
      - C(world_writable_warning) 1 (world-writable files found before a warning).
    type: dict
    default: {}
  deep:
    description: Holiday / important-event inspection; certificates expiring within I(horizon_days) become warnings.
    type: bool
    default: false
  horizon_days:
    description: In deep mode, the certificate horizon in days.
    type: int
    default: 90
  fs_types:
    description:
      - Filesystem types whose mounts are judged for disk and inode use. Network filesystems are left
        out by default because statvfs on a hung NFS mount blocks.
    type: list
    elements: str
    default: [ext2, ext3, ext4, xfs, btrfs]
  mount_exclude:
    description: Mount points (fnmatch patterns, C(*) also matches C(/)) never judged for disk and inode use.
    type: list
    elements: str
    default: ["/proc*", "/sys*", "/dev*", "/run*", "/var/lib/containers/*", "/var/lib/docker/*", "/snap/*"]
  required_mounts:
    description: Mount points that must be mounted, read-write.
    type: list
    elements: str
    default: []
  expected_ports:
    description: "TCP ports that must be in LISTEN; items are a port number or C({port, name})."
    type: list
    elements: raw
    default: []
  oom_window_hours:
    description: How far back the kernel log is searched for OOM kills.
    type: int
    default: 168
  critical_units:
    description: Failed systemd units matching one of these fnmatch patterns are critical (others are warnings).
    type: list
    elements: str
    default: []
  limits_accounts:
    description: Accounts whose effective pam_limits (nofile, nproc) are read.
    type: list
    elements: str
    default: []
  limits_minimum:
    description: "Per account in I(limits_accounts), the minimum per item, e.g. C({kingbase: {nofile: 65536}})."
    type: dict
    default: {}
  limits_conf:
    description: Main pam_limits file.
    type: path
    default: /etc/security/limits.conf
  limits_dir:
    description: pam_limits drop-in directory (files ending in .conf, read in sorted order).
    type: path
    default: /etc/security/limits.d
  certificates:
    description: PEM certificate files whose expiry is judged (the earliest notAfter in a file counts).
    type: list
    elements: path
    default: []
  security_checks:
    description:
      - Switch security baseline items on or off; all are on. Keys C(password_policy), C(lockout),
        C(sshd), C(auditd), C(firewall), C(world_writable).
    type: dict
    default: {}
  sshd_expected:
    description: sshd options and the value C(sshd -T) must show (option names in any case).
    type: dict
    default: {PermitEmptyPasswords: "no"}
  pam_auth_stacks:
    description: PAM stacks searched for the login-failure lockout; the ones that exist are judged.
    type: list
    elements: path
    default: [/etc/pam.d/system-auth, /etc/pam.d/password-auth, /etc/pam.d/common-auth]
  pam_quality_stacks:
    description: PAM stacks searched for pam_pwquality / pam_cracklib.
    type: list
    elements: path
    default: [/etc/pam.d/system-auth, /etc/pam.d/password-auth, /etc/pam.d/common-password]
  world_writable_paths:
    description:
      - Directories searched (C(find -xdev)) for world-writable regular files.
      - A directory on (or linking onto) a network or automounted filesystem (nfs, cifs, fuse, autofs...,
        per C(/proc/mounts)) is neither searched nor stat'ed (a hung server would block the search); it is
        listed in C(facts.security.world_writable.skipped_network).
    type: list
    elements: path
    default: [/etc, /usr, /opt, /boot, /root, /home]
  world_writable_limit:
    description: At most this many world-writable file names are returned (all are counted).
    type: int
    default: 50
notes:
  - "Finding codes (component C(host)): C(HOST_LOAD) warning/critical: 5-minute load per core over
    threshold; action: find the busy processes, plan capacity."
  - "C(HOST_MEMORY) warning/critical: memory used over threshold; action: find the largest processes,
    check heap and database buffers."
  - "C(HOST_SWAP) warning/critical: swap used over threshold; action: memory pressure, check processes and swappiness."
  - "C(HOST_DISK_USAGE) warning/critical: a judged mount's disk use over threshold; subject is the
    mount; action: clean logs/archives or grow the filesystem."
  - "C(HOST_INODE_USAGE) warning/critical: a judged mount's inode use over threshold; action: remove masses of small files."
  - "C(HOST_MOUNT_MISSING) critical: a required mount point is not mounted; action: check fstab and storage."
  - "C(HOST_MOUNT_READONLY) critical: a required mount point is mounted read-only; action: check the kernel log, remount rw."
  - "C(HOST_TIME_UNSYNCED) warning: chrony is not synchronised or cannot be asked; action: check chronyd and its sources."
  - "C(HOST_TIME_OFFSET) warning/critical: chrony's offset over threshold; action: check NTP sources (clusters need < 2 s)."
  - "C(HOST_FAILED_UNITS) warning (critical for I(critical_units)): one finding per failed systemd
    unit; action: systemctl status / journalctl -u, then restart or reset-failed."
  - "C(HOST_OOM_KILL) warning/critical: the kernel killed processes for lack of memory in the window;
    the last victim is named in the message; action: check the service recovered, size memory."
  - "C(HOST_LIMIT_LOW) warning: an account's effective soft or hard nofile/nproc is below its minimum; action: re-apply os_baseline."
  - "C(HOST_PORT_NOT_LISTENING) critical: an expected TCP port is not in LISTEN; action: check the service owning it."
  - "C(HOST_CERT_EXPIRED) critical: a certificate has expired; action: renew and replace now."
  - "C(HOST_CERT_EXPIRING) warning: a certificate expires within cert_warning_days (or, in deep mode,
    within horizon_days); action: schedule renewal."
  - "C(HOST_CERT_UNREADABLE) warning: a listed certificate is missing or cannot be parsed; action: fix the path or the inspection settings."
  - "C(HOST_SEC_PASSWORD_POLICY) warning: PASS_MAX_DAYS over pass_max_days, or the minimum password
    length (pam_pwquality/pam_cracklib minlen, else PASS_MIN_LEN) under pass_min_len; subject names which."
  - "C(HOST_SEC_LOCKOUT) warning: a PAM auth stack has no pam_faillock/pam_tally2 lockout with deny <= lockout_deny_max; subject is the stack."
  - "C(HOST_SEC_SSHD) warning: an sshd option's effective value differs from sshd_expected; subject is the option."
  - "C(HOST_SEC_AUDITD) warning: auditd is not active."
  - "C(HOST_SEC_FIREWALL) warning: none of firewalld, nftables, iptables, ufw is active."
  - "C(HOST_SEC_WORLD_WRITABLE) warning: world-writable regular files under world_writable_paths."
"""

EXAMPLES = r"""
- name: Inspect the host
  host_inspect:
    thresholds:
      disk_used_warning_pct: 75
    fs_types: [ext4, xfs]
    required_mounts: [/, /data]
    expected_ports: [22, {port: 54321, name: Kingbase}]
    limits_accounts: [kingbase]
    limits_minimum: {kingbase: {nofile: 65536, nproc: 65536}}
    certificates: [/etc/pki/tls/certs/huaian.pem]
    security_checks: {auditd: false}
    sshd_expected: {PermitRootLogin: prohibit-password, MaxAuthTries: 4, PermitEmptyPasswords: "no"}
  become: true
  register: host
"""

RETURN = r"""
facts:
  description: What was gathered (cpu, memory, load, filesystems, mounts, time, failed_units, oom, limits,
    listening, certificates, security); a switched-off security item is null.
  returned: always
  type: dict
metrics:
  description: >-
    Flat name to number for trend charts: cpu_count, load1, load5, load15, load1_per_core, load5_per_core,
    load15_per_core, mem_total_mb, mem_used_pct, swap_used_pct, disk_used_pct:<mount>, inode_used_pct:<mount>,
    time_offset_ms, failed_units, oom_kills, listening_ports, cert_days_left:<path>, world_writable_files.
  returned: always
  type: dict
  sample: {"load1": 0.4, "load1_per_core": 0.1, "mem_used_pct": 41.2, "disk_used_pct:/": 37.5}
findings:
  description: Findings, each {code, severity, component, subject, message, action, value, threshold}.
  returned: always
  type: list
  elements: dict
  sample: [{"code": "HOST_DISK_USAGE", "severity": "critical", "component": "host", "subject": "/data",
            "message": "挂载点 /data 磁盘使用率 93%（剩余 310 MB），超过严重阈值 90%",
            "action": "清理 /data 下的过期日志、归档与临时文件，或扩容该文件系统", "value": 93, "threshold": 90}]
"""

import datetime
import fnmatch
import glob
import os
import time

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.huaian_host import (account_groups, effective_limits, limits_files, parse_chronyc_tracking,
                                              parse_sshd_effective)
from ansible.module_utils.huaian_inspect import guarded, inspection_argument_spec
from ansible.module_utils.huaian_inspect_host import (
    FIREWALL_UNITS, InspectError, days_left, der_not_after, judge, merge_security_checks, merge_thresholds,
    normalise_limits_minimum, normalise_ports, pam_lockout, pam_min_length, parse_cpuinfo, parse_failed_units,
    parse_loadavg, parse_login_defs, parse_meminfo, parse_oom_kills, parse_openssl_enddate, parse_proc_mounts,
    parse_proc_net_tcp, parse_pwquality_conf, parse_systemctl_is_active, pem_not_after, select_mounts,
    sshd_mismatches, usage_from_statvfs)

C_LOCALE = {"LC_ALL": "C", "LANG": "C"}

# One stuck host (a hung D-Bus or journald, an NFS server gone away) must not stall the weekly run: every
# reading command runs under coreutils timeout, then is killed KILL_AFTER_S later if it ignored SIGTERM.
COMMAND_TIMEOUT_S = 30
FIND_TIMEOUT_S = 300
KILL_AFTER_S = 5
TIMED_OUT_RC = (124, 137)  # coreutils timeout: ran out of time (124), had to be killed (128 + 9)
# Filesystems whose lookups can block for minutes when the server is unreachable (autofs triggers such a
# mount): the world-writable search neither stats nor searches a path on them (/proc/mounts decides).
NETWORK_FSTYPES = ("nfs", "cifs", "smb", "fuse", "autofs", "ceph", "glusterfs", "9p", "afs", "lustre", "gpfs")


def read(path):
    try:
        with open(path) as handle:
            return handle.read()
    except (IOError, OSError, UnicodeDecodeError):
        return None


def read_conf_dir(main, directory):
    texts = [read(main) or ""]
    for path in sorted(glob.glob(os.path.join(directory, "*.conf"))):
        texts.append(read(path) or "")
    return texts


def run(module, args, timeout_s=COMMAND_TIMEOUT_S, wrappers=(), partial=False):
    """(rc, stdout, stderr) of a reading command, or None when the program is not installed.

    The command runs under coreutils timeout (when installed) for timeout_s seconds, after the wrapper
    commands (nice, ionice) if any. One that ran out of time gives rc 124 (137 when it had to be killed),
    no output (it may be partial; with partial, what it printed) and stderr saying so: the callers take
    it as "could not read".
    """
    path = module.get_bin_path(args[0], opt_dirs=["/usr/sbin", "/sbin"])
    if not path:
        return None
    timeout = module.get_bin_path("timeout")
    prefix = [timeout, "-k", str(KILL_AFTER_S), str(timeout_s)] if timeout else []
    rc, out, err = module.run_command(prefix + list(wrappers) + [path] + list(args[1:]), environ_update=C_LOCALE)
    if prefix and rc in TIMED_OUT_RC:
        return rc, out if partial else "", "%s 超时（%d 秒）未返回" % (args[0], timeout_s)
    return rc, out, err


def utcnow():
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)


def gather_cpu():
    cpu = parse_cpuinfo(read("/proc/cpuinfo") or "")
    try:
        cpu["usable"] = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cpu["usable"] = os.cpu_count() or cpu["count"] or 1
    return cpu


def gather_filesystems(params, mounts):
    out = []
    for entry in select_mounts(mounts, params["fs_types"], params["mount_exclude"]):
        item = {"mount": entry["mount"], "fstype": entry["fstype"], "device": entry["device"],
                "readonly": entry["readonly"]}
        try:
            st = os.statvfs(entry["mount"])
            item.update(usage_from_statvfs(st.f_blocks, st.f_bfree, st.f_bavail, st.f_files, st.f_ffree,
                                           st.f_frsize or st.f_bsize))
        except OSError as exc:
            item["error"] = str(exc)
        out.append(item)
    return out


def gather_time(module):
    result = run(module, ["chronyc", "-n", "tracking"])
    if result is None:
        return {"synchronised": False, "offset_seconds": None, "error": "chronyc 未安装"}
    rc, out, err = result
    if rc != 0:
        return {"synchronised": False, "offset_seconds": None, "error": (err or out).strip()[:200]}
    return parse_chronyc_tracking(out)


def gather_failed_units(module):
    result = run(module, ["systemctl", "--failed", "--no-legend", "--plain", "--no-pager"])
    if result is None or result[0] != 0:
        return None
    return parse_failed_units(result[1])


def gather_oom(module, hours):
    since = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(time.time() - hours * 3600))
    oom = None
    journal = run(module, ["journalctl", "-k", "-q", "--no-pager", "-o", "short-iso", "--since", since])
    if journal is not None and journal[0] == 0:
        oom = dict(parse_oom_kills(journal[1]), source="journalctl", kernel_log_lines=len(journal[1].splitlines()))
    # No kernel lines in the journal (journald without kernel messages): ask the ring buffer too.
    if oom is None or oom["kernel_log_lines"] == 0:
        ring = run(module, ["dmesg"])
        uptime = read("/proc/uptime")
        if ring is not None and ring[0] == 0 and uptime:
            floor = float(uptime.split()[0]) - hours * 3600
            oom = dict(parse_oom_kills(ring[1], floor), source="dmesg", kernel_log_lines=len(ring[1].splitlines()))
    if oom is None:
        return {"source": None, "count": None, "window_hours": hours}
    oom["window_hours"] = hours
    return oom


def gather_limits(params):
    files = limits_files(params["limits_conf"], params["limits_dir"])
    limits, missing = {}, []
    for account in params["limits_accounts"]:
        try:
            uid, groups = account_groups(account)
        except KeyError:
            missing.append(account)
            continue
        limits[account] = effective_limits(files, account, groups, uid, ("nofile", "nproc"))
    return limits, missing


def gather_listening():
    out = []
    for family in ("tcp", "tcp6"):
        text = read("/proc/net/" + family)
        if text:
            out.extend(parse_proc_net_tcp(text, family))
    return out


def cert_not_after(module, path):
    """(earliest notAfter, how it was read) of a certificate file; raises ValueError when unreadable."""
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except (IOError, OSError):
        raise ValueError("文件不存在或无权读取")
    try:
        dates = pem_not_after(data.decode("latin-1"))
        if dates:
            return min(dates), "pem"
        return der_not_after(data), "der"
    except (ValueError, IndexError, TypeError):
        pass
    for form in ("PEM", "DER"):
        result = run(module, ["openssl", "x509", "-enddate", "-noout", "-inform", form, "-in", path])
        if result is not None and result[0] == 0:
            parsed = parse_openssl_enddate(result[1])
            if parsed:
                return parsed, "openssl"
    raise ValueError("不是可解析的 X.509 证书")


def gather_certificates(module, paths, now):
    out = []
    for path in paths:
        try:
            not_after, source = cert_not_after(module, path)
        except ValueError as exc:
            out.append({"path": path, "error": str(exc)})
            continue
        out.append({"path": path, "not_after": not_after.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "days_left": days_left(not_after, now), "source": source})
    return out


def gather_password_policy(params):
    defs = parse_login_defs(read("/etc/login.defs") or "")
    conf = {}
    for text in read_conf_dir("/etc/security/pwquality.conf", "/etc/security/pwquality.conf.d"):
        conf.update(parse_pwquality_conf(text))
    stacks = [read(path) or "" for path in params["pam_quality_stacks"]]

    def number(value):
        try:
            return int(value)
        except (TypeError, ValueError):
            return None

    min_len = pam_min_length(stacks, conf)
    source = "pam_pwquality/pam_cracklib minlen"
    if min_len is None:
        # Without a PAM quality module only shadow's own PASS_MIN_LEN is left.
        min_len = number(defs.get("PASS_MIN_LEN"))
        source = "login.defs PASS_MIN_LEN" if min_len is not None else None
    return {"pass_max_days": number(defs.get("PASS_MAX_DAYS")), "pass_min_len": number(defs.get("PASS_MIN_LEN")),
            "pwquality_minlen": number(conf.get("minlen")), "min_len": min_len, "min_len_source": source}


def gather_lockout(params):
    faillock = parse_pwquality_conf(read("/etc/security/faillock.conf") or "")
    stacks = {}
    for path in params["pam_auth_stacks"]:
        text = read(path)
        if text is not None:
            stacks[path] = pam_lockout(text, faillock)
    return {"stacks": stacks, "searched": params["pam_auth_stacks"]}


def gather_sshd(module, expected):
    result = run(module, ["sshd", "-T"])
    if result is None:
        return {"error": "sshd 未安装", "mismatches": []}
    rc, out, err = result
    if rc != 0:
        return {"error": (err or out).strip()[:200], "mismatches": []}
    effective = parse_sshd_effective(out)
    shown = dict((key, effective.get(key.lower())) for key in expected)
    return {"effective": shown, "mismatches": sshd_mismatches(effective, expected)}


def gather_unit_states(module, units):
    result = run(module, ["systemctl", "is-active"] + list(units))
    # is-active exits non-zero for an inactive unit, so only a timeout (or no systemctl) means unknown.
    if result is None or result[0] in TIMED_OUT_RC and not result[1]:
        return dict((unit, "unknown") for unit in units)
    return parse_systemctl_is_active(units, result[1])


def network_mount(path, mounts):
    """The network (or automount) filesystem entry that path is on or under, from the mount table alone
    (nothing is stat'ed), or None. Of several mounts on one mount point the last (the one in effect) counts."""
    path = os.path.normpath(path)
    in_effect = {}
    for entry in mounts:
        in_effect[entry["mount"]] = entry
    hit = None
    for mount, entry in in_effect.items():
        under = path == mount or path.startswith(mount.rstrip("/") + "/")
        if under and entry["fstype"].startswith(NETWORK_FSTYPES) and (hit is None or len(mount) < len(hit["mount"])):
            hit = entry
    return hit


def searchable(path, mounts):
    """(whether path is a directory to search, the network mount entry that excluded it or None).

    os.path.isdir on a path of a hung NFS mount blocks in the kernel, beyond any timeout: the mount table
    decides first, for the path and, when it is a symbolic link, for where the link points."""
    for _ in range(8):
        net = network_mount(path, mounts)
        if net is not None:
            return False, net
        if not os.path.islink(path):
            break
        try:
            path = os.path.join(os.path.dirname(path), os.readlink(path))
        except OSError:
            return False, None
    return os.path.isdir(path), None


def gather_world_writable(module, paths, limit, mounts=()):
    existing, skipped = [], []
    for path in paths:
        ok, net = searchable(path, mounts)
        if net is not None:
            skipped.append({"path": path, "mount": net["mount"], "fstype": net["fstype"]})
        elif ok:
            existing.append(path)
    out = {"paths": existing, "count": 0, "files": []}
    if skipped:
        out["skipped_network"] = skipped
    if not existing:
        return out
    # Lowest CPU and I/O priority (idle class; -t: run anyway where the I/O class cannot be set, as in
    # some containers), one filesystem per starting point (-xdev: no descent into other mounts).
    wrappers = []
    nice = module.get_bin_path("nice")
    if nice:
        wrappers += [nice, "-n", "19"]
    ionice = module.get_bin_path("ionice")
    if ionice:
        wrappers += [ionice, "-c", "3", "-t"]
    args = ["find"] + existing + ["-xdev", "-perm", "-0002", "-type", "f", "!", "-type", "l", "-print"]
    # What find printed before it ran out of time are real world-writable files: kept, with the error.
    result = run(module, args, timeout_s=FIND_TIMEOUT_S, wrappers=wrappers, partial=True)
    if result is None:
        out["error"] = "find 未安装"
        return out
    rc, stdout, stderr = result
    names = [line for line in stdout.splitlines() if line]
    if rc in TIMED_OUT_RC and module.get_bin_path("timeout"):
        out["error"] = "find 超时（%d 秒）" % FIND_TIMEOUT_S
    elif rc != 0 and not names and stderr.strip():
        # rc 1 with names only means some entries vanished or were unreadable.
        out["error"] = stderr.strip().splitlines()[-1][:200]
    out["count"] = len(names)
    out["files"] = sorted(names)[:limit]
    return out


def gather(module, params, checks):
    facts = {"cpu": gather_cpu()}
    memory = read("/proc/meminfo")
    facts["memory"] = parse_meminfo(memory) if memory else None
    load = read("/proc/loadavg")
    facts["load"] = parse_loadavg(load) if load else None
    mounts = parse_proc_mounts(read("/proc/mounts") or "")
    facts["filesystems"] = gather_filesystems(params, mounts)
    # The mount table without the excluded noise (container and kernel pseudo-filesystems).
    facts["mounts"] = [{"mount": m["mount"], "fstype": m["fstype"], "readonly": m["readonly"]} for m in mounts
                       if m["mount"] in params["required_mounts"]
                       or not any(fnmatch.fnmatchcase(m["mount"], p) for p in params["mount_exclude"])]
    facts["time"] = gather_time(module)
    facts["failed_units"] = gather_failed_units(module)
    facts["oom"] = gather_oom(module, params["oom_window_hours"])
    facts["limits"], facts["limits_missing_accounts"] = gather_limits(params)
    facts["listening"] = gather_listening()
    facts["certificates"] = gather_certificates(module, params["certificates"], utcnow())
    security = dict((name, None) for name in checks)
    if checks["password_policy"]:
        security["password_policy"] = gather_password_policy(params)
    if checks["lockout"]:
        security["lockout"] = gather_lockout(params)
    if checks["sshd"]:
        security["sshd"] = gather_sshd(module, params["sshd_expected"])
    wanted = []
    if checks["auditd"]:
        wanted.append("auditd.service")
    if checks["firewall"]:
        wanted.extend(FIREWALL_UNITS)
    states = gather_unit_states(module, wanted) if wanted else {}
    if checks["auditd"]:
        security["auditd"] = {"state": states.get("auditd.service")}
    if checks["firewall"]:
        firewall = dict((unit, states.get(unit)) for unit in FIREWALL_UNITS)
        security["firewall"] = {"units": firewall, "active": any(s == "active" for s in firewall.values())}
    if checks["world_writable"]:
        security["world_writable"] = gather_world_writable(module, params["world_writable_paths"],
                                                           params["world_writable_limit"], mounts)
    facts["security"] = security
    facts["security_checks"] = checks
    return facts


def main():
    module = AnsibleModule(
        argument_spec=dict(
            fs_types=dict(type="list", elements="str", default=["ext2", "ext3", "ext4", "xfs", "btrfs"]),
            mount_exclude=dict(type="list", elements="str",
                               default=["/proc*", "/sys*", "/dev*", "/run*", "/var/lib/containers/*",
                                        "/var/lib/docker/*", "/snap/*"]),
            required_mounts=dict(type="list", elements="str", default=[]),
            expected_ports=dict(type="list", elements="raw", default=[]),
            oom_window_hours=dict(type="int", default=168),
            critical_units=dict(type="list", elements="str", default=[]),
            limits_accounts=dict(type="list", elements="str", default=[]),
            limits_minimum=dict(type="dict", default={}),
            limits_conf=dict(type="path", default="/etc/security/limits.conf"),
            limits_dir=dict(type="path", default="/etc/security/limits.d"),
            certificates=dict(type="list", elements="path", default=[]),
            security_checks=dict(type="dict", default={}),
            sshd_expected=dict(type="dict", default={"PermitEmptyPasswords": "no"}),
            pam_auth_stacks=dict(type="list", elements="path",
                                 default=["/etc/pam.d/system-auth", "/etc/pam.d/password-auth",
                                          "/etc/pam.d/common-auth"]),
            pam_quality_stacks=dict(type="list", elements="path",
                                     default=["/etc/pam.d/system-auth", "/etc/pam.d/password-auth",
                                              "/etc/pam.d/common-password"]),
            world_writable_paths=dict(type="list", elements="path",
                                      default=["/etc", "/usr", "/opt", "/boot", "/root", "/home"]),
            world_writable_limit=dict(type="int", default=50),
            **inspection_argument_spec(),
        ),
        supports_check_mode=True,
    )
    params = module.params
    try:
        thresholds = merge_thresholds(params["thresholds"])
        checks = merge_security_checks(params["security_checks"])
        ports = normalise_ports(params["expected_ports"])
        minimum = normalise_limits_minimum(params["limits_accounts"], params["limits_minimum"])
        if params["oom_window_hours"] <= 0 or params["horizon_days"] < 0 or params["world_writable_limit"] < 0:
            raise InspectError("oom_window_hours must be > 0, horizon_days and world_writable_limit >= 0")
    except InspectError as exc:
        module.fail_json(msg=str(exc))

    def body():
        facts = gather(module, params, checks)
        options = {"deep": params["deep"], "horizon_days": params["horizon_days"], "limits_minimum": minimum,
                   "expected_ports": ports, "required_mounts": params["required_mounts"],
                   "critical_units": params["critical_units"]}
        metrics, findings = judge(facts, thresholds, options)
        facts["thresholds"] = thresholds
        return dict(changed=False, facts=facts, metrics=metrics, findings=findings)

    module.exit_json(**guarded(module, "host_inspect", body))


if __name__ == "__main__":
    main()
