import NetfaultKernel
import XCTest
@testable import Netfault

final class TimelineBuilderTests: XCTestCase {
    /// t = 0 on the captures' clock.
    let zero: Int64 = 1_700_000_000_000_000_000

    private func frames(_ entries: [(seconds: Double, packet: [UInt8], outgoing: Bool)]) -> CapturedFrames {
        var frames = CapturedFrames(linkType: FrameDecoder.linuxSLL2, snapLength: 128)
        for entry in entries {
            let bytes = CapturedBytes.sll2(entry.packet, outgoing: entry.outgoing)
            bytes.withUnsafeBytes { frames.append(timestamp: zero + Int64(entry.seconds * 1e9), length: bytes.count, bytes: $0) }
        }
        return frames
    }

    private let syn = TestPackets.tcp(flags: .syn, seq: 1000)
    private let synAck = TestPackets.tcp(from: TestPackets.server, to: TestPackets.client, sourcePort: 8080,
                                         destinationPort: 40000, flags: [.syn, .ack], seq: 5000, ack: 1001)
    private let ack = TestPackets.tcp(flags: .ack, seq: 1001, ack: 5001)

    private func decision(_ time: Double, _ action: String, _ flags: String, seq: UInt32, ack: UInt32 = 0,
                          host: String = "client", from: String = "10.77.1.1:40000", to: String = "10.77.1.2:8080") -> FaultDecision {
        FaultDecision(time: time, host: host, fault: "f", action: action, source: from, destination: to, flags: flags,
                      sequence: seq, acknowledgment: ack, length: 0)
    }

    func testAHandshakeWithTheFirstSynDropped() {
        let client = frames([(1.0, syn, true), (1.0001, synAck, false), (1.0002, ack, true)])
        let server = frames([(1.00005, syn, false), (1.00008, synAck, true), (1.00025, ack, false)])
        let segments = TimelineBuilder.build([.init(host: "client", frames: client), .init(host: "server", frames: server)],
                                             zero: zero, decisions: [decision(0.0, "dropped", "S", seq: 1000)])
        XCTAssertEqual(segments.count, 7)
        let dropped = segments[0]
        XCTAssertEqual(dropped.time, 0.0)
        XCTAssertEqual(dropped.fault, "dropped by f")
        XCTAssertTrue(dropped.engineStamped)
        XCTAssertNil(dropped.receiver)
        XCTAssertEqual(dropped.kinds, [.syn, .any])
        // The retransmitted SYN crossed: sent by the client, received by the server.
        XCTAssertEqual(segments[1].host, "client")
        XCTAssertEqual(segments[1].direction, .out)
        XCTAssertEqual(segments[1].receiver, "server")
        XCTAssertNil(segments[1].fault)
        XCTAssertEqual(segments[1].time, 1.0, accuracy: 1e-9)
        let sentSynAck = segments.first { $0.host == "server" && $0.isSent }!
        XCTAssertEqual(sentSynAck.relativeSequence, 0)
        XCTAssertEqual(sentSynAck.relativeAcknowledgment, 1)
        XCTAssertEqual(sentSynAck.receiver, "client")
        XCTAssertEqual(sentSynAck.summary, "S. seq 0 ack 1 win 65535 len 0")
        let handshakeAck = segments.first { $0.host == "client" && $0.isSent && $0.header.flags == .ack }!
        XCTAssertTrue(handshakeAck.kinds.contains(.handshakeAck))
        XCTAssertEqual(handshakeAck.relativeSequence, 1)
        XCTAssertEqual(handshakeAck.relativeAcknowledgment, 1)
        XCTAssertEqual(segments.map(\.time), segments.map(\.time).sorted())
    }

    /// A segment of a GSO packet the tc engine dropped at the link's other end: the sender's
    /// capture saw it go, so that frame is the dropped one, with no receiver; no copy is
    /// added, and the arrival the server's capture saw (ahead of tc ingress) goes.
    func testASegmentDroppedAtTheLinksOtherEndIsTheFrameThatLeft() {
        let data = TestPackets.tcp(flags: [.psh, .ack], seq: 1001, ack: 5001, payload: 100)
        let client = frames([(0.5, data, true)])
        let server = frames([(0.50003, data, false)])
        var dropped = FaultDecision(time: 0.4999, host: "client", fault: "f", action: "dropped", source: "10.77.1.1:40000",
                                    destination: "10.77.1.2:8080", flags: "P.", sequence: 1001, acknowledgment: 5001, length: 100)
        dropped.atLinkEnd = true
        let segments = TimelineBuilder.build([.init(host: "client", frames: client), .init(host: "server", frames: server)],
                                             zero: zero, decisions: [dropped])
        let sent = segments.filter(\.isSent)
        XCTAssertEqual(sent.count, 1, "no copy added")
        XCTAssertEqual(sent.first?.fault, "dropped by f at the link's other end")
        XCTAssertNil(sent.first?.receiver)
        XCTAssertFalse(sent.first?.engineStamped ?? true, "its instant is the capture's")
        XCTAssertTrue(segments.filter { $0.host == "server" }.isEmpty, "the server's capture saw it, but it never got there")
    }

    func testDelayedAndDuplicatedSegmentsAreMarkedWhereTheyLeft() {
        let client = frames([(0.1, syn, true), (0.4, ack, true), (0.41, ack, true)])
        let segments = TimelineBuilder.build([.init(host: "client", frames: client)], zero: zero, decisions: [
            decision(0.0999, "delayed 300 ms", "S", seq: 1000),   // stamped before the capture saw it
            decision(0.3999, "duplicated", ".", seq: 1001, ack: 5001),
        ])
        XCTAssertEqual(segments.map(\.fault), ["delayed 300 ms by f", "duplicated by f", "duplicate (duplicated by f)"])
        XCTAssertTrue(segments.allSatisfy { !$0.engineStamped })
    }

    func testADecisionWithoutACapturedSegmentIsKeptAndSaysSo() {
        let segments = TimelineBuilder.build([], zero: zero, decisions: [decision(2, "held for reordering", "S", seq: 1000)])
        XCTAssertEqual(segments.map(\.fault), ["held for reordering by f, not seen on the wire"])
    }

    func testLoopbackAndNonTCPFramesAreLeftOut() {
        var capture = frames([(0.1, syn, true)])
        let loopback = CapturedBytes.sll2(syn, outgoing: true, interface: 1, loopback: true)
        loopback.withUnsafeBytes { capture.append(timestamp: zero, length: loopback.count, bytes: $0) }
        let udp = CapturedBytes.sll2(TestPackets.udp(), outgoing: true)
        udp.withUnsafeBytes { capture.append(timestamp: zero, length: udp.count, bytes: $0) }
        XCTAssertEqual(TimelineBuilder.build([.init(host: "client", frames: capture)], zero: zero, decisions: []).count, 1)
    }

    func testTheJSONRecordUsesRelativeNumbers() {
        let client = frames([(0.1, syn, true), (0.2, synAck, false)])
        let records = TimelineBuilder.build([.init(host: "client", frames: client)], zero: zero, decisions: []).map(SegmentRecord.init)
        XCTAssertEqual(records[1], SegmentRecord(time: 0.2, host: "client", direction: "in", src: "10.77.1.2:8080",
                                                 dst: "10.77.1.1:40000", flags: "S.", seq: 0, ack: 1, length: 0, window: 65535))
    }

    /// `records(_:)` shares each endpoint's and flags' text between segments: the same records as
    /// one `init(_:)` each, over both families, both directions and several flags.
    func testTheBatchConversionMakesTheSameRecords() {
        let v6Client = "fd77:1::1", v6Server = "fd77:1::2"
        let client = frames([(0.1, syn, true), (0.2, synAck, false), (0.3, ack, true),
                             (0.4, TestPackets.tcp(flags: [.psh, .ack], seq: 1001, ack: 5001, payload: 10), true),
                             (0.5, TestPackets.tcp(from: v6Client, to: v6Server, flags: .syn, seq: 7), true),
                             (0.6, TestPackets.tcp(from: v6Server, to: v6Client, sourcePort: 8080, destinationPort: 40000,
                                                   flags: [.syn, .ack], seq: 9, ack: 8), false),
                             (0.7, TestPackets.tcp(flags: [.fin, .ack], seq: 1011, ack: 5001), true),
                             (0.8, TestPackets.tcp(flags: .rst, seq: 1012), true)])
        let segments = TimelineBuilder.build([.init(host: "client", frames: client)], zero: zero, decisions: [])
        XCTAssertEqual(segments.count, 8)
        let records = SegmentRecord.records(segments)
        XCTAssertEqual(records, segments.map(SegmentRecord.init))
        XCTAssertEqual(Set(records.map(\.flags)), ["S", "S.", ".", "P.", "F.", "R"])
        XCTAssertEqual(records[5].src, "[fd77:1::2]:8080")
    }
}
