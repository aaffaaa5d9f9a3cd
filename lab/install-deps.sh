#!/usr/bin/env bash
# Install the Debian packages the controller and the lab need; quick and quiet when all are present.
set -euo pipefail
# iptables: netavark sets up the podman networks with it ("netavark: No such file or directory" without it).
# chromium and a CJK font: molecule/inspection renders the Chinese HTML report headless and screenshots it.
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
