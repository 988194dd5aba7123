import NetfaultKernel

/// `netfault bench observation`: what observing the kernel's TCP events costs, against
/// sampling alone, alternating variant by variant each round (medians compared):
/// (1) bulk throughput with the event programs attached and watching the namespaces, or not;
/// (2) the orchestrator's CPU (user + system, all threads) over a set of scenarios.
/// The programs are loaded once per process, before any round; the load is reported apart.
public enum ObservationBenchmark {
    public struct Measurement: Codable, Sendable {
        public var bytes: Int
        public var rounds: Int
        public var samplingMbps: Double
        public var eventsMbps: Double
        /// 1 − events/sampling, in percent (target ≤ 2).
        public var throughputCostPercent: Double
        /// Each round's pair (sampling, events), Mbit/s, to see the noise beside the medians.
        public var roundsMbps: [[Double]]
        /// Events one bulk transfer produced (what the programs wrote for it).
        public var eventsPerTransfer: Int
        public var scenarios: [String]
        public var samplingCPUSeconds: Double
        public var eventsCPUSeconds: Double
        /// events / sampling CPU of the orchestrator over the scenarios.
        public var cpuRatio: Double
        /// Events the scenarios produced in one pass (state changes, drops, retransmissions, resets).
        public var eventsPerPass: Int
        /// Scenarios that failed in a pass, with the variant ("C1 (events)").
        public var failures: [String]
        /// Opening, verifying and attaching the programs, once per run.
        public var loadMilliseconds: Double
        public var kernel: String
    }

    /// State changes, drops, retransmissions and resets the events gave a scenario.
    private static func eventCount(_ result: ScenarioResult) -> Int {
        result.kernelDrops.count + result.retransmissions.count + result.resets.count + result.eventsLost
            + result.sockets.reduce(0) { $0 + $1.transitions.filter { $0.source == "event" }.count }
    }

    public static func run(bytes: Int, rounds: Int, scenarios: [Scenario]) throws -> Measurement {
        let events: KernelEvents
        switch KernelEvents.shared {
        case .success(let loaded): events = loaded
        case .failure(let unavailable): throw EnvironmentError("bench observation needs kernel events: \(unavailable.reason)")
        }
        var seconds: [Bool: [Double]] = [:], cpu: [Bool: [Double]] = [:]
        var eventsPerPass = 0, eventsPerTransfer = 0
        var failures: [String] = []
        for round in 0..<rounds {
            // Alternate which goes first, so neither always runs on a warmer machine.
            for withEvents in round % 2 == 0 ? [false, true] : [true, false] {
                let scenario = BulkTransfer.scenario("BENCH-OBS", subnet: "10.77.249.0/24", bytes: bytes) {}
                let transfer = try BulkTransfer.run(scenario, bytes: bytes, capture: false, events: withEvents, what: "bench observation")
                seconds[withEvents, default: []].append(transfer.seconds)
                if withEvents { eventsPerTransfer = eventCount(transfer.result) }
                let before = ProcessCPU.seconds()
                let result = CatalogRunner.run(scenarios, options: RunOptions(events: withEvents))
                cpu[withEvents, default: []].append(ProcessCPU.seconds() - before)
                // A failure (a timing flake on a loaded machine) does not void the CPU measured; it is reported.
                failures += result.scenarios.filter { $0.status == .failed }.map { "\($0.id) (\(withEvents ? "events" : "sampling"))" }
                if withEvents { eventsPerPass = result.scenarios.reduce(0) { $0 + eventCount($1) } }
            }
        }
        let roundsMbps = zip(seconds[false] ?? [], seconds[true] ?? []).map { [Double(bytes) * 8 / $0 / 1e6, Double(bytes) * 8 / $1 / 1e6] }
        func mbps(_ withEvents: Bool) -> Double { Double(bytes) * 8 / TopologyBenchmark.median(seconds[withEvents] ?? []) / 1e6 }
        let samplingCPU = TopologyBenchmark.median(cpu[false] ?? []), eventsCPU = TopologyBenchmark.median(cpu[true] ?? [])
        return Measurement(bytes: bytes, rounds: rounds, samplingMbps: mbps(false), eventsMbps: mbps(true),
                           throughputCostPercent: (1 - mbps(true) / mbps(false)) * 100, roundsMbps: roundsMbps,
                           eventsPerTransfer: eventsPerTransfer, scenarios: scenarios.map(\.id),
                           samplingCPUSeconds: samplingCPU, eventsCPUSeconds: eventsCPU, cpuRatio: eventsCPU / samplingCPU,
                           eventsPerPass: eventsPerPass, failures: failures, loadMilliseconds: events.loadSeconds * 1000,
                           kernel: MachineInfo.kernelRelease)
    }
}
