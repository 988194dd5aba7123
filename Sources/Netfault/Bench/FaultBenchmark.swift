import Foundation
import NetfaultKernel

/// `netfault bench faults`: bulk TCP throughput across one link, (i) clean,
/// (ii) with fault rules that can only touch SYN, FIN and RST segments, and
/// (iii) with a zero-delay link-wide impairment on the precise backend, so every
/// data segment passes the verdict engine. The variants alternate round by round
/// so the machine's noise hits them alike; medians are reported.
public enum FaultBenchmark {
    public struct Measurement: Codable, Sendable {
        public var bytes: Int
        public var rounds: Int
        public var cleanMbps: Double
        public var controlRuleMbps: Double
        /// controlRuleMbps / cleanMbps (target ≥ 0.97).
        public var controlRuleRatio: Double
        /// Data segments through the verdict engine per second (target ≥ 300,000).
        public var queueAllSegmentsPerSecond: Double
        public var queueAllMbps: Double
        public var queueBackend: String
        public var kernel: String
    }

    enum Variant: CaseIterable {
        case clean, controlRule, queueAll
    }

    static func scenario(_ variant: Variant, bytes: Int) -> Scenario {
        Scenario("bench-faults", "fault benchmark", timeLimit: 120) {
            Host("client")
            Host("server")
            Link("client", "server", subnet: "10.77.250.0/24")
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
            Peer("server", on: "server", .listen(port: 5001), .accept, .read(bytes: bytes), .close)
            WaitFor(.listener(on: "server", port: 5001), in: .listen, timeout: 2)
            // 64 kB writes: the peer's write buffer is one write's size.
            Peer("client", on: "client", .connect(to: "server", port: 5001),
                 .write(bytes: bytes, writes: max(1, bytes / 65536)), .close)
            WaitFor(exitOf: "server", timeout: 110)
        }
    }

    /// One transfer: seconds from the server's accept to its last read, and the client's segments sent.
    /// The capture is off: it costs every variant alike, and `bench timeline` measures it.
    static func measureOnce(_ variant: Variant, bytes: Int) throws -> (seconds: Double, segments: Int64) {
        let scenario = scenario(variant, bytes: bytes)
        try ScenarioRunner.check(scenario)
        let result = ScenarioRunner.run(scenario, options: RunOptions(sampleInterval: 0.05, capture: false))
        guard result.status == .passed || result.error == nil,
              let server = result.processes.first(where: { $0.name == "server" }),
              let accepted = server.events.first(where: { $0.call == "accept" }),
              let read = server.events.first(where: { $0.call == "read" }), read.result == Int64(bytes) else {
            throw EnvironmentError("bench faults: the \(variant) transfer did not complete: \(result.error ?? "no read event")")
        }
        return (read.time - accepted.time, result.counters["client.TcpOutSegs"] ?? 0)
    }

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
