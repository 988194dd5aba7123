import ArgumentParser
import Foundation
import Netfault
import NetfaultKernel

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmarks (ratios against a baseline run side by side, not timed tests).",
        subcommands: [TopologyBenchCommand.self, FaultsBenchCommand.self, TimelineBenchCommand.self,
                      OutputBenchCommand.self, ObservationBenchCommand.self]
    )
}

struct TopologyBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "topology",
        abstract: "Build and tear down N host pairs; compare with scripts/bench-topology-ip.sh run alternately."
    )

    @Option(help: "Host pairs per round (2 namespaces, one veth, addresses, links up).")
    var pairs: Int = 50

    @Option(help: "Rounds; the medians are reported.")
    var rounds: Int = 5

    @Option(help: "The ip baseline script; empty to skip it.")
    var baseline: String = "scripts/bench-topology-ip.sh"

    @Option(help: "Write the measurement as JSON to this file.")
    var json: String?

    func validate() throws {
        guard (1...1000).contains(pairs) else { throw ValidationError("--pairs must be within 1...1000") }
        try BenchOptions.validate(rounds: rounds, json: json)
    }

    func run() throws {
        try Preflight.check([])
        let script = baseline.isEmpty || !FileManager.default.fileExists(atPath: baseline) ? nil : baseline
        let result = try TopologyBenchmark.run(pairs: pairs, rounds: rounds, script: script)
        print(String(format: "netfault:  setup %.3f ms/pair, teardown %.3f ms/pair (median of %d rounds, %d pairs)",
                     result.setupMsPerPair, result.teardownMsPerPair, rounds, pairs))
        if let ip = result.ipBatchSetupMsPerPair, let ratio = result.setupRatioToIPBatch {
            print(String(format: "ip -batch: setup %.3f ms/pair, teardown %.3f ms/pair", ip, result.ipBatchTeardownMsPerPair ?? 0))
            print(String(format: "ratio (netfault / ip -batch) setup: %.3f (target ≤ 0.25)", ratio))
        } else if script == nil {
            print("(no baseline: \(baseline) not found)")
        }
        writeJSON(result, as: .benchTopology, to: json)
    }
}

struct FaultsBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "faults",
        abstract: "Bulk TCP throughput clean, with SYN/FIN/RST fault rules, every segment through the in-kernel engine, and through NFQUEUE.",
        discussion: "Each round runs every side once, in its own (seeded) order; medians, each ratio's 95 % confidence interval (bootstrap over the rounds; a target is met only when the whole interval clears it) and every round are printed, with the in-kernel programs' runs and ns per run from the kernel's BPF run-time accounting."
    )

    @OptionGroup var options: BulkBenchmarkOptions<FaultsBenchDefaults>

    @Option(parsing: .upToNextOption,
            help: ArgumentHelp("The sides to run besides clean, which every ratio is over (all when not given), so that the rounds go to them.",
                               valueName: "side"))
    var sides: [FaultBenchmark.Variant] = []

    func run() throws {
        try Preflight.check([])
        let result = try FaultBenchmark.run(bytes: options.bytes, rounds: options.rounds,
                                            variants: sides.isEmpty ? FaultBenchmark.Variant.allCases : sides)
        for side in result.sides {
            var ratio = String(format: "%.3f", side.ratio)
            if let interval = side.ratioInterval, interval.count == 2 {
                ratio += String(format: " [%.3f, %.3f]", interval[0], interval[1])
            }
            if let target = side.target, let verdict = side.verdict {
                ratio += String(format: " (target ≥ %.2f: %@)", target, verdict.rawValue as NSString)
            }
            var line = String(format: "%-24@ %-8@ %8.0f Mbit/s  ratio %@  %8.0f segments/s",
                              side.name as NSString, side.backend as NSString, side.medianMbps, ratio as NSString,
                              side.segmentsPerSecond)
            if let runs = side.programRuns, let ns = side.programNanosecondsPerRun, let cpu = side.programCPUPercent {
                line += String(format: "  programs: %llu runs, %.0f ns/run, %.2f %% of one CPU", runs, ns, cpu)
            }
            print(line)
            print("    rounds (Mbit/s): " + side.roundsMbps.map { String(format: "%.0f", $0) }.joined(separator: ", "))
        }
        options.finish(result, kernel: result.kernel, detail: result.backends,
                       note: "[low, high]: the ratio's 95 % confidence interval over the rounds", as: .benchFaults)
    }
}

struct TimelineBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "timeline",
        abstract: "Recorded instants against tcpdump's capture of the same run; bulk throughput with the capture on and off."
    )

    @OptionGroup var options: BulkBenchmarkOptions<TimelineBenchDefaults>

    func run() throws {
        try Preflight.check([])
        guard ExecutableLookup.resolve("tcpdump") != nil else {
            Preflight.fail("bench timeline needs tcpdump (scripts/bootstrap.sh installs it)", ExitStatus.environment)
        }
        let result = try TimelineBenchmark.run(bytes: options.bytes, rounds: options.rounds)
        for (name, comparison) in [("bpf", result.bpf), ("libpcap", result.libpcap)] {
            print("\(name): frames \(comparison.frames), tcpdump \(comparison.tcpdumpFrames); \(comparison.framesNotInTcpdump) not in "
                  + "tcpdump's, \(comparison.tcpdumpFramesMissing) of tcpdump's missing (target 0, 0); tcpdump: "
                  + "\(comparison.tcpdumpDroppedByKernel.map { "\($0)" } ?? "?") dropped by kernel")
            print(String(format: "\(name): instants − tcpdump's: median %.3f µs, p99 %.3f µs, max %.3f µs, min %.3f µs (target |·| ≤ 10 µs)",
                         comparison.medianDifferenceMicroseconds, comparison.p99DifferenceMicroseconds,
                         comparison.maxDifferenceMicroseconds, comparison.minDifferenceMicroseconds))
            if let note = comparison.captureNote { print("\(name): \(note)") }
        }
        var interval = ""
        if let bounds = result.bpfCaptureCostIntervalPercent, bounds.count == 2, let verdict = result.bpfCaptureCostVerdict {
            interval = String(format: " [%.1f, %.1f] (95 %% interval over the rounds; target ≤ 10 %%: %@)", bounds[0], bounds[1],
                              verdict.rawValue as NSString)
        }
        print(String(format: "bulk: %.0f Mbit/s without capture; BPF capture %.0f Mbit/s, cost %.1f %%%@",
                     result.withoutCaptureMbps, result.withBPFCaptureMbps, result.bpfCaptureCostPercent, interval as NSString))
        print(String(format: "bulk: libpcap capture (--pcap) %.0f Mbit/s, cost %.1f %%; tcpdump on both hosts %.0f Mbit/s, cost %.1f %%",
                     result.withLibpcapCaptureMbps, result.libpcapCaptureCostPercent, result.withTcpdumpMbps, result.tcpdumpCostPercent))
        print(String(format: "paired round by round (median of 1 − variant/none): BPF %.1f %%, libpcap %.1f %%, tcpdump %.1f %%",
                     result.pairedCostPercent["bpf"] ?? .nan, result.pairedCostPercent["libpcap"] ?? .nan,
                     result.pairedCostPercent["tcpdump"] ?? .nan))
        for recorder in ["none", "bpf", "libpcap", "tcpdump"] {
            let rounds = (result.roundMbps[recorder] ?? []).map { String(format: "%.0f", $0) }
            print("rounds \(recorder): \(rounds.joined(separator: " ")) Mbit/s")
        }
        for program in result.capturePrograms where program.runs > 0 {
            print(String(format: "capture program %@: %llu runs, %.0f ns a run (kernel's accounting, one more BPF transfer)",
                         program.program as NSString, program.runs, Double(program.nanoseconds) / Double(program.runs)))
        }
        if let share = result.captureProgramCPUPercent {
            print(String(format: "capture programs: %.2f %% of one CPU over that transfer", share))
        }
        if let share = result.captureReaderCPUPercent {
            print(String(format: "capture readers (userspace): %.2f %% of one CPU over a BPF round's transfer (median)", share))
        }
        if let build = result.timelineBuildSeconds {
            print(String(format: "timeline: built with its JSON records in %.2f s after a BPF round (median)", build))
        }
        print(String(format: "load average (1 min) %.2f before, %.2f after", result.loadAverage.first ?? 0, result.loadAverage.last ?? 0))
        options.finish(result, kernel: result.kernel, as: .benchTimeline)
    }
}

struct OutputBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "output",
        abstract: "A program writing N bytes to stdout in a scenario vs the same program writing to /dev/null outside; netfault's memory growth."
    )

    @OptionGroup var options: BulkBenchmarkOptions<OutputBenchDefaults>

    func run() throws {
        try Preflight.check([])
        let result = try OutputBenchmark.run(bytes: options.bytes, rounds: options.rounds)
        print("program: \(result.program)")
        print(String(format: "outside, to /dev/null:     %8.1f MB/s", result.outsideMBps))
        print(String(format: "inside, read by netfault:  %8.1f MB/s  ratio %.3f (target ≥ 0.8 at 2 GB)", result.insideMBps, result.ratio))
        print(String(format: "outside, piped into cat:   %8.1f MB/s  (any pipe reader; inside / this %.3f)", result.pipedToCatMBps,
                     result.insideMBps / result.pipedToCatMBps))
        print(String(format: "netfault RSS growth: %.1f MiB (target ≤ 64 MiB); its own CPU %.3f s per GB", result.rssGrowthMiB,
                     result.cpuSecondsPerGB))
        options.finish(result, kernel: result.kernel, as: .benchOutput)
    }
}

struct ObservationBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "observation",
        abstract: "Kernel events against sampling alone: bulk throughput, and the orchestrator's CPU over catalog scenarios."
    )

    @OptionGroup var options: BulkBenchmarkOptions<ObservationBenchDefaults>

    @Option(parsing: .upToNextOption, help: "Catalog scenarios whose orchestrator CPU is measured.")
    var scenarios: [String] = ["H1", "H4", "C1", "H10", "K6"]

    func run() throws {
        let selected = try Selection.scenarios(scenarios, all: false)
        try Preflight.check(selected)
        let result = try ObservationBenchmark.run(bytes: options.bytes, rounds: options.rounds, scenarios: selected)
        print(String(format: "bulk: %.0f Mbit/s sampling only, %.0f Mbit/s with events; cost %.1f %% (target ≤ 2 %%), %d events a transfer",
                     result.samplingMbps, result.eventsMbps, result.throughputCostPercent, result.eventsPerTransfer))
        print("  rounds (sampling, events): " + result.roundsMbps.map { "\(Int($0[0]))/\(Int($0[1]))" }.joined(separator: "  "))
        print(String(format: "  programs: %llu runs a transfer, %.0f ns a run: %.2f %% of one CPU over the transfer",
                     result.programRunsPerTransfer, result.programNanosecondsPerRun, result.programCPUPercent))
        for program in result.programs where program.runs > 0 {
            print("    " + program.program.padding(toLength: 14, withPad: " ", startingAt: 0)
                  + String(format: "%10llu runs %8.1f ms", program.runs, Double(program.nanoseconds) / 1e6))
        }
        print(String(format: "orchestrator CPU over %@: %.3f s sampling only, %.3f s with events; ratio %.3f (%d events a pass)",
                     result.scenarios.joined(separator: " "), result.samplingCPUSeconds, result.eventsCPUSeconds,
                     result.cpuRatio, result.eventsPerPass))
        print(String(format: "programs loaded once per run in %.1f ms (attached while a scenario observes)", result.loadMilliseconds))
        if !result.failures.isEmpty { print("failed in a pass (the CPU still counts): \(result.failures.joined(separator: ", "))") }
        options.finish(result, kernel: result.kernel, as: .benchObservation)
    }
}

/// What a bulk benchmark says about its `--bytes` and `--rounds`: defaults and help of its own.
protocol BulkBenchmarkDefaults {
    /// `--bytes`' default.
    static var bytes: Int { get }
    /// `--bytes`' help: what the bytes are of.
    static var bytesHelp: String { get }
    /// The smallest `--bytes` that measures anything.
    static var minimumBytes: Int { get }
    /// `--rounds`' default.
    static var rounds: Int { get }
    /// `--rounds`' help: what one round runs.
    static var roundsHelp: String { get }
}

/// The options of the bulk benchmarks (faults, timeline, output, observation), checked alike
/// (`BenchOptions`), each with the defaults and help of its `Defaults`; and the end of their
/// report, alike too.
struct BulkBenchmarkOptions<Defaults: BulkBenchmarkDefaults>: ParsableArguments {
    @Option(help: ArgumentHelp(Defaults.bytesHelp))
    var bytes: Int = Defaults.bytes

    @Option(help: ArgumentHelp(Defaults.roundsHelp))
    var rounds: Int = Defaults.rounds

    @Option(help: "Write the measurement as JSON to this file.")
    var json: String?

    func validate() throws {
        try BenchOptions.validate(bytes: bytes, atLeast: Defaults.minimumBytes, rounds: rounds, json: json)
    }

    /// The report's last line (the kernel, `detail`, what the medians are of, `note`), then the JSON if asked for.
    func finish(_ result: some Encodable, kernel: String, detail: String? = nil, note: String? = nil, as format: ResultFormat) {
        print("kernel \(kernel)" + (detail.map { "; \($0);" } ?? ",") + " median of \(rounds) rounds of \(bytes) bytes"
              + (note.map { "; \($0)" } ?? ""))
        writeJSON(result, as: format, to: json)
    }
}

/// `--sides`' values: each side's short name.
extension FaultBenchmark.Variant: ExpressibleByArgument {
    /// The side whose short name (`option`) is `argument`; nil for any other word.
    public init?(argument: String) {
        guard let side = Self.allCases.first(where: { $0.option == argument }) else { return nil }
        self = side
    }

    /// Every side's short name, for `--help` and the error on a bad value.
    public static var allValueStrings: [String] { allCases.map(\.option) }

    /// Each short name with the name the side is reported under.
    public static var allValueDescriptions: [String: String] {
        Dictionary(uniqueKeysWithValues: allCases.map { ($0.option, $0.rawValue) })
    }
}

/// `bench faults`'s `--bytes` and `--rounds`.
enum FaultsBenchDefaults: BulkBenchmarkDefaults {
    static let bytes = 200_000_000, minimumBytes = 1_000_000, rounds = 15
    static let bytesHelp = "Bytes per transfer."
    static let roundsHelp = "Rounds; each runs every side once, in its own (seeded) order, and the medians are reported."
}

/// `bench timeline`'s `--bytes` and `--rounds`.
enum TimelineBenchDefaults: BulkBenchmarkDefaults {
    static let bytes = 200_000_000, minimumBytes = 1_000_000, rounds = 5
    static let bytesHelp = "Bytes per bulk transfer."
    static let roundsHelp = "Rounds; each runs the transfer without a capture and with each, in its own (seeded) order, and the medians are compared."
}

/// `bench output`'s `--bytes` and `--rounds`.
enum OutputBenchDefaults: BulkBenchmarkDefaults {
    static let bytes = 2_000_000_000, minimumBytes = 1, rounds = 3
    static let bytesHelp = "Bytes the program writes per round."
    static let roundsHelp = "Rounds; each runs the program outside and inside a scenario, alternately first, and the medians are compared."
}

/// `bench observation`'s `--bytes` and `--rounds`.
enum ObservationBenchDefaults: BulkBenchmarkDefaults {
    static let bytes = 200_000_000, minimumBytes = 1_000_000, rounds = 5
    static let bytesHelp = "Bytes per bulk transfer."
    static let roundsHelp = "Rounds; each runs both variants (order alternating), and the medians are compared."
}

/// The checks of the options the benchmarks share (each keeps its own defaults and help):
/// `--bytes` (for those that take it) at least `minimum`, `--rounds` at least 1, `--json` writable.
enum BenchOptions {
    static func validate(bytes: Int? = nil, atLeast minimum: Int = 1, rounds: Int, json: String?) throws {
        if let bytes, bytes < minimum { throw ValidationError("--bytes must be at least \(minimum)") }
        guard rounds >= 1 else { throw ValidationError("--rounds must be at least 1") }
        try OutputPaths.check([.file("--json", json)])
    }
}

/// A measurement as pretty, key-sorted JSON with its versions (what `--json FILE` writes,
/// docs/schemas/bench-*.schema.json), if asked for.
func writeJSON(_ value: some Encodable, as format: ResultFormat, to path: String?) {
    OutputPaths.write([("--json", path, { try ResultDocument(format, value).json() })])
}
