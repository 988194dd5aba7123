/// A sweep in the terminal: one row per value — status, duration, and each expectation's
/// observed numbers (or its observation, shortened, where it has none) — then a legend of
/// the expectations and every failure's message. Pure.
public enum SweepReport {
    /// Longer observations are cut with "…" so a row stays one line.
    static let cellWidth = 48

    /// The sweep's table, as `netfault sweep` prints it.
    public static func render(_ sweep: SweepResult) -> String {
        let expectations = sweep.expectations
        var rows = [["VALUE", "STATUS", "TIME"] + expectations.indices.map { "[\($0 + 1)]" }]
        for point in sweep.points {
            let result = point.result
            var row = [point.value, result.status == .failed ? "FAILED" : result.status.rawValue,
                       result.status == .skipped ? "-" : result.durationSeconds.fixed(1) + " s"]
            row += expectations.indices.map { index in
                guard index < result.expectations.count else { return "-" }
                return cell(result.expectations[index])
            }
            rows.append(row)
        }
        let fixed = sweep.fixed.isEmpty ? "" : " with " + sweep.fixed.joined(separator: ", ")
        var lines = ["\(sweep.scenario) \(sweep.name): across \(sweep.parameter)\(fixed) on \(sweep.kernel)", ""]
        lines += table(rows)
        lines.append("")
        for (index, expectation) in expectations.enumerated() {
            lines.append("[\(index + 1)] \(expectation.location) \(expectation.description)")
        }
        for point in sweep.points {
            if point.result.status == .skipped, let reason = point.result.skipReason {
                lines.append("\(point.value): skipped: \(reason)")
            }
            let failures = point.result.failureSummary
            if !failures.isEmpty {
                lines.append("\(point.value): " + failures.split(separator: "\n").joined(separator: "\n\(point.value): "))
            }
        }
        let count = { (status: ScenarioStatus) in sweep.points.count(where: { $0.result.status == status }) }
        lines.append("\(count(.passed)) passed, \(count(.failed)) failed, \(count(.skipped)) skipped")
        return lines.joined(separator: "\n")
    }

    /// "count 6, last 5.118 s, gives up 7.1 s"; "✗ " in front when the expectation failed.
    static func cell(_ expectation: ExpectationResult) -> String {
        let text = expectation.observedValues.isEmpty
            ? expectation.observed
            : expectation.observedValues.map { "\($0.name) \(number($0))" }.joined(separator: ", ")
        let marked = (expectation.passed ? "" : "✗ ") + text
        return marked.count > cellWidth ? marked.prefix(cellWidth - 1) + "…" : marked
    }

    /// 7.1234 s → "7.123 s"; counts as integers.
    static func number(_ value: ObservedValue) -> String {
        let text = value.value == value.value.rounded() && abs(value.value) < 1e15
            ? String(Int64(value.value)) : Format.instants([value.value]).dropLast(2).description
        return value.unit.map { "\(text) \($0)" } ?? text
    }

    /// Columns padded to their widest cell, two spaces apart.
    static func table(_ rows: [[String]]) -> [String] {
        let widths = (0..<(rows.map(\.count).max() ?? 0)).map { column in
            rows.map { column < $0.count ? $0[column].count : 0 }.max() ?? 0
        }
        return rows.map { row in
            row.enumerated().map { column, text in
                column == row.count - 1 ? text : text.padding(toLength: widths[column], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }
    }
}
