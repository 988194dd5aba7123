import NetfaultKernel
import Testing
@testable import Netfault

/// The BPF capture's departures made into each host's frames: pure, with hand-made frames
/// on the plan of a chain a – b – c (b forwards).
struct PeerFramesTests {
    let zero: Int64 = 1_700_000_000_000_000_000
    let plan = NetworkPlan(Scenario("chain", "a chain") {
        Host("a")
        Host("b", forwarding: true)
        Host("c")
        Link("a", "b", subnet: "10.77.1.0/24")
        Link("b", "c", subnet: "10.77.2.0/24")
    })

    /// Frames as BPFCapture makes them: cooked header with no link-layer address, outgoing.
    func departures(_ entries: [(microseconds: Int64, packet: [UInt8], interface: UInt32)]) -> CapturedFrames {
        var frames = CapturedFrames(linkType: FrameDecoder.linuxSLL2, snapLength: 148)
        for entry in entries {
            var bytes = [UInt8](repeating: 0, count: 20) + entry.packet
            bytes.withUnsafeMutableBytes {
                BPFCapture.writeCookedHeader(into: $0, protocolType: 0x0800, interfaceIndex: entry.interface, outgoing: true)
            }
            bytes.withUnsafeBytes { frames.append(timestamp: zero + entry.microseconds * 1000, length: bytes.count, bytes: $0) }
        }
        return frames
    }

    @Test func aDepartureIsAlsoTheReceiversArrivalOnTheOtherEnd() throws {
        let syn = TestPackets.tcp(flags: .syn, seq: 1000)
        let synAck = TestPackets.tcp(from: TestPackets.server, to: TestPackets.client, sourcePort: 8080, destinationPort: 40000,
                                     flags: [.syn, .ack], seq: 5000, ack: 1001)
        // a's SYN leaves a's eth0 (index 2), b forwards it out of its eth1 (index 3) to c;
        // c's SYN-ACK leaves c's eth0 (index 2), b forwards it out of its eth0 (index 2) to a.
        let recorded = [
            "a": departures([(10, syn, 2)]),
            "b": departures([(20, syn, 3), (40, synAck, 2)]),
            "c": departures([(35, synAck, 2)]),
        ]
        let captures = PeerFrames.hostCaptures(recorded, peers: PeerFrames.peers(of: plan.links), hosts: ["a", "b", "c"])
        #expect(captures.map(\.host) == ["a", "b", "c"])
        func view(_ host: String) -> [(Int64, DecodedFrame.Direction?, UInt32?, UInt8)] {
            let frames = captures.first { $0.host == host }!.frames
            return frames.records.indices.map { index in
                let decoded = FrameDecoder.decode(frames.bytes(index), linkType: frames.linkType)!
                return ((frames.records[index].timestamp - zero) / 1000, decoded.direction, decoded.interfaceIndex,
                        decoded.header.flags.rawValue)
            }
        }
        // a: its SYN out on eth0, the SYN-ACK in on eth0 at b's departure instant.
        #expect(view("a").map { "\($0.0) \($0.1!) \($0.2!) \($0.3)" } == ["10 out 2 2", "40 in 2 18"])
        // b: SYN in on eth0 (a's departure), out on eth1, SYN-ACK in on eth1 (c's departure),
        // out on eth0.
        #expect(view("b").map { "\($0.0) \($0.1!) \($0.2!) \($0.3)" } == ["10 in 2 2", "20 out 3 2", "35 in 3 18", "40 out 2 18"])
        #expect(view("c").map { "\($0.0) \($0.1!) \($0.2!) \($0.3)" } == ["20 in 2 2", "35 out 2 18"])
        // The arrival keeps the departure's bytes and length.
        let b = captures[1].frames, a = recorded["a"]!
        #expect(Array(b.bytes(0).dropFirst(20)) == Array(a.bytes(0).dropFirst(20)))
        #expect(b.records[0].length == a.records[0].length)
        // And the timeline joins them: a's SYN received by b.
        let segments = TimelineBuilder.build(captures, zero: zero, decisions: [])
        #expect(segments.first { $0.host == "a" && $0.isSent }?.receiver == "b")
    }

    @Test func aDepartureOnAnUnknownInterfaceStaysADepartureOnly() {
        let recorded = ["a": departures([(5, TestPackets.tcp(flags: .syn, seq: 1), 9)])]
        let captures = PeerFrames.hostCaptures(recorded, peers: PeerFrames.peers(of: plan.links), hosts: ["a", "b", "c"])
        #expect(captures.map { $0.frames.count } == [1, 0, 0])
    }
}
