import Foundation
import NetfaultKernel

/// Runs many scenarios, up to `parallel` at once, each in namespaces of its own.
public enum CatalogRunner {
    /// A snapshot for live progress: which scenarios are running since when.
    public typealias Progress = TerminalReport.ProgressLine<ContinuousClock.Instant>

    /// Runs checked scenarios, the longest (by time limit) first so the short ones fill the
    /// other slots while it runs; results come back in the given order.
    public static func run(_ scenarios: [Scenario], options: RunOptions = RunOptions(), parallel: Int = 1,
                           progress: (@Sendable (Progress) -> Void)? = nil) -> RunResult {
        let startedAt = ISO8601DateFormatter().string(from: Date())
        let state = SharedState(count: scenarios.count)
        let slots = DispatchSemaphore(value: max(1, parallel))
        let group = DispatchGroup()
        for index in longestFirst(scenarios) {
            let scenario = scenarios[index]
            slots.wait()
            group.enter()
            state.started(scenario.id)
            progress?(state.snapshot())
            // A thread per scenario: runs block on sleeps and waits by design.
            let thread = Thread {
                let result = ScenarioRunner.run(scenario, options: options)
                state.finished(index: index, id: scenario.id, result: result)
                progress?(state.snapshot())
                slots.signal()
                group.leave()
            }
            thread.name = "netfault \(scenario.id)"
            thread.start()
        }
        while group.wait(timeout: .now() + 0.25) == .timedOut {
            progress?(state.snapshot())
        }
        return RunResult(kernel: MachineInfo.kernelRelease, startedAt: startedAt, scenarios: state.results())
    }

    /// Indexes by time limit, longest first; the given order among equals.
    static func longestFirst(_ scenarios: [Scenario]) -> [Int] {
        scenarios.indices.sorted { a, b in
            scenarios[a].timeLimit != scenarios[b].timeLimit ? scenarios[a].timeLimit > scenarios[b].timeLimit : a < b
        }
    }

    private final class SharedState: @unchecked Sendable {
        private let lock = NSLock()
        private var running: [String: ContinuousClock.Instant] = [:]
        private var slots: [ScenarioResult?]
        private var done = 0

        init(count: Int) { slots = Array(repeating: nil, count: count) }

        func started(_ id: String) { lock.withLock { running[id] = .now } }

        func finished(index: Int, id: String, result: ScenarioResult) {
            lock.withLock {
                slots[index] = result
                running[id] = nil
                done += 1
            }
        }

        func snapshot() -> Progress {
            lock.withLock { Progress(running: running, done: done, total: slots.count) }
        }

        func results() -> [ScenarioResult] { lock.withLock { slots.compactMap { $0 } } }
    }
}
