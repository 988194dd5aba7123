import Foundation
import Testing
@testable import Netfault

/// The claims-across-kernels page: one table, a colour per verdict, the changes computed from the runs.
@Suite struct ClaimsHTMLReportTests {
    static let catalog = [
        Scenario("H2", "lost SYN", claim: "A connect to a silent peer gives up after <2 minutes>.", verdict: .partly) { },
        Scenario("K3", "lost data", claim: "A lost segment is retransmitted.") { },
    ]

    static func run(_ kernel: String, _ times: [Double], k3: ScenarioStatus) -> RunResult {
        RunResult(kernel: kernel, startedAt: "2026-12-04T00:00:00Z", scenarios: [
            ScenarioResult(id: "H2", name: "lost SYN", status: .passed, expectations: [
                ExpectationResult(description: "SYN from client at client's SYN retransmission schedule", passed: true,
                                  location: "Scenarios/H2_LostSyn.swift:30", expected: "…",
                                  observed: "at " + times.map { "\($0)" }.joined(separator: ", ") + " s",
                                  observedValues: [ObservedValue("count", Double(times.count)), ObservedValue("last", times.last!, unit: "s")],
                                  tolerance: .timer),
            ]),
            ScenarioResult(id: "K3", name: "lost data", status: k3, skipReason: k3 == .skipped ? "needs <netem>" : nil),
        ])
    }

    static let matrix = ClaimsMatrix(runs: [run("6.1.0-50-amd64", [0, 1, 3, 7], k3: .passed),
                                            run("6.18.0", [0, 1, 2, 3, 4], k3: .skipped)], catalog: catalog)

    @Test func tableHasAColumnPerKernelAndAColourPerVerdict() {
        let page = ClaimsHTMLReport.render(Self.matrix)
        #expect(page.hasPrefix("<!DOCTYPE html>"))
        #expect(page.contains("<th><code>6.1.0-50-amd64</code></th><th><code>6.18.0</code></th>"))
        #expect(page.components(separatedBy: "<td class=\"verdict-partly\">").count - 1 == 2)
        #expect(page.contains("<td class=\"verdict-skipped\"><div class=\"verdict\">skipped</div><div class=\"evidence\">needs &lt;netem&gt;</div></td>"))
        #expect(page.contains(".verdict-skipped { background"), "each verdict class has a colour")
        #expect(page.contains("gives up after &lt;2 minutes&gt;."), "claims are escaped")
        #expect(!page.contains("<script") && !page.contains("<link") && !page.contains("src="), "self-contained")
    }

    @Test func changesSectionListsWhatDiffers() {
        let page = ClaimsHTMLReport.render(Self.matrix)
        let section = page[page.range(of: "<h2>What changed between kernels</h2>")!.lowerBound...]
        #expect(section.contains("<h3>H2: SYN from client at client&apos;s SYN retransmission schedule <code>Scenarios/H2_LostSyn.swift:30</code></h3>")
                    || section.contains("<h3>H2: SYN from client at client's SYN retransmission schedule <code>Scenarios/H2_LostSyn.swift:30</code></h3>"))
        #expect(section.contains("<li>6.1.0-50-amd64 → 6.18.0: count 4 → 5, last 7 s → 4 s (beyond -1 ms/+max(4 ms, 12.5 %))</li>"))
        #expect(section.contains("<h3>K3: the scenario</h3>"))
        #expect(section.contains("<li>6.1.0-50-amd64 → 6.18.0: passed → skipped</li>"))
    }

    @Test func oneRunSaysThereIsNothingToCompare() {
        let page = ClaimsHTMLReport.render(ClaimsMatrix(runs: [Self.run("6.18.0", [0, 1], k3: .passed)], catalog: Self.catalog))
        #expect(page.contains("<p>One run: nothing to compare.</p>"))
    }

    @Suite(.serialized, .enabled(if: HeadlessChromium.isInstalled,
                                 "chromium is not installed: no executable at \(HeadlessChromium.path)"))
    struct InChromium {
        @Test func pageParsesWithEveryCellAndChange() throws {
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("netfault-claims-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            let file = directory.appendingPathComponent("claims.html")
            try Data(ClaimsHTMLReport.render(ClaimsHTMLReportTests.matrix).utf8).write(to: file)
            let dom = try HeadlessChromium.run(["--dump-dom", file.absoluteString])
            #expect(dom.components(separatedBy: "<td class=\"verdict-").count - 1 == 4, "2 claims × 2 kernels")
            #expect(dom.components(separatedBy: "<h3>").count - 1 == 2, "H2's schedule and K3's skip")
            #expect(dom.contains("needs &lt;netem&gt;"))
        }
    }
}
