import Testing
@testable import Netfault

@Suite struct TerminalReportTests {
    private let plain = TerminalReport.summary(ReportFixtures.run, colors: false)
    private var lines: [String] { plain.split(separator: "\n").map(String.init) }

    @Test func oneLinePerScenarioWithReasonsUnderFailures() {
        #expect(lines == [
            "PASS  H1  Three-way handshake  (1.23 s)",
            "FAIL  C7  Refused connection  (0.50 s)",
            #"      Scenarios/C7.swift:23: connect fails: expected <&">, observed ok"#,
            "      Scenarios/C7.swift:24: RST counted: expected 1, observed 0",
            "      error: peer timed out",
            "FAIL  E2  Setup broke  (0.10 s)",
            "      error: netlink: EPERM",
            "SKIP  T3  TFO fallback — needs kernel ≥ 6.1",
            "1 passed, 2 failed, 1 skipped",
            "kernel 6.8.0-45-generic",
        ])
    }

    @Test func idsArePaddedToLineUpNames() {
        var run = ReportFixtures.run
        run.scenarios[0].id = "H10"
        let summary = TerminalReport.summary(run, colors: false)
        #expect(summary.contains("PASS  H10  Three-way handshake"))
        #expect(summary.contains("FAIL  C7   Refused connection"))
    }

    @Test func colorsOnlyWhenAsked() {
        #expect(!plain.contains("\u{1B}["))
        let colored = TerminalReport.summary(ReportFixtures.run, colors: true)
        #expect(colored.contains("\u{1B}[32mPASS\u{1B}[0m  H1"))
        #expect(colored.contains("\u{1B}[31mFAIL\u{1B}[0m  C7"))
        #expect(colored.contains("\u{1B}[33mSKIP\u{1B}[0m  T3"))
        // The counts line stays plain, alone on its line, for grep.
        #expect(colored.split(separator: "\n").contains("1 passed, 2 failed, 1 skipped"))
    }

    @Test func emptyRun() {
        let summary = TerminalReport.summary(RunResult(kernel: "6.1.0", startedAt: "", scenarios: []), colors: false)
        #expect(summary == "0 passed, 0 failed, 0 skipped\nkernel 6.1.0\n")
    }

    @Test func detailOfAPassedScenario() {
        let detail = TerminalReport.scenarioDetail(ReportFixtures.passed)
        #expect(detail.contains("✓ client reaches ESTABLISHED  (Scenarios/H1.swift:12)"))
        #expect(detail.contains("client  10.77.1.1:43210 → 10.77.1.2:8080"))
        #expect(detail.contains("0.000 SYN_SENT → 0.001 ESTABLISHED"))
        #expect(detail.contains("0.001  connect  ok  10.77.1.1:43210 → 10.77.1.2:8080"))
        #expect(detail.contains("client/peer  exit 0"))
        // Counters sorted by name.
        let client = detail.range(of: "client.TcpActiveOpens")
        let server = detail.range(of: "server.TcpExtListenOverflows")
        #expect(client != nil && server != nil)
        if let client, let server { #expect(client.lowerBound < server.lowerBound) }
    }

    @Test func detailShowsTheObservationAndEventInstantsToTheMicrosecond() {
        var scenario = ReportFixtures.passed
        scenario.observation = "events+sampling"
        scenario.sockets[0].transitions = [StateTransition(time: 0.000_123, state: "SYN_SENT", source: "event"),
                                           StateTransition(time: 0.004, state: "TIME_WAIT", source: "sample")]
        scenario.expectations.append(ExpectationResult(description: "exact SYN_SENT", passed: true, location: "Scenarios/H1.swift:13",
                                                       expected: "", observed: "", skipReason: "no kernel events: no BTF"))
        let detail = TerminalReport.scenarioDetail(scenario)
        #expect(detail.contains("  observation: events+sampling\n"))
        #expect(detail.contains("0.000123 SYN_SENT → 0.004 TIME_WAIT"))
        #expect(detail.contains("- exact SYN_SENT  (Scenarios/H1.swift:13) skipped: no kernel events: no BTF"))
    }

    @Test func detailOfAFailedScenario() {
        let detail = TerminalReport.scenarioDetail(ReportFixtures.failed)
        #expect(detail.hasPrefix("C7  Refused connection  — FAIL (0.50 s)\n"))
        #expect(detail.contains("✗ Scenarios/C7.swift:24: RST counted: expected 1, observed 0"))
        #expect(detail.contains("error: peer timed out"))
        #expect(detail.contains("0.002  connect  errno ECONNREFUSED"))
        #expect(detail.contains("stderr:"))
    }

    @Test func controlCharactersFromPeersAreShownNotSentToTheTerminal() {
        let detail = TerminalReport.scenarioDetail(ReportFixtures.failed)
        #expect(detail.contains("connect: Connection refused\u{2401}"))
        #expect(!detail.contains("\u{01}"))
        var scenario = ReportFixtures.errored
        scenario.error = "bad \u{1B}[2J"
        let summary = TerminalReport.summary(RunResult(kernel: "6.1.0", startedAt: "", scenarios: [scenario]), colors: false)
        #expect(summary.contains("error: bad \u{241B}[2J"))
    }

    @Test func detailOfASkippedScenario() {
        let detail = TerminalReport.scenarioDetail(ReportFixtures.skipped)
        #expect(detail == "T3  TFO fallback  — SKIP\n  skipped: needs kernel ≥ 6.1\n")
    }

    @Test func exitStatusOfAKilledProcess() {
        var scenario = ReportFixtures.failed
        scenario.processes[0].exitStatus = 137
        #expect(TerminalReport.scenarioDetail(scenario).contains("exit 137 (128 + signal 9)"))
        scenario.processes[0].exitStatus = nil
        #expect(TerminalReport.scenarioDetail(scenario).contains("not reaped"))
    }
}
