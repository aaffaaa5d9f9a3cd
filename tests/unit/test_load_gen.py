"""tools/load_gen.py: keys, unavailability arithmetic, the lost-key comparison, and runs against a local write.jsp."""
import ast
import http.server
import importlib.util
import json
import os
import pathlib
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse

import pytest

TOOL = pathlib.Path(__file__).resolve().parents[2] / "tools" / "load_gen.py"
SPEC = importlib.util.spec_from_file_location("load_gen", TOOL)
load_gen = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(load_gen)

T0 = 1700000000.0  # 2023-11-14T22:13:20Z


class FakeWriteApp(object):
    """write.jsp's contract: 200 {"status":"OK","key":k} only after k is committed, 503 when the write failed.

    behaviour(seq) picks what happens to a key: "ok", "fail" (503), "slow" (commits, answers too late),
    "wrong-body" (200 that is not write.jsp's OK) or "ack-without-commit" (a broken server: acknowledges, loses).
    """

    def __init__(self, behaviour):
        self.behaviour = behaviour
        self.table = set()
        self.answered_ok = []
        self.lock = threading.Lock()

    def handle(self, key):
        what = self.behaviour(int(key.rsplit("-", 1)[1]))
        if what in ("ok", "slow"):
            with self.lock:
                self.table.add(key)
        if what == "slow":
            time.sleep(0.5)
        if what == "fail":
            return 503, {"status": "FAILED"}
        if what == "wrong-body":
            return 200, {"status": "MAINTENANCE"}
        with self.lock:
            self.answered_ok.append(key)
        return 200, {"status": "OK", "key": key}


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        key = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)["key"][0]
        status, body = self.server.app.handle(key)
        data = json.dumps(body).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except OSError:  # the client gave up on a slow answer
            pass

    def log_message(self, *args):
        pass


@pytest.fixture(name="serve")
def fixture_serve():
    servers = []

    def serve(behaviour):
        srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        srv.daemon_threads = True
        srv.app = FakeWriteApp(behaviour)
        threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        servers.append(srv)
        return "http://127.0.0.1:%d/huaian-sample/write.jsp" % srv.server_address[1], srv.app

    yield serve
    for srv in servers:
        srv.shutdown()
        srv.server_close()


def closed_port_url():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return "http://127.0.0.1:%d/write.jsp" % port


def lines(path):
    return path.read_text().splitlines()


def run_cli(tmp_path, *extra):
    acked, out = tmp_path / "acked.txt", tmp_path / "load.json"
    argv = ["run", "--acked", str(acked), "--out", str(out), "--prefix", "t1"] + list(extra)
    rc = load_gen.main(argv)
    return rc, lines(acked), json.loads(out.read_text())


# --- pure functions -------------------------------------------------------------------------------------------

def test_keys_are_prefix_and_eight_digit_sequence():
    assert load_gen.make_key("lg1700000000", 7) == "lg1700000000-00000007"
    assert load_gen.make_key("p", 123456789) == "p-123456789"
    assert load_gen.default_prefix(T0 + 0.9) == "lg1700000000"
    assert load_gen.write_url("http://lb/w.jsp", "a-1") == "http://lb/w.jsp?key=a-1"
    assert load_gen.write_url("http://lb/w.jsp?x=1", "a 1") == "http://lb/w.jsp?x=1&key=a%201"


def test_only_write_jsps_ok_for_the_same_key_is_an_acknowledgement():
    assert load_gen.classify(200, b'{"status":"OK","key":"k-1"}\n', "k-1") == "200"
    assert load_gen.classify(200, b'{"status":"OK","key":"k-2"}', "k-1") == "200-unexpected-body"
    assert load_gen.classify(200, b"<html>maintenance</html>", "k-1") == "200-unexpected-body"
    assert load_gen.classify(200, b"[]", "k-1") == "200-unexpected-body"
    assert load_gen.classify(503, b'{"status":"FAILED"}', "k-1") == "503"


def test_longest_unavailability_runs_from_last_ack_to_next_ack():
    samples = [(T0 + 1, True), (T0 + 2, False), (T0 + 3, False), (T0 + 4.5, True),
               (T0 + 5, True), (T0 + 6, False), (T0 + 7, True), (T0 + 8, True)]
    out = load_gen.summarise_availability(samples, T0, T0 + 9)
    assert out["longest_unavailability_s"] == 3.5
    assert out["unavailability_windows"] == 2
    assert out["windows"] == [
        {"start": "2023-11-14T22:13:21.000Z", "end": "2023-11-14T22:13:24.500Z", "seconds": 3.5},
        {"start": "2023-11-14T22:13:25.000Z", "end": "2023-11-14T22:13:27.000Z", "seconds": 2.0},
    ]


def test_failing_from_the_start_and_at_the_end_count_from_start_and_to_end():
    out = load_gen.summarise_availability([(T0 + 1, False), (T0 + 2, True), (T0 + 3, False)], T0, T0 + 10)
    assert out["longest_unavailability_s"] == 8.0 and out["unavailability_windows"] == 2
    assert [w["seconds"] for w in out["windows"]] == [2.0, 8.0]
    assert out["windows"][1]["end"] == "2023-11-14T22:13:30.000Z"


def test_no_failure_no_window():
    out = load_gen.summarise_availability([(T0 + 1, True), (T0 + 2, True)], T0, T0 + 3)
    assert out == {"longest_unavailability_s": 0.0, "unavailability_windows": 0, "windows": []}


def test_only_the_longest_windows_are_kept_in_time_order_but_all_are_counted():
    samples = []
    for i in range(60):  # window i lasts 1 + i/100 s
        t = T0 + 10 * i
        samples += [(t, True), (t + 0.5, False), (t + 1 + i / 100.0, True)]
    out = load_gen.summarise_availability(samples, T0, T0 + 700, max_windows=50)
    assert out["unavailability_windows"] == 60 and len(out["windows"]) == 50
    assert [w["seconds"] for w in out["windows"]] == [round(1 + i / 100.0, 2) for i in range(10, 60)]
    assert out["longest_unavailability_s"] == 1.59


def test_write_log_counts_attempts_statuses_and_keys_with_a_fake_clock():
    log = load_gen.WriteLog(["http://a/w", "http://b/w"], "p", T0)
    log.record(T0 + 1, "p-00000001", ["200"])
    log.record(T0 + 2, "p-00000002", ["503", "timeout"])
    log.record(T0 + 3, "p-00000003", ["error", "error"])
    log.record(T0 + 4, "p-00000004", ["timeout", "200"])
    log.record(T0 + 5, "p-00000005", ["200"])
    out = log.summary(T0 + 6)
    assert out["attempts"] == 5 and out["acknowledged"] == 3 and out["failed"] == 2 and out["timeouts"] == 1
    assert out["status_counts"] == {"200": 3, "503": 1, "timeout": 2, "error": 2}
    assert out["first_ack_key"] == "p-00000001" and out["last_ack_key"] == "p-00000005"
    assert out["longest_unavailability_s"] == 3.0 and out["unavailability_windows"] == 1
    assert out["started"] == "2023-11-14T22:13:20.000Z" and out["finished"] == "2023-11-14T22:13:26.000Z"
    assert out["duration_s"] == 6.0 and out["urls"] == ["http://a/w", "http://b/w"] and out["prefix"] == "p"


def test_compare_reports_lost_keys_sorted_and_sampled():
    acked = ["k-%02d" % i for i in range(30)]
    present = ["k-%02d" % i for i in range(0, 30, 3)] + ["k-99"]
    out = load_gen.compare(acked, present)
    lost = sorted(set(acked) - set(present))
    assert out["ok"] is False and out["lost"] == 20 == len(lost)
    assert out["lost_sample"] == lost[:20] and out["lost_sample"][:3] == ["k-01", "k-02", "k-04"]
    assert out["acknowledged"] == 30 and out["present"] == 11
    assert out["unacknowledged_present"] == 1 and out["unacknowledged_present_sample"] == ["k-99"]


def test_compare_all_present_is_ok():
    out = load_gen.compare(["a", "b"], ["b", "a", "c"])
    assert out["ok"] is True and out["lost"] == 0 and out["lost_sample"] == []


def test_check_reads_whitespace_tolerant_files_and_exits_1_on_loss(tmp_path, capsys):
    acked, present, out = tmp_path / "acked", tmp_path / "present", tmp_path / "check.json"
    acked.write_text("a-1\na-2\na-3\n")
    present.write_text("  a-1 \n\n\ta-3\r\n a-9\n\n")
    assert load_gen.main(["check", "--acked", str(acked), "--present", str(present), "--out", str(out)]) == 1
    result = json.loads(out.read_text())
    assert json.loads(capsys.readouterr().out) == result
    assert result["lost"] == 1 and result["lost_sample"] == ["a-2"] and result["ok"] is False
    assert result["unacknowledged_present"] == 1 and result["present"] == 3
    present.write_text("a-1\na-2\na-3\n")
    assert load_gen.main(["check", "--acked", str(acked), "--present", str(present)]) == 0
    assert load_gen.main(["check", "--acked", str(acked), "--present", str(tmp_path / "missing")]) == 2


def test_run_keeps_the_interval_after_failures_too(tmp_path):
    now = [T0]
    slept = []

    def sleep(seconds):
        slept.append(seconds)
        now[0] += seconds

    def write(url, key, timeout):
        now[0] += 0.5  # each request takes half a second
        return "200" if key.endswith("3") else "503"

    out = load_gen.run(["http://x/w"], str(tmp_path / "acked"), lambda elapsed: elapsed >= 6, "p",
                       interval=0.25, clock=lambda: now[0], write=write, sleep=sleep)
    assert slept == [0.25] * 8 and out["attempts"] == 8 and out["acknowledged"] == 1
    assert lines(tmp_path / "acked") == ["p-00000003"]
    # The third answer arrives at 2 * 0.75 + 0.5 = 2 s; the writes fail from then to the end, at 6 s.
    assert out["longest_unavailability_s"] == 4.0 and out["unavailability_windows"] == 2


# --- runs against a local write.jsp ---------------------------------------------------------------------------

def test_run_acknowledges_exactly_the_keys_answered_200(serve, tmp_path):
    url, app = serve(lambda seq: "fail" if seq % 4 in (2, 3) else "ok")
    started = time.monotonic()
    rc, acked, out = run_cli(tmp_path, "--url", url, "--duration", "1", "--interval", "0.01")
    assert rc == 0 and time.monotonic() - started < 3
    assert acked == app.answered_ok and len(acked) >= 10
    attempts = out["attempts"]
    assert out["acknowledged"] == len(acked) and out["failed"] == attempts - len(acked) and out["timeouts"] == 0
    assert out["status_counts"] == {"200": len(acked), "503": attempts - len(acked)}
    assert acked[0] == "t1-00000001" and out["first_ack_key"] == acked[0] and out["last_ack_key"] == acked[-1]
    assert len(set(acked)) == len(acked) and all(k.startswith("t1-") and len(k) == 11 for k in acked)
    assert out["unavailability_windows"] >= 2 and 0 < out["longest_unavailability_s"] < 1
    assert out["stopped_by"] == "duration" and out["error"] is None and 1 <= out["duration_s"] < 2
    assert load_gen.compare(acked, app.table)["ok"] is True


def test_a_lost_acknowledged_write_is_found_by_check(serve, tmp_path):
    url, app = serve(lambda seq: "ack-without-commit" if seq == 3 else "ok")
    _rc, acked, _out = run_cli(tmp_path, "--url", url, "--duration", "0.3", "--interval", "0.01")
    present = tmp_path / "present.txt"
    present.write_text("\n".join(sorted(app.table)) + "\n")
    assert load_gen.main(["check", "--acked", str(tmp_path / "acked.txt"), "--present", str(present)]) == 1
    assert load_gen.compare(acked, app.table)["lost_sample"] == ["t1-00000003"]


def test_timed_out_write_is_unacknowledged_not_lost(serve, tmp_path):
    url, app = serve(lambda seq: "slow" if seq == 2 else "ok")
    _rc, acked, out = run_cli(tmp_path, "--url", url, "--duration", "0.8", "--interval", "0.01", "--timeout", "0.2")
    assert "t1-00000002" not in acked and "t1-00000002" in app.table
    assert out["timeouts"] == 1 and out["status_counts"]["timeout"] == 1
    assert out["longest_unavailability_s"] >= 0.2
    result = load_gen.compare(acked, app.table)
    assert result["ok"] is True and result["unacknowledged_present_sample"] == ["t1-00000002"]


def test_a_200_that_is_not_write_jsps_ok_is_not_acknowledged(serve, tmp_path):
    url, app = serve(lambda seq: "wrong-body" if seq % 2 else "ok")
    _rc, acked, out = run_cli(tmp_path, "--url", url, "--duration", "0.3", "--interval", "0.01")
    assert acked == app.answered_ok and all(int(k[-1]) % 2 == 0 for k in acked)
    assert out["status_counts"]["200-unexpected-body"] == out["failed"] > 0


def test_failover_tries_the_next_url_with_the_same_key(serve, tmp_path):
    url, app = serve(lambda seq: "ok")
    dead = closed_port_url()
    _rc, acked, out = run_cli(tmp_path, "--url", dead, "--url", url, "--duration", "0.3", "--interval", "0.01")
    assert acked == app.answered_ok and out["failed"] == 0 and out["acknowledged"] == out["attempts"]
    assert out["status_counts"] == {"error": out["attempts"], "200": out["attempts"]}
    assert out["urls"] == [dead, url]


def test_stop_file_ends_the_run_and_a_stale_one_is_refused(serve, tmp_path):
    url, _app = serve(lambda seq: "ok")
    stop = tmp_path / "stop"
    threading.Timer(0.3, stop.touch).start()
    rc, acked, out = run_cli(tmp_path, "--url", url, "--stop-file", str(stop), "--interval", "0.01")
    assert rc == 0 and out["stopped_by"] == "stop-file" and acked and out["duration_s"] < 2
    assert load_gen.main(["run", "--url", url, "--acked", str(tmp_path / "a2"), "--out", str(tmp_path / "o2"),
                          "--stop-file", str(stop)]) == 2
    assert not (tmp_path / "o2").exists()


def test_run_appends_to_an_existing_acked_file(serve, tmp_path):
    url, app = serve(lambda seq: "ok")
    (tmp_path / "acked.txt").write_text("earlier-00000001\n")
    _rc, acked, _out = run_cli(tmp_path, "--url", url, "--duration", "0.2", "--interval", "0.01")
    assert acked == ["earlier-00000001"] + app.answered_ok


@pytest.mark.parametrize("bad", [["--duration", "1", "--stop-file", "s"], [], ["--duration", "0"]])
def test_run_needs_exactly_one_positive_stop_condition(tmp_path, bad):
    with pytest.raises(SystemExit) as exc:
        load_gen.main(["run", "--url", "http://x/w", "--acked", str(tmp_path / "a"), "--out", str(tmp_path / "o")]
                      + bad)
    assert exc.value.code == 2


def test_bad_prefix_is_refused(tmp_path):
    assert load_gen.main(["run", "--url", "http://x/w", "--acked", str(tmp_path / "a"), "--out", str(tmp_path / "o"),
                          "--duration", "1", "--prefix", 'a"b']) == 2


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_still_writes_the_summary(serve, tmp_path, signum):
    url, app = serve(lambda seq: "ok")
    out = tmp_path / "load.json"
    proc = subprocess.Popen([sys.executable, str(TOOL), "run", "--url", url, "--acked", str(tmp_path / "acked.txt"),
                             "--out", str(out), "--stop-file", str(tmp_path / "never"), "--interval", "0.01"],
                            stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while not app.answered_ok and time.monotonic() < deadline:  # running, handlers installed
            time.sleep(0.05)
        proc.send_signal(signum)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    result = json.loads(out.read_text())
    assert result["stopped_by"] == signal.Signals(signum).name
    assert result["acknowledged"] == len(lines(tmp_path / "acked.txt")) > 0


def test_the_tool_is_executable_and_python37_syntax():
    assert os.access(TOOL, os.X_OK)
    ast.parse(TOOL.read_text(), feature_version=(3, 7))
