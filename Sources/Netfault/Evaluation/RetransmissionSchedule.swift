/// When a kernel sends and gives up, computed from the namespace's sysctls
/// and the kernel, so one scenario holds on kernels that differ.
public enum RetransmissionSchedule: Sendable, Equatable, CustomStringConvertible {
    /// Fixed offsets from the first send, and when the sender gives up, in seconds.
    case seconds([Double], givingUpAt: Double? = nil)
    /// A connecting socket's SYNs (SYN_SENT), from the host's tcp_syn_retries and,
    /// since Linux 6.5, tcp_syn_linear_timeouts.
    case synRetransmissions(on: String)
    /// A listener's SYN-ACKs for one request, from the host's tcp_synack_retries.
    case synAckRetransmissions(on: String)

    /// The sysctls it reads, per host.
    static let sysctlNames = ["net.ipv4.tcp_syn_retries", "net.ipv4.tcp_synack_retries", "net.ipv4.tcp_syn_linear_timeouts"]

    /// TCP_TIMEOUT_INIT: the first SYN and SYN-ACK timeout.
    static let initialTimeout = 1.0
    /// TCP_RTO_MAX.
    static let maximumTimeout = 120.0

    /// The sends (the first at 0) and when the kernel gives up, as offsets from the
    /// first send; nil when a sysctl it needs was not recorded.
    public func timeline(sysctls: [String: [String: Int]]) -> (sends: [Double], givesUpAt: Double?)? {
        switch self {
        case .seconds(let offsets, let end):
            return (offsets, end)
        case .synRetransmissions(let host):
            guard let retries = sysctls[host]?["net.ipv4.tcp_syn_retries"] else { return nil }
            // Linux ≥ 6.5: the first tcp_syn_linear_timeouts timeouts after the initial
            // one do not back off, and they come on top of tcp_syn_retries. The sender also
            // gives up once the time tcp_syn_retries doubling timeouts would take has passed
            // (tcp_model_timeout), which comes first below 3 retries (measured on 6.18 by
            // `netfault sweep H2`: 1 retry fails at 3 s, 2 at 7 s). Without linear timeouts
            // the two limits coincide.
            let linear = sysctls[host]?["net.ipv4.tcp_syn_linear_timeouts"] ?? 0
            return Self.backoff(retransmissions: retries + linear, givingUpBy: Self.modelTimeout(retransmissions: retries)) { retransmitted in
                retransmitted <= linear ? 0 : retransmitted - linear
            }
        case .synAckRetransmissions(let host):
            guard let retries = sysctls[host]?["net.ipv4.tcp_synack_retries"] else { return nil }
            return Self.backoff(retransmissions: retries) { $0 }
        }
    }

    /// Sends at 0, then after each timeout; the timeout after the k-th
    /// retransmission is the initial one doubled `doublings(k)` times. The sender gives up
    /// at the first timeout after `retransmissions`, or at the first at or after `deadline`.
    private static func backoff(retransmissions: Int, givingUpBy deadline: Double = .infinity,
                                doublings: (Int) -> Int) -> (sends: [Double], givesUpAt: Double?) {
        var sends = [0.0]
        var time = 0.0
        for retransmitted in 0...retransmissions {
            time += min(initialTimeout * Double(1 << min(doublings(retransmitted), 20)), maximumTimeout)
            if retransmitted == retransmissions || time >= deadline { break }
            sends.append(time)
        }
        return (sends, time)
    }

    /// How long `retransmissions` timeouts take doubling from the initial one, capped at
    /// TCP_RTO_MAX (Linux's tcp_model_timeout with the 1 s initial timeout).
    static func modelTimeout(retransmissions: Int) -> Double {
        backoff(retransmissions: retransmissions) { $0 }.givesUpAt!
    }

    public var description: String {
        switch self {
        case .seconds(let offsets, _): Format.instants(offsets)
        case .synRetransmissions(let host): "\(host)'s SYN retransmission schedule"
        case .synAckRetransmissions(let host): "\(host)'s SYN-ACK retransmission schedule"
        }
    }
}
