import Testing
@testable import Netfault

@Suite struct ToleranceTests {
    private func close(_ a: Double, _ b: Double) -> Bool { abs(a - b) < 1e-9 }

    @Test func timerToleranceAroundSixtySeconds() {
        let range = Tolerance.timer.range(around: 60)
        #expect(close(range.lowerBound, 59.999))
        #expect(close(range.upperBound, 67.5))
    }

    @Test func lateMinimumWinsForShortTimers() {
        // 12.5 % of 10 ms is 1.25 ms, below the 4 ms minimum.
        let range = Tolerance.timer.range(around: 0.010)
        #expect(close(range.lowerBound, 0.009))
        #expect(close(range.upperBound, 0.014))
        // The crossover: 12.5 % of 32 ms is exactly 4 ms.
        #expect(close(Tolerance.timer.range(around: 0.032).upperBound, 0.036))
        #expect(close(Tolerance.timer.range(around: 0.2).upperBound, 0.225))
    }

    @Test func zeroExpected() {
        let range = Tolerance.timer.range(around: 0)
        #expect(close(range.lowerBound, -0.001))
        #expect(close(range.upperBound, 0.004))
    }

    @Test func customTolerance() {
        let tolerance = Tolerance(early: 0.001, lateMinimum: 2.1, lateFraction: 0)
        let range = tolerance.range(around: 60)
        #expect(close(range.lowerBound, 59.999))
        #expect(close(range.upperBound, 62.1))
        #expect(tolerance != .timer)
        #expect(Tolerance() == .timer)
    }

    @Test func timerDefaults() {
        #expect(Tolerance.timer.early == 0.001)
        #expect(Tolerance.timer.lateMinimum == 0.004)
        #expect(Tolerance.timer.lateFraction == 0.125)
    }

    /// Reported as a bug: `Int(lateFraction * 1000) / 10` is integer division, so the
    /// default 12.5 % prints as "12 %".
    @Test func descriptionStatesTheMargins() {
        #expect(Tolerance.timer.description == "-1 ms/+max(4 ms, 12.5 %)")
        #expect(Tolerance(early: 0.001, lateMinimum: 0.02, lateFraction: 0.1).description == "-1 ms/+max(20 ms, 10 %)")
    }
}

@Suite struct SourceLocationTests {
    @Test(arguments: [
        ("/a/b/Scenarios/X.swift", 12, "Scenarios/X.swift:12"),
        ("/work/main/Scenarios/H1_Handshake.swift", 4, "Scenarios/H1_Handshake.swift:4"),
        ("/work/main/Tests/NetfaultTests/Foo.swift", 7, "Tests/NetfaultTests/Foo.swift:7"),
        ("/work/main/Sources/Netfault/DSL/Scenario.swift", 1, "Sources/Netfault/DSL/Scenario.swift:1"),
        // The last of the known folders wins.
        ("/src/Scenarios/pkg/Tests/T.swift", 3, "Tests/T.swift:3"),
        // Otherwise the last two parts.
        ("/elsewhere/dir/file.swift", 9, "dir/file.swift:9"),
        ("file.swift", 1, "file.swift:1"),
    ])
    func description(file: String, line: Int, expected: String) {
        #expect(Netfault.SourceLocation(file: file, line: line).description == expected)
    }

    @Test func thisFile() {
        let here = Netfault.SourceLocation(file: #filePath, line: #line)
        #expect(here.description.hasPrefix("Tests/NetfaultTests/ToleranceAndLocationTests.swift:"))
        #expect(here == Netfault.SourceLocation(file: here.file, line: here.line))
        #expect(here != Netfault.SourceLocation(file: here.file, line: here.line + 1))
    }

    @Test func dslElementsRecordWhereTheyWereWritten() {
        let line = #line; let host = Host("a")
        #expect(host.location.line == line)
        #expect(host.location.file == #filePath)
        #expect(Host("b", file: "/p/Scenarios/Y.swift", line: 5).location.description == "Scenarios/Y.swift:5")
    }
}
