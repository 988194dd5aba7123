/// An IPv4 or IPv6 address as the fault engine's maps hold it: two big-endian words read
/// as numbers (IPv4: high 0, low the address), as `PacketAddress` does.
public struct KernelAddress: Sendable, Hashable {
    public let high: UInt64
    public let low: UInt64
    public let isIPv6: Bool

    /// An address from its words.
    public init(high: UInt64, low: UInt64, isIPv6: Bool) {
        self.high = high
        self.low = low
        self.isIPv6 = isIPv6
    }
}

/// A segment fault as one entry of the tc engine's `rules` map (`struct nf_fault_rule`
/// in bpf/fault_engine.h): which packets it covers, which of them it selects, and what it
/// does to them. Built from a `PlacedFault` by Netfault's `KernelFaultConversion`.
public struct KernelFaultRule: Sendable, Equatable {
    /// `enum nf_kind`: the segment kinds, or every IP packet (partitions, blackholes).
    public enum Kind: UInt8, Sendable {
        case everyPacket = 0, syn, synAck, handshakeAck, pureAck, data, fin, finAck, rst, any
    }

    /// `enum nf_occurrence`, with its n.
    public enum Occurrence: Sendable, Equatable {
        case all, nth(UInt32), first(UInt32), everyNth(UInt32), afterNth(UInt32)

        var encoded: (UInt8, UInt32) {
            switch self {
            case .all: (0, 0)
            case .nth(let n): (1, n)
            case .first(let n): (2, n)
            case .everyNth(let n): (3, n)
            case .afterNth(let n): (4, n)
            }
        }
    }

    /// What the rule does to a selected segment.
    public enum Action: Sendable, Equatable {
        case drop
        /// Earliest departure `nanoseconds` after now (needs an fq root qdisc).
        case delay(nanoseconds: UInt64)
        case duplicate
    }

    public var kind: Kind
    public var occurrence: Occurrence
    public var action: Action
    /// Either end's port; nil for any.
    public var port: UInt16?
    /// Nanoseconds since t0: the rule covers [start, end).
    public var windowStart: UInt64
    public var windowEnd: UInt64
    /// The interface it leaves by; nil for any.
    public var interfaceIndex: UInt32?
    /// Only packets to these addresses; nil for any.
    public var destinations: Set<KernelAddress>?

    /// A rule; the defaults cover everything always.
    public init(kind: Kind, occurrence: Occurrence = .all, action: Action, port: UInt16? = nil, windowStart: UInt64 = 0,
                windowEnd: UInt64 = .max, interfaceIndex: UInt32? = nil, destinations: Set<KernelAddress>? = nil) {
        self.kind = kind
        self.occurrence = occurrence
        self.action = action
        self.port = port
        self.windowStart = windowStart
        self.windowEnd = windowEnd
        self.interfaceIndex = interfaceIndex
        self.destinations = destinations
    }

    /// The map value's 40 bytes.
    var encoded: [UInt8] {
        var bytes = MapBytes()
        bytes.u64(windowStart)
        bytes.u64(windowEnd)
        if case .delay(let nanoseconds) = action { bytes.u64(nanoseconds) } else { bytes.u64(0) }
        bytes.u32(interfaceIndex ?? 0)
        let (occurrenceCode, operand) = occurrence.encoded
        bytes.u32(operand)
        bytes.u16(port ?? 0)
        bytes.u8(kind.rawValue)
        bytes.u8(occurrenceCode)
        let actionCode: UInt8 = switch action {
        case .drop: 1
        case .delay: 2
        case .duplicate: 3
        }
        bytes.u8(actionCode)
        bytes.u8(destinations == nil ? 0 : 1)
        bytes.u16(0)
        return bytes.bytes
    }
}

/// A link-wide impairment as one entry of the tc engine's `impairments` map (`struct
/// nf_impairment`): decisions by the segment's identity hash against integer thresholds
/// (see Netfault's `SegmentIdentity`), so both engines agree bit for bit.
public struct KernelImpairment: Sendable, Equatable {
    /// The interface whose egress it impairs.
    public var interfaceIndex: UInt32
    public var delayNanoseconds: UInt64
    public var jitterNanoseconds: UInt64
    /// A purpose hits when its hash is below the threshold; `.max` always, 0 never.
    public var lossThreshold: UInt64
    public var duplicateThreshold: UInt64
    public var corruptThreshold: UInt64
    public var reorderThreshold: UInt64

    /// An impairment from its integer form.
    public init(interfaceIndex: UInt32, delayNanoseconds: UInt64 = 0, jitterNanoseconds: UInt64 = 0, lossThreshold: UInt64 = 0,
                duplicateThreshold: UInt64 = 0, corruptThreshold: UInt64 = 0, reorderThreshold: UInt64 = 0) {
        self.interfaceIndex = interfaceIndex
        self.delayNanoseconds = delayNanoseconds
        self.jitterNanoseconds = jitterNanoseconds
        self.lossThreshold = lossThreshold
        self.duplicateThreshold = duplicateThreshold
        self.corruptThreshold = corruptThreshold
        self.reorderThreshold = reorderThreshold
    }

    /// The map value's 56 bytes.
    var encoded: [UInt8] {
        var bytes = MapBytes()
        for value in [delayNanoseconds, jitterNanoseconds, lossThreshold, duplicateThreshold, corruptThreshold, reorderThreshold] {
            bytes.u64(value)
        }
        bytes.u32(interfaceIndex)
        bytes.u32(0)
        return bytes.bytes
    }
}

/// One thing the tc engine did, decoded from its ring (`struct nf_fault_decision`).
public struct KernelFaultDecision: Sendable, Equatable {
    /// Which map entry acted.
    public enum Source: UInt8, Sendable { case rule = 1, impairment = 2 }
    /// `enum nf_action`.
    public enum Action: UInt8, Sendable { case drop = 1, delay, duplicate, corrupt, reorder }

    /// CLOCK_MONOTONIC nanoseconds at the hook (`bpf_ktime_get_ns`).
    public let timeNanoseconds: UInt64
    public let source: Source
    /// The rule's or the impairment's index (their order in the engine's init).
    public let index: Int
    public let action: Action
    /// For `.delay`.
    public let delayNanoseconds: UInt64
    public let interfaceIndex: UInt32
    public let transport: UInt8
    public let sourceAddress: KernelAddress
    public let destinationAddress: KernelAddress
    public let sourcePort: UInt16
    public let destinationPort: UInt16
    public let sequence: UInt32
    public let acknowledgment: UInt32
    /// Payload bytes (of the segment: a GSO packet's are decided one by one).
    public let length: Int
    /// TCP flags (FIN 0x01 … ACK 0x10).
    public let flags: UInt8
    /// The segment's transmission in its identity (0 when the host has no impairment).
    public let transmission: UInt32
    /// 1 for a TCP segment (a GSO packet's segments are decided one by one); a non-TCP GSO
    /// packet's skb->gso_segs, when one decision covered all of it.
    public let gsoSegments: UInt16
    /// The action is carried out by `fault_peer` at the ingress of the link's other end
    /// (a segment inside a GSO packet), not in this host (at its egress, or by its detour).
    public let carriedOutAtPeer: Bool
    /// For drops: the first 128 bytes from the IP header on.
    public let packet: [UInt8]

    /// The ring record's size.
    public static let recordSize = 216

    /// Decodes one ring record; nil when it is shorter than a record.
    public init?(record: UnsafeRawBufferPointer) {
        guard record.count >= Self.recordSize else { return nil }
        func u64(_ at: Int) -> UInt64 { record.loadUnaligned(fromByteOffset: at, as: UInt64.self) }
        func u32(_ at: Int) -> UInt32 { record.loadUnaligned(fromByteOffset: at, as: UInt32.self) }
        func u16(_ at: Int) -> UInt16 { record.loadUnaligned(fromByteOffset: at, as: UInt16.self) }
        guard let source = Source(rawValue: record[74]), let action = Action(rawValue: record[75]) else { return nil }
        let isIPv6 = record[78] == 6
        timeNanoseconds = u64(0)
        delayNanoseconds = u64(8)
        sourceAddress = KernelAddress(high: u64(16), low: u64(24), isIPv6: isIPv6)
        destinationAddress = KernelAddress(high: u64(32), low: u64(40), isIPv6: isIPv6)
        sequence = u32(48)
        acknowledgment = u32(52)
        length = Int(u32(56))
        interfaceIndex = u32(60)
        transmission = u32(64)
        sourcePort = u16(68)
        destinationPort = u16(70)
        index = Int(u16(72))
        self.source = source
        self.action = action
        flags = record[76]
        transport = record[77]
        let kept = min(Int(record[79]), 128)
        gsoSegments = u16(80)
        carriedOutAtPeer = record[82] != 0
        packet = Array(record[88..<(88 + kept)])
    }
}

/// Little-endian (the host's order) map bytes, field by field.
struct MapBytes {
    var bytes: [UInt8] = []
    mutating func u8(_ value: UInt8) { bytes.append(value) }
    mutating func u16(_ value: UInt16) { withUnsafeBytes(of: value.littleEndian) { bytes += $0 } }
    mutating func u32(_ value: UInt32) { withUnsafeBytes(of: value.littleEndian) { bytes += $0 } }
    mutating func u64(_ value: UInt64) { withUnsafeBytes(of: value.littleEndian) { bytes += $0 } }
}
