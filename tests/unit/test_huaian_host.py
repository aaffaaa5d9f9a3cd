"""Host fact parsers (plugins/module_utils/huaian_host.py)."""
import pytest

from huaian_host import (
    effective_limits, limit_overrides, limit_value, missing_locales, normalise_locale, parse_chronyc_tracking,
    parse_limits, parse_locale_list, parse_sshd_effective, parse_sysctl_file, parse_thp, timezone_from_link)

MANAGED = "/etc/security/limits.d/90-huaian-platform.conf"


def test_parse_limits_skips_comments_and_malformed_lines():
    text = "# comment\nkingbase - nofile 65536  # trailing\n\n@dba soft nproc 100\nbroken line\n* bogus core 0\n"
    entries = parse_limits(text, "f")
    assert [(e["domain"], e["type"], e["item"], e["value"], e["line"]) for e in entries] == [
        ("kingbase", "-", "nofile", "65536", 2), ("@dba", "soft", "nproc", "100", 4)]


@pytest.mark.parametrize("value, expected", [("65536", 65536), ("unlimited", None), ("-1", None), ("x", "x")])
def test_limit_value(value, expected):
    assert limit_value(value) == expected


def test_later_file_overrides_with_same_specificity():
    files = [("/etc/security/limits.conf", "kingbase - nofile 1024\n"),
             (MANAGED, "kingbase - nofile 65536\n"),
             ("/etc/security/limits.d/99-x.conf", "kingbase soft nofile 4096\n")]
    eff = effective_limits(files, "kingbase")
    assert eff["nofile"]["soft"]["value"] == 4096
    assert eff["nofile"]["hard"]["value"] == 65536
    overrides = limit_overrides(files, MANAGED, "kingbase")
    assert [(o["type"], o["source"], o["value"]) for o in overrides] == [("soft", "/etc/security/limits.d/99-x.conf", 4096)]


def test_wildcard_and_group_entries_do_not_beat_a_user_entry():
    files = [(MANAGED, "kingbase - nofile 65536\n"),
             ("/etc/security/limits.d/95-all.conf", "* - nofile 1024\n@dba - nofile 2048\n")]
    eff = effective_limits(files, "kingbase", groups=["dba"])
    assert eff["nofile"]["soft"]["value"] == 65536
    assert limit_overrides(files, MANAGED, "kingbase", groups=["dba"]) == []


def test_group_entry_decides_when_no_user_entry():
    files = [("/etc/security/limits.conf", "* - nproc 100\n"), ("/etc/security/limits.d/20.conf", "@dba - nproc 200\n")]
    assert effective_limits(files, "kingbase", groups=["dba"])["nproc"]["hard"]["value"] == 200
    assert effective_limits(files, "bes", groups=["web"])["nproc"]["hard"]["value"] == 100


def test_uid_range_domain():
    files = [("f", "1000: - nofile 300\n")]
    assert effective_limits(files, "kingbase", uid=1001)["nofile"]["soft"]["value"] == 300
    assert effective_limits(files, "kingbase", uid=999) == {}


def test_earlier_specific_entry_survives_later_wildcard():
    files = [("a", "kingbase hard nofile 10\n"), ("b", "* hard nofile 20\n")]
    assert effective_limits(files, "kingbase")["nofile"]["hard"]["value"] == 10


TRACKING = """Reference ID    : 0AE70A0B (10.231.10.11)
Stratum         : 9
Ref time (UTC)  : Thu Nov 26 07:40:00 2026
System time     : 0.000123456 seconds slow of NTP time
Last offset     : -0.000001 seconds
Leap status     : Normal
"""


def test_chronyc_tracking():
    t = parse_chronyc_tracking(TRACKING)
    assert t == {"reference": "0AE70A0B (10.231.10.11)", "leap_status": "Normal", "stratum": 9,
                 "offset_seconds": -0.000123456, "synchronised": True}


def test_chronyc_not_synchronised():
    t = parse_chronyc_tracking("Reference ID    : 00000000 ()\nStratum         : 0\n"
                               "System time     : 1.5 seconds fast of NTP time\nLeap status     : Not synchronised\n")
    assert t["synchronised"] is False and t["offset_seconds"] == 1.5 and t["stratum"] == 0


def test_chronyc_empty_output():
    assert parse_chronyc_tracking("") == {"reference": None, "leap_status": None, "stratum": None,
                                          "offset_seconds": None, "synchronised": False}


def test_sshd_effective():
    text = "port 22\npermitrootlogin without-password\nacceptenv LANG\nacceptenv LC_*\nsubsystem sftp /usr/lib/openssh/sftp-server\nx11forwarding no\n"
    d = parse_sshd_effective(text)
    assert d["permitrootlogin"] == "prohibit-password"
    assert d["acceptenv"] == ["LANG", "LC_*"]
    assert d["port"] == ["22"]
    assert d["x11forwarding"] == "no"


@pytest.mark.parametrize("name, expected", [("zh_CN.UTF-8", "zh_CN.utf8"), ("zh_CN.utf8", "zh_CN.utf8"), ("C", "C"),
                                            ("en_US.ISO-8859-1", "en_US.iso88591")])
def test_normalise_locale(name, expected):
    assert normalise_locale(name) == expected


def test_locales():
    installed = parse_locale_list("C\nC.utf8\nPOSIX\nzh_CN.utf8\n")
    assert installed == ["C", "C.utf8", "POSIX", "zh_CN.utf8"]
    assert missing_locales(["zh_CN.UTF-8", "en_US.UTF-8"], installed) == ["en_US.UTF-8"]


def test_sysctl_file():
    text = "# c\n; c\nvm.swappiness = 10\nkernel.sem=250   32000 100  128\nnet/ipv4/ip_forward = 0\n-fs.file-max = 5\nnot a line\n"
    assert parse_sysctl_file(text) == {"vm.swappiness": "10", "kernel.sem": "250 32000 100 128",
                                       "net.ipv4.ip_forward": "0", "fs.file-max": "5"}


@pytest.mark.parametrize("text, mode", [("always madvise [never]\n", "never"), ("[always] madvise never", "always"),
                                        ("", None), (None, None)])
def test_thp(text, mode):
    assert parse_thp(text) == mode


@pytest.mark.parametrize("target, zone", [("/usr/share/zoneinfo/Asia/Shanghai", "Asia/Shanghai"),
                                          ("../usr/share/zoneinfo/UTC", "UTC"), ("/etc/other", None), (None, None)])
def test_timezone(target, zone):
    assert timezone_from_link(target) == zone


def test_limits_files_in_pam_order_and_account_groups(tmp_path):
    import os
    import pwd

    from huaian_host import account_groups, limits_files
    (tmp_path / "limits.conf").write_text("* soft nofile 1024\n")
    (tmp_path / "limits.d").mkdir()
    (tmp_path / "limits.d" / "90-b.conf").write_text("b\n")
    (tmp_path / "limits.d" / "10-a.conf").write_text("a\n")
    (tmp_path / "limits.d" / "ignored.txt").write_text("x\n")
    got = limits_files(str(tmp_path / "limits.conf"), str(tmp_path / "limits.d"))
    assert [os.path.basename(p) for p, _ in got] == ["limits.conf", "10-a.conf", "90-b.conf"]
    assert limits_files(str(tmp_path / "absent.conf"), str(tmp_path / "none")) == []
    me = pwd.getpwuid(os.getuid()).pw_name
    uid, groups = account_groups(me)
    assert uid == os.getuid() and groups
