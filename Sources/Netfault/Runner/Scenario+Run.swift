import Foundation

extension Scenario {
    /// Checks, builds, runs and evaluates the scenario, then tears everything down.
    /// Throws `InvalidScenario` for a scenario that cannot be built as written and
    /// `EnvironmentError` when this machine cannot run it (e.g. not root).
    /// For Swift Testing: `#expect(result.status == .passed, "\(result.failureSummary)")`.
    public func run(options: RunOptions = RunOptions()) async throws -> ScenarioResult {
        try ScenarioRunner.check(self)
        return await withCheckedContinuation { continuation in
            // The run blocks on waits and sleeps by design: a thread of its own, not the pool.
            Thread.detachNewThread {
                continuation.resume(returning: ScenarioRunner.run(self, options: options))
            }
        }
    }
}

extension ScenarioResult {
    /// Every failed expectation's message and the run error, one per line.
    public var failureSummary: String {
        let lines = expectations.filter { !$0.passed }.map(\.failureMessage) + (error.map { ["error: \($0)"] } ?? [])
        return lines.joined(separator: "\n")
    }
}

