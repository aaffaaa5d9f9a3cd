# -*- coding: utf-8 -*-
"""Reachability probes of the SMS gateway connector and the mobile apps' back ends
(plugins/modules/endpoint_probe.py): HTTP(S) GET without proxy or TCP connect, timed, judged.

Standard library only, Python 3.7 syntax (it may run on a probe host inside the government network).
Tested against a local http.server and socket (tests/unit/test_endpoint_probe.py).
"""
from __future__ import absolute_import, division, print_function

import re
import socket
import ssl
import time

try:
    from urllib.parse import urlsplit
    from urllib.request import HTTPSHandler, ProxyHandler, Request, build_opener
    from urllib.error import HTTPError, URLError
except ImportError:  # pragma: no cover - Python 2 is not a target
    from urlparse import urlsplit  # noqa: F401
    from urllib2 import HTTPSHandler, ProxyHandler, Request, build_opener, HTTPError, URLError  # noqa: F401

from ansible.module_utils.huaian_inspect import finding, merge_thresholds

__metaclass__ = type

DEFAULT_THRESHOLDS = {
    "timeout_s": 5,
    "warn_ms": 2000,
}
COMPONENTS = {"app": ("APP", "移动应用后端"), "sms": ("SMS", "短信网关接口")}
KINDS = ("http", "tcp")
DAY = 86400


def display_target(probe):
    """The probe's URL (password of a user:password@ part masked) or host:port."""
    if probe.get("url"):
        return re.sub(r"(://[^/@:]+:)[^/@]*@", r"\1******@", probe["url"])
    return "%s:%s" % (probe.get("host"), probe.get("port"))


def validate_probes(probes):
    """Errors of a probe list (empty when valid): names unique, targets given for the kind."""
    errors, seen = [], set()
    for index, probe in enumerate(probes):
        label = probe.get("name") or "#%d" % index
        if not probe.get("name"):
            errors.append("probe %s: name is required" % label)
        elif probe["name"] in seen:
            errors.append("probe %s: duplicate name" % label)
        seen.add(probe.get("name"))
        if probe.get("component") not in COMPONENTS:
            errors.append("probe %s: component must be one of %s" % (label, ", ".join(sorted(COMPONENTS))))
        kind = probe.get("kind")
        if kind == "http":
            url = probe.get("url") or ""
            if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).hostname:
                errors.append("probe %s: kind http needs url http(s)://host[:port]/path, got %r" % (label, url))
        elif kind == "tcp":
            port = probe.get("port")
            if not probe.get("host") or not isinstance(port, int) or not 0 < port < 65536:
                errors.append("probe %s: kind tcp needs host and port (1-65535)" % label)
        else:
            errors.append("probe %s: kind must be http or tcp" % label)
    return errors


def _reason(exc):
    """(kind, text) of a connection failure: tls_certificate, tls, timeout, refused, dns or error."""
    inner = getattr(exc, "reason", exc)
    # ssl.CertificateError is SSLCertVerificationError from Python 3.7 on.
    if isinstance(inner, ssl.CertificateError):
        return "tls_certificate", str(getattr(inner, "verify_message", "") or inner)
    if isinstance(inner, ssl.SSLError):
        return "tls", str(inner)
    if isinstance(inner, socket.timeout) or "timed out" in str(inner):
        return "timeout", "timed out"
    if isinstance(inner, ConnectionRefusedError):
        return "refused", "connection refused"
    if isinstance(inner, socket.gaierror):
        return "dns", str(inner)
    return "error", "%s: %s" % (type(inner).__name__, inner)


def probe_http(url, timeout, validate_certs=True, clock=time.time):
    """GET url, no proxy. {'ok', 'status', 'ms', 'error_kind', 'error'}; never raises."""
    context = ssl.create_default_context()
    if not validate_certs:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    opener = build_opener(ProxyHandler({}), HTTPSHandler(context=context))
    start = clock()
    status, kind, error = None, None, None
    try:
        response = opener.open(Request(url, headers={"User-Agent": "huaian-inspect"}), timeout=timeout)
        try:
            status = response.getcode()
            response.read(65536)
        finally:
            response.close()
    except HTTPError as exc:
        status = exc.code
    except Exception as exc:  # noqa: BLE001 - every failure is a result, never an error of the module
        kind, error = _reason(exc)
    return {"status": status, "ms": int(round((clock() - start) * 1000)), "error_kind": kind, "error": error}


def probe_tcp(host, port, timeout, clock=time.time):
    start = clock()
    kind, error = None, None
    try:
        sock = socket.create_connection((host, port), timeout=timeout)
        sock.close()
    except Exception as exc:  # noqa: BLE001
        kind, error = _reason(exc)
    return {"status": None, "ms": int(round((clock() - start) * 1000)), "error_kind": kind, "error": error}


def cert_not_after(host, port, timeout, server_hostname=None):
    """Epoch seconds of the verified peer certificate's notAfter, or None (no TLS, not verifiable)."""
    context = ssl.create_default_context()
    try:
        sock = socket.create_connection((host, port), timeout=timeout)
        try:
            tls = context.wrap_socket(sock, server_hostname=server_hostname or host)
            cert = tls.getpeercert()
            tls.close()
        finally:
            sock.close()
        return ssl.cert_time_to_seconds(cert["notAfter"]) if cert and cert.get("notAfter") else None
    except Exception:  # noqa: BLE001 - an unverifiable certificate is already an unreachable finding
        return None


_KIND_ZH = {"tls_certificate": "TLS 证书校验失败", "tls": "TLS 握手失败", "timeout": "超时", "refused": "连接被拒绝",
            "dns": "域名解析失败", "error": "连接错误"}


def judge(probe, result, th, deep=False, horizon_days=90, now=None):
    """Findings and metrics of one probe's result."""
    prefix, what = COMPONENTS[probe["component"]]
    name = probe["name"]
    label = probe.get("label") or name
    target = display_target(probe)
    timeout = probe.get("timeout_s") or th["timeout_s"]
    warn_ms = probe.get("warn_ms") or th["warn_ms"]
    expect = probe.get("expect_status") or [200]
    findings, metrics = [], {}
    reached = result["error_kind"] is None and (probe["kind"] == "tcp" or result["status"] in expect)
    metrics["probe_up:%s" % name] = 1 if reached else 0
    if not reached:
        if result["error_kind"]:
            why = "%s（%s）" % (_KIND_ZH.get(result["error_kind"], "连接错误"), result["error"])
            if result["error_kind"] == "timeout":
                why = "%s 秒内无应答" % timeout
        else:
            why = "返回 HTTP %s，期望 %s" % (result["status"], "/".join(str(s) for s in expect))
        action = ("检查证书（有效期、签发机构、域名）并更换" if result["error_kind"] in ("tls_certificate", "tls")
                  else "从巡检探测机检查网络与防火墙，登录%s主机检查服务进程与日志" % what)
        findings.append(finding(
            probe["component"], "%s_UNREACHABLE" % prefix, "critical", name,
            "%s %s（%s）不可达：%s" % (what, label, target, why), action,
            value=result["status"] if result["status"] is not None else result["error_kind"],
            threshold=expect if probe["kind"] == "http" else None))
        return findings, metrics
    metrics["probe_ms:%s" % name] = result["ms"]
    if result["ms"] >= warn_ms:
        findings.append(finding(
            probe["component"], "%s_SLOW" % prefix, "warning", name,
            "%s %s（%s）响应 %d ms，超过阈值 %s ms" % (what, label, target, result["ms"], int(warn_ms)),
            "检查%s的负载、依赖服务与网络延迟" % what, value=result["ms"], threshold=warn_ms))
    not_after = result.get("cert_not_after")
    if deep and not_after is not None:
        now = time.time() if now is None else now
        days = int((not_after - now) // DAY)
        metrics["probe_cert_days:%s" % name] = days
        if days < horizon_days:
            findings.append(finding(
                probe["component"], "%s_CERT_EXPIRING" % prefix, "warning", name,
                "%s %s（%s）的 TLS 证书 %d 天后到期，早于 %d 天的检查期限" % (what, label, target, days, horizon_days),
                "在到期前申请并更换证书", value=days, threshold=horizon_days))
    return findings, metrics


def run_probe(probe, th, deep=False):
    timeout = probe.get("timeout_s") or th["timeout_s"]
    if probe["kind"] == "http":
        result = probe_http(probe["url"], timeout, probe.get("validate_certs", True) is not False)
        parts = urlsplit(probe["url"])
        if deep and parts.scheme == "https" and result["error_kind"] is None:
            result["cert_not_after"] = cert_not_after(parts.hostname, parts.port or 443, timeout)
    else:
        result = probe_tcp(probe["host"], probe["port"], timeout)
    return result


def inspect(probes, thresholds, deep=False, horizon_days=90, now=None, runner=run_probe):
    """facts, metrics, findings of every probe. Raises ValueError on invalid parameters."""
    th = merge_thresholds(DEFAULT_THRESHOLDS, thresholds)
    errors = validate_probes(probes)
    if errors:
        raise ValueError("; ".join(errors))
    facts = {"probes": {}, "thresholds": th}
    metrics, findings = {}, []
    for probe in probes:
        result = runner(probe, th, deep)
        f, m = judge(probe, result, th, deep, horizon_days, now)
        facts["probes"][probe["name"]] = dict(result, component=probe["component"], kind=probe["kind"],
                                              label=probe.get("label") or probe["name"],
                                              target=display_target(probe))
        metrics.update(m)
        findings.extend(f)
    return facts, metrics, findings
