import Testing
@testable import Netfault

/// What changed between kernels is computed from the runs' observed numbers and tolerances.
@Suite struct KernelComparisonTests {
    let catalog = [
        Scenario("H2", "lost SYN", claim: "A connect to a silent peer gives up after about 2 minutes.", verdict: .partly) { },
        Scenario("K3", "lost data", claim: "A lost segment is retransmitted.") { },
        Scenario("X1", "no claim") { },
    ]

    func schedule(_ values: [Double], passed: Bool = true) -> ExpectationResult {
        ExpectationResult(description: "SYN from client at client's SYN retransmission schedule", passed: passed,
                          location: "Scenarios/H2_LostSyn.swift:30", expected: "…", observed: "at \(values)",
                          observedValues: [ObservedValue("count", Double(values.count)), ObservedValue("last", values.last!, unit: "s")],
                          tolerance: .timer)
    }

    func count(_ value: Int) -> ExpectationResult {
        ExpectationResult(description: "1 RST from server", passed: true, location: "Scenarios/H2_LostSyn.swift:40",
                          expected: "= 1", observed: "\(value)", observedValues: [ObservedValue("count", Double(value))])
    }

    func run(_ kernel: String, h2: [ExpectationResult], k3: ScenarioStatus = .passed) -> RunResult {
        RunResult(kernel: kernel, startedAt: "2026-12-04T00:00:00Z", scenarios: [
            ScenarioResult(id: "H2", name: "lost SYN", status: h2.allSatisfy(\.passed) ? .passed : .failed, expectations: h2),
            ScenarioResult(id: "K3", name: "lost data", status: k3, skipReason: k3 == .skipped ? "needs sch_netem" : nil),
            ScenarioResult(id: "X1", name: "no claim", status: .failed),
        ])
    }

    // 6.1: SYNs at 0, 1, 3, 7, 15, 31, 63 s, gives up at 127 s; 6.18 (tcp_syn_linear_timeouts 4):
    // 0, 1, 2, 3, 4, 5, 7, 11, 19, 35, 67 s, gives up at 131 s.
    let older = [0, 1.01, 3.02, 7.03, 15.05, 31.1, 63.2, 127.3]
    let newer = [0, 1.004, 2.008, 3.01, 4.02, 5.02, 7.03, 11.05, 19.08, 35.1, 67.2, 131.4]

    @Test func aDifferentScheduleIsAChange() {
        let changes = KernelComparison.changes([run("6.1.0-50-amd64", h2: [schedule(older)]),
                                                run("6.18.0", h2: [schedule(newer)])], catalog: catalog)
        #expect(changes.count == 1)
        let change = changes[0]
        #expect(change.id == "H2" && change.location == "Scenarios/H2_LostSyn.swift:30")
        // The give-up instants (127.3 and 131.4 s) lie within one timer's tolerance of each other.
        #expect(change.differences == ["6.1.0-50-amd64 → 6.18.0: count 8 → 12"])
        #expect(change.readings.map(\.kernel) == ["6.1.0-50-amd64", "6.18.0"])
        #expect(change.readings.map(\.outcome) == ["passed", "passed"])
    }

    @Test func jitterWithinTheToleranceIsNoChange() {
        // Timer tolerance: -1 ms / +max(4 ms, 12.5 %): readings of a timer due at 7 s may be 0.876 s apart.
        let a = [0, 1.0, 3.0, 7.0], b = [0, 1.1, 3.3, 7.8]
        #expect(KernelComparison.changes([run("a", h2: [schedule(a), count(1)]), run("b", h2: [schedule(b), count(1)])],
                                         catalog: catalog).isEmpty)
    }

    @Test func aReadingBeyondTheToleranceIsAChange() {
        let changes = KernelComparison.changes([run("a", h2: [schedule([0, 1, 3, 7])]), run("b", h2: [schedule([0, 1, 3, 9])])],
                                               catalog: catalog)
        #expect(changes.map(\.differences) == [["a → b: last 7 s → 9 s (beyond -1 ms/+max(4 ms, 12.5 %))"]])
    }

    @Test func countsMustBeEqual() {
        let changes = KernelComparison.changes([run("a", h2: [count(1)]), run("b", h2: [count(2)])], catalog: catalog)
        #expect(changes.map(\.differences) == [["a → b: count 1 → 2"]])
    }

    @Test func passingOnOneKernelAndFailingOnTheNextIsAChange() {
        let changes = KernelComparison.changes([run("a", h2: [schedule(older)]), run("b", h2: [schedule(older, passed: false)])],
                                               catalog: catalog)
        #expect(changes.map(\.expectation) == ["the scenario", "SYN from client at client's SYN retransmission schedule"])
        #expect(changes.map(\.differences) == [["a → b: passed → failed"], ["a → b: passed → failed"]])
    }

    @Test func aSkipIsAScenarioLevelChangeAndItsExpectationsAreNotCompared() {
        let changes = KernelComparison.changes([run("5.10", h2: [count(1)], k3: .passed),
                                                run("6.18", h2: [count(1)], k3: .skipped),
                                                run("7.2", h2: [count(1)], k3: .passed)], catalog: catalog)
        #expect(changes.count == 1)
        #expect(changes[0].id == "K3" && changes[0].expectation == "the scenario")
        #expect(changes[0].differences == ["5.10 → 6.18: passed → skipped", "6.18 → 7.2: skipped → passed"])
        #expect(changes[0].readings[1].observed == "needs sch_netem")
    }

    @Test func threeKernelsAreComparedEachWithTheNext() {
        let changes = KernelComparison.changes([run("5.10", h2: [schedule(older)]), run("6.1", h2: [schedule(older)]),
                                                run("6.18", h2: [schedule(newer)])], catalog: catalog)
        #expect(changes.count == 1)
        #expect(changes[0].differences.count == 1 && changes[0].differences[0].hasPrefix("6.1 → 6.18: count 8 → 12"))
        #expect(changes[0].readings.map(\.kernel) == ["5.10", "6.1", "6.18"])
    }

    @Test func oneRunHasNothingToCompare() {
        #expect(KernelComparison.changes([run("6.18", h2: [schedule(newer)])], catalog: catalog).isEmpty)
    }

    @Test func sameUsesTheWholeToleranceWindow() {
        #expect(KernelComparison.same(7.0, 7.876, .timer) && KernelComparison.same(7.876, 7.0, .timer))
        #expect(!KernelComparison.same(7.0, 7.9, .timer))
        #expect(KernelComparison.same(0, 0.005, .timer), "below 32 ms the 4 ms late minimum applies, plus 1 ms early")
        #expect(!KernelComparison.same(0, 0.0051, .timer))
        #expect(KernelComparison.same(3, 3, nil) && !KernelComparison.same(3, 4, nil))
    }
}
