import CNetfault

/// One NFQNL_MSG_PACKET: a packet the kernel holds until it gets a verdict,
/// with its payload copied out of the receive buffer (safe to keep, e.g. while
/// a delay runs).
public struct QueuedPacket: Sendable, Equatable {
    /// NFQA_PACKET_HDR packet_id (host order): what a verdict names. Per queue,
    /// counting from 1 in arrival order.
    public let id: UInt32
    /// NF_INET_PRE_ROUTING 0, LOCAL_IN 1, FORWARD 2, LOCAL_OUT 3, POST_ROUTING 4.
    public let hook: UInt8
    /// ETH_P_IP (0x0800) or ETH_P_IPV6 (0x86DD).
    public let hardwareProtocol: UInt16
    /// NFQA_IFINDEX_INDEV: the interface it arrived on (prerouting, input, forward).
    public let inputInterface: UInt32?
    /// NFQA_IFINDEX_OUTDEV: the interface it leaves by (output, forward, postrouting).
    public let outputInterface: UInt32?
    /// NFQA_MARK, or 0 when the packet carries none.
    public let mark: UInt32
    /// The packet's real length: NFQA_CAP_LEN when the payload was cut at the
    /// copy range, else the payload's length.
    public let packetLength: Int
    /// NFQA_PAYLOAD: the IP packet from its IP header on, at most copy-range bytes.
    public let payload: [UInt8]

    public init(id: UInt32, hook: UInt8, hardwareProtocol: UInt16, inputInterface: UInt32?, outputInterface: UInt32?,
                mark: UInt32, packetLength: Int, payload: [UInt8]) {
        self.id = id
        self.hook = hook
        self.hardwareProtocol = hardwareProtocol
        self.inputInterface = inputInterface
        self.outputInterface = outputInterface
        self.mark = mark
        self.packetLength = packetLength
        self.payload = payload
    }

    /// Copies a borrowed packet.
    public init(_ view: QueuedPacketView) {
        self.init(id: view.id, hook: view.hook, hardwareProtocol: view.hardwareProtocol, inputInterface: view.inputInterface,
                  outputInterface: view.outputInterface, mark: view.mark, packetLength: view.packetLength, payload: Array(view.payload))
    }

    /// Whether the payload was cut at the copy range.
    public var isTruncated: Bool { packetLength > payload.count }
}

/// A queued packet whose payload is a slice of the datagram it came in: no copy.
/// From `NfqueueSocket.receive(timeoutMilliseconds:_:)` the slice is of the
/// socket's receive buffer, valid until the next receive. Keeping one beyond
/// that is safe but makes the next receive copy the whole buffer: keep a
/// `QueuedPacket(view)` instead.
public struct QueuedPacketView: Sendable {
    public let id: UInt32
    public let hook: UInt8
    public let hardwareProtocol: UInt16
    public let inputInterface: UInt32?
    public let outputInterface: UInt32?
    public let mark: UInt32
    public let packetLength: Int
    public let payload: ArraySlice<UInt8>

    public init(id: UInt32, hook: UInt8, hardwareProtocol: UInt16, inputInterface: UInt32?, outputInterface: UInt32?,
                mark: UInt32, packetLength: Int, payload: ArraySlice<UInt8>) {
        self.id = id
        self.hook = hook
        self.hardwareProtocol = hardwareProtocol
        self.inputInterface = inputInterface
        self.outputInterface = outputInterface
        self.mark = mark
        self.packetLength = packetLength
        self.payload = payload
    }

    /// A view of an owned packet (its payload array is shared, not copied).
    public init(_ packet: QueuedPacket) {
        self.init(id: packet.id, hook: packet.hook, hardwareProtocol: packet.hardwareProtocol, inputInterface: packet.inputInterface,
                  outputInterface: packet.outputInterface, mark: packet.mark, packetLength: packet.packetLength, payload: packet.payload[...])
    }

    public var isTruncated: Bool { packetLength > payload.count }
}

/// The kernel's answer to a request on the queue socket (NLMSG_ERROR): an ack
/// (errno 0) for a configuration request, or the failure of a verdict, which
/// the kernel reports even unasked (ENOENT: no queued packet has that id).
public struct NfqueueReply: Sendable, Equatable {
    /// nlmsg_seq of the request: netfault's verdicts carry their packet id there.
    public let sequence: UInt32
    /// nlmsg_type of the request, from the header the kernel echoes (0 if it echoed none).
    public let requestType: UInt16
    /// 0 for an ack, else the errno.
    public let errno: Int32
    public let kernelMessage: String?
}

/// What a queue socket receives.
public enum NfqueueMessage: Sendable {
    case packet(QueuedPacketView)
    case reply(NfqueueReply)
}

/// Pure decoding of what an NFQUEUE socket receives (one datagram: netlink
/// messages, each an nlmsghdr, struct nfgenmsg and attributes whose integers are
/// big-endian). Every length is checked against the buffer; malformed input
/// throws `NetlinkDecodeError`. Fuzzed in NfqueueDecoderTests.
public enum NfqueueDecoder {
    static let packetType = Nfnetlink.type(Nfnetlink.subsysQueue, Nfnetlink.queueMsgPacket)
    static let headerLength = 16   // NLMSG_HDRLEN
    static let genHeaderLength = 4  // struct nfgenmsg

    /// Every NFQNL_MSG_PACKET of a datagram, payloads copied; replies and other messages are skipped.
    public static func packets(in datagram: ArraySlice<UInt8>) throws -> [QueuedPacket] {
        var result: [QueuedPacket] = []
        try walk(datagram) { message in
            if case .packet(let view) = message { result.append(QueuedPacket(view)) }
        }
        return result
    }

    /// Calls `body` for each packet (its payload a slice of `datagram`) and each
    /// NLMSG_ERROR of the datagram, in order; other message types are skipped.
    /// Throws at the first malformed message, after `body` saw the ones before it.
    public static func walk(_ datagram: ArraySlice<UInt8>, _ body: (NfqueueMessage) throws -> Void) throws {
        var offset = datagram.startIndex
        while datagram.endIndex - offset >= headerLength {
            let length = Int(datagram.loadU32(at: offset))
            guard length >= headerLength, length <= datagram.endIndex - offset else {
                throw NetlinkDecodeError(reason: "message length \(length) at offset \(offset - datagram.startIndex) exceeds the \(datagram.endIndex - offset) bytes left")
            }
            let type = datagram.loadU16(at: offset + 4)
            let payload = datagram[(offset + headerLength)..<(offset + length)]
            if type == packetType {
                try body(.packet(try packet(payload)))
            } else if type == UInt16(NLMSG_ERROR) {
                let message = ReceivedMessage(type: type, flags: datagram.loadU16(at: offset + 6),
                                              sequence: datagram.loadU32(at: offset + 8), payload: payload)
                let failure = try NetlinkDecoder.error(message)
                // struct nlmsgerr { int error; struct nlmsghdr msg; }: the request's type at 4 + 4.
                let requestType = payload.count >= 4 + headerLength ? payload.loadU16(at: payload.startIndex + 8) : 0
                try body(.reply(NfqueueReply(sequence: message.sequence, requestType: requestType,
                                             errno: failure?.errno ?? 0, kernelMessage: failure?.kernelMessage)))
            }
            offset += min(Int(nf_nlmsg_align(UInt32(length))), datagram.endIndex - offset)
        }
    }

    /// Decodes the payload of one NFQNL_MSG_PACKET (what follows its nlmsghdr).
    public static func packet(_ payload: ArraySlice<UInt8>) throws -> QueuedPacketView {
        guard payload.count >= genHeaderLength else {
            throw NetlinkDecodeError(reason: "NFQNL_MSG_PACKET of \(payload.count) bytes is shorter than nfgenmsg")
        }
        var header: (id: UInt32, hardwareProtocol: UInt16, hook: UInt8)?
        var inputInterface: UInt32?, outputInterface: UInt32?, captureLength: UInt32?
        var mark: UInt32 = 0
        var data = payload[payload.endIndex...]
        var offset = payload.startIndex + genHeaderLength
        while payload.endIndex - offset >= 4 {
            let length = Int(payload.loadU16(at: offset))
            guard length >= 4, length <= payload.endIndex - offset else {
                throw NetlinkDecodeError(reason: "attribute length \(length) at offset \(offset - payload.startIndex) exceeds the \(payload.endIndex - offset) bytes left")
            }
            let type = nf_nla_type(payload.loadU16(at: offset + 2))
            let value = payload[(offset + 4)..<(offset + length)]
            switch type {
            case Nfnetlink.queuePacketHeader:
                // struct nfqnl_msg_packet_hdr { be32 packet_id; be16 hw_protocol; u8 hook; } (packed)
                guard value.count >= 7 else { throw short("NFQA_PACKET_HDR", value.count, 7) }
                header = (try bigEndianU32(value, "NFQA_PACKET_HDR"), value.loadBigEndianU16(at: value.startIndex + 4),
                          value[value.startIndex + 6])
            case Nfnetlink.queueMark: mark = try bigEndianU32(value, "NFQA_MARK")
            case Nfnetlink.queueInputInterface: inputInterface = try bigEndianU32(value, "NFQA_IFINDEX_INDEV")
            case Nfnetlink.queueOutputInterface: outputInterface = try bigEndianU32(value, "NFQA_IFINDEX_OUTDEV")
            case Nfnetlink.queueCaptureLength: captureLength = try bigEndianU32(value, "NFQA_CAP_LEN")
            case Nfnetlink.queuePayload: data = value
            default: break
            }
            offset += min(Int(nf_nla_align(UInt32(length))), payload.endIndex - offset)
        }
        guard let header else {
            throw NetlinkDecodeError(reason: "NFQNL_MSG_PACKET without NFQA_PACKET_HDR")
        }
        let packetLength = captureLength.map(Int.init) ?? data.count
        guard packetLength >= data.count else {
            throw NetlinkDecodeError(reason: "NFQA_CAP_LEN \(packetLength) is shorter than the \(data.count)-byte payload")
        }
        return QueuedPacketView(id: header.id, hook: header.hook, hardwareProtocol: header.hardwareProtocol,
                                inputInterface: inputInterface, outputInterface: outputInterface, mark: mark,
                                packetLength: packetLength, payload: data)
    }

    private static func bigEndianU32(_ value: ArraySlice<UInt8>, _ name: String) throws -> UInt32 {
        guard value.count >= 4 else { throw short(name, value.count, 4) }
        return UInt32(bigEndian: value.loadU32(at: value.startIndex))
    }

    private static func short(_ name: String, _ count: Int, _ needed: Int) -> NetlinkDecodeError {
        NetlinkDecodeError(reason: "\(name) of \(count) bytes is shorter than \(needed)")
    }
}
