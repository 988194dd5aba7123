import Foundation
import NetfaultKernel

/// `netfault bench faults`: bulk TCP throughput across one link, (i) clean,
/// (ii) with fault rules that can only touch SYN, FIN and RST segments, and
/// (iii) with a zero-delay link-wide impairment on the precise backend, so every
/// data segment passes the verdict engine. The variants alternate round by round
/// so the machine's noise hits them alike; medians are reported.
public enum FaultBenchmark {
    /// What `netfault bench faults --json` writes.
    public struct Measurement: Codable, Sendable {
        /// Bytes per transfer.
        public var bytes: Int
        /// Rounds, each running every variant once.
        public var rounds: Int
        /// Median throughput without faults, Mbit/s.
        public var cleanMbps: Double
        /// Median throughput with rules that touch only SYN, FIN and RST, Mbit/s.
        public var controlRuleMbps: Double
        /// controlRuleMbps / cleanMbps (target ≥ 0.97).
        public var controlRuleRatio: Double
        /// Data segments through the verdict engine per second (target ≥ 300,000).
        public var queueAllSegmentsPerSecond: Double
        /// Median throughput with every data segment through the verdict engine, Mbit/s.
        public var queueAllMbps: Double
        /// How the queue rules queue packets on this kernel (native expression or xtables target).
        public var queueBackend: String
        /// `uname -r`.
        public var kernel: String
    }

    enum Variant: CaseIterable {
        case clean, controlRule, queueAll
    }

    static func scenario(_ variant: Variant, bytes: Int) -> Scenario {
        BulkTransfer.scenario("bench-faults", subnet: "10.77.250.0/24", bytes: bytes) {
            switch variant {
            case .clean:
                []
            case .controlRule:
                // Never acts (no flow has 1,000 of them), but its rules queue every SYN, FIN and RST.
                for kind in [SegmentKind.syn, .fin, .rst] {
                    Drop(kind, at: .link(from: "client", to: "server"), .nth(1000))
                }
            case .queueAll:
                Impair(from: "client", to: "server", backend: .nfqueue)
            }
        }
    }

    /// One transfer: seconds from the server's accept to its last read, and the client's segments sent.
    /// The capture is off: it costs every variant alike, and `bench timeline` measures it.
    static func measureOnce(_ variant: Variant, bytes: Int) throws -> (seconds: Double, segments: Int64) {
        let (seconds, result) = try BulkTransfer.run(scenario(variant, bytes: bytes), bytes: bytes, capture: false,
                                                     what: "bench faults, \(variant)")
        return (seconds, result.counters["client.TcpOutSegs"] ?? 0)
    }

    /// Runs `rounds` rounds of `bytes`-byte transfers, the variants alternating (needs root).
    public static func run(bytes: Int, rounds: Int) throws -> Measurement {
        var seconds: [Variant: [Double]] = [:]
        var segmentRates: [Double] = []
        for _ in 0..<rounds {
            for variant in Variant.allCases {
                let (elapsed, segments) = try measureOnce(variant, bytes: bytes)
                seconds[variant, default: []].append(elapsed)
                if variant == .queueAll { segmentRates.append(Double(segments) / elapsed) }
            }
        }
        func mbps(_ variant: Variant) -> Double { Double(bytes) * 8 / TopologyBenchmark.median(seconds[variant] ?? []) / 1e6 }
        return Measurement(bytes: bytes, rounds: rounds, cleanMbps: mbps(.clean), controlRuleMbps: mbps(.controlRule),
                           controlRuleRatio: mbps(.controlRule) / mbps(.clean),
                           queueAllSegmentsPerSecond: TopologyBenchmark.median(segmentRates), queueAllMbps: mbps(.queueAll),
                           queueBackend: FaultBackends.current.queueDescription, kernel: MachineInfo.kernelRelease)
    }
}
