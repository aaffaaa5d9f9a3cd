"""tools/http_probe.py: how a probe's answer is classified, and the outage, gap and load arithmetic."""
import http.client
import http.server
import importlib.util
import json
import pathlib
import socket
import threading
import time
import urllib.error

import pytest

SPEC = importlib.util.spec_from_file_location(
    "http_probe", pathlib.Path(__file__).resolve().parents[2] / "tools" / "http_probe.py")
http_probe = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(http_probe)

A, B = "http://a/h", "http://b/h"


def test_rolling_restart_keeps_the_service_up():
    samples = [(1, A, "ok", "1"), (1.1, B, "ok", "1"), (2, A, "refused", None), (2.1, B, "ok", "1"),
               (3, A, "refused", None), (3.1, B, "ok", "1"), (4, A, "ok", "2"), (4.1, B, "refused", None),
               (5, A, "ok", "2"), (5.1, B, "ok", "2")]
    out = http_probe.summarise(samples, [A, B], 0, 6)
    assert out["service_longest_gap_s"] == 0 and out["service_gaps"] == 0 and out["service_gap_windows"] == []
    assert out["service_longest_unanswered_s"] == 0
    assert out["urls"][A] == {"probes": 5, "failures": 2, "timeouts": 0, "versions": ["1", "2"],
                              "kinds": {"ok": 3, "status": 0, "refused": 2, "error": 0, "timeout": 0},
                              "longest_outage_s": 3.0, "outages": 1, "longest_unanswered_s": 3.0,
                              "answer_ms_max": None, "answer_ms_p95": None}
    assert out["urls"][B]["longest_outage_s"] == 2.0 and out["urls"][B]["versions"] == ["1", "2"]


def test_both_refusing_is_a_service_gap_measured_from_last_success():
    samples = [(1, A, "ok", None), (1, B, "ok", None), (2, A, "refused", None), (2, B, "refused", None),
               (3, A, "refused", None), (3, B, "refused", None), (4, A, "ok", None)]
    out = http_probe.summarise(samples, [A, B], 0, 5)
    # B counted as up until its own refused probe at t=2: the gap runs from 2 (A's last sample while B
    # was still up) to 4.
    assert out["service_longest_gap_s"] == 2.0 and out["service_gaps"] == 1
    assert out["service_gap_windows"] == [[2, 4]]


def test_an_error_status_is_down_like_a_refusal():
    # A restarts (refused); B answers 503 (its pool cannot reach the database): nobody serves.
    samples = [(1, A, "ok", None), (1.1, B, "ok", None), (2, A, "refused", None), (2.2, B, "status", None),
               (2.5, A, "refused", None), (2.7, B, "ok", None), (3, A, "ok", None)]
    out = http_probe.summarise(samples, [A, B], 0, 4)
    assert out["service_gaps"] == 1 and out["service_longest_gap_s"] == 0.7
    assert out["urls"][B]["failures"] == 1 and out["urls"][B]["outages"] == 1


def test_a_late_answer_while_the_other_node_restarts_is_no_gap():
    # The failed run's shape: A restarting, B's probe timed out once (a busy machine), B answers again.
    # The old arithmetic made this a 0.45 s service gap and a second outage of B.
    samples = [(1, A, "ok", "1"), (1.1, B, "ok", "1"), (2, A, "refused", None), (2.1, B, "ok", "1"),
               (2.5, A, "refused", None), (4.1, B, "timeout", None), (4.3, A, "refused", None),
               (4.55, B, "ok", "1"), (5, A, "ok", "2"), (5.1, B, "ok", "1")]
    out = http_probe.summarise(samples, [A, B], 0, 6)
    assert out["service_longest_gap_s"] == 0 and out["service_gaps"] == 0
    assert out["urls"][B]["outages"] == 0 and out["urls"][B]["failures"] == 0 and out["urls"][B]["timeouts"] == 1
    assert out["urls"][B]["longest_outage_s"] == 0
    # Beside it, the window in which no node answered 200, for whatever reason: from A's refusal at 2.5
    # (B still counted as answering) to B's next 200 at 4.55.
    assert out["service_longest_unanswered_s"] == 2.05 and out["service_unanswered_windows"] == 1
    assert out["urls"][B]["longest_unanswered_s"] == 2.45


def test_late_answers_keep_a_down_node_down():
    # Both refusing; B's next probe times out, then refuses again: one unbroken gap until A serves.
    samples = [(1, A, "ok", None), (1.1, B, "ok", None), (2, A, "refused", None), (2.1, B, "refused", None),
               (3, A, "refused", None), (4.1, B, "timeout", None), (4.5, B, "refused", None), (5, A, "ok", None)]
    out = http_probe.summarise(samples, [A, B], 0, 6)
    assert out["service_gaps"] == 1 and out["service_longest_gap_s"] == 3.0
    assert out["service_gap_windows"] == [[2, 5]]
    assert out["urls"][B]["outages"] == 1 and out["urls"][B]["longest_outage_s"] == 4.9


def test_an_outage_still_open_at_the_end_counts_to_the_end():
    out = http_probe.summarise([(1, A, "ok", None), (2, A, "refused", None)], [A], 0, 10)
    assert out["urls"][A]["longest_outage_s"] == 9.0 and out["urls"][A]["outages"] == 1
    assert out["service_longest_gap_s"] == 9.0 and out["service_gap_windows"] == [[1, 10]]


def test_answer_times_leave_out_timeouts():
    samples = [(1, A, "ok", None, 0.010), (2, A, "ok", None, 0.030), (3, A, "status", None, 0.020),
               (5, A, "timeout", None, 2.0)]
    rec = http_probe.summarise(samples, [A], 0, 6)["urls"][A]
    assert rec["answer_ms_max"] == 30.0 and rec["answer_ms_p95"] == 30.0 and rec["timeouts"] == 1


def test_a_sample_without_a_known_kind_is_refused():
    with pytest.raises(ValueError, match="kind True is not one of ok, status, refused, error, timeout"):
        http_probe.summarise([(1, A, True, None)], [A], 0, 2)


def test_load_figures():
    out = http_probe.summarise_load([(0, (1.5, 1.0, 0.5)), (1, (4.25, 2.0, 1.0)), (2, (3.0, 2.2, 1.1))],
                                    [0.001, 0.002, 0.0015, 0.9])
    assert out == {"loadavg_start": [1.5, 1.0, 0.5], "loadavg_end": [3.0, 2.2, 1.1], "loadavg_1m_max": 4.25,
                   "probe_lateness_ms_max": 900.0, "probe_lateness_ms_p95": 900.0, "probe_ticks": 4}
    assert http_probe.summarise_load([], [])["probe_lateness_ms_max"] is None


def test_percentile_is_nearest_rank():
    values = list(range(1, 101))
    assert http_probe.percentile(values, 95) == 95 and http_probe.percentile([7], 95) == 7
    assert http_probe.percentile([], 95) is None


@pytest.mark.parametrize("exc, kind", [
    (urllib.error.URLError(ConnectionRefusedError(111, "Connection refused")), "refused"),
    (ConnectionResetError(104, "Connection reset by peer"), "refused"),
    (http.client.RemoteDisconnected("Remote end closed connection without response"), "refused"),
    (urllib.error.URLError(socket.timeout("timed out")), "timeout"),
    (socket.timeout("timed out"), "timeout"),
    (urllib.error.URLError(socket.gaierror(-2, "Name or service not known")), "error"),
    (http.client.BadStatusLine("garbage"), "error"),
])
def test_exceptions_are_classified(exc, kind):
    assert http_probe.classify_exception(exc) == kind


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (the http.server name)
        if self.path == "/slow":
            time.sleep(1.0)
        code = 503 if self.path == "/down" else 200
        body = json.dumps({"server_version": "9.5"}).encode()
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture()
def server():
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    srv.daemon_threads = True
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield "http://127.0.0.1:%d" % srv.server_address[1]
    srv.shutdown()
    srv.server_close()


def _closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_probe_tells_answers_refusals_and_timeouts_apart(server):
    assert http_probe.probe(server + "/ok", 2) == ("ok", 200, "9.5")
    assert http_probe.probe(server + "/down", 2) == ("status", 503, None)
    assert http_probe.probe(server + "/slow", 0.2) == ("timeout", None, None)
    assert http_probe.probe("http://127.0.0.1:%d/" % _closed_port(), 2) == ("refused", None, None)


def test_main_writes_the_figures_and_the_load(server, tmp_path):
    out = tmp_path / "probe.json"
    down = "http://127.0.0.1:%d/" % _closed_port()
    assert http_probe.main(["--interval", "0.05", "--duration", "0.6", "--out", str(out), server + "/ok", down]) == 0
    result = json.loads(out.read_text())
    assert result["urls"][server + "/ok"]["kinds"]["ok"] >= 3 and result["urls"][down]["kinds"]["refused"] >= 3
    assert result["urls"][down]["outages"] == 1 and result["service_longest_gap_s"] == 0
    assert result["timeout_s"] == 2.0 and result["interval_s"] == 0.05
    assert result["load"]["probe_ticks"] >= 3 and result["load"]["probe_lateness_ms_max"] >= 0
    assert len(result["load"]["loadavg_start"]) == 3
