"""kingbase_inspect against a vendor-installed V8R6 cluster (domain research K37-K47): which configuration file
wins (sys_file_settings), a no-op archive_command, sys_wal against max_wal_size, ping's capability for
trusted_servers, the kbha cron policy, running_under_failure_trusted_servers, the licence kind from license.dat
and all_nodes_tools.conf's mode. Each code with its negative cases."""
import errno
import json
import os
import struct

import pytest

import huaian_inspect_kingbase as kb
import kingbase_inspect as mod
from test_kingbase_inspect import BIN, CONF, TH, TODAY, codes, healthy_primary, run

DATA = "/home/kingbase/cluster/kingbase/data"
ETC = "/home/kingbase/cluster/kingbase/etc"
SYSRMAN = "/opt/bin/sys_rman --config /home/kingbase/rman/sys_rman.conf --stanza=kingbase archive-push %p"

# build_queries' file_settings and settings answers captured from PostgreSQL 15 (the lab stand-in's engine) with
# the vendor's chain: kingbase.conf ending in include_if_exists = 'es_rep.conf', then the auto file (paths
# renamed to the vendor layout, K38/K39). kingbase.conf sets shared_buffers, max_wal_size and a no-op
# archive_command that es_rep.conf overrides; DateStyle is set twice with the same value; repmgr's
# primary_conninfo (with a password) is in kingbase.auto.conf.
FS_VENDOR = (
    "1\tmax_connections\t{d}/kingbase.conf\t65\t100\tt\t\\N\t100\t\\N\tpostmaster\tconfiguration file\t{d}/kingbase.conf\t65\tf\n"
    "2\tshared_buffers\t{d}/kingbase.conf\t127\t128MB\tf\t\\N\t32768\t8kB\tpostmaster\tconfiguration file\t{d}/es_rep.conf\t1\tf\n"
    "4\tmax_wal_size\t{d}/kingbase.conf\t241\t1GB\tf\t\\N\t2048\tMB\tsighup\tconfiguration file\t{d}/es_rep.conf\t3\tf\n"
    "7\tdatestyle\t{d}/kingbase.conf\t711\tiso, mdy\tt\t\\N\tISO, MDY\t\\N\tuser\tconfiguration file\t{d}/es_rep.conf\t4\tf\n"
    "14\tport\t{d}/kingbase.conf\t816\t54321\tt\t\\N\t54321\t\\N\tpostmaster\tconfiguration file\t{d}/kingbase.conf\t816\tf\n"
    "17\tarchive_mode\t{d}/kingbase.conf\t819\ton\tt\t\\N\ton\t\\N\tpostmaster\tconfiguration file\t{d}/kingbase.conf\t819\tf\n"
    "18\tarchive_command\t{d}/kingbase.conf\t820\texit 0\tf\t\\N\t{a}\t\\N\tsighup\tconfiguration file\t{d}/es_rep.conf\t2\tf\n"
    "19\tshared_buffers\t{d}/es_rep.conf\t1\t256MB\tt\t\\N\t32768\t8kB\tpostmaster\tconfiguration file\t{d}/es_rep.conf\t1\tf\n"
    "20\tarchive_command\t{d}/es_rep.conf\t2\t{a}\tt\t\\N\t{a}\t\\N\tsighup\tconfiguration file\t{d}/es_rep.conf\t2\tf\n"
    "21\tmax_wal_size\t{d}/es_rep.conf\t3\t2GB\tt\t\\N\t2048\tMB\tsighup\tconfiguration file\t{d}/es_rep.conf\t3\tf\n"
    "22\tDateStyle\t{d}/es_rep.conf\t4\tiso, mdy\tt\t\\N\tISO, MDY\t\\N\tuser\tconfiguration file\t{d}/es_rep.conf\t4\tf\n"
    "23\tprimary_conninfo\t{d}/kingbase.auto.conf\t3\thost=10.0.0.1 user=esrep password=s3cret\tt\t\\N\t"
    "host=10.0.0.1 user=esrep password=s3cret\t\\N\tsighup\tconfiguration file\t{d}/kingbase.auto.conf\t3\tf\n"
).format(d=DATA, a=SYSRMAN)
SETTINGS_VENDOR = (
    "archive_command\t{a}\t\\N\tsighup\tconfiguration file\tf\n"
    "archive_library\t\t\\N\tsighup\tdefault\tf\n"
    "archive_mode\ton\t\\N\tpostmaster\tconfiguration file\tf\n"
    "max_wal_size\t2048\tMB\tsighup\tconfiguration file\tf\n"
    "wal_keep_size\t0\tMB\tsighup\tdefault\tf\n"
    "wal_segment_size\t16777216\tB\tinternal\tdefault\tf\n"
).format(a=SYSRMAN)
# The same node after ALTER SYSTEM SET shared_buffers = '512MB' and a reload (captured: pending_restart, and the
# auto file's line reads 'setting could not be applied'), and es_rep.conf's max_wal_size edited to 3GB without a
# reload.
FS_PENDING = FS_VENDOR.replace("\t1\tf\n", "\t1\tt\n").replace("\t2GB\tt\t", "\t3GB\tt\t") + (
    "24\tshared_buffers\t{d}/kingbase.auto.conf\t4\t512MB\tf\tsetting could not be applied\t32768\t8kB\tpostmaster\t"
    "configuration file\t{d}/es_rep.conf\t1\tt\n").format(d=DATA)
SETTINGS_PENDING = SETTINGS_VENDOR.replace(
    "wal_keep_size", "shared_buffers\t32768\t8kB\tpostmaster\tconfiguration file\tt\nwal_keep_size")
# Errors, as PostgreSQL 15 lists them: an invalid value (work_mem = 'lots'); an unknown parameter (then nothing
# is checked further: every line applied = f); a syntax error (the reading stops: later lines are not listed).
FS_INVALID = FS_VENDOR + (
    "24\twork_mem\t{d}/es_rep.conf\t5\tlots\tf\tsetting could not be applied\t4096\tkB\tuser\tdefault\t\\N\t\\N\tf\n"
).format(d=DATA)
FS_UNKNOWN = FS_VENDOR.replace("\tt\t\\N\t", "\tf\t\\N\t") + (
    "24\tshard_buffers\t{d}/es_rep.conf\t6\t1GB\tf\tunrecognized configuration parameter\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\n"
).format(d=DATA)
FS_SYNTAX = FS_VENDOR.split("23\tprimary_conninfo")[0].replace("\tt\t\\N\t", "\tf\t\\N\t") + (
    "25\t\\N\t{d}/es_rep.conf\t7\t\\N\tf\tsyntax error\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\n").format(d=DATA)
# A restart-only parameter changed in a file but not reloaded: could not be applied, no restart pending yet
# (valid or not cannot be told before a reload).
FS_UNRELOADED = FS_VENDOR + (
    "24\tmax_connections\t{d}/es_rep.conf\t6\t150\tf\tsetting could not be applied\t100\t\\N\tpostmaster\t"
    "configuration file\t{d}/kingbase.conf\t65\tf\n").format(d=DATA)
# The winner itself a no-op: es_rep.conf says ':' (a "temporary" fix that stayed).
FS_NOOP = FS_VENDOR.replace(SYSRMAN, ":")
SETTINGS_NOOP = SETTINGS_VENDOR.replace(SYSRMAN, ":")


def vendor(**over):
    answers = healthy_primary(file_settings=(0, FS_VENDOR, ""), settings=(0, SETTINGS_VENDOR, ""))
    answers.update(over)
    return answers


def only(findings, code):
    return [f for f in findings if f["code"] == code]


# ---- which file wins ------------------------------------------------------------------------------

def test_parse_file_settings_keeps_order_nulls_and_redacts_conninfo_passwords():
    parsed = kb.parse_file_settings(FS_VENDOR)
    assert parsed["unparsed"] == 0 and len(parsed["rows"]) == 12
    conninfo = parsed["rows"][-1]
    assert conninfo["value"] == "host=10.0.0.1 user=esrep password=<redacted>" == conninfo["live_value"]
    syntax = kb.parse_file_settings(FS_SYNTAX)["rows"][-1]
    assert syntax["name"] is None and syntax["error"] == "syntax error"
    assert kb.parse_file_settings("1\tport\tx\n")["unparsed"] == 1


def test_vendor_chain_overrides_are_listed_losers_to_winner(tmp_path):
    _, facts, findings, _ = run(tmp_path, vendor())
    cf = facts["config_files"]
    assert cf["files"] == [DATA + "/kingbase.conf", DATA + "/es_rep.conf", DATA + "/kingbase.auto.conf"]
    multiple = dict((m["name"], m) for m in cf["multiple"])
    assert sorted(multiple) == ["DateStyle", "archive_command", "max_wal_size", "shared_buffers"]
    assert multiple["shared_buffers"]["winner"] == {"file": DATA + "/es_rep.conf", "line": 1, "value": "256MB"}
    assert multiple["shared_buffers"]["losers"] == [{"file": DATA + "/kingbase.conf", "line": 127, "value": "128MB"}]
    # The same value twice is a fact, not a finding.
    assert multiple["DateStyle"]["differs"] is False
    (f,) = only(findings, "KB_SETTING_OVERRIDDEN")
    assert f["severity"] == "warning" and f["value"] == 3
    assert "shared_buffers：kingbase.conf:127 '128MB' → es_rep.conf:1 '256MB'" in f["message"]
    assert "max_wal_size：kingbase.conf:241 '1GB' → es_rep.conf:3 '2GB'" in f["message"]
    assert "DateStyle" not in f["message"]
    # After a restart everything the files say runs: nothing pending, no errors.
    assert cf["errors"] == [] and cf["not_applied"] == [] and cf["complete"]
    # The conninfo password appears nowhere.
    assert "s3cret" not in json.dumps([facts, findings])


def test_expected_overrides_and_a_single_file_raise_no_override(tmp_path):
    _, facts, findings, _ = run(tmp_path, vendor(), expected_overrides=["Shared_Buffers", "max_wal_size",
                                                                         "archive_command"])
    assert only(findings, "KB_SETTING_OVERRIDDEN") == []
    assert [m["expected"] for m in facts["config_files"]["multiple"] if m["name"] == "shared_buffers"] == [True]
    _, facts, findings, _ = run(tmp_path / "b", healthy_primary())
    assert facts["config_files"]["multiple"] == [] and findings == []


def test_values_in_other_units_or_spelling_are_the_same():
    assert kb.same_setting("128MB", "131072kB") and kb.same_setting("on", "true") and kb.same_setting("5min", "300s")
    assert kb.same_setting("16384", "128MB", unit="8kB") and not kb.same_setting("100", "100MB")
    assert not kb.same_setting("/data/Archive", "/data/archive") and not kb.same_setting("256MB", "512MB")
    assert kb.show_setting("32768", "8kB") == "256.0 MiB" and kb.show_setting("150", None) == "150"


def test_restart_pending_and_unreloaded_file_are_not_applied(tmp_path):
    _, facts, findings, _ = run(tmp_path, vendor(file_settings=(0, FS_PENDING, ""), settings=(0, SETTINGS_PENDING, "")))
    stale = dict((s["name"], s) for s in facts["config_files"]["not_applied"])
    assert stale["shared_buffers"]["cause"] == "restart" and stale["shared_buffers"]["value"] == "512MB"
    assert stale["shared_buffers"]["live"] == "256.0 MiB"
    assert stale["max_wal_size"]["cause"] == "reload" and stale["max_wal_size"]["live"] == "2.0 GiB"
    # The restart-pending line's 'could not be applied' is the pending restart, not a configuration error.
    assert facts["config_files"]["errors"] == [] and only(findings, "KB_CONFIG_FILE_ERROR") == []
    (f,) = only(findings, "KB_SETTING_NOT_APPLIED")
    assert f["severity"] == "warning" and f["value"] == 2
    assert "shared_buffers：kingbase.auto.conf:4 '512MB'，运行值 256.0 MiB（需重启）" in f["message"]
    assert "max_wal_size：es_rep.conf:3 '3GB'，运行值 2.0 GiB（文件已修改但未重载）" in f["message"]


def test_a_setting_removed_from_the_files_that_waits_for_a_restart():
    parsed = kb.parse_file_settings("")
    pending = kb.parse_settings("shared_preload_libraries\trepmgr\t\\N\tpostmaster\tconfiguration file\tt\n")
    (s,) = kb.analyse_file_settings(parsed, pending)["not_applied"]
    assert s["name"] == "shared_preload_libraries" and s["cause"] == "restart" and s["file"] is None


def test_command_line_overrides_only_when_the_value_differs():
    row = ("1\tport\t{d}/kingbase.conf\t12\t54321\tt\t\\N\t{v}\t\\N\tpostmaster\tcommand line\t\\N\t\\N\tf\n")
    same = kb.analyse_file_settings(kb.parse_file_settings(row.format(d=DATA, v="54321")))
    assert same["not_applied"] == []
    other = kb.analyse_file_settings(kb.parse_file_settings(row.format(d=DATA, v="54322")))
    assert [(s["name"], s["cause"]) for s in other["not_applied"]] == [("port", "command line")]
    # A role's or database's own setting (the inspection's session sees it) is not the files' business.
    session = row.format(d=DATA, v="54322").replace("command line", "user")
    assert kb.analyse_file_settings(kb.parse_file_settings(session))["not_applied"] == []


def test_config_errors_are_critical(tmp_path):
    _, facts, findings, _ = run(tmp_path, vendor(file_settings=(0, FS_INVALID, "")))
    (f,) = only(findings, "KB_CONFIG_FILE_ERROR")
    assert f["severity"] == "critical" and "es_rep.conf:5 work_mem = 'lots'（setting could not be applied）" in f["message"]
    assert "无法启动" in f["message"]
    _, facts, findings, _ = run(tmp_path / "b", vendor(file_settings=(0, FS_UNKNOWN, "")))
    (f,) = only(findings, "KB_CONFIG_FILE_ERROR")
    assert f["severity"] == "critical" and "shard_buffers" in f["message"] and "unrecognized configuration parameter" in f["message"]


def test_a_syntax_error_hides_the_chain(tmp_path):
    _, facts, findings, _ = run(tmp_path, vendor(file_settings=(0, FS_SYNTAX, "")))
    cf = facts["config_files"]
    assert not cf["complete"] and cf["multiple"] == [] and cf["not_applied"] == []
    assert [e["error"] for e in cf["errors"]] == ["syntax error"]
    (f,) = only(findings, "KB_CONFIG_FILE_ERROR")
    assert f["severity"] == "critical" and "es_rep.conf:7" in f["message"]
    # No override is claimed from an incomplete reading, nor a winning archive_command: the running one is judged.
    assert only(findings, "KB_SETTING_OVERRIDDEN") == [] and only(findings, "KB_ARCHIVE_NOOP_SHADOWED") == []
    assert facts["archive"]["source"] == "running value" and facts["archive"]["command"] == SYSRMAN


def test_an_unreloaded_restart_parameter_is_a_warning_an_invalid_one_critical(tmp_path):
    _, facts, findings, _ = run(tmp_path, vendor(file_settings=(0, FS_UNRELOADED, "")))
    (e,) = facts["config_files"]["errors"]
    assert e["name"] == "max_connections" and e["kind"] == "restart_or_invalid"
    (f,) = only(findings, "KB_CONFIG_FILE_ERROR")
    assert f["severity"] == "warning" and "pending_restart" in f["message"]
    invalid = FS_UNRELOADED.replace("\t150\tf\tsetting", "\tmany\tf\tsetting")
    _, facts, findings, _ = run(tmp_path / "b", vendor(file_settings=(0, invalid, "")))
    assert [f["severity"] for f in only(findings, "KB_CONFIG_FILE_ERROR")] == ["critical"]


def test_sys_file_settings_missing_is_a_query_error_not_a_finding(tmp_path):
    missing = (3, "", 'ERROR:  relation "sys_file_settings" does not exist\n')
    _, facts, findings, _ = run(tmp_path, vendor(file_settings=missing))
    assert facts["config_files"] is None and "file_settings" in facts["query_errors"]
    assert findings == []


# ---- archive_command ------------------------------------------------------------------------------

@pytest.mark.parametrize("command", [":", "true", "/bin/true", "/usr/bin/true", "exit 0", "exit", "echo %p",
                                     "cp %p /dev/null", "cat %p > /dev/null", "sh -c 'exit 0'", "true; exit 0"])
def test_noop_archive_commands(command):
    assert kb.is_noop_command(command)


@pytest.mark.parametrize("command", ["", "exit 1", SYSRMAN, SYSRMAN + " # pgbackrest", SYSRMAN + " || true",
                                     "test ! -f /arch/%f && cp %p /arch/%f", "cp %p /arch/%f", "false",
                                     "sh -c 'cp %p /arch/%f'", "echo 'unclosed"])
def test_real_or_failing_archive_commands_are_not_noops(command):
    assert not kb.is_noop_command(command)


def test_archive_command_config_in_both_forms():
    assert kb.parse_archive_command(SYSRMAN) == {"tool": "sys_rman", "config": "/home/kingbase/rman/sys_rman.conf",
                                                 "stanza": "kingbase"}
    assert kb.parse_archive_command(BIN + "/sys_rman --config=/etc/sys_rman/sys_rman.conf --stanza city_a "
                                    "archive-push %p # pgbackrest")["config"] == "/etc/sys_rman/sys_rman.conf"


def test_shadowed_noop_archive_command(tmp_path):
    _, facts, findings, _ = run(tmp_path, vendor())
    arch = facts["archive"]
    assert arch["command"] == SYSRMAN and arch["source"] == DATA + "/es_rep.conf:2" and not arch["noop"]
    assert arch["config"] == "/home/kingbase/rman/sys_rman.conf" and arch["stanza"] == "kingbase"
    assert arch["shadowed_noops"] == [{"file": DATA + "/kingbase.conf", "line": 820, "value": "exit 0"}]
    (f,) = only(findings, "KB_ARCHIVE_NOOP_SHADOWED")
    assert f["severity"] == "warning" and "kingbase.conf:820 'exit 0'" in f["message"]
    assert "当前生效的是 es_rep.conf:2" in f["message"]
    assert only(findings, "KB_ARCHIVE_NOOP") == []


def test_winning_noop_archive_command_is_critical(tmp_path):
    _, facts, findings, _ = run(tmp_path, vendor(file_settings=(0, FS_NOOP, ""), settings=(0, SETTINGS_NOOP, "")))
    (f,) = only(findings, "KB_ARCHIVE_NOOP")
    assert f["severity"] == "critical" and "es_rep.conf:2" in f["message"] and "PITR" in f["message"]
    assert only(findings, "KB_ARCHIVE_NOOP_SHADOWED") == []


def test_noop_running_value_without_a_file_line(tmp_path):
    # archive_command set nowhere in the files, the running value a no-op (set on the command line).
    answers = healthy_primary(file_settings=(0, "", ""), settings=(0, SETTINGS_NOOP, ""))
    _, facts, findings, _ = run(tmp_path, answers)
    assert facts["archive"]["source"] == "running value"
    assert [f["code"] for f in findings] == ["KB_ARCHIVE_NOOP"]


def test_noop_archive_command_without_archiving_or_with_a_library_is_no_finding(tmp_path):
    off = SETTINGS_NOOP.replace("archive_mode\ton", "archive_mode\toff")
    _, facts, findings, _ = run(tmp_path, vendor(file_settings=(0, FS_NOOP.replace("\ton\tt\t\\N\ton\t", "\toff\tt\t\\N\toff\t"), ""),
                                                 settings=(0, off, "")))
    assert only(findings, "KB_ARCHIVE_NOOP") == [] and only(findings, "KB_ARCHIVE_NOOP_SHADOWED") == []
    library = SETTINGS_NOOP.replace("archive_library\t\t", "archive_library\tbasic_archive\t")
    _, _, findings, _ = run(tmp_path / "b", vendor(file_settings=(0, FS_NOOP, ""), settings=(0, library, "")))
    assert only(findings, "KB_ARCHIVE_NOOP") == []


# ---- sys_wal against max_wal_size -------------------------------------------------------------------

MIB = 1024 * 1024


def small_wal_settings(max_wal="64", keep=None):
    text = SETTINGS_VENDOR.replace("max_wal_size\t2048\tMB", "max_wal_size\t%s\tMB" % max_wal)
    if keep is not None:  # V8R6 (PostgreSQL 12 base): wal_keep_segments, no wal_keep_size
        text = text.replace("wal_keep_size\t0\tMB\tsighup\tdefault", "wal_keep_segments\t%s\t\\N\tsighup\tconfiguration file" % keep)
    return text


def test_wal_directory_far_beyond_max_wal_size(tmp_path):
    _, facts, findings, metrics = run(tmp_path, vendor(settings=(0, small_wal_settings(), "")), ready=40,
                                      wal_bytes=300 * MIB)
    ret = facts["wal"]["retention"]
    assert ret["max_wal_size_bytes"] == 64 * MIB and ret["allowed_bytes"] == 64 * MIB and ret["factor"] == 4.69
    (f,) = only(findings, "KB_WAL_DIR_OVERSIZED")
    assert f["severity"] == "critical" and f["value"] == 4.69 and f["threshold"] == 4.0
    assert "40 个 WAL 等待归档" in f["message"] and "64.0 MiB" in f["message"]
    assert metrics["kb_wal_retention_factor"] == 4.69 and metrics["kb_wal_bytes"] == 300 * MIB + 1024


def test_wal_keep_segments_and_slots_count_in_the_allowance(tmp_path):
    # 64 MiB + 4 x 16 MiB (wal_keep_segments) + 6418856 bytes an inactive slot holds: 180 MiB is 1.4 times that.
    answers = vendor(settings=(0, small_wal_settings(keep="4"), ""), slots=(0, "repmgr_slot_2\tphysical\tf\t6418856\n", ""))
    _, facts, findings, _ = run(tmp_path, answers, wal_bytes=180 * MIB)
    ret = facts["wal"]["retention"]
    assert ret["wal_keep_bytes"] == 64 * MIB and ret["slot_retained_bytes"] == 6418856
    assert only(findings, "KB_WAL_DIR_OVERSIZED") == []
    _, facts, findings, _ = run(tmp_path / "b", answers, wal_bytes=300 * MIB)
    (f,) = only(findings, "KB_WAL_DIR_OVERSIZED")
    assert f["severity"] == "warning" and "repmgr_slot_2" in f["message"] and "wal_keep" in f["message"]


def test_wal_directory_within_max_wal_size_or_unknown(tmp_path):
    _, facts, findings, _ = run(tmp_path, vendor(), wal_bytes=1500 * MIB)
    assert facts["wal"]["retention"]["factor"] < 1 and only(findings, "KB_WAL_DIR_OVERSIZED") == []
    # Without the settings (the query failed) the size is not judged.
    _, facts, findings, _ = run(tmp_path / "b", vendor(settings=(3, "", "ERROR: permission denied\n")), wal_bytes=900 * MIB)
    assert "retention" not in facts["wal"] and only(findings, "KB_WAL_DIR_OVERSIZED") == []


# ---- repmgr.conf, trusted_servers and ping ----------------------------------------------------------

REPMGR_CONF = """\
# repmgr.conf written by the vendor's deployer
node_id=1
node_name='node1'
conninfo='host=10.231.10.11 user=esrep dbname=esrep port=54321 connect_timeout=10 keepalives=1 password=Es#rep1'
data_directory='/home/kingbase/cluster/kingbase/data'
sys_bindir='/home/kingbase/cluster/kingbase/bin'
use_scmd=on
reconnect_attempts=10
reconnect_interval = 6   # seconds
trusted_servers='10.231.10.1,10.231.10.254'
running_under_failure_trusted_servers=on
virtual_ip='10.231.10.10/24'
ssh_password = 'Kb-secret'
"""


def test_parse_conf_quotes_comments_and_redaction():
    keys = kb.parse_conf(REPMGR_CONF + "note='it''s quoted' # comment\nbare value\n")
    assert keys["node_name"] == "node1" and keys["reconnect_interval"] == "6" and keys["note"] == "it's quoted"
    assert keys["trusted_servers"] == "10.231.10.1,10.231.10.254" and keys["bare"] == "value"
    assert kb.trusted_servers(keys) == ["10.231.10.1", "10.231.10.254"]
    facts = kb.redact_conf(keys)
    assert facts["ssh_password"] == "<redacted>" and facts["conninfo"].endswith("password=<redacted>")
    assert "Es#rep1" not in json.dumps(facts) and "Kb-secret" not in json.dumps(facts)


def cluster_node(tmp_path, repmgr_text):
    conf = tmp_path / "etc" / "repmgr.conf"
    conf.parent.mkdir(parents=True)
    conf.write_text(repmgr_text)
    cron = "*/1 * * * * . /etc/profile;%s/kbha -A daemon -f %s\n" % (BIN, conf)
    procs = {4242: [BIN + "/repmgrd", "-d", "-f", str(conf)]}
    return str(conf), cron, procs


def ping_file(tmp_path, mode=0o755):
    path = tmp_path / "ping"
    path.write_bytes(b"\x7fELF")
    os.chmod(str(path), mode)
    return str(path)


def vfs_cap(caps):
    """struct vfs_cap_data revision 2, effective flag set: what setcap cap_net_raw+ep writes."""
    return struct.pack("<IIIII", 0x02000000 | 1, caps, 0, 0, 0)


@pytest.fixture
def ping_env(tmp_path, monkeypatch):
    groups = tmp_path / "ping_group_range"
    groups.write_text("1\t0\n")  # the kernel default: no group may open an unprivileged ICMP socket
    monkeypatch.setattr(mod, "PING_GROUP_RANGE", str(groups))
    return groups


def xattr_returning(value):
    def getxattr(path, name):
        assert name == "security.capability"
        if isinstance(value, OSError):
            raise value
        return value
    return getxattr


def test_trusted_servers_failure_mode_and_ping_with_cap(tmp_path, monkeypatch, ping_env):
    conf, cron, procs = cluster_node(tmp_path, REPMGR_CONF)
    monkeypatch.setattr(mod, "_getxattr", xattr_returning(vfs_cap(1 << 13)))
    _, facts, findings, _ = run(tmp_path, healthy_primary(crontab=(0, cron, "")), procs=procs, repmgr_conf=conf,
                                ping_path=ping_file(tmp_path))
    assert codes(findings) == [("KB_TRUSTED_SERVERS_FAILURE_MODE", "warning", "city-kb01")]
    assert facts["repmgr_settings"]["keys"]["use_scmd"] == "on" and facts["repmgrd_running"]
    assert facts["ping"]["cap_net_raw"] and facts["ping"]["ok"] and facts["ping"]["checked"]
    assert "Kb-secret" not in json.dumps(facts) and "Es#rep1" not in json.dumps(facts)
    # off: no finding.
    conf, cron, procs = cluster_node(tmp_path / "b", REPMGR_CONF.replace("trusted_servers=on", "trusted_servers=off"))
    _, _, findings, _ = run(tmp_path / "b", healthy_primary(crontab=(0, cron, "")), procs=procs, repmgr_conf=conf,
                            ping_path=ping_file(tmp_path / "b"))
    assert findings == []


def test_ping_without_cap_is_critical(tmp_path, monkeypatch, ping_env):
    conf, cron, procs = cluster_node(tmp_path, REPMGR_CONF.replace("trusted_servers=on", "trusted_servers=off"))
    monkeypatch.setattr(mod, "_getxattr", xattr_returning(OSError(errno.ENODATA, "No data available")))
    ping = ping_file(tmp_path)
    _, facts, findings, _ = run(tmp_path, healthy_primary(crontab=(0, cron, "")), procs=procs, repmgr_conf=conf,
                                ping_path=ping)
    assert codes(findings) == [("KB_PING_NO_CAP", "critical", "city-kb01")]
    assert ping in findings[0]["message"] and facts["ping"]["cap_net_raw"] is False
    # A capability without cap_net_raw is no better.
    monkeypatch.setattr(mod, "_getxattr", xattr_returning(vfs_cap(1 << 12)))
    _, _, findings, _ = run(tmp_path / "b", healthy_primary(crontab=(0, cron, "")), procs=procs, repmgr_conf=conf,
                            ping_path=ping)
    assert [f["code"] for f in findings] == ["KB_PING_NO_CAP"]


def test_ping_allowed_by_ping_group_range(tmp_path, monkeypatch, ping_env):
    conf, cron, procs = cluster_node(tmp_path, REPMGR_CONF.replace("trusted_servers=on", "trusted_servers=off"))
    monkeypatch.setattr(mod, "_getxattr", xattr_returning(OSError(errno.ENODATA, "No data available")))
    ping_env.write_text("0\t2147483647\n")
    _, facts, findings, _ = run(tmp_path, healthy_primary(crontab=(0, cron, "")), procs=procs, repmgr_conf=conf,
                                ping_path=ping_file(tmp_path))
    assert findings == [] and facts["ping"]["group_allowed"] and facts["ping"]["ok"]


def test_ping_unreadable_capability_is_a_fact_not_a_finding(tmp_path, monkeypatch, ping_env):
    conf, cron, procs = cluster_node(tmp_path, REPMGR_CONF.replace("trusted_servers=on", "trusted_servers=off"))
    monkeypatch.setattr(mod, "_getxattr", xattr_returning(OSError(errno.EOPNOTSUPP, "Operation not supported")))
    ping = ping_file(tmp_path)
    module, facts, findings, _ = run(tmp_path, healthy_primary(crontab=(0, cron, "")), procs=procs, repmgr_conf=conf,
                                     ping_path=ping)
    assert findings == [] and facts["ping"]["checked"] is False and facts["ping"]["ok"] is None
    assert "getcap is not installed" in facts["ping"]["error"]
    # With getcap installed, its answer decides (both output forms).
    for i, (out, ok) in enumerate((("%s cap_net_raw=ep\n" % ping, True), ("%s = cap_net_admin,cap_net_raw+p\n" % ping, True),
                                   ("%s cap_net_admin=ep\n" % ping, False), ("", False))):
        answers = healthy_primary(crontab=(0, cron, ""), getcap=(0, out, ""))
        answers["bin:getcap"] = "/usr/sbin/getcap"
        module, facts, findings, _ = run(tmp_path / ("g%d" % i), answers, procs=procs, repmgr_conf=conf, ping_path=ping)
        assert facts["ping"]["ok"] is ok and bool(findings) is not ok, out
        assert ["/usr/sbin/getcap", ping] in module.ran


def test_no_trusted_servers_no_ping_check(tmp_path, monkeypatch):
    conf, cron, procs = cluster_node(tmp_path, "node_id=1\nnode_name='node1'\n")
    monkeypatch.setattr(mod, "_getxattr", lambda path, name: pytest.fail("ping read without trusted_servers"))
    _, facts, findings, _ = run(tmp_path, healthy_primary(crontab=(0, cron, "")), procs=procs, repmgr_conf=conf)
    assert findings == [] and "ping" not in facts


def test_ping_view_setuid_root_and_a_missing_ping():
    assert kb.ping_view("/bin/ping", True, True, {"permitted": 0}, None, None, [1000])["ok"] is True
    missing = kb.ping_view("/bin/ping", False, False, None, "/bin/ping: No such file or directory", None, [1000])
    assert missing["checked"] is False and missing["ok"] is None
    assert kb.parse_vfs_cap(b"") == {"revision": None, "permitted": 0, "effective": False}
    assert kb.parse_vfs_cap(vfs_cap(1 << 13))["permitted"] == 1 << 13 and kb.parse_vfs_cap(b"\x00" * 20) is None
    assert kb.parse_ping_group_range("1\t0\n") == (1, 0) and kb.parse_ping_group_range("") is None


# ---- repmgrd and the kbha cron policy (K41) ---------------------------------------------------------

def test_repmgrd_matches_the_given_repmgr_conf_in_every_form(tmp_path):
    real = tmp_path / "etc" / "repmgr.conf"
    real.parent.mkdir()
    real.write_text("")
    link = tmp_path / "kb_home"
    link.symlink_to(tmp_path / "etc")
    for argv in (["/bin/repmgrd", "-f", str(real)], ["repmgrd", "--config-file=%s" % real], ["repmgrd", "-f%s" % real],
                 ["repmgrd", "--daemonize", "--config-file", str(real)], ["repmgrd", "-f", str(link / "repmgr.conf")]):
        assert kb.repmgrd_cmdline_matches(argv, str(real), os.path.realpath), argv
    assert not kb.repmgrd_cmdline_matches(["repmgrd", "-f", "/other/repmgr.conf"], str(real), os.path.realpath)
    assert not kb.repmgrd_cmdline_matches(["repmgr", "-f", str(real)], str(real), os.path.realpath)
    assert not kb.repmgrd_cmdline_matches(["kbha", "-A", "daemon", "-f", str(real)], str(real), os.path.realpath)


VENDOR_LINE = "*/1 * * * * . /etc/profile;%s/kbha -A daemon -f %s" % (BIN, CONF)


def test_kbha_in_etc_cron_d(tmp_path):
    cron_d = tmp_path / "cron.d"
    cron_d.mkdir()
    (cron_d / "KINGBASECRON").write_text(VENDOR_LINE.replace("* * * * .", "* * * * kingbase .") + "\n")
    (cron_d / ".placeholder").write_text(VENDOR_LINE + "\n")
    _, facts, findings, _ = run(tmp_path, healthy_primary(crontab=(1, "", "no crontab for kingbase\n")), cron_d=cron_d)
    assert findings == [] and facts["kbha_cron"]["source"] == str(cron_d / "KINGBASECRON")
    assert kb.cron_d_names(["KINGBASECRON", ".placeholder", "x~", "y.rpmsave", "e2scrub_all"]) == ["KINGBASECRON", "e2scrub_all"]


def test_kbha_cron_policy_manual_recovery(tmp_path):
    commented = (0, "#" + VENDOR_LINE + "\n", "")
    _, facts, findings, _ = run(tmp_path, healthy_primary(crontab=commented), kbha_cron_policy="manual_recovery")
    assert findings == [] and facts["kbha_cron"]["commented"] == "#" + VENDOR_LINE
    assert facts["kbha_cron"]["policy"] == "manual_recovery" and not facts["kbha_cron"]["present"]
    # No line at all under manual recovery: a warning, not the critical.
    _, _, findings, _ = run(tmp_path / "b", healthy_primary(crontab=(0, "", "")), kbha_cron_policy="manual_recovery")
    assert codes(findings) == [("KB_KBHA_CRON_MISSING", "warning", "city-kb01")]
    # repmgrd down under the policy: the message does not promise that kbha restarts it.
    _, _, findings, _ = run(tmp_path / "c", healthy_primary(crontab=commented), procs={}, kbha_cron_policy="manual_recovery")
    assert codes(findings) == [("KB_REPMGRD_NOT_RUNNING", "warning", "city-kb01")] and "手工启动" in findings[0]["message"]


def test_kbha_cron_policy_required_treats_a_commented_line_as_missing(tmp_path):
    commented = (0, "# " + VENDOR_LINE + "\n", "")
    _, facts, findings, _ = run(tmp_path, healthy_primary(crontab=commented))
    assert codes(findings) == [("KB_KBHA_CRON_MISSING", "critical", "city-kb01")]
    assert "被注释" in findings[0]["message"] and "manual_recovery" in findings[0]["action"]


# ---- licence (K30-K32, K44) ---------------------------------------------------------------------------

VENDOR_PERMANENT = """\
==============================================================
                 KingbaseES 许可证信息
==============================================================
产品名称：KingbaseES V8
版本号：V008R006
授权类型：企业版
生产日期：2024-03-15
有效期间：0
MAC地址：00:16:3E:12:34:56
最大连接数：不限
用户名称：淮安市政务服务管理办公室
"""
VENDOR_DATED = VENDOR_PERMANENT.replace("有效期间：0", "有效期间: 1000").replace("生产日期：2024-03-15", "生产日期=2024-03-15")
VENDOR_TRIAL = (VENDOR_PERMANENT.replace("有效期间：0", "有效期间：90").replace("2024-03-15", "2026年10月01日")
                .replace("淮安市政务服务管理办公室", "官方网站试用授权"))
LAB_LICENCE = ("# KingbaseES licence for the lab stand-in (not a vendor licence)\nPRODUCT=KingbaseES\n"
               "VERSION=V008R006C008B0014\nISSUE_DATE=2026-11-20\nEXPIRE_DATE=2027-11-20\nMAX_CONNECTIONS=unlimited\n")


def test_parse_license_file_kinds():
    assert kb.parse_license_file(VENDOR_PERMANENT, TODAY)["kind"] == "permanent"
    dated = kb.parse_license_file(VENDOR_DATED, TODAY)
    assert dated["kind"] == "dated" and dated["expiry_date"] == "2026-12-10" and dated["days_left"] == 9
    trial = kb.parse_license_file(VENDOR_TRIAL, TODAY)
    assert trial["kind"] == "trial" and trial["expiry_date"] == "2026-12-30" and trial["days_left"] == 29
    lab = kb.parse_license_file(LAB_LICENCE, TODAY)
    assert lab["kind"] == "dated" and lab["expiry_date"] == "2027-11-20" and lab["days_left"] == 354
    assert kb.parse_license_file("garbage\n", TODAY)["kind"] is None


def test_license_view_sources_and_the_minus_two():
    permanent = kb.parse_license_file(VENDOR_PERMANENT, TODAY)
    # The file says permanent: the function's 0 (or anything) is not days left.
    assert kb.license_view(permanent, None, 0, None, TODAY)["days_left"] is None
    view = kb.license_view(None, None, -2, None, TODAY)
    assert view["kind"] == "permanent" and view["confidence"] == "low"
    view = kb.license_view(None, None, 12, None, TODAY)
    assert view["kind"] == "dated" and view["expiry_date"] == "2026-12-13" and view["days_left"] == 12
    # A dated file: the server's own count wins, the file's expiry date stays.
    view = kb.license_view(kb.parse_license_file(VENDOR_DATED, TODAY), None, 8, None, TODAY)
    assert view["days_left"] == 8 and view["expiry_date"] == "2026-12-10" and view["source"] == "license.dat"
    assert kb.license_view(None, None, None, "no function", TODAY)["kind"] is None


def licence_file(tmp_path, text, encoding="utf-8"):
    path = tmp_path / "license.dat"
    path.write_bytes(text.encode(encoding))
    return str(path)


def test_permanent_licence_is_never_a_finding(tmp_path):
    path = licence_file(tmp_path, VENDOR_PERMANENT)
    for i, sql in enumerate(["0\n", "-2\n", "-3\n"]):
        _, facts, findings, metrics = run(tmp_path / str(i), healthy_primary(license=(0, sql, "")), license_path=path)
        assert findings == [] and facts["license"]["kind"] == "permanent", sql
        assert "kb_license_days" not in metrics
    # -2 from the function with no licence file: permanent, low confidence, no finding.
    _, facts, findings, _ = run(tmp_path / "x", healthy_primary(license=(0, "-2\n", "")))
    assert findings == [] and facts["license"]["confidence"] == "low"


def test_trial_licence_is_a_warning(tmp_path):
    path = licence_file(tmp_path, VENDOR_TRIAL, "gb18030")  # older vendor files are GBK
    _, facts, findings, _ = run(tmp_path / "a", healthy_primary(license=(0, "200\n", "")), license_path=path)
    assert codes(findings) == [("KB_LICENSE_TRIAL", "warning", "city-kb01")]
    assert facts["license"]["kind"] == "trial"
    # A trial that is also running out: both.
    _, _, findings, _ = run(tmp_path / "b", healthy_primary(license=(0, "12\n", "")), license_path=path)
    assert codes(findings) == [("KB_LICENSE_EXPIRING", "warning", "city-kb01"), ("KB_LICENSE_TRIAL", "warning", "city-kb01")]


def test_dated_licence_from_the_file_when_the_function_is_missing_or_the_server_down(tmp_path):
    path = licence_file(tmp_path, VENDOR_DATED)
    error = (3, "", "ERROR:  function get_license_validdays() does not exist\n")
    _, facts, findings, _ = run(tmp_path / "a", healthy_primary(license=error), license_path=path)
    assert codes(findings) == [("KB_LICENSE_EXPIRING", "warning", "city-kb01")] and findings[0]["value"] == 9
    # A stopped node whose licence has expired will not start: said even while it is down.
    (tmp_path / "e").mkdir()
    expired = licence_file(tmp_path / "e", VENDOR_DATED.replace("1000", "100"))
    _, facts, findings, _ = run(tmp_path / "b", healthy_primary(isready=(2, "no response\n", "")), license_path=expired)
    assert codes(findings) == [("KB_DOWN", "critical", "city-kb01"), ("KB_LICENSE_EXPIRED", "critical", "city-kb01")]
    # The lab's licence: a year left.
    (tmp_path / "l").mkdir()
    lab = licence_file(tmp_path / "l", LAB_LICENCE)
    _, facts, findings, _ = run(tmp_path / "c", healthy_primary(license=(0, "354\n", "")), license_path=lab)
    assert findings == [] and facts["license"]["expiry_date"] == "2027-11-20"


def test_unreadable_licence_file_and_function(tmp_path):
    error = (3, "", "ERROR:  function get_license_validdays() does not exist\n")
    _, facts, findings, _ = run(tmp_path, healthy_primary(license=error), license_path=str(tmp_path / "missing.dat"))
    (f,) = findings
    assert f["code"] == "KB_LICENSE_UNREADABLE" and "missing.dat" in f["message"] and "does not exist" in f["message"]


# ---- all_nodes_tools.conf (K45) -------------------------------------------------------------------------

TOOLS_CONF = """\
# all_nodes_tools.conf (vendor)
all_ip=(10.231.10.11 10.231.10.12)
db_user=system
db_password=S2luZ2Jhc2VAMjAyNA==
db_port=54321
"""


def tools_conf(tmp_path, text, mode):
    path = tmp_path / "all_nodes_tools.conf"
    path.write_text(text)
    os.chmod(str(path), mode)
    return str(path)


def test_tools_conf_with_a_password_readable_by_others(tmp_path):
    path = tools_conf(tmp_path, TOOLS_CONF, 0o644)
    _, facts, findings, _ = run(tmp_path / "a", healthy_primary(), tools_conf_path=path)
    assert codes(findings) == [("KB_TOOLS_CONF_READABLE", "warning", path)]
    assert "0644" in findings[0]["message"] and "db_password" in findings[0]["message"]
    assert facts["tools_conf"]["password_keys"] == ["db_password"]
    assert "S2luZ2Jhc2VAMjAyNA" not in json.dumps([facts, findings])
    os.chmod(path, 0o640)  # group-readable counts too
    _, _, findings, _ = run(tmp_path / "b", healthy_primary(), tools_conf_path=path)
    assert [f["code"] for f in findings] == ["KB_TOOLS_CONF_READABLE"]


def test_tools_conf_private_without_password_or_missing_is_fine(tmp_path):
    path = tools_conf(tmp_path, TOOLS_CONF, 0o600)
    _, facts, findings, _ = run(tmp_path / "a", healthy_primary(), tools_conf_path=path)
    assert findings == [] and facts["tools_conf"]["mode"] == "0600"
    os.chmod(path, 0o644)
    with open(path, "w") as handle:
        handle.write(TOOLS_CONF.replace("db_password=S2luZ2Jhc2VAMjAyNA==", "db_password="))
    _, _, findings, _ = run(tmp_path / "b", healthy_primary(), tools_conf_path=path)
    assert findings == []
    _, facts, findings, _ = run(tmp_path / "c", healthy_primary(), tools_conf_path=str(tmp_path / "none.conf"))
    assert findings == [] and facts["tools_conf"] == {"path": str(tmp_path / "none.conf"), "exists": False}


def test_password_keys_names_only():
    assert kb.password_keys("db_password=abc\npasswd: x\nPWD=y\npassword_encryption=scram-sha-256\nuser=system\n") == [
        "db_password", "passwd", "PWD"]


# ---- the inputs and the new thresholds ---------------------------------------------------------------

def test_new_thresholds_and_sql_names_have_defaults():
    assert TH["wal_dir_max_wal_size_factor_warning"] == 2.0 and TH["wal_dir_max_wal_size_factor_critical"] == 4.0
    assert kb.DEFAULT_SQL_NAMES["file_settings"] == "sys_file_settings"
    q = kb.build_queries(kb.merge_sql_names({"file_settings": "kb_file_settings_v"}), TH)
    assert "from kb_file_settings_v f left join sys_settings s" in q["file_settings"]


def test_noop_archive_command_judged_from_the_files_when_sys_settings_is_unreadable(tmp_path):
    _, facts, findings, _ = run(tmp_path, vendor(file_settings=(0, FS_NOOP, ""), settings=(3, "", "ERROR: denied\n")))
    assert facts["archive"]["mode"] == "on"  # the core query's archive_mode
    assert [f["code"] for f in findings if f["code"].startswith("KB_ARCHIVE")] == ["KB_ARCHIVE_NOOP"]
