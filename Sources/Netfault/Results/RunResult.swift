import Foundation
import NetfaultKernel

/// The outcome of `netfault run`: what `--json` writes, what JUnit and the terminal summary render.
/// Times inside a scenario are seconds since that scenario's start.
public struct RunResult: Codable, Sendable, Equatable {
    /// `uname -r` of the kernel the scenarios ran on.
    public var kernel: String
    /// ISO 8601, UTC.
    public var startedAt: String
    /// One result per scenario, in the order asked.
    public var scenarios: [ScenarioResult]

    /// A run on `kernel` started at `startedAt`.
    public init(kernel: String, startedAt: String, scenarios: [ScenarioResult]) {
        self.kernel = kernel
        self.startedAt = startedAt
        self.scenarios = scenarios
    }
}

/// How a scenario ended.
public enum ScenarioStatus: String, Codable, Sendable {
    /// Every expectation held; one did not; or it could not run here (see `skipReason`).
    case passed, failed, skipped
}

/// Why a scenario stopped with an error rather than a verdict on the kernel.
public enum ErrorCause: String, Codable, Sendable {
    /// The scenario cannot run as written: a process could not be started, or a peer
    /// exited before a step that needed it (the CLI exits 2).
    case scenario
    /// This machine could not build or observe it: the kernel refused a link, a queue, a
    /// capture (the CLI exits 3).
    case environment
}

/// One scenario's outcome and everything observed in it.
public struct ScenarioResult: Codable, Sendable, Equatable {
    /// The scenario's ID.
    public var id: String
    /// The scenario's name.
    public var name: String
    /// Passed, failed or skipped.
    public var status: ScenarioStatus
    /// Why it was skipped.
    public var skipReason: String?
    /// Its wall time, in seconds.
    public var durationSeconds: Double
    /// Each expectation's verdict, in the scenario's order.
    public var expectations: [ExpectationResult]
    /// Every socket observed, with its transitions.
    public var sockets: [SocketTimeline]
    /// Every sysctl written into a host's namespace, in order, and its source (the scenario,
    /// `--sysctl`, `--host-sysctls`).
    public var sysctls: [AppliedSysctl] = []
    /// Counter deltas over the scenario, per host: "server.TcpExtListenOverflows".
    public var counters: [String: Int64]
    /// Every process, with its output and events.
    public var processes: [ProcessResult]
    /// Each fault and impairment, the backend that served it ("bpf", "bpf+fq", "nfqueue",
    /// "netem") and, when not the kernel, why.
    public var faults: [FaultPlan.Summary] = []
    /// The seed of the scenario's random impairments (the same run to run); nil without faults.
    public var faultSeed: UInt64?
    /// What the faults did, segment by segment.
    public var faultDecisions: [FaultDecision] = []
    /// The in-kernel fault engines' programs, their runs and run time over the scenario
    /// (counted only inside `ProgramCost.counting`, as `bench faults` runs). Not in the JSON.
    public var faultPrograms: [ProgramCost] = []
    /// The BPF capture's programs (each host's `capture_egress`, the scenario's
    /// `capture_departure`), their runs and run time, counted as `faultPrograms` (`bench
    /// timeline` runs). Not in the JSON.
    public var capturePrograms: [ProgramCost] = []
    /// The CPU seconds the BPF capture's reader threads took (each host's ring, the
    /// departures' ring): its cost in userspace. 0 with libpcap. Not in the JSON.
    public var captureReaderCPUSeconds: Double = 0
    /// Every TCP segment on the test links, in time order (see `SegmentRecord`).
    public var segments: [SegmentRecord] = []
    /// Frames the capture lost because its ring was full (for the BPF capture, its ring's
    /// records: skbs, each one or more segments): the timeline is incomplete when not 0.
    public var captureDropped: Int = 0
    /// Where `segments` came from: "bpf" (a tc egress program, GSO packets cut into segments
    /// in userspace) or "libpcap" (an AF_PACKET socket per namespace: `--pcap`, or the
    /// fallback, see `captureNote`); nil when nothing was captured.
    public var capture: String?
    /// Why the timeline was captured with libpcap although the BPF capture was asked for;
    /// or, with the BPF capture, how many segments kept their packet's tc egress instant
    /// because no departure of their own was recorded (and why, when the departures'
    /// program did not run). nil: as asked, every segment at its own departure.
    public var captureNote: String?
    /// "events+sampling" (full sockets' transitions from kernel events) or "sampling".
    public var observation: String = "sampling"
    /// Why events were not observed, when `observation` is "sampling".
    public var observationNote: String?
    /// Segments the kernel dropped, with its reason (kernel events only).
    public var kernelDrops: [KernelDrop] = []
    /// Retransmissions at the kernel's instants (kernel events only).
    public var retransmissions: [KernelRetransmission] = []
    /// Resets sent and received (kernel events only).
    public var resets: [KernelReset] = []
    /// Kernel events lost (ring buffer full): the lists above are incomplete when not 0.
    public var eventsLost: Int = 0
    /// The kernel's tick and how far it lagged the clock at worst during the run: timer
    /// schedules allow what it lagged beyond a tick early.
    public var kernelTick: KernelTickLag?
    /// An error that stopped the scenario before its expectations could be checked.
    public var error: String?
    /// Whose error it is; nil when the error is an observation (a wait that ran out).
    public var errorCause: ErrorCause?

    /// A scenario's result.
    public init(id: String, name: String, status: ScenarioStatus, skipReason: String? = nil,
                durationSeconds: Double = 0, expectations: [ExpectationResult] = [],
                sockets: [SocketTimeline] = [], counters: [String: Int64] = [:],
                processes: [ProcessResult] = [], error: String? = nil) {
        self.id = id
        self.name = name
        self.status = status
        self.skipReason = skipReason
        self.durationSeconds = durationSeconds
        self.expectations = expectations
        self.sockets = sockets
        self.counters = counters
        self.processes = processes
        self.error = error
    }

    enum CodingKeys: String, CodingKey {
        case id, name, status, skipReason, durationSeconds, expectations, sysctls, sockets, counters, processes, faults,
             faultSeed, faultDecisions, segments, captureDropped, capture, captureNote, observation, observationNote, kernelDrops, retransmissions,
             resets, eventsLost, kernelTick, error, errorCause
    }

    /// Results written before faults and captures existed have no `faults`, `faultDecisions`, `segments`.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(String.self, forKey: .id)
        name = try c.decode(String.self, forKey: .name)
        status = try c.decode(ScenarioStatus.self, forKey: .status)
        skipReason = try c.decodeIfPresent(String.self, forKey: .skipReason)
        durationSeconds = try c.decode(Double.self, forKey: .durationSeconds)
        expectations = try c.decode([ExpectationResult].self, forKey: .expectations)
        sysctls = try c.decodeIfPresent([AppliedSysctl].self, forKey: .sysctls) ?? []
        sockets = try c.decode([SocketTimeline].self, forKey: .sockets)
        counters = try c.decode([String: Int64].self, forKey: .counters)
        processes = try c.decode([ProcessResult].self, forKey: .processes)
        faults = try c.decodeIfPresent([FaultPlan.Summary].self, forKey: .faults) ?? []
        faultSeed = try c.decodeIfPresent(UInt64.self, forKey: .faultSeed)
        faultDecisions = try c.decodeIfPresent([FaultDecision].self, forKey: .faultDecisions) ?? []
        segments = try c.decodeIfPresent([SegmentRecord].self, forKey: .segments) ?? []
        captureDropped = try c.decodeIfPresent(Int.self, forKey: .captureDropped) ?? 0
        capture = try c.decodeIfPresent(String.self, forKey: .capture)
        captureNote = try c.decodeIfPresent(String.self, forKey: .captureNote)
        observation = try c.decodeIfPresent(String.self, forKey: .observation) ?? "sampling"
        observationNote = try c.decodeIfPresent(String.self, forKey: .observationNote)
        kernelDrops = try c.decodeIfPresent([KernelDrop].self, forKey: .kernelDrops) ?? []
        retransmissions = try c.decodeIfPresent([KernelRetransmission].self, forKey: .retransmissions) ?? []
        resets = try c.decodeIfPresent([KernelReset].self, forKey: .resets) ?? []
        eventsLost = try c.decodeIfPresent(Int.self, forKey: .eventsLost) ?? 0
        kernelTick = try c.decodeIfPresent(KernelTickLag.self, forKey: .kernelTick)
        error = try c.decodeIfPresent(String.self, forKey: .error)
        errorCause = try c.decodeIfPresent(ErrorCause.self, forKey: .errorCause)
    }

    /// `skipReason` is always present (null unless skipped), as the format promises.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(name, forKey: .name)
        try c.encode(status, forKey: .status)
        try c.encode(skipReason, forKey: .skipReason)
        try c.encode(durationSeconds, forKey: .durationSeconds)
        try c.encode(expectations, forKey: .expectations)
        try c.encode(sysctls, forKey: .sysctls)
        try c.encode(sockets, forKey: .sockets)
        try c.encode(counters, forKey: .counters)
        try c.encode(processes, forKey: .processes)
        try c.encode(faults, forKey: .faults)
        try c.encodeIfPresent(faultSeed, forKey: .faultSeed)
        try c.encode(faultDecisions, forKey: .faultDecisions)
        try c.encode(segments, forKey: .segments)
        try c.encode(captureDropped, forKey: .captureDropped)
        try c.encodeIfPresent(capture, forKey: .capture)
        try c.encodeIfPresent(captureNote, forKey: .captureNote)
        try c.encode(observation, forKey: .observation)
        try c.encodeIfPresent(observationNote, forKey: .observationNote)
        try c.encode(kernelDrops, forKey: .kernelDrops)
        try c.encode(retransmissions, forKey: .retransmissions)
        try c.encode(resets, forKey: .resets)
        try c.encode(eventsLost, forKey: .eventsLost)
        try c.encodeIfPresent(kernelTick, forKey: .kernelTick)
        try c.encodeIfPresent(error, forKey: .error)
        try c.encodeIfPresent(errorCause, forKey: .errorCause)
    }
}

/// One expectation's verdict, with what was expected and what was observed.
public struct ExpectationResult: Codable, Sendable, Equatable {
    /// What the expectation checks.
    public var description: String
    /// Whether it held (true too when skipped, with `skipReason`).
    public var passed: Bool
    /// `Scenarios/X.swift:23`
    public var location: String
    /// What was expected, in words and numbers.
    public var expected: String
    /// What was observed, in words and numbers.
    public var observed: String
    /// The numbers behind `observed`, named, where the evaluator has them (instants,
    /// durations, counts): what a sweep tabulates and plots against the swept value, and what
    /// runs on different kernels are compared by.
    public var observedValues: [ObservedValue]
    /// How far two readings of one timer may lie apart and still be the same behaviour (the
    /// expectation's own tolerance); nil when the values must match exactly (counts).
    public var tolerance: Tolerance?
    /// Why it was not judged (it needs kernel events this machine cannot give); it does not fail.
    public var skipReason: String?

    /// A verdict on one expectation.
    public init(description: String, passed: Bool, location: String, expected: String, observed: String,
                observedValues: [ObservedValue] = [], tolerance: Tolerance? = nil, skipReason: String? = nil) {
        self.description = description
        self.passed = passed
        self.location = location
        self.expected = expected
        self.observed = observed
        self.observedValues = observedValues
        self.tolerance = tolerance
        self.skipReason = skipReason
    }

    enum CodingKeys: String, CodingKey { case description, passed, location, expected, observed, observedValues, tolerance, skipReason }

    /// Results written before `observedValues` existed have none.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        description = try c.decode(String.self, forKey: .description)
        passed = try c.decode(Bool.self, forKey: .passed)
        location = try c.decode(String.self, forKey: .location)
        expected = try c.decode(String.self, forKey: .expected)
        observed = try c.decode(String.self, forKey: .observed)
        observedValues = try c.decodeIfPresent([ObservedValue].self, forKey: .observedValues) ?? []
        tolerance = try c.decodeIfPresent(Tolerance.self, forKey: .tolerance)
        skipReason = try c.decodeIfPresent(String.self, forKey: .skipReason)
    }

    /// `Scenarios/X.swift:23: expected …, observed …` (packetdrill style).
    public var failureMessage: String { "\(location): \(description): expected \(expected), observed \(observed)" }
}

/// One number an expectation observed: "gives up" 19.568 s, "count" 8.
public struct ObservedValue: Codable, Sendable, Equatable {
    /// What the number is ("count", "last", "gives up", "delta").
    public var name: String
    /// The number.
    public var value: Double
    /// "s", "bytes", or nil for a plain count.
    public var unit: String?

    /// The number `value` called `name`, in `unit` ("s") when it has one.
    public init(_ name: String, _ value: Double, unit: String? = nil) {
        self.name = name
        self.value = value
        self.unit = unit
    }
}

/// One socket's states over time, as the JSON lists it.
public struct SocketTimeline: Codable, Sendable, Equatable {
    /// The host whose namespace it is in.
    public var host: String
    /// Local address:port.
    public var local: String
    /// Remote address:port.
    public var remote: String
    /// Its state changes, in time order.
    public var transitions: [StateTransition]

    /// A socket's timeline.
    public init(host: String, local: String, remote: String, transitions: [StateTransition]) {
        self.host = host
        self.local = local
        self.remote = remote
        self.transitions = transitions
    }
}

/// One state change of a socket.
public struct StateTransition: Codable, Sendable, Equatable {
    /// Seconds since the scenario's start.
    public var time: Double
    /// The kernel's spelling: SYN_SENT, ESTABLISHED, TIME_WAIT, CLOSE …
    public var state: String
    /// "event" (the kernel's exact instant) or "sample" (seen by sampling, up to one interval late).
    public var source: String

    /// A change to `state` (as the kernel spells it) at `time`, from an "event" or a "sample".
    public init(time: Double, state: String, source: String = "sample") {
        self.time = time
        self.state = state
        self.source = source
    }

    enum CodingKeys: String, CodingKey { case time, state, source }

    /// Results written before kernel events have no `source`: they were sampled.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        time = try c.decode(Double.self, forKey: .time)
        state = try c.decode(String.self, forKey: .state)
        source = try c.decodeIfPresent(String.self, forKey: .source) ?? "sample"
    }
}

/// A process's record, as the JSON lists it.
public struct ProcessResult: Codable, Sendable, Equatable {
    /// The host it ran in.
    public var host: String
    /// Its name in the scenario.
    public var name: String
    /// Its command line.
    public var command: String
    /// Exit code, or 128 + signal; null if it could not be reaped.
    public var exitStatus: Int32?
    /// When it started, in seconds since the scenario's start.
    public var startTime: Double
    /// When it ended; nil if it never did.
    public var endTime: Double?
    /// True when the process was still running at the end and netfault stopped it.
    public var stoppedAtEnd: Bool
    /// A peer's socket calls, one event each.
    public var events: [PeerEvent]
    /// Its standard output, bounded.
    public var stdout: ProcessOutput
    /// Its standard error, bounded.
    public var stderr: ProcessOutput

    /// A process's record.
    public init(host: String, name: String, command: String, exitStatus: Int32?, startTime: Double,
                endTime: Double?, stoppedAtEnd: Bool = false, events: [PeerEvent],
                stdout: ProcessOutput = ProcessOutput(), stderr: ProcessOutput = ProcessOutput()) {
        self.host = host
        self.name = name
        self.command = command
        self.exitStatus = exitStatus
        self.startTime = startTime
        self.endTime = endTime
        self.stoppedAtEnd = stoppedAtEnd
        self.events = events
        self.stdout = stdout
        self.stderr = stderr
    }

    /// Seconds from start to end; nil if it never ended.
    public var duration: Double? { endTime.map { $0 - startTime } }

    enum CodingKeys: String, CodingKey {
        case host, name, command, exitStatus, startTime, endTime, stoppedAtEnd, events, stdout, stderr
    }

    /// Results written before output was bounded have `stderr` as a string and no `stdout`.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        host = try c.decode(String.self, forKey: .host)
        name = try c.decode(String.self, forKey: .name)
        command = try c.decode(String.self, forKey: .command)
        exitStatus = try c.decodeIfPresent(Int32.self, forKey: .exitStatus)
        startTime = try c.decode(Double.self, forKey: .startTime)
        endTime = try c.decodeIfPresent(Double.self, forKey: .endTime)
        stoppedAtEnd = try c.decodeIfPresent(Bool.self, forKey: .stoppedAtEnd) ?? false
        events = try c.decode([PeerEvent].self, forKey: .events)
        stdout = try Self.decodeOutput(c, .stdout)
        stderr = try Self.decodeOutput(c, .stderr)
    }

    private static func decodeOutput(_ c: KeyedDecodingContainer<CodingKeys>, _ key: CodingKeys) throws -> ProcessOutput {
        if let text = try? c.decodeIfPresent(String.self, forKey: key) { return ProcessOutput(whole: text) }
        return try c.decodeIfPresent(ProcessOutput.self, forKey: key) ?? ProcessOutput()
    }
}

extension ScenarioResult {
    /// The process started under this name, if one was.
    public func process(_ name: String) -> ProcessResult? { processes.first { $0.name == name } }
}

/// One JSON line a peer printed (or one line of another program's stdout).
public struct PeerEvent: Codable, Sendable, Equatable {
    /// Seconds since the scenario's start.
    public var time: Double
    /// The call ("connect", "read", "start", "exit", …).
    public var call: String
    /// Its return value (-1 on failure).
    public var result: Int64
    /// The errno's name on failure ("ECONNREFUSED").
    public var errno: String?
    /// The socket's local address:port, when known.
    public var local: String?
    /// The socket's remote address:port, when known.
    public var remote: String?
    /// True when a read returned end of file.
    public var eof: Bool?

    /// One event of a peer.
    public init(time: Double, call: String, result: Int64, errno: String? = nil,
                local: String? = nil, remote: String? = nil, eof: Bool? = nil) {
        self.time = time
        self.call = call
        self.result = result
        self.errno = errno
        self.local = local
        self.remote = remote
        self.eof = eof
    }
}
