# -*- coding: utf-8 -*-
"""BES inspection: find each instance's server process, read its heap, listeners, health page and logs,
and judge them against thresholds (plugins/modules/bes_inspect.py).

Runs on managed hosts (Python 3.7 on Kylin V10): standard library only, no 3.8+ syntax. Everything
that reads the system takes its root paths and clock as arguments, so tests run it on fixture trees
(tests/unit/test_bes_inspect.py). Nothing here writes on the host.
"""
from __future__ import absolute_import, division, print_function

import functools
import os
import pwd
import re
import socket
import struct
import time

try:  # Python 3
    from urllib.request import ProxyHandler, Request, build_opener
    from urllib.error import HTTPError, URLError
except ImportError:  # pragma: no cover - Python 2 is not a target, the import keeps ansible-test quiet
    from urllib2 import ProxyHandler, Request, build_opener, HTTPError, URLError  # noqa: F401

from ansible.module_utils.huaian_inspect import finding as _finding, merge_thresholds

__metaclass__ = type

COMPONENT = "bes"

# Documented in the module's DOCUMENTATION and in the inventories' inspection_bes.yml.
DEFAULT_THRESHOLDS = {
    "heap_used_pct_warning": 85,
    "heap_used_pct_critical": 95,
    "health_timeout_s": 10,
    "health_warning_ms": 3000,
    "log_errors_warning": 1,
    "log_oom_critical": 1,
    "log_dir_mb_warning": 4096,
    "log_dir_mb_critical": 8192,
}

# The JVM properties whose value names the instance root (lab stand-in and BES's startserver set both).
DEFAULT_ROOT_PROPERTIES = ("com.bes.instanceRoot", "catalina.base")
LOG_TAIL_BYTES = 32 * 1024 * 1024
KEPT_LINE_CHARS = 300
DAY = 86400


finding = functools.partial(_finding, COMPONENT)


# --- secrets ------------------------------------------------------------------------------------

_SECRET_KV = re.compile(
    r"""(?i)((?:password|passwd|pwd|secret|token|credential|api[_-]?key|access[_-]?key)["']?\s*[=:]\s*["']?)"""
    r"""([^\s&;,"'<>]+)""")
_SECRET_URL = re.compile(r"(?i)(\b[a-z][a-z0-9+.-]*://[^/\s:@]+:)([^@\s/]+)(@)")
_SECRET_AUTH = re.compile(r"(?i)(authorization\s*[:=]\s*(?:basic|bearer|digest)?\s*)(\S+)")


def redact(line):
    """The line with values of password-like keys, URL passwords and Authorization headers masked."""
    line = _SECRET_URL.sub(r"\1******\3", line)
    line = _SECRET_AUTH.sub(r"\1******", line)
    return _SECRET_KV.sub(r"\1******", line)


# --- process ------------------------------------------------------------------------------------

def read_cmdline(proc, pid):
    try:
        with open(os.path.join(proc, str(pid), "cmdline"), "rb") as handle:
            raw = handle.read()
    except (IOError, OSError):
        return None
    return [a.decode("utf-8", "replace") for a in raw.split(b"\0") if a]


def cmdline_instance_root(args, properties=DEFAULT_ROOT_PROPERTIES):
    """The instance root a java command line names through one of the properties, or None."""
    for arg in args or []:
        for prop in properties:
            prefix = "-D%s=" % prop
            if arg.startswith(prefix):
                return arg[len(prefix):].rstrip("/") or "/"
    return None


def is_java(args):
    return os.path.basename(args[0]) in ("java", "jsvc") if args else False


def find_instance_pids(proc, instance_root, properties=DEFAULT_ROOT_PROPERTIES):
    """PIDs of processes whose command line names instance_root (the server JVM of that instance)."""
    want = instance_root.rstrip("/") or "/"
    found = []
    try:
        entries = os.listdir(proc)
    except OSError:
        return found
    for entry in entries:
        if not entry.isdigit():
            continue
        args = read_cmdline(proc, entry)
        # The JVM itself, not a wrapper (runuser, sh -c, a startserver that forks) naming the same root.
        if args and is_java(args) and cmdline_instance_root(args, properties) == want:
            found.append(int(entry))
    return sorted(found)


def parse_status(text):
    """/proc/<pid>/status -> {'uid': effective uid, 'nspid': innermost pid, 'name': comm}."""
    out = {"uid": None, "nspid": None, "name": None}
    for line in text.splitlines():
        key, _, value = line.partition(":")
        fields = value.split()
        if key == "Uid" and len(fields) >= 2:
            out["uid"] = int(fields[1])
        elif key == "NSpid" and fields:
            out["nspid"] = int(fields[-1])
        elif key == "Name" and fields:
            out["name"] = fields[0]
    return out


def user_name(uid):
    try:
        return pwd.getpwuid(uid).pw_name
    except (KeyError, TypeError):
        return None if uid is None else str(uid)


def parse_systemd_main_pid(text):
    for line in text.splitlines():
        if line.startswith("MainPID="):
            try:
                return int(line.split("=", 1)[1].strip())
            except ValueError:
                return 0
    return 0


# --- heap ---------------------------------------------------------------------------------------

_SIZE = re.compile(r"^([0-9]+)([kKmMgGtT]?)$")


def parse_size(text):
    match = _SIZE.match(text.strip())
    if not match:
        return None
    return int(match.group(1)) * {"": 1, "k": 1024, "m": 1024 ** 2, "g": 1024 ** 3, "t": 1024 ** 4}[match.group(2).lower()]


def max_heap_from_args(args):
    """-Xmx / -XX:MaxHeapSize= of a java command line (the last one wins, as in the JVM), in bytes."""
    value = None
    for arg in args or []:
        if arg.startswith("-Xmx"):
            value = parse_size(arg[4:]) or value
        elif arg.startswith("-XX:MaxHeapSize="):
            value = parse_size(arg.split("=", 1)[1]) or value
    return value


def parse_hsperfdata(data):
    """Counters of a HotSpot performance-data file (/tmp/hsperfdata_<user>/<pid>, what jstat reads).

    Layout (HotSpot perfMemory.hpp, PerfDataPrologue v2): magic 0xcafec0c0, byte order, major, minor,
    accessible, used, overflow, mod time, entry offset, entry count; then entries of (length, name
    offset, vector length, type, flags, units, variability, data offset). Longs ('J') and strings
    (byte vectors) are returned; other types are skipped. Raises ValueError on a foreign file.
    """
    if len(data) < 32 or data[:4] != b"\xca\xfe\xc0\xc0":
        raise ValueError("not a hsperfdata file")
    order = "<" if bytearray(data[4:5])[0] == 1 else ">"
    major = bytearray(data[5:6])[0]
    if major != 2:
        raise ValueError("hsperfdata version %d is not supported" % major)
    entry_offset, entries = struct.unpack(order + "ii", data[24:32])
    counters = {}
    offset = entry_offset
    for _ in range(entries):
        if offset + 20 > len(data):
            break
        length, name_off, vlen, dtype, _flags, _units, _var, data_off = struct.unpack(
            order + "iiiBBBBi", data[offset:offset + 20])
        if length <= 0:
            break
        end = data.find(b"\0", offset + name_off)
        name = data[offset + name_off:end].decode("utf-8", "replace")
        start = offset + data_off
        if dtype == ord("J") and vlen == 0:
            counters[name] = struct.unpack(order + "q", data[start:start + 8])[0]
        elif dtype == ord("B") and vlen > 0:
            counters[name] = data[start:start + vlen].split(b"\0", 1)[0].decode("utf-8", "replace")
        offset += length
    return counters


def heap_from_counters(counters):
    """{'used', 'committed', 'max', 'old_used', 'old_max', 'gc'} in bytes from hsperfdata counters, or None.

    old_max is what the old generation may grow to: the whole heap for region-based collectors (G1,
    Shenandoah), the old generation's own maximum for the generational ones (Parallel, Serial, CMS).
    """
    used, committed, maxes, old_used, old_max = 0, 0, [], None, None
    gen = 0
    found = False
    while "sun.gc.generation.%d.spaces" % gen in counters:
        prefix = "sun.gc.generation.%d" % gen
        spaces = int(counters[prefix + ".spaces"])
        gen_used = sum(int(counters.get("%s.space.%d.used" % (prefix, s), 0)) for s in range(spaces))
        used += gen_used
        committed += int(counters.get(prefix + ".capacity", 0))
        maxes.append(int(counters.get(prefix + ".maxCapacity", 0)))
        if counters.get(prefix + ".name") == "old":
            old_used = gen_used
            old_max = int(counters.get(prefix + ".maxCapacity", 0)) or None
        found = True
        gen += 1
    if not found:
        return None
    gc = counters.get("sun.gc.policy.name", "")
    # G1 (and other region-based collectors) report the whole heap as each generation's maximum.
    region_based = gc in ("GarbageFirst", "Shenandoah")
    heap_max = max(maxes) if region_based else sum(maxes)
    args = (counters.get("java.rt.vmArgs") or "").split()
    heap_max = max_heap_from_args(args) or heap_max or None
    if old_used is not None and (region_based or not old_max):
        old_max = heap_max
    return {"used": used, "committed": committed, "max": heap_max, "old_used": old_used, "old_max": old_max,
            "gc": gc}


_JCMD_TOTAL_USED = re.compile(r"^ ?(\S.*?)\s+total (\d+)K, used (\d+)K", re.M)
_JCMD_ZHEAP = re.compile(r"ZHeap\s+used (\d+)M, capacity (\d+)M, max capacity (\d+)M")


def parse_jcmd_heap_info(text):
    """`jcmd <pid> GC.heap_info` -> {'used', 'committed', 'max'} in bytes (max only for ZGC), or None."""
    zheap = _JCMD_ZHEAP.search(text)
    if zheap:
        used, cap, mx = (int(x) * 1024 * 1024 for x in zheap.groups())
        return {"used": used, "committed": cap, "max": mx}
    spaces = [m for m in _JCMD_TOTAL_USED.finditer(text) if not m.group(1).strip().startswith(("eden", "from", "to", "object"))]
    if not spaces:
        return None
    return {"used": sum(int(m.group(3)) * 1024 for m in spaces),
            "committed": sum(int(m.group(2)) * 1024 for m in spaces), "max": None}


def read_heap(proc, pid, user, nspid, args, tmp_dirs=None):
    """Heap use from the JVM's hsperfdata file (no attach, nothing written). Returns (heap, source)."""
    name = str(nspid or pid)
    dirs = tmp_dirs if tmp_dirs is not None else [os.path.join(proc, str(pid), "root", "tmp"), "/tmp"]
    for tmp in dirs:
        path = os.path.join(tmp, "hsperfdata_%s" % user, name)
        try:
            with open(path, "rb") as handle:
                data = handle.read()
            heap = heap_from_counters(parse_hsperfdata(data))
        except (IOError, OSError, ValueError, struct.error):
            continue
        if heap:
            if not heap.get("max"):
                heap["max"] = max_heap_from_args(args)
            return heap, "hsperfdata"
    return None, None


# --- listeners ----------------------------------------------------------------------------------

def _hex_addr(text):
    raw = bytes(bytearray.fromhex(text))
    # /proc/net/tcp prints the address as host-order 32-bit words.
    words = b"".join(raw[i:i + 4][::-1] for i in range(0, len(raw), 4))
    if len(words) == 4:
        return socket.inet_ntop(socket.AF_INET, words)
    return socket.inet_ntop(socket.AF_INET6, words)


def parse_proc_net_tcp(text, with_uid=False):
    """Listening sockets of /proc/net/tcp{,6}: {inode: (address, port)} (with the owner uid: (address, port, uid))."""
    out = {}
    for line in text.splitlines()[1:]:
        fields = line.split()
        if len(fields) < 10 or fields[3] != "0A":
            continue
        addr, _, port = fields[1].partition(":")
        try:
            entry = (_hex_addr(addr), int(port, 16))
            out[int(fields[9])] = entry + (int(fields[7]),) if with_uid else entry
        except (ValueError, socket.error):
            continue
    return out


def socket_inodes(proc, pid):
    """(socket inodes of the process, whether its fd links could be read)."""
    inodes = set()
    fd_dir = os.path.join(proc, str(pid), "fd")
    try:
        names = os.listdir(fd_dir)
    except OSError:
        return inodes, False
    readable = True
    for name in names:
        try:
            target = os.readlink(os.path.join(fd_dir, name))
        except OSError:
            readable = False
            continue
        match = re.match(r"socket:\[(\d+)\]$", target)
        if match:
            inodes.add(int(match.group(1)))
    return inodes, readable


def process_listeners(proc, pid):
    """[{'address', 'port', 'matched'}] the process listens on (its sockets in its own network namespace).

    Sockets are matched through the process's fd links; where those cannot be read (root without
    CAP_SYS_PTRACE, as in unprivileged containers) through the sockets' owner, the process's uid.
    """
    listening = {}
    for name in ("tcp", "tcp6"):
        try:
            with open(os.path.join(proc, str(pid), "net", name)) as handle:
                listening.update(parse_proc_net_tcp(handle.read(), with_uid=True))
        except (IOError, OSError):
            continue
    inodes, readable = socket_inodes(proc, pid)
    if readable:
        found, matched = set(listening[i][:2] for i in inodes if i in listening), "fd"
    else:
        try:
            uid = os.stat(os.path.join(proc, str(pid))).st_uid
        except OSError:
            return []
        found, matched = set(v[:2] for v in listening.values() if v[2] == uid), "uid"
    return [{"address": a, "port": p, "matched": matched} for a, p in sorted(found, key=lambda x: (x[1], x[0]))]


# --- health -------------------------------------------------------------------------------------

def http_get(url, timeout, clock=time.time):
    """GET url without any proxy. {'status', 'ms', 'body' (first 64 KiB), 'error'}; never raises."""
    opener = build_opener(ProxyHandler({}))
    start = clock()
    status, body, error = None, "", None
    try:
        response = opener.open(Request(url, headers={"User-Agent": "huaian-inspect"}), timeout=timeout)
        try:
            status = response.getcode()
            body = response.read(65536).decode("utf-8", "replace")
        finally:
            response.close()
    except HTTPError as exc:
        status = exc.code
        try:
            body = exc.read(65536).decode("utf-8", "replace")
        except Exception:  # noqa: BLE001 - the body of an error page is best effort
            body = ""
    except (URLError, socket.timeout, socket.error, ValueError) as exc:
        error = str(getattr(exc, "reason", exc))
    except Exception as exc:  # noqa: BLE001 - e.g. http.client.RemoteDisconnected, BadStatusLine
        error = "%s: %s" % (type(exc).__name__, exc)
    return {"status": status, "ms": int(round((clock() - start) * 1000)), "body": body, "error": error}


# --- logs ---------------------------------------------------------------------------------------

_MONTHS = dict((m, i + 1) for i, m in enumerate(
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]))
_TS_ISO = re.compile(r"^\[?(\d{4})[-/](\d{2})[-/](\d{2})[ T](\d{2}):(\d{2}):(\d{2})")
_TS_JUL = re.compile(r"^(\d{2})-([A-Za-z]{3})-(\d{4}) (\d{2}):(\d{2}):(\d{2})")
_TS_ACCESS = re.compile(r"\[(\d{2})/([A-Za-z]{3})/(\d{4}):(\d{2}):(\d{2}):(\d{2})")


def line_time(line):
    """Local epoch seconds of a log line's leading timestamp (ISO, Tomcat/JUL one-line, access log), or None."""
    parts = None
    match = _TS_ISO.match(line)
    if match:
        parts = [int(x) for x in match.groups()]
    else:
        match = _TS_JUL.match(line) or _TS_ACCESS.search(line[:80])
        if match and match.group(2).lower() in _MONTHS:
            d, mon, y, hh, mm, ss = match.groups()
            parts = [int(y), _MONTHS[mon.lower()], int(d), int(hh), int(mm), int(ss)]
    if not parts:
        return None
    try:
        return time.mktime((parts[0], parts[1], parts[2], parts[3], parts[4], parts[5], 0, 0, -1))
    except (OverflowError, ValueError):
        return None


def scan_log_lines(lines, error_re, oom_re, cutoff, keep):
    """Count error and OOM lines at or after cutoff. Lines without a timestamp (stack traces) take
    the time of the line before them; lines before any timestamp count (the file changed recently)."""
    errors, ooms, kept = 0, 0, []
    current = None
    for line in lines:
        stamp = line_time(line)
        if stamp is not None:
            current = stamp
        if current is not None and current < cutoff:
            continue
        if oom_re.search(line):
            ooms += 1
        if error_re.search(line):
            errors += 1
            kept.append(redact(line.rstrip())[:KEPT_LINE_CHARS])
            if len(kept) > keep:
                kept.pop(0)
    return errors, ooms, kept


def read_tail(path, limit=LOG_TAIL_BYTES):
    with open(path, "rb") as handle:
        handle.seek(0, os.SEEK_END)
        size = handle.tell()
        start = max(0, size - limit)
        handle.seek(start)
        data = handle.read()
    lines = data.decode("utf-8", "replace").splitlines()
    return lines[1:] if start else lines


def scan_log_dir(log_dir, error_pattern, oom_pattern, file_pattern, now, keep=5):
    """Log-directory facts: total bytes, files changed in the last day, their error and OOM lines, and
    heap dumps (*.hprof) written in the last day."""
    out = {"exists": os.path.isdir(log_dir), "bytes": 0, "files_24h": [], "errors_24h": 0, "oom_24h": 0,
           "heap_dumps_24h": [], "last_errors": [], "unreadable": []}
    if not out["exists"]:
        return out
    error_re, oom_re, file_re = re.compile(error_pattern), re.compile(oom_pattern), re.compile(file_pattern)
    cutoff = now - DAY
    recent = []
    for root, _dirs, files in os.walk(log_dir):
        for name in files:
            path = os.path.join(root, name)
            try:
                st = os.lstat(path)
            except OSError:
                continue
            out["bytes"] += st.st_size
            if st.st_mtime < cutoff:
                continue
            if name.endswith(".hprof"):
                out["heap_dumps_24h"].append(path)
            elif file_re.search(name):
                recent.append((st.st_mtime, path))
    for _mtime, path in sorted(recent):
        try:
            lines = read_tail(path)
        except (IOError, OSError):
            out["unreadable"].append(path)
            continue
        errors, ooms, kept = scan_log_lines(lines, error_re, oom_re, cutoff, keep)
        out["files_24h"].append(path)
        out["errors_24h"] += errors
        out["oom_24h"] += ooms
        out["last_errors"] = (out["last_errors"] + kept)[-keep:] if keep else []
    out["heap_dumps_24h"].sort()
    return out


# --- judging ------------------------------------------------------------------------------------

def _pct(part, whole):
    return round(100.0 * part / whole, 1) if part is not None and whole else None


def _mb(value):
    return "?" if value is None else "%d" % (value // 1048576)


def heap_judged_text(heap):
    """Which heap figure was judged, its value and bytes, and the other figure for context (zh_CN)."""
    if heap.get("judged") == "old_gen":
        total = "%.1f%%" % heap["used_pct"] if heap.get("used_pct") is not None else "未知"
        return "老年代占用率 %.1f%%（老年代 %s MB / 上限 %s MB，按老年代判定；含 eden 的堆总使用率 %s 仅供参考）" % (
            heap["old_used_pct"], _mb(heap.get("old_used")), _mb(heap.get("old_max") or heap.get("max")), total)
    return "堆总使用率 %.1f%%（%s MB / %s MB，含 eden；%s 未提供老年代数据，按堆总使用率判定）" % (
        heap["used_pct"], _mb(heap.get("used")), _mb(heap.get("max")), heap.get("source") or "数据源")


def judge_instance(facts, th):
    """Findings and metrics of one instance's facts (as gather_instance returns them)."""
    name = facts["name"]
    findings, metrics = [], {}
    proc = facts["process"]
    if not proc["running"]:
        findings.append(finding(
            "BES_DOWN", "critical", name,
            "BES 实例 %s 未运行（服务 %s，实例目录 %s 下没有服务器进程）" % (name, facts["service"] or "-", facts["instance_root"]),
            "查看 journalctl -u %s 与 %s/server.log，按 docs/runbooks/bes.md 启动实例并通过健康检查" % (facts["service"] or "<服务>", facts["log_dir"])))
    else:
        if proc["user"] != facts["expected_user"]:
            findings.append(finding(
                "BES_WRONG_USER", "critical", name,
                "BES 实例 %s 的进程 %s 以用户 %s 运行，应为 %s" % (name, proc["pid"], proc["user"], facts["expected_user"]),
                "确认进程来源（是否有人手工启动）；停止该进程，用 systemctl start %s 以 %s 用户重新启动" % (facts["service"] or "<服务>", facts["expected_user"]),
                value=proc["user"], threshold=facts["expected_user"]))
        heap = facts["heap"]
        judged = heap.get("judged_pct")
        if judged is None:
            findings.append(finding(
                "BES_HEAP_UNKNOWN", "warning", name,
                "无法读取 BES 实例 %s 的堆使用情况（进程 %s 的 hsperfdata 不可读，可能启用了 -XX:-UsePerfData）" % (name, proc["pid"]),
                "确认 JVM 未关闭 UsePerfData（或在巡检参数中启用 heap_attach 以使用 jcmd）"))
        else:
            metrics["bes_heap_used_pct:%s" % name] = judged
            for sev in ("critical", "warning"):
                limit = th["heap_used_pct_%s" % sev]
                if judged >= limit:
                    findings.append(finding(
                        "BES_HEAP_HIGH", sev, name,
                        "BES 实例 %s %s，超过阈值 %s%%" % (name, heap_judged_text(heap), limit),
                        "查看 GC 日志与应用负载；老年代持续偏高（Full GC 后仍不回落）时分析堆转储（jmap/jcmd）"
                        "并按 docs/runbooks/bes.md 调整 bes_heap_size_mb",
                        value=judged, threshold=limit))
                    break
        listening = set(l["port"] for l in facts["listeners"])
        for want in facts["expected_listeners"]:
            if want["port"] not in listening:
                findings.append(finding(
                    "BES_LISTENER_MISSING", want.get("severity") or "critical", "%s:%s" % (name, want["port"]),
                    "BES 实例 %s 未监听 %s 端口 %s（当前监听：%s）" % (
                        name, want["name"], want["port"], ", ".join(str(p) for p in sorted(listening)) or "无"),
                    "查看 %s/server.log 中监听器启动错误（端口占用、配置错误），修复后重启实例" % facts["log_dir"],
                    value=None, threshold=want["port"]))
        health = facts["health"]
        if health is not None:
            if health["ok"]:
                metrics["bes_health_ms:%s" % name] = health["ms"]
                if health["ms"] >= th["health_warning_ms"]:
                    findings.append(finding(
                        "BES_HEALTH_SLOW", "warning", name,
                        "BES 实例 %s 健康检查 %s 耗时 %d ms，超过阈值 %s ms" % (name, health["url"], health["ms"], th["health_warning_ms"]),
                        "检查应用线程池、数据库连接池与数据库响应时间",
                        value=health["ms"], threshold=th["health_warning_ms"]))
            else:
                findings.append(finding(
                    "BES_HEALTH_FAILED", "critical", name,
                    "BES 实例 %s 健康检查 %s 失败：%s" % (name, health["url"], health["reason"]),
                    "查看 %s/server.log 与数据库连接池状态；按 docs/runbooks/bes.md 排查应用与数据库连通性" % facts["log_dir"],
                    value=health["status"], threshold="2xx"))
    logs = facts["logs"]
    metrics["bes_log_errors_24h:%s" % name] = logs["errors_24h"]
    metrics["bes_log_bytes:%s" % name] = logs["bytes"]
    ooms = logs["oom_24h"] + len(logs["heap_dumps_24h"])
    if ooms >= th["log_oom_critical"]:
        findings.append(finding(
            "BES_LOG_OOM", "critical", name,
            "BES 实例 %s 最近 24 小时日志中有 %d 处内存溢出（OutOfMemoryError）记录，堆转储 %d 个" % (
                name, logs["oom_24h"], len(logs["heap_dumps_24h"])),
            "分析堆转储与 GC 日志，确认内存泄漏或堆过小；必要时调整堆大小并滚动重启",
            value=ooms, threshold=th["log_oom_critical"]))
    if logs["errors_24h"] >= th["log_errors_warning"]:
        findings.append(finding(
            "BES_LOG_ERRORS", "warning", name,
            "BES 实例 %s 最近 24 小时日志中有 %d 行错误，阈值 %s" % (name, logs["errors_24h"], th["log_errors_warning"]),
            "查看巡检结果中该实例的 logs.last_errors 与 %s 下的日志，确认错误原因" % facts["log_dir"],
            value=logs["errors_24h"], threshold=th["log_errors_warning"]))
    size_mb = logs["bytes"] / 1048576.0
    for sev in ("critical", "warning"):
        limit = th["log_dir_mb_%s" % sev]
        if size_mb >= limit:
            findings.append(finding(
                "BES_LOG_DISK", sev, name,
                "BES 实例 %s 日志目录 %s 占用 %.0f MB，超过阈值 %s MB" % (name, facts["log_dir"], size_mb, limit),
                "检查日志轮转（%s-logrotate.timer）与日志级别，清理旧日志和堆转储" % (facts["service"] or "bes"),
                value=round(size_mb, 1), threshold=limit))
            break
    return findings, metrics


def health_result(url, expect, answer):
    ok = answer["status"] is not None and 200 <= answer["status"] < 300
    reason = None
    if answer["status"] is None:
        reason = "无应答（%s）" % answer["error"]
    elif not ok:
        reason = "HTTP %s" % answer["status"]
    elif expect and expect not in answer["body"]:
        ok, reason = False, "HTTP %s 但应答中没有 %s" % (answer["status"], expect)
    return {"url": url, "ok": ok, "status": answer["status"], "ms": answer["ms"], "reason": reason}


# --- one instance -------------------------------------------------------------------------------

def locate_process(proc, instance, run=None, properties=DEFAULT_ROOT_PROPERTIES):
    """The instance's server JVM: the processes naming its instance root, preferring the service's
    MainPID (as the role's state.yml reads it) and then the pid file; a server started by hand
    outside the service is found as well."""
    pids = find_instance_pids(proc, instance["instance_root"], properties)
    main_pid = 0
    if run and instance.get("service"):
        rc, out, _err = run(["systemctl", "show", "-p", "MainPID", instance["service"]])
        main_pid = parse_systemd_main_pid(out) if rc == 0 else 0
    file_pid = 0
    if instance.get("pid_file"):
        try:
            with open(instance["pid_file"]) as handle:
                file_pid = int(handle.read().split()[0])
        except (IOError, OSError, ValueError, IndexError):
            file_pid = 0
    for preferred in (main_pid, file_pid):
        if preferred in pids:
            return preferred, pids, main_pid
    return (pids[0] if pids else None), pids, main_pid


def jcmd_heap(run, proc, pid, user, args):
    """Heap use through `jcmd <pid> GC.heap_info` as the process owner (opt-in: the attach mechanism
    makes the JVM create a socket file in /tmp). Returns heap dict or None."""
    try:
        java = os.readlink(os.path.join(proc, str(pid), "exe"))
    except OSError:
        return None
    jcmd = os.path.join(os.path.dirname(java), "jcmd")
    if not os.access(jcmd, os.X_OK):
        return None
    cmd = [jcmd, str(pid), "GC.heap_info"]
    if os.geteuid() == 0 and user and user != "root":
        cmd = ["runuser", "-u", user, "--"] + cmd
    rc, out, _err = run(cmd)
    heap = parse_jcmd_heap_info(out) if rc == 0 else None
    if heap and not heap.get("max"):
        heap["max"] = max_heap_from_args(args)
    return heap


def gather_instance(instance, th, options, now, proc="/proc", run=None, tmp_dirs=None, http=http_get):
    """All facts of one instance. options: error_pattern, oom_pattern, file_pattern, keep, attach."""
    pid, pids, main_pid = locate_process(proc, instance, run)
    facts = {"name": instance["name"], "service": instance.get("service") or "",
             "instance_root": instance["instance_root"], "log_dir": instance["log_dir"],
             "expected_user": instance["user"],
             "expected_listeners": [dict(l, severity=l.get("severity") or "critical") for l in instance.get("listeners") or []],
             "process": {"running": pid is not None, "pid": pid, "pids": pids, "service_main_pid": main_pid,
                         "user": None, "java": None, "xmx_bytes": None},
             "heap": {}, "listeners": [], "health": None}
    if pid is not None:
        try:
            with open(os.path.join(proc, str(pid), "status")) as handle:
                status = parse_status(handle.read())
        except (IOError, OSError):
            status = {"uid": None, "nspid": None}
        args = read_cmdline(proc, pid) or []
        user = user_name(status["uid"])
        facts["process"].update({"user": user, "java": args[0] if args else None,
                                 "xmx_bytes": max_heap_from_args(args)})
        heap, source = read_heap(proc, pid, user, status.get("nspid"), args, tmp_dirs)
        if heap is None and options.get("attach") and run:
            heap, source = jcmd_heap(run, proc, pid, user, args), "jcmd"
        if heap:
            heap["source"] = source
            heap["used_pct"] = _pct(heap["used"], heap.get("max"))
            heap["old_used_pct"] = _pct(heap.get("old_used"), heap.get("old_max") or heap.get("max"))
            # Eden fills to ~100 % before every young GC, so total use says little about pressure: judge the
            # old generation's occupancy, total use only where the source has no old-gen figures (jcmd).
            if heap["old_used_pct"] is not None:
                heap["judged"], heap["judged_pct"] = "old_gen", heap["old_used_pct"]
            else:
                heap["judged"], heap["judged_pct"] = "total", heap["used_pct"]
            facts["heap"] = heap
        facts["listeners"] = process_listeners(proc, pid)
        if instance.get("health_url"):
            answer = http(instance["health_url"], th["health_timeout_s"])
            facts["health"] = health_result(instance["health_url"], instance.get("health_expect") or "", answer)
    facts["logs"] = scan_log_dir(instance["log_dir"], options["error_pattern"], options["oom_pattern"],
                                 options["file_pattern"], now, options.get("keep", 5))
    return facts


def inspect(instances, thresholds, options, now=None, proc="/proc", run=None, tmp_dirs=None, http=http_get):
    """facts, metrics, findings of every instance. Raises ValueError on invalid thresholds."""
    th = merge_thresholds(DEFAULT_THRESHOLDS, thresholds)
    now = time.time() if now is None else now
    facts = {"instances": {}, "thresholds": th}
    metrics, findings = {}, []
    for instance in instances:
        one = gather_instance(instance, th, options, now, proc, run, tmp_dirs, http)
        f, m = judge_instance(one, th)
        facts["instances"][instance["name"]] = one
        metrics.update(m)
        findings.extend(f)
    return facts, metrics, findings
