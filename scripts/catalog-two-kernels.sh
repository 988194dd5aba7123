#!/usr/bin/env bash
# The catalog on two kernels, side by side: this machine's, and Debian's stock 6.1 booted
# in a VM by scripts/in-vm; then `netfault claims` shows both runs' verdicts and evidence
# per claim (e.g. SYN retransmissions at 0, 1, 3, 7 s on 6.1 against 0, 1, 2, 3, 4, 5, 7, 11 s
# on 6.18). Uses the debug build (`swift build` first). Results go to results/two-kernels/.
# Exit status: non-zero if either run had a failing scenario.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${NETFAULT_BUILD:-.build/debug}
out=results/two-kernels
mkdir -p "$out"

"$build/netfault" run --all --json "$out/host.json" || host_status=$?
IN_VM_RW="$PWD/$out" scripts/in-vm debian -- "$build/netfault" run --all --json "$out/vm.json" || vm_status=$?
"$build/netfault" claims --from "$out/vm.json" --from "$out/host.json" | tee "$out/claims.txt"
"$build/netfault" claims --json --from "$out/vm.json" --from "$out/host.json" > "$out/claims.json"
exit $(( ${host_status:-0} || ${vm_status:-0} ))
