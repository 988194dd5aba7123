/// The new package's GitHub Actions workflow: the scenarios run as root on an Ubuntu runner
/// (network namespaces, nftables and NFQUEUE need it), results kept as JUnit and JSON; then
/// kernel × shard: the catalog on Debian's kernels in QEMU (netfault's scripts/in-vm), in a
/// Debian container so the kernels come from the Debian archive its apt sources name, and
/// the claims and the scenario × kernel matrix of all of them at the end.
enum WorkflowTemplate {
    static func text(executable: String) -> String {
        #"""
        name: scenarios

        on:
          push:
          pull_request:

        jobs:
          scenarios:
            runs-on: ubuntu-24.04
            timeout-minutes: 30
            steps:
              - uses: actions/checkout@v6

              - uses: swift-actions/setup-swift@v2
                with:
                  swift-version: "6.3"

              # netfault links libmnl and libpcap; the scenario runs curl and python3.
              - name: Install packages
                run: |
                  sudo apt-get update
                  sudo apt-get install -y --no-install-recommends \
                    libmnl-dev libpcap-dev libbpf-dev libelf-dev zlib1g-dev pkg-config iproute2 \
                    nftables curl python3

              # As root from the start, so the build folder has one owner.
              - name: Build
                run: sudo "$(command -v swift)" build --build-tests

              - name: Machine check
                run: sudo .build/debug/\#(executable) doctor

              - name: Swift Testing tests
                run: sudo "$(command -v swift)" test

              - name: Run the catalog
                run: sudo .build/debug/\#(executable) run --all --junit results/scenarios.xml --json results/scenarios.json

              - name: Keep the results
                if: always()
                uses: actions/upload-artifact@v6
                with:
                  name: scenario-results
                  path: results/
                  if-no-files-found: ignore

          kernels:
            runs-on: ubuntu-24.04
            timeout-minutes: 60
            container:
              image: swift:6.3-bookworm
              options: --privileged
            strategy:
              fail-fast: false
              matrix:
                kernel: ["5.10", "6.1", "6.12", "7.2"]
                shard: ["1", "2"]
            steps:
              - uses: actions/checkout@v6

              - name: Install packages
                run: |
                  apt-get update
                  apt-get install -y --no-install-recommends \
                    libmnl-dev libpcap-dev libbpf-dev libelf-dev zlib1g-dev pkg-config iproute2 \
                    nftables curl python3

              - name: Build
                run: swift build

              - name: Kernel cache
                uses: actions/cache@v5
                with:
                  path: /opt/netfault-vm/kernels
                  key: debian-kernel-${{ matrix.kernel }}

              # scripts/in-vm fetches the kernel (first time), boots it in QEMU and runs the
              # shard there, one scenario at a time (the guest is emulated: timers run late).
              - name: Shard ${{ matrix.shard }} of 2 on Linux ${{ matrix.kernel }}
                env:
                  KERNEL: ${{ matrix.kernel }}
                  SHARD: ${{ matrix.shard }}
                run: |
                  netfault=$(swift package show-dependencies --format json | python3 -c '
                  import json, os, sys
                  def walk(node):
                      for dependency in node["dependencies"]:
                          yield dependency["path"]
                          yield from walk(dependency)
                  print(next(p for p in walk(json.load(sys.stdin)) if os.path.exists(p + "/scripts/in-vm")))')
                  mkdir -p results
                  IN_VM_RW="$PWD/results" "$netfault/scripts/in-vm" "$KERNEL" -- \
                    .build/debug/\#(executable) run --all --shard "$SHARD/2" --parallel 1 \
                    --json "results/$KERNEL-$SHARD.json" --junit "results/$KERNEL-$SHARD.xml"

              - name: Keep the results
                if: always()
                uses: actions/upload-artifact@v6
                with:
                  name: kernel-${{ matrix.kernel }}-${{ matrix.shard }}
                  path: results/
                  if-no-files-found: ignore

          across-kernels:
            needs: kernels
            if: always()
            runs-on: ubuntu-24.04
            steps:
              - uses: actions/checkout@v6

              - uses: swift-actions/setup-swift@v2
                with:
                  swift-version: "6.3"

              - name: Install packages
                run: |
                  sudo apt-get update
                  sudo apt-get install -y --no-install-recommends \
                    libmnl-dev libpcap-dev libbpf-dev libelf-dev zlib1g-dev pkg-config

              - uses: actions/download-artifact@v7
                with:
                  pattern: kernel-*
                  path: results
                  merge-multiple: true

              # Shards of one kernel are joined: one column per kernel.
              - name: Scenario × kernel, and the claims across kernels
                run: |
                  swift build
                  .build/debug/\#(executable) claims --from results/*.json --html results/claims.html
                  .build/debug/\#(executable) matrix results/*.json

              - name: Keep the comparison
                if: always()
                uses: actions/upload-artifact@v6
                with:
                  name: across-kernels
                  path: results/claims.html
                  if-no-files-found: ignore

        """#
    }
}
