import Foundation
import NetfaultKernel

/// Something that must be observed; checked after the steps have run.
public struct Expectation: ScenarioComponent {
    /// What an expectation checks; built by the `Expect` functions.
    public enum Kind: Sendable {
        /// A matching socket is in `state` by `within` seconds after the start.
        case reaches(SocketSelector, TCPState, within: Double?)
        /// Every matching socket passes through these states in this order (others may come between).
        case passesThrough(SocketSelector, [TCPState])
        /// Every matching socket's last observed state.
        case endsIn(SocketSelector, TCPState)
        /// No matching socket is ever seen in `state`.
        case neverIn(SocketSelector, TCPState)
        /// A matching socket stays in `state` for the duration (entry to the next change or the end).
        case staysIn(SocketSelector, TCPState, StayDuration, tolerance: Tolerance)
        /// How many sockets on `host` (with `port` at either end, if given) are in `state` at the end.
        case count(host: String, state: TCPState, port: Int?, Comparison)
        /// The peer's first `call` event succeeded, or failed with `errno`, no earlier than `after`
        /// and no later than `before` seconds after the start.
        /// `tookAtLeast`/`tookAtMost`: seconds from the peer's previous event (or its start,
        /// for its first call) to this one: the call's own duration.
        case peerEvent(process: String, call: String, errno: String?, result: Int64?, after: Double?, before: Double?,
                       tookAtLeast: Double? = nil, tookAtMost: Double? = nil)
        /// The results of every successful `call` of the peer, in order.
        case peerResults(process: String, call: String, [Int64])
        /// A tcp_info field of a matching socket, in the last sample that had tcp_info.
        case socketInfo(SocketSelector, SocketInfoField, Comparison)
        /// The process's exit status.
        case exitStatus(process: String, Int32)
        /// A /proc/net/snmp or netstat counter's change on `host` over the scenario.
        case counter(host: String, name: String, Comparison)
        /// How many segments the named fault acted on.
        case faultCount(fault: String, Comparison)
        /// When the named fault acted, as offsets from its first act, and optionally
        /// when `givingUp`'s first failing call came (the schedule's give-up instant).
        case faultTimes(fault: String, RetransmissionSchedule, tolerance: Tolerance, givingUp: PeerCall?)
        /// Every segment the named fault acted on had the same sequence number (retransmissions of one segment).
        case faultSameSequence(fault: String)
        /// A matching socket's timer went up while it stayed in `state`: the kernel restarted it.
        case timerRestarted(SocketSelector, TCPState)
        /// The selected segments were sent exactly at the schedule's instants (offsets from the
        /// first of them, kernel timestamps), and optionally `givingUp`'s call failed at its end.
        case segmentTimes(SegmentSelector, RetransmissionSchedule, tolerance: Tolerance, givingUp: PeerCall?)
        /// The selected segments came exactly this many, spaced by these intervals, each
        /// interval judged with the tolerance on its own length.
        case segmentIntervals(SegmentSelector, [Double], tolerance: Tolerance)
        /// How many of the selected segments were sent.
        case segmentCount(SegmentSelector, Comparison)
        /// The first selected segment's relative numbers, length and MSS option, where given.
        case segmentFields(SegmentSelector, SegmentFields)
        /// No selected segment carries more than this many payload bytes.
        case segmentLengths(SegmentSelector, atMost: Int)
        /// The time from one event to another.
        case delay(from: TimelineEvent, to: TimelineEvent, seconds: Double, tolerance: Tolerance)
        /// A line of the process's output on `stream` matched the pattern (matched as it streamed).
        case output(process: String, OutputPattern, StandardStream)
        /// The process exited (with `exitStatus`, when given) and ran, from its start to its
        /// end, at least `tookAtLeast` and at most `tookAtMost` seconds.
        case processRun(process: String, exitStatus: Int32?, tookAtLeast: Double?, tookAtMost: Double?)
        /// A check written in Swift over the recorded result.
        case check(UserCheck)
        /// How many TCP segments the kernel dropped on `host` for `reason` (any, if nil) (kernel events).
        case kernelDrops(host: String, reason: String?, port: Int?, Comparison)
        /// The selected segment's first transmission (captured) and its retransmissions (the
        /// kernel's instants) at the schedule's offsets (kernel events).
        case retransmissionTimes(SegmentSelector, RetransmissionSchedule, tolerance: Tolerance, givingUp: PeerCall?)
        /// A matching socket stays in `state` for `seconds`, both changes at the kernel's
        /// instants: for states too short to sample (kernel events).
        case staysExactly(SocketSelector, TCPState, seconds: Double, tolerance: Tolerance)
        /// A matching socket, at the kernel's instants, is in `state` by one event and leaves it
        /// on another, measured in the same run (kernel events).
        case staysExactlyAcross(SocketSelector, TCPState, from: TimelineEvent, until: TimelineEvent, tolerance: Tolerance)

        /// Judged only from kernel events: skipped, with the reason, where they cannot be observed.
        public var needsKernelEvents: Bool {
            switch self {
            case .kernelDrops, .retransmissionTimes, .staysExactly, .staysExactlyAcross: true
            default: false
            }
        }
    }

    /// What is checked.
    public let kind: Kind
    /// Where the expectation was written: failures point at this line.
    public let location: SourceLocation

    /// An expectation of `kind`, located at the caller's file and line.
    public init(_ kind: Kind, file: String = #filePath, line: Int = #line) {
        self.kind = kind
        self.location = SourceLocation(file: file, line: line)
    }

    /// This expectation as an element of a scenario.
    public var element: ScenarioElement { .expectation(self) }
}

/// How long a socket should stay in a state.
public enum StayDuration: Sendable, Equatable, CustomStringConvertible {
    /// A fixed duration, in seconds.
    case seconds(Double)
    /// The socket's retransmission timeout as the kernel set it (tcp_info's rto, in the state's
    /// first sample): tcp_rto_min plus the smoothed RTT and its deviation, which a slow machine's
    /// round trips raise above tcp_rto_min.
    case retransmissionTimeout

    public var description: String {
        switch self {
        case .seconds(let seconds): Format.seconds(seconds)
        case .retransmissionTimeout: "one retransmission timeout (tcp_info rto)"
        }
    }
}

/// One call of a peer process: `PeerCall("client", "connect")`.
public struct PeerCall: Sendable, Equatable {
    /// The process's name, as its `Peer` or `Command` step gave it.
    public let process: String
    /// The socket call, as the peer's event lines name it ("connect", "read", …).
    public let call: String

    /// The call `call` of the process `process`.
    public init(_ process: String, _ call: String) {
        self.process = process
        self.call = call
    }
}

/// tcp_info fields an expectation can name.
public enum SocketInfoField: String, Sendable {
    /// tcp_info's snd_mss, advmss and total_retrans.
    case sendMSS = "snd_mss", advertisedMSS = "advmss", totalRetransmits = "total_retrans"
    /// tcp_info's retransmits, backoff and probes (the current timer's counts).
    case retransmits = "retransmits", backoff = "backoff", probes = "probes"

    /// This field's value in a socket's tcp_info.
    public func value(in info: TCPInfo) -> Int64 {
        switch self {
        case .sendMSS: Int64(info.sendMSS)
        case .advertisedMSS: Int64(info.advertisedMSS)
        case .totalRetransmits: Int64(info.totalRetransmits)
        case .retransmits: Int64(info.retransmits)
        case .backoff: Int64(info.backoff)
        case .probes: Int64(info.probes)
        }
    }
}

/// How an observed count compares with the expected one.
public enum Comparison: Sendable, Equatable, CustomStringConvertible {
    /// Exactly, at least or at most this many.
    case equals(Int64), atLeast(Int64), atMost(Int64)
    /// Exactly what the running kernel makes of `quantity`, measured on it when the scenario
    /// runs (`measured` once it is): for behaviour that differs between kernels without a
    /// sysctl or version to compute it from.
    case equalsKernel(KernelQuantity)
    /// `equalsKernel` with the number the kernel gave, or why it could not be measured.
    case measured(KernelQuantity, Result<Int64, KernelError>)

    /// Whether an observed value satisfies the comparison (never for an unmeasured `equalsKernel`).
    public func holds(for value: Int64) -> Bool {
        switch self {
        case .equals(let n): value == n
        case .atLeast(let n): value >= n
        case .atMost(let n): value <= n
        case .equalsKernel: false
        case .measured(_, let n): (try? n.get()) == value
        }
    }

    /// `equalsKernel` measured on the running kernel; any other comparison as it is.
    func measuringKernel() -> Comparison {
        guard case .equalsKernel(let quantity) = self else { return self }
        return .measured(quantity, quantity.onRunningKernel())
    }

    public var description: String {
        switch self {
        case .equals(let n): "\(n)"
        case .atLeast(let n): "at least \(n)"
        case .atMost(let n): "at most \(n)"
        case .equalsKernel(let quantity): "\(quantity)"
        case .measured(let quantity, .success(let n)): "\(n) (\(quantity) on this kernel)"
        case .measured(let quantity, .failure(let error)): "\(quantity) (not measured: \(error))"
        }
    }
}

/// How far an observed duration or instant may stray from the expected one.
/// Timers fire late, never early: a late margin of max(4 ms, 12.5 %) covers the
/// timer wheel's rounding (up to 1/8 of the timeout at the wheel's coarser levels)
/// and scheduling; the 1 ms early margin covers clock reading, not early timers.
/// Sampling uncertainty is not in here: each observed change carries the interval
/// between two samples in which it happened, and checks use that interval.
public struct Tolerance: Sendable, Equatable, Codable, CustomStringConvertible {
    /// How much earlier than expected is still accepted, in seconds.
    public var early: Double
    /// The least lateness accepted, in seconds.
    public var lateMinimum: Double
    /// The lateness accepted as a fraction of the expected value, when above `lateMinimum`.
    public var lateFraction: Double

    /// A tolerance of `early` seconds early and max(`lateMinimum`, `lateFraction` × expected) late.
    public init(early: Double = 0.001, lateMinimum: Double = 0.004, lateFraction: Double = 0.125) {
        self.early = early
        self.lateMinimum = lateMinimum
        self.lateFraction = lateFraction
    }

    /// The default for kernel timers: 1 ms early, max(4 ms, 12.5 %) late.
    public static let timer = Tolerance()

    /// For instants the fault engine stamps: it reads a segment from its queue a
    /// little after the kernel queued it — microseconds when idle, ~15 ms with the
    /// whole catalog running at once on 2 CPUs, 31 ms once in a debug build with 11
    /// scenarios at once (scripts/catalog-repeat) — so an offset measured from a
    /// late-stamped first segment can look early by that much.
    public static let queueStamped = Tolerance(early: 0.05)

    /// The accepted instants or durations around `expected`.
    public func range(around expected: Double) -> ClosedRange<Double> {
        (expected - early)...(expected + max(lateMinimum, expected * lateFraction))
    }

    public var description: String {
        "-\(Format.milliseconds(early))/+max(\(Format.milliseconds(lateMinimum)), \(Format.percent(lateFraction)))"
    }
}

/// Builders for expectations, read as sentences in a scenario.
public enum Expect {
    /// A matching socket reaches `state`, within `seconds` of the start when given.
    public static func socket(_ selector: SocketSelector, reaches state: TCPState, within seconds: Double? = nil,
                              file: String = #filePath, line: Int = #line) -> Expectation {
        Expectation(.reaches(selector, state, within: seconds), file: file, line: line)
    }

    /// Every matching socket passes through `states` in this order (others may come between).
    public static func socket(_ selector: SocketSelector, passesThrough states: [TCPState],
                              file: String = #filePath, line: Int = #line) -> Expectation {
        Expectation(.passesThrough(selector, states), file: file, line: line)
    }

    /// Every matching socket's last observed state is `state`.
    public static func socket(_ selector: SocketSelector, endsIn state: TCPState,
                              file: String = #filePath, line: Int = #line) -> Expectation {
        Expectation(.endsIn(selector, state), file: file, line: line)
    }

    /// No matching socket is ever seen in `state`.
    public static func socket(_ selector: SocketSelector, neverIn state: TCPState,
                              file: String = #filePath, line: Int = #line) -> Expectation {
        Expectation(.neverIn(selector, state), file: file, line: line)
    }

    /// A matching socket stays in `state` for `seconds`, within `tolerance`.
    public static func socket(_ selector: SocketSelector, staysIn state: TCPState, for seconds: Double,
                              tolerance: Tolerance = .timer, file: String = #filePath, line: Int = #line) -> Expectation {
        Expectation(.staysIn(selector, state, .seconds(seconds), tolerance: tolerance), file: file, line: line)
    }

    /// A matching socket stays in `state` for a duration the kernel decided for that socket
    /// (`.retransmissionTimeout`: its tcp_info rto), read from the socket's own samples.
    public static func socket(_ selector: SocketSelector, staysIn state: TCPState, for duration: StayDuration,
                              tolerance: Tolerance = .timer, file: String = #filePath, line: Int = #line) -> Expectation {
        Expectation(.staysIn(selector, state, duration, tolerance: tolerance), file: file, line: line)
    }

    /// How many sockets on `host` (with `port` at either end) are in `state` at the end.
    public static func sockets(on host: String, in state: TCPState, port: Int? = nil, count: Comparison,
                               file: String = #filePath, line: Int = #line) -> Expectation {
        Expectation(.count(host: host, state: state, port: port, count), file: file, line: line)
    }

    /// The first `call` of `process` succeeded (with `result`, e.g. the bytes read, when given).
    public static func peer(_ process: String, succeeds call: String, result: Int64? = nil, after: Double? = nil,
                            before: Double? = nil, tookAtLeast: Double? = nil, tookAtMost: Double? = nil,
                            file: String = #filePath, line: Int = #line) -> Expectation {
        Expectation(.peerEvent(process: process, call: call, errno: nil, result: result, after: after, before: before,
                               tookAtLeast: tookAtLeast, tookAtMost: tookAtMost), file: file, line: line)
    }

    /// The results of every successful `call` of `process`, in order, are exactly `results`
    /// (e.g. the size of each datagram `recvfrom` returned).
    public static func peer(_ process: String, results call: String, are results: [Int64],
                            file: String = #filePath, line: Int = #line) -> Expectation {
        Expectation(.peerResults(process: process, call: call, results), file: file, line: line)
    }

    /// The first `call` of `process` failed with `errno` ("ECONNREFUSED"); `after`/`before` are
    /// seconds since the start, `tookAtMost` seconds since the peer's previous event.
    public static func peer(_ process: String, fails call: String, with errno: String, after: Double? = nil,
                            before: Double? = nil, tookAtLeast: Double? = nil, tookAtMost: Double? = nil,
                            file: String = #filePath, line: Int = #line) -> Expectation {
        Expectation(.peerEvent(process: process, call: call, errno: errno, result: nil, after: after, before: before,
                               tookAtLeast: tookAtLeast, tookAtMost: tookAtMost), file: file, line: line)
    }

    /// A tcp_info field of the matching sockets (their last sample with tcp_info).
    public static func socket(_ selector: SocketSelector, _ field: SocketInfoField, _ comparison: Comparison,
                              file: String = #filePath, line: Int = #line) -> Expectation {
        Expectation(.socketInfo(selector, field, comparison), file: file, line: line)
    }

    /// The process exits with `status`.
    public static func exitStatus(of process: String, is status: Int32, file: String = #filePath, line: Int = #line) -> Expectation {
        Expectation(.exitStatus(process: process, status), file: file, line: line)
    }

    /// How many segments the fault called `name` acted on.
    public static func fault(_ name: String, acted comparison: Comparison,
                             file: String = #filePath, line: Int = #line) -> Expectation {
        Expectation(.faultCount(fault: name, comparison), file: file, line: line)
    }

    /// The fault called `name` acted exactly at the schedule's instants (offsets from
    /// its first act, with `tolerance`), and no more often; with `givingUp`, that
    /// call failed at the schedule's give-up instant.
    public static func fault(_ name: String, actedAt schedule: RetransmissionSchedule, tolerance: Tolerance = .timer,
                             givingUp: PeerCall? = nil, file: String = #filePath, line: Int = #line) -> Expectation {
        Expectation(.faultTimes(fault: name, schedule, tolerance: tolerance, givingUp: givingUp), file: file, line: line)
    }

    /// Every segment the fault called `name` acted on had one sequence number.
    public static func sameSequence(of name: String, file: String = #filePath, line: Int = #line) -> Expectation {
        Expectation(.faultSameSequence(fault: name), file: file, line: line)
    }

    /// A matching socket's timer was restarted while in `state` (e.g. TIME_WAIT's on a repeated FIN).
    public static func socket(_ selector: SocketSelector, restartsTimerIn state: TCPState,
                              file: String = #filePath, line: Int = #line) -> Expectation {
        Expectation(.timerRestarted(selector, state), file: file, line: line)
    }

    /// How many TCP segments the kernel dropped on `host` for `reason`, named as this kernel's
    /// `enum skb_drop_reason` names it without SKB_DROP_REASON_ ("TCP_OLD_ACK", "NO_SOCKET",
    /// "NETFILTER_DROP" …; nil: any reason); `port` at either end, if given. Needs kernel events
    /// (skipped without).
    public static func kernelDrops(on host: String, reason: String? = nil, port: Int? = nil, count: Comparison,
                                   file: String = #filePath, line: Int = #line) -> Expectation {
        Expectation(.kernelDrops(host: host, reason: reason, port: port, count), file: file, line: line)
    }

    /// The first `kind` segment `from` sent (its captured instant) and each retransmission of it
    /// the kernel announced (tcp_retransmit_skb / tcp_retransmit_synack, exact instants) came at
    /// the schedule's offsets, no more and no fewer. Needs kernel events (skipped without).
    public static func retransmissions(_ kind: SegmentKind, from sender: String, port: Int? = nil,
                                       at schedule: RetransmissionSchedule, tolerance: Tolerance = .timer,
                                       givingUp: PeerCall? = nil, file: String = #filePath, line: Int = #line) -> Expectation {
        Expectation(.retransmissionTimes(SegmentSelector(kind, from: sender, port: port), schedule, tolerance: tolerance,
                                         givingUp: givingUp), file: file, line: line)
    }

    /// A matching socket stays in `state` for `seconds` as the kernel announced its changes
    /// (inet_sock_set_state): exact, for states shorter than a sample (SYN_SENT, a child's
    /// SYN_RECV, LAST_ACK on a veth). Needs kernel events (skipped without).
    public static func socket(_ selector: SocketSelector, staysExactlyIn state: TCPState, for seconds: Double,
                              tolerance: Tolerance = .timer, file: String = #filePath, line: Int = #line) -> Expectation {
        Expectation(.staysExactly(selector, state, seconds: seconds, tolerance: tolerance), file: file, line: line)
    }

    /// A matching socket is in `state` (the kernel's instants, as for `staysExactlyIn:for:`) by
    /// `start` and leaves it on `end`, at most the tolerance's late margin after it: a state that
    /// lasts one round trip lasts the round trip measured in the same run ("SYN_SENT from before
    /// the SYN's departure until the SYN-ACK's arrival"), however long the network or a slow
    /// machine made it. How long before `start` the state began is the sender's own work (for
    /// SYN_SENT: choosing a port, building the SYN), reported, not judged. Needs kernel events
    /// (skipped without).
    public static func socket(_ selector: SocketSelector, staysExactlyIn state: TCPState,
                              from start: TimelineEvent, until end: TimelineEvent, tolerance: Tolerance,
                              file: String = #filePath, line: Int = #line) -> Expectation {
        Expectation(.staysExactlyAcross(selector, state, from: start, until: end, tolerance: tolerance), file: file, line: line)
    }

    /// The change of a /proc/net/snmp or netstat counter (named as nstat names it) on `host` over the scenario.
    public static func counter(_ name: String, on host: String, _ comparison: Comparison,
                               file: String = #filePath, line: Int = #line) -> Expectation {
        Expectation(.counter(host: host, name: name, comparison), file: file, line: line)
    }
}

enum Format {
    static func milliseconds(_ seconds: Double) -> String {
        let tenths = (seconds * 10_000).rounded()
        return tenths.truncatingRemainder(dividingBy: 10) == 0 ? "\(Int(tenths / 10)) ms" : "\(tenths / 10) ms"
    }

    /// 0.125 → "12.5 %", 0.1 → "10 %"
    static func percent(_ fraction: Double) -> String {
        let tenths = (fraction * 1000).rounded()
        return tenths.truncatingRemainder(dividingBy: 10) == 0 ? "\(Int(tenths / 10)) %" : "\(tenths / 10) %"
    }

    /// 10_000_000 → "10 Mbit/s"
    static func bitRate(_ bitsPerSecond: Double) -> String {
        for (unit, scale) in [("Gbit/s", 1e9), ("Mbit/s", 1e6), ("kbit/s", 1e3)] where bitsPerSecond >= scale {
            let value = bitsPerSecond / scale
            return value == value.rounded() ? "\(Int(value)) \(unit)" : "\((value * 10).rounded() / 10) \(unit)"
        }
        return "\(Int(bitsPerSecond)) bit/s"
    }

    /// [0, 1, 2.0014] → "0, 1, 2.001 s"
    static func instants(_ values: [Double]) -> String {
        values.map { value in
            let text = String(format: "%.3f", value)
            let trimmed = text.contains(".") ? text.replacingOccurrences(of: #"\.?0+$"#, with: "", options: .regularExpression) : text
            return trimmed == "-0" ? "0" : trimmed
        }.joined(separator: ", ") + " s"
    }

    /// 0.000123456 → "123.5 µs"
    static func microseconds(_ value: Double) -> String { "\((value * 1e7).rounded() / 10) µs" }

    static func seconds(_ value: Double) -> String {
        let rounded = (value * 1000).rounded() / 1000
        return "\(rounded) s"
    }
}
