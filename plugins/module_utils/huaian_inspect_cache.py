# -*- coding: utf-8 -*-
"""Inspection of a preview cache node (Redis + Sentinel, or Redis Cluster): gather and judge.

Runs on managed hosts (Python 3.7 on Kylin V10): standard library only, no 3.8+ syntax.
Redis is spoken to directly over its socket (RESP), so no password ever reaches a command line and
no redis-cli is needed. Parsing and judging are pure functions, unit-tested on the controller
(tests/unit/test_cache_inspect.py) against recorded replies and a local RESP server.
"""
from __future__ import absolute_import, division, print_function

import functools
import socket

# merge_thresholds(defaults, given): imported by plugins/modules/cache_inspect.py from here.
from ansible.module_utils.huaian_inspect import finding as _finding, merge_thresholds  # noqa: F401

__metaclass__ = type

COMPONENT = "cache"

# Thresholds the operator may override (inventories/<env>/group_vars/all/inspection_cache.yml).
DEFAULT_THRESHOLDS = {
    "mem_used_pct_warning": 85,      # used_memory / maxmemory, percent
    "mem_used_pct_critical": 95,
    "evicted_keys_warning": 1000,    # keys evicted since Redis started (more than this: warning)
    "replica_lag_s_warning": 10,     # seconds since a replica last acknowledged the master
}

CLUSTER_SLOTS = 16384


finding = functools.partial(_finding, COMPONENT)


# --- RESP (the Redis protocol) --------------------------------------------------------------------

class RespError(Exception):
    """An error reply of the server (-ERR ..., -NOAUTH ..., -WRONGPASS ...)."""


def encode_command(args):
    out = [b"*%d\r\n" % len(args)]
    for arg in args:
        data = arg if isinstance(arg, bytes) else str(arg).encode("utf-8")
        out.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(out)


def read_reply(fh):
    """One RESP2 reply from a binary file object; an error reply is returned as a RespError."""
    line = fh.readline()
    if not line.endswith(b"\r\n"):
        raise EOFError("connection closed by the server")
    kind, rest = line[:1], line[1:-2]
    if kind == b"+":
        return rest.decode("utf-8", "replace")
    if kind == b"-":
        return RespError(rest.decode("utf-8", "replace"))
    if kind == b":":
        return int(rest)
    if kind == b"$":
        size = int(rest)
        if size < 0:
            return None
        data = fh.read(size + 2)
        if len(data) != size + 2:
            raise EOFError("connection closed inside a reply")
        return data[:-2].decode("utf-8", "replace")
    if kind == b"*":
        count = int(rest)
        if count < 0:
            return None
        return [read_reply(fh) for _ in range(count)]
    raise ValueError("not a RESP reply: %r" % line[:40])


class RedisConnection(object):
    def __init__(self, host, port, timeout):
        self.sock = socket.create_connection((host, port), timeout)
        self.fh = self.sock.makefile("rb")

    def call(self, *args):
        """Send one command; the reply, or RespError raised for an error reply."""
        self.sock.sendall(encode_command(args))
        reply = read_reply(self.fh)
        if isinstance(reply, RespError):
            raise reply
        return reply

    def close(self):
        try:
            self.fh.close()
            self.sock.close()
        except (OSError, socket.error):
            pass


# --- parsers --------------------------------------------------------------------------------------

def _number(text):
    try:
        return int(text)
    except ValueError:
        try:
            return float(text)
        except ValueError:
            return text


def parse_info(text):
    """INFO output -> dict; numbers as numbers; 'a=1,b=x' values (slave0, db0) as dicts."""
    info = {}
    for raw in (text or "").splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or ":" not in line:
            continue
        key, value = line.split(":", 1)
        if "=" in value and "," in value or (key.startswith("slave") and key[5:].isdigit()):
            info[key] = dict((k, _number(v)) for k, v in (p.split("=", 1) for p in value.split(",") if "=" in p))
        else:
            info[key] = _number(value)
    return info


def replicas_from_info(info):
    """The replicas a master lists in INFO replication (slave0, slave1, ...)."""
    out = []
    index = 0
    while "slave%d" % index in info:
        entry = info["slave%d" % index]
        out.append({"ip": entry.get("ip"), "port": entry.get("port"), "state": entry.get("state"),
                    "offset": entry.get("offset"), "lag": entry.get("lag")})
        index += 1
    return out


def pairs_to_dict(reply):
    """A flat [k1, v1, k2, v2, ...] reply (SENTINEL MASTER) -> dict, numbers as numbers."""
    reply = list(reply or [])
    return dict((str(reply[i]), _number(str(reply[i + 1]))) for i in range(0, len(reply) - 1, 2))


def parse_cluster_nodes(text):
    """CLUSTER NODES -> [{id, address, flags, master, link, slots}]."""
    nodes = []
    for line in (text or "").splitlines():
        fields = line.split()
        if len(fields) < 8:
            continue
        nodes.append({"id": fields[0], "address": fields[1].split("@", 1)[0], "flags": fields[2].split(","),
                      "master": None if fields[3] == "-" else fields[3], "link": fields[7],
                      "slots": fields[8:]})
    return nodes


# --- gathering ------------------------------------------------------------------------------------

def _error_text(exc):
    text = str(exc) or type(exc).__name__
    return "%s: %s" % (type(exc).__name__, text) if not isinstance(exc, RespError) else text


def is_local_address(ip):
    """Whether ip is one of this host's addresses (binding to it succeeds only then)."""
    try:
        family = socket.AF_INET6 if ":" in str(ip) else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.bind((str(ip), 0))
        finally:
            sock.close()
        return True
    except (OSError, socket.error, ValueError, TypeError):
        return False


def _no_password_set(exc):
    """AUTH refused only because the server has no password (it then serves every client)."""
    text = str(exc).lower()
    return "no password is set" in text or "without any password configured" in text


def gather(host, port, sentinel_port, password, mode, master_name, timeout=3.0, connect=RedisConnection):
    """Everything the judge needs from this node, in one pass. Never raises for an unhealthy node."""
    facts = {"mode": mode, "port": port, "redis": {"running": False, "error": None},
             "sentinel": None, "cluster": None}
    red = facts["redis"]
    conn = None
    try:
        conn = connect(host, port, timeout)
        # An unauthenticated PING first: a node that answers it accepts anyone on the network.
        try:
            red["unauthenticated_ping"] = conn.call("PING")
        except RespError as exc:
            red["unauthenticated_ping"] = str(exc).split(" ", 1)[0]
        red["running"] = True
        if password:
            try:
                conn.call("AUTH", password)
                red["auth"] = "ok"
            except RespError as exc:
                if not _no_password_set(exc):
                    red["auth"] = "failed"
                    raise
                red["auth"] = "none configured"
        info = parse_info(conn.call("INFO"))
        keep = ("redis_version", "uptime_in_seconds", "role", "connected_slaves", "master_host", "master_port",
                "master_link_status", "master_link_down_since_seconds", "master_last_io_seconds_ago",
                "used_memory", "used_memory_rss", "maxmemory", "maxmemory_policy", "evicted_keys",
                "connected_clients", "rejected_connections", "cluster_enabled")
        red.update(dict((k, info.get(k)) for k in keep if k in info))
        red["replicas"] = replicas_from_info(info)
        if mode == "cluster":
            cinfo = parse_info(conn.call("CLUSTER", "INFO"))
            nodes = parse_cluster_nodes(conn.call("CLUSTER", "NODES"))
            facts["cluster"] = {
                "state": cinfo.get("cluster_state"), "slots_assigned": cinfo.get("cluster_slots_assigned"),
                "slots_ok": cinfo.get("cluster_slots_ok"), "slots_pfail": cinfo.get("cluster_slots_pfail"),
                "slots_fail": cinfo.get("cluster_slots_fail"), "known_nodes": cinfo.get("cluster_known_nodes"),
                "size": cinfo.get("cluster_size"),
                "nodes": [{"address": n["address"], "flags": n["flags"], "link": n["link"]} for n in nodes]}
    except RespError as exc:
        red["error"] = _error_text(exc)
        if red["error"].startswith("NOAUTH"):
            red["auth"] = "failed"
    except (EOFError, ValueError, OSError, socket.error) as exc:
        red["running"] = False
        red["error"] = _error_text(exc)
    finally:
        if conn is not None:
            conn.close()
    if mode == "sentinel":
        facts["sentinel"] = gather_sentinel(host, sentinel_port, password, master_name, timeout, connect)
    return facts


def gather_sentinel(host, port, password, master_name, timeout=3.0, connect=RedisConnection):
    sen = {"running": False, "error": None, "master": None, "ckquorum": None}
    conn = None
    try:
        conn = connect(host, port, timeout)
        sen["running"] = True
        if password:
            try:
                conn.call("AUTH", password)
            except RespError as exc:
                if not _no_password_set(exc):
                    sen["error"] = str(exc)
                    return sen
        master = pairs_to_dict(conn.call("SENTINEL", "MASTER", master_name))
        sen["master_is_local"] = is_local_address(master.get("ip"))
        sen["master"] = dict((k, master.get(k)) for k in (
            "name", "ip", "port", "flags", "num-slaves", "num-other-sentinels", "quorum", "failover-timeout",
            "down-after-milliseconds", "last-ok-ping-reply") if k in master)
        try:
            sen["ckquorum"] = {"ok": True, "text": conn.call("SENTINEL", "CKQUORUM", master_name)}
        except RespError as exc:
            sen["ckquorum"] = {"ok": False, "text": str(exc)}
    except RespError as exc:
        sen["error"] = str(exc)
    except (EOFError, ValueError, OSError, socket.error) as exc:
        sen["running"] = False
        sen["error"] = _error_text(exc)
    finally:
        if conn is not None:
            conn.close()
    return sen


# --- read-only queries (module cache_query: the checks' reads, no redis-cli) -----------------------

# Commands cache_query may send: reads only. SENTINEL and CLUSTER are allowed with these subcommands only.
READ_COMMANDS = ("PING", "INFO", "ROLE", "DBSIZE", "CONFIG GET", "CLUSTER INFO", "CLUSTER NODES",
                 "SENTINEL GET-MASTER-ADDR-BY-NAME", "SENTINEL MASTER", "SENTINEL MASTERS", "SENTINEL REPLICAS",
                 "SENTINEL SLAVES", "SENTINEL SENTINELS", "SENTINEL CKQUORUM")


def read_only_command(args):
    """The allow-list name of a command (e.g. 'CONFIG GET'), or None when it is not a read."""
    if not args:
        return None
    words = [str(a).upper() for a in args[:2]]
    for name in (" ".join(words), words[0]):
        if name in READ_COMMANDS:
            return name
    return None


def reply_lines(reply):
    """A reply as redis-cli prints it to a pipe: a bulk or status string line by line, an integer as digits,
    an array element by element (nested arrays flattened), nil as nothing, an error reply as its text."""
    if reply is None:
        return []
    if isinstance(reply, RespError):
        return [str(reply)]
    if isinstance(reply, list):
        out = []
        for item in reply:
            out.extend(reply_lines(item))
        return out
    return str(reply).splitlines()


def query(host, port, password, commands, authenticate=True, timeout=3.0, connect=RedisConnection):
    """Run read-only commands on one connection (authenticated first unless authenticate is false).

    Returns {connected, error, replies: [{command, ok, error, lines}]}. Never raises for an unreachable or
    refusing server (connected false, or every reply an error); the password never enters the result."""
    result = {"connected": False, "error": None, "replies": []}
    conn = None
    failure = None
    try:
        conn = connect(host, port, timeout)
        result["connected"] = True
        if authenticate and password:
            try:
                conn.call("AUTH", password)
            except RespError as exc:
                if not _no_password_set(exc):
                    failure = str(exc)
        for args in commands:
            entry = {"command": " ".join(str(a) for a in args), "ok": False, "error": failure, "lines": []}
            result["replies"].append(entry)
            if failure is not None:  # AUTH refused: every command would be refused too
                entry["lines"] = [failure]
                continue
            try:
                entry["lines"] = reply_lines(conn.call(*args))
                entry["ok"] = True
            except RespError as exc:
                entry["error"] = str(exc)
                entry["lines"] = [str(exc)]
    except (EOFError, ValueError, OSError, socket.error) as exc:
        failure = _error_text(exc)
        for args in commands[len(result["replies"]):]:
            result["replies"].append({"command": " ".join(str(a) for a in args), "ok": False, "error": failure,
                                      "lines": []})
    finally:
        if conn is not None:
            conn.close()
    result["error"] = failure
    return result


# --- judging --------------------------------------------------------------------------------------

def metrics_of(facts):
    red = facts.get("redis") or {}
    metrics = {}
    if not red.get("running") or "used_memory" not in red:
        return metrics
    if red.get("maxmemory"):
        metrics["cache_mem_used_pct"] = round(100.0 * red["used_memory"] / red["maxmemory"], 1)
    metrics["cache_evicted_keys"] = int(red.get("evicted_keys") or 0)
    metrics["cache_connected_replicas"] = int(red.get("connected_slaves") or 0)
    return metrics


def judge(facts, thresholds, expected, deep=False):
    """Findings of one cache node.

    expected: address (this node's announced address), replicas (replicas a master should have),
    sentinels (sentinels in the group, sentinel mode), quorum (sentinel mode), nodes (cluster mode).
    """
    t = thresholds
    out = []
    red = facts.get("redis") or {}
    mode = facts.get("mode")
    port = facts.get("port")
    metrics = metrics_of(facts)
    if not red.get("running"):
        out.append(finding("CACHE_DOWN", "critical", "redis:%s" % port,
                           "Redis（端口 %s）无应答：%s" % (port, red.get("error") or "连接失败"),
                           "检查 preview-cache-redis 服务（systemctl status preview-cache-redis、journalctl -u preview-cache-redis）并恢复运行",
                           red.get("error"), None))
    elif red.get("auth") == "failed":
        out.append(finding("CACHE_AUTH_FAILED", "critical", "redis:%s" % port,
                           "Redis 拒绝了 vault 中的口令（%s）" % red.get("error"),
                           "核对 vault_preview_cache_password 与节点 redis.conf 的 requirepass，按运行手册轮换口令",
                           red.get("error"), None))
    elif red.get("error"):
        out.append(finding("CACHE_DOWN", "critical", "redis:%s" % port,
                           "Redis（端口 %s）应答异常：%s" % (port, red["error"]),
                           "查看 journalctl -u preview-cache-redis，确认 Redis 可正常执行 INFO", red["error"], None))
    if red.get("running") and red.get("unauthenticated_ping") == "PONG":
        out.append(finding("CACHE_AUTH_DISABLED", "critical", "redis:%s" % port,
                           "Redis（端口 %s）接受未认证的客户端，网络上任何人可读写缓存" % port,
                           "恢复 redis.conf 中的 requirepass（重新执行 preview_cache_deploy.yml）", "PONG", "NOAUTH"))
    if red.get("running") and "role" in red:
        out.extend(_judge_replication(red, t, expected, deep, mode))
        out.extend(_judge_memory(red, t, metrics))
    if mode == "sentinel":
        out.extend(_judge_sentinel(facts.get("sentinel") or {}, red, expected, deep))
    elif mode == "cluster" and facts.get("cluster"):
        out.extend(_judge_cluster(facts["cluster"], expected))
    return out, metrics


def _judge_replication(red, t, expected, deep, mode):
    out = []
    want = int(expected.get("replicas") or 0)
    if red["role"] == "master" and want > 0:
        online = [r for r in red.get("replicas") or [] if r.get("state") == "online"]
        if len(online) < want:
            severity = "critical" if (deep or not online) else "warning"
            out.append(finding("CACHE_REPLICAS_MISSING", severity, "master",
                               "主节点在线副本 %d 个，应为 %d 个%s" % (len(online), want,
                                                              "（已无可切换的副本）" if not online else ""),
                               "检查缺少的副本节点的 preview-cache-redis 服务与网络；恢复后执行 preview_check.yml",
                               len(online), want))
        for rep in online:
            lag = rep.get("lag")
            if isinstance(lag, int) and lag > t["replica_lag_s_warning"]:
                out.append(finding("CACHE_REPLICA_LAG", "warning", "%s:%s" % (rep.get("ip"), rep.get("port")),
                                   "副本 %s 已 %d 秒未向主节点确认复制进度，阈值 %s 秒" % (rep.get("ip"), lag, t["replica_lag_s_warning"]),
                                   "检查副本与主节点之间的网络和副本负载", lag, t["replica_lag_s_warning"]))
    elif red["role"] == "slave" and red.get("master_link_status") != "up":
        down = red.get("master_link_down_since_seconds")
        # The subject stays "" (a failover changes the master's address; the register keys on the subject).
        out.append(finding("CACHE_REPLICA_LINK_DOWN", "critical", "",
                           "副本到主节点 %s:%s 的复制链路为 %s%s" % (red.get("master_host"), red.get("master_port"),
                                                            red.get("master_link_status"),
                                                         "（已断开 %s 秒）" % down if isinstance(down, int) and down >= 0 else ""),
                           "检查主节点可达性与口令（masterauth）；在 Sentinel 模式下确认哨兵视图，%s"
                           % ("必要时重新执行 preview_cache_deploy.yml" if mode == "sentinel" else "查看 CLUSTER NODES"),
                           red.get("master_link_status"), "up"))
    return out


def _judge_memory(red, t, metrics):
    out = []
    if not red.get("maxmemory"):
        out.append(finding("CACHE_MAXMEMORY_UNSET", "warning", "maxmemory",
                           "Redis 未设置 maxmemory，缓存可能占满主机内存",
                           "设置 preview_cache_maxmemory_mb 并执行 preview_cache_deploy.yml", 0, None))
    else:
        pct = metrics["cache_mem_used_pct"]
        for level in ("critical", "warning"):
            limit = t["mem_used_pct_" + level]
            if pct >= limit:
                out.append(finding("CACHE_MEMORY_HIGH", level, "maxmemory",
                                   "内存使用 %.1f%%（%d MB / maxmemory %d MB），超过%s阈值 %s%%"
                                   % (pct, red["used_memory"] // 1048576, red["maxmemory"] // 1048576,
                                      "严重" if level == "critical" else "警告", limit),
                                   "评估预览缓存容量，必要时调大 preview_cache_maxmemory_mb 或缩短缓存 TTL", pct, limit))
                break
    evicted = int(red.get("evicted_keys") or 0)
    if evicted > t["evicted_keys_warning"]:
        out.append(finding("CACHE_EVICTIONS", "warning", "evicted_keys",
                           "启动 %s 天以来已淘汰 %d 个键，阈值 %s；缓存容量不足，预览需重复渲染"
                           % (int(red.get("uptime_in_seconds") or 0) // 86400, evicted, t["evicted_keys_warning"]),
                           "调大 preview_cache_maxmemory_mb（或缩短 preview_service_cache_ttl_seconds）", evicted,
                           t["evicted_keys_warning"]))
    return out


def _judge_sentinel(sen, red, expected, deep):
    out = []
    if not sen.get("running") or sen.get("error") or not sen.get("master"):
        out.append(finding("CACHE_SENTINEL_DOWN", "critical", "sentinel",
                           "本节点的哨兵无应答或未监视主节点：%s" % (sen.get("error") or "无主节点信息"),
                           "检查 preview-cache-sentinel 服务（journalctl -u preview-cache-sentinel）", sen.get("error"), None))
        return out
    m = sen["master"]
    flags = str(m.get("flags") or "").split(",")
    master_addr = "%s:%s" % (m.get("ip"), m.get("port"))
    # The subject is the monitored master's name, which a failover does not change (its address does):
    # the anomaly register keys findings by code, host and subject. The address stays in the message.
    master_subject = str(m.get("name") or "master")
    if "o_down" in flags:
        out.append(finding("CACHE_SENTINEL_MASTER_DOWN", "critical", master_subject,
                           "哨兵已判定主节点 %s 客观下线（o_down），正在或即将故障切换" % master_addr,
                           "确认切换是否完成（SENTINEL get-master-addr-by-name），恢复原主节点后执行 preview_check.yml",
                           m.get("flags"), None))
    elif "s_down" in flags:
        out.append(finding("CACHE_SENTINEL_MASTER_DOWN", "warning", master_subject,
                           "本节点哨兵认为主节点 %s 主观下线（s_down）" % master_addr,
                           "检查本节点到主节点的网络", m.get("flags"), None))
    # This node's address from the inventory, or (without facts) whether the sentinels' master is local.
    address = expected.get("address")
    named = (m.get("ip") == address) if address else sen.get("master_is_local", True)
    if red.get("running") and red.get("role") == "master" and not named:
        out.append(finding("CACHE_SENTINEL_MISMATCH", "critical", master_subject,
                           "本节点是主节点，但哨兵认定的主节点是 %s（可能出现双主）" % master_addr,
                           "立即核对各哨兵视图；按运行手册让本节点成为 %s 的副本" % master_addr, address or None, m.get("ip")))
    elif red.get("running") and red.get("role") == "slave" and red.get("master_host") != m.get("ip"):
        out.append(finding("CACHE_SENTINEL_MISMATCH", "warning", master_subject,
                           "本副本复制自 %s，而哨兵认定的主节点是 %s" % (red.get("master_host"), master_addr),
                           "等待哨兵重新配置副本；持续存在时执行 preview_cache_deploy.yml", red.get("master_host"), m.get("ip")))
    want_sentinels = int(expected.get("sentinels") or 0)
    others = m.get("num-other-sentinels")
    if want_sentinels and isinstance(others, int) and others < want_sentinels - 1:
        out.append(finding("CACHE_SENTINEL_PEERS_MISSING", "critical" if deep else "warning", "sentinel",
                           "哨兵只看到 %d 个其他哨兵，应为 %d 个" % (others, want_sentinels - 1),
                           "检查其他缓存节点的 preview-cache-sentinel 服务", others, want_sentinels - 1))
    want_quorum = int(expected.get("quorum") or 0)
    if want_quorum and m.get("quorum") != want_quorum:
        out.append(finding("CACHE_SENTINEL_QUORUM", "warning", "sentinel",
                           "哨兵的 quorum 为 %s，配置应为 %d" % (m.get("quorum"), want_quorum),
                           "执行 preview_cache_deploy.yml（以 SENTINEL SET 修正）", m.get("quorum"), want_quorum))
    ck = sen.get("ckquorum") or {}
    if ck and not ck.get("ok"):
        out.append(finding("CACHE_SENTINEL_NOQUORUM", "critical", "sentinel",
                           "哨兵无法达成故障切换所需的法定人数：%s" % ck.get("text"),
                           "恢复足够的哨兵（多数）后再执行 preview_check.yml；此时主节点故障将无法自动切换",
                           ck.get("text"), want_quorum or None))
    return out


def _judge_cluster(cl, expected):
    out = []
    if cl.get("state") != "ok":
        out.append(finding("CACHE_CLUSTER_FAIL", "critical", "cluster",
                           "Redis Cluster 状态为 %s" % cl.get("state"),
                           "查看 CLUSTER INFO / CLUSTER NODES，恢复下线的主节点", cl.get("state"), "ok"))
    assigned = cl.get("slots_assigned")
    if isinstance(assigned, int) and assigned < CLUSTER_SLOTS:
        out.append(finding("CACHE_CLUSTER_SLOTS_UNASSIGNED", "critical", "cluster",
                           "已分配槽位 %d 个，应为 %d 个" % (assigned, CLUSTER_SLOTS),
                           "按运行手册修复集群（redis-cli --cluster fix，口令用 REDISCLI_AUTH）", assigned, CLUSTER_SLOTS))
    for key, level in (("slots_fail", "critical"), ("slots_pfail", "warning")):
        count = cl.get(key)
        if isinstance(count, int) and count > 0:
            out.append(finding("CACHE_CLUSTER_SLOTS_FAIL", level, "cluster",
                               "%d 个槽位处于 %s 状态" % (count, "fail" if key == "slots_fail" else "pfail"),
                               "检查持有这些槽位的主节点", count, 0))
    for node in cl.get("nodes") or []:
        flags = node.get("flags") or []
        if "fail" in flags or "fail?" in flags:
            out.append(finding("CACHE_CLUSTER_NODE_FAIL", "critical" if "fail" in flags else "warning",
                               node.get("address") or "",
                               "集群节点 %s 被标记为 %s" % (node.get("address"), ",".join(flags)),
                               "恢复该节点的 preview-cache-redis 服务", ",".join(flags), None))
    want = int(expected.get("nodes") or 0)
    known = cl.get("known_nodes")
    if want and isinstance(known, int) and known < want:
        out.append(finding("CACHE_CLUSTER_NODES_MISSING", "warning", "cluster",
                           "集群已知节点 %d 个，应为 %d 个" % (known, want),
                           "将缺少的节点加入集群（CLUSTER MEET）或检查其服务", known, want))
    return out
