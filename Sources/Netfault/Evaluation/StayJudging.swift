import NetfaultKernel

/// Judging how long a socket stays in a state, from its sampled (or announced) changes.
extension ExpectationEvaluator {
    static func judgeStay(_ selector: SocketSelector, _ state: TCPState, _ tolerance: Tolerance, _ recording: Recording,
                          for duration: StayDuration) -> Verdict {
        let fixed = duration.fixedSeconds.map(tolerance.range(around:))
        let expected = fixed.map { "\(Format.seconds($0.lowerBound))…\(Format.seconds($0.upperBound))" }
            ?? "\(duration), with \(tolerance)"
        let sockets = recording.sockets(matching: selector)
        guard !sockets.isEmpty else { return noSocket(expected) }
        var observed: [String] = []
        var stays: [ObservedValue] = []
        var passed = true
        for socket in sockets {
            guard let entry = socket.transitions.firstIndex(where: { $0.state == state }) else {
                passed = false
                observed.append("\(socket.label) never in \(state.rawValue)")
                continue
            }
            let start = socket.transitions[entry]
            guard entry + 1 < socket.transitions.count else {
                passed = false
                observed.append("\(socket.label) still in \(state.rawValue) at the end, \(Format.seconds(recording.duration - start.time)) after entering it")
                continue
            }
            let end = socket.transitions[entry + 1]
            var what = ""
            let allowed: ClosedRange<Double>
            if let fixed {
                allowed = fixed
                stays.append(ObservedValue("stayed", end.time - start.time, unit: "s"))
            } else if let seconds = duration.seconds(of: socket, in: state) {
                allowed = tolerance.range(around: seconds)
                // What is judged, to compare between kernels: the duration itself is the
                // socket's own, which an emulated guest's round trips raise.
                stays.append(ObservedValue("beyond \(duration.shortName)", end.time - start.time - seconds, unit: "s"))
                what = ", \(duration) \(Format.seconds(seconds)): \(Format.seconds(allowed.lowerBound))…\(Format.seconds(allowed.upperBound))"
            } else {
                passed = false
                observed.append("\(socket.label): \(duration) not sampled in \(state.rawValue)")
                continue
            }
            // Sampling brackets each change between two samples, so the true stay lies
            // in this interval; it passes if the interval meets the allowed range.
            let shortest = end.earliest - start.time, longest = end.time - start.earliest
            if longest < allowed.lowerBound || shortest > allowed.upperBound { passed = false }
            observed.append("\(socket.label) \(Format.seconds(end.time - start.time)) (between \(Format.seconds(shortest)) and \(Format.seconds(longest)), from \(Format.seconds(start.time))\(what))")
        }
        // One socket's stay is a number to plot; several are only listed.
        return Verdict(passed: passed, expected: expected, observed: observed.joined(separator: "; "),
                       values: sockets.count == 1 ? stays : [], tolerance: tolerance)
    }
}

extension StayDuration {
    /// The fixed duration, if it is one.
    var fixedSeconds: Double? {
        if case .seconds(let seconds) = self { return seconds }
        return nil
    }

    /// How a value measured against it is named: "beyond the RTO".
    var shortName: String {
        switch self {
        case .seconds: "the duration"
        case .retransmissionTimeout: "the RTO"
        }
    }

    /// The duration for this socket in this state; nil when what it is read from was not sampled.
    func seconds(of socket: ObservedSocket, in state: TCPState) -> Double? {
        switch self {
        case .seconds(let seconds):
            return seconds
        case .retransmissionTimeout:
            // The first sample in the state: before a retransmission backs the timeout off.
            let info = socket.samples.first { $0.record.state == state && $0.record.info != nil }?.record.info
            return info.map { Double($0.rtoMicroseconds) / 1_000_000 }
        }
    }
}
