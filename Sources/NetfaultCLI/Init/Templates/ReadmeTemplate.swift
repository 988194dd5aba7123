/// The new package's README: what is in it and how to run it.
enum ReadmeTemplate {
    static func text(name: String) -> String {
        let commands = [
            ("swift build", ""),
            ("sudo .build/debug/\(name) run --all", "the catalog, with netfault's command line"),
            ("sudo .build/debug/\(name) run HTTP1 --ladder", "one scenario, with its ladder diagram"),
            ("sudo swift test", "the same scenarios as Swift Testing tests"),
        ]
        let width = commands.map(\.0.count).max() ?? 0
        let block = commands.map { command, note in
            note.isEmpty ? command : command + String(repeating: " ", count: width - command.count) + "  # " + note
        }.joined(separator: "\n")
        return #"""
        # \#(name)

        TCP scenarios for [netfault](https://github.com/netfault/netfault): real programs in
        network namespaces, faults on exact segments, expectations on what the kernel did.

        Needs Linux, Swift 6, root, and `libmnl-dev libpcap-dev pkg-config iproute2 nftables`
        (Debian and Ubuntu names); the first scenario also runs `curl` and `python3`.

        ```sh
        \#(block)
        ```

        - `Sources/Scenarios/` — one scenario per file; add each to `catalog` in
          `SlowHandshake.swift` (or move `catalog` to a file of its own).
        - `Sources/\#(name)/main.swift` — `NetfaultCLI.main(catalog:)`: `list`, `show`, `run`
          (`--json`, `--junit`, `--html`, `--pcap`), `up`, `doctor`, `cleanup`.
        - `Tests/ScenarioTests/` — each scenario run with `try await scenario.run()`; skipped,
          saying why, without root.
        - `.github/workflows/scenarios.yml` — the same as root on an Ubuntu runner; results
          as JUnit and JSON artifacts.

        Exit codes of the executable: 0 all passed, 1 an expectation failed, 2 an invalid
        scenario or bad usage, 3 this machine cannot run it.

        """#
    }
}
