"""inspection_filters: joining hosts, the anomaly register, trends, charts, forecast, deep findings."""
import xml.etree.ElementTree as ET

import pytest

import inspection_filters as f


def hv(**hosts):
    return hosts


def result(component, findings=(), metrics=None):
    return {"component": component, "facts": {}, "metrics": metrics or {}, "findings": list(findings)}


def finding(code, severity="critical", subject=""):
    return {"code": code, "severity": severity, "subject": subject, "message": code, "action": "fix"}


HOSTVARS = hv(
    kb1={"group_names": ["city", "kingbase"], "platform_code": "city", "platform_name_zh": "市级",
         "inspection_results": [result("host", metrics={"disk_used_pct:/": 40.0, "load1": 0.5, "flag": True}),
                                result("kingbase", [finding("KB_STANDBY_NOT_STREAMING", subject="kb2")])]},
    kb2={"group_names": ["city", "kingbase"], "platform_code": "city", "platform_name_zh": "市级"},
    bes1={"group_names": ["hongze", "bes"], "inspection_results": [result("host")],
          "inspection_errors": [{"component": "bes", "task": "Inspect the BES instance", "message": "boom"}]},
)


def test_hosts_and_findings_name_host_platform_and_unreachable():
    recs = f.inspection_hosts(HOSTVARS, ["kb1", "kb2", "bes1"], ["city", "hongze"])
    assert [r["platform"] for r in recs] == ["city", "city", "hongze"]
    assert [r["reached"] for r in recs] == [True, False, True]
    found = f.inspection_findings(recs)
    codes = [(x["code"], x["host"]) for x in found]
    assert ("HOST_UNREACHABLE", "kb2") in codes
    assert ("INSPECTION_ERROR", "bes1") in codes
    error = [x for x in found if x["code"] == "INSPECTION_ERROR"][0]
    assert error["subject"] == "bes" and "boom" in error["message"]
    standby = [x for x in found if x["code"] == "KB_STANDBY_NOT_STREAMING"][0]
    assert standby["host"] == "kb1" and standby["platform"] == "city" and standby["component"] == "kingbase"
    assert all(x["severity"] == "critical" for x in found)


def test_findings_judged_across_runs_take_their_host_platform():
    recs = f.inspection_hosts(HOSTVARS, ["kb1", "kb2", "bes1"], ["city", "hongze"])
    forecast = {"code": "CAP_FILESYSTEM_FORECAST", "severity": "warning", "host": "bes1", "subject": "/data"}
    restore = {"code": "BACKUP_RESTORE_TEST_STALE", "severity": "warning", "host": "localhost",
               "platform": "-", "platform_name": f.NO_PLATFORM_NAME}
    stray = {"code": "X", "severity": "warning", "host": "gone"}
    found = {x["code"]: x for x in f.inspection_findings(recs, [forecast, restore, stray])}
    assert (found["CAP_FILESYSTEM_FORECAST"]["platform"], found["CAP_FILESYSTEM_FORECAST"]["platform_name"]) == ("hongze", "hongze")
    assert found["BACKUP_RESTORE_TEST_STALE"]["platform_name"] == f.NO_PLATFORM_NAME
    assert (found["X"]["platform"], found["X"]["platform_name"]) == ("-", f.NO_PLATFORM_NAME)
    assert "platform" not in forecast  # the caller's finding is not changed


def test_findings_sorted_worst_first_and_unknown_severity_is_warning():
    recs = f.inspection_hosts(hv(a={"group_names": [], "platform_code": "city", "inspection_results": [
        result("host", [finding("HOST_X", "warning"), finding("HOST_Y", "bogus"), finding("HOST_Z")])]}), ["a"])
    found = f.inspection_findings(recs)
    assert [x["code"] for x in found] == ["HOST_Z", "HOST_X", "HOST_Y"]
    assert found[-1]["severity"] == "warning"


def test_register_new_open_resolved_reopened_keeps_follow_up():
    a = dict(finding("HOST_DISK_USAGE", subject="/data"), host="h1", platform="city")
    b = dict(finding("BES_DOWN"), host="h2", platform="city")
    r1 = f.inspection_register({}, [a, b], "20260101T000000Z", "t1")
    assert r1["counts"] == {"new": 2, "open": 0, "resolved": 0}
    # The operator follows one up in the register.
    for e in r1["entries"]:
        if e["code"] == "BES_DOWN":
            e["owner"] = "zhang"
            e["ticket"] = "OPS-7"
    r2 = f.inspection_register(r1, [b], "20260108T000000Z", "t2")
    by = {e["code"]: e for e in r2["entries"]}
    assert by["BES_DOWN"]["status"] == "open" and by["BES_DOWN"]["runs_seen"] == 2
    assert by["BES_DOWN"]["owner"] == "zhang" and by["BES_DOWN"]["first_seen"] == "t1"
    assert by["HOST_DISK_USAGE"]["status"] == "resolved" and by["HOST_DISK_USAGE"]["resolved_at"] == "t2"
    r3 = f.inspection_register(r2, [a], "20260115T000000Z", "t3")
    by = {e["code"]: e for e in r3["entries"]}
    assert by["HOST_DISK_USAGE"]["status"] == "new"
    assert [h["event"] for h in by["HOST_DISK_USAGE"]["history"]] == ["new", "resolved", "reopened"]
    assert by["BES_DOWN"]["status"] == "resolved" and by["BES_DOWN"]["ticket"] == "OPS-7"
    # A resolved entry stays resolved (not re-resolved) while absent.
    r4 = f.inspection_register(r3, [a], "20260122T000000Z", "t4")
    assert {e["code"]: e for e in r4["entries"]}["BES_DOWN"]["resolved_at"] == "t3"
    status = f.register_status(r4, [a])
    assert status[0]["status"] == "open" and status[0]["first_seen"] == "t3"


def test_a_partial_or_weekly_run_resolves_only_what_it_looked_for():
    disk = dict(finding("HOST_DISK_USAGE", subject="/data"), host="h1")
    other = dict(finding("BES_DOWN"), host="h2")
    forecast = dict(finding("CAP_FILESYSTEM_FORECAST", "warning", "/"), host="h1")
    r1 = f.inspection_register({}, [disk, other, forecast], "r1", "t1", inspected=["h1", "h2"], deep=True)
    # A weekly run of h1 only: h2 was not inspected, the forecast not computed; the disk is fixed.
    r2 = f.inspection_register(r1, [], "r2", "t2", inspected=["h1"], deep=False)
    by = {e["code"]: e["status"] for e in r2["entries"]}
    assert by == {"HOST_DISK_USAGE": "resolved", "BES_DOWN": "new", "CAP_FILESYSTEM_FORECAST": "new"}
    r3 = f.inspection_register(r2, [], "r3", "t3", inspected=["h1", "h2"], deep=True)
    assert {e["status"] for e in r3["entries"]} == {"resolved"}


def test_same_code_on_two_subjects_are_two_anomalies():
    a = dict(finding("HOST_DISK_USAGE", subject="/"), host="h1")
    b = dict(finding("HOST_DISK_USAGE", subject="/data"), host="h1")
    assert len(f.inspection_register({}, [a, b], "r", "t")["entries"]) == 2


def test_platforms_at_a_glance():
    recs = f.inspection_hosts(HOSTVARS, ["kb1", "kb2", "bes1"], ["city", "hongze"])
    plats = f.inspection_platforms(recs, f.inspection_findings(recs))
    assert plats[0]["code"] == "city" and plats[0]["status"] == "critical" and plats[0]["hosts"] == 2
    assert plats[0]["critical"] == 2
    ok = f.inspection_platforms([{"platform": "xuyi", "platform_name": "盱眙县"}], [])
    assert ok == [{"code": "xuyi", "name": "盱眙县", "hosts": 1, "critical": 0, "warning": 0, "status": "ok"}]


def test_metrics_keep_numbers_only():
    recs = f.inspection_hosts(HOSTVARS, ["kb1", "kb2"])
    assert f.inspection_metrics(recs) == {"kb1": {"disk_used_pct:/": 40.0, "load1": 0.5}}


HISTORY = [
    {"run": "20260115T000000Z", "metrics": {"kb1": {"disk_used_pct:/": 50.0, "load1": 1}}},
    {"run": "20260101T000000Z", "metrics": {"kb1": {"disk_used_pct:/": 30.0}, "kb2": {"disk_used_pct:/data": 10}}},
    {"run": "20260108T000000Z", "metrics": {"kb1": {"disk_used_pct:/": 40.0}}},
]


def test_trends_order_runs_and_label_series():
    trends = f.inspection_trends(HISTORY, "20260122T000000Z", {"kb1": {"disk_used_pct:/": 60.0}},
                                 ["disk_used_pct", "load1", "mem_used_pct"])
    assert [t["family"] for t in trends] == ["disk_used_pct", "load1"]
    disk = trends[0]
    assert disk["runs"] == ["20260101T000000Z", "20260108T000000Z", "20260115T000000Z", "20260122T000000Z"]
    series = {s["label"]: s["points"] for s in disk["series"]}
    assert [v for _, v in series["kb1 /"]] == [30.0, 40.0, 50.0, 60.0]
    assert series["kb2 /data"] == [["20260101T000000Z", 10]]
    limited = f.inspection_trends(HISTORY, "20260122T000000Z", {}, ["disk_used_pct"], max_runs=2)
    assert limited[0]["runs"] == ["20260115T000000Z", "20260122T000000Z"]


def test_svg_chart_is_wellformed_with_a_line_per_series():
    trend = f.inspection_trends(HISTORY, "20260122T000000Z", {"kb1": {"disk_used_pct:/": 60.0}},
                                ["disk_used_pct"])[0]
    svg = f.svg_chart(trend, "磁盘 <使用率>", "%")
    root = ET.fromstring(svg)
    ns = "{http://www.w3.org/2000/svg}"
    assert len(root.findall(ns + "polyline")) == 1  # kb2 /data has a single point: a dot, no line
    assert len(root.findall(ns + "circle")) == 5
    assert "磁盘 &lt;使用率&gt;" in svg
    assert f.svg_chart({"runs": [], "series": []}) == ""


def test_svg_chart_says_the_labels_it_is_given_for_the_runs():
    trend = f.inspection_trends(HISTORY, "20260122T000000Z", {"kb1": {"disk_used_pct:/": 60.0}},
                                ["disk_used_pct"])[0]
    labels = ["01-01 08:00", "01-08 08:00", "01-15 08:00", "01-22 08:00"]
    svg = f.svg_chart(trend, "磁盘使用率", "%", labels=labels)
    texts = [e.text for e in ET.fromstring(svg).iter("{http://www.w3.org/2000/svg}text")]
    assert "01-01 08:00" in texts and "01-22 08:00" in texts
    assert "Z" not in "".join(e.text for e in ET.fromstring(svg).iter("{http://www.w3.org/2000/svg}title"))
    assert "20260101T000000Z" in f.svg_chart(trend, "磁盘使用率", "%")  # no labels: the run ids
    with pytest.raises(ValueError, match="3 given for 4 runs"):
        f.svg_chart(trend, labels=labels[:3])


def test_capacity_forecast_projects_only_with_enough_history():
    out = f.capacity_forecast(HISTORY, "20260122T000000Z", {"kb1": {"disk_used_pct:/": 60.0},
                                                            "kb2": {"disk_used_pct:/data": 10}},
                              horizon_days=90, min_span_days=7, min_points=3)
    fc = {(x["host"], x["metric"]): x for x in out["forecasts"]}
    # 10 points a week: 40 points left at 60 % -> 28 days.
    assert fc[("kb1", "disk_used_pct:/")]["days_left"] == pytest.approx(28.0, abs=0.1)
    assert fc[("kb2", "disk_used_pct:/data")]["days_left"] is None
    assert fc[("kb2", "disk_used_pct:/data")]["label"] == "磁盘使用率 /data"
    assert f.forecast_label("inode_used_pct:/") == "inode 使用率 /" and f.forecast_label("other") == "other"
    assert [(x["code"], x["host"], x["subject"], x["severity"]) for x in out["findings"]] == \
        [("CAP_FILESYSTEM_FORECAST", "kb1", "/", "critical")]
    far = f.capacity_forecast(HISTORY, "20260122T000000Z", {"kb1": {"disk_used_pct:/": 60.0}}, horizon_days=20)
    assert far["findings"] == []
    short = f.capacity_forecast(HISTORY, "20260122T000000Z", {"kb1": {"disk_used_pct:/": 60.0}}, min_span_days=30)
    assert short["findings"] == [] and short["forecasts"][0]["per_day"] is None


def test_restore_test_findings():
    ok = {"run": "20260110T000000Z", "verdict": "pass", "success_rate": 1.0, "failed": 0}
    assert f.restore_test_findings(ok, "20260122T000000Z") == []
    stale = f.restore_test_findings(ok, "20260301T000000Z")
    assert [x["code"] for x in stale] == ["BACKUP_RESTORE_TEST_STALE"]
    # One anomaly from test to test: the run is in the message, not the subject.
    assert stale[0]["subject"] == "" and "20260110T000000Z" in stale[0]["message"]
    bad = dict(ok, verdict="fail", success_rate=0.75, failed=1)
    assert [x["code"] for x in f.restore_test_findings(bad, "20260111T000000Z")] == ["BACKUP_RESTORE_TEST_FAILED"]
    assert [x["code"] for x in f.restore_test_findings({}, "20260111T000000Z")] == ["BACKUP_RESTORE_TEST_MISSING"]


def test_failover_readiness():
    healthy = hv(kb1={"group_names": ["kingbase"], "platform_code": "city", "inspection_results": [
        result("kingbase", metrics={"kb_repl_lag_bytes:kb2": 0})]},
        kb2={"group_names": ["kingbase"], "platform_code": "city", "inspection_results": [result("kingbase")]})
    recs = f.inspection_hosts(healthy, ["kb1", "kb2"])
    out = f.failover_readiness(recs, f.inspection_findings(recs), {"city_a": ["kb1", "kb2"]})
    assert out["findings"] == [] and out["clusters"][0]["ready"] and out["clusters"][0]["streaming"] == ["kb2"]
    recs = f.inspection_hosts(HOSTVARS, ["kb1", "kb2"])
    out = f.failover_readiness(recs, f.inspection_findings(recs), {"city_a": ["kb1", "kb2"], "other": ["x"]})
    assert [c["cluster"] for c in out["clusters"]] == ["city_a"]
    assert out["findings"][0]["code"] == "KB_FAILOVER_NOT_READY"
    assert "kb1: KB_STANDBY_NOT_STREAMING" in out["clusters"][0]["reasons"]
    assert "kb2: HOST_UNREACHABLE" in out["clusters"][0]["reasons"]


def test_finding_line():
    line = f.finding_line(dict(finding("BES_DOWN"), host="h", subject="node1", status="new"))
    assert line == "[critical] BES_DOWN h node1: BES_DOWN (new)"


PLAN_COMPONENTS = [
    {"role": "os_baseline", "groups": ["platforms"], "probe": False},
    {"role": "kingbase_cluster", "groups": ["kingbase"]},
    {"role": "backup_job", "groups": ["kingbase", "attachments"]},
]
PLAN_GROUPS = {"platforms": ["kb1", "kb2", "att1", "bes1"], "kingbase": ["kb2", "kb1"], "attachments": ["att1"],
               "bes": ["bes1"]}


def test_plan_gives_each_role_its_groups_hosts_in_run_order():
    plan = f.inspection_plan(PLAN_COMPONENTS, ["kb1", "kb2", "att1", "bes1"], PLAN_GROUPS, ["kb1", "kb2", "att1", "bes1"])
    assert plan == {"os_baseline": ["kb1", "kb2", "att1", "bes1"], "kingbase_cluster": ["kb1", "kb2"],
                    "backup_job": ["kb1", "kb2", "att1"]}


def test_plan_leaves_hosts_outside_the_run_out():
    plan = f.inspection_plan(PLAN_COMPONENTS, ["kb2", "bes1"], PLAN_GROUPS, ["kb2", "bes1"])
    assert plan == {"os_baseline": ["kb2", "bes1"], "kingbase_cluster": ["kb2"], "backup_job": ["kb2"]}


def test_hosts_without_probes_get_only_the_host_level():
    plan = f.inspection_plan(PLAN_COMPONENTS, ["kb1", "kb2", "att1"], PLAN_GROUPS, ["kb2"])
    assert plan == {"os_baseline": ["kb1", "kb2", "att1"], "kingbase_cluster": ["kb2"], "backup_job": ["kb2"]}


def test_a_role_named_twice_joins_its_groups_once_per_host():
    comps = [{"role": "backup_job", "groups": ["attachments"]}, {"role": "backup_job", "groups": ["kingbase"]}]
    assert f.inspection_plan(comps, ["kb1", "att1", "kb2"], PLAN_GROUPS, ["kb1", "att1", "kb2"]) == {
        "backup_job": ["kb1", "att1", "kb2"]}


@pytest.mark.parametrize("bad", [{"groups": ["kingbase"]}, {"role": "bes", "groups": "bes"}, "bes"])
def test_a_malformed_component_is_named(bad):
    with pytest.raises(ValueError, match=r"inspection_components\[1\]"):
        f.inspection_plan([PLAN_COMPONENTS[0], bad], ["kb1"], PLAN_GROUPS, [])


def test_every_component_has_its_play_in_inspect_yml_and_no_play_lacks_a_component():
    import yaml
    from conftest import ROOT
    components = yaml.safe_load((ROOT / "playbooks" / "vars" / "inspection.yml").read_text())["inspection_components"]
    plays = yaml.safe_load((ROOT / "playbooks" / "inspect.yml").read_text())
    inspected = {}
    for play in plays:
        if "inspection_plan." in str(play.get("hosts", "")):
            role = play["tasks"][0]["block"][0]["ansible.builtin.import_role"]["name"]
            assert play["hosts"] == "{{ hostvars['localhost'].inspection_plan.%s | default([]) }}" % role
            assert play["tasks"][0]["rescue"][0]["vars"]["__inspection_role"] == role
            inspected[role] = play["name"]
    assert sorted(inspected) == sorted({c["role"] for c in components})
    for comp in components:
        assert (ROOT / "roles" / comp["role"] / "tasks" / "inspect.yml").is_file(), comp["role"]


# Why a component stopped: redaction and the cause taken from a failed task's result.
VAULT = ["Kb-superuser-9f3a", "cache-pw-77aa"]


@pytest.mark.parametrize("text, kept", [
    ("PGPASSWORD=Kb-superuser-9f3a ksql -h 127.0.0.1", "PGPASSWORD=<已隐去> ksql -h 127.0.0.1"),
    ("KINGBASE_PASSWORD: 'a b c' LC_ALL=C", "KINGBASE_PASSWORD: <已隐去> LC_ALL=C"),
    ("host=10.231.10.11 port=54321 user=system password=s3cr3t dbname=test",
     "host=10.231.10.11 port=54321 user=system password=<已隐去> dbname=test"),
    ("jdbc:kingbase8://10.231.10.11:54321/huaian?user=app&password=xyz&ssl=false",
     "jdbc:kingbase8://10.231.10.11:54321/huaian?user=app&password=<已隐去>&ssl=false"),
    ("could not connect to kingbase://system:hunter2@10.231.10.11:54321/test",
     "could not connect to kingbase://system:<已隐去>@10.231.10.11:54321/test"),
    ("redis://:pw1@10.231.30.11:6379/0", "redis://:<已隐去>@10.231.30.11:6379/0"),
    ("keytool -list -storepass changeit -keystore x.jks", "keytool -list -storepass <已隐去> -keystore x.jks"),
    ("sys_rman --password=abc backup", "sys_rman --password=<已隐去> backup"),
    ("redis-cli -p 6379 -a cache-pw ping", "redis-cli -p 6379 -a <已隐去> ping"),
    ("requirepass foo\nmasterauth \"b a\"", "requirepass <已隐去>\nmasterauth <已隐去>"),
    ("AUTH default pw2 failed", "AUTH default <已隐去> failed"),
    ("cipher_pass=zz client_secret: qq", "cipher_pass=<已隐去> client_secret: <已隐去>"),
    # The vault values themselves, wherever they stand, even inside other words.
    ("echo xKb-superuser-9f3ax; cache-pw-77aa", "echo x<已隐去>x; <已隐去>"),
])
def test_redact_secrets(text, kept):
    assert f.redact_secrets(text, VAULT) == kept


@pytest.mark.parametrize("text", [
    'ksql: error: FATAL:  password authentication failed for user "system"',
    "fe_sendauth: no password supplied",
    "Peer auth failed for user kingbase",
    "sys_isready -h 127.0.0.1 -p 54321: no response",
    "Password for user system:",
])
def test_redact_secrets_keeps_the_words_of_an_error(text):
    assert f.redact_secrets(text, VAULT + ["ab", None]) == text


def test_redact_secrets_takes_anything():
    assert f.redact_secrets(None) == "" and f.redact_secrets(42) == "42"


COMMAND_FAILED = {
    "failed": True, "changed": False, "msg": "non-zero return code", "rc": 2,
    "cmd": ["/opt/Kingbase/ES/V8/Server/bin/ksql", "-X", "-q", "-At", "-h", "127.0.0.1", "-p", "54321", "-U", "system",
            "-d", "test", "-F", " ", "-c", "select sys_is_in_recovery()"],
    "stdout": "", "stdout_lines": [],
    "stderr": "ksql: error: connection to server at \"127.0.0.1\", port 54321 failed: fe_sendauth: no password supplied\n",
}


def test_cause_of_a_failed_command_names_command_exit_code_and_stderr():
    cause = f.failure_cause(COMMAND_FAILED)
    assert cause == (u"命令 /opt/Kingbase/ES/V8/Server/bin/ksql -X -q -At -h 127.0.0.1 -p 54321 -U system -d test -F   "
                     u"-c select sys_is_in_recovery()；退出码 2；stderr 末尾：ksql: error: connection to server at "
                     u"\"127.0.0.1\", port 54321 failed: fe_sendauth: no password supplied")
    assert "non-zero return code" not in cause


def test_cause_of_a_command_keeps_the_tail_of_long_output_and_redacts_before_cutting():
    lines = ["line %d" % i for i in range(50)] + ["connect failed: PGPASSWORD=Kb-superuser-9f3a rejected"]
    cause = f.failure_cause({"failed": True, "msg": "non-zero return code", "rc": 1, "cmd": "sh -c x",
                             "stdout": "\n".join(lines), "stderr": ""}, VAULT)
    assert cause.endswith(u"stdout 末尾：line 46 ⏎ line 47 ⏎ line 48 ⏎ line 49 ⏎ connect failed: PGPASSWORD=<已隐去> rejected")
    assert "Kb-superuser" not in cause and "line 45" not in cause
    huge = f.failure_cause({"failed": True, "msg": "x" * 5000}, limit=300)
    assert len(huge) == 300 and huge.endswith(u"…")


MODULE_CRASH = {
    "failed": True, "msg": "MODULE FAILURE\nSee stdout/stderr for the exact error", "rc": 1, "module_stdout": "",
    "module_stderr": "Traceback (most recent call last):\n  File \"<stdin>\", line 107, in <module>\n"
                     "  File \"/tmp/ansible_kingbase_inspect_payload.zip/ansible/module_utils/huaian_inspect_kingbase.py\", "
                     "line 140, in parse_core\nKeyError: 'role'\n",
    "exception": "Traceback (most recent call last):\n  File \"<stdin>\", line 107, in <module>\n"
                 "  File \"/tmp/ansible_kingbase_inspect_payload.zip/ansible/module_utils/huaian_inspect_kingbase.py\", "
                 "line 140, in parse_core\nKeyError: 'role'\n",
}


def test_cause_of_a_crashed_module_is_its_exception():
    cause = f.failure_cause(MODULE_CRASH)
    assert cause == u"模块异常退出；退出码 1；异常 KeyError: 'role'"
    # A crash before Python started (no exception, only stderr): its stderr.
    no_python = dict(MODULE_CRASH, exception=None, module_stderr="/bin/sh: 1: /usr/bin/python3: not found\n", rc=127)
    assert f.failure_cause(no_python) == u"模块异常退出；退出码 127；stderr 末尾：/bin/sh: 1: /usr/bin/python3: not found"


def test_cause_of_a_module_failure_timeout_and_unreachable_is_the_message():
    assert f.failure_cause({"failed": True, "msg": "unknown threshold 'x' (known: a, b)"}) == \
        "unknown threshold 'x' (known: a, b)"
    timeout = ("The kingbase_inspect action failed to execute in the expected time frame (600) and was terminated")
    assert f.failure_cause({"failed": True, "msg": timeout}) == timeout
    assert f.failure_cause({"unreachable": True, "msg": "Failed to connect to the host via ssh: ssh: connect to host "
                            "10.231.10.11 port 22: No route to host"}) == (
        u"主机不可达：Failed to connect to the host via ssh: ssh: connect to host 10.231.10.11 port 22: No route to host")


def test_cause_of_a_loop_is_its_first_failed_item_and_no_log_says_so():
    loop = {"failed": True, "msg": "One or more items failed", "results": [
        {"item": "a", "rc": 0, "failed": False},
        dict(COMMAND_FAILED, item="preview-yozo", cmd="systemctl is-active preview-yozo", rc=3, stderr="inactive")]}
    assert f.failure_cause(loop) == u"循环项 preview-yozo：命令 systemctl is-active preview-yozo；退出码 3；stderr 末尾：inactive"
    censored = {"censored": "the output has been hidden due to the fact that 'no_log: true' was specified for this result"}
    assert f.failure_cause(censored).startswith(u"任务设置了 no_log，输出已隐藏：the output has been hidden")
    assert f.failure_cause({"failed": True}) == "failed" and f.failure_cause("boom password=x") == u"boom password=<已隐去>"


def test_inspection_error_record_and_its_finding_carry_the_cause():
    error = f.inspection_error(COMMAND_FAILED, "kingbase_cluster", "Read the server's role and start time", VAULT)
    assert error["component"] == "kingbase_cluster" and error["task"] == "Read the server's role and start time"
    assert error["message"] == f.failure_cause(COMMAND_FAILED)
    recs = f.inspection_hosts({"kb1": {"group_names": ["city"], "platform_code": "city", "inspection_errors": [error]}},
                              ["kb1"])
    found = f.inspection_findings(recs)
    assert [x["code"] for x in found] == ["INSPECTION_ERROR"]
    assert found[0]["message"] == (u"kingbase_cluster 巡检未能完成（任务“Read the server's role and start time”）："
                                   + error["message"])
    assert found[0]["cause"] == error["message"] and found[0]["task"] == error["task"]
    assert "fe_sendauth: no password supplied" in found[0]["message"]


def test_register_keeps_a_hosts_anomalies_while_a_component_of_it_stopped():
    first = f.inspection_register(None, [
        {"code": "KB_LICENSE_EXPIRED", "host": "kb1", "severity": "critical", "subject": ""},
        {"code": "HOST_UNREACHABLE", "host": "kb1", "severity": "critical", "subject": ""},
        {"code": "BES_DOWN", "host": "bes1", "severity": "critical", "subject": ""}], "r1", "t1")
    # kb1's kingbase inspection stopped: its licence finding was not looked for (it keeps its state); bes1 finished.
    second = f.inspection_register(first, [
        {"code": "INSPECTION_ERROR", "host": "kb1", "severity": "critical", "subject": "kingbase_cluster"}],
        "r2", "t2", inspected=["kb1", "bes1"])
    status = dict((e["key"], e["status"]) for e in second["entries"])
    assert status == {"KB_LICENSE_EXPIRED|kb1|": "new", "HOST_UNREACHABLE|kb1|": "resolved",
                      "BES_DOWN|bes1|": "resolved", "INSPECTION_ERROR|kb1|kingbase_cluster": "new"}
    # The next run finishes on kb1: the stopped component and the licence finding are resolved.
    third = f.inspection_register(second, [], "r3", "t3", inspected=["kb1", "bes1"])
    assert all(e["status"] == "resolved" for e in third["entries"])
def _restore_summary(results, run="20260110T000000Z", min_sample_mib=256):
    """A summary.json as backup_verify.yml archives it, judged again as the role does (backup_restore_time)."""
    import backup_filters
    s = dict(backup_filters.backup_verify_summary(results), run=run)
    return dict(s, restore_time=backup_filters.summary_restore_time(s, min_sample_mib))


def _timed(kind, target, nbytes, seconds, result="success"):
    return {"kind": kind, "target": target, "result": result, "restored_bytes": nbytes, "restore_seconds": seconds}


def test_a_restore_test_whose_every_sample_is_too_small_is_a_warning():
    MIB = 1024 ** 2
    results = [_timed("sys_rman", "city_a", 40 * MIB, 4), _timed("files", "city-bes01", 2621440, 1.338)]
    small = _restore_summary(results)
    (w,) = f.restore_test_findings(small, "20260122T000000Z")
    assert (w["code"], w["severity"], w["subject"]) == ("BACKUP_RESTORE_TIME_UNPROJECTED", "warning", "")
    assert w["message"] == (u"最近一次恢复测试（20260110T000000Z）无法推算恢复用时：最慢路径为附件文件 city-bes01："
                            u"样本仅 2.5 MiB，不足以推算恢复 100 GiB 所需时间（至少需 256.0 MiB）；其余 1 项样本也都不足 256.0 MiB，均未推算")
    assert (w["value"], w["threshold"]) == (2621440, 256 * MIB)
    # The inspection's own threshold decides: at 1 MiB both samples are projected.
    assert f.restore_test_findings(_restore_summary(results, min_sample_mib=1), "20260122T000000Z") == []
    # Stale and unprojectable: both.
    assert [x["code"] for x in f.restore_test_findings(small, "20260301T000000Z")] == \
        ["BACKUP_RESTORE_TEST_STALE", "BACKUP_RESTORE_TIME_UNPROJECTED"]


def test_a_projected_slowest_path_or_a_failed_test_raises_no_restore_time_finding():
    MIB = 1024 ** 2
    mixed = _restore_summary([_timed("sys_rman", "city_a", 2048 * MIB, 30), _timed("files", "city-bes01", 2621440, 1.3)])
    assert mixed["restore_time"]["status"] == "projected"
    assert f.restore_test_findings(mixed, "20260122T000000Z") == []
    failed = _restore_summary([_timed("files", "city-bes01", 2621440, 1.3),
                               _timed("sys_dump", "hongze", 0, 0, result="failed")])
    assert failed["restore_time"]["status"] == "sample_too_small"
    assert [x["code"] for x in f.restore_test_findings(failed, "20260111T000000Z")] == ["BACKUP_RESTORE_TEST_FAILED"]
    # A summary archived before the per-path records cannot be judged: no finding, the report says why.
    legacy = {"run": "20260110T000000Z", "verdict": "pass", "success_rate": 1.0, "failed": 0,
              "restore_time": {"status": "unknown"}}
    assert f.restore_test_findings(legacy, "20260122T000000Z") == []
