/// What an expectation checks, in words, known before anything runs: `netfault show` lists
/// it, and each result (JSON `description`, terminal, JUnit, HTML) carries it.
extension Expectation.Kind: CustomStringConvertible {
    public var description: String {
        switch self {
        case .reaches(let selector, let state, _):
            "\(selector) reaches \(state.rawValue)"
        case .passesThrough(let selector, let states):
            "\(selector) passes through \(states.map(\.rawValue).joined(separator: " → "))"
        case .endsIn(let selector, let state):
            "\(selector) ends in \(state.rawValue)"
        case .neverIn(let selector, let state):
            "\(selector) is never in \(state.rawValue)"
        case .staysIn(let selector, let state, let duration, _):
            "\(selector) stays in \(state.rawValue) for \(duration)"
        case .count(let host, let state, let port, _):
            "sockets on \(host) in \(state.rawValue)\(port.map { " with port \($0)" } ?? "") at the end"
        case .socketInfo(let selector, let field, let comparison):
            "\(selector): tcp_info \(field.rawValue) is \(comparison)"
        case .peerEvent(let process, let call, let errno, let result, _, _, _, _):
            "\(process): \(call) " + (errno.map { "fails with \($0)" } ?? "succeeds") + (result.map { " with result \($0)" } ?? "")
        case .peerResults(let process, let call, _):
            "\(process): successful \(call) results"
        case .exitStatus(let process, let status):
            "\(process) exits with status \(status)"
        case .counter(let host, let name, let comparison):
            "\(host): counter \(name) changes by \(comparison)"
        case .faultCount(let name, let comparison):
            "fault \"\(name)\" acts on \(comparison) segments"
        case .faultTimes(let name, let schedule, _, let givingUp):
            "fault \"\(name)\" acts at \(schedule)" + Self.givingUpText(givingUp)
        case .faultSameSequence(let name):
            "fault \"\(name)\" acts on one sequence number"
        case .timerRestarted(let selector, let state):
            "\(selector) restarts its timer in \(state.rawValue)"
        case .segmentTimes(let selector, let schedule, _, let givingUp):
            "\(selector) at \(schedule)" + Self.givingUpText(givingUp)
        case .segmentIntervals(let selector, let intervals, _):
            "\(selector) spaced by " + Format.instants(intervals)
        case .segmentCount(let selector, let comparison):
            comparison == .equals(0) ? "no \(selector)" : "\(comparison) \(selector)"
        case .segmentFields(let selector, let fields):
            "the first \(selector) has \(fields)"
        case .segmentLengths(let selector, let bytes):
            "every \(selector) carries at most \(bytes) bytes"
        case .delay(let start, let end, let seconds, _):
            "\(end) \(Format.seconds(seconds)) after \(start)"
        case .output(let process, let pattern, let stream):
            "\(process)'s \(stream.rawValue) \(pattern)"
        case .processRun(let process, let status, let tookAtLeast, let tookAtMost):
            "\(process) " + Self.runText(status, tookAtLeast, tookAtMost)
        case .check(let check):
            check.description
        case .kernelDrops(let host, let reason, let port, let comparison):
            "\(comparison) segments dropped by the kernel on \(host)" + (port.map { " (port \($0))" } ?? "")
                + (reason.map { " for \($0)" } ?? "")
        case .retransmissionTimes(let selector, let schedule, _, let givingUp):
            "\(selector) retransmitted at \(schedule)" + Self.givingUpText(givingUp)
        case .staysExactly(let selector, let state, let seconds, _):
            "\(selector) stays in \(state.rawValue) for \(Format.microseconds(seconds)), between the kernel's instants"
        case .staysExactlyAcross(let selector, let state, let start, let end, _):
            "\(selector) stays in \(state.rawValue) from before \(start) until \(end), by the kernel's instants"
        }
    }

    /// "exits with status 0, runs at most 2 s" (or "exits").
    static func runText(_ status: Int32?, _ tookAtLeast: Double?, _ tookAtMost: Double?) -> String {
        var parts: [String] = []
        if let status { parts.append("exits with status \(status)") }
        if let tookAtLeast { parts.append("runs at least \(Format.seconds(tookAtLeast))") }
        if let tookAtMost { parts.append("runs at most \(Format.seconds(tookAtMost))") }
        return parts.isEmpty ? "exits" : parts.joined(separator: ", ")
    }

    private static func givingUpText(_ givingUp: PeerCall?) -> String {
        givingUp.map { ", then \($0.process)'s \($0.call) fails" } ?? ""
    }
}
