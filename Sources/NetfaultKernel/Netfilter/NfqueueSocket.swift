import CNetfault
import Glibc

/// What happens to a queued packet.
public enum NfqueueVerdict: Sendable, Equatable {
    /// NF_ACCEPT: the packet goes on through the hooks after the queue's.
    case accept
    /// NF_DROP.
    case drop

    var value: UInt32 { self == .accept ? Nfnetlink.verdictAccept : Nfnetlink.verdictDrop }
}

/// An NFQUEUE listener: a NETLINK_NETFILTER socket opened inside a namespace and
/// bound to one queue, which receives the packets the namespace's rules queue
/// and answers each with a verdict. The kernel holds every queued packet until
/// its verdict; closing the socket unbinds the queue and drops what it still
/// holds (and, with no listener, packets sent to the queue are dropped).
///
/// Receiving fetches up to `batchSize` packets per system call (recvmmsg).
/// Verdicts ask for no ack: the kernel still answers a failed one (ENOENT for an
/// id it does not hold), and those answers are collected in `verdictErrors`.
/// Not thread-safe: one thread receives and sends verdicts.
public final class NfqueueSocket {
    public let fd: Int32
    public let queue: UInt16
    /// The copy range asked for (0: whole packets); the kernel caps it at 65531.
    public let copyRange: UInt32
    /// How many packets one recvmmsg can fetch.
    public let batchSize: Int
    /// Failures the kernel reported for verdicts (operation, errno), oldest first,
    /// noticed while receiving; `takeVerdictErrors()` empties it.
    public private(set) var verdictErrors: [KernelError] = []

    private let namespaceName: String
    private let slotSize: Int
    private var buffer: [UInt8]
    private var lengths: [Int]
    /// Packets that arrived while the binding was acknowledged: the next receive returns them first.
    private var early: [QueuedPacket] = []
    /// One verdict being sent now.
    private var message: [UInt8] = []
    /// Verdicts staged for `flushVerdicts()`.
    private var staged: [UInt8] = []

    /// A receive drains at most this many recvmmsg calls (batchSize packets each).
    static let maxRoundsPerReceive = 16
    /// Room for the attributes besides the payload in one packet message (they take ~100 bytes).
    static let messageOverhead = 1024
    /// A datagram of staged verdicts is sent when it would grow past this (the
    /// kernel refuses one larger than the socket's send buffer, ~208 KiB).
    static let stagedLimit = 65536
    /// The socket receive buffer (SO_RCVBUFFORCE; the kernel doubles it): room
    /// for a full queue of 4096 packets of 1500 bytes.
    static let receiveBufferBytes: Int32 = 16 << 20

    /// Equivalent to what libnetfilter_queue's `nfq_create_queue` and
    /// `nfq_set_mode(NFQNL_COPY_PACKET, copyRange)` plus `nfq_set_queue_maxlen`
    /// do (NFQNL_CFG_CMD_BIND, NFQA_CFG_PARAMS, NFQA_CFG_QUEUE_MAXLEN), on a socket
    /// opened inside `namespace`, with NETLINK_NO_ENOBUFS and a 16 MiB receive
    /// buffer. `copyRange` bytes of each packet are copied to user space (0 or
    /// more than 65531: whole packets); `maxLength` packets may wait for a verdict
    /// before the kernel drops new ones. Throws EPERM when another socket holds the queue.
    public init(namespace: NetworkNamespace, queue: UInt16, copyRange: UInt32, maxLength: UInt32 = 4096,
                batchSize: Int = 64) throws {
        precondition(batchSize > 0, "batchSize must be positive")
        self.queue = queue
        self.copyRange = copyRange
        self.batchSize = batchSize
        namespaceName = namespace.name
        let range = copyRange == 0 ? Nfnetlink.queueMaxCopyRange : min(copyRange, Nfnetlink.queueMaxCopyRange)
        slotSize = (Int(range) + Self.messageOverhead + 15) & ~15
        buffer = [UInt8](repeating: 0, count: slotSize * batchSize)
        lengths = [Int](repeating: 0, count: batchSize)
        fd = try Sys.socket(inNamespace: namespace.fd, domain: AF_NETLINK, type: Int32(SOCK_RAW.rawValue),
                            protocol: NETLINK_NETFILTER, operation: "socket(AF_NETLINK, NETLINK_NETFILTER) in \(namespace.name)")
        do {
            try Sys.setSocketOption(fd, level: SOL_NETLINK, name: NETLINK_EXT_ACK, value: 1, operation: "setsockopt NETLINK_EXT_ACK")
            try Sys.setSocketOption(fd, level: SOL_NETLINK, name: NETLINK_CAP_ACK, value: 1, operation: "setsockopt NETLINK_CAP_ACK")
            try Sys.setSocketOption(fd, level: SOL_NETLINK, name: NETLINK_NO_ENOBUFS, value: 1, operation: "setsockopt NETLINK_NO_ENOBUFS")
            try Sys.setSocketOption(fd, level: SOL_SOCKET, name: SO_RCVBUFFORCE, value: Self.receiveBufferBytes,
                                    operation: "setsockopt SO_RCVBUFFORCE \(Self.receiveBufferBytes)")
            try configure(Self.configuration(queue: queue, copyRange: copyRange, maxLength: maxLength))
        } catch {
            Sys.close(fd)
            throw error
        }
    }

    deinit { Sys.close(fd) }

    // MARK: - Receiving

    /// Waits up to `timeoutMilliseconds` (-1: forever, 0: not at all) for packets
    /// and returns every packet already queued, decoded and copied (at most
    /// 16 × batchSize per call; the rest stay for the next call).
    public func receive(timeoutMilliseconds: Int32) throws -> [QueuedPacket] {
        var result: [QueuedPacket] = []
        try receive(timeoutMilliseconds: timeoutMilliseconds) { result.append(QueuedPacket($0)) }
        return result
    }

    /// The same without copying: `body` sees each packet with its payload borrowed
    /// from the receive buffer (valid until the next receive). Returns how many
    /// packets it saw. Verdict failures among the messages go to `verdictErrors`.
    @discardableResult
    public func receive(timeoutMilliseconds: Int32, _ body: (QueuedPacketView) -> Void) throws -> Int {
        var count = 0
        if !early.isEmpty {
            let packets = early
            early = []
            for packet in packets { body(QueuedPacketView(packet)) }
            count = packets.count
        }
        var received = try fetch()
        if received == 0, count == 0, timeoutMilliseconds != 0 {
            guard try Sys.waitReadable(fd, timeoutMilliseconds: timeoutMilliseconds,
                                       operation: "poll nfqueue \(queue) in \(namespaceName)") else { return 0 }
            received = try fetch()
        }
        var rounds = 1
        while received > 0 {
            var failure: Error?
            for slot in 0..<received {
                let length = lengths[slot]
                guard length >= 0 else {
                    failure = failure ?? KernelError("receive on nfqueue \(queue) in \(namespaceName): a message larger than its \(slotSize)-byte slot",
                                                     errno: EMSGSIZE)
                    continue
                }
                let start = slot * slotSize
                do {
                    try NfqueueDecoder.walk(buffer[start..<(start + length)]) { message in
                        switch message {
                        case .packet(let packet):
                            count += 1
                            body(packet)
                        case .reply(let reply):
                            if reply.errno != 0 { verdictErrors.append(Self.error(for: reply)) }
                        }
                    }
                } catch {
                    failure = failure ?? error
                }
            }
            if let failure { throw failure }
            guard received == batchSize, rounds < Self.maxRoundsPerReceive else { break }
            received = try fetch()
            rounds += 1
        }
        return count
    }

    /// Returns and forgets the verdict failures collected so far.
    public func takeVerdictErrors() -> [KernelError] {
        defer { verdictErrors = [] }
        return verdictErrors
    }

    /// One non-blocking recvmmsg into the slots.
    private func fetch() throws -> Int {
        let slotSize = slotSize, fd = fd
        return try buffer.withUnsafeMutableBytes { raw in
            try lengths.withUnsafeMutableBufferPointer { lengths in
                try Sys.receiveMany(fd, into: raw, slotSize: slotSize, lengths: lengths, operation: "recvmmsg on nfqueue \(queue)")
            }
        }
    }

    // MARK: - Verdicts

    /// Equivalent to libnetfilter_queue's `nfq_nlmsg_verdict_put` (with
    /// `nfq_nlmsg_verdict_put_pkt` when `payload` is given) sent at once: the
    /// packet `id` is accepted or dropped. With `payload`, the kernel replaces the
    /// packet's bytes by it (growing or shrinking the packet) and recomputes
    /// nothing: IP length and checksums are the payload's own, and a segment whose
    /// TCP checksum does not match is dropped by the receiver (TcpInCsumErrors),
    /// veth included. A payload shorter than the packet's IP header makes the
    /// kernel drop the packet, silently.
    public func verdict(_ id: UInt32, _ verdict: NfqueueVerdict, payload: [UInt8]? = nil) throws {
        message.removeAll(keepingCapacity: true)
        try Self.appendVerdict(to: &message, type: Nfnetlink.queueMsgVerdict, queue: queue, id: id, verdict: verdict.value, payload: payload?[...])
        try send(message) { "nfqueue verdict \(verdict) for packet \(id) of queue \(self.queue)" }
    }

    /// NFQNL_MSG_VERDICT_BATCH, sent at once: the verdict for every packet the
    /// queue holds whose id is `id` or earlier (wrap-around aware), including
    /// packets meant to be held longer.
    public func verdict(upTo id: UInt32, _ verdict: NfqueueVerdict) throws {
        message.removeAll(keepingCapacity: true)
        try Self.appendVerdict(to: &message, type: Nfnetlink.queueMsgVerdictBatch, queue: queue, id: id, verdict: verdict.value, payload: nil)
        try send(message) { "nfqueue batch verdict \(verdict) up to packet \(id) of queue \(self.queue)" }
    }

    /// Like `verdict(_:_:payload:)`, but kept for the next `flushVerdicts()`, which
    /// sends every staged verdict in one datagram: one system call for many
    /// verdicts, applied by the kernel in order.
    public func stageVerdict(_ id: UInt32, _ verdict: NfqueueVerdict, payload: [UInt8]? = nil) throws {
        if staged.count + 32 + (payload.map { $0.count + 4 } ?? 0) > Self.stagedLimit { try flushVerdicts() }
        try Self.appendVerdict(to: &staged, type: Nfnetlink.queueMsgVerdict, queue: queue, id: id, verdict: verdict.value, payload: payload?[...])
    }

    /// Like `verdict(upTo:_:)`, kept for the next `flushVerdicts()`.
    public func stageVerdict(upTo id: UInt32, _ verdict: NfqueueVerdict) throws {
        if staged.count + 32 > Self.stagedLimit { try flushVerdicts() }
        try Self.appendVerdict(to: &staged, type: Nfnetlink.queueMsgVerdictBatch, queue: queue, id: id, verdict: verdict.value, payload: nil)
    }

    /// Sends the staged verdicts, if any, in one datagram.
    public func flushVerdicts() throws {
        guard !staged.isEmpty else { return }
        defer { staged.removeAll(keepingCapacity: true) }
        try send(staged) { "nfqueue verdicts (\(self.staged.count) bytes) for queue \(self.queue)" }
    }

    private func send(_ bytes: [UInt8], operation: () -> String) throws {
        do {
            try Sys.send(fd, bytes, operation: "")
        } catch let error as KernelError {
            throw KernelError(operation(), errno: error.errno)
        }
    }

    // MARK: - Messages (pure)

    /// Appends one verdict message: nlmsghdr (NLM_F_REQUEST, no ack, nlmsg_seq =
    /// the packet id so a failure names its packet), nfgenmsg (AF_UNSPEC, res_id =
    /// queue), NFQA_VERDICT_HDR, and NFQA_PAYLOAD if given. Written by hand rather
    /// than with `NetlinkMessage`: it is the hot path, and a payload may be up to
    /// 64 KiB. The bytes equal libnetfilter_queue's (see NfqueueDecoderTests).
    static func appendVerdict(to bytes: inout [UInt8], type: UInt16, queue: UInt16, id: UInt32, verdict: UInt32,
                              payload: ArraySlice<UInt8>?) throws {
        let payloadAttribute = payload.map { 4 + $0.count } ?? 0
        guard payloadAttribute <= Int(UInt16.max) else {
            throw KernelError("nfqueue verdict for packet \(id) with a \(payload?.count ?? 0)-byte payload", errno: EMSGSIZE)
        }
        let length = 16 + 4 + 12 + payloadAttribute
        // Integers go in through withUnsafeBytes: no temporary arrays on the hot path.
        func put<T: FixedWidthInteger>(_ value: T) { withUnsafeBytes(of: value) { bytes.append(contentsOf: $0) } }
        // nlmsghdr and nlattr fields are in host order, the nfnetlink_queue ones big-endian.
        put(UInt32(length))                                   // nlmsg_len
        put(Nfnetlink.type(Nfnetlink.subsysQueue, type))      // nlmsg_type
        put(UInt16(NLM_F_REQUEST))                            // nlmsg_flags
        put(id)                                               // nlmsg_seq
        put(UInt32(0))                                        // nlmsg_pid
        put(UInt8(AF_UNSPEC)); put(Nfnetlink.version0); put(queue.bigEndian)  // nfgenmsg
        put(UInt16(12)); put(Nfnetlink.queueVerdictHeader)    // NFQA_VERDICT_HDR
        put(verdict.bigEndian); put(id.bigEndian)
        if let payload {
            put(UInt16(payloadAttribute)); put(Nfnetlink.queuePayload)  // NFQA_PAYLOAD
            bytes.append(contentsOf: payload)
            for _ in 0..<((4 - payload.count % 4) % 4) { bytes.append(0) }
        }
    }

    /// The configuration requests, each acked: bind the queue, then copy mode and
    /// range with the queue's maximum length, as libnetfilter_queue's
    /// `nfq_nlmsg_cfg_put_cmd`, `nfq_nlmsg_cfg_put_params` and
    /// `nfq_nlmsg_cfg_put_qmaxlen` build them (sequence numbers 1 and 2).
    static func configuration(queue: UInt16, copyRange: UInt32, maxLength: UInt32) -> [NetlinkMessage] {
        let type = Nfnetlink.type(Nfnetlink.subsysQueue, Nfnetlink.queueMsgConfig)
        var bind = NetlinkMessage(type: type, flags: .nlRequestAck, operation: "nfnetlink_queue bind queue \(queue)") { m in
            m.putHeader(Nfnetlink.genHeader(family: UInt8(AF_UNSPEC), resourceID: queue))
            // struct nfqnl_msg_config_cmd { u8 command; u8 _pad; be16 pf; }: pf is ignored since Linux 3.8,
            // a queue gets IPv4 and IPv6 packets alike.
            m.put(Nfnetlink.queueConfigCommand, bytes: [Nfnetlink.queueCommandBind, 0] + Nfnetlink.bigEndian(UInt16(AF_INET)))
        }
        var parameters = NetlinkMessage(type: type, flags: .nlRequestAck,
                                        operation: "nfnetlink_queue queue \(queue): copy packets (range \(copyRange)), at most \(maxLength) queued") { m in
            m.putHeader(Nfnetlink.genHeader(family: UInt8(AF_UNSPEC), resourceID: queue))
            // struct nfqnl_msg_config_params { be32 copy_range; u8 copy_mode; } (packed: 5 bytes)
            m.put(Nfnetlink.queueConfigParams, bytes: Nfnetlink.bigEndian(copyRange) + [Nfnetlink.queueCopyPacket])
            m.put(Nfnetlink.queueConfigMaxLength, bytes: Nfnetlink.bigEndian(maxLength))
        }
        bind.setSequence(1)
        parameters.setSequence(2)
        return [bind, parameters]
    }

    /// Sends the configuration in one datagram and waits for every ack. Packets
    /// that arrive meanwhile are kept for the first receive.
    private func configure(_ requests: [NetlinkMessage]) throws {
        var awaited = Dictionary(uniqueKeysWithValues: requests.enumerated().map { (UInt32($0.offset + 1), $0.element.operation) })
        try Sys.send(fd, requests.flatMap(\.bytes), operation: requests[0].operation)
        var firstError: KernelError?
        while !awaited.isEmpty {
            // The kernel answers while handling the send, so the acks are already queued.
            guard try Sys.waitReadable(fd, timeoutMilliseconds: 5000, operation: requests[0].operation) else {
                throw KernelError(requests[0].operation + ": no ack within 5 s", errno: ETIMEDOUT)
            }
            let received = try fetch()
            for slot in 0..<received where lengths[slot] >= 0 {
                let start = slot * slotSize
                try NfqueueDecoder.walk(buffer[start..<(start + lengths[slot])]) { message in
                    switch message {
                    case .packet(let packet):
                        early.append(QueuedPacket(packet))
                    case .reply(let reply):
                        guard let operation = awaited.removeValue(forKey: reply.sequence) else { return }
                        if reply.errno != 0, firstError == nil {
                            firstError = KernelError(operation, errno: reply.errno, kernelMessage: reply.kernelMessage)
                        }
                    }
                }
            }
        }
        if let firstError { throw firstError }
    }

    /// A verdict failure as a `KernelError` naming the packet (its sequence number).
    static func error(for reply: NfqueueReply) -> KernelError {
        let operation: String
        switch reply.requestType {
        case Nfnetlink.type(Nfnetlink.subsysQueue, Nfnetlink.queueMsgVerdict):
            operation = "nfqueue verdict for packet \(reply.sequence)"
        case Nfnetlink.type(Nfnetlink.subsysQueue, Nfnetlink.queueMsgVerdictBatch):
            operation = "nfqueue batch verdict up to packet \(reply.sequence)"
        default:
            operation = "nfnetlink_queue request type \(reply.requestType) (sequence \(reply.sequence))"
        }
        return KernelError(operation, errno: reply.errno, kernelMessage: reply.kernelMessage)
    }
}
