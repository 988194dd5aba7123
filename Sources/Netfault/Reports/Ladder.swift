import Foundation

/// What a ladder diagram shows, worked out once for both renderers (`LadderDiagram` for the terminal,
/// `HTMLReport+Ladder` for SVG): one column per host, one row per sent segment or socket state change,
/// in time order, with the middle elided when there are too many rows.
struct Ladder {
    /// A sent segment, drawn from its sender's column towards the column it was going to.
    struct Arrow {
        var segment: SegmentRecord
        var from: Int
        /// The receiver's column; for a segment no capture saw arrive, the column it was heading for
        /// (nil only when there is no other column).
        var to: Int?

        var arrived: Bool { segment.receiver != nil }

        /// The next column on the way: an unreceived segment is drawn ending halfway to it,
        /// on the first link, since that is as far as it is known to have got.
        var firstHop: Int? { to.map { $0 > from ? from + 1 : from - 1 } }

        /// tcpdump style: "S seq 0 len 0", "S. seq 0 ack 1 len 0" (ack only when the ACK flag is set).
        var label: String {
            let ack = segment.flags.contains(".") ? " ack \(segment.ack)" : ""
            return "\(segment.flags) seq \(segment.seq)\(ack) len \(segment.length)"
        }

        /// What a fault did to it, or for a segment nobody received without a fault, that it was not seen arriving.
        var note: String? { segment.fault ?? (arrived ? nil : "not seen arriving") }
    }

    enum Row {
        case segment(Arrow)
        case state(time: Double, column: Int, state: String)
        /// Stands for the rows left out of the middle.
        case elided(segments: Int, states: Int)
    }

    let hosts: [String]
    let rows: [Row]

    /// `maxRows` caps segment and state rows together: beyond it the first and last `maxRows / 2` are kept.
    init(_ scenario: ScenarioResult, maxRows: Int) {
        let sent = scenario.segments.filter { $0.direction == "out" }
        let hosts = Self.columnOrder(scenario)
        let column = Dictionary(hosts.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
        let owners = Self.addressOwners(scenario)

        var timed: [(time: Double, row: Row)] = sent.map { segment in
            let from = column[segment.host]!
            let target = segment.receiver.flatMap { column[$0] }
                ?? owners[Self.ipAddress(segment.dst)].flatMap { column[$0] }
            let to = target.flatMap { $0 == from ? nil : $0 } ?? Self.neighbour(of: from, count: hosts.count)
            return (segment.time, .segment(Arrow(segment: segment, from: from, to: to)))
        }
        for socket in scenario.sockets {
            timed += socket.transitions.map { ($0.time, .state(time: $0.time, column: column[socket.host]!, state: $0.state)) }
        }
        // Stable on equal times, so a segment stays before the state change it caused.
        let ordered = timed.enumerated().sorted { ($0.element.time, $0.offset) < ($1.element.time, $1.offset) }
            .map(\.element.row)

        self.hosts = hosts
        self.rows = Self.elided(ordered, maxRows: maxRows)
    }

    /// Hosts in the order they first send or receive, so the side that opens (the client) is on the left
    /// and a router sits between the hosts it forwards for; hosts seen only in socket timelines come last.
    private static func columnOrder(_ scenario: ScenarioResult) -> [String] {
        var hosts: [String] = []
        func add(_ host: String?) {
            if let host, !hosts.contains(host) { hosts.append(host) }
        }
        for segment in scenario.segments {
            add(segment.host)
            add(segment.receiver)
        }
        scenario.sockets.forEach { add($0.host) }
        return hosts
    }

    /// IP address → host, for segments no capture saw arrive. Sockets name their hosts' addresses;
    /// otherwise the first host to send from an address owns it, since a router forwards only afterwards.
    private static func addressOwners(_ scenario: ScenarioResult) -> [String: String] {
        var owners: [String: String] = [:]
        for socket in scenario.sockets where owners[ipAddress(socket.local)] == nil {
            owners[ipAddress(socket.local)] = socket.host
        }
        for segment in scenario.segments where segment.direction == "out" && owners[ipAddress(segment.src)] == nil {
            owners[ipAddress(segment.src)] = segment.host
        }
        return owners
    }

    /// "10.77.1.1:43210" → "10.77.1.1", "[fd77:1::1]:8080" → "fd77:1::1".
    private static func ipAddress(_ endpoint: String) -> String {
        guard let colon = endpoint.lastIndex(of: ":") else { return endpoint }
        return String(endpoint[..<colon]).trimmingCharacters(in: ["[", "]"])
    }

    /// With no better guess, an unreceived segment heads for the next column (the previous one from the last).
    private static func neighbour(of column: Int, count: Int) -> Int? {
        if column + 1 < count { return column + 1 }
        return column > 0 ? column - 1 : nil
    }

    private static func elided(_ rows: [Row], maxRows: Int) -> [Row] {
        guard rows.count > max(maxRows, 0) else { return rows }
        let kept = max(maxRows, 0) / 2
        let middle = rows[kept..<(rows.count - kept)]
        let segments = middle.count(where: { if case .segment = $0 { true } else { false } })
        return Array(rows.prefix(kept)) + [.elided(segments: segments, states: middle.count - segments)]
            + Array(rows.suffix(kept))
    }
}
