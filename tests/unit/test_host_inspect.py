"""Host inspection: parsers and judgement (huaian_inspect_host.py) and the module (host_inspect.py).

Fixtures are real command output (Debian 12 lab hosts, Kylin V10 / RHEL 8 PAM stacks); certificates in
tests/fixtures/host_inspect/ were made with fixed dates (expired.pem 2020-01-02, chain.pem a leaf of
2026-12-31 before a CA of 2030, far.pem 2051 in GeneralizedTime, far.der the same in DER).
"""
import ast
import datetime
import json
import os

import pytest

import host_inspect as mod
from conftest import ROOT, run_module_main
from huaian_inspect import inspection_argument_spec
from huaian_inspect_host import (
    DEFAULT_THRESHOLDS, InspectError, days_left, der_not_after, judge, merge_security_checks, merge_thresholds,
    normalise_limits_minimum, normalise_ports, pam_lockout, pam_min_length, parse_cpuinfo, parse_failed_units,
    parse_loadavg, parse_login_defs, parse_meminfo, parse_oom_kills, parse_openssl_enddate, parse_proc_mounts,
    parse_proc_net_tcp, parse_pwquality_conf, parse_systemctl_is_active, pem_not_after, select_mounts,
    sshd_mismatches, usage_from_statvfs)

CERTS = ROOT / "tests" / "fixtures" / "host_inspect"
NOW = datetime.datetime(2026, 11, 26, 12, 0, 0)

CHRONY_OK = """Reference ID    : 0AE70A0B (10.231.10.11)
Stratum         : 9
Ref time (UTC)  : Thu Nov 26 11:58:02 2026
System time     : 0.000012345 seconds fast of NTP time
Last offset     : +0.000001234 seconds
RMS offset      : 0.000004567 seconds
Frequency       : 1.234 ppm slow
Residual freq   : +0.000 ppm
Skew            : 0.012 ppm
Root delay      : 0.000123456 seconds
Root dispersion : 0.000234567 seconds
Update interval : 64.2 seconds
Leap status     : Normal
"""
CHRONY_SLOW = CHRONY_OK.replace("0.000012345 seconds fast", "1.250000000 seconds slow")
CHRONY_UNSYNCED = """Reference ID    : 00000000 ()
Stratum         : 0
Ref time (UTC)  : Thu Jan 01 00:00:00 1970
System time     : 0.000000000 seconds fast of NTP time
Last offset     : +0.000000000 seconds
Leap status     : Not synchronised
"""

FAILED_UNITS = """kingbased.service      loaded failed failed KingbaseES database
rsyslog.service        loaded failed failed System Logging Service
"""
FAILED_UNITS_BULLET = "\u25cf logrotate.service loaded failed failed Rotate log files\n"

JOURNAL_OOM = """2026-11-20T03:12:45+0800 city-bes01 kernel: java invoked oom-killer: gfp_mask=0x100cca(GFP_HIGHUSER_MOVABLE), order=0, oom_score_adj=0
2026-11-20T03:12:45+0800 city-bes01 kernel: oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),cpuset=/,mems_allowed=0,global_oom,task_memcg=/system.slice/bes-huaian.service,task=java,pid=2345,uid=1001
2026-11-20T03:12:45+0800 city-bes01 kernel: Out of memory: Killed process 2345 (java) total-vm:8123456kB, anon-rss:4123456kB, file-rss:0kB, shmem-rss:0kB, UID:1001 pgtables:9000kB oom_score_adj:0
2026-11-21T05:00:01+0800 city-bes01 kernel: Memory cgroup out of memory: Killed process 3456 (kingbase) total-vm:2123456kB, anon-rss:1023456kB, file-rss:0kB, shmem-rss:0kB, UID:1002 pgtables:3000kB oom_score_adj:0
2026-11-22T07:00:00+0800 city-bes01 kernel: e1000: eth0 NIC Link is Up 1000 Mbps Full Duplex
"""
# RHEL 7 / Kylin V10 (4.19) wording: "Kill process ... or sacrifice child", then a "Killed process" line.
JOURNAL_OOM_OLD = """Nov 20 03:12:45 kb01 kernel: Out of memory: Kill process 4321 (kingbase) score 912 or sacrifice child
Nov 20 03:12:45 kb01 kernel: Killed process 4321 (kingbase), UID 1002, total-vm:2123456kB, anon-rss:1023456kB, file-rss:0kB
"""
DMESG_OOM = """[  100.000001] Out of memory: Killed process 1111 (old) total-vm:1kB
[ 9000.500000] Out of memory: Killed process 2222 (preview) total-vm:2kB
"""

PROC_NET_TCP = """  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 12345 1 0000000000000000 100 0 0 10 0
   1: 0100007F:076C 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1001        0 23456 1 0000000000000000 100 0 0 10 0
   2: 0B0AE70A:0016 0A0AE70A:D2F0 01 00000000:00000000 02:000A7B1B 00000000     0        0 34567 2 0000000000000000 20 4 30 10 -1
"""
PROC_NET_TCP6 = """  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000000000000:0016 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 12346 1 0000000000000000 100 0 0 10 0
   1: 00000000000000000000000001000000:D431 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 12347 1 0000000000000000 100 0 0 10 0
   2: 0000000000000000FFFF00000100007F:46A0 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000  1001        0 12348 1 0000000000000000 100 0 0 10 0
"""

PROC_MOUNTS_LAB = """overlay / overlay rw,relatime,lowerdir=/var/lib/containers/storage/overlay/l/AAA,upperdir=/x/diff,workdir=/x/work 0 0
proc /proc proc rw,nosuid,nodev,noexec,relatime 0 0
tmpfs /dev tmpfs rw,nosuid,size=65536k,mode=755,inode64 0 0
sysfs /sys sysfs ro,nosuid,nodev,noexec,relatime 0 0
tmpfs /sys/fs/cgroup tmpfs rw,nosuid,nodev,noexec,relatime,mode=755 0 0
shm /dev/shm tmpfs rw,nosuid,nodev,noexec,relatime,size=64000k,inode64 0 0
/dev/vda /etc/hosts ext4 rw,relatime 0 0
/dev/vda /home/labops/.ssh/authorized_keys ext4 ro,relatime 0 0
tmpfs /run tmpfs rw,nosuid,nodev,size=4934816k,nr_inodes=819200,mode=755,inode64 0 0
tmpfs /run/lock tmpfs rw,nosuid,nodev,noexec,relatime,size=5120k,inode64 0 0
tmpfs /tmp tmpfs rw,nosuid,nodev,inode64 0 0
tmpfs /srv/fill tmpfs rw,relatime,size=16384k,inode64 0 0
tmpfs /mnt/with\\040space tmpfs ro,relatime 0 0
"""
LAB_TYPES = ["overlay", "tmpfs"]
LAB_EXCLUDE = ["/proc", "/proc/*", "/sys", "/sys/*", "/dev", "/dev/*", "/run", "/run/*"]

LOGIN_DEFS_DEBIAN = """#
# /etc/login.defs - Configuration control definitions for the login package.
MAIL_DIR        /var/mail
PASS_MAX_DAYS\t99999
PASS_MIN_DAYS\t0
PASS_WARN_AGE\t7
ENCRYPT_METHOD SHA512
"""
LOGIN_DEFS_KYLIN = "PASS_MAX_DAYS   90\nPASS_MIN_DAYS   0\nPASS_MIN_LEN    8  # ignored with PAM\nPASS_WARN_AGE   7\n"

COMMON_AUTH_DEBIAN = """#
# /etc/pam.d/common-auth - authentication settings common to all services
# here are the per-package modules (the "Primary" block)
auth\t[success=1 default=ignore]\tpam_unix.so nullok
# here's the fallback if no module succeeds
auth\trequisite\t\t\tpam_deny.so
auth\trequired\t\t\tpam_permit.so
"""
COMMON_PASSWORD_DEBIAN = """password\t[success=1 default=ignore]\tpam_unix.so obscure yescrypt
password\trequisite\t\t\tpam_deny.so
password\trequired\t\t\tpam_permit.so
"""
# RHEL 8 / Kylin V10 authselect profile "sssd with-faillock".
SYSTEM_AUTH_FAILLOCK = """# Generated by authselect on Thu Nov 26 10:00:00 2026
auth        required                                     pam_env.so
auth        required                                     pam_faildelay.so delay=2000000
auth        required                                     pam_faillock.so preauth silent
auth        sufficient                                   pam_unix.so nullok
auth        required                                     pam_faillock.so authfail
auth        required                                     pam_deny.so

account     required                                     pam_faillock.so
account     required                                     pam_unix.so

password    requisite                                    pam_pwquality.so try_first_pass local_users_only
password    sufficient                                   pam_unix.so sha512 shadow nullok try_first_pass use_authtok
password    required                                     pam_deny.so
"""
SYSTEM_AUTH_TALLY2 = """auth        required      pam_env.so
auth        required      pam_tally2.so deny=10 onerr=fail unlock_time=300
-auth       optional      pam_sss.so
password    requisite     pam_cracklib.so try_first_pass retry=3 minlen=12
"""
PWQUALITY_CONF = """# Configuration for systemwide password quality limits
# minlen = 8
minlen = 6
# dcredit = 0
"""
FAILLOCK_CONF = "# deny = 3\ndeny = 4\nunlock_time = 600\n"

SSHD_T = """port 22
addressfamily any
listenaddress [::]:22
listenaddress 0.0.0.0:22
usepam yes
logingracetime 60
maxauthtries 4
maxsessions 10
clientaliveinterval 300
clientalivecountmax 2
permitrootlogin without-password
passwordauthentication yes
permitemptypasswords no
pubkeyauthentication yes
x11forwarding no
allowtcpforwarding no
allowagentforwarding no
permituserenvironment no
usedns no
acceptenv LANG
acceptenv LC_*
subsystem sftp /usr/lib/openssh/sftp-server
"""

MEMINFO = """MemTotal:       24684092 kB
MemFree:         1000000 kB
MemAvailable:    2000000 kB
Buffers:          100000 kB
Cached:          3000000 kB
SwapCached:            0 kB
SwapTotal:       4194304 kB
SwapFree:        1048576 kB
"""
CPUINFO_X86 = """processor\t: 0
vendor_id\t: GenuineIntel
model name\t: Intel(R) Xeon(R) Gold 6248R CPU @ 3.00GHz

processor\t: 1
vendor_id\t: GenuineIntel
model name\t: Intel(R) Xeon(R) Gold 6248R CPU @ 3.00GHz
"""
CPUINFO_ARM = """processor\t: 0
BogoMIPS\t: 200.00
CPU implementer\t: 0x48
CPU part\t: 0xd01

processor\t: 1
CPU implementer\t: 0x48
CPU part\t: 0xd01
"""


def thresholds(**over):
    return merge_thresholds(over)


def codes(findings):
    return sorted((f["code"], f["severity"], f["subject"]) for f in findings)


# --- parameters -----------------------------------------------------------------------------------------

def test_thresholds_merge_and_refuse_unknown_keys():
    merged = merge_thresholds({"disk_used_warning_pct": "75", "load_per_core_warning": 2.5})
    assert merged["disk_used_warning_pct"] == 75 and merged["load_per_core_warning"] == 2.5
    assert merged["disk_used_critical_pct"] == DEFAULT_THRESHOLDS["disk_used_critical_pct"]
    with pytest.raises(InspectError, match="disk_usage_pct"):
        merge_thresholds({"disk_usage_pct": 80})
    with pytest.raises(InspectError, match="mem_used_warning_pct"):
        merge_thresholds({"mem_used_warning_pct": "lots"})
    with pytest.raises(InspectError):
        merge_thresholds({"oom_kills_warning": True})


def test_security_checks_switches():
    checks = merge_security_checks({"auditd": False, "firewall": False})
    assert checks == {"password_policy": True, "lockout": True, "sshd": True, "auditd": False, "firewall": False,
                      "world_writable": True}
    with pytest.raises(InspectError, match="selinux"):
        merge_security_checks({"selinux": True})
    with pytest.raises(InspectError, match="auditd"):
        merge_security_checks({"auditd": "no"})


def test_expected_ports_normalised():
    assert normalise_ports([22, "54321", {"port": 18080, "name": "BES"}, {"port": 22, "name": "sshd"}]) == [
        {"port": 22, "name": "sshd"}, {"port": 18080, "name": "BES"}, {"port": 54321, "name": ""}]
    for bad in (["ssh"], [70000], [{"port": 22, "proto": "udp"}], [True]):
        with pytest.raises(InspectError):
            normalise_ports(bad)


def test_limits_minimum_must_name_listed_accounts():
    assert normalise_limits_minimum(["kingbase"], {"kingbase": {"nofile": "65536"}}) == {"kingbase": {"nofile": 65536}}
    with pytest.raises(InspectError, match="bes"):
        normalise_limits_minimum(["kingbase"], {"bes": {"nofile": 1}})


# --- parsers ---------------------------------------------------------------------------------------------

def test_cpuinfo_x86_and_arm():
    assert parse_cpuinfo(CPUINFO_X86) == {"count": 2, "model": "Intel(R) Xeon(R) Gold 6248R CPU @ 3.00GHz"}
    assert parse_cpuinfo(CPUINFO_ARM) == {"count": 2, "model": "implementer 0x48 part 0xd01"}


def test_meminfo_uses_memavailable():
    mem = parse_meminfo(MEMINFO)
    assert mem["mem_used_pct"] == 91.9
    assert mem["swap_used_pct"] == 75.0
    old = parse_meminfo("MemTotal: 1000 kB\nMemFree: 100 kB\nBuffers: 100 kB\nCached: 300 kB\n")
    assert old["mem_used_pct"] == 50.0 and old["swap_used_pct"] == 0.0


def test_loadavg():
    assert parse_loadavg("0.52 1.10 0.98 2/345 6789\n") == {"load1": 0.52, "load5": 1.10, "load15": 0.98}


def test_mount_selection_in_a_lab_container():
    mounts = parse_proc_mounts(PROC_MOUNTS_LAB)
    assert mounts[-1]["mount"] == "/mnt/with space" and mounts[-1]["readonly"]
    chosen = [m["mount"] for m in select_mounts(mounts, LAB_TYPES, LAB_EXCLUDE)]
    assert chosen == ["/", "/mnt/with space", "/srv/fill", "/tmp"]
    # Production's types leave the overlay root and tmpfs out.
    assert select_mounts(mounts, ["ext4", "xfs"], LAB_EXCLUDE) == [m for m in mounts if m["mount"] in ("/etc/hosts", "/home/labops/.ssh/authorized_keys")]


def test_a_mount_over_another_counts_once_as_the_top_one():
    mounts = parse_proc_mounts("/dev/sda1 /data xfs rw 0 0\ntmpfs /data tmpfs rw 0 0\n")
    assert [m["fstype"] for m in select_mounts(mounts, ["xfs", "tmpfs"], [])] == ["tmpfs"]
    assert select_mounts(mounts, ["xfs"], []) == []


def test_usage_from_statvfs_matches_df():
    # df -P on an ext4 with reserved blocks: 1000 blocks, 50 free of which 0 available to users.
    usage = usage_from_statvfs(1000, 50, 0, 100, 25, 4096)
    assert usage["used_pct"] == 100.0 and usage["inode_used_pct"] == 75.0
    usage = usage_from_statvfs(4096, 512, 512, 0, 0, 4096)
    assert usage["used_pct"] == 87.5 and usage["inode_used_pct"] is None
    assert usage_from_statvfs(0, 0, 0, 0, 0, 4096)["used_pct"] is None


def test_failed_units():
    assert parse_failed_units(FAILED_UNITS) == ["kingbased.service", "rsyslog.service"]
    assert parse_failed_units(FAILED_UNITS_BULLET) == ["logrotate.service"]
    assert parse_failed_units("") == []


def test_oom_kills_from_the_journal_and_old_kernels():
    oom = parse_oom_kills(JOURNAL_OOM)
    assert oom["count"] == 2 and oom["last_victim"] == "kingbase" and oom["last_pid"] == 3456
    old = parse_oom_kills(JOURNAL_OOM_OLD)
    assert old["count"] == 1 and old["last_victim"] == "kingbase"
    assert parse_oom_kills("kernel: e1000 link up\n")["count"] == 0


def test_oom_kills_from_dmesg_within_the_window():
    assert parse_oom_kills(DMESG_OOM, min_uptime_seconds=5000.0)["last_victim"] == "preview"
    assert parse_oom_kills(DMESG_OOM, min_uptime_seconds=5000.0)["count"] == 1
    assert parse_oom_kills(DMESG_OOM)["count"] == 2


def test_listening_sockets_ipv4_and_ipv6():
    v4 = parse_proc_net_tcp(PROC_NET_TCP, "tcp")
    assert v4 == [{"address": "0.0.0.0", "port": 22, "family": "tcp"},
                  {"address": "127.0.0.1", "port": 1900, "family": "tcp"}]
    v6 = parse_proc_net_tcp(PROC_NET_TCP6, "tcp6")
    assert [(s["address"], s["port"]) for s in v6] == [("::", 22), ("::1", 54321), ("::ffff:7f00:1", 18080)]


def test_systemctl_is_active():
    states = parse_systemctl_is_active(["auditd.service", "firewalld.service"], "inactive\nactive\n")
    assert states == {"auditd.service": "inactive", "firewalld.service": "active"}


def test_certificates_without_a_crypto_library():
    assert pem_not_after((CERTS / "expired.pem").read_text()) == [datetime.datetime(2020, 1, 2, 3, 4, 5)]
    assert pem_not_after((CERTS / "far.pem").read_text()) == [datetime.datetime(2051, 6, 30, 12, 0, 0)]
    assert pem_not_after((CERTS / "chain.pem").read_text()) == [
        datetime.datetime(2026, 12, 31, 23, 59, 59), datetime.datetime(2030, 1, 1)]
    assert der_not_after((CERTS / "far.der").read_bytes()) == datetime.datetime(2051, 6, 30, 12, 0, 0)
    assert pem_not_after("not a certificate") == []


@pytest.mark.parametrize("text, expected", [
    ("notAfter=Jan  2 03:04:05 2020 GMT\n", datetime.datetime(2020, 1, 2, 3, 4, 5)),
    ("notAfter=Dec 31 23:59:59 2026 GMT", datetime.datetime(2026, 12, 31, 23, 59, 59)),
    ("unable to load certificate", None),
])
def test_openssl_enddate(text, expected):
    assert parse_openssl_enddate(text) == expected


def test_days_left():
    assert days_left(datetime.datetime(2026, 12, 31, 23, 59, 59), NOW) == 35
    assert days_left(datetime.datetime(2020, 1, 2, 3, 4, 5), NOW) < 0
    assert days_left(NOW + datetime.timedelta(hours=1), NOW) == 0


def test_login_defs_and_pwquality():
    assert parse_login_defs(LOGIN_DEFS_DEBIAN)["PASS_MAX_DAYS"] == "99999"
    assert parse_login_defs(LOGIN_DEFS_KYLIN)["PASS_MIN_LEN"] == "8"
    assert parse_pwquality_conf(PWQUALITY_CONF) == {"minlen": "6"}


def test_password_length_from_the_pam_stack():
    assert pam_min_length([COMMON_PASSWORD_DEBIAN], {}) is None
    assert pam_min_length([SYSTEM_AUTH_FAILLOCK], {}) == 8          # libpwquality's built-in minlen
    assert pam_min_length([SYSTEM_AUTH_FAILLOCK], {"minlen": "6"}) == 6
    assert pam_min_length([SYSTEM_AUTH_TALLY2], {"minlen": "6"}) == 12  # the module argument wins


def test_lockout_in_pam_stacks():
    assert pam_lockout(COMMON_AUTH_DEBIAN, {}) is None
    assert pam_lockout(SYSTEM_AUTH_FAILLOCK, {}) == {"module": "pam_faillock.so", "deny": 3}
    assert pam_lockout(SYSTEM_AUTH_FAILLOCK, parse_pwquality_conf(FAILLOCK_CONF)) == {"module": "pam_faillock.so", "deny": 4}
    assert pam_lockout(SYSTEM_AUTH_TALLY2, {}) == {"module": "pam_tally2.so", "deny": 10}
    debian_faillock = COMMON_AUTH_DEBIAN.replace(
        "auth\t[success=1", "auth required pam_faillock.so preauth deny=5\nauth\t[success=1")
    assert pam_lockout(debian_faillock, {}) == {"module": "pam_faillock.so", "deny": 5}
    assert pam_lockout("auth required pam_faillock.so preauth deny=0\n", {}) is None


def test_sshd_mismatches():
    from huaian_host import parse_sshd_effective
    effective = parse_sshd_effective(SSHD_T)
    want = {"PermitRootLogin": "prohibit-password", "MaxAuthTries": 4, "PermitEmptyPasswords": "no",
            "X11Forwarding": False, "Port": "22"}
    assert sshd_mismatches(effective, want) == []
    drifted = parse_sshd_effective(SSHD_T.replace("maxauthtries 4", "maxauthtries 6").replace("port 22", "port 2222"))
    assert sshd_mismatches(drifted, want) == [("MaxAuthTries", "4", "6"), ("Port", "22", "2222")]
    assert sshd_mismatches(effective, {"Banner": "/etc/issue.net"}) == [("Banner", "/etc/issue.net", None)]


# --- judgement -------------------------------------------------------------------------------------------

def healthy_facts():
    return {
        "cpu": {"count": 4, "model": "x", "usable": 4},
        "load": {"load1": 0.8, "load5": 1.2, "load15": 1.0},
        "memory": parse_meminfo(MEMINFO.replace("MemAvailable:    2000000", "MemAvailable:   12000000")
                                .replace("SwapFree:        1048576", "SwapFree:        4194304")),
        "filesystems": [dict(mount="/", fstype="overlay", device="overlay", readonly=False,
                             **usage_from_statvfs(1000, 600, 600, 1000, 900, 4096))],
        "mounts": [{"mount": "/", "fstype": "overlay", "readonly": False}],
        "time": {"synchronised": True, "offset_seconds": 0.000012, "leap_status": "Normal"},
        "failed_units": [],
        "oom": {"source": "journalctl", "count": 0, "window_hours": 168},
        "limits": {"kingbase": {"nofile": {"soft": {"value": 65536}, "hard": {"value": 65536}},
                                "nproc": {"soft": {"value": None}, "hard": {"value": None}}}},
        "listening": parse_proc_net_tcp(PROC_NET_TCP) + parse_proc_net_tcp(PROC_NET_TCP6, "tcp6"),
        "certificates": [{"path": "/etc/pki/far.pem", "not_after": "2051-06-30T12:00:00Z", "days_left": 9000}],
        "security": {
            "password_policy": {"pass_max_days": 90, "min_len": 8},
            "lockout": {"stacks": {"/etc/pam.d/system-auth": {"module": "pam_faillock.so", "deny": 5}}},
            "sshd": {"mismatches": []},
            "auditd": {"state": "active"},
            "firewall": {"active": True, "units": {"firewalld.service": "active"}},
            "world_writable": {"count": 0, "files": [], "paths": ["/etc"]},
        },
    }


def options(**over):
    base = {"deep": False, "horizon_days": 90, "required_mounts": ["/"],
            "expected_ports": normalise_ports([22, 1900, 54321, 18080]),
            "limits_minimum": {"kingbase": {"nofile": 65536, "nproc": 65536}},
            "critical_units": ["kingbased.service", "bes-*.service"]}
    base.update(over)
    return base


def test_a_healthy_host_has_no_findings_and_full_metrics():
    metrics, findings = judge(healthy_facts(), thresholds(), options())
    assert findings == []
    assert metrics["load1"] == 0.8 and metrics["load1_per_core"] == 0.2 and metrics["load5_per_core"] == 0.3
    assert metrics["disk_used_pct:/"] == 40.0 and metrics["inode_used_pct:/"] == 10.0
    assert metrics["mem_used_pct"] == 51.4 and metrics["swap_used_pct"] == 0.0
    assert metrics["time_offset_ms"] == 0.012 and metrics["failed_units"] == 0 and metrics["oom_kills"] == 0
    assert metrics["cert_days_left:/etc/pki/far.pem"] == 9000
    assert all(isinstance(v, (int, float)) for v in metrics.values())


@pytest.mark.parametrize("bavail, expected", [(250, None), (150, "warning"), (60, "critical")])
def test_disk_usage_thresholds(bavail, expected):
    facts = healthy_facts()
    # /srv/fill: a 1000-block tmpfs; used = 1000 - bfree, no reserved blocks.
    facts["filesystems"].append(dict(mount="/srv/fill", fstype="tmpfs", device="tmpfs", readonly=False,
                                     **usage_from_statvfs(1000, bavail, bavail, 100, 99, 4096)))
    _, findings = judge(facts, thresholds(), options())
    got = [(f["code"], f["severity"], f["subject"]) for f in findings]
    assert got == ([] if expected is None else [("HOST_DISK_USAGE", expected, "/srv/fill")])
    if expected:
        assert findings[0]["threshold"] == (90 if expected == "critical" else 80)
        assert "/srv/fill" in findings[0]["message"] and "%" in findings[0]["message"]
        assert "剩余 %.1f MB" % (bavail * 4096 / 1048576.0) in findings[0]["message"]


def test_inode_usage_and_custom_thresholds():
    facts = healthy_facts()
    facts["filesystems"][0].update(usage_from_statvfs(1000, 600, 600, 1000, 150, 4096))
    _, findings = judge(facts, thresholds(), options())
    assert codes(findings) == [("HOST_INODE_USAGE", "warning", "/")]
    _, findings = judge(facts, thresholds(inode_used_critical_pct=85), options())
    assert codes(findings) == [("HOST_INODE_USAGE", "critical", "/")]


def test_missing_and_read_only_mounts():
    facts = healthy_facts()
    facts["mounts"].append({"mount": "/data", "fstype": "xfs", "readonly": True})
    _, findings = judge(facts, thresholds(), options(required_mounts=["/", "/data", "/backup"]))
    assert codes(findings) == [("HOST_MOUNT_MISSING", "critical", "/backup"), ("HOST_MOUNT_READONLY", "critical", "/data")]


def test_load_memory_swap():
    facts = healthy_facts()
    facts["load"] = {"load1": 20.0, "load5": 13.0, "load15": 5.0}
    facts["memory"] = parse_meminfo(MEMINFO)
    _, findings = judge(facts, thresholds(), options())
    assert codes(findings) == [("HOST_LOAD", "critical", ""), ("HOST_MEMORY", "warning", "memory"),
                               ("HOST_SWAP", "warning", "swap")]
    load = [f for f in findings if f["code"] == "HOST_LOAD"][0]
    assert load["value"] == 3.25 and load["threshold"] == 3.0


@pytest.mark.parametrize("text, expected", [
    (CHRONY_OK, []),
    (CHRONY_SLOW, [("HOST_TIME_OFFSET", "critical", "chrony")]),
    (CHRONY_UNSYNCED, [("HOST_TIME_UNSYNCED", "warning", "chrony")]),
])
def test_time(text, expected):
    from huaian_host import parse_chronyc_tracking
    facts = healthy_facts()
    facts["time"] = parse_chronyc_tracking(text)
    metrics, findings = judge(facts, thresholds(), options())
    assert codes(findings) == expected
    if text is CHRONY_SLOW:
        assert metrics["time_offset_ms"] == 1250.0


def test_failed_units_critical_by_pattern():
    facts = healthy_facts()
    facts["failed_units"] = parse_failed_units(FAILED_UNITS)
    metrics, findings = judge(facts, thresholds(), options())
    assert metrics["failed_units"] == 2
    assert codes(findings) == [("HOST_FAILED_UNITS", "critical", "kingbased.service"),
                               ("HOST_FAILED_UNITS", "warning", "rsyslog.service")]


def test_oom_kills():
    facts = healthy_facts()
    facts["oom"] = dict(parse_oom_kills(JOURNAL_OOM), source="journalctl", window_hours=168)
    metrics, findings = judge(facts, thresholds(), options())
    assert metrics["oom_kills"] == 2
    # Subject "" so that the same anomaly keeps its key whichever process the kernel killed last.
    assert codes(findings) == [("HOST_OOM_KILL", "warning", "")]
    assert "168" in findings[0]["message"] and "kingbase" in findings[0]["message"]
    other = dict(facts["oom"], last_victim="java", last_pid=999)
    facts["oom"] = other
    assert [f["subject"] for f in judge(facts, thresholds(), options())[1]] == [""]
    facts["oom"] = dict(parse_oom_kills(JOURNAL_OOM), source="journalctl", window_hours=168)
    # Kernel log unreadable: no metric, no finding.
    facts["oom"] = {"source": None, "count": None, "window_hours": 168}
    metrics, findings = judge(facts, thresholds(), options())
    assert "oom_kills" not in metrics and findings == []


def test_limits():
    from huaian_host import effective_limits
    files = [("/etc/security/limits.conf", "* soft nofile 1024\n"),
             ("/etc/security/limits.d/90-huaian-platform.conf", "kingbase - nproc 65536\nkingbase hard nofile 65536\n")]
    facts = healthy_facts()
    facts["limits"] = {"kingbase": effective_limits(files, "kingbase")}
    _, findings = judge(facts, thresholds(), options())
    assert codes(findings) == [("HOST_LIMIT_LOW", "warning", "kingbase nofile")]
    assert findings[0]["value"] == 1024 and findings[0]["threshold"] == 65536
    facts["limits"] = {"kingbase": {}}
    _, findings = judge(facts, thresholds(), options())
    assert [f["value"] for f in findings] == [None, None]


def test_ports_not_listening():
    facts = healthy_facts()
    _, findings = judge(facts, thresholds(), options(expected_ports=normalise_ports(
        [22, {"port": 6379, "name": "Redis"}])))
    assert codes(findings) == [("HOST_PORT_NOT_LISTENING", "critical", "6379")]
    assert "Redis" in findings[0]["message"]


def cert_facts(name):
    not_after = min(pem_not_after((CERTS / name).read_text()))
    return {"path": "/etc/pki/" + name, "not_after": not_after.isoformat() + "Z", "days_left": days_left(not_after, NOW)}


@pytest.mark.parametrize("name, deep, expected", [
    ("expired.pem", False, [("HOST_CERT_EXPIRED", "critical", "/etc/pki/expired.pem")]),
    ("chain.pem", False, []),     # 35 days left, warning at 30
    ("chain.pem", True, [("HOST_CERT_EXPIRING", "warning", "/etc/pki/chain.pem")]),
    ("far.pem", True, []),
])
def test_certificates(name, deep, expected):
    facts = healthy_facts()
    facts["certificates"] = [cert_facts(name)]
    _, findings = judge(facts, thresholds(), options(deep=deep))
    assert codes(findings) == expected
    _, findings = judge(facts, thresholds(cert_warning_days=40), options())
    if name == "chain.pem":
        assert codes(findings) == [("HOST_CERT_EXPIRING", "warning", "/etc/pki/chain.pem")]


def test_security_findings_on_a_plain_debian_host():
    """Debian's defaults: no password ageing, no quality module, no lockout, no auditd, no firewall."""
    facts = healthy_facts()
    defs = parse_login_defs(LOGIN_DEFS_DEBIAN)
    facts["security"] = {
        "password_policy": {"pass_max_days": int(defs["PASS_MAX_DAYS"]),
                            "min_len": pam_min_length([COMMON_PASSWORD_DEBIAN], {}), "min_len_source": None},
        "lockout": {"stacks": {"/etc/pam.d/common-auth": pam_lockout(COMMON_AUTH_DEBIAN, {})}},
        "sshd": {"mismatches": [("MaxAuthTries", "4", "6")]},
        "auditd": {"state": "inactive"},
        "firewall": {"active": False, "units": {"firewalld.service": "inactive", "nftables.service": "inactive"}},
        "world_writable": {"count": 2, "files": ["/etc/bad.conf", "/opt/x"], "paths": ["/etc", "/opt"]},
    }
    metrics, findings = judge(facts, thresholds(), options())
    assert codes(findings) == [
        ("HOST_SEC_AUDITD", "warning", "auditd.service"), ("HOST_SEC_FIREWALL", "warning", "firewall"),
        ("HOST_SEC_LOCKOUT", "warning", "/etc/pam.d/common-auth"),
        ("HOST_SEC_PASSWORD_POLICY", "warning", "PASS_MAX_DAYS"), ("HOST_SEC_PASSWORD_POLICY", "warning", "minlen"),
        ("HOST_SEC_SSHD", "warning", "MaxAuthTries"), ("HOST_SEC_WORLD_WRITABLE", "warning", "/etc /opt")]
    assert metrics["world_writable_files"] == 2
    assert all(f["severity"] != "critical" for f in findings)


def test_switched_off_security_items_are_not_judged():
    facts = healthy_facts()
    facts["security"] = dict((name, None) for name in facts["security"])
    _, findings = judge(facts, thresholds(), options())
    assert findings == []


def test_lockout_deny_too_high():
    facts = healthy_facts()
    facts["security"]["lockout"] = {"stacks": {"/etc/pam.d/system-auth": pam_lockout(SYSTEM_AUTH_TALLY2, {})}}
    _, findings = judge(facts, thresholds(), options())
    assert [(f["code"], f["value"], f["threshold"]) for f in findings] == [("HOST_SEC_LOCKOUT", 10, 5)]


def test_every_finding_has_the_contract_fields():
    facts = healthy_facts()
    facts["failed_units"] = ["x.service"]
    facts["certificates"] = [cert_facts("expired.pem"), {"path": "/nope.pem", "error": "missing"}]
    _, findings = judge(facts, thresholds(), options(required_mounts=["/data"]))
    assert findings
    for f in findings:
        assert set(f) == {"code", "severity", "component", "subject", "message", "action", "value", "threshold"}
        assert f["code"].startswith("HOST_") and f["severity"] in ("warning", "critical") and f["component"] == "host"
        assert any("\u4e00" <= ch <= "\u9fff" for ch in f["message"] + f["action"])
    json.dumps(findings)


# --- the module --------------------------------------------------------------------------------------------

class FakeModule:
    def __init__(self, commands):
        self.commands = commands
        self.ran = []

    def get_bin_path(self, name, opt_dirs=None):
        return "/usr/bin/" + name if name in self.commands else None

    def run_command(self, args, environ_update=None):
        self.ran.append(args)
        args = program(args)
        answer = self.commands[os.path.basename(args[0])]
        return answer(args) if callable(answer) else answer


def program(args):
    """The command line without the timeout / nice / ionice wrappers."""
    if os.path.basename(args[0]) == "timeout":
        assert args[1:3] == ["-k", "5"]
        args = args[4:]
    if os.path.basename(args[0]) == "nice":
        args = args[3:]
    if os.path.basename(args[0]) == "ionice":
        args = args[4:]
    return args


def module_params(**over):
    params = {"thresholds": {}, "deep": False, "horizon_days": 90, "fs_types": LAB_TYPES, "mount_exclude": LAB_EXCLUDE,
              "required_mounts": ["/"], "expected_ports": [22, 54321], "oom_window_hours": 168,
              "critical_units": [], "limits_accounts": ["kingbase"], "limits_minimum": {"kingbase": {"nofile": 20000}},
              "limits_conf": "/etc/security/limits.conf", "limits_dir": "/etc/security/limits.d",
              "certificates": [str(CERTS / "chain.pem"), str(CERTS / "far.der"), "/etc/pki/odd.crt"],
              "security_checks": {"auditd": False, "firewall": False},
              "sshd_expected": {"PermitRootLogin": "prohibit-password", "MaxAuthTries": 4},
              "pam_auth_stacks": ["/etc/pam.d/system-auth", "/etc/pam.d/common-auth"],
              "pam_quality_stacks": ["/etc/pam.d/common-password"],
              "world_writable_paths": ["/etc", "/nonexistent"], "world_writable_limit": 1}
    params.update(over)
    return params


def test_gather_and_judge_a_lab_host(monkeypatch, tmp_path):
    files = {
        "/proc/cpuinfo": CPUINFO_X86, "/proc/meminfo": MEMINFO.replace("SwapTotal:       4194304", "SwapTotal: 0")
        .replace("SwapFree:        1048576", "SwapFree: 0").replace("MemAvailable:    2000000", "MemAvailable:   20000000"),
        "/proc/loadavg": "0.50 0.40 0.30 1/200 999\n", "/proc/mounts": PROC_MOUNTS_LAB,
        "/proc/net/tcp": PROC_NET_TCP, "/proc/net/tcp6": PROC_NET_TCP6, "/proc/uptime": "10000.0 1.0\n",
        "/etc/security/limits.d/90-huaian-platform.conf": "kingbase - nofile 20000\nkingbase - nproc 20000\n",
        "/etc/login.defs": LOGIN_DEFS_DEBIAN, "/etc/pam.d/common-auth": COMMON_AUTH_DEBIAN,
        "/etc/pam.d/common-password": COMMON_PASSWORD_DEBIAN,
    }
    real_read = mod.read
    monkeypatch.setattr(mod, "read", lambda path: files.get(path) if not path.startswith(str(CERTS)) else real_read(path))
    monkeypatch.setattr(mod.glob, "glob", lambda pattern: sorted(p for p in files if p.startswith(os.path.dirname(pattern) + "/")))
    monkeypatch.setattr(mod, "account_groups", lambda name: (1002, ["kingbase"]))
    monkeypatch.setattr(mod, "limits_files", lambda conf, d: [
        (p, files[p]) for p in [conf] + sorted(x for x in files if x.startswith(d + "/")) if p in files])
    monkeypatch.setattr(mod.os.path, "isdir", lambda path: path == "/etc")
    monkeypatch.setattr(mod, "utcnow", lambda: NOW)
    sizes = {"/": (10000, 6000, 5500, 1000, 900), "/srv/fill": (1000, 50, 50, 100, 99),
             "/tmp": (1000, 1000, 1000, 100, 99), "/mnt/with space": (10, 10, 10, 0, 0)}

    class St:
        def __init__(self, v):
            self.f_blocks, self.f_bfree, self.f_bavail, self.f_files, self.f_ffree = v
            self.f_frsize = self.f_bsize = 4096

    monkeypatch.setattr(mod.os, "statvfs", lambda path: St(sizes[path]))
    fake = FakeModule({
        "chronyc": (0, CHRONY_OK, ""),
        "systemctl": (0, FAILED_UNITS_BULLET, ""),
        "journalctl": (0, "", ""),                     # a container's journal has no kernel lines
        "dmesg": (1, "", "dmesg: read kernel buffer failed: Operation not permitted\n"),
        "sshd": (0, SSHD_T.replace("maxauthtries 4", "maxauthtries 6"), ""),
        # Only the fallback for what the pure parser cannot read: odd.crt (not a certificate to it).
        "openssl": lambda args: (0, "notAfter=Jan  2 03:04:05 2020 GMT\n", "") if args[-1] == str(odd) else (1, "", "bad"),
        "find": (0, "/etc/zz-open.conf\n/etc/aa-open.conf\n", ""),
        "timeout": None,
    })
    odd = tmp_path / "odd.crt"
    odd.write_text("not PEM, not DER\n")
    params = module_params()
    params["certificates"][2] = str(odd)
    checks = merge_security_checks(params["security_checks"])
    facts = mod.gather(fake, params, checks)
    metrics, findings = judge(facts, merge_thresholds({}), {
        "deep": False, "horizon_days": 90, "required_mounts": ["/"], "critical_units": [],
        "expected_ports": normalise_ports(params["expected_ports"]),
        "limits_minimum": normalise_limits_minimum(params["limits_accounts"], params["limits_minimum"])})

    assert [fs["mount"] for fs in facts["filesystems"]] == ["/", "/mnt/with space", "/srv/fill", "/tmp"]
    assert [m["mount"] for m in facts["mounts"]] == ["/", "/etc/hosts", "/home/labops/.ssh/authorized_keys",
                                                    "/tmp", "/srv/fill", "/mnt/with space"]
    assert facts["oom"] == {"count": 0, "last_victim": None, "last_pid": None, "last_line": None,
                            "source": "journalctl", "kernel_log_lines": 0, "window_hours": 168}
    assert facts["certificates"][0]["days_left"] == 35 and facts["certificates"][0]["source"] == "pem"
    assert facts["certificates"][1]["source"] == "der" and facts["certificates"][1]["not_after"] == "2051-06-30T12:00:00Z"
    assert facts["certificates"][2]["source"] == "openssl" and facts["certificates"][2]["days_left"] < 0
    assert facts["security"]["auditd"] is None and facts["security"]["firewall"] is None
    assert facts["security"]["world_writable"] == {"paths": ["/etc"], "count": 2, "files": ["/etc/aa-open.conf"]}
    assert facts["limits"]["kingbase"]["nofile"]["soft"]["value"] == 20000
    assert codes(findings) == [
        ("HOST_CERT_EXPIRED", "critical", str(odd)),
        ("HOST_DISK_USAGE", "critical", "/srv/fill"),
        ("HOST_FAILED_UNITS", "warning", "logrotate.service"),
        ("HOST_SEC_LOCKOUT", "warning", "/etc/pam.d/common-auth"),
        ("HOST_SEC_PASSWORD_POLICY", "warning", "PASS_MAX_DAYS"),
        ("HOST_SEC_PASSWORD_POLICY", "warning", "minlen"),
        ("HOST_SEC_SSHD", "warning", "MaxAuthTries"),
        ("HOST_SEC_WORLD_WRITABLE", "warning", "/etc"),
    ]
    assert metrics["disk_used_pct:/srv/fill"] == 95.0 and metrics["oom_kills"] == 0 and metrics["listening_ports"] == 4
    assert "inode_used_pct:/mnt/with space" not in metrics
    # Read-only: only reading commands ran.
    ran = sorted(set(os.path.basename(program(c)[0]) for c in fake.ran))
    assert ran == ["chronyc", "dmesg", "find", "journalctl", "openssl", "sshd", "systemctl"]
    # Every command is bounded by coreutils timeout: 30 s, the world-writable find 300 s.
    assert all(c[:4] == ["/usr/bin/timeout", "-k", "5", "300" if "/usr/bin/find" in c else "30"] for c in fake.ran)
    assert [c for c in fake.ran if "/usr/bin/systemctl" in c] == [
        ["/usr/bin/timeout", "-k", "5", "30", "/usr/bin/systemctl", "--failed", "--no-legend", "--plain", "--no-pager"]]
    assert [c[4:] for c in fake.ran if "/usr/bin/find" in c] == [
        ["/usr/bin/find", "/etc", "-xdev", "-perm", "-0002", "-type", "f", "!", "-type", "l", "-print"]]


TIMED_OUT = (124, "", "")


def test_a_command_that_times_out_is_unreadable_not_a_crash(monkeypatch):
    monkeypatch.setattr(mod, "read", lambda path: None)
    fake = FakeModule({"timeout": None, "chronyc": TIMED_OUT, "systemctl": TIMED_OUT, "journalctl": TIMED_OUT,
                       "dmesg": TIMED_OUT, "sshd": TIMED_OUT})
    params = module_params(certificates=[], limits_accounts=[], limits_minimum={}, world_writable_paths=[],
                           security_checks={"auditd": True, "firewall": True})
    facts = mod.gather(fake, params, merge_security_checks(params["security_checks"]))
    assert facts["time"] == {"synchronised": False, "offset_seconds": None, "error": "chronyc 超时（30 秒）未返回"}
    assert facts["failed_units"] is None and facts["oom"]["source"] is None
    assert facts["security"]["sshd"] == {"error": "sshd 超时（30 秒）未返回", "mismatches": []}
    assert facts["security"]["auditd"] == {"state": "unknown"}
    assert set(facts["security"]["firewall"]["units"].values()) == {"unknown"}
    judge(facts, merge_thresholds({}), {"required_mounts": []})


NFS_MOUNTS = """/dev/vda1 / xfs rw,relatime 0 0
10.231.10.5:/export/opt /opt nfs4 rw,relatime,vers=4.2,hard 0 0
auto.home /home autofs rw,relatime,fd=7,pgrp=1,timeout=300 0 0
/dev/vdb1 /opt/local xfs rw,relatime 0 0
sshfs#backup@10.231.10.6:/ /srv/remote fuse.sshfs rw,nosuid,nodev 0 0
"""


def test_world_writable_search_skips_network_mounts_and_yields(monkeypatch, tmp_path):
    mounts = parse_proc_mounts(NFS_MOUNTS)
    assert mod.network_mount("/opt", mounts)["fstype"] == "nfs4"
    assert mod.network_mount("/opt/local/x", mounts)["mount"] == "/opt"  # under the NFS mount too
    assert mod.network_mount("/home/", mounts)["fstype"] == "autofs"
    assert mod.network_mount("/usr", mounts) is None and mod.network_mount("/optional", mounts) is None
    stat_ed = []

    def isdir(path):
        stat_ed.append(path)
        return True

    monkeypatch.setattr(mod.os.path, "isdir", isdir)
    link = tmp_path / "data"
    os.symlink("/srv/remote/data", str(link))  # a local link onto the sshfs mount
    fake = FakeModule({"timeout": None, "nice": None, "ionice": None, "find": (0, "/usr/bin/oops\n", "")})
    out = mod.gather_world_writable(fake, ["/usr", "/opt", "/home", str(link), "/srv/remote"], 50, mounts)
    assert stat_ed == ["/usr"]  # nothing on a network mount was stat'ed
    assert out["paths"] == ["/usr"] and out["count"] == 1
    assert [(s["path"], s["fstype"]) for s in out["skipped_network"]] == [
        ("/opt", "nfs4"), ("/home", "autofs"), (str(link), "fuse.sshfs"), ("/srv/remote", "fuse.sshfs")]
    assert fake.ran == [["/usr/bin/timeout", "-k", "5", "300", "/usr/bin/nice", "-n", "19", "/usr/bin/ionice", "-c", "3", "-t",
                         "/usr/bin/find", "/usr", "-xdev", "-perm", "-0002", "-type", "f", "!", "-type", "l", "-print"]]
    # Out of time: what find printed is kept, and the search is reported as incomplete.
    slow = FakeModule({"timeout": None, "find": (124, "/usr/a\n", "")})
    out = mod.gather_world_writable(slow, ["/usr"], 50, mounts)
    assert out["error"] == "find 超时（300 秒）" and out["files"] == ["/usr/a"]
    assert slow.ran[0][:5] == ["/usr/bin/timeout", "-k", "5", "300", "/usr/bin/find"]  # no nice/ionice installed


def test_gather_without_chrony_systemd_or_sshd(monkeypatch):
    monkeypatch.setattr(mod, "read", lambda path: None)
    fake = FakeModule({})
    params = module_params(certificates=["/etc/pki/missing.pem"], limits_accounts=[], limits_minimum={},
                           world_writable_paths=[])
    facts = mod.gather(fake, params, merge_security_checks({}))
    assert facts["time"]["synchronised"] is False and facts["failed_units"] is None
    assert facts["oom"]["source"] is None
    assert facts["security"]["sshd"]["error"]
    metrics, findings = judge(facts, merge_thresholds({}), {"required_mounts": ["/"]})
    assert ("HOST_MOUNT_MISSING", "critical", "/") in codes(findings)
    assert ("HOST_CERT_UNREADABLE", "warning", "/etc/pki/missing.pem") in codes(findings)
    assert ("HOST_TIME_UNSYNCED", "warning", "chrony") in codes(findings)


def run_main(monkeypatch, capsys, args):
    return run_module_main(mod, monkeypatch, capsys, args)


def test_main_refuses_an_unknown_threshold(monkeypatch, capsys):
    result = run_main(monkeypatch, capsys, {"thresholds": {"disk_pct": 80}})
    assert result["failed"] and "disk_pct" in result["msg"]


def test_main_refuses_an_unknown_security_check(monkeypatch, capsys):
    result = run_main(monkeypatch, capsys, {"security_checks": {"selinux": False}})
    assert result["failed"] and "selinux" in result["msg"]


def test_main_on_this_machine_is_read_only_and_well_formed(monkeypatch, capsys):
    result = run_main(monkeypatch, capsys, {"_ansible_check_mode": True, "world_writable_paths": [],
                                            "certificates": [str(CERTS / "far.pem")]})
    assert not result.get("failed") and result["changed"] is False
    assert result["metrics"]["cpu_count"] >= 1 and "load1_per_core" in result["metrics"]
    assert result["facts"]["certificates"][0]["not_after"] == "2051-06-30T12:00:00Z"
    for f in result["findings"]:
        assert f["code"].startswith("HOST_") and f["severity"] in ("warning", "critical")


@pytest.mark.parametrize("path", [ROOT / "plugins" / "modules" / "host_inspect.py",
                                  ROOT / "plugins" / "module_utils" / "huaian_inspect_host.py"], ids=lambda p: p.name)
def test_host_inspect_parses_as_python_3_7(path):
    ast.parse(path.read_text(), filename=str(path), feature_version=(3, 7))


def test_documentation_parses_and_names_every_finding_code():
    import re
    import yaml
    doc = yaml.safe_load(mod.DOCUMENTATION)
    notes = " ".join(doc["notes"])
    source = (ROOT / "plugins" / "module_utils" / "huaian_inspect_host.py").read_text()
    emitted = set(re.findall(r'"(HOST_[A-Z_]+)"', source))
    assert len(emitted) == 22
    assert sorted(code for code in emitted if "C(%s)" % code not in notes) == []
    # Every option of the argument spec is documented, and nothing else.
    tree = ast.parse((ROOT / "plugins" / "modules" / "host_inspect.py").read_text())
    spec = [node for node in ast.walk(tree) if isinstance(node, ast.keyword) and node.arg == "argument_spec"][0]
    # `**inspection_argument_spec()` adds the options common to the inspection modules.
    common = set(inspection_argument_spec())
    assert set(doc["options"]) == set(k.arg for k in spec.value.keywords if k.arg) | common
    yaml.safe_load(mod.EXAMPLES)
    yaml.safe_load(mod.RETURN)
