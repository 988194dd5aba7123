import Foundation
import NetfaultKernel

/// How to run scenarios.
public struct RunOptions: Sendable {
    /// Mount each namespace under /run/netns/nf-<run>-<host> while it runs.
    public var pin: Bool
    /// Identifies this orchestrator's objects (pins) among others on the machine.
    public var runID: String
    /// How often sockets are sampled, in seconds.
    public var sampleInterval: Double
    /// Where to write each host's capture: DIR/<scenario id>/<host>.pcapng.
    public var pcapDirectory: String?
    /// Record the packet timeline (off only to measure what recording costs).
    public var capture: Bool
    /// How the timeline is captured when no pcap files are asked for (with `pcapDirectory`
    /// it is always libpcap, which keeps whole packets).
    public var captureMethod: CaptureMethod = .bpf
    /// Gets every host's frames and the realtime zero they are timed from, before the
    /// timeline is built: `bench timeline` compares them with tcpdump's.
    var framesObserver: (@Sendable (_ captures: [TimelineBuilder.HostCapture], _ realtimeZero: Int64) -> Void)?
    /// Where to write each process's complete output, streamed while it runs:
    /// DIR/<scenario id>/<process>.stdout and .stderr.
    public var artifactsDirectory: String?
    /// Observe the kernel's TCP events where the kernel allows (off: sampling alone).
    public var events: Bool
    /// Which engine runs segment faults (`--fault-backend`): in the kernel where it can, or forced.
    public var faultBackend: FaultBackendChoice

    /// Options; the defaults are `netfault run`'s.
    public init(pin: Bool = false, runID: String = RunOptions.defaultRunID(), sampleInterval: Double = 0.001,
                pcapDirectory: String? = nil, capture: Bool = true, artifactsDirectory: String? = nil,
                events: Bool = true, faultBackend: FaultBackendChoice = .auto) {
        self.pin = pin
        self.runID = runID
        self.sampleInterval = sampleInterval
        self.pcapDirectory = pcapDirectory
        self.capture = capture
        self.artifactsDirectory = artifactsDirectory
        self.events = events
        self.faultBackend = faultBackend
    }

    /// This process's ID, as a run ID.
    public static func defaultRunID() -> String { String(ProcessInfo.processInfo.processIdentifier) }
}

/// Runs one scenario: validate, build, observe, run the steps, evaluate, tear down.
public enum ScenarioRunner {
    /// Validation that needs no kernel, then the sysctl probe (which needs root), then
    /// whether the forced fault backend can serve every fault. Throws `InvalidScenario`
    /// (exit 2), `EnvironmentError` (exit 3) or `UnservableFaults` (exit 4).
    public static func check(_ scenario: Scenario, faultBackend: FaultBackendChoice = .auto) throws {
        let errors = ScenarioValidator.validate(scenario)
        if !errors.isEmpty { throw InvalidScenario(scenarioID: scenario.id, errors: errors) }
        try EnvironmentCheck.requirePrivileges()
        try EnvironmentCheck.requireCoreFeatures()
        let kernelErrors = try SysctlProbe.check(scenario)
        if !kernelErrors.isEmpty { throw InvalidScenario(scenarioID: scenario.id, errors: kernelErrors) }
        guard let plan = faultPlan(scenario, network: NetworkPlan(scenario), faultBackend: faultBackend) else { return }
        if faultBackend == .bpf, !FaultBackends.current.tcBPF {
            throw EnvironmentError("--fault-backend bpf: \(FaultBackends.current.tcBPFProblem ?? "no tc BPF")")
        }
        if !plan.errors.isEmpty { throw UnservableFaults(scenarioID: scenario.id, errors: plan.errors) }
    }

    /// Where a scenario's faults run on this kernel; nil when it has none.
    static func faultPlan(_ scenario: Scenario, network: NetworkPlan, faultBackend: FaultBackendChoice) -> FaultPlan? {
        scenario.faults.isEmpty && scenario.impairments.isEmpty ? nil
            : FaultPlan(scenario, network: network, support: FaultBackends.current.support, force: faultBackend)
    }

    /// Runs a checked scenario to its result. Blocks the calling thread; errors
    /// while building or running become a failed result that says what happened.
    public static func run(_ scenario: Scenario, options: RunOptions = RunOptions(),
                           onNetworkReady: ((Network) -> Void)? = nil) -> ScenarioResult {
        let started = MonotonicClock.now()
        var result = ScenarioResult(id: scenario.id, name: scenario.name, status: .failed)
        let plan = NetworkPlan(scenario)
        let faultPlan = faultPlan(scenario, network: plan, faultBackend: options.faultBackend)
        result.faults = faultPlan?.summary ?? []
        if faultPlan != nil { result.faultSeed = StepExecution.seed(scenario.id) }
        if let errors = faultPlan?.errors, !errors.isEmpty {
            // `check` stops these before a run; a library caller that skipped it gets them here.
            result.error = UnservableFaults(scenarioID: scenario.id, errors: errors).description
            result.errorCause = .scenario
            return result
        }
        result.sysctls = scenario.appliedSysctls
        if let reason = faultPlan.flatMap(skipReason) {
            result.status = .skipped
            result.skipReason = reason
            return result
        }
        var network: Network?
        var execution: StepExecution?
        defer {
            execution?.terminateAll()
            network?.tearDown()
        }
        do {
            network = try Network(plan: plan, pinPrefix: options.pin ? "nf-\(options.runID)-\(scenario.id.lowercased())-" : nil,
                                  singleSegmentInterfaces: faultPlan?.singleSegmentInterfaces ?? [])
            onNetworkReady?(network!)
            let t0 = MonotonicClock.now()
            let run = try StepExecution(scenario: scenario, plan: plan, network: network!, faults: faultPlan, t0: t0,
                                        options: options)
            execution = run
            let outcome = run.perform()
            let recording = try run.finish()
            result.sockets = recording.sockets.map {
                SocketTimeline(host: $0.host, local: $0.local.description, remote: $0.remote.description,
                               transitions: $0.transitions.map {
                                   StateTransition(time: $0.time, state: $0.state.rawValue, source: $0.source.rawValue)
                               })
            }
            result.observation = recording.observation.name
            result.observationNote = recording.observation.withoutEventsReason
            result.kernelDrops = recording.kernelDrops
            result.retransmissions = recording.retransmissions
            result.resets = recording.resets
            result.eventsLost = recording.eventsLost
            result.kernelTick = recording.kernelTick
            result.counters = recording.counters.flatMapValues()
            result.processes = recording.processes.map {
                ProcessResult(host: $0.host, name: $0.name, command: $0.command, exitStatus: $0.exitStatus,
                              startTime: $0.startTime, endTime: $0.endTime, stoppedAtEnd: $0.stoppedAtEnd, events: $0.events,
                              stdout: $0.stdout, stderr: $0.stderr)
            }
            result.faultDecisions = recording.faultDecisions
            result.segments = SegmentRecord.records(recording.segments)
            result.captureDropped = run.captureDropped
            result.capture = run.captureSource
            result.captureNote = run.captureNote
            result.faultPrograms = run.faultPrograms
            result.capturePrograms = run.capturePrograms
            result.captureReaderCPUSeconds = run.captureReaderCPUSeconds
            // Last, so user-written checks see everything recorded.
            result.expectations = ExpectationEvaluator.evaluate(scenario.expectations.map { $0.measuringKernel() }, against: recording, result: result)
            if let outcome {
                result.error = outcome.message
                result.errorCause = outcome.cause
            } else if let faultFailure = run.faultFailure {
                result.error = faultFailure
                result.errorCause = .environment
            } else if let artifactFailure = run.artifactFailure {
                result.error = artifactFailure
                result.errorCause = .environment
            }
            result.status = result.error == nil && result.expectations.allSatisfy(\.passed) ? .passed : .failed
        } catch {
            // Building the network, starting the observers or reading them back: the machine's part.
            result.error = "\(error)"
            result.errorCause = .environment
            result.status = .failed
        }
        result.durationSeconds = Double(MonotonicClock.now() - started) / 1e9
        return result
    }

    /// Why a scenario's faults cannot run on this kernel, if they cannot: skipped, never failed.
    private static func skipReason(_ plan: FaultPlan) -> String? {
        if let reason = plan.skipReason { return reason }
        if !plan.queueHosts.isEmpty, let problem = FaultBackends.current.queueProblem { return problem }
        return nil
    }
}

private extension Dictionary where Key == String, Value == [String: Int64] {
    /// {"server": {"TcpExtListenOverflows": 3}} → {"server.TcpExtListenOverflows": 3}
    func flatMapValues() -> [String: Int64] {
        var result: [String: Int64] = [:]
        for (host, counters) in self {
            for (name, value) in counters { result["\(host).\(name)"] = value }
        }
        return result
    }
}

/// Where the timeline's frames come from.
public enum CaptureMethod: String, Sendable, CaseIterable {
    /// A tc program at every interface's egress writing headers to a ring, one record per
    /// skb, GSO packets cut into segments in userspace (bpf/capture.bpf.c, `GSOSegments`);
    /// libpcap where it does not load, with the reason in the result's `captureNote`.
    case bpf
    /// An AF_PACKET socket per namespace (libpcap): every frame cloned; whole packets possible.
    case libpcap
}
