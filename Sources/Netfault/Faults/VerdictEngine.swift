import NetfaultKernel

/// A packet the kernel queued, as the engine sees it.
public struct EnginePacket: Sendable {
    /// The queue's packet id, which the verdict names.
    public let id: UInt32
    /// On the way out (postrouting, where faults act) or in (prerouting, only observed).
    public let egress: Bool
    /// The interface it leaves (egress) or arrived (ingress) by.
    public let interfaceIndex: UInt32?
    /// The packet as copied (whole, or cut at the queue's copy range); may borrow the
    /// queue's receive buffer for the length of one `handle` call.
    public let bytes: ArraySlice<UInt8>
    /// The packet's real length.
    public let length: Int

    /// A queued packet with the queue's `id`, as copied.
    public init(id: UInt32, egress: Bool, interfaceIndex: UInt32?, bytes: ArraySlice<UInt8>, length: Int? = nil) {
        self.id = id
        self.egress = egress
        self.interfaceIndex = interfaceIndex
        self.bytes = bytes
        self.length = length ?? bytes.count
    }

    /// A queued packet with the queue's `id`, as copied.
    public init(id: UInt32, egress: Bool, interfaceIndex: UInt32?, bytes: [UInt8], length: Int? = nil) {
        self.init(id: id, egress: egress, interfaceIndex: interfaceIndex, bytes: bytes[...], length: length)
    }
}

/// What the I/O around the engine must do.
public enum VerdictAction: Sendable, Equatable {
    /// Let the packet with this id go on.
    case accept(UInt32)
    /// Drop the packet with this id.
    case drop(UInt32)
    /// Accept with these bytes instead (a corrupted copy).
    case acceptReplacing(UInt32, [UInt8])
    /// Send this packet (a duplicate) as it is, past the queue rules.
    case inject([UInt8])
}

extension VerdictAction {
    /// The highest accepted id when `actions` are only accepts in rising id order and
    /// drops: then one batch verdict (which reinjects in id order) keeps their order.
    static func highestBatchableAccept(in actions: [VerdictAction]) -> UInt32? {
        var highest: UInt32?
        for action in actions {
            switch action {
            case .accept(let id):
                if let previous = highest, id <= previous { return nil }
                highest = id
            case .drop:
                continue
            case .acceptReplacing, .inject:
                return nil
            }
        }
        return highest
    }
}

/// What a fault did to one segment, for reports and expectations.
public struct FaultDecision: Sendable, Equatable, Codable {
    /// Seconds since the scenario started, when the engine decided.
    public let time: Double
    /// The host whose engine decided.
    public let host: String
    /// The fault's name.
    public let fault: String
    /// "dropped", "delayed 300 ms", "duplicated", "held for reordering", "corrupted"
    public let action: String
    /// The source, address:port.
    public let source: String
    /// The destination, address:port.
    public let destination: String
    /// tcpdump's notation ("S", "S.", ".", "P.", "F.", "R.").
    public let flags: String
    /// The sequence number (absolute).
    public let sequence: UInt32
    /// The acknowledgment number (absolute).
    public let acknowledgment: UInt32
    /// TCP payload bytes.
    public let length: Int
    /// For a dropped segment, which never reaches the wire to be captured: the queue's copy
    /// of it (IP header on, at most a capture's snap length) and the interface it was
    /// leaving by, so the pcapng file can show it. Not in the JSON.
    public var droppedPacket: [UInt8]? = nil
    /// For a dropped segment, the interface it was leaving by. Not in the JSON.
    public var interfaceIndex: UInt32? = nil
    /// Decided by the tc engine: `time` is the kernel's clock at the hook (bpf_ktime_get_ns),
    /// not a queue reader's wake-up, so no queue margin applies to it. Not in the JSON
    /// (the fault's `backend` says where it ran).
    public var decidedInKernel = false
    /// Carried out at the ingress of the link's other end (by the tc engine's `fault_peer`,
    /// for a segment inside a GSO packet): the segment left this host, and a capture there
    /// saw it go. Not in the JSON.
    public var atLinkEnd = false

    enum CodingKeys: String, CodingKey {
        case time, host, fault, action, source, destination, flags, sequence, acknowledgment, length
    }
}

/// Decides, per queued packet, what the faults of one host do to it. A pure
/// state machine: packets and the passing of time go in, verdicts and records
/// come out; sockets, timers and clocks stay with the caller (`FaultRuntime`).
///
/// Segment faults are checked in scenario order and the first one that selects
/// a segment acts on it; every fault that covers the segment counts it, so
/// occurrences stay per fault, per flow and direction. Link-wide impairments
/// then act on what is left, deciding by each segment's identity (`SegmentIdentity`)
/// except for correlated loss, delay and reordering, which draw in arrival order.
/// bpf/fault_engine.bpf.c implements the same decisions in the kernel; this engine is
/// their specification (the differential test compares them).
public struct VerdictEngine: Sendable {
    /// The host whose packets it judges.
    public let host: String
    private let faults: [PlacedFault]
    private let impairments: [PlacedImpairment]
    private var classifier = SegmentClassifier()
    private var occurrences: [OccurrenceKey: Int] = [:]
    private var held: [HeldPacket] = []
    /// Only correlated impairments draw from it, in arrival order (NFQUEUE only).
    private var random: SplitMix64
    /// Every other impairment decision: by the segment's identity (`SegmentIdentity`).
    private var identity: SegmentIdentity
    private var impairmentState: [ImpairmentState]
    /// Every decision so far, in order.
    public private(set) var decisions: [FaultDecision] = []

    private struct OccurrenceKey: Hashable {
        let fault: Int
        let flow: FlowKey
    }

    private struct HeldPacket {
        let id: UInt32
        /// Released at this time at the latest.
        let releaseAt: Double
        /// Released once this many later segments of `flow` have gone (reordering).
        var remaining: Int?
        let flow: FlowKey
        let replacement: [UInt8]?
        let duplicate: [UInt8]?
    }

    private struct ImpairmentState {
        var lastLoss = 0.0
        var lastDelay = 0.0
        var lastReorder = 0.0
        /// When the last packet leaves, for the rate limit.
        var lastDeparture = 0.0
    }

    /// An engine for `host`'s faults and impairments; `seed` makes its random choices repeatable.
    public init(host: String, faults: [PlacedFault], impairments: [PlacedImpairment], seed: UInt64) {
        self.host = host
        self.faults = faults
        self.impairments = impairments
        random = SplitMix64(seed: seed)
        identity = SegmentIdentity(seed: seed)
        impairmentState = Array(repeating: ImpairmentState(), count: impairments.count)
    }

    /// Whether some packet waits for a later verdict; batch verdicts must not cover it.
    public var isHolding: Bool { !held.isEmpty }

    /// When `advance(to:)` must be called next, if anything is held.
    public var nextDeadline: Double? { held.lazy.map(\.releaseAt).min() }

    /// Decides on one packet at `time` (seconds since the start).
    public mutating func handle(_ packet: EnginePacket, at time: Double, into actions: inout [VerdictAction]) {
        guard let header = packet.bytes.withUnsafeBytes({ PacketHeader.parse($0) }) else {
            actions.append(.accept(packet.id))
            return
        }
        guard packet.egress else {
            classifier.observe(header)
            actions.append(.accept(packet.id))
            return
        }
        // Every packet leaving a host with impairments counts in its flow's identity, before
        // a fault may drop it.
        let identified = impairments.isEmpty ? nil : identity.identify(header)
        var acted = false
        for (index, fault) in faults.enumerated()
        where fault.covers(header, interfaceIndex: packet.interfaceIndex, time: time) {
            if let kind = fault.kind, !classifier.matches(header, kind) { continue }
            let key = OccurrenceKey(fault: index, flow: header.flow)
            let count = (occurrences[key] ?? 0) + 1
            occurrences[key] = count
            guard !acted, fault.occurrence.selects(count) else { continue }
            acted = true
            apply(fault, to: packet, header, at: time, into: &actions)
        }
        classifier.observe(header)
        if !acted, let identified { impair(packet, header, identified, at: time, into: &actions) }
        else if !acted { actions.append(.accept(packet.id)) }
        releaseReordered(after: header.flow, passing: packet.id, into: &actions)
    }

    /// Releases what is due at `time`.
    public mutating func advance(to time: Double, into actions: inout [VerdictAction]) {
        guard !held.isEmpty else { return }
        let due = held.filter { $0.releaseAt <= time }.sorted { ($0.releaseAt, $0.id) < ($1.releaseAt, $1.id) }
        guard !due.isEmpty else { return }
        held.removeAll { $0.releaseAt <= time }
        for packet in due { release(packet, into: &actions) }
    }

    // MARK: - Segment faults

    private mutating func apply(_ fault: PlacedFault, to packet: EnginePacket, _ header: PacketHeader, at time: Double,
                                into actions: inout [VerdictAction]) {
        switch fault.action {
        case .drop:
            actions.append(.drop(packet.id))
            record(fault.name, "dropped", header, packet, at: time)
        case .delay(let seconds):
            held.append(HeldPacket(id: packet.id, releaseAt: time + seconds, remaining: nil, flow: header.flow,
                                   replacement: nil, duplicate: nil))
            record(fault.name, "delayed \(Format.milliseconds(seconds))", header, packet, at: time)
        case .duplicate:
            actions.append(.accept(packet.id))
            // The plan copies whole packets where a fault duplicates; a cut copy cannot be sent again.
            guard packet.bytes.count == packet.length else {
                record(fault.name, "not duplicated: only \(packet.bytes.count) of \(packet.length) bytes copied", header, packet, at: time)
                return
            }
            actions.append(.inject(Array(packet.bytes)))
            record(fault.name, "duplicated", header, packet, at: time)
        case .reorder(let count, let maxHold):
            held.append(HeldPacket(id: packet.id, releaseAt: time + maxHold, remaining: count, flow: header.flow,
                                   replacement: nil, duplicate: nil))
            record(fault.name, "held for reordering", header, packet, at: time)
        }
    }

    /// Counts `id` as gone past the segments its flow holds for reordering, and
    /// releases those that waited for enough of them.
    private mutating func releaseReordered(after flow: FlowKey, passing id: UInt32, into actions: inout [VerdictAction]) {
        guard held.contains(where: { $0.remaining != nil }) else { return }
        // Only a segment that went on counts (not one dropped or held itself).
        guard actions.contains(.accept(id)) || actions.contains(where: { if case .acceptReplacing(id, _) = $0 { true } else { false } })
        else { return }
        var released: [HeldPacket] = []
        for index in held.indices where held[index].flow == flow {
            guard let remaining = held[index].remaining else { continue }
            held[index].remaining = remaining - 1
            if remaining - 1 <= 0 { released.append(held[index]) }
        }
        held.removeAll { packet in released.contains { $0.id == packet.id } }
        for packet in released { release(packet, into: &actions) }
    }

    // MARK: - Impairments (netem's model on the precise backend)

    private mutating func impair(_ packet: EnginePacket, _ header: PacketHeader, _ identified: SegmentIdentity.Identity,
                                 at time: Double, into actions: inout [VerdictAction]) {
        guard let index = impairments.firstIndex(where: { $0.interfaceIndex == packet.interfaceIndex }) else {
            actions.append(.accept(packet.id))
            return
        }
        let impairment = impairments[index]
        var state = impairmentState[index]
        defer { impairmentState[index] = state }
        let lost = impairment.lossCorrelation > 0
            ? impairment.loss > 0 && correlated(impairment.lossCorrelation, &state.lastLoss) < impairment.loss
            : identified.hits(.loss, SegmentIdentity.threshold(impairment.loss))
        if lost {
            actions.append(.drop(packet.id))
            record(impairment.name, "dropped", header, packet, at: time)
            return
        }
        let whole = packet.bytes.count == packet.length
        var replacement: [UInt8]?
        if whole, identified.hits(.corrupt, SegmentIdentity.threshold(impairment.corrupt)) {
            replacement = corrupted(Array(packet.bytes), from: header.transportOffset, identified)
            record(impairment.name, "corrupted", header, packet, at: time)
        }
        var duplicate: [UInt8]?
        if whole, identified.hits(.duplicate, SegmentIdentity.threshold(impairment.duplicate)) {
            duplicate = Array(packet.bytes)
            record(impairment.name, "duplicated", header, packet, at: time)
        }
        var delay = SegmentIdentity.nanoseconds(impairment.delay)
        if impairment.jitter > 0 && impairment.delayCorrelation > 0 {
            let spread = correlated(impairment.delayCorrelation, &state.lastDelay) * 2 - 1
            delay = SegmentIdentity.nanoseconds(max(0, impairment.delay + spread * impairment.jitter))
        } else {
            delay = SegmentIdentity.jittered(delay: delay, jitter: SegmentIdentity.nanoseconds(impairment.jitter), identified)
        }
        // netem: a reordered packet goes at once, ahead of the delayed ones.
        if delay > 0 {
            let reordered = impairment.reorderCorrelation > 0
                ? impairment.reorder > 0 && correlated(impairment.reorderCorrelation, &state.lastReorder) < impairment.reorder
                : identified.hits(.reorder, SegmentIdentity.threshold(impairment.reorder))
            if reordered {
                delay = 0
                record(impairment.name, "reordered", header, packet, at: time)
            }
        }
        let seconds = Double(delay) / 1e9
        var departure = time + seconds
        if let rate = impairment.bytesPerSecond {
            departure = max(departure, state.lastDeparture) + Double(packet.length) / rate
            state.lastDeparture = departure
        }
        if departure > time {
            if delay > 0 {
                // Without a rate limit, the delay as both engines hold it (integer nanoseconds).
                let shown = impairment.bytesPerSecond == nil ? seconds : departure - time
                record(impairment.name, "delayed \(Format.milliseconds(shown))", header, packet, at: time)
            }
            held.append(HeldPacket(id: packet.id, releaseAt: departure, remaining: nil, flow: header.flow,
                                   replacement: replacement, duplicate: duplicate))
        } else {
            release(HeldPacket(id: packet.id, releaseAt: time, remaining: nil, flow: header.flow,
                               replacement: replacement, duplicate: duplicate), into: &actions)
        }
    }

    /// netem's correlated random number: a weighted mix of a fresh uniform value and the last one.
    private mutating func correlated(_ correlation: Double, _ last: inout Double) -> Double {
        let value = random.nextUnit() * (1 - correlation) + last * correlation
        last = value
        return value
    }

    /// Flips the bit the identity picks among those after the IP header.
    private func corrupted(_ bytes: [UInt8], from offset: Int, _ identified: SegmentIdentity.Identity) -> [UInt8] {
        var copy = bytes
        guard copy.count > offset else { return copy }
        let bit = Int(identified.hash(.corruptBit) % UInt64((copy.count - offset) * 8))
        copy[offset + bit / 8] ^= UInt8(1 << (bit % 8))
        return copy
    }

    // MARK: - Helpers

    private func release(_ packet: HeldPacket, into actions: inout [VerdictAction]) {
        if let replacement = packet.replacement {
            actions.append(.acceptReplacing(packet.id, replacement))
        } else {
            actions.append(.accept(packet.id))
        }
        if let duplicate = packet.duplicate { actions.append(.inject(duplicate)) }
    }

    private mutating func record(_ fault: String, _ action: String, _ header: PacketHeader, _ packet: EnginePacket,
                                 at time: Double) {
        decisions.append(FaultDecision(
            time: time, host: host, fault: fault, action: action,
            source: Self.endpoint(header.source, header.sourcePort), destination: Self.endpoint(header.destination, header.destinationPort),
            flags: header.isTCP ? header.flags.tcpdump : "proto \(header.transport)",
            sequence: header.sequence, acknowledgment: header.acknowledgment, length: header.payloadLength,
            droppedPacket: action == "dropped" ? Array(packet.bytes.prefix(Self.keptBytes)) : nil,
            interfaceIndex: action == "dropped" ? packet.interfaceIndex : nil))
    }

    /// As much of a dropped packet as the capture keeps of every frame.
    static let keptBytes = PacketCapture.defaultSnapLength

    static func endpoint(_ address: PacketAddress, _ port: UInt16) -> String {
        address.isIPv6 ? "[\(address)]:\(port)" : "\(address):\(port)"
    }
}

/// A small seeded generator (SplitMix64): the same seed gives the same losses
/// for the same packet sequence, so a failing run can be replayed. `package`: the
/// tests draw their seeded fuzz inputs from it too (one copy of the algorithm).
package struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    /// A generator whose sequence is fixed by `seed`.
    package init(seed: UInt64) { state = seed }

    /// The next value: the state advanced by the golden gamma, through SplitMix64's finalizer.
    package mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        return SegmentIdentity.mix64(state)
    }

    /// Uniform in [0, 1).
    package mutating func nextUnit() -> Double { Double(next() >> 11) / Double(1 << 53) }
}
