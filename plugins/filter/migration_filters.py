# -*- coding: utf-8 -*-
"""Filters of the xinchuang migration precheck: the judging of the hosts' migration_facts
(plugins/modules/migration_facts.py) against the route, the host pairs and the requirements.

Pure functions; unit-tested in tests/unit/test_migration_filters.py. Controller-side: self-contained,
imports nothing from plugins/module_utils.

Background (shared reference, domain research §1.7 and §4): a Kingbase licence.dat is bound to a MAC
address, so a new host needs a re-issued licence; physical replication (sys_basebackup, repmgr standby
clone, WAL shipping) needs the same CPU architecture and byte order and the same Kingbase version, and a
different glibc changes collation order, which corrupts text indexes silently. The initdb-time attributes
(K43: database mode, enable_ci, data checksums, encoding, locale) are fixed for the life of a cluster: a
target must have its source's, whatever the route.
"""
from __future__ import absolute_import, division, print_function

import fractions
import math
import re

__metaclass__ = type

GIB = 1024 ** 3
ROUTES = ("physical", "logical_sync", "dump_restore")
KINDS = ("kingbase", "bes", "other")
DEFAULT_MAX_CLOCK_OFFSET_S = 1.0

CODES = ("HOST_UNREACHABLE", "ARCH_MISMATCH", "GLIBC_DIFFERS", "VERSION_MISMATCH", "DISK_SHORT", "MEMORY_SHORT",
         "PORT_IN_USE", "CLOCK_UNSYNCED", "CLOCK_OFFSET", "LICENCE_MISSING", "BACKUP_NOT_READY", "INITDB_MISMATCH",
         "INITDB_UNKNOWN")
# The initdb-time attributes compared (sys_settings names), and the kingbase role's variable that sets each.
INITDB_ATTRIBUTES = ("database_mode", "enable_ci", "data_checksums", "server_encoding", "lc_collate", "lc_ctype")
INITDB_VARIABLES = {"database_mode": "kingbase_database_mode", "enable_ci": "kingbase_enable_ci",
                    "data_checksums": "kingbase_data_checksums", "server_encoding": "kingbase_encoding",
                    "lc_collate": "kingbase_locale", "lc_ctype": "kingbase_locale"}
_ON = ("on", "true", "yes", "1", "t")
_OFF = ("off", "false", "no", "0", "f")


def _gib(value):
    return "%.1f GiB" % (int(value) / GIB)


def _problem(code, severity, host, item, value, allowed, message, message_zh):
    return {"code": code, "severity": severity, "host": host, "variable_or_item": item, "value": value,
            "allowed": allowed, "message": message, "message_zh": message_zh}


def migration_required_bytes(used_bytes, factor=1.0, reserve_bytes=0):
    """Bytes a target needs for used_bytes of data: ceil(used_bytes * factor) + reserve_bytes.

    Exact for decimal factors (1.1 * 100 is 110, not 111). None or a negative value is a ValueError
    (a du that failed must not pass as zero).
    """
    if used_bytes is None:
        raise ValueError("used_bytes is None: the data was not measured")
    used = int(used_bytes)
    factor = fractions.Fraction(str(factor))
    reserve = int(reserve_bytes or 0)
    if used < 0 or factor < 0 or reserve < 0:
        raise ValueError("used_bytes, factor and reserve_bytes must not be negative: %r, %s, %r"
                         % (used_bytes, factor, reserve_bytes))
    return int(math.ceil(used * factor)) + reserve


def migration_target_paths(usage, source_paths, target_paths, factor=1.0, reserve_bytes=0):
    """Bytes each target path needs: {target path: bytes} from the source's measured usage.

    usage is the source's migration_facts usage ([{path, bytes}]), source_paths and target_paths the paths each
    host measures, in the same order (the Kingbase data directory, then the attachments). A source path is
    matched to the target path at its position: a vendor's source keeps its data under its own layout
    (/data/kingbase/data) while the target is created where its inventory puts it. When the lists differ in
    length (a host of other components) a path is required at the same path on the target. An unmeasured
    usage (bytes None) is left out: the precheck names it as SOURCE_UNMEASURED.
    """
    source_paths = list(source_paths or [])
    target_paths = list(target_paths or [])
    positional = len(source_paths) == len(target_paths)
    out = {}
    for entry in usage or []:
        if entry.get("bytes") is None:
            continue
        path = entry.get("path")
        if positional and path in source_paths:
            path = target_paths[source_paths.index(path)]
        out[path] = out.get(path, 0) + migration_required_bytes(entry["bytes"], factor, reserve_bytes)
    return out


def _arch(facts):
    return "%s/%s-endian" % (facts.get("machine") or "unknown", facts.get("byteorder") or "unknown")


def _norm_version(value):
    return str(value).strip().upper() if value not in (None, "") else None


def _pair_problems(route, pair, facts, versions):
    """ARCH_MISMATCH, GLIBC_DIFFERS, VERSION_MISMATCH of one kingbase pair on the physical route;
    VERSION_MISMATCH (a warning) on dump_restore."""
    target, source = pair["target"], pair["source"]
    tf, sf = facts[target], facts[source]
    out = []
    if pair.get("kind") != "kingbase":
        return out
    if route == "dump_restore":
        return _dump_restore_version_problems(target, source, versions)
    if route != "physical":
        return out
    if tf.get("machine") != sf.get("machine") or tf.get("byteorder") != sf.get("byteorder"):
        out.append(_problem(
            "ARCH_MISMATCH", "error", target, "machine/byteorder", _arch(tf), _arch(sf),
            "%s is %s but its source %s is %s: physical replication needs the same architecture and byte order "
            "(WAL is binary); migrate it by a logical route, logical_sync (KDTS + KFS) or dump_restore "
            "(sys_dump / sys_restore)" % (target, _arch(tf), source, _arch(sf)),
            "%s 为 %s，源主机 %s 为 %s：物理复制要求 CPU 架构与字节序相同（WAL 为二进制格式），"
            "请改用逻辑迁移路线 logical_sync（KDTS + KFS）或 dump_restore（sys_dump / sys_restore）"
            % (target, _arch(tf), source, _arch(sf))))
    if tf.get("glibc") != sf.get("glibc"):
        tg, sg = tf.get("glibc") or "unknown", sf.get("glibc") or "unknown"
        out.append(_problem(
            "GLIBC_DIFFERS", "warning", target, "glibc", tf.get("glibc"), sf.get("glibc"),
            "%s has %s, its source %s has %s: collation order may differ, so text indexes copied by physical "
            "replication can be silently wrong; reindex the text indexes after cutover" % (target, tg, source, sg),
            "%s 的 glibc 为 %s，源主机 %s 为 %s：排序规则（collation）可能不同，物理复制带来的文本索引可能失效，"
            "割接后须重建（REINDEX）文本类索引" % (target, tg, source, sg)))
    tv = _norm_version((versions.get(target) or {}).get("kingbase"))
    sv = _norm_version((versions.get(source) or {}).get("kingbase"))
    if tv is None or sv is None:
        missing = ", ".join(h for h, v in ((target, tv), (source, sv)) if v is None)
        out.append(_problem(
            "VERSION_MISMATCH", "warning", target, "kingbase version", tv, sv,
            "the Kingbase version of %s is not declared in the inventory: physical replication needs the same "
            "Kingbase version on %s and %s, which cannot be checked" % (missing, target, source),
            "库存中未声明 %s 的金仓版本：物理复制要求 %s 与 %s 的金仓版本一致，无法核对" % (missing, target, source)))
    elif tv != sv:
        out.append(_problem(
            "VERSION_MISMATCH", "error", target, "kingbase version", tv, sv,
            "%s declares Kingbase %s, its source %s %s: physical replication needs the same Kingbase version"
            % (target, tv, source, sv),
            "%s 声明的金仓版本为 %s，源主机 %s 为 %s：物理复制要求金仓版本一致" % (target, tv, source, sv)))
    return out


def _dump_restore_version_problems(target, source, versions):
    """dump_restore: each side's copy is made by the receiving side's sys_dump, which reads an older
    server but not a newer one; different declared versions make one of the two directions fail."""
    tv = _norm_version((versions.get(target) or {}).get("kingbase"))
    sv = _norm_version((versions.get(source) or {}).get("kingbase"))
    if tv is None or sv is None or tv == sv:
        return []
    return [_problem(
        "VERSION_MISMATCH", "warning", target, "kingbase version", tv, sv,
        "%s declares Kingbase %s, its source %s %s: the dump_restore copy is made by the receiving side's "
        "sys_dump, which cannot read a newer server, so the cutover or the rollback copy may fail (the traffic "
        "then stays where it is); rehearse both directions or use the same version" % (target, tv, source, sv),
        "%s 声明的金仓版本为 %s，源主机 %s 为 %s：dump_restore 由接收方的 sys_dump 读取对方数据库，"
        "无法读取更新版本的服务器，割接或回退的导出导入可能失败（业务流量保持不变）；请两个方向都演练或使用相同版本"
        % (target, tv, source, sv))]


def _initdb_norm(name, value):
    """An attribute's value in a comparable form, None when unknown: on/off for the switches, the encoding
    without case or separators (UTF-8 = UTF8), a locale's codeset likewise (zh_CN.UTF-8 = zh_CN.utf8)."""
    if value is None or str(value).strip() == "":
        return None
    if isinstance(value, bool):
        return "on" if value else "off"
    text = str(value).strip()
    if name in ("enable_ci", "data_checksums"):
        low = text.lower()
        return "on" if low in _ON else ("off" if low in _OFF else low)
    if name == "database_mode":
        return text.lower()
    if name == "server_encoding":
        return re.sub("[-_]", "", text).upper()
    lang, dot, rest = text.partition(".")
    if not dot:
        return text
    codeset, at, modifier = rest.partition("@")
    return lang + "." + re.sub("[-_]", "", codeset).lower() + at + modifier


def _initdb_side(record, role):
    """(values, why unusable or None) of one side's kingbase_initdb_attributes: a source counts only as read
    from its running server; a target also as planned (what its initdb options will make)."""
    if not isinstance(record, dict) or not record:
        return None, "not read"
    origin = record.get("origin")
    usable = ("server",) if role == "source" else ("server", "planned")
    if origin not in usable:
        return None, "%s%s" % (origin or "no origin", (": %s" % record["error"]) if record.get("error") else "")
    if record.get("error"):
        return None, "read failed: %s" % record["error"]
    return record, None


def _initdb_problems(target, source, initdb):
    """INITDB_MISMATCH (error) per attribute whose known values differ; INITDB_UNKNOWN (warning) per attribute
    one side does not report (a server that lacks the setting, e.g. the lab's PostgreSQL stand-in before it
    reported them), or once for the pair when a side's attributes could not be read at all."""
    src, src_why = _initdb_side(initdb.get(source), "source")
    tgt, tgt_why = _initdb_side(initdb.get(target), "target")
    if src is None or tgt is None:
        host, why = (source, src_why) if src is None else (target, tgt_why)
        return [_problem(
            "INITDB_UNKNOWN", "warning", target, "initdb attributes", why, "read from the source's running server",
            "the initdb-time attributes of %s are unknown (%s): %s cannot be checked against %s (database mode, "
            "enable_ci, checksums, encoding, locale); run the precheck with the source running, or compare them by hand"
            % (host, why, target, source),
            "%s 的 initdb 属性未知（%s）：无法核对 %s 与 %s 的数据库模式、大小写敏感（enable_ci）、数据校验、编码与区域设置；"
            "请在源库运行时重新预检，或人工核对" % (host, why, target, source))]
    planned = tgt.get("origin") == "planned"
    out = []
    for name in INITDB_ATTRIBUTES:
        sv, tv = src.get(name), tgt.get(name)
        sn, tn = _initdb_norm(name, sv), _initdb_norm(name, tv)
        variable = INITDB_VARIABLES[name]
        if sn is None or tn is None:
            if sn is not None and planned:
                out.append(_problem(
                    "INITDB_UNKNOWN", "warning", target, name, tv, sv,
                    "the initdb options of %s leave %s to initdb's default, which is not known (its source %s has %s): "
                    "set %s for %s" % (target, name, source, sv, variable, target),
                    "%s 的 initdb 参数未指定 %s，取 initdb 默认值（未知）；源主机 %s 为 %s：请为 %s 设置 %s"
                    % (target, name, source, sv, target, variable)))
                continue
            host = source if sn is None else target
            out.append(_problem(
                "INITDB_UNKNOWN", "warning", target, name, tv, sv,
                "%s does not report %s (%s %s, %s %s): check by hand that %s matches %s"
                % (host, name, source, sv, target, tv, target, source),
                "%s 未提供 %s（%s 为 %s，%s 为 %s）：请人工核对 %s 与 %s 是否一致"
                % (host, name, source, sv, target, tv, target, source)))
        elif sn != tn:
            wanted = ("true" if sn == "on" else "false") if name in ("enable_ci", "data_checksums") else sv
            if planned:
                todo = ("set %s: %s for %s in the inventory so prepare initialises it with the source's value"
                        % (variable, wanted, target))
                todo_zh = "请在库存中为 %s 设置 %s: %s，使 prepare 按源库的值初始化" % (target, variable, wanted)
            else:
                todo = ("it is fixed at initdb: empty %s's data directory and let prepare initialise it again with "
                        "%s: %s, or choose another target" % (target, variable, wanted))
                todo_zh = ("该属性只能在 initdb 时设定：请清空 %s 的数据目录，并设置 %s: %s 后由 prepare 重新初始化，或另选目标主机"
                           % (target, variable, wanted))
            out.append(_problem(
                "INITDB_MISMATCH", "error", target, name, tv, sv,
                "%s %s %s = %s but its source %s has %s; %s"
                % (target, "will be created with" if planned else "has", name, tv, source, sv, todo),
                "%s 的 %s %s %s，源主机 %s 为 %s；%s"
                % (target, name, "将初始化为" if planned else "为", tv, source, sv, todo_zh)))
    return out


def _disk_problems(host, required, facts):
    """DISK_SHORT per filesystem: paths on one mount must fit together."""
    measured = dict((p.get("path"), p) for p in (facts.get("paths") or []))
    groups = {}
    out = []
    for path in sorted(required):
        need = int(required[path])
        fact = measured.get(path)
        if not fact or fact.get("free_bytes") is None:
            reason = (fact or {}).get("error") or "not measured (not in migration_facts paths)"
            out.append(_problem(
                "DISK_SHORT", "error", host, path, None, need,
                "%s: free space of %s is unknown (%s); %s required" % (host, path, reason, _gib(need)),
                "%s：%s 的可用空间未知（%s），需要 %s" % (host, path, reason, _gib(need))))
            continue
        key = fact.get("mount") or fact.get("measured") or path
        groups.setdefault(key, {"free": int(fact["free_bytes"]), "paths": []})["paths"].append((path, need))
    for mount in sorted(groups):
        group = groups[mount]
        need = sum(n for _p, n in group["paths"])
        if group["free"] >= need:
            continue
        if len(group["paths"]) == 1:
            path = group["paths"][0][0]
            msg = "%s: %s has %s free, %s required" % (host, path, _gib(group["free"]), _gib(need))
            msg_zh = "%s：%s 可用空间 %s，需要 %s" % (host, path, _gib(group["free"]), _gib(need))
            item = path
        else:
            listing = ", ".join("%s %s" % (p, _gib(n)) for p, n in group["paths"])
            item = "%s (%s)" % (mount, ", ".join(p for p, _n in group["paths"]))
            msg = ("%s: filesystem %s has %s free, the paths on it together require %s (%s)"
                   % (host, mount, _gib(group["free"]), _gib(need), listing))
            msg_zh = ("%s：文件系统 %s 可用空间 %s，其上各路径合计需要 %s（%s）"
                      % (host, mount, _gib(group["free"]), _gib(need), listing))
        out.append(_problem("DISK_SHORT", "error", host, item, group["free"], need, msg, msg_zh))
    return out


def _memory_problems(host, minimum, facts):
    if minimum in (None, ""):
        return []
    minimum = int(minimum)
    total = facts.get("mem_total_bytes")
    if total is None:
        return [_problem("MEMORY_SHORT", "warning", host, "mem_total_bytes", None, minimum,
                         "%s: memory size unknown; %s required" % (host, _gib(minimum)),
                         "%s：内存大小未知，需要 %s" % (host, _gib(minimum)))]
    if int(total) >= minimum:
        return []
    return [_problem("MEMORY_SHORT", "error", host, "mem_total_bytes", int(total), minimum,
                     "%s: %s memory, %s required" % (host, _gib(total), _gib(minimum)),
                     "%s：内存 %s，需要 %s" % (host, _gib(total), _gib(minimum)))]


def _port_problems(host, ports_free, facts):
    states = dict((int(p.get("port")), p) for p in (facts.get("ports") or []) if p.get("port") is not None)
    out = []
    for port in ports_free or []:
        port = int(port)
        state = states.get(port)
        item = "tcp/%d" % port
        if state is None or state.get("listening") is None:
            reason = (state or {}).get("error") or "not checked (not in migration_facts ports)"
            out.append(_problem("PORT_IN_USE", "warning", host, item, None, "free",
                                "%s: whether TCP port %d is free is unknown (%s)" % (host, port, reason),
                                "%s：无法确认 TCP 端口 %d 是否空闲（%s）" % (host, port, reason)))
        elif state["listening"]:
            where = ", ".join(state.get("addresses") or []) or "?"
            out.append(_problem("PORT_IN_USE", "error", host, item, "LISTEN on %s" % where, "free",
                                "%s: TCP port %d is already in use (LISTEN on %s); it must be free for the migration"
                                % (host, port, where),
                                "%s：TCP 端口 %d 已被占用（监听于 %s），迁移需要该端口空闲" % (host, port, where)))
    return out


def _clock_problems(host, facts, max_offset):
    chrony = facts.get("chrony") or {}
    synced = chrony.get("synced")
    reason = chrony.get("reason") or "Leap status %s" % (chrony.get("leap_status") or "unknown")
    out = []
    if synced is None:
        out.append(_problem("CLOCK_UNSYNCED", "warning", host, "chrony", reason, "Leap status Normal",
                            "%s: time synchronisation cannot be confirmed (%s)" % (host, reason),
                            "%s：无法确认时间同步状态（%s）" % (host, reason)))
    elif not synced:
        out.append(_problem("CLOCK_UNSYNCED", "error", host, "chrony", chrony.get("leap_status") or reason,
                            "Leap status Normal",
                            "%s: the clock is not synchronised (%s); start chronyd and check its NTP sources"
                            % (host, reason),
                            "%s：时钟未同步（%s），请启动 chronyd 并检查 NTP 源" % (host, reason)))
    offset = chrony.get("offset_seconds")
    if offset is not None and abs(float(offset)) > max_offset:
        out.append(_problem("CLOCK_OFFSET", "error", host, "offset_seconds", float(offset), max_offset,
                            "%s: the clock is %.3f s %s of NTP time, more than the %s s allowed"
                            % (host, abs(float(offset)), "ahead" if float(offset) > 0 else "behind", max_offset),
                            "%s：时钟%s NTP 时间 %.3f 秒，超过允许的 %s 秒"
                            % (host, "快于" if float(offset) > 0 else "慢于", abs(float(offset)), max_offset)))
    return out


def _host_macs(facts):
    """The host's MACs for a licence re-issue: physical interfaces first when migration_facts told them."""
    physical = [i.get("mac") for i in (facts.get("interfaces") or []) if not i.get("virtual") and i.get("mac")]
    return sorted(set(physical)) or sorted(set(facts.get("macs") or []))


def _licence_problems(host, facts):
    host_macs = set(m.lower() for m in (facts.get("macs") or []))
    files = facts.get("license_files") or []
    present = [f for f in files if f.get("exists") and not f.get("error")]
    reissue = ", ".join(_host_macs(facts))
    listed = ", ".join(f.get("path") or "?" for f in files)
    if not present:
        return [_problem("LICENCE_MISSING", "error", host, listed or None, None, sorted(host_macs),
                         "%s: no readable Kingbase licence file (%s); the licence must be re-issued for this host's "
                         "MACs: %s" % (host, listed or "none checked", reissue or "none found"),
                         "%s：没有可读的金仓许可文件（%s），须按本机 MAC 地址重新申请许可：%s"
                         % (host, listed or "未检查任何许可文件", reissue or "未发现 MAC 地址"))]
    bound = sorted(set(m.lower().replace("-", ":") for f in present for m in (f.get("macs") or [])))
    if host_macs & set(bound):
        return []
    return [_problem("LICENCE_MISSING", "error", host, ", ".join(f["path"] for f in present), bound, sorted(host_macs),
                     "%s: the licence is bound to %s, none of which is a MAC of this host; the licence must be "
                     "re-issued for these MACs: %s" % (host, ", ".join(bound) or "no MAC address", reissue or "none found"),
                     "%s：许可绑定的 MAC 地址为 %s，均不属于本机；须按以下 MAC 地址重新申请许可：%s"
                     % (host, ", ".join(bound) or "（无）", reissue or "未发现 MAC 地址"))]


def migration_precheck_problems(plan):
    """Every problem of a migration precheck, in one pass: a list of {code, severity, host,
    variable_or_item, value, allowed, message, message_zh}.

    plan: {route, pairs: [{target, source, kind}], facts: {host: migration_facts result},
    requirements: {host: {paths: {path: bytes}, ports_free: [ints], min_mem_bytes}},
    licence_required: {host: bool} (a host not named: required when it is the target of a kingbase pair),
    max_clock_offset_s (1.0), versions: {host: {kingbase, bes}}, backup: {ok, detail}, unreachable: [hosts],
    initdb: {host: kingbase_initdb_attributes} (the kingbase role's entry point initdb_attributes; absent: not
    judged)}.

    Initdb-time attributes, on every route, per kingbase pair: the source's as read from its running server
    against the target's, read from its server or, before it exists, as its initdb options will make them.
    A known difference is an INITDB_MISMATCH error naming both hosts, the attribute, both values and the
    variable to set; a value one side does not report (null) is an INITDB_UNKNOWN warning, not an error (a
    server may lack the setting, as the lab's stand-in did), and so is a side not read at all (one warning).

    A host that is unreachable or has no facts (or a failed / unreachable registered result) gets
    HOST_UNREACHABLE and no other check that needs its facts.
    An unknown route or pair kind is a ValueError.
    """
    plan = plan or {}
    route = plan.get("route")
    if route not in ROUTES:
        raise ValueError("route must be one of %s, got %r" % (", ".join(ROUTES), route))
    pairs = list(plan.get("pairs") or [])
    for pair in pairs:
        if not pair.get("target") or not pair.get("source") or pair.get("kind") not in KINDS:
            raise ValueError("every pair needs target, source and kind (%s), got %r" % ("/".join(KINDS), pair))
    facts = plan.get("facts") or {}
    requirements = plan.get("requirements") or {}
    licence_required = dict(plan.get("licence_required") or {})
    versions = plan.get("versions") or {}
    max_offset = plan.get("max_clock_offset_s")
    max_offset = DEFAULT_MAX_CLOCK_OFFSET_S if max_offset in (None, "") else float(max_offset)
    unreachable = set(plan.get("unreachable") or [])
    for pair in pairs:
        if pair["kind"] == "kingbase":
            licence_required.setdefault(pair["target"], True)

    hosts = set(facts) | set(requirements) | set(unreachable)
    hosts.update(h for h, required in licence_required.items() if required)
    for pair in pairs:
        hosts.update((pair["target"], pair["source"]))
    # A registered result of a failed or unreachable migration_facts task carries no facts.
    usable = set(h for h in hosts if h not in unreachable and isinstance(facts.get(h), dict) and facts.get(h)
                 and not facts[h].get("failed") and not facts[h].get("unreachable") and facts[h].get("machine"))

    problems = []
    for host in sorted(hosts - usable):
        why = "unreachable" if host in unreachable else "no migration facts"
        problems.append(_problem(
            "HOST_UNREACHABLE", "error", host, "connection", why, "reachable, facts gathered",
            "%s is %s: none of its checks could run" % (host, "unreachable" if host in unreachable
                                                       else "without migration facts (not gathered)"),
            "%s %s：其各项检查均无法执行" % (host, "不可达" if host in unreachable else "未采集到迁移事实")))
    initdb = plan.get("initdb")
    for pair in pairs:
        if pair["target"] in usable and pair["source"] in usable:
            problems += _pair_problems(route, pair, facts, versions)
            if pair["kind"] == "kingbase" and initdb is not None:
                problems += _initdb_problems(pair["target"], pair["source"], initdb)
    for host in sorted(usable):
        host_facts = facts[host]
        req = requirements.get(host) or {}
        problems += _disk_problems(host, req.get("paths") or {}, host_facts)
        problems += _memory_problems(host, req.get("min_mem_bytes"), host_facts)
        problems += _port_problems(host, req.get("ports_free"), host_facts)
        problems += _clock_problems(host, host_facts, max_offset)
        if licence_required.get(host):
            problems += _licence_problems(host, host_facts)
    backup = plan.get("backup")
    if not isinstance(backup, dict) or backup.get("ok") is not True:
        detail = (backup or {}).get("detail") if isinstance(backup, dict) else None
        detail = detail or ("the latest backup was not judged" if not isinstance(backup, dict) else "not ok")
        problems.append(_problem(
            "BACKUP_NOT_READY", "error", None, "backup", detail, "ok",
            "the latest backup is not ready for the migration: %s; take and verify a backup first" % detail,
            "最近一次备份不满足迁移要求：%s；请先完成备份并通过恢复验证" % detail))
    return problems


def migration_precheck_summary(problems):
    """{errors, warnings, ok (no errors), by_code: {code: n}} of migration_precheck_problems' list."""
    problems = list(problems or [])
    by_code = {}
    for p in problems:
        by_code[p.get("code")] = by_code.get(p.get("code"), 0) + 1
    errors = sum(1 for p in problems if p.get("severity") == "error")
    warnings = sum(1 for p in problems if p.get("severity") == "warning")
    return {"errors": errors, "warnings": warnings, "ok": errors == 0, "by_code": by_code}


_RSYNC_STATS = (
    ("files", r"Number of files: ([0-9,]+)"),
    ("transferred", r"Number of regular files transferred: ([0-9,]+)"),
    ("deleted", r"Number of deleted files: ([0-9,]+)"),
    ("bytes", r"Total transferred file size: ([0-9,]+)"),
)


def migration_rsync_stats(stdout):
    """The numbers of an `rsync --stats` output: files (in the tree), transferred (regular files sent),
    deleted, bytes (total transferred file size) and changed (something transferred or deleted).

    A number rsync did not print (an older rsync without deletion stats, an empty output) counts as 0.
    """
    out = {}
    for key, pattern in _RSYNC_STATS:
        match = re.search(pattern, stdout or "")
        out[key] = int(match.group(1).replace(",", "")) if match else 0
    out["changed"] = out["transferred"] > 0 or out["deleted"] > 0
    return out


def migration_rsync_changed(stdout):
    """Whether an `rsync --stats` pass transferred or deleted a file."""
    return migration_rsync_stats(stdout)["changed"]


def migration_duration_s(delta):
    """Seconds, to 0.1, of a command result's delta ("H:MM:SS.ffffff"); None for anything else."""
    match = re.match(r"^\s*(\d+):(\d{1,2}):(\d{1,2}(?:\.\d+)?)\s*$", str(delta or ""))
    if not match:
        return None
    hours, minutes, seconds = match.groups()
    return round(int(hours) * 3600 + int(minutes) * 60 + float(seconds), 1)


class FilterModule(object):
    def filters(self):
        return {
            "migration_precheck_problems": migration_precheck_problems,
            "migration_precheck_summary": migration_precheck_summary,
            "migration_required_bytes": migration_required_bytes,
            "migration_target_paths": migration_target_paths,
            "migration_rsync_stats": migration_rsync_stats,
            "migration_rsync_changed": migration_rsync_changed,
            "migration_duration_s": migration_duration_s,
        }
