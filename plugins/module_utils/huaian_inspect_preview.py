# -*- coding: utf-8 -*-
"""Inspection of the preview services on a host: systemd unit state and the health probe per kind.

Runs on managed hosts (Python 3.7 on Kylin V10): standard library only, no 3.8+ syntax.
Parsing, probing and judging are plain functions, unit-tested on the controller
(tests/unit/test_preview_inspect.py) against systemctl output and a local HTTP server.
"""
from __future__ import absolute_import, division, print_function

import functools
import socket
import time

try:
    from urllib.request import ProxyHandler, build_opener
    from urllib.error import HTTPError, URLError
except ImportError:  # pragma: no cover - Python 2 is not a target
    ProxyHandler = build_opener = HTTPError = URLError = None

# merge_thresholds(defaults, given) and parse_systemctl_show: imported by plugins/modules/preview_inspect.py from here.
from ansible.module_utils.huaian_inspect import finding as _finding, merge_thresholds, parse_systemctl_show  # noqa: F401

__metaclass__ = type

COMPONENT = "preview"

DEFAULT_THRESHOLDS = {
    "health_ms_warning": 5000,   # the probe (render of the sample document) slower than this: PREVIEW_SLOW
    "restarts_warning": 3,       # systemd restarts of the unit since it was last started by hand
}

UNIT_PROPERTIES = ("Id", "LoadState", "ActiveState", "SubState", "Result", "NRestarts", "MainPID",
                   "ActiveEnterTimestamp")
# Response headers worth keeping (the stand-in's and, UNCONFIRMED, the vendor services').
KEEP_HEADERS = ("X-Cache", "X-Cache-Error", "X-Cache-Master", "Server")
MAX_BODY = 16 * 1024 * 1024


finding = functools.partial(_finding, COMPONENT)


def probe(url, timeout, opener=None):
    """GET url: {status, ms, headers, error}. status -1: no HTTP answer (refused, timeout)."""
    opener = opener or build_opener(ProxyHandler({}))  # probes go to the host itself, never to a proxy
    started = time.time()
    result = {"url": url, "status": -1, "ms": None, "headers": {}, "error": None}
    response = None
    try:
        try:
            response = opener.open(url, timeout=timeout)
        except HTTPError as exc:  # 4xx/5xx: still an answer, with headers
            response = exc
        response.read(MAX_BODY)
        result["status"] = response.getcode()
        result["headers"] = dict((h, response.headers.get(h)) for h in KEEP_HEADERS if response.headers.get(h) is not None)
        if isinstance(response, HTTPError):
            result["error"] = "HTTP %s" % response.code
    except (URLError, socket.timeout, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        result["error"] = "%s: %s" % (type(reason).__name__, reason)
    finally:
        result["ms"] = int(round((time.time() - started) * 1000))
        if response is not None:
            try:
                response.close()
            except (OSError, AttributeError):
                pass
    return result


def gather(services, unit_states, timeout, cache_check, cache_header="X-Cache", opener=None):
    """Facts per kind: its unit's state and its probe(s).

    services: [{kind, unit, url}]; unit_states: parse_systemctl_show of their units (or {}).
    cache_check: probe twice; the second answer must come from the cache (cache_header: HIT).
    """
    facts = {}
    for svc in services:
        unit = svc["unit"] if svc["unit"].endswith(".service") else svc["unit"] + ".service"
        state = unit_states.get(unit) or {}
        entry = {"unit": unit, "url": svc["url"],
                 "unit_state": dict((k, state.get(k)) for k in UNIT_PROPERTIES if k in state),
                 "probe": None, "cache_probe": None}
        if state.get("ActiveState") == "active" or not unit_states:
            entry["probe"] = probe(svc["url"], timeout, opener)
            if cache_check and entry["probe"]["status"] == 200:
                second = probe(svc["url"], timeout, opener)
                second["cache"] = second["headers"].get(cache_header)
                entry["cache_probe"] = second
        facts[svc["kind"]] = entry
    return facts


def judge(facts, thresholds, cache_check, deep=False):
    t = thresholds
    out = []
    metrics = {}
    for kind in sorted(facts):
        entry = facts[kind]
        state = entry.get("unit_state") or {}
        unit = entry["unit"]
        if state and state.get("ActiveState") != "active":
            out.append(finding("PREVIEW_DOWN", "critical", kind,
                               "%s 服务 %s 未运行（%s/%s，LoadState %s）" % (kind, unit, state.get("ActiveState"),
                                                                    state.get("SubState"), state.get("LoadState")),
                               "查看 systemctl status %s 与 journalctl -u %s，修复后启动服务" % (unit, unit),
                               state.get("ActiveState"), "active"))
            continue
        restarts = state.get("NRestarts")
        if restarts not in (None, "") and str(restarts).isdigit() and int(restarts) >= t["restarts_warning"]:
            out.append(finding("PREVIEW_RESTARTS", "warning", kind,
                               "%s 服务自上次启动以来已被 systemd 自动重启 %s 次，阈值 %s" % (unit, restarts, t["restarts_warning"]),
                               "查看 journalctl -u %s 找出崩溃原因" % unit, int(restarts), t["restarts_warning"]))
        pr = entry.get("probe")
        if not pr:
            continue
        if pr["status"] != 200:
            error = pr["headers"].get("X-Cache-Error")
            if pr["status"] == 503 and error:
                out.append(finding("PREVIEW_CACHE_UNAVAILABLE", "critical", kind,
                                   "%s 健康探测需要缓存，但缓存不可用（503，%s）：%s" % (kind, error, pr["url"]),
                                   "检查预览缓存集群（preview_check.yml / 缓存巡检结果）与服务的缓存口令", pr["status"], 200))
            else:
                out.append(finding("PREVIEW_HEALTH_FAILED", "critical", kind,
                                   "%s 健康探测失败：%s %s" % (kind, pr["url"], ("无应答（%s）" % pr.get("error")) if pr["status"] == -1
                                                              else ("返回 %s" % pr["status"])),
                                   "查看 journalctl -u %s；确认样例文档与字体可用后重新探测" % unit, pr["status"], 200))
            continue
        metrics["preview_health_ms:%s" % kind] = pr["ms"]
        if pr["ms"] > t["health_ms_warning"]:
            out.append(finding("PREVIEW_SLOW", "warning", kind,
                               "%s 渲染样例文档耗时 %d ms，超过阈值 %s ms" % (kind, pr["ms"], t["health_ms_warning"]),
                               "检查主机负载、内存与服务日志；必要时扩容或调整并发", pr["ms"], t["health_ms_warning"]))
        second = entry.get("cache_probe")
        if cache_check and second is not None and (second["status"] != 200 or second.get("cache") != "HIT"):
            out.append(finding("PREVIEW_CACHE_MISS", "warning", kind,
                               "%s 第二次探测未从缓存读取（状态 %s，X-Cache %s）" % (kind, second["status"], second.get("cache")),
                               "检查预览缓存集群的主节点与淘汰情况（缓存巡检结果）", second.get("cache"), "HIT"))
    return out, metrics
