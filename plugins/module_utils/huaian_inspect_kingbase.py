# -*- coding: utf-8 -*-
"""Pure parsing and judging for the kingbase_inspect module (runs on the DB hosts: Python 3.7)."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

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
}

NULL = "\\N"
SEP = "\t"
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]*$")


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
    for line in (text or "").splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if pattern in stripped and (not repmgr_conf or repmgr_conf in stripped):
            return stripped
    return None


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

    if facts.get("running") and facts.get("connect_error") is None:
        _judge_online(facts, th, deep, horizon_days, node, add)

    wal = facts.get("wal") or {}
    level, limit = _level(wal.get("ready"), th["wal_ready_warning"], th["wal_ready_critical"])
    if level:
        add(finding("KB_WAL_BACKLOG", level, node,
                    "待归档的 WAL 文件 %s 个（阈值 %s）" % (wal["ready"], limit),
                    "检查归档命令（sys_rman archive-push）与备份仓库，防止数据盘被 WAL 写满",
                    wal["ready"], limit))

    if cluster:
        _judge_cluster_tools(facts, node, add)
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

    days = facts.get("license_days")
    if facts.get("license_error") is not None and days is None:
        add(finding("KB_LICENSE_UNREADABLE", "warning", node,
                    "无法读取许可证剩余天数：%s" % facts["license_error"],
                    "人工确认 license.dat 有效期（get_license_validdays()）"))
    elif days is not None:
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
    if not facts.get("kbha_cron", {}).get("present"):
        add(finding("KB_KBHA_CRON_MISSING", "critical", node,
                    "数据库运行用户的 crontab 中没有 kbha 保活任务，集群将失去自动故障切换",
                    "运行 kingbase_deploy.yml（kingbase_cluster 角色）恢复 kbha 定时任务"))
    if facts.get("repmgrd_running") is False and facts.get("running"):
        add(finding("KB_REPMGRD_NOT_RUNNING", "warning", node,
                    "repmgrd 守护进程未运行（kbha 定时任务应在一分钟内拉起）",
                    "查看 kbha.log 与 repmgrd.log；确认 kbha 定时任务存在"))


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
    put("kb_license_days", facts.get("license_days"))
    put("kb_uptime_s", facts.get("uptime_s"))
    return m
