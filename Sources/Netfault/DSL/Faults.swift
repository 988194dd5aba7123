/// Where a segment fault acts. Every fault acts where segments leave a host
/// (netfilter's postrouting hook, after routing): a host's ingress is its
/// neighbours' egress towards it, which on a veth is the same thing.
public enum FaultPlace: Sendable, Equatable, CustomStringConvertible {
    /// What `from` sends over its link to `to`.
    case link(from: String, to: String)
    /// What a host sends, on all its links (including what it forwards).
    case egress(of: String)
    /// What a host receives, on all its links.
    case ingress(of: String)

    public var description: String {
        switch self {
        case .link(let from, let to): "\(from)→\(to)"
        case .egress(let host): "egress of \(host)"
        case .ingress(let host): "ingress of \(host)"
        }
    }
}

/// Which TCP segments a fault names.
public enum SegmentKind: String, Sendable, CaseIterable, CustomStringConvertible {
    /// A SYN (flags S).
    case syn = "SYN"
    /// A SYN-ACK (flags S.).
    case synAck = "SYN-ACK"
    /// The connecting side's ACK of the SYN-ACK (also when it is sent again for a
    /// retransmitted SYN-ACK): no payload, sequence number SYN+1, before any data.
    case handshakeAck = "handshake ACK"
    /// An ACK with no payload and no SYN, FIN or RST.
    case pureAck = "pure ACK"
    /// A segment with payload.
    case data = "data"
    /// A FIN, with or without data.
    case fin = "FIN"
    /// A pure ACK that acknowledges the other side's FIN.
    case finAck = "ACK of a FIN"
    /// A RST.
    case rst = "RST"
    /// Any TCP segment.
    case any = "segment"

    public var description: String { rawValue }
}

/// Which of the matching segments of a flow, counted per flow and direction from 1.
public enum Occurrence: Sendable, Equatable, CustomStringConvertible {
    /// Every one.
    case all
    /// Only the n-th.
    case nth(Int)
    /// The first n.
    case first(Int)
    /// The n-th, 2n-th, 3n-th, …
    case everyNth(Int)
    /// Every one after the n-th.
    case afterNth(Int)

    /// Whether the `count`-th matching segment (from 1) is selected.
    public func selects(_ count: Int) -> Bool {
        switch self {
        case .all: true
        case .nth(let n): count == n
        case .first(let n): count <= n
        case .everyNth(let n): count % n == 0
        case .afterNth(let n): count > n
        }
    }

    /// The number in it, which must be at least 1 (0 for `.all`).
    var operand: Int? {
        switch self {
        case .all: nil
        case .nth(let n), .first(let n), .everyNth(let n), .afterNth(let n): n
        }
    }

    public var description: String {
        switch self {
        case .all: "every"
        case .nth(let n): "#\(n)"
        case .first(let n): "the first \(n)"
        case .everyNth(let n): "every \(n)th"
        case .afterNth(let n): "every one after #\(n)"
        }
    }
}

/// What a fault does to the segments it selects.
public enum FaultAction: Sendable, Equatable {
    /// Drop it: it never reaches the wire.
    case drop
    /// Let it go after this many seconds.
    case delay(Double)
    /// Let it go, and a copy right behind it.
    case duplicate
    /// Hold it until `releaseAfter` later segments of the same flow and direction
    /// have gone (or `maxHold` seconds passed), then let it go: a reordering.
    case reorder(releaseAfter: Int, maxHold: Double)

    var verb: String {
        switch self {
        case .drop: "drop"
        case .delay(let seconds): "delay by \(Format.milliseconds(seconds))"
        case .duplicate: "duplicate"
        case .reorder(let k, _): "hold until \(k) later segments passed"
        }
    }
}

/// What a fault applies to.
public enum FaultTarget: Sendable, Equatable {
    /// Segments of a kind at a place, optionally on a port (either end).
    case segments(SegmentKind, at: FaultPlace, occurrence: Occurrence, port: Int?)
    /// Every packet between two hosts, both ways.
    case partition(String, String)
    /// Every packet to and from a host.
    case blackhole(String)
}

/// A fault: an action on exactly the segments named, optionally only within a
/// time window (seconds since the scenario started).
public struct Fault: ScenarioComponent {
    /// The fault's name, used by `Expect.fault` and shown in decisions and captures.
    public let name: String
    /// What the fault does to each segment it selects.
    public let action: FaultAction
    /// Which segments it selects: kind, place, occurrence, port.
    public let target: FaultTarget
    /// When it acts, in seconds since the start; nil for the whole scenario.
    public let window: Range<Double>?
    /// Where the fault was written.
    public let location: SourceLocation

    /// A fault; `Drop`, `Delay`, `Duplicate`, `Reorder`, `Partition` and `Blackhole` make them.
    public init(_ action: FaultAction, _ target: FaultTarget, window: Range<Double>?, name: String?, location: SourceLocation) {
        self.action = action
        self.target = target
        self.window = window
        self.location = location
        self.name = name ?? Fault.describe(action, target, window)
    }

    /// This fault as an element of a scenario.
    public var element: ScenarioElement { .fault(self) }

    static func describe(_ action: FaultAction, _ target: FaultTarget, _ window: Range<Double>?) -> String {
        let during = window.map { " from \(Format.seconds($0.lowerBound)) to \(Format.seconds($0.upperBound))" } ?? ""
        switch target {
        case .segments(let kind, let place, let occurrence, let port):
            let onPort = port.map { " on port \($0)" } ?? ""
            return "\(action.verb) \(occurrence) \(kind)\(onPort) at \(place)\(during)"
        case .partition(let a, let b):
            return "partition \(a) from \(b)\(during)"
        case .blackhole(let host):
            return "blackhole \(host)\(during)"
        }
    }
}

/// "Beyond this time" windows are written with an open end.
func faultWindow(from start: Double?, to end: Double?) -> Range<Double>? {
    if start == nil && end == nil { return nil }
    return (start ?? 0)..<(end ?? .infinity)
}

/// Drops the segments named: `Drop(.synAck, at: .egress(of: "server"), .nth(2))`.
public func Drop(_ kind: SegmentKind, at place: FaultPlace, _ occurrence: Occurrence = .all, port: Int? = nil,
                 from start: Double? = nil, to end: Double? = nil, name: String? = nil,
                 file: String = #filePath, line: Int = #line) -> Fault {
    Fault(.drop, .segments(kind, at: place, occurrence: occurrence, port: port), window: faultWindow(from: start, to: end),
          name: name, location: SourceLocation(file: file, line: line))
}

/// Delays the segments named by `seconds`; other segments overtake them.
public func Delay(_ kind: SegmentKind, by seconds: Double, at place: FaultPlace, _ occurrence: Occurrence = .all,
                  port: Int? = nil, from start: Double? = nil, to end: Double? = nil, name: String? = nil,
                  file: String = #filePath, line: Int = #line) -> Fault {
    Fault(.delay(seconds), .segments(kind, at: place, occurrence: occurrence, port: port),
          window: faultWindow(from: start, to: end), name: name, location: SourceLocation(file: file, line: line))
}

/// Sends the segments named twice.
public func Duplicate(_ kind: SegmentKind, at place: FaultPlace, _ occurrence: Occurrence = .all, port: Int? = nil,
                      from start: Double? = nil, to end: Double? = nil, name: String? = nil,
                      file: String = #filePath, line: Int = #line) -> Fault {
    Fault(.duplicate, .segments(kind, at: place, occurrence: occurrence, port: port),
          window: faultWindow(from: start, to: end), name: name, location: SourceLocation(file: file, line: line))
}

/// Holds the segments named until `releaseAfter` later segments of their flow
/// and direction have gone, or `maxHold` seconds passed.
public func Reorder(_ kind: SegmentKind, releaseAfter count: Int, at place: FaultPlace, _ occurrence: Occurrence = .all,
                    maxHold: Double = 1, port: Int? = nil, from start: Double? = nil, to end: Double? = nil,
                    name: String? = nil, file: String = #filePath, line: Int = #line) -> Fault {
    Fault(.reorder(releaseAfter: count, maxHold: maxHold), .segments(kind, at: place, occurrence: occurrence, port: port),
          window: faultWindow(from: start, to: end), name: name, location: SourceLocation(file: file, line: line))
}

/// Cuts two hosts apart, both ways, from `start` to `end` (seconds since the start).
public func Partition(_ a: String, _ b: String, from start: Double = 0, to end: Double? = nil, name: String? = nil,
                      file: String = #filePath, line: Int = #line) -> Fault {
    Fault(.drop, .partition(a, b), window: faultWindow(from: start, to: end), name: name,
          location: SourceLocation(file: file, line: line))
}

/// Drops everything a host sends and receives from `start` to `end`.
public func Blackhole(_ host: String, from start: Double = 0, to end: Double? = nil, name: String? = nil,
                      file: String = #filePath, line: Int = #line) -> Fault {
    Fault(.drop, .blackhole(host), window: faultWindow(from: start, to: end), name: name,
          location: SourceLocation(file: file, line: line))
}
