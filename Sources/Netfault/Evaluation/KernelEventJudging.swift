import NetfaultKernel

/// Judging expectations that need the kernel's events (drops, retransmissions, exact states).
extension ExpectationEvaluator {
    static func judgeKernelDrops(_ host: String, _ reason: String?, _ port: Int?, _ comparison: Comparison,
                                 _ recording: Recording) -> Verdict {
        func hasPort(_ drop: KernelDrop) -> Bool {
            guard let port else { return true }
            return [drop.segment.from, drop.segment.to].contains { Endpoint($0)?.port == UInt16(port) }
        }
        let onHost = recording.kernelDrops.filter { $0.host == host && hasPort($0) }
        let matching = onHost.filter { reason == nil || $0.reason == reason }
        let others = Dictionary(grouping: onHost.filter { reason != nil && $0.reason != reason }, by: \.reason)
            .map { "\($0.key) ×\($0.value.count)" }.sorted()
        let listed = matching.prefix(3).map {
            "\(Format.seconds($0.time)) \($0.segment.flags) \($0.segment.from) → \($0.segment.to) \($0.reason)"
        }
        var observed = "\(matching.count)" + (listed.isEmpty ? "" : ": " + listed.joined(separator: "; ") + (matching.count > 3 ? "; …" : ""))
        if !others.isEmpty { observed += " (other reasons: \(others.joined(separator: ", ")))" }
        if recording.eventsLost > 0 { observed += " (\(recording.eventsLost) events lost)" }
        return Verdict(passed: comparison.holds(for: Int64(matching.count)), expected: comparison.description, observed: observed,
                       values: [ObservedValue("count", Double(matching.count))])
    }

    static func judgeRetransmissionTimes(_ selector: SegmentSelector, _ schedule: RetransmissionSchedule, _ tolerance: Tolerance,
                                         _ givingUp: PeerCall?, _ recording: Recording) -> Verdict {
        // The first transmission's instant: its captured copy (an engine-stamped one only if
        // nothing else exists), then the kernel's instant of each retransmission of that segment.
        let original = sent(selector, recording).first
        let retransmissions = recording.retransmissions.filter { retransmission in
            retransmission.host == selector.sender && kind(retransmission.kind, matches: selector.kind)
                && (selector.port.map { port in
                    [retransmission.segment.from, retransmission.segment.to].contains { Endpoint($0)?.port == UInt16(port) }
                } ?? true)
                && (original.map { retransmission.segment.from == $0.source && retransmission.segment.to == $0.destination } ?? true)
        }
        var times = retransmissions.map(\.time)
        if let original { times.insert(original.time, at: 0) }
        let wider = original.map { widened(tolerance, for: [$0]) } ?? tolerance
        return judgeSchedule(schedule, wider, givingUp, recording, times: times,
                             none: "nothing was sent" + nearby(selector, recording),
                             anchor: original.map { ScheduleAnchor.of(selector.kind, [$0], recording) })
    }

    private static func kind(_ kind: KernelRetransmission.Kind, matches segmentKind: SegmentKind) -> Bool {
        switch (kind, segmentKind) {
        case (.syn, .syn), (.synAck, .synAck), (.fin, .fin), (.data, .data): true
        default: false
        }
    }

    static func judgeExactStay(_ selector: SocketSelector, _ state: TCPState, _ seconds: Double, _ tolerance: Tolerance,
                               _ recording: Recording) -> Verdict {
        let allowed = tolerance.range(around: seconds)
        return judgeExactStay(selector, state, tolerance, recording,
                              expected: "\(Format.microseconds(allowed.lowerBound))…\(Format.microseconds(allowed.upperBound))") { entry, exit in
            (allowed.contains(exit - entry), "", ObservedValue("stayed", exit - entry, unit: "s"))
        }
    }

    /// Entered no later than `start`, left no earlier than `end` and at most the tolerance's late
    /// margin after it (each with the tolerance's early margin, and an engine-stamped segment's
    /// uncertainty). How long before `start` the state began is the sender's own work (choosing
    /// a port, building the segment: 16 ms once in an emulated guest), reported, not judged.
    static func judgeExactStay(_ selector: SocketSelector, _ state: TCPState, from start: TimelineEvent, until end: TimelineEvent,
                               _ tolerance: Tolerance, _ recording: Recording) -> Verdict {
        let what = "from before \(start) until \(end)"
        guard let from = instant(of: start, recording) else {
            return Verdict(passed: false, expected: what, observed: missing(start, recording))
        }
        guard let to = instant(of: end, recording) else {
            return Verdict(passed: false, expected: what, observed: missing(end, recording))
        }
        let latestExit = tolerance.range(around: to.latest - from.earliest).upperBound + from.earliest
        let expected = "entered by \(Format.seconds(from.latest)) (\(start)), left \(Format.seconds(to.earliest))…\(Format.seconds(latestExit))"
            + " (\(end) at \(Format.seconds(to.latest)), \(Format.microseconds(to.latest - from.latest)) after, then up to "
            + "\(Format.microseconds(latestExit - to.latest)) late)"
        return judgeExactStay(selector, state, tolerance, recording, expected: expected) { entry, exit in
            let passed = entry <= from.latest + tolerance.early && exit >= to.earliest - tolerance.early && exit <= latestExit
            // What is judged, to compare between kernels: the stay's own length is mostly the
            // network's and the sender's, which an emulated guest stretches.
            return (passed, ": entered \(Format.microseconds(from.latest - entry)) before \(start), left \(Format.microseconds(exit - to.latest)) after \(end)",
                    ObservedValue("left after the answer", exit - to.latest, unit: "s"))
        }
    }

    /// Each matching socket's stay between the kernel's announced entry into `state` and its next
    /// announced change, judged by `judge(entry, exit)`: whether it passes, what to add to the
    /// observation, and the number to compare and plot.
    private static func judgeExactStay(_ selector: SocketSelector, _ state: TCPState, _ tolerance: Tolerance, _ recording: Recording,
                                       expected: String, judge: (Double, Double) -> (Bool, String, ObservedValue)) -> Verdict {
        let sockets = recording.sockets(matching: selector)
        guard !sockets.isEmpty else {
            return Verdict(passed: false, expected: expected, observed: "no matching socket was seen")
        }
        var passed = true
        var observed: [String] = []
        var stays: [ObservedValue] = []
        for socket in sockets {
            let transitions = socket.transitions
            guard let entry = transitions.firstIndex(where: { $0.state == state && $0.source == .event }) else {
                passed = false
                observed.append("\(socket.label): the kernel announced no \(state.rawValue)")
                continue
            }
            guard entry + 1 < transitions.count, transitions[entry + 1].source == .event else {
                passed = false
                observed.append("\(socket.label): no announced change out of \(state.rawValue)")
                continue
            }
            let (enteredAt, leftAt) = (transitions[entry].time, transitions[entry + 1].time)
            let (held, note, value) = judge(enteredAt, leftAt)
            if !held { passed = false }
            stays.append(value)
            observed.append("\(socket.label) \(Format.microseconds(leftAt - enteredAt)) (from \(Format.seconds(enteredAt)) to \(transitions[entry + 1].state.rawValue))\(note)")
        }
        // One socket's stay is a number to plot; several are only listed.
        return Verdict(passed: passed, expected: expected, observed: observed.joined(separator: "; "),
                       values: sockets.count == 1 ? stays : [], tolerance: tolerance)
    }
}
