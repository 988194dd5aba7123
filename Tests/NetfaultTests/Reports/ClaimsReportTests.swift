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
        let older = ClaimsReport.entries(run("6.1.0-28-amd64", h6: .passed, observed: "at 0, 1.01, 3.02, 7.05 s"), catalog: catalog)
        let newer = ClaimsReport.entries(run("6.18.44", h6: .passed, observed: "at 0, 1.015, 3.031, 7.287 s"), catalog: catalog)
        let lines = ClaimsReport.render([older, newer]).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines[0] == "H6  SYN-ACK retransmits at 3, 6 and 12 s (000).")
        #expect(lines[1] == "    6.1.0-28-amd64: REFUTED")
        #expect(lines[2].contains("at 0, 1.01, 3.02, 7.05 s"))
        #expect(lines[3] == "    6.18.44: REFUTED")
        #expect(lines[4].contains("at 0, 1.015, 3.031, 7.287 s"))
    }
}
