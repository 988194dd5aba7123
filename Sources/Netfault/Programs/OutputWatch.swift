import Foundation
import NetfaultKernel

/// Watches one process's output as it streams: finds the first line matching each pattern
/// the scenario names (for `WaitFor(output:)` and `Expect.output`), and parses a peer's
/// event lines. Runs on the reader threads; lines stop coming once nothing is left to find.
/// Per line it costs a memmem per `contains` pattern and, for `matches`, one String and an
/// NSRegularExpression search (about 2 µs) until the pattern is found.
final class OutputWatch: @unchecked Sendable {
    private final class Watched {
        let pattern: OutputPattern
        /// The text of a `contains` pattern as UTF-8, searched in the line's bytes (kept in raw
        /// memory: no array access per line).
        let literal: UnsafeMutableRawBufferPointer?
        let regex: NSRegularExpression?

        init(_ pattern: OutputPattern) {
            self.pattern = pattern
            switch pattern {
            case .contains(let text):
                let bytes = Array(text.utf8)
                let memory = UnsafeMutableRawBufferPointer.allocate(byteCount: bytes.count, alignment: 1)
                memory.copyBytes(from: bytes)
                literal = memory
                regex = nil
            case .matches(let expression):
                literal = nil
                regex = try? NSRegularExpression(pattern: expression)
            }
        }

        deinit { literal?.deallocate() }

        func matches(_ bytes: UnsafeRawBufferPointer, _ line: () -> String) -> Bool {
            if let literal { return ByteSearch.contains(UnsafeRawBufferPointer(literal), in: bytes) }
            guard let regex else { return false }
            let text = line()
            return regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
        }
    }

    /// What one stream's reader still looks for: touched only by that reader's thread.
    private final class Pending: @unchecked Sendable {
        var watched: [Watched]
        init(_ watched: [Watched]) { self.watched = watched }
    }

    private let condition = NSCondition()
    private let pending: [StandardStream: Pending]
    private var matches: [OutputMatch] = []
    private var parsedEvents: [PeerEvent] = []
    private let parsesEvents: Bool
    private let t0: Int64

    /// `patterns` were validated (the regular expressions compile); `parsesEvents` for peers.
    init(patterns: Set<WatchedPattern>, parsesEvents: Bool, t0: Int64) {
        var pending: [StandardStream: Pending] = [:]
        for stream in StandardStream.allCases {
            pending[stream] = Pending(patterns.filter { $0.stream == stream }.sorted { "\($0)" < "\($1)" }.map { Watched($0.pattern) })
        }
        self.pending = pending
        self.parsesEvents = parsesEvents
        self.t0 = t0
    }

    /// What the reader of `stream` calls per line; nil when nothing on it is of interest.
    func lineHandler(for stream: StandardStream) -> LineHandler? {
        let waiting = pending[stream]!, parses = parsesEvents && stream == .stdout
        guard parses || !waiting.watched.isEmpty else { return nil }
        return { [self] bytes in handle(bytes, on: stream, waiting, parses) }
    }

    /// Returns whether lines of `stream` are still wanted. Called by that stream's reader only.
    func handle(_ bytes: UnsafeRawBufferPointer, on stream: StandardStream) -> Bool {
        handle(bytes, on: stream, pending[stream]!, parsesEvents && stream == .stdout)
    }

    private func handle(_ bytes: UnsafeRawBufferPointer, on stream: StandardStream, _ waiting: Pending, _ parses: Bool) -> Bool {
        var text: String?
        func line() -> String {
            if let text { return text }
            let decoded = String(decoding: bytes, as: UTF8.self)
            text = decoded
            return decoded
        }
        if parses && bytes.first == UInt8(ascii: "{"), let event = PeerEventParser.event(fromLine: line()) {
            condition.withLock { parsedEvents.append(event) }
        }
        // Most lines match nothing: find that out without allocating.
        guard waiting.watched.contains(where: { $0.matches(bytes, line) }) else { return true }
        let found = waiting.watched.filter { $0.matches(bytes, line) }.map(\.pattern)
        let time = Double(MonotonicClock.now() - t0) / 1e9
        waiting.watched.removeAll { found.contains($0.pattern) }
        condition.lock()
        matches += found.map { OutputMatch(pattern: $0, stream: stream, time: time, line: line()) }
        condition.broadcast()
        condition.unlock()
        return parses || !waiting.watched.isEmpty
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
