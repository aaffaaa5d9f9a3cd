"""kingbase_inspect: parsing of real ksql / repmgr / crontab output, the judging of every finding code, and
collect() against a fake AnsibleModule that answers each command with a fixture."""
import ast
import datetime
import os
import re

import pytest

import huaian_inspect_kingbase as kb
import kingbase_inspect as mod
from conftest import ROOT

BIN = "/opt/Kingbase/ES/V8/V008R006C008B0014/Server/bin"
ETC = "/opt/Kingbase/ES/V8/V008R006C008B0014/etc"
CONF = ETC + "/repmgr.conf"

# ksql -X -q -A -t -F '\t' -P null=\N output, captured from the lab stand-in (PostgreSQL 15 with the sys_
# views of lab/media/kingbase/Server/bin/initdb).
CORE_PRIMARY = ("f\t86415\t2026-11-25 17:44:10.80029+08\tPostgreSQL 15.18 (Debian 15.18-0+deb12u1) on "
                "x86_64-pc-linux-gnu, compiled by gcc (Debian 12.2.0-14+deb12u1) 12.2.0, 64-bit\t"
                "15.18 (Debian 15.18-0+deb12u1)\t100\t12\ton\n")
CORE_STANDBY = CORE_PRIMARY.replace("f\t86415", "t\t86400").replace("\ton\n", "\ton\n")
XACTS_IDLE = "19282\tsystem\ttest\tksql\t127.0.0.1\tactive\t0\t0\n"
XACTS_LONG = "19583\thuaian_app\thuaian\tJDBC\t10.231.10.21\tidle in transaction\t4210\t2\n"
LOCKS_NONE = "0\t0\n"
LOCKS_WAITING = "3\t48\n"
SENDERS_OK = "city-kb02\t10.231.10.12\tstreaming\tasync\t0\t0.000412\n"
SENDERS_LAGGING = "city-kb02\t10.231.10.12\tstreaming\tasync\t209715200\t41.5\n"
SENDERS_CATCHUP = "city-kb02\t10.231.10.12\tcatchup\tasync\t734003200\t\\N\n"
RECEIVER_OK = "streaming\t10.231.10.11\t54321\trepmgr_slot_2\n"
SLOTS_OK = "repmgr_slot_2\tphysical\tt\t0\n"
SLOTS_INACTIVE = "repmgr_slot_2\tphysical\tf\t6418856\n"
SLOTS_INACTIVE_BIG = "repmgr_slot_2\tphysical\tf\t21474836480\n"
SLOTS_STANDBY = ""
ARCHIVER_OK = "812\t0\t000000010000000000000330\t1795710000\t\\N\t\\N\n"
ARCHIVER_FAILING = "812\t6\t000000010000000000000330\t1795710000\t000000010000000000000331\t1795715055\n"
ARCHIVER_RECOVERED = "813\t6\t000000010000000000000331\t1795716000\t000000010000000000000331\t1795715055\n"
DATABASES = "esrep\t7897607\nhuaian\t16351231\nkingbase\t7561731\ntest\t7724391\n"
LICENSE_OK = "351\n"
# sys_file_settings joined with sys_settings (build_queries' file_settings) and the settings query: the shape
# captured from PostgreSQL 15's pg_file_settings / pg_settings (the lab stand-in's views), paths of a
# role-installed node: one kingbase.conf, every parameter once.
KCONF = "/opt/Kingbase/ES/V8/data/kingbase.conf"
ARCHIVE_CMD = BIN + "/sys_rman --config=/etc/sys_rman/sys_rman.conf --stanza=city_a archive-push %p"
FILE_SETTINGS_OK = (
    "1\tport\t{k}\t12\t54321\tt\t\\N\t54321\t\\N\tpostmaster\tconfiguration file\t{k}\t12\tf\n"
    "2\tmax_wal_size\t{k}\t18\t4GB\tt\t\\N\t4096\tMB\tsighup\tconfiguration file\t{k}\t18\tf\n"
    "3\tarchive_mode\t{k}\t25\ton\tt\t\\N\ton\t\\N\tpostmaster\tconfiguration file\t{k}\t25\tf\n"
    "4\tarchive_command\t{k}\t26\t{a}\tt\t\\N\t{a}\t\\N\tsighup\tconfiguration file\t{k}\t26\tf\n"
).format(k=KCONF, a=ARCHIVE_CMD)
SETTINGS_OK = (
    "archive_command\t{a}\t\\N\tsighup\tconfiguration file\tf\n"
    "archive_library\t\t\\N\tsighup\tdefault\tf\n"
    "archive_mode\ton\t\\N\tpostmaster\tconfiguration file\tf\n"
    "max_wal_size\t4096\tMB\tsighup\tconfiguration file\tf\n"
    "wal_keep_size\t0\tMB\tsighup\tdefault\tf\n"
    "wal_segment_size\t16777216\tB\tinternal\tdefault\tf\n"
).format(a=ARCHIVE_CMD)

REPMGR_TABLE_OK = """\
 ID | Name      | Role    | Status    | Upstream  | Location | Priority | Timeline | Connection string
----+-----------+---------+-----------+-----------+----------+----------+----------+---------------------------------------------------------------------------------------
 1  | city-kb01 | primary | * running |           | city_a   | 100      | 1        | host=10.231.10.11 port=54321 user=esrep dbname=esrep connect_timeout=5
 2  | city-kb02 | standby |   running | city-kb01 | city_a   | 100      | 1        | host=10.231.10.12 port=54321 user=esrep dbname=esrep connect_timeout=5
"""
REPMGR_CSV_OK = "1,0,0\n2,0,1\n"
REPMGR_TABLE_STANDBY_DOWN = """\
 ID | Name      | Role    | Status        | Upstream    | Location | Priority | Timeline | Connection string
----+-----------+---------+---------------+-------------+----------+----------+----------+---------------------------------------------------------------------------------------
 1  | city-kb01 | primary | * running     |             | city_a   | 100      | 1        | host=10.231.10.11 port=54321 user=esrep dbname=esrep connect_timeout=5
 2  | city-kb02 | standby | ? unreachable | ? city-kb01 | city_a   | 100      |          | host=10.231.10.12 port=54321 user=esrep dbname=esrep connect_timeout=5
"""
REPMGR_CSV_STANDBY_DOWN = "1,0,0\n2,-1,-1\n"
# A standby promoted by hand while the old primary still runs: two primaries.
REPMGR_TABLE_SPLIT = """\
 ID | Name      | Role    | Status               | Upstream  | Location | Priority | Timeline | Connection string
----+-----------+---------+----------------------+-----------+----------+----------+----------+-----------------
 1  | city-kb01 | primary | * running            |           | city_a   | 100      | 1        | host=10.231.10.11 port=54321 user=esrep dbname=esrep connect_timeout=5
 2  | city-kb02 | standby | ! running as primary | city-kb01 | city_a   | 100      | 2        | host=10.231.10.12 port=54321 user=esrep dbname=esrep connect_timeout=5
"""
REPMGR_CSV_SPLIT = "1,0,0\n2,0,0\n"
REPMGR_STDERR_LOCAL_DOWN = ('ERROR: connection to database failed\n'
                            'DETAIL: \nconnection to server at "10.231.10.12", port 54321 failed: Connection refused\n')

CRONTAB_OK = """\
#Ansible: sys_rman full (role kingbase_backup)
0 2 * * 0 /opt/Kingbase/ES/V8/V008R006C008B0014/Server/bin/sys_rman --config=/etc/sys_rman/sys_rman.conf --stanza=city_a --type=full backup
#Ansible: kbha keep-alive (role kingbase_cluster)
*/1 * * * * . /etc/profile; %s/kbha -A daemon -f %s >> /opt/Kingbase/ES/V8/V008R006C008B0014/log/kbha.log 2>&1
""" % (BIN, CONF)
CRONTAB_KBHA_DELETED = "\n".join(CRONTAB_OK.splitlines()[:2]) + "\n"
CRONTAB_KBHA_COMMENTED = CRONTAB_OK.replace("*/1 * * * * . /etc/profile", "#*/1 * * * * . /etc/profile")

TH = kb.merge_thresholds({})


# ---- parsing -------------------------------------------------------------------------------------

def test_parse_core_primary_and_standby():
    core = kb.parse_core(CORE_PRIMARY)
    assert core["role"] == "primary" and core["in_recovery"] is False
    assert core["uptime_s"] == 86415 and core["max_connections"] == 100 and core["connections"] == 12
    assert core["connections_pct"] == 12.0 and core["archive_mode"] == "on"
    assert core["server_version"].startswith("15.18")
    assert kb.parse_core(CORE_STANDBY)["role"] == "standby"
    assert kb.parse_core("") is None


def test_parse_rows_keeps_nulls_apart_from_empty_text():
    assert kb.parse_rows("a\t\\N\t\n") == [["a", None, ""]]


def test_parse_senders_slots_archiver_databases_license():
    (s,) = kb.parse_senders(SENDERS_CATCHUP)
    assert s == {"name": "city-kb02", "client_addr": "10.231.10.12", "state": "catchup", "sync_state": "async",
                 "lag_bytes": 734003200, "lag_s": None}
    assert kb.parse_slots(SLOTS_INACTIVE) == [{"name": "repmgr_slot_2", "type": "physical", "active": False,
                                              "retained_bytes": 6418856}]
    arch = kb.parse_archiver(ARCHIVER_FAILING)
    assert arch["failed_count"] == 6 and arch["last_failed_epoch"] > arch["last_archived_epoch"]
    assert kb.parse_archiver("0\t0\t\\N\t\\N\t\\N\t\\N\n")["last_archived_epoch"] is None
    assert kb.parse_databases(DATABASES)["huaian"] == 16351231
    assert kb.parse_license_days(LICENSE_OK) == 351
    assert kb.parse_license_days("-3\n") == -3
    assert kb.parse_license_days("") is None
    assert kb.parse_receiver("") == {"status": None, "sender_host": None, "sender_port": None, "slot_name": None}
    assert kb.parse_receiver(RECEIVER_OK)["sender_port"] == 54321
    assert kb.parse_xacts(XACTS_LONG)["longest"]["state"] == "idle in transaction"
    assert kb.parse_locks(LOCKS_WAITING) == (3, 48)


def test_count_ready_counts_only_ready_files():
    names = ["000000010000000000000001.ready", "000000010000000000000002.00000028.backup.ready",
             "000000010000000000000000.done"]
    assert kb.count_ready(names) == 2


def test_repmgr_csv_and_table_join():
    nodes = kb.merge_repmgr(kb.parse_repmgr_csv(REPMGR_CSV_STANDBY_DOWN), kb.parse_repmgr_table(REPMGR_TABLE_STANDBY_DOWN))
    assert [(n["name"], n["role"], n["running"]) for n in nodes] == [
        ("city-kb01", "primary", True), ("city-kb02", "standby", False)]
    assert nodes[1]["status"] == "? unreachable"
    split = kb.merge_repmgr(kb.parse_repmgr_csv(REPMGR_CSV_SPLIT), kb.parse_repmgr_table(REPMGR_TABLE_SPLIT))
    assert [n["role"] for n in split] == ["primary", "primary"] and split[1]["role_mismatch"]
    # Without the CSV the table alone decides.
    table_only = kb.merge_repmgr([], kb.parse_repmgr_table(REPMGR_TABLE_SPLIT))
    assert [n["role"] for n in table_only] == ["primary", "primary"]
    assert kb.parse_repmgr_csv("WARNING: following issues were detected\n1,0,0\n") == [
        {"id": 1, "reachable": True, "role": "primary"}]


def test_kbha_cron_line():
    assert "kbha -A daemon" in kb.kbha_cron_line(CRONTAB_OK, "kbha -A daemon", CONF)
    assert kb.kbha_cron_line(CRONTAB_KBHA_DELETED, "kbha -A daemon", CONF) is None
    assert kb.kbha_cron_line(CRONTAB_KBHA_COMMENTED, "kbha -A daemon", CONF) is None
    # A kbha line for another repmgr.conf does not keep this node's kbha alive.
    assert kb.kbha_cron_line(CRONTAB_OK, "kbha -A daemon", "/other/repmgr.conf") is None
    assert kb.kbha_cron_line("", "kbha -A daemon", CONF) is None


def test_thresholds_and_names_validation():
    assert kb.merge_thresholds({"connections_pct_warning": "60"})["connections_pct_warning"] == 60
    with pytest.raises(ValueError, match="connections_pct_warn"):
        kb.merge_thresholds({"connections_pct_warn": 60})
    with pytest.raises(ValueError, match="must be a number"):
        kb.merge_thresholds({"wal_ready_warning": "many"})
    with pytest.raises(ValueError, match="unknown sql_names"):
        kb.merge_sql_names({"activity": "x"})
    with pytest.raises(ValueError, match="must be an SQL name"):
        kb.merge_sql_names({"stat_activity": "x; drop table t"})


def test_queries_use_only_kingbase_names_and_only_read():
    for topic, sql in kb.build_queries(kb.DEFAULT_SQL_NAMES, TH).items():
        assert not re.search(r"\bpg_", sql), topic
        assert re.match(r"^select ", sql), topic
        assert not re.search(r"\b(insert|update|delete|drop|alter|create|truncate|grant)\b", sql, re.I), topic
    q = kb.build_queries(kb.merge_sql_names({"stat_archiver": "sys_stat_archiver_v2"}), TH)
    assert "from sys_stat_archiver_v2" in q["archiver"]


# ---- collect() with a fake module ------------------------------------------------------------------

QUERIES = kb.build_queries(kb.DEFAULT_SQL_NAMES, TH)


def key_of(args):
    """Which fixture answers a command: the ksql topic, or the tool."""
    name = os.path.basename(args[0])
    if name == "ksql":
        return [topic for topic, sql in QUERIES.items() if args[-1] == sql][0]
    if name == "repmgr":
        assert args[1] == "-f" and args[3:] == ["cluster", "show"] + (["--csv"] if "--csv" in args else [])
        return "csv" if "--csv" in args else "table"
    return {"sys_isready": "isready", "kingbase": "version", "crontab": "crontab", "getcap": "getcap"}[name]


class FakeModule:
    def __init__(self, params, answers):
        self.params = params
        self.answers = answers
        self.ran = []

    def get_bin_path(self, name, opt_dirs=None):
        return self.answers.get("bin:" + name)

    def run_command(self, args, environ_update=None):
        self.ran.append(args)
        return self.answers[key_of(args)]


def healthy_primary(**over):
    answers = {
        "version": (0, "kingbase (KingbaseES) V008R006C008B0014\n", ""),
        "isready": (0, "127.0.0.1:54321 - accepting connections\n", ""),
        "core": (0, CORE_PRIMARY, ""),
        "xacts": (0, XACTS_IDLE, ""),
        "locks": (0, LOCKS_NONE, ""),
        "senders": (0, SENDERS_OK, ""),
        "receiver": (0, "", ""),
        "slots": (0, SLOTS_OK, ""),
        "archiver": (0, ARCHIVER_OK, ""),
        "databases": (0, DATABASES, ""),
        "license": (0, LICENSE_OK, ""),
        "csv": (0, REPMGR_CSV_OK, ""),
        "table": (0, REPMGR_TABLE_OK, ""),
        "crontab": (0, CRONTAB_OK, ""),
        "file_settings": (0, FILE_SETTINGS_OK, ""),
        "settings": (0, SETTINGS_OK, ""),
    }
    assert set(over) <= set(answers) | {"getcap", "bin:getcap"}
    answers.update(over)
    return answers


def make_params(tmp_path, **over):
    base = {"bin_dir": BIN, "data_dir": str(tmp_path), "wal_dir_name": "sys_wal", "host": "127.0.0.1", "port": 54321,
            "user": "system", "database": "test", "passfile": "/home/kingbase/.kbpass", "node_name": "city-kb01",
            "expected_standbys": ["city-kb02"], "repmgr_conf": CONF, "kbha_cron_pattern": "kbha -A daemon",
            "kbha_cron_policy": "required", "expected_overrides": [], "ping_path": "/bin/ping", "license_path": None,
            "tools_conf_path": None, "sql_names": {}, "thresholds": {}, "deep": False, "horizon_days": 90,
            "timeout": 30}
    base.update(over)
    return base


def wal_dir(tmp_path, ready=0):
    status = tmp_path / "sys_wal" / "archive_status"
    status.mkdir(parents=True)
    (tmp_path / "sys_wal" / "000000010000000000000331").write_bytes(b"\0" * 1024)
    (status / "000000010000000000000330.done").write_text("")
    for i in range(ready):
        (status / ("0000000100000000000004%02X.ready" % i)).write_text("")


def proc_with(tmp_path, cmdlines):
    proc = tmp_path / "proc"
    for pid, argv in cmdlines.items():
        (proc / str(pid)).mkdir(parents=True)
        (proc / str(pid) / "cmdline").write_bytes(b"\0".join(a.encode() for a in argv) + b"\0")
    (proc / "self").mkdir(parents=True, exist_ok=True)
    return str(proc)


REPMGRD = {4242: [BIN + "/repmgrd", "-f", CONF, "--daemonize"]}


TODAY = datetime.date(2026, 12, 1)


def run(tmp_path, answers, ready=0, procs=None, cron_d=None, wal_bytes=0, **params):
    wal_dir(tmp_path, ready)
    if wal_bytes:  # a sparse segment: the size the WAL directory reports without the disk it would take
        with open(str(tmp_path / "sys_wal" / "000000010000000000000332"), "wb") as handle:
            handle.truncate(wal_bytes)
    module = FakeModule(make_params(tmp_path, **params), answers)
    th = kb.merge_thresholds(module.params["thresholds"])
    if cron_d is None:
        cron_d = tmp_path / "cron.d"
        cron_d.mkdir(exist_ok=True)
    facts = mod.collect(module, mod.Reader(module), th, kb.merge_sql_names({}),
                        proc=proc_with(tmp_path, REPMGRD if procs is None else procs), cron_d=str(cron_d), today=TODAY)
    findings = kb.judge(facts, th, module.params["deep"], module.params["horizon_days"])
    return module, facts, findings, kb.metrics(facts)


def codes(findings):
    return sorted((f["code"], f["severity"], f["subject"]) for f in findings)


def test_healthy_primary_has_no_findings_and_the_metrics(tmp_path):
    module, facts, findings, metrics = run(tmp_path, healthy_primary())
    assert findings == []
    assert facts["role"] == "primary" and facts["kbha_cron"]["present"] and facts["repmgrd_running"]
    assert facts["binary_version"] == "kingbase (KingbaseES) V008R006C008B0014"
    assert facts["wal"]["ready"] == 0 and facts["wal"]["bytes"] == 1024
    assert metrics == {"kb_up": 1, "kb_connections_pct": 12.0, "kb_longest_xact_s": 0, "kb_lock_waits": 0,
                       "kb_repl_lag_bytes:city-kb02": 0, "kb_repl_lag_s:city-kb02": 0.000412, "kb_wal_ready": 0,
                       "kb_db_size_bytes:esrep": 7897607, "kb_db_size_bytes:huaian": 16351231,
                       "kb_db_size_bytes:kingbase": 7561731, "kb_db_size_bytes:test": 7724391,
                       "kb_license_days": 351, "kb_uptime_s": 86415, "kb_wal_bytes": 1024,
                       "kb_wal_retention_factor": 0.0}
    # repmgr reads the node's repmgr.conf.
    assert [a[:3] for a in module.ran if a[0].endswith("/repmgr")] == [[BIN + "/repmgr", "-f", CONF]] * 2
    # ksql runs as the superuser with the password file, never with a password on the command line.
    ksql = [a for a in module.ran if a[0].endswith("/ksql")]
    assert ksql and all("-U" in a and "system" in a for a in ksql)
    assert not any("password" in " ".join(a).lower() for a in module.ran)


def test_healthy_standby_has_no_findings(tmp_path):
    answers = healthy_primary(core=(0, CORE_STANDBY, ""), receiver=(0, RECEIVER_OK, ""), slots=(0, SLOTS_STANDBY, ""))
    module, facts, findings, metrics = run(tmp_path, answers, node_name="city-kb02", expected_standbys=["city-kb01"])
    assert findings == []
    assert facts["role"] == "standby" and facts["wal_receiver"]["status"] == "streaming"
    # A standby does not ask for replication senders.
    assert "senders" not in [key_of(a) for a in module.ran]


def test_stopped_standby_seen_from_the_primary(tmp_path):
    answers = healthy_primary(senders=(0, "", ""), slots=(0, SLOTS_INACTIVE, ""),
                              csv=(25, REPMGR_CSV_STANDBY_DOWN, ""), table=(25, REPMGR_TABLE_STANDBY_DOWN, ""))
    _, _, findings, metrics = run(tmp_path, answers)
    assert codes(findings) == [("KB_REPL_SLOT_INACTIVE", "warning", "repmgr_slot_2"),
                               ("KB_REPMGR_NODE_NOT_RUNNING", "critical", "city-kb02"),
                               ("KB_STANDBY_NOT_STREAMING", "critical", "city-kb02")]
    assert "kb_repl_lag_bytes:city-kb02" not in metrics


def test_stopped_standby_on_the_standby_itself(tmp_path):
    answers = healthy_primary(isready=(2, "127.0.0.1:54321 - no response\n", ""),
                              csv=(1, "", REPMGR_STDERR_LOCAL_DOWN), table=(1, "", REPMGR_STDERR_LOCAL_DOWN))
    module, facts, findings, metrics = run(tmp_path, answers, ready=3, node_name="city-kb02",
                                           expected_standbys=["city-kb01"], procs={})
    # Down: one critical finding; offline items (WAL backlog, kbha cron, repmgr's view) are still read.
    assert codes(findings) == [("KB_DOWN", "critical", "city-kb02")]
    assert "no response" in findings[0]["message"]
    assert facts["wal"]["ready"] == 3 and facts["kbha_cron"]["present"]
    assert facts["repmgr"]["error"].startswith("ERROR: connection to database failed")
    assert not any(a[0].endswith("/ksql") for a in module.ran)
    assert metrics["kb_up"] == 0 and metrics["kb_wal_ready"] == 3


def test_kbha_cron_deleted_and_repmgrd_gone(tmp_path):
    _, _, findings, _ = run(tmp_path, healthy_primary(crontab=(0, CRONTAB_KBHA_DELETED, "")), procs={})
    assert codes(findings) == [("KB_KBHA_CRON_MISSING", "critical", "city-kb01"),
                               ("KB_REPMGRD_NOT_RUNNING", "warning", "city-kb01")]
    _, _, findings, _ = run(tmp_path / "b", healthy_primary(crontab=(1, "", "no crontab for kingbase\n")))
    assert codes(findings) == [("KB_KBHA_CRON_MISSING", "critical", "city-kb01")]


def test_expired_and_expiring_licence(tmp_path):
    _, _, findings, metrics = run(tmp_path, healthy_primary(license=(0, "-3\n", "")))
    assert codes(findings) == [("KB_LICENSE_EXPIRED", "critical", "city-kb01")]
    assert findings[0]["value"] == -3 and findings[0]["threshold"] == 0 and metrics["kb_license_days"] == -3
    _, _, findings, _ = run(tmp_path / "b", healthy_primary(license=(0, "12\n", "")))
    assert codes(findings) == [("KB_LICENSE_EXPIRING", "warning", "city-kb01")]
    # Deep inspection: 60 days is inside the 90-day horizon; the weekly run says nothing.
    _, _, findings, _ = run(tmp_path / "c", healthy_primary(license=(0, "60\n", "")))
    assert findings == []
    _, _, findings, _ = run(tmp_path / "d", healthy_primary(license=(0, "60\n", "")), deep=True)
    assert codes(findings) == [("KB_LICENSE_EXPIRING", "warning", "city-kb01")] and findings[0]["threshold"] == 90
    _, _, findings, _ = run(tmp_path / "e", healthy_primary(
        license=(3, "", 'ERROR:  function get_license_validdays() does not exist\nLINE 1: select get_license_validdays()\n')))
    assert codes(findings) == [("KB_LICENSE_UNREADABLE", "warning", "city-kb01")]
    assert "does not exist" in findings[0]["message"]


def test_load_findings_on_the_primary(tmp_path):
    core = CORE_PRIMARY.replace("\t100\t12\t", "\t100\t93\t")
    answers = healthy_primary(core=(0, core, ""), xacts=(0, XACTS_LONG, ""), locks=(0, LOCKS_WAITING, ""),
                              senders=(0, SENDERS_LAGGING, ""))
    _, _, findings, metrics = run(tmp_path, answers)
    assert codes(findings) == [("KB_CONNECTIONS_HIGH", "critical", "city-kb01"),
                               ("KB_LOCK_WAITS", "warning", "city-kb01"),
                               ("KB_LONG_TRANSACTION", "critical", "city-kb01"),
                               ("KB_REPL_LAG", "warning", "city-kb02")]
    lag = [f for f in findings if f["code"] == "KB_REPL_LAG"][0]
    assert lag["value"] == 209715200 and lag["threshold"] == TH["repl_lag_bytes_warning"]
    assert metrics["kb_connections_pct"] == 93.0 and metrics["kb_longest_xact_s"] == 4210 and metrics["kb_lock_waits"] == 3
    # The message is Chinese and names value and threshold; no SQL text reaches the findings.
    conn = [f for f in findings if f["code"] == "KB_CONNECTIONS_HIGH"][0]
    assert "93/100" in conn["message"] and "90" in conn["message"] and conn["component"] == "kingbase"


def test_lag_in_seconds_only_and_catchup_standby(tmp_path):
    answers = healthy_primary(senders=(0, "city-kb02\t10.231.10.12\tstreaming\tasync\t1024\t412.0\n", ""))
    _, _, findings, _ = run(tmp_path, answers)
    assert codes(findings) == [("KB_REPL_LAG", "critical", "city-kb02")] and findings[0]["threshold"] == 300
    _, _, findings, _ = run(tmp_path / "b", healthy_primary(senders=(0, SENDERS_CATCHUP, "")))
    assert codes(findings) == [("KB_STANDBY_NOT_STREAMING", "critical", "city-kb02")]
    assert findings[0]["value"] == "catchup"


def test_standby_whose_receiver_stopped(tmp_path):
    answers = healthy_primary(core=(0, CORE_STANDBY, ""), receiver=(0, "", ""), slots=(0, "", ""))
    _, _, findings, _ = run(tmp_path, answers, node_name="city-kb02", expected_standbys=["city-kb01"])
    assert codes(findings) == [("KB_WAL_RECEIVER_NOT_STREAMING", "critical", "city-kb02")]


def test_archiver_failing_backlog_and_big_inactive_slot(tmp_path):
    answers = healthy_primary(archiver=(0, ARCHIVER_FAILING, ""), slots=(0, SLOTS_INACTIVE_BIG, ""))
    _, _, findings, metrics = run(tmp_path, answers, ready=40)
    assert codes(findings) == [("KB_ARCHIVE_FAILING", "critical", "city-kb01"),
                               ("KB_REPL_SLOT_INACTIVE", "critical", "repmgr_slot_2"),
                               ("KB_WAL_BACKLOG", "warning", "city-kb01")]
    assert metrics["kb_wal_ready"] == 40
    # A failure followed by a success is history, not a finding; so is a failure on a standby (archive_mode=on).
    _, _, findings, _ = run(tmp_path / "b", healthy_primary(archiver=(0, ARCHIVER_RECOVERED, "")))
    assert findings == []
    answers = healthy_primary(core=(0, CORE_STANDBY, ""), receiver=(0, RECEIVER_OK, ""),
                              archiver=(0, ARCHIVER_FAILING, ""), slots=(0, "", ""))
    _, _, findings, _ = run(tmp_path / "c", answers, node_name="city-kb02", expected_standbys=["city-kb01"])
    assert findings == []


def test_split_brain_missing_member_and_repmgr_unavailable(tmp_path):
    _, _, findings, _ = run(tmp_path, healthy_primary(csv=(0, REPMGR_CSV_SPLIT, ""), table=(0, REPMGR_TABLE_SPLIT, "")))
    # Subject "": the register keys findings by code+host+subject; the primaries are named in the message.
    assert ("KB_REPMGR_MULTIPLE_PRIMARIES", "critical", "") in codes(findings)
    split = [f for f in findings if f["code"] == "KB_REPMGR_MULTIPLE_PRIMARIES"][0]
    assert "city-kb01" in split["message"] and "city-kb02" in split["message"]
    assert ("KB_REPMGR_ROLE_MISMATCH", "warning", "city-kb02") in codes(findings)
    only_primary = "\n".join(REPMGR_TABLE_OK.splitlines()[:3]) + "\n"
    _, _, findings, _ = run(tmp_path / "b", healthy_primary(csv=(0, "1,0,0\n", ""), table=(0, only_primary, "")))
    assert codes(findings) == [("KB_REPMGR_NODE_MISSING", "critical", "city-kb02")]
    _, _, findings, _ = run(tmp_path / "c", healthy_primary(csv=(1, "", "ERROR: unable to retrieve any node records\n"),
                                                             table=(1, "", "ERROR: unable to retrieve any node records\n")))
    assert codes(findings) == [("KB_REPMGR_UNAVAILABLE", "warning", "city-kb01")]
    down = "\n".join(REPMGR_TABLE_OK.splitlines()[:2]) + "\n 1  | city-kb01 | primary | - failed |  | city_a | 100 |  | host=x\n"
    _, _, findings, _ = run(tmp_path / "d", healthy_primary(csv=(0, "1,0,-1\n2,0,1\n", ""), table=(0, down, "")))
    assert ("KB_REPMGR_NO_PRIMARY", "critical", "") in codes(findings)


def test_connect_failed_and_single_instance(tmp_path):
    answers = healthy_primary(core=(2, "", 'ksql: error: connection to server at "127.0.0.1", port 54321 failed: '
                                           'FATAL:  password authentication failed for user "system"\n'))
    _, facts, findings, _ = run(tmp_path, answers)
    assert codes(findings) == [("KB_CONNECT_FAILED", "critical", "city-kb01")]
    # A single instance: no repmgr, kbha or repmgrd checks, no crontab read.
    module, facts, findings, _ = run(tmp_path / "b", healthy_primary(crontab=(0, "", "")), repmgr_conf=None,
                                     expected_standbys=[])
    assert findings == [] and "kbha_cron" not in facts
    assert not any(os.path.basename(a[0]) in ("repmgr", "crontab") for a in module.ran)


def test_thresholds_from_the_operator_change_the_judgement(tmp_path):
    _, _, findings, _ = run(tmp_path, healthy_primary(), thresholds={"connections_pct_warning": 10,
                                                                      "connections_pct_critical": 50})
    assert codes(findings) == [("KB_CONNECTIONS_HIGH", "warning", "city-kb01")]


def test_every_code_is_documented():
    doc = mod.DOCUMENTATION
    source = (ROOT / "plugins" / "module_utils" / "huaian_inspect_kingbase.py").read_text()
    used = set(re.findall(r'"(KB_[A-Z_]+)"', source))
    assert used and used <= set(re.findall(r"C\((KB_[A-Z_]+)\)", doc))


@pytest.mark.parametrize("path", ["plugins/modules/kingbase_inspect.py", "plugins/module_utils/huaian_inspect_kingbase.py",
                                  "plugins/module_utils/huaian_inspect.py"])
def test_python_3_7_syntax(path):
    text = (ROOT / path).read_text()
    tree = ast.parse(text, filename=path, feature_version=(3, 7))
    # No f-strings at all: their 3.8 forms (f"{x=}") pass the 3.7 parser.
    assert not any(isinstance(node, ast.JoinedStr) for node in ast.walk(tree))
