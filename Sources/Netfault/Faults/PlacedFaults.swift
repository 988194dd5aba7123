/// A fault as the verdict engine of one host applies it: located on that host's
/// egress, on one interface or all of them.
public struct PlacedFault: Sendable, Equatable {
    /// The fault's name, as reports and expectations call it.
    public let name: String
    public let action: FaultAction
    /// nil: every packet, TCP or not (partitions and blackholes).
    public let kind: SegmentKind?
    public let occurrence: Occurrence
    public let port: UInt16?
    public let window: Range<Double>?
    /// The interface the packet leaves by; nil for any.
    public let interfaceIndex: UInt32?
    /// Only packets to these addresses; nil for any (partitions).
    public let destinations: Set<PacketAddress>?

    public init(name: String, action: FaultAction, kind: SegmentKind?, occurrence: Occurrence = .all, port: UInt16? = nil,
                window: Range<Double>? = nil, interfaceIndex: UInt32? = nil, destinations: Set<PacketAddress>? = nil) {
        self.name = name
        self.action = action
        self.kind = kind
        self.occurrence = occurrence
        self.port = port
        self.window = window
        self.interfaceIndex = interfaceIndex
        self.destinations = destinations
    }

    /// Whether `packet` is at this fault's place and time (its kind is checked apart,
    /// since that needs the flow's history).
    func covers(_ header: PacketHeader, interfaceIndex: UInt32?, time: Double) -> Bool {
        if let wanted = self.interfaceIndex, wanted != interfaceIndex { return false }
        if let window, !window.contains(time) { return false }
        if let port, header.sourcePort != port && header.destinationPort != port { return false }
        if let destinations, !destinations.contains(header.destination) { return false }
        if kind != nil && !header.isTCP { return false }
        return true
    }
}

/// A link-wide impairment on the precise backend: every packet leaving by
/// `interfaceIndex` passes it.
public struct PlacedImpairment: Sendable, Equatable {
    public let name: String
    public private(set) var interfaceIndex: UInt32
    public let delay: Double
    public let jitter: Double
    public let delayCorrelation: Double
    /// Probabilities, 0…1.
    public let loss: Double
    public let lossCorrelation: Double
    public let duplicate: Double
    public let reorder: Double
    public let reorderCorrelation: Double
    public let corrupt: Double
    /// Bytes per second.
    public let bytesPerSecond: Double?

    public init(_ impairment: Impairment, interfaceIndex: UInt32) {
        name = impairment.description
        self.interfaceIndex = interfaceIndex
        delay = impairment.delay
        jitter = impairment.jitter
        delayCorrelation = impairment.delayCorrelation / 100
        loss = impairment.loss / 100
        lossCorrelation = impairment.lossCorrelation / 100
        duplicate = impairment.duplicate / 100
        reorder = impairment.reorder / 100
        reorderCorrelation = impairment.reorderCorrelation / 100
        corrupt = impairment.corrupt / 100
        bytesPerSecond = impairment.rate.map { $0 / 8 }
    }

    /// The same impairment on another interface.
    func moved(to interfaceIndex: UInt32) -> PlacedImpairment {
        var copy = self
        copy.interfaceIndex = interfaceIndex
        return copy
    }

    /// Needs the whole packet copied to userspace (to send it again or change it).
    var needsPayload: Bool { duplicate > 0 || corrupt > 0 }
}
