import CNetfault
import Glibc
import Testing
@testable import NetfaultKernel

/// The NFQUEUE decoder and the verdict and configuration encoders, against bytes
/// the kernel and libnetfilter_queue produced, hand-built messages, and a fuzz.
///
/// Byte source ("the reference run"): a 60-line C program using libnetfilter_queue
/// 1.0.5's own helpers (nfq_nlmsg_put, nfq_nlmsg_cfg_put_cmd/_params/_qmaxlen,
/// nfq_nlmsg_verdict_put, nfq_nlmsg_verdict_put_pkt; Debian 12), run under
/// `strace -e trace=sendto,recvmsg -e write=3 -e read=3` inside `unshare -n` on
/// kernel 6.18 with lo up, 10.77.99.1/32 on lo and
/// `iptables-nft -t mangle -A OUTPUT -p tcp --syn -j MARK --set-mark 0x2a`,
/// `iptables-nft -A OUTPUT|INPUT -p tcp --syn --dport 9 -j NFQUEUE --queue-num 0`,
/// then a connect to 10.77.99.1:9. It bound queue 0 (seq 1, then params + maxlen
/// 4096 as seq 2, both with NLM_F_ACK), and answered packet 1 with an accept
/// carrying the packet back as payload, 2 with a batch accept, 3 accept, 4 drop
/// (nlmsg_seq = the id). Run once with copy range 0xFFFF and once with 40.
@Suite struct NfqueueDecoderTests {
    // MARK: - Kernel bytes (recvmsg of the reference run)

    /// The SYN 10.77.99.1:46852 → 10.77.99.1:9 (60 bytes, with MSS, SACK, timestamps, wscale).
    static let syn = KT.hex("""
        45 00 00 3c 7d 22 40 00 40 06 e2 fd 0a 4d 63 01 0a 4d 63 01 b7 04 00 09 53 3c ce ea 00 00 00 00
        a0 02 ff d7 6e 06 00 00 02 04 ff d7 04 02 08 0a 96 fb 95 2e 00 00 00 00 01 03 03 0a
        """)

    /// Packet 1 at LOCAL_OUT: NFQA_PACKET_HDR, IFINDEX_OUTDEV lo, MARK 0x2a, PAYLOAD.
    static let outputPacket = KT.hex("""
        70 00 00 00 00 03 00 00 00 00 00 00 00 00 00 00 02 00 00 00 0b 00 01 00 00 00 00 01 08 00 03 00
        08 00 06 00 00 00 00 01 08 00 03 00 00 00 00 2a 40 00 0a 00
        """) + syn

    /// Packet 2, the same SYN at LOCAL_IN: IFINDEX_INDEV, MARK, HWADDR (lo: 6 zero bytes), SKB_INFO
    /// (NFQA_SKB_CSUM_NOTVERIFIED), PAYLOAD.
    static let inputPacket = KT.hex("""
        88 00 00 00 00 03 00 00 00 00 00 00 00 00 00 00 02 00 00 00 0b 00 01 00 00 00 00 02 08 00 01 00
        08 00 05 00 00 00 00 01 08 00 03 00 00 00 00 2a 10 00 09 00 00 06 00 00 00 00 00 00 00 00 00 00
        08 00 0e 00 00 00 00 04 40 00 0a 00
        """) + syn

    /// Copy range 40: packet 1 at LOCAL_OUT cut to 40 bytes, with NFQA_CAP_LEN 60.
    static let truncatedPacket = KT.hex("""
        64 00 00 00 00 03 00 00 00 00 00 00 00 00 00 00 02 00 00 00 0b 00 01 00 00 00 00 01 08 00 03 00
        08 00 06 00 00 00 00 01 08 00 03 00 00 00 00 2a 08 00 0d 00 00 00 00 3c 2c 00 0a 00 45 00 00 3c
        48 3e 40 00 40 06 17 e2 0a 4d 63 01 0a 4d 63 01 b7 16 00 09 12 31 c3 12 00 00 00 00 a0 02 ff d7
        35 f6 00 00
        """)

    /// The ack of the bind (seq 1): NLMSG_ERROR 0, NLM_F_CAPPED, the request's header echoed.
    static let bindAck = KT.hex("""
        24 00 00 00 02 00 00 01 01 00 00 00 f0 4c 00 00 00 00 00 00 1c 00 00 00 02 03 05 00 01 00 00 00
        00 00 00 00
        """)

    @Test func packetAtLocalOutFromTheKernel() throws {
        let packets = try NfqueueDecoder.packets(in: Self.outputPacket[...])
        #expect(packets == [QueuedPacket(id: 1, hook: 3, hardwareProtocol: 0x0800, inputInterface: nil, outputInterface: 1,
                                         mark: 0x2A, packetLength: 60, payload: Self.syn)])
        #expect(packets.first?.isTruncated == false)
    }

    @Test func packetAtLocalInFromTheKernel() throws {
        let packets = try NfqueueDecoder.packets(in: Self.inputPacket[...])
        #expect(packets == [QueuedPacket(id: 2, hook: 1, hardwareProtocol: 0x0800, inputInterface: 1, outputInterface: nil,
                                         mark: 0x2A, packetLength: 60, payload: Self.syn)])
    }

    @Test func packetCutAtTheCopyRangeKeepsItsRealLength() throws {
        let packet = try #require(try NfqueueDecoder.packets(in: Self.truncatedPacket[...]).first)
        #expect(packet.id == 1 && packet.hook == 3)
        #expect(packet.payload.count == 40)
        #expect(packet.packetLength == 60)
        #expect(packet.isTruncated)
        #expect(Array(packet.payload.prefix(4)) == [0x45, 0x00, 0x00, 0x3C])
    }

    @Test func ackIsAReplyWithErrnoZero() throws {
        var replies: [NfqueueReply] = []
        try NfqueueDecoder.walk(Self.bindAck[...]) { message in
            if case .reply(let reply) = message { replies.append(reply) }
        }
        #expect(replies == [NfqueueReply(sequence: 1, requestType: 0x0302, errno: 0, kernelMessage: nil)])
        #expect(try NfqueueDecoder.packets(in: Self.bindAck[...]).isEmpty)
    }

    // MARK: - Hand-built from the uapi structs

    /// NFQNL_MSG_PACKET: nlmsghdr, nfgenmsg {family, version 0, be16 res_id}, attributes.
    static func packetMessage(family: UInt8 = 2, queue: UInt16 = 0, _ attributes: [UInt8]) -> [UInt8] {
        KT.message(type: 0x0300, flags: 0, payload: [family, 0] + KT.be16(queue) + attributes)
    }

    /// struct nfqnl_msg_packet_hdr { be32 packet_id; be16 hw_protocol; u8 hook; } __packed (7 bytes).
    static func packetHeader(id: UInt32, hardwareProtocol: UInt16, hook: UInt8) -> [UInt8] {
        KT.attribute(1, be32(id) + KT.be16(hardwareProtocol) + [hook])
    }

    static func be32(_ value: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: value >> (24 - 8 * $0)) } }

    static let ipv6Packet: [UInt8] = [0x60, 0, 0, 0, 0, 20, 6, 64] + [UInt8](repeating: 0xFD, count: 32) + [UInt8](repeating: 0xAB, count: 20)

    @Test func ipv6PacketAtPostroutingWithBigEndianFields() throws {
        let bytes = Self.packetMessage(family: 10, queue: 7, Self.packetHeader(id: 0xDEAD_BEEF, hardwareProtocol: 0x86DD, hook: 4)
            + KT.attribute(6, Self.be32(0x0102_0304))        // NFQA_IFINDEX_OUTDEV
            + KT.attribute(4, [UInt8](repeating: 0, count: 16))  // NFQA_TIMESTAMP: skipped
            + KT.attribute(10, Self.ipv6Packet))
        #expect(try NfqueueDecoder.packets(in: bytes[...]) == [
            QueuedPacket(id: 0xDEAD_BEEF, hook: 4, hardwareProtocol: 0x86DD, inputInterface: nil, outputInterface: 0x0102_0304,
                         mark: 0, packetLength: 60, payload: Self.ipv6Packet),
        ])
    }

    @Test func severalMessagesInOneDatagramAndAnOffsetSlice() throws {
        let first = Self.packetMessage(Self.packetHeader(id: 7, hardwareProtocol: 0x0800, hook: 0) + KT.attribute(5, Self.be32(3))
                                       + KT.attribute(10, [0x45, 1, 2]))  // 3 bytes: padded to 4
        let second = Self.packetMessage(Self.packetHeader(id: 8, hardwareProtocol: 0x0800, hook: 2) + KT.attribute(5, Self.be32(3))
                                        + KT.attribute(6, Self.be32(4)))  // no payload (copy mode meta)
        let noop = KT.message(type: 1, flags: 0, payload: [])  // NLMSG_NOOP: skipped
        let buffer = [0xEE, 0xEE, 0xEE] + first + noop + second
        let packets = try NfqueueDecoder.packets(in: buffer[3...])
        #expect(packets.map(\.id) == [7, 8])
        #expect(packets[0].payload == [0x45, 1, 2])
        #expect(packets[0].inputInterface == 3 && packets[0].outputInterface == nil && packets[0].hook == 0)
        #expect(packets[1].payload == [] && packets[1].packetLength == 0)
        #expect(packets[1].inputInterface == 3 && packets[1].outputInterface == 4 && packets[1].hook == 2)
    }

    @Test func viewsBorrowTheDatagram() throws {
        let buffer = Self.outputPacket
        var views: [QueuedPacketView] = []
        try NfqueueDecoder.walk(buffer[...]) { if case .packet(let view) = $0 { views.append(view) } }
        let view = try #require(views.first)
        #expect(view.payload.startIndex == 52 && view.payload.endIndex == buffer.count)
        #expect(Array(view.payload) == Self.syn)
        #expect(QueuedPacket(view) == (try NfqueueDecoder.packets(in: buffer[...])).first)
        #expect(QueuedPacket(QueuedPacketView(QueuedPacket(view))) == QueuedPacket(view))
    }

    /// A failed verdict as the kernel reports it: NLMSG_ERROR -ENOENT, capped, the
    /// verdict's header echoed (type 0x0301, seq = the packet id 42).
    @Test func verdictFailureNamesItsPacket() throws {
        let echoed = KT.le32(32) + KT.le16(0x0301) + KT.le16(1) + KT.le32(42) + KT.le32(0)
        let bytes = KT.message(type: 2, flags: 0x100, sequence: 42, payload: KT.le32(UInt32(bitPattern: -ENOENT)) + echoed)
        var replies: [NfqueueReply] = []
        try NfqueueDecoder.walk(bytes[...]) { if case .reply(let reply) = $0 { replies.append(reply) } }
        let reply = try #require(replies.first)
        #expect(reply == NfqueueReply(sequence: 42, requestType: 0x0301, errno: ENOENT, kernelMessage: nil))
        #expect(NfqueueSocket.error(for: reply) == KernelError("nfqueue verdict for packet 42", errno: ENOENT))
        #expect(NfqueueSocket.error(for: NfqueueReply(sequence: 9, requestType: 0x0303, errno: ENOENT, kernelMessage: nil)).operation
                == "nfqueue batch verdict up to packet 9")
        #expect(NfqueueSocket.error(for: NfqueueReply(sequence: 2, requestType: 0x0302, errno: EINVAL, kernelMessage: "x")).operation
                == "nfnetlink_queue request type 770 (sequence 2)")
    }

    @Test func malformedPacketsThrow() {
        let header = Self.packetHeader(id: 1, hardwareProtocol: 0x0800, hook: 3)
        let cases: [(String, [UInt8])] = [
            ("no packet header", Self.packetMessage(KT.attribute(10, [0x45]))),
            ("short packet header", Self.packetMessage(KT.attribute(1, [0, 0, 0, 1, 8, 0]))),
            ("short mark", Self.packetMessage(header + KT.attribute(3, [0, 0, 1]))),
            ("short ifindex", Self.packetMessage(header + KT.attribute(6, []))),
            ("capture length below the payload", Self.packetMessage(header + KT.attribute(13, Self.be32(2)) + KT.attribute(10, [1, 2, 3]))),
            ("attribute overruns", Self.packetMessage(header + KT.le16(200) + KT.le16(10))),
            ("attribute length below its header", Self.packetMessage(header + KT.le16(2) + KT.le16(10))),
            ("no nfgenmsg", KT.message(type: 0x0300, flags: 0, payload: [])),
            ("message overruns", Array(Self.outputPacket.dropLast(4))),
            ("message length below its header", KT.le32(8) + [UInt8](repeating: 0, count: 12)),
        ]
        for (name, bytes) in cases {
            #expect(throws: NetlinkDecodeError.self, "\(name)") { try NfqueueDecoder.packets(in: bytes[...]) }
        }
        // A capture length that matches the payload is fine (the kernel only sends it when larger).
        #expect(throws: Never.self) {
            try NfqueueDecoder.packets(in: Self.packetMessage(header + KT.attribute(13, Self.be32(3)) + KT.attribute(10, [1, 2, 3]))[...])
        }
    }

    @Test func constantsMatchTheUapiHeader() {
        #expect(Nfnetlink.queueMsgPacket == UInt16(NFQNL_MSG_PACKET.rawValue))
        #expect(Nfnetlink.queueMsgVerdict == UInt16(NFQNL_MSG_VERDICT.rawValue))
        #expect(Nfnetlink.queueMsgVerdictBatch == UInt16(NFQNL_MSG_VERDICT_BATCH.rawValue))
        #expect(Nfnetlink.queueMsgConfig == UInt16(NFQNL_MSG_CONFIG.rawValue))
        #expect(Nfnetlink.queuePacketHeader == UInt16(NFQA_PACKET_HDR.rawValue))
        #expect(Nfnetlink.queueVerdictHeader == UInt16(NFQA_VERDICT_HDR.rawValue))
        #expect(Nfnetlink.queueMark == UInt16(NFQA_MARK.rawValue))
        #expect(Nfnetlink.queueInputInterface == UInt16(NFQA_IFINDEX_INDEV.rawValue))
        #expect(Nfnetlink.queueOutputInterface == UInt16(NFQA_IFINDEX_OUTDEV.rawValue))
        #expect(Nfnetlink.queuePayload == UInt16(NFQA_PAYLOAD.rawValue))
        #expect(Nfnetlink.queueCaptureLength == UInt16(NFQA_CAP_LEN.rawValue))
        #expect(Nfnetlink.queueConfigCommand == UInt16(NFQA_CFG_CMD.rawValue))
        #expect(Nfnetlink.queueConfigParams == UInt16(NFQA_CFG_PARAMS.rawValue))
        #expect(Nfnetlink.queueConfigMaxLength == UInt16(NFQA_CFG_QUEUE_MAXLEN.rawValue))
        #expect(Nfnetlink.queueCommandBind == UInt8(NFQNL_CFG_CMD_BIND.rawValue))
        #expect(Nfnetlink.queueCopyPacket == UInt8(NFQNL_COPY_PACKET.rawValue))
        #expect(MemoryLayout<nf_mmsghdr>.size == 64)  // struct mmsghdr on LP64
    }

    // MARK: - Encoders, against libnetfilter_queue (sendto of the reference run)

    @Test func configurationEqualsLibnetfilterQueue() {
        let bind = KT.hex("1c 00 00 00 02 03 05 00 01 00 00 00 00 00 00 00 00 00 00 00 08 00 01 00 01 00 00 02")
        let whole = KT.hex("""
            28 00 00 00 02 03 05 00 02 00 00 00 00 00 00 00 00 00 00 00 09 00 02 00 00 00 ff ff 02 00 00 00
            08 00 03 00 00 00 10 00
            """)
        let forty = KT.hex("""
            28 00 00 00 02 03 05 00 02 00 00 00 00 00 00 00 00 00 00 00 09 00 02 00 00 00 00 28 02 00 00 00
            08 00 03 00 00 00 10 00
            """)
        #expect(NfqueueSocket.configuration(queue: 0, copyRange: 0xFFFF, maxLength: 4096).map(\.bytes) == [bind, whole])
        #expect(NfqueueSocket.configuration(queue: 0, copyRange: 40, maxLength: 4096).map(\.bytes) == [bind, forty])
        let other = NfqueueSocket.configuration(queue: 0x0102, copyRange: 128, maxLength: 7)
        #expect(other.map { Array($0.bytes[16..<20]) } == [[0, 0, 1, 2], [0, 0, 1, 2]])  // res_id is the queue, big-endian
        #expect(other[0].operation == "nfnetlink_queue bind queue 258")
    }

    static func verdict(_ type: UInt16, id: UInt32, _ verdict: NfqueueVerdict, payload: [UInt8]? = nil, queue: UInt16 = 0) throws -> [UInt8] {
        var bytes: [UInt8] = []
        try NfqueueSocket.appendVerdict(to: &bytes, type: type, queue: queue, id: id, verdict: verdict.value, payload: payload?[...])
        return bytes
    }

    @Test func verdictsEqualLibnetfilterQueue() throws {
        #expect(try Self.verdict(1, id: 3, .accept)
                == KT.hex("20 00 00 00 01 03 01 00 03 00 00 00 00 00 00 00 00 00 00 00 0c 00 02 00 00 00 00 01 00 00 00 03"))
        #expect(try Self.verdict(1, id: 4, .drop)
                == KT.hex("20 00 00 00 01 03 01 00 04 00 00 00 00 00 00 00 00 00 00 00 0c 00 02 00 00 00 00 00 00 00 00 04"))
        #expect(try Self.verdict(3, id: 2, .accept)
                == KT.hex("20 00 00 00 03 03 01 00 02 00 00 00 00 00 00 00 00 00 00 00 0c 00 02 00 00 00 00 01 00 00 00 02"))
        // nfq_nlmsg_verdict_put_pkt with the 60-byte SYN.
        #expect(try Self.verdict(1, id: 1, .accept, payload: Self.syn)
                == KT.hex("60 00 00 00 01 03 01 00 01 00 00 00 00 00 00 00 00 00 00 00 0c 00 02 00 00 00 00 01 00 00 00 01 40 00 0a 00")
                + Self.syn)
    }

    @Test func verdictPayloadIsPaddedAndBounded() throws {
        let bytes = try Self.verdict(1, id: 0x0A0B_0C0D, .accept, payload: [1, 2, 3, 4, 5], queue: 9)
        #expect(bytes.count == 44)
        #expect(KT.header(bytes) == KT.Header(length: 41, type: 0x0301, flags: 1, sequence: 0x0A0B_0C0D, pid: 0))
        #expect(Array(bytes[16..<20]) == [0, 0, 0, 9])
        #expect(KT.walk(bytes[20...]) == [KT.Attr(type: 2, nested: false, value: [0, 0, 0, 1, 0x0A, 0x0B, 0x0C, 0x0D]),
                                          KT.Attr(type: 10, nested: false, value: [1, 2, 3, 4, 5])])
        // Two verdicts append into one datagram.
        var twice: [UInt8] = []
        try NfqueueSocket.appendVerdict(to: &twice, type: 1, queue: 0, id: 1, verdict: 1, payload: nil)
        try NfqueueSocket.appendVerdict(to: &twice, type: 3, queue: 0, id: 9, verdict: 0, payload: nil)
        #expect(try NetlinkDecoder.messages(twice[...]).map(\.sequence) == [1, 9])
        // The largest payload an attribute can carry, and one byte more.
        // (attribute length 65535: 4 + 65531 bytes, one byte of padding).
        let largest = try Self.verdict(1, id: 1, .accept, payload: [UInt8](repeating: 0, count: 65531))
        #expect(largest.count == 32 + 65536 && KT.header(largest).length == 32 + 65535)
        #expect(throws: KernelError("nfqueue verdict for packet 1 with a 65532-byte payload", errno: EMSGSIZE)) {
            try Self.verdict(1, id: 1, .accept, payload: [UInt8](repeating: 0, count: 65532))
        }
    }

    // MARK: - Injection: the destination a raw socket needs

    @Test func injectorFindsTheDestinationByVersion() throws {
        #expect(Array(try PacketInjector.destination(of: Self.syn[...])) == [10, 77, 99, 1])
        #expect(Array(try PacketInjector.destination(of: Self.ipv6Packet[...])) == [UInt8](repeating: 0xFD, count: 16))
        let offset = [9, 9] + Self.syn
        #expect(Array(try PacketInjector.destination(of: offset[2...])) == [10, 77, 99, 1])
        #expect(throws: KernelError("inject an empty packet", errno: EINVAL)) { try PacketInjector.destination(of: []) }
        #expect(throws: KernelError("inject a 19-byte IPv4 packet whose header needs 20 bytes", errno: EINVAL)) {
            try PacketInjector.destination(of: Self.syn[0..<19])
        }
        #expect(throws: KernelError("inject a 59-byte IPv4 packet whose header needs 60 bytes", errno: EINVAL)) {
            try PacketInjector.destination(of: [0x4F] + Self.syn[1..<59])
        }
        #expect(throws: KernelError("inject a 60-byte IPv4 packet whose header needs 20 bytes", errno: EINVAL)) {
            try PacketInjector.destination(of: [0x44] + Self.syn[1...])
        }
        #expect(throws: KernelError("inject a 39-byte IPv6 packet, shorter than its 40-byte header", errno: EINVAL)) {
            try PacketInjector.destination(of: Self.ipv6Packet[0..<39])
        }
        #expect(throws: KernelError("inject a packet of IP version 5", errno: EINVAL)) { try PacketInjector.destination(of: [0x55, 0]) }
    }

    // MARK: - Fuzz

    static let fuzzIterations = 100_000

    static func fuzzCorpus() throws -> [[UInt8]] {
        let header = packetHeader(id: 5, hardwareProtocol: 0x86DD, hook: 4)
        let echoed = KT.le32(32) + KT.le16(0x0301) + KT.le16(1) + KT.le32(42) + KT.le32(0)
        return [
            outputPacket, inputPacket, truncatedPacket, bindAck,
            outputPacket + inputPacket + bindAck,
            packetMessage(family: 10, header + KT.attribute(6, be32(2)) + KT.attribute(13, be32(1500)) + KT.attribute(10, ipv6Packet)),
            KT.message(type: 2, flags: 0x100, sequence: 42, payload: KT.le32(UInt32(bitPattern: -ENOENT)) + echoed),
            KT.message(type: 2, flags: 0x300, sequence: 42, payload: KT.le32(UInt32(bitPattern: -EINVAL)) + echoed
                       + KT.attribute(1, Array("bad verdict\0".utf8))),
            try verdict(1, id: 1, .accept, payload: syn),
        ]
    }

    /// Random and mutated datagrams (NetlinkFuzzTests' mutations plus 16-bit
    /// attribute lengths near the real ones): every one decodes or throws
    /// NetlinkDecodeError, quickly, and every payload lies inside the input.
    @Test func decoderSurvivesRandomAndMutatedInput() throws {
        var rng = KTSplitMix64(seed: 0x6E66_7175_6575_6500)  // "nfqueue"
        let corpus = try Self.fuzzCorpus()
        var outcome = NetlinkFuzzTests.Outcome()
        var packets = 0, replies = 0, views = 0
        let start = MonotonicClock.now(), cpuStart = ProcessCPU.threadSeconds()
        for iteration in 0..<Self.fuzzIterations {
            var bytes: [UInt8]
            if iteration % 10 == 0 {
                bytes = (0..<Int.random(in: 0...200, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            } else {
                bytes = NetlinkFuzzTests.mutate(corpus.randomElement(using: &rng)!, &rng)
                if iteration % 4 == 1, bytes.count >= 24 {
                    // An attribute length off by a little, where attributes start.
                    let at = 20 + Int.random(in: 0...((bytes.count - 22) / 4), using: &rng) * 4
                    let old = Int(bytes[at]) | Int(bytes[at + 1]) << 8
                    bytes.replaceSubrange(at..<(at + 2), with: KT.le16(UInt16(truncatingIfNeeded: old + Int.random(in: -8...8, using: &rng))))
                }
            }
            let lead = iteration % 3 == 0 ? Int.random(in: 1...7, using: &rng) : 0
            let buffer = [UInt8](repeating: 0xA5, count: lead) + bytes
            let slice = buffer[lead...]

            if let decoded = NetlinkFuzzTests.run(&outcome, "packets", { try NfqueueDecoder.packets(in: slice) }) {
                packets += decoded.count
                for packet in decoded { #expect(packet.packetLength >= packet.payload.count) }
            }
            _ = NetlinkFuzzTests.run(&outcome, "walk") {
                try NfqueueDecoder.walk(slice) { message in
                    switch message {
                    case .packet(let view):
                        views += 1
                        #expect(view.payload.startIndex >= slice.startIndex + 24 && view.payload.endIndex <= slice.endIndex)
                    case .reply(let reply):
                        replies += 1
                        #expect(reply.errno >= 0)
                    }
                }
            }
            // The message-level decoder straight on the bytes (as if after an nlmsghdr).
            if let view = NetlinkFuzzTests.run(&outcome, "packet", { try NfqueueDecoder.packet(slice) }) {
                #expect(view.payload.startIndex >= slice.startIndex + 8 && view.payload.endIndex <= slice.endIndex)
            }
        }
        let seconds = Double(MonotonicClock.now() - start) / 1e9, cpu = ProcessCPU.threadSeconds() - cpuStart
        // With this seed: ~82k values, ~218k decode errors, ~21k packets (~29k views: a walk shows
        // the packets before a malformed message), ~16k replies, under 2 s in a debug build.
        #expect(outcome.values > Self.fuzzIterations / 2, "\(outcome.values) values")
        #expect(outcome.decodeErrors > Self.fuzzIterations, "\(outcome.decodeErrors) decode errors")
        #expect(packets > Self.fuzzIterations / 10, "\(packets) packets decoded")
        #expect(views >= packets, "\(views) views")
        #expect(replies > 1_000, "\(replies) replies decoded")
        // This thread's CPU, not wall time: it catches a decoder gone quadratic (minutes) and
        // is not stretched by a busy machine or by tests running alongside (NetlinkFuzzTests).
        #expect(cpu < 10, "fuzzing took \(cpu) CPU s (\(seconds) s wall)")
        // For scripts/reliability's table.
        print("fuzz: NFQUEUE decoder: \(Self.fuzzIterations) inputs, \(outcome.values) values, \(outcome.decodeErrors) decode errors, no crash, in \((seconds * 100).rounded() / 100) s")
    }
}
