import NetfaultKernel

/// Segments of one kind sent by one host (its captured copies on the way out,
/// and the ones a fault dropped before they reached the wire).
public struct SegmentSelector: Sendable, Equatable, CustomStringConvertible {
    /// The kind of segment.
    public let kind: SegmentKind
    /// The host that sent it.
    public let sender: String
    /// Either end's port, when given.
    public let port: Int?

    /// Segments of `kind` sent by `sender`, with `port` at either end when given.
    public init(_ kind: SegmentKind, from sender: String, port: Int? = nil) {
        self.kind = kind
        self.sender = sender
        self.port = port
    }

    public var description: String { "\(kind) from \(sender)" + (port.map { " (port \($0))" } ?? "") }
}

/// Something that happens once at an instant, for measuring the time between two.
public enum TimelineEvent: Sendable, Equatable, CustomStringConvertible {
    /// The `occurrence`-th (from 1) segment of a kind the host sent (its departure).
    case segment(SegmentKind, from: String, occurrence: Int = 1)
    /// The `occurrence`-th (from 1) segment of a kind the host's capture saw arrive.
    case arrival(SegmentKind, at: String, occurrence: Int = 1)
    /// The first return of a peer's call.
    case call(PeerCall)
    /// The first time a matching socket is seen in a state.
    case state(SocketSelector, TCPState)

    public var description: String {
        switch self {
        case .segment(let kind, let host, let occurrence):
            occurrence == 1 ? "the first \(kind) from \(host)" : "\(kind) #\(occurrence) from \(host)"
        case .arrival(let kind, let host, let occurrence):
            occurrence == 1 ? "the first \(kind) arriving at \(host)" : "\(kind) #\(occurrence) arriving at \(host)"
        case .call(let call): "\(call.process)'s \(call.call)"
        case .state(let selector, let state): "\(selector) in \(state.rawValue)"
        }
    }
}

/// What the first segment of a kind must carry; nil fields are not checked.
public struct SegmentFields: Sendable, Equatable, CustomStringConvertible {
    /// Relative to the direction's SYN, as tcpdump prints them.
    public var seq: UInt32?
    /// Relative to the other direction's SYN.
    public var ack: UInt32?
    /// TCP payload bytes.
    public var length: Int?
    /// The MSS option's value.
    public var mss: Int?

    /// Fields to check; nil ones are not checked.
    public init(seq: UInt32? = nil, ack: UInt32? = nil, length: Int? = nil, mss: Int? = nil) {
        self.seq = seq
        self.ack = ack
        self.length = length
        self.mss = mss
    }

    public var description: String {
        [seq.map { "seq \($0)" }, ack.map { "ack \($0)" }, length.map { "len \($0)" }, mss.map { "mss \($0)" }]
            .compactMap { $0 }.joined(separator: " ")
    }
}
