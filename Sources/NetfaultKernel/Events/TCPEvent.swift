/// One event from the kernel's TCP tracepoints (bpf/tcp_events.bpf.c), decoded.
public struct TCPEvent: Sendable, Equatable {
    public enum Kind: UInt8, Sendable {
        /// inet_sock_set_state: a full socket changed state (never request or TIME_WAIT sockets).
        case state = 1
        /// tcp_retransmit_skb: data, a SYN or a FIN sent again.
        case retransmit = 2
        /// tcp_retransmit_synack: a listener's request socket sent its SYN-ACK again.
        case retransmitSynAck = 3
        /// tcp_send_reset: this host sent a RST.
        case sendReset = 4
        /// tcp_receive_reset: a socket of this host took a RST.
        case receiveReset = 5
        /// kfree_skb: the kernel dropped a TCP segment, with its reason.
        case drop = 6
        /// net_dev_queue / qdisc_dequeue: a retransmission that was still held in a queue
        /// (a fault's) when announced left the device at `departed`.
        case departure = 7
    }

    public var kind: Kind
    /// CLOCK_MONOTONIC nanoseconds (bpf_ktime_get_ns), the clock of a scenario's t0.
    public var time: Int64
    /// For a retransmitted queued segment: when TCP stamped the transmission (skb_mstamp_ns,
    /// CLOCK_MONOTONIC) before sending it down; it left between this and `time`.
    public var stamped: Int64?
    /// For a retransmission or a departure: when the device took this transmission (just
    /// before or after the capture's tap, CLOCK_MONOTONIC); nil when it had not left yet.
    public var departed: Int64?
    /// The network namespace's inode (`ls -Li /proc/PID/ns/net`).
    public var netns: UInt32
    /// The socket's own end; for drops, the segment's source.
    public var local: Endpoint
    /// The socket's peer; for drops, the segment's destination.
    public var remote: Endpoint
    public var oldState: TCPState?
    public var newState: TCPState?
    /// Absolute sequence number (retransmissions, drops; a SYN-ACK's initial one).
    public var sequence: UInt32
    /// Absolute acknowledgment number (drops only).
    public var acknowledgment: UInt32
    /// Payload bytes of the segment (retransmissions, drops).
    public var length: Int
    /// TCP header flags: FIN 0x01, SYN 0x02, RST 0x04, PSH 0x08, ACK 0x10.
    public var flags: UInt8
    /// The socket's kernel address: with `netns`, its identity while it lives (state events;
    /// retransmissions and departures: the sending socket, a request socket for SYN-ACKs).
    public var socket: UInt64
    /// The drop reason (enum skb_drop_reason) or reset reason (enum sk_rst_reason, 6.10+)
    /// as this kernel numbers it; names come from its BTF (`KernelEnumNames`).
    public var reason: UInt32?

    public init(kind: Kind, time: Int64, netns: UInt32, local: Endpoint, remote: Endpoint,
                oldState: TCPState? = nil, newState: TCPState? = nil, sequence: UInt32 = 0,
                acknowledgment: UInt32 = 0, length: Int = 0, flags: UInt8 = 0, reason: UInt32? = nil, socket: UInt64 = 0,
                stamped: Int64? = nil, departed: Int64? = nil) {
        self.kind = kind
        self.time = time
        self.netns = netns
        self.local = local
        self.remote = remote
        self.oldState = oldState
        self.newState = newState
        self.sequence = sequence
        self.acknowledgment = acknowledgment
        self.length = length
        self.flags = flags
        self.reason = reason
        self.socket = socket
        self.stamped = stamped
        self.departed = departed
    }
}

/// Reads `struct nf_tcp_event` (bpf/tcp_events.h) from the ring buffer's bytes. Pure.
public enum TCPEventDecoder {
    public static let recordSize = 96
    static let noReason: UInt32 = 0xffff_ffff

    /// nil for a record too short, of an unknown kind or family.
    public static func decode(_ bytes: UnsafeRawBufferPointer) -> TCPEvent? {
        guard bytes.count >= recordSize, let kind = TCPEvent.Kind(rawValue: bytes[30]) else { return nil }
        func u16(_ offset: Int) -> UInt16 { UInt16(bytes[offset]) | UInt16(bytes[offset + 1]) << 8 }
        func u32(_ offset: Int) -> UInt32 { (0..<4).reduce(0) { $0 | UInt32(bytes[offset + $1]) << (8 * $1) } }
        func u64(_ offset: Int) -> UInt64 { (0..<8).reduce(0) { $0 | UInt64(bytes[offset + $1]) << (8 * $1) } }
        let addressLength: Int
        switch bytes[31] {
        case 2: addressLength = 4
        case 10: addressLength = 16
        default: return nil
        }
        guard let source = IPAddress(bytes: bytes[36..<(36 + addressLength)]),
              let destination = IPAddress(bytes: bytes[52..<(52 + addressLength)]) else { return nil }
        let reason = u32(20)
        return TCPEvent(
            kind: kind, time: Int64(bitPattern: u64(0)), netns: u32(8),
            local: Endpoint(address: source, port: u16(24)), remote: Endpoint(address: destination, port: u16(26)),
            oldState: kind == .state ? TCPState(kernelValue: bytes[32]) : nil,
            newState: kind == .state ? TCPState(kernelValue: bytes[33]) : nil,
            sequence: u32(12), acknowledgment: u32(16), length: Int(u16(28)), flags: bytes[34],
            reason: reason == noReason ? nil : reason, socket: u64(72),
            stamped: u64(80) == 0 ? nil : Int64(bitPattern: u64(80)),
            departed: u64(88) == 0 ? nil : Int64(bitPattern: u64(88)))
    }
}
