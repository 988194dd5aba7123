/// One self-contained page for `netfault claims --from A B … --html FILE`: the claims against the
/// kernels, a colour per verdict and the evidence in each cell, then "What changed between
/// kernels" (`KernelComparison`). Inline CSS only, every string escaped, as `HTMLReport`.
public enum ClaimsHTMLReport {
    /// One self-contained HTML page of the claims × kernels, a colour per verdict.
    public static func render(_ matrix: ClaimsMatrix) -> String {
        var body = [
            "<h1>netfault claims across kernels</h1>",
            "<p class=\"run\">\(matrix.claims.count) claims, \(matrix.kernels.count) kernels: "
                + matrix.kernels.map { "<code>\(text($0))</code>" }.joined(separator: ", ") + "</p>",
        ]
        body += claimsTable(matrix)
        body += changesSection(matrix)
        return HTMLReport.page(title: "netfault claims across kernels", stylesheet: HTMLReport.stylesheet + stylesheet, body: body)
    }

    private static func text(_ string: String) -> String { XMLEscaping.text(string) }

    /// `refuted`, `not-reproduced`: a class name per verdict.
    static func verdictClass(_ verdict: String) -> String {
        "verdict-" + String(verdict.map { $0.isLetter || $0.isNumber ? $0 : "-" })
    }

    private static func claimsTable(_ matrix: ClaimsMatrix) -> [String] {
        var lines = [#"<table class="claims">"#,
                     "<thead><tr><th>ID</th><th>Claim</th>"
                         + matrix.kernels.map { "<th><code>\(text($0))</code></th>" }.joined() + "</tr></thead>",
                     "<tbody>"]
        for row in matrix.claims {
            let cells = row.cells.map { cell in
                "<td class=\"\(verdictClass(cell.verdict))\"><div class=\"verdict\">\(text(cell.verdict))</div>"
                    + "<div class=\"evidence\">\(text(cell.evidence))</div></td>"
            }
            lines.append("<tr><td>\(text(row.id))</td><td class=\"claim\">\(text(row.claim))</td>\(cells.joined())</tr>")
        }
        lines += ["</tbody>", "</table>"]
        return lines
    }

    private static func changesSection(_ matrix: ClaimsMatrix) -> [String] {
        var lines = [#"<section class="changes">"#, "<h2>What changed between kernels</h2>"]
        if matrix.kernels.count < 2 {
            lines.append("<p>One run: nothing to compare.</p>")
        } else if matrix.changes.isEmpty {
            lines.append("<p>No claim's evidence differs between these kernels beyond its tolerances.</p>")
        } else {
            lines.append("<p>Each expectation that passed on one kernel and not on the next, or whose sockets went through "
                + "other states, whose calls failed with another errno, whose counts differ, or whose timer readings differ "
                + "by more than its tolerance allows two readings of one behaviour to differ. Instants without a tolerance "
                + "(when a call returned, when a state was reached) move from run to run and are not compared.</p>")
        }
        for change in matrix.changes {
            let location = change.location.isEmpty ? "" : " <code>\(text(change.location))</code>"
            lines.append("<h3>\(text(change.id)): \(text(change.expectation))\(location)</h3>")
            lines.append("<p class=\"claim\">\(text(change.claim))</p>")
            lines.append("<ul>" + change.differences.map { "<li>\(text($0))</li>" }.joined() + "</ul>")
            lines.append(#"<table class="readings"><thead><tr><th>Kernel</th><th>Outcome</th><th>Observed</th></tr></thead><tbody>"#)
            for reading in change.readings {
                lines.append("<tr><td><code>\(text(reading.kernel))</code></td><td>\(text(reading.outcome))</td>"
                    + "<td>\(text(reading.observed))</td></tr>")
            }
            lines.append("</tbody></table>")
        }
        lines.append("</section>")
        return lines
    }

    static let stylesheet = """
        table.claims td { max-width: 28em; }
        td.claim { max-width: 22em; }
        .verdict { font-weight: bold; }
        .evidence { font-size: 12px; color: #444; word-break: break-word; }
        .verdict-confirmed { background: #e3f4e4; }
        .verdict-refuted { background: #fde2e1; }
        .verdict-partly { background: #fff1cc; }
        .verdict-not-reproduced { background: #f6c6c6; }
        .verdict-skipped { background: #eeeeee; }
        .verdict-not-in-this-run { background: #ffffff; color: #999; }
        section.changes h3 { margin-bottom: 0.2em; }

        """
}
