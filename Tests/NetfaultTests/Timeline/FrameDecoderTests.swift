import XCTest
@testable import Netfault

final class FrameDecoderTests: XCTestCase {
    func testDecodesACapturedSynWithItsOptions() throws {
        let frame = try XCTUnwrap(FrameDecoder.decode(CapturedBytes.synOut[...], linkType: FrameDecoder.linuxSLL2))
        XCTAssertEqual(frame.direction, .out)
        XCTAssertEqual(frame.interfaceIndex, 2)
        XCTAssertFalse(frame.isLoopback)
        XCTAssertEqual(frame.header.source.description, "10.77.1.1")
        XCTAssertEqual(frame.header.destination.description, "10.77.1.2")
        XCTAssertEqual(frame.header.sourcePort, 35244)
        XCTAssertEqual(frame.header.destinationPort, 8080)
        XCTAssertEqual(frame.header.flags.tcpdump, "S")
        XCTAssertEqual(frame.header.sequence, 2_338_795_430)
        XCTAssertEqual(frame.header.payloadLength, 0)
        XCTAssertEqual(frame.window, 64240)
        XCTAssertEqual(frame.options, TCPOptions(mss: 1460, windowScale: 10, sackPermitted: true, timestamp: [389_157_722, 0]))
        XCTAssertEqual(frame.options.summary, "mss 1460,sackOK,TS val 389157722 ecr 0,wscale 10")
    }

    func testReceivedFrameIsIn() throws {
        let frame = try XCTUnwrap(FrameDecoder.decode(CapturedBytes.synAckIn[...], linkType: FrameDecoder.linuxSLL2))
        XCTAssertEqual(frame.direction, .in)
        XCTAssertEqual(frame.header.flags.tcpdump, "S.")
        XCTAssertEqual(frame.header.acknowledgment, 2_338_795_431)
        XCTAssertEqual(frame.window, 65160)
    }

    func testOtherLinkTypes() throws {
        let ip = Array(CapturedBytes.synOut.dropFirst(20))
        // LINUX_SLL: pkttype 4 (outgoing), hatype 1, addrlen 6, address, protocol.
        let sll = [0, 4, 0, 1, 0, 6] + [UInt8](repeating: 0, count: 8) + [0x08, 0x00] + ip
        XCTAssertEqual(FrameDecoder.decode(sll[...], linkType: FrameDecoder.linuxSLL)?.direction, .out)
        let ethernet = [UInt8](repeating: 0x11, count: 12) + [0x08, 0x00] + ip
        let viaEthernet = try XCTUnwrap(FrameDecoder.decode(ethernet[...], linkType: FrameDecoder.ethernet))
        XCTAssertNil(viaEthernet.direction)
        XCTAssertEqual(viaEthernet.header.sequence, 2_338_795_430)
        XCTAssertEqual(FrameDecoder.decode(ip[...], linkType: FrameDecoder.rawIP)?.options.mss, 1460)
        XCTAssertNil(FrameDecoder.decode(ip[...], linkType: 147), "an unknown link type is not guessed")
    }

    func testIPv6AndLoopback() throws {
        let packet = TestPackets.tcp(from: "fd77:1::1", to: "fd77:1::2", flags: [.ack, .psh], seq: 7, ack: 9, payload: 10)
        let frame = try XCTUnwrap(FrameDecoder.decode(CapturedBytes.sll2(packet, outgoing: false)[...], linkType: FrameDecoder.linuxSLL2))
        XCTAssertEqual(frame.header.source.description, "fd77:1::1")
        XCTAssertEqual(frame.header.payloadLength, 10)
        XCTAssertEqual(frame.options, TCPOptions())
        let loopback = FrameDecoder.decode(CapturedBytes.sll2(packet, outgoing: true, interface: 1, loopback: true)[...],
                                           linkType: FrameDecoder.linuxSLL2)
        XCTAssertEqual(loopback?.isLoopback, true)
    }

    func testNonTCPAndTruncatedFramesAreNil() {
        XCTAssertNil(FrameDecoder.decode(CapturedBytes.sll2(TestPackets.udp(), outgoing: true)[...], linkType: FrameDecoder.linuxSLL2))
        for length in 0..<54 {  // SLL2 (20) + IPv4 (20) + TCP (20) is the least that decodes
            XCTAssertNil(FrameDecoder.decode(CapturedBytes.synOut.prefix(length), linkType: FrameDecoder.linuxSLL2), "\(length) bytes")
        }
    }

    func testOptionsCutByTheSnapLengthAreLeftOut() throws {
        // 20 + 20 + 20 + 4 bytes: the MSS option only; the rest was not captured.
        let frame = try XCTUnwrap(FrameDecoder.decode(CapturedBytes.synOut.prefix(64), linkType: FrameDecoder.linuxSLL2))
        XCTAssertEqual(frame.options.mss, 1460)
    }

    func testMalformedOptions() {
        XCTAssertNil(TCPOptions.parse([2, 4, 5][...]), "runs past the end")
        XCTAssertNil(TCPOptions.parse([3, 1, 0][...]), "a length below 2 never advances")
        XCTAssertEqual(TCPOptions.parse([1, 1, 0, 2, 4, 5, 180][...]), TCPOptions(), "parsing stops at end-of-list")
        XCTAssertEqual(TCPOptions.parse([5, 10, 0, 0, 0, 1, 0, 0, 0, 9][...])?.sack, [[1, 9]])
        XCTAssertEqual(TCPOptions.parse([254, 4, 1, 2, 2, 4, 2, 24][...])?.mss, 536, "unknown kinds are skipped by length")
    }

    /// Malformed and truncated frames: an error value (nil) or a decoded frame, never a
    /// crash or a hang. 100,000 inputs from a seeded generator, so a failure repeats.
    func testFuzzedFramesNeverCrash() {
        var random = SplitMix64(seed: 0x5EED_F4A3)
        let seeds = [CapturedBytes.synOut, CapturedBytes.synAckIn,
                     CapturedBytes.sll2(TestPackets.tcp(from: "fd77::1", to: "fd77::2", flags: .syn), outgoing: true)]
        var decoded = 0
        for round in 0..<100_000 {
            var bytes = seeds[round % seeds.count]
            switch random.next() % 4 {
            case 0: bytes = Array(bytes.prefix(Int(random.next() % UInt64(bytes.count + 1))))
            case 1:
                for _ in 0..<(1 + random.next() % 8) { bytes[Int(random.next() % UInt64(bytes.count))] = UInt8(truncatingIfNeeded: random.next()) }
            case 2: bytes = (0..<Int(random.next() % 120)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            default: bytes += (0..<Int(random.next() % 40)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            }
            let linkType = [FrameDecoder.linuxSLL2, FrameDecoder.linuxSLL, FrameDecoder.ethernet, FrameDecoder.rawIP][Int(random.next() % 4)]
            if FrameDecoder.decode(bytes[...], linkType: linkType) != nil { decoded += 1 }
        }
        // Some mutations leave a valid frame: the generator reached the decoder's deep paths.
        XCTAssertGreaterThan(decoded, 1000)
        // For scripts/reliability's table.
        print("fuzz: frame decoder (SLL2, SLL, Ethernet, raw IP; IP, TCP, options): 100000 inputs, \(decoded) decoded, \(100_000 - decoded) rejected, no crash")
    }
}
