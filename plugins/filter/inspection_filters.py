# -*- coding: utf-8 -*-
"""Controller-side judgement of an inspection run: findings across hosts, the anomaly register carried
from run to run, platform states, trend series and their SVG charts, the capacity forecast, restore-test
and failover-readiness findings of the deep inspection.

The component modules (host_inspect, kingbase_inspect, ...) judge each host against its thresholds; this
file only joins their results and judges what needs more than one host or more than one run.
"""
from __future__ import absolute_import, division, print_function

import datetime
import html
import math
import re

__metaclass__ = type

# Findings of no single platform: the controller's probes and restore tests, and hosts outside the platforms.
NO_PLATFORM_NAME = u"跨平台（控制机探测与恢复测试）"
SEVERITY_ORDER = {"critical": 0, "warning": 1}
PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf",
           "#7f7f7f", "#bcbd22")


def _get(mapping, key, default=None):
    try:
        value = mapping[key]
    except Exception:  # noqa: BLE001 - hostvars of a host outside the inventory raise Ansible's own errors
        return default
    return default if value is None else value


def finding_key(finding):
    """A finding's identity across runs: the same code on the same host and subject is the same anomaly."""
    return "%s|%s|%s" % (finding.get("code", ""), finding.get("host", ""), finding.get("subject") or "")


def inspection_plan(components, hosts, groups, probing):
    """{role: [hosts]}: which of the run's hosts each component's inspect entry point reaches.

    components: [{role, groups: [..], probe: bool (default true)}] (playbooks/vars/inspection.yml); a host
    is inspected by a role when it is in one of the role's groups, and, for a role that probes live
    services (probe true), when it is among probing (the hosts whose inspection_component_probes is on).
    Host order follows hosts. A role named twice has its groups joined.
    """
    groups = groups or {}
    probing = set(probing or [])
    plan = {}
    for index, comp in enumerate(components or []):
        if not isinstance(comp, dict) or not comp.get("role") or not isinstance(comp.get("groups"), list):
            raise ValueError("inspection_components[%d] is %r; allowed: {role: <role>, groups: [<group>, ...], "
                             "probe: true|false}" % (index, comp))
        members = set()
        for group in comp["groups"]:
            members.update(groups.get(group) or [])
        chosen = plan.setdefault(comp["role"], [])
        for host in hosts:
            if host in members and host not in chosen and (not comp.get("probe", True) or host in probing):
                chosen.append(host)
    for role, chosen in plan.items():
        order = dict((h, i) for i, h in enumerate(hosts))
        chosen.sort(key=order.get)
    return plan


def inspection_hosts(hostvars, hosts, platform_groups=None):
    """One record per inspected host: platform, what its components returned, whether it was reached."""
    records = []
    for host in hosts:
        hv = hostvars[host] if host in hostvars else {}
        groups = list(_get(hv, "group_names", []))
        platform = _get(hv, "platform_code", "")
        if not platform and platform_groups:
            platform = next((g for g in groups if g in platform_groups), "")
        results = list(_get(hv, "inspection_results", []))
        errors = list(_get(hv, "inspection_errors", []))
        records.append({
            "host": host,
            "platform": platform or "-",
            "platform_name": _get(hv, "platform_name_zh", "") or platform or NO_PLATFORM_NAME,
            "groups": sorted(groups),
            "reached": bool(results) or bool(errors),
            "errors": errors,
            "components": [r.get("component") for r in results],
            "results": results,
        })
    return records


# Why a component's inspection stopped (playbooks/tasks/inspect_component_failed.yml): the failed task's own
# words, secrets removed, in one line an operator can act on without re-running anything by hand.
REDACTED = u"<已隐去>"
# key=value / key: value whose key names a secret (password=, PGPASSWORD=, KINGBASE_PASSWORD=, requirepass,
# secret, token, passphrase, cipher_pass, ...), in environment dumps, libpq / JDBC connection strings and
# configuration lines; a quoted value is removed whole.
_SECRET_KEY = r"[A-Za-z0-9_.\-]*(?:passw(?:or)?d|passwd|passphrase|_pass|pwd|secret|token|requirepass|masterauth|credential)[A-Za-z0-9_.\-]*"
_SECRET_ASSIGN = re.compile(r"(?i)(?<![A-Za-z0-9])(%s)(\s*[=:]\s*|\s+(?=[\"']))(\"[^\"]*\"|'[^']*'|[^\s&;,)\"']+)" % _SECRET_KEY)
# Command-line options that take a secret: --password X, --password=X, -storepass X, redis-cli ... -a X.
_SECRET_OPTION = re.compile(r"(?i)((?:^|\s)--?(?:password|passwd|pass|pwd|storepass|keypass|auth)(?:=|\s+))(\"[^\"]*\"|'[^']*'|\S+)")
_SECRET_REDIS_CLI = re.compile(r"(redis-cli\b[^\n]*?\s-a\s+)(\S+)")
# Redis configuration lines and commands: requirepass X, masterauth X, AUTH [user] X (the command is upper case).
_SECRET_REDIS = re.compile(r"((?i:\b(?:requirepass|masterauth))\s+|\bAUTH\s+(?:[A-Za-z0-9_\-]+\s+(?=\S))?)(\"[^\"]*\"|'[^']*'|\S+)")
# user:password@host in URLs and connection strings (kingbase://u:p@h, redis://:p@h, http://u:p@h).
_SECRET_URL = re.compile(r"(?i)([a-z][a-z0-9+.\-]*://[^\s:/@]*:)([^\s@/]+)(@)")
GENERIC_FAILURE_MESSAGES = ("", "failed", "non-zero return code", "MODULE FAILURE", "One or more items failed",
                            "All items completed")


def redact_secrets(text, secrets=None):
    """text with secrets replaced by REDACTED: every value of secrets (e.g. the host's vault_* values) verbatim,
    secret-named key=value / key: value pairs, secret options of a command line, URL passwords and Redis AUTH.

    Values of secrets shorter than 4 characters are not looked for (they would match ordinary words)."""
    text = u"%s" % ("" if text is None else text)
    for value in sorted(set(u"%s" % v for v in (secrets or []) if v is not None and len(u"%s" % v) >= 4),
                        key=len, reverse=True):
        text = text.replace(value, REDACTED)
    text = _SECRET_URL.sub(lambda m: m.group(1) + REDACTED + m.group(3), text)
    text = _SECRET_ASSIGN.sub(lambda m: m.group(1) + m.group(2) + REDACTED, text)
    for pattern in (_SECRET_OPTION, _SECRET_REDIS_CLI, _SECRET_REDIS):
        text = pattern.sub(lambda m: m.group(1) + REDACTED, text)
    return text


def _one_line(text):
    """The non-blank lines of text joined by ' ⏎ ' (a report cell and a Markdown table row hold one line)."""
    return u" ⏎ ".join(line.strip() for line in (u"%s" % text).splitlines() if line.strip())


def _tail(text, lines=5, chars=400):
    """The last lines of text (the error is at the end of a command's output or a traceback), at most chars."""
    kept = [line.rstrip() for line in (u"%s" % text).splitlines() if line.strip()][-lines:]
    out = _one_line(u"\n".join(kept))
    return out if len(out) <= chars else u"…" + out[-(chars - 1):]


def _head(text, chars):
    out = _one_line(text)
    return out if len(out) <= chars else out[:chars - 1] + u"…"


def failure_cause(result, secrets=None, limit=1000):
    """One line saying why a task failed, from its result (ansible_failed_result): the message, and when that
    is generic or a command's (non-zero return code, MODULE FAILURE, a loop's summary) also the command, its
    exit code, the tail of its stderr (else stdout), the module's exception or stderr. Secrets are redacted
    before the line is cut to limit characters.

    Understood: a command's failure (cmd, rc, stderr, stdout, msg), a module's crash (module_stderr,
    module_stdout, exception, rc), a module's fail_json (msg), a task timeout (msg), an unreachable host
    (unreachable, msg), a loop (results: the first failed item), a no_log result (censored).
    """
    if not isinstance(result, dict):
        return _head(redact_secrets(result, secrets), limit) or u"failed"
    if result.get("censored"):
        return u"任务设置了 no_log，输出已隐藏：%s" % _head(result.get("censored"), 200)
    msg = u"%s" % (result.get("msg") or "")
    msg = msg.replace("\nSee stdout/stderr for the exact error", "").strip()
    items = [i for i in result.get("results") or [] if isinstance(i, dict) and (i.get("failed") or i.get("unreachable"))]
    if items and msg in GENERIC_FAILURE_MESSAGES:
        item = items[0]
        label = item.get("item")
        prefix = (u"循环项 %s：" % _head(redact_secrets(label, secrets), 80)) if label not in (None, "") else u""
        return _head(prefix + failure_cause(item, secrets, limit), limit)
    parts = []
    if msg == "MODULE FAILURE":
        parts.append(u"模块异常退出")
    if result.get("unreachable"):
        parts.append(u"主机不可达：%s" % _head(msg, 400))
    elif msg and (msg not in GENERIC_FAILURE_MESSAGES or not any(result.get(k) for k in (
            "stderr", "stdout", "module_stderr", "module_stdout", "exception"))):
        parts.append(_head(msg, 400))
    cmd = result.get("cmd")
    if cmd:
        cmd = u" ".join(u"%s" % c for c in cmd) if isinstance(cmd, (list, tuple)) else u"%s" % cmd
        parts.append(u"命令 %s" % _head(cmd, 200))
    if result.get("rc") not in (None, 0) or (cmd and result.get("rc") is not None):
        parts.append(u"退出码 %s" % result.get("rc"))
    if result.get("exception"):
        parts.append(u"异常 %s" % _tail(result["exception"], lines=1, chars=300))
    for key, label in (("stderr", u"stderr"), ("module_stderr", u"stderr"), ("stdout", u"stdout"),
                       ("module_stdout", u"stdout")):
        text = result.get(key)
        if not text or (key == "module_stderr" and text == result.get("exception")):
            continue
        if key in ("stdout", "module_stdout") and any(result.get(k) for k in ("stderr", "module_stderr")):
            continue
        parts.append(u"%s 末尾：%s" % (label, _tail(text)))
    if not parts:
        parts.append(msg or u"failed")
    return _head(redact_secrets(u"；".join(parts), secrets), limit)


def inspection_error(result, component, task="", secrets=None, limit=1000):
    """The record of a component's inspection that stopped (inspection_errors, reported as INSPECTION_ERROR):
    {component, task, message}, message being failure_cause(result) with secrets redacted."""
    return {"component": component, "task": redact_secrets(task or "", secrets),
            "message": failure_cause(result, secrets, limit)}


def inspection_findings(host_records, extra=None):
    """Every finding of the run, each naming its host and platform, worst first.

    A host that returned nothing was not reached (or its inspection stopped): that is a finding too.
    """
    findings = []
    for rec in host_records:
        base = {"host": rec["host"], "platform": rec["platform"], "platform_name": rec["platform_name"]}
        for error in rec.get("errors") or []:
            task = error.get("task") or ""
            f = dict(base, code="INSPECTION_ERROR", severity="critical", component="inspection",
                     subject=error.get("component", ""),
                     message=u"%s 巡检未能完成%s：%s" % (error.get("component", ""),
                                                     (u"（任务“%s”）" % task) if task else u"",
                                                     error.get("message") or u"原因未知"),
                     action=u"按描述中的错误原因（命令、退出码、错误输出）修复该组件后重新巡检", value=None,
                     threshold=None, task=task, cause=error.get("message") or "")
            findings.append(f)
        if not rec.get("reached"):
            f = dict(base, code="HOST_UNREACHABLE", severity="critical", component="host", subject="",
                     message=u"主机无法连接，未取得巡检数据",
                     action=u"检查主机是否运行、网络与 SSH 是否可达", value=None, threshold=None)
            findings.append(f)
        for result in rec.get("results", []):
            for item in result.get("findings", []) or []:
                f = dict(item)
                f.setdefault("component", result.get("component", ""))
                f.update(base)
                findings.append(f)
    # Findings judged across runs (the forecast) name a host but not its platform: take the host's.
    platforms = dict((rec["host"], {"platform": rec["platform"], "platform_name": rec["platform_name"]})
                     for rec in host_records)
    for item in extra or []:
        f = dict(item)
        for key, value in platforms.get(f.get("host"), {"platform": "-", "platform_name": NO_PLATFORM_NAME}).items():
            f.setdefault(key, value)
        findings.append(f)
    for f in findings:
        f.setdefault("subject", "")
        if f.get("severity") not in SEVERITY_ORDER:
            f["severity"] = "warning"
    findings.sort(key=lambda f: (SEVERITY_ORDER[f["severity"]], f.get("platform", ""), f.get("host", ""),
                                 f.get("code", ""), f.get("subject") or ""))
    return findings


# Findings only the deep inspection looks for: a weekly run cannot tell whether they are gone.
DEEP_ONLY_CODES = ("CAP_FILESYSTEM_FORECAST", "KB_FAILOVER_NOT_READY", "BACKUP_RESTORE_TEST_MISSING",
                   "BACKUP_RESTORE_TEST_STALE", "BACKUP_RESTORE_TEST_FAILED")


def inspection_register(previous, findings, run_id, now, inspected=None, deep=True):
    """Carry the anomaly register across runs.

    Each entry is one anomaly (code, host, subject): `new` the first run it is seen (or seen again after it
    was resolved), `open` while it persists, `resolved` the first run that looked for it and did not find
    it. A run looks for an anomaly only on the hosts it inspected (`inspected`; None: every host) and, for
    the deep-only checks, only when it is a deep run; anomalies elsewhere keep their state. On a host where a
    component's inspection stopped (an INSPECTION_ERROR among findings) the run did not look everywhere, so the
    host's anomalies keep their state too (except HOST_UNREACHABLE and INSPECTION_ERROR: the host answered, and
    a component that finished no longer stops). Follow-up fields an operator adds to an entry (owner, ticket,
    note) are kept.
    """
    entries = {}
    for entry in (previous or {}).get("entries", []):
        entries[entry["key"]] = dict(entry)
    seen = set()
    for f in findings:
        key = finding_key(f)
        seen.add(key)
        entry = entries.get(key)
        if entry is None or entry.get("status") == "resolved":
            history = list(entry.get("history", [])) if entry else []
            history.append({"run": run_id, "event": "new" if entry is None else "reopened"})
            entry = dict(entry or {}, key=key, first_seen=now, runs_seen=0, history=history, resolved_at=None)
            entry["status"] = "new"
        else:
            entry["status"] = "open"
        entry.update({
            "code": f.get("code"), "host": f.get("host"), "platform": f.get("platform"),
            "subject": f.get("subject") or "", "severity": f.get("severity"), "message": f.get("message"),
            "action": f.get("action"), "last_seen": now, "last_run": run_id,
            "runs_seen": int(entry.get("runs_seen", 0)) + 1,
        })
        entries[key] = entry
    looked = set(inspected) if inspected is not None else None
    stopped = set(f.get("host") for f in findings if f.get("code") == "INSPECTION_ERROR")
    for key, entry in entries.items():
        if key in seen or entry.get("status") not in ("new", "open"):
            continue
        if looked is not None and entry.get("host") not in looked:
            continue
        if not deep and entry.get("code") in DEEP_ONLY_CODES:
            continue
        if entry.get("host") in stopped and entry.get("code") not in ("HOST_UNREACHABLE", "INSPECTION_ERROR"):
            continue
        entry["status"] = "resolved"
        entry["resolved_at"] = now
        entry.setdefault("history", []).append({"run": run_id, "event": "resolved"})
    ordered = sorted(entries.values(), key=lambda e: ({"new": 0, "open": 1, "resolved": 2}[e["status"]],
                                                       SEVERITY_ORDER.get(e.get("severity"), 2), e["key"]))
    counts = {s: sum(1 for e in ordered if e["status"] == s) for s in ("new", "open", "resolved")}
    return {"updated": now, "last_run": run_id, "counts": counts, "entries": ordered}


def register_status(register, findings):
    """Annotate each finding with its register status (new / open) and first-seen time."""
    index = {e["key"]: e for e in (register or {}).get("entries", [])}
    out = []
    for f in findings:
        entry = index.get(finding_key(f), {})
        out.append(dict(f, status=entry.get("status", "new"), first_seen=entry.get("first_seen")))
    return out


def inspection_platforms(host_records, findings):
    """Each platform at a glance: hosts, worst severity, counts."""
    platforms = {}
    for rec in host_records:
        p = platforms.setdefault(rec["platform"], {"code": rec["platform"], "name": rec["platform_name"],
                                                   "hosts": 0, "critical": 0, "warning": 0})
        p["hosts"] += 1
    for f in findings:
        p = platforms.setdefault(f.get("platform", "-"), {"code": f.get("platform", "-"),
                                                          "name": f.get("platform_name") or f.get("platform", "-"),
                                                          "hosts": 0, "critical": 0, "warning": 0})
        p[f["severity"]] += 1
    for p in platforms.values():
        p["status"] = "critical" if p["critical"] else "warning" if p["warning"] else "ok"
    return sorted(platforms.values(), key=lambda p: (p["code"] != "city", p["code"]))


def inspection_metrics(host_records):
    """host -> {metric: value} of this run (numbers only)."""
    metrics = {}
    for rec in host_records:
        merged = {}
        for result in rec.get("results", []):
            for name, value in (result.get("metrics") or {}).items():
                if isinstance(value, bool) or not isinstance(value, (int, float)):
                    continue
                if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
                    continue
                merged[name] = value
        if merged:
            metrics[rec["host"]] = merged
    return metrics


def _metric_family(name):
    return name.split(":", 1)[0]


def inspection_trends(history, run_id, metrics, families, max_runs=26):
    """Series per metric family across archived runs plus this one.

    history: [{run, metrics: {host: {metric: value}}}] of earlier runs (any order). Returns
    [{family, series: [{label, points: [[run, value], ...]}], runs: [...]}] for each family in `families`.
    """
    runs = sorted([h for h in history or [] if h.get("run") and h.get("run") != run_id], key=lambda h: h["run"])
    runs = runs[-(max_runs - 1):] if max_runs > 1 else []
    runs.append({"run": run_id, "metrics": metrics})
    run_ids = [r["run"] for r in runs]
    out = []
    for family in families:
        series = {}
        for r in runs:
            for host, values in (r.get("metrics") or {}).items():
                for name, value in values.items():
                    if _metric_family(name) != family:
                        continue
                    label = host if name == family else "%s %s" % (host, name.split(":", 1)[1])
                    series.setdefault(label, []).append([r["run"], value])
        if series:
            out.append({"family": family, "runs": run_ids,
                        "series": [{"label": k, "points": v} for k, v in sorted(series.items())]})
    return out


def svg_chart(trend, title="", unit="", width=640, height=240, labels=None):
    """A self-contained SVG line chart of one trend family (no script, no external resource).

    labels: what the axis and the points' tooltips say for each run, in the order of trend['runs'] (the
    report passes the runs' Beijing times from report_time); without it the run ids themselves.
    """
    left, right, top, bottom = 56, 12, 28, 34
    runs = trend.get("runs") or []
    series = trend.get("series") or []
    values = [p[1] for s in series for p in s["points"]]
    if not runs or not values:
        return ""
    lo = min(0.0, min(values))
    hi = max(values)
    if hi <= lo:
        hi = lo + 1.0
    hi = hi * 1.1 if hi > 0 else hi + 1
    plot_w = width - left - right
    plot_h = height - top - bottom
    index = {r: i for i, r in enumerate(runs)}
    labels = list(labels or [])
    if labels and len(labels) != len(runs):
        raise ValueError("svg_chart labels: %d given for %d runs; one label per run" % (len(labels), len(runs)))
    label_of = dict(zip(runs, labels)) if labels else {r: r for r in runs}

    def x(run):
        return left + (plot_w * index[run] / (len(runs) - 1) if len(runs) > 1 else plot_w / 2.0)

    def y(v):
        return top + plot_h - (v - lo) * plot_h / (hi - lo)

    parts = ['<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="%d" height="%d" viewBox="0 0 %d %d" '
             'role="img" aria-label="%s">' % (width, height + 18 * ((len(series) + 2) // 3), width,
                                                height + 18 * ((len(series) + 2) // 3), html.escape(title)),
             '<text x="%d" y="16" font-size="13" font-weight="bold">%s</text>' % (left, html.escape(title))]
    for i in range(5):
        v = lo + (hi - lo) * i / 4.0
        parts.append('<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#ddd"/>' % (left, width - right, y(v), y(v)))
        parts.append('<text x="%d" y="%.1f" font-size="10" text-anchor="end">%s%s</text>'
                     % (left - 4, y(v) + 3, _fmt(v), html.escape(unit)))
    parts.append('<line x1="%d" x2="%d" y1="%d" y2="%d" stroke="#888"/>' % (left, width - right, top + plot_h, top + plot_h))
    for run in (runs[0], runs[-1]) if len(runs) > 1 else (runs[0],):
        anchor = "start" if run == runs[0] and len(runs) > 1 else "end" if len(runs) > 1 else "middle"
        parts.append('<text x="%.1f" y="%d" font-size="10" text-anchor="%s">%s</text>'
                     % (x(run), top + plot_h + 14, anchor, html.escape(label_of[run])))
    for n, s in enumerate(series):
        color = PALETTE[n % len(PALETTE)]
        pts = " ".join("%.1f,%.1f" % (x(r), y(v)) for r, v in s["points"])
        if len(s["points"]) > 1:
            parts.append('<polyline fill="none" stroke="%s" stroke-width="2" points="%s"/>' % (color, pts))
        for r, v in s["points"]:
            parts.append('<circle cx="%.1f" cy="%.1f" r="3" fill="%s"><title>%s %s: %s%s</title></circle>'
                         % (x(r), y(v), color, html.escape(s["label"]), html.escape(label_of[r]), _fmt(v), html.escape(unit)))
        lx = left + (n % 3) * ((width - left) // 3)
        ly = height + 4 + 18 * (n // 3)
        parts.append('<rect x="%d" y="%d" width="10" height="10" fill="%s"/>' % (lx, ly, color))
        parts.append('<text x="%d" y="%d" font-size="11">%s</text>' % (lx + 14, ly + 9, html.escape(s["label"])))
    parts.append("</svg>")
    return "".join(parts)


def _fmt(v):
    if abs(v) < 10 and not float(v).is_integer():
        return "%.2f" % v
    if abs(v) >= 1e9:
        return "%.1fG" % (v / 1e9)
    if abs(v) >= 1e6:
        return "%.1fM" % (v / 1e6)
    if abs(v) >= 1e4:
        return "%.0fk" % (v / 1e3)
    if float(v).is_integer():
        return "%d" % v
    return "%.1f" % v


def _run_time(run_id):
    return datetime.datetime.strptime(run_id, "%Y%m%dT%H%M%SZ")


def capacity_forecast(history, run_id, metrics, families=("disk_used_pct", "inode_used_pct"),
                      horizon_days=90, min_span_days=7, min_points=3, limit_pct=100.0):
    """Days until each filesystem fills, from a least-squares line through the archived runs.

    Returns {forecasts: [...], findings: [...]}; a series with too little history (fewer than min_points
    runs or spanning less than min_span_days) is listed without a projection rather than guessed.
    """
    runs = sorted([h for h in history or [] if h.get("run") and h.get("run") != run_id], key=lambda h: h["run"])
    runs.append({"run": run_id, "metrics": metrics})
    series = {}
    for r in runs:
        t = _run_time(r["run"])
        for host, values in (r.get("metrics") or {}).items():
            for name, value in values.items():
                if _metric_family(name) in families:
                    series.setdefault((host, name), []).append((t, float(value)))
    forecasts, findings = [], []
    now = _run_time(run_id)
    for (host, name), points in sorted(series.items()):
        span = (points[-1][0] - points[0][0]).total_seconds() / 86400.0
        entry = {"host": host, "metric": name, "label": forecast_label(name), "points": len(points),
                 "span_days": round(span, 1),
                 "current": points[-1][1], "per_day": None, "days_left": None}
        if len(points) >= min_points and span >= min_span_days:
            xs = [(t - points[0][0]).total_seconds() / 86400.0 for t, _ in points]
            ys = [v for _, v in points]
            mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
            den = sum((a - mx) ** 2 for a in xs)
            slope = sum((a - mx) * (b - my) for a, b in zip(xs, ys)) / den if den else 0.0
            entry["per_day"] = round(slope, 3)
            if slope > 0:
                intercept = my - slope * mx
                x_now = (now - points[0][0]).total_seconds() / 86400.0
                left = (limit_pct - (intercept + slope * x_now)) / slope
                entry["days_left"] = round(max(left, 0.0), 1)
                if left <= horizon_days:
                    kind = u"磁盘空间" if name.startswith("disk") else u"inode"
                    findings.append({
                        "code": "CAP_FILESYSTEM_FORECAST", "severity": "critical" if left <= 30 else "warning",
                        "component": "capacity", "host": host, "subject": name.split(":", 1)[-1],
                        "message": u"按近 %.0f 天趋势（每天 +%.2f%%），%s 约 %.0f 天后用满（当前 %.1f%%，预测范围 %d 天）"
                                   % (span, slope, kind, left, points[-1][1], horizon_days),
                        "action": u"在用满前扩容或清理，并确认增长原因",
                        "value": round(left, 1), "threshold": horizon_days})
        forecasts.append(entry)
    return {"forecasts": forecasts, "findings": findings}


FORECAST_FAMILY_ZH = {"disk_used_pct": u"磁盘使用率", "inode_used_pct": u"inode 使用率"}


def forecast_label(metric):
    """'disk_used_pct:/data' -> '磁盘使用率 /data' (the forecast table's 指标 column)."""
    family, _, subject = metric.partition(":")
    name = FORECAST_FAMILY_ZH.get(family, family)
    return (u"%s %s" % (name, subject)) if subject else name


def restore_test_findings(summary, now, max_age_days=35, required_rate=0.99):
    """Deep inspection: the newest restore test (backup_verify.yml's summary.json) is recent and passed."""
    if not summary:
        return [{"code": "BACKUP_RESTORE_TEST_MISSING", "severity": "critical", "component": "backup",
                 "host": "localhost", "platform": "-", "platform_name": NO_PLATFORM_NAME, "subject": "",
                 "message": u"没有找到任何恢复测试记录", "action": u"运行 backup_verify.yml 做一次恢复测试",
                 "value": None, "threshold": max_age_days}]
    findings = []
    age = (_run_time(now) - _run_time(summary["run"])).total_seconds() / 86400.0
    # The subject stays the same from test to test (the register keys on it); the run is in the message.
    base = {"component": "backup", "host": "localhost", "platform": "-", "platform_name": NO_PLATFORM_NAME,
            "subject": ""}
    if age > max_age_days:
        findings.append(dict(base, code="BACKUP_RESTORE_TEST_STALE", severity="warning",
                             message=u"最近一次恢复测试（%s）在 %.0f 天前（要求 %d 天内）" % (summary["run"], age, max_age_days),
                             action=u"运行 backup_verify.yml 做一次恢复测试", value=round(age, 1),
                             threshold=max_age_days))
    rate = summary.get("success_rate")
    if summary.get("verdict") != "pass" or rate is None or rate < required_rate:
        findings.append(dict(base, code="BACKUP_RESTORE_TEST_FAILED", severity="critical",
                             message=u"最近一次恢复测试（%s）未通过：成功率 %s（要求 ≥ %s），失败 %s 项"
                                     % (summary["run"], rate, required_rate, summary.get("failed")),
                             action=u"查看 reports/backup-verify/%s/report.md，修复后重新测试" % summary["run"],
                             value=rate, threshold=required_rate))
    # A passing test whose every sample was too small to project (restore_time as the role judged it with
    # inspection_report_restore_min_sample_mib): the restores work, but the restore objective is unproven.
    # A failed test is reported as such; a projected slowest path with smaller ones beside it is not a finding
    # (the report lists the ones not projected).
    restore_time = summary.get("restore_time") or {}
    if not findings or findings[-1]["code"] != "BACKUP_RESTORE_TEST_FAILED":
        if restore_time.get("status") in ("sample_too_small", "not_measured"):
            findings.append(dict(base, code="BACKUP_RESTORE_TIME_UNPROJECTED", severity="warning",
                                 message=u"最近一次恢复测试（%s）无法推算恢复用时：%s"
                                         % (summary["run"], restore_time.get("text")),
                                 action=u"做一次样本足够的恢复测量（make bench 的恢复基准，或加大 file_backup_verify_sample），"
                                        u"确认能在 %s 小时内恢复" % summary.get("objective_hours"),
                                 value=restore_time.get("restored_bytes"),
                                 threshold=restore_time.get("min_sample_bytes")))
    return findings


def failover_readiness(host_records, findings, clusters):
    """Deep inspection: can each Kingbase cluster and each cache fail over now?

    clusters: {cluster name: [member hosts]}. A cluster is ready when every member was inspected, none has
    a critical KB_ finding, and its primary reports at least one streaming standby (a kb_repl_lag_bytes
    metric). Not ready -> KB_FAILOVER_NOT_READY (critical).
    """
    by_host = {r["host"]: r for r in host_records}
    critical = {}
    for f in findings:
        if f["severity"] == "critical" and (f.get("code") or "").startswith(("KB_", "HOST_UNREACHABLE", "INSPECTION_")):
            critical.setdefault(f["host"], []).append(f["code"])
    table, out = [], []
    for name, members in sorted((clusters or {}).items()):
        reasons = []
        streaming = []
        for host in members:
            rec = by_host.get(host)
            if rec is None:
                continue
            for code in critical.get(host, []):
                reasons.append("%s: %s" % (host, code))
            for result in rec.get("results", []):
                for metric in (result.get("metrics") or {}):
                    if metric.startswith("kb_repl_lag_bytes:"):
                        streaming.append(metric.split(":", 1)[1])
        members_seen = [h for h in members if h in by_host]
        if not members_seen:
            continue
        if len(members_seen) > 1 and not streaming:
            reasons.append(u"主库没有正在同步的备库")
        ready = not reasons
        table.append({"cluster": name, "members": members_seen, "streaming": sorted(set(streaming)),
                      "ready": ready, "reasons": sorted(set(reasons))})
        if not ready:
            first = members_seen[0]
            out.append({"code": "KB_FAILOVER_NOT_READY", "severity": "critical", "component": "kingbase",
                        "host": first, "platform": by_host[first]["platform"],
                        "platform_name": by_host[first]["platform_name"], "subject": name,
                        "message": u"集群 %s 当前不具备故障切换条件：%s" % (name, u"；".join(sorted(set(reasons)))),
                        "action": u"先修复备库复制与集群状态，再进入节假日保障期",
                        "value": None, "threshold": None})
    return {"clusters": table, "findings": out}


def finding_line(finding):
    """One line per finding for the run's output."""
    subject = (" " + finding["subject"]) if finding.get("subject") else ""
    status = (" (%s)" % finding["status"]) if finding.get("status") else ""
    return u"[%s] %s %s%s: %s%s" % (finding.get("severity"), finding.get("code"), finding.get("host"), subject,
                                    finding.get("message"), status)


def inspection_counts(findings):
    counts = {"critical": 0, "warning": 0}
    for f in findings:
        counts[f["severity"]] = counts.get(f["severity"], 0) + 1
    return counts


class FilterModule(object):
    def filters(self):
        return {
            "inspection_plan": inspection_plan,
            "inspection_hosts": inspection_hosts,
            "inspection_findings": inspection_findings,
            "inspection_register": inspection_register,
            "inspection_register_status": register_status,
            "inspection_platforms": inspection_platforms,
            "inspection_metrics": inspection_metrics,
            "inspection_trends": inspection_trends,
            "inspection_svg_chart": svg_chart,
            "inspection_capacity_forecast": capacity_forecast,
            "inspection_restore_test_findings": restore_test_findings,
            "inspection_failover_readiness": failover_readiness,
            "inspection_counts": inspection_counts,
            "inspection_finding_line": finding_line,
            "inspection_error": inspection_error,
            "inspection_failure_cause": failure_cause,
            "inspection_redact": redact_secrets,
        }
