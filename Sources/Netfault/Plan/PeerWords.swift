import NetfaultKernel

/// Turns a peer's steps into the words of `netfault peer`, naming addresses
/// instead of hosts. Returns nil (with the reason) when a host cannot be resolved.
enum PeerWords {
    struct Unresolved: Error { let message: String }

    static func words(for steps: [PeerStep], plan: NetworkPlan) throws -> [String] {
        try steps.indices.flatMap { index in
            if case .bind(let port) = steps[index] {
                // A bind belongs to the next connect and must match its address family.
                let ipv6 = steps[index...].lazy.compactMap { step -> Bool? in
                    if case .connect(_, _, _, let ipv6) = step { ipv6 } else { nil }
                }.first ?? false
                return ["bind", ipv6 ? "::" : "0.0.0.0", "\(port)"]
            }
            return try words(for: steps[index], plan: plan)
        }
    }

    /// An address literal as it is, a host by its address on the scenario's links.
    private static func address(of target: String, ipv6: Bool, for step: String, plan: NetworkPlan) throws -> String {
        if IPAddress(target) != nil { return target }
        guard let resolved = plan.address(of: target, ipv6: ipv6) else {
            throw Unresolved(message: "\(step): host \"\(target)\" has no \(ipv6 ? "IPv6" : "IPv4") address")
        }
        return resolved.description
    }

    private static func words(for step: PeerStep, plan: NetworkPlan) throws -> [String] {
        switch step {
        case .listen(let port, let backlog, let ipv6):
            return ["listen", ipv6 ? "::" : "0.0.0.0", "\(port)", "\(backlog)"]
        case .accept:
            return ["accept"]
        case .connect(let target, let port, let timeout, let ipv6):
            return ["connect", try address(of: target, ipv6: ipv6, for: "connect", plan: plan), "\(port)"]
                + (timeout.map { ["\(Int(($0 * 1000).rounded()))"] } ?? [])
        case .udpBind(let port, let ipv6):
            return ["udp-bind", ipv6 ? "::" : "0.0.0.0", "\(port)"]
        case .sendDatagram(let target, let port, let bytes, let ipv6):
            return ["sendto", try address(of: target, ipv6: ipv6, for: "sendDatagram", plan: plan), "\(port)", "\(bytes)"]
        case .receiveDatagram(let timeout):
            return ["recvfrom", "\(max(1, Int((timeout * 1000).rounded())))"]
        case .bind:
            preconditionFailure("handled with its connect in words(for:plan:)")
        case .write(let bytes, let writes, let pause):
            return ["write", "\(bytes)", "\(writes)", "\(Int((pause * 1000).rounded()))"]
        case .read(let bytes):
            return ["read", "\(bytes)"]
        case .readToEnd:
            return ["read-eof"]
        case .sleep(let seconds):
            return ["sleep", "\(Int((seconds * 1000).rounded()))"]
        case .noDelay:
            return ["nodelay"]
        case .keepalive(let idle, let interval, let count):
            return ["keepalive", "\(idle)", "\(interval)", "\(count)"]
        case .lingerZero:
            return ["linger0"]
        case .receiveBuffer(let bytes):
            return ["rcvbuf", "\(bytes)"]
        case .userTimeout(let seconds):
            return ["user-timeout", "\(Int((seconds * 1000).rounded()))"]
        case .shutdownWrite:
            return ["shutdown-wr"]
        case .close:
            return ["close"]
        case .closeListener:
            return ["close-listener"]
        case .hold:
            return ["hold"]
        case .exit(let status):
            return ["exit", "\(status)"]
        case .repeat(let count, let body):
            return ["repeat", "\(count)"] + (try words(for: body, plan: plan)) + ["end"]
        }
    }
}
