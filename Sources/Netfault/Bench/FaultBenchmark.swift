import Foundation
import NetfaultKernel

/// `netfault bench faults`: bulk TCP throughput across one link, side by side:
/// (1) clean; (2) with fault rules that can only touch SYN and RST segments and (3) SYN, FIN
/// and RST segments (in the kernel where it can run them); (4) every segment through the
/// in-kernel engine (a zero-loss impairment on the data direction, `backend: .bpf`); (5) the
/// same through NFQUEUE. Every round runs each side once, in an order shuffled round by round,
/// so the machine's noise hits them alike; medians, each ratio's 95 % confidence interval
/// (bootstrap over the rounds) and every round are reported. The
/// in-kernel programs' runs and run time come from the kernel's BPF accounting
/// (BPF_ENABLE_STATS) in one more transfer per side after the rounds: the accounting reads
/// the clock twice per run, which the throughput rounds must not pay.
public enum FaultBenchmark {
    /// One side's result.
    public struct Side: Codable, Sendable {
        /// The side: "clean", "SYN/RST rules", "SYN/FIN/RST rules", "every segment, bpf", "every segment, nfqueue".
        public var name: String
        /// Where the faults ran ("-", "bpf", "nfqueue").
        public var backend: String
        /// Median throughput, Mbit/s.
        public var medianMbps: Double
        /// medianMbps / clean's.
        public var ratio: Double
        /// The 95 % confidence interval of `ratio`, [low, high], by bootstrap over the rounds
        /// (`BenchStatistics.ratioInterval`); nil for clean.
        public var ratioInterval: [Double]?
        /// netfault's own target for `ratio` (at least this), for the sides that have one.
        public var target: Double?
        /// Whether the interval clears `target` ("met"), misses it ("not met"), or straddles
        /// it ("unresolved": the rounds' spread cannot tell).
        public var verdict: BenchStatistics.Verdict?
        /// Every round's throughput, Mbit/s, in round order.
        public var roundsMbps: [Double]
        /// Data segments the client sent per second (median).
        public var segmentsPerSecond: Double
        /// The in-kernel programs' runs in the accounted transfer (nil when none ran).
        public var programRuns: UInt64?
        /// The in-kernel programs' ns per run in the accounted transfer (nil when none ran).
        public var programNanosecondsPerRun: Double?
        /// The programs' run time over the accounted transfer's duration, in percent of one CPU.
        public var programCPUPercent: Double?
    }

    /// What `netfault bench faults --json` writes.
    public struct Measurement: Codable, Sendable {
        /// Bytes per transfer.
        public var bytes: Int
        /// Rounds, each running every side once.
        public var rounds: Int
        /// Every side run, clean first.
        public var sides: [Side]
        /// `uname -r`.
        public var kernel: String
        /// What this kernel offers: "bpf yes|no, fq yes|no, nfqueue (…)".
        public var backends: String
    }

    /// A side of the benchmark; its raw value is the name it is reported under.
    public enum Variant: String, CaseIterable, Sendable {
        /// No fault: the baseline every ratio is over.
        case clean
        /// Drop rules on SYN and RST that never act.
        case connectionRules = "SYN/RST rules"
        /// Drop rules on SYN, FIN and RST that never act.
        case controlRules = "SYN/FIN/RST rules"
        /// A zero-loss impairment on the data direction, in the kernel.
        case kernelEverySegment = "every segment, bpf"
        /// The same through NFQUEUE.
        case queueEverySegment = "every segment, nfqueue"

        /// The side's name on the command line (`bench faults --sides`).
        public var option: String {
            switch self {
            case .clean: "clean"
            case .connectionRules: "syn-rst"
            case .controlRules: "control"
            case .kernelEverySegment: "bpf"
            case .queueEverySegment: "nfqueue"
            }
        }

        /// Throughput at least this × clean's: rules that only touch control segments must
        /// cost next to nothing; every segment through the kernel's engine at most a tenth.
        var target: Double? {
            switch self {
            case .controlRules: 0.97
            case .kernelEverySegment: 0.90
            case .clean, .connectionRules, .queueEverySegment: nil
            }
        }
    }

    static func scenario(_ variant: Variant, bytes: Int) -> Scenario {
        BulkTransfer.scenario("BENCH-FAULTS", subnet: "10.77.250.0/24", bytes: bytes) {
            switch variant {
            case .clean:
                []
            case .connectionRules:
                // Never act (no flow has 1,000 of them), but they see every SYN and RST; neither
                // rides on a GSO packet, so nothing runs at the link's other end.
                for kind in [SegmentKind.syn, .rst] {
                    Drop(kind, at: .link(from: "client", to: "server"), .nth(1000))
                }
            case .controlRules:
                // The same with FIN, which may ride on a GSO packet's last segment: the egress
                // program decides on that segment, and a packet it acted on would take the detour.
                for kind in [SegmentKind.syn, .fin, .rst] {
                    Drop(kind, at: .link(from: "client", to: "server"), .nth(1000))
                }
            case .kernelEverySegment:
                Impair(from: "client", to: "server", backend: .bpf)
            case .queueEverySegment:
                Impair(from: "client", to: "server", backend: .nfqueue)
            }
        }
    }

    /// One transfer: seconds from the server's accept to its last read, the client's segments
    /// sent, and the in-kernel programs' cost. The capture is off: it costs every side alike.
    static func measureOnce(_ variant: Variant, bytes: Int) throws -> (seconds: Double, segments: Int64, result: ScenarioResult) {
        let (seconds, result) = try BulkTransfer.run(scenario(variant, bytes: bytes), bytes: bytes, capture: false,
                                                     what: "bench faults, \(variant.rawValue)")
        return (seconds, result.counters["client.TcpOutSegs"] ?? 0, result)
    }

    /// Runs `rounds` rounds of `bytes`-byte transfers, each round every one of `variants` (and
    /// clean, which every ratio is over) once in its own order (needs root). Fewer sides give
    /// the ones asked about more rounds in the same time.
    public static func run(bytes: Int, rounds: Int, variants asked: [Variant] = Variant.allCases) throws -> Measurement {
        let variants = Variant.allCases.filter { $0 == .clean || asked.contains($0) }
        var seconds: [Variant: [Double]] = [:], segmentRates: [Variant: [Double]] = [:], backend: [Variant: String] = [:]
        var runs: [Variant: [Double]] = [:], perRun: [Variant: [Double]] = [:], shares: [Variant: [Double]] = [:]
        for order in BenchStatistics.roundOrders(variants, rounds: rounds) {
            for variant in order {
                let (elapsed, segments, result) = try measureOnce(variant, bytes: bytes)
                seconds[variant, default: []].append(elapsed)
                segmentRates[variant, default: []].append(Double(segments) / elapsed)
                backend[variant] = Set(result.faults.map(\.backend)).sorted().joined(separator: ",")
            }
        }
        try ProgramCost.counting {
            for variant in variants where backend[variant]?.hasPrefix("bpf") == true {
                let (elapsed, _, result) = try measureOnce(variant, bytes: bytes)
                let programRuns = result.faultPrograms.reduce(0) { $0 + $1.runs }
                let nanoseconds = result.faultPrograms.reduce(0) { $0 + $1.nanoseconds }
                if programRuns > 0 {
                    runs[variant] = [Double(programRuns)]
                    perRun[variant] = [Double(nanoseconds) / Double(programRuns)]
                    shares[variant] = [Double(nanoseconds) / 1e9 / elapsed * 100]
                }
            }
        }
        let median = BenchStatistics.median
        func mbps(_ variant: Variant) -> [Double] { (seconds[variant] ?? []).map { Double(bytes) * 8 / $0 / 1e6 } }
        let clean = median(mbps(.clean))
        let sides = variants.map { variant in
            let m = median(mbps(variant))
            let interval = variant == .clean ? nil : BenchStatistics.ratioInterval(mbps(variant), over: mbps(.clean))
            let verdict = interval.flatMap { interval in variant.target.map { BenchStatistics.verdict(interval, atLeast: $0) } }
            return Side(name: variant.rawValue, backend: backend[variant].map { $0.isEmpty ? "-" : $0 } ?? "-", medianMbps: m,
                        ratio: m / clean, ratioInterval: interval.map { [$0.lowerBound, $0.upperBound] },
                        target: variant.target, verdict: verdict, roundsMbps: mbps(variant),
                        segmentsPerSecond: median(segmentRates[variant] ?? []),
                        programRuns: runs[variant].map { UInt64(median($0)) },
                        programNanosecondsPerRun: perRun[variant].map(median),
                        programCPUPercent: shares[variant].map(median))
        }
        let available = FaultBackends.current
        return Measurement(bytes: bytes, rounds: rounds, sides: sides, kernel: MachineInfo.kernelRelease,
                           backends: "bpf " + (available.tcBPF ? "yes" : "no") + ", fq " + (available.fq ? "yes" : "no")
                               + ", \(available.queueDescription)")
    }
}
