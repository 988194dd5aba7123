import Foundation

/// One self-contained page for a sweep: the table of `SweepReport`, then each numeric
/// observation plotted against the swept value (inline SVG; no scripts, no external
/// assets). Pure.
public enum SweepHTML {
    /// One self-contained HTML page: the sweep's table and each observation plotted against the value.
    public static func render(_ sweep: SweepResult) -> String {
        let title = "\(sweep.scenario) across \(sweep.parameter)"
        var page = [
            "<!DOCTYPE html>", #"<html lang="en">"#, "<head>", #"<meta charset="utf-8">"#,
            "<title>netfault sweep \(text(title))</title>",
            "<style>\(HTMLReport.stylesheet)\(stylesheet)</style>", "</head>", "<body>",
            "<h1>netfault sweep: \(text(sweep.scenario)) \(text(sweep.name))</h1>",
            "<p class=\"run\">across <code>\(text(sweep.parameter))</code>"
                + (sweep.fixed.isEmpty ? "" : " with " + sweep.fixed.map { "<code>\(text($0))</code>" }.joined(separator: ", "))
                + " · kernel <code>\(text(sweep.kernel))</code> · started \(text(sweep.startedAt))</p>",
        ]
        page += table(sweep)
        let series = sweep.series
        if !series.isEmpty { page.append("<h2>Observations against \(text(sweep.sysctl))</h2>") }
        let expectations = sweep.expectations
        for line in series {
            let expectation = expectations[line.expectation]
            page += ["<figure>",
                     "<figcaption>[\(line.expectation + 1)] \(text(expectation.description)): \(text(line.name))\(line.unit.map { " (\(text($0)))" } ?? "")</figcaption>",
                     chart(line, sweep: sweep), "</figure>"]
        }
        page += ["</body>", "</html>"]
        return page.joined(separator: "\n") + "\n"
    }

    static let stylesheet = """

        svg.plot .line { fill: none; stroke: #1565c0; stroke-width: 1.5; }
        svg.plot circle.passed { fill: #1565c0; }
        svg.plot circle.failed { fill: #c62828; }
        svg.plot circle.skipped { fill: #a06800; }
        svg.plot .grid { stroke: #eee; }
        td.observed { font-family: ui-monospace, monospace; font-size: 12px; }
        table.sweep td.number { white-space: nowrap; }
        """

    static func text(_ string: String) -> String { XMLEscaping.text(string) }

    private static func table(_ sweep: SweepResult) -> [String] {
        let expectations = sweep.expectations
        var lines = ["<table class=\"sweep\">",
                     "<thead><tr><th>\(text(sweep.sysctl))</th><th>Status</th><th>Duration</th>"
                         + expectations.enumerated().map { "<th>[\($0.offset + 1)] \(text($0.element.description))<br><span class=\"note\">\(text($0.element.location))</span></th>" }.joined()
                         + "</tr></thead>", "<tbody>"]
        for point in sweep.points {
            let result = point.result
            var row = "<tr class=\"\(result.status.rawValue)\"><td class=\"number\">\(text(point.value))</td>"
                + "<td class=\"status\">\(result.status.rawValue)</td><td class=\"number\">\(result.durationSeconds.fixed(3)) s</td>"
            for index in expectations.indices {
                guard index < result.expectations.count else { row += "<td>-</td>"; continue }
                let expectation = result.expectations[index]
                row += "<td class=\"observed \(expectation.passed ? "passed" : "failed")\">\(text(expectation.observed))</td>"
            }
            lines.append(row + "</tr>")
            if let reason = result.skipReason { lines.append("<tr><td></td><td colspan=\"\(expectations.count + 2)\" class=\"note\">skipped: \(text(reason))</td></tr>") }
            if let error = result.error { lines.append("<tr><td></td><td colspan=\"\(expectations.count + 2)\"><pre class=\"error\">\(text(error))</pre></td></tr>") }
        }
        lines += ["</tbody>", "</table>"]
        return lines
    }

    static let width = 560.0, height = 260.0
    static let left = 70.0, right = 20.0, top = 15.0, bottom = 45.0

    /// The x axis is the swept value when every value is a number, else the values in order.
    static func chart(_ series: SweepResult.Series, sweep: SweepResult) -> String {
        let numericX = sweep.points.compactMap { Double($0.value) }
        let xs = numericX.count == sweep.points.count ? numericX : sweep.points.indices.map(Double.init)
        let ys = series.values.compactMap { $0 }
        let xRange = padded(xs.min() ?? 0, xs.max() ?? 1)
        let yRange = padded(min(0, ys.min() ?? 0), ys.max() ?? 1)
        func x(_ value: Double) -> Double { left + (value - xRange.low) / (xRange.high - xRange.low) * (width - left - right) }
        func y(_ value: Double) -> Double { height - bottom - (value - yRange.low) / (yRange.high - yRange.low) * (height - top - bottom) }
        var svg = ["<svg class=\"plot\" xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" viewBox=\"0 0 \(Int(width)) \(Int(height))\">"]
        svg.append("<g class=\"axis\"><line x1=\"\(left)\" y1=\"\(height - bottom)\" x2=\"\(width - right)\" y2=\"\(height - bottom)\"/>"
                   + "<line x1=\"\(left)\" y1=\"\(top)\" x2=\"\(left)\" y2=\"\(height - bottom)\"/>")
        for tick in ticks(yRange) {
            let position = y(tick).fixed(1)
            svg.append("<line class=\"grid\" x1=\"\(left)\" y1=\"\(position)\" x2=\"\(width - right)\" y2=\"\(position)\"/>"
                       + "<text x=\"\(left - 6)\" y=\"\(position)\" text-anchor=\"end\" dominant-baseline=\"middle\">\(label(tick))</text>")
        }
        let every = max(1, sweep.points.count / 12)  // at most about 12 labels under the axis
        for (index, point) in sweep.points.enumerated() where index % every == 0 {
            svg.append("<text x=\"\(x(xs[index]).fixed(1))\" y=\"\(height - bottom + 16)\" text-anchor=\"middle\">\(text(point.value))</text>")
        }
        svg.append("<text x=\"\((left + width - right) / 2)\" y=\"\(height - 6)\" text-anchor=\"middle\">\(text(sweep.sysctl))</text></g>")
        let plotted = series.values.indices.compactMap { index in series.values[index].map { (index, x(xs[index]), y($0)) } }
        if plotted.count > 1 {
            svg.append("<polyline class=\"line\" points=\"" + plotted.map { "\($0.1.fixed(1)),\($0.2.fixed(1))" }.joined(separator: " ") + "\"/>")
        }
        for (index, px, py) in plotted {
            let point = sweep.points[index]
            let value = SweepReport.number(ObservedValue(series.name, series.values[index]!, unit: series.unit))
            svg.append("<circle class=\"\(point.result.status.rawValue)\" cx=\"\(px.fixed(1))\" cy=\"\(py.fixed(1))\" r=\"4\">"
                       + "<title>\(text(sweep.sysctl)) = \(text(point.value)): \(text(series.name)) \(text(value))</title></circle>")
        }
        svg.append("</svg>")
        return svg.joined(separator: "\n")
    }

    /// A range that is never empty, with a little room above.
    static func padded(_ low: Double, _ high: Double) -> (low: Double, high: Double) {
        if high <= low { return (low - 1, high + 1) }
        return (low, high + (high - low) * 0.08)
    }

    /// Three to seven round values across the range (1, 2 or 5 times a power of ten apart).
    static func ticks(_ range: (low: Double, high: Double)) -> [Double] {
        let raw = (range.high - range.low) / 6
        let magnitude = pow(10, floor(log10(raw)))
        let step = [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? raw
        var tick = ceil(range.low / step) * step
        var result: [Double] = []
        while tick <= range.high + step * 1e-9, result.count < 20 {
            result.append(tick)
            tick += step
        }
        return result
    }

    static func label(_ value: Double) -> String {
        value == value.rounded() ? String(Int64(value)) : Format.instants([value]).dropLast(2).description
    }
}
