import NetfaultKernel

/// Judges expectations against a recording. Pure: tested with hand-made recordings.
public enum ExpectationEvaluator {
    /// `result` is what user-written checks (`Expect.that`) see: the scenario's result
    /// without its expectations and status, which are being decided.
    public static func evaluate(_ expectations: [Expectation], against recording: Recording,
                                result: ScenarioResult? = nil) -> [ExpectationResult] {
        expectations.map { evaluate($0, against: recording, result: result) }
    }

    /// Judges one expectation against the recording (and the result, for user checks).
    public static func evaluate(_ expectation: Expectation, against recording: Recording,
                                result: ScenarioResult? = nil) -> ExpectationResult {
        if expectation.kind.needsKernelEvents, let reason = recording.observation.withoutEventsReason {
            return ExpectationResult(description: expectation.kind.description, passed: true,
                                     location: expectation.location.description, expected: "kernel events",
                                     observed: "not observed", skipReason: "no kernel events: \(reason)")
        }
        if case .kernelDrops(_, let reason?, _, _) = expectation.kind, let names = recording.dropReasonNames, !names.contains(reason) {
            return ExpectationResult(description: expectation.kind.description, passed: true,
                                     location: expectation.location.description, expected: reason, observed: "not observed",
                                     skipReason: names.isEmpty ? "this kernel names no drop reasons (enum skb_drop_reason, 5.17+)"
                                         : "this kernel has no drop reason \(reason) (enum skb_drop_reason)")
        }
        let verdict: Verdict
        if case .check(let check) = expectation.kind {
            verdict = judgeCheck(check, result)
        } else {
            verdict = judge(expectation.kind, recording)
        }
        return ExpectationResult(description: expectation.kind.description, passed: verdict.passed,
                                 location: expectation.location.description,
                                 expected: verdict.expected, observed: verdict.observed, observedValues: verdict.values,
                                 tolerance: verdict.tolerance)
    }

    /// The outcome of a check; what it checks is the expectation's own `description`.
    struct Verdict {
        let passed: Bool
        let expected: String
        let observed: String
        /// The numbers behind `observed`, for sweeps' tables and plots.
        var values: [ObservedValue] = []
        /// The expectation's tolerance, where its values are readings of a timer.
        var tolerance: Tolerance? = nil
    }

    private static func judge(_ kind: Expectation.Kind, _ recording: Recording) -> Verdict {
        switch kind {
        case .reaches(let selector, let state, let within):
            let sockets = recording.sockets(matching: selector)
            let deadline = within.map { " within \(Format.seconds($0))" } ?? ""
            guard !sockets.isEmpty else { return noSocket("\(state.rawValue)\(deadline)") }
            // A change is known to have happened after `earliest`: judge the deadline by that.
            let times = sockets.compactMap { socket in socket.transitions.first { $0.state == state }?.earliest }
            let passed = times.count == sockets.count && times.allSatisfy { within == nil || $0 <= within! }
            return Verdict(passed: passed, expected: "\(state.rawValue)\(deadline)",
                           observed: sockets.map(summary).joined(separator: "; "),
                           values: times.count == sockets.count ? times.max().map { [ObservedValue("reached at", $0, unit: "s")] } ?? [] : [])

        case .passesThrough(let selector, let states):
            let expected = states.map(\.rawValue).joined(separator: " → ")
            let sockets = recording.sockets(matching: selector)
            guard !sockets.isEmpty else { return noSocket(expected) }
            let passed = sockets.allSatisfy { isSubsequence(states, of: $0.transitions.map(\.state)) }
            return Verdict(passed: passed, expected: expected,
                           observed: sockets.map(summary).joined(separator: "; "))

        case .endsIn(let selector, let state):
            let sockets = recording.sockets(matching: selector)
            guard !sockets.isEmpty else { return noSocket(state.rawValue) }
            let passed = sockets.allSatisfy { $0.lastState == state }
            return Verdict(passed: passed, expected: state.rawValue,
                           observed: sockets.map(summary).joined(separator: "; "))

        case .neverIn(let selector, let state):
            let offenders = recording.sockets(matching: selector).filter { $0.transitions.contains { $0.state == state } }
            return Verdict(passed: offenders.isEmpty, expected: "no socket in \(state.rawValue)",
                           observed: offenders.isEmpty ? "none" : offenders.map(summary).joined(separator: "; "))

        case .staysIn(let selector, let state, let duration, let tolerance):
            return judgeStay(selector, state, tolerance, recording, for: duration)

        case .count(let host, let state, let port, let comparison):
            let matching = recording.sockets.filter {
                $0.host == host && $0.lastState == state && (port == nil || $0.local.port == port! || $0.remote.port == port!)
            }
            return Verdict(passed: comparison.holds(for: Int64(matching.count)),
                           expected: comparison.description, observed: "\(matching.count)",
                           values: [ObservedValue("count", Double(matching.count))])

        case .socketInfo(let selector, let field, let comparison):
            let sockets = recording.sockets(matching: selector)
            guard !sockets.isEmpty else { return noSocket(comparison.description) }
            let values = sockets.map { socket in socket.samples.last { $0.record.info != nil }?.record.info.map(field.value) }
            let passed = values.allSatisfy { $0.map(comparison.holds) ?? false }
            return Verdict(passed: passed, expected: comparison.description,
                           observed: values.map { $0.map(String.init) ?? "no tcp_info" }.joined(separator: ", "),
                           values: values.count == 1 ? values.compactMap { $0.map { ObservedValue(field.rawValue, Double($0)) } } : [])

        case .peerEvent(let process, let call, let errno, let result, let after, let before, let tookAtLeast, let tookAtMost):
            var outcome = errno.map { "fails with \($0)" } ?? "succeeds"
            if let result { outcome += " with result \(result)" }
            var window = ""
            if let after { window += " after ≥ \(Format.seconds(after))" }
            if let before { window += " by \(Format.seconds(before))" }
            if let tookAtLeast { window += " no sooner than \(Format.seconds(tookAtLeast))" }
            if let tookAtMost { window += " within \(Format.seconds(tookAtMost))" }
            if tookAtLeast != nil || tookAtMost != nil { window += " of the previous event" }
            let expected = "\(call) \(outcome)\(window)"
            guard let observed = recording.process(process) else {
                return Verdict(passed: false, expected: expected, observed: "process \(process) never ran")
            }
            guard let index = observed.events.firstIndex(where: { $0.call == call }) else {
                let calls = observed.events.map(\.call).joined(separator: ", ")
                return Verdict(passed: false, expected: expected,
                               observed: "no \(call) event (events: \(calls.isEmpty ? "none" : calls); exit \(observed.exitStatus.map(String.init) ?? "unknown"))")
            }
            let event = observed.events[index]
            let outcomeOK = errno == nil
                ? (event.result >= 0 && event.errno == nil && (result == nil || event.result == result))
                : event.errno == errno
            let took = event.time - (index > 0 ? observed.events[index - 1].time : observed.startTime)
            let timeOK = (after.map { event.time >= $0 } ?? true) && (before.map { event.time <= $0 } ?? true)
                && (tookAtMost.map { took <= $0 } ?? true) && (tookAtLeast.map { took >= $0 } ?? true)
            let what = event.errno.map { "\(call) failed with \($0)" } ?? "\(call) succeeded (result \(event.result))"
            let tookText = tookAtMost == nil && tookAtLeast == nil ? "" : ", \(Format.seconds(took)) after the previous event"
            return Verdict(passed: outcomeOK && timeOK, expected: expected,
                           observed: "\(what) at \(Format.seconds(event.time))\(tookText)",
                           values: [ObservedValue("at", event.time, unit: "s")] + (tookText.isEmpty ? [] : [ObservedValue("took", took, unit: "s")]))

        case .peerResults(let process, let call, let expected):
            let wanted = expected.map(String.init).joined(separator: ", ")
            guard let observed = recording.process(process) else {
                return Verdict(passed: false, expected: wanted, observed: "process \(process) never ran")
            }
            let results = observed.events.filter { $0.call == call && $0.result >= 0 && $0.errno == nil }.map(\.result)
            let failures = observed.events.filter { $0.call == call && $0.errno != nil }.count
            return Verdict(passed: results == expected, expected: wanted,
                           observed: (results.isEmpty ? "none" : results.map(String.init).joined(separator: ", "))
                               + (failures > 0 ? " (and \(failures) that failed)" : ""))

        case .exitStatus(let process, let status):
            let observed = recording.process(process)?.exitStatus
            return Verdict(passed: observed == status,
                           expected: "\(status)", observed: observed.map { "\($0)" } ?? "still running or never started")

        case .counter(let host, let name, let comparison):
            let delta = recording.counters[host]?[name] ?? 0
            return Verdict(passed: comparison.holds(for: delta), expected: comparison.description, observed: "\(delta)",
                           values: [ObservedValue("delta", Double(delta))])

        case .faultCount(let name, let comparison):
            let count = recording.faultDecisions.filter { $0.fault == name }.count
            return Verdict(passed: comparison.holds(for: Int64(count)),
                           expected: comparison.description, observed: "\(count)", values: [ObservedValue("count", Double(count))])

        case .faultTimes(let name, let schedule, let tolerance, let givingUp):
            return judgeFaultTimes(name, schedule, tolerance, givingUp, recording)

        case .faultSameSequence(let name):
            let sequences = recording.faultDecisions.filter { $0.fault == name }.map(\.sequence)
            return Verdict(passed: !sequences.isEmpty && Set(sequences).count == 1, expected: "one sequence number",
                           observed: sequences.isEmpty ? "never acted" : Array(Set(sequences)).sorted().map(String.init).joined(separator: ", "))

        case .timerRestarted(let selector, let state):
            let sockets = recording.sockets(matching: selector)
            guard !sockets.isEmpty else { return noSocket("a restart") }
            let restarts = sockets.flatMap { socket in
                // A restart moves the timer's deadline (sample time + time left) later; counting
                // down keeps it in place, give or take a 4 ms jiffy.
                zip(socket.samples, socket.samples.dropFirst()).filter { old, new in
                    old.record.state == state && new.record.state == state
                        && deadline(new) > deadline(old) + Self.timerRestartMargin
                }.map { old, new in
                    "at \(Format.seconds(new.time)) the deadline moved \(Format.milliseconds(deadline(new) - deadline(old))) later"
                }
            }
            return Verdict(passed: !restarts.isEmpty, expected: "the timer's deadline moves later",
                           observed: restarts.isEmpty ? "it only counted down" : restarts.joined(separator: "; "))

        case .segmentTimes(let selector, let schedule, let tolerance, let givingUp):
            return judgeSegmentTimes(selector, schedule, tolerance, givingUp, recording)
        case .segmentIntervals(let selector, let intervals, let tolerance):
            return judgeSegmentIntervals(selector, intervals, tolerance, recording)
        case .segmentCount(let selector, let comparison):
            return judgeSegmentCount(selector, comparison, recording)
        case .segmentFields(let selector, let fields):
            return judgeSegmentFields(selector, fields, recording)
        case .segmentLengths(let selector, let bytes):
            return judgeSegmentLengths(selector, bytes, recording)
        case .delay(let start, let end, let seconds, let tolerance):
            return judgeDelay(start, end, seconds, tolerance, recording)
        case .output(let process, let pattern, let stream):
            return judgeOutput(process, pattern, stream, recording)
        case .processRun(let process, let status, let tookAtLeast, let tookAtMost):
            return judgeProcessRun(process, status, tookAtLeast, tookAtMost, recording)
        case .check(let check):
            return judgeCheck(check, nil)
        case .kernelDrops(let host, let reason, let port, let comparison):
            return judgeKernelDrops(host, reason, port, comparison, recording)
        case .retransmissionTimes(let selector, let schedule, let tolerance, let givingUp):
            return judgeRetransmissionTimes(selector, schedule, tolerance, givingUp, recording)
        case .staysExactly(let selector, let state, let seconds, let tolerance):
            return judgeExactStay(selector, state, seconds, tolerance, recording)
        case .staysExactlyAcross(let selector, let state, let start, let end, let tolerance):
            return judgeExactStay(selector, state, from: start, until: end, tolerance, recording)
        }
    }

    /// More than jiffy rounding and sampling jitter can move a deadline.
    static let timerRestartMargin = 0.05

    private static func deadline(_ sample: (time: Double, record: SocketRecord)) -> Double {
        sample.time + Double(sample.record.expiresMilliseconds) / 1000
    }

    private static func judgeFaultTimes(_ name: String, _ schedule: RetransmissionSchedule, _ tolerance: Tolerance,
                                        _ givingUp: PeerCall?, _ recording: Recording) -> Verdict {
        judgeSchedule(schedule, tolerance, givingUp, recording,
                      times: recording.faultDecisions.filter { $0.fault == name }.map(\.time), none: "never acted")
    }

    /// Instants, as offsets from the anchor (the first of them unless said), against a
    /// schedule's: as many, each within its range; with `givingUp`, that call's first failure
    /// at the schedule's end.
    static func judgeSchedule(_ schedule: RetransmissionSchedule, _ tolerance: Tolerance,
                              _ givingUp: PeerCall?, _ recording: Recording, times: [Double], none: String,
                              anchor: ScheduleAnchor? = nil) -> Verdict {
        guard let timeline = schedule.timeline(sysctls: recording.sysctls) else {
            return Verdict(passed: false, expected: "\(schedule)",
                           observed: "the sysctls it is computed from were not recorded")
        }
        let (tolerance, tickNote) = forKernelTimers(tolerance, recording)
        let anchor = anchor ?? .firstSend(times)
        let offsets = times.map { $0 - anchor.time }
        let ranges = anchor.allowedRanges(timeline.sends, tolerance)
        var expected = "at " + instants(timeline.sends) + " (tolerance \(tolerance)" + tickNote
            + (anchor.name == nil ? ")" : "; the first late only, from \(anchor.name!))")
        var observed = times.isEmpty ? none
            : "at " + instants(offsets) + anchor.note + mismatches(offsets, timeline.sends, ranges)
        var values = [ObservedValue("count", Double(offsets.count))] + (offsets.last.map { [ObservedValue("last", $0, unit: "s")] } ?? [])
        var passed = offsets.count == timeline.sends.count && zip(offsets, ranges).allSatisfy { $1.contains($0) }
        if let givingUp, let end = timeline.givesUpAt {
            expected += ", \(givingUp.call) fails at \(Format.seconds(end))"
            let failure = recording.process(givingUp.process)?.events.first { $0.call == givingUp.call && $0.errno != nil }
            if let failure, !times.isEmpty {
                observed += ", \(givingUp.call) failed with \(failure.errno!) at \(Format.seconds(failure.time - anchor.time))"
                values.append(ObservedValue("gives up", failure.time - anchor.time, unit: "s"))
                passed = passed && tolerance.range(around: end).contains(failure.time - anchor.time)
            } else {
                observed += ", \(givingUp.call) did not fail"
                passed = false
            }
        }
        return Verdict(passed: passed, expected: expected, observed: observed, values: values, tolerance: tolerance)
    }

    /// "0, 1, 2.001 s"
    static func instants(_ offsets: [Double]) -> String { Format.instants(offsets) }

    static func noSocket(_ expected: String) -> Verdict {
        Verdict(passed: false, expected: expected, observed: "no matching socket was seen")
    }

    /// "10.77.1.1:43210 → 10.77.1.2:8080: 0.003 SYN_SENT, 0.004 ESTABLISHED"
    static func summary(_ socket: ObservedSocket) -> String {
        "\(socket.local) → \(socket.remote): "
            + socket.transitions.map { "\(Format.seconds($0.time)) \($0.state.rawValue)" }.joined(separator: ", ")
    }

    static func isSubsequence(_ wanted: [TCPState], of seen: [TCPState]) -> Bool {
        var remaining = wanted[...]
        for state in seen where state == remaining.first { remaining = remaining.dropFirst() }
        return remaining.isEmpty
    }
}
