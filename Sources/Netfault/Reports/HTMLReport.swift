/// One self-contained HTML page for a run: a summary table, then per scenario its expectations, a ladder
/// diagram of its segments (`HTMLReport+Ladder.swift`) and a state timeline per socket (`HTMLReport+States.swift`).
/// Inline CSS and SVG only — no scripts, fonts or links to anywhere — so the file opens the same when
/// attached to a CI run or mailed. Every string from the result is escaped: peers and kernels write them.
public enum HTMLReport {
    /// One self-contained HTML page of the run: ladders, state timelines, expectations.
    public static func render(_ result: RunResult) -> String {
        let anchors = anchors(for: result.scenarios)
        var body = [
            "<h1>netfault report</h1>",
            #"<p class="run">kernel <code>\#(text(result.kernel))</code> · started \#(text(result.startedAt))</p>"#,
        ]
        body += summaryTable(result.scenarios, anchors: anchors)
        for (scenario, anchor) in zip(result.scenarios, anchors) {
            body += section(scenario, anchor: anchor)
        }
        return page(title: "netfault report \(result.startedAt)", stylesheet: stylesheet, body: body)
    }

    /// A whole document: its head (the title, escaped here, and the inline stylesheet), then `body`.
    static func page(title: String, stylesheet: String, body: [String]) -> String {
        let head = [
            "<!DOCTYPE html>",
            #"<html lang="en">"#,
            "<head>",
            #"<meta charset="utf-8">"#,
            #"<meta name="viewport" content="width=device-width, initial-scale=1">"#,
            "<title>\(text(title))</title>",
            "<style>\(stylesheet)</style>",
            "</head>",
            "<body>",
        ]
        return (head + body + ["</body>", "</html>"]).joined(separator: "\n") + "\n"
    }

    /// Element content.
    static func text(_ string: String) -> String { XMLEscaping.text(string) }

    /// A quoted attribute value.
    static func attribute(_ string: String) -> String { "\"\(XMLEscaping.attribute(string))\"" }

    /// `scenario-H3`: ids may hold any character, but one that is plain in a URL fragment is easy to link to;
    /// a repeated id gets a number so every anchor stays unique.
    private static func anchors(for scenarios: [ScenarioResult]) -> [String] {
        var seen: Set<String> = []
        return scenarios.enumerated().map { index, scenario in
            let slug = String(scenario.id.map { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") ? $0 : "-" })
            var anchor = "scenario-\(slug)"
            if seen.contains(anchor) { anchor += "-\(index + 1)" }
            seen.insert(anchor)
            return anchor
        }
    }

    private static func summaryTable(_ scenarios: [ScenarioResult], anchors: [String]) -> [String] {
        var lines = [#"<table class="summary">"#,
                     "<thead><tr><th>ID</th><th>Name</th><th>Status</th><th>Duration</th></tr></thead>", "<tbody>"]
        for (scenario, anchor) in zip(scenarios, anchors) {
            lines.append("<tr class=\"\(scenario.status.rawValue)\"><td><a href=\(attribute("#" + anchor))>\(text(scenario.id))</a></td>"
                + "<td>\(text(scenario.name))</td><td class=\"status\">\(statusWord(scenario.status))</td>"
                + "<td class=\"number\">\(duration(scenario))</td></tr>")
        }
        let count = { (status: ScenarioStatus) in scenarios.count(where: { $0.status == status }) }
        lines += ["</tbody>", "</table>",
                  "<p>\(count(.passed)) passed, \(count(.failed)) failed, \(count(.skipped)) skipped</p>"]
        return lines
    }

    private static func section(_ scenario: ScenarioResult, anchor: String) -> [String] {
        var lines = [
            "<section id=\(attribute(anchor)) class=\"scenario \(scenario.status.rawValue)\">",
            "<h2>\(text(scenario.id)) \(text(scenario.name)) <span class=\"status\">\(statusWord(scenario.status))</span></h2>",
        ]
        if scenario.status != .skipped { lines.append("<p class=\"meta\">\(duration(scenario))</p>") }
        if let reason = scenario.skipReason { lines.append("<p class=\"skip\">skipped: \(text(reason))</p>") }
        if let error = scenario.error { lines.append("<pre class=\"error\">error: \(text(error))</pre>") }
        if !scenario.expectations.isEmpty {
            lines += ["<h3>Expectations</h3>"] + expectationTable(scenario.expectations)
        }
        if !scenario.faults.isEmpty {
            lines += ["<h3>Faults</h3>", "<ul>"]
                + scenario.faults.map { "<li>\(text($0.description)) <span class=\"backend\">[\(text($0.backend))\($0.reason.map { ": " + text($0) } ?? "")]</span></li>" }
                + ["</ul>"]
        }
        // A skipped scenario never ran, so it has nothing on the wire to show.
        if scenario.status != .skipped { lines += ["<h3>Segments</h3>"] + ladder(scenario) }
        if !scenario.sockets.isEmpty {
            lines += ["<h3>Socket states</h3>"] + scenario.sockets.flatMap { stateTimeline($0, in: scenario) }
        }
        lines.append("</section>")
        return lines
    }

    private static func expectationTable(_ expectations: [ExpectationResult]) -> [String] {
        [#"<table class="expectations">"#,
         "<thead><tr><th></th><th>Expectation</th><th>Location</th><th>Expected</th><th>Observed</th></tr></thead>",
         "<tbody>"]
            + expectations.map { expectation in
                let (verdict, mark) = expectation.passed ? ("passed", "✓") : ("failed", "✗")
                return "<tr class=\"\(verdict)\"><td class=\"status\">\(mark)</td><td>\(text(expectation.description))</td>"
                    + "<td><code>\(text(expectation.location))</code></td><td>\(text(expectation.expected))</td>"
                    + "<td>\(text(expectation.observed))</td></tr>"
            }
            + ["</tbody>", "</table>"]
    }

    /// The terminal report's words, so the two read alike.
    private static func statusWord(_ status: ScenarioStatus) -> String {
        switch status {
        case .passed: "PASS"
        case .failed: "FAIL"
        case .skipped: "SKIP"
        }
    }

    private static func duration(_ scenario: ScenarioResult) -> String {
        scenario.status == .skipped ? "—" : "\(scenario.durationSeconds.fixed(2)) s"
    }
}
