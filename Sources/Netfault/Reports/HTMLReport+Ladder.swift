extension HTMLReport {
    /// Long ladders keep their first and last rows, like the terminal's.
    static let ladderRowLimit = 200

    /// The scenario's segments as an SVG sequence diagram: a lifeline per host, an arrow per sent segment,
    /// a dot and name per socket state change. Rows are evenly spaced, one per segment or state change, with
    /// each row's time printed at the left rather than placed on a linear axis: a scenario's times run from
    /// microseconds apart to a minute, and no one scale shows both.
    static func ladder(_ scenario: ScenarioResult) -> [String] {
        guard !scenario.segments.isEmpty else { return ["<p class=\"note\">No segments were captured.</p>"] }
        let ladder = Ladder(scenario, maxRows: ladderRowLimit)
        let geometry = LadderGeometry(hosts: ladder.hosts.count, rows: ladder.rows.count)
        var lines: [String] = []
        if scenario.captureDropped > 0 {
            lines.append("<p class=\"note\">The capture lost \(scenario.captureDropped) frames: some segments are missing.</p>")
        }
        lines.append("<svg class=\"ladder\" width=\"\(geometry.width)\" height=\"\(geometry.height)\" "
            + "viewBox=\"0 0 \(geometry.width) \(geometry.height)\" role=\"img\" "
            + "aria-label=\(attribute("ladder diagram of \(scenario.id)"))>")
        for (column, host) in ladder.hosts.enumerated() {
            let x = geometry.x(column)
            lines.append("<text class=\"host\" x=\"\(x)\" y=\"20\" text-anchor=\"middle\">\(text(host))</text>")
            lines.append("<line class=\"lifeline\" x1=\"\(x)\" y1=\"\(LadderGeometry.top)\" x2=\"\(x)\" y2=\"\(geometry.height - 8)\"/>")
        }
        for (index, row) in ladder.rows.enumerated() {
            lines += svgRow(row, y: geometry.y(index), hosts: ladder.hosts, geometry: geometry)
        }
        lines.append("</svg>")
        return lines
    }

    private static func svgRow(_ row: Ladder.Row, y: Int, hosts: [String], geometry: LadderGeometry) -> [String] {
        let time = { (seconds: Double) in
            "<text class=\"time\" x=\"\(LadderGeometry.timeAxis)\" y=\"\(y + 4)\" text-anchor=\"end\">\(seconds.fixed(6))</text>"
        }
        switch row {
        case .segment(let arrow):
            let kind = !arrow.arrived ? "segment lost" : arrow.segment.fault != nil ? "segment faulted" : "segment"
            return ["<g class=\"\(kind)\"><title>\(text(tooltip(arrow, hosts: hosts)))</title>", time(arrow.segment.time)]
                + svgArrow(arrow, y: y, geometry: geometry) + ["</g>"]
        case .state(let seconds, let column, let state):
            let x = geometry.x(column), colour = stateColour(state)
            return ["<g class=\"state\">", time(seconds),
                    "<circle cx=\"\(x)\" cy=\"\(y)\" r=\"4\" fill=\"\(colour)\"/>",
                    "<text x=\"\(x + 8)\" y=\"\(y + 4)\" style=\"fill: \(colour)\">\(text(state))</text>", "</g>"]
        case .elided(let segments, let states):
            let counts = "\(segments) more segments" + (states > 0 ? " and \(states) more state changes" : "")
            return ["<text class=\"elided\" x=\"\((geometry.x(0) + geometry.x(hosts.count - 1)) / 2)\" y=\"\(y + 4)\" "
                + "text-anchor=\"middle\">… \(counts) …</text>"]
        }
    }

    /// A received segment runs lifeline to lifeline with an arrowhead; an unreceived one stops with a cross
    /// halfway along its first link. The label sits above the link it is on, the fault's words below.
    private static func svgArrow(_ arrow: Ladder.Arrow, y: Int, geometry: LadderGeometry) -> [String] {
        let start = geometry.x(arrow.from)
        let end: Int, labelX: Int
        if let to = arrow.to, let hop = arrow.firstHop {
            end = arrow.arrived ? geometry.x(to) : (start + geometry.x(hop)) / 2
            labelX = arrow.arrived ? (start + end) / 2 : end
        } else {
            // A lone host: a short stub to the right.
            end = start + LadderGeometry.columnGap / 4
            labelX = end
        }
        let direction = end > start ? 1 : -1
        var lines = ["<line x1=\"\(start)\" y1=\"\(y)\" x2=\"\(end)\" y2=\"\(y)\"/>"]
        if arrow.arrived {
            let back = end - 9 * direction
            lines.append("<polygon points=\"\(end),\(y) \(back),\(y - 4) \(back),\(y + 4)\"/>")
        } else {
            lines.append("<path d=\"M\(end - 4) \(y - 4) L\(end + 4) \(y + 4) M\(end - 4) \(y + 4) L\(end + 4) \(y - 4)\"/>")
        }
        lines.append("<text class=\"label\" x=\"\(labelX)\" y=\"\(y - 8)\" text-anchor=\"middle\">\(text(arrow.label))</text>")
        if let note = arrow.note {
            lines.append("<text class=\"note\" x=\"\(labelX)\" y=\"\(y + 16)\" text-anchor=\"middle\">\(text(note))</text>")
        }
        return lines
    }

    /// Everything about the segment, for the hover: hosts, addresses, window, options and fault.
    private static func tooltip(_ arrow: Ladder.Arrow, hosts: [String]) -> String {
        let segment = arrow.segment
        let receiver = segment.receiver ?? arrow.to.map { "\(hosts[$0]) (not received)" } ?? "not received"
        var lines = ["\(segment.time.fixed(6))  \(segment.host) → \(receiver)",
                     "\(segment.src) → \(segment.dst)",
                     arrow.label + (segment.window.map { " win \($0)" } ?? "")]
        if let options = segment.options, !options.isEmpty { lines.append(options.summary) }
        if let note = arrow.note { lines.append(note) }
        return lines.joined(separator: "\n")
    }
}

/// Pixel positions in a ladder's SVG.
private struct LadderGeometry {
    static let timeAxis = 84
    /// Wide enough for a label such as "P. seq 4294967295 ack 4294967295 len 65535" between two lifelines.
    static let columnGap = 300
    static let top = 32
    static let rowHeight = 40
    /// Room right of the last lifeline for a state name.
    static let rightRoom = 130

    let hosts: Int
    let rows: Int

    var width: Int { x(max(hosts - 1, 0)) + Self.rightRoom }
    var height: Int { y(rows) }

    func x(_ column: Int) -> Int { Self.timeAxis + 90 + column * Self.columnGap }
    func y(_ row: Int) -> Int { Self.top + 24 + row * Self.rowHeight }
}
