import Foundation

/// `netfault claims`: per catalog ID, the source note's claim, what a real run says of it,
/// and the figures that run observed. Built from run results, never from text alone.
public enum ClaimsReport {
    /// One claim's verdict and evidence from one run.
    public struct Entry: Codable, Sendable, Equatable {
        /// The catalog ID.
        public var id: String
        /// The note's claim.
        public var claim: String
        /// "confirmed", "refuted", "partly"; "not reproduced" when the scenario failed,
        /// "skipped" when it could not run here.
        public var verdict: String
        /// What the run observed, expectation by expectation.
        public var evidence: String
        /// The run's kernel, `uname -r`.
        public var kernel: String
    }

    /// The claims a run tested. A passing scenario's expectations assert what Linux does, so
    /// the scenario's stated verdict holds for that run; a failing one reproduced nothing.
    public static func entries(_ result: RunResult, catalog: [Scenario]) -> [Entry] {
        result.scenarios.compactMap { scenario in
            guard let definition = catalog.first(where: { $0.id == scenario.id }), let claim = definition.claim else { return nil }
            let verdict = switch scenario.status {
            case .passed: definition.verdict.rawValue
            case .failed: "not reproduced"
            case .skipped: "skipped"
            }
            return Entry(id: scenario.id, claim: claim, verdict: verdict, evidence: evidence(scenario), kernel: result.kernel)
        }
    }

    /// "SYN-ACK from server at 0, 1, 3, 7 s: at 0, 1.015, 3.031, 7.287 s; …"
    static func evidence(_ scenario: ScenarioResult) -> String {
        if let reason = scenario.skipReason { return reason }
        var parts = scenario.expectations.map { expectation in
            (expectation.passed ? "" : "FAILED ") + "\(expectation.description): \(shortened(expectation.observed))"
        }
        if let error = scenario.error { parts.insert("error: \(error)", at: 0) }
        return parts.joined(separator: "; ")
    }

    private static func shortened(_ text: String, to limit: Int = 160) -> String {
        text.count <= limit ? text : String(text.prefix(limit - 1)) + "…"
    }

    /// A table, claim × kernel, of verdicts; then per claim each kernel's verdict and evidence;
    /// then what changed between the kernels (when there are several).
    public static func render(_ matrix: ClaimsMatrix) -> String {
        var lines = table(matrix)
        lines.append("")
        for row in matrix.claims {
            lines.append("\(row.id)  \(row.claim)")
            for cell in row.cells {
                lines.append("    \(cell.kernel): \(cell.verdict.uppercased())")
                if !cell.evidence.isEmpty { lines.append("      \(cell.evidence)") }
            }
            lines.append("")
        }
        if matrix.kernels.count > 1 {
            lines.append("What changed between kernels")
            if matrix.changes.isEmpty { lines.append("    nothing beyond the tolerances") }
            for change in matrix.changes {
                lines.append("  \(change.id)  \(change.expectation)" + (change.location.isEmpty ? "" : "  (\(change.location))"))
                for difference in change.differences { lines.append("    \(difference)") }
                for reading in change.readings {
                    lines.append("      \(reading.kernel): \(reading.outcome)" + (reading.observed.isEmpty ? "" : ": \(reading.observed)"))
                }
            }
        }
        return TerminalSanitizing.visible(lines.joined(separator: "\n"))
    }

    /// "ID   5.10.0-32-amd64  6.18.0 …" then one row of verdicts per claim.
    static func table(_ matrix: ClaimsMatrix) -> [String] {
        let idWidth = max(2, matrix.claims.map(\.id.count).max() ?? 0)
        let widths = matrix.kernels.enumerated().map { index, kernel in
            max(kernel.count, matrix.claims.map { $0.cells[index].verdict.count }.max() ?? 0)
        }
        func line(_ first: String, _ cells: [String]) -> String {
            ([first.padding(toLength: idWidth, withPad: " ", startingAt: 0)]
                + zip(cells, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) })
                .joined(separator: "  ").trimmingTrailingSpaces()
        }
        return [line("ID", matrix.kernels)] + matrix.claims.map { line($0.id, $0.cells.map(\.verdict)) }
    }
}

private extension String {
    func trimmingTrailingSpaces() -> String {
        var text = self
        while text.last == " " { text.removeLast() }
        return text
    }
}
