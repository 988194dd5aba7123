import Foundation
import NetfaultKernel

/// Checks a scenario before anything is built. Pure except for looking programs
/// up on PATH; sysctl values are checked against the kernel by `SysctlProbe`.
public enum ScenarioValidator {
    /// Bounds that keep a scenario within what one machine builds in seconds.
    public static let maximumHosts = 64
    /// The most links a scenario may have.
    public static let maximumLinks = 128
    /// The most processes a scenario may start.
    public static let maximumProcesses = 256
    static let allowedIPv4 = CIDR("10.77.0.0/16")!
    static let allowedIPv6 = CIDR("fd77::/16")!

    /// Every problem of the scenario that needs no kernel to find, each at its line.
    public static func validate(_ scenario: Scenario) -> [ScenarioError] {
        var errors: [ScenarioError] = []
        func fail(_ location: SourceLocation, _ message: String) { errors.append(ScenarioError(location, message)) }

        if scenario.id.isEmpty || scenario.id.contains(where: { !$0.isLetter && !$0.isNumber && $0 != "-" && $0 != "_" }) {
            fail(scenario.location, "scenario id \"\(scenario.id)\" must be letters, digits, - or _")
        }
        if scenario.hosts.isEmpty { fail(scenario.location, "a scenario needs at least one Host") }
        if scenario.hosts.count > maximumHosts {
            fail(scenario.location, "\(scenario.hosts.count) hosts is beyond the limit of \(maximumHosts)")
        }
        if scenario.links.count > maximumLinks {
            fail(scenario.location, "\(scenario.links.count) links is beyond the limit of \(maximumLinks)")
        }
        if !(scenario.timeLimit > 0) { fail(scenario.location, "timeLimit must be positive") }

        // Hosts
        var hostLines: [String: SourceLocation] = [:]
        for host in scenario.hosts {
            if let first = hostLines[host.name] {
                fail(host.location, "two hosts named \"\(host.name)\" (the first at line \(first.line))")
            }
            hostLines[host.name] = hostLines[host.name] ?? host.location
            if host.name.isEmpty || host.name.count > 12
                || host.name.contains(where: { !($0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "-")) }) {
                fail(host.location, "host name \"\(host.name)\" must be 1–12 characters of a-z, 0-9 and -")
            }
        }
        func knownHost(_ name: String, _ location: SourceLocation, _ role: String) -> Bool {
            if hostLines[name] != nil { return true }
            fail(location, "\(role) names unknown host \"\(name)\"")
            return false
        }

        // Links and addresses
        var subnetOwners: [(cidr: CIDR, hosts: String, location: SourceLocation)] = []
        var linkCount: [String: Int] = [:]
        for link in scenario.links {
            let known = knownHost(link.a, link.location, "link") & knownHost(link.b, link.location, "link")
            if link.a == link.b { fail(link.location, "a link needs two different hosts, not \"\(link.a)\" twice") }
            if link.subnet == nil && link.ipv6Subnet == nil { fail(link.location, "a link needs a subnet or an ipv6Subnet") }
            for (text, ipv6) in [(link.subnet, false), (link.ipv6Subnet, true)] {
                guard let text else { continue }
                guard let cidr = CIDR(text), cidr.address.isIPv6 == ipv6 else {
                    fail(link.location, "\"\(text)\" is not an \(ipv6 ? "IPv6" : "IPv4") subnet in CIDR form")
                    continue
                }
                let allowed = ipv6 ? allowedIPv6 : allowedIPv4
                if !allowed.contains(cidr.address) || cidr.prefixLength < allowed.prefixLength {
                    fail(link.location, "subnet \(text) is outside \(allowed), the range netfault keeps its test traffic in")
                }
                if cidr.prefixLength > (ipv6 ? 126 : 30) {
                    fail(link.location, "subnet \(text) is too small for two hosts")
                }
                guard known else { continue }
                // Two links on overlapping subnets would put one address on two hosts
                // (or twice on one) and make routing ambiguous.
                if let other = subnetOwners.first(where: { $0.cidr.contains(cidr.address) || cidr.contains($0.cidr.address) }) {
                    fail(link.location, "subnet \(text) overlaps \(other.cidr) of the link \(other.hosts) (line \(other.location.line)): address \(cidr.host(1)) would be on two hosts")
                }
                subnetOwners.append((cidr, "\(link.a) — \(link.b)", link.location))
            }
            if let mtu = link.mtu, !(68...65535).contains(mtu) || (link.ipv6Subnet != nil && mtu < 1280) {
                fail(link.location, "MTU \(mtu) is outside \(link.ipv6Subnet != nil ? "1280" : "68")...65535")
            }
            linkCount[link.a, default: 0] += 1
            linkCount[link.b, default: 0] += 1
        }
        for (host, count) in linkCount where count > 32 {
            fail(hostLines[host] ?? scenario.location, "host \(host) has \(count) links, beyond the limit of 32")
        }

        // Routes
        for route in scenario.routes {
            _ = knownHost(route.host, route.location, "route") && knownHost(route.via, route.location, "route")
            if let destination = CIDR(route.destination), destination.address != destination.host(0) {
                fail(route.location, "route destination \(route.destination) has host bits set; did you mean \(destination.host(0))/\(destination.prefixLength)?")
            } else if CIDR(route.destination) == nil {
                fail(route.location, "route destination \"\(route.destination)\" is not in CIDR form")
            } else if !scenario.links.contains(where: { Set([$0.a, $0.b]) == Set([route.host, route.via]) }) {
                fail(route.location, "route on \(route.host) via \(route.via): the two hosts share no link")
            }
        }

        // Sysctls: the name's shape here; the kernel judges values in SysctlProbe.
        for sysctl in scenario.sysctls {
            _ = knownHost(sysctl.host, sysctl.location, "sysctl")
            let parts = sysctl.name.split(separator: ".", omittingEmptySubsequences: false)
            if parts.count < 3 || !(parts[0] == "net") || !["ipv4", "ipv6", "core", "unix", "netfilter"].contains(String(parts[1]))
                || parts.contains(where: { $0.isEmpty || $0 == ".." || $0.contains("/") }) {
                fail(sysctl.location, "\"\(sysctl.name)\" is not a per-namespace net.ipv4.*, net.ipv6.* or net.core.* sysctl")
            }
            if sysctl.value.isEmpty || sysctl.value.contains("\n") {
                fail(sysctl.location, "sysctl \(sysctl.name) needs a one-line value")
            }
        }

        // Steps: processes, waits and the ports they listen on.
        let plan = errors.isEmpty ? NetworkPlan(scenario) : nil
        var processes: [String: SourceLocation] = [:]
        var listening: [String: SourceLocation] = [:]
        var processCount = 0
        for step in scenario.steps {
            switch step {
            case .peer(let peer):
                processCount += 1
                registerProcess(peer.name, peer.location, &processes, fail)
                _ = knownHost(peer.host, peer.location, "peer \(peer.name)")
                let before = errors.count
                checkPeerSteps(peer.steps, peer: peer, listening: &listening, fail: fail)
                // The peer's own parser would report the same mistakes again.
                if let plan, errors.count == before {
                    do {
                        _ = try PeerScript(PeerWords.words(for: peer.steps, plan: plan))
                    } catch let error as PeerWords.Unresolved {
                        fail(peer.location, "peer \(peer.name): \(error.message)")
                    } catch {
                        fail(peer.location, "peer \(peer.name): \(error)")
                    }
                }
            case .command(let command):
                processCount += 1
                registerProcess(command.name, command.location, &processes, fail)
                _ = knownHost(command.host, command.location, "command \(command.name)")
                if let program = command.arguments.first {
                    if ExecutableLookup.resolve(program) == nil {
                        fail(command.location, "program \"\(program)\" was not found (not an executable path, nor on PATH)")
                    }
                } else {
                    fail(command.location, "command \(command.name) has no program")
                }
                ProgramValidator.check(command, fail: fail)
            case .wait(let wait):
                if !(wait.seconds >= 0) || wait.seconds > scenario.timeLimit {
                    fail(wait.location, "Wait(\(wait.seconds)) must be between 0 and the time limit (\(scenario.timeLimit) s)")
                }
            case .waitFor(let wait):
                if !(wait.timeout > 0) { fail(wait.location, "WaitFor timeout must be positive") }
                switch wait.condition {
                case .exit(let name):
                    if processes[name] == nil { fail(wait.location, "WaitFor(exitOf:) names \"\(name)\", which no earlier step starts") }
                case .state(let selector, _):
                    _ = knownHost(selector.host, wait.location, "WaitFor")
                case .output(let pattern, let name, _):
                    if processes[name] == nil { fail(wait.location, "WaitFor(output:) names \"\(name)\", which no earlier step starts") }
                    ProgramValidator.check(pattern, wait.location, fail: fail)
                }
            }
        }
        if processCount > maximumProcesses {
            fail(scenario.location, "\(processCount) processes is beyond the limit of \(maximumProcesses)")
        }

        FaultValidator.validate(scenario, knownHost: knownHost, processes: Set(processes.keys), fail: fail)

        func checkEvent(_ event: TimelineEvent, _ location: SourceLocation) {
            switch event {
            case .segment(_, let host, let occurrence), .arrival(_, let host, let occurrence):
                _ = knownHost(host, location, "expectation")
                if occurrence < 1 { fail(location, "occurrence \(occurrence): the first is 1") }
            case .call(let call):
                if processes[call.process] == nil { fail(location, "expectation names process \"\(call.process)\", which no step starts") }
            case .state(let selector, _):
                _ = knownHost(selector.host, location, "expectation")
            }
        }

        // Expectations refer to what exists.
        for expectation in scenario.expectations {
            let location = expectation.location
            switch expectation.kind {
            case .reaches(let s, _, _), .passesThrough(let s, _), .endsIn(let s, _), .neverIn(let s, _), .staysIn(let s, _, _, _):
                _ = knownHost(s.host, location, "expectation")
                if case .passesThrough(_, let states) = expectation.kind, states.isEmpty {
                    fail(location, "passesThrough needs at least one state")
                }
                if case .staysIn(_, _, let duration, let tolerance) = expectation.kind {
                    checkTolerance(tolerance, location, fail)
                    if let seconds = duration.fixedSeconds, !(seconds >= 0) { fail(location, "a duration must not be negative") }
                }
            case .count(let host, _, _, _), .counter(let host, _, _):
                _ = knownHost(host, location, "expectation")
            case .socketInfo(let s, _, _), .timerRestarted(let s, _):
                _ = knownHost(s.host, location, "expectation")
            case .peerEvent(let process, _, _, _, _, _, _, _), .exitStatus(let process, _), .peerResults(let process, _, _):
                if processes[process] == nil { fail(location, "expectation names process \"\(process)\", which no step starts") }
            case .output(let process, let pattern, _):
                if processes[process] == nil { fail(location, "expectation names process \"\(process)\", which no step starts") }
                ProgramValidator.check(pattern, location, fail: fail)
            case .processRun(let process, _, let tookAtLeast, let tookAtMost):
                if processes[process] == nil { fail(location, "expectation names process \"\(process)\", which no step starts") }
                ProgramValidator.checkDurations(tookAtLeast, tookAtMost, location, fail: fail)
            case .check(let check):
                if check.description.trimmingCharacters(in: .whitespaces).isEmpty {
                    fail(location, "Expect.that needs a description saying what it checks")
                }
            case .faultCount, .faultTimes, .faultSameSequence:
                break  // FaultValidator
            case .kernelDrops(let host, let reason, _, _):
                _ = knownHost(host, location, "expectation")
                if let reason, reason.isEmpty || !reason.allSatisfy({ $0.isUppercase || $0.isNumber || $0 == "_" }) {
                    fail(location, "drop reason \"\(reason)\" is not a name of enum skb_drop_reason (e.g. NO_SOCKET, TCP_OLD_ACK)")
                }
            case .staysExactly(let s, _, let seconds, let tolerance):
                _ = knownHost(s.host, location, "expectation")
                checkTolerance(tolerance, location, fail)
                if !(seconds >= 0) { fail(location, "a duration must not be negative") }
            case .segmentTimes(let selector, let schedule, let tolerance, let givingUp),
                 .retransmissionTimes(let selector, let schedule, let tolerance, let givingUp):
                _ = knownHost(selector.sender, location, "expectation")
                checkTolerance(tolerance, location, fail)
                if case .seconds(let offsets, _) = schedule, offsets.first != 0 || zip(offsets, offsets.dropFirst()).contains(where: { $0 > $1 }) {
                    fail(location, "a schedule's instants start at 0 (the first segment) and never decrease")
                }
                if let givingUp, processes[givingUp.process] == nil {
                    fail(location, "expectation names process \"\(givingUp.process)\", which no step starts")
                }
            case .segmentIntervals(let selector, let intervals, let tolerance):
                _ = knownHost(selector.sender, location, "expectation")
                checkTolerance(tolerance, location, fail)
                if intervals.isEmpty || intervals.contains(where: { !($0 >= 0) }) {
                    fail(location, "spacedBy needs at least one interval, none negative")
                }
            case .segmentCount(let selector, _), .segmentFields(let selector, _):
                _ = knownHost(selector.sender, location, "expectation")
            case .segmentLengths(let selector, let bytes):
                _ = knownHost(selector.sender, location, "expectation")
                if bytes < 0 { fail(location, "a segment length must not be negative") }
            case .delay(let start, let end, let seconds, let tolerance):
                checkTolerance(tolerance, location, fail)
                if !(seconds >= 0) { fail(location, "a delay must not be negative") }
                for event in [start, end] { checkEvent(event, location) }
            case .staysExactlyAcross(let s, _, let start, let end, let tolerance):
                _ = knownHost(s.host, location, "expectation")
                checkTolerance(tolerance, location, fail)
                for event in [start, end] { checkEvent(event, location) }
            }
        }
        return errors
    }

    private static func checkTolerance(_ tolerance: Tolerance, _ location: SourceLocation,
                                       _ fail: (SourceLocation, String) -> Void) {
        if !(tolerance.early >= 0) || !(tolerance.lateMinimum >= 0) || !(tolerance.lateFraction >= 0) {
            fail(location, "a tolerance's margins must not be negative")
        }
    }

    private static func registerProcess(_ name: String, _ location: SourceLocation,
                                        _ processes: inout [String: SourceLocation],
                                        _ fail: (SourceLocation, String) -> Void) {
        // The name becomes a file name under --artifacts.
        if name.isEmpty || name == "." || name == ".." || name.contains("/") || name.contains("\0") {
            fail(location, "process name \"\(name)\" must be non-empty, not . or .., and without / or NUL (it names its output files)")
        }
        if let first = processes[name] {
            fail(location, "two processes named \"\(name)\" (the first at line \(first.line))")
        }
        processes[name] = processes[name] ?? location
    }

    private static func checkPeerSteps(_ steps: [PeerStep], peer: Peer, listening: inout [String: SourceLocation],
                                       fail: (SourceLocation, String) -> Void) {
        for step in steps {
            switch step {
            case .listen(let port, let backlog, _):
                if !(1...65535).contains(port) { fail(peer.location, "peer \(peer.name): listen port \(port) is outside 1...65535") }
                if backlog < 0 { fail(peer.location, "peer \(peer.name): negative backlog") }
                let key = "\(peer.host):\(port)"
                if let first = listening[key] {
                    fail(peer.location, "port \(port) on \(peer.host) is already in use by the listener at line \(first.line)")
                }
                listening[key] = listening[key] ?? peer.location
            case .connect(_, let port, let timeout, _):
                if !(1...65535).contains(port) { fail(peer.location, "peer \(peer.name): connect port \(port) is outside 1...65535") }
                if let timeout, !(timeout > 0) { fail(peer.location, "peer \(peer.name): connect timeout must be positive") }
            case .bind(let port):
                if !(0...65535).contains(port) { fail(peer.location, "peer \(peer.name): bind port \(port) is outside 0...65535") }
            case .write(let bytes, let writes, let pause):
                if bytes < 0 || writes < 1 || pause < 0 { fail(peer.location, "peer \(peer.name): write needs bytes ≥ 0, writes ≥ 1, pause ≥ 0") }
            case .read(let bytes):
                if bytes < 1 { fail(peer.location, "peer \(peer.name): read needs at least 1 byte") }
            case .sleep(let seconds):
                if !(seconds >= 0) { fail(peer.location, "peer \(peer.name): sleep must not be negative") }
            case .keepalive(let idle, let interval, let count):
                if idle < 1 || interval < 1 || count < 1 { fail(peer.location, "peer \(peer.name): keepalive values must be at least 1") }
            case .receiveBuffer(let bytes):
                if bytes < 1 { fail(peer.location, "peer \(peer.name): receive buffer must be positive") }
            case .userTimeout(let seconds):
                // The socket option is in whole milliseconds; 0 would mean the system default.
                if !(seconds >= 0.001) || seconds * 1000 > Double(Int32.max) {
                    fail(peer.location, "peer \(peer.name): user timeout must be at least 1 ms and at most \(Int32.max) ms")
                }
            case .udpBind(let port, _):
                if !(1...65535).contains(port) { fail(peer.location, "peer \(peer.name): udpBind port \(port) is outside 1...65535") }
            case .sendDatagram(_, let port, let bytes, _):
                if !(1...65535).contains(port) { fail(peer.location, "peer \(peer.name): sendDatagram port \(port) is outside 1...65535") }
                // 65535 less the IPv4 and UDP headers.
                if !(0...65507).contains(bytes) { fail(peer.location, "peer \(peer.name): a datagram holds 0...65507 bytes, not \(bytes)") }
            case .receiveDatagram(let timeout):
                if !(timeout > 0) { fail(peer.location, "peer \(peer.name): receiveDatagram timeout must be positive") }
            case .repeat(let count, let body):
                if count < 1 { fail(peer.location, "peer \(peer.name): repeat count must be at least 1") }
                checkPeerSteps(body, peer: peer, listening: &listening, fail: fail)
            case .accept, .readToEnd, .noDelay, .lingerZero, .shutdownWrite, .close, .closeListener, .hold, .exit:
                break
            }
        }
    }
}

extension Bool {
    /// Non-short-circuit and, so both sides report their errors.
    static func & (lhs: Bool, rhs: Bool) -> Bool { lhs && rhs }
}
