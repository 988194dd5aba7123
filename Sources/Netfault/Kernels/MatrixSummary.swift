import Foundation

/// The kernel matrix's summary (`scripts/kernel-matrix`, `netfault matrix A.json B.json …`):
/// scenario × kernel, passed / FAILED / skipped, then each skip's reason and each failure's
/// first failed expectation, so a reader sees why without opening the JSON.
public enum MatrixSummary {
    /// The scenario × kernel table, then the reasons for skips and failures.
    public static func render(_ runs: [RunResult]) -> String {
        var ids: [String] = []
        for scenario in runs.flatMap(\.scenarios) where !ids.contains(scenario.id) { ids.append(scenario.id) }
        let rows = ids.map { id in (id, runs.map { run in run.scenarios.first { $0.id == id } }) }
        let headers = runs.map(\.kernel)
        let idWidth = max(8, ids.map(\.count).max() ?? 0)
        let widths = headers.map { max($0.count, 7) }
        func line(_ first: String, _ cells: [String]) -> String {
            var text = ([first.padding(toLength: idWidth, withPad: " ", startingAt: 0)]
                + zip(cells, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }).joined(separator: "  ")
            while text.last == " " { text.removeLast() }
            return text
        }
        var lines = [line("scenario", headers)]
        for (id, results) in rows {
            lines.append(line(id, results.map { $0.map(word) ?? "-" }))
        }
        lines.append(line("", runs.map { run in
            let count = { (status: ScenarioStatus) in run.scenarios.count { $0.status == status } }
            return "\(count(.passed))/\(count(.failed))/\(count(.skipped))"
        }) + "   (passed/failed/skipped)")
        var notes: [String] = []
        for (id, results) in rows {
            for (run, result) in zip(runs, results) {
                guard let result else { continue }
                if result.status == .skipped {
                    notes.append("  \(id) skipped on \(run.kernel): \(result.skipReason ?? "no reason given")")
                } else if result.status == .failed {
                    let why = result.error ?? result.expectations.first { !$0.passed }?.failureMessage ?? "no failed expectation"
                    notes.append("  \(id) FAILED on \(run.kernel): \(why)")
                }
            }
        }
        if !notes.isEmpty { lines += [""] + notes }
        return TerminalSanitizing.visible(lines.joined(separator: "\n"))
    }

    private static func word(_ result: ScenarioResult) -> String {
        switch result.status {
        case .passed: "passed"
        case .failed: "FAILED"
        case .skipped: "skipped"
        }
    }
}
