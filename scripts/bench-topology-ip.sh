#!/usr/bin/env bash
# Baseline for `netfault bench topology`: the same work with iproute2 in its
# fastest form (veth ends created in place, one `ip -n NS -batch -` per namespace).
# Usage: bench-topology-ip.sh PAIRS [NAME_PREFIX]  → JSON {setupMsPerPair, teardownMsPerPair}
set -euo pipefail
pairs=${1:?pairs}
prefix=${2:-nfbench$$-}
now() { date +%s%N; }
cleanup() { for ((i = 0; i < pairs; i++)); do ip netns del "${prefix}a$i" 2>/dev/null || true; ip netns del "${prefix}b$i" 2>/dev/null || true; done; }
trap cleanup EXIT

start=$(now)
for ((i = 0; i < pairs; i++)); do
  a="${prefix}a$i" b="${prefix}b$i"
  net="10.77.$((128 + i / 64)).$((i % 64 * 4))"
  base=${net%.*}; last=${net##*.}
  ip netns add "$a"
  ip netns add "$b"
  ip -n "$a" -batch - <<CMDS
link add eth0 type veth peer name eth0 netns $b
addr add $base.$((last + 1))/30 dev eth0
link set eth0 up
CMDS
  ip -n "$b" -batch - <<CMDS
addr add $base.$((last + 2))/30 dev eth0
link set eth0 up
CMDS
done
built=$(now)
cleanup
gone=$(now)
trap - EXIT
awk -v s="$start" -v b="$built" -v g="$gone" -v n="$pairs" \
  'BEGIN { printf "{\"setupMsPerPair\": %.4f, \"teardownMsPerPair\": %.4f}\n", (b - s) / 1e6 / n, (g - b) / 1e6 / n }'
