#!/usr/bin/env python3
"""Build and run the embedded lab: podman containers running systemd on the project's own network.

The lab inventory (inventories/lab) is the only description of the lab: every host in it with an
``ansible_host`` becomes a container with that address on the network named by ``lab_network_name``.

Sub-commands (all idempotent; each says what it changed):
  podman-config   write the podman drop-in this machine needs (runc, cgroupfs, ulimits <= 20000)
  image           debootstrap Debian 12, import it, build the lab image layers (skipped when current)
  up              podman-config + image + network + one container per inventory host, wait for sshd
  down            remove the lab containers and network (the images stay)
  status          list lab containers
  shell HOST      open a shell in a lab host
"""
import argparse
import hashlib
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
STATE = ROOT / ".lab"
IMAGES = ROOT / "lab" / "images"
ROOTFS_IMAGE = "localhost/huaian-lab-rootfs:bookworm"
LAB_IMAGE = "localhost/huaian-lab:bookworm"
LABEL = "huaian.lab"
PODMAN_DROPIN = pathlib.Path("/etc/containers/containers.conf.d/50-huaian-lab.conf")
# Verified on this kind of machine (shared lab notes): crun refuses cgroup v1 hybrid mode, and the
# hard open-files limit is 20000, so podman's default ulimits must be lowered.
PODMAN_DROPIN_TEXT = """\
# Written by huaian-platform-ops lab/lab.py: settings the lab needs on this machine.
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=20000:20000"]

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
"""


def say(msg):
    print("lab: " + msg, flush=True)


def run(cmd, check=True, capture=False, **kw):
    res = subprocess.run(cmd, check=False, text=True,
                         stdout=subprocess.PIPE if capture else None,
                         stderr=subprocess.PIPE if capture else None, **kw)
    if check and res.returncode != 0:
        detail = (res.stderr or "").strip() if capture else ""
        raise SystemExit("lab: command failed (%s): %s %s" % (res.returncode, " ".join(cmd), detail))
    return res


def podman(*args, **kw):
    return run(["podman"] + list(args), **kw)


def podman_config():
    current = PODMAN_DROPIN.read_text() if PODMAN_DROPIN.exists() else None
    if current == PODMAN_DROPIN_TEXT:
        say("podman configuration already in place (%s)" % PODMAN_DROPIN)
        return
    PODMAN_DROPIN.parent.mkdir(parents=True, exist_ok=True)
    PODMAN_DROPIN.write_text(PODMAN_DROPIN_TEXT)
    say("%s %s: runtime=runc, cgroup_manager=cgroupfs, default ulimits nofile/nproc 20000"
        % ("updated" if current is not None else "created", PODMAN_DROPIN))


def apt_mirror():
    """The Debian mirror this machine's apt already uses, so debootstrap goes where apt goes."""
    sources = pathlib.Path("/etc/apt/sources.list.d")
    for path in sorted(sources.glob("*.sources")):
        for stanza in path.read_text().split("\n\n"):
            fields = {}
            for line in stanza.splitlines():
                if ":" in line and not line.startswith("#"):
                    key, _, value = line.partition(":")
                    fields[key.strip().lower()] = value.strip()
            suites = fields.get("suites", "").split()
            if "bookworm" in suites and fields.get("types", "deb").split()[0] == "deb":
                return fields["uris"].split()[0]
    legacy = pathlib.Path("/etc/apt/sources.list")
    if legacy.exists():
        for line in legacy.read_text().splitlines():
            parts = line.split()
            if len(parts) >= 3 and parts[0] == "deb" and parts[2] == "bookworm":
                return parts[1]
    return None  # debootstrap's own default


def image_exists(name):
    return podman("image", "exists", name, check=False).returncode == 0


def image_label(name, label):
    res = podman("image", "inspect", "--format", "{{ index .Labels \"%s\" }}" % label, name,
                 check=False, capture=True)
    return res.stdout.strip() if res.returncode == 0 else None


def build_hash():
    digest = hashlib.sha256()
    for path in sorted(IMAGES.iterdir()):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def image():
    if image_exists(ROOTFS_IMAGE):
        say("rootfs image %s present" % ROOTFS_IMAGE)
    else:
        mirror = apt_mirror()
        with tempfile.TemporaryDirectory(prefix="huaian-rootfs-", dir="/var/tmp") as tmp:
            rootfs = os.path.join(tmp, "rootfs")
            say("debootstrap Debian 12 (minbase) into %s" % rootfs)
            cmd = ["debootstrap", "--variant=minbase", "--include=python3,openssh-server,sudo",
                   "bookworm", rootfs]
            if mirror:
                cmd.append(mirror)
            run(cmd, capture=True)
            tar = subprocess.Popen(["tar", "-C", rootfs, "-c", "."], stdout=subprocess.PIPE)
            run(["podman", "import", "-", ROOTFS_IMAGE], stdin=tar.stdout, capture=True)
            tar.wait()
        say("imported %s" % ROOTFS_IMAGE)
    wanted = build_hash()
    if image_label(LAB_IMAGE, LABEL + ".build") == wanted:
        say("lab image %s current (build %s)" % (LAB_IMAGE, wanted))
        return wanted
    say("building %s (build %s)" % (LAB_IMAGE, wanted))
    podman("build", "--build-arg", "BASE=" + ROOTFS_IMAGE, "--label", "%s.build=%s" % (LABEL, wanted),
           "-f", str(IMAGES / "base.Containerfile"), "-t", LAB_IMAGE, str(IMAGES), capture=True)
    say("built %s" % LAB_IMAGE)
    return wanted


def inventory():
    bindir = pathlib.Path(sys.executable).parent
    tool = bindir / "ansible-inventory"
    if not tool.exists():
        tool = shutil.which("ansible-inventory")
    res = run([str(tool), "-i", str(ROOT / "inventories" / "lab"), "--list"], capture=True,
              env=dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg")))
    data = json.loads(res.stdout)
    hostvars = data["_meta"]["hostvars"]
    anyhost = next(iter(hostvars.values()))
    net = {"name": anyhost["lab_network_name"], "subnet": anyhost["lab_network_subnet"]}
    hosts = {h: v["ansible_host"] for h, v in sorted(hostvars.items()) if v.get("ansible_host")}
    return net, hosts


def ssh_key():
    keydir = STATE / "ssh"
    key = keydir / "id_ed25519"
    if not key.exists():
        keydir.mkdir(parents=True, exist_ok=True)
        os.chmod(keydir, 0o700)
        run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "huaian-lab", "-f", str(key)])
        say("created lab SSH key %s" % key)
    auth = keydir / "authorized_keys"
    pub = (keydir / "id_ed25519.pub").read_text()
    if not auth.exists() or auth.read_text() != pub:
        auth.write_text(pub)
    os.chmod(auth, 0o644)
    return auth


def container_state(name):
    res = podman("container", "inspect", "--format",
                 "{{.State.Status}} {{ index .Config.Labels \"%s.build\" }}" % LABEL, name,
                 check=False, capture=True)
    if res.returncode != 0:
        return None, None
    parts = res.stdout.split()
    return parts[0], (parts[1] if len(parts) > 1 else None)


def up(args):
    podman_config()
    build = image()
    auth = ssh_key()
    net, hosts = inventory()
    if podman("network", "exists", net["name"], check=False).returncode != 0:
        podman("network", "create", "--subnet", net["subnet"], "--label", LABEL + "=1", net["name"],
               capture=True)
        say("created network %s (%s)" % (net["name"], net["subnet"]))
    started = []
    for host, addr in hosts.items():
        status, host_build = container_state(host)
        if status == "running" and host_build == build:
            continue
        if status is not None and host_build == build:
            podman("start", host, capture=True)
            started.append(host)
            continue
        if status is not None:
            say("%s runs an older lab image; recreating it" % host)
            podman("rm", "-f", "-t", "5", host, capture=True)
        podman("run", "-d", "--name", host, "--hostname", host, "--network", net["name"], "--ip", addr,
               "--systemd=always", "--label", LABEL + "=1", "--label", "%s.build=%s" % (LABEL, build),
               "--label", "%s.network=%s" % (LABEL, net["name"]),
               "-v", "%s:/home/labops/.ssh/authorized_keys:ro" % auth,
               LAB_IMAGE, "/sbin/init", capture=True)
        started.append(host)
    for host in started:
        wait_ready(host)
    say("%d lab hosts on %s (%d started now): %s" % (len(hosts), net["name"], len(started),
                                                  ", ".join("%s=%s" % kv for kv in hosts.items())))


def wait_ready(host, timeout=120):
    deadline = time.time() + timeout
    while time.time() < deadline:
        res = podman("exec", host, "systemctl", "is-system-running", check=False, capture=True)
        state = res.stdout.strip()
        if state in ("running", "degraded"):
            sshd = podman("exec", host, "systemctl", "is-active", "ssh", check=False, capture=True)
            if sshd.stdout.strip() == "active":
                if state == "degraded":
                    failed = podman("exec", host, "systemctl", "--failed", "--no-legend", capture=True)
                    say("%s is up but degraded: %s" % (host, failed.stdout.strip()))
                return
        time.sleep(1)
    raise SystemExit("lab: %s did not finish booting within %ss" % (host, timeout))


def lab_containers(network=None):
    flt = ["--filter", "label=%s=1" % LABEL]
    if network:
        flt += ["--filter", "label=%s.network=%s" % (LABEL, network)]
    res = podman("ps", "-a", "--format", "{{.Names}}", *flt, capture=True)
    return res.stdout.split()


def down(args):
    net, _ = inventory()
    names = lab_containers(net["name"])
    if names:
        podman("rm", "-f", "-t", "5", *names, capture=True)
        say("removed %s" % ", ".join(names))
    if podman("network", "exists", net["name"], check=False).returncode == 0:
        podman("network", "rm", net["name"], capture=True)
        say("removed network %s" % net["name"])
    if not names:
        say("no lab containers were running")


def status(args):
    podman("ps", "-a", "--filter", "label=%s=1" % LABEL, "--format",
           "table {{.Names}} {{.Status}} {{.Networks}}")


def shell(args):
    os.execvp("podman", ["podman", "exec", "-it", args.host, "/bin/bash", "-l"])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="cmd", required=True)
    sub.add_parser("podman-config").set_defaults(func=lambda a: podman_config())
    sub.add_parser("image").set_defaults(func=lambda a: (podman_config(), image()))
    sub.add_parser("up").set_defaults(func=up)
    sub.add_parser("down").set_defaults(func=down)
    sub.add_parser("status").set_defaults(func=status)
    sh = sub.add_parser("shell")
    sh.add_argument("host")
    sh.set_defaults(func=shell)
    args = parser.parse_args()
    args.func(args)


if __name__ == "__main__":
    main()
