import NetfaultKernel
import Testing
@testable import Netfault

@Suite struct SegmentIdentityTests {
    typealias P = TestPackets

    func header(_ bytes: [UInt8]) -> PacketHeader { bytes.withUnsafeBytes { PacketHeader.parse($0)! } }

    @Test func mix64IsSplitMix64sFinalizer() {
        // SplitMix64 seeded with 0 first returns mix64(0x9E3779B97F4A7C15) = 0xE220A8397B1DCDAF
        // (the reference implementation's first output).
        #expect(SegmentIdentity.mix64(0x9E37_79B9_7F4A_7C15) == 0xE220_A839_7B1D_CDAF)
        var generator = SplitMix64(seed: 0)
        #expect(generator.next() == 0xE220_A839_7B1D_CDAF)
    }

    @Test func transmissionsCountRetransmissionsOfTheSameSequenceNumber() {
        var identity = SegmentIdentity(seed: 1)
        let syn = P.tcp(flags: .syn, seq: 100)
        #expect(identity.identify(header(syn)).transmission == 1)
        #expect(identity.identify(header(syn)).transmission == 2, "the SYN again")
        #expect(identity.identify(header(syn)).transmission == 3)
        let data = P.tcp(flags: [.psh, .ack], seq: 101, ack: 5001, payload: 100)
        #expect(identity.identify(header(data)).transmission == 1)
        #expect(identity.identify(header(P.tcp(flags: [.psh, .ack], seq: 201, ack: 5001, payload: 100))).transmission == 1)
        #expect(identity.identify(header(data)).transmission == 2, "retransmitted after newer data")
        #expect(identity.identify(header(data)).transmission == 3)
        // Pure ACKs: the n-th in a row with the same acknowledgment number.
        let ack = P.tcp(flags: .ack, seq: 301, ack: 6001)
        #expect(identity.identify(header(ack)).transmission == 1)
        #expect(identity.identify(header(ack)).transmission == 2)
        #expect(identity.identify(header(P.tcp(flags: .ack, seq: 301, ack: 7001))).transmission == 1)
    }

    @Test func theSameSegmentsGetTheSameHashesInAnyOrderOfFlows() {
        let a = P.tcp(sourcePort: 40000, flags: [.psh, .ack], seq: 10, ack: 1, payload: 10)
        let b = P.tcp(sourcePort: 40001, flags: [.psh, .ack], seq: 99, ack: 1, payload: 10)
        var first = SegmentIdentity(seed: 9), second = SegmentIdentity(seed: 9)
        let (a1, b1) = (first.identify(header(a)), first.identify(header(b)))
        let (b2, a2) = (second.identify(header(b)), second.identify(header(a)))
        #expect(a1 == a2 && b1 == b2, "interleaving flows changes nothing")
        #expect(a1.hash != b1.hash)
        var other = SegmentIdentity(seed: 10)
        #expect(other.identify(header(a)).hash != a1.hash, "another seed, another hash")
        // The relative sequence number counts, not the absolute one: the same flow offset by its ISN.
        var x = SegmentIdentity(seed: 3), y = SegmentIdentity(seed: 3)
        _ = x.identify(header(P.tcp(flags: .syn, seq: 1000)))
        _ = y.identify(header(P.tcp(flags: .syn, seq: 5_000_000)))
        #expect(x.identify(header(P.tcp(flags: .ack, seq: 1001, ack: 77, payload: 5))).hash
                == y.identify(header(P.tcp(flags: .ack, seq: 5_000_001, ack: 77, payload: 5))).hash)
    }

    @Test func thresholdsAndJitterAreIntegers() {
        #expect(SegmentIdentity.threshold(0) == 0 && SegmentIdentity.threshold(1) == .max)
        #expect(SegmentIdentity.threshold(0.5) == 1 << 63)
        #expect(SegmentIdentity.nanoseconds(0.3) == 300_000_000)
        var identity = SegmentIdentity(seed: 5)
        var delays: Set<UInt64> = []
        for seq in stride(from: UInt32(1), to: 2001, by: 10) {
            let id = identity.identify(header(P.tcp(flags: .ack, seq: seq, ack: 1, payload: 10)))
            let delay = SegmentIdentity.jittered(delay: 20_000_000, jitter: 5_000_000, id)
            #expect((15_000_000...25_000_000).contains(delay))
            delays.insert(delay)
        }
        #expect(delays.count > 150, "jitter spreads")
        let id = identity.identify(header(P.tcp(flags: .ack, seq: 1, ack: 1)))
        #expect(SegmentIdentity.jittered(delay: 1, jitter: 1_000_000, id) <= 1_000_001, "clamped at 0, never negative")
    }

    @Test func lossDropsTheSameSegmentsWhateverTheirOrder() {
        // Two flows' segments in two orders: the same segments lost.
        let imp = { () -> PlacedImpairment in
            var value = Impairment(from: "client", to: "server")
            value.loss = 30
            return PlacedImpairment(value, interfaceIndex: 2)
        }()
        let packets: [[UInt8]] = (0..<200).map { (i: Int) -> [UInt8] in
            let port = UInt16(40000 + i % 2), seq = UInt32(1 + 100 * (i / 2))
            return P.tcp(sourcePort: port, flags: [.psh, .ack], seq: seq, ack: 1, payload: 100)
        }
        func lost(_ order: [Int]) -> Set<Int> {
            var engine = VerdictEngine(host: "client", faults: [], impairments: [imp], seed: 42)
            var result: Set<Int> = []
            for index in order {
                var actions: [VerdictAction] = []
                engine.handle(EnginePacket(id: UInt32(index + 1), egress: true, interfaceIndex: 2, bytes: packets[index]), at: 0,
                              into: &actions)
                if actions == [.drop(UInt32(index + 1))] { result.insert(index) }
            }
            return result
        }
        let inOrder = lost(Array(0..<200))
        // The second flow's segments first, then the first's.
        let swapped = lost(Array(stride(from: 1, to: 200, by: 2)) + Array(stride(from: 0, to: 200, by: 2)))
        #expect(inOrder == swapped)
        #expect((30...90).contains(inOrder.count), "30 % of 200 = 60 (±30 is > 4 σ): \(inOrder.count)")
    }
}
