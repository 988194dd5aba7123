import Foundation
import NetfaultKernel

/// The run phase of one scenario: starts processes, waits, and collects what
/// the sampler, the processes and the counters recorded.
final class StepExecution {
    private let scenario: Scenario
    private let plan: NetworkPlan
    private let network: Network
    private let t0: Int64
    private let sampler: SocketSampler
    private let sampleInterval: Double
    private var counterReaders: [String: NetCounterReader] = [:]
    private var countersBefore: [String: [String: Int64]] = [:]
    private var started: [StartedProcess] = []
    /// Per process: the output patterns the scenario looks for.
    private let watchedPatterns: [String: Set<WatchedPattern>]
    /// DIR/<scenario id> under --artifacts, made when the first process starts.
    private let artifactDirectory: String?
    private var faultRuntime: FaultRuntime?
    private var sysctls: [String: [String: Int]] = [:]
    /// Set when the fault engine stopped on an error: the faults did not all run.
    private(set) var faultFailure: String?
    private var faultDecisions: [FaultDecision] = []
    /// The in-kernel fault engines' programs: runs and run time (counted while BPF stats are on).
    private(set) var faultPrograms: [ProgramCost] = []
    /// The BPF capture's programs, their runs and run time (BPF stats, when on).
    private(set) var capturePrograms: [ProgramCost] = []
    /// The BPF capture's reader threads' CPU seconds (0 with libpcap).
    private(set) var captureReaderCPUSeconds = 0.0
    private var captures: [(host: String, capture: PacketCapture)] = []
    /// The timeline's capture from tc programs (the default); `captures` when libpcap is used.
    private var bpfCaptures: [(host: String, capture: BPFCapture)] = []
    /// Each segment's departure for every host's BPF capture: one tracepoint program for the scenario.
    private var departureRecorder: DepartureRecorder?
    /// Why the timeline was captured with libpcap although BPF was asked for (nil: as asked).
    private(set) var captureNote: String?
    /// "bpf" or "libpcap": where the timeline comes from (nil: no capture).
    private(set) var captureSource: String?
    private let framesObserver: (@Sendable ([TimelineBuilder.HostCapture], Int64) -> Void)?
    /// CLOCK_REALTIME at t0: the captures' timestamps are on that clock.
    private let realtimeZero: Int64
    private let pcapDirectory: String?
    private(set) var captureDropped = 0
    /// Set when an --artifacts file could not be written in full.
    private(set) var artifactFailure: String?
    private let environment = ProcessInfo.processInfo.environment
    /// The kernel's events for this scenario's namespaces, or why there are none.
    private var events: EventSubscription?
    private var eventSource: KernelEvents?
    private var observation: Observation
    private var namespaceHosts: [UInt32: String] = [:]

    init(scenario: Scenario, plan: NetworkPlan, network: Network, faults: FaultPlan?, t0: Int64, options: RunOptions) throws {
        self.scenario = scenario
        self.plan = plan
        self.network = network
        self.t0 = t0
        sampleInterval = options.sampleInterval
        pcapDirectory = options.pcapDirectory.map { "\($0)/\(scenario.id)" }
        artifactDirectory = options.artifactsDirectory.map { "\($0)/\(scenario.id)" }
        watchedPatterns = WatchedPattern.all(in: scenario)
        realtimeZero = t0 + CaptureClock.realtimeMinusMonotonic()
        framesObserver = options.framesObserver
        observation = .sampling(reason: "kernel events were turned off")
        // Captures first, so they see the first segment of anything started below.
        // From tc programs unless whole packets are asked for (--pcap writes them) or the
        // programs do not load here; then libpcap, saying why.
        if options.capture && pcapDirectory == nil && options.captureMethod == .bpf {
            do {
                (bpfCaptures, departureRecorder) = try Self.startBPFCaptures(plan: plan, network: network, offset: realtimeZero - t0)
            } catch {
                captureNote = "the timeline was captured with libpcap: the BPF capture did not start (\(error))"
            }
        }
        let ringBytes = CaptureRing.bytes(for: scenario)
        for host in network.hostNames where options.capture && bpfCaptures.isEmpty {
            let capture = try PacketCapture(namespace: network.namespace(host)!, bufferBytes: ringBytes)
            capture.start()
            captures.append((host, capture))
        }
        captureSource = !bpfCaptures.isEmpty ? "bpf" : captures.isEmpty ? nil : "libpcap"
        for host in network.hostNames {
            let reader = try NetCounterReader(namespace: network.namespace(host)!)
            counterReaders[host] = reader
            countersBefore[host] = try reader.read()
            // Read for computed schedules; a sysctl this kernel lacks stays absent.
            for name in RetransmissionSchedule.sysctlNames {
                if let value = try? SysctlAccess.read(name, in: network.namespace(host)!), let number = Int(value) {
                    sysctls[host, default: [:]][name] = number
                }
            }
        }
        if let faults, !faults.isEmpty {
            faultRuntime = try FaultRuntime(plan: faults, network: network, t0: t0,
                                            seed: Self.seed(scenario.id), queueTarget: FaultBackends.current.queueTarget ?? .compatTarget)
        }
        sampler = try SocketSampler(network: network, ipv6: plan.usesIPv6, t0: t0, intervalSeconds: options.sampleInterval)
        sampler.start()
        if options.events {
            switch KernelEvents.shared {
            case .success(let source):
                // A subscription that fails leaves the scenario on sampling, saying why.
                do {
                    for host in network.hostNames { namespaceHosts[try network.namespace(host)!.inode()] = host }
                    events = try source.subscribe(namespaces: Array(namespaceHosts.keys))
                    eventSource = source
                    observation = .eventsAndSampling
                } catch {
                    observation = .sampling(reason: "watching the scenario's namespaces failed: \(error)")
                }
            case .failure(let unavailable):
                observation = .sampling(reason: unavailable.reason)
            }
        }
    }

    /// One BPF capture per host, on every interface of it, and one departures' recorder for
    /// them all (its tracepoint program runs once per transmit, however many hosts). `offset`
    /// turns the programs' CLOCK_MONOTONIC stamps into CLOCK_REALTIME with the offset
    /// `realtimeZero` was made with, so a segment's time is its monotonic distance from t0,
    /// exactly. On failure what was attached is detached again.
    private static func startBPFCaptures(plan: NetworkPlan, network: Network, offset: Int64) throws
        -> ([(host: String, capture: BPFCapture)], DepartureRecorder) {
        var captures: [(host: String, capture: BPFCapture)] = []
        let departures = try DepartureRecorder(realtimeOffset: offset)
        do {
            for host in plan.hosts {
                let capture = try BPFCapture(namespace: network.namespace(host.name)!, realtimeOffset: offset, departures: departures)
                captures.append((host.name, capture))
                for interface in host.interfaces { try capture.attach(interfaceIndex: interface.index, name: interface.name) }
            }
        } catch {
            for (_, capture) in captures { capture.close() }
            departures.close()
            throw error
        }
        for (_, capture) in captures { capture.start() }
        return (captures, departures)
    }

    private var elapsed: Double { Double(MonotonicClock.now() - t0) / 1e9 }

    /// Why the steps stopped early, and whose fault that is (nil: what was observed).
    struct StepFailure {
        let message: String
        let cause: ErrorCause?
    }

    /// Runs the steps in order; returns why the run stopped early, if it did.
    func perform() -> StepFailure? {
        for step in scenario.steps {
            let remaining = scenario.timeLimit - elapsed
            if remaining <= 0 {
                return StepFailure(message: "\(step.location): the scenario's time limit of \(Format.seconds(scenario.timeLimit)) ran out", cause: nil)
            }
            do {
                switch step {
                case .peer(let peer):
                    let words = try PeerWords.words(for: peer.steps, plan: plan)
                    try start(peer.name, on: peer.host, command: "netfault peer " + words.joined(separator: " "),
                              program: .peer(try PeerScript(words)), isPeer: true)
                case .command(let command):
                    guard let path = ExecutableLookup.resolve(command.arguments[0]) else {
                        return StepFailure(message: "\(command.location): program \(command.arguments[0]) was not found", cause: .scenario)
                    }
                    try start(command.name, on: command.host, command: command.arguments.joined(separator: " "),
                              program: .executable(path: path, arguments: Array(command.arguments.dropFirst())),
                              environment: command.environment.resolved(inheriting: environment),
                              workingDirectory: command.workingDirectory, input: command.input)
                case .wait(let wait):
                    MonotonicClock.sleep(seconds: min(wait.seconds, remaining))
                case .waitFor(let wait):
                    if let failure = waitFor(wait, limit: min(wait.timeout, remaining)) { return failure }
                }
            } catch let error as KernelError where error.operation.hasPrefix("start ") && error.errno != EAGAIN && error.errno != ENOMEM {
                // exec refused the program (ENOEXEC, EACCES, …): the scenario names something that cannot run.
                return StepFailure(message: "\(step.location): \(error)", cause: .scenario)
            } catch {
                return StepFailure(message: "\(step.location): \(error)", cause: .environment)
            }
        }
        return nil
    }

    private func start(_ name: String, on host: String, command: String, program: ChildProgram, isPeer: Bool = false,
                       environment: [String: String]? = nil, workingDirectory: String? = nil,
                       input: ProcessInput = .none) throws {
        let watch = OutputWatch(patterns: watchedPatterns[name] ?? [], parsesEvents: isPeer, t0: t0)
        var output = ChildOutputOptions()
        for stream in StandardStream.allCases {
            let childStream: ChildStream = stream == .stdout ? .stdout : .stderr
            output.lineHandlers[childStream] = watch.lineHandler(for: stream)
            if let artifactDirectory { output.artifactPaths[childStream] = "\(artifactDirectory)/\(name).\(stream.rawValue)" }
        }
        if let artifactDirectory { try FileManager.default.createDirectory(atPath: artifactDirectory, withIntermediateDirectories: true) }
        let childInput: ChildInput = switch input {
        case .none: .none
        case .file(let path): .file(path)
        case .bytes(let bytes): .bytes(bytes)
        }
        let process = try ChildProcess(program, in: network.namespace(host)!, environment: environment ?? self.environment,
                                       t0: t0, workingDirectory: workingDirectory, input: childInput, output: output)
        started.append(StartedProcess(name: name, host: host, command: command, process: process, watch: watch))
    }

    private func waitFor(_ wait: WaitFor, limit: Double) -> StepFailure? {
        let deadline = elapsed + limit
        while elapsed < deadline {
            switch wait.condition {
            case .exit(let name):
                if let process = started.first(where: { $0.name == name })?.process {
                    if process.wait(timeoutSeconds: max(0, deadline - elapsed)) { return nil }
                }
            case .output(let pattern, let name, let stream):
                guard let entry = started.first(where: { $0.name == name }) else { break }
                let end = t0 + Int64(deadline * 1e9)
                if entry.watch.waitForMatch(pattern, on: stream.map { [$0] } ?? StandardStream.allCases, deadline: end,
                                            ended: { entry.process.wait(timeoutSeconds: 0) }) != nil { return nil }
                return outputWaitFailed(wait, pattern, entry, stream, limit: limit)
            case .state(let selector, let state):
                let (states, seen) = sampler.currentStates(selector)
                // CLOSE means gone: closed sockets leave the kernel's tables.
                if state == .close ? (seen && states.isEmpty) : states.contains(state) { return nil }
                MonotonicClock.sleep(seconds: sampleInterval)
            }
        }
        switch wait.condition {
        case .exit(let name):
            return StepFailure(message: "\(wait.location): \(name) did not exit within \(Format.seconds(limit))", cause: nil)
        case .output(let pattern, let name, let stream):
            guard let entry = started.first(where: { $0.name == name }) else {
                return StepFailure(message: "\(wait.location): \(name) was never started", cause: .scenario)
            }
            return outputWaitFailed(wait, pattern, entry, stream, limit: limit)
        case .state(let selector, let state):
            let message = "\(wait.location): \(selector) did not reach \(state.rawValue) within \(Format.seconds(limit))"
            // A process on that host that failed or crashed before is why, more likely than the
            // kernel (one that finished its script, status 0, is not early).
            let ended = started.filter { $0.host == selector.host && ($0.process.waitStatus ?? 0) != 0 }
            guard !ended.isEmpty else { return StepFailure(message: message, cause: nil) }
            return StepFailure(message: message + ": " + ended.map(exitedEarly).joined(separator: "; "), cause: .scenario)
        }
    }

    /// "Scenarios/X.swift:12: server's stdout had no line that matches /Serving/: it exited with
    /// exit status 1 at 0.2 s; last stderr line "…"", or "…: within 5.0 s; it is still running; no output".
    private func outputWaitFailed(_ wait: WaitFor, _ pattern: OutputPattern, _ entry: StartedProcess,
                                  _ stream: StandardStream?, limit: Double) -> StepFailure {
        let what = "\(entry.name)'s \(stream?.rawValue ?? "output") had no line that \(pattern)"
        let process = entry.process
        let state: String
        if let status = process.waitStatus {
            let at = process.endedAtNanoseconds.map { " at \(Format.seconds(Double($0 - t0) / 1e9))" } ?? ""
            state = "it exited with \(ChildProcess.describe(waitStatus: status))\(at)"
        } else {
            state = "within \(Format.seconds(limit)); it is still running"
        }
        // Both streams: a server often says why it stopped on stderr.
        let seen = StandardStream.allCases.compactMap { stream -> String? in
            let kept = process.output(stream == .stdout ? .stdout : .stderr)
            let output = ProcessOutput(kept)
            return output.lastLine.map { "last \(stream.rawValue) line \"\($0)\"" }
        }
        let lines = seen.isEmpty ? "no output" : seen.joined(separator: ", ")
        // A process that ended without printing it failed the scenario's premise; a timeout is an observation.
        return StepFailure(message: "\(wait.location): \(what): \(state); \(lines)",
                           cause: process.waitStatus == nil ? nil : .scenario)
    }

    /// "server exited early, exit status 1 at 0.004 s, after connect failed with ECONNREFUSED (stderr: …)"
    private func exitedEarly(_ entry: StartedProcess) -> String {
        let process = entry.process
        let status = process.waitStatus.map(ChildProcess.describe(waitStatus:)) ?? "?"
        let at = process.endedAtNanoseconds.map { " at \(Format.seconds(Double($0 - t0) / 1e9))" } ?? ""
        let stderr = process.standardError.trimmingCharacters(in: .whitespacesAndNewlines)
        let lastCall = entry.watch.events.last { $0.errno != nil }
            .map { ", after \($0.call) failed with \($0.errno!)" } ?? ""
        return "\(entry.name) exited early, \(status)\(at)\(lastCall)" + (stderr.isEmpty ? "" : " (stderr: \(stderr.prefix(200)))")
    }

    /// Stops every process and the sampler, and returns the recording.
    func finish() throws -> Recording {
        var recording = Recording()
        recording.duration = elapsed
        recording.sampleInterval = sampleInterval
        // The last sample first: terminating the processes closes their sockets.
        recording.sockets = try sampler.stop()
        let lastSample = MonotonicClock.now()
        recording.kernelTick = KernelTickLag(length: KernelTick.length, largestLag: sampler.largestTickLag)
        terminateAll()
        recording.sysctls = sysctls
        recording.faultDecisions = faultDecisions
        recording.segments = try stopCaptures()
        recording.observation = observation
        if let events, let eventSource {
            let (received, lost) = try events.finish()
            self.events = nil
            let merged = KernelEventMerge.merge(
                KernelEventMerge.Input(events: received, hosts: namespaceHosts, t0: t0, statesUntil: lastSample,
                                       dropReasons: eventSource.dropReasons, resetReasons: eventSource.resetReasons),
                sampled: recording.sockets)
            recording.sockets = merged.sockets
            recording.kernelDrops = merged.drops
            recording.retransmissions = merged.retransmissions
            recording.segments = KernelEventMerge.restamp(recording.segments, with: merged.retransmissions, sockets: merged.sockets)
            recording.resets = merged.resets
            recording.eventsLost = lost
            recording.dropReasonNames = Set(eventSource.dropReasons.values)
        }
        for (host, reader) in counterReaders {
            recording.counters[host] = NetCounterParser.delta(from: countersBefore[host] ?? [:], to: try reader.read())
        }
        recording.processes = started.map { entry in
            let process = entry.process
            return ObservedProcess(
                name: entry.name, host: entry.host, command: entry.command,
                events: entry.watch.events,
                exitStatus: process.waitStatus.map(ChildProcess.exitCode(fromWaitStatus:)),
                startTime: Double(process.startedAt - t0) / 1e9,
                endTime: process.endedAtNanoseconds.map { Double($0 - t0) / 1e9 },
                stoppedAtEnd: entry.stoppedAtEnd,
                stdout: ProcessOutput(process.output(.stdout)), stderr: ProcessOutput(process.output(.stderr)),
                outputMatches: entry.watch.outputMatches)
        }
        artifactFailure = started.lazy.flatMap { entry in
            ChildStream.allCases.compactMap { entry.process.artifactError($0).map { "\(entry.name)'s output file: \($0)" } }
        }.first
        return recording
    }

    /// SIGTERM, then SIGKILL, to every process still running; then the fault threads
    /// end (after the processes, so their last segments still get verdicts).
    func terminateAll() {
        for entry in started {
            if entry.process.isRunning { entry.stoppedAtEnd = true }
            entry.process.terminate()
        }
        // Before the engines close: their programs' runs and run time (BPF stats, when on).
        if let runtime = faultRuntime {
            faultPrograms = runtime.programStats()
        }
        if let (decisions, failure) = faultRuntime?.stop() {
            faultDecisions = decisions
            faultFailure = failure
        }
        faultRuntime = nil
    }

    /// After an error the captures were not stopped by `finish`: stop their threads.
    deinit {
        for (_, capture) in captures { _ = try? capture.stop() }
        for (_, capture) in bpfCaptures {
            _ = try? capture.stop()
            capture.close()
        }
        departureRecorder?.close()
        _ = try? events?.finish()
    }

    /// Stops the captures (after the processes and the fault engine, so the last
    /// segments are in), builds the timeline, and writes the pcapng files if asked.
    private func stopCaptures() throws -> [ObservedSegment] {
        var hostCaptures: [TimelineBuilder.HostCapture] = []
        for (host, capture) in captures {
            let (frames, dropped) = try capture.stop()
            captureDropped += dropped
            hostCaptures.append(TimelineBuilder.HostCapture(host: host, frames: frames))
        }
        captures = []
        if !bpfCaptures.isEmpty {
            var recorded: [String: CapturedFrames] = [:]
            defer {
                for (_, capture) in bpfCaptures { capture.close() }
                bpfCaptures = []
                departureRecorder?.close()
                departureRecorder = nil
            }
            capturePrograms = bpfCaptures.flatMap { $0.capture.programStats } + (departureRecorder?.programStats ?? [])
            var atPacketInstant = 0, segmentCount = 0
            var unavailable: String?
            for (host, capture) in bpfCaptures {
                let recording = try capture.stop()
                // Records the ring had no room for: counted as the capture's drops, so the
                // result says the timeline has gaps (CLI exit 3), as for libpcap's.
                captureDropped += recording.lost
                // One record per skb: cut into the wire's segments as software GSO does, each
                // segment at its own departure where one was recorded.
                let expansion = GSOSegments.expansion(recording)
                recorded[host] = expansion.frames
                atPacketInstant += expansion.atPacketInstant
                segmentCount += expansion.departed + expansion.atPacketInstant
                unavailable = unavailable ?? recording.departuresUnavailable
            }
            captureReaderCPUSeconds = bpfCaptures.reduce(0) { $0 + $1.capture.readerCPUSeconds } + (departureRecorder?.readerCPUSeconds ?? 0)
            // Segments without their own departure are early by up to tens of µs (a GSO
            // packet's later segments): say how many, and why when the program did not run.
            if atPacketInstant > 0 {
                captureNote = "\(atPacketInstant) of \(segmentCount) segments at their packet's tc egress instant, "
                    + "not their own departure" + (unavailable.map { " (\($0))" } ?? "")
            }
            hostCaptures = PeerFrames.hostCaptures(recorded, peers: PeerFrames.peers(of: plan.links), hosts: network.hostNames)
        }
        framesObserver?(hostCaptures, realtimeZero)
        let segments = TimelineBuilder.build(hostCaptures, zero: realtimeZero, decisions: faultDecisions)
        if let pcapDirectory {
            try OutputFiles.makeDirectories(pcapDirectory)
            for capture in hostCaptures {
                let packets = AnnotatedCapture.packets(host: capture.host, frames: capture.frames, segments: segments,
                                                       decisions: faultDecisions, zero: realtimeZero)
                try PcapngFile.write(linkType: capture.frames.linkType, snapLength: capture.frames.snapLength,
                                     packets: packets, to: "\(pcapDirectory)/\(capture.host).pcapng")
            }
        }
        return segments
    }

    /// A stable seed per scenario (FNV-1a of its id), so random impairments repeat run to run.
    static func seed(_ id: String) -> UInt64 {
        id.utf8.reduce(0xCBF2_9CE4_8422_2325) { ($0 ^ UInt64($1)) &* 0x100_0000_01B3 }
    }
}

/// Reads the JSON lines peers print, one at a time as they stream; other lines are ignored.
enum PeerEventParser {
    private struct Line: Decodable {
        let t: Double
        let call: String
        let result: Int64
        let errno: String?
        let local: String?
        let remote: String?
        let eof: Bool?
    }

    static func event(fromLine line: String) -> PeerEvent? {
        guard line.hasPrefix("{"), let event = try? JSONDecoder().decode(Line.self, from: Data(line.utf8)) else { return nil }
        return PeerEvent(time: event.t, call: event.call, result: event.result, errno: event.errno,
                         local: event.local, remote: event.remote, eof: event.eof)
    }
}
