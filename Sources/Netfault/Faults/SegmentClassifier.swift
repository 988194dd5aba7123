/// Tells which `SegmentKind`s a TCP segment is, from its flags, its payload and
/// what the flow (both directions) showed before. Pure; one per verdict engine.
struct SegmentClassifier {
    private struct FlowHistory {
        /// The sequence number of this direction's SYN (without ACK): it opened the connection.
        var synSequence: UInt32?
        /// What this direction's first handshake ACK acknowledged.
        var handshakeAcknowledgment: UInt32?
        var sentData = false
        /// The sequence number just past this direction's FIN.
        var finEnd: UInt32?
    }

    private var flows: [FlowKey: FlowHistory] = [:]

    /// Records what the segment tells about its flow; call for every segment seen,
    /// including those only observed on the way in.
    mutating func observe(_ header: PacketHeader) {
        guard header.isTCP else { return }
        let flags = header.flags
        if flags.contains(.syn) && !flags.contains(.ack) {
            flows[header.flow] = FlowHistory(synSequence: header.sequence)
            return
        }
        if flags.contains(.fin) {
            flows[header.flow, default: FlowHistory()].finEnd = header.sequence &+ UInt32(truncatingIfNeeded: header.payloadLength) &+ 1
        }
        if header.payloadLength > 0 { flows[header.flow, default: FlowHistory()].sentData = true }
    }

    /// The segment's kinds (`matches` of each), then `observe` of it.
    mutating func classify(_ header: PacketHeader) -> Set<SegmentKind> {
        let kinds = Set(SegmentKind.allCases.filter { matches(header, $0) })
        observe(header)
        return kinds
    }

    /// Whether the segment is of `kind`. Call before `observe` for the same segment.
    mutating func matches(_ header: PacketHeader, _ kind: SegmentKind) -> Bool {
        let flags = header.flags
        let isPureAck = flags.subtracting(.psh) == .ack && header.payloadLength == 0
        switch kind {
        case .any: return true
        case .syn: return flags.contains(.syn) && !flags.contains(.ack)
        case .synAck: return flags.contains([.syn, .ack])
        case .rst: return flags.contains(.rst)
        case .fin: return flags.contains(.fin)
        case .data: return header.payloadLength > 0 && !flags.contains(.syn) && !flags.contains(.rst)
        case .pureAck: return isPureAck
        case .finAck:
            guard isPureAck, let finEnd = flows[header.flow.reversed]?.finEnd else { return false }
            return header.acknowledgment == finEnd
        case .handshakeAck:
            guard isPureAck, var history = flows[header.flow], let syn = history.synSequence, !history.sentData,
                  header.sequence == syn &+ 1 else { return false }
            if let first = history.handshakeAcknowledgment { return header.acknowledgment == first }
            history.handshakeAcknowledgment = header.acknowledgment
            flows[header.flow] = history
            return true
        }
    }
}
