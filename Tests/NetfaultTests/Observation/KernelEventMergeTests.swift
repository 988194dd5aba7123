@testable import NetfaultKernel
import Testing
@testable import Netfault

/// KernelEventMerge on hand-made events: which source each transition takes, and the
/// drops, retransmissions and resets in the recording's terms.
@Suite struct KernelEventMergeTests {
    static let t0: Int64 = 5_000_000_000
    static let clientNetns: UInt32 = 4_026_532_100, serverNetns: UInt32 = 4_026_532_200
    static let client = RecordingFixtures.endpoint("10.77.1.1", 43210), server = RecordingFixtures.endpoint("10.77.1.2", 8080)

    /// A state event `micros` after t0.
    static func state(_ micros: Int64, _ old: TCPState, _ new: TCPState, netns: UInt32 = clientNetns, socket: UInt64 = 0xA,
                      local: Endpoint = client, remote: Endpoint = server) -> TCPEvent {
        TCPEvent(kind: .state, time: t0 + micros * 1000, netns: netns, local: local, remote: remote, oldState: old,
                 newState: new, socket: socket)
    }

    static func merge(_ events: [TCPEvent], sampled: [ObservedSocket], until micros: Int64 = 10_000_000) -> KernelEventMerge.Output {
        KernelEventMerge.merge(
            KernelEventMerge.Input(events: events, hosts: [clientNetns: "client", serverNetns: "server"], t0: t0,
                                   statesUntil: t0 + micros * 1000, dropReasons: [3: "NO_SOCKET", 40: "TCP_LISTEN_OVERFLOW"],
                                   resetReasons: [7: "TCP_STATE"]),
            sampled: sampled)
    }

    @Test func eventsGiveAFullSocketsTransitionsEvenSYNSentBeforeItHasAPort() {
        let unbound = Endpoint(address: IPAddress("10.77.1.1")!, port: 0)
        let events = [
            Self.state(100, .close, .synSent, local: unbound),  // the port is chosen after this event
            Self.state(210, .synSent, .established),
            Self.state(5_000, .established, .finWait1),
        ]
        let sampled = RecordingFixtures.client([(0.001, .established), (0.006, .finWait1)], sampledEvery: 0.001)
        let merged = Self.merge(events, sampled: [sampled]).sockets
        #expect(merged.count == 1)
        #expect(merged[0].transitions == [
            ObservedTransition(time: 0.0001, state: .synSent, source: .event),
            ObservedTransition(time: 0.00021, state: .established, source: .event),
            ObservedTransition(time: 0.005, state: .finWait1, source: .event),
        ])
    }

    @Test func theFullSocketsCloseIntoTIMEWAITBecomesTIMEWAITAtItsInstantAndSamplingEndsIt() {
        let events = [Self.state(100, .close, .synSent), Self.state(200, .synSent, .established),
                      Self.state(300, .established, .finWait1), Self.state(400, .finWait1, .finWait2),
                      Self.state(500, .finWait2, .close)]
        let sampled = RecordingFixtures.client([(0.0003, .established), (0.002, .timeWait), (0.060, .close)], sampledEvery: 0.001)
        let transitions = Self.merge(events, sampled: [sampled]).sockets[0].transitions
        #expect(transitions.map(\.state) == [.synSent, .established, .finWait1, .finWait2, .timeWait, .close])
        #expect(transitions[4] == ObservedTransition(time: 0.0005, state: .timeWait, source: .event))
        #expect(transitions[5].source == .sample && transitions[5].time == 0.060)
    }

    @Test func anOrphansFINWAIT2LivesOnAsATimewaitSocketUntilSamplingSeesItGo() {
        let events = [Self.state(100, .close, .synSent), Self.state(200, .synSent, .established),
                      Self.state(300, .established, .finWait1), Self.state(400, .finWait1, .finWait2),
                      Self.state(410, .finWait2, .close)]
        // Seen in FIN_WAIT2 from 1 ms, still there in the sample that began at 2.0 s, gone at 2.001 s.
        let sampled = RecordingFixtures.transitions([(0.001, .finWait2)], sampledEvery: 0.001)
            + [ObservedTransition(time: 2.001, earliest: 2.0, state: .close)]
        let socket = ObservedSocket(host: "client", local: Self.client, remote: Self.server, transitions: sampled, samples: [])
        let transitions = Self.merge(events, sampled: [socket]).sockets[0].transitions
        #expect(transitions.map(\.state) == [.synSent, .established, .finWait1, .finWait2, .close])
        #expect(transitions[3].source == .event && transitions[4] == ObservedTransition(time: 2.001, earliest: 2.0, state: .close))
    }

    @Test func aLateSampleOfTheFullSocketsLastStateIsNoTimewaitSocket() {
        let events = [Self.state(100, .close, .synSent), Self.state(200, .synSent, .established),
                      Self.state(300, .established, .closeWait), Self.state(400, .closeWait, .lastAck),
                      Self.state(450, .lastAck, .close)]
        // A dump that began before the CLOSE read LAST_ACK and ended after it; the next saw nothing.
        let sampled = [ObservedTransition(time: 0.0005, earliest: 0.0001, state: .lastAck),
                       ObservedTransition(time: 0.0015, earliest: 0.0004, state: .close)]
        let socket = ObservedSocket(host: "client", local: Self.client, remote: Self.server, transitions: sampled, samples: [])
        let transitions = Self.merge(events, sampled: [socket]).sockets[0].transitions
        #expect(transitions.map(\.state) == [.synSent, .established, .closeWait, .lastAck, .close])
        #expect(transitions.allSatisfy { $0.source == .event })
    }

    @Test func aCloseTheSamplerSawAtOnceStaysTheKernelsClose() {
        let events = [Self.state(100, .close, .synSent), Self.state(200, .synSent, .established),
                      Self.state(300, .established, .close)]
        let sampled = RecordingFixtures.transitions([(0.0002, .established)]) + [ObservedTransition(time: 0.0012, earliest: 0.0002, state: .close)]
        let socket = ObservedSocket(host: "client", local: Self.client, remote: Self.server, transitions: sampled, samples: [])
        let transitions = Self.merge(events, sampled: [socket]).sockets[0].transitions
        #expect(transitions.map(\.state) == [.synSent, .established, .close])
        #expect(transitions.allSatisfy { $0.source == .event })
    }

    @Test func aRequestSocketsSampledSYNRecvStaysBeforeTheChildsOwn() {
        let events = [Self.state(2_000, .listen, .synRecv, netns: Self.serverNetns, local: Self.server, remote: Self.client),
                      Self.state(2_004, .synRecv, .established, netns: Self.serverNetns, local: Self.server, remote: Self.client)]
        let sampled = RecordingFixtures.server([(0.0015, .synRecv), (0.003, .established)])
        let transitions = Self.merge(events, sampled: [sampled]).sockets[0].transitions
        #expect(transitions.map(\.state) == [.synRecv, .synRecv, .established])
        #expect(transitions.map(\.source) == [.sample, .event, .event])
    }

    @Test func aSocketNoSampleSawComesFromEventsAloneAndTheTeardownIsCutOff() {
        let events = [Self.state(100, .close, .synSent), Self.state(150, .synSent, .close),
                      Self.state(20_000, .close, .listen, netns: Self.serverNetns, socket: 0xB, local: Self.server,
                                 remote: RecordingFixtures.endpoint("0.0.0.0", 0)),
                      Self.state(90_000, .listen, .close, netns: Self.serverNetns, socket: 0xB, local: Self.server,
                                 remote: RecordingFixtures.endpoint("0.0.0.0", 0))]
        let sockets = Self.merge(events, sampled: [], until: 50_000).sockets
        #expect(sockets.map(\.host) == ["client", "server"])
        #expect(sockets[0].transitions.map(\.state) == [.synSent, .close])
        // The listener's CLOSE came after the last sample, when the processes were stopped.
        #expect(sockets[1].transitions.map(\.state) == [.listen])
    }

    @Test func dropsRetransmissionsAndResetsAreNamedByThisKernelsEnums() {
        let drop = TCPEvent(kind: .drop, time: Self.t0 + 1_000_000, netns: Self.serverNetns, local: Self.client, remote: Self.server,
                            sequence: 1000, acknowledgment: 2000, length: 0, flags: 0x10, reason: 40)
        let synAck = TCPEvent(kind: .retransmitSynAck, time: Self.t0 + 2_000_000, netns: Self.serverNetns, local: Self.server,
                              remote: Self.client, sequence: 77, flags: 0x12)
        let syn = TCPEvent(kind: .retransmit, time: Self.t0 + 3_000_000, netns: Self.clientNetns, local: Self.client,
                           remote: Self.server, sequence: 5, flags: 0x02)
        let reset = TCPEvent(kind: .sendReset, time: Self.t0 + 4_000_000, netns: Self.serverNetns, local: Self.server,
                             remote: Self.client, flags: 0x04, reason: 7)
        let unknown = TCPEvent(kind: .drop, time: Self.t0, netns: 1, local: Self.client, remote: Self.server, reason: 3)
        let output = Self.merge([drop, synAck, syn, reset, unknown], sampled: [])
        #expect(output.drops == [KernelDrop(time: 0.001, host: "server", reason: "TCP_LISTEN_OVERFLOW",
                                            segment: EventSegment(from: "10.77.1.1:43210", to: "10.77.1.2:8080", flags: "ACK",
                                                                  seq: 1000, ack: 2000, length: 0))])
        #expect(output.retransmissions.map(\.kind) == [.synAck, .syn])
        #expect(output.retransmissions.map(\.host) == ["server", "client"])
        #expect(output.resets == [KernelReset(time: 0.004, host: "server", direction: .sent, local: "10.77.1.2:8080",
                                              remote: "10.77.1.1:43210", reason: "TCP_STATE")])
    }

    @Test func aRetransmissionTakesItsDeparturesInstantOrSaysItHasOnlyTheTracepoints() {
        let departed = TCPEvent(kind: .retransmit, time: Self.t0 + 3_000_015_000, netns: Self.clientNetns, local: Self.client,
                                remote: Self.server, sequence: 5, flags: 0x02, stamped: Self.t0 + 2_999_980_000,
                                departed: Self.t0 + 3_000_001_000)
        // Held 10 ms in a fault's queue: its departure comes later, as an event of its own.
        var held = departed
        held.departed = nil
        held.socket = 0xA
        var release = held
        release.kind = .departure
        release.time = Self.t0 + 3_010_000_000
        release.departed = release.time
        // Dropped by a fault before the device: it never leaves.
        var dropped = held
        dropped.socket = 0xB
        let output = Self.merge([departed, held, dropped, release], sampled: [])
        #expect(output.retransmissions.map(\.timeSource) == [.departure, .departure, .tracepoint])
        #expect(output.retransmissions.map(\.time) == [3.000001, 3.01, 3.000015])
        #expect(output.retransmissions.map(\.announced) == [3.000015, 3.000015, 3.000015])
        #expect(output.retransmissions.map(\.earliest) == [2.99998, 2.99998, 2.99998])
    }
}

/// Expectations on kernel events: judged from the recording's events, skipped without them.
@Suite struct KernelEventExpectationTests {
    static func recording(_ observation: Observation) -> Recording {
        var recording = Recording()
        recording.observation = observation
        recording.sockets = [ObservedSocket(
            host: "client", local: RecordingFixtures.endpoint("10.77.1.1", 43210), remote: RecordingFixtures.endpoint("10.77.1.2", 8080),
            transitions: [ObservedTransition(time: 0.1, state: .synSent, source: .event),
                          ObservedTransition(time: 0.100_120, state: .established, source: .event)], samples: [])]
        recording.kernelDrops = [
            KernelDrop(time: 1.3, host: "server", reason: "TCP_LISTEN_OVERFLOW",
                       segment: EventSegment(from: "10.77.1.1:5001", to: "10.77.1.2:8080", flags: "ACK", seq: 1, ack: 2, length: 0)),
        ]
        return recording
    }

    static let subMillisecond = Tolerance(early: 0, lateMinimum: 0.001, lateFraction: 0)

    @Test func withoutEventsTheyAreSkippedWithTheReasonNeverFailed() {
        let expectation = Expect.kernelDrops(on: "server", reason: "TCP_LISTEN_OVERFLOW", count: .equals(5))
        let result = ExpectationEvaluator.evaluate(expectation, against: Self.recording(.sampling(reason: "no BTF")))
        #expect(result.passed)
        #expect(result.skipReason == "no kernel events: no BTF")
    }

    @Test func aReasonThisKernelDoesNotNameIsSkippedNotFailed() {
        var recording = Self.recording(.eventsAndSampling)
        recording.dropReasonNames = ["NO_SOCKET", "NOT_SPECIFIED"]  // as on 6.1: no TCP_LISTEN_OVERFLOW
        let result = ExpectationEvaluator.evaluate(Expect.kernelDrops(on: "server", reason: "TCP_LISTEN_OVERFLOW", count: .equals(1)),
                                                   against: recording)
        #expect(result.passed && result.skipReason == "this kernel has no drop reason TCP_LISTEN_OVERFLOW (enum skb_drop_reason)")
        recording.dropReasonNames = []  // before 5.17
        #expect(ExpectationEvaluator.evaluate(Expect.kernelDrops(on: "server", reason: "TCP_LISTEN_OVERFLOW", count: .equals(1)),
                                              against: recording).skipReason == "this kernel names no drop reasons (enum skb_drop_reason, 5.17+)")
        recording.dropReasonNames = ["TCP_LISTEN_OVERFLOW"]
        #expect(ExpectationEvaluator.evaluate(Expect.kernelDrops(on: "server", reason: "TCP_LISTEN_OVERFLOW", count: .equals(1)),
                                              against: recording).skipReason == nil)
    }

    @Test func dropsAreCountedByReasonAndPort() {
        let recording = Self.recording(.eventsAndSampling)
        #expect(ExpectationEvaluator.evaluate(Expect.kernelDrops(on: "server", reason: "TCP_LISTEN_OVERFLOW", port: 5001, count: .equals(1)),
                                              against: recording).passed)
        let wrongReason = ExpectationEvaluator.evaluate(Expect.kernelDrops(on: "server", reason: "NO_SOCKET", count: .atLeast(1)),
                                                        against: recording)
        #expect(!wrongReason.passed)
        #expect(wrongReason.observed == "0 (other reasons: TCP_LISTEN_OVERFLOW ×1)")
        #expect(!ExpectationEvaluator.evaluate(Expect.kernelDrops(on: "server", port: 6000, count: .atLeast(1)), against: recording).passed)
    }

    @Test func anExactStayIsMeasuredBetweenTheKernelsInstants() {
        let recording = Self.recording(.eventsAndSampling)
        let selector = SocketSelector.connection(on: "client", port: 8080)
        let within = ExpectationEvaluator.evaluate(Expect.socket(selector, staysExactlyIn: .synSent, for: 0, tolerance: Self.subMillisecond),
                                                   against: recording)
        #expect(within.passed)
        #expect(within.observed.contains("120.0 µs"))
        let tooShort = ExpectationEvaluator.evaluate(
            Expect.socket(selector, staysExactlyIn: .synSent, for: 0.001, tolerance: Tolerance(early: 0.0005, lateMinimum: 0.001, lateFraction: 0)),
            against: recording)
        #expect(!tooShort.passed)
        // A sampled state has no exact instants to measure.
        var sampled = recording
        sampled.sockets[0].transitions = sampled.sockets[0].transitions.map { ObservedTransition(time: $0.time, state: $0.state) }
        #expect(!ExpectationEvaluator.evaluate(Expect.socket(selector, staysExactlyIn: .synSent, for: 0, tolerance: Self.subMillisecond),
                                               against: sampled).passed)
    }
}

/// A segment a fault dropped takes the kernel's instant of its sending where one was announced.
@Suite struct RestampTests {
    static func droppedSyn(at time: Double, seq: UInt32) throws -> ObservedSegment {
        let packet = TestPackets.tcp(from: "10.77.1.1", to: "10.77.1.2", sourcePort: 43210, destinationPort: 8080,
                                     flags: [.syn], seq: seq)
        let header = try #require(packet.withUnsafeBytes { PacketHeader.parse($0) })
        return ObservedSegment(time: time, host: "client", direction: .out, header: header, window: 0, options: TCPOptions(),
                               fault: "dropped by lost SYNs", engineStamped: true)
    }

    static func retransmission(_ time: Double, departed: Double? = nil, earliest: Double?, seq: UInt32) -> KernelRetransmission {
        KernelRetransmission(announced: time, departed: departed, earliest: earliest, host: "client", kind: .syn,
                             segment: EventSegment(from: "10.77.1.1:43210", to: "10.77.1.2:8080", flags: "SYN", seq: seq, length: 0))
    }

    @Test func aDroppedRetransmissionTakesTCPsStampAndLosesTheQueueMargin() throws {
        let segments = [try Self.droppedSyn(at: 0.2, seq: 7), try Self.droppedSyn(at: 1.23, seq: 7)]
        let restamped = KernelEventMerge.restamp(segments, with: [Self.retransmission(1.2201, earliest: 1.2200, seq: 7)])
        // The first transmission is no retransmission: it keeps the engine's instant and margin.
        #expect(restamped[0].time == 0.2 && restamped[0].queueStamped)
        #expect(restamped[1].time == 1.2200 && !restamped[1].queueStamped && restamped[1].kernelStamped)
    }

    /// The client's socket, SYN_SENT at `entered` as the kernel announced it.
    static func connecting(at entered: Double) -> ObservedSocket {
        ObservedSocket(host: "client", local: RecordingFixtures.endpoint("10.77.1.1", 43210),
                       remote: RecordingFixtures.endpoint("10.77.1.2", 8080),
                       transitions: [ObservedTransition(time: entered, state: .synSent, source: .event)], samples: [])
    }

    @Test func aDroppedFirstSynTakesItsSocketsSynSentInstant() throws {
        // An emulated guest: the engine read the first SYN 120 ms after the kernel entered SYN_SENT.
        let segments = [try Self.droppedSyn(at: 0.32, seq: 7), try Self.droppedSyn(at: 1.45, seq: 7)]
        let restamped = KernelEventMerge.restamp(segments, with: [Self.retransmission(1.2201, departed: 1.22005, earliest: 1.2200, seq: 7)],
                                                 sockets: [Self.connecting(at: 0.2)])
        #expect(restamped[0].time == 0.2 && restamped[0].kernelStamped && !restamped[0].queueStamped)
        // Only the first: a retransmission too late to match its event keeps the engine's instant.
        #expect(restamped[1].time == 1.45 && restamped[1].queueStamped)
        // A SYN_SENT entered after the engine's reading, or a sampled one, is not the kernel's instant of this SYN.
        #expect(KernelEventMerge.restamp([try Self.droppedSyn(at: 0.32, seq: 7)], with: [], sockets: [Self.connecting(at: 0.33)])[0].queueStamped)
        var sampled = Self.connecting(at: 0.2)
        sampled.transitions = [ObservedTransition(time: 0.2, state: .synSent)]
        #expect(KernelEventMerge.restamp([try Self.droppedSyn(at: 0.32, seq: 7)], with: [], sockets: [sampled])[0].queueStamped)
    }

    @Test func aDepartedRetransmissionLendsTheDevicesInstant() throws {
        let segments = [try Self.droppedSyn(at: 1.23, seq: 7)]
        let restamped = KernelEventMerge.restamp(segments, with: [Self.retransmission(1.2201, departed: 1.22005, earliest: 1.2200, seq: 7)])
        #expect(restamped[0].time == 1.22005 && restamped[0].kernelStamped)
    }

    @Test func anEventForAnotherSegmentOrTooFarBeforeIsNotTaken() throws {
        let segments = [try Self.droppedSyn(at: 1.3, seq: 7)]
        #expect(KernelEventMerge.restamp(segments, with: [Self.retransmission(1.2901, earliest: 1.29, seq: 8)])[0].queueStamped)
        #expect(KernelEventMerge.restamp(segments, with: [Self.retransmission(1.2, earliest: 1.19, seq: 7)])[0].queueStamped)
        #expect(KernelEventMerge.restamp(segments, with: [Self.retransmission(1.31, earliest: 1.305, seq: 7)])[0].queueStamped)
    }
}
