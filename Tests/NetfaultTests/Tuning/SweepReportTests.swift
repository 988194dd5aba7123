import Foundation
import Testing
@testable import Netfault

/// A sweep's table, JSON and page, from a hand-made result.
@Suite struct SweepReportTests {
    static func point(_ value: String, _ status: ScenarioStatus, givesUp: Double?, count: Int) -> SweepResult.Point {
        var values = [ObservedValue("count", Double(count)), ObservedValue("last", Double(count - 1), unit: "s")]
        if let givesUp { values.append(ObservedValue("gives up", givesUp, unit: "s")) }
        let failed = status == .failed
        return .init(value: value, result: ScenarioResult(
            id: "H2", name: "lost SYNs", status: status, durationSeconds: givesUp ?? 40,
            expectations: [
                ExpectationResult(description: "SYN from client at <schedule>", passed: !failed, location: "Scenarios/H2_LostSyn.swift:28",
                                  expected: "at 0, 1 s", observed: "at 0, 1 s", observedValues: values),
                ExpectationResult(description: "client: connect fails with ETIMEDOUT", passed: true,
                                  location: "Scenarios/H2_LostSyn.swift:30", expected: "connect fails with ETIMEDOUT",
                                  observed: "connect failed with ETIMEDOUT at 7.2 s"),
            ]))
    }

    static let sweep = SweepResult(
        kernel: "6.18.44", startedAt: "2026-12-04T17:00:00Z", scenario: "H2", name: "lost SYNs", host: "client",
        sysctl: "net.ipv4.tcp_syn_retries", fixed: ["*:net.ipv4.tcp_fin_timeout=7"],
        points: [point("1", .passed, givesUp: 7.012, count: 6), point("2", .passed, givesUp: 11.02, count: 7),
                 point("3", .failed, givesUp: nil, count: 7)])

    @Test("one row per value: status, duration, each expectation's numbers or its observation")
    func table() {
        let lines = SweepReport.render(Self.sweep).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines[0] == "H2 lost SYNs: across client:net.ipv4.tcp_syn_retries with *:net.ipv4.tcp_fin_timeout=7 on 6.18.44")
        #expect(lines[2] == "VALUE  STATUS  TIME    [1]                                  [2]")
        #expect(lines[3] == "1      passed  7.0 s   count 6, last 5 s, gives up 7.012 s  connect failed with ETIMEDOUT at 7.2 s")
        #expect(lines[4] == "2      passed  11.0 s  count 7, last 6 s, gives up 11.02 s  connect failed with ETIMEDOUT at 7.2 s")
        #expect(lines[5] == "3      FAILED  40.0 s  ✗ count 7, last 6 s                  connect failed with ETIMEDOUT at 7.2 s")
        #expect(lines.contains("[1] Scenarios/H2_LostSyn.swift:28 SYN from client at <schedule>"))
        #expect(lines.contains("3: Scenarios/H2_LostSyn.swift:28: SYN from client at <schedule>: expected at 0, 1 s, observed at 0, 1 s"))
        #expect(lines.last == "2 passed, 1 failed, 0 skipped")
    }

    @Test("a long observation is cut to one cell")
    func longCell() {
        let cell = SweepReport.cell(ExpectationResult(description: "d", passed: false, location: "l", expected: "e",
                                                      observed: String(repeating: "x", count: 100)))
        #expect(cell.count == SweepReport.cellWidth && cell.hasPrefix("✗ xx") && cell.hasSuffix("…"))
    }

    @Test("series: each numeric observation across the values, nil where a point lacks it")
    func series() {
        let series = Self.sweep.series
        #expect(series.map(\.name) == ["count", "last", "gives up"])
        #expect(series[2].values == [7.012, 11.02, nil] && series[2].unit == "s" && series[2].expectation == 0)
    }

    @Test("JSON: every point's whole result, and it reads back")
    func json() throws {
        let data = try JSONReport.encode(Self.sweep)
        let decoded = try JSONDecoder().decode(SweepResult.self, from: data)
        #expect(decoded == Self.sweep)
        let text = String(decoding: data, as: UTF8.self)
        #expect(text.contains(#""sysctl" : "net.ipv4.tcp_syn_retries""#) && text.contains(#""observedValues" : ["#))
    }

    @Test("the page: the table, one inline SVG plot per numeric observation, no scripts, everything escaped")
    func html() {
        let page = SweepHTML.render(Self.sweep)
        #expect(page.hasPrefix("<!DOCTYPE html>") && !page.contains("<script") && !page.contains("http://www.w3.org/1999"))
        #expect(page.components(separatedBy: "<svg class=\"plot\"").count - 1 == 3)
        #expect(page.contains("SYN from client at &lt;schedule&gt;") && !page.contains("<schedule>"))
        // The give-up plot has two points (the failed value observed none) joined by a line.
        let givesUp = page.components(separatedBy: "<figure>")[3]
        #expect(givesUp.contains(": gives up (s)</figcaption>"))
        #expect(givesUp.components(separatedBy: "<circle").count - 1 == 2 && givesUp.contains("<polyline"))
        #expect(givesUp.contains("<title>net.ipv4.tcp_syn_retries = 2: gives up 11.02 s</title>"))
        // The count plot marks the failed value's point.
        #expect(page.components(separatedBy: "<figure>")[1].contains("<circle class=\"failed\""))
    }

    @Test("round ticks, and a flat range still has height")
    func ticks() {
        #expect(SweepHTML.ticks((0, 10.8)) == [0, 2, 4, 6, 8, 10])
        #expect(SweepHTML.padded(5, 5) == (4, 6))
    }
}

extension SweepReportTests {
    /// The page as a browser sees it.
    @Suite(.serialized, .enabled(if: HeadlessChromium.isInstalled, "chromium is not installed: no executable at \(HeadlessChromium.path)"))
    struct InChromium {
        @Test func parsedDOMKeepsThePlots() throws {
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("netfault-sweep-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            let file = directory.appendingPathComponent("sweep.html")
            try Data(SweepHTML.render(SweepReportTests.sweep).utf8).write(to: file)
            let dom = try HeadlessChromium.run(["--dump-dom", file.absoluteString])
            #expect(dom.components(separatedBy: "<svg").count - 1 == 3, "\(dom)")
            #expect(dom.components(separatedBy: "<circle").count - 1 == 3 + 3 + 2)
            #expect(dom.contains(">net.ipv4.tcp_syn_retries</text>"))
            let png = directory.appendingPathComponent("sweep.png")
            _ = try HeadlessChromium.run(["--screenshot=\(png.path)", "--window-size=1200,1400", file.absoluteString])
            #expect(try Data(contentsOf: png).starts(with: [0x89, 0x50, 0x4E, 0x47]))
        }
    }
}
