/// Expectations on any program: its output, its run time, and user-written checks.
extension ExpectationEvaluator {
    /// Judged from the first matching line recorded while the output streamed, so a match
    /// in a part of the output the record cut still counts.
    static func judgeOutput(_ name: String, _ pattern: OutputPattern, _ stream: StandardStream,
                            _ recording: Recording) -> Verdict {
        let description = "\(name)'s \(stream.rawValue) \(pattern)"
        let expected = "a line that \(pattern)"
        guard let process = recording.process(name) else {
            return Verdict(description: description, passed: false, expected: expected, observed: "process \(name) never ran")
        }
        if let match = process.firstMatch(of: pattern, in: stream) {
            return Verdict(description: description, passed: true, expected: expected,
                           observed: "at \(Format.seconds(match.time)): \"\(match.line.prefix(200))\"")
        }
        let output = process.output(stream)
        guard output.bytes > 0 else {
            return Verdict(description: description, passed: false, expected: expected, observed: "no output on \(stream.rawValue)")
        }
        let size = "\(output.bytes) bytes" + (output.cut ? ", cut in the record" : "")
        let last = output.lastLine.map { "; last line \"\($0)\"" } ?? ""
        return Verdict(description: description, passed: false, expected: expected, observed: "no line matched (\(size))\(last)")
    }

    /// Run time is from the spawn's return to the reaping of the process: both stamped by
    /// netfault, so it can only read longer than the program ran, never shorter.
    static func judgeProcessRun(_ name: String, _ status: Int32?, _ tookAtLeast: Double?, _ tookAtMost: Double?,
                                _ recording: Recording) -> Verdict {
        var parts: [String] = []
        if let status { parts.append("exits with status \(status)") }
        if let tookAtLeast { parts.append("runs at least \(Format.seconds(tookAtLeast))") }
        if let tookAtMost { parts.append("runs at most \(Format.seconds(tookAtMost))") }
        let expected = parts.isEmpty ? "exits" : parts.joined(separator: ", ")
        let description = "\(name) \(expected)"
        guard let process = recording.process(name) else {
            return Verdict(description: description, passed: false, expected: expected, observed: "process \(name) never ran")
        }
        guard let end = process.endTime else {
            return Verdict(description: description, passed: false, expected: expected, observed: "it never ended")
        }
        let took = end - process.startTime
        let exit = process.exitStatus.map { "status \($0)" } ?? "unknown status"
        let observed = process.stoppedAtEnd
            ? "still running at the end, stopped by netfault after \(Format.seconds(took))"
            : "exited with \(exit) after \(Format.seconds(took))"
        // A process netfault stopped did not exit on its own: only a duration can be judged.
        let statusOK = status == nil ? true : !process.stoppedAtEnd && process.exitStatus == status
        let passed = statusOK && (tookAtLeast.map { took >= $0 } ?? true) && (tookAtMost.map { took <= $0 } ?? true)
        return Verdict(description: description, passed: passed, expected: expected, observed: observed)
    }

    static func judgeCheck(_ check: UserCheck, _ result: ScenarioResult?) -> Verdict {
        guard let result else {
            return Verdict(description: check.description, passed: false, expected: "pass", observed: "no result to check")
        }
        let outcome = check.judge(result)
        return Verdict(description: check.description, passed: outcome.passed, expected: "pass", observed: outcome.observed)
    }
}
