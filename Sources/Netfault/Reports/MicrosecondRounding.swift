/// Rounds every time in the result model to whole microseconds.
/// Done on the values rather than on the encoded text so the JSON stays a faithful encoding of a model value.
extension Double {
    /// `n / 1e6` is the double nearest the decimal with 6 places, so it prints with at most 6 decimals.
    var roundedToMicroseconds: Double { (self * 1_000_000).rounded() / 1_000_000 }
}

extension RunResult {
    func roundedToMicroseconds() -> RunResult {
        var copy = self
        copy.scenarios = scenarios.map { $0.roundedToMicroseconds() }
        return copy
    }
}

extension ScenarioResult {
    func roundedToMicroseconds() -> ScenarioResult {
        var copy = self
        copy.durationSeconds = durationSeconds.roundedToMicroseconds
        copy.expectations = expectations.map { expectation in
            var rounded = expectation
            rounded.observedValues = expectation.observedValues.map { ObservedValue($0.name, $0.value.roundedToMicroseconds, unit: $0.unit) }
            return rounded
        }
        copy.sockets = sockets.map { $0.roundedToMicroseconds() }
        copy.processes = processes.map { $0.roundedToMicroseconds() }
        copy.kernelDrops = kernelDrops.map { var drop = $0; drop.time = drop.time.roundedToMicroseconds; return drop }
        copy.retransmissions = retransmissions.map {
            var retransmission = $0
            retransmission.time = retransmission.time.roundedToMicroseconds
            retransmission.announced = retransmission.announced.roundedToMicroseconds
            retransmission.earliest = retransmission.earliest?.roundedToMicroseconds
            return retransmission
        }
        copy.resets = resets.map { var reset = $0; reset.time = reset.time.roundedToMicroseconds; return reset }
        return copy
    }
}

extension SocketTimeline {
    func roundedToMicroseconds() -> SocketTimeline {
        var copy = self
        copy.transitions = transitions.map { transition in
            var rounded = transition
            rounded.time = transition.time.roundedToMicroseconds
            return rounded
        }
        return copy
    }
}

extension ProcessResult {
    func roundedToMicroseconds() -> ProcessResult {
        var copy = self
        copy.startTime = startTime.roundedToMicroseconds
        copy.endTime = endTime?.roundedToMicroseconds
        copy.events = events.map { event in
            var rounded = event
            rounded.time = event.time.roundedToMicroseconds
            return rounded
        }
        return copy
    }
}
