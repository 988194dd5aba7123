import NetfaultKernel
import Testing
@testable import Netfault

/// A GSO packet cut into wire segments as tcp_gso_segment / inet_gso_segment /
/// ipv6_gso_segment do: pure, with hand-made packets (the kernel test compares the result
/// with tcpdump's copies of the real segments).
struct GSOSegmentsTests {
    /// An IPv4 packet (id 0x1234, DF) whose TCP header carries 12 bytes of options (NOP NOP
    /// timestamps: doff 8), `payload` bytes long, 16 of them kept after the headers.
    func ipv4(flags: UInt8, seq: UInt32, payload: Int) -> (bytes: [UInt8], length: Int) {
        var tcp = TestPackets.be16(40000) + TestPackets.be16(8080) + TestPackets.be32(seq) + TestPackets.be32(77)
        tcp += [0x80, flags] + TestPackets.be16(502) + [0xAB, 0xCD, 0, 0]
        tcp += [1, 1, 8, 10] + TestPackets.be32(111) + TestPackets.be32(222)
        let total = 20 + tcp.count + payload
        var ip: [UInt8] = [0x45, 0] + TestPackets.be16(UInt16(truncatingIfNeeded: total)) + [0x12, 0x34, 0x40, 0, 64, 6, 0, 0]
        ip += [10, 77, 0, 1, 10, 77, 0, 2]
        TestPackets.be16(GSOSegments.ipv4Checksum(ip[...])).enumerated().forEach { ip[10 + $0.offset] = $0.element }
        return (ip + tcp + [UInt8](repeating: 0x5A, count: 16), total)
    }

    func field16(_ bytes: [UInt8], _ at: Int) -> Int { Int(bytes[at]) << 8 | Int(bytes[at + 1]) }
    func field32(_ bytes: [UInt8], _ at: Int) -> UInt32 { UInt32(field16(bytes, at)) << 16 | UInt32(field16(bytes, at + 2)) }
    /// RFC 1071: a header with a right checksum sums to 0xFFFF.
    func checksumHolds(_ header: ArraySlice<UInt8>) -> Bool {
        var sum = 0
        for index in stride(from: header.startIndex, to: header.endIndex, by: 2) { sum += Int(header[index]) << 8 | Int(header[index + 1]) }
        while sum > 0xFFFF { sum = (sum & 0xFFFF) + (sum >> 16) }
        return sum == 0xFFFF
    }

    @Test func anIPv4PacketIsCutAsTheKernelCutsIt() throws {
        // CWR | ACK | PSH | FIN, 3 × 1448 + 100 bytes of payload.
        let packet = ipv4(flags: 0x80 | 0x10 | 0x08 | 0x01, seq: 1_000, payload: 3 * 1448 + 100)
        let segments = try #require(GSOSegments.segments(of: packet.bytes[...], length: packet.length, gsoSize: 1448))
        #expect(segments.count == 4)
        #expect(segments.map(\.length) == [1500, 1500, 1500, 152])
        #expect(segments.map { $0.headers.count } == [52, 52, 52, 52], "headers through the TCP options, no payload")
        #expect(segments.map { field32($0.headers, 24) } == [1_000, 2_448, 3_896, 5_344])
        #expect(segments.map { $0.headers[33] } == [0x90, 0x10, 0x10, 0x19], "CWR on the first only, FIN and PSH on the last only")
        #expect(segments.map { field16($0.headers, 2) } == [1500, 1500, 1500, 152], "each segment's IPv4 total length")
        #expect(segments.map { field16($0.headers, 4) } == [0x1234, 0x1235, 0x1236, 0x1237], "identification + i")
        #expect(segments.allSatisfy { checksumHolds($0.headers[0..<20]) }, "IPv4 header checksum recomputed")
        #expect(segments.allSatisfy { field16($0.headers, 36) == 0 }, "TCP checksum not known: 0")
        // Everything else is the packet's: ports, ack, window, options.
        for segment in segments {
            #expect(Array(segment.headers[20..<24]) == Array(packet.bytes[20..<24]))
            #expect(Array(segment.headers[28..<33]) == Array(packet.bytes[28..<33]))
            #expect(Array(segment.headers[34..<36]) == Array(packet.bytes[34..<36]))
            #expect(Array(segment.headers[38..<52]) == Array(packet.bytes[38..<52]))
        }
    }

    @Test func aPayloadOfWholeSegmentsEndsWithAFullOne() throws {
        let packet = ipv4(flags: 0x18, seq: 0xFFFF_FF00, payload: 2 * 1000)
        let segments = try #require(GSOSegments.segments(of: packet.bytes[...], length: packet.length, gsoSize: 1000))
        #expect(segments.map(\.length) == [1052, 1052])
        #expect(segments.map { field32($0.headers, 24) } == [0xFFFF_FF00, 0x0000_02E8], "sequence numbers wrap")
        #expect(segments.map { $0.headers[33] } == [0x10, 0x18])
    }

    @Test func aPacketThatFitsOneSegmentIsLeftAsItIs() throws {
        // tcp_gso_segment: skb->len <= mss goes unchanged, whatever gso_size says.
        for gsoSize in [0, 1448, 2000] {
            let packet = ipv4(flags: 0x19, seq: 5, payload: 1448)
            let segments = try #require(GSOSegments.segments(of: packet.bytes[...], length: packet.length, gsoSize: gsoSize))
            var expected = Array(packet.bytes[0..<52])
            expected[36] = 0
            expected[37] = 0
            #expect(segments == [GSOSegments.Segment(headers: expected, length: 1500)], "gso_size \(gsoSize)")
        }
    }

    @Test func anIPv6PacketGetsEachSegmentsPayloadLength() throws {
        let payload = 1200 + 1200 + 7
        let tcp = TestPackets.tcp(from: "fd77::1", to: "fd77::2", flags: [.ack, .psh], seq: 9, payload: payload)
        let packet = Array(tcp.prefix(40 + 20 + 8))
        let segments = try #require(GSOSegments.segments(of: packet[...], length: tcp.count, gsoSize: 1200))
        #expect(segments.map(\.length) == [1260, 1260, 67])
        #expect(segments.map { field16($0.headers, 4) } == [1220, 1220, 27], "IPv6 payload length per segment")
        #expect(segments.map { field32($0.headers, 44) } == [9, 1209, 2409])
        #expect(segments.map { $0.headers[53] } == [0x10, 0x10, 0x18])
        #expect(segments.allSatisfy { Array($0.headers[0..<4]) == Array(packet[0..<4]) && $0.headers.count == 60 })
    }

    @Test func whatIsNotTCPOrIsCutShortIsRefused() {
        let udp = TestPackets.udp()
        #expect(GSOSegments.segments(of: udp[...], length: udp.count, gsoSize: 1000) == nil)
        let packet = ipv4(flags: 0x10, seq: 1, payload: 4000)
        #expect(GSOSegments.segments(of: packet.bytes[0..<40], length: packet.length, gsoSize: 1000) == nil, "cut in the TCP options")
        #expect(GSOSegments.segments(of: [][...], length: 0, gsoSize: 0) == nil)
    }

    @Test func expandTurnsEachRecordIntoItsSegmentsAtTheRecordsInstant() throws {
        var frames = CapturedFrames(linkType: FrameDecoder.linuxSLL2, snapLength: 148)
        let gso = ipv4(flags: 0x18, seq: 100, payload: 3000), ack = ipv4(flags: 0x10, seq: 7, payload: 0)
        for (time, packet) in [(Int64(1_000), gso), (2_000, ack)] {
            var bytes = [UInt8](repeating: 0, count: 20) + packet.bytes.prefix(min(packet.bytes.count, 128))
            bytes.withUnsafeMutableBytes {
                BPFCapture.writeCookedHeader(into: $0, protocolType: 0x0800, interfaceIndex: 4, outgoing: true)
            }
            bytes.withUnsafeBytes { frames.append(timestamp: time, length: 20 + packet.length, bytes: $0) }
        }
        let recorded = BPFCapture.Recorded(frames: frames, gso: [.init(size: 1448, segments: 3), .init(size: 0, segments: 1)], lost: 0)
        let expanded = GSOSegments.expand(recorded)
        let stamps: [Int64] = expanded.records.map { $0.timestamp }
        let lengths: [Int] = expanded.records.map { $0.length }
        #expect(stamps == [1_000, 1_000, 1_000, 2_000])
        #expect(lengths == [1520, 1520, 176, 72])
        let decoded: [DecodedFrame] = expanded.records.indices.compactMap { FrameDecoder.decode(expanded.bytes($0), linkType: expanded.linkType) }
        let sequences: [UInt32] = decoded.map { $0.header.sequence }
        let payloads: [Int] = decoded.map { $0.header.payloadLength }
        #expect(sequences == [100, 1548, 2996, 7])
        #expect(decoded.allSatisfy { $0.direction == DecodedFrame.Direction.out && $0.interfaceIndex == 4 })
        #expect(payloads == [1448, 1448, 104, 0])
    }

    /// Segments take the departure with their interface, sequence number and length: a GSO
    /// packet's segments each their own, a retransmission its own (not its first copy's),
    /// a segment with none (never reached the device) its packet's instant, and a copy that
    /// never left does not take the departure of the copy sent again after it.
    @Test func eachSegmentTakesItsOwnDeparture() throws {
        var frames = CapturedFrames(linkType: FrameDecoder.linuxSLL2, snapLength: 148)
        let gso = ipv4(flags: 0x18, seq: 100, payload: 3000), ack = ipv4(flags: 0x10, seq: 7, payload: 0)
        let again = ipv4(flags: 0x10, seq: 1548, payload: 1448)
        let lost = ipv4(flags: 0x10, seq: 5000, payload: 100)
        let records: [(Int64, (bytes: [UInt8], length: Int), UInt16)] = [
            (1_000, gso, 1448), (2_000, ack, 0), (50_000, again, 0), (60_000, lost, 0), (70_000, lost, 0),
        ]
        for (time, packet, _) in records {
            var bytes = [UInt8](repeating: 0, count: 20) + packet.bytes.prefix(min(packet.bytes.count, 128))
            bytes.withUnsafeMutableBytes {
                BPFCapture.writeCookedHeader(into: $0, protocolType: 0x0800, interfaceIndex: 4, outgoing: true)
            }
            bytes.withUnsafeBytes { frames.append(timestamp: time, length: 20 + packet.length, bytes: $0) }
        }
        func departure(_ time: Int64, _ sequence: UInt32, _ length: Int, interface: UInt32 = 4) -> BPFCapture.Departure {
            BPFCapture.Departure(timestamp: time, interfaceIndex: interface, sequence: sequence, length: length)
        }
        // The third segment of the GSO packet (2996, 156 bytes) has no departure.
        let departures = [departure(1_500, 100, 1500), departure(2_100, 7, 52), departure(2_600, 1548, 1500),
                          departure(50_400, 1548, 1500), departure(70_500, 5000, 152),
                          departure(3_000, 9999, 1500), departure(1_600, 100, 1500, interface: 5)]
        let recorded = BPFCapture.Recorded(frames: frames, gso: records.map { .init(size: $0.2, segments: $0.2 > 0 ? 3 : 1) },
                                           lost: 0, departures: departures)
        let expansion = GSOSegments.expansion(recorded)
        let decoded: [DecodedFrame] = expansion.frames.records.indices.compactMap {
            FrameDecoder.decode(expansion.frames.bytes($0), linkType: expansion.frames.linkType)
        }
        let stamps: [Int64] = expansion.frames.records.map { $0.timestamp }
        let sequences: [UInt32] = decoded.map { $0.header.sequence }
        #expect(sequences == [2996, 100, 7, 1548, 1548, 5000, 5000], "in time order")
        #expect(stamps == [1_000, 1_500, 2_100, 2_600, 50_400, 60_000, 70_500])
        #expect(expansion.departed == 5 && expansion.atPacketInstant == 2, "\(expansion.departed), \(expansion.atPacketInstant)")
        #expect(expansion.departuresUnmatched == 2, "another sequence number, another interface")
        // Without departures (the program did not run): every segment at its packet's instant.
        let bare = GSOSegments.expansion(BPFCapture.Recorded(frames: frames, gso: recorded.gso, lost: 0))
        #expect(bare.frames.records.map { $0.timestamp } == [1_000, 1_000, 1_000, 2_000, 50_000, 60_000, 70_000])
        #expect(bare.departed == 0 && bare.atPacketInstant == 7)
    }
}
