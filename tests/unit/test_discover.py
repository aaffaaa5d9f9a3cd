"""Discovery: the host-side parsers (huaian_discover) and the controller rules (discovery_filters)."""
import yaml

import discovery_filters as df
from ansible.module_utils import huaian_discover as hd

SECRET = "Canary-s3cret-91c4"
KB_HOME = "/home/kingbase/cluster/kingbase"


def proc(pid, argv, ppid=1, exe="", user="kingbase", unit=""):
    return {"pid": pid, "ppid": ppid, "uid": 1000, "user": user, "argv": argv, "exe": exe, "unit": unit}


# --- processes ---------------------------------------------------------------------------------------------

def test_cmdline_and_status():
    assert hd.parse_cmdline(b"/bin/kingbase\0-D\0/data\0") == ["/bin/kingbase", "-D", "/data"]
    assert hd.parse_status("Name:\tx\nPPid:\t12\nUid:\t1000\t1000\t1000\t1000\n") == {"ppid": 12, "uid": 1000}


def test_cgroup_unit_v1_and_v2():
    assert hd.cgroup_unit("0::/system.slice/kingbased.service\n") == "kingbased.service"
    assert hd.cgroup_unit("12:pids:/\n1:name=systemd:/system.slice/cron.service\n") == "cron.service"
    assert hd.cgroup_unit("0::/user.slice/user-0.slice/session-3.scope\n") == "session-3.scope"
    assert hd.cgroup_unit("0::/\n") == ""


def test_postmaster_is_told_from_its_backends():
    pm = proc(100, [KB_HOME + "/bin/kingbase", "-D", KB_HOME + "/data"], exe="/usr/lib/postgresql/15/bin/postgres")
    backend = proc(101, [KB_HOME + "/bin/kingbase", "-D", KB_HOME + "/data"], ppid=100, exe=pm["exe"])
    writer = proc(102, ["postgres: checkpointer "], ppid=100, exe=pm["exe"])
    repmgrd = proc(200, ["/usr/lib/postgresql/15/bin/repmgrd", "-f", KB_HOME + "/etc/repmgr.conf"], exe="/usr/lib/postgresql/15/bin/repmgrd")
    java = proc(300, ["/usr/bin/java", "-Dcatalina.home=/opt/bes"], exe="/usr/lib/jvm/bin/java", user="bes")
    redis = proc(400, ["/usr/bin/redis-server 0.0.0.0:6379"], exe="/usr/bin/redis-server", user="redis")
    sentinel = proc(401, ["/usr/bin/redis-sentinel *:26379 [sentinel]"], exe="/usr/bin/redis-check-rdb", user="redis")
    classes = hd.classify([pm, backend, writer, repmgrd, java, redis, sentinel])
    assert [p["pid"] for p in classes["kingbase"]] == [100]
    assert [p["pid"] for p in classes["repmgrd"]] == [200]
    assert [p["pid"] for p in classes["java"]] == [300]
    assert [p["pid"] for p in classes["redis"]] == [400]
    assert [p["pid"] for p in classes["sentinel"]] == [401]


def test_argv_options():
    argv = ["postgres", "-D", "/d", "-c", "config_file=/d/kingbase.conf", "--port=5432"]
    assert hd.argv_option(argv, "-D", "--pgdata") == "/d"
    assert hd.argv_option(["x", "-D/e"], "-D") == "/e"
    assert hd.argv_option(["x", "--pgdata=/f"], "-D", "--pgdata") == "/f"
    assert hd.argv_settings(argv) == {"config_file": "/d/kingbase.conf", "port": "5432"}
    assert hd.argv_option(["x"], "-D", "--pgdata") is None


# --- sockets -----------------------------------------------------------------------------------------------

TCP = """  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000:D431 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 5551 1
   1: 0100007F:1A0A 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 5552 1
   2: 0B1EE70A:D431 0C1EE70A:9C40 01 00000000:00000000 00:00000000 00000000  1000        0 5553 1
"""
TCP6 = """  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000000000000:076C 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 6661 1
"""


def test_listeners_with_exposure():
    listeners = hd.parse_net_listeners(TCP)
    listeners.update(hd.parse_net_listeners(TCP6))
    assert listeners["5551"] == {"address": "0.0.0.0", "port": 54321, "uid": 1000}
    assert listeners["5552"] == {"address": "127.0.0.1", "port": 6666, "uid": 1000}
    assert "5553" not in listeners  # an established connection, not a listener
    assert listeners["6661"] == {"address": "::", "port": 1900, "uid": 0}
    found = hd.listeners_of(["5552", "5551", "9999", "6661"], listeners)
    assert [(e["port"], e["exposed"]) for e in found] == [(1900, True), (6666, False), (54321, True)]
    assert found[0] == {"address": "::", "port": 1900, "exposed": True}
    assert [e["port"] for e in hd.listeners_by_uid(listeners, 1000)] == [6666, 54321]


# --- cron --------------------------------------------------------------------------------------------------

CRONTAB = """# the vendor's keep-alive
*/1 * * * * . /etc/profile;{home}/bin/kbha -A daemon -f {home}/etc/repmgr.conf
#*/1 * * * * . /etc/profile;{home}/bin/kbha -A daemon -f {home}/etc/repmgr.conf
# m h dom mon dow command
0 2 * * 0 {home}/bin/sys_rman --config=/home/kingbase/kbbr_repo/sys_rman.conf --stanza=kingbase --type=full backup
30 3 * * * PGPASSWORD={secret} /usr/bin/dump.sh
""".format(home=KB_HOME, secret=SECRET)


def test_cron_entries_active_commented_and_redacted():
    entries = hd.parse_cron(CRONTAB, "/var/spool/cron/crontabs/kingbase")
    assert [e["active"] for e in entries] == [True, False, True, True]
    assert entries[0]["schedule"] == "*/1 * * * *"
    assert SECRET not in repr(entries)
    kbha = hd.kbha_entries(entries)
    assert [(e["active"], e["bin_dir"], e["repmgr_conf"]) for e in kbha] == [
        (True, KB_HOME + "/bin", KB_HOME + "/etc/repmgr.conf"), (False, KB_HOME + "/bin", KB_HOME + "/etc/repmgr.conf")]
    system = hd.parse_cron("SHELL=/bin/sh\n*/1 * * * * kingbase %s/bin/kbha -A daemon -f x\n" % KB_HOME, "/etc/cron.d/KINGBASECRON", system=True)
    assert system == [{"source": "/etc/cron.d/KINGBASECRON", "schedule": "*/1 * * * *", "user": "kingbase",
                       "command": KB_HOME + "/bin/kbha -A daemon -f x", "active": True}]


# --- control chain and tools directory ---------------------------------------------------------------------

def test_control_chain():
    active = [{"active": True}]
    commented = [{"active": False}]
    assert hd.control_chain("kingbased.service", True, active) == {"kind": "systemd", "unit": "kingbased.service", "kbha_cron": "active"}
    assert hd.control_chain("cron.service", False, active) == {"kind": "kbha", "unit": "cron.service", "kbha_cron": "active"}
    # Started from an SSH login (the vendor installer, or an operator's sys_monitor.sh): kbha still keeps it.
    assert hd.control_chain("ssh.service", False, active)["kind"] == "kbha"
    assert hd.control_chain("session-3.scope", False, commented) == {"kind": "manual", "unit": "session-3.scope", "kbha_cron": "commented"}
    assert hd.control_chain("", False, []) == {"kind": "manual", "unit": None, "kbha_cron": "absent"}


def test_unit_runs_database():
    assert hd.unit_runs_database("/opt/Kingbase/ES/V8/Server/bin/sys_ctl", ["start", "-D", "/d"])
    assert hd.unit_runs_database("/bin/sh", ["-c", "/home/kingbase/cluster/kingbase/bin/sys_monitor.sh"])
    assert hd.unit_runs_database("/bin/sh", ["/home/kingbase/cluster/kingbase/bin/sys_monitor.sh", "start"])
    assert not hd.unit_runs_database("/usr/sbin/sshd", ["-D"])
    assert not hd.unit_runs_database(None, None)


def test_bin_dir_from_the_server_then_the_control_chain():
    tools = {KB_HOME + "/bin", "/opt/Kingbase/ES/V8/Server/bin"}
    has = tools.__contains__
    vendor = proc(1, [KB_HOME + "/bin/kingbase", "-D", "/d"], exe="/usr/lib/postgresql/15/bin/postgres")
    assert hd.kingbase_bin_dir(vendor, None, [], has) == (KB_HOME + "/bin", "server command line")
    lab = proc(1, ["/usr/lib/postgresql/15/bin/postgres", "-D", "/d"], exe="/usr/lib/postgresql/15/bin/postgres", unit="cron.service")
    kbha = [{"bin_dir": KB_HOME + "/bin", "source": "/var/spool/cron/crontabs/kingbase"}]
    assert hd.kingbase_bin_dir(lab, None, kbha, has) == (KB_HOME + "/bin", "kbha cron entry (/var/spool/cron/crontabs/kingbase)")
    green = dict(lab, unit="kingbased.service")
    assert hd.kingbase_bin_dir(green, "/opt/Kingbase/ES/V8/Server/bin/sys_ctl", kbha, has)[0] == "/opt/Kingbase/ES/V8/Server/bin"
    assert hd.kingbase_bin_dir(lab, None, [], has) == ("/usr/lib/postgresql/15/bin", "server command line")


# --- configuration -----------------------------------------------------------------------------------------

def rows():
    data = KB_HOME + "/data/"
    return [
        {"name": "max_connections", "setting": "100", "sourcefile": data + "kingbase.conf", "sourceline": "64", "seqno": "1", "applied": False, "error": ""},
        {"name": "archive_command", "setting": "exit 0", "sourcefile": data + "kingbase.conf", "sourceline": "250", "seqno": "2", "applied": False, "error": ""},
        {"name": "wal_level", "setting": "replica", "sourcefile": data + "kingbase.conf", "sourceline": "200", "seqno": "3", "applied": False, "error": ""},
        {"name": "max_connections", "setting": "500", "sourcefile": data + "es_rep.conf", "sourceline": "3", "seqno": "4", "applied": True, "error": ""},
        {"name": "archive_command", "setting": "sys_rman --config /r/sys_rman.conf --stanza=kingbase archive-push %p",
         "sourcefile": data + "es_rep.conf", "sourceline": "9", "seqno": "5", "applied": True, "error": ""},
        {"name": "wal_level", "setting": "replica", "sourcefile": data + "es_rep.conf", "sourceline": "4", "seqno": "6", "applied": True, "error": ""},
        {"name": "primary_conninfo", "setting": "host=10.0.0.1 user=esrep password=%s" % SECRET,
         "sourcefile": data + "kingbase.auto.conf", "sourceline": "3", "seqno": "7", "applied": True, "error": ""},
        {"name": None, "setting": None, "sourcefile": data + "es_rep.conf", "sourceline": "12", "seqno": "8", "applied": False,
         "error": "syntax error"},
    ]


def test_file_settings_chain_winners_and_overrides():
    result = hd.file_settings_analysis(list(reversed(rows())))
    data = KB_HOME + "/data/"
    assert result["chain"] == [data + "kingbase.conf", data + "es_rep.conf", data + "kingbase.auto.conf"]
    assert result["winners"]["max_connections"] == {"file": data + "es_rep.conf", "line": 3, "setting": "500"}
    over = dict((o["name"], o) for o in result["overridden"])
    assert sorted(over) == ["archive_command", "max_connections", "wal_level"]
    assert over["archive_command"]["setting"] == "exit 0" and over["archive_command"]["winner_line"] == 9
    assert over["wal_level"]["same_value"] is True and over["max_connections"]["same_value"] is False
    assert result["errors"] == [{"file": data + "es_rep.conf", "line": 12, "name": "", "error": "syntax error"}]
    assert SECRET not in repr(result)


def test_preload_list_and_archive_tool_both_config_forms():
    assert hd.preload_list("'liboracle_parser, plsql,sepapower , repmgr'") == ["liboracle_parser", "plsql", "sepapower", "repmgr"]
    assert hd.preload_list("") == []
    space = hd.archive_tool("/b/sys_rman --config /r/sys_rman.conf --stanza=kingbase archive-push %p")
    equals = hd.archive_tool("/b/sys_rman --config=/r/sys_rman.conf --stanza=kingbase archive-push %p")
    assert space == equals == {"tool": "sys_rman", "config": "/r/sys_rman.conf", "stanza": "kingbase"}
    assert hd.archive_tool("exit 0") == {}


def test_ini_and_repmgr_conf_redacted():
    ini = hd.parse_ini("[global]\nrepo1-path=/r\nrepo1-cipher-pass=%s\n[kingbase]\nkb1-path=/d\n" % SECRET)
    assert ini["kingbase"] == {"kb1-path": "/d"}
    assert SECRET not in repr(hd.redact_dict(ini["global"]))
    conf = hd.parse_repmgr_conf("node_id=1\nconninfo='host=a user=esrep password=%s'\nvirtual_ip='10.0.0.10/24'\n"
                                "running_under_failure_trusted_servers=on\n" % SECRET)
    assert conf["virtual_ip"] == "10.0.0.10/24" and conf["running_under_failure_trusted_servers"] == "on"
    assert SECRET not in repr(conf)


def test_licence_kinds():
    permanent = hd.parse_licence("# lab\n产品名称：KingbaseES V8\n生产日期: 2024-03-01\n有效期间: 0\n最大连接数: 不限\n")
    assert (permanent["kind"], permanent["valid_days"], permanent["fields"]["生产日期"]) == ("permanent", 0, "2024-03-01")
    assert hd.parse_licence("有效期间：365\n")["kind"] == "dated"
    assert hd.parse_licence("授权类型: 官方网站试用授权\n有效期间: 90\n")["kind"] == "trial"
    assert hd.parse_licence("PRODUCT=KingbaseES\nEXPIRE_DATE=2027-01-01\n")["kind"] == "dated"
    assert hd.parse_licence("")["kind"] == "unknown"


def test_vip_and_addresses():
    addresses = hd.parse_ip_addresses("2: eth0    inet 10.231.30.11/24 brd 10.231.30.255 scope global eth0\n"
                                      "2: eth0    inet 10.231.30.10/24 scope global secondary eth0\n")
    assert addresses == ["10.231.30.11", "10.231.30.10"]
    assert hd.vip_state("10.231.30.10/24", addresses) == {"address": "10.231.30.10", "held": True}
    assert hd.vip_state("10.231.30.10", ["10.231.30.12"]) == {"address": "10.231.30.10", "held": False}
    assert hd.vip_state("", addresses) is None


# --- BES, Redis, host --------------------------------------------------------------------------------------

SERVER_CONFIG = """<?xml version="1.0" encoding="UTF-8"?>
<server>
  <jmx-connector port="6600" address="0.0.0.0" enabled="true"/>
  <network-listeners>
    <network-listener name="admin-listener" port="1900" address="0.0.0.0"/>
    <network-listener name="http-listener-1" port="8080" address="0.0.0.0"/>
    <network-listener name="http-listener-2" port="8443" address="0.0.0.0"/>
  </network-listeners>
</server>"""


def test_bes_layout_and_server_config():
    argv = ["/usr/bin/java", "-Dcom.bes.installRoot=/home/bes/BES", "-Dcom.bes.instanceRoot=/home/bes/BES/domains/server", "x"]
    assert hd.bes_layout(argv, ["bes.home", "com.bes.installRoot"], ["com.bes.instanceRoot"]) == ("/home/bes/BES", "/home/bes/BES/domains/server")
    assert hd.bes_layout(["java"], ["bes.home"], ["x"]) == (None, None)
    parsed = hd.parse_server_config(SERVER_CONFIG)
    assert parsed["jmx_port"] == 6600 and parsed["admin_port"] == 1900
    assert [e["name"] for e in parsed["listeners"]] == ["http-listener-1", "http-listener-2"]
    assert "error" in hd.parse_server_config("<server>")


def test_redis_helpers():
    assert hd.parse_redis_version("Redis server v=7.0.15 sha=00000000:0 malloc=jemalloc") == "7.0.15"
    assert hd.parse_redis_conf_role("port 6379\nreplicaof 10.0.0.1 6379\n") == {"port": 6379, "role": "replica", "master": "10.0.0.1:6379"}
    assert hd.parse_redis_conf_role("port 6380\n")["role"] == "master"


def test_host_helpers():
    assert hd.parse_os_release('NAME="Kylin Linux Advanced Server"\nVERSION_ID="V10"\nID=kylin\n')["id"] == "kylin"
    assert hd.selinux_state("1\n", True) == "enforcing" and hd.selinux_state("", False) == "absent"
    assert hd.parse_running_units("cron.service loaded active running Regular background program\n") == ["cron.service"]
    assert hd.exec_start("[Service]\nExecStart=-/opt/k/bin/sys_ctl start -D /d\n") == ("/opt/k/bin/sys_ctl", ["start", "-D", "/d"])
    mounts = [{"mount": "/"}, {"mount": "/data"}, {"mount": "/data2"}]
    assert hd.mount_of("/data/kingbase/data", mounts)["mount"] == "/data"
    assert hd.mount_of("/data2x/y", mounts)["mount"] == "/"


# --- controller rules --------------------------------------------------------------------------------------

FACTS = {"host": {"mounts": [{"mount": "/", "used_pct": 12.5, "size_bytes": 10}]},
         "kingbase": {"present": True, "pid": 4242, "role": "standby", "bin_dir": KB_HOME + "/bin", "port": 54321},
         "bes": {"present": False, "instances": []}, "cache": {"present": False}, "preview": {"present": False}}


def test_record_keeps_read_at_while_unchanged():
    first = df.discovery_record(FACTS, None, "2026-12-07T10:00:00+08:00")
    assert first["read_at"] == "2026-12-07T10:00:00+08:00" and first["schema"] == 1
    assert "pid" not in first["kingbase"] and "used_pct" not in first["host"]["mounts"][0]
    moved = dict(FACTS, kingbase=dict(FACTS["kingbase"], pid=5555))
    again = df.discovery_record(moved, first, "2026-12-07T11:00:00+08:00")
    assert again == first  # a new pid alone is no change
    changed = df.discovery_record(dict(FACTS, kingbase=dict(FACTS["kingbase"], role="primary")), first, "2026-12-07T12:00:00+08:00")
    assert changed["read_at"] == "2026-12-07T12:00:00+08:00" and changed["kingbase"]["role"] == "primary"


class HV(dict):
    pass


def test_differences():
    declared = {
        "kb1": {"groups": ["kingbase", "kingbase_x", "qingjiangpu"], "kingbase_node_role": "primary", "kingbase_port": 54321},
        "bes1": {"groups": ["bes"]},
        "fep1": {"groups": ["front_end"]},
        "gone": {"groups": ["bes"]},
    }
    facts = {"kb1": FACTS, "bes1": dict(FACTS, kingbase={"present": False}, bes={"present": False}),
             "fep1": dict(FACTS, kingbase={"present": False}, cache={"present": True})}
    diffs = df.discovery_differences(facts, declared)
    got = [(d["host"], d["component"], d["item"], d["declared"], d["discovered"]) for d in diffs]
    assert got == [
        ("bes1", "bes", "group bes", True, False),
        ("fep1", "cache", "group preview_cache", False, True),
        ("gone", "host", "discovery", "reachable", None),
        ("kb1", "kingbase", "kingbase_node_role", "primary", "standby"),
    ]
    assert all(d["note"] for d in diffs)
    summary = df.discovery_summary(facts, sorted(declared), diffs)
    assert (summary["hosts"], summary["reached"], summary["kingbase"], summary["differences"], summary["hosts_with_differences"]) == (4, 3, 1, 4, 4)


def test_layout_variable_difference_only_when_declared():
    declared = {"kb1": {"groups": ["kingbase"], "kingbase_bin_dir": "/opt/Kingbase/ES/V8/Server/bin"}}
    diffs = df.discovery_differences({"kb1": FACTS}, declared)
    assert [(d["item"], d["declared"], d["discovered"]) for d in diffs] == [
        ("kingbase_bin_dir", "/opt/Kingbase/ES/V8/Server/bin", KB_HOME + "/bin")]


def test_fact_files_are_yaml_the_inventory_loads_and_unchanged_hosts_keep_their_file(tmp_path):
    record = df.discovery_record(FACTS, None, "2026-12-07T10:00:00+08:00")
    kb1 = str(tmp_path / "host_vars" / "kb1" / "discovered.yml")
    hostvars = {"kb1": {"discovery_read": True, "discovery_facts": record, "discovery_facts_path": kb1},
                "kb2": {"discovery_facts": record, "discovery_facts_path": str(tmp_path / "kb2.yml")}}
    files = df.discovery_fact_files(hostvars, ["kb1", "kb2"])
    assert [f["dest"] for f in files] == [kb1]  # kb2 was not read by this run
    loaded = yaml.safe_load(files[0]["content"])
    assert loaded == {"discovery_facts": record}
    (tmp_path / "host_vars" / "kb1").mkdir(parents=True)
    (tmp_path / "host_vars" / "kb1" / "discovered.yml").write_text(files[0]["content"])
    later = df.discovery_record(dict(FACTS, kingbase=dict(FACTS["kingbase"], pid=1)), None, "2026-12-08T09:00:00+08:00")
    again = df.discovery_fact_files(dict(hostvars, kb1=dict(hostvars["kb1"], discovery_facts=later)), ["kb1"])
    assert again[0]["content"] == files[0]["content"]  # same facts: same bytes, the first read_at kept
    moved = df.discovery_record(dict(FACTS, kingbase=dict(FACTS["kingbase"], role="primary")), None, "2026-12-08T09:00:00+08:00")
    changed = df.discovery_fact_files(dict(hostvars, kb1=dict(hostvars["kb1"], discovery_facts=moved)), ["kb1"])
    assert "2026-12-08T09:00:00+08:00" in changed[0]["content"] and "role: primary" in changed[0]["content"]
    assert df.discovery_components(FACTS) == ["kingbase"]


def test_discovered_config_files_for_baselines():
    data = KB_HOME + "/data"
    facts = {"kingbase": {"present": True, "config_file": data + "/kingbase.conf",
                          "config": {"chain": [data + "/kingbase.conf", data + "/es_rep.conf", data + "/kingbase.auto.conf"]},
                          "backup": {"config": "/home/kingbase/kbbr_repo/sys_rman.conf", "sys_backup_conf": KB_HOME + "/bin/sys_backup.conf"},
                          "cron": [{"source": "/var/spool/cron/crontabs/kingbase"}, {"source": "/etc/cron.d/KINGBASECRON"}]},
             "bes": {"present": True, "instances": [{"config_files": ["/home/bes/BES/conf/server.config", "/home/bes/BES/conf/x.txt"]}]}}
    assert df.discovered_config_files(facts, "kingbase") == [
        {"name": data + "/es_rep.conf", "path": data + "/es_rep.conf", "format": "kv"},
        {"name": data + "/kingbase.auto.conf", "path": data + "/kingbase.auto.conf", "format": "kv"},
        {"name": "/home/kingbase/kbbr_repo/sys_rman.conf", "path": "/home/kingbase/kbbr_repo/sys_rman.conf", "format": "kv"},
        {"name": KB_HOME + "/bin/sys_backup.conf", "path": KB_HOME + "/bin/sys_backup.conf", "format": "kv"},
        {"name": "/etc/cron.d/KINGBASECRON", "path": "/etc/cron.d/KINGBASECRON", "format": "lines"}]
    assert [f["format"] for f in df.discovered_config_files(facts, "bes")] == ["xml", "lines"]
    assert df.discovered_config_files({}, "kingbase") == [] and df.discovered_config_files(None, "bes") == []
    assert df.discovered_config_files({"kingbase": {"present": False}}, "kingbase") == []


def test_discovered_ports_and_bes_listeners():
    facts = {"kingbase": {"present": True, "port": 54321},
             "bes": {"present": True, "instances": [{
                 "listeners": [{"port": 1900}, {"port": 6600}, {"port": 8080}],
                 "server_config": {"listeners": [{"name": "http-listener-1", "port": 8080, "address": "0.0.0.0"},
                                                 {"name": "http-listener-2", "port": 8443, "address": "0.0.0.0"}]}}]}}
    assert df.discovered_ports(facts) == {"kingbase": [{"port": 54321, "name": "Kingbase"}],
                                          "bes": [{"port": 8080, "name": "BES http-listener-1"}]}  # 8443 is not listening
    defaults = [{"name": "http-listener-1", "address": "0.0.0.0", "port": 18080, "max_threads": 200}]
    assert df.discovered_bes_listeners(facts, defaults) == [
        {"name": "http-listener-1", "address": "0.0.0.0", "port": 8080, "max_threads": 200}]
    assert df.discovered_bes_listeners({}, defaults) is defaults
    assert df.discovered_ports({"kingbase": {"present": False}}) == {}
    # A JVM whose server.config could not be read keeps the inventory's lists.
    assert df.discovered_ports({"bes": {"present": True, "instances": [{"listeners": [{"port": 8080}], "server_config": None}]}}) == {}


def test_config_owner_tells_the_projects_kingbase_conf_from_the_vendors():
    marker = "role kingbase: the whole server configuration"
    assert hd.config_owner("# Ansible managed\n# role kingbase: the whole server configuration of city-kb01.\n", marker) == "project"
    assert hd.config_owner("# -----\n# KingbaseES configuration file\n", marker) == "vendor"
    assert hd.config_owner("\n" * 10 + "# role kingbase: the whole server configuration\n", marker) == "vendor"
    assert hd.config_owner("", marker) == "vendor"


BES_VENDOR_UNIT = """# Written at the site when BES was installed.
[Service]
Type=forking
ExecStart=/data/bes/bin/iastool --passwordfile /data/bes/conf/.passwordfile --user admin start --server
"""
BES_PROJECT_UNIT = """#
# Managed by huaian-platform-ops (Ansible). Local edits are reported as drift and overwritten.
#
# role bes: the whole BES installation of city-bes01 (estate_discover reads this line).
[Service]
ExecStart=/opt/BES/current/bin/startserver
"""


def test_bes_owner_from_the_units_marker():
    marker = "role bes: the whole BES installation"
    assert hd.config_owner(BES_PROJECT_UNIT, marker) == "project"
    assert hd.config_owner(BES_VENDOR_UNIT, marker) == "vendor"
    # Started from a login: no unit file to carry the marker.
    assert hd.config_owner("", marker) == "vendor"


def test_bes_start_method_from_the_unit_then_the_tools():
    both = ["iastool", "startserver"]
    # The vendor lab's site-written unit runs iastool: the roles restart that unit.
    assert hd.bes_start("vendor", "bes.service", hd.exec_start(BES_VENDOR_UNIT), both) == {
        "method": "iastool", "unit": "bes.service", "source": "systemd unit bes.service runs iastool"}
    # Through a shell, quoted.
    assert hd.bes_start("vendor", "bes.service", ("/bin/sh", ["-c", "'cd /data/bes && bin/startserver'"]), both)["method"] == "startserver"
    # A unit running a site's own script: restarted through the unit, the method from bin/.
    assert hd.bes_start("vendor", "bes.service", ("/opt/scripts/bes.sh", ["start"]), ["startserver"]) == {
        "method": "startserver", "unit": "bes.service",
        "source": "systemd unit bes.service runs bes.sh; method from the tools in bin/"}
    # Started from an SSH login: no unit to go through.
    assert hd.bes_start("vendor", "session-4.scope", None, both) == {
        "method": "iastool", "unit": None, "source": "started outside a service unit (session-4.scope); method from the tools in bin/"}
    assert hd.bes_start("vendor", "", None, [])["method"] is None
    # The project's install: its own unit, whatever it runs.
    assert hd.bes_start("project", "bes-server.service", hd.exec_start(BES_PROJECT_UNIT), both) == {
        "method": "systemd", "unit": None, "source": "the project's unit bes-server.service"}
