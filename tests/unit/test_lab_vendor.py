"""The vendor-installed lab's stand-ins (lab/media/kingbase-vendor, lab/lab.py container options), on the controller.

sys_rman (lab/media/kingbase/Server/bin/sys_rman, the one stand-in both labs install) speaks the vendor's interface: kbN-* options (configuration file and command line) reach pgBackRest as
pgN-*, pgN-* options are refused as the real sys_rman refuses them, and no password reaches a configuration file
(the translation is private, and kept for pgBackRest's detached processes). repmgr.conf's vendor keys are kept from upstream repmgr.
"""
import os
import pathlib
import shutil
import stat
import subprocess
import sys

import pytest

from conftest import load_script

ROOT = pathlib.Path(__file__).resolve().parents[2]
VENDOR = ROOT / "lab" / "media" / "kingbase-vendor"
# One sys_rman stand-in for both labs: the greenfield media's (vendor_install.yml does not overlay it).
SYS_RMAN = ROOT / "lab" / "media" / "kingbase" / "Server" / "bin" / "sys_rman"



sys_rman = load_script("sys_rman_standin", SYS_RMAN)
repmgr_conf = load_script("repmgr_conf_standin", VENDOR / "lib" / "kb-lab" / "repmgr_conf.py")
lab = load_script("lab_py", ROOT / "lab" / "lab.py")

# As sys_backup.sh writes it on the repository host (K37): kb-prefixed keys, the remote node with kb2-host.
REPO_CONF = """\
# Genarate by script at 20261207024106, should not change manually
[kingbase]
kb1-path=/home/kingbase/cluster/kingbase/data
kb1-port=54321
kb1-user=system
kb2-path=/home/kingbase/cluster/kingbase/data
kb2-port=54321
kb2-user=system
kb2-host=10.231.30.11
kb2-host-user=kingbase
kb2-pass=Secret-Pa55:word

[global]
repo1-path=/home/kingbase/kbbr_repo
repo1-retention-full=5
log-path=/tmp/
"""
# ... and on the other database nodes: the repository reached over SSH.
DB_CONF = """\
[kingbase]
kb1-path=/home/kingbase/cluster/kingbase/data
[global]
repo1-host=10.231.30.12
repo1-host-user=kingbase
repo1-host-config=/home/kingbase/kbbr_repo/sys_rman.conf
repo1-path=/home/kingbase/kbbr_repo
"""
SELF = "/home/kingbase/cluster/kingbase/bin/sys_rman"


def options(text):
    return [line for line in text.splitlines() if "=" in line and not line.startswith("#")]


def test_kb_keys_reach_pgbackrest_as_pg_keys():
    text, passwords = sys_rman.translate_config(REPO_CONF, SELF, "/home/kingbase/kbbr_repo/sys_rman.conf")
    opts = options(text)
    for key in ("pg1-path=/home/kingbase/cluster/kingbase/data", "pg1-port=54321", "pg1-user=system",
                "pg2-host=10.231.30.11", "pg2-host-user=kingbase", "repo1-path=/home/kingbase/kbbr_repo",
                "repo1-retention-full=5", "log-path=/tmp/"):
        assert key in opts
    assert not [o for o in opts if o.startswith("kb")]
    # What sys_rman knows without being told: its own path at the remote end, the same configuration file
    # there, Kingbase's socket directory, the database test and its lock path.
    assert {"pg2-host-cmd=" + SELF, "pg2-host-config=/home/kingbase/kbbr_repo/sys_rman.conf", "pg1-socket-path=/tmp",
            "pg1-database=test", "lock-path=/tmp/sys_rman"} <= set(opts)
    assert "pg1-host-cmd=" + SELF not in opts  # pg1 is local
    # The password is taken out of the configuration.
    assert "Secret-Pa55" not in text
    assert passwords["2"] == {"pass": "Secret-Pa55:word", "user": "system", "port": "54321"}


def test_the_db_nodes_configuration_reaches_the_repository_through_sys_rman():
    text, _ = sys_rman.translate_config(DB_CONF, SELF, "/home/kingbase/kbbr_repo/sys_rman.conf")
    opts = options(text)
    assert "repo1-host-cmd=" + SELF in opts and "pg1-path=/home/kingbase/cluster/kingbase/data" in opts


@pytest.mark.parametrize("key", ["pg1-path", "pg2-host", "pg-path", "pg1-socket-path"])
def test_pg_keys_in_the_configuration_file_are_refused(key):
    with pytest.raises(sys_rman.Refused) as refused:
        sys_rman.translate_config("[kingbase]\n%s=/x\n[global]\nrepo1-path=/r\n" % key, SELF, "/c")
    assert str(refused.value) == "ERROR: [031]: configuration file contains invalid option '%s'" % key
    assert refused.value.code == 31


def test_command_line_kb_options_are_translated_and_pg_options_refused():
    args, config, internal, passwords = sys_rman.translate_args(
        ["--config", "/r/sys_rman.conf", "--stanza=kingbase", "--kb1-path=/d", "--kb2-pass=pw", "--no-kb2-host-cmd",
         "archive-push", "pg_wal/000000010000000000000003"])
    assert config == "/r/sys_rman.conf" and not internal and passwords == {"2": {"pass": "pw"}}
    assert args == ["--stanza=kingbase", "--pg1-path=/d", "--no-pg2-host-cmd", "archive-push", "pg_wal/000000010000000000000003"]
    for bad in ("--pg1-path=/d", "--pg2-host", "--no-pg1-socket-path", "--reset-pg1-port"):
        with pytest.raises(sys_rman.Refused) as refused:
            sys_rman.translate_args(["--stanza=kingbase", bad, "info"])
        assert str(refused.value) == "ERROR: [031]: invalid option '%s'" % bad


def test_pgbackrests_own_sub_processes_pass_unchanged():
    args, config, internal, _ = sys_rman.translate_args(
        ["--config=/r/sys_rman.conf", "--exec-id=1-ab", "--pg1-path=/d", "--process=0", "--remote-type=pg", "backup:remote"])
    assert internal and config == "/r/sys_rman.conf"
    assert args == ["--exec-id=1-ab", "--pg1-path=/d", "--process=0", "--remote-type=pg", "backup:remote"]


def run_sys_rman(tmp_path, *args):
    """sys_rman as a program, pgBackRest replaced by a script that records what it was given."""
    fake = tmp_path / "pgbackrest"
    seen = tmp_path / "seen"
    fake.write_text("#!/bin/sh\nfor a in \"$@\"; do case $a in --config=*) c=${a#--config=} ;; esac; done\n"
                    "{ echo \"args: $*\"; stat -c 'mode %%a' \"$c\"; stat -c 'dirmode %%a' \"$(dirname \"$c\")\"; cat \"$c\";"
                    " echo \"passfile: $PGPASSFILE\"; [ -f \"$PGPASSFILE\" ] && stat -c 'passmode %%a' \"$PGPASSFILE\""
                    " && cat \"$PGPASSFILE\"; } > %s\nexit 7\n" % seen)
    fake.chmod(0o755)
    env = dict(os.environ, HOME=str(tmp_path / "home"), SYS_RMAN_LAB_PGBACKREST=str(fake))
    env.pop("PGPASSFILE", None)
    (tmp_path / "home").mkdir(exist_ok=True)
    res = subprocess.run([sys.executable, str(SYS_RMAN)] + list(args), env=env, capture_output=True, text=True)
    return res, (seen.read_text() if seen.exists() else None)


def test_the_translation_is_private_and_kept_for_detached_processes(tmp_path):
    conf = tmp_path / "sys_rman.conf"
    conf.write_text(REPO_CONF)
    res, seen = run_sys_rman(tmp_path, "--config", str(conf), "--stanza=kingbase", "--kb1-port=54321", "info")
    assert res.returncode == 7, res.stderr  # pgBackRest's exit code
    assert "--stanza=kingbase --pg1-port=54321 info" in seen
    assert "mode 600" in seen and "dirmode 700" in seen
    assert "pg2-host=10.231.30.11" in seen and "kb2" not in seen.split("passfile:")[0]
    # The password reaches libpq through a private password file, never the configuration.
    config_part, pass_part = seen.split("passfile:")
    assert "Secret-Pa55" not in config_part
    assert "passmode 600" in pass_part and "*:54321:*:system:Secret-Pa55\\:word" in pass_part
    private = tmp_path / "home" / ".kb-lab" / "sys_rman"
    assert stat.S_IMODE(private.stat().st_mode) == 0o700
    # Kept after the command (pgBackRest's archive-push:async reads it later), one file per configuration.
    first = sorted((p.name for p in private.iterdir()), key=lambda n: n.rsplit(".", 1)[1])
    assert [n.rsplit(".", 1)[1] for n in first] == ["conf", "pass"]
    assert {stat.S_IMODE((private / n).stat().st_mode) for n in first} == {0o600}
    run_sys_rman(tmp_path, "--config", str(conf), "--stanza=kingbase", "info")
    assert sorted(p.name for p in private.iterdir()) == sorted(first)
    # A changed configuration gets a file of its own; the one a detached process may still read stays until stale.
    conf.write_text(REPO_CONF.replace("10.231.30.11", "10.231.30.21"))
    run_sys_rman(tmp_path, "--config", str(conf), "--stanza=kingbase", "info")
    names = sorted(p.name for p in private.iterdir())
    assert len([n for n in names if n.endswith(".conf")]) == 2 and len([n for n in names if n.endswith(".pass")]) == 1
    stale = private / first[0]
    os.utime(stale, (stale.stat().st_atime - 8 * 86400, stale.stat().st_mtime - 8 * 86400))
    run_sys_rman(tmp_path, "--config", str(conf), "--stanza=kingbase", "info")
    assert first[0] not in [p.name for p in private.iterdir()]


def test_a_refused_option_never_reaches_pgbackrest(tmp_path):
    conf = tmp_path / "sys_rman.conf"
    conf.write_text("[kingbase]\npg1-path=/home/kingbase/cluster/kingbase/data\n[global]\nrepo1-path=/r\n")
    res, seen = run_sys_rman(tmp_path, "--config=%s" % conf, "--stanza=kingbase", "info")
    assert res.returncode == 31 and seen is None
    assert res.stderr.strip() == "ERROR: [031]: configuration file contains invalid option 'pg1-path'"
    conf.write_text(REPO_CONF)
    res, seen = run_sys_rman(tmp_path, "--config=%s" % conf, "--pg1-path=/x", "info")
    assert res.returncode == 31 and seen is None
    assert res.stderr.strip() == "ERROR: [031]: invalid option '--pg1-path=/x'"


VENDOR_REPMGR = """\
node_id=2
node_name='qjp-kb02'
conninfo='host=10.231.30.12 user=esrep dbname=esrep port=54321 connect_timeout=10'
data_directory='/home/kingbase/cluster/kingbase/data'
sys_bindir='/home/kingbase/cluster/kingbase/bin'
reconnect_attempts=10
reconnect_interval=6
connection_check_type='mix'
use_scmd=on
scmd_options='-q -o ConnectTimeout=10 -p 8890'
trusted_servers='10.231.0.1'
running_under_failure_trusted_servers=on
recovery='standby'
synchronous='async'
kbha_log_file='/home/kingbase/cluster/kingbase/log/kbha.log'
virtual_ip='10.231.30.10/16'
net_device='eth0'
arping_path='/home/kingbase/cluster/kingbase/bin'
"""


def test_repmgr_gets_the_vendors_configuration_without_the_vendors_keys():
    text = repmgr_conf.translate(VENDOR_REPMGR, "/home/kingbase/cluster/kingbase/etc/repmgr.conf")
    keys = {line.split("=", 1)[0] for line in text.splitlines() if "=" in line and not line.startswith("#")}
    assert not keys & set(repmgr_conf.VENDOR_ONLY)
    assert "connection_check_type" not in keys  # 'mix' is Kingbase's; upstream knows ping/connection/query
    assert {"node_id", "conninfo", "data_directory", "reconnect_attempts", "reconnect_interval"} <= keys
    assert "pg_bindir='/usr/lib/postgresql/15/bin'" in text
    assert "repmgr_bindir='/home/kingbase/cluster/kingbase/bin'" in text
    assert ("service_start_command='/home/kingbase/cluster/kingbase/bin/sys_ctl -D /home/kingbase/cluster/kingbase/data"
            " -w -t 120 -l /home/kingbase/cluster/kingbase/log/kingbase.log start'") in text
    text = repmgr_conf.translate(VENDOR_REPMGR.replace("'mix'", "'query'"), "/x")
    assert "connection_check_type='query'" in text


def test_the_vendor_environment_keeps_everything_the_greenfield_one_does():
    base = (ROOT / "lab" / "media" / "kingbase" / "Server" / "bin" / "kb-lab-env").read_text()
    vendor = (VENDOR / "bin" / "kb-lab-env").read_text()
    assert vendor.startswith(base)


def test_the_greenfield_kbha_never_starts_a_database():
    # The greenfield lab runs the database under systemd (kingbased): its kbha starts repmgrd only.
    greenfield = (ROOT / "lab" / "media" / "kingbase" / "Server" / "bin" / "kbha").read_text()
    assert "sys_ctl" not in greenfield and "kingbase -D" not in greenfield
    assert "sys_ctl" in (VENDOR / "bin" / "kbha").read_text()


def test_lab_container_options():
    opts, volumes = lab.container_options("qjp-kb01", {
        "lab_container_mounts": [{"type": "volume", "target": "/data"}, {"type": "tmpfs", "target": "/srv/x", "size": "64m"}],
        "lab_container_cap_add": ["NET_ADMIN", "NET_RAW"]})
    assert opts == ["--mount", "type=volume,source=huaian-lab-qjp-kb01-data,target=/data",
                    "--mount", "type=tmpfs,target=/srv/x,tmpfs-size=64m", "--cap-add=NET_ADMIN", "--cap-add=NET_RAW"]
    assert volumes == ["huaian-lab-qjp-kb01-data"]
    assert lab.container_options("city-kb01", {}) == ([], [])
    assert lab.options_digest([]) == "" and len(lab.options_digest(opts)) == 12
    with pytest.raises(ValueError):
        lab.container_options("h", {"lab_container_mounts": [{"type": "bind", "target": "/data"}]})
    with pytest.raises(ValueError):
        lab.container_options("h", {"lab_container_mounts": [{"type": "volume", "target": "data"}]})
    assert lab.inventory_name(None) == "inventories/lab"
    assert lab.inventory_name("inventories/lab-vendor/") == "inventories/lab-vendor"
    assert lab.inventory_name(ROOT / "inventories" / "lab-vendor") == "inventories/lab-vendor"


def kbha_round(tmp_path, role, held):
    """One round of the vendor lab's kbha with the database running: ksql answers `role` ('' = no answer in
    time), the node holds the virtual IP or not. Returns the ip commands kbha ran and its log."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in ("kbha", "kb-lab-env"):
        shutil.copy(VENDOR / "bin" / name, bin_dir / name)
    calls = tmp_path / "ip-calls"
    fakes = {
        "sys_ctl": "#!/bin/sh\nexit 0\n",
        "ksql": "#!/bin/sh\n[ -n '%s' ] || exit 2\necho '%s'\n" % (role, role),
        "repmgrd": "#!/bin/sh\nexit 0\n",
        "ip": "#!/bin/sh\ncase \"$*\" in *'addr show'*) %s ;; *) echo \"$*\" >> %s ;; esac\n" % (
            "echo '2: eth0    inet 10.0.0.10/24 scope global eth0'" if held else "true", calls),
    }
    for name, text in fakes.items():
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    (bin_dir / "kbha").chmod(0o755)
    data = tmp_path / "data"
    data.mkdir()
    (data / "PG_VERSION").write_text("15\n")
    conf = tmp_path / "repmgr.conf"
    conf.write_text("data_directory='%s'\nconninfo='host=127.0.0.1'\nvirtual_ip='10.0.0.10/24'\nnet_device='eth0'\n"
                    "ipaddr_path='%s'\nkbha_log_file='%s'\n" % (data, bin_dir, tmp_path / "kbha.log"))
    (tmp_path / "home").mkdir()
    res = subprocess.run([str(bin_dir / "kbha"), "-A", "daemon", "-f", str(conf)], capture_output=True, text=True,
                         env=dict(os.environ, HOME=str(tmp_path / "home")))
    assert res.returncode == 0, res.stderr
    return (calls.read_text() if calls.exists() else ""), (tmp_path / "kbha.log").read_text()


def test_kbha_keeps_the_virtual_ip_while_a_running_primary_only_fails_to_answer(tmp_path):
    calls, log = kbha_round(tmp_path, role="", held=True)
    assert calls == "" and "did not answer: virtual IP 10.0.0.10/24 kept" in log


def test_kbha_moves_the_virtual_ip_by_the_answer_standby_off_primary_on(tmp_path):
    for name in ("standby", "primary"):
        (tmp_path / name).mkdir()
    calls, log = kbha_round(tmp_path / "standby", role="t", held=True)
    assert calls == "addr del 10.0.0.10/24 dev eth0\n" and "removed" in log
    calls, log = kbha_round(tmp_path / "primary", role="f", held=False)
    assert calls == "addr add 10.0.0.10/24 dev eth0\n" and "added" in log
