#!/usr/bin/python
# -*- coding: utf-8 -*-
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: migration_facts
short_description: Read, in one call, the facts a migration precheck needs from one host (source or target)
description:
  - Reports the platform of the host (machine, byte order, glibc, os-release, kernel, CPUs, memory, MAC
    addresses), the free space where data will go (I(paths)), the space data already takes (I(usage_paths)),
    whether TCP ports are taken (I(ports)), the MAC addresses a Kingbase C(license.dat) is bound to
    (I(license_files)) and chrony's synchronisation state.
  - Judges nothing; the migration_precheck_problems filter (plugins/filter/migration_filters.py) compares
    the facts of the source and target hosts. A path, file or command that cannot be read is reported in
    the result (C(error), C(reason)), never a module failure.
  - Read-only; safe in check mode. Runs on Python 3.7 (Kylin V10), standard library only. Run it with
    become when I(usage_paths) or I(license_files) are readable by their owner only.
version_added: "0.1.0"
author: huaian-platform-ops
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
options:
  paths:
    description:
      - Absolute paths whose filesystem's free and total space to report (os.statvfs). A path that does
        not exist yet is measured at its nearest existing ancestor (C(measured)).
      - C(free_bytes) is the space an unprivileged user (kingbase, bes) may use; root's reserve is not counted.
    type: list
    elements: path
    default: []
  usage_paths:
    description: Paths whose used bytes to measure with C(du -sx --block-size=1) (one filesystem, no crossing of mounts).
    type: list
    elements: path
    default: []
  du_timeout:
    description: Seconds each C(du) may run before it is killed and the path reported as timed out.
    type: int
    default: 120
  ports:
    description: TCP ports to check for a listening socket (IPv4 and IPv6, from /proc/net/tcp and /proc/net/tcp6).
    type: list
    elements: int
    default: []
  license_files:
    description: Kingbase licence files (C(license.dat)) to read; every MAC address in their text is reported.
    type: list
    elements: path
    default: []
  chronyc:
    description: The chronyc command (a name looked up in PATH and /usr/bin, /usr/sbin, or a path); C(chronyc -n tracking) is run.
    type: str
    default: chronyc
notes:
  - MAC addresses are normalised to lower case with colons (C(00:50:56:ab:cd:ef)); both C(aa:bb:...) and
    C(aa-bb-...) spellings are found in licence files. A run of more than six groups (an 8-byte address)
    yields its last six.
  - C(macs) lists every interface address except C(lo) and C(00:00:00:00:00:00), plus the permanent
    addresses of bonded slaves (/proc/net/bonding), which a licence may be bound to; C(interfaces) tells
    which interfaces are virtual (bridges, veth, bonds).
"""

EXAMPLES = r"""
- name: Read the migration precheck facts of a Kingbase target
  migration_facts:
    paths: [/data/kingbase, /backup]
    usage_paths: []
    ports: [54321, 8888]
    license_files: [/opt/Kingbase/ES/V8/license.dat]
  become: true
  register: migration_facts

- name: Measure the data to move on the source
  migration_facts:
    usage_paths: [/data/kingbase/data, /data/huaian/attachments]
    du_timeout: 600
  become: true
  register: source_facts
"""

RETURN = r"""
machine:
  description: os.uname().machine (C(x86_64), C(aarch64), C(mips64), C(loongarch64)).
  returned: always
  type: str
  sample: aarch64
byteorder:
  description: sys.byteorder of the host's Python (C(little) or C(big)).
  returned: always
  type: str
  sample: little
glibc:
  description: os.confstr('CS_GNU_LIBC_VERSION'), or null (not glibc).
  returned: always
  type: str
  sample: glibc 2.28
os_release:
  description: ID, VERSION_ID and PRETTY_NAME from /etc/os-release (null when absent).
  returned: always
  type: dict
  sample: {"ID": "kylin", "VERSION_ID": "V10", "PRETTY_NAME": "Kylin Linux Advanced Server V10 (Lance)"}
kernel:
  description: The kernel release (os.uname().release).
  returned: always
  type: str
  sample: 4.19.90-24.4.v2101.ky10.aarch64
cpu_count:
  description: os.cpu_count().
  returned: always
  type: int
mem_total_bytes:
  description: MemTotal from /proc/meminfo in bytes, or null.
  returned: always
  type: int
macs:
  description: The MAC addresses of the host, sorted (see notes).
  returned: always
  type: list
  elements: str
  sample: ["00:50:56:ab:cd:ef"]
interfaces:
  description: Each network interface with a MAC address, {name, mac, virtual}.
  returned: always
  type: list
  elements: dict
paths:
  description: Per I(paths) item {path, exists, measured, mount, fstype, free_bytes, total_bytes, error}.
  returned: always
  type: list
  elements: dict
  sample: [{"path": "/data/kingbase", "exists": false, "measured": "/data", "mount": "/data", "fstype": "xfs",
            "free_bytes": 805306368000, "total_bytes": 1073741824000, "error": null}]
usage:
  description:
    - Per I(usage_paths) item {path, bytes, complete, error}. bytes is null when du failed or timed out;
      complete is false (bytes an undercount) when du could not read some entries.
  returned: always
  type: list
  elements: dict
  sample: [{"path": "/data/kingbase/data", "bytes": 53687091200, "complete": true, "error": null}]
ports:
  description: Per I(ports) item {port, listening, addresses, error}; listening is null when /proc/net/tcp* cannot be read.
  returned: always
  type: list
  elements: dict
  sample: [{"port": 54321, "listening": true, "addresses": ["0.0.0.0", "::"], "error": null}]
license_files:
  description: Per I(license_files) item {path, exists, sha256, mtime, macs, error}; mtime in seconds since the epoch.
  returned: always
  type: list
  elements: dict
chrony:
  description:
    - chrony's tracking state {synced, reference_id, stratum, offset_seconds, leap_status, reason}.
    - synced is true with Leap status Normal; false when chronyc answers otherwise or fails (chronyd not
      running); null, with reason, when chronyc is not installed or timed out.
    - offset_seconds is signed, positive when the system clock is ahead of NTP time.
  returned: always
  type: dict
  sample: {"synced": true, "reference_id": "0AE70A0B (10.231.10.11)", "stratum": 3, "offset_seconds": -0.000123,
           "leap_status": "Normal", "reason": null}
"""

import glob
import hashlib
import os
import sys

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.huaian_inspect import run_bounded
from ansible.module_utils.huaian_migration import (ZERO_MAC, du_result, extract_macs, parse_chronyc_tracking,
                                                   parse_meminfo_total, parse_os_release,
                                                   parse_proc_mounts, path_space, port_states)

C_LOCALE = {"LC_ALL": "C", "LANG": "C"}
CHRONYC_TIMEOUT_S = 15
TCP_TABLES = ("/proc/net/tcp", "/proc/net/tcp6")


def read_text(path, limit=None):
    """The text of a file (undecodable bytes replaced), or None when it cannot be read."""
    try:
        with open(path, "rb") as handle:
            data = handle.read() if limit is None else handle.read(limit)
    except (IOError, OSError):
        return None
    return data.decode("utf-8", "replace")


def glibc_version():
    try:
        return os.confstr("CS_GNU_LIBC_VERSION") or None
    except (AttributeError, ValueError, OSError):
        return None


def host_interfaces(sys_net="/sys/class/net", bonding="/proc/net/bonding"):
    """([{name, mac, virtual}], sorted MACs) of the host; see the module notes for what counts."""
    interfaces, macs = [], set()
    for entry in sorted(glob.glob(os.path.join(sys_net, "*"))):
        name = os.path.basename(entry)
        text = read_text(os.path.join(entry, "address"))
        if name == "lo" or not text:
            continue
        found = extract_macs(text)
        if not found or found[0] == ZERO_MAC:
            continue
        virtual = "/devices/virtual/" in os.path.realpath(entry)
        interfaces.append({"name": name, "mac": found[0], "virtual": virtual})
        macs.add(found[0])
    for bond in sorted(glob.glob(os.path.join(bonding, "*"))):
        for line in (read_text(bond) or "").splitlines():
            if line.strip().lower().startswith("permanent hw addr"):
                macs.update(m for m in extract_macs(line) if m != ZERO_MAC)
    return interfaces, sorted(macs)


def licence_file(path):
    out = {"path": path, "exists": os.path.exists(path), "sha256": None, "mtime": None, "macs": [], "error": None}
    if not out["exists"]:
        return out
    try:
        with open(path, "rb") as handle:
            data = handle.read()
        out["mtime"] = os.stat(path).st_mtime
    except (IOError, OSError) as exc:
        out["error"] = "cannot read %s: %s" % (path, exc.strerror or exc)
        return out
    out["sha256"] = hashlib.sha256(data).hexdigest()
    out["macs"] = extract_macs(data.decode("utf-8", "replace"))
    return out


def disk_usage(module, paths, timeout_s):
    du = module.get_bin_path("du")
    out = []
    for path in paths:
        if not os.path.exists(path):
            out.append({"path": path, "bytes": None, "complete": False, "error": "does not exist"})
        elif not du:
            out.append({"path": path, "bytes": None, "complete": False, "error": "du not found"})
        else:
            rc, stdout, stderr, timed_out = run_bounded(module, [du, "-sx", "--block-size=1", path], timeout_s=timeout_s,
                                                        environ_update=C_LOCALE)
            out.append(du_result(path, rc, stdout, stderr, timed_out, timeout_s))
    return out


def chrony_state(module, command):
    empty = {"synced": None, "reference_id": None, "stratum": None, "offset_seconds": None, "leap_status": None}
    if "/" in command:
        chronyc = command if os.access(command, os.X_OK) else None
    else:
        chronyc = module.get_bin_path(command, opt_dirs=["/usr/bin", "/usr/sbin", "/bin", "/sbin"])
    if not chronyc:
        return dict(empty, reason="%s not found" % command)
    rc, out, err, timed_out = run_bounded(module, [chronyc, "-n", "tracking"], timeout_s=CHRONYC_TIMEOUT_S,
                                          environ_update=C_LOCALE)
    if timed_out:
        return dict(empty, reason=err)
    if rc != 0:
        last = ((err or out or "").strip().splitlines() or ["exit code %s" % rc])[-1][:300]
        return dict(empty, synced=False, reason="chronyc -n tracking failed: %s" % last)
    state = parse_chronyc_tracking(out)
    state["reason"] = None if state["synced"] else "Leap status %s" % (state["leap_status"] or "missing")
    return state


def run(module):
    p = module.params
    uname = os.uname()
    interfaces, macs = host_interfaces()
    mounts = parse_proc_mounts(read_text("/proc/mounts") or "")
    return {
        "changed": False,
        "machine": uname.machine,
        "byteorder": sys.byteorder,
        "glibc": glibc_version(),
        "os_release": parse_os_release(read_text("/etc/os-release") or read_text("/usr/lib/os-release") or ""),
        "kernel": uname.release,
        "cpu_count": os.cpu_count(),
        "mem_total_bytes": parse_meminfo_total(read_text("/proc/meminfo") or ""),
        "macs": macs,
        "interfaces": interfaces,
        "paths": [path_space(path, mounts) for path in p["paths"]],
        "usage": disk_usage(module, p["usage_paths"], p["du_timeout"]),
        "ports": port_states(p["ports"], dict((table, read_text(table)) for table in TCP_TABLES)),
        "license_files": [licence_file(path) for path in p["license_files"]],
        "chrony": chrony_state(module, p["chronyc"]),
    }


def main():
    module = AnsibleModule(
        argument_spec=dict(
            paths=dict(type="list", elements="path", default=[]),
            usage_paths=dict(type="list", elements="path", default=[]),
            du_timeout=dict(type="int", default=120),
            ports=dict(type="list", elements="int", default=[]),
            license_files=dict(type="list", elements="path", default=[]),
            chronyc=dict(type="str", default="chronyc"),
        ),
        supports_check_mode=True,
    )
    if module.params["du_timeout"] < 1:
        module.fail_json(msg="du_timeout must be at least 1 second, got %s" % module.params["du_timeout"])
    for port in module.params["ports"]:
        if not 0 < port < 65536:
            module.fail_json(msg="ports: %s is not a TCP port" % port)
    module.exit_json(**run(module))


if __name__ == "__main__":
    main()
