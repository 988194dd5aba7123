import Testing
@testable import Netfault

/// The kernel matrix's summary: scenario × kernel, with each skip's and failure's reason.
@Suite struct MatrixSummaryTests {
    @Test func statusesPerKernelThenReasons() {
        let old = RunResult(kernel: "5.10.0-32-amd64", startedAt: "", scenarios: [
            ScenarioResult(id: "H1", name: "handshake", status: .passed),
            ScenarioResult(id: "C10", name: "buckets", status: .skipped, skipReason: "needs tcp_child_ehash_entries"),
        ])
        let new = RunResult(kernel: "6.18.0", startedAt: "", scenarios: [
            ScenarioResult(id: "H1", name: "handshake", status: .failed, expectations: [
                ExpectationResult(description: "client reaches ESTABLISHED", passed: false, location: "Scenarios/H1.swift:9",
                                  expected: "ESTABLISHED", observed: "SYN_SENT"),
            ]),
            ScenarioResult(id: "C10", name: "buckets", status: .passed),
            ScenarioResult(id: "K9", name: "new", status: .passed),
        ])
        let lines = MatrixSummary.render([old, new]).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines == [
            "scenario  5.10.0-32-amd64  6.18.0",
            "H1        passed           FAILED",
            "C10       skipped          passed",
            "K9        -                passed",
            "          1/0/1            2/1/0   (passed/failed/skipped)",
            "",
            "  H1 FAILED on 6.18.0: Scenarios/H1.swift:9: client reaches ESTABLISHED: expected ESTABLISHED, observed SYN_SENT",
            "  C10 skipped on 5.10.0-32-amd64: needs tcp_child_ehash_entries",
        ])
    }
}
