import NetfaultKernel

/// Turns the hosts' captures and the fault engine's decisions into one timeline:
/// decoded segments in time order, each joined with what a fault did to it, with
/// kinds, relative sequence numbers and, for sent segments, the receiving host.
/// Pure: tested with hand-made frames.
public enum TimelineBuilder {
    /// One host's captured frames, for the timeline.
    public struct HostCapture: Sendable {
        /// The host.
        public let host: String
        /// Its frames, with their timestamps.
        public let frames: CapturedFrames

        /// The frames `frames` captured on `host`.
        public init(host: String, frames: CapturedFrames) {
            self.host = host
            self.frames = frames
        }
    }

    /// A capture sees a segment a little after the engine stamped it (the verdict
    /// comes first); the clocks agree to well under this.
    static let clockSlack = 0.001

    /// `zero` is the scenario's start on the captures' clock (CLOCK_REALTIME ns).
    public static func build(_ captures: [HostCapture], zero: Int64, decisions: [FaultDecision]) -> [ObservedSegment] {
        var segments: [ObservedSegment] = []
        for capture in captures {
            let frames = capture.frames
            for (index, record) in frames.records.enumerated() {
                guard let frame = FrameDecoder.decode(frames.bytes(index), linkType: frames.linkType), !frame.isLoopback,
                      let direction = frame.direction else { continue }
                var segment = ObservedSegment(time: Double(record.timestamp - zero) / 1e9, host: capture.host,
                                              direction: direction, header: frame.header, window: frame.window,
                                              options: frame.options)
                segment.frame = index
                segments.append(segment)
            }
        }
        segments.sort { $0.time < $1.time }
        join(decisions, into: &segments)
        segments.sort { $0.time < $1.time }
        classify(&segments)
        relativize(&segments)
        findReceivers(&segments)
        return segments
    }

    /// Marks each segment a fault acted on. Faults act on the way out, so a decision
    /// on host H belongs to H's next sent copy of that segment; a dropped segment
    /// never reached the wire and is added, once, at the engine's instant — unless the
    /// tc engine dropped it at the link's other end (a segment inside a GSO packet): then
    /// H's capture saw it go, and that frame is marked, with no receiver.
    static func join(_ decisions: [FaultDecision], into segments: inout [ObservedSegment]) {
        guard !decisions.isEmpty else { return }
        // Sent segments by host and identity, and by host and addresses (a flipped
        // bit may have hit the TCP header of a corrupted one), each in time order.
        var sent: [SentKey: [Int]] = [:]
        var sentBetween: [AddressKey: [Int]] = [:]
        for index in segments.indices where segments[index].isSent {
            sent[SentKey(host: segments[index].host, segment: SegmentKey(segments[index].header)), default: []].append(index)
            sentBetween[AddressKey(segments[index]), default: []].append(index)
        }
        var added: [ObservedSegment] = []
        var duplicated: [(index: Int, key: SentKey)] = []
        for decision in decisions.sorted(by: { $0.time < $1.time }) {
            guard let header = header(of: decision) else { continue }
            let text = "\(decision.action) by \(decision.fault)"
            if decision.action == "dropped", decision.atLinkEnd,
               let match = (sent[SentKey(host: decision.host, segment: SegmentKey(header))] ?? [])
                   .first(where: { segments[$0].fault == nil && segments[$0].time >= decision.time - clockSlack }) {
                segments[match].fault = text + " at the link's other end"
                segments[match].lost = true
                continue
            }
            if decision.action == "dropped" {
                var dropped = ObservedSegment(time: decision.time, host: decision.host, direction: .out, header: header,
                                              window: 0, options: TCPOptions(), fault: text, engineStamped: true)
                // The tc engine's instant is the kernel's own at the hook: no queue margin.
                dropped.kernelStamped = decision.decidedInKernel
                added.append(dropped)
                continue
            }
            let key = SentKey(host: decision.host, segment: SegmentKey(header))
            let candidates = decision.action == "corrupted"
                ? sentBetween[AddressKey(host: decision.host, source: header.source, destination: header.destination)] ?? []
                : sent[key] ?? []
            if let match = candidates.first(where: { segments[$0].fault == nil && segments[$0].time >= decision.time - clockSlack }) {
                segments[match].fault = text
                if decision.action == "duplicated" { duplicated.append((match, key)) }
            } else {
                // Still held when the capture stopped, or never released.
                added.append(ObservedSegment(time: decision.time, host: decision.host, direction: .out, header: header,
                                             window: 0, options: TCPOptions(), fault: text + ", not seen on the wire",
                                             engineStamped: true))
            }
        }
        // The copy of a duplicated segment is the next identical one its host sent.
        for (original, key) in duplicated {
            if let copy = sent[key]?.first(where: { $0 != original && segments[$0].fault == nil && segments[$0].time >= segments[original].time }) {
                segments[copy].fault = "duplicate (\(segments[original].fault!))"
            }
        }
        segments.append(contentsOf: added)
    }

    /// What makes two captures the same segment: addresses, ports, flags, numbers, length.
    struct SegmentKey: Hashable {
        let flow: FlowKey
        let flags: UInt8
        let sequence: UInt32
        let acknowledgment: UInt32
        let length: Int

        init(_ header: PacketHeader) {
            flow = header.flow
            flags = header.flags.rawValue
            sequence = header.sequence
            acknowledgment = header.acknowledgment
            length = header.payloadLength
        }
    }

    private struct SentKey: Hashable {
        let host: String
        let segment: SegmentKey
    }

    private struct AddressKey: Hashable {
        let host: String
        let source: PacketAddress
        let destination: PacketAddress

        init(host: String, source: PacketAddress, destination: PacketAddress) {
            self.host = host
            self.source = source
            self.destination = destination
        }

        init(_ segment: ObservedSegment) {
            self.init(host: segment.host, source: segment.header.source, destination: segment.header.destination)
        }
    }

    private static func header(of decision: FaultDecision) -> PacketHeader? {
        guard let source = endpoint(decision.source), let destination = endpoint(decision.destination) else { return nil }
        var flags = TCPFlags()
        for character in decision.flags {
            switch character {
            case "S": flags.insert(.syn)
            case "F": flags.insert(.fin)
            case "R": flags.insert(.rst)
            case "P": flags.insert(.psh)
            case ".": flags.insert(.ack)
            default: return nil  // not TCP ("proto 17")
            }
        }
        return PacketHeader(source: source.address, destination: destination.address, transport: 6,
                            sourcePort: source.port, destinationPort: destination.port, flags: flags,
                            sequence: decision.sequence, acknowledgment: decision.acknowledgment,
                            payloadLength: decision.length, transportOffset: 0)
    }

    private static func endpoint(_ text: String) -> (address: PacketAddress, port: UInt16)? {
        Endpoint(text).map { (PacketAddress($0.address.bytes), $0.port) }
    }

    /// Each host classifies what it sent and received with what it saw before, as
    /// the fault engine does for the segments it queues.
    static func classify(_ segments: inout [ObservedSegment]) {
        var classifiers: [String: SegmentClassifier] = [:]
        for index in segments.indices {
            let header = segments[index].header
            // Changed where it is stored: a copy taken out and put back copied its flows' table each time.
            segments[index].kinds = classifiers[segments[index].host, default: SegmentClassifier()].classify(header)
        }
    }

    /// tcpdump's relative numbers: each direction's sequence numbers from its SYN
    /// (or its first segment seen), acknowledgments from the other direction's.
    static func relativize(_ segments: inout [ObservedSegment]) {
        var initial: [FlowKey: UInt32] = [:]
        for segment in segments where segment.header.flags.contains(.syn) && initial[segment.header.flow] == nil {
            initial[segment.header.flow] = segment.header.sequence
        }
        for segment in segments where initial[segment.header.flow] == nil {
            initial[segment.header.flow] = segment.header.sequence
        }
        for index in segments.indices {
            let header = segments[index].header
            segments[index].relativeSequence = header.sequence &- initial[header.flow]!
            if header.flags.contains(.ack) {
                segments[index].relativeAcknowledgment = header.acknowledgment &- (initial[header.flow.reversed] ?? 0)
            }
        }
    }

    /// Pairs each sent segment with its arrival on another host: the earliest
    /// unpaired identical segment received elsewhere, not before the sending.
    static func findReceivers(_ segments: inout [ObservedSegment]) {
        var arrivals: [SegmentKey: [Int]] = [:]
        arrivals.reserveCapacity(segments.count / 2)
        for index in segments.indices where segments[index].direction == .in {
            arrivals[SegmentKey(segments[index].header), default: []].append(index)
        }
        // A segment lost at the link's other end was captured arriving there (the capture is
        // ahead of the drop): that arrival never reached the receiver, and goes.
        var gone: Set<Int> = []
        for index in segments.indices where segments[index].lost {
            let sent = segments[index], key = SegmentKey(sent.header)
            if let position = arrivals[key]?.firstIndex(where: { segments[$0].host != sent.host && segments[$0].time >= sent.time - clockSlack }) {
                gone.insert(arrivals[key]!.remove(at: position))
            }
        }
        for index in segments.indices where segments[index].isSent && !segments[index].engineStamped && !segments[index].lost {
            let host = segments[index].host, time = segments[index].time
            let key = SegmentKey(segments[index].header)
            guard let position = arrivals[key]?.firstIndex(where: {
                segments[$0].host != host && segments[$0].time >= time - clockSlack
            }) else { continue }
            segments[index].receiver = segments[arrivals[key]![position]].host
            arrivals[key]!.remove(at: position)
        }
        if !gone.isEmpty { segments = segments.indices.filter { !gone.contains($0) }.map { segments[$0] } }
    }
}
