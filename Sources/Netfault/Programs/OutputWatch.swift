import Foundation
import NetfaultKernel

/// Watches one process's output as it streams: finds the first line matching each pattern
/// the scenario names (for `WaitFor(output:)` and `Expect.output`), and parses a peer's
/// event lines. Runs on the reader threads; lines stop coming once nothing is left to find.
final class OutputWatch: @unchecked Sendable {
    private struct Watched {
        let pattern: OutputPattern
        let stream: StandardStream
        let regex: NSRegularExpression?
    }

    private let condition = NSCondition()
    private var unmatched: [Watched]
    private var matches: [OutputMatch] = []
    private var parsedEvents: [PeerEvent] = []
    private let parsesEvents: Bool
    private let t0: Int64

    /// `patterns` were validated (the regular expressions compile); `parsesEvents` for peers.
    init(patterns: Set<WatchedPattern>, parsesEvents: Bool, t0: Int64) {
        unmatched = patterns.sorted { "\($0)" < "\($1)" }.map { watched in
            let regex: NSRegularExpression? = if case .matches(let expression) = watched.pattern {
                try? NSRegularExpression(pattern: expression)
            } else { nil }
            return Watched(pattern: watched.pattern, stream: watched.stream, regex: regex)
        }
        self.parsesEvents = parsesEvents
        self.t0 = t0
    }

    /// What the reader of `stream` calls per line; nil when nothing on it is of interest.
    func lineHandler(for stream: StandardStream) -> LineHandler? {
        guard (parsesEvents && stream == .stdout) || unmatched.contains(where: { $0.stream == stream }) else { return nil }
        return { [self] bytes in handle(String(decoding: bytes, as: UTF8.self), on: stream) }
    }

    /// Returns whether lines of `stream` are still wanted.
    func handle(_ line: String, on stream: StandardStream) -> Bool {
        let event = parsesEvents && stream == .stdout ? PeerEventParser.event(fromLine: line) : nil
        let time = Double(MonotonicClock.now() - t0) / 1e9
        condition.lock()
        defer { condition.unlock() }
        if let event { parsedEvents.append(event) }
        var found = false
        unmatched.removeAll { watched in
            guard watched.stream == stream, Self.line(line, matches: watched) else { return false }
            matches.append(OutputMatch(pattern: watched.pattern, stream: stream, time: time, line: line))
            found = true
            return true
        }
        if found { condition.broadcast() }
        return (parsesEvents && stream == .stdout) || unmatched.contains { $0.stream == stream }
    }

    private static func line(_ line: String, matches watched: Watched) -> Bool {
        switch watched.pattern {
        case .contains(let text):
            return line.contains(text)
        case .matches:
            guard let regex = watched.regex else { return false }
            return regex.firstMatch(in: line, range: NSRange(line.startIndex..., in: line)) != nil
        }
    }

    /// Waits until `pattern` matched on one of `streams`, `deadline` (monotonic nanoseconds)
    /// passes, or `ended` says no more output can come; returns the match if there was one.
    func waitForMatch(_ pattern: OutputPattern, on streams: [StandardStream], deadline: Int64,
                      ended: () -> Bool) -> OutputMatch? {
        condition.lock()
        defer { condition.unlock() }
        while true {
            if let match = matches.first(where: { $0.pattern == pattern && streams.contains($0.stream) }) { return match }
            let now = MonotonicClock.now()
            if now >= deadline || ended() { return nil }
            // Woken by a match; the 20 ms cap notices the end of the output.
            let wait = min(deadline - now, 20_000_000)
            _ = condition.wait(until: Date(timeIntervalSinceNow: Double(wait) / 1e9))
        }
    }

    var outputMatches: [OutputMatch] { condition.withLock { matches } }
    var events: [PeerEvent] { condition.withLock { parsedEvents } }
}

/// A pattern on one stream that a scenario watches a process's output for.
struct WatchedPattern: Hashable, CustomStringConvertible {
    let pattern: OutputPattern
    let stream: StandardStream

    var description: String { "\(stream.rawValue) \(pattern)" }

    /// Per process name: what its `WaitFor(output:)` steps and `Expect.output` expectations
    /// look for (a wait on either stream watches both).
    static func all(in scenario: Scenario) -> [String: Set<WatchedPattern>] {
        var result: [String: Set<WatchedPattern>] = [:]
        for step in scenario.steps {
            if case .waitFor(let wait) = step, case .output(let pattern, let process, let stream) = wait.condition {
                for each in stream.map({ [$0] }) ?? StandardStream.allCases {
                    result[process, default: []].insert(WatchedPattern(pattern: pattern, stream: each))
                }
            }
        }
        for expectation in scenario.expectations {
            if case .output(let process, let pattern, let stream) = expectation.kind {
                result[process, default: []].insert(WatchedPattern(pattern: pattern, stream: stream))
            }
        }
        return result
    }
}
