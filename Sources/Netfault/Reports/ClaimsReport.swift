/// `netfault claims`: per catalog ID, the source note's claim, what a real run says of it,
/// and the figures that run observed. Built from run results, never from text alone.
public enum ClaimsReport {
    public struct Entry: Codable, Sendable, Equatable {
        public var id: String
        public var claim: String
        /// "confirmed", "refuted", "partly"; "not reproduced" when the scenario failed,
        /// "skipped" when it could not run here.
        public var verdict: String
        /// What the run observed, expectation by expectation.
        public var evidence: String
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

    /// One block per ID: the claim, then each run's verdict and evidence, runs side by side
    /// in the order given (e.g. Debian's 6.1 in a VM, then this machine's 6.18).
    public static func render(_ runs: [[Entry]]) -> String {
        var ids: [String] = []
        for entry in runs.flatMap({ $0 }) where !ids.contains(entry.id) { ids.append(entry.id) }
        var lines: [String] = []
        for id in ids {
            let entries = runs.map { $0.first { $0.id == id } }
            guard let claim = entries.compactMap({ $0?.claim }).first else { continue }
            lines.append("\(id)  \(claim)")
            for (entry, run) in zip(entries, runs) {
                let kernel = entry?.kernel ?? run.first?.kernel ?? "?"
                guard let entry else {
                    lines.append("    \(kernel): not in this run")
                    continue
                }
                lines.append("    \(kernel): \(entry.verdict.uppercased())")
                lines.append("      \(entry.evidence)")
            }
            lines.append("")
        }
        return TerminalSanitizing.visible(lines.joined(separator: "\n"))
    }
}
