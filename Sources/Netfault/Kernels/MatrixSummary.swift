import Foundation

/// Scenario × kernel from saved runs (one per kernel): each scenario's status on each kernel
/// with the reason for a skip or a failure, and each kernel's totals. What `netfault matrix
/// --json` writes and what `MatrixSummary` renders.
public struct ScenarioMatrix: Codable, Sendable, Equatable {
    /// One scenario on one kernel.
    public struct Cell: Codable, Sendable, Equatable {
        /// The run's `uname -r`.
        public var kernel: String
        /// "passed", "failed", "skipped", or "absent" (not in that kernel's run).
        public var status: String
        /// A skip's reason; a failure's error or first failed expectation; nil otherwise.
        public var reason: String?
    }

    /// One scenario across the kernels, in the runs' order.
    public struct Row: Codable, Sendable, Equatable {
        /// The scenario's ID.
        public var id: String
        /// One per run.
        public var cells: [Cell]
    }

    /// One kernel's counts.
    public struct Totals: Codable, Sendable, Equatable {
        /// The run's `uname -r`.
        public var kernel: String
        /// Scenarios that passed.
        public var passed: Int
        /// Scenarios that failed.
        public var failed: Int
        /// Scenarios skipped.
        public var skipped: Int
    }

    /// Each run's `uname -r`, in the order given.
    public var kernels: [String]
    /// In the order the scenarios first appear in the runs.
    public var scenarios: [Row]
    /// One per kernel, in the same order.
    public var totals: [Totals]

    /// The matrix of `runs`, one per kernel, compared in the order given.
    public init(runs: [RunResult]) {
        var ids: [String] = []
        for scenario in runs.flatMap(\.scenarios) where !ids.contains(scenario.id) { ids.append(scenario.id) }
        kernels = runs.map(\.kernel)
        scenarios = ids.map { id in
            Row(id: id, cells: runs.map { run in
                guard let result = run.scenarios.first(where: { $0.id == id }) else {
                    return Cell(kernel: run.kernel, status: "absent", reason: nil)
                }
                switch result.status {
                case .passed: return Cell(kernel: run.kernel, status: "passed", reason: nil)
                case .skipped: return Cell(kernel: run.kernel, status: "skipped", reason: result.skipReason ?? "no reason given")
                case .failed:
                    let why = result.error ?? result.expectations.first { !$0.passed }?.failureMessage ?? "no failed expectation"
                    return Cell(kernel: run.kernel, status: "failed", reason: why)
                }
            })
        }
        totals = runs.map { run in
            let count = { (status: ScenarioStatus) in run.scenarios.count { $0.status == status } }
            return Totals(kernel: run.kernel, passed: count(.passed), failed: count(.failed), skipped: count(.skipped))
        }
    }

    /// True when a scenario failed on any kernel (`netfault matrix` then exits 1).
    public var anyFailed: Bool { totals.contains { $0.failed > 0 } }
}

/// The kernel matrix's summary (`scripts/kernel-matrix`, `netfault matrix A.json B.json …`):
/// scenario × kernel, passed / FAILED / skipped, then each skip's reason and each failure's
/// first failed expectation, so a reader sees why without opening the JSON.
public enum MatrixSummary {
    /// The scenario × kernel table, then the reasons for skips and failures (terminal controls made visible).
    public static func render(_ runs: [RunResult]) -> String {
        render(ScenarioMatrix(runs: runs))
    }

    /// The same from the matrix itself.
    public static func render(_ matrix: ScenarioMatrix) -> String {
        let headers = matrix.kernels
        let idWidth = max(8, matrix.scenarios.map(\.id.count).max() ?? 0)
        let widths = headers.map { max($0.count, 7) }
        func line(_ first: String, _ cells: [String]) -> String {
            var text = ([first.padding(toLength: idWidth, withPad: " ", startingAt: 0)]
                + zip(cells, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }).joined(separator: "  ")
            while text.last == " " { text.removeLast() }
            return text
        }
        var lines = [line("scenario", headers)]
        for row in matrix.scenarios {
            lines.append(line(row.id, row.cells.map(word)))
        }
        lines.append(line("", matrix.totals.map { "\($0.passed)/\($0.failed)/\($0.skipped)" }) + "   (passed/failed/skipped)")
        var notes: [String] = []
        for row in matrix.scenarios {
            for cell in row.cells {
                if cell.status == "skipped" {
                    notes.append("  \(row.id) skipped on \(cell.kernel): \(cell.reason ?? "no reason given")")
                } else if cell.status == "failed" {
                    notes.append("  \(row.id) FAILED on \(cell.kernel): \(cell.reason ?? "no failed expectation")")
                }
            }
        }
        if !notes.isEmpty { lines += [""] + notes }
        return TerminalSanitizing.visible(lines.joined(separator: "\n"))
    }

    private static func word(_ cell: ScenarioMatrix.Cell) -> String {
        switch cell.status {
        case "failed": "FAILED"
        case "absent": "-"
        default: cell.status
        }
    }
}
