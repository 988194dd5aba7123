/// JUnit XML as read by Jenkins, GitLab and the GitHub test-report actions:
/// one `<testsuite>` per run, one `<testcase>` per scenario.
public enum JUnitReport {
    /// `hostname` is optional because the result model does not record it; the caller may know it.
    public static func render(_ result: RunResult, suiteName: String = "netfault", hostname: String? = nil) -> String {
        let cases = result.scenarios.map { (scenario: $0, verdict: JUnitVerdict($0)) }
        let countAttributes = [
            ("tests", "\(cases.count)"),
            ("failures", "\(cases.count(where: { $0.verdict.isFailure }))"),
            ("errors", "\(cases.count(where: { $0.verdict.isError }))"),
            ("skipped", "\(cases.count(where: { $0.verdict.isSkipped }))"),
            // Sum of scenario durations, which is what CI tools add up; wall time may be shorter when run in parallel.
            ("time", result.scenarios.reduce(0) { $0 + $1.durationSeconds }.fixed(3)),
        ]
        let suiteAttributes = [("name", suiteName)] + countAttributes + [("timestamp", result.startedAt)]
            + (hostname.map { [("hostname", $0)] } ?? [])

        var lines = [
            #"<?xml version="1.0" encoding="UTF-8"?>"#,
            "<testsuites\(attributes([("name", suiteName)] + countAttributes))>",
            "  <testsuite\(attributes(suiteAttributes))>",
            "    <properties>",
            "      <property\(attributes([("name", "kernel"), ("value", result.kernel)]))/>",
            "    </properties>",
        ]
        for (scenario, verdict) in cases {
            lines += testcase(scenario, verdict: verdict, kernel: result.kernel)
        }
        lines += ["  </testsuite>", "</testsuites>"]
        return lines.joined(separator: "\n") + "\n"
    }

    private static func testcase(_ scenario: ScenarioResult, verdict: JUnitVerdict, kernel: String) -> [String] {
        let open = "    <testcase" + attributes([
            // The kernel goes into the class name so results from several kernels stay apart in CI history.
            ("classname", "netfault.\(kernel)"),
            ("name", "\(scenario.id) \(scenario.name)"),
            ("time", scenario.durationSeconds.fixed(3)),
        ])
        var children: [String] = []
        switch verdict {
        case .passed:
            break
        case .failure(let message, let text):
            children.append("<failure\(attributes([("message", message), ("type", "expectation")]))>"
                + XMLEscaping.text(text) + "</failure>")
        case .error(let message):
            children.append("<error\(attributes([("message", message), ("type", "error")]))>"
                + XMLEscaping.text(message) + "</error>")
        case .skipped(let reason):
            children.append("<skipped\(attributes(reason.map { [("message", $0)] } ?? []))/>")
        }
        if let stderr = systemErr(scenario.processes) {
            children.append("<system-err>" + XMLEscaping.text(stderr) + "</system-err>")
        }
        if children.isEmpty { return [open + "/>"] }
        return [open + ">"] + children.map { "      " + $0 } + ["    </testcase>"]
    }

    /// Each process's stderr under a header naming it, so interleaved peers can be told apart.
    private static func systemErr(_ processes: [ProcessResult]) -> String? {
        let blocks = processes.filter { $0.stderr.bytes > 0 }.map { process in
            "--- \(process.host)/\(process.name): \(process.command)\n" + process.stderr.text
        }
        return blocks.isEmpty ? nil : blocks.joined(separator: "\n")
    }

    private static func attributes(_ pairs: [(String, String)]) -> String {
        pairs.map { " \($0.0)=\"\(XMLEscaping.attribute($0.1))\"" }.joined()
    }
}
