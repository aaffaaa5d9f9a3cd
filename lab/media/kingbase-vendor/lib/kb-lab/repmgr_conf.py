#!/usr/bin/env python3
"""Lab stand-in (vendor install, lab/media/kingbase-vendor; docs/lab.md): the vendor's repmgr.conf as a
configuration upstream repmgr 5.3 accepts.

The vendor's deployer writes keys into repmgr.conf that Kingbase's repmgr and kbha read and upstream repmgr
does not know (K42): upstream warns about each of them on every command and refuses a connection_check_type
it does not know. Kingbase's repmgr also finds the server tools under sys_bindir (the Kingbase bin
directory) and starts the server with sys_ctl, which reads kingbase.conf. This program writes, next to the
caller's other lab state (~/.kb-lab/repmgr.conf, mode 0600), the same configuration with

- the vendor-only keys left out (kbha's stand-in reads them from the vendor's file itself),
- sys_bindir given as pg_bindir=<PostgreSQL 15's bin> (repmgr runs pg_basebackup, pg_ctl ... from there) and
  as repmgr_bindir (where this repmgr is, for the commands repmgr runs on other nodes),
- service_{start,stop,restart,reload}_command through the Kingbase bin directory's sys_ctl when not given,

and prints its path. The file is rewritten only when its content changes (repmgrd re-reads it on SIGHUP).
usage: repmgr_conf.py VENDOR_REPMGR_CONF [OUT]
"""
import os
import sys
import tempfile

PG_BINDIR = "/usr/lib/postgresql/15/bin"
# Keys of the vendor's repmgr.conf that upstream repmgr 5.3 does not know (K42 and the deployer's others).
VENDOR_ONLY = (
    "use_scmd", "scmd_options", "trusted_servers", "running_under_failure_trusted_servers", "recovery",
    "synchronous", "kbha_log_file", "virtual_ip", "net_device", "net_device_ip", "ipaddr_path", "arping_path",
    "ping_path", "auto_cluster_recovery_level", "use_check_disk", "on_bmj", "sys_bindir",
)
# Keys upstream knows with fewer values than Kingbase's repmgr: a vendor value outside these is left out
# (upstream's default applies).
UPSTREAM_VALUES = {"connection_check_type": ("ping", "connection", "query")}


def parse(text):
    """key=value lines (values quoted or not) in file order; comments and blank lines skipped."""
    entries = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, value = line.split("=", 1)
        entries.append((key.strip(), value.strip()))
    return entries


def unquote(value):
    if len(value) >= 2 and value[0] == value[-1] == "'":
        return value[1:-1]
    return value


def translate(text, vendor_path):
    entries = parse(text)
    given = {key: unquote(value) for key, value in entries}
    # Without sys_bindir: the bin directory beside lib/ (this file is <KB_HOME>/lib/kb-lab/repmgr_conf.py).
    home = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    bindir = given.get("sys_bindir") or os.path.join(home, "bin")
    data = given.get("data_directory", "")
    log = os.path.join(os.path.dirname(bindir.rstrip("/")), "log", "kingbase.log")
    out = ["# Translated by the lab's repmgr stand-in from %s for upstream repmgr: do not edit." % vendor_path]
    for key, value in entries:
        if key in VENDOR_ONLY:
            continue
        if key in UPSTREAM_VALUES and unquote(value) not in UPSTREAM_VALUES[key]:
            continue
        out.append("%s=%s" % (key, value))
    out.append("pg_bindir='%s'" % PG_BINDIR)
    if "repmgr_bindir" not in given:
        out.append("repmgr_bindir='%s'" % bindir)
    sys_ctl = "%s/sys_ctl -D %s" % (bindir, data)
    for key, command in (("service_start_command", "%s -w -t 120 -l %s start" % (sys_ctl, log)),
                         ("service_stop_command", "%s -m fast -w stop" % sys_ctl),
                         ("service_restart_command", "%s -m fast -w -t 120 -l %s restart" % (sys_ctl, log)),
                         ("service_reload_command", "%s reload" % sys_ctl)):
        if key not in given:
            out.append("%s='%s'" % (key, command))
    return "\n".join(out) + "\n"


def main(argv):
    if len(argv) not in (1, 2):
        sys.stderr.write("usage: repmgr_conf.py VENDOR_REPMGR_CONF [OUT]\n")
        return 2
    vendor = os.path.abspath(argv[0])
    with open(vendor, encoding="utf-8") as handle:
        text = translate(handle.read(), vendor)
    out = argv[1] if len(argv) == 2 else os.path.join(os.path.expanduser("~"), ".kb-lab", "repmgr.conf")
    directory = os.path.dirname(out)
    os.makedirs(directory, mode=0o700, exist_ok=True)
    try:
        with open(out, encoding="utf-8") as handle:
            current = handle.read()
    except OSError:
        current = None
    if current != text:
        fd, tmp = tempfile.mkstemp(prefix=".repmgr-", dir=directory)
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
        os.chmod(tmp, 0o600)
        os.replace(tmp, out)
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
