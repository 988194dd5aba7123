import Testing
@testable import Netfault

/// Claims come from a run's results: the verdict a passing scenario states, the observed figures.
@Suite struct ClaimsReportTests {
    let catalog = [
        Scenario("H6", "third ACK lost", claim: "SYN-ACK retransmits at 3, 6 and 12 s (000).", verdict: .refuted) { },
        Scenario("K6", "refused", claim: "RST means reset.") { },
        Scenario("X1", "no claim") { },
    ]

    func run(_ kernel: String, h6: ScenarioStatus, observed: String) -> RunResult {
        RunResult(kernel: kernel, startedAt: "2026-11-21T00:00:00Z", scenarios: [
            ScenarioResult(id: "H6", name: "third ACK lost", status: h6, expectations: [
                ExpectationResult(description: "SYN-ACK from server at 0, 1, 3, 7 s", passed: h6 == .passed,
                                  location: "Scenarios/H6.swift:24", expected: "at 0, 1, 3, 7 s", observed: observed),
            ]),
            ScenarioResult(id: "K6", name: "refused", status: .skipped, skipReason: "needs netem"),
            ScenarioResult(id: "X1", name: "no claim", status: .passed),
        ])
    }

    @Test func verdictsFollowTheRun() {
        let entries = ClaimsReport.entries(run("6.18", h6: .passed, observed: "at 0, 1.015, 3.031, 7.287 s"), catalog: catalog)
        #expect(entries.map(\.id) == ["H6", "K6"], "scenarios without a claim are left out")
        #expect(entries[0] == ClaimsReport.Entry(id: "H6", claim: "SYN-ACK retransmits at 3, 6 and 12 s (000).", verdict: "refuted",
                                                 evidence: "SYN-ACK from server at 0, 1, 3, 7 s: at 0, 1.015, 3.031, 7.287 s",
                                                 kernel: "6.18"))
        #expect(entries[1].verdict == "skipped" && entries[1].evidence == "needs netem")
        let failed = ClaimsReport.entries(run("6.18", h6: .failed, observed: "at 0, 1.015 s"), catalog: catalog)
        #expect(failed[0].verdict == "not reproduced")
        #expect(failed[0].evidence.hasPrefix("FAILED SYN-ACK from server"))
    }

    @Test func twoRunsSideBySide() {
        let older = run("6.1.0-28-amd64", h6: .passed, observed: "at 0, 1.01, 3.02, 7.05 s")
        let newer = run("6.18.44", h6: .passed, observed: "at 0, 1.015, 3.031, 7.287 s")
        let matrix = ClaimsMatrix(runs: [older, newer], catalog: catalog)
        let lines = ClaimsReport.render(matrix).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines[0] == "ID  6.1.0-28-amd64  6.18.44")
        #expect(lines[1] == "H6  refuted         refuted")
        #expect(lines[2] == "K6  skipped         skipped")
        let h6 = lines.firstIndex(of: "H6  SYN-ACK retransmits at 3, 6 and 12 s (000).")!
        #expect(lines[h6 + 1] == "    6.1.0-28-amd64: REFUTED")
        #expect(lines[h6 + 2].contains("at 0, 1.01, 3.02, 7.05 s"))
        #expect(lines[h6 + 3] == "    6.18.44: REFUTED")
        #expect(lines[h6 + 4].contains("at 0, 1.015, 3.031, 7.287 s"))
        // Without measured numbers in these results, nothing can be said to have changed.
        #expect(lines.suffix(2) == ["What changed between kernels", "    nothing beyond the tolerances"])
    }

    @Test func aClaimMissingFromOneRunSaysSo() {
        var older = run("6.1.0-28-amd64", h6: .passed, observed: "at 0, 1 s")
        older.scenarios.removeAll { $0.id == "H6" }
        let matrix = ClaimsMatrix(runs: [older, run("6.18.44", h6: .passed, observed: "at 0, 1 s")], catalog: catalog, ids: ["h6"])
        #expect(matrix.claims.map(\.id) == ["H6"], "ids filter, case-insensitively")
        #expect(matrix.claims[0].cells.map(\.verdict) == ["not in this run", "refuted"])
        #expect(matrix.claims[0].cells.map(\.kernel) == ["6.1.0-28-amd64", "6.18.44"])
    }
}
