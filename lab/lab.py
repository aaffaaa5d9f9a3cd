#!/usr/bin/env python3
"""Build and run the embedded lab: podman containers running systemd on the project's own network.

The lab inventory (inventories/lab, plus the files in lab/inventories/ that some lab runs add with a
second -i, such as the demo's migration) is the only description of the lab: every host in it with an
``ansible_host`` becomes a container with that address on the network named by ``lab_network_name``.
`up`, `down` and `status` take --inventory for the other lab inventory, inventories/lab-vendor (the
vendor-installed lab, docs/lab.md); a host's lab_container_mounts and lab_container_cap_add give its
container extra mounts (a podman volume or a tmpfs) and capabilities.

Sub-commands (all idempotent; each says what it changed):
  podman-config   write the podman drop-in this machine needs (runc, cgroupfs, ulimits <= 20000)
  image           debootstrap Debian 12, import it, build the lab image layers (skipped when current),
                  the lab product media and licences under .lab/ (rebuilt when their sources change),
                  the lab SSH key (lab containers and molecule scenarios mount its authorized_keys), and
                  the network molecule scenarios use (huaian-mol, 10.233.0.0/16)
  secrets         the lab's vault: a random vault password under .lab/ and random secrets in
                  inventories/lab/group_vars/all/vault.yml (git-ignored, encrypted); adds missing keys only
  up              podman-config + image + secrets + network + one container per inventory host, wait for sshd
                  (--inventory inventories/lab-vendor: the vendor-installed lab's hosts instead)
  down            remove the lab containers (of both lab inventories; --inventory: of that one only), their
                  volumes, and the network once no lab container is left on it (the images stay)
  status          list lab containers and the inventory each belongs to
  shell HOST      open a shell in a lab host
  scale-inventory write lab/scale/hosts.yml: inventories/huaian's hosts and groups (plus three web entries,
                  120 hosts) with addresses on the scale network (one /24 per platform)
  scale-up        one light container per scale host (sshd only, no systemd) seeded with the configuration
                  files of the converged lab host of the same kind (lab/playbooks/scale_seed.yml)
  scale-down      remove the scale containers and network
  ara-central     ARA's server on PostgreSQL (a lab database container, the server on loopback), then one
                  playbook run from the execution environment recorded into it over HTTP, and the
                  run read back from PostgreSQL (docs/awx.md); everything is removed again
  ee              build the execution environment (ee/execution-environment.yml, ansible-builder) on the lab
                  base image, then prove it: the pinned versions, the project's plugins and ARA's callback
                  load, and every playbook passes --syntax-check inside it
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


ARCH_TAGS = {"x86_64": "Lin64", "aarch64": "Aarch64"}  # as the kingbase role's kingbase_media_arch_tags
# The BES stand-in's engine (Apache Tomcat 10.1 from Debian, JSP compiler included) and the lab JDBC
# driver (PostgreSQL's, standing in for Kingbase's kingbase8 driver), all from /usr/share/java in the image.
BES_ENGINE_JARS = (
    "tomcat10-annotations-api.jar", "tomcat10-api.jar", "tomcat10-catalina.jar", "tomcat10-coyote.jar",
    "tomcat10-dbcp.jar", "tomcat10-el-api.jar", "tomcat10-jasper-el.jar", "tomcat10-jasper.jar",
    "tomcat10-jaspic-api.jar", "tomcat10-jni.jar", "tomcat10-jsp-api.jar", "tomcat10-juli.jar",
    "tomcat10-servlet-api.jar", "tomcat10-util-scan.jar", "tomcat10-util.jar", "tomcat10-websocket-api.jar",
    "tomcat10-websocket.jar", "tomcat10-websocket-client-api.jar", "tomcat10-i18n-zh-CN.jar", "eclipse-jdt-core.jar", "postgresql.jar",
)
BES_LAB_DRIVER_JARS = ("postgresql.jar",)
PREVIEW_KINDS = ("yozo_preview", "ofd_preview", "ofd_convert")


def lab_var(name, inventory_path=None):
    """A variable of a lab inventory (inventories/lab unless given), as the first host that has it sees it."""
    for hv in inventory_hostvars(inventory_path).values():
        if name in hv:
            return hv[name]
    raise SystemExit("lab: the lab inventory %s sets no %s" % (inventory_path or DEFAULT_INVENTORY, name))


def tar_tree(source, archive, extra):
    """A gzip tarball of source (no top-level directory) plus extra {arcname: text}."""
    import io
    import tarfile
    with tarfile.open(archive, "w:gz") as tar:
        for path in sorted(source.rglob("*")):
            tar.add(str(path), arcname=str(path.relative_to(source)), recursive=False)
        for arcname, text in extra.items():
            data = text.encode()
            info = tarfile.TarInfo(arcname)
            info.size, info.mode, info.mtime = len(data), 0o644, int(time.time())
            tar.addfile(info, io.BytesIO(data))


def media():
    """Lab media and licences, laid out as the operator lays out the real ones (docs/lab.md)."""
    version = lab_var("kingbase_version")
    arch = ARCH_TAGS[os.uname().machine]
    source = ROOT / "lab" / "media" / "kingbase"
    outdir = STATE / "media" / "kingbase"
    archive = outdir / ("KingbaseES_%s_%s.tar.gz" % (version, arch))
    digest = hashlib.sha256(version.encode())
    for path in sorted(source.rglob("*")):
        digest.update(str(path.relative_to(source)).encode())
        if path.is_file():
            digest.update(path.read_bytes())
    stamp = outdir / (archive.name + ".source")
    if archive.exists() and stamp.exists() and stamp.read_text() == digest.hexdigest():
        say("lab Kingbase media %s current" % archive.name)
    else:
        outdir.mkdir(parents=True, exist_ok=True)
        tar_tree(source, archive, {"Server/VERSION": version + "\n"})
        stamp.write_text(digest.hexdigest())
        say("built lab Kingbase media %s" % archive)
    sums = ["%s  %s" % (hashlib.sha256(p.read_bytes()).hexdigest(), p.name) for p in sorted(outdir.glob("*.tar.gz"))]
    (outdir / "SHA256SUMS").write_text("\n".join(sums) + "\n")
    licence(version)


def engine_files(build):
    """The BES stand-in's engine jars and the lab JDBC driver, copied out of the lab image (cached per build)."""
    cache = STATE / "cache" / ("engine-%s-%s" % (build, hashlib.sha256(" ".join(BES_ENGINE_JARS).encode()).hexdigest()[:8]))
    if not (cache / "done").exists():
        shutil.rmtree(STATE / "cache", ignore_errors=True)
        cache.mkdir(parents=True)
        names = " ".join(BES_ENGINE_JARS)
        tar = subprocess.Popen(["podman", "run", "--rm", LAB_IMAGE, "sh", "-c",
                                "cd /usr/share/java && tar -ch %s" % names], stdout=subprocess.PIPE)
        run(["tar", "-x", "-C", str(cache)], stdin=tar.stdout, capture=True)
        if tar.wait() != 0:
            raise SystemExit("lab: could not copy the engine jars out of %s" % LAB_IMAGE)
        (cache / "done").write_text(build + "\n")
        say("copied the BES stand-in engine and the JDBC driver out of the lab image")
    return cache


def zip_tree(source, archive):
    """A zip of source with fixed timestamps: the same sources make the same bytes (stable checksums)."""
    import zipfile
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(source.rglob("*")):
            if path.is_file():
                info = zipfile.ZipInfo(str(path.relative_to(source)), date_time=(2026, 1, 1, 0, 0, 0))
                info.external_attr = 0o644 << 16
                zf.writestr(info, path.read_bytes(), zipfile.ZIP_DEFLATED)


def tree_digest(*parts):
    digest = hashlib.sha256()
    for part in parts:
        if isinstance(part, pathlib.Path):
            for path in sorted(part.rglob("*")):
                digest.update(str(path.relative_to(part)).encode())
                if path.is_file():
                    digest.update(path.read_bytes())
        else:
            digest.update(str(part).encode())
    return digest.hexdigest()


def bes_media(build):
    """Lab BES media as the operator receives BES: one tarball per version without a top-level directory,
    patch tarballs, the application WAR and the JDBC driver (docs/lab.md)."""
    engine = engine_files(build)
    outdir = STATE / "media" / "bes"
    outdir.mkdir(parents=True, exist_ok=True)
    source = ROOT / "lab" / "media" / "bes"
    for version in lab_var("lab_bes_media_versions"):
        archive = outdir / ("BES-AppServer-Standard-%s.tar.gz" % version)
        stamp = outdir / (archive.name + ".source")
        digest = tree_digest(version, source, engine)
        if archive.exists() and stamp.exists() and stamp.read_text() == digest:
            say("lab BES media %s current" % archive.name)
            continue
        import tarfile
        with tarfile.open(archive, "w:gz") as tar:
            for path in sorted(source.rglob("*")):
                tar.add(str(path), arcname=str(path.relative_to(source)), recursive=False)
            tar.add(str(source), arcname="lib", recursive=False)
            for jar in sorted(engine.glob("*.jar")):
                if jar.name not in BES_LAB_DRIVER_JARS:
                    tar.add(str(jar), arcname="lib/" + jar.name)
            data = (version + "\n").encode()
            info = tarfile.TarInfo("VERSION")
            info.size, info.mode, info.mtime = len(data), 0o644, int(time.time())
            import io
            tar.addfile(info, io.BytesIO(data))
        stamp.write_text(digest)
        say("built lab BES media %s" % archive.name)
    patches = ROOT / "lab" / "media" / "bes-patches"
    (outdir / "patches").mkdir(exist_ok=True)
    for patch in sorted(p for p in patches.iterdir() if p.is_dir()):
        archive = outdir / "patches" / (patch.name + ".tar.gz")
        stamp = outdir / "patches" / (patch.name + ".source")
        digest = tree_digest(patch)
        if not (archive.exists() and stamp.exists() and stamp.read_text() == digest):
            tar_tree(patch, archive, {})
            stamp.write_text(digest)
            say("built lab BES patch %s" % archive.name)
    for sums_dir in (outdir, outdir / "patches"):
        sums = ["%s  %s" % (hashlib.sha256(p.read_bytes()).hexdigest(), p.name) for p in sorted(sums_dir.glob("*.tar.gz"))]
        (sums_dir / "SHA256SUMS").write_text("\n".join(sums) + "\n")
    apps = STATE / "media" / "apps"
    apps.mkdir(parents=True, exist_ok=True)
    for app in sorted(p for p in (ROOT / "lab" / "apps").iterdir() if p.is_dir()):
        zip_tree(app, apps / (app.name + ".war"))
    jdbc = STATE / "media" / "jdbc"
    jdbc.mkdir(parents=True, exist_ok=True)
    for jar in BES_LAB_DRIVER_JARS:
        shutil.copyfile(engine / jar, jdbc / jar)
    say("lab application WARs in %s, JDBC driver in %s" % (apps, jdbc))


def preview_media():
    """Lab preview media: the stand-in service (lab/media/preview) as <kind>-<version>.tar.gz per kind."""
    source = ROOT / "lab" / "media" / "preview"
    outdir = STATE / "media" / "preview"
    outdir.mkdir(parents=True, exist_ok=True)
    version = lab_var("lab_preview_media_version")
    for kind in PREVIEW_KINDS:
        archive = outdir / ("%s-%s.tar.gz" % (kind, version))
        stamp = outdir / (archive.name + ".source")
        digest = tree_digest(kind, version, source)
        if archive.exists() and stamp.exists() and stamp.read_text() == digest:
            continue
        tar_tree(source, archive, {"VERSION": version + "\n"})
        stamp.write_text(digest)
        say("built lab preview media %s" % archive.name)
    sums = ["%s  %s" % (hashlib.sha256(p.read_bytes()).hexdigest(), p.name) for p in sorted(outdir.glob("*.tar.gz"))]
    (outdir / "SHA256SUMS").write_text("\n".join(sums) + "\n")


def licence(version, days=365):
    import datetime
    path = STATE / "licenses" / "kingbase" / "license.dat"
    today = datetime.date.today()
    if path.exists():
        for line in path.read_text().splitlines():
            if line.startswith("EXPIRE_DATE="):
                left = (datetime.date.fromisoformat(line.split("=", 1)[1]) - today).days
                if left > 60:
                    say("lab Kingbase licence valid for %d more days" % left)
                    return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("# KingbaseES licence for the lab stand-in (not a vendor licence)\n"
                    "PRODUCT=KingbaseES\nVERSION=%s\nISSUE_DATE=%s\nEXPIRE_DATE=%s\nMAX_CONNECTIONS=unlimited\n"
                    % (version, today.isoformat(), (today + datetime.timedelta(days=days)).isoformat()))
    say("wrote lab Kingbase licence %s (expires in %d days)" % (path, days))


# Secrets the lab's roles need; each gets a random value the first time. Nothing here is a default
# password: every lab machine makes its own, and they live only in the encrypted lab vault.
LAB_SECRETS = (
    "vault_kingbase_superuser_password",
    "vault_kingbase_esrep_password",
    "vault_kingbase_app_huaian_password",
    "vault_preview_cache_password",
    "vault_kingbase_backup_cipher_pass",
    "vault_kingbase_backup_dump_passphrase",
    "vault_file_backup_restic_password",
)
VAULT_FILE = ROOT / "inventories" / "lab" / "group_vars" / "all" / "vault.yml"
# Inventory files used on top of inventories/lab by some lab runs (the demo's migration): their hosts get
# containers too.
LAB_EXTRA_INVENTORIES = sorted((ROOT / "lab" / "inventories").glob("*.yml"))
# The lab inventories lab.py makes containers for: the embedded lab (the default) and the vendor-installed
# lab (docs/lab.md, "The vendor-installed lab"). Both use the network huaian-lab.
DEFAULT_INVENTORY = "inventories/lab"
LAB_INVENTORIES = (DEFAULT_INVENTORY, "inventories/lab-vendor")


def vault_tool():
    tool = pathlib.Path(sys.executable).parent / "ansible-vault"
    return str(tool) if tool.exists() else shutil.which("ansible-vault")


def secrets():
    import secrets as rnd
    import yaml
    password_file = STATE / "vault-password"
    if not password_file.exists():
        STATE.mkdir(parents=True, exist_ok=True)
        password_file.write_text(rnd.token_urlsafe(32) + "\n")
        os.chmod(password_file, 0o600)
        say("created the lab vault password %s" % password_file)
    env = dict(os.environ, ANSIBLE_VAULT_PASSWORD_FILE=str(password_file))
    current = {}
    if VAULT_FILE.exists():
        res = run([vault_tool(), "view", str(VAULT_FILE)], capture=True, env=env)
        current = yaml.safe_load(res.stdout) or {}
    missing = [k for k in LAB_SECRETS if not current.get(k)]
    if not missing:
        say("lab vault current (%d secrets)" % len(current))
        return
    for key in missing:
        current[key] = rnd.token_urlsafe(24)
    fd, tmp = tempfile.mkstemp(prefix="lab-vault-", dir=str(STATE))
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write("---\n# The lab's secrets, random per machine (lab/lab.py secrets). Never committed.\n")
            yaml.safe_dump(current, handle, default_flow_style=False)
        run([vault_tool(), "encrypt", "--output", str(VAULT_FILE), tmp], capture=True, env=env)
    finally:
        os.unlink(tmp)
    say("lab vault %s: added %s" % (VAULT_FILE, ", ".join(missing)))


_HOSTVARS = {}


def inventory_name(path):
    """An inventory as lab.py labels containers with it: its path relative to the repository."""
    path = pathlib.Path(path or DEFAULT_INVENTORY)
    if path.is_absolute():
        path = path.resolve().relative_to(ROOT)
    return str(path).rstrip("/")


def inventory_hostvars(inventory_path=None):
    name = inventory_name(inventory_path)
    if name not in _HOSTVARS:
        bindir = pathlib.Path(sys.executable).parent
        tool = bindir / "ansible-inventory"
        if not tool.exists():
            tool = shutil.which("ansible-inventory")
        env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"))
        if VAULT_FILE.exists():
            env["ANSIBLE_VAULT_PASSWORD_FILE"] = str(STATE / "vault-password")
        else:
            env.pop("ANSIBLE_VAULT_PASSWORD_FILE", None)
        if not (ROOT / name).is_dir():
            raise SystemExit("lab: no inventory %s" % name)
        sources = [ROOT / name] + (LAB_EXTRA_INVENTORIES if name == DEFAULT_INVENTORY else [])
        res = run([str(tool)] + [arg for src in sources for arg in ("-i", str(src))] + ["--list"], capture=True, env=env)
        _HOSTVARS[name] = json.loads(res.stdout)["_meta"]["hostvars"]
    return _HOSTVARS[name]


def inventory(inventory_path=None):
    hostvars = inventory_hostvars(inventory_path)
    net = {"name": lab_var("lab_network_name", inventory_path), "subnet": lab_var("lab_network_subnet", inventory_path)}
    hosts = {h: v["ansible_host"] for h, v in sorted(hostvars.items()) if v.get("ansible_host")}
    return net, hosts


def volume_name(host, target):
    """The podman volume lab.py makes for a host's lab_container_mounts entry: huaian-lab-<host>-<target>."""
    slug = "-".join(part for part in target.strip("/").split("/") if part) or "root"
    return "huaian-lab-%s-%s" % (host, slug)


def container_options(host, hostvars):
    """podman run options from a host's lab_container_mounts ({type: volume|tmpfs, target, size}) and
    lab_container_cap_add (capability names), and the volumes they need. Raises ValueError on a bad entry."""
    opts, volumes = [], []
    for mount in hostvars.get("lab_container_mounts") or []:
        kind, target = mount.get("type"), mount.get("target", "")
        if not target.startswith("/"):
            raise ValueError("%s: lab_container_mounts target %r is not an absolute path" % (host, target))
        if kind == "volume":
            name = volume_name(host, target)
            volumes.append(name)
            opts += ["--mount", "type=volume,source=%s,target=%s" % (name, target)]
        elif kind == "tmpfs":
            opts += ["--mount", "type=tmpfs,target=%s,tmpfs-size=%s" % (target, mount.get("size", "1g"))]
        else:
            raise ValueError("%s: lab_container_mounts type %r (allowed: volume, tmpfs)" % (host, kind))
    for cap in hostvars.get("lab_container_cap_add") or []:
        opts.append("--cap-add=%s" % cap)
    return opts, volumes


def options_digest(opts):
    """The label value that tells lab.py up to recreate a container whose options changed ("" for none)."""
    return hashlib.sha256(" ".join(opts).encode()).hexdigest()[:12] if opts else ""


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


MOLECULE_NETWORK = ("huaian-mol", "10.233.0.0/16")


def molecule_network():
    """The network molecule scenarios attach to by address (--network in their extra_opts).

    The podman driver deletes a network it was given by name at every destroy and cannot set its
    subnet, so the scenarios name this one only inside extra_opts and it stays between runs.
    """
    name, subnet = MOLECULE_NETWORK
    if podman("network", "exists", name, check=False).returncode != 0:
        podman("network", "create", "--subnet", subnet, "--label", LABEL + "=1", name, capture=True)
        say("created molecule network %s (%s)" % (name, subnet))


def container_state(name, with_options=False):
    res = podman("container", "inspect", "--format",
                 "{{.State.Status}}|{{.State.Pid}}|{{ index .Config.Labels \"%s.build\" }}"
                 "|{{ index .Config.Labels \"%s.options\" }}" % (LABEL, LABEL),
                 name, check=False, capture=True)
    if res.returncode != 0:
        return (None, None, None) if with_options else (None, None)
    status, pid, build, opts = (res.stdout.strip().split("|") + ["", "", "", ""])[:4]
    # After the machine restarts podman can still record "running" for a container whose process is
    # gone; such a container needs a start like a stopped one.
    if status == "running" and not os.path.exists("/proc/%s" % pid):
        status = "stale"
    build = None if build in ("", "<no value>") else build
    opts = "" if opts == "<no value>" else opts
    return (status, build, opts) if with_options else (status, build)


def all_media(build):
    """Everything a lab run or a molecule scenario needs besides the image."""
    media()
    bes_media(build)
    preview_media()
    molecule_network()
    return ssh_key()


def up(args):
    podman_config()
    secrets()
    build = image()
    auth = all_media(build)
    inv = inventory_name(args.inventory)
    net, hosts = inventory(inv)
    hostvars = inventory_hostvars(inv)
    try:
        options = {h: container_options(h, hostvars[h]) for h in hosts}
    except ValueError as err:
        raise SystemExit("lab: %s" % err)
    if podman("network", "exists", net["name"], check=False).returncode != 0:
        podman("network", "create", "--subnet", net["subnet"], "--label", LABEL + "=1", net["name"],
               capture=True)
        say("created network %s (%s)" % (net["name"], net["subnet"]))
    started = []
    for host, addr in hosts.items():
        opts, volumes = options[host]
        wanted_opts = options_digest(opts)
        status, host_build, host_opts = container_state(host, with_options=True)
        if status == "running" and host_build == build and host_opts == wanted_opts:
            continue
        if status == "stale":
            # podman cannot stop or start such a container; only removing it clears the record.
            say("%s: podman records it running but its process is gone; recreating it" % host)
            podman("rm", "-f", "-t", "0", host, capture=True)
            status = None
        if status is not None and host_build == build and host_opts == wanted_opts:
            podman("start", host, capture=True)
            started.append(host)
            continue
        if status is not None:
            say("%s runs an older lab image or other container options; recreating it" % host)
            podman("rm", "-f", "-t", "5", host, capture=True)
        for volume in volumes:
            if podman("volume", "exists", volume, check=False).returncode != 0:
                podman("volume", "create", "--label", LABEL + "=1", "--label", "%s.host=%s" % (LABEL, host),
                       volume, capture=True)
        podman("run", "-d", "--name", host, "--hostname", host, "--network", net["name"], "--ip", addr,
               "--systemd=always", "--label", LABEL + "=1", "--label", "%s.build=%s" % (LABEL, build),
               "--label", "%s.network=%s" % (LABEL, net["name"]), "--label", "%s.inventory=%s" % (LABEL, inv),
               "--label", "%s.options=%s" % (LABEL, wanted_opts),
               "-v", "%s:/home/labops/.ssh/authorized_keys:ro" % auth, *opts,
               LAB_IMAGE, "/sbin/init", capture=True)
        started.append(host)
    for host in started:
        # A recreated container keeps its address but not its MAC: drop the host's stale neighbour entry.
        run(["ip", "neigh", "flush", "to", hosts[host]], check=False, capture=True)
        wait_ready(host)
    say("%d lab hosts of %s on %s (%d started now): %s" % (len(hosts), inv, net["name"], len(started),
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


def lab_containers(network=None, inventory_path=None):
    """Lab containers (on a network, of an inventory). Containers made before lab.py labelled the inventory
    belong to inventories/lab."""
    flt = ["--filter", "label=%s=1" % LABEL]
    if network:
        flt += ["--filter", "label=%s.network=%s" % (LABEL, network)]
    res = podman("ps", "-a", "--format", "{{.Names}} {{ index .Labels \"%s.inventory\" }}" % LABEL, *flt, capture=True)
    names = []
    for line in res.stdout.splitlines():
        parts = line.split()
        if not parts:
            continue
        owner = parts[1] if len(parts) > 1 and parts[1] != "<no value>" else DEFAULT_INVENTORY
        if inventory_path is None or owner == inventory_name(inventory_path):
            names.append(parts[0])
    return names


def down(args):
    """Remove the containers of one lab inventory (--inventory) or of every lab inventory, their volumes,
    and each lab network no lab container uses any more."""
    inventories = [inventory_name(args.inventory)] if args.inventory else list(LAB_INVENTORIES)
    networks = sorted({inventory(inv)[0]["name"] for inv in inventories})
    names = []
    for network in networks:
        names += lab_containers(network, inventory_name(args.inventory) if args.inventory else None)
    if names:
        podman("rm", "-f", "-t", "5", *names, capture=True)
        say("removed %s" % ", ".join(names))
        volumes = []
        for name in names:
            res = podman("volume", "ls", "-q", "--filter", "label=%s.host=%s" % (LABEL, name), capture=True)
            volumes += res.stdout.split()
        if volumes:
            podman("volume", "rm", "-f", *volumes, capture=True)
            say("removed volumes %s" % ", ".join(volumes))
    for network in networks:
        if podman("network", "exists", network, check=False).returncode != 0:
            continue
        left = lab_containers(network)
        if left:
            say("network %s stays: %s still use it" % (network, ", ".join(left)))
        else:
            podman("network", "rm", network, capture=True)
            say("removed network %s" % network)
    if not names:
        say("no lab containers were running")


def status(args):
    # podman 4.3 cannot index the labels map in a "table" format: the table is laid out here.
    res = podman("ps", "-a", "--filter", "label=%s=1" % LABEL, "--format",
                 "{{.Names}}|{{.Status}}|{{.Networks}}|{{ index .Labels \"%s.inventory\" }}" % LABEL, capture=True)
    rows = []
    for line in res.stdout.splitlines():
        name, state, networks, owner = (line.split("|") + ["", "", "", ""])[:4]
        if not networks:
            continue  # not a lab host (ara-central's database, molecule's network helpers)
        owner = owner if owner and owner != "<no value>" else DEFAULT_INVENTORY
        if args.inventory is None or owner == inventory_name(args.inventory):
            rows.append((name, state, networks, owner))
    if not rows:
        say("no lab containers%s" % (" of %s" % inventory_name(args.inventory) if args.inventory else ""))
        return
    rows.insert(0, ("NAME", "STATUS", "NETWORKS", "INVENTORY"))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    for row in rows:
        print("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip())


def shell(args):
    os.execvp("podman", ["podman", "exec", "-it", args.host, "/bin/bash", "-l"])


# --- The scale lab (make bench; docs/performance.md) -----------------------------------------------------
# 120 light hosts shaped like inventories/huaian: sshd only, each seeded with the configuration files of the
# converged lab host of its kind, so host-level inspection, baselines and drift read realistic files.
SCALE_DIR = ROOT / "lab" / "scale"
SCALE_NETWORK = ("huaian-scale", "10.234.0.0/16")
SCALE_LABEL = "huaian.scale"
SCALE_SEED_DIR = STATE / "scale" / "seed"
# The production inventory lists no web entries yet (UNCONFIRMED, docs/migration.md); the scale lab adds
# the three the migration plans, which also brings it to 120 hosts.
SCALE_EXTRA_HOSTS = {"city": ["city-lb01", "city-lb02"], "hongze": ["hzq-lb01"]}
SCALE_HEADER = """\
---
# GENERATED by `python3 lab/lab.py scale-inventory` from inventories/huaian/hosts.yml: do not edit.
# The scale lab (make bench, docs/performance.md): the production estate's hosts and groups, plus the
# three web entries the migration plans (platform_lb), on the scale network, one /24 per platform.
"""


def scale_hosts_tree(production, extra=None):
    """The production inventory's group tree with an address for every host, and the extra hosts added.

    Every platform (a child of `platforms`) gets 10.234.<n>.0/24 in the order the inventory lists them;
    its hosts get .11, .12, ... in their order. Returns (tree, {host: address}).
    """
    import copy
    extra = extra or {}
    tree = copy.deepcopy(production)
    platforms = tree["all"]["children"]["platforms"]["children"]
    addresses = {}
    for n, (name, group) in enumerate(platforms.items(), start=1):
        hosts = group.get("hosts") or {}
        for host in extra.get(name, []):
            hosts.setdefault(host, None)
        for i, host in enumerate(hosts, start=11):
            if host in addresses:
                raise ValueError("%s is listed on two platforms" % host)
            addresses[host] = "10.234.%d.%d" % (n, i)
            hosts[host] = dict(hosts[host] or {}, ansible_host=addresses[host])
        group["hosts"] = hosts
    extra_hosts = [h for hosts in extra.values() for h in hosts]
    if extra_hosts:
        children = tree["all"]["children"]
        lb = children.get("platform_lb") or {}
        lb["hosts"] = dict(lb.get("hosts") or {}, **{h: None for h in extra_hosts})
        children["platform_lb"] = lb
    return tree, addresses


def scale_inventory():
    import yaml
    production = yaml.safe_load((ROOT / "inventories" / "huaian" / "hosts.yml").read_text())
    tree, addresses = scale_hosts_tree(production, SCALE_EXTRA_HOSTS)
    text = SCALE_HEADER + yaml.safe_dump(tree, sort_keys=False, allow_unicode=True, default_flow_style=False,
                                         width=120).replace(": null\n", ":\n")
    path = SCALE_DIR / "hosts.yml"
    if path.exists() and path.read_text() == text:
        say("scale inventory %s current (%d hosts)" % (path.relative_to(ROOT), len(addresses)))
    else:
        path.write_text(text)
        say("wrote %s (%d hosts)" % (path.relative_to(ROOT), len(addresses)))
    return addresses


def scale_kind(groups, hostvars):
    """The lab host whose files a scale host gets (lab/playbooks/scale_seed.yml seeds one per kind)."""
    if "kingbase" in groups:
        return "city-kb01" if hostvars.get("kingbase_node_role") == "primary" else "city-kb02"
    for group, template in (("bes", "city-bes01"), ("preview_cache", "city-cache01"), ("preview", "city-pv01"),
                            ("platform_lb", "hzq-lb01"), ("backup_appliance", "city-bak01")):
        if group in groups:
            return template
    return "hzq-bak01"


def scale_inventory_hosts():
    import yaml
    data = yaml.safe_load((SCALE_DIR / "hosts.yml").read_text())
    hosts, groups = {}, {}

    def walk(name, group):
        for host, hv in ((group or {}).get("hosts") or {}).items():
            groups.setdefault(host, set()).add(name)
            merged = hosts.setdefault(host, {})
            merged.update(hv or {})
        for child, sub in ((group or {}).get("children") or {}).items():
            walk(child, sub)
            for host in list(groups):
                if child in groups[host]:
                    groups[host].add(name)
    walk("all", data["all"])
    return {h: (hosts[h]["ansible_host"], scale_kind(groups[h], hosts[h])) for h in sorted(hosts)}


def scale_up(args):
    podman_config()
    build = image()
    auth = ssh_key()
    scale_inventory()
    hosts = scale_inventory_hosts()
    kinds = sorted({k for _, k in hosts.values()})
    missing = [k for k in kinds if not (SCALE_SEED_DIR / (k + ".tar.gz")).exists()]
    if missing:
        raise SystemExit("lab: no scale seed for %s under %s: run `make scale-up` (it converges the lab and runs "
                         "lab/playbooks/scale_seed.yml first)" % (", ".join(missing), SCALE_SEED_DIR))
    seed_hash = hashlib.sha256()
    for k in kinds:
        seed_hash.update((SCALE_SEED_DIR / (k + ".tar.gz")).read_bytes())
    stamp = "%s-%s" % (build, seed_hash.hexdigest()[:12])
    name, subnet = SCALE_NETWORK
    if podman("network", "exists", name, check=False).returncode != 0:
        podman("network", "create", "--subnet", subnet, "--label", LABEL + "=1", name, capture=True)
        say("created network %s (%s)" % (name, subnet))
    started = []
    for host, (addr, kind) in hosts.items():
        cname = "scale-" + host
        status, host_build = container_state(cname)
        if status == "running" and host_build == stamp:
            continue
        if status is not None:
            podman("rm", "-f", "-t", "0", cname, capture=True)
        # sshd alone: host keys made at start, the seed's files laid over the image before sshd reads them.
        podman("create", "--name", cname, "--hostname", host, "--network", name, "--ip", addr,
               "--label", SCALE_LABEL + "=1", "--label", "%s.build=%s" % (LABEL, stamp),
               "-v", "%s:/home/labops/.ssh/authorized_keys:ro" % auth,
               "-v", "%s:/seed.tar.gz:ro" % (SCALE_SEED_DIR / (kind + ".tar.gz")),
               LAB_IMAGE, "/bin/sh", "-c",
               "tar -xzpf /seed.tar.gz -C / && ssh-keygen -A >/dev/null && mkdir -p /run/sshd "
               "&& exec /usr/sbin/sshd -D -e", capture=True)
        podman("start", cname, capture=True)
        run(["ip", "neigh", "flush", "to", addr], check=False, capture=True)
        started.append(host)
    deadline = time.time() + 120
    waiting = {h: hosts[h][0] for h in started}
    while waiting and time.time() < deadline:
        for host, addr in list(waiting.items()):
            if subprocess.run(["timeout", "2", "bash", "-c", "exec 3<>/dev/tcp/%s/22" % addr],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0:
                del waiting[host]
        if waiting:
            time.sleep(0.5)
    if waiting:
        raise SystemExit("lab: sshd did not come up on %s" % ", ".join(sorted(waiting)))
    say("%d scale hosts on %s (%d started now; seeded from %s)" % (len(hosts), name, len(started), ", ".join(kinds)))


def scale_down(args):
    res = podman("ps", "-a", "--format", "{{.Names}}", "--filter", "label=%s=1" % SCALE_LABEL, capture=True)
    names = res.stdout.split()
    if names:
        podman("rm", "-f", "-t", "0", *names, capture=True)
    if podman("network", "exists", SCALE_NETWORK[0], check=False).returncode == 0:
        podman("network", "rm", SCALE_NETWORK[0], capture=True)
    say("removed %d scale containers and network %s" % (len(names), SCALE_NETWORK[0]))


# --- The execution environment (make ee; docs/awx.md) ------------------------------------------------------
EE_IMAGE = "localhost/huaian-ee:latest"


def ee_pip_config():
    """A pip configuration for the build's RUN steps only: this machine's CA bundle (its package proxy
    re-signs TLS), mounted at build time and never part of the image. None where pip needs no extra CA."""
    cert = None
    res = run([sys.executable, "-m", "pip", "config", "get", "global.cert"], check=False, capture=True)
    if res.returncode == 0 and res.stdout.strip():
        cert = pathlib.Path(res.stdout.strip())
    cert = cert or pathlib.Path(os.environ.get("PIP_CERT", "/nonexistent"))
    if not cert.is_file():
        return None
    confdir = ROOT / ".cache" / "ee-build" / "pip"
    confdir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(str(cert), str(confdir / "ca.crt"))
    (confdir / "pip.conf").write_text("# Build-time only (lab/lab.py ee)\n[global]\ncert = /etc/xdg/pip/ca.crt\n")
    return confdir


def ee(args):
    podman_config()
    image()  # the lab base image the EE is built on
    builder = pathlib.Path(sys.executable).parent / "ansible-builder"
    cmd = [str(builder), "build", "-f", str(ROOT / "ee" / "execution-environment.yml"),
           "--context", str(ROOT / ".cache" / "ee"), "--container-runtime", "podman", "-t", EE_IMAGE, "-v", "2"]
    confdir = ee_pip_config()
    if confdir:
        cmd += ["--extra-build-cli-args", "--volume %s:/etc/xdg/pip:ro" % confdir]
    say("building %s with ansible-builder (ee/execution-environment.yml)" % EE_IMAGE)
    started = time.time()
    log = ROOT / ".cache" / "ee-build" / "build.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(str(log), "w") as out:
        res = subprocess.run(cmd, cwd=str(ROOT), stdout=out, stderr=subprocess.STDOUT)
    if res.returncode != 0:
        raise SystemExit("lab: the EE build failed (rc %d); its log: %s" % (res.returncode, log))
    say("built %s in %.0f s (log %s)" % (EE_IMAGE, time.time() - started, log))
    # Inside the EE, as AWX runs it: the project mounted read-only at /runner/project, its ansible.cfg in force.
    smoke = (
        "set -e; cd /runner/project; export ANSIBLE_CONFIG=/runner/project/ansible.cfg HOME=/tmp; "
        "ansible --version | head -1; python3 -c 'import ara, ansible_runner; print(\"ara\", ara.__version__ if hasattr(ara, \"__version__\") else \"ok\", \"ansible-runner ok\")'; "
        "ansible-galaxy collection list community.general 2>/dev/null | tail -1; "
        "ansible-doc -t module config_baseline >/dev/null && echo 'project modules load'; "
        "HUAIAN_ARA=1 ARA_API_CLIENT=http ARA_API_SERVER=http://127.0.0.1:9 ansible-doc -t callback huaian_ara >/dev/null "
        "&& echo 'ARA callback loads'; "
        "for p in playbooks/*.yml; do ansible-playbook --syntax-check -i inventories/huaian $p >/dev/null "
        "|| { echo \"syntax: $p\"; exit 1; }; done; echo 'every playbook passes --syntax-check in the EE'")
    res = podman("run", "--rm", "--network", "none", "-v", "%s:/runner/project:ro,z" % ROOT,
                 EE_IMAGE, "bash", "-c", smoke, check=False, capture=True)
    for line in (res.stdout or "").splitlines():
        say("ee: " + line)
    if res.returncode != 0:
        raise SystemExit("lab: the EE smoke test failed: %s" % (res.stderr or "").strip()[-2000:])
    say("%s is sound: docs/awx.md says how AWX / AAP uses it" % EE_IMAGE)


# --- ARA on PostgreSQL, fed from the execution environment (make ara-central; docs/awx.md) ----------------
ARA_NETWORK = ("huaian-ara", "10.235.0.0/24")
ARA_DB = ("huaian-ara-db", "10.235.0.10")
ARA_PORT = 8765


def ara_secret(name):
    import secrets as rnd
    path = STATE / "ara" / name
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(rnd.token_urlsafe(24))
        os.chmod(path, 0o600)
    return path.read_text().strip()


def ara_central(args):
    podman_config()
    image()
    if podman("image", "exists", EE_IMAGE, check=False).returncode != 0:
        raise SystemExit("lab: no %s: run `make ee` first" % EE_IMAGE)
    db_password, admin_password = ara_secret("db-password"), ara_secret("admin-password")
    net, subnet = ARA_NETWORK
    name, addr = ARA_DB
    if podman("network", "exists", net, check=False).returncode != 0:
        podman("network", "create", "--subnet", subnet, "--label", LABEL + "=1", net, capture=True)
    podman("rm", "-f", "-t", "0", name, check=False, capture=True)
    # PostgreSQL 15 from the lab image (the packages the Kingbase stand-in uses), a cluster of its own.
    boot = ("set -e; d=/var/lib/postgresql/ara; install -d -o postgres -m 0700 $d; "
            "su postgres -c \"/usr/lib/postgresql/15/bin/initdb -D $d --auth-local=peer --auth-host=scram-sha-256 "
            "-U postgres >/dev/null\"; "
            "echo 'host all all 10.235.0.0/24 scram-sha-256' >> $d/pg_hba.conf; "
            "exec su postgres -c \"/usr/lib/postgresql/15/bin/postgres -D $d -c listen_addresses=* -c unix_socket_directories=/tmp\"")
    podman("run", "-d", "--name", name, "--network", net, "--ip", addr, "--label", LABEL + "=1",
           LAB_IMAGE, "/bin/sh", "-c", boot, capture=True)
    deadline = time.time() + 60
    while podman("exec", name, "su", "postgres", "-c", "psql -h /tmp -Atc 'select 1'", check=False,
                 capture=True).returncode != 0:
        if time.time() > deadline:
            raise SystemExit("lab: PostgreSQL for ARA did not start: %s" % podman("logs", name, capture=True,
                                                                                    check=False).stdout[-1500:])
        time.sleep(1)
    # Passwords travel in the environment of podman and psql (\getenv), never on a command line: lab.py
    # prints a failed command, and command lines are visible to every process.
    secret_env = dict(os.environ, ARA_DB_PW=db_password, PGPASSWORD=db_password, ARA_API_PASSWORD=admin_password)
    run(["podman", "exec", "-i", "--user", "postgres", "-e", "ARA_DB_PW", name, "psql", "-h", "/tmp", "-q",
         "-v", "ON_ERROR_STOP=1"], env=secret_env, capture=True,
        input="\\getenv pw ARA_DB_PW\nCREATE ROLE ara LOGIN PASSWORD :'pw';\nCREATE DATABASE ara OWNER ara;\n")
    say("PostgreSQL 15 for ARA at %s:5432 (container %s), database ara" % (addr, name))
    bindir = pathlib.Path(sys.executable).parent
    server_dir = STATE / "ara" / "server"
    server_env = dict(os.environ, ARA_BASE_DIR=str(server_dir), ARA_DATABASE_ENGINE="django.db.backends.postgresql",
                      ARA_DATABASE_HOST=addr, ARA_DATABASE_PORT="5432", ARA_DATABASE_NAME="ara",
                      ARA_DATABASE_USER="ara", ARA_DATABASE_PASSWORD=db_password,
                      ARA_ALLOWED_HOSTS="['127.0.0.1', 'localhost']", ARA_WRITE_LOGIN_REQUIRED="true",
                      ARA_READ_LOGIN_REQUIRED="true", ARA_SECRET_KEY=ara_secret("secret-key"),
                      ARA_TIME_ZONE="Asia/Shanghai", DJANGO_SUPERUSER_PASSWORD=admin_password)
    run([str(bindir / "ara-manage"), "migrate"], env=server_env, capture=True)
    run([str(bindir / "ara-manage"), "createsuperuser", "--noinput", "--username", "awx",
         "--email", "awx@localhost"], env=server_env, check=False, capture=True)
    server = subprocess.Popen([str(bindir / "ara-manage"), "runserver", "127.0.0.1:%d" % ARA_PORT, "--noreload"],
                              env=server_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 60
        while subprocess.run(["timeout", "2", "bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/%d" % ARA_PORT],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode != 0:
            if time.time() > deadline or server.poll() is not None:
                raise SystemExit("lab: the ARA server did not start")
            time.sleep(0.5)
        say("ARA server (API) on 127.0.0.1:%d, database PostgreSQL; writes need a login" % ARA_PORT)
        change = "LAB-ARA-%s" % time.strftime("%Y%m%d%H%M%S")
        # As AWX runs a job: the EE, the project read-only, the ARA credential as environment. (Root in the
        # container only because the lab's vault password file is root's, mode 0600.)
        res = podman("run", "--rm", "--network", "host", "--user", "0", "-v", "%s:/runner/project:ro,z" % ROOT,
                     "-v", "%s:/runner/vault-password:ro" % (STATE / "vault-password"),
                     "-e", "HOME=/tmp", "-e", "ANSIBLE_CONFIG=/runner/project/ansible.cfg",
                     "-e", "ANSIBLE_VAULT_PASSWORD_FILE=/runner/vault-password",
                     "-e", "HUAIAN_RECORDS_DIR=/tmp/records", "-e", "HUAIAN_ARA=1", "-e", "ARA_API_CLIENT=http",
                     "-e", "ARA_API_SERVER=http://127.0.0.1:%d" % ARA_PORT, "-e", "ARA_API_USERNAME=awx",
                     "-e", "ARA_API_PASSWORD", "-w", "/runner/project", EE_IMAGE,
                     "ansible-playbook", "playbooks/validate.yml", "-e", "change_id=%s" % change,
                     check=False, capture=True, env=secret_env)
        if res.returncode != 0:
            raise SystemExit("lab: the playbook run in the EE failed:\n%s" % (res.stdout + res.stderr)[-3000:])
        query = ("select p.id, p.status, p.path, string_agg(l.name, ',' order by l.name) from playbooks p "
                 "join playbooks_labels pl on pl.playbook_id = p.id join labels l on l.id = pl.label_id "
                 "group by p.id having string_agg(l.name, ',') like '%%cr:%s%%'" % change)
        out = podman("exec", "-e", "PGPASSWORD", name, "psql", "-h", addr, "-U", "ara", "-d", "ara",
                     "-Atc", query, capture=True, env=secret_env).stdout.strip()
        if not out:
            raise SystemExit("lab: the run of %s is not in ARA's PostgreSQL database" % change)
        tasks = podman("exec", "-e", "PGPASSWORD", name, "psql", "-h", addr, "-U", "ara", "-d",
                       "ara", "-Atc", "select count(*) from tasks where playbook_id = %s" % out.split("|")[0],
                       capture=True, env=secret_env).stdout.strip()
        say("recorded in PostgreSQL: playbook %s (%s tasks)" % (out.replace("|", " "), tasks))
    finally:
        server.terminate()
        server.wait()
        podman("rm", "-f", "-t", "0", name, check=False, capture=True)
        podman("network", "rm", net, check=False, capture=True)
    say("ARA on PostgreSQL works from the execution environment; server and database removed again")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="cmd", required=True)
    sub.add_parser("podman-config").set_defaults(func=lambda a: podman_config())
    sub.add_parser("image").set_defaults(func=lambda a: (podman_config(), secrets(), all_media(image())))
    for name, func in (("up", up), ("down", down), ("status", status)):
        cmd = sub.add_parser(name)
        cmd.add_argument("--inventory", default=DEFAULT_INVENTORY if name == "up" else None,
                         help="a lab inventory: %s (up's default: %s; down and status: all of them)"
                         % (", ".join(LAB_INVENTORIES), DEFAULT_INVENTORY))
        cmd.set_defaults(func=func)
    sub.add_parser("secrets").set_defaults(func=lambda a: secrets())
    sub.add_parser("scale-inventory").set_defaults(func=lambda a: scale_inventory())
    sub.add_parser("scale-up").set_defaults(func=scale_up)
    sub.add_parser("scale-down").set_defaults(func=scale_down)
    sub.add_parser("ee").set_defaults(func=ee)
    sub.add_parser("ara-central").set_defaults(func=ara_central)
    sh = sub.add_parser("shell")
    sh.add_argument("host")
    sh.set_defaults(func=shell)
    args = parser.parse_args()
    args.func(args)


if __name__ == "__main__":
    main()
