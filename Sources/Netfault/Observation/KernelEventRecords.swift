import NetfaultKernel

/// A TCP segment as a kernel event describes it (drops, retransmissions).
public struct EventSegment: Codable, Sendable, Equatable {
    /// The sending end, address:port.
    public var from: String
    /// The receiving end, address:port.
    public var to: String
    /// "SYN", "SYN,ACK", "ACK", "FIN,ACK", "PSH,ACK", "RST" …
    public var flags: String
    /// Absolute sequence and acknowledgment numbers (the kernel's, not relative).
    public var seq: UInt32
    /// The acknowledgment number (absolute), when the ACK flag is set.
    public var ack: UInt32?
    /// TCP payload bytes.
    public var length: Int

    /// A segment from `from` to `to` with tcpdump's `flags` and absolute sequence numbers.
    public init(from: String, to: String, flags: String, seq: UInt32, ack: UInt32? = nil, length: Int) {
        self.from = from
        self.to = to
        self.flags = flags
        self.seq = seq
        self.ack = ack
        self.length = length
    }

    static func flagNames(_ flags: UInt8) -> String {
        let names: [(UInt8, String)] = [(0x02, "SYN"), (0x01, "FIN"), (0x04, "RST"), (0x08, "PSH"), (0x10, "ACK")]
        let present = names.filter { flags & $0.0 != 0 }.map(\.1)
        return present.isEmpty ? "none" : present.joined(separator: ",")
    }
}

/// A segment the kernel freed without delivering it (kfree_skb), with the reason's name
/// as this kernel spells it (enum skb_drop_reason without SKB_DROP_REASON_: NO_SOCKET,
/// TCP_OLD_ACK, NETFILTER_DROP …).
public struct KernelDrop: Codable, Sendable, Equatable {
    /// Seconds since the scenario's start.
    public var time: Double
    /// The host whose kernel dropped it.
    public var host: String
    /// The drop reason's name on this kernel (NO_SOCKET, TCP_LISTEN_OVERFLOW, …).
    public var reason: String
    /// The segment dropped.
    public var segment: EventSegment

    /// A drop at `time` on `host` for `reason`.
    public init(time: Double, host: String, reason: String, segment: EventSegment) {
        self.time = time
        self.host = host
        self.reason = reason
        self.segment = segment
    }
}

/// A segment TCP sent again (tcp_retransmit_skb, tcp_retransmit_synack). `time` is when the
/// device took it (`timeSource` "departure"; the segment may have been held in a fault's
/// queue until after the tracepoint); where no departure was seen (a fault dropped it before
/// the device), the tracepoint's instant ("tracepoint"). `announced` is always
/// the tracepoint's; `earliest`, for a queued segment (data, SYN, FIN), is when TCP stamped
/// the transmission before sending it down.
public struct KernelRetransmission: Codable, Sendable, Equatable {
    /// What was retransmitted.
    public enum Kind: String, Codable, Sendable {
        /// A SYN, a SYN-ACK, a FIN, or data.
        case syn = "SYN", synAck = "SYN-ACK", fin = "FIN", data
    }
    /// Where a retransmission's `time` comes from.
    public enum TimeSource: String, Codable, Sendable {
        /// The device took it then; or the tracepoint's instant, where no departure was seen.
        case departure, tracepoint
    }
    /// The instant it left: the departure's, or the tracepoint's (`timeSource`), in seconds since the start.
    public var time: Double
    /// Where `time` comes from.
    public var timeSource: TimeSource
    /// The retransmission tracepoint's instant.
    public var announced: Double
    /// When TCP stamped the transmission, for a queued segment.
    public var earliest: Double?
    /// The host that retransmitted.
    public var host: String
    /// SYN, SYN-ACK, FIN or data.
    public var kind: Kind
    /// The segment retransmitted.
    public var segment: EventSegment

    /// `departed`: the device's instant, when one matched; else `time` is the tracepoint's.
    public init(announced: Double, departed: Double? = nil, earliest: Double? = nil, host: String, kind: Kind, segment: EventSegment) {
        self.time = departed ?? announced
        self.timeSource = departed == nil ? .tracepoint : .departure
        self.announced = announced
        self.earliest = earliest
        self.host = host
        self.kind = kind
        self.segment = segment
    }

    mutating func departed(at time: Double) {
        self.time = time
        timeSource = .departure
    }

    /// The best instant of its leaving: the device's, or else TCP's stamp (it left after).
    var sentAt: Double { timeSource == .departure ? time : earliest ?? time }
}

/// A RST a host sent (tcp_send_reset) or a socket took (tcp_receive_reset).
public struct KernelReset: Codable, Sendable, Equatable {
    /// Whether the host sent the RST or a socket of its took one.
    public enum Direction: String, Codable, Sendable {
        /// Sent by the host; received by one of its sockets.
        case sent, received
    }
    /// Seconds since the scenario's start.
    public var time: Double
    /// The host that sent or took the RST.
    public var host: String
    /// Sent or received.
    public var direction: Direction
    /// The socket's own end, address:port.
    public var local: String
    /// The other end, address:port.
    public var remote: String
    /// Why, where the kernel says (enum sk_rst_reason, 6.10+, for resets sent).
    public var reason: String?

    /// A reset at `time` on `host`.
    public init(time: Double, host: String, direction: Direction, local: String, remote: String, reason: String? = nil) {
        self.time = time
        self.host = host
        self.direction = direction
        self.local = local
        self.remote = remote
        self.reason = reason
    }
}
