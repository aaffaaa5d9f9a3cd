# -*- coding: utf-8 -*-
"""Host inspection: pure parsers of what a host reports, and the judgement of those facts.

Runs on managed hosts (Python 3.7 on Kylin V10): standard library only, no 3.8+ syntax. Nothing here
reads the system; plugins/modules/host_inspect.py gathers the text and values and calls these
functions, and tests/unit/test_host_inspect.py feeds them real command output.
"""
from __future__ import absolute_import, division, print_function

import base64
import datetime
import fnmatch
import functools
import re

from ansible.module_utils.huaian_inspect import finding as _finding
from ansible.module_utils.huaian_inspect import merge_thresholds as _merge_thresholds

__metaclass__ = type

COMPONENT = "host"

# Every threshold the module judges against; the operator's `thresholds` are merged over these.
DEFAULT_THRESHOLDS = {
    "disk_used_warning_pct": 80,
    "disk_used_critical_pct": 90,
    "inode_used_warning_pct": 80,
    "inode_used_critical_pct": 90,
    "mem_used_warning_pct": 90,
    "mem_used_critical_pct": 95,
    "swap_used_warning_pct": 50,
    "swap_used_critical_pct": 80,
    # 5-minute load average divided by the CPUs the host may use.
    "load_per_core_warning": 1.5,
    "load_per_core_critical": 3.0,
    "time_offset_warning_ms": 500,
    "time_offset_critical_ms": 1000,
    "oom_kills_warning": 1,
    "oom_kills_critical": 3,
    "cert_warning_days": 30,
    "pass_max_days": 90,
    "pass_min_len": 8,
    "lockout_deny_max": 5,
    "world_writable_warning": 1,
}

SECURITY_CHECKS = ("password_policy", "lockout", "sshd", "auditd", "firewall", "world_writable")

FIREWALL_UNITS = ("firewalld.service", "nftables.service", "iptables.service", "ufw.service")


class InspectError(ValueError):
    """Invalid parameters (the only reason the module fails)."""


def merge_thresholds(given):
    """DEFAULT_THRESHOLDS updated with the operator's values; unknown keys and non-numbers are errors."""
    try:
        return _merge_thresholds(DEFAULT_THRESHOLDS, given)
    except ValueError as exc:
        raise InspectError(str(exc))


def merge_security_checks(given):
    checks = dict((name, True) for name in SECURITY_CHECKS)
    for key, value in sorted((given or {}).items()):
        if key not in checks:
            raise InspectError("unknown security check %r (known: %s)" % (key, ", ".join(SECURITY_CHECKS)))
        if not isinstance(value, bool):
            raise InspectError("security check %r must be true or false, got %r" % (key, value))
        checks[key] = value
    return checks


def normalise_ports(entries):
    """expected_ports items: 22, "22" or {port: 22, name: sshd} -> [{port, name}] sorted by port."""
    out = {}
    for entry in entries or []:
        name = ""
        if isinstance(entry, dict):
            unknown = set(entry) - {"port", "name"}
            if unknown:
                raise InspectError("expected_ports entry %r has unknown keys %s" % (entry, sorted(unknown)))
            name = str(entry.get("name") or "")
            entry = entry.get("port")
        try:
            if isinstance(entry, bool):
                raise ValueError
            port = int(entry)
        except (TypeError, ValueError):
            raise InspectError("expected_ports entry %r is not a port number" % (entry,))
        if not 0 < port < 65536:
            raise InspectError("expected_ports entry %r is not a port number" % (entry,))
        if port not in out or (name and not out[port]):
            out[port] = name
    return [{"port": port, "name": out[port]} for port in sorted(out)]


def normalise_limits_minimum(accounts, minimum):
    """limits_minimum must be {account: {item: number}} for accounts in limits_accounts."""
    out = {}
    for account, items in sorted((minimum or {}).items()):
        if account not in accounts:
            raise InspectError("limits_minimum names %r, which is not in limits_accounts" % account)
        if not isinstance(items, dict):
            raise InspectError("limits_minimum[%r] must be a mapping of item to number" % account)
        out[account] = {}
        for item, value in sorted(items.items()):
            try:
                out[account][item] = int(value)
            except (TypeError, ValueError):
                raise InspectError("limits_minimum[%r][%r] must be a number, got %r" % (account, item, value))
    return out


finding = functools.partial(_finding, COMPONENT)


def _size(nbytes):
    """Bytes as the report shows them: 0.3 MB, 512.0 MB, 70.5 GB."""
    mb = nbytes / 1048576.0
    return "%.1f GB" % (mb / 1024.0) if mb >= 1024 else "%.1f MB" % mb


def level(value, warning, critical):
    """'critical', 'warning' or None for a value judged "higher is worse"."""
    if value is None:
        return None
    if critical is not None and value >= critical:
        return "critical"
    if warning is not None and value >= warning:
        return "warning"
    return None


def _num(value):
    """Numbers as the report shows them: 92.0 -> 92, 92.345 -> 92.3."""
    if value is None:
        return None
    if isinstance(value, float):
        value = round(value, 1)
        if value == int(value):
            return int(value)
    return value


# --- CPU, memory, load -----------------------------------------------------------------------------

def parse_cpuinfo(text):
    """/proc/cpuinfo -> {count, model}; the model from 'model name' (x86), or an arm64 description."""
    processors = 0
    model = None
    fallback = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if not sep:
            continue
        key = key.strip().lower()
        value = value.strip()
        if key == "processor":
            processors += 1
        elif key in ("model name", "cpu model") and model is None and value:
            model = value
        elif key in ("hardware", "cpu implementer", "cpu part", "vendor_id") and key not in fallback:
            fallback[key] = value
    if model is None:
        if "hardware" in fallback:
            model = fallback["hardware"]
        elif "cpu implementer" in fallback:
            model = "implementer %s part %s" % (fallback["cpu implementer"], fallback.get("cpu part", "?"))
    return {"count": processors, "model": model}


def parse_meminfo(text):
    """/proc/meminfo -> kB values and used percentages (used = total - available, as `free` does)."""
    values = {}
    for line in text.splitlines():
        key, sep, rest = line.partition(":")
        if not sep:
            continue
        fields = rest.split()
        if fields:
            try:
                values[key.strip()] = int(fields[0])
            except ValueError:
                continue
    total = values.get("MemTotal", 0)
    available = values.get("MemAvailable")
    if available is None:
        available = values.get("MemFree", 0) + values.get("Buffers", 0) + values.get("Cached", 0)
    swap_total = values.get("SwapTotal", 0)
    swap_free = values.get("SwapFree", 0)
    return {
        "mem_total_kb": total,
        "mem_available_kb": available,
        "mem_used_pct": round(100.0 * (total - available) / total, 1) if total else None,
        "swap_total_kb": swap_total,
        "swap_free_kb": swap_free,
        "swap_used_pct": round(100.0 * (swap_total - swap_free) / swap_total, 1) if swap_total else 0.0,
    }


def parse_loadavg(text):
    fields = text.split()
    return {"load1": float(fields[0]), "load5": float(fields[1]), "load15": float(fields[2])}


# --- Filesystems -----------------------------------------------------------------------------------

def _unescape_mount(field):
    """/proc/mounts escapes space, tab, newline and backslash as octal (\\040 ...)."""
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), field)


def parse_proc_mounts(text):
    """/proc/mounts -> [{device, mount, fstype, options, readonly}] in mount order."""
    mounts = []
    for line in text.splitlines():
        fields = line.split()
        if len(fields) < 4:
            continue
        options = fields[3].split(",")
        mounts.append({"device": _unescape_mount(fields[0]), "mount": _unescape_mount(fields[1]),
                       "fstype": fields[2], "options": options, "readonly": "ro" in options})
    return mounts


def select_mounts(mounts, fs_types, exclude):
    """Mounts of the listed filesystem types whose path matches no exclude pattern (fnmatch).

    A path mounted over another counts once, with the mount seen last (the one in effect).
    """
    chosen = {}
    for entry in mounts:
        if fs_types and entry["fstype"] not in fs_types:
            chosen.pop(entry["mount"], None)
            continue
        if any(fnmatch.fnmatchcase(entry["mount"], pattern) for pattern in exclude or []):
            continue
        chosen[entry["mount"]] = entry
    return [chosen[path] for path in sorted(chosen)]


def usage_from_statvfs(f_blocks, f_bfree, f_bavail, f_files, f_ffree, f_frsize):
    """statvfs values -> sizes and used percentages, computed as `df` does (reserved blocks count as used)."""
    used = f_blocks - f_bfree
    usable = used + f_bavail
    out = {
        "size_bytes": f_blocks * f_frsize,
        "used_bytes": used * f_frsize,
        "avail_bytes": f_bavail * f_frsize,
        "used_pct": round(100.0 * used / usable, 1) if usable > 0 else None,
        "inodes_total": f_files,
        "inodes_used": f_files - f_ffree if f_files else 0,
        # Filesystems without an inode table (btrfs, some tmpfs) report 0 inodes.
        "inode_used_pct": round(100.0 * (f_files - f_ffree) / f_files, 1) if f_files > 0 else None,
    }
    return out


# --- Time, units, kernel log -------------------------------------------------------------------------

def parse_failed_units(text):
    """`systemctl --failed --no-legend --plain` -> unit names (a leading bullet tolerated)."""
    units = []
    for line in text.splitlines():
        fields = line.split()
        if fields and fields[0] in ("\u25cf", "*"):
            fields = fields[1:]
        if fields and "." in fields[0]:
            units.append(fields[0])
    return units


_OOM_KILLED = re.compile(
    r"(?:Out of memory|Memory cgroup out of memory)(?: \(oom_kill_allocating_task\))?: "
    r"Kill(?:ed)? process (\d+) \(([^)]*)\)")
_DMESG_TS = re.compile(r"^\s*\[\s*(\d+(?:\.\d+)?)\]")


def parse_oom_kills(text, min_uptime_seconds=None):
    """Kernel-log lines -> {count, last_victim, last_pid, last_line} of OOM kills.

    `journalctl -k --since` already bounds the window; for `dmesg` output (timestamps in seconds since
    boot) pass min_uptime_seconds to ignore older lines.
    """
    count = 0
    last = None
    for line in text.splitlines():
        match = _OOM_KILLED.search(line)
        if not match:
            continue
        if min_uptime_seconds is not None:
            stamp = _DMESG_TS.match(line)
            if stamp and float(stamp.group(1)) < min_uptime_seconds:
                continue
        count += 1
        last = (match, line)
    out = {"count": count, "last_victim": None, "last_pid": None, "last_line": None}
    if last:
        out["last_pid"] = int(last[0].group(1))
        out["last_victim"] = last[0].group(2)
        out["last_line"] = last[1].strip()[:300]
    return out


def parse_systemctl_is_active(units, text):
    """`systemctl is-active u1 u2 ...` prints one state per unit, in order."""
    states = [line.strip() for line in text.splitlines() if line.strip()]
    return dict((unit, states[index] if index < len(states) else "unknown") for index, unit in enumerate(units))


# --- Listening ports ----------------------------------------------------------------------------------

def _hex_ipv4(word):
    raw = bytearray.fromhex(word)
    return ".".join(str(b) for b in reversed(raw))


def _hex_ipv6(text):
    # Four 32-bit words, each in host (little-endian) order.
    raw = bytearray()
    for index in range(0, 32, 8):
        raw.extend(reversed(bytearray.fromhex(text[index:index + 8])))
    groups = ["%x" % ((raw[i] << 8) | raw[i + 1]) for i in range(0, 16, 2)]
    address = ":".join(groups)
    # Shorten the longest run of zero groups, enough for '::' and '::1' and mapped addresses.
    best_start, best_len, start = -1, 0, None
    for i, group in enumerate(groups + ["x"]):
        if group == "0" and start is None:
            start = i
        elif group != "0" and start is not None:
            if i - start > best_len:
                best_start, best_len = start, i - start
            start = None
    if best_len > 1:
        address = ":".join(groups[:best_start]) + "::" + ":".join(groups[best_start + best_len:])
    return address


def parse_proc_net_tcp(text, family="tcp"):
    """/proc/net/tcp or tcp6 -> [{address, port, family}] of sockets in LISTEN (state 0A)."""
    out = []
    for line in text.splitlines()[1:]:
        fields = line.split()
        if len(fields) < 4 or fields[3] != "0A":
            continue
        address, _, port = fields[1].partition(":")
        try:
            host = _hex_ipv6(address) if len(address) == 32 else _hex_ipv4(address)
            out.append({"address": host, "port": int(port, 16), "family": family})
        except ValueError:
            continue
    return out


# --- Certificates -------------------------------------------------------------------------------------

_PEM = re.compile(r"-----BEGIN CERTIFICATE-----(.*?)-----END CERTIFICATE-----", re.DOTALL)


def _der_element(data, offset):
    """(tag, content start, content end) of the DER element at offset."""
    tag = data[offset]
    length = data[offset + 1]
    start = offset + 2
    if length & 0x80:
        count = length & 0x7F
        if count == 0 or count > 4:
            raise ValueError("unsupported DER length")
        length = int.from_bytes(bytes(data[start:start + count]), "big")
        start += count
    end = start + length
    if end > len(data):
        raise ValueError("truncated DER")
    return tag, start, end


def _der_children(data, start, end):
    children = []
    offset = start
    while offset < end:
        tag, c_start, c_end = _der_element(data, offset)
        children.append((tag, c_start, c_end))
        offset = c_end
    return children


def _asn1_time(tag, raw):
    text = raw.decode("ascii").rstrip("Z")
    if tag == 0x17:  # UTCTime YYMMDDHHMM[SS]Z: years 50-99 are 19xx (RFC 5280)
        year = int(text[:2])
        text = ("19" if year >= 50 else "20") + text
    elif tag != 0x18:  # GeneralizedTime YYYYMMDDHHMMSSZ
        raise ValueError("not an ASN.1 time")
    if len(text) == 12:
        text += "00"
    return datetime.datetime.strptime(text[:14], "%Y%m%d%H%M%S")


def der_not_after(der):
    """notAfter (naive UTC datetime) of a DER X.509 certificate, without any crypto library."""
    data = bytearray(der)
    _, cert_start, cert_end = _der_element(data, 0)
    _, tbs_start, tbs_end = _der_element(data, cert_start)
    fields = _der_children(data, tbs_start, tbs_end)
    if fields and fields[0][0] == 0xA0:  # explicit [0] version
        fields = fields[1:]
    # serialNumber, signature, issuer, validity
    tag, v_start, v_end = fields[3]
    if tag != 0x30:
        raise ValueError("validity is not a SEQUENCE")
    times = _der_children(data, v_start, v_end)
    tag, t_start, t_end = times[1]
    return _asn1_time(tag, bytes(data[t_start:t_end]))


def pem_not_after(text):
    """notAfter of every certificate in a PEM text, in file order ([] when none parses)."""
    out = []
    for block in _PEM.findall(text):
        der = base64.b64decode("".join(block.split()))
        out.append(der_not_after(der))
    return out


_MONTHS = dict((name, index) for index, name in enumerate(
    ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1))


def parse_openssl_enddate(text):
    """`openssl x509 -enddate -noout` -> naive UTC datetime ('notAfter=Jun  1 12:00:00 2026 GMT')."""
    match = re.search(r"notAfter=(\w{3})\s+(\d{1,2}) (\d{2}):(\d{2}):(\d{2}) (\d{4})", text)
    if not match:
        return None
    month, day, hour, minute, second, year = match.groups()
    return datetime.datetime(int(year), _MONTHS[month], int(day), int(hour), int(minute), int(second))


def days_left(not_after, now):
    """Whole days until not_after (negative once expired); both naive UTC datetimes."""
    return int((not_after - now).total_seconds() // 86400)


# --- Security baseline: files ---------------------------------------------------------------------------

def parse_login_defs(text):
    out = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        fields = line.split()
        if len(fields) >= 2:
            out[fields[0]] = fields[1]
    return out


def parse_pwquality_conf(text):
    out = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        key, sep, value = line.partition("=")
        if sep:
            out[key.strip()] = value.strip()
    return out


def pam_lines(text, modules):
    """PAM stack lines whose module is one of `modules`: [{type, control, module, args}]."""
    out = []
    joined = re.sub(r"\\\n", " ", text)
    for raw in joined.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        line = line.lstrip("-")
        fields = line.split()
        if len(fields) < 3:
            continue
        # The control may be a [bracketed list with spaces].
        if fields[1].startswith("["):
            rest = line.split("]", 1)
            if len(rest) < 2:
                continue
            control = rest[0].split(None, 1)[1] + "]"
            tail = rest[1].split()
        else:
            control = fields[1]
            tail = fields[2:]
        if not tail:
            continue
        name = tail[0].rsplit("/", 1)[-1]
        if name in modules:
            args = {}
            for arg in tail[1:]:
                key, sep, value = arg.partition("=")
                args[key] = value if sep else True
            out.append({"type": fields[0], "control": control, "module": name, "args": args})
    return out


def pam_min_length(stack_texts, pwquality_conf):
    """The minimum password length pam_pwquality/pam_cracklib enforce, or None when neither is used.

    An argument on the module line wins over pwquality.conf; libpwquality's built-in minlen is 8.
    """
    found = None
    for text in stack_texts:
        for line in pam_lines(text, ("pam_pwquality.so", "pam_cracklib.so")):
            if line["type"] != "password":
                continue
            value = line["args"].get("minlen")
            if value is None or value is True:
                value = pwquality_conf.get("minlen", "8" if line["module"] == "pam_pwquality.so" else "9")
            try:
                value = int(value)
            except ValueError:
                continue
            found = value if found is None else min(found, value)
    return found


def pam_lockout(text, faillock_conf):
    """Login-failure lockout in one PAM stack: {module, deny} or None.

    pam_faillock without deny= takes it from faillock.conf, else its built-in 3; pam_tally2 needs deny=.
    """
    best = None
    for line in pam_lines(text, ("pam_faillock.so", "pam_tally2.so", "pam_tally.so")):
        if line["type"] != "auth":
            continue
        deny = line["args"].get("deny")
        if deny is None or deny is True:
            if line["module"] != "pam_faillock.so":
                continue
            deny = faillock_conf.get("deny", "3")
        try:
            deny = int(deny)
        except ValueError:
            continue
        if deny == 0:  # 0 disables the lockout
            continue
        if best is None or deny < best["deny"]:
            best = {"module": line["module"], "deny": deny}
    return best


def sshd_mismatches(effective, expected):
    """Expected sshd options (any case) that `sshd -T` shows differently: [(key, want, got)]."""
    out = []
    for key, want in sorted((expected or {}).items()):
        name = key.lower()
        if isinstance(want, bool):
            want = "yes" if want else "no"
        want = str(want).lower()
        if want == "without-password" and name == "permitrootlogin":
            want = "prohibit-password"
        got = effective.get(name)
        if isinstance(got, list):
            if want not in [str(v).lower() for v in got]:
                out.append((key, want, " ".join(got)))
        elif got is None or str(got).lower() != want:
            out.append((key, want, got))
    return out


# --- Judgement -------------------------------------------------------------------------------------------

def judge(facts, thresholds, options):
    """(metrics, findings) from the gathered facts.

    options: deep (bool), horizon_days (int), security_checks (merged dict), limits_minimum,
    expected_ports (normalised), required_mounts, sshd_expected, critical_units (fnmatch patterns).
    """
    t = thresholds
    metrics = {}
    findings = []

    cpu = facts.get("cpu") or {}
    cores = cpu.get("usable") or cpu.get("count") or 1
    metrics["cpu_count"] = cores
    load = facts.get("load")
    if load:
        for name in ("load1", "load5", "load15"):
            metrics[name] = load[name]
            metrics[name + "_per_core"] = round(load[name] / cores, 2)
        per_core = metrics["load5_per_core"]
        sev = level(per_core, t["load_per_core_warning"], t["load_per_core_critical"])
        if sev:
            limit = t["load_per_core_%s" % sev]
            findings.append(finding(
                "HOST_LOAD", sev, "",
                "5 分钟平均负载每核 %s（%s 核，负载 %s），超过%s阈值 %s" % (
                    _num(per_core), cores, load["load5"], "严重" if sev == "critical" else "告警", limit),
                "用 top/pidstat 找出占用 CPU 或处于 D 状态的进程，确认是否为计划内批处理；持续偏高需扩容或迁移负载",
                per_core, limit))

    memory = facts.get("memory")
    if memory:
        metrics["mem_total_mb"] = memory["mem_total_kb"] // 1024
        if memory["mem_used_pct"] is not None:
            metrics["mem_used_pct"] = memory["mem_used_pct"]
        metrics["swap_used_pct"] = memory["swap_used_pct"]
        sev = level(memory["mem_used_pct"], t["mem_used_warning_pct"], t["mem_used_critical_pct"])
        if sev:
            limit = t["mem_used_%s_pct" % sev]
            findings.append(finding(
                "HOST_MEMORY", sev, "memory",
                "内存使用率 %s%%（可用 %s），超过%s阈值 %s%%" % (
                    _num(memory["mem_used_pct"]), _size(memory["mem_available_kb"] * 1024),
                    "严重" if sev == "critical" else "告警", limit),
                "查看占用内存最多的进程（ps aux --sort=-rss），核对 JVM 堆与数据库缓冲区配置，必要时扩容内存",
                memory["mem_used_pct"], limit))
        sev = level(memory["swap_used_pct"] if memory["swap_total_kb"] else None,
                    t["swap_used_warning_pct"], t["swap_used_critical_pct"])
        if sev:
            limit = t["swap_used_%s_pct" % sev]
            findings.append(finding(
                "HOST_SWAP", sev, "swap",
                "交换分区使用率 %s%%，超过%s阈值 %s%%" % (
                    _num(memory["swap_used_pct"]), "严重" if sev == "critical" else "告警", limit),
                "内存不足导致换页，查看占用内存的进程并评估扩容；确认 vm.swappiness 符合基线",
                memory["swap_used_pct"], limit))

    for fs in facts.get("filesystems") or []:
        mount = fs["mount"]
        if fs.get("error"):
            continue
        if fs.get("used_pct") is not None:
            metrics["disk_used_pct:" + mount] = fs["used_pct"]
            sev = level(fs["used_pct"], t["disk_used_warning_pct"], t["disk_used_critical_pct"])
            if sev:
                limit = t["disk_used_%s_pct" % sev]
                findings.append(finding(
                    "HOST_DISK_USAGE", sev, mount,
                    "挂载点 %s 磁盘使用率 %s%%（剩余 %s），超过%s阈值 %s%%" % (
                        mount, _num(fs["used_pct"]), _size(fs["avail_bytes"]),
                        "严重" if sev == "critical" else "告警", limit),
                    "清理 %s 下的过期日志、归档与临时文件（du -xsh %s/* | sort -h），或扩容该文件系统" % (mount, mount.rstrip("/")),
                    fs["used_pct"], limit))
        if fs.get("inode_used_pct") is not None:
            metrics["inode_used_pct:" + mount] = fs["inode_used_pct"]
            sev = level(fs["inode_used_pct"], t["inode_used_warning_pct"], t["inode_used_critical_pct"])
            if sev:
                limit = t["inode_used_%s_pct" % sev]
                findings.append(finding(
                    "HOST_INODE_USAGE", sev, mount,
                    "挂载点 %s inode 使用率 %s%%，超过%s阈值 %s%%" % (
                        mount, _num(fs["inode_used_pct"]), "严重" if sev == "critical" else "告警", limit),
                    "查找 %s 下的大量小文件（会话、缓存、临时文件目录）并清理" % mount,
                    fs["inode_used_pct"], limit))

    mounted = dict((m["mount"], m) for m in facts.get("mounts") or [])
    for path in options.get("required_mounts") or []:
        entry = mounted.get(path)
        if entry is None:
            findings.append(finding(
                "HOST_MOUNT_MISSING", "critical", path, "要求的挂载点 %s 未挂载" % path,
                "检查 /etc/fstab 与存储连接（mount -a、multipath/iSCSI/NFS 状态），恢复挂载后再启动依赖它的服务",
                None, None))
        elif entry["readonly"]:
            findings.append(finding(
                "HOST_MOUNT_READONLY", "critical", path, "挂载点 %s 为只读挂载（%s），应为读写" % (path, entry["fstype"]),
                "查看 dmesg 中该文件系统的 I/O 或文件系统错误；修复后重新以读写方式挂载",
                "ro", "rw"))

    time_sync = facts.get("time")
    if time_sync is not None:
        if not time_sync.get("synchronised"):
            findings.append(finding(
                "HOST_TIME_UNSYNCED", "warning", "chrony",
                "时间未同步（%s）" % (time_sync.get("leap_status") or time_sync.get("error") or "无 chronyc 跟踪信息"),
                "检查 chronyd 服务与 NTP 源可达性（chronyc -n sources）", time_sync.get("leap_status"), "Normal"))
        offset = time_sync.get("offset_seconds")
        if offset is not None:
            offset_ms = round(abs(offset) * 1000.0, 3)
            metrics["time_offset_ms"] = offset_ms
            sev = level(offset_ms, t["time_offset_warning_ms"], t["time_offset_critical_ms"])
            if sev:
                limit = t["time_offset_%s_ms" % sev]
                findings.append(finding(
                    "HOST_TIME_OFFSET", sev, "chrony",
                    "系统时间与 NTP 源偏差 %s ms，超过%s阈值 %s ms" % (
                        _num(offset_ms), "严重" if sev == "critical" else "告警", limit),
                    "检查 NTP 源与 chronyd（chronyc -n sources -v）；数据库集群各节点时钟差须小于 2 秒",
                    offset_ms, limit))

    units = facts.get("failed_units")
    if units is not None:
        metrics["failed_units"] = len(units)
        patterns = options.get("critical_units") or []
        for unit in units:
            critical = any(fnmatch.fnmatchcase(unit, p) for p in patterns)
            findings.append(finding(
                "HOST_FAILED_UNITS", "critical" if critical else "warning", unit,
                "systemd 单元 %s 处于 failed 状态" % unit,
                "systemctl status %s 与 journalctl -u %s 查看失败原因，修复后重启或 systemctl reset-failed" % (unit, unit),
                "failed", None))

    oom = facts.get("oom")
    if oom is not None and oom.get("source"):
        metrics["oom_kills"] = oom["count"]
        sev = level(oom["count"], t["oom_kills_warning"], t["oom_kills_critical"])
        if sev:
            limit = t["oom_kills_%s" % sev]
            findings.append(finding(
                # Subject "": the last victim changes from run to run, and the anomaly register keys
                # findings by code, host and subject; the victim is in the message.
                "HOST_OOM_KILL", sev, "",
                "最近 %s 小时内核 OOM 杀死进程 %s 次（最近一次：%s，pid %s），达到%s阈值 %s 次" % (
                    oom["window_hours"], oom["count"], oom.get("last_victim"), oom.get("last_pid"),
                    "严重" if sev == "critical" else "告警", limit),
                "确认被杀进程所属服务已恢复；核对 JVM 堆、数据库内存参数与主机内存，必要时扩容",
                oom["count"], limit))

    limits = facts.get("limits") or {}
    for account, items in sorted((options.get("limits_minimum") or {}).items()):
        if account not in limits:
            continue
        for item, minimum in sorted(items.items()):
            slot = limits[account].get(item) or {}
            values = [slot[kind]["value"] for kind in ("soft", "hard") if kind in slot]
            numbers = [v for v in values if isinstance(v, int)]
            if len(values) == 2 and not numbers:  # both unlimited
                continue
            got = min(numbers) if numbers else None
            if len(values) < 2 or got is None or got < minimum:
                findings.append(finding(
                    "HOST_LIMIT_LOW", "warning", "%s %s" % (account, item),
                    "账户 %s 的 %s 生效值为 %s，低于要求 %s" % (
                        account, item, got if got is not None else "未配置（系统默认）", minimum),
                    "在 pam_limits 配置中为 %s 设置 soft/hard %s >= %s（重新执行 os_baseline），并重启该账户的服务" % (
                        account, item, minimum),
                    got, minimum))

    listening = facts.get("listening")
    if listening is not None:
        metrics["listening_ports"] = len(set(entry["port"] for entry in listening))
        ports = set(entry["port"] for entry in listening)
        for want in options.get("expected_ports") or []:
            if want["port"] not in ports:
                label = ("%s（%s）" % (want["port"], want["name"])) if want["name"] else str(want["port"])
                findings.append(finding(
                    "HOST_PORT_NOT_LISTENING", "critical", str(want["port"]),
                    "TCP 端口 %s 应处于监听状态，实际未监听" % label,
                    "检查该端口所属服务是否运行（systemctl status、ss -ltnp），查看其日志后恢复服务",
                    None, want["port"]))

    for cert in facts.get("certificates") or []:
        path = cert["path"]
        if cert.get("error"):
            findings.append(finding(
                "HOST_CERT_UNREADABLE", "warning", path, "证书 %s 无法读取或解析：%s" % (path, cert["error"]),
                "确认证书路径与格式（PEM）正确，巡检配置中的路径与实际部署一致", None, None))
            continue
        left = cert["days_left"]
        metrics["cert_days_left:" + path] = left
        if left < 0:
            findings.append(finding(
                "HOST_CERT_EXPIRED", "critical", path,
                "证书 %s 已于 %s 过期（%s 天前）" % (path, cert["not_after"], -left),
                "立即向 CA 申请续签并替换证书，重载使用该证书的服务", left, 0))
        elif left <= t["cert_warning_days"]:
            findings.append(finding(
                "HOST_CERT_EXPIRING", "warning", path,
                "证书 %s 将于 %s 过期，剩余 %s 天，少于告警阈值 %s 天" % (path, cert["not_after"], left, t["cert_warning_days"]),
                "安排证书续签与替换（变更单），替换后重载使用该证书的服务", left, t["cert_warning_days"]))
        elif options.get("deep") and left <= options.get("horizon_days", 90):
            findings.append(finding(
                "HOST_CERT_EXPIRING", "warning", path,
                "证书 %s 将于 %s 过期，剩余 %s 天，在节前/重要活动巡检期限 %s 天内" % (
                    path, cert["not_after"], left, options.get("horizon_days", 90)),
                "在节假日或重要活动前完成证书续签与替换", left, options.get("horizon_days", 90)))

    security = facts.get("security") or {}
    findings.extend(_judge_security(security, t, options, metrics))
    return metrics, findings


def _judge_security(security, t, options, metrics):
    findings = []
    policy = security.get("password_policy")
    if policy is not None:
        max_days = policy.get("pass_max_days")
        if max_days is None or max_days > t["pass_max_days"]:
            findings.append(finding(
                "HOST_SEC_PASSWORD_POLICY", "warning", "PASS_MAX_DAYS",
                "/etc/login.defs 中 PASS_MAX_DAYS 为 %s，要求不大于 %s 天" % (
                    max_days if max_days is not None else "未设置", t["pass_max_days"]),
                "在 /etc/login.defs 设置 PASS_MAX_DAYS %s，并用 chage -M 调整已有账户" % t["pass_max_days"],
                max_days, t["pass_max_days"]))
        min_len = policy.get("min_len")
        if min_len is None or min_len < t["pass_min_len"]:
            findings.append(finding(
                "HOST_SEC_PASSWORD_POLICY", "warning", "minlen",
                "口令最小长度为 %s（%s），要求不少于 %s" % (
                    min_len if min_len is not None else "未限制", policy.get("min_len_source") or "无 pam_pwquality",
                    t["pass_min_len"]),
                "在 PAM 口令栈启用 pam_pwquality 并在 /etc/security/pwquality.conf 设置 minlen=%s" % t["pass_min_len"],
                min_len, t["pass_min_len"]))

    lockout = security.get("lockout")
    if lockout is not None:
        stacks = lockout.get("stacks") or {}
        if not stacks:
            findings.append(finding(
                "HOST_SEC_LOCKOUT", "warning", "pam",
                "未找到 PAM 认证栈文件（%s），无法确认登录失败锁定" % ", ".join(lockout.get("searched") or []),
                "确认本机 PAM 配置位置，并启用 pam_faillock（deny<=%s）" % t["lockout_deny_max"],
                None, t["lockout_deny_max"]))
        for path, found in sorted(stacks.items()):
            if found is None or found["deny"] > t["lockout_deny_max"]:
                got = found["deny"] if found else None
                findings.append(finding(
                    "HOST_SEC_LOCKOUT", "warning", path,
                    "%s 未配置登录失败锁定（pam_faillock/pam_tally2 deny=）%s，要求 deny 不大于 %s" % (
                        path, "" if found is None else "，当前 deny=%s" % got, t["lockout_deny_max"]),
                    "在 %s 的 auth 栈加入 pam_faillock（preauth/authfail，deny=%s unlock_time=...）" % (
                        path, t["lockout_deny_max"]),
                    got, t["lockout_deny_max"]))

    sshd = security.get("sshd")
    if sshd is not None:
        if sshd.get("error"):
            findings.append(finding(
                "HOST_SEC_SSHD", "warning", "sshd", "无法读取 sshd 生效配置（sshd -T）：%s" % sshd["error"],
                "以 root 执行 sshd -T 排查配置错误", None, None))
        for key, want, got in sshd.get("mismatches") or []:
            findings.append(finding(
                "HOST_SEC_SSHD", "warning", key,
                "sshd 参数 %s 生效值为 %s，基线要求 %s" % (key, got, want),
                "重新执行 os_baseline 恢复 sshd_config（sshd -t 校验后 reload sshd）", got, want))

    auditd = security.get("auditd")
    if auditd is not None and auditd.get("state") != "active":
        findings.append(finding(
            "HOST_SEC_AUDITD", "warning", "auditd.service", "审计服务 auditd 未运行（状态：%s）" % auditd.get("state"),
            "安装并启用 auditd（systemctl enable --now auditd），确认审计规则已加载", auditd.get("state"), "active"))

    firewall = security.get("firewall")
    if firewall is not None and not firewall.get("active"):
        states = firewall.get("units") or {}
        findings.append(finding(
            "HOST_SEC_FIREWALL", "warning", "firewall",
            "未发现运行中的主机防火墙（%s）" % "，".join("%s=%s" % (u, s) for u, s in sorted(states.items())),
            "按安全基线启用 firewalld（或 nftables/iptables）并放通业务端口", None, "active"))

    writable = security.get("world_writable")
    if writable is not None:
        metrics["world_writable_files"] = writable["count"]
        if writable.get("error"):
            findings.append(finding(
                "HOST_SEC_WORLD_WRITABLE", "warning", " ".join(writable.get("paths") or []),
                "全局可写文件检查未完成：%s" % writable["error"], "以 root 手工执行 find 检查", None, None))
        elif writable["count"] >= t["world_writable_warning"]:
            findings.append(finding(
                "HOST_SEC_WORLD_WRITABLE", "warning", " ".join(writable.get("paths") or []),
                "发现 %s 个全局可写文件（例：%s），达到告警阈值 %s" % (
                    writable["count"], "，".join(writable["files"][:5]), t["world_writable_warning"]),
                "逐个确认用途后 chmod o-w 去掉其他用户写权限", writable["count"], t["world_writable_warning"]))
    return findings
