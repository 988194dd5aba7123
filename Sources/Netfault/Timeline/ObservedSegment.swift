/// One TCP segment as one host's capture saw it (or, for a segment a fault dropped
/// before it reached the wire, as the fault engine saw it), joined with what the
/// faults did to it.
public struct ObservedSegment: Sendable, Equatable {
    /// Seconds since the scenario's start.
    public var time: Double
    /// The host whose capture saw it.
    public let host: String
    /// Sent or received by that host.
    public let direction: DecodedFrame.Direction
    /// Its IP and TCP header fields (absolute sequence numbers).
    public let header: PacketHeader
    /// The TCP window field, unscaled.
    public let window: UInt16
    /// Its TCP options.
    public let options: TCPOptions
    /// What a fault did: nil, "dropped", "delayed 300 ms", "duplicated", "duplicate", …
    public var fault: String?
    /// The instant is the fault engine's reading when the segment reached its queue,
    /// not a kernel timestamp: the segment never reached the wire to be captured.
    public var engineStamped = false
    /// A segment only the engine saw, re-timed at the kernel's instant of its sending (its
    /// retransmission event; for a first SYN, its socket's SYN_SENT): no queue margin applies to it.
    public var kernelStamped = false
    /// It left its host but a fault dropped it on the way (at the link's other end): it has no receiver.
    public var lost = false
    /// Whether the instant may be late by the fault engine's queue wake-up.
    public var queueStamped: Bool { engineStamped && !kernelStamped }
    /// What kinds of segment this is (SYN, FIN-ACK, …), from its flow's history at this host.
    public var kinds: Set<SegmentKind> = []
    /// Sequence and acknowledgment numbers relative to each direction's first (SYN) sequence number.
    public var relativeSequence: UInt32 = 0
    /// The acknowledgment number relative to the other direction's SYN.
    public var relativeAcknowledgment: UInt32 = 0
    /// For a sent segment: the host whose capture saw it arrive, if one did.
    public var receiver: String?
    /// Which frame of its host's capture this is (nil for an engine-stamped one), so the
    /// pcapng file can carry the fault's comment on it.
    public var frame: Int?

    /// A captured segment at `time` on `host`.
    public init(time: Double, host: String, direction: DecodedFrame.Direction, header: PacketHeader, window: UInt16,
                options: TCPOptions, fault: String? = nil, engineStamped: Bool = false) {
        self.time = time
        self.host = host
        self.direction = direction
        self.header = header
        self.window = window
        self.options = options
        self.fault = fault
        self.engineStamped = engineStamped
    }

    /// The source, address:port.
    public var source: String { VerdictEngine.endpoint(header.source, header.sourcePort) }
    /// The destination, address:port.
    public var destination: String { VerdictEngine.endpoint(header.destination, header.destinationPort) }
    /// The flags as tcpdump prints them (S, S., ., P., F., R).
    public var flags: String { header.flags.tcpdump }
    /// TCP payload bytes.
    public var length: Int { header.payloadLength }

    /// Sent by `host` (or forwarded by it): the sender's copy of a segment.
    public var isSent: Bool { direction == .out }

    /// "S. seq 0 ack 1 win 65160 len 0": tcpdump's order.
    public var summary: String {
        var text = "\(flags) seq \(relativeSequence)"
        if header.flags.contains(.ack) { text += " ack \(relativeAcknowledgment)" }
        // A segment only the fault engine saw has no captured window.
        text += (engineStamped ? "" : " win \(window)") + " len \(length)"
        return text
    }
}
