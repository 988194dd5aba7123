import Foundation
extension TerminalReport {
    /// Everything recorded about one scenario, for `netfault run -v` and for reading a failure:
    /// expectations, socket state timelines, counter deltas, and what each process did.
    public static func scenarioDetail(_ scenario: ScenarioResult) -> String {
        var lines = [header(scenario)]
        if let reason = scenario.skipReason { lines.append("  skipped: \(reason)") }
        if let error = scenario.error { lines.append(indented("error: \(error)", by: "  ")) }
        if scenario.status != .skipped {
            lines.append("  observation: \(scenario.observation)" + (scenario.observationNote.map { " (\($0))" } ?? "")
                         + (scenario.eventsLost > 0 ? ", \(scenario.eventsLost) events lost" : ""))
            if let capture = scenario.capture {
                lines.append("  capture: \(capture)" + (scenario.captureNote.map { " (\($0))" } ?? "")
                             + (scenario.captureDropped > 0 ? ", \(scenario.captureDropped) lost" : ""))
            }
        }
        lines += section("Expectations", scenario.expectations.map(expectationLine))
        lines += section("Sockets", scenario.sockets.flatMap(socketLines))
        lines += section("Faults", scenario.faults.map { "  \($0.description)  [\($0.backend)\($0.reason.map { ": \($0)" } ?? "")]" }
                         + scenario.faultDecisions.map(decisionLine))
        lines += section("Counters", counterLines(scenario.counters))
        lines += section("Processes", scenario.processes.flatMap(processLines))
        // The block has no escape sequences of its own, so it can be sanitized as a whole.
        return TerminalSanitizing.visible(lines.joined(separator: "\n")) + "\n"
    }

    private static func header(_ scenario: ScenarioResult) -> String {
        let status = switch scenario.status {
        case .passed: "PASS"
        case .failed: "FAIL"
        case .skipped: "SKIP"
        }
        let duration = scenario.status == .skipped ? "" : " (\(scenario.durationSeconds.fixed(2)) s)"
        return "\(scenario.id)  \(scenario.name)  — \(status)\(duration)"
    }

    /// Empty sections are left out rather than printed with a "none" line, to keep the block short.
    private static func section(_ title: String, _ entries: [String]) -> [String] {
        entries.isEmpty ? [] : ["  \(title):"] + entries.map { indented($0, by: "    ") }
    }

    private static func expectationLine(_ expectation: ExpectationResult) -> String {
        if let reason = expectation.skipReason { return "- \(expectation.description)  (\(expectation.location)) skipped: \(reason)" }
        return expectation.passed
            ? "✓ \(expectation.description)  (\(expectation.location))"
            : "✗ \(expectation.failureMessage)"
    }

    /// A change the kernel announced is shown to the microsecond; one sampling saw, to the millisecond.
    private static func socketLines(_ socket: SocketTimeline) -> [String] {
        let timeline = socket.transitions.map { "\($0.time.fixed($0.source == "event" ? 6 : 3)) \($0.state)" }
            .joined(separator: " → ")
        return ["\(socket.host)  \(socket.local) → \(socket.remote)"] + (timeline.isEmpty ? [] : ["  " + timeline])
    }

    /// Sorted by name so two runs' details can be compared line by line.
    /// "    1.024  client  dropped  S  10.77.2.1:40000 → 10.77.2.2:8080 seq 1000 len 0  (lost SYNs)"
    private static func decisionLine(_ decision: FaultDecision) -> String {
        let time = String(format: "%8.3f", decision.time)
        return "  \(time)  \(decision.host)  \(decision.action)  \(decision.flags)  \(decision.source) → \(decision.destination)"
            + " seq \(decision.sequence) ack \(decision.acknowledgment) len \(decision.length)  (\(decision.fault))"
    }

    private static func counterLines(_ counters: [String: Int64]) -> [String] {
        let nameWidth = counters.keys.map(\.count).max() ?? 0
        return counters.sorted { $0.key < $1.key }.map { name, delta in
            name + String(repeating: " ", count: nameWidth - name.count) + "  \(delta)"
        }
    }

    private static func processLines(_ process: ProcessResult) -> [String] {
        let span = "\(process.startTime.fixed(3))–\(process.endTime.map { $0.fixed(3) } ?? "?") s"
        var lines = ["\(process.host)/\(process.name)  \(exitDescription(process.exitStatus))  \(span)  \(process.command)"]
        lines += process.events.map { "  " + eventLine($0) }
        // A peer's stdout is its events, listed above.
        let streams = process.events.isEmpty ? [("stdout", process.stdout), ("stderr", process.stderr)] : [("stderr", process.stderr)]
        for (label, output) in streams where output.bytes > 0 {
            let kept = output.text.trimmingTrailingNewlines().split(separator: "\n", omittingEmptySubsequences: false)
            let shown = kept.suffix(Self.outputLinesShown)
            let omitted = shown.count < kept.count || output.cut ? " (\(output.bytes) bytes; the last \(shown.count) lines)" : ""
            lines.append("  \(label)\(omitted):")
            lines.append(indented(shown.joined(separator: "\n"), by: "    "))
        }
        return lines
    }

    /// Enough lines to see how a program ended; the whole output is in the JSON's head/tail and --artifacts.
    static let outputLinesShown = 20

    /// The model stores 128 + signal for a killed process; say so, since the number alone misleads.
    private static func exitDescription(_ status: Int32?) -> String {
        guard let status else { return "not reaped" }
        return status > 128 ? "exit \(status) (128 + signal \(status - 128))" : "exit \(status)"
    }

    /// `0.001  connect  ok  10.77.1.1:43210 → 10.77.1.2:8080`
    static func eventLine(_ event: PeerEvent) -> String {
        let outcome: String
        if let errno = event.errno {
            outcome = "errno \(errno)"
        } else if event.eof == true {
            outcome = "eof"
        } else {
            outcome = event.result == 0 ? "ok" : "\(event.result)"
        }
        var fields = [event.time.fixed(3), event.call, outcome]
        if event.local != nil || event.remote != nil {
            fields.append("\(event.local ?? "?") → \(event.remote ?? "?")")
        }
        return fields.joined(separator: "  ")
    }
}

private extension String {
    func trimmingTrailingNewlines() -> String {
        var trimmed = Substring(self)
        while trimmed.last?.isNewline == true { trimmed = trimmed.dropLast() }
        return String(trimmed)
    }
}
