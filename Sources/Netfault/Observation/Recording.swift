import NetfaultKernel

/// Everything observed during one scenario; expectations are judged against it.
public struct Recording: Sendable {
    public var sockets: [ObservedSocket] = []
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

    public init() {}

    public func sockets(matching selector: SocketSelector) -> [ObservedSocket] {
        sockets.filter { $0.matches(selector) }
    }

    public func process(_ name: String) -> ObservedProcess? { processes.first { $0.name == name } }
}

/// One socket's life as the sampler saw it, keyed by host and 4-tuple.
public struct ObservedSocket: Sendable {
    public let host: String
    public let local: Endpoint
    public let remote: Endpoint
    /// State changes with their times; a socket that disappears ends in CLOSE.
    public var transitions: [ObservedTransition]
    /// Samples where anything netfault reports changed (state, retransmits, timer, tcp_info).
    public var samples: [(time: Double, record: SocketRecord)]

    public var isListener: Bool { remote.port == 0 }
    public var lastState: TCPState? { transitions.last?.state }

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

/// A state change seen by sampling: it happened after `earliest` (the previous
/// sample, which did not show it yet) and no later than `time` (the sample that did).
public struct ObservedTransition: Sendable, Equatable {
    public let time: Double
    public let earliest: Double
    public let state: TCPState

    public init(time: Double, earliest: Double? = nil, state: TCPState) {
        self.time = time
        self.earliest = earliest ?? time
        self.state = state
    }
}

/// A process's record: its events (peers print one JSON line per socket call), its bounded
/// output, and the first line that matched each pattern the scenario watches for.
public struct ObservedProcess: Sendable {
    public let name: String
    public let host: String
    public let command: String
    public var events: [PeerEvent]
    public var exitStatus: Int32?
    public var startTime: Double
    public var endTime: Double?
    /// Still running at the end: netfault stopped it.
    public var stoppedAtEnd: Bool
    public var stdout: ProcessOutput
    public var stderr: ProcessOutput
    public var outputMatches: [OutputMatch]

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

    public func output(_ stream: StandardStream) -> ProcessOutput { stream == .stdout ? stdout : stderr }

    /// The first line of `stream` that matched `pattern`, if the pattern was watched and matched.
    public func firstMatch(of pattern: OutputPattern, in stream: StandardStream) -> OutputMatch? {
        outputMatches.first { $0.pattern == pattern && $0.stream == stream }
    }
}

/// The first line of a stream that matched a watched pattern, and when it was read.
public struct OutputMatch: Sendable, Equatable {
    public let pattern: OutputPattern
    public let stream: StandardStream
    /// Seconds since the scenario's start.
    public let time: Double
    /// The line, without its newline, at most 64 KiB.
    public let line: String

    public init(pattern: OutputPattern, stream: StandardStream, time: Double, line: String) {
        self.pattern = pattern
        self.stream = stream
        self.time = time
        self.line = line
    }
}
