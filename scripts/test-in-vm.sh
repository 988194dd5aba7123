#!/usr/bin/env bash
# The second kernel: Debian's stock kernel (6.1, with sch_netem) booted in QEMU by
# scripts/in-vm, running the netem kernel tests, the kernel-event programs' load test (they
# pass that kernel's verifier, its drop-reason names read from its BTF) and the catalog
# scenario served by netem (K3) from the build that scripts/test.sh just made. Prints the
# run's JSON to results/vm/; exits non-zero if a test fails or K3 was not served by netem.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${NETFAULT_BUILD:-.build/debug}
mkdir -p results/vm

# The netem backend, the kernel event programs, and the tc-BPF fault engine where this kernel has
# sch_fq (delays by earliest departure time) and another verifier: its kernel tests and 300 of
# the differential test's generated cases (the emulated guest runs them ~20x slower than here);
# the BPF capture (its program through that verifier, its GSO cut against libpcap there).
# One suite at a time, as scripts/test.sh runs them: the kernel tests' leak checks compare the
# machine's namespaces before and after, which a suite running beside them changes.
scripts/in-vm debian -- env NETFAULT_DIFFERENTIAL_CASES=300 "$build/netfaultPackageTests.xctest" --testing-library swift-testing --no-parallel \
    --filter "NetemKernelTests|KernelEventsLoadTests|TCFaultEngineTests|KernelDifferentialTests|FairQueueKernelTests|BPFCaptureTests"

# The guest may write only where IN_VM_RW says; the terminal report goes to the log.
IN_VM_RW="$PWD/results/vm" scripts/in-vm debian -- "$build/netfault" run K3 --verbose --json results/vm/K3.json || status=$?
python3 - results/vm/K3.json <<'PY'
import json, sys
run = json.load(open(sys.argv[1]))
k3 = run["scenarios"][0]
backends = {f["description"]: f["backend"] for f in k3["faults"]}
print(f"in the VM: kernel {run['kernel']}, K3 {k3['status']}, backends {backends}")
assert k3["status"] == "passed", k3.get("error") or [e for e in k3["expectations"] if not e["passed"]]
# Debian's kernel has sch_fq: the drop and the delaying impairment both run in the kernel.
assert set(backends.values()) == {"bpf+fq"}, f"expected every fault in the kernel (bpf+fq): {backends}"
PY
exit "${status:-0}"
