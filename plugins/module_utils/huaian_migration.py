# -*- coding: utf-8 -*-
"""Migration precheck facts: pure parsers of what a host reports, and small helpers over injected
filesystem callables.

Runs on managed hosts (Python 3.7 on Kylin V10): standard library only, no 3.8+ syntax. Nothing here
runs a command; plugins/modules/migration_facts.py reads the files and runs du / chronyc and calls these
functions, and tests/unit/test_migration_facts.py feeds them real texts. The judging of the facts is
plugins/filter/migration_filters.py (controller side).
"""
from __future__ import absolute_import, division, print_function

import os
import re

__metaclass__ = type

ZERO_MAC = "00:00:00:00:00:00"

# aa:bb:cc:dd:ee:ff or aa-bb-cc-dd-ee-ff (one separator throughout), not glued to more hex digits and
# not followed by another group. A label such as "MAC:00:50:..." must not yield "ac:00:50:...": that
# candidate is followed by a further group, so the scan moves on to the real address.
_MAC = re.compile(r"(?<![0-9A-Fa-f])([0-9A-Fa-f]{2}([:-])(?:[0-9A-Fa-f]{2}\2){4}[0-9A-Fa-f]{2})(?![0-9A-Fa-f]|[:-][0-9A-Fa-f])")


def normalise_mac(text):
    """'AA-BB-CC-DD-EE-FF' -> 'aa:bb:cc:dd:ee:ff'."""
    return text.strip().lower().replace("-", ":")


def extract_macs(text):
    """Every MAC address in text, normalised (lower case, colons), unique, in order of appearance."""
    seen = []
    for match in _MAC.finditer(text or ""):
        mac = normalise_mac(match.group(1))
        if mac not in seen:
            seen.append(mac)
    return seen


def _unquote(value):
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        value = value[1:-1]
        value = re.sub(r"\\(.)", r"\1", value)
    return value


def parse_os_release(text):
    """/etc/os-release -> {ID, VERSION_ID, PRETTY_NAME} (None when absent)."""
    values = {}
    for line in (text or "").splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        values[key.strip()] = _unquote(value)
    return dict((key, values.get(key)) for key in ("ID", "VERSION_ID", "PRETTY_NAME"))


def parse_meminfo_total(text):
    """/proc/meminfo -> MemTotal in bytes, or None."""
    for line in (text or "").splitlines():
        key, sep, rest = line.partition(":")
        if sep and key.strip() == "MemTotal":
            fields = rest.split()
            try:
                value = int(fields[0])
            except (IndexError, ValueError):
                return None
            unit = fields[1].lower() if len(fields) > 1 else "kb"
            return value * 1024 if unit == "kb" else value
    return None


def _hex_ipv4(hexaddr):
    raw = bytes.fromhex(hexaddr)
    return ".".join(str(b) for b in reversed(raw))


def _hex_ipv6(hexaddr):
    # /proc/net/tcp6 prints four host-order (little-endian on x86_64 and aarch64) 32-bit words.
    raw = b"".join(bytes.fromhex(hexaddr[i:i + 8])[::-1] for i in range(0, 32, 8))
    groups = ["%x" % ((raw[i] << 8) | raw[i + 1]) for i in range(0, 16, 2)]
    if raw[:12] == b"\x00" * 10 + b"\xff\xff":
        return "::ffff:%d.%d.%d.%d" % tuple(bytearray(raw[12:]))
    # Compress the longest run of zero groups (two or more), as inet_ntop does.
    best_start, best_len, start = None, 0, None
    for i, group in enumerate(groups + ["x"]):
        if group == "0":
            if start is None:
                start = i
        elif start is not None:
            if i - start > best_len:
                best_start, best_len = start, i - start
            start = None
    if best_len > 1:
        return ":".join(groups[:best_start]) + "::" + ":".join(groups[best_start + best_len:])
    return ":".join(groups)


def parse_proc_net_tcp(text):
    """/proc/net/tcp or /proc/net/tcp6 -> {port: [local addresses]} of the sockets in LISTEN (state 0A)."""
    listening = {}
    for line in (text or "").splitlines():
        fields = line.split()
        if len(fields) < 4 or fields[3] != "0A" or ":" not in fields[1]:
            continue
        address, _, port = fields[1].rpartition(":")
        try:
            port = int(port, 16)
            host = _hex_ipv6(address) if len(address) == 32 else _hex_ipv4(address)
        except ValueError:
            continue
        addresses = listening.setdefault(port, [])
        if host not in addresses:
            addresses.append(host)
    return listening


def port_states(ports, tables):
    """ports: the TCP ports asked about; tables: {'/proc/net/tcp': text or None (unreadable), ...}.

    -> [{port, listening, addresses, error}]; listening is None when no table could be read.
    """
    readable = [text for text in tables.values() if text is not None]
    listening = {}
    for text in readable:
        for port, addresses in parse_proc_net_tcp(text).items():
            known = listening.setdefault(port, [])
            known.extend(a for a in addresses if a not in known)
    out = []
    for port in ports:
        port = int(port)
        if not readable:
            out.append({"port": port, "listening": None, "addresses": [],
                        "error": "cannot read %s" % ", ".join(sorted(tables))})
        else:
            out.append({"port": port, "listening": port in listening, "addresses": listening.get(port, []),
                        "error": None})
    return out


_SECONDS = re.compile(r"^\s*([-+]?[0-9.]+(?:e[-+]?\d+)?)\s+seconds(?:\s+(fast|slow))?", re.IGNORECASE)


def parse_chronyc_tracking(text):
    """`chronyc -n tracking` -> {reference_id, stratum, offset_seconds, leap_status, synced}.

    offset_seconds is signed: positive when the system clock is fast (ahead of NTP time), negative when
    slow. synced is True only with Leap status Normal.
    """
    fields = {}
    for line in (text or "").splitlines():
        key, sep, value = line.partition(":")
        if sep:
            fields[key.strip().lower()] = value.strip()
    try:
        stratum = int(fields.get("stratum", ""))
    except ValueError:
        stratum = None
    offset = None
    match = _SECONDS.match(fields.get("system time", ""))
    if match:
        try:
            offset = float(match.group(1))
        except ValueError:
            offset = None
        if offset is not None and (match.group(2) or "").lower() == "slow":
            offset = -offset
    leap = fields.get("leap status")
    return {"reference_id": fields.get("reference id"), "stratum": stratum, "offset_seconds": offset,
            "leap_status": leap, "synced": leap == "Normal"}


def parse_du(text):
    """`du -sx --block-size=1 PATH` -> bytes (the first field of the last line), or None."""
    lines = [line for line in (text or "").splitlines() if line.strip()]
    if not lines:
        return None
    try:
        return int(lines[-1].split()[0])
    except ValueError:
        return None


def _unescape_mount(field):
    """/proc/mounts escapes space, tab, newline and backslash as octal (\\040 ...)."""
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), field)


def parse_proc_mounts(text):
    """/proc/mounts -> [(mount point, fstype, device)], in mount order."""
    out = []
    for line in (text or "").splitlines():
        fields = line.split()
        if len(fields) >= 3:
            out.append((_unescape_mount(fields[1]), fields[2], _unescape_mount(fields[0])))
    return out


def nearest_existing(path, exists=os.path.exists):
    """path itself when it exists, else its nearest existing ancestor (at worst '/')."""
    current = os.path.normpath(os.path.abspath(path))
    while not exists(current):
        parent = os.path.dirname(current)
        if parent == current:
            break
        current = parent
    return current


def mount_of(path, mounts):
    """(mount point, fstype) of an absolute, resolved path from parse_proc_mounts' list: the longest
    mount point that contains it, the last mounted one winning (over-mounts). (None, None) without mounts."""
    best, best_fstype = None, None
    for point, fstype, _device in mounts:
        inside = path == point or point == "/" or path.startswith(point.rstrip("/") + "/")
        if inside and (best is None or len(point) >= len(best)):
            best, best_fstype = point, fstype
    return best, best_fstype


def space_from_statvfs(st):
    """os.statvfs result -> (free bytes an unprivileged user may use, total bytes)."""
    return st.f_bavail * st.f_frsize, st.f_blocks * st.f_frsize


def path_space(path, mounts, exists=os.path.exists, realpath=os.path.realpath, statvfs=os.statvfs):
    """The space facts of one path: {path, exists, measured, mount, fstype, free_bytes, total_bytes, error}.

    A path that does not exist yet (a new data directory) is measured at its nearest existing ancestor.
    """
    out = {"path": path, "exists": bool(exists(path)), "measured": None, "mount": None, "fstype": None,
           "free_bytes": None, "total_bytes": None, "error": None}
    if not os.path.isabs(path):
        out["error"] = "not an absolute path"
        return out
    measured = nearest_existing(path, exists)
    out["measured"] = measured
    resolved = realpath(measured)
    out["mount"], out["fstype"] = mount_of(resolved, mounts)
    try:
        out["free_bytes"], out["total_bytes"] = space_from_statvfs(statvfs(measured))
    except OSError as exc:
        out["error"] = "statvfs %s: %s" % (measured, exc.strerror or exc)
    return out


def du_result(path, rc, out, err, timed_out, timeout_s):
    """The used-bytes record of one path from du's outcome: {path, bytes, complete, error}.

    du exits 1 after an unreadable entry but still prints a total: bytes is then an undercount,
    complete False and error the last complaint.
    """
    if timed_out:
        return {"path": path, "bytes": None, "complete": False, "error": "du timed out after %d s" % timeout_s}
    size = parse_du(out)
    last = ((err or "").strip().splitlines() or [""])[-1][:300]
    if size is None:
        return {"path": path, "bytes": None, "complete": False,
                "error": last or "du exited %s without a total" % rc}
    if rc != 0:
        return {"path": path, "bytes": size, "complete": False, "error": last or "du exited %s" % rc}
    return {"path": path, "bytes": size, "complete": True, "error": None}
