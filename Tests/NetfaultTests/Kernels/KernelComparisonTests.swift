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

    // MARK: - Only real changes (readings from the matrix of 2026-12-07: 5.10.0-32 and 7.2.13 in emulated guests)

    func expectation(_ description: String, passed: Bool = true, expected: String = "…", observed: String,
                     _ values: [ObservedValue] = [], tolerance: Tolerance? = nil, skipReason: String? = nil) -> ExpectationResult {
        ExpectationResult(description: description, passed: passed, location: "Scenarios/H2_LostSyn.swift:50", expected: expected,
                          observed: observed, observedValues: values, tolerance: tolerance, skipReason: skipReason)
    }

    func changes(_ older: ExpectationResult, _ newer: ExpectationResult) -> [[String]] {
        KernelComparison.changes([run("5.10.0-32-amd64", h2: [older]), run("7.2.13+deb14-amd64", h2: [newer])], catalog: catalog)
            .filter { $0.expectation != "the scenario" }.map(\.differences)
    }

    @Test func instantsWithoutAToleranceAreNoChange() {
        // H1's connect and its socket reaching ESTABLISHED: when they happened in that run, nothing the kernel promises.
        let connect = { (at: Double, took: Double) in
            self.expectation("client: connect succeeds", expected: "connect succeeds",
                             observed: "connect succeeded (result 0) at \(at) s, \(took) s after the previous event",
                             [ObservedValue("at", at, unit: "s"), ObservedValue("took", took, unit: "s")])
        }
        #expect(changes(connect(2.825, 0.085), connect(2.566, 0.044)).isEmpty)
        let reached = expectation("client's connection on port 8080 reaches ESTABLISHED", expected: "ESTABLISHED",
                                  observed: "10.77.1.1:36844 → 10.77.1.2:8080: 2.748 s SYN_SENT, 2.763 s ESTABLISHED, 3.389 s CLOSE_WAIT, 3.414 s LAST_ACK, 3.434 s CLOSE",
                                  [ObservedValue("reached at", 2.763, unit: "s")])
        let reachedLater = expectation("client's connection on port 8080 reaches ESTABLISHED", expected: "ESTABLISHED",
                                       observed: "10.77.1.1:50462 → 10.77.1.2:8080: 2.536 s SYN_SENT, 2.551 s ESTABLISHED, 3.355 s CLOSE_WAIT, 3.382 s LAST_ACK, 3.383 s CLOSE",
                                       [ObservedValue("reached at", 2.551, unit: "s")])
        #expect(changes(reached, reachedLater).isEmpty, "other ports, other instants, the same states")
    }

    @Test func anotherStateSequenceIsAChange() {
        let older = expectation("client's connection on port 8080 ends in TIME_WAIT", expected: "TIME_WAIT",
                                observed: "10.77.16.1:40322 → 10.77.16.2:8080: 6.42 s SYN_SENT, 6.421 s ESTABLISHED, 6.543 s FIN_WAIT1, 6.575 s FIN_WAIT2, 8.772 s TIME_WAIT, 9.308 s CLOSE")
        let newer = expectation("client's connection on port 8080 ends in TIME_WAIT", expected: "TIME_WAIT",
                                observed: "10.77.16.1:51234 → 10.77.16.2:8080: 2.1 s SYN_SENT, 2.102 s ESTABLISHED, 2.2 s FIN_WAIT1, 2.23 s FIN_WAIT2, 4.4 s TIME_WAIT")
        #expect(changes(older, newer) == [["5.10.0-32-amd64 → 7.2.13+deb14-amd64: states SYN_SENT, ESTABLISHED, FIN_WAIT1, FIN_WAIT2, TIME_WAIT, CLOSE → SYN_SENT, ESTABLISHED, FIN_WAIT1, FIN_WAIT2, TIME_WAIT"]])
    }

    @Test func socketsAreComparedWhateverOrderTheirPortsListThemIn() {
        let a = "10.77.10.2:8080 → 10.77.10.1:40000: 1 s SYN_RECV, 1.2 s ESTABLISHED; 10.77.10.2:8080 → 10.77.10.1:50000: 1.1 s SYN_RECV"
        let b = "10.77.10.2:8080 → 10.77.10.1:61000: 1.1 s SYN_RECV; 10.77.10.2:8080 → 10.77.10.1:33000: 1 s SYN_RECV, 1.3 s SYN_RECV, 1.4 s ESTABLISHED"
        #expect(changes(expectation("server's sockets", observed: a), expectation("server's sockets", observed: b)).isEmpty,
                "a request socket and the socket it becomes are both SYN_RECV: one state")
    }

    @Test func anotherErrnoIsAChange() {
        let older = expectation("client: connect fails", expected: "connect fails", observed: "connect failed with ETIMEDOUT at 15.606 s",
                                [ObservedValue("at", 15.606, unit: "s")])
        let newer = expectation("client: connect fails", expected: "connect fails", observed: "connect failed with EHOSTUNREACH at 3.1 s",
                                [ObservedValue("at", 3.1, unit: "s")])
        #expect(changes(older, newer) == [["5.10.0-32-amd64 → 7.2.13+deb14-amd64: errno ETIMEDOUT → EHOSTUNREACH"]])
        #expect(KernelComparison.Words("10.77.1.1:1 → 10.77.1.2:8080: 1 s ESTABLISHED").errnos.isEmpty, "ESTABLISHED is a state, not an errno")
    }

    @Test func countsWithinTheirBoundOnBothKernelsAreNoChange() {
        // K4: Nagle coalesces as the scheduler lets it; the claim is the bound.
        let nodelay = { (count: Int, passed: Bool) in
            self.expectation("at least 11 data from nodelay", passed: passed, expected: "at least 11", observed: "\(count)",
                             [ObservedValue("count", Double(count))])
        }
        #expect(changes(nodelay(61, true), nodelay(27, true)).isEmpty)
        // C3: the same bound kept on one kernel only is a change, with its counts.
        #expect(changes(nodelay(2, false), nodelay(27, true)) == [["5.10.0-32-amd64 → 7.2.13+deb14-amd64: failed → passed, count 2 → 27"]])
        // H9: an exact count that is the kernel's own (its SYN queue at backlog 2) differs even where both pass.
        let queue = { (count: Int) in
            self.expectation("sockets on server0 in SYN_RECV with port 8080 at the end",
                             expected: "\(count) (the SYN queue's capacity at backlog 2 on this kernel)", observed: "\(count)",
                             [ObservedValue("count", Double(count))])
        }
        #expect(changes(queue(2), queue(3)) == [["5.10.0-32-amd64 → 7.2.13+deb14-amd64: count 2 → 3"]])
    }

    @Test func anExpectationAKernelCouldNotJudgeIsNotCompared() {
        let unjudged = expectation("1 segments dropped by the kernel on server1 (port 5001) for TCP_LISTEN_OVERFLOW",
                                   expected: "TCP_LISTEN_OVERFLOW", observed: "",
                                   skipReason: "this kernel names no drop reasons (enum skb_drop_reason, 5.17+)")
        let judged = expectation("1 segments dropped by the kernel on server1 (port 5001) for TCP_LISTEN_OVERFLOW", passed: false,
                                 expected: "TCP_LISTEN_OVERFLOW", observed: "0", [ObservedValue("count", 0)])
        #expect(changes(unjudged, judged).isEmpty)
    }

    @Test func aScenarioStoppedByAnErrorIsOneChangeNotOnePerExpectation() {
        // H9 on 6.12 in a starved guest: its time limit ran out and its 17 expectations failed together.
        let older = run("6.1.0-50-amd64", h2: [count(1), schedule(older)])
        var newer = run("6.12.117+deb13-amd64", h2: [count(0), schedule([0], passed: false)])
        newer.scenarios[0].error = "Scenarios/H2_LostSyn.swift:66: the scenario's time limit of 20.0 s ran out"
        let changes = KernelComparison.changes([older, newer], catalog: catalog)
        #expect(changes.map(\.expectation) == ["the scenario"])
        #expect(changes.first?.differences == ["6.1.0-50-amd64 → 6.12.117+deb13-amd64: passed → stopped"])
        #expect(changes.first?.readings.last?.observed == "Scenarios/H2_LostSyn.swift:66: the scenario's time limit of 20.0 s ran out")
    }
}
