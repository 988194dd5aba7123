extension TerminalReport {
    /// The live status line, e.g. `[3/11] running: C7 (12.1 s), H1 (0.4 s)`.
    /// Pure: the runner owns the clock and the terminal, and redraws with a new value.
    /// Generic over the clock so the runner can use `ContinuousClock` and tests a fixed instant.
    public struct ProgressLine<Instant: InstantProtocol>: Sendable where Instant.Duration == Swift.Duration {
        /// Scenario id → when it started.
        public var running: [String: Instant]
        /// Scenarios finished.
        public var done: Int
        /// Scenarios in all.
        public var total: Int

        /// A snapshot: `running` since when, `done` of `total` finished.
        public init(running: [String: Instant], done: Int, total: Int) {
            self.running = running
            self.done = done
            self.total = total
        }

        /// The line at `now`, cut to `width` characters with a trailing `…` when it does not fit.
        /// Oldest first: entries keep their place between redraws, and the longest-running
        /// (possibly stuck) scenario is the last to be cut off.
        public func render(now: Instant, width: Int) -> String {
            let counter = "[\(done)/\(total)]"
            let entries = running
                .sorted { ($0.value, $0.key) < ($1.value, $1.key) }
                .map { id, start in "\(id) (\(Self.seconds(from: start, to: now)) s)" }
            let line = entries.isEmpty ? counter : "\(counter) running: " + entries.joined(separator: ", ")
            return Self.truncated(line, to: width)
        }

        private static func seconds(from start: Instant, to now: Instant) -> String {
            let elapsed = start.duration(to: now)
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            // A start recorded after `now` (a racing redraw) shows as 0, not as a negative time.
            return max(0, seconds).fixed(1)
        }

        private static func truncated(_ line: String, to width: Int) -> String {
            guard line.count > width else { return line }
            guard width > 0 else { return "" }
            return line.prefix(width - 1) + "…"
        }
    }
}
