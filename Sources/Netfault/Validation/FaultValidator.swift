import NetfaultKernel

/// Checks a scenario's faults, impairments and the expectations that name them.
enum FaultValidator {
    /// The same limit on every kernel, so a scenario valid on one is valid on all: where a
    /// delay runs in the kernel, fq holds it, and fq's horizon is a u32 of µs.
    static func beyondFQ(_ what: String) -> String {
        "\(what) is beyond what fq can hold: its horizon is a u32 of µs (4294.967 s), "
            + "less the \(Format.seconds(FQOptions.horizonMargin)) netfault keeps above the longest delay (at most \(Format.seconds(FQOptions.longestHold)))"
    }

    static func validate(_ scenario: Scenario, knownHost: (String, SourceLocation, String) -> Bool,
                         processes: Set<String>, fail: (SourceLocation, String) -> Void) {
        func linked(_ a: String, _ b: String) -> Bool {
            scenario.links.contains { ($0.a == a && $0.b == b) || ($0.a == b && $0.b == a) }
        }
        var names: [String: SourceLocation] = [:]
        for fault in scenario.faults {
            let location = fault.location
            if let first = names[fault.name] {
                fail(location, "two faults named \"\(fault.name)\" (the first at line \(first.line)); give one a name:")
            }
            names[fault.name] = names[fault.name] ?? location
            switch fault.target {
            case .segments(_, let place, let occurrence, let port):
                switch place {
                case .link(let from, let to):
                    if knownHost(from, location, "fault") & knownHost(to, location, "fault"), !linked(from, to) {
                        fail(location, "fault at \(place): there is no link between \(from) and \(to)")
                    }
                case .egress(let host), .ingress(let host):
                    if knownHost(host, location, "fault"), !scenario.links.contains(where: { $0.a == host || $0.b == host }) {
                        fail(location, "fault at \(place): \(host) has no link")
                    }
                }
                if let n = occurrence.operand, n < 1 {
                    fail(location, "occurrence \(occurrence) must count from 1 (the first segment is 1), not \(n)")
                }
                if let port, !(1...65535).contains(port) { fail(location, "fault port \(port) is outside 1...65535") }
            case .partition(let a, let b):
                if knownHost(a, location, "partition") & knownHost(b, location, "partition"), a == b {
                    fail(location, "a partition needs two different hosts, not \"\(a)\" twice")
                }
            case .blackhole(let host):
                _ = knownHost(host, location, "blackhole")
            }
            switch fault.action {
            case .delay(let seconds) where !(seconds >= 0 && seconds.isFinite):
                fail(location, "delay must be zero or more seconds, not \(seconds)")
            case .delay(let seconds) where seconds > FQOptions.longestHold:
                fail(location, Self.beyondFQ("delay of \(Format.seconds(seconds))"))
            case .reorder(let count, let maxHold):
                if count < 1 { fail(location, "reorder must release after at least 1 later segment, not \(count)") }
                if !(maxHold > 0 && maxHold.isFinite) { fail(location, "reorder maxHold must be positive, not \(maxHold)") }
            default:
                break
            }
            if let window = fault.window, !(window.lowerBound >= 0) {
                fail(location, "a fault's time window must start at 0 s or later, not \(window.lowerBound)")
            }
        }

        var impaired: [String: SourceLocation] = [:]
        for impairment in scenario.impairments {
            let location = impairment.location
            let direction = "\(impairment.from)→\(impairment.to)"
            if knownHost(impairment.from, location, "impairment") & knownHost(impairment.to, location, "impairment"),
               !linked(impairment.from, impairment.to) {
                fail(location, "impairment \(direction): there is no link between \(impairment.from) and \(impairment.to)")
            }
            if let first = impaired[direction] {
                fail(location, "a second impairment of \(direction) (the first at line \(first.line)); put both in one")
            }
            impaired[direction] = impaired[direction] ?? location
            var timesValid = true
            for (name, value) in [("delay", impairment.delay), ("jitter", impairment.jitter)] where !(value >= 0 && value < 1e6) {
                fail(location, "impairment \(direction): \(name) must be zero or more seconds, not \(value)")
                timesValid = false
            }
            if let rate = impairment.rate, !(rate >= 8 && rate < 1e15) {
                fail(location, "impairment \(direction): rate must be a positive number of bits per second (at least 8), not \(rate)")
                timesValid = false
            }
            if timesValid, impairment.delay + impairment.jitter > FQOptions.longestHold {
                fail(location, "impairment \(direction): " + Self.beyondFQ("delay plus jitter of \(Format.seconds(impairment.delay + impairment.jitter))"))
            }
            // Percentages and what netem itself refuses, in the words of NetemOptions.
            if timesValid {
                for problem in NetemOptions(impairment).validationErrors() { fail(location, "impairment \(direction): \(problem)") }
            }
            names[impairment.description] = location
        }

        for expectation in scenario.expectations {
            let location = expectation.location
            switch expectation.kind {
            case .faultCount(let name, _), .faultSameSequence(let name):
                if names[name] == nil { fail(location, "expectation names fault \"\(name)\", which the scenario does not have") }
            case .faultTimes(let name, let schedule, _, let givingUp):
                if names[name] == nil { fail(location, "expectation names fault \"\(name)\", which the scenario does not have") }
                switch schedule {
                case .synRetransmissions(let host), .synAckRetransmissions(let host): _ = knownHost(host, location, "schedule")
                case .seconds(let offsets, _):
                    if offsets.isEmpty || offsets.contains(where: { !($0 >= 0) }) {
                        fail(location, "a schedule needs offsets of 0 s or more")
                    }
                }
                if let givingUp, !processes.contains(givingUp.process) {
                    fail(location, "expectation names process \"\(givingUp.process)\", which no step starts")
                }
            default:
                break
            }
        }
    }
}
