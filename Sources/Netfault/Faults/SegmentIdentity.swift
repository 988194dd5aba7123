/// Which segment a packet is, independent of when it was sent: the identity that
/// link-wide impairments draw their randomness from, so that the same scenario loses,
/// duplicates, corrupts, jitters and reorders the same segments run after run even when
/// timing changes the order they leave in. The Swift engine (`VerdictEngine`) and the
/// tc engine (bpf/fault_engine.bpf.c, `identify`) compute it bit for bit alike; this
/// comment is the specification of both.
///
/// - Flow: one direction, (family, source address, destination address, source port,
///   destination port, transport). Addresses as `PacketAddress` words (IPv4: high 0, low
///   the address as a big-endian number; IPv6: high and low the big-endian halves).
/// - Per flow the identity keeps: the ISN (sequence number of this direction's SYN or
///   SYN-ACK; a SYN with another sequence number starts the flow over; a flow first seen
///   without SYN takes its first segment's sequence number), the highest sequence end
///   sent (seq + payload + SYN + FIN), the first acknowledgment number the flow sent (any
///   segment with ACK), the last acknowledgment number a segment occupying no sequence
///   space sent and how many times in a row.
/// - Transmission: for a segment that occupies sequence space (payload, SYN or FIN): 1 if
///   its end lies beyond the highest end so far (serial arithmetic) or nothing was sent;
///   else 2 + how many times this (flow, sequence number) was sent again before (a table
///   only retransmissions fill; an LRU map in the kernel). For a segment that occupies none
///   (pure ACK, bare RST): 1 for a new acknowledgment number, n for the n-th in a row with
///   the same one. For other transports: the n-th packet of the flow.
/// - Hash: h = mix64(seed); then h = mix64(h ^ w) for w in: source high, source low,
///   destination high, destination low, (family << 40 | sport << 24 | dport << 8 |
///   transport), (relative seq << 32 | transmission); for a segment occupying no sequence
///   space also the relative acknowledgment (ack − the flow's first ack, 0 before any).
///   mix64 is SplitMix64's finalizer. Each purpose salts it once more: mix64(h ^ salt).
/// - Decisions: a probability becomes an integer threshold once (`threshold(_:)`) and a
///   purpose hits iff its hash < threshold (always at `.max`, never at 0). Jitter, in
///   integer nanoseconds: delay + hash % (2·jitter + 1) − jitter, at least 0. A corrupted
///   bit: hash % (bits after the IP header). No floating point in any decision.
/// - Seed: the host's seed (the scenario's seed plus the host's offset, `FaultRuntime`).
/// - Correlated loss, delay and reordering (netem's correlation) stay draws from an
///   order-based stream (`SplitMix64` in arrival order) and run only on NFQUEUE: their
///   meaning depends on the order itself.
/// - Only egress packets have an identity; it is updated for every packet leaving a host
///   that has impairments, before its segment faults decide (a segment a fault dropped
///   still counts as sent).
public struct SegmentIdentity: Sendable {
    private struct FlowState {
        var isn: UInt32?
        var highestEnd: UInt32?
        var lastAck: UInt32?
        var ackRepeats: UInt32 = 0
        var ackBase: UInt32?
        var packets: UInt32 = 0
    }

    private struct SequenceKey: Hashable {
        let flow: FlowKey
        let sequence: UInt32
    }

    /// The salts of each purpose.
    public enum Purpose: UInt64, Sendable {
        /// Whether a lossy link drops the segment.
        case loss = 0x6E66_0000_0000_0001
        /// Whether it is duplicated.
        case duplicate = 0x6E66_0000_0000_0002
        /// Whether it is corrupted.
        case corrupt = 0x6E66_0000_0000_0003
        /// Which bit a corruption flips.
        case corruptBit = 0x6E66_0000_0000_0004
        /// Its jitter.
        case jitter = 0x6E66_0000_0000_0005
        /// Whether it is sent ahead of the delayed ones (netem-style reordering).
        case reorder = 0x6E66_0000_0000_0006
    }

    /// One segment's identity.
    public struct Identity: Sendable, Equatable {
        /// The unsalted hash.
        public let hash: UInt64
        /// Which transmission of its sequence number (or, without one, of its ack number) it is, from 1.
        public let transmission: UInt32

        /// The hash for one purpose.
        public func hash(_ purpose: Purpose) -> UInt64 { SegmentIdentity.mix64(hash ^ purpose.rawValue) }

        /// Whether `purpose` hits at `threshold`.
        public func hits(_ purpose: Purpose, _ threshold: UInt64) -> Bool {
            threshold == .max || (threshold != 0 && hash(purpose) < threshold)
        }
    }

    private let seed: UInt64
    private var flows: [FlowKey: FlowState] = [:]
    private var retransmissions: [SequenceKey: UInt32] = [:]

    /// An empty identity table for a host with this seed.
    public init(seed: UInt64) { self.seed = seed }

    /// SplitMix64's finalizer.
    public static func mix64(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A probability (0…1) as a threshold: 0 never hits, `.max` always, else p·2⁶⁴ rounded down.
    public static func threshold(_ probability: Double) -> UInt64 {
        if !(probability > 0) { return 0 }
        if probability >= 1 { return .max }
        return UInt64(probability * 18_446_744_073_709_551_616.0)
    }

    /// Seconds as integer nanoseconds, rounded to the nearest (how both engines hold delays).
    public static func nanoseconds(_ seconds: Double) -> UInt64 {
        seconds > 0 ? UInt64((seconds * 1e9).rounded()) : 0
    }

    /// The delay after jitter, in nanoseconds.
    public static func jittered(delay: UInt64, jitter: UInt64, _ identity: Identity) -> UInt64 {
        guard jitter > 0 else { return delay }
        let spread = identity.hash(.jitter) % (2 &* jitter &+ 1)
        return delay &+ spread >= jitter ? delay &+ spread &- jitter : 0
    }

    /// Identifies one egress packet and records it as sent.
    public mutating func identify(_ header: PacketHeader) -> Identity {
        let flow = header.flow
        var state = flows[flow] ?? FlowState()
        var words: [UInt64] = []
        let transmission: UInt32
        if !header.isTCP {
            state.packets &+= 1
            transmission = state.packets
            words.append(UInt64(transmission))
        } else {
            let flags = header.flags
            if flags.contains(.syn) && state.isn != header.sequence {
                state = FlowState(isn: header.sequence)
            }
            if state.isn == nil { state.isn = header.sequence }
            if flags.contains(.ack) && state.ackBase == nil { state.ackBase = header.acknowledgment }
            let relative = header.sequence &- state.isn!
            let payload = UInt32(truncatingIfNeeded: header.payloadLength)
            let occupied = payload &+ (flags.contains(.syn) ? 1 : 0) &+ (flags.contains(.fin) ? 1 : 0)
            if occupied > 0 {
                let end = header.sequence &+ occupied
                if let highest = state.highestEnd, Int32(bitPattern: end &- highest) <= 0 {
                    let key = SequenceKey(flow: flow, sequence: header.sequence)
                    let before = retransmissions[key] ?? 0
                    transmission = before &+ 2
                    retransmissions[key] = before &+ 1
                } else {
                    transmission = 1
                    state.highestEnd = end
                }
                words.append(UInt64(relative) << 32 | UInt64(transmission))
            } else {
                if state.lastAck == header.acknowledgment {
                    state.ackRepeats &+= 1
                } else {
                    state.lastAck = header.acknowledgment
                    state.ackRepeats = 1
                }
                transmission = state.ackRepeats
                words.append(UInt64(relative) << 32 | UInt64(transmission))
                words.append(state.ackBase.map { UInt64(header.acknowledgment &- $0) } ?? 0)
            }
        }
        flows[flow] = state
        let family: UInt64 = header.source.isIPv6 ? 6 : 4
        var hash = Self.mix64(seed)
        for word in [header.source.high, header.source.low, header.destination.high, header.destination.low,
                     family << 40 | UInt64(header.sourcePort) << 24 | UInt64(header.destinationPort) << 8 | UInt64(header.transport)]
            + words {
            hash = Self.mix64(hash ^ word)
        }
        return Identity(hash: hash, transmission: transmission)
    }
}
