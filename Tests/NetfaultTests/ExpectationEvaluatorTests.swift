@testable import NetfaultKernel
import Testing
@testable import Netfault

/// Hand-made recordings: what the sampler and the peers would have produced.
enum RecordingFixtures {
    static func endpoint(_ address: String, _ port: UInt16) -> Endpoint {
        Endpoint(address: IPAddress(address)!, port: port)
    }

    static func record(_ state: TCPState, info: TCPInfo? = nil) -> SocketRecord {
        SocketRecord(state: state, local: endpoint("10.77.1.1", 43210), remote: endpoint("10.77.1.2", 8080),
                     timer: 0, retransmits: 0, expiresMilliseconds: 0, receiveQueue: 0, sendQueue: 0,
                     inode: 1, cookie: 1, info: info)
    }

    static func info(sendMSS: UInt32 = 1448, advertisedMSS: UInt32 = 1448, totalRetransmits: UInt32 = 0) -> TCPInfo {
        TCPInfo(retransmits: 0, probes: 0, backoff: 0, rtoMicroseconds: 200_000, rttMicroseconds: 50,
                totalRetransmits: totalRetransmits, sendMSS: sendMSS, advertisedMSS: advertisedMSS)
    }

    /// State changes as the sampler records them: each first seen at `time`, so it
    /// happened after the previous sample, `sampledEvery` earlier (0: known exactly).
    static func transitions(_ list: [(Double, TCPState)], sampledEvery interval: Double = 0) -> [ObservedTransition] {
        list.map { ObservedTransition(time: $0.0, earliest: $0.0 - interval, state: $0.1) }
    }

    /// A client connection 10.77.1.1:port → 10.77.1.2:8080 with these transitions.
    static func client(_ list: [(Double, TCPState)], localPort: UInt16 = 43210, host: String = "client",
                       sampledEvery interval: Double = 0,
                       samples: [(time: Double, record: SocketRecord)] = []) -> ObservedSocket {
        ObservedSocket(host: host, local: endpoint("10.77.1.1", localPort), remote: endpoint("10.77.1.2", 8080),
                       transitions: transitions(list, sampledEvery: interval), samples: samples)
    }

    /// The server's accepted connection 10.77.1.2:8080 → 10.77.1.1:port.
    static func server(_ list: [(Double, TCPState)], remotePort: UInt16 = 43210) -> ObservedSocket {
        ObservedSocket(host: "server", local: endpoint("10.77.1.2", 8080), remote: endpoint("10.77.1.1", remotePort),
                       transitions: transitions(list), samples: [])
    }

    static func listener(_ list: [(Double, TCPState)]) -> ObservedSocket {
        ObservedSocket(host: "server", local: endpoint("0.0.0.0", 8080), remote: endpoint("0.0.0.0", 0),
                       transitions: transitions(list), samples: [])
    }

    static func process(_ name: String, exit: Int32? = 0, events: [PeerEvent] = []) -> ObservedProcess {
        ObservedProcess(name: name, host: "client", command: "peer", events: events, exitStatus: exit,
                        startTime: 0, endTime: exit == nil ? nil : 1)
    }

    static func recording(sockets: [ObservedSocket] = [], processes: [ObservedProcess] = [],
                          counters: [String: [String: Int64]] = [:], duration: Double = 10,
                          sampleInterval: Double = 0.001) -> Recording {
        var recording = Recording()
        recording.sockets = sockets
        recording.processes = processes
        recording.counters = counters
        recording.duration = duration
        recording.sampleInterval = sampleInterval
        return recording
    }
}

@Suite struct ExpectationEvaluatorTests {
    typealias F = RecordingFixtures
    let clientConnection = SocketSelector.connection(on: "client", port: 8080)

    private func judge(_ expectation: Netfault.Expectation, _ recording: Recording) -> ExpectationResult {
        ExpectationEvaluator.evaluate(expectation, against: recording)
    }

    private let handshake = F.recording(sockets: [
        F.client([(0.001, .synSent), (0.002, .established), (0.5, .finWait1), (0.55, .finWait2), (0.6, .timeWait)]),
        F.server([(0.002, .established), (0.5, .closeWait), (0.6, .close)]),
        F.listener([(0.0005, .listen)]),
    ])

    // MARK: reaches

    @Test func reachesPasses() {
        let result = judge(Expect.socket(clientConnection, reaches: .established, within: 0.5), handshake)
        #expect(result.passed)
        #expect(result.description == "client's connection on port 8080 reaches ESTABLISHED")
        #expect(result.expected == "ESTABLISHED within 0.5 s")
        #expect(result.observed == "10.77.1.1:43210 → 10.77.1.2:8080: 0.001 s SYN_SENT, 0.002 s ESTABLISHED, "
                + "0.5 s FIN_WAIT1, 0.55 s FIN_WAIT2, 0.6 s TIME_WAIT")
    }

    @Test func reachesWithoutDeadline() {
        let result = judge(Expect.socket(clientConnection, reaches: .timeWait), handshake)
        #expect(result.passed)
        #expect(result.expected == "TIME_WAIT")
    }

    @Test func reachesFailsAfterTheDeadline() {
        let result = judge(Expect.socket(clientConnection, reaches: .timeWait, within: 0.5), handshake)
        #expect(!result.passed)
        #expect(result.expected == "TIME_WAIT within 0.5 s")
    }

    @Test func reachesExactlyAtTheDeadlinePasses() {
        let recording = F.recording(sockets: [F.client([(0.001, .synSent), (0.25, .established)])])
        #expect(judge(Expect.socket(clientConnection, reaches: .established, within: 0.25), recording).passed)
    }

    @Test func reachesJudgesTheDeadlineByTheEarliestPossibleTime() {
        // First seen at 0.26 s, but the sample before (0.24 s) already leaves room for 0.25 s.
        let bracketed = F.recording(sockets: [F.client([(0.001, .synSent), (0.26, .established)], sampledEvery: 0.02)])
        #expect(judge(Expect.socket(clientConnection, reaches: .established, within: 0.25), bracketed).passed)
        let late = F.recording(sockets: [F.client([(0.001, .synSent), (0.26, .established)], sampledEvery: 0.005)])
        #expect(!judge(Expect.socket(clientConnection, reaches: .established, within: 0.25), late).passed)
    }

    @Test func reachesFailsWhenTheStateNeverComes() {
        let recording = F.recording(sockets: [F.client([(0.001, .synSent), (1.0, .close)])])
        let result = judge(Expect.socket(clientConnection, reaches: .established), recording)
        #expect(!result.passed)
        #expect(result.observed == "10.77.1.1:43210 → 10.77.1.2:8080: 0.001 s SYN_SENT, 1.0 s CLOSE")
    }

    @Test func reachesNeedsEveryMatchingSocket() {
        let recording = F.recording(sockets: [
            F.client([(0.001, .synSent), (0.002, .established)], localPort: 1000),
            F.client([(0.001, .synSent)], localPort: 1001),
        ])
        let result = judge(Expect.socket(clientConnection, reaches: .established), recording)
        #expect(!result.passed)
        #expect(result.observed.contains("; "))
    }

    @Test func reachesFailsWithNoSocket() {
        let result = judge(Expect.socket(.connection(on: "client", port: 9999), reaches: .established, within: 0.1), handshake)
        #expect(!result.passed)
        #expect(result.observed == "no matching socket was seen")
        #expect(result.expected == "ESTABLISHED within 0.1 s")
    }

    @Test func selectorsSeparateListenersFromConnections() {
        #expect(judge(Expect.socket(.listener(on: "server", port: 8080), reaches: .listen), handshake).passed)
        #expect(!judge(Expect.socket(.connection(on: "server", port: 8080), reaches: .listen), handshake).passed)
        #expect(judge(Expect.socket(.listener(on: "client", port: 8080), reaches: .listen), handshake).observed
                == "no matching socket was seen")
        // A connection matches by its local port too.
        #expect(judge(Expect.socket(.connection(on: "client", port: 43210), reaches: .established), handshake).passed)
    }

    // MARK: passesThrough

    @Test func passesThroughIsASubsequence() {
        #expect(judge(Expect.socket(clientConnection, passesThrough: [.established, .timeWait]), handshake).passed)
        #expect(judge(Expect.socket(clientConnection, passesThrough: [.synSent, .finWait2]), handshake).passed)
        #expect(judge(Expect.socket(clientConnection, passesThrough:
            [.synSent, .established, .finWait1, .finWait2, .timeWait]), handshake).passed)
    }

    @Test func passesThroughFailsOutOfOrderOrMissing() {
        let wrongOrder = judge(Expect.socket(clientConnection, passesThrough: [.timeWait, .established]), handshake)
        #expect(!wrongOrder.passed)
        #expect(wrongOrder.expected == "TIME_WAIT → ESTABLISHED")
        #expect(wrongOrder.description == "client's connection on port 8080 passes through TIME_WAIT → ESTABLISHED")
        #expect(!judge(Expect.socket(clientConnection, passesThrough: [.established, .lastAck]), handshake).passed)
        #expect(!judge(Expect.socket(clientConnection, passesThrough: [.established, .established]), handshake).passed)
    }

    @Test func passesThroughNeedsEverySocketAndSomeSocket() {
        let recording = F.recording(sockets: [
            F.client([(0.001, .established), (0.2, .finWait1), (0.3, .timeWait)], localPort: 1000),
            F.client([(0.001, .established), (0.2, .closeWait), (0.3, .lastAck)], localPort: 1001),
        ])
        #expect(!judge(Expect.socket(clientConnection, passesThrough: [.established, .timeWait]), recording).passed)
        #expect(judge(Expect.socket(clientConnection, passesThrough: [.established]), recording).passed)
        let none = judge(Expect.socket(.connection(on: "nobody", port: 1), passesThrough: [.established]), recording)
        #expect(!none.passed)
        #expect(none.observed == "no matching socket was seen")
    }

    @Test func isSubsequence() {
        #expect(ExpectationEvaluator.isSubsequence([], of: []))
        #expect(ExpectationEvaluator.isSubsequence([.listen], of: [.synSent, .listen]))
        #expect(!ExpectationEvaluator.isSubsequence([.listen], of: []))
        #expect(ExpectationEvaluator.isSubsequence([.established, .close], of: [.established, .close, .established, .close]))
        #expect(!ExpectationEvaluator.isSubsequence([.close, .close, .close], of: [.established, .close, .established, .close]))
    }

    // MARK: endsIn / neverIn

    @Test func endsIn() {
        let passed = judge(Expect.socket(clientConnection, endsIn: .timeWait), handshake)
        #expect(passed.passed)
        #expect(passed.description == "client's connection on port 8080 ends in TIME_WAIT")
        #expect(passed.expected == "TIME_WAIT")
        #expect(!judge(Expect.socket(clientConnection, endsIn: .established), handshake).passed)
        #expect(judge(Expect.socket(.connection(on: "server", port: 8080), endsIn: .close), handshake).passed)
        #expect(judge(Expect.socket(.connection(on: "x", port: 1), endsIn: .close), handshake).observed
                == "no matching socket was seen")
    }

    @Test func neverIn() {
        let passed = judge(Expect.socket(.connection(on: "server", port: 8080), neverIn: .timeWait), handshake)
        #expect(passed.passed)
        #expect(passed.observed == "none")
        #expect(passed.expected == "no socket in TIME_WAIT")
        #expect(passed.description == "server's connection on port 8080 is never in TIME_WAIT")
        let failed = judge(Expect.socket(clientConnection, neverIn: .finWait1), handshake)
        #expect(!failed.passed)
        #expect(failed.observed.hasPrefix("10.77.1.1:43210 → 10.77.1.2:8080: "))
        // Nothing seen is never in any state.
        #expect(judge(Expect.socket(.connection(on: "x", port: 1), neverIn: .close), handshake).passed)
    }

    // MARK: staysIn

    /// A socket in TIME_WAIT from t = 1 s for `stay` seconds, sampled every `interval`.
    private func timeWait(for stay: Double, sampledEvery interval: Double = 0.001) -> Recording {
        F.recording(sockets: [F.client([(0.5, .established), (1.0, .timeWait), (1.0 + stay, .close)],
                                       sampledEvery: interval)],
                    duration: 80, sampleInterval: interval)
    }

    private func staysIn(_ seconds: Double, _ recording: Recording, tolerance: Tolerance = .timer) -> ExpectationResult {
        judge(Expect.socket(clientConnection, staysIn: .timeWait, for: seconds, tolerance: tolerance), recording)
    }

    @Test func staysInSixtySecondsWithTheAsymmetricTolerance() {
        // Allowed: 60 − 1 ms … 60 + max(4 ms, 12.5 % = 7.5 s); sampling every 1 ms brackets
        // both changes, so the measured stay may be 1 ms short of that or 1 ms beyond it.
        let tolerance = Tolerance.timer
        let allowed = tolerance.range(around: 60)
        #expect(abs(allowed.lowerBound - 59.999) < 1e-9)
        #expect(abs(allowed.upperBound - 67.5) < 1e-9)
        #expect(staysIn(60, timeWait(for: 60)).passed)
        #expect(!staysIn(60, timeWait(for: 59.99)).passed, "10 ms early is beyond 1 ms + one sample")
        #expect(!staysIn(60, timeWait(for: 59.997)).passed)
        #expect(staysIn(60, timeWait(for: 59.9985)).passed)
        #expect(staysIn(60, timeWait(for: 67.5)).passed, "7.5 s late is within 12.5 %")
        #expect(staysIn(60, timeWait(for: 67.5005)).passed)
        #expect(!staysIn(60, timeWait(for: 67.502)).passed)
        #expect(!staysIn(60, timeWait(for: 70)).passed)
        let result = staysIn(60, timeWait(for: 60.25))
        #expect(result.expected == "59.999 s…67.5 s")
        #expect(result.description == "client's connection on port 8080 stays in TIME_WAIT for 60.0 s")
        #expect(result.observed == "client 10.77.1.1:43210 → 10.77.1.2:8080 60.25 s (between 60.249 s and 60.251 s, from 1.0 s)")
    }

    @Test func staysInWithExactTimesHasOnlyTheToleranceItself() {
        #expect(staysIn(60, timeWait(for: 59.9995, sampledEvery: 0)).passed)
        #expect(!staysIn(60, timeWait(for: 59.9985, sampledEvery: 0)).passed)
        #expect(staysIn(60, timeWait(for: 67.4995, sampledEvery: 0)).passed)
        #expect(!staysIn(60, timeWait(for: 67.5005, sampledEvery: 0)).passed)
    }

    @Test func staysInShortTimerUsesTheLateMinimum() {
        // 10 ms: late margin max(4 ms, 1.25 ms) = 4 ms; early 1 ms; ±1 ms sampling.
        #expect(staysIn(0.010, timeWait(for: 0.0085)).passed)
        #expect(!staysIn(0.010, timeWait(for: 0.0075)).passed)
        #expect(staysIn(0.010, timeWait(for: 0.0145)).passed)
        #expect(!staysIn(0.010, timeWait(for: 0.0155)).passed)
        #expect(staysIn(0.010, timeWait(for: 0.01)).expected == "0.009 s…0.014 s")
    }

    /// A client in FIN_WAIT1 from 1 s for `stay`, its tcp_info rto `rto` in the state's first
    /// sample (doubled in a later one, after the retransmission).
    private func finWait1(for stay: Double, rto: UInt32?) -> Recording {
        func sample(_ time: Double, rto: UInt32) -> (time: Double, record: SocketRecord) {
            var info = F.info()
            info.rtoMicroseconds = rto
            return (time, F.record(.finWait1, info: info))
        }
        let samples = rto.map { [(0.5, F.record(.established)), sample(1.0, rto: $0), sample(1.0 + stay - 0.01, rto: 2 * $0)] } ?? []
        return F.recording(sockets: [F.client([(0.5, .established), (1.0, .finWait1), (1.0 + stay, .finWait2)], samples: samples)])
    }

    @Test func staysForTheSocketsOwnRetransmissionTimeout() {
        let expectation = Expect.socket(clientConnection, staysIn: .finWait1, for: .retransmissionTimeout)
        #expect(expectation.kind.description == "client's connection on port 8080 stays in FIN_WAIT1 for one retransmission timeout (tcp_info rto)")
        // An emulated guest's round trips raised the RTO to 0.3 s: a stay of 0.301 s is one RTO, not 0.2 s late.
        let raised = judge(expectation, finWait1(for: 0.301, rto: 300_000))
        #expect(raised.passed, "\(raised.observed)")
        #expect(raised.observed.contains("one retransmission timeout (tcp_info rto) 0.3 s: 0.299 s…0.337 s"))
        // Compared between kernels and plotted: how far beyond its own RTO, not the RTO itself.
        #expect(raised.observedValues.map(\.name) == ["beyond the RTO"])
        #expect(abs(raised.observedValues[0].value - 0.001) < 1e-9)
        #expect(!judge(Expect.socket(clientConnection, staysIn: .finWait1, for: 0.2), finWait1(for: 0.301, rto: 300_000)).passed)
        // Two timeouts (the first retransmission lost too) is not one.
        #expect(!judge(expectation, finWait1(for: 0.6, rto: 300_000)).passed)
        #expect(!judge(expectation, finWait1(for: 0.29, rto: 300_000)).passed, "no timer fires early")
        let unsampled = judge(expectation, finWait1(for: 0.301, rto: nil))
        #expect(!unsampled.passed && unsampled.observed.contains("one retransmission timeout (tcp_info rto) not sampled in FIN_WAIT1"))
    }

    @Test func coarserSamplingWidensTheBracket() {
        // Sampled every 10 ms, a 1 s timer may look up to 11 ms short.
        #expect(staysIn(1, timeWait(for: 0.9895, sampledEvery: 0.01)).passed)
        #expect(!staysIn(1, timeWait(for: 0.9885, sampledEvery: 0.01)).passed)
        #expect(!staysIn(1, timeWait(for: 0.9895, sampledEvery: 0.001)).passed)
    }

    @Test func staysInWithACustomTolerance() {
        let strict = Tolerance(early: 0.001, lateMinimum: 0.02, lateFraction: 0)
        #expect(staysIn(0.2, timeWait(for: 0.22), tolerance: strict).passed)
        #expect(!staysIn(0.2, timeWait(for: 0.222), tolerance: strict).passed)
        #expect(staysIn(0.2, timeWait(for: 0.2), tolerance: strict).expected == "0.199 s…0.22 s")
    }

    @Test func staysInNeedsEveryMatchingSocket() {
        let recording = F.recording(sockets: [
            F.client([(1.0, .timeWait), (61.0, .close)], localPort: 1000),
            F.client([(1.0, .timeWait), (31.0, .close)], localPort: 1001),
        ])
        let result = staysIn(60, recording)
        #expect(!result.passed)
        #expect(result.observed.split(separator: "; ").count == 2)
    }

    @Test func staysInFailsWhenStillInTheStateAtTheEnd() {
        let recording = F.recording(sockets: [F.client([(0.5, .established), (1.0, .timeWait)])], duration: 31)
        let result = staysIn(60, recording)
        #expect(!result.passed)
        #expect(result.observed == "client 10.77.1.1:43210 → 10.77.1.2:8080 still in TIME_WAIT at the end, 30.0 s after entering it")
    }

    @Test func staysInFailsWhenNeverInTheState() {
        let recording = F.recording(sockets: [F.client([(0.5, .established), (1.0, .close)])])
        let result = staysIn(60, recording)
        #expect(!result.passed)
        #expect(result.observed == "client 10.77.1.1:43210 → 10.77.1.2:8080 never in TIME_WAIT")
        #expect(staysIn(60, F.recording()).observed == "no matching socket was seen")
    }

    // MARK: count

    @Test func countAtTheEnd() {
        let recording = F.recording(sockets: [
            F.server([(0.1, .established), (0.2, .closeWait)], remotePort: 1000),
            F.server([(0.1, .established), (0.2, .closeWait)], remotePort: 1001),
            // Was in CLOSE_WAIT, but not at the end.
            F.server([(0.1, .established), (0.2, .closeWait), (0.3, .close)], remotePort: 1002),
            F.listener([(0.0, .listen)]),
        ])
        let result = judge(Expect.sockets(on: "server", in: .closeWait, count: .equals(2)), recording)
        #expect(result.passed)
        #expect(result.observed == "2")
        #expect(result.expected == "2")
        #expect(result.description == "sockets on server in CLOSE_WAIT at the end")
        #expect(!judge(Expect.sockets(on: "server", in: .closeWait, count: .equals(3)), recording).passed)
        #expect(judge(Expect.sockets(on: "server", in: .closeWait, count: .atLeast(2)), recording).passed)
        #expect(!judge(Expect.sockets(on: "server", in: .closeWait, count: .atMost(1)), recording).passed)
        let withPort = judge(Expect.sockets(on: "server", in: .closeWait, port: 1001, count: .equals(1)), recording)
        #expect(withPort.passed)
        #expect(withPort.description == "sockets on server in CLOSE_WAIT with port 1001 at the end")
        #expect(judge(Expect.sockets(on: "server", in: .closeWait, port: 8080, count: .equals(2)), recording).passed)
        #expect(judge(Expect.sockets(on: "client", in: .closeWait, count: .equals(0)), recording).passed)
        #expect(judge(Expect.sockets(on: "server", in: .listen, count: .equals(1)), recording).passed)
    }

    // MARK: peer events

    private let refused = F.recording(processes: [
        F.process("client", exit: 1, events: [
            PeerEvent(time: 0.0001, call: "start", result: 0),
            PeerEvent(time: 0.002, call: "connect", result: -1, errno: "ECONNREFUSED"),
            PeerEvent(time: 0.0021, call: "exit", result: 1),
        ]),
        F.process("server", exit: 0, events: [
            PeerEvent(time: 0.0001, call: "start", result: 0),
            PeerEvent(time: 0.0002, call: "listen", result: 0),
            PeerEvent(time: 0.3, call: "read", result: 5),
            PeerEvent(time: 0.4, call: "read", result: 0, eof: true),
        ]),
    ])

    @Test func peerResultsInOrder() {
        let received = RecordingFixtures.recording(processes: [RecordingFixtures.process("server", events: [
            PeerEvent(time: 0.5, call: "recvfrom", result: 9000),
            PeerEvent(time: 0.7, call: "recvfrom", result: -1, errno: "EAGAIN"),
            PeerEvent(time: 0.9, call: "recvfrom", result: 100),
        ])])
        let result = judge(Expect.peer("server", results: "recvfrom", are: [9000, 100]), received)
        #expect(result.passed)
        #expect(result.observed == "9000, 100 (and 1 that failed)")
        #expect(!judge(Expect.peer("server", results: "recvfrom", are: [100, 9000]), received).passed, "order matters")
        #expect(!judge(Expect.peer("server", results: "recvfrom", are: [9000]), received).passed, "no more, no fewer")
        #expect(!judge(Expect.peer("nobody", results: "recvfrom", are: []), received).passed)
    }

    @Test func peerFailsWithErrno() {
        let result = judge(Expect.peer("client", fails: "connect", with: "ECONNREFUSED", before: 0.2), refused)
        #expect(result.passed)
        #expect(result.description == "client: connect fails with ECONNREFUSED")
        #expect(result.expected == "connect fails with ECONNREFUSED by 0.2 s")
        #expect(result.observed == "connect failed with ECONNREFUSED at 0.002 s")
        #expect(!judge(Expect.peer("client", fails: "connect", with: "ETIMEDOUT"), refused).passed)
        #expect(!judge(Expect.peer("client", succeeds: "connect"), refused).passed)
    }

    @Test func peerEventTimeWindow() {
        #expect(!judge(Expect.peer("client", fails: "connect", with: "ECONNREFUSED", before: 0.001), refused).passed)
        #expect(!judge(Expect.peer("client", fails: "connect", with: "ECONNREFUSED", after: 0.01), refused).passed)
        let window = judge(Expect.peer("client", fails: "connect", with: "ECONNREFUSED", after: 0.001, before: 0.003), refused)
        #expect(window.passed)
        #expect(window.expected == "connect fails with ECONNREFUSED after ≥ 0.001 s by 0.003 s")
        // Both ends of the window are inclusive.
        #expect(judge(Expect.peer("client", fails: "connect", with: "ECONNREFUSED", after: 0.002, before: 0.002), refused).passed)
    }

    /// tookAtMost is measured from the previous event, so a late process start does not count.
    @Test func peerCallDurationFromThePreviousEvent() {
        let quick = judge(Expect.peer("client", fails: "connect", with: "ECONNREFUSED", tookAtMost: 0.002), refused)
        #expect(quick.passed)
        #expect(quick.expected == "connect fails with ECONNREFUSED within 0.002 s of the previous event")
        #expect(quick.observed == "connect failed with ECONNREFUSED at 0.002 s, 0.002 s after the previous event")
        #expect(!judge(Expect.peer("client", fails: "connect", with: "ECONNREFUSED", tookAtMost: 0.001), refused).passed)
        // The server's first read came 0.2998 s after its listen event.
        #expect(!judge(Expect.peer("server", succeeds: "read", tookAtMost: 0.2), refused).passed)
        #expect(judge(Expect.peer("server", succeeds: "read", tookAtMost: 0.3), refused).passed)
    }

    @Test func peerSucceedsWithResultUsesTheFirstEvent() {
        let first = judge(Expect.peer("server", succeeds: "read", result: 5, after: 0.25), refused)
        #expect(first.passed)
        #expect(first.expected == "read succeeds with result 5 after ≥ 0.25 s")
        #expect(first.observed == "read succeeded (result 5) at 0.3 s")
        // The later read (result 0) is never looked at.
        #expect(!judge(Expect.peer("server", succeeds: "read", result: 0), refused).passed)
        #expect(judge(Expect.peer("server", succeeds: "listen"), refused).passed)
    }

    @Test func peerEventMissing() {
        let noEvent = judge(Expect.peer("server", succeeds: "accept"), refused)
        #expect(!noEvent.passed)
        #expect(noEvent.observed == "no accept event (events: start, listen, read, read; exit 0)")
        let noProcess = judge(Expect.peer("ghost", succeeds: "connect"), refused)
        #expect(!noProcess.passed)
        #expect(noProcess.observed == "process ghost never ran")
        let silent = F.recording(processes: [F.process("quiet", exit: nil)])
        #expect(judge(Expect.peer("quiet", succeeds: "connect"), silent).observed == "no connect event (events: none; exit unknown)")
    }

    // MARK: exit status, counters, socketInfo

    @Test func exitStatus() {
        let passed = judge(Expect.exitStatus(of: "client", is: 1), refused)
        #expect(passed.passed)
        #expect(passed.description == "client exits with status 1")
        #expect(passed.expected == "1")
        #expect(passed.observed == "1")
        let failed = judge(Expect.exitStatus(of: "client", is: 0), refused)
        #expect(!failed.passed)
        #expect(failed.observed == "1")
        let running = judge(Expect.exitStatus(of: "hung", is: 0), F.recording(processes: [F.process("hung", exit: nil)]))
        #expect(!running.passed)
        #expect(running.observed == "still running or never started")
        #expect(!judge(Expect.exitStatus(of: "ghost", is: 0), refused).passed)
    }

    @Test func counters() {
        let recording = F.recording(counters: ["server": ["TcpOutRsts": 1, "TcpExtListenOverflows": 4], "client": [:]])
        let equals = judge(Expect.counter("TcpOutRsts", on: "server", .equals(1)), recording)
        #expect(equals.passed)
        #expect(equals.description == "server: counter TcpOutRsts changes by 1")
        #expect(equals.observed == "1")
        #expect(judge(Expect.counter("TcpExtListenOverflows", on: "server", .atLeast(4)), recording).passed)
        #expect(!judge(Expect.counter("TcpExtListenOverflows", on: "server", .atMost(3)), recording).passed)
        let atLeast = judge(Expect.counter("TcpExtListenOverflows", on: "server", .atLeast(5)), recording)
        #expect(atLeast.expected == "at least 5")
        #expect(atLeast.description == "server: counter TcpExtListenOverflows changes by at least 5")
        // A counter that did not move (or is unknown) counts as 0.
        let missing = judge(Expect.counter("TcpRetransSegs", on: "client", .equals(0)), recording)
        #expect(missing.passed)
        #expect(missing.observed == "0")
        #expect(!judge(Expect.counter("TcpRetransSegs", on: "nohost", .atLeast(1)), recording).passed)
    }

    @Test func socketInfoUsesTheLastSampleWithTCPInfo() {
        let socket = F.client([(0.001, .synSent), (0.002, .established), (0.3, .timeWait)], samples: [
            (0.001, F.record(.synSent)),
            (0.002, F.record(.established, info: F.info(sendMSS: 1448, advertisedMSS: 1460))),
            (0.1, F.record(.established, info: F.info(sendMSS: 536, advertisedMSS: 536, totalRetransmits: 2))),
            (0.3, F.record(.timeWait)),
        ])
        let recording = F.recording(sockets: [socket])
        let mss = judge(Expect.socket(clientConnection, .sendMSS, .equals(536)), recording)
        #expect(mss.passed)
        #expect(mss.description == "client's connection on port 8080: tcp_info snd_mss is 536")
        #expect(mss.observed == "536")
        #expect(!judge(Expect.socket(clientConnection, .sendMSS, .equals(1448)), recording).passed)
        #expect(judge(Expect.socket(clientConnection, .advertisedMSS, .atMost(536)), recording).passed)
        #expect(judge(Expect.socket(clientConnection, .totalRetransmits, .atLeast(2)), recording).passed)
        #expect(judge(Expect.socket(clientConnection, .retransmits, .equals(0)), recording).passed)
    }

    @Test func socketInfoWithoutTCPInfoFails() {
        let recording = F.recording(sockets: [F.client([(0.001, .timeWait)], samples: [(0.001, F.record(.timeWait))])])
        let result = judge(Expect.socket(clientConnection, .sendMSS, .atLeast(0)), recording)
        #expect(!result.passed)
        #expect(result.observed == "no tcp_info")
        #expect(judge(Expect.socket(clientConnection, .sendMSS, .atLeast(0)), F.recording()).observed == "no matching socket was seen")
    }

    // MARK: results and failure messages

    @Test func failureMessageFormat() {
        let expectation = Expect.peer("client", fails: "connect", with: "ECONNREFUSED", before: 0.2,
                                      file: "/home/me/netfault/Scenarios/X.swift", line: 23)
        let recording = F.recording(processes: [F.process("client", exit: 0, events: [
            PeerEvent(time: 0.004, call: "connect", result: 0),
        ])])
        let result = judge(expectation, recording)
        #expect(!result.passed)
        #expect(result.location == "Scenarios/X.swift:23")
        #expect(result.failureMessage == "Scenarios/X.swift:23: client: connect fails with ECONNREFUSED: "
                + "expected connect fails with ECONNREFUSED by 0.2 s, observed connect succeeded (result 0) at 0.004 s")
    }

    @Test func failureMessageForAMissingSocket() {
        let expectation = Expect.socket(.connection(on: "client", port: 8080), reaches: .established, within: 0.5,
                                        file: "/x/Scenarios/H1_Handshake.swift", line: 23)
        #expect(judge(expectation, F.recording()).failureMessage ==
                "Scenarios/H1_Handshake.swift:23: client's connection on port 8080 reaches ESTABLISHED: "
                + "expected ESTABLISHED within 0.5 s, observed no matching socket was seen")
    }

    @Test func evaluateManyKeepsTheOrderAndLocations() {
        let top = #line
        let expectations = [
            Expect.exitStatus(of: "client", is: 1),
            Expect.exitStatus(of: "server", is: 1),
        ]
        let results = ExpectationEvaluator.evaluate(expectations, against: refused)
        #expect(results.map(\.passed) == [true, false])
        #expect(results.map(\.location) == [
            "Tests/NetfaultTests/ExpectationEvaluatorTests.swift:\(top + 2)",
            "Tests/NetfaultTests/ExpectationEvaluatorTests.swift:\(top + 3)",
        ])
    }

    @Test func comparisonDescriptionsAndHolds() {
        #expect(Comparison.equals(3).description == "3")
        #expect(Comparison.atLeast(3).description == "at least 3")
        #expect(Comparison.atMost(3).description == "at most 3")
        #expect(Comparison.equals(3).holds(for: 3) && !Comparison.equals(3).holds(for: 4))
        #expect(Comparison.atLeast(3).holds(for: 3) && !Comparison.atLeast(3).holds(for: 2))
        #expect(Comparison.atMost(3).holds(for: 3) && !Comparison.atMost(3).holds(for: 4))
    }
}
