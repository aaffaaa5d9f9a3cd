"""endpoint_probe: HTTP and TCP probes against local servers (plain and self-signed TLS), judging, validation."""
import ast
import http.server
import shutil
import socket
import ssl
import subprocess
import threading
import time

import pytest

import huaian_probe as probe
from conftest import ROOT

TH = dict(probe.DEFAULT_THRESHOLDS)


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path.startswith("/slow"):
            time.sleep(0.3)
        if self.path.startswith("/hang"):
            time.sleep(2)
        code = 503 if self.path.startswith("/down") else 200
        self.send_response(code)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


def serve(srv):
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


@pytest.fixture(name="server")
def fixture_server():
    srv = serve(http.server.HTTPServer(("127.0.0.1", 0), Handler))
    yield "http://127.0.0.1:%d" % srv.server_address[1], srv.server_address[1]
    srv.shutdown()
    srv.server_close()


def closed_port():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


def app(name, **kw):
    base = {"name": name, "label": None, "component": "app", "kind": "http", "url": None, "host": None, "port": None,
            "expect_status": [200], "timeout_s": None, "warn_ms": None, "validate_certs": True}
    base.update(kw)
    return base


def codes(findings):
    return sorted((f["code"], f["severity"], f["subject"]) for f in findings)


def test_reachable_endpoints_have_no_findings(server):
    url, port = server
    probes = [app("qianshao", label="淮委前哨", url=url + "/health"),
              app("sms", component="sms", kind="tcp", host="127.0.0.1", port=port)]
    facts, metrics, findings = probe.inspect(probes, {})
    assert findings == []
    assert facts["probes"]["qianshao"]["status"] == 200
    assert set(metrics) == {"probe_ms:qianshao", "probe_up:qianshao", "probe_ms:sms", "probe_up:sms"}
    assert metrics["probe_up:sms"] == 1 and metrics["probe_ms:qianshao"] < 2000


def test_unreachable_wrong_status_and_slow(server):
    url, _port = server
    dead = closed_port()
    probes = [app("down", url=url + "/down"),
              app("accepts-503", url=url + "/down", expect_status=[200, 503]),
              app("refused", url="http://127.0.0.1:%d/" % dead),
              app("slow", url=url + "/slow", warn_ms=100),
              app("hang", url=url + "/hang", timeout_s=0.5),
              app("sms", component="sms", kind="tcp", host="127.0.0.1", port=dead)]
    facts, metrics, findings = probe.inspect(probes, {})
    assert codes(findings) == [("APP_SLOW", "warning", "slow"), ("APP_UNREACHABLE", "critical", "down"),
                               ("APP_UNREACHABLE", "critical", "hang"), ("APP_UNREACHABLE", "critical", "refused"),
                               ("SMS_UNREACHABLE", "critical", "sms")]
    by = dict((f["subject"], f) for f in findings)
    assert "503" in by["down"]["message"] and by["down"]["value"] == 503
    assert facts["probes"]["refused"]["error_kind"] == "refused"
    assert facts["probes"]["hang"]["error_kind"] == "timeout"
    assert metrics["probe_up:sms"] == 0 and "probe_ms:sms" not in metrics
    assert by["slow"]["value"] >= 300 and by["slow"]["threshold"] == 100


@pytest.fixture(name="tls_server")
def fixture_tls_server(tmp_path):
    if not shutil.which("openssl"):
        pytest.skip("openssl not installed")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30", "-subj", "/CN=127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    srv = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(str(cert), str(key))
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    serve(srv)
    yield "https://127.0.0.1:%d/health" % srv.server_address[1]
    srv.shutdown()
    srv.server_close()


def test_self_signed_certificate_is_reported(tls_server):
    facts, _m, findings = probe.inspect([app("tls", url=tls_server, timeout_s=3)], {})
    assert codes(findings) == [("APP_UNREACHABLE", "critical", "tls")]
    assert facts["probes"]["tls"]["error_kind"] == "tls_certificate"
    assert "证书" in findings[0]["message"] and "证书" in findings[0]["action"]
    _f, _m, findings = probe.inspect([app("tls", url=tls_server, timeout_s=3, validate_certs=False)], {})
    assert findings == []


def test_deep_mode_certificate_horizon():
    now = 1_800_000_000
    p = app("x", url="https://m.example/health")
    result = {"status": 200, "ms": 10, "error_kind": None, "error": None, "cert_not_after": now + 30 * 86400}
    findings, metrics = probe.judge(p, result, TH, deep=True, horizon_days=90, now=now)
    assert codes(findings) == [("APP_CERT_EXPIRING", "warning", "x")] and metrics["probe_cert_days:x"] == 30
    findings, _m = probe.judge(p, result, TH, deep=False, now=now)
    assert findings == []
    findings, _m = probe.judge(p, dict(result, cert_not_after=now + 200 * 86400), TH, deep=True, horizon_days=90, now=now)
    assert findings == []


def test_invalid_probes_and_thresholds_are_errors():
    with pytest.raises(ValueError) as err:
        probe.inspect([app("a", url=""), app("a", url="http://h/"), app("t", kind="tcp", host="h")], {})
    text = str(err.value)
    assert "probe a: kind http needs url" in text and "probe a: duplicate name" in text and "probe t: kind tcp needs host and port" in text
    with pytest.raises(ValueError, match="unknown threshold 'warn'"):
        probe.inspect([], {"warn": 1})


def test_target_password_is_masked():
    assert probe.display_target({"url": "https://u:secret@h/x"}) == "https://u:******@h/x"


@pytest.mark.parametrize("path", [ROOT / "plugins" / "modules" / "endpoint_probe.py",
                                  ROOT / "plugins" / "module_utils" / "huaian_probe.py"], ids=lambda p: p.name)
def test_python_3_7_syntax(path):
    ast.parse(path.read_text(), filename=str(path), feature_version=(3, 7))
