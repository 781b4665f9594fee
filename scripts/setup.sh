#!/usr/bin/env bash
# Installs what Firebreak needs to build and test on a fresh Debian machine:
# the C libraries it links (libnftnl, libmnl, libiptc, libnftables) and the tools its tests use as
# independent oracles (nft, iptables-legacy/nft, ip). Safe to run again: installs only what is missing.
set -euo pipefail

packages=(libnftnl-dev libmnl-dev libiptc-dev libnftables-dev nftables iptables iproute2 iputils-ping conntrack pkg-config)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} == 0)); then
  exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
  echo "setup: missing packages: ${missing[*]}" >&2
  echo "setup: run as root (or: sudo apt-get install ${missing[*]})" >&2
  exit 1
fi

echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
