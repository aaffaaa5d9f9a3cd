"""bes_inspect: process lookup, heap (hsperfdata and jcmd of real OpenJDK 17 JVMs), listeners, health, logs."""
import ast
import http.server
import os
import threading
import time

import pytest

import huaian_inspect_bes as bes
from conftest import ROOT

FIX = ROOT / "tests" / "fixtures" / "bes_inspect"
ROOT_DIR = "/opt/BES/instances/server"
JAVA_ARGS = ["/usr/lib/jvm/java-17-openjdk-amd64/bin/java", "-server", "-Xms256m", "-Xmx256m", "-XX:+UseG1GC",
             "-Dcom.bes.instanceRoot=" + ROOT_DIR, "-Dcatalina.base=" + ROOT_DIR,
             "org.apache.catalina.startup.Bootstrap", "start"]
# /proc/net/tcp of a BES node: 18080 on 0.0.0.0 (inode 5001), 1900 on 127.0.0.1 (5002), an established
# JDBC connection (5003) and sshd's listener (9999, not the server's).
NET_TCP = """  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000:46A0 00000000:0000 0A 00000000:00000000 00:00000000 00000000   998        0 5001 1 0000000000000000 100 0 0 10 0
   1: 0100007F:076C 00000000:0000 0A 00000000:00000000 00:00000000 00000000   998        0 5002 1 0000000000000000 100 0 0 10 0
   2: 150AE70A:A1B2 0B0AE70A:D431 01 00000000:00000000 02:00000ABC 00000000   998        0 5003 2 0000000000000000 20 4 30 10 -1
   3: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 9999 1 0000000000000000 100 0 0 10 0
"""
NET_TCP6 = """  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000000000000:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000   998        0 5004 1 0000000000000000 100 0 0 10 0
"""
OPTIONS = {"error_pattern": "ERROR|SEVERE|OutOfMemoryError", "oom_pattern": "OutOfMemoryError",
           "file_pattern": r"\.(log|out|txt)(\.[0-9]+)?$", "keep": 3, "attach": False}


def make_proc(tmp_path, pid, args, uid, sockets=(), net_tcp=NET_TCP, net_tcp6=NET_TCP6):
    proc = tmp_path / "proc"
    d = proc / str(pid)
    (d / "fd").mkdir(parents=True)
    (d / "net").mkdir()
    (d / "cmdline").write_bytes(b"\0".join(a.encode() for a in args) + b"\0")
    (d / "status").write_text("Name:\tjava\nUid:\t%d\t%d\t%d\t%d\nNSpid:\t%d\n" % (uid, uid, uid, uid, pid))
    for n, inode in enumerate(sockets):
        os.symlink("socket:[%d]" % inode, str(d / "fd" / str(10 + n)))
    os.symlink("/dev/null", str(d / "fd" / "0"))
    (d / "net" / "tcp").write_text(net_tcp)
    (d / "net" / "tcp6").write_text(net_tcp6)
    return proc


def hsperf_dir(tmp_path, user, pid, fixture="hsperfdata-g1-openjdk17"):
    tmp = tmp_path / "tmp"
    (tmp / ("hsperfdata_" + user)).mkdir(parents=True)
    (tmp / ("hsperfdata_" + user) / str(pid)).write_bytes((FIX / fixture).read_bytes())
    return [str(tmp)]


def instance(tmp_path, **over):
    log_dir = tmp_path / "logs"
    log_dir.mkdir(exist_ok=True)
    base = {"name": "server", "service": None, "pid_file": None, "instance_root": ROOT_DIR, "user": "root",
            "log_dir": str(log_dir), "listeners": [{"name": "http-listener-1", "port": 18080},
                                                   {"name": "admin console", "port": 1900, "severity": "warning"}],
            "health_url": None, "health_expect": None}
    base.update(over)
    return base


def codes(findings):
    return sorted((f["code"], f["severity"]) for f in findings)


# --- heap ---------------------------------------------------------------------------------------

def test_hsperfdata_of_a_real_g1_jvm_matches_jcmd():
    counters = bes.parse_hsperfdata((FIX / "hsperfdata-g1-openjdk17").read_bytes())
    heap = bes.heap_from_counters(counters)
    assert heap["gc"] == "GarbageFirst"
    assert heap["max"] == 256 * 1024 * 1024  # -Xmx256m from java.rt.vmArgs
    # jcmd GC.heap_info of the same JVM a moment later: used 12861K..12963K
    assert 12000 * 1024 < heap["used"] < 13500 * 1024
    assert heap["old_used"] == 3214848
    assert heap["old_max"] == heap["max"]  # G1: the old generation may take the whole heap


def test_hsperfdata_max_from_generations_without_xmx():
    g1 = bes.parse_hsperfdata((FIX / "hsperfdata-g1-openjdk17").read_bytes())
    g1["java.rt.vmArgs"] = ""
    # G1 reports the whole heap as each generation's maximum: not summed.
    assert abs(bes.heap_from_counters(g1)["max"] - 256 * 1024 * 1024) < 1024
    par = bes.parse_hsperfdata((FIX / "hsperfdata-parallel-openjdk17").read_bytes())
    assert par["sun.gc.policy.name"] == "ParScav:MSC"
    par["java.rt.vmArgs"] = ""
    assert bes.heap_from_counters(par)["max"] == 128 * 1024 * 1024  # young + old = -Xmx128m
    # Parallel: the old generation has its own maximum (2/3 of the heap), not the whole heap.
    assert bes.heap_from_counters(par)["old_max"] == 89653248


def test_hsperfdata_rejects_other_files():
    with pytest.raises(ValueError):
        bes.parse_hsperfdata(b"\x00" * 64)


def test_jcmd_heap_info_g1_and_parallel():
    g1 = bes.parse_jcmd_heap_info((FIX / "jcmd-heap-info-g1.txt").read_text())
    assert g1 == {"used": 12963 * 1024, "committed": 67584 * 1024, "max": None}
    par = bes.parse_jcmd_heap_info((FIX / "jcmd-heap-info-parallel.txt").read_text())
    assert par["used"] == (19970 + 0) * 1024 and par["committed"] == (38400 + 87552) * 1024
    zgc = bes.parse_jcmd_heap_info(" ZHeap           used 40M, capacity 64M, max capacity 256M\n")
    assert zgc["max"] == 256 * 1048576 and zgc["used"] == 40 * 1048576
    assert bes.parse_jcmd_heap_info("15544:\nCommand not found\n") is None


def test_max_heap_from_args_last_wins():
    assert bes.max_heap_from_args(["-Xmx1g", "-XX:MaxHeapSize=512m"]) == 512 * 1048576
    assert bes.max_heap_from_args(["-Xms256m"]) is None


# --- process and listeners ----------------------------------------------------------------------

def test_find_instance_ignores_wrappers_and_other_instances(tmp_path):
    proc = make_proc(tmp_path, 412, JAVA_ARGS, 0)
    make_proc(tmp_path, 411, ["runuser", "-u", "bes", "--"] + JAVA_ARGS, 0)
    make_proc(tmp_path, 500, [JAVA_ARGS[0], "-Dcom.bes.instanceRoot=/opt/BES/instances/other"], 0)
    assert bes.find_instance_pids(str(proc), ROOT_DIR + "/") == [412]


def test_listeners_are_the_process_sockets_only(tmp_path):
    proc = make_proc(tmp_path, 412, JAVA_ARGS, 0, sockets=[5001, 5002, 5003, 5004])
    assert bes.process_listeners(str(proc), 412) == [
        {"address": "127.0.0.1", "port": 1900, "matched": "fd"}, {"address": "::", "port": 8080, "matched": "fd"},
        {"address": "0.0.0.0", "port": 18080, "matched": "fd"}]


def test_listeners_by_owner_when_fd_links_are_unreadable(tmp_path, monkeypatch):
    # Root without CAP_SYS_PTRACE (an unprivileged container) cannot read another user's fd links.
    proc = make_proc(tmp_path, 412, JAVA_ARGS, 0, sockets=[5001])

    def denied(path):
        raise OSError(13, "Permission denied", path)

    monkeypatch.setattr(bes.os, "readlink", denied)
    real_stat = os.stat

    class Owner:
        st_uid = 998

    monkeypatch.setattr(bes.os, "stat", lambda p: Owner() if p == os.path.join(str(proc), "412") else real_stat(p))
    assert bes.process_listeners(str(proc), 412) == [
        {"address": "127.0.0.1", "port": 1900, "matched": "uid"}, {"address": "::", "port": 8080, "matched": "uid"},
        {"address": "0.0.0.0", "port": 18080, "matched": "uid"}]


def test_systemd_main_pid():
    assert bes.parse_systemd_main_pid("MainPID=412\n") == 412
    assert bes.parse_systemd_main_pid("MainPID=0\n") == 0


# --- logs ---------------------------------------------------------------------------------------

def stamp(t):
    return time.strftime("%d-%b-%Y %H:%M:%S", time.localtime(t)) + ".123"


def test_logs_count_last_day_only_and_redact(tmp_path):
    now = time.time()
    log = tmp_path / "server.log"
    log.write_text("\n".join([
        stamp(now - 3 * 86400) + " SEVERE [main] old failure",
        stamp(now - 3 * 86400 + 1) + " INFO [main] started",
        stamp(now - 3600) + " INFO [main] Deploying huaian-sample",
        stamp(now - 1800) + " SEVERE [http-nio-18080-exec-1] pool error url=jdbc:kingbase8://app:S3cret@10.0.0.1/db password=hunter2",
        "java.lang.OutOfMemoryError: Java heap space",
        "\tat com.example.Foo.bar(Foo.java:12)",
        time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(now - 60)) + " ERROR token: abc123 failed",
    ]) + "\n")
    (tmp_path / "gc.log.0").write_text("[2.1s][info][gc] Pause Young (Normal) 24M->3M(256M) 2.1ms\n")
    old = tmp_path / "server.log.1"
    old.write_text(stamp(now - 5 * 86400) + " SEVERE x\n")
    os.utime(str(old), (now - 5 * 86400, now - 5 * 86400))
    (tmp_path / "heapdump").mkdir()
    (tmp_path / "heapdump" / "java_pid412.hprof").write_bytes(b"JAVA PROFILE 1.0.2\0")
    out = bes.scan_log_dir(str(tmp_path), OPTIONS["error_pattern"], OPTIONS["oom_pattern"], OPTIONS["file_pattern"], now, keep=2)
    assert out["errors_24h"] == 3  # the SEVERE, the OOM line, the ERROR; not the 3-day-old SEVERE, not server.log.1
    assert out["oom_24h"] == 1
    assert out["heap_dumps_24h"] == [str(tmp_path / "heapdump" / "java_pid412.hprof")]
    assert sorted(os.path.basename(f) for f in out["files_24h"]) == ["gc.log.0", "server.log"]
    assert out["bytes"] == sum(p.stat().st_size for p in tmp_path.rglob("*") if p.is_file())
    text = " ".join(out["last_errors"])
    assert len(out["last_errors"]) == 2 and "OutOfMemoryError" in out["last_errors"][0]
    assert "abc123" not in text and "token: ******" in text
    bes_all = bes.scan_log_dir(str(tmp_path), OPTIONS["error_pattern"], OPTIONS["oom_pattern"], OPTIONS["file_pattern"], now, keep=5)
    joined = " ".join(bes_all["last_errors"])
    assert "S3cret" not in joined and "hunter2" not in joined and "app:******@" in joined


def test_clean_logs_and_missing_dir(tmp_path):
    now = time.time()
    (tmp_path / "server.log").write_text(stamp(now - 60) + " INFO [main] Server startup in [2345] milliseconds\n")
    out = bes.scan_log_dir(str(tmp_path), OPTIONS["error_pattern"], OPTIONS["oom_pattern"], OPTIONS["file_pattern"], now)
    assert (out["errors_24h"], out["oom_24h"], out["last_errors"]) == (0, 0, [])
    assert bes.scan_log_dir(str(tmp_path / "nope"), "E", "O", "log", now)["exists"] is False


def test_redact():
    assert bes.redact('password="x1" pwd=y2 Authorization: Basic dXNlcjpw') == 'password="******" pwd=****** Authorization: Basic ******'


# --- whole instance -----------------------------------------------------------------------------

class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path.startswith("/slow"):
            time.sleep(0.3)
        code = 503 if self.path.startswith("/down") else 200
        body = b'{"db":"ok"}' if code == 200 else b'{"db":"error"}'
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(name="server")
def fixture_server():
    srv = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield "http://127.0.0.1:%d" % srv.server_address[1]
    srv.shutdown()
    srv.server_close()


def test_healthy_instance_has_no_findings(tmp_path, server):
    proc = make_proc(tmp_path, 412, JAVA_ARGS, 0, sockets=[5001, 5002])
    inst = instance(tmp_path, health_url=server + "/huaian-sample/health.jsp", health_expect='"db":"ok"')
    facts, metrics, findings = bes.inspect([inst], {}, OPTIONS, proc=str(proc), tmp_dirs=hsperf_dir(tmp_path, "root", 412))
    assert findings == []
    one = facts["instances"]["server"]
    assert one["process"]["pid"] == 412 and one["process"]["user"] == "root"
    assert one["heap"]["source"] == "hsperfdata" and one["heap"]["used_pct"] == 4.7
    # Both figures are reported; the old generation's occupancy (3214848 / 256 MiB) is the judged one.
    assert one["heap"]["old_used_pct"] == 1.2 and one["heap"]["judged"] == "old_gen" and one["heap"]["judged_pct"] == 1.2
    assert metrics["bes_heap_used_pct:server"] == 1.2 and metrics["bes_log_errors_24h:server"] == 0
    assert set(metrics) == {"bes_heap_used_pct:server", "bes_log_errors_24h:server", "bes_log_bytes:server", "bes_health_ms:server"}


def test_faults_are_findings(tmp_path, server):
    proc = make_proc(tmp_path, 412, JAVA_ARGS, 0, sockets=[5002])  # 18080 not listening
    inst = instance(tmp_path, user="bes", health_url=server + "/down")
    facts, _m, findings = bes.inspect([inst], {"heap_used_pct_warning": 1, "heap_used_pct_critical": 1.1}, OPTIONS,
                                      proc=str(proc), tmp_dirs=hsperf_dir(tmp_path, "root", 412))
    assert codes(findings) == [("BES_HEALTH_FAILED", "critical"), ("BES_HEAP_HIGH", "critical"),
                               ("BES_LISTENER_MISSING", "critical"), ("BES_WRONG_USER", "critical")]
    assert facts["instances"]["server"]["health"]["status"] == 503
    missing = [f for f in findings if f["code"] == "BES_LISTENER_MISSING"][0]
    assert missing["subject"] == "server:18080" and "18080" in missing["message"]
    high = [f for f in findings if f["code"] == "BES_HEAP_HIGH"][0]
    assert high["value"] == 1.2 and "老年代占用率 1.2%" in high["message"] and "4.7%" in high["message"]


MB = 1048576


def heap_of(monkeypatch, heap, source="hsperfdata"):
    monkeypatch.setattr(bes, "read_heap", lambda *a, **k: (dict(heap), source) if source == "hsperfdata" else (None, None))


def test_full_eden_before_a_young_gc_is_not_a_finding(tmp_path, monkeypatch):
    # A healthy G1 JVM just before a young GC: eden has filled the heap (97 % used), the old generation holds 10 %.
    proc = make_proc(tmp_path, 412, JAVA_ARGS, 0, sockets=[5001, 5002])
    heap_of(monkeypatch, {"used": 248 * MB, "committed": 256 * MB, "max": 256 * MB, "old_used": 26 * MB,
                          "old_max": 256 * MB, "gc": "GarbageFirst"})
    facts, metrics, findings = bes.inspect([instance(tmp_path)], {}, OPTIONS, proc=str(proc))
    heap = facts["instances"]["server"]["heap"]
    assert heap["used_pct"] == 96.9 and heap["old_used_pct"] == 10.2 and heap["judged"] == "old_gen"
    assert findings == [] and metrics["bes_heap_used_pct:server"] == 10.2


def test_old_generation_near_its_maximum_is_critical(tmp_path, monkeypatch):
    # Parallel: the old generation (its own maximum, 2/3 of the heap) is full though total use is under 85 %.
    proc = make_proc(tmp_path, 412, JAVA_ARGS, 0, sockets=[5001, 5002])
    heap_of(monkeypatch, {"used": 200 * MB, "committed": 256 * MB, "max": 256 * MB, "old_used": 165 * MB,
                          "old_max": 170 * MB, "gc": "ParScav:MSC"})
    _f, metrics, findings = bes.inspect([instance(tmp_path)], {}, OPTIONS, proc=str(proc))
    assert codes(findings) == [("BES_HEAP_HIGH", "critical")]
    assert findings[0]["value"] == 97.1 == metrics["bes_heap_used_pct:server"]
    assert "老年代占用率 97.1%" in findings[0]["message"] and "165 MB / 上限 170 MB" in findings[0]["message"]
    assert "78.1%" in findings[0]["message"]  # total use, for context


def test_total_use_is_judged_when_old_generation_is_missing(tmp_path, monkeypatch):
    # jcmd GC.heap_info of a G1 JVM names no old generation: total use is all there is.
    proc = make_proc(tmp_path, 412, JAVA_ARGS, 0, sockets=[5001, 5002])
    heap_of(monkeypatch, None, source=None)
    jcmd = bes.parse_jcmd_heap_info((FIX / "jcmd-heap-info-g1.txt").read_text())
    jcmd.update(used=230 * MB, max=256 * MB)
    monkeypatch.setattr(bes, "jcmd_heap", lambda *a: dict(jcmd))
    facts, metrics, findings = bes.inspect([instance(tmp_path)], {}, dict(OPTIONS, attach=True), proc=str(proc),
                                           run=lambda cmd: (1, "", ""))
    heap = facts["instances"]["server"]["heap"]
    assert heap["source"] == "jcmd" and heap["old_used_pct"] is None
    assert heap["judged"] == "total" and heap["judged_pct"] == heap["used_pct"] == 89.8
    assert codes(findings) == [("BES_HEAP_HIGH", "warning")] and metrics["bes_heap_used_pct:server"] == 89.8
    assert "堆总使用率 89.8%" in findings[0]["message"] and "jcmd 未提供老年代数据" in findings[0]["message"]


def test_down_instance_and_slow_health(tmp_path, server):
    proc = make_proc(tmp_path, 500, [JAVA_ARGS[0], "-Dcom.bes.instanceRoot=/elsewhere"], 0)
    _f, metrics, findings = bes.inspect([instance(tmp_path)], {}, OPTIONS, proc=str(proc), tmp_dirs=[])
    assert codes(findings) == [("BES_DOWN", "critical")]
    assert "bes_heap_used_pct:server" not in metrics
    proc = make_proc(tmp_path / "b", 412, JAVA_ARGS, 0, sockets=[5001, 5002])
    _f, _m, findings = bes.inspect([instance(tmp_path, health_url=server + "/slow")], {"health_warning_ms": 100}, OPTIONS,
                                   proc=str(proc), tmp_dirs=[])
    assert codes(findings) == [("BES_HEALTH_SLOW", "warning"), ("BES_HEAP_UNKNOWN", "warning")]


def test_log_findings(tmp_path):
    now = time.time()
    proc = make_proc(tmp_path, 412, JAVA_ARGS, 0, sockets=[5001, 5002])
    inst = instance(tmp_path)
    (tmp_path / "logs" / "server.log").write_text(stamp(now - 10) + " SEVERE java.lang.OutOfMemoryError: Java heap space\n"
                                                  + "x" * 3 * 1048576 + "\n")
    _f, metrics, findings = bes.inspect([inst], {"log_dir_mb_warning": 2, "log_dir_mb_critical": 10}, OPTIONS,
                                        proc=str(proc), tmp_dirs=hsperf_dir(tmp_path, "root", 412), now=now)
    assert codes(findings) == [("BES_LOG_DISK", "warning"), ("BES_LOG_ERRORS", "warning"), ("BES_LOG_OOM", "critical")]
    assert metrics["bes_log_errors_24h:server"] == 1 and metrics["bes_log_bytes:server"] > 3 * 1048576


class FakeModule:
    def __init__(self, answer, have=("timeout",)):
        self.answer, self.have, self.ran = answer, have, []

    def get_bin_path(self, name, opt_dirs=None):
        return "/usr/bin/" + name if name in self.have else None

    def run_command(self, args, environ_update=None):
        self.ran.append(args)
        return self.answer


def test_commands_are_bounded_and_a_timeout_is_no_answer(tmp_path):
    import bes_inspect
    module = FakeModule((124, "MainPID=412\n", ""))
    run = bes_inspect.runner(module)
    rc, out, err = run(["systemctl", "show", "-p", "MainPID", "bes-server"])
    assert module.ran == [["/usr/bin/timeout", "-k", "5", "30", "systemctl", "show", "-p", "MainPID", "bes-server"]]
    assert rc == 124 and out == "" and "timed out" in err
    # A stuck systemctl leaves the instance to be found by its command line, not a crash.
    proc = make_proc(tmp_path, 412, JAVA_ARGS, 0)
    assert bes.locate_process(str(proc), {"instance_root": ROOT_DIR, "service": "bes-server"}, run) == (412, [412], 0)
    # Without coreutils timeout the command runs as it is.
    plain = FakeModule((0, "MainPID=412\n", ""), have=())
    assert bes_inspect.runner(plain)(["systemctl", "show"]) == (0, "MainPID=412\n", "")
    assert plain.ran == [["systemctl", "show"]]


def test_thresholds_are_checked():
    with pytest.raises(ValueError, match="unknown threshold 'heap_pct'"):
        bes.inspect([], {"heap_pct": 3}, OPTIONS)
    with pytest.raises(ValueError, match="must be a number"):
        bes.inspect([], {"heap_used_pct_warning": "lots"}, OPTIONS)


@pytest.mark.parametrize("path", [ROOT / "plugins" / "modules" / "bes_inspect.py",
                                  ROOT / "plugins" / "module_utils" / "huaian_inspect_bes.py"], ids=lambda p: p.name)
def test_python_3_7_syntax(path):
    ast.parse(path.read_text(), filename=str(path), feature_version=(3, 7))
