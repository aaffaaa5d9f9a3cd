"""The kingbase_backup role's sys_rman.conf through the lab's sys_rman stand-in (lab/media/kingbase/Server/bin/sys_rman).

The role writes sys_rman's spelling (kbN-*, K37); the stand-in, shared by the greenfield and the vendor lab,
gives pgBackRest pgN-* and refuses pgN-*. Each template is rendered as Ansible renders it (trim_blocks, the
project's filters) with a representative city cluster, then translated; pgBackRest itself is never run.
"""
import os
import pathlib
import subprocess
import sys

import jinja2
import pytest
from ansible.plugins.filter.core import FilterModule as CoreFilters

from conftest import load_script

ROOT = pathlib.Path(__file__).resolve().parents[2]
SYS_RMAN = ROOT / "lab" / "media" / "kingbase" / "Server" / "bin" / "sys_rman"
TEMPLATES = ROOT / "roles" / "kingbase_backup" / "templates"
CONF = "/etc/sys_rman/sys_rman.conf"
BIN = "/opt/Kingbase/ES/V8/V008R006C008B0014/Server/bin"



sys_rman = load_script("sys_rman_greenfield", SYS_RMAN)


def render(name, prefix="kb", **extra):
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), trim_blocks=True,
                             undefined=jinja2.StrictUndefined)
    env.filters.update(CoreFilters().filters())
    member = {"kingbase_os_user": "kingbase", "kingbase_bin_dir": BIN, "kingbase_data_dir": "/opt/Kingbase/ES/V8/data",
              "kingbase_port": 54321, "kingbase_superuser": "system"}
    variables = dict(
        ansible_managed="Ansible managed", inventory_hostname="city-bak01", kingbase_backup_stanza="city_a",
        kingbase_backup_host="city-bak01", kingbase_backup_sysrman_config=CONF, kingbase_backup_sysrman_db_key_prefix=prefix,
        kingbase_backup_repo_user="kbbackup", kingbase_backup_repo_path="/backup/sys_rman",
        kingbase_backup_cipher_type="aes-256-cbc", kingbase_backup_cipher_pass="x" * 24,
        kingbase_backup_retention_full_type="time", kingbase_backup_retention_full=92, kingbase_backup_process_max=2,
        kingbase_backup_from_standby=False, kingbase_backup_archive_async=True, kingbase_backup_log_path="/var/log/sys_rman",
        kingbase_backup_lock_path="/tmp/sys_rman", kingbase_backup_spool_path="/var/spool/sys_rman",
        __kingbase_backup_ssh="/usr/local/libexec/huaian-backup/sysrman-ssh",
        __kingbase_backup_address_of={"city-kb01": "10.231.10.11", "city-kb02": "10.231.10.12", "city-bak01": "10.231.10.51"},
        __kingbase_backup_repo_stanzas={"city_a": ["city-kb01", "city-kb02"]},
        hostvars={"city-kb01": dict(member), "city-kb02": dict(member)},
        __kingbase_backup_verify_stanza="city_a", __kingbase_backup_v_dir="/backup/verify/scratch/city_a",
        __kingbase_backup_v_repo={"repo1-path": "/backup/sys_rman", "repo1-cipher-type": "aes-256-cbc", "repo1-cipher-pass": "x"},
        **member)
    variables.update(extra)
    return env.get_template(name).render(**variables)


def keys(text):
    """{section: {key: value}} of a translated configuration."""
    return {name: dict(entries) for name, entries in sys_rman.parse_config(text)}


def test_the_repository_configuration_reaches_pgbackrest_as_pg_keys():
    text = render("sys_rman_repo.conf.j2")
    assert "pg1-" not in text and "kb2-host=10.231.10.12" in text
    translated, passwords = sys_rman.translate_config(text, BIN + "/sys_rman", CONF)
    stanza = keys(translated)["city_a"]
    assert sys_rman.passfile_text(passwords) == ""  # no kbN-pass: no password file
    assert stanza == {
        "pg1-host": "10.231.10.11", "pg1-host-user": "kingbase", "pg1-host-config": CONF, "pg1-host-cmd": BIN + "/sys_rman",
        "pg1-path": "/opt/Kingbase/ES/V8/data", "pg1-port": "54321", "pg1-socket-path": "/tmp", "pg1-user": "system",
        "pg1-database": "test",
        "pg2-host": "10.231.10.12", "pg2-host-user": "kingbase", "pg2-host-config": CONF, "pg2-host-cmd": BIN + "/sys_rman",
        "pg2-path": "/opt/Kingbase/ES/V8/data", "pg2-port": "54321", "pg2-socket-path": "/tmp", "pg2-user": "system",
        "pg2-database": "test"}
    # [global] is the role's, unchanged (repo1-* keep pgBackRest's names, K37).
    assert keys(translated)["global"]["repo1-path"] == "/backup/sys_rman"
    assert keys(translated)["global"]["log-path"] == "/var/log/sys_rman"


def test_the_database_host_configuration_reaches_pgbackrest_as_pg_keys():
    translated, _ = sys_rman.translate_config(render("sys_rman_db.conf.j2"), BIN + "/sys_rman", CONF)
    assert keys(translated)["city_a"] == {"pg1-path": "/opt/Kingbase/ES/V8/data", "pg1-port": "54321",
                                          "pg1-socket-path": "/tmp", "pg1-user": "system", "pg1-database": "test"}
    assert keys(translated)["global"]["repo1-host"] == "10.231.10.51"
    assert keys(translated)["global"]["repo1-host-cmd"] == BIN + "/sys_rman"


def test_the_scratch_configuration_reaches_pgbackrest_as_pg_keys():
    translated, _ = sys_rman.translate_config(render("sys_rman_scratch.conf.j2"), BIN + "/sys_rman", "/backup/verify/scratch/city_a/sys_rman.conf")
    assert keys(translated)["city_a"]["pg1-path"] == "/backup/verify/scratch/city_a/data"
    # The repository's own settings (the project's, or a vendor's repo1-* options), then the scratch area's.
    assert keys(translated)["global"]["repo1-path"] == "/backup/sys_rman"
    assert keys(translated)["global"]["repo1-cipher-type"] == "aes-256-cbc"
    assert keys(translated)["global"]["lock-path"] == "/backup/verify/scratch/city_a/run"


@pytest.mark.parametrize("template", ["sys_rman_repo.conf.j2", "sys_rman_db.conf.j2", "sys_rman_scratch.conf.j2"])
def test_pgbackrest_spelling_is_refused_as_sys_rman_refuses_it(template):
    """kingbase_backup_sysrman_db_key_prefix: pg (a build with pgBackRest's names) fails in the lab, as on a real sys_rman."""
    with pytest.raises(sys_rman.Refused) as refused:
        sys_rman.translate_config(render(template, prefix="pg"), BIN + "/sys_rman", CONF)
    assert str(refused.value) == "ERROR: [031]: configuration file contains invalid option 'pg1-%s'" % (
        "host" if template == "sys_rman_repo.conf.j2" else "path")


def test_the_stand_in_runs_the_roles_configuration_without_pgbackrest(tmp_path):
    """As a program (the greenfield media's command): the role's file is translated, pgBackRest replaced by a recorder."""
    conf = tmp_path / "sys_rman.conf"
    conf.write_text(render("sys_rman_db.conf.j2"))
    fake, seen = tmp_path / "pgbackrest", tmp_path / "seen"
    fake.write_text("#!/bin/sh\nfor a in \"$@\"; do case $a in --config=*) cat \"${a#--config=}\" ;; esac; done > %s\n"
                    "echo \"args: $*\" >> %s\n" % (seen, seen))
    fake.chmod(0o755)
    (tmp_path / "home").mkdir()
    env = dict(os.environ, HOME=str(tmp_path / "home"), SYS_RMAN_LAB_PGBACKREST=str(fake))
    # archive_command's form as sys_backup.sh writes it (--config FILE) and the role's (--config=FILE).
    for config_args in (["--config", str(conf)], ["--config=%s" % conf]):
        res = subprocess.run([sys.executable, str(SYS_RMAN)] + config_args + ["--stanza=city_a", "archive-push", "000000010000000000000001"],
                             env=env, capture_output=True, text=True)
        assert res.returncode == 0, res.stderr
        out = seen.read_text()
        assert "pg1-path=/opt/Kingbase/ES/V8/data" in out and "kb1-" not in out
        assert out.rstrip().splitlines()[-1].endswith("--stanza=city_a archive-push 000000010000000000000001")


def test_restore_command_names_sys_rman_its_configuration_and_kb_options(tmp_path):
    # What pgBackRest 2.45 writes into the restored data directory when given --pg1-path and the translated file.
    tmp_conf = "/home/kingbase/.kb-lab/sys_rman/sys_rman-abc.conf"
    auto = tmp_path / "postgresql.auto.conf"
    auto.write_text("# Do not edit\nwork_mem = '4MB'\n"
                    "restore_command = '%s --config=%s --pg1-path=%s --stanza=city_a archive-get %%f \"%%p\"'\n"
                    "recovery_target_time = '2026-12-07 12:00:00+08'\n" % (sys_rman.PGBACKREST, tmp_conf, tmp_path))
    sys_rman.rewrite_restore_command(str(tmp_path), BIN + "/sys_rman", tmp_conf, CONF)
    lines = auto.read_text().splitlines()
    assert lines[2] == ("restore_command = '%s/sys_rman --config=%s --kb1-path=%s --stanza=city_a archive-get %%f \"%%p\"'"
                        % (BIN, CONF, tmp_path))
    assert lines[:2] == ["# Do not edit", "work_mem = '4MB'"] and lines[3].startswith("recovery_target_time")


def test_restored_path_from_the_command_line_or_the_stanza():
    translated = "[global]\nrepo1-path=/backup\n[city_a]\npg1-path=/data/a\n"
    assert sys_rman.restored_path(["--stanza=city_a", "--pg1-path=/scratch/a", "restore"], translated) == "/scratch/a"
    assert sys_rman.restored_path(["--stanza=city_a", "restore"], translated) == "/data/a"
    assert sys_rman.restored_path(["--stanza=other", "restore"], translated) is None
