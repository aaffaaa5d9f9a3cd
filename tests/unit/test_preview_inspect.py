"""preview_inspect: systemctl parsing, the probe against a local HTTP server, judging, the module."""
import ast
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

import preview_inspect as mod
from ansible.module_utils import huaian_inspect_preview as hp
from conftest import ROOT

T = dict(hp.DEFAULT_THRESHOLDS)

# `systemctl show --no-pager -p Id,LoadState,... preview-yozo-preview.service preview-ofd-preview.service ...`
# (systemd 252): properties in systemd's order, one block per unit.
SYSTEMCTL_SHOW = """MainPID=4211
NRestarts=0
Result=success
Id=preview-yozo-preview.service
LoadState=loaded
ActiveState=active
SubState=running
ActiveEnterTimestamp=Thu 2026-11-26 14:02:11 UTC

MainPID=0
NRestarts=5
Result=exit-code
Id=preview-ofd-preview.service
LoadState=loaded
ActiveState=activating
SubState=auto-restart
ActiveEnterTimestamp=Thu 2026-11-26 14:02:12 UTC

MainPID=0
NRestarts=0
Result=success
Id=preview-ofd-convert.service
LoadState=not-found
ActiveState=inactive
SubState=dead
ActiveEnterTimestamp=
"""


class Stand(object):
    """Behaves like lab/media/preview's previewserver: /health?cache=required renders through the cache."""

    def __init__(self, cache="up", delay=0.0):
        self.cache, self.delay, self.hits = cache, delay, 0
        stand = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                if not self.path.startswith("/health"):
                    return self.reply(404, {}, b"not found\n")
                time.sleep(stand.delay)
                if stand.cache == "down":
                    return self.reply(503, {"X-Cache-Error": "ConnectionError"}, b"cache unavailable\n")
                if stand.cache == "broken":
                    return self.reply(500, {}, b"render failed\n")
                state = "HIT" if stand.hits and stand.cache == "up" else "MISS"
                stand.hits += 1
                return self.reply(200, {"X-Cache": state, "X-Cache-Master": "10.231.10.31:6379"}, b"<html>sample</html>")

            def reply(self, status, headers, body):
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                for k, v in headers.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = "http://127.0.0.1:%d/health?cache=required" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def stands():
    made = []

    def make(**kw):
        s = Stand(**kw)
        made.append(s)
        return s
    yield make
    for s in made:
        s.close()


ACTIVE = {"preview-yozo-preview.service": {"Id": "preview-yozo-preview.service", "ActiveState": "active",
                                           "SubState": "running", "NRestarts": "0"}}


def codes(findings):
    return [(f["code"], f["severity"], f["subject"]) for f in findings]


def test_parse_systemctl_show():
    units = hp.parse_systemctl_show(SYSTEMCTL_SHOW)
    assert sorted(units) == ["preview-ofd-convert.service", "preview-ofd-preview.service", "preview-yozo-preview.service"]
    assert units["preview-ofd-preview.service"]["SubState"] == "auto-restart"
    assert units["preview-ofd-convert.service"]["LoadState"] == "not-found"
    assert units["preview-ofd-convert.service"]["ActiveEnterTimestamp"] == ""


def test_healthy_service_renders_then_reads_back_from_the_cache(stands):
    s = stands()
    facts = hp.gather([{"kind": "yozo_preview", "unit": "preview-yozo-preview", "url": s.url}], ACTIVE, 5, True)
    e = facts["yozo_preview"]
    assert e["probe"]["status"] == 200 and e["probe"]["headers"]["X-Cache"] == "MISS"
    assert e["cache_probe"]["cache"] == "HIT"
    findings, metrics = hp.judge(facts, T, True)
    assert findings == []
    assert list(metrics) == ["preview_health_ms:yozo_preview"] and 0 <= metrics["preview_health_ms:yozo_preview"] < 2000


def test_cache_unreachable_is_its_own_critical_finding(stands):
    s = stands(cache="down")
    facts = hp.gather([{"kind": "yozo_preview", "unit": "preview-yozo-preview.service", "url": s.url}], ACTIVE, 5, True)
    assert facts["yozo_preview"]["cache_probe"] is None
    findings, metrics = hp.judge(facts, T, True)
    assert codes(findings) == [("PREVIEW_CACHE_UNAVAILABLE", "critical", "yozo_preview")]
    assert metrics == {}


def test_failed_render_refused_port_slow_probe_and_cache_miss(stands):
    broken, slow, bypass = stands(cache="broken"), stands(delay=0.3), stands(cache="miss")
    services = [{"kind": "yozo_preview", "unit": "a", "url": broken.url},
                {"kind": "ofd_preview", "unit": "b", "url": "http://127.0.0.1:9/health"},
                {"kind": "ofd_convert", "unit": "c", "url": slow.url},
                {"kind": "other", "unit": "d", "url": bypass.url}]
    facts = hp.gather(services, {}, 5, True)
    findings, metrics = hp.judge(facts, hp.merge_thresholds(T, {"health_ms_warning": 200}), True)
    assert sorted(codes(findings)) == [("PREVIEW_CACHE_MISS", "warning", "other"),
                                       ("PREVIEW_HEALTH_FAILED", "critical", "ofd_preview"),
                                       ("PREVIEW_HEALTH_FAILED", "critical", "yozo_preview"),
                                       ("PREVIEW_SLOW", "warning", "ofd_convert")]
    assert facts["ofd_preview"]["probe"]["status"] == -1 and "Connection" in facts["ofd_preview"]["probe"]["error"]
    assert metrics["preview_health_ms:ofd_convert"] >= 300 and "preview_health_ms:yozo_preview" not in metrics


def test_probe_timeout_is_a_failed_probe(stands):
    s = stands(delay=1.5)
    result = hp.probe(s.url, 0.5)
    assert result["status"] == -1 and "timed out" in result["error"]


def test_units_down_or_restarting_are_not_probed():
    units = hp.parse_systemctl_show(SYSTEMCTL_SHOW)
    units["preview-yozo-preview.service"]["NRestarts"] = "4"
    services = [{"kind": k, "unit": "preview-%s" % k.replace("_", "-"), "url": "http://127.0.0.1:9/"}
                for k in ("ofd_preview", "ofd_convert")]
    facts = hp.gather(services, units, 1, True)
    assert all(e["probe"] is None for e in facts.values())
    assert codes(hp.judge(facts, T, True)[0]) == [("PREVIEW_DOWN", "critical", "ofd_convert"),
                                                  ("PREVIEW_DOWN", "critical", "ofd_preview")]
    restarting = {"yozo_preview": {"unit": "preview-yozo-preview.service", "url": "", "probe": None, "cache_probe": None,
                                   "unit_state": units["preview-yozo-preview.service"]}}
    assert codes(hp.judge(restarting, T, True)[0]) == [("PREVIEW_RESTARTS", "warning", "yozo_preview")]


class Failed(Exception):
    pass


class FakeModule(object):
    def __init__(self, params, systemctl_out):
        self.params, self.out, self.ran = params, systemctl_out, []

    def get_bin_path(self, name):
        return "/usr/bin/" + name

    def run_command(self, args):
        self.ran.append(args)
        return 0, self.out, ""

    def fail_json(self, **kw):
        raise Failed(kw["msg"])


def test_module_runs_one_systemctl_for_every_unit(stands):
    s = stands()
    params = {"services": [{"kind": "yozo_preview", "unit": "preview-yozo-preview", "url": s.url},
                           {"kind": "ofd_convert", "unit": "preview-ofd-convert.service", "url": s.url}],
              "timeout": 5, "cache_check": True, "cache_header": "X-Cache", "thresholds": {}, "deep": False, "horizon_days": 90}
    module = FakeModule(params, SYSTEMCTL_SHOW)
    result = mod.run(module)
    assert len(module.ran) == 1 and module.ran[0][:6] == ["/usr/bin/timeout", "-k", "5", "30", "/usr/bin/systemctl", "show"]
    assert module.ran[0][-2:] == ["preview-yozo-preview.service", "preview-ofd-convert.service"]
    assert result["changed"] is False
    assert codes(result["findings"]) == [("PREVIEW_DOWN", "critical", "ofd_convert")]
    with pytest.raises(Failed, match="unknown threshold 'slow_ms'"):
        mod.run(FakeModule(dict(params, thresholds={"slow_ms": 1}), SYSTEMCTL_SHOW))
    # systemctl timed out: the unit states are unknown, both services are probed, none is reported down.
    stuck = FakeModule(params, SYSTEMCTL_SHOW)
    stuck.run_command = lambda args: (124, SYSTEMCTL_SHOW[:40], "")
    result = mod.run(stuck)
    assert all(e["unit_state"] == {} and e["probe"] for e in result["facts"].values())
    assert codes(result["findings"]) == []


@pytest.mark.parametrize("path", [ROOT / "plugins" / "modules" / "preview_inspect.py",
                                  ROOT / "plugins" / "module_utils" / "huaian_inspect_preview.py"], ids=lambda p: p.name)
def test_host_side_files_parse_as_python_3_7(path):
    ast.parse(path.read_text(), filename=str(path), feature_version=(3, 7))
