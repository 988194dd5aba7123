#!/usr/bin/env bash
# Measures an IPv6 connect through a router built with iproute2 alone, as netfault builds it
# (forwarding on before the links, global addresses nodad), with and without
# net.ipv6.conf.default.accept_dad=0. Without it the router's link-local addresses stay
# tentative for 1–2 s, and it cannot solicit the server for the SYNs it forwards.
# Usage (root): scripts/ipv6-router-connect.sh [ROUNDS]. Everything lives in its own namespaces.
set -euo pipefail
rounds=${1:-3}
prefix="nf-v6r-$$-"
cleanup() { for n in c r s; do ip netns del "$prefix$n" 2>/dev/null || true; done; }
trap cleanup EXIT

connect_once() {  # $1: plain | nodad
  cleanup
  for n in c r s; do ip netns add "$prefix$n"; done
  ip netns exec "${prefix}r" sysctl -qw net.ipv6.conf.all.forwarding=1
  if [ "$1" = nodad ]; then
    for n in c r s; do ip netns exec "$prefix$n" sysctl -qw net.ipv6.conf.default.accept_dad=0; done
  fi
  ip -n "${prefix}c" link add eth0 type veth peer name eth0 netns "${prefix}r"
  ip -n "${prefix}r" link add eth1 type veth peer name eth0 netns "${prefix}s"
  for n in c r s; do ip -n "$prefix$n" link set lo up; done
  ip -n "${prefix}c" link set eth0 up; ip -n "${prefix}r" link set eth0 up
  ip -n "${prefix}r" link set eth1 up; ip -n "${prefix}s" link set eth0 up
  ip -n "${prefix}c" addr add fd77:205::2/64 dev eth0 nodad
  ip -n "${prefix}r" addr add fd77:205::1/64 dev eth0 nodad
  ip -n "${prefix}r" addr add fd77:206::1/64 dev eth1 nodad
  ip -n "${prefix}s" addr add fd77:206::2/64 dev eth0 nodad
  ip -n "${prefix}c" route add default via fd77:205::1
  ip -n "${prefix}s" route add default via fd77:206::1
  ip netns exec "${prefix}s" python3 -c '
import socket
s = socket.socket(socket.AF_INET6); s.bind(("::", 7001)); s.listen(1); s.accept()' &
  local server=$!
  sleep 0.05
  ip netns exec "${prefix}c" python3 -c '
import socket, time
t = time.monotonic(); socket.create_connection(("fd77:206::2", 7001), timeout=5)
print("%.4f" % (time.monotonic() - t))'
  wait "$server"
}

for mode in plain nodad; do
  times=()
  for _ in $(seq "$rounds"); do times+=("$(connect_once "$mode")"); done
  echo "$mode: connect ${times[*]} s"
done
