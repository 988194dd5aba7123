#!/usr/bin/env bash
# Quick start, command 1: install what is needed, build, run the scenario catalog.
# Extra arguments go to `netfault run` (default: --all). Results land in results/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
swift build -c release --product netfault
mkdir -p results
args=("$@")
((${#args[@]})) || args=(--all)
exec .build/release/netfault run "${args[@]}" --json results/catalog.json --junit results/catalog.xml
