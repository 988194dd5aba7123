import Netfault
import Testing

// The README's library example and the DocC catalog's first and tuning examples, run for real:
// `refused`/`runRefused()` and `lostSyn`/`synRetriesSweep()` are Snippets/FirstScenario.swift
// and Snippets/Sweep.swift, linked into this target from Kernel/Snippets/ (one copy: `swift
// build` compiles it as a snippet, this target as its own source). If these stop compiling or
// passing, the docs are wrong; ReadmeTests holds the README's copy to the snippet.
@Test(.enabled(if: RootOnly.isRoot, RootOnly.reason))
func refusedConnection() async throws {
    let result = try await runRefused()
    #expect(result.status == .passed, "\(result.failureSummary)")
}

@Test(.enabled(if: RootOnly.isRoot, RootOnly.reason))
func synRetriesDecideWhenConnectGivesUp() async throws {
    let (once, sweep) = try await synRetriesSweep()
    #expect(once.status == .passed, "\(once.failureSummary)")
    #expect(sweep.points.allSatisfy { $0.result.status == .passed }, "\(SweepReport.render(sweep))")
    // One more SYN retry, a later give-up.
    let givingUp = try #require(sweep.series.first { $0.name == "gives up" }).values
    #expect(givingUp[0]! < givingUp[1]!)
}
