"""migration_facts: the parsers of plugins/module_utils/huaian_migration.py on real texts, and the module
with a fake AnsibleModule (commands) over the real filesystem of the test machine."""
import collections
import hashlib
import os
import socket
import sys

import pytest

import migration_facts as mod
from ansible.module_utils import huaian_migration as hm

KYLIN_OS_RELEASE = """NAME="Kylin Linux Advanced Server"
VERSION="V10 (Lance)"
ID="kylin"
VERSION_ID="V10"
PRETTY_NAME="Kylin Linux Advanced Server V10 (Lance)"
ANSI_COLOR="0;31"

"""
UOS_OS_RELEASE = """PRETTY_NAME='UnionTech OS Server 20'
NAME='UnionTech OS Server 20'
VERSION_ID='20'
VERSION='20'
ID=uos
HOME_URL="https://www.chinauos.com/"
PLATFORM_ID="platform:uel20"
"""

MEMINFO = """MemTotal:       65536000 kB
MemFree:         1234567 kB
MemAvailable:   40000000 kB
Buffers:          204800 kB
Cached:         20480000 kB
SwapTotal:       8388604 kB
SwapFree:        8388604 kB
HugePages_Total:       0
Hugepagesize:       2048 kB
"""

# 22 on 0.0.0.0 and 54321 on 0.0.0.0 listening, 8888 on 127.0.0.1 listening, an established ssh session.
PROC_NET_TCP = """  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 21546 1 0000000000000000 100 0 0 10 0
   1: 00000000:D431 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1002        0 33012 1 0000000000000000 100 0 0 10 0
   2: 0100007F:22B8 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1001        0 33900 1 0000000000000000 100 0 0 10 0
   3: 0B0AE70A:0016 0C0AE70A:E1A2 01 00000000:00000000 02:0009C2E4 00000000     0        0 41210 4 0000000000000000 20 4 30 10 -1
   4: 0B0AE70A:1F90 0C0AE70A:0050 06 00000000:00000000 03:00000B23 00000000     0        0 0 3 0000000000000000
"""
# 22 on :: and 8443 on ::ffff:10.231.10.11 listening; 54321 on ::1 only in TIME_WAIT.
PROC_NET_TCP6 = """  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000000000000:0016 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 21548 1 0000000000000000 100 0 0 10 0
   1: 0000000000000000FFFF00000B0AE70A:20FB 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000  1001        0 33950 1 0000000000000000 100 0 0 10 0
   2: 00000000000000000000000001000000:D431 00000000000000000000000001000000:C350 06 00000000:00000000 03:00001770 00000000     0        0 0 3 0000000000000000
"""

CHRONY_OK = """Reference ID    : 0AE70A0B (10.231.10.11)
Stratum         : 3
Ref time (UTC)  : Thu Nov 26 11:58:02 2026
System time     : 0.000123456 seconds slow of NTP time
Last offset     : -0.000001234 seconds
RMS offset      : 0.000004567 seconds
Frequency       : 1.234 ppm slow
Residual freq   : +0.000 ppm
Skew            : 0.012 ppm
Root delay      : 0.000123456 seconds
Root dispersion : 0.000234567 seconds
Update interval : 64.2 seconds
Leap status     : Normal
"""
CHRONY_FAST = CHRONY_OK.replace("0.000123456 seconds slow", "2.500000000 seconds fast")
CHRONY_UNSYNCED = """Reference ID    : 00000000 ()
Stratum         : 0
Ref time (UTC)  : Thu Jan 01 00:00:00 1970
System time     : 0.000000000 seconds fast of NTP time
Last offset     : +0.000000000 seconds
RMS offset      : 0.000000000 seconds
Frequency       : 0.000 ppm slow
Leap status     : Not synchronised
"""

# A license.dat as Kingbase issues it: readable key/value text, the MAC the customer supplied.
LICENSE_DAT = """[license]
LSN=KES-V8R6-20261120-000123
PRODUCT=KingbaseES V8
VERSION=V008R006C008B0014
PRODUCT_DATE=2026-11-20
VALID_DAYS=0
MAC=00:50:56:AB:CD:EF
MAX_CONNECTIONS=2000
"""
LICENSE_TWO_MACS = "MAC地址：00-50-56-ab-cd-01,00-50-56-AB-CD-02\nserial 12:30:45\n"


# --- parsers ------------------------------------------------------------------------------------------

def test_kylin_v10_os_release():
    assert hm.parse_os_release(KYLIN_OS_RELEASE) == {
        "ID": "kylin", "VERSION_ID": "V10", "PRETTY_NAME": "Kylin Linux Advanced Server V10 (Lance)"}


def test_os_release_single_quotes_bare_values_and_missing_keys():
    assert hm.parse_os_release(UOS_OS_RELEASE) == {"ID": "uos", "VERSION_ID": "20",
                                                   "PRETTY_NAME": "UnionTech OS Server 20"}
    assert hm.parse_os_release("# comment\nID=debian\n") == {"ID": "debian", "VERSION_ID": None, "PRETTY_NAME": None}


def test_meminfo_total_in_bytes():
    assert hm.parse_meminfo_total(MEMINFO) == 65536000 * 1024
    assert hm.parse_meminfo_total("MemFree: 1 kB\n") is None
    assert hm.parse_meminfo_total("") is None


def test_proc_net_tcp_reports_listening_sockets_only():
    assert hm.parse_proc_net_tcp(PROC_NET_TCP) == {22: ["0.0.0.0"], 54321: ["0.0.0.0"], 8888: ["127.0.0.1"]}
    assert hm.parse_proc_net_tcp(PROC_NET_TCP6) == {22: ["::"], 8443: ["::ffff:10.231.10.11"]}


def test_port_states_merge_ipv4_and_ipv6():
    states = hm.port_states([22, 54321, 8443, 5999],
                            {"/proc/net/tcp": PROC_NET_TCP, "/proc/net/tcp6": PROC_NET_TCP6})
    by_port = dict((s["port"], s) for s in states)
    assert by_port[22] == {"port": 22, "listening": True, "addresses": ["0.0.0.0", "::"], "error": None}
    assert by_port[54321]["listening"] is True  # IPv4; the IPv6 line is TIME_WAIT
    assert by_port[8443]["listening"] is True
    assert by_port[5999] == {"port": 5999, "listening": False, "addresses": [], "error": None}


def test_port_states_without_any_table_are_unknown():
    (state,) = hm.port_states([22], {"/proc/net/tcp": None, "/proc/net/tcp6": None})
    assert state["listening"] is None and "/proc/net/tcp" in state["error"]
    (state,) = hm.port_states([22], {"/proc/net/tcp": None, "/proc/net/tcp6": PROC_NET_TCP6})
    assert state["listening"] is True


def test_chronyc_tracking_synced_slow_is_negative():
    assert hm.parse_chronyc_tracking(CHRONY_OK) == {
        "reference_id": "0AE70A0B (10.231.10.11)", "stratum": 3, "offset_seconds": -0.000123456,
        "leap_status": "Normal", "synced": True}


def test_chronyc_tracking_fast_is_positive_and_unsynced_is_not_synced():
    assert hm.parse_chronyc_tracking(CHRONY_FAST)["offset_seconds"] == 2.5
    state = hm.parse_chronyc_tracking(CHRONY_UNSYNCED)
    assert state["synced"] is False and state["leap_status"] == "Not synchronised" and state["stratum"] == 0
    assert hm.parse_chronyc_tracking("506 Cannot talk to daemon\n") == {
        "reference_id": None, "stratum": None, "offset_seconds": None, "leap_status": None, "synced": False}


def test_mac_extraction_normalises_both_spellings():
    assert hm.extract_macs(LICENSE_DAT) == ["00:50:56:ab:cd:ef"]
    assert hm.extract_macs(LICENSE_TWO_MACS) == ["00:50:56:ab:cd:01", "00:50:56:ab:cd:02"]


def test_mac_extraction_ignores_lookalikes():
    # A "MAC:" label is not taken for a group; times, IPv6 addresses, mixed separators and glued hex are not MACs.
    assert hm.extract_macs("MAC:00:50:56:AB:CD:EF") == ["00:50:56:ab:cd:ef"]
    text = "12:30:45 fe80::250:56ff:feab:cdef 00:50-56:ab:cd:ef 000:50:56:ab:cd:ef 00:50:56:ab:cd:efa"
    assert hm.extract_macs(text) == []
    assert hm.extract_macs("a 00:50:56:ab:cd:ef and 00:50:56:AB:CD:EF again") == ["00:50:56:ab:cd:ef"]


def test_du_output():
    assert hm.parse_du("53687091200\t/data/kingbase/data\n") == 53687091200
    assert hm.parse_du("") is None
    assert hm.du_result("/d", 0, "4096\t/d\n", "", False, 120) == {"path": "/d", "bytes": 4096, "complete": True,
                                                                   "error": None}
    partial = hm.du_result("/d", 1, "4096\t/d\n", "du: cannot read directory '/d/x': Permission denied\n", False, 120)
    assert partial["bytes"] == 4096 and partial["complete"] is False and "Permission denied" in partial["error"]
    assert hm.du_result("/d", 124, "", "du timed out after 120 s", True, 120)["error"] == "du timed out after 120 s"
    assert hm.du_result("/d", 1, "", "du: cannot access '/d': No such file\n", False, 120)["bytes"] is None


def test_proc_mounts_and_the_mount_of_a_path():
    mounts = hm.parse_proc_mounts("/dev/mapper/klas-root / xfs rw 0 0\n/dev/sdb1 /data xfs rw 0 0\n"
                                  "/dev/sdc1 /data/back\\040up ext4 rw 0 0\ntmpfs /dev/shm tmpfs rw 0 0\n")
    assert mounts[2] == ("/data/back up", "ext4", "/dev/sdc1")
    assert hm.mount_of("/data/kingbase", mounts) == ("/data", "xfs")
    assert hm.mount_of("/data", mounts) == ("/data", "xfs")
    assert hm.mount_of("/database", mounts) == ("/", "xfs")
    assert hm.mount_of("/data/back up/x", mounts) == ("/data/back up", "ext4")
    assert hm.mount_of("/x", []) == (None, None)


def test_nearest_existing_ancestor():
    existing = {"/", "/data"}
    assert hm.nearest_existing("/data/kingbase/new", existing.__contains__) == "/data"
    assert hm.nearest_existing("/nowhere/x", existing.__contains__) == "/"
    assert hm.nearest_existing("/data", existing.__contains__) == "/data"


def test_path_space_of_a_missing_path_measures_its_ancestor():
    Stat = collections.namedtuple("Stat", "f_bavail f_frsize f_blocks")
    calls = []

    def statvfs(path):
        calls.append(path)
        return Stat(f_bavail=10, f_frsize=4096, f_blocks=100)

    out = hm.path_space("/data/kingbase", [("/", "xfs", "r"), ("/data", "xfs", "d")], exists={"/", "/data"}.__contains__,
                        realpath=lambda p: p, statvfs=statvfs)
    assert out == {"path": "/data/kingbase", "exists": False, "measured": "/data", "mount": "/data", "fstype": "xfs",
                   "free_bytes": 40960, "total_bytes": 409600, "error": None}
    assert calls == ["/data"]
    assert hm.path_space("data/x", [])["error"] == "not an absolute path"


# --- the module ---------------------------------------------------------------------------------------

class FakeModule:
    def __init__(self, commands, params=None):
        self.commands = commands
        self.params = params or {}
        self.ran = []

    def get_bin_path(self, name, opt_dirs=None):
        return "/usr/bin/" + name if name in self.commands else None

    def run_command(self, args, environ_update=None):
        self.ran.append(list(args))
        if os.path.basename(args[0]) == "timeout":
            args = args[4:]
        answer = self.commands[os.path.basename(args[0])]
        return answer(args) if callable(answer) else answer


def params(**over):
    p = {"paths": [], "usage_paths": [], "du_timeout": 120, "ports": [], "license_files": [], "chronyc": "chronyc"}
    p.update(over)
    return p


def test_module_reports_the_platform_and_options(tmp_path):
    licence = tmp_path / "license.dat"
    licence.write_text(LICENSE_DAT)
    data = tmp_path / "data"
    data.mkdir()
    (data / "f").write_bytes(b"x" * 10000)

    def du(args):
        assert args[1:3] == ["-sx", "--block-size=1"]
        return 0, "12288\t%s\n" % args[3], ""

    module = FakeModule({"timeout": None, "du": du, "chronyc": (0, CHRONY_OK, "")},
                        params(paths=[str(tmp_path / "new" / "dir")], usage_paths=[str(data), str(tmp_path / "none")],
                               license_files=[str(licence), str(tmp_path / "missing.dat")]))
    out = mod.run(module)
    assert out["changed"] is False
    assert out["machine"] == os.uname().machine and out["byteorder"] == sys.byteorder
    assert out["kernel"] == os.uname().release and out["cpu_count"] == os.cpu_count()
    assert out["mem_total_bytes"] > 0
    assert set(out["os_release"]) == {"ID", "VERSION_ID", "PRETTY_NAME"}
    assert "lo" not in [i["name"] for i in out["interfaces"]] and hm.ZERO_MAC not in out["macs"]
    (space,) = out["paths"]
    assert space["exists"] is False and space["measured"] == str(tmp_path) and space["free_bytes"] > 0
    assert space["total_bytes"] >= space["free_bytes"] and space["mount"]
    assert out["usage"] == [{"path": str(data), "bytes": 12288, "complete": True, "error": None},
                            {"path": str(tmp_path / "none"), "bytes": None, "complete": False, "error": "does not exist"}]
    lic, missing = out["license_files"]
    assert lic["exists"] and lic["macs"] == ["00:50:56:ab:cd:ef"]
    assert lic["sha256"] == hashlib.sha256(LICENSE_DAT.encode()).hexdigest() and lic["mtime"] > 0
    assert missing == {"path": str(tmp_path / "missing.dat"), "exists": False, "sha256": None, "mtime": None,
                       "macs": [], "error": None}
    assert out["chrony"]["synced"] is True and out["chrony"]["reason"] is None
    assert out["chrony"]["offset_seconds"] == -0.000123456
    # Both run under coreutils timeout.
    assert [a[:2] for a in module.ran] == [["/usr/bin/timeout", "-k"]] * 2
    assert [a[4:] for a in module.ran] == [["/usr/bin/du", "-sx", "--block-size=1", str(data)],
                                           ["/usr/bin/chronyc", "-n", "tracking"]]


def test_du_runs_under_timeout_and_a_timeout_is_reported(tmp_path):
    module = FakeModule({"timeout": None, "du": (124, "", "")})
    (usage,) = mod.disk_usage(module, [str(tmp_path)], 7)
    assert module.ran[0][:4] == ["/usr/bin/timeout", "-k", "5", "7"]
    assert usage == {"path": str(tmp_path), "bytes": None, "complete": False, "error": "du timed out after 7 s"}


def test_no_du_is_reported_not_failed(tmp_path):
    module = FakeModule({})
    assert mod.disk_usage(module, [str(tmp_path)], 120)[0]["error"] == "du not found"


def test_chrony_absent_failing_and_unsynced():
    absent = mod.chrony_state(FakeModule({}), "chronyc")
    assert absent["synced"] is None and absent["reason"] == "chronyc not found"
    assert mod.chrony_state(FakeModule({}), "/nonexistent/chronyc")["reason"] == "/nonexistent/chronyc not found"
    down = mod.chrony_state(FakeModule({"chronyc": (1, "", "506 Cannot talk to daemon\n")}), "chronyc")
    assert down["synced"] is False and "506 Cannot talk to daemon" in down["reason"]
    unsynced = mod.chrony_state(FakeModule({"chronyc": (0, CHRONY_UNSYNCED, "")}), "chronyc")
    assert unsynced["synced"] is False and unsynced["reason"] == "Leap status Not synchronised"


def test_host_interfaces_skip_lo_and_zero_and_add_bonded_permanent_addresses(tmp_path):
    net = tmp_path / "net"
    for name, mac in (("lo", "00:00:00:00:00:00"), ("eth0", "00:50:56:AB:CD:EF"), ("dummy0", "00:00:00:00:00:00"),
                      ("bond0", "00:50:56:ab:cd:ef")):
        (net / name).mkdir(parents=True)
        (net / name / "address").write_text(mac + "\n")
    bonding = tmp_path / "bonding"
    bonding.mkdir()
    (bonding / "bond0").write_text("Bonding Mode: fault-tolerance (active-backup)\n\nSlave Interface: eth0\n"
                                   "Permanent HW addr: 00:50:56:ab:cd:ef\n\nSlave Interface: eth1\n"
                                   "Permanent HW addr: 00:50:56:ab:cd:f0\n")
    interfaces, macs = mod.host_interfaces(str(net), str(bonding))
    assert [i["name"] for i in interfaces] == ["bond0", "eth0"]
    assert macs == ["00:50:56:ab:cd:ef", "00:50:56:ab:cd:f0"]


@pytest.mark.skipif(not os.path.exists("/proc/net/tcp"), reason="needs /proc/net/tcp")
def test_a_real_listening_socket_is_seen():
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)
        port = sock.getsockname()[1]
        out = mod.run(FakeModule({}, params(ports=[port])))
        assert out["ports"] == [{"port": port, "listening": True, "addresses": ["127.0.0.1"], "error": None}]
    finally:
        sock.close()
