@testable import NetfaultKernel
import Testing
@testable import Netfault

/// Expectations on the packet timeline, judged against hand-made segments.
@Suite struct TimelineExpectationTests {
    typealias F = RecordingFixtures

    /// A segment the client sent (or, with `host: "server"`, the server), classified the way the builder would.
    func segment(_ time: Double, _ flags: TCPFlags, host: String = "client", seq: UInt32 = 1000, ack: UInt32 = 0,
                 payload: Int = 0, mss: Int? = nil, dropped: Bool = false, arrivingAt receiver: String? = nil) -> ObservedSegment {
        let fromClient = host == "client"
        let bytes = TestPackets.tcp(from: fromClient ? TestPackets.client : TestPackets.server,
                                    to: fromClient ? TestPackets.server : TestPackets.client,
                                    sourcePort: fromClient ? 40000 : 8080, destinationPort: fromClient ? 8080 : 40000,
                                    flags: flags, seq: seq, ack: ack, payload: payload)
        let header = bytes.withUnsafeBytes { PacketHeader.parse($0) }!
        // With `receiver`, the copy that host's capture saw arrive.
        var segment = ObservedSegment(time: time, host: receiver ?? host, direction: receiver == nil ? .out : .in, header: header, window: 100,
                                      options: TCPOptions(mss: mss), fault: dropped ? "dropped by f" : nil, engineStamped: dropped)
        segment.kinds = Set(SegmentKind.allCases.filter { kind in var c = SegmentClassifier(); return c.matches(header, kind) })
        // Relative to each side's SYN: the client's at 1000, the server's at 5000.
        segment.relativeSequence = seq &- (fromClient ? 1000 : 5000)
        segment.relativeAcknowledgment = ack == 0 ? 0 : ack &- (fromClient ? 5001 : 1001) &+ 1
        return segment
    }

    func recording(_ segments: [ObservedSegment], sysctls: [String: Int] = ["net.ipv4.tcp_syn_retries": 3],
                   events: [PeerEvent] = []) -> Recording {
        var recording = F.recording(processes: [F.process("client", exit: 1, events: events)])
        recording.segments = segments
        recording.sysctls = ["client": sysctls]
        return recording
    }

    func judge(_ expectation: Netfault.Expectation, _ recording: Recording) -> ExpectationResult {
        ExpectationEvaluator.evaluate(expectation, against: recording)
    }

    func syns(_ times: [Double], dropped: Bool = false) -> [ObservedSegment] { times.map { segment($0, .syn, dropped: dropped) } }

    @Test func instantsFromTheSysctlsWithTheGiveUp() {
        // Linux < 6.5, 3 retries: 0, 1, 3, 7 s; ETIMEDOUT at 15 s after the first SYN.
        let fails = [PeerEvent(time: 15.3, call: "connect", result: -1, errno: "ETIMEDOUT")]
        let expectation = Expect.segments(.syn, from: "client", at: .synRetransmissions(on: "client"),
                                          givingUp: PeerCall("client", "connect"))
        #expect(judge(expectation, recording(syns([0.2, 1.203, 3.3, 7.9]), events: fails)).passed,
                "late within max(4 ms, 12.5 %) passes")
        let early = judge(expectation, recording(syns([0.2, 1.19, 3.2, 7.2]), events: fails))
        #expect(!early.passed, "10 ms early is not a timer")
        #expect(early.observed.hasPrefix("at 0, 0.99, 3, 7 s; nothing at 1 s (nearest 0.99 s), unexpected at 0.99 s"))
        let missing = judge(expectation, recording(syns([0.2, 1.2, 3.2]), events: fails))
        #expect(!missing.passed && missing.observed.contains("nothing at 7 s (nearest 3 s)"))
    }

    @Test func engineStampedInstantsMayLookEarlyByTheEngineLag() {
        let expectation = Expect.segments(.syn, from: "client", at: .seconds([0, 1]))
        // The first (dropped) SYN was stamped 20 ms late by the fault engine.
        let lagging = [segment(0.02, .syn, dropped: true), segment(1.0, .syn)]
        #expect(judge(expectation, recording(lagging)).passed)
        #expect(!judge(expectation, recording([segment(0.02, .syn), segment(1.0, .syn)])).passed,
                "kernel timestamps get 1 ms early only")
    }

    @Test func intervals() {
        let expectation = Expect.segments(.synAck, from: "server", spacedBy: [1, 2, 4])
        let synAcks = [0.5, 1.51, 3.52, 7.6].map { segment($0, [.syn, .ack], host: "server", seq: 5000, ack: 1001) }
        #expect(judge(expectation, recording(synAcks)).passed)
        let result = judge(expectation, recording(Array(synAcks.prefix(3))))
        #expect(!result.passed && result.observed.hasPrefix("3 sent, spaced by 1.01, 2.01 s"))
    }

    /// The server's SYN-ACKs, `lag` after the SYN arrived at 0.1 s, then at these offsets from that arrival.
    func synAcks(lag: Double, retransmittedAt offsets: [Double]) -> [ObservedSegment] {
        [segment(0.1, .syn, seq: 1000, arrivingAt: "server")]
            + ([0.1 + lag] + offsets.map { 0.1 + $0 }).map { segment($0, [.syn, .ack], host: "server", seq: 5000, ack: 1001) }
    }

    @Test func synAckSchedulesStartAtTheSynsArrival() {
        // The request's timer starts on the SYN's arrival; the first SYN-ACK leaves 5 ms later (an
        // emulated guest), so the retransmission, 1 s after the arrival, is 0.995 s after it.
        let lagging = recording(synAcks(lag: 0.005, retransmittedAt: [1.002, 3.003, 7.004]))
        let schedule = judge(Expect.segments(.synAck, from: "server", at: .seconds([0, 1, 3, 7])), lagging)
        #expect(schedule.passed, "\(schedule.observed)")
        #expect(schedule.observed.hasPrefix("at 0.005, 1.002, 3.003, 7.004 s (offsets from the SYN's arrival at server, 0.1 s)"))
        #expect(schedule.expected.contains("the first late only, from the SYN's arrival at server"))
        let spaced = judge(Expect.segments(.synAck, from: "server", spacedBy: [1, 2, 4]), lagging)
        #expect(spaced.passed, "\(spaced.observed)")
        #expect(spaced.observed.contains("the first SYN-ACK came 5 ms after the SYN's arrival at server at 0.1 s"))
        #expect(spaced.expected.contains("the first may be short by the first send's lag"))

        // 5 ms early relative to the arrival: no timer fires that early.
        let early = recording(synAcks(lag: 0.005, retransmittedAt: [0.995, 3.001, 7.002]))
        let earlySchedule = judge(Expect.segments(.synAck, from: "server", at: .seconds([0, 1, 3, 7])), early)
        #expect(!earlySchedule.passed)
        #expect(earlySchedule.observed.contains("nothing at 1 s (nearest 0.995 s)"))
        #expect(!judge(Expect.segments(.synAck, from: "server", spacedBy: [1, 2, 4]), early).passed,
                "the first gap may be short by the 5 ms lag, not by 10 ms")
        // The first SYN-ACK answers the SYN within the first timeout's late margin.
        let slow = recording(synAcks(lag: 0.2, retransmittedAt: [1.0005]))
        #expect(!judge(Expect.segments(.synAck, from: "server", at: .seconds([0, 1])), slow).passed,
                "200 ms is beyond the 125 ms late margin of the first timeout")
    }

    @Test func aTickTheKernelHandledLateLetsATimerFireThatMuchEarly() {
        // 1.5 ms early after the SYN's arrival (6.12 in an emulated guest: 0.9988 s).
        let early = synAcks(lag: 0.0001, retransmittedAt: [0.9985, 2.999])
        let expectation = Expect.segments(.synAck, from: "server", at: .seconds([0, 1, 3]))
        var onTime = recording(early)
        onTime.kernelTick = KernelTickLag(length: 0.004, largestLag: 0.0039)
        #expect(!judge(expectation, onTime).passed, "ticks on time: no timer fires 1.5 ms early")
        var lagging = recording(early)
        lagging.kernelTick = KernelTickLag(length: 0.004, largestLag: 0.0055)
        let verdict = judge(expectation, lagging)
        #expect(verdict.passed, "\(verdict.expected) / \(verdict.observed)")
        #expect(verdict.expected.contains("early by up to 1.5 ms more: the kernel's 4 ms tick lagged the clock by up to 5.5 ms"))
        #expect(judge(Expect.segments(.synAck, from: "server", spacedBy: [1, 2]), lagging).passed)
        // The allowance is what the tick lagged beyond itself, no more: 3 ms early (1 ms + 1.5 ms
        // allowed) still fails.
        var further = recording(synAcks(lag: 0.0001, retransmittedAt: [0.997, 2.999]))
        further.kernelTick = KernelTickLag(length: 0.004, largestLag: 0.0055)
        #expect(!judge(expectation, further).passed)
    }

    @Test func synSchedulesStayAtTheFirstSend() {
        // A SYN's timer is armed after it is sent (tcp_connect): no anchor before it.
        let result = judge(Expect.segments(.syn, from: "client", at: .seconds([0, 1])), recording(syns([0.2, 1.2])))
        #expect(result.passed && !result.observed.contains("offsets from"))
    }

    /// A client socket in SYN_SENT from 0.1 s for `stay` (the kernel's instants), its SYN leaving
    /// `sending` after the change and the SYN-ACK arriving `roundTrip` later.
    func handshake(stay: Double, roundTrip: Double, sending: Double = 0.00004, synAckArrives: Bool = true) -> Recording {
        var recording = recording([segment(0.1 + sending, .syn)]
            + (synAckArrives ? [segment(0.1 + sending + roundTrip, [.syn, .ack], host: "server", seq: 5000, ack: 1001, arrivingAt: "client")] : []))
        recording.observation = .eventsAndSampling
        recording.sockets = [ObservedSocket(
            host: "client", local: F.endpoint("10.77.1.1", 40000), remote: F.endpoint("10.77.1.2", 8080),
            transitions: [ObservedTransition(time: 0.1, state: .synSent, source: .event),
                          ObservedTransition(time: 0.1 + stay, state: .established, source: .event)], samples: [])]
        return recording
    }

    @Test func aRoundTripStateSpansTheMeasuredRoundTrip() {
        let expectation = Expect.socket(.connection(on: "client", port: 8080), staysExactlyIn: .synSent,
                                        from: .segment(.syn, from: "client"), until: .arrival(.synAck, at: "client"),
                                        tolerance: Tolerance(early: 0, lateMinimum: 0.002, lateFraction: 0))
        #expect(expectation.kind.description
                == "client's connection on port 8080 stays in SYN_SENT from before the first SYN from client until the first SYN-ACK arriving at client, by the kernel's instants")
        // An idle veth: sent 40 µs after the change, 70 µs on the wire, left 10 µs after the arrival.
        let idle = judge(expectation, handshake(stay: 0.00012, roundTrip: 0.00007))
        #expect(idle.passed, "\(idle.observed)")
        #expect(idle.expected == "entered by 0.1 s (the first SYN from client), left 0.1 s…0.102 s (the first SYN-ACK arriving at client at 0.1 s, 70.0 µs after, then up to 2000.0 µs late)")
        #expect(idle.observed.hasSuffix("120.0 µs (from 0.1 s to ESTABLISHED): entered 40.0 µs before the first SYN from client, left 10.0 µs after the first SYN-ACK arriving at client"))
        #expect(idle.observedValues.map(\.name) == ["left after the answer"] && abs(idle.observedValues[0].value - 0.00001) < 1e-9)
        // An emulated guest: 16 ms to choose a port and send the SYN, a 9 ms round trip; a fixed
        // sub-millisecond stay refuses it.
        #expect(judge(expectation, handshake(stay: 0.0256, roundTrip: 0.009, sending: 0.016)).passed)
        let fixed = Expect.socket(.connection(on: "client", port: 8080), staysExactlyIn: .synSent, for: 0,
                                  tolerance: Tolerance(early: 0, lateMinimum: 0.002, lateFraction: 0))
        #expect(!judge(fixed, handshake(stay: 0.0256, roundTrip: 0.009, sending: 0.016)).passed)
        // Left before the answer arrived: the state did not wait for it.
        let short = judge(expectation, handshake(stay: 0.005, roundTrip: 0.009))
        #expect(!short.passed && short.observed.contains("5000.0 µs"))
        // Left later than the tolerance after the answer: something besides the round trip kept it there.
        #expect(!judge(expectation, handshake(stay: 0.0115, roundTrip: 0.009)).passed)
        // Entered after the SYN left: not the state that sent it.
        #expect(!judge(expectation, handshake(stay: 0.0095, roundTrip: 0.009, sending: -0.0001)).passed)
        let unanswered = judge(expectation, handshake(stay: 0.0096, roundTrip: 0.009, synAckArrives: false))
        #expect(!unanswered.passed
                && unanswered.observed.hasPrefix("the first SYN-ACK arriving at client was not seen (0 SYN-ACK arrived at client); nothing arrived at client"))
        // Without kernel events, skipped with the reason.
        var sampled = handshake(stay: 0.0096, roundTrip: 0.009)
        sampled.observation = .sampling(reason: "no BTF")
        #expect(judge(expectation, sampled).skipReason == "no kernel events: no BTF")
    }

    @Test func countsAndNone() {
        let segments = [segment(0.1, .syn), segment(0.2, [.rst, .ack], host: "server", seq: 5000, ack: 1001)]
        #expect(judge(Expect.segments(.syn, from: "client", count: .equals(1)), recording(segments)).passed)
        #expect(judge(Expect.noSegments(.rst, from: "client"), recording(segments)).passed)
        let rst = judge(Expect.noSegments(.rst, from: "server"), recording(segments))
        #expect(!rst.passed)
        #expect(rst.failureMessage.contains("no RST from server: expected 0, observed 1: 0.2 s R. seq 0 ack 1"))
    }

    @Test func fieldsOfTheFirstSegment() {
        let segments = [segment(0.1, .syn, mss: 1460), segment(0.2, [.syn, .ack], host: "server", seq: 5000, ack: 1001)]
        #expect(judge(Expect.segment(.syn, from: "client", seq: 0, length: 0, mss: 1460), recording(segments)).passed)
        #expect(judge(Expect.segment(.synAck, from: "server", seq: 0, ack: 1), recording(segments)).passed)
        let wrong = judge(Expect.segment(.synAck, from: "server", ack: 2), recording(segments))
        #expect(!wrong.passed && wrong.expected == "ack 2" && wrong.observed.contains("S. seq 0 ack 1"))
        let none = judge(Expect.segment(.fin, from: "client", seq: 1), recording(segments))
        #expect(!none.passed && none.observed.contains("none was captured; client sent: 0.1 s S seq 0"))
    }

    @Test func lengths() {
        let data = [segment(0.1, .ack, payload: 536), segment(0.2, .ack, payload: 600)]
        #expect(judge(Expect.segments(.data, from: "client", lengthAtMost: 600), recording(data)).passed)
        let result = judge(Expect.segments(.data, from: "client", lengthAtMost: 536), recording(data))
        #expect(!result.passed && result.observed.contains("the longest 600 bytes"))
        #expect(!judge(Expect.segments(.data, from: "server", lengthAtMost: 536), recording(data)).passed, "none sent fails")
    }

    @Test func delayBetweenEvents() {
        let segments = [segment(1.0, [.fin, .ack]), segment(1.21, .ack, host: "server", seq: 5001, ack: 1001)]
        let finToAck = Expect.delay(from: .segment(.fin, from: "client"), to: .segment(.pureAck, from: "server"), is: 0.2)
        #expect(judge(finToAck, recording(segments)).passed)
        let tooLong = Expect.delay(from: .segment(.fin, from: "client"), to: .segment(.pureAck, from: "server"), is: 0.1)
        let result = judge(tooLong, recording(segments))
        #expect(!result.passed && result.observed.hasPrefix("0.21 s"))
        let missing = judge(Expect.delay(from: .segment(.fin, from: "client", occurrence: 2), to: .call(PeerCall("client", "connect")), is: 1),
                            recording(segments))
        #expect(!missing.passed && missing.observed.contains("FIN #2 from client was not seen (1 FIN from client)"))
        let toCall = Expect.delay(from: .segment(.fin, from: "client"), to: .call(PeerCall("client", "close")), is: 0.5)
        let closed = recording(segments, events: [PeerEvent(time: 1.5, call: "close", result: 0)])
        #expect(judge(toCall, closed).passed)
    }

    @Test func validationNamesTheLine() {
        let scenario = Scenario("T1", "bad timeline expectations") {
            Host("client")
            Host("server")
            Link("client", "server", subnet: "10.77.250.0/24")
            Expect.segments(.syn, from: "nowhere", count: .equals(1))
            Expect.segments(.syn, from: "client", spacedBy: [])
            Expect.segments(.syn, from: "client", at: .seconds([1, 2]))
            Expect.delay(from: .segment(.fin, from: "client", occurrence: 0), to: .call(PeerCall("ghost", "read")), is: -1)
            Expect.segments(.syn, from: "client", at: .seconds([0]), tolerance: Tolerance(early: -1))
            Expect.socket(.connection(on: "ghost", port: 1), staysExactlyIn: .synSent, from: .segment(.syn, from: "client"),
                          until: .arrival(.synAck, at: "client", occurrence: 0), tolerance: .timer)
        }
        let errors = ScenarioValidator.validate(scenario).map(\.description)
        #expect(errors.contains { $0.contains("unknown host \"nowhere\"") })
        #expect(errors.contains { $0.contains("spacedBy needs at least one interval") })
        #expect(errors.contains { $0.contains("start at 0") })
        #expect(errors.contains { $0.contains("occurrence 0") })
        #expect(errors.filter { $0.contains("occurrence 0") }.count == 2, "a delay's and a stay's")
        #expect(errors.contains { $0.contains("unknown host \"ghost\"") })
        #expect(errors.contains { $0.contains("expectation names process \"ghost\", which no step starts") })
        #expect(errors.contains { $0.contains("a delay must not be negative") })
        #expect(errors.contains { $0.contains("margins must not be negative") })
        #expect(errors.allSatisfy { $0.contains("TimelineExpectationTests.swift:") })
    }
}
