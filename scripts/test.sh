#!/usr/bin/env bash
# Quick start, command 2: install what is needed, build, run every test.
# Kernel tests need root; without it they are skipped with that reason.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
# Serial: kernel tests compare the host's links, namespaces and this process's open
# descriptors before and after, which tests running alongside would disturb.
exec swift test --no-parallel "$@"
