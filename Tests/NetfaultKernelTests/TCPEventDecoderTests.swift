import Glibc
import Testing
@testable import NetfaultKernel

/// TCPEventDecoder on hand-built `struct nf_tcp_event` records (bpf/tcp_events.h).
@Suite struct TCPEventDecoderTests {
    static func record(kind: UInt8, family: UInt8 = 2, time: UInt64 = 1_234_567_890_123, netns: UInt32 = 4_026_532_000,
                       seq: UInt32 = 0xA1B2_C3D4, ack: UInt32 = 0x0102_0304, reason: UInt32 = 0xffff_ffff,
                       sport: UInt16 = 43_210, dport: UInt16 = 8080, length: UInt16 = 1448, old: UInt8 = 7, new: UInt8 = 2,
                       flags: UInt8 = 0x18, source: [UInt8] = [10, 77, 1, 1], destination: [UInt8] = [10, 77, 1, 2],
                       socket: UInt64 = 0xFFFF_8880_1234_5678, stamped: UInt64 = 0, departed: UInt64 = 0) -> [UInt8] {
        func field16(_ address: [UInt8]) -> [UInt8] { address + [UInt8](repeating: 0, count: 16 - address.count) }
        let bytes = KT.le64(time) + KT.le32(netns) + KT.le32(seq) + KT.le32(ack) + KT.le32(reason)
            + KT.le16(sport) + KT.le16(dport) + KT.le16(length) + [kind, family, old, new, flags, 0]
            + field16(source) + field16(destination) + KT.le32(0) + KT.le64(socket) + KT.le64(stamped) + KT.le64(departed)
        precondition(bytes.count == 96)
        return bytes
    }

    private func decode(_ bytes: [UInt8]) -> TCPEvent? { bytes.withUnsafeBytes { TCPEventDecoder.decode($0) } }

    @Test func decodesAStateChange() throws {
        let event = try #require(decode(Self.record(kind: 1)))
        #expect(event.kind == .state)
        #expect(event.time == 1_234_567_890_123)
        #expect(event.netns == 4_026_532_000)
        #expect(event.oldState == .close && event.newState == .synSent)
        #expect(event.local.description == "10.77.1.1:43210")
        #expect(event.remote.description == "10.77.1.2:8080")
        #expect(event.reason == nil)
        #expect(event.socket == 0xFFFF_8880_1234_5678)
        #expect(event.stamped == nil && event.departed == nil)
    }

    @Test func decodesARetransmissionWithTCPsTransmitStampAndItsDeparture() throws {
        let event = try #require(decode(Self.record(kind: 2, length: 0, flags: 0x02, stamped: 1_234_567_880_000,
                                                    departed: 1_234_567_885_000)))
        #expect(event.kind == .retransmit)
        #expect(event.stamped == 1_234_567_880_000)
        #expect(event.departed == 1_234_567_885_000)
        #expect(event.flags == 0x02 && event.sequence == 0xA1B2_C3D4)
    }

    @Test func decodesAnIPv6DropWithItsReason() throws {
        let source = IPAddress("fd77:1::1")!.bytes, destination = IPAddress("fd77:1::2")!.bytes
        let event = try #require(decode(Self.record(kind: 6, family: 10, reason: 3, flags: 0x02,
                                                    source: source, destination: destination)))
        #expect(event.kind == .drop)
        #expect(event.reason == 3)
        #expect(event.local.description == "[fd77:1::1]:43210")
        #expect(event.sequence == 0xA1B2_C3D4 && event.acknowledgment == 0x0102_0304)
        #expect(event.length == 1448 && event.flags == 0x02)
        #expect(event.oldState == nil && event.newState == nil)
    }

    @Test func refusesShortRecordsUnknownKindsAndFamilies() {
        #expect(decode(Array(Self.record(kind: 1).prefix(95))) == nil)
        #expect(decode(Self.record(kind: 0)) == nil)
        #expect(decode(Self.record(kind: 8)) == nil)
        #expect(decode(Self.record(kind: 1, family: 17)) == nil)
    }
}
