#!/usr/bin/env bash
# Installs what scripts/in-vm needs, when it is missing; prints nothing when all is there.
#   bash scripts/vm-deps.sh
# - QEMU (qemu-system-x86) and a static busybox (virtme-ng builds the guest's initramfs with it), from apt;
# - virtme-ng (PyPI), in its own virtualenv at $NETFAULT_VM_HOME/venv (default /opt/netfault-vm),
#   so the system Python stays untouched (Debian 12 refuses pip installs into it);
# - kmod and udev, which the guest uses from this machine's root file system.
# The kernels themselves are never installed: scripts/kernel-fetch unpacks them into a cache.
# Needs root (apt-get). Works on a fresh Debian 12.
# VM_DEPS_CHECK=1: install nothing; exit 1 when something is missing (the tests ask so).
set -euo pipefail

VIRTME_NG_VERSION=1.42
home=${NETFAULT_VM_HOME:-/opt/netfault-vm}

packages=()
command -v qemu-system-x86_64 >/dev/null || packages+=(qemu-system-x86)
# Static: virtme-ng copies it alone into the initramfs (Debian's `busybox` is dynamic).
dpkg-query -W -f '${Status}' busybox-static 2>/dev/null | grep -q 'ok installed' || packages+=(busybox-static)
# modprobe for the guest (it loads sch_netem and the rest on demand); depmod for kernel-fetch.
command -v depmod >/dev/null || packages+=(kmod)
# virtme-ng's guest init finds the command's I/O ports (/dev/virtio-ports/…) through udev;
# without udevd the command runs on the console and its output and status are lost.
[[ -x /lib/systemd/systemd-udevd ]] || packages+=(udev)
# virtme-ng reads a vmlinuz's release with file(1).
command -v file >/dev/null || packages+=(file)
/usr/bin/python3 -c 'import venv, ensurepip' 2>/dev/null || packages+=(python3-venv)
if [[ ${VM_DEPS_CHECK:-0} == 1 ]]; then
    "$home/venv/bin/vng" --version 2>/dev/null | grep -qx "virtme-ng $VIRTME_NG_VERSION" ||
        packages+=("virtme-ng $VIRTME_NG_VERSION (in $home/venv)")
    ((${#packages[@]} == 0)) && exit 0
    echo "vm-deps: missing: ${packages[*]}" >&2
    exit 1
fi
if ((${#packages[@]})); then
    [[ $(id -u) == 0 ]] || { echo "vm-deps: need root to install ${packages[*]}" >&2; exit 3; }
    echo "vm-deps: installing ${packages[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    # apt stages packages under $TMPDIR; once, on a shared machine, /tmp lost them mid-install.
    export TMPDIR=/var/tmp
    apt-get update -qq >&2
    # No recommends: they would bring a desktop's worth of QEMU GUI and firmware.
    apt-get install -y -qq --no-install-recommends "${packages[@]}" >&2
fi

if ! "$home/venv/bin/vng" --version 2>/dev/null | grep -qx "virtme-ng $VIRTME_NG_VERSION"; then
    echo "vm-deps: installing virtme-ng $VIRTME_NG_VERSION into $home/venv" >&2
    mkdir -p "$home"
    /usr/bin/python3 -m venv "$home/venv"
    "$home/venv/bin/pip" install -q --disable-pip-version-check "virtme-ng==$VIRTME_NG_VERSION" >&2
fi
