#!/usr/bin/env bash
# Installs what netfault needs to build and test on Debian 12 with Swift 6: libmnl
# (netlink), libbpf with libelf and zlib (the kernel event programs), libpcap (capture,
# pcap files), pkg-config; iproute2, nftables, iptables and tcpdump (independent
# witnesses in the tests, scripts/host-state and `netfault bench timeline`); chromium (the HTML report's rendering test).
# Idempotent: installs only what is missing. Must run as root.
set -euo pipefail

packages=(libmnl-dev libpcap-dev libbpf-dev libelf-dev zlib1g-dev pkg-config iproute2 nftables iptables tcpdump chromium)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if ((${#missing[@]})); then
  if [ "$(id -u)" -ne 0 ]; then
    echo "bootstrap: need root to install: ${missing[*]}" >&2
    exit 3
  fi
  echo "bootstrap: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if ! command -v swift >/dev/null; then
  for candidate in /opt/swift/usr/bin /usr/share/swift/usr/bin; do
    [ -x "$candidate/swift" ] && { echo "bootstrap: add $candidate to PATH" >&2; break; }
  done
  echo "bootstrap: swift (6.0 or newer) is not on PATH" >&2
  exit 3
fi
