import Foundation
import Testing
@testable import Netfault

@Suite struct HTMLReportTests {
    private let page = HTMLReport.render(SegmentFixtures.run)

    /// Ladders of the scenarios with segments (H3, R1, X1) and a timeline per socket with states (3 + 2 + 1).
    static let expectedSVGCount = 3 + 6

    private func count(_ needle: String, in text: String) -> Int {
        text.components(separatedBy: needle).count - 1
    }

    /// The markup of one scenario's section.
    private func section(_ anchor: String, of page: String) throws -> String {
        let start = try #require(page.range(of: "<section id=\"\(anchor)\""))
        let end = try #require(page.range(of: "</section>", range: start.upperBound..<page.endIndex))
        return String(page[start.lowerBound..<end.upperBound])
    }

    /// The SVG groups drawing segments, each from just after `<g class="segment` to its `</g>`:
    /// `">…`, ` lost">…` or ` faulted">…`.
    private func segmentGroups(in markup: String) -> [String] {
        markup.components(separatedBy: "<g class=\"segment").dropFirst()
            .map { String($0[..<($0.range(of: "</g>")?.lowerBound ?? $0.endIndex)]) }
    }

    /// The SVG group drawing the segment with this label.
    private func segmentGroup(_ label: String, in markup: String) throws -> String {
        try #require(segmentGroups(in: markup).first { $0.contains(">\(label)</text>") }, "no segment labelled \(label)")
    }

    /// x1 and x2 of the group's arrow.
    private func arrowEnds(_ group: String) throws -> (Int, Int) {
        let match = try #require(group.firstMatch(of: #/<line x1="(\d+)" y1="\d+" x2="(\d+)"/#))
        return (Int(match.1)!, Int(match.2)!)
    }

    @Test func pageIsSelfContainedHTML5() {
        var run = SegmentFixtures.run
        run.scenarios.removeAll { $0.id == SegmentFixtures.hostile.id }
        let page = HTMLReport.render(run)
        #expect(page.hasPrefix("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"))
        #expect(page.hasSuffix("</body>\n</html>\n"))
        #expect(page.contains("<style>") && page.contains("<title>netfault report 2025-01-02T03:04:05Z</title>"))
        for reference in ["http://", "https://", "src=", "href=\"/", "url(", "@import", "<link", "<script", "xmlns"] {
            #expect(!page.contains(reference), "the page refers to something outside it: \(reference)")
        }
    }

    @Test func summaryTableLinksEverySection() throws {
        #expect(page.contains("<p class=\"run\">kernel <code>6.8.0-45-generic</code> · started 2025-01-02T03:04:05Z</p>"))
        #expect(page.contains("<tr class=\"failed\"><td><a href=\"#scenario-H3\">H3</a></td>"
            + "<td>One SYN lost, the next one delivered</td><td class=\"status\">FAIL</td><td class=\"number\">1.50 s</td></tr>"))
        #expect(page.contains("<tr class=\"skipped\"><td><a href=\"#scenario-T3\">T3</a></td>"))
        #expect(page.contains("<p>1 passed, 3 failed, 1 skipped</p>"))
        for id in ["H3", "R1", "X1", "E1", "T3"] {
            #expect(count("<section id=\"scenario-\(id)\"", in: page) == 1)
        }
        let skipped = try section("scenario-T3", of: page)
        #expect(skipped.contains("<p class=\"skip\">skipped: needs kernel ≥ 6.1</p>") && !skipped.contains("Segments"))
    }

    @Test func anchorsAreUniqueAndPlain() {
        var odd = SegmentFixtures.noSegments
        odd.id = "H 3/x"
        let page = HTMLReport.render(RunResult(kernel: "6.1.0", startedAt: "", scenarios: [odd, odd]))
        #expect(page.contains("<a href=\"#scenario-H-3-x\">H 3/x</a>") && page.contains("<section id=\"scenario-H-3-x\""))
        #expect(page.contains("<a href=\"#scenario-H-3-x-2\">") && page.contains("<section id=\"scenario-H-3-x-2\""))
    }

    @Test func expectationsShowWhereAndWhat() throws {
        let h3 = try section("scenario-H3", of: page)
        #expect(h3.contains("<tr class=\"failed\"><td class=\"status\">✗</td><td>connect takes at most 1.2 s</td>"
            + "<td><code>Scenarios/H3_OneSynLost.swift:23</code></td><td>≤ 1.2 s</td><td>1.30 s</td></tr>"))
        #expect(try section("scenario-E1", of: page).contains("<pre class=\"error\">error: setup failed</pre>"))
    }

    @Test func ladderDrawsEverySentSegmentFromSenderToReceiver() throws {
        let h3 = try section("scenario-H3", of: page)
        #expect(count("<svg class=\"ladder\"", in: h3) == 1)
        #expect(count("<g class=\"segment", in: h3) == 4)
        #expect(h3.contains("<text class=\"host\" x=\"174\" y=\"20\" text-anchor=\"middle\">client</text>"))
        #expect(h3.contains("<text class=\"host\" x=\"474\" y=\"20\" text-anchor=\"middle\">server</text>"))

        let synAck = try segmentGroup("S. seq 0 ack 1 len 0", in: h3)
        #expect(try arrowEnds(synAck) == (474, 174), "server to client")
        #expect(synAck.contains("<polygon") && synAck.hasPrefix("\">"))
        let retransmitted = try #require(segmentGroups(in: h3).first { $0.hasPrefix("\">") && $0.contains(">S seq 0 len 0</text>") })
        #expect(try arrowEnds(retransmitted) == (174, 474), "client to server")
    }

    @Test func droppedSegmentEndsInACrossWithItsFault() throws {
        let h3 = try section("scenario-H3", of: page)
        let lost = try #require(segmentGroups(in: h3).first { $0.hasPrefix(" lost\">") })
        #expect(try arrowEnds(lost) == (174, 324), "halfway to the server")
        #expect(lost.contains("<path d=\"M320 ") && !lost.contains("<polygon"))
        #expect(lost.contains(">S seq 0 len 0</text>") && lost.contains(">dropped by first SYN</text>"))
        #expect(lost.contains("<title>0.001020  client → server (not received)\n10.77.3.1:40000 → 10.77.3.2:8080\n"
            + "S seq 0 len 0\nmss 1460,sackOK,TS val 1 ecr 0,wscale 7\ndropped by first SYN</title>"))

        let delayed = try segmentGroup(". seq 1 ack 1 len 0", in: h3)
        #expect(h3.contains("<g class=\"segment faulted\">") && delayed.hasPrefix(" faulted\">"))
        #expect(delayed.contains(">delayed 300 ms by slow-ack</text>") && delayed.contains("<polygon"))
    }

    @Test func routedLadderHasThreeColumnsAndLosesTheAckAfterTheRouter() throws {
        let r1 = try section("scenario-R1", of: page)
        for (host, x) in [("client", 174), ("router", 474), ("server", 774)] {
            #expect(r1.contains("x=\"\(x)\" y=\"20\" text-anchor=\"middle\">\(host)</text>"))
        }
        let ack = try #require(segmentGroups(in: r1).first { $0.contains(">dropped by lose-ack</text>") })
        #expect(ack.hasPrefix(" lost\">") && ack.contains(">. seq 1 ack 1 len 0</text>"))
        #expect(try arrowEnds(ack) == (474, 624))
    }

    @Test func socketStatesAreBarsOnATimeAxis() throws {
        let h3 = try section("scenario-H3", of: page)
        #expect(count("<svg class=\"timeline\"", in: h3) == 3)
        #expect(h3.contains("<figcaption>client  10.77.3.1:40000 → 10.77.3.2:8080</figcaption>"))
        #expect(h3.contains("<text class=\"bar\" x=\"") && h3.contains("\">ESTABLISHED</text>"))
        #expect(h3.contains("fill=\"#2e7d32\"><title>ESTABLISHED 1.003060–1.500000 s</title></rect>"))
        #expect(h3.contains("<p class=\"transitions\">0.001000 <b style=\"color: #b8860b\">SYN_SENT</b> → "
            + "1.003060 <b style=\"color: #2e7d32\">ESTABLISHED</b></p>"))
        #expect(h3.contains(">0.00 s</text>") && h3.contains(">1.50 s</text>"))
    }

    @Test func longLaddersAreCut() throws {
        let page = HTMLReport.render(RunResult(kernel: "6.1.0", startedAt: "", scenarios: [SegmentFixtures.bulk(count: 300)]))
        #expect(count("<g class=\"segment", in: page) == HTMLReport.ladderRowLimit)
        #expect(page.contains(">… 400 more segments …</text>"))
    }

    @Test func scenarioWithoutSegmentsSaysSo() throws {
        #expect(try section("scenario-E1", of: page).contains("<p class=\"note\">No segments were captured.</p>"))
    }

    @Test func everyStringFromTheResultIsEscaped() throws {
        #expect(!page.contains("<script") && !page.contains("<img") && !page.contains("<b>ESTABLISHED"))
        #expect(!page.contains("\u{1B}"))
        let x1 = try section("scenario-X1", of: page)
        #expect(x1.contains("<h2>X1 &lt;script&gt;alert(1)&lt;/script&gt; <span class=\"status\">FAIL</span></h2>"))
        #expect(x1.contains("<pre class=\"error\">error: peer wrote &lt;/section&gt;&lt;script&gt;alert(3)&lt;/script&gt;</pre>"))
        #expect(x1.contains("<td>no &lt;script&gt;alert(2)&lt;/script&gt;</td>"))
        #expect(x1.contains("<td>&quot;quoted&quot; &amp; &apos;single&apos;</td>"))
        #expect(x1.contains(">delayed by &lt;img src=x&gt;\u{FFFD}[2J\nnext line</text>"))
        #expect(x1.contains("aria-label=\"states of evil\u{FFFD}[31m&quot;host 10.77.3.1:40000\""))
        #expect(x1.contains("&lt;b&gt;ESTABLISHED&lt;/b&gt;"))
    }
}

extension HTMLReportTests {
    /// The page as a browser sees it. Serialized: each run starts a browser, and the machine is small.
    @Suite(.serialized, .enabled(if: HeadlessChromium.isInstalled,
                                 "chromium is not installed: no executable at \(HeadlessChromium.path)"))
    struct InChromium {
        private func writePage() throws -> URL {
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("netfault-html-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let file = directory.appendingPathComponent("report.html")
            try Data(HTMLReport.render(SegmentFixtures.run).utf8).write(to: file)
            return file
        }

        @Test func parsedDOMKeepsTheSVGAndItsLabels() throws {
            let file = try writePage()
            defer { try? FileManager.default.removeItem(at: file.deletingLastPathComponent()) }
            let dom = try HeadlessChromium.run(["--dump-dom", file.absoluteString])
            #expect(dom.components(separatedBy: "<svg").count - 1 == HTMLReportTests.expectedSVGCount, "\(dom)")
            for label in ["S seq 0 len 0", "S. seq 0 ack 1 len 0", "dropped by first SYN", "dropped by lose-ack",
                          "delayed 300 ms by slow-ack", "ESTABLISHED"] {
                #expect(dom.contains(">\(label)</text>"), "no label \(label) in the DOM")
            }
            // The hostile name is still text, not an element, after the browser parsed it.
            #expect(dom.contains("X1 &lt;script&gt;alert(1)&lt;/script&gt;") && !dom.contains("<script"))
            #expect(dom.components(separatedBy: "<section ").count - 1 == SegmentFixtures.run.scenarios.count)
        }

        @Test func screenshotIsAPNG() throws {
            let file = try writePage()
            defer { try? FileManager.default.removeItem(at: file.deletingLastPathComponent()) }
            let png = file.deletingLastPathComponent().appendingPathComponent("report.png")
            _ = try HeadlessChromium.run(["--screenshot=\(png.path)", "--window-size=1200,1600", file.absoluteString])
            let data = try Data(contentsOf: png)
            #expect(data.count > 1024)
            #expect(data.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]))
        }
    }
}
