#!/usr/bin/env bash
# Quick start, command 2: install what is needed, build, run every test (the netem
# ones in a VM booting Debian's kernel, see scripts/in-vm).
# Kernel tests need root; without it they are skipped with that reason.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
# Serial: kernel tests compare the host's links, namespaces and this process's open
# descriptors before and after, which tests running alongside would disturb.
swift test --no-parallel "$@"
# The documentation: DocC with warnings as errors, every public symbol documented, the
# articles' snippets compiled (scripts/docs.sh).
bash scripts/docs.sh
# Examples/: a user package of its own, on real programs (curl, python3, nginx, socat): its
# tests, and its executable's catalog as a user would run it.
swift build --package-path Examples --build-tests
swift test --package-path Examples
if [[ $(id -u) == 0 ]]; then
    # One at a time: each example's timing checks are about a program's own timer (nginx,
    # curl), which waits for a CPU when three scenarios share two (1.13 s seen for 1 s).
    Examples/.build/debug/examples run --all --parallel 1
else
    echo "examples run --all skipped: it needs root"
fi
# The netem backend and a second kernel, for real: Debian's kernel in a VM.
bash scripts/test-in-vm.sh
# Signals, crashes, two orchestrators, bad inputs, leaks and the host diff, as a table.
if [[ $(id -u) == 0 ]]; then
    bash scripts/reliability
else
    echo "scripts/reliability skipped: it needs root"
fi
