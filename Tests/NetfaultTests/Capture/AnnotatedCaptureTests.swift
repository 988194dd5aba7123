import NetfaultKernel
import Testing
@testable import Netfault

/// What each host's pcapng file holds: its frames, faulted ones commented, and the
/// segments a fault dropped, from the queue's copy, at the engine's instant.
@Suite struct AnnotatedCaptureTests {
    let zero: Int64 = 1_700_000_000_000_000_000
    let syn = TestPackets.tcp(flags: .syn, seq: 1000)
    let ack = TestPackets.tcp(flags: .ack, seq: 1001, ack: 5001)
    let fin = TestPackets.tcp(flags: [.fin, .ack], seq: 1001, ack: 5001)
    let synAck = TestPackets.tcp(from: TestPackets.server, to: TestPackets.client, sourcePort: 8080,
                                 destinationPort: 40000, flags: [.syn, .ack], seq: 5000, ack: 1001)

    func frames(_ entries: [(seconds: Double, packet: [UInt8], outgoing: Bool)]) -> CapturedFrames {
        var frames = CapturedFrames(linkType: FrameDecoder.linuxSLL2, snapLength: 128)
        for entry in entries {
            let bytes = CapturedBytes.sll2(entry.packet, outgoing: entry.outgoing)
            bytes.withUnsafeBytes { frames.append(timestamp: zero + Int64(entry.seconds * 1e9), length: bytes.count, bytes: $0) }
        }
        return frames
    }

    func decision(_ time: Double, _ action: String, _ fault: String, _ packet: [UInt8], _ flags: String, seq: UInt32,
                  ack: UInt32 = 0, host: String = "client") -> FaultDecision {
        var decision = FaultDecision(time: time, host: host, fault: fault, action: action, source: "10.77.1.1:40000",
                                     destination: "10.77.1.2:8080", flags: flags, sequence: seq, acknowledgment: ack, length: 0)
        if action == "dropped" {
            decision.droppedPacket = packet
            decision.interfaceIndex = 3
        }
        return decision
    }

    @Test func aDroppedSYNIsInTheFileAtItsInstantWithItsBytesAndADelayedFINIsCommented() throws {
        let client = frames([(1.0, syn, true), (1.0001, synAck, false), (1.0002, ack, true), (1.3, fin, true)])
        let decisions = [decision(0.0, "dropped", "first SYN", syn, "S", seq: 1000),
                         decision(1.2, "delayed 100 ms", "slow FIN", fin, "F.", seq: 1001, ack: 5001)]
        let segments = TimelineBuilder.build([.init(host: "client", frames: client)], zero: zero, decisions: decisions)
        let packets = AnnotatedCapture.packets(host: "client", frames: client, segments: segments, decisions: decisions, zero: zero)

        #expect(packets.count == 5)
        #expect(packets.map(\.comment) == ["dropped by first SYN", nil, nil, nil, "delayed 100 ms by slow FIN"])
        #expect(packets.map(\.timestamp) == [zero, zero + 1_000_000_000, zero + 1_000_100_000, zero + 1_000_200_000, zero + 1_300_000_000])
        // The dropped one: a LINUX_SLL2 header (IPv4, ifindex 3, outgoing, no address) on the queue's copy.
        let dropped = packets[0]
        #expect(Array(dropped.bytes.prefix(20)) == [0x08, 0x00, 0, 0, 0, 0, 0, 3, 0, 1, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0])
        #expect(Array(dropped.bytes.dropFirst(20)) == syn)
        #expect(dropped.originalLength == 20 + syn.count)
        let decoded = try #require(FrameDecoder.decode(dropped.bytes[...], linkType: FrameDecoder.linuxSLL2))
        #expect(decoded.direction == .out && decoded.header.flags == .syn && decoded.header.sequence == 1000)
        // Captured frames go in as they were.
        #expect(packets[1].bytes == Array(client.bytes(0)) && packets[1].originalLength == client.records[0].length)
    }

    @Test func anotherHostsDecisionsAndFaultsStayOutOfThisFile() {
        let server = frames([(1.00005, syn, false), (1.00008, synAck, true)])
        let decisions = [decision(0.0, "dropped", "first SYN", syn, "S", seq: 1000)]
        let segments = TimelineBuilder.build([.init(host: "server", frames: server)], zero: zero, decisions: decisions)
        let packets = AnnotatedCapture.packets(host: "server", frames: server, segments: segments, decisions: decisions, zero: zero)
        #expect(packets.count == 2)
        #expect(packets.allSatisfy { $0.comment == nil })
    }

    @Test func aDroppedDataSegmentIsCutAtTheSnapLengthLikeEveryFrame() {
        let data = TestPackets.tcp(flags: [.psh, .ack], seq: 1001, ack: 5001, payload: 1000)
        let kept = Array(data.prefix(128))  // what the engine keeps
        let decisions = [decision(0.5, "dropped", "lost data", kept, "P.", seq: 1001, ack: 5001)]
        let packets = AnnotatedCapture.packets(host: "client", frames: frames([]), segments: [], decisions: decisions, zero: zero)
        #expect(packets.count == 1)
        #expect(packets[0].bytes.count == 128, "20 bytes of SLL2 and the first 108 of the packet")
        #expect(Array(packets[0].bytes.dropFirst(20)) == Array(data.prefix(108)))
        #expect(packets[0].originalLength == 20 + data.count)
    }

    @Test func theIPLengthGivesTheOriginalLengthOfACutCopy() {
        var long = TestPackets.tcp(flags: .ack, seq: 1, ack: 1)
        long[2] = 0x05; long[3] = 0xDC  // IPv4 total length 1500, copy cut short
        #expect(AnnotatedCapture.ipLength(long) == 1500)
        let ipv6: [UInt8] = [0x60, 0, 0, 0, 0x00, 0x14] + [UInt8](repeating: 0, count: 34)
        #expect(AnnotatedCapture.ipLength(ipv6) == 60)
        #expect(AnnotatedCapture.ipLength([0x10, 0, 0, 0]) == nil, "not IP")
        #expect(AnnotatedCapture.sll2Header(ipVersion: 6, interfaceIndex: 2).prefix(2) == [0x86, 0xDD])
    }
}
