import Testing
@testable import Netfault

@Suite struct TerminalReportProgressLineTests {
    private let now = ContinuousClock.now

    private func line(running: [String: Double], done: Int = 3, total: Int = 11) -> TerminalReport.ProgressLine<ContinuousClock.Instant> {
        TerminalReport.ProgressLine(
            running: running.mapValues { now.advanced(by: .milliseconds(Int64(-$0 * 1000))) },
            done: done, total: total
        )
    }

    @Test func listsRunningScenariosOldestFirst() {
        let text = line(running: ["H1": 0.4, "C7": 12.1]).render(now: now, width: 80)
        #expect(text == "[3/11] running: C7 (12.1 s), H1 (0.4 s)")
    }

    @Test func nothingRunning() {
        #expect(line(running: [:], done: 11).render(now: now, width: 80) == "[11/11]")
    }

    @Test func truncatesToWidthWithAnEllipsis() {
        let text = line(running: ["H1": 0.4, "C7": 12.1]).render(now: now, width: 20)
        #expect(text == "[3/11] running: C7 …")
        #expect(text.count == 20)
    }

    @Test func exactFitIsNotTruncated() {
        let full = "[3/11] running: C7 (12.1 s), H1 (0.4 s)"
        #expect(line(running: ["H1": 0.4, "C7": 12.1]).render(now: now, width: full.count) == full)
    }

    @Test func degenerateWidths() {
        #expect(line(running: ["H1": 0.4]).render(now: now, width: 0) == "")
        #expect(line(running: ["H1": 0.4]).render(now: now, width: 1) == "…")
    }

    @Test func startAfterNowShowsZero() {
        #expect(line(running: ["H1": -2]).render(now: now, width: 80) == "[3/11] running: H1 (0.0 s)")
    }
}
