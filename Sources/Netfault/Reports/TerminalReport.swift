/// What `netfault run` prints for a person: a summary of the run, a detail block per scenario
/// (`TerminalReport+ScenarioDetail.swift`) and the live progress line (`TerminalReport+ProgressLine.swift`).
public enum TerminalReport {
    /// One line per scenario, the reasons under each failure, then the counts and the kernel.
    /// The counts line is never coloured so scripts and people can grep it as is.
    public static func summary(_ result: RunResult, colors: Bool) -> String {
        // Pad ids so the names line up in a column.
        let idWidth = result.scenarios.map(\.id.count).max() ?? 0
        var lines: [String] = []
        for scenario in result.scenarios {
            lines.append(summaryLine(scenario, idWidth: idWidth, colors: colors))
            if scenario.status != .passed {
                lines += failureReasons(scenario).map { indented(TerminalSanitizing.visible($0), by: "      ") }
                    .map { ANSIStyle.red.apply($0, if: colors) }
            }
        }
        let count = { (status: ScenarioStatus) in result.scenarios.count(where: { $0.status == status }) }
        lines.append("\(count(.passed)) passed, \(count(.failed)) failed, \(count(.skipped)) skipped")
        lines.append("kernel \(result.kernel)")
        return lines.joined(separator: "\n") + "\n"
    }

    private static func summaryLine(_ scenario: ScenarioResult, idWidth: Int, colors: Bool) -> String {
        let id = scenario.id + String(repeating: " ", count: max(0, idWidth - scenario.id.count))
        let name = TerminalSanitizing.visible(scenario.name)
        switch scenario.status {
        case .passed:
            return "\(ANSIStyle.green.apply("PASS", if: colors))  \(id)  \(name)  (\(seconds(scenario)))"
        case .failed:
            return "\(ANSIStyle.red.apply("FAIL", if: colors))  \(id)  \(name)  (\(seconds(scenario)))"
        case .skipped:
            let reason = scenario.skipReason.map { " — " + TerminalSanitizing.visible($0) } ?? ""
            return "\(ANSIStyle.yellow.apply("SKIP", if: colors))  \(id)  \(name)\(reason)"
        }
    }

    private static func seconds(_ scenario: ScenarioResult) -> String {
        "\(scenario.durationSeconds.fixed(2)) s"
    }

    /// The failed expectations' messages and the error that stopped the scenario, if any.
    static func failureReasons(_ scenario: ScenarioResult) -> [String] {
        scenario.expectations.filter { !$0.passed }.map(\.failureMessage)
            + (scenario.error.map { ["error: \($0)"] } ?? [])
    }

    /// Indents every line of a possibly multi-line text, so continuation lines stay under their entry.
    static func indented(_ text: String, by prefix: String) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false)
            .map { prefix + $0 }
            .joined(separator: "\n")
    }
}
