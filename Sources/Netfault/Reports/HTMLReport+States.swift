extension HTMLReport {
    /// One socket's states as horizontal bars on a linear time axis from the scenario's start to its end,
    /// with each transition also listed in words below: a state held for microseconds is too thin to read.
    static func stateTimeline(_ socket: SocketTimeline, in scenario: ScenarioResult) -> [String] {
        var lines = ["<figure class=\"states\">",
                     "<figcaption>\(text(socket.host))  \(text(socket.local)) → \(text(socket.remote))</figcaption>"]
        guard !socket.transitions.isEmpty else {
            return lines + ["<p class=\"note\">No state was recorded.</p>", "</figure>"]
        }
        let axis = StateAxis(end: max(scenario.durationSeconds, socket.transitions.map(\.time).max() ?? 0))
        lines.append("<svg class=\"timeline\" width=\"\(StateAxis.width)\" height=\"\(StateAxis.height)\" "
            + "viewBox=\"0 0 \(StateAxis.width) \(StateAxis.height)\" role=\"img\" "
            + "aria-label=\(attribute("states of \(socket.host) \(socket.local)"))>")
        for (index, transition) in socket.transitions.enumerated() {
            let until = index + 1 < socket.transitions.count ? socket.transitions[index + 1].time : axis.end
            lines += bar(transition.state, from: transition.time, until: until, axis: axis)
        }
        lines += axis.ticks
        lines.append("</svg>")
        let words = socket.transitions.map { transition in
            "\(transition.time.fixed(6)) <b style=\"color: \(stateColour(transition.state))\">\(text(transition.state))</b>"
        }
        lines.append("<p class=\"transitions\">\(words.joined(separator: " → "))</p>")
        lines.append("</figure>")
        return lines
    }

    private static func bar(_ state: String, from start: Double, until end: Double, axis: StateAxis) -> [String] {
        let x = axis.x(start), width = max(1, axis.x(end) - x)
        var lines = ["<rect x=\"\(x)\" y=\"\(StateAxis.barTop)\" width=\"\(width)\" height=\"\(StateAxis.barHeight)\" "
            + "fill=\"\(stateColour(state))\"><title>\(text("\(state) \(start.fixed(6))–\(end.fixed(6)) s"))</title></rect>"]
        // The name goes inside the bar only when it fits; the list under the diagram always has it.
        if state.count * 7 + 8 <= width {
            lines.append("<text class=\"bar\" x=\"\(x + 4)\" y=\"\(StateAxis.barTop + 16)\">\(text(state))</text>")
        }
        return lines
    }

    /// One colour per family of states, so the phases of a connection read at a glance.
    static func stateColour(_ state: String) -> String {
        switch state {
        case "LISTEN": "#6a4fb3"
        case "SYN_SENT", "SYN_RECV": "#b8860b"
        case "ESTABLISHED": "#2e7d32"
        case "FIN_WAIT1", "FIN_WAIT2", "CLOSING": "#d35400"
        case "CLOSE_WAIT", "LAST_ACK": "#1565c0"
        case "TIME_WAIT": "#795548"
        default: "#757575"
        }
    }
}

/// The linear time axis of a state timeline, in pixels.
private struct StateAxis {
    static let width = 800
    static let height = 62
    static let margin = 12
    static let barTop = 6
    static let barHeight = 24

    /// The scenario's end; never 0, so a scenario without a duration still gets an axis.
    let end: Double

    init(end: Double) { self.end = end > 0 ? end : 1 }

    func x(_ time: Double) -> Int {
        Self.margin + Int((min(max(time, 0), end) / end * Double(Self.width - 2 * Self.margin)).rounded())
    }

    /// Five labelled ticks, with as many decimals as the span needs to tell them apart.
    var ticks: [String] {
        let decimals = end >= 10 ? 1 : end >= 1 ? 2 : end >= 0.01 ? 3 : 6
        let axisY = Self.barTop + Self.barHeight + 6
        var lines = ["<g class=\"axis\">",
                     "<line x1=\"\(Self.margin)\" y1=\"\(axisY)\" x2=\"\(Self.width - Self.margin)\" y2=\"\(axisY)\"/>"]
        for step in 0...4 {
            let time = end * Double(step) / 4, position = x(time)
            let anchor = step == 0 ? "start" : step == 4 ? "end" : "middle"
            lines.append("<line x1=\"\(position)\" y1=\"\(axisY)\" x2=\"\(position)\" y2=\"\(axisY + 4)\"/>")
            lines.append("<text x=\"\(position)\" y=\"\(axisY + 17)\" text-anchor=\"\(anchor)\">\(time.fixed(decimals)) s</text>")
        }
        lines.append("</g>")
        return lines
    }
}
