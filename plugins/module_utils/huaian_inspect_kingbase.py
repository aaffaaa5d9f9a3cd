# -*- coding: utf-8 -*-
"""Pure parsing and judging for the kingbase_inspect module (runs on the DB hosts: Python 3.7)."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import re
import shlex
import struct

from ansible.module_utils.huaian_inspect import finding as _finding
from ansible.module_utils.huaian_inspect import merge_thresholds as _merge_thresholds

COMPONENT = "kingbase"

DEFAULT_THRESHOLDS = {
    "connections_pct_warning": 70,
    "connections_pct_critical": 90,
    "long_xact_warning_s": 600,
    "long_xact_critical_s": 3600,
    "lock_wait_min_s": 10,
    "lock_waits_warning": 1,
    "lock_waits_critical": 10,
    "repl_lag_bytes_warning": 64 * 1024 * 1024,
    "repl_lag_bytes_critical": 1024 * 1024 * 1024,
    "repl_lag_s_warning": 30,
    "repl_lag_s_critical": 300,
    "slot_retained_bytes_critical": 10 * 1024 * 1024 * 1024,
    "wal_ready_warning": 32,
    "wal_ready_critical": 128,
    "license_days_warning": 30,
    "license_days_critical": 0,
    # sys_wal's size against what the settings let it hold (max_wal_size + wal_keep + the WAL slots hold).
    "wal_dir_max_wal_size_factor_warning": 2.0,
    "wal_dir_max_wal_size_factor_critical": 4.0,
}

# Catalog objects and functions the queries use. Kingbase's sys_ names; those marked UNCONFIRMED in
# ../shared/reference/domain-research.md can be corrected per site through the module's sql_names.
DEFAULT_SQL_NAMES = {
    "stat_activity": "sys_stat_activity",
    "stat_replication": "sys_stat_replication",
    "replication_slots": "sys_replication_slots",
    "stat_archiver": "sys_stat_archiver",
    "stat_wal_receiver": "sys_stat_wal_receiver",
    "database": "sys_database",
    "is_in_recovery": "sys_is_in_recovery",
    "postmaster_start_time": "sys_postmaster_start_time",
    "current_wal_lsn": "sys_current_wal_lsn",
    "wal_lsn_diff": "sys_wal_lsn_diff",
    "database_size": "sys_database_size",
    "license_validdays": "get_license_validdays",
    "file_settings": "sys_file_settings",
    "settings": "sys_settings",
}

# Settings the archive and WAL checks read from sys_settings (besides those pending a restart).
SETTINGS_READ = ("archive_mode", "archive_command", "archive_library", "max_wal_size", "wal_keep_size",
                 "wal_keep_segments", "wal_segment_size")

NULL = "\\N"
SEP = "\t"
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]*$")


def read_text(path, limit=1024 * 1024):
    """(text, error) of a small file: UTF-8, else GB18030 (older vendor files: licence, repmgr.conf, all_nodes_tools.conf), never more than limit bytes."""
    try:
        with open(path, "rb") as handle:
            data = handle.read(limit)
    except (IOError, OSError) as exc:
        return None, "%s: %s" % (path, exc.strerror or exc)
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError:
        return data.decode("gb18030", "replace"), None


def merge_thresholds(given):
    """Operator thresholds over the defaults; unknown keys and non-numbers are errors naming the key."""
    return _merge_thresholds(DEFAULT_THRESHOLDS, given)


def merge_sql_names(given):
    merged = dict(DEFAULT_SQL_NAMES)
    for key, value in (given or {}).items():
        if key not in DEFAULT_SQL_NAMES:
            raise ValueError("unknown sql_names key %r (known: %s)" % (key, ", ".join(sorted(DEFAULT_SQL_NAMES))))
        if not isinstance(value, str) or not _IDENT.match(value):
            raise ValueError("sql_names %r must be an SQL name, got %r" % (key, value))
        merged[key] = value
    return merged


def build_queries(names, thresholds):
    """The read-only queries, one per topic, so one failing query (a missing object) loses one topic only."""
    n = names
    wait = int(thresholds["lock_wait_min_s"])
    long_s = int(thresholds["long_xact_warning_s"])
    client = "backend_type = 'client backend'"
    return {
        "core": (
            "select {rec}(), extract(epoch from now() - {start}())::bigint, {start}(), version(), "
            "current_setting('server_version'), current_setting('max_connections'), "
            "(select count(*) from {act} where {client}), current_setting('archive_mode')"
        ).format(rec=n["is_in_recovery"], start=n["postmaster_start_time"], act=n["stat_activity"], client=client),
        # now() is the start of this query's own transaction: xact_start < now() leaves the inspection out.
        "xacts": (
            "select pid, usename, datname, application_name, client_addr, state, "
            "extract(epoch from now() - xact_start)::bigint, "
            "(select count(*) from {act} where {client} and now() - xact_start >= interval '{s} seconds') "
            "from {act} where {client} and xact_start < now() order by xact_start limit 1"
        ).format(act=n["stat_activity"], client=client, s=long_s),
        "locks": (
            "select count(*), coalesce(max(extract(epoch from now() - query_start)), 0)::bigint from {act} "
            "where wait_event_type = 'Lock' and now() - query_start >= interval '{w} seconds'"
        ).format(act=n["stat_activity"], w=wait),
        "senders": (
            "select application_name, client_addr, state, sync_state, "
            "{diff}({cur}(), replay_lsn)::bigint, coalesce(extract(epoch from replay_lag), 0) "
            "from {rep} order by 1"
        ).format(diff=n["wal_lsn_diff"], cur=n["current_wal_lsn"], rep=n["stat_replication"]),
        "receiver": (
            "select status, sender_host, sender_port, slot_name from {rcv}"
        ).format(rcv=n["stat_wal_receiver"]),
        # The WAL a slot holds back can only be measured on a primary (no current WAL position in recovery).
        "slots": (
            "select slot_name, slot_type, active, case when {rec}() then null "
            "else {diff}({cur}(), restart_lsn)::bigint end from {slots} order by 1"
        ).format(rec=n["is_in_recovery"], diff=n["wal_lsn_diff"], cur=n["current_wal_lsn"],
                 slots=n["replication_slots"]),
        "archiver": (
            "select archived_count, failed_count, last_archived_wal, "
            "extract(epoch from last_archived_time)::bigint, last_failed_wal, "
            "extract(epoch from last_failed_time)::bigint from {arch}"
        ).format(arch=n["stat_archiver"]),
        "databases": (
            "select datname, {size}(datname) from {db} where datallowconn and not datistemplate order by 1"
        ).format(size=n["database_size"], db=n["database"]),
        "license": "select {lic}()".format(lic=n["license_validdays"]),
        # Every line of the configuration files in reading order (kingbase.conf, es_rep.conf through
        # include_if_exists, kingbase.auto.conf: later lines win), beside what the server runs (K39).
        "file_settings": (
            "select f.seqno, f.name, f.sourcefile, f.sourceline, f.setting, f.applied, f.error, "
            "s.setting, s.unit, s.context, s.source, s.sourcefile, s.sourceline, s.pending_restart "
            "from {fs} f left join {st} s on lower(s.name) = lower(f.name) order by f.seqno"
        ).format(fs=n["file_settings"], st=n["settings"]),
        # Settings waiting for a restart, and those the archive and WAL checks judge (wal_keep_segments:
        # V8R6's PostgreSQL 12 base; wal_keep_size and archive_library: newer bases such as the lab's 15).
        "settings": (
            "select name, setting, unit, context, source, pending_restart from {st} "
            "where pending_restart or name in ({names}) order by 1"
        ).format(st=n["settings"], names=", ".join("'%s'" % name for name in SETTINGS_READ)),
    }


def parse_rows(text):
    """Unaligned, tuples-only ksql output (tab-separated, NULL printed as \\N) -> list of lists."""
    rows = []
    for line in (text or "").splitlines():
        if not line.strip():
            continue
        rows.append([None if cell == NULL else cell for cell in line.split(SEP)])
    return rows


def to_int(value):
    if value is None or value == "":
        return None
    try:
        return int(float(value))
    except (TypeError, ValueError):
        return None


def to_float(value):
    if value is None or value == "":
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def to_bool(value):
    if value is None:
        return None
    return value.strip().lower() in ("t", "true", "on", "1", "yes")


def parse_core(text):
    rows = parse_rows(text)
    if not rows or len(rows[0]) < 8:
        return None
    r = rows[0]
    in_recovery = to_bool(r[0])
    max_conn = to_int(r[5])
    conns = to_int(r[6])
    return {
        "in_recovery": in_recovery,
        "role": "standby" if in_recovery else "primary",
        "uptime_s": to_int(r[1]),
        "start_time": r[2],
        "version": r[3],
        "server_version": r[4],
        "max_connections": max_conn,
        "connections": conns,
        "connections_pct": round(100.0 * conns / max_conn, 1) if max_conn and conns is not None else None,
        "archive_mode": r[7],
    }


def parse_xacts(text):
    """Longest open client transaction and how many are older than the warning threshold."""
    rows = parse_rows(text)
    if not rows or len(rows[0]) < 8:
        return {"count": 0, "longest_s": 0, "longest": None}
    r = rows[0]
    return {"count": to_int(r[7]), "longest_s": to_int(r[6]),
            "longest": {"pid": to_int(r[0]), "user": r[1], "database": r[2], "application": r[3],
                        "client": r[4], "state": r[5]}}


def parse_locks(text):
    rows = parse_rows(text)
    if not rows or len(rows[0]) < 2:
        return None, None
    return to_int(rows[0][0]), to_int(rows[0][1])


def parse_senders(text):
    out = []
    for r in parse_rows(text):
        if len(r) < 6:
            continue
        out.append({"name": r[0] or "", "client_addr": r[1], "state": r[2], "sync_state": r[3],
                    "lag_bytes": to_int(r[4]), "lag_s": to_float(r[5])})
    return out


def parse_receiver(text):
    rows = parse_rows(text)
    if not rows:
        return {"status": None, "sender_host": None, "sender_port": None, "slot_name": None}
    r = rows[0] + [None] * 4
    return {"status": r[0], "sender_host": r[1], "sender_port": to_int(r[2]), "slot_name": r[3]}


def parse_slots(text):
    out = []
    for r in parse_rows(text):
        if len(r) < 4:
            continue
        out.append({"name": r[0], "type": r[1], "active": to_bool(r[2]), "retained_bytes": to_int(r[3])})
    return out


def parse_archiver(text):
    rows = parse_rows(text)
    if not rows or len(rows[0]) < 6:
        return None
    r = rows[0]
    return {"archived_count": to_int(r[0]), "failed_count": to_int(r[1]), "last_archived_wal": r[2],
            "last_archived_epoch": to_int(r[3]), "last_failed_wal": r[4], "last_failed_epoch": to_int(r[5])}


def parse_databases(text):
    out = {}
    for r in parse_rows(text):
        if len(r) >= 2 and r[0]:
            out[r[0]] = to_int(r[1])
    return out


def parse_license_days(text):
    rows = parse_rows(text)
    if not rows or not rows[0]:
        return None
    value = (rows[0][0] or "").strip()
    return int(value) if re.match(r"^-?[0-9]+$", value) else None


def count_ready(names):
    return len([n for n in names if n.endswith(".ready")])


def parse_repmgr_csv(text):
    """`repmgr cluster show --csv`: node_id,connection (0 ok, -1 not),recovery type (0 primary, 1 standby, -1 unknown).

    The recovery type is read from the node itself, so -1 means repmgr could not reach it."""
    out = []
    for line in (text or "").splitlines():
        cells = [c.strip().strip('"') for c in line.split(",")]
        if len(cells) < 3 or not all(re.match(r"^-?[0-9]+$", c) for c in cells[:3]):
            continue
        recovery = int(cells[2])
        out.append({"id": int(cells[0]), "reachable": int(cells[1]) == 0 and recovery in (0, 1),
                    "role": {0: "primary", 1: "standby"}.get(recovery, "unknown")})
    return out


def parse_repmgr_table(text):
    """`repmgr cluster show` (the table): id, name, role (from the metadata), status, upstream."""
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
        rows.append({"id": to_int(row.get("id")), "name": row.get("name", ""), "role": row.get("role", ""),
                     "status": row.get("status", ""), "upstream": row.get("upstream", "")})
    return rows


def _table_state(row):
    """Reachability and actual role from the status text: '* running', '  running', '! running as primary',
    '! running as standby', '? unreachable', '- failed', '! unknown'."""
    status = row.get("status", "")
    reachable = "running" in status
    role = row.get("role") or "unknown"
    if "as primary" in status:
        role = "primary"
    elif "as standby" in status:
        role = "standby"
    return reachable, role


def merge_repmgr(csv_rows, table_rows):
    """Join the two views by node id: the CSV's reachability and actual role, the table's names and status text."""
    by_id = dict((r["id"], r) for r in table_rows if r["id"] is not None)
    csv_by_id = dict((r["id"], r) for r in csv_rows)
    ids = [r["id"] for r in csv_rows] or [r["id"] for r in table_rows if r["id"] is not None]
    nodes = []
    for node_id in ids:
        t = by_id.get(node_id, {})
        c = csv_by_id.get(node_id)
        reachable, role = _table_state(t) if t else (False, "unknown")
        if c is not None:
            reachable = c["reachable"]
            role = c["role"] if c["role"] != "unknown" else role
        nodes.append({
            "id": node_id,
            "name": t.get("name") or "node %s" % node_id,
            "role": role,
            "metadata_role": t.get("role") or None,
            "status": t.get("status", ""),
            "running": reachable,
            "role_mismatch": "!" in t.get("status", ""),
        })
    return nodes


def kbha_cron_line(text, pattern, repmgr_conf):
    """The active crontab line that keeps kbha alive (contains pattern and, when given, the repmgr.conf path)."""
    return kbha_cron_entries(text, pattern, repmgr_conf)[0]


def kbha_cron_entries(text, pattern, repmgr_conf):
    """(active line, commented-out line) of a crontab or an /etc/cron.d file that keeps kbha alive: a line
    holding pattern and, when given, the repmgr.conf path. A site that wants manual recovery after a reboot
    comments the line out (K41): '#*/1 * * * * . /etc/profile;<KB_HOME>/bin/kbha -A daemon -f <repmgr.conf>'."""
    active = commented = None
    for line in (text or "").splitlines():
        stripped = line.strip()
        if not stripped:
            continue
        body = stripped.lstrip("#").strip()
        if pattern not in body or (repmgr_conf and repmgr_conf not in body):
            continue
        if stripped.startswith("#"):
            commented = commented or stripped
        else:
            active = active or stripped
    return active, commented


def cron_d_names(names):
    """The /etc/cron.d files cron reads (it skips hidden files, editor backups and package leftovers)."""
    skip = re.compile(r"(^\.|~$|\.(rpmsave|rpmorig|rpmnew|swp|dpkg-[a-z]+|ucf-[a-z]+)$)")
    return sorted(n for n in names if not skip.search(n))


def _basename(path):
    return (path or "").rstrip("/").rsplit("/", 1)[-1]


def repmgrd_cmdline_matches(argv, repmgr_conf, realpath=None):
    """Is argv a repmgrd started with this repmgr.conf (-f <conf>, -f<conf>, --config-file[=]<conf>)? With
    realpath, a path that resolves to the same file counts (kbha may start it through a symlinked KB_HOME)."""
    if not argv or _basename(argv[0]) != "repmgrd" or not repmgr_conf:
        return False
    given = []
    for i, arg in enumerate(argv[1:], 1):
        if arg in ("-f", "--config-file") and i + 1 < len(argv):
            given.append(argv[i + 1])
        elif arg.startswith("--config-file="):
            given.append(arg.split("=", 1)[1])
        elif arg.startswith("-f") and len(arg) > 2:
            given.append(arg[2:])
    if repmgr_conf in given:
        return True
    if realpath is not None:
        wanted = realpath(repmgr_conf)
        return any(realpath(path) == wanted for path in given)
    return False


# ---- secrets never leave the host -------------------------------------------------------------------

REDACTED = "<redacted>"
_SECRET_KEY = re.compile(r"(?i)(passw(or)?d|pwd|secret|token)")
_SECRET_KEY_EXEMPT = re.compile(r"(?i)^password_?encryption$")
_SECRET_IN_VALUE = re.compile(r"(?i)\b(password|passwd|pwd)(\s*=\s*)('(?:[^'\\]|\\.|'')*'|\"[^\"]*\"|[^\s'\"]+)")


def secret_key(name):
    """Does a key name a secret (password, passwd, pwd, secret, token; not password_encryption)?"""
    return bool(_SECRET_KEY.search(name or "")) and not _SECRET_KEY_EXEMPT.search(name or "")


def redact_value(name, value):
    """value, or REDACTED when name names a secret; a conninfo's password=... inside it masked."""
    if value is None:
        return None
    if secret_key(name):
        return REDACTED
    return _SECRET_IN_VALUE.sub(lambda m: m.group(1) + m.group(2) + REDACTED, value)


# ---- configuration files: which file wins each parameter (K39) --------------------------------------

_MEMORY_UNITS = {"b": 1, "kb": 1024, "mb": 1024 ** 2, "gb": 1024 ** 3, "tb": 1024 ** 4}
_TIME_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "min": 60000.0, "h": 3600000.0, "d": 86400000.0}
_BOOL_WORDS = {"on": True, "true": True, "yes": True, "off": False, "false": False, "no": False}
# PostgreSQL's text (not translated) for a line whose value could not be taken: an invalid value, or, for a
# parameter that needs a restart, a changed value the server cannot take before it restarts.
NOT_APPLIED_ERROR = "setting could not be applied"


def quantity(text, base_unit=None):
    """('memory', bytes) | ('time', ms) | ('', number) of a setting's text, None when it is no quantity. A bare
    number is in base_unit when given (sys_settings' unit column: '8kB', 'kB', 'MB', 'B', 'ms', 's', 'min')."""
    m = re.match(r"^\s*(-?[0-9]+(?:\.[0-9]+)?)\s*([a-zA-Z]*)\s*$", text or "")
    if not m:
        return None
    number, unit = float(m.group(1)), m.group(2).lower()
    if not unit and base_unit:
        b = re.match(r"^\s*([0-9]*)\s*([a-zA-Z]+)\s*$", base_unit)
        if not b:
            return None
        number, unit = number * (int(b.group(1)) if b.group(1) else 1), b.group(2).lower()
    if not unit:
        return ("", number)
    if unit in _MEMORY_UNITS:
        return ("memory", number * _MEMORY_UNITS[unit])
    if unit in _TIME_UNITS:
        return ("time", number * _TIME_UNITS[unit])
    return None


def setting_bytes(setting, unit):
    """Bytes of a memory setting as sys_settings shows it (setting '1024', unit 'MB'), else None."""
    q = quantity(setting, unit)
    return int(q[1]) if q and q[0] == "memory" else None


def same_setting(a, b, unit=None):
    """Do two setting texts mean the same value? Exact text, the same boolean (on/true/yes), or the same
    quantity ('128MB' = '131072kB'; a bare number in unit when given). Other texts differ ('replica' and
    'REPLICA' are not taken as equal: paths and commands are case-sensitive)."""
    if a is None or b is None:
        return a is b
    x, y = a.strip(), b.strip()
    if x == y:
        return True
    if x.lower() in _BOOL_WORDS and y.lower() in _BOOL_WORDS:
        return _BOOL_WORDS[x.lower()] == _BOOL_WORDS[y.lower()]
    qx, qy = quantity(x, unit), quantity(y, unit)
    return bool(qx and qy and qx[0] == qy[0] and abs(qx[1] - qy[1]) < 1e-6)


def human_bytes(n):
    if n is None:
        return "未知"
    for unit, size in (("TiB", 1024 ** 4), ("GiB", 1024 ** 3), ("MiB", 1024 ** 2), ("KiB", 1024)):
        if abs(n) >= size:
            return "%.1f %s" % (n / float(size), unit)
    return "%d B" % n


def show_setting(setting, unit):
    """A live setting as a person reads it: '16384' in '8kB' is '128.0 MiB'."""
    if setting is None:
        return None
    b = setting_bytes(setting, unit)
    if b is not None and unit:
        return human_bytes(b)
    return setting + (unit if unit and re.match(r"^-?[0-9.]+$", setting) else "")


def parse_file_settings(text):
    """build_queries' file_settings answer: one dict per configuration line in reading order (the value of a
    secret-named parameter and conninfo passwords redacted). A row whose cells do not add up (a tab inside a
    value) is counted, not guessed."""
    rows, unparsed = [], 0
    for r in parse_rows(text):
        if len(r) != 14:
            unparsed += 1
            continue
        name = r[1]
        rows.append({"seqno": to_int(r[0]), "name": name, "file": r[2], "line": to_int(r[3]),
                     "value": redact_value(name, r[4]), "applied": to_bool(r[5]), "error": r[6] or None,
                     "live_value": redact_value(name, r[7]), "live_unit": r[8], "context": r[9], "live_source": r[10],
                     "live_file": r[11], "live_line": to_int(r[12]), "pending_restart": to_bool(r[13])})
    return {"rows": rows, "unparsed": unparsed}


def parse_settings(text):
    """build_queries' settings answer: {name: {setting, unit, context, source, pending_restart}}."""
    out = {}
    for r in parse_rows(text):
        if len(r) != 6 or not r[0]:
            continue
        out[r[0]] = {"setting": redact_value(r[0], r[1]), "unit": r[2], "context": r[3], "source": r[4],
                     "pending_restart": to_bool(r[5])}
    return out


def _where(row):
    return {"file": row["file"], "line": row["line"], "value": row["value"]}


def chains(rows):
    """{lower-case name: [rows in reading order]}: the last row of a chain is the one that wins."""
    out = {}
    for row in sorted(rows, key=lambda r: r["seqno"] if r["seqno"] is not None else 0):
        if row["name"]:
            out.setdefault(row["name"].lower(), []).append(row)
    return out


def _loose(text):
    return re.sub(r"\s+", "", text or "").lower()


def _live_differs(row):
    """Does the server run another value than the winning row's? True / False; None when it cannot be told (no
    live value, or a quantity the parser does not read). Loose: the server shows some values in its own
    spelling ('iso, mdy' as 'ISO, MDY', '1GB' as 1024 MB)."""
    live = row.get("live_value")
    if live is None:
        return None
    if same_setting(row["value"], live, row.get("live_unit")) or _loose(row["value"]) == _loose(live):
        return False
    q_live = quantity(live, row.get("live_unit"))
    if q_live is not None and q_live[0] and quantity(row["value"]) is None:
        return None
    return True


def _invalid_for(row):
    """Is a line's value plainly not of its parameter's kind (a number or a size where the server runs one:
    shared_buffers = 'lots')? Then 'could not be applied' is an invalid value, not a pending restart."""
    live = row.get("live_value")
    if live is None or quantity(live, row.get("live_unit")) is None:
        return False
    return quantity(row["value"]) is None


def analyse_file_settings(parsed, pending=None, expected_overrides=()):
    """What the configuration files do (K39), from parse_file_settings' rows and parse_settings' answer.

    multiple: each parameter set on more than one line: the winning line, the losing ones, whether their values
      differ and whether the operator expects it (expected_overrides, case-insensitive names).
    errors: lines with an error: kind 'error' (a syntax error, an unknown parameter, a value the server refuses:
      the next start fails) or 'restart_or_invalid' (a restart-only parameter whose line could not be applied and
      no restart is pending: a changed value not yet reloaded, or an invalid one). An unknown parameter stops the
      server from checking the other values; a syntax error stops the reading itself (complete: false, and no
      multiple / not_applied then).
    not_applied: parameters whose winning line is not what runs: cause 'restart' (pending_restart), 'reload'
      (the files changed since the last reload) or 'command line' / 'environment variable' (set outside them).
    """
    rows = parsed.get("rows") or []
    pending = pending or {}
    expected = set((n or "").lower() for n in expected_overrides or [])
    files = []
    for row in sorted(rows, key=lambda r: r["seqno"] if r["seqno"] is not None else 0):
        if row["file"] and row["file"] not in files:
            files.append(row["file"])
    by_name = chains(rows)
    restart = set(name.lower() for name, s in pending.items() if s.get("pending_restart"))
    restart.update(key for key, chain in by_name.items() if chain[-1].get("pending_restart"))

    multiple, errors, not_applied = [], [], []
    for row in rows:
        if not row["error"]:
            continue
        key = (row["name"] or "").lower()
        if key and key in restart:
            continue  # a restart-only change the server knows about: not_applied below
        kind = "error"
        if row["error"] == NOT_APPLIED_ERROR and row.get("context") == "postmaster" and not _invalid_for(row):
            kind = "restart_or_invalid"
        errors.append({"name": row["name"], "file": row["file"], "line": row["line"], "value": row["value"],
                       "error": row["error"], "kind": kind})
    erroneous = set((e["name"] or "").lower() for e in errors)

    # A syntax error stops the reading at that line: the lines after it (kingbase.auto.conf's too) are not
    # listed, so which line wins cannot be told until it is fixed.
    complete = not any(e["name"] is None for e in errors)
    for key, chain in by_name.items() if complete else []:
        winner = chain[-1]
        if len(chain) > 1:
            losers = chain[:-1]
            differs = any(not same_setting(r["value"], winner["value"]) for r in losers)
            multiple.append({"name": winner["name"], "winner": _where(winner), "losers": [_where(r) for r in losers],
                             "differs": differs, "expected": key in expected})
        if key in erroneous:
            continue
        cause = None
        source = winner.get("live_source")
        differs = _live_differs(winner)
        if key in restart:
            cause = "restart"
        elif source == "configuration file":
            # The server took another line, or this line said something else at the last reload.
            moved = (winner["live_file"], winner["live_line"]) != (winner["file"], winner["line"])
            if differs or (differs is None and moved):
                cause = "reload"
        elif source == "default" and differs:
            cause = "reload"
        elif source in ("command line", "environment variable") and differs:
            cause = source
        if cause:
            not_applied.append({"name": winner["name"], "file": winner["file"], "line": winner["line"],
                                "value": winner["value"], "cause": cause,
                                "live": show_setting(winner.get("live_value"), winner.get("live_unit")),
                                "live_source": winner.get("live_source")})
    # Restart-pending parameters no file sets any more (a line removed: the default needs a restart).
    for name, s in sorted(pending.items()):
        if s.get("pending_restart") and name.lower() not in by_name and complete:
            not_applied.append({"name": name, "file": None, "line": None, "value": None, "cause": "restart",
                                "live": show_setting(s.get("setting"), s.get("unit")), "live_source": s.get("source")})
    return {"files": files, "multiple": multiple, "errors": errors, "not_applied": not_applied,
            "complete": complete, "unparsed_rows": parsed.get("unparsed", 0)}


def winning_row(parsed, name):
    chain = chains(parsed.get("rows") or []).get(name.lower()) or []
    return (chain[-1] if chain else None), chain[:-1]


# ---- archive_command: a no-op that throws WAL away ------------------------------------------------------

_NOOP_COMMANDS = (":", "true", "echo", "printf")
_SHELLS = ("sh", "bash", "dash", "ksh")


def _words(command):
    """The shell words of a command, operators (; && || | & and redirections) as words of their own, a '#'
    comment dropped;
    None when the text is not valid shell (an unclosed quote)."""
    lexer = shlex.shlex(command, posix=True, punctuation_chars=";&|<>")
    lexer.whitespace_split = True
    try:
        return list(lexer)
    except ValueError:
        return None


def is_noop_command(command):
    """Does an archive_command succeed without keeping the segment anywhere? True for ':', 'true', '/bin/true',
    'exit 0', 'echo %p', 'cp %p /dev/null', 'cat %p > /dev/null' and lists of them (also inside sh -c '...');
    a command that runs anything else is not a no-op ('sys_rman ... || true' archives when it can). An empty
    command is not a no-op (the server then keeps the WAL: KB_WAL_BACKLOG)."""
    words = _words(command or "")
    if not words:
        return False
    simple, current = [], []
    for word in words + [";"]:
        if set(word) <= set(";&|"):
            if current:
                simple.append(current)
            current = []
        else:
            current.append(word)
    if not simple:
        return False
    for cmd in simple:
        while cmd and re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", cmd[0]):
            cmd = cmd[1:]  # VAR=value before the command
        if cmd and cmd[0] == "exec":
            cmd = cmd[1:]
        if not cmd:
            continue
        name = _basename(cmd[0])
        if name in _SHELLS and len(cmd) >= 3 and cmd[1] == "-c":
            noop = is_noop_command(cmd[2])
        elif name == "exit":
            noop = len(cmd) == 1 or cmd[1] == "0"
        elif name == "cp":
            noop = cmd[-1] == "/dev/null"
        elif name == "cat":
            noop = ">" in cmd and cmd[cmd.index(">") + 1:cmd.index(">") + 2] == ["/dev/null"]
        elif name == "dd":
            noop = "of=/dev/null" in cmd
        else:
            noop = name in _NOOP_COMMANDS
        if not noop:
            return False
    return True


def parse_archive_command(command):
    """The tool an archive_command runs and, for sys_rman, its configuration file and stanza, read from both
    --config=<file> and the vendor sys_backup.sh's --config <file> (K37)."""
    words = _words(command or "") or []
    out = {"tool": None, "config": None, "stanza": None}
    for i, word in enumerate(words):
        if out["tool"] is None and not re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", word) and not set(word) <= set(";&|"):
            out["tool"] = _basename(word)
        for option in ("config", "stanza"):
            flag = "--" + option
            if word.startswith(flag + "=") and out[option] is None:
                out[option] = word[len(flag) + 1:]
            elif word == flag and i + 1 < len(words) and out[option] is None:
                out[option] = words[i + 1]
    return out


def archive_view(parsed, settings, mode=None):
    """What archiving does: archive_mode as it runs (from sys_settings, else mode), the winning archive_command
    (the files' last line, else the running value), whether it or a losing line is a no-op, and what a sys_rman
    command names."""
    settings = settings or {}
    mode = (settings.get("archive_mode") or {}).get("setting") or mode
    live = (settings.get("archive_command") or {}).get("setting")
    library = (settings.get("archive_library") or {}).get("setting")
    winner, losers = winning_row(parsed or {}, "archive_command")
    if any(r["name"] is None for r in (parsed or {}).get("rows") or []):
        winner, losers = None, []  # a syntax error stopped the reading: the running value is all that is known
    command = winner["value"] if winner else live
    view = {"mode": mode, "command": command,
            "source": ("%s:%s" % (winner["file"], winner["line"])) if winner else ("running value" if live is not None else None),
            "live_command": live, "library": library or None,
            "noop": is_noop_command(command), "live_noop": is_noop_command(live),
            "shadowed_noops": [_where(r) for r in losers if is_noop_command(r["value"])]}
    view.update(parse_archive_command(command))
    return view


# ---- sys_wal against max_wal_size -----------------------------------------------------------------------

def wal_retention(wal_bytes, settings, slots):
    """How much WAL the settings let sys_wal hold: max_wal_size + wal_keep_size (or wal_keep_segments x
    wal_segment_size) + the most WAL a replication slot holds back; and sys_wal's size as a multiple of it."""
    settings = settings or {}

    def size(name):
        s = settings.get(name) or {}
        return setting_bytes(s.get("setting"), s.get("unit"))

    max_wal = size("max_wal_size")
    keep = size("wal_keep_size")
    if keep is None:
        segments = to_int((settings.get("wal_keep_segments") or {}).get("setting"))
        segment = size("wal_segment_size") or 16 * 1024 * 1024
        keep = segments * segment if segments is not None else None
    held = [s.get("retained_bytes") for s in slots or [] if s.get("retained_bytes")]
    slot_bytes = max(held) if held else 0
    out = {"bytes": wal_bytes, "max_wal_size_bytes": max_wal, "wal_keep_bytes": keep or 0,
           "slot_retained_bytes": slot_bytes, "allowed_bytes": None, "factor": None}
    if max_wal:
        out["allowed_bytes"] = max_wal + (keep or 0) + slot_bytes
        if wal_bytes is not None:
            out["factor"] = round(float(wal_bytes) / out["allowed_bytes"], 2)
    return out


# ---- repmgr.conf (K42) ------------------------------------------------------------------------------------

def _conf_value(rest):
    """A configuration value: quoted ('...' with '' or \\' inside, or "...") up to its closing quote, else the
    text up to a '#' comment."""
    rest = rest.strip()
    if rest[:1] in ("'", '"'):
        quote, out, i = rest[0], [], 1
        while i < len(rest):
            ch = rest[i]
            if ch == "\\" and i + 1 < len(rest):
                out.append(rest[i + 1])
                i += 2
                continue
            if ch == quote:
                if quote == "'" and rest[i + 1:i + 2] == "'":
                    out.append("'")
                    i += 2
                    continue
                break
            out.append(ch)
            i += 1
        return "".join(out)
    return rest.split("#", 1)[0].strip()


def parse_conf(text):
    """key = value lines (repmgr.conf, all_nodes_tools.conf): the = optional as in PostgreSQL's files, quotes,
    comments; a key set twice keeps its last value."""
    out = {}
    for raw in (text or "").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        m = re.match(r"^([A-Za-z_][A-Za-z0-9_.-]*)\s*(?:[=:]\s*|\s+)(.*)$", line)
        if m:
            out[m.group(1)] = _conf_value(m.group(2))
    return out


def redact_conf(keys):
    """repmgr.conf's keys for the facts: secrets' values and conninfo passwords redacted."""
    return dict((k, redact_value(k, v)) for k, v in (keys or {}).items())


def conf_true(value):
    return (value or "").strip().lower() in ("on", "true", "yes", "1")


def trusted_servers(keys):
    return [s.strip() for s in re.split(r"[,\s]+", (keys or {}).get("trusted_servers") or "") if s.strip()]


# ---- ping for trusted_servers (K46) ---------------------------------------------------------------------

CAP_NET_RAW = 13


def parse_vfs_cap(data):
    """The security.capability extended attribute (struct vfs_cap_data, revisions 1 to 3, little-endian) ->
    {revision, permitted (bit mask), effective}; None for anything else. An empty value means no capabilities."""
    if data is None:
        return None
    if len(data) == 0:
        return {"revision": None, "permitted": 0, "effective": False}
    if len(data) < 12:
        return None
    magic, permitted, _inheritable = struct.unpack("<III", data[:12])
    revision = (magic & 0xFF000000) >> 24
    if revision not in (1, 2, 3):
        return None
    if revision >= 2 and len(data) >= 20:
        permitted |= struct.unpack("<I", data[12:16])[0] << 32
    return {"revision": revision, "permitted": permitted, "effective": bool(magic & 0x1)}


def parse_getcap(text):
    """The capabilities `getcap <file>` grants in the permitted set, in either output form
    ('/usr/bin/ping cap_net_raw=ep', '/usr/bin/ping = cap_net_admin,cap_net_raw+p')."""
    caps = set()
    for m in re.finditer(r"((?:cap_[a-z_]+,?)+)\s*[=+]\s*([eip]*)", text or ""):
        if "p" in m.group(2):
            caps.update(c for c in m.group(1).split(",") if c)
    return caps


def parse_ping_group_range(text):
    """/proc/sys/net/ipv4/ping_group_range -> (low, high); the kernel default '1 0' allows no group."""
    parts = (text or "").split()
    if len(parts) != 2 or not all(re.match(r"^[0-9]+$", p) for p in parts):
        return None
    return int(parts[0]), int(parts[1])


def ping_view(path, exists, setuid_root, cap, cap_error, group_range, gids):
    """Can the Kingbase account's ping open its socket: cap_net_raw in the file's permitted set, setuid root, or
    an unprivileged ICMP socket for one of its groups (net.ipv4.ping_group_range)? ok is None when the file's
    capabilities could not be read and neither other way applies."""
    group_ok = bool(group_range and any(group_range[0] <= g <= group_range[1] for g in gids or []))
    view = {"path": path, "exists": exists, "setuid_root": bool(setuid_root), "cap_net_raw": None,
            "ping_group_range": list(group_range) if group_range else None, "group_allowed": group_ok,
            "checked": False, "ok": None, "error": cap_error}
    if not exists:
        return view
    if cap is not None:
        view["cap_net_raw"] = bool(cap["permitted"] & (1 << CAP_NET_RAW))
    if view["cap_net_raw"] or view["setuid_root"] or group_ok:
        view.update(checked=True, ok=True)
    elif view["cap_net_raw"] is False:
        view.update(checked=True, ok=False)
    return view


# ---- licence (K30-K32, K44) -------------------------------------------------------------------------------

_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y%m%d", "%Y年%m月%d日")


def parse_date(text):
    text = (text or "").strip()
    m = re.match(r"^([0-9]{4}[-/.年][0-9]{1,2}[-/.月][0-9]{1,2}日?|[0-9]{8})", text)
    if not m:
        return None
    for fmt in _DATE_FORMATS:
        try:
            return datetime.datetime.strptime(m.group(1), fmt).date()
        except ValueError:
            continue
    return None


def parse_license_file(text, today):
    """license.dat: the vendor's plain text with Chinese field names (有效期间: 0 permanent, N days from the
    production date 生产日期; 官方网站试用授权 a trial), separators ':', '：' or '=', or the lab stand-in's
    EXPIRE_DATE=. -> {kind permanent | trial | dated | None, valid_days, production_date, expiry_date, days_left}."""
    fields = {}
    trial = False
    for raw in (text or "").splitlines():
        line = raw.strip().strip("|").strip()
        if not line or line.startswith("#"):
            continue
        if "试用授权" in line or "试用版" in line:
            trial = True
        m = re.match(u"^([^:：=]+?)\\s*[:：=]\\s*(.*)$", line)
        if m:
            fields[m.group(1).strip()] = m.group(2).strip()

    def field(*needles):
        for key, value in fields.items():
            if any(n in key for n in needles):
                return value
        return None

    days_text = field("有效期间", "有效期限", "有效天数", "VALID_DAYS")
    valid_days = None
    if days_text is not None:
        m = re.match(r"^-?[0-9]+", days_text)
        valid_days = int(m.group(0)) if m else None
    produced = parse_date(field("生产日期", "ISSUE_DATE"))
    expiry = parse_date(field("到期日期", "截止日期", "EXPIRE_DATE"))
    kind = None
    if valid_days == 0 and expiry is None:
        kind = "permanent"
    elif (valid_days is not None and valid_days > 0) or expiry is not None:
        kind = "dated"
        if expiry is None and produced is not None:
            expiry = produced + datetime.timedelta(days=valid_days)
    if trial:
        kind = "trial"
    return {"kind": kind, "valid_days": valid_days,
            "production_date": produced.isoformat() if produced else None,
            "expiry_date": expiry.isoformat() if expiry else None,
            "days_left": (expiry - today).days if expiry else None}


def license_view(file_info, file_error, sql_days, sql_error, today, path=None):
    """The licence as judged: kind, expiry date and days left, from license.dat when it says (the file is the
    licence) and from get_license_validdays() otherwise. -2 from the function is taken as permanent (one public
    checker does so; low confidence, K44); a permanent file is never judged by the function's number."""
    info = file_info or {}
    view = {"path": path, "kind": None, "source": None, "confidence": None, "expiry_date": None, "days_left": None,
            "sql_days": sql_days, "file": info or None, "file_error": file_error, "sql_error": sql_error}
    if info.get("kind") == "permanent":
        view.update(kind="permanent", source="license.dat", confidence="high")
        return view
    if info.get("kind") in ("trial", "dated"):
        view.update(kind=info["kind"], source="license.dat", confidence="high", expiry_date=info.get("expiry_date"),
                    days_left=info.get("days_left"))
        if sql_days is not None and sql_days != -2:
            view["days_left"] = sql_days
            if view["expiry_date"] is None:
                view["expiry_date"] = (today + datetime.timedelta(days=sql_days)).isoformat()
        return view
    if sql_days == -2:
        view.update(kind="permanent", source="get_license_validdays", confidence="low")
    elif sql_days is not None:
        view.update(kind="dated", source="get_license_validdays", confidence="high", days_left=sql_days,
                    expiry_date=(today + datetime.timedelta(days=sql_days)).isoformat())
    return view


LICENSE_STATES = ("permanent", "trial", "valid", "expiring", "expired", "unknown")


def license_judgement(license_text, file_error, sql_days_text, sql_error, today, warn_days, fail_days, node,
                      path=None, fail_unknown=True):
    """What a deploy or a health check does about one node's licence (module kingbase_license_check).

    Input: license.dat's text (None when not read; file_error says why), get_license_validdays()'s
    ksql -At answer (None when not asked; sql_error says why), the node's date, the thresholds
    (kingbase_license_warn_days, kingbase_license_fail_days). The view is license_view's, the one the
    inspection judges, and the thresholds compare as its license_days_warning/_critical do, so a deploy
    and the inspection agree.

    The rule, state by state:
      permanent  license.dat says 有效期间 0: whatever the function answers (0, -2, a number, an error).
                 Also no readable file and the function -2 (confidence low). Never fails, never warns.
      expired    days left <= fail_days, trial or not: fails. Days left are the function's when it answers
                 a number other than -2, else the file's.
      trial      官方网站试用授权 in the file and not expired: warns, never fails.
      expiring   a dated licence, days left < warn_days: warns.
      valid      a dated licence, days left >= warn_days.
      unknown    neither tells: the file missing, unreadable or in a form not understood AND the function
                 missing, not asked (check mode) or not a number; or a dated file without a date and no
                 answer. Fails when fail_unknown (kingbase_license_fail_unknown, default true): a deploy does
                 not pass a node whose licence nobody could read; false after checking it by hand. A node
                 whose file says permanent is never unknown.

    -> {state, kind (permanent | trial | dated | None), days_left, expiry_date, source, confidence, path,
        sql_days, file_error, sql_error, fail, warn, message (English, for the operator: the node and
        what to do)}."""
    if license_text is not None:
        file_info = parse_license_file(license_text, today)
        if file_info["kind"] is None and not file_error:
            file_error = "%s: no validity read (有效期间/生产日期/EXPIRE_DATE)" % (path or "license.dat")
    else:
        file_info = None
        file_error = file_error or "not read"
    sql_days = None
    if sql_days_text is not None and not sql_error:
        sql_days = parse_license_days(sql_days_text)
        if sql_days is None:
            sql_error = "no number in the answer %r" % sql_days_text.strip()[:80]
    sql_error = sql_error if sql_days is None else None
    view = license_view(file_info, file_error, sql_days, sql_error, today, path)
    kind, days, expiry = view["kind"], view["days_left"], view["expiry_date"]
    where = "license.dat" if view["source"] == "license.dat" else "get_license_validdays()"
    fix = ("put the new license.dat where kingbase_license_src points and rerun kingbase_deploy.yml "
           "(the server reads it at its next start)")

    if kind == "permanent":
        state, fail, warn = "permanent", False, False
        if view["confidence"] == "low":
            message = ("%s: Kingbase licence taken as permanent: get_license_validdays() answered -2 and "
                       "license.dat was not read (%s); confirm 有效期间: 0 in it by hand" % (node, file_error))
        else:
            message = "%s: Kingbase licence is permanent (license.dat %s: 有效期间 0)" % (node, path or "")
    elif kind in ("trial", "dated") and days is not None and days <= fail_days:
        state, fail, warn = "expired", True, False
        message = ("%s: the Kingbase %slicence has %s days left (expiry %s, from %s; fails at or below %s): the "
                   "running server keeps serving but will not start again. Order a licence from the vendor, %s"
                   % (node, "trial " if kind == "trial" else "", days, expiry or "unknown", where, fail_days, fix))
    elif kind == "trial":
        state, fail, warn = "trial", False, True
        left = ""
        if days is not None:
            left = ", %s days left (expiry %s%s)" % (days, expiry or "unknown",
                                                     ", below %s" % warn_days if days < warn_days else "")
        message = ("%s: WARNING: the Kingbase licence is a trial licence (官方网站试用授权)%s. Order a production "
                   "licence from the vendor, then %s" % (node, left, fix))
    elif kind == "dated" and days is not None and days < warn_days:
        state, fail, warn = "expiring", False, True
        message = ("%s: WARNING: the Kingbase licence has %s days left (expiry %s, from %s), below %s. Order the "
                   "replacement from the vendor now, then %s" % (node, days, expiry or "unknown", where, warn_days,
                                                                 fix))
    elif kind == "dated" and days is not None:
        state, fail, warn = "valid", False, False
        message = "%s: Kingbase licence valid, %s days left (expiry %s, from %s)" % (node, days, expiry, where)
    else:
        state, fail, warn = "unknown", bool(fail_unknown), not fail_unknown
        message = ("%s: %scould not tell the Kingbase licence's validity: license.dat: %s; "
                   "get_license_validdays(): %s. Check kingbase_license_path (%s) and run "
                   "'select get_license_validdays()' as the Kingbase user; once checked by hand, "
                   "kingbase_license_fail_unknown: false lets the run go on"
                   % (node, "" if fail_unknown else "WARNING: ", file_error or "no validity read",
                      sql_error or "not asked", path or "unset"))
    return {"state": state, "kind": kind, "days_left": None if kind == "permanent" else days,
            "expiry_date": expiry, "source": view["source"], "confidence": view["confidence"], "path": path,
            "sql_days": sql_days, "file_error": file_error if view["source"] != "license.dat" else None,
            "sql_error": sql_error, "fail": fail, "warn": warn, "message": message}


# ---- all_nodes_tools.conf (K45) --------------------------------------------------------------------------

def password_keys(text):
    """Keys of key=value (or key: value) lines that name a password and hold a value; base64 is a password too.
    Only the names: a value never leaves this function."""
    keys = []
    for key, value in parse_conf(text).items():
        if secret_key(key) and value.strip() and key not in keys:
            keys.append(key)
    return keys


def finding(code, severity, subject, message, action, value=None, threshold=None):
    return _finding(COMPONENT, code, severity, subject or "", message, action, value, threshold)


def _level(value, warning, critical, higher_is_worse=True):
    if value is None:
        return None, None
    if higher_is_worse:
        if value >= critical:
            return "critical", critical
        if value >= warning:
            return "warning", warning
    else:
        if value <= critical:
            return "critical", critical
        if value < warning:
            return "warning", warning
    return None, None


def judge(facts, th, deep=False, horizon_days=90):
    """Findings for one node's facts (see the module's DOCUMENTATION for the codes)."""
    out = []
    node = facts.get("node") or ""
    add = out.append
    cluster = facts.get("repmgr_conf") is not None

    if not facts.get("running"):
        add(finding("KB_DOWN", "critical", node,
                    "数据库服务未运行或不接受连接（sys_isready：%s）" % (facts.get("isready") or "无输出"),
                    "检查 kingbased 服务与数据库日志（sys_log），确认后按运维手册启动；集群节点由 repmgr 重新加入"))
    elif facts.get("connect_error") is not None:
        add(finding("KB_CONNECT_FAILED", "critical", node,
                    "数据库接受连接，但巡检账号无法查询：%s" % facts["connect_error"],
                    "检查超级用户口令文件（~/.kbpass）与 sys_hba.conf"))

    online = facts.get("running") and facts.get("connect_error") is None
    if online:
        _judge_online(facts, th, deep, horizon_days, node, add)
        _judge_config_files(facts, node, add)
        _judge_archive_command(facts, node, add)
        _judge_wal_retention(facts, th, node, add)
    # license.dat is read even when the server is down: a stopped node with an expired licence will not start.
    _judge_license(facts, th, deep, horizon_days, node, add)

    wal = facts.get("wal") or {}
    level, limit = _level(wal.get("ready"), th["wal_ready_warning"], th["wal_ready_critical"])
    if level:
        add(finding("KB_WAL_BACKLOG", level, node,
                    "待归档的 WAL 文件 %s 个（阈值 %s）" % (wal["ready"], limit),
                    "检查归档命令（sys_rman archive-push）与备份仓库，防止数据盘被 WAL 写满",
                    wal["ready"], limit))

    if cluster:
        _judge_cluster_tools(facts, node, add)
    _judge_tools_conf(facts, node, add)
    return out


def _judge_online(facts, th, deep, horizon_days, node, add):
    pct = facts.get("connections_pct")
    level, limit = _level(pct, th["connections_pct_warning"], th["connections_pct_critical"])
    if level:
        add(finding("KB_CONNECTIONS_HIGH", level, node,
                    "连接数 %s/%s（%s%%），超过阈值 %s%%" % (facts["connections"], facts["max_connections"], pct, limit),
                    "检查应用连接池配置与空闲连接，必要时调整 max_connections（需重启）", pct, limit))

    xact = facts.get("long_transactions") or {}
    longest = xact.get("longest_s")
    level, limit = _level(longest, th["long_xact_warning_s"], th["long_xact_critical_s"])
    if level:
        who = xact.get("longest") or {}
        add(finding("KB_LONG_TRANSACTION", level, node,
                    "%s 个事务运行超过 %s 秒；最长 %s 秒（阈值 %s 秒；pid %s，用户 %s，库 %s，状态 %s）"
                    % (xact.get("count"), th["long_xact_warning_s"], longest, limit, who.get("pid"), who.get("user"),
                       who.get("database"), who.get("state")),
                    "与应用负责人确认该事务，必要时结束会话（sys_terminate_backend）", longest, limit))

    waits = facts.get("lock_waits")
    level, limit = _level(waits, th["lock_waits_warning"], th["lock_waits_critical"])
    if level:
        add(finding("KB_LOCK_WAITS", level, node,
                    "%s 个会话等待锁超过 %s 秒（阈值 %s 个）" % (waits, th["lock_wait_min_s"], limit),
                    "查看 sys_locks 与 sys_stat_activity 找出阻塞会话，联系应用处理", waits, limit))

    repl = facts.get("replication") or {}
    if facts.get("role") == "primary":
        senders = dict((s["name"], s) for s in repl.get("standbys") or [])
        for standby in repl.get("expected") or []:
            s = senders.get(standby)
            if s is None or s.get("state") != "streaming":
                state = s.get("state") if s else "无复制连接"
                add(finding("KB_STANDBY_NOT_STREAMING", "critical", standby,
                            "主库 %s 到备库 %s 的流复制不在 streaming 状态（%s）" % (node, standby, state),
                            "检查备库服务与网络，查看 repmgr cluster show；必要时按运维手册重新加入（repmgr node rejoin）",
                            state, "streaming"))
                continue
            worst = None
            for kind, val, warn, crit in (
                    ("字节", s.get("lag_bytes"), th["repl_lag_bytes_warning"], th["repl_lag_bytes_critical"]),
                    ("秒", s.get("lag_s"), th["repl_lag_s_warning"], th["repl_lag_s_critical"])):
                level, limit = _level(val, warn, crit)
                if level and (worst is None or (level == "critical" and worst[0] == "warning")):
                    worst = (level, kind, val, limit)
            if worst:
                level, kind, val, limit = worst
                add(finding("KB_REPL_LAG", level, standby,
                            "备库 %s 回放延迟 %s %s（阈值 %s %s）" % (standby, val, kind, limit, kind),
                            "检查备库负载、磁盘与网络带宽；持续增长时排查长事务与大批量写入", val, limit))
    elif facts.get("role") == "standby":
        rcv = facts.get("wal_receiver") or {}
        if rcv.get("status") != "streaming":
            add(finding("KB_WAL_RECEIVER_NOT_STREAMING", "critical", node,
                        "备库 %s 的 WAL 接收进程状态为 %s，未从主库流复制" % (node, rcv.get("status") or "未运行"),
                        "检查主库可达性、复制账号与 sys_hba.conf，查看备库日志；必要时 repmgr standby follow/node rejoin",
                        rcv.get("status"), "streaming"))

    for slot in facts.get("slots") or []:
        if slot.get("active") is False:
            retained = slot.get("retained_bytes")
            critical = retained is not None and retained >= th["slot_retained_bytes_critical"]
            add(finding("KB_REPL_SLOT_INACTIVE", "critical" if critical else "warning", slot["name"],
                        "复制槽 %s 未被使用，保留 WAL %s 字节%s" % (
                            slot["name"], retained if retained is not None else "未知",
                            "（超过阈值 %s）" % th["slot_retained_bytes_critical"] if critical else ""),
                        "确认对应备库是否仍在集群中：恢复其复制，或在确认后删除该复制槽，以免 WAL 堆积写满磁盘",
                        retained, th["slot_retained_bytes_critical"] if critical else None))

    arch = facts.get("archiver")
    if arch and facts.get("archive_mode") in ("on", "always") and (
            facts.get("role") == "primary" or facts.get("archive_mode") == "always"):
        failed_at = arch.get("last_failed_epoch")
        ok_at = arch.get("last_archived_epoch")
        if failed_at is not None and (ok_at is None or failed_at > ok_at):
            add(finding("KB_ARCHIVE_FAILING", "critical", node,
                        "WAL 归档失败：最近失败 %s 晚于最近成功 %s（累计失败 %s 次）"
                        % (arch.get("last_failed_wal"), arch.get("last_archived_wal") or "无", arch.get("failed_count")),
                        "查看数据库日志中的 archive_command 报错，检查 sys_rman 仓库空间与网络（备份运维手册）",
                        arch.get("failed_count"), 0))


def _config_dir(facts):
    """The directory of the first configuration file read (kingbase.conf; es_rep.conf and the auto file sit
    beside it), else the data directory."""
    files = (facts.get("config_files") or {}).get("files") or []
    return files[0].rsplit("/", 1)[0] if files and "/" in files[0] else facts.get("data_dir")


def _short(path, base):
    """A configuration file as the messages name it: relative to base when inside it."""
    if path and base and path.startswith(base.rstrip("/") + "/"):
        return path[len(base.rstrip("/")) + 1:]
    return path or "?"


def _at(where, base):
    return "%s:%s '%s'" % (_short(where.get("file"), base), where.get("line"), where.get("value"))


_CAUSES = {"restart": "需重启", "reload": "文件已修改但未重载", "command line": "被启动命令行参数覆盖",
           "environment variable": "被环境变量覆盖"}


def _judge_config_files(facts, node, add):
    cf = facts.get("config_files")
    if not cf:
        return
    base = _config_dir(facts)
    overridden = [m for m in cf.get("multiple") or [] if m["differs"] and not m["expected"]]
    if overridden:
        items = ["%s：%s → %s" % (m["name"], "、".join(_at(l, base) for l in m["losers"]), _at(m["winner"], base))
                 for m in overridden]
        add(finding("KB_SETTING_OVERRIDDEN", "warning", node,
                    "%s 个参数在多个配置文件中取值不同，以后读入的一行为准（被覆盖 → 生效）：%s"
                    % (len(overridden), "；".join(items)),
                    "确认各参数的生效值是否为预期：在生效的文件（通常为 es_rep.conf 或 kingbase.auto.conf）中修改，"
                    "删除其他文件中被覆盖的行以免误导；确属预期的覆盖（如 repmgr 写入 kingbase.auto.conf 的 primary_conninfo）"
                    "列入 kingbase_cluster_inspect_expected_overrides",
                    len(overridden), 0))
    errors = cf.get("errors") or []
    if errors:
        hard = [e for e in errors if e["kind"] == "error"]
        items = ["%s:%s %s%s（%s）" % (_short(e["file"], base), e["line"], e["name"] or "",
                                      (" = '%s'" % e["value"]) if e["value"] is not None else "",
                                      e["error"] if e["kind"] == "error" else "需重启的参数值无法应用：已修改未重载，或值无效")
                 for e in errors]
        add(finding("KB_CONFIG_FILE_ERROR", "critical" if hard else "warning", node,
                    "配置文件有 %s 处错误，相关设置未生效：%s。%s"
                    % (len(errors), "；".join(items),
                       "带错误的配置在下次启动（含故障切换后的重启）时会导致数据库无法启动；有语法错误或未知参数时，重载不会应用任何修改"
                       if hard else "重载后若该参数显示为待重启（pending_restart），则为正常的待重启修改；否则其值无效，下次启动将失败"),
                    "按文件与行号修正（查看 sys_file_settings 的 error 列），执行 select sys_reload_conf() 后确认 error 为空；"
                    "修正前不要重启数据库",
                    len(errors), 0))
    stale = cf.get("not_applied") or []
    if stale:
        items = []
        for s in stale:
            where = ("%s:%s '%s'" % (_short(s["file"], base), s["line"], s["value"])) if s["file"] else "（已从配置文件删除，恢复默认值）"
            items.append("%s：%s，运行值 %s（%s）" % (s["name"], where, s["live"] if s["live"] is not None else "未知",
                                                _CAUSES.get(s["cause"], s["cause"])))
        add(finding("KB_SETTING_NOT_APPLIED", "warning", node,
                    "%s 个参数的配置文件值与运行值不一致：%s" % (len(stale), "；".join(items)),
                    "需重启的参数在计划窗口内按 kingbase_config.yml 滚动重启（备库先行）；未重载的执行 select sys_reload_conf()；"
                    "被命令行覆盖的检查启动方式（kbha、sys_monitor.sh、sys_ctl -o）",
                    len(stale), 0))


def _judge_archive_command(facts, node, add):
    arch = facts.get("archive") or {}
    if arch.get("mode") not in ("on", "always") or arch.get("library"):
        return
    if arch.get("noop") or arch.get("live_noop"):
        command = arch["command"] if arch.get("noop") else arch.get("live_command")
        where = _short(arch.get("source"), _config_dir(facts)) if arch.get("noop") else "运行值"
        add(finding("KB_ARCHIVE_NOOP", "critical", node,
                    "archive_mode=%s，但生效的 archive_command 是空操作（%s：'%s'）：WAL 被当作已归档而丢弃，无法按时间点恢复（PITR）"
                    % (arch["mode"], where, command),
                    "立即在生效的配置文件中把 archive_command 改为 sys_rman archive-push（备份运维手册），重载后确认 sys_stat_archiver "
                    "有新的归档；随后做一次全量备份",
                    command, "archive-push"))
    elif arch.get("shadowed_noops"):
        shadowed = arch["shadowed_noops"]
        add(finding("KB_ARCHIVE_NOOP_SHADOWED", "warning", node,
                    "archive_command 当前生效的是 %s，但被覆盖的 %s 是空操作：归档只因后读入的文件覆盖而正常，删除或改名该文件后归档将静默失效"
                    % (_short(arch.get("source"), _config_dir(facts)), "、".join(_at(s, _config_dir(facts)) for s in shadowed)),
                    "删除被覆盖的空操作 archive_command 行（或改为与生效值一致），只在一个文件中设置 archive_command",
                    len(shadowed), 0))


def _judge_wal_retention(facts, th, node, add):
    ret = (facts.get("wal") or {}).get("retention") or {}
    factor = ret.get("factor")
    level, limit = _level(factor, th["wal_dir_max_wal_size_factor_warning"], th["wal_dir_max_wal_size_factor_critical"])
    if not level:
        return
    causes = []
    ready = (facts.get("wal") or {}).get("ready")
    if ready:
        causes.append("%s 个 WAL 等待归档（archive_command 失败或过慢）" % ready)
    arch = facts.get("archiver") or {}
    if arch.get("last_failed_epoch") is not None and (
            arch.get("last_archived_epoch") is None or arch["last_failed_epoch"] > arch["last_archived_epoch"]):
        causes.append("归档正在失败（最近失败 %s）" % arch.get("last_failed_wal"))
    inactive = [s for s in facts.get("slots") or [] if s.get("active") is False]
    if inactive:
        causes.append("未使用的复制槽 %s" % "、".join("%s（保留 %s）" % (s["name"], human_bytes(s.get("retained_bytes")))
                                               for s in inactive))
    if ret.get("wal_keep_bytes"):
        causes.append("wal_keep_size/wal_keep_segments 保留 %s" % human_bytes(ret["wal_keep_bytes"]))
    if not causes:
        causes.append("未发现归档积压或未使用的复制槽：检查归档是否失败、复制槽、wal_keep 设置，以及检查点是否长时间未完成")
    add(finding("KB_WAL_DIR_OVERSIZED", level, node,
                "WAL 目录占用 %s，是允许量 %s 的 %s 倍（阈值 %s 倍；允许量 = max_wal_size %s + wal_keep %s + 复制槽保留 %s）。可能原因：%s"
                % (human_bytes(ret.get("bytes")), human_bytes(ret.get("allowed_bytes")), factor, limit,
                   human_bytes(ret.get("max_wal_size_bytes")), human_bytes(ret.get("wal_keep_bytes")),
                   human_bytes(ret.get("slot_retained_bytes")), "；".join(causes)),
                "依次检查 sys_stat_archiver 与数据库日志中的 archive_command 报错、sys_replication_slots 中未使用的复制槽、"
                "wal_keep 设置与检查点日志；切勿手工删除 sys_wal 中的文件",
                factor, limit))


def _judge_license(facts, th, deep, horizon_days, node, add):
    lic = facts.get("license")
    if lic is None:  # facts from before license.dat was read: the function's number alone
        days = facts.get("license_days")
        lic = {"kind": "dated" if days is not None else None, "days_left": days, "sql_error": facts.get("license_error")}
    if lic.get("kind") == "permanent":
        return
    if lic.get("kind") == "trial":
        add(finding("KB_LICENSE_TRIAL", "warning", node,
                    "许可证为官方网站试用授权（%s）%s" % (lic.get("path") or "license.dat",
                                              "，%s 到期" % lic["expiry_date"] if lic.get("expiry_date") else ""),
                    "向厂商申请正式许可证并替换 license.dat（kingbase_license_src），在计划窗口内生效"))
    days = lic.get("days_left")
    if lic.get("kind") is None:
        errors = [e for e in (lic.get("sql_error"), lic.get("file_error")) if e]
        if errors:
            add(finding("KB_LICENSE_UNREADABLE", "warning", node,
                        "无法读取许可证剩余天数：%s" % "；".join(errors),
                        "人工确认 license.dat 有效期（get_license_validdays()）"))
        return
    if days is None:
        return
    if days <= th["license_days_critical"]:
        add(finding("KB_LICENSE_EXPIRED", "critical", node,
                    "许可证已过期或即将失效：剩余 %s 天（阈值 %s 天）；服务重启后将无法启动" % (days, th["license_days_critical"]),
                    "立即申请并替换 license.dat（kingbase_license_src），在计划窗口内生效", days,
                    th["license_days_critical"]))
    elif days < th["license_days_warning"]:
        add(finding("KB_LICENSE_EXPIRING", "warning", node,
                    "许可证剩余 %s 天，少于 %s 天" % (days, th["license_days_warning"]),
                    "向厂商申请新许可证，并安排替换", days, th["license_days_warning"]))
    elif deep and days < horizon_days:
        add(finding("KB_LICENSE_EXPIRING", "warning", node,
                    "节假日/重大活动前专项巡检：许可证剩余 %s 天，在 %s 天保障期内到期" % (days, horizon_days),
                    "在保障期前替换许可证", days, horizon_days))


def _judge_tools_conf(facts, node, add):
    tc = facts.get("tools_conf") or {}
    if tc.get("password_keys") and tc.get("group_or_other_readable"):
        add(finding("KB_TOOLS_CONF_READABLE", "warning", tc.get("path"),
                    "%s（权限 %s）含口令项 %s（base64 编码等同明文），同组或其他用户可读"
                    % (tc.get("path"), tc.get("mode"), "、".join(tc["password_keys"])),
                    "chmod 600 该文件（属主 kingbase），并在厂商工具允许时改用 sys_encpwd 加密口令（~/.encpwd）；"
                    "若怀疑已泄露，修改 system 口令",
                    tc.get("mode"), "0600"))


def _judge_cluster_tools(facts, node, add):
    rep = facts.get("repmgr") or {}
    members = facts.get("cluster_members") or []
    if facts.get("running") and rep.get("error") is not None and not rep.get("nodes"):
        add(finding("KB_REPMGR_UNAVAILABLE", "warning", node,
                    "无法读取 repmgr 集群状态：%s" % rep["error"],
                    "以 kingbase 用户执行 repmgr cluster show 排查（repmgr.conf、esrep 账号）"))
    nodes = rep.get("nodes") or []
    if nodes:
        names = [n["name"] for n in nodes]
        for m in members:
            if m not in names:
                add(finding("KB_REPMGR_NODE_MISSING", "critical", m,
                            "repmgr 集群元数据中没有节点 %s" % m,
                            "在该节点重新注册（repmgr standby register --force）或按运维手册重新加入"))
        for n in nodes:
            if not n["running"]:
                add(finding("KB_REPMGR_NODE_NOT_RUNNING", "critical", n["name"],
                            "repmgr 显示节点 %s（%s）状态为 %s" % (n["name"], n["metadata_role"] or n["role"],
                                                               n["status"] or "不可达"),
                            "检查该节点数据库服务与网络；恢复后确认其以正确角色重新加入集群",
                            n["status"] or None, "running"))
            elif n["role_mismatch"]:
                add(finding("KB_REPMGR_ROLE_MISMATCH", "warning", n["name"],
                            "repmgr 显示节点 %s 的实际角色与元数据不一致（%s）" % (n["name"], n["status"]),
                            "执行 repmgr cluster show --verbose 核对；必要时 repmgr standby register --force 更新元数据"))
        primaries = [n["name"] for n in nodes if n["role"] == "primary" and n["running"]]
        if len(primaries) > 1:
            # Subject "": which nodes claim to be primary may change between runs of one split brain
            # (the anomaly register keys findings by code, host and subject); the names are in the message.
            add(finding("KB_REPMGR_MULTIPLE_PRIMARIES", "critical", "",
                        "repmgr 显示 %s 个运行中的主库（%s）：疑似脑裂" % (len(primaries), "、".join(primaries)),
                        "立即停止写入，按运维手册《双主（脑裂）》处理，期间不要运行任何变更剧本",
                        len(primaries), 1))
        elif not primaries:
            add(finding("KB_REPMGR_NO_PRIMARY", "critical", "",
                        "repmgr 显示集群中没有可达的主库",
                        "检查原主库服务；若未自动切换，按运维手册手工提升备库"))
    cron = facts.get("kbha_cron") or {}
    manual = cron.get("policy") == "manual_recovery"
    if not cron.get("present"):
        if manual and cron.get("commented"):
            pass  # the site's deliberate policy (K41): facts.kbha_cron says so, no finding
        elif manual:
            add(finding("KB_KBHA_CRON_MISSING", "warning", node,
                        "kbha_cron_policy=manual_recovery，但用户 crontab 与 /etc/cron.d 中既没有 kbha 保活任务，也没有按策略注释掉的 kbha 行",
                        "确认本节点的恢复策略：按手册保留注释掉的 kbha 行作为记录，或恢复 kbha 定时任务"))
        else:
            add(finding("KB_KBHA_CRON_MISSING", "critical", node,
                        "数据库运行用户的 crontab 与 /etc/cron.d 中没有生效的 kbha 保活任务%s，集群将失去自动故障切换"
                        % ("（有被注释掉的一行：%s）" % cron["commented"] if cron.get("commented") else ""),
                        "运行 kingbase_deploy.yml（kingbase_cluster 角色）恢复 kbha 定时任务；若本站有意手工恢复，"
                        "把 kingbase_cluster_inspect_kbha_cron_policy 设为 manual_recovery"))
    if facts.get("repmgrd_running") is False and facts.get("running"):
        add(finding("KB_REPMGRD_NOT_RUNNING", "warning", node,
                    "repmgrd 守护进程未运行（%s）" % ("kbha 定时任务按本站策略已注释，需手工启动" if manual and not cron.get("present")
                                                  else "kbha 定时任务应在一分钟内拉起"),
                    "查看 kbha.log 与 repmgrd.log；确认 kbha 定时任务存在，或按手册手工启动"))
    keys = (facts.get("repmgr_settings") or {}).get("keys") or {}
    if conf_true(keys.get("running_under_failure_trusted_servers")):
        add(finding("KB_TRUSTED_SERVERS_FAILURE_MODE", "warning", node,
                    "repmgr.conf 设置 running_under_failure_trusted_servers=%s（trusted_servers：%s）：所有可信服务器不可达时数据库继续运行，"
                    "但 repmgrd 停止，集群自动故障切换静默失效"
                    % (keys["running_under_failure_trusted_servers"], keys.get("trusted_servers") or "未设置"),
                    "与厂商确认该策略；如需保持高可用，设为 off，并确保 trusted_servers 指向稳定的网关地址",
                    keys["running_under_failure_trusted_servers"], "off"))
    ping = facts.get("ping")
    if ping and ping.get("checked") and ping.get("ok") is False:
        add(finding("KB_PING_NO_CAP", "critical", node,
                    "repmgr.conf 设置了 trusted_servers，但 %s 既没有 cap_net_raw 能力，也不是 setuid root，"
                    "kingbase 用户无法 ping：可信服务器检查会“失败”，repmgrd 静默停止" % ping.get("path"),
                    "以 root 执行 setcap cap_net_raw+ep %s（升级 iputils 后会丢失，需复查），再确认 repmgrd 运行" % ping.get("path"),
                    "no cap_net_raw", "cap_net_raw"))


def metrics(facts):
    m = {}

    def put(name, value):
        if value is not None:
            m[name] = value

    put("kb_up", 1 if facts.get("running") and facts.get("connect_error") is None else 0)
    put("kb_connections_pct", facts.get("connections_pct"))
    put("kb_longest_xact_s", (facts.get("long_transactions") or {}).get("longest_s"))
    put("kb_lock_waits", facts.get("lock_waits"))
    for s in (facts.get("replication") or {}).get("standbys") or []:
        put("kb_repl_lag_bytes:%s" % s["name"], s.get("lag_bytes"))
        put("kb_repl_lag_s:%s" % s["name"], s.get("lag_s"))
    put("kb_wal_ready", (facts.get("wal") or {}).get("ready"))
    for name, size in (facts.get("databases") or {}).items():
        put("kb_db_size_bytes:%s" % name, size)
    put("kb_wal_bytes", (facts.get("wal") or {}).get("bytes"))
    put("kb_wal_retention_factor", ((facts.get("wal") or {}).get("retention") or {}).get("factor"))
    lic = facts.get("license")
    put("kb_license_days", lic.get("days_left") if lic is not None else facts.get("license_days"))
    put("kb_uptime_s", facts.get("uptime_s"))
    return m
