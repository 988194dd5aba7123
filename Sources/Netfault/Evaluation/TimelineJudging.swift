/// Judging expectations on the packet timeline (segments' kernel timestamps).
extension ExpectationEvaluator {
    /// The segments a selector names, in time order: the sender's copies on the way out.
    static func sent(_ selector: SegmentSelector, _ recording: Recording) -> [ObservedSegment] {
        recording.segments.filter { segment in
            segment.host == selector.sender && segment.isSent && segment.kinds.contains(selector.kind)
                && (selector.port.map { Int(segment.header.sourcePort) == $0 || Int(segment.header.destinationPort) == $0 } ?? true)
        }
    }

    /// The segments of a kind a host's capture saw arrive, in time order.
    static func arrived(_ kind: SegmentKind, at host: String, _ recording: Recording) -> [ObservedSegment] {
        recording.segments.filter { $0.host == host && !$0.isSent && $0.kinds.contains(kind) }
    }

    /// A dropped segment never reached the wire, so its instant is the fault engine's,
    /// read up to `Tolerance.queueStamped.early` after the kernel queued it: offsets
    /// measured from such an instant may look early by that much.
    static func widened(_ tolerance: Tolerance, for segments: [ObservedSegment]) -> Tolerance {
        guard segments.contains(where: \.queueStamped) else { return tolerance }
        var wider = tolerance
        wider.early = max(tolerance.early, Tolerance.queueStamped.early)
        return wider
    }

    /// Kernel timers fire late, never early, as counted in jiffies; a tick handled late leaves
    /// jiffies behind the clock, and a timer armed meanwhile fires early by as much (see
    /// `KernelTick`). Measured here up to 1.5 ms beyond the 4 ms tick, on this machine and in
    /// an emulated guest alike (a SYN-ACK 0.9988 s after its request was made, 6.12): the run's
    /// own largest lag, read at every sample, widens the early margin of timer schedules by what
    /// it exceeded the tick. Also says so, for the verdict.
    static func forKernelTimers(_ tolerance: Tolerance, _ recording: Recording) -> (tolerance: Tolerance, note: String) {
        guard let tick = recording.kernelTick, tick.timerEarliness > 0 else { return (tolerance, "") }
        var wider = tolerance
        wider.early += tick.timerEarliness
        return (wider, "; early by up to \(Format.milliseconds(tick.timerEarliness)) more: the kernel's "
                    + "\(Format.milliseconds(tick.length)) tick lagged the clock by up to \(Format.milliseconds(tick.largestLag))")
    }

    static func judgeSegmentTimes(_ selector: SegmentSelector, _ schedule: RetransmissionSchedule, _ tolerance: Tolerance,
                                  _ givingUp: PeerCall?, _ recording: Recording) -> Verdict {
        let segments = sent(selector, recording)
        return judgeSchedule(schedule, widened(tolerance, for: segments), givingUp, recording,
                             times: segments.map(\.time), none: "none was sent" + nearby(selector, recording),
                             anchor: ScheduleAnchor.of(selector.kind, segments, recording))
    }

    static func judgeSegmentIntervals(_ selector: SegmentSelector, _ intervals: [Double], _ tolerance: Tolerance,
                                      _ recording: Recording) -> Verdict {
        let segments = sent(selector, recording)
        let (tolerance, tickNote) = forKernelTimers(widened(tolerance, for: segments), recording)
        let gaps = zip(segments, segments.dropFirst()).map { $1.time - $0.time }
        // The first interval's timer was armed `lag` before the first send (a SYN-ACK's, at the
        // SYN's arrival): the first gap may be short by that much, and by no more.
        let anchor = ScheduleAnchor.of(selector.kind, segments, recording)
        let ranges = intervals.enumerated().map { index, interval in
            let range = tolerance.range(around: interval)
            return index == 0 ? (range.lowerBound - anchor.lag)...range.upperBound : range
        }
        let passed = gaps.count == intervals.count && zip(gaps, ranges).allSatisfy { $1.contains($0) }
        var observed = segments.isEmpty ? "none was sent" + nearby(selector, recording)
            : "\(segments.count) sent, spaced by " + (gaps.isEmpty ? "nothing" : instants(gaps)) + " (at " + instants(segments.map(\.time)) + ")"
        var expected = "\(intervals.count + 1) sent, spaced by " + instants(intervals) + " (tolerance \(tolerance) each" + tickNote
        if let name = anchor.name {
            expected += "; the first may be short by the first send's lag behind \(name))"
            if !segments.isEmpty { observed += "; the first \(selector.kind) came \(anchor.lag < 0.001 ? Format.microseconds(anchor.lag) : Format.milliseconds(anchor.lag)) after \(name) at \(Format.seconds(anchor.time))" }
        } else {
            expected += ")"
        }
        return Verdict(passed: passed, expected: expected,
                       observed: observed, values: [ObservedValue("count", Double(segments.count))]
                           + gaps.enumerated().map { ObservedValue("gap \($0.offset + 1)", $0.element, unit: "s") },
                       tolerance: tolerance)
    }

    static func judgeSegmentCount(_ selector: SegmentSelector, _ comparison: Comparison, _ recording: Recording) -> Verdict {
        let segments = sent(selector, recording)
        let listed = segments.prefix(5).map(line).joined(separator: "; ") + (segments.count > 5 ? "; …" : "")
        return Verdict(passed: comparison.holds(for: Int64(segments.count)),
                       expected: comparison.description,
                       observed: "\(segments.count)" + (segments.isEmpty ? "" : ": " + listed),
                       values: [ObservedValue("count", Double(segments.count))])
    }

    static func judgeSegmentFields(_ selector: SegmentSelector, _ fields: SegmentFields, _ recording: Recording) -> Verdict {
        guard let segment = sent(selector, recording).first(where: { !$0.engineStamped }) else {
            return Verdict(passed: false, expected: fields.description,
                           observed: "none was captured" + nearby(selector, recording))
        }
        let passed = (fields.seq.map { $0 == segment.relativeSequence } ?? true)
            && (fields.ack.map { $0 == segment.relativeAcknowledgment && segment.header.flags.contains(.ack) } ?? true)
            && (fields.length.map { $0 == segment.length } ?? true)
            && (fields.mss.map { $0 == segment.options.mss } ?? true)
        let mss = segment.options.mss.map { " mss \($0)" } ?? " no mss option"
        return Verdict(passed: passed, expected: fields.description,
                       observed: line(segment) + (fields.mss == nil ? "" : mss))
    }

    static func judgeSegmentLengths(_ selector: SegmentSelector, _ bytes: Int, _ recording: Recording) -> Verdict {
        let segments = sent(selector, recording)
        let longest = segments.max { $0.length < $1.length }
        return Verdict(passed: !segments.isEmpty && longest!.length <= bytes, expected: "≤ \(bytes) bytes in each",
                       observed: longest.map { "\(segments.count) sent, the longest \($0.length) bytes: " + line($0) }
                           ?? "none was sent" + nearby(selector, recording),
                       values: longest.map { [ObservedValue("longest", Double($0.length), unit: "bytes")] } ?? [])
    }

    static func judgeDelay(_ start: TimelineEvent, _ end: TimelineEvent, _ seconds: Double, _ tolerance: Tolerance,
                           _ recording: Recording) -> Verdict {
        let allowed = tolerance.range(around: seconds)
        let expected = "\(Format.seconds(allowed.lowerBound))…\(Format.seconds(allowed.upperBound))"
        guard let from = instant(of: start, recording) else {
            return Verdict(passed: false, expected: expected, observed: missing(start, recording))
        }
        guard let to = instant(of: end, recording) else {
            return Verdict(passed: false, expected: expected, observed: missing(end, recording))
        }
        // Each instant is known within an interval (a sampled state change lies between two
        // samples; an engine stamp may be late): the delay passes if its interval meets the range.
        let shortest = to.earliest - from.latest, longest = to.latest - from.earliest
        let passed = longest >= allowed.lowerBound && shortest <= allowed.upperBound
        var observed = Format.seconds(to.latest - from.latest) + " (\(start) at \(Format.seconds(from.latest)), \(end) at \(Format.seconds(to.latest)))"
        if shortest != longest { observed += ", between \(Format.seconds(shortest)) and \(Format.seconds(longest))" }
        return Verdict(passed: passed, expected: expected, observed: observed,
                       values: [ObservedValue("delay", to.latest - from.latest, unit: "s")], tolerance: tolerance)
    }

    /// When an event happened: `latest` is the reading, `earliest` how early it may really have been.
    static func instant(of event: TimelineEvent, _ recording: Recording) -> (earliest: Double, latest: Double)? {
        switch event {
        case .segment(let kind, let host, let occurrence):
            let segments = sent(SegmentSelector(kind, from: host), recording)
            guard occurrence >= 1, occurrence <= segments.count else { return nil }
            let segment = segments[occurrence - 1]
            return (segment.queueStamped ? segment.time - Tolerance.queueStamped.early : segment.time, segment.time)
        case .arrival(let kind, let host, let occurrence):
            // Arrivals are always captured: their instants are the kernel's.
            let segments = arrived(kind, at: host, recording)
            guard occurrence >= 1, occurrence <= segments.count else { return nil }
            return (segments[occurrence - 1].time, segments[occurrence - 1].time)
        case .call(let call):
            guard let event = recording.process(call.process)?.events.first(where: { $0.call == call.call }) else { return nil }
            return (event.time, event.time)
        case .state(let selector, let state):
            let entries = recording.sockets(matching: selector).compactMap { $0.transitions.first { $0.state == state } }
            guard let first = entries.min(by: { $0.time < $1.time }) else { return nil }
            return (first.earliest, first.time)
        }
    }

    /// Why an event has no instant, with what was seen nearby.
    static func missing(_ event: TimelineEvent, _ recording: Recording) -> String {
        switch event {
        case .segment(let kind, let host, _):
            let count = sent(SegmentSelector(kind, from: host), recording).count
            return "\(event) was not seen (\(count) \(kind) from \(host))" + nearby(SegmentSelector(kind, from: host), recording)
        case .arrival(let kind, let host, _):
            let count = arrived(kind, at: host, recording).count
            let others = recording.segments.filter { $0.host == host && !$0.isSent }
            return "\(event) was not seen (\(count) \(kind) arrived at \(host))"
                + (others.isEmpty ? "; nothing arrived at \(host)"
                    : "; \(host) received: " + others.prefix(6).map(line).joined(separator: "; ") + (others.count > 6 ? "; …" : ""))
        case .call(let call):
            let calls = recording.process(call.process)?.events.map(\.call) ?? []
            return "\(event) did not happen (events: \(calls.isEmpty ? "none" : calls.joined(separator: ", ")))"
        case .state(let selector, _):
            let sockets = recording.sockets(matching: selector)
            return "\(event) was not seen" + (sockets.isEmpty ? " (no matching socket)" : ": " + sockets.map(summary).joined(separator: "; "))
        }
    }

    /// The sender's other segments, the nearest events to what was looked for.
    static func nearby(_ selector: SegmentSelector, _ recording: Recording) -> String {
        let others = recording.segments.filter { $0.host == selector.sender && $0.isSent }
        guard !others.isEmpty else { return "; \(selector.sender) sent no segment at all" }
        return "; \(selector.sender) sent: " + others.prefix(6).map(line).joined(separator: "; ") + (others.count > 6 ? "; …" : "")
    }

    /// For each expected instant with no observed one in its range, the nearest observed;
    /// each observed instant that no expected one accounts for.
    static func mismatches(_ offsets: [Double], _ expected: [Double], _ ranges: [ClosedRange<Double>]) -> String {
        var notes: [String] = []
        for (instant, range) in zip(expected, ranges) where !offsets.contains(where: range.contains) {
            let nearest = offsets.min { abs($0 - instant) < abs($1 - instant) }
            notes.append("nothing at \(Format.instants([instant]))" + (nearest.map { " (nearest \(Format.instants([$0])))" } ?? ""))
        }
        for offset in offsets where !ranges.contains(where: { $0.contains(offset) }) {
            notes.append("unexpected at \(Format.instants([offset]))")
        }
        return notes.isEmpty ? "" : "; " + notes.joined(separator: ", ")
    }

    /// "1.234 s S. seq 0 ack 1 win 65160 len 0 (dropped by lose-synack)"
    static func line(_ segment: ObservedSegment) -> String {
        "\(Format.seconds(segment.time)) \(segment.summary)" + (segment.fault.map { " (\($0))" } ?? "")
    }
}
