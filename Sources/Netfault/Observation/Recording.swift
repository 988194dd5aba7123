import NetfaultKernel

/// Everything observed during one scenario; expectations are judged against it.
public struct Recording: Sendable {
    /// Every socket seen, with its transitions.
    public var sockets: [ObservedSocket] = []
    /// Every process started, with its events and output.
    public var processes: [ObservedProcess] = []
    /// Counter deltas per host.
    public var counters: [String: [String: Int64]] = [:]
    /// What the faults did, in the order they decided.
    public var faultDecisions: [FaultDecision] = []
    /// Every TCP segment the hosts' captures saw, joined with the fault decisions, in time order.
    public var segments: [ObservedSegment] = []
    /// Sysctls the expectations compute schedules from, per host, as read at the start
    /// (a sysctl the kernel lacks is absent).
    public var sysctls: [String: [String: Int]] = [:]
    /// Seconds from the start to the end of the steps.
    public var duration: Double = 0
    /// How often sockets were sampled, for the early margin of timing checks.
    public var sampleInterval: Double = 0.001
    /// The kernel's tick and the most it lagged the clock while the scenario ran (read at each
    /// sample): how early a kernel timer can fire (see `KernelTick`). nil when not measured.
    public var kernelTick: KernelTickLag?
    /// Whether full sockets' transitions came from kernel events, or sampling alone (and why).
    public var observation: Observation = .sampling(reason: "kernel events were not asked for")
    /// Segments the kernel dropped on the hosts, with its reason (from kfree_skb).
    public var kernelDrops: [KernelDrop] = []
    /// Each retransmission the kernel announced, at its exact instant.
    public var retransmissions: [KernelRetransmission] = []
    /// Resets sent and received, from the kernel's tracepoints.
    public var resets: [KernelReset] = []
    /// Events lost (ring buffer full): when not 0, the event lists are incomplete.
    public var eventsLost: Int = 0
    /// The drop reasons this kernel names (enum skb_drop_reason; none before 5.17), to tell
    /// a reason it lacks from one that did not happen; nil when unknown.
    public var dropReasonNames: Set<String>?

    /// An empty recording.
    public init() {}

    /// The sockets the selector matches.
    public func sockets(matching selector: SocketSelector) -> [ObservedSocket] {
        sockets.filter { $0.matches(selector) }
    }

    /// The process of this name, if one was started.
    public func process(_ name: String) -> ObservedProcess? { processes.first { $0.name == name } }
}

/// A socket's identity across samples and events: its host and 4-tuple.
struct SocketKey: Hashable {
    let host: String
    let local: Endpoint
    let remote: Endpoint
}

/// One socket's life as the sampler saw it, keyed by host and 4-tuple.
public struct ObservedSocket: Sendable {
    /// The host whose namespace it is in.
    public let host: String
    /// Its local address and port.
    public let local: Endpoint
    /// Its remote address and port (port 0 for a listener).
    public let remote: Endpoint
    /// State changes with their times; a socket that disappears ends in CLOSE.
    public var transitions: [ObservedTransition]
    /// Samples where anything netfault reports changed (state, retransmits, timer, tcp_info).
    public var samples: [(time: Double, record: SocketRecord)]

    /// Whether it is a listener.
    public var isListener: Bool { remote.port == 0 }
    /// Which socket this is: its host and 4-tuple.
    var key: SocketKey { SocketKey(host: host, local: local, remote: remote) }
    /// The last state seen.
    public var lastState: TCPState? { transitions.last?.state }

    /// Whether the selector matches this socket.
    public func matches(_ selector: SocketSelector) -> Bool {
        guard host == selector.host else { return false }
        switch selector.role {
        case .listener: return isListener && local.port == selector.port
        case .connection: return !isListener && (local.port == selector.port || remote.port == selector.port)
        }
    }

    /// "client 10.77.1.1:43210 → 10.77.1.2:8080"
    public var label: String { "\(host) \(local) → \(remote)" }
}

/// A state change. Seen by sampling, it happened after `earliest` (the previous sample,
/// which did not show it yet) and no later than `time` (the sample that did); announced
/// by the kernel (`source` .event), both are its exact instant.
public struct ObservedTransition: Sendable, Equatable {
    /// When the change was seen, in seconds since the start.
    public let time: Double
    /// The earliest it can have happened (the previous sample's time; `time` for an event).
    public let earliest: Double
    /// The state entered.
    public let state: TCPState
    /// A kernel event or a sample.
    public let source: TransitionSource

    /// A change to `state` seen at `time`, no earlier than `earliest`.
    public init(time: Double, earliest: Double? = nil, state: TCPState, source: TransitionSource = .sample) {
        self.time = time
        self.earliest = earliest ?? time
        self.state = state
        self.source = source
    }
}

/// Where a transition comes from: the kernel's inet_sock_set_state tracepoint (exact), or
/// sock_diag sampling (request sockets, TIME_WAIT sockets, and all when events are off).
public enum TransitionSource: String, Codable, Sendable {
    /// From a kernel event, or from a sample.
    case event, sample
}

/// How a run observed sockets: `events+sampling`, or `sampling` alone with the reason.
public enum Observation: Sendable, Equatable {
    /// Kernel events and sampling.
    case eventsAndSampling
    /// Sampling alone, and why.
    case sampling(reason: String)

    /// The JSON spelling: "events+sampling" or "sampling".
    public var name: String {
        switch self {
        case .eventsAndSampling: "events+sampling"
        case .sampling: "sampling"
        }
    }

    /// Why events were not observed, when they were not.
    public var withoutEventsReason: String? {
        if case .sampling(let reason) = self { return reason }
        return nil
    }
}

/// A process's record: its events (peers print one JSON line per socket call), its bounded
/// output, and the first line that matched each pattern the scenario watches for.
public struct ObservedProcess: Sendable {
    /// The process's name.
    public let name: String
    /// The host it ran in.
    public let host: String
    /// Its command line, as shown in reports.
    public let command: String
    /// The peer's events, one per socket call (none for a Command).
    public var events: [PeerEvent]
    /// Its exit status; nil when it was stopped or killed by a signal.
    public var exitStatus: Int32?
    /// When it started, in seconds since the start.
    public var startTime: Double
    /// When it ended; nil if it never did.
    public var endTime: Double?
    /// Still running at the end: netfault stopped it.
    public var stoppedAtEnd: Bool
    /// Its standard output, bounded.
    public var stdout: ProcessOutput
    /// Its standard error, bounded.
    public var stderr: ProcessOutput
    /// The first line that matched each watched pattern.
    public var outputMatches: [OutputMatch]

    /// A process's record.
    public init(name: String, host: String, command: String, events: [PeerEvent] = [], exitStatus: Int32? = nil,
                startTime: Double = 0, endTime: Double? = nil, stoppedAtEnd: Bool = false,
                stdout: ProcessOutput = ProcessOutput(), stderr: ProcessOutput = ProcessOutput(),
                outputMatches: [OutputMatch] = []) {
        self.name = name
        self.host = host
        self.command = command
        self.events = events
        self.exitStatus = exitStatus
        self.startTime = startTime
        self.endTime = endTime
        self.stoppedAtEnd = stoppedAtEnd
        self.stdout = stdout
        self.stderr = stderr
        self.outputMatches = outputMatches
    }

    /// Its standard output or standard error.
    public func output(_ stream: StandardStream) -> ProcessOutput { stream == .stdout ? stdout : stderr }

    /// The first line of `stream` that matched `pattern`, if the pattern was watched and matched.
    public func firstMatch(of pattern: OutputPattern, in stream: StandardStream) -> OutputMatch? {
        outputMatches.first { $0.pattern == pattern && $0.stream == stream }
    }
}

/// The first line of a stream that matched a watched pattern, and when it was read.
public struct OutputMatch: Sendable, Equatable {
    /// The pattern that matched.
    public let pattern: OutputPattern
    /// The stream the line came on.
    public let stream: StandardStream
    /// Seconds since the scenario's start.
    public let time: Double
    /// The line, without its newline, at most 64 KiB.
    public let line: String

    /// A match of `pattern` on `stream` by `line` at `time`.
    public init(pattern: OutputPattern, stream: StandardStream, time: Double, line: String) {
        self.pattern = pattern
        self.stream = stream
        self.time = time
        self.line = line
    }
}

/// The kernel's tick length and the largest lag of its tick behind the clock, in seconds.
public struct KernelTickLag: Sendable, Codable, Equatable {
    /// The kernel's tick (1/HZ), in seconds.
    public var length: Double
    /// The largest lag of the kernel's coarse clock behind CLOCK_MONOTONIC seen, in seconds.
    public var largestLag: Double

    /// A tick of `length` seconds that lagged `largestLag` seconds at worst.
    public init(length: Double, largestLag: Double) {
        self.length = length
        self.largestLag = largestLag
    }

    /// How early a kernel timer armed during the run could fire: by what the tick lagged
    /// beyond its own length (the timer wheel rounds expiries up by a tick).
    public var timerEarliness: Double { max(0, largestLag - length) }
}
