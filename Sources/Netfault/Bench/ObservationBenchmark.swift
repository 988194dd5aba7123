import NetfaultKernel

/// `netfault bench observation`: what observing the kernel's TCP events costs, against
/// sampling alone, alternating variant by variant each round (medians compared):
/// (1) bulk throughput with the event programs attached and watching the namespaces, or not
/// attached at all (they attach only while a run observes events), and the programs' own CPU
/// time in the transfer, from the kernel's run-time accounting: a measure the machine's
/// noise does not blur as it blurs throughput;
/// (2) the orchestrator's CPU (user + system, all threads) over a set of scenarios.
/// The programs are loaded once per process, before any round; the load is reported apart.
public enum ObservationBenchmark {
    /// What `netfault bench observation --json` writes.
    public struct Measurement: Codable, Sendable {
        /// Bytes per transfer.
        public var bytes: Int
        /// Rounds, each running both variants once.
        public var rounds: Int
        /// Median throughput with sampling alone (programs not attached), Mbit/s.
        public var samplingMbps: Double
        /// Median throughput with the event programs attached and watching, Mbit/s.
        public var eventsMbps: Double
        /// 1 − events/sampling, in percent (target ≤ 2).
        public var throughputCostPercent: Double
        /// Each round's pair (sampling, events), Mbit/s, to see the noise beside the medians.
        public var roundsMbps: [[Double]]
        /// Events one bulk transfer produced (what the programs wrote for it).
        public var eventsPerTransfer: Int
        /// The programs' runs and CPU time in one transfer (medians), and that time as a share
        /// of the transfer's duration, in percent of one CPU.
        public var programRunsPerTransfer: UInt64
        /// The programs' median run time, in nanoseconds.
        public var programNanosecondsPerRun: Double
        /// The programs' CPU time as a share of one CPU over the transfer, in percent.
        public var programCPUPercent: Double
        /// Per program, in the last transfer with events.
        public var programs: [ProgramCost]
        /// The scenarios whose orchestrator CPU was measured.
        public var scenarios: [String]
        /// The orchestrator's CPU seconds over the scenarios with sampling alone.
        public var samplingCPUSeconds: Double
        /// The orchestrator's CPU seconds over the scenarios with events.
        public var eventsCPUSeconds: Double
        /// events / sampling CPU of the orchestrator over the scenarios.
        public var cpuRatio: Double
        /// Events the scenarios produced in one pass (state changes, drops, retransmissions, resets).
        public var eventsPerPass: Int
        /// Scenarios that failed in a pass, with the variant ("C1 (events)").
        public var failures: [String]
        /// Opening, verifying and attaching the programs, once per run.
        public var loadMilliseconds: Double
        /// `uname -r`.
        public var kernel: String
    }

    /// State changes, drops, retransmissions and resets the events gave a scenario.
    private static func eventCount(_ result: ScenarioResult) -> Int {
        result.kernelDrops.count + result.retransmissions.count + result.resets.count + result.eventsLost
            + result.sockets.reduce(0) { $0 + $1.transitions.filter { $0.source == "event" }.count }
    }

    /// Runs `rounds` rounds of transfers and of `scenarios`, the variants alternating (needs root).
    public static func run(bytes: Int, rounds: Int, scenarios: [Scenario]) throws -> Measurement {
        let events: KernelEvents
        switch KernelEvents.shared {
        case .success(let loaded): events = loaded
        case .failure(let unavailable): throw EnvironmentError("bench observation needs kernel events: \(unavailable.reason)")
        }
        var seconds: [Bool: [Double]] = [:], cpu: [Bool: [Double]] = [:]
        var eventsPerPass = 0, eventsPerTransfer = 0
        var programs: [ProgramCost] = [], programShares: [Double] = [], programRuns: [Double] = [], nanosecondsPerRun: [Double] = []
        var failures: [String] = []
        for round in 0..<rounds {
            // Alternate which goes first, so neither always runs on a warmer machine.
            for withEvents in round % 2 == 0 ? [false, true] : [true, false] {
                let scenario = BulkTransfer.scenario("BENCH-OBS", subnet: "10.77.249.0/24", bytes: bytes) {}
                func transfer() throws -> (seconds: Double, result: ScenarioResult) {
                    try BulkTransfer.run(scenario, bytes: bytes, capture: false, events: withEvents, what: "bench observation")
                }
                if withEvents {
                    let (measured, cost) = try events.programCost(during: transfer)
                    seconds[true, default: []].append(measured.seconds)
                    eventsPerTransfer = eventCount(measured.result)
                    programs = cost
                    let runs = cost.reduce(0) { $0 + $1.runs }, nanoseconds = cost.reduce(0) { $0 + $1.nanoseconds }
                    programRuns.append(Double(runs))
                    nanosecondsPerRun.append(runs == 0 ? 0 : Double(nanoseconds) / Double(runs))
                    // Over the whole run of the scenario (setup included), against the transfer's time:
                    // the programs run only while the scenario does, nearly all of it in the transfer.
                    programShares.append(Double(nanoseconds) / 1e9 / measured.seconds * 100)
                } else {
                    seconds[false, default: []].append(try transfer().seconds)
                }
                let before = ProcessCPU.seconds()
                let result = CatalogRunner.run(scenarios, options: RunOptions(events: withEvents))
                cpu[withEvents, default: []].append(ProcessCPU.seconds() - before)
                // A failure (a timing flake on a loaded machine) does not void the CPU measured; it is reported.
                failures += result.scenarios.filter { $0.status == .failed }.map { "\($0.id) (\(withEvents ? "events" : "sampling"))" }
                if withEvents { eventsPerPass = result.scenarios.reduce(0) { $0 + eventCount($1) } }
            }
        }
        let roundsMbps = zip(seconds[false] ?? [], seconds[true] ?? []).map { [Double(bytes) * 8 / $0 / 1e6, Double(bytes) * 8 / $1 / 1e6] }
        func mbps(_ withEvents: Bool) -> Double { Double(bytes) * 8 / BenchStatistics.median(seconds[withEvents] ?? []) / 1e6 }
        let samplingCPU = BenchStatistics.median(cpu[false] ?? []), eventsCPU = BenchStatistics.median(cpu[true] ?? [])
        return Measurement(bytes: bytes, rounds: rounds, samplingMbps: mbps(false), eventsMbps: mbps(true),
                           throughputCostPercent: (1 - mbps(true) / mbps(false)) * 100, roundsMbps: roundsMbps,
                           eventsPerTransfer: eventsPerTransfer,
                           programRunsPerTransfer: UInt64(BenchStatistics.median(programRuns)),
                           programNanosecondsPerRun: BenchStatistics.median(nanosecondsPerRun),
                           programCPUPercent: BenchStatistics.median(programShares), programs: programs,
                           scenarios: scenarios.map(\.id),
                           samplingCPUSeconds: samplingCPU, eventsCPUSeconds: eventsCPU, cpuRatio: eventsCPU / samplingCPU,
                           eventsPerPass: eventsPerPass, failures: failures, loadMilliseconds: events.loadSeconds * 1000,
                           kernel: MachineInfo.kernelRelease)
    }
}
