#!/usr/bin/env bash
# Install the Debian packages the controller and the lab need; quick and quiet when all are present.
set -euo pipefail
# iptables: netavark sets up the podman networks with it ("netavark: No such file or directory" without it).
# chromium and a CJK font: molecule/inspection renders the Chinese HTML report headless and screenshots it.
# Every lab and molecule container runs systemd, which takes several inotify instances; the kernel's
# default of 128 per user is spent by about 30 containers (the demo's lab beside two molecule scenarios),
# and a container started after that never finishes booting (sshd stays "inactive (dead)").
sysctl_file=/etc/sysctl.d/60-huaian-lab.conf
sysctl_text=$'# Written by huaian-platform-ops lab/install-deps.sh: inotify for many systemd containers.\nfs.inotify.max_user_instances = 2048\nfs.inotify.max_user_watches = 1048576'
if [ "$(cat "$sysctl_file" 2>/dev/null)" != "$sysctl_text" ]; then
  if [ "$(id -u)" -eq 0 ]; then
    printf '%s\n' "$sysctl_text" > "$sysctl_file"
    sysctl -q -p "$sysctl_file"
    echo "deps: wrote $sysctl_file (inotify limits for the lab's systemd containers) and applied it"
  else
    echo "deps: $sysctl_file missing or different; run as root to raise the inotify limits" >&2
  fi
elif [ "$(sysctl -n fs.inotify.max_user_instances)" -lt 2048 ]; then
  sysctl -q -p "$sysctl_file"
  echo "deps: applied $sysctl_file"
fi
packages=(podman runc netavark aardvark-dns iptables debootstrap python3-venv python3-pip openssh-client git make rsync chromium fonts-wqy-microhei)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "deps: all Debian packages present"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "deps: missing ${missing[*]}; run as root (or install them) first" >&2
  exit 1
fi
echo "deps: installing ${missing[*]}"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "deps: installed ${missing[*]}"
