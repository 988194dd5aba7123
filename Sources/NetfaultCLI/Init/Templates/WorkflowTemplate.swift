/// The new package's GitHub Actions workflow: the scenarios run as root on an Ubuntu runner
/// (network namespaces, nftables and NFQUEUE need it), results kept as JUnit and JSON.
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
                    libmnl-dev libpcap-dev pkg-config iproute2 nftables curl python3

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

        """#
    }
}
