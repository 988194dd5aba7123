@testable import NetfaultKernel
import Testing
@testable import Netfault

/// Expectations on what faults did, judged against hand-made recordings.
@Suite struct FaultExpectationTests {
    typealias F = RecordingFixtures

    func decision(_ time: Double, fault: String = "lost SYNs", sequence: UInt32 = 1000) -> FaultDecision {
        FaultDecision(time: time, host: "client", fault: fault, action: "dropped", source: "10.77.1.1:43210",
                      destination: "10.77.1.2:8080", flags: "S", sequence: sequence, acknowledgment: 0, length: 0)
    }

    func recording(_ times: [Double], sysctls: [String: Int] = ["net.ipv4.tcp_syn_retries": 3],
                   events: [PeerEvent] = []) -> Recording {
        var recording = F.recording(processes: [F.process("client", exit: 1, events: events)])
        recording.faultDecisions = times.map { decision($0) }
        recording.sysctls = ["client": sysctls]
        return recording
    }

    func judge(_ expectation: Netfault.Expectation, _ recording: Recording) -> ExpectationResult {
        ExpectationEvaluator.evaluate(expectation, against: recording)
    }

    @Test func countOfActs() {
        #expect(judge(Expect.fault("lost SYNs", acted: .equals(2)), recording([0.1, 1.1])).passed)
        let failed = judge(Expect.fault("lost SYNs", acted: .equals(1)), recording([0.1, 1.1]))
        #expect(!failed.passed && failed.observed == "2")
        #expect(failed.failureMessage.contains("expected 1, observed 2"))
    }

    @Test func scheduleFromSysctlsWithTheGiveUpInstant() {
        // Linux < 6.5 with 3 retries: 0, 1, 3, 7 s, ETIMEDOUT at 15 s (from the first SYN at 0.1).
        let connectFails = [PeerEvent(time: 15.2, call: "connect", result: -1, errno: "ETIMEDOUT")]
        let expectation = Expect.fault("lost SYNs", actedAt: .synRetransmissions(on: "client"),
                                       givingUp: PeerCall("client", "connect"))
        let late = recording([0.1, 1.105, 3.2, 7.4], events: connectFails)
        #expect(judge(expectation, late).passed, "late within 12.5 % passes")
        let early = recording([0.1, 1.05, 3.0, 7.1], events: connectFails)
        let result = judge(expectation, early)
        #expect(!result.passed, "a retransmission 50 ms early is not a timer's")
        #expect(result.observed.contains("at 0, 0.95, 2.9, 7 s"))
        let missing = judge(expectation, recording([0.1, 1.1, 3.1, 7.1]))
        #expect(!missing.passed && missing.observed.contains("connect did not fail"))
    }

    @Test func scheduleOn618CountsTheLinearTimeouts() {
        let expectation = Expect.fault("lost SYNs", actedAt: .synRetransmissions(on: "client"))
        let sysctls = ["net.ipv4.tcp_syn_retries": 3, "net.ipv4.tcp_syn_linear_timeouts": 4]
        #expect(judge(expectation, recording([0, 1, 2, 3, 4, 5, 7, 11], sysctls: sysctls)).passed)
        #expect(!judge(expectation, recording([0, 1, 3, 7], sysctls: sysctls)).passed, "too few acts")
    }

    @Test func scheduleWithoutItsSysctlsFails() {
        let result = judge(Expect.fault("lost SYNs", actedAt: .synAckRetransmissions(on: "server")), recording([0]))
        #expect(!result.passed && result.observed.contains("were not recorded"))
    }

    @Test func sameSequenceNumber() {
        var recording = recording([0, 1])
        #expect(judge(Expect.sameSequence(of: "lost SYNs"), recording).passed)
        recording.faultDecisions.append(decision(2, sequence: 2000))
        #expect(!judge(Expect.sameSequence(of: "lost SYNs"), recording).passed)
        #expect(!judge(Expect.sameSequence(of: "lost SYNs"), self.recording([])).passed, "never acted")
    }

    @Test func timerRestartMovesTheDeadline() {
        func timeWait(_ time: Double, left: UInt32) -> (time: Double, record: SocketRecord) {
            var record = F.record(.timeWait)
            record.expiresMilliseconds = left
            return (time, record)
        }
        let counting = F.client([(0.3, .timeWait)], samples: [timeWait(0.3, left: 60_000), timeWait(0.5, left: 59_800)])
        let restarted = F.client([(0.3, .timeWait)], samples: [timeWait(0.3, left: 60_000), timeWait(0.5, left: 60_000)])
        let expectation = Expect.socket(.connection(on: "client", port: 8080), restartsTimerIn: .timeWait)
        #expect(!judge(expectation, F.recording(sockets: [counting])).passed)
        let result = judge(expectation, F.recording(sockets: [restarted]))
        #expect(result.passed && result.observed.contains("at 0.5 s the deadline moved"), "\(result.observed)")
    }

    @Test func callDurationFromTheProcessStartForItsFirstCall() {
        var process = F.process("client", events: [PeerEvent(time: 1.3, call: "connect", result: 0)])
        process.startTime = 0.2
        let recording = F.recording(processes: [process])
        #expect(judge(Expect.peer("client", succeeds: "connect", tookAtLeast: 1.0, tookAtMost: 1.2), recording).passed)
        #expect(!judge(Expect.peer("client", succeeds: "connect", tookAtLeast: 1.2), recording).passed)
    }
}
