import Foundation

/// A sequence ("ladder") diagram of one scenario's segments for the terminal, for reading what
/// happened on the wire: one column per host, one row per sent segment or socket state change.
///
///                client                        server
///       0.000012 │                             ├ LISTEN
///       0.001020 │──────────────✕              │   S seq 0 len 0  [dropped by first SYN]
///       1.003000 │────────────────────────────▶│   S seq 0 len 0
///       1.003050 │◀────────────────────────────│   S. seq 0 ack 1 len 0
public enum LadderDiagram {
    /// `width` is the terminal width the columns are spread over (labels may run past it);
    /// beyond `maxRows` rows the first and last `maxRows / 2` are shown.
    public static func render(_ scenario: ScenarioResult, width: Int = 100, maxRows: Int = 200) -> String {
        var lines = ["\(field(scenario.id))  \(field(scenario.name))"]
        if scenario.segments.isEmpty {
            lines.append("  no segments were captured")
        } else {
            if scenario.captureDropped > 0 {
                lines.append("  the capture lost \(scenario.captureDropped) frames: some segments are missing")
            }
            let ladder = Ladder(scenario, maxRows: maxRows)
            let grid = LadderGrid(ladder, width: width)
            lines.append(grid.header)
            lines += ladder.rows.map(grid.line)
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Every string from the result is sanitized on its own, before layout, so columns are counted in the
    /// characters actually printed; newlines and tabs would break the grid, so they become symbols too.
    static func field(_ text: String) -> String {
        TerminalSanitizing.visible(text.replacingOccurrences(of: "\n", with: "\u{240A}")
            .replacingOccurrences(of: "\t", with: "\u{2409}"))
    }
}

/// The character grid of one ladder: a time column, then the hosts' lifelines `gap` characters apart,
/// then each row's label.
private struct LadderGrid {
    let hosts: [String]
    let gap: Int
    let timeWidth: Int

    /// Room kept right of the lifelines for a label such as "S. seq 0 ack 1 len 0  [dropped by …]".
    private static let labelRoom = 36

    init(_ ladder: Ladder, width: Int) {
        hosts = ladder.hosts.map(LadderDiagram.field)
        timeWidth = ladder.rows.compactMap(Self.time).map(\.count).max() ?? 0
        let available = width - (timeWidth + 4) - Self.labelRoom
        gap = hosts.count > 1 ? min(30, max(10, available / (hosts.count - 1))) : 0
    }

    /// One column past the last lifeline, plus room for a lone host's drop stub `│─✕`.
    private var diagramWidth: Int { hosts.count == 1 ? 3 : (hosts.count - 1) * gap + 1 }

    private func x(_ column: Int) -> Int { column * gap }

    var header: String {
        var cells = blank(diagramWidth)
        for (column, host) in hosts.enumerated() {
            // Names are cut to fit before the next lifeline; the last one has the line's end to itself.
            let name = column == hosts.count - 1 ? host : String(host.prefix(gap - 1))
            write(name, at: x(column), on: &cells)
        }
        return finished(time: "", cells)
    }

    func line(_ row: Ladder.Row) -> String {
        var cells = lifelines("│")
        switch row {
        case .segment(let arrow):
            draw(arrow, on: &cells)
            let note = arrow.note.map { "  [\(LadderDiagram.field($0))]" } ?? ""
            return finished(time: arrow.segment.time.fixed(6), cells, label: LadderDiagram.field(arrow.label) + note)
        case .state(let time, let column, let state):
            write("├ " + LadderDiagram.field(state), at: x(column), on: &cells)
            return finished(time: time.fixed(6), cells)
        case .elided(let segments, let states):
            let counts = [plural(segments, "segment"), states > 0 ? plural(states, "state change") : nil]
                .compactMap { $0 }.joined(separator: " and ")
            return finished(time: "", lifelines("⋮"), label: "… \(counts) …")
        }
    }

    /// A received segment's arrow runs lifeline to lifeline; an unreceived one stops with ✕ halfway along its first link.
    private func draw(_ arrow: Ladder.Arrow, on cells: inout [Character]) {
        let start = x(arrow.from)
        guard let to = arrow.to, let hop = arrow.firstHop else {
            write("─✕", at: start + 1, on: &cells)
            return
        }
        let step = to > arrow.from ? 1 : -1
        let end = arrow.arrived ? x(to) - step : (start + x(hop)) / 2
        for index in stride(from: start + step, through: end, by: step) { cells[index] = "─" }
        cells[end] = arrow.arrived ? (step > 0 ? "▶" : "◀") : "✕"
    }

    private func lifelines(_ mark: Character) -> [Character] {
        var cells = blank(diagramWidth)
        for column in hosts.indices { cells[x(column)] = mark }
        return cells
    }

    private func blank(_ count: Int) -> [Character] { Array(repeating: " ", count: count) }

    /// Overwrites from `start`, growing the row if the text runs past it.
    private func write(_ text: String, at start: Int, on cells: inout [Character]) {
        for (offset, character) in text.enumerated() {
            if start + offset >= cells.count { cells.append(contentsOf: blank(start + offset - cells.count + 1)) }
            cells[start + offset] = character
        }
    }

    private func finished(time: String, _ cells: [Character], label: String = "") -> String {
        let padded = String(repeating: " ", count: timeWidth - time.count) + time
        var text = "  \(padded)  " + String(cells) + (label.isEmpty ? "" : "   " + label)
        while text.last == " " { text.removeLast() }
        return text
    }

    private static func time(_ row: Ladder.Row) -> String? {
        switch row {
        case .segment(let arrow): arrow.segment.time.fixed(6)
        case .state(let time, _, _): time.fixed(6)
        case .elided: nil
        }
    }

    private func plural(_ count: Int, _ noun: String) -> String {
        "\(count) more \(noun)\(count == 1 ? "" : "s")"
    }
}
