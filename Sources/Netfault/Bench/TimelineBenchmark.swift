import Foundation
import NetfaultKernel

/// `netfault bench timeline`: (1) the recorded instants against tcpdump's own
/// capture of the same run, on the same host: same segment count, instants
/// equal within 10 µs; (2) what recording costs a bulk transfer: throughput with
/// the capture on against off, alternating round by round, medians compared.
public enum TimelineBenchmark {
    /// What `netfault bench timeline --json` writes.
    public struct Measurement: Codable, Sendable {
        /// Segments the client's capture recorded, and tcpdump's count of the same run.
        public var segments: Int
        /// tcpdump's count of the same run's segments.
        public var tcpdumpSegments: Int
        /// Frames of netfault's capture with no identical frame in tcpdump's (target 0).
        public var framesNotInTcpdump: Int
        /// The largest difference between a recorded instant and tcpdump's for the same frame.
        public var maxInstantDifferenceMicroseconds: Double
        /// Bytes per throughput transfer.
        public var bytes: Int
        /// Rounds, each running every variant once.
        public var rounds: Int
        /// Median throughput without any capture, Mbit/s.
        public var withoutCaptureMbps: Double
        /// Median throughput with netfault's capture, Mbit/s.
        public var withCaptureMbps: Double
        /// 1 − with/without, in percent (target ≤ 5).
        public var captureCostPercent: Double
        /// The baseline: tcpdump capturing the same way on both hosts instead of netfault.
        public var withTcpdumpMbps: Double
        /// 1 − with tcpdump/without, in percent.
        public var tcpdumpCostPercent: Double
        /// `uname -r`.
        public var kernel: String
    }

    /// Compares instants with tcpdump on a `compareBytes` transfer, then runs `rounds` rounds of `bytes` (needs root).
    public static func run(bytes: Int, rounds: Int, compareBytes: Int = 5_000_000) throws -> Measurement {
        let comparison = try compareWithTcpdump(bytes: compareBytes)
        var seconds: [Recorder: [Double]] = [:]
        for _ in 0..<rounds {
            for recorder in Recorder.allCases {
                seconds[recorder, default: []].append(try transfer(bytes: bytes, recorder: recorder))
            }
        }
        func mbps(_ recorder: Recorder) -> Double { Double(bytes) * 8 / TopologyBenchmark.median(seconds[recorder] ?? []) / 1e6 }
        return Measurement(segments: comparison.ours, tcpdumpSegments: comparison.tcpdump,
                           framesNotInTcpdump: comparison.unmatched,
                           maxInstantDifferenceMicroseconds: comparison.maxDifference * 1e6, bytes: bytes, rounds: rounds,
                           withoutCaptureMbps: mbps(.none), withCaptureMbps: mbps(.netfault),
                           captureCostPercent: (1 - mbps(.netfault) / mbps(.none)) * 100,
                           withTcpdumpMbps: mbps(.tcpdump), tcpdumpCostPercent: (1 - mbps(.tcpdump) / mbps(.none)) * 100,
                           kernel: MachineInfo.kernelRelease)
    }

    enum Recorder: CaseIterable {
        case none, netfault, tcpdump
    }

    /// One bulk transfer; seconds from the server's accept to its last read.
    static func transfer(bytes: Int, recorder: Recorder) throws -> Double {
        let scenario = BulkTransfer.scenario("bench-timeline-bulk", subnet: "10.77.252.0/24", bytes: bytes) {
            if recorder == .tcpdump {
                for host in ["client", "server"] {
                    Command("tcpdump-\(host)", on: host, tcpdump(writingTo: "/dev/null"))
                }
                Wait(1)
            }
        }
        return try BulkTransfer.run(scenario, bytes: bytes, capture: recorder == .netfault, what: "bench timeline").seconds
    }

    /// tcpdump set up as netfault's own capture is: the any device, SLL2, the same snap length,
    /// nanosecond stamps, a 32 MiB ring, TCP only. -Z root: Debian's tcpdump would otherwise
    /// give up root before opening the file.
    static func tcpdump(writingTo path: String) -> [String] {
        ["tcpdump", "-i", "any", "-y", "LINUX_SLL2", "-s", "\(PacketCapture.defaultSnapLength)", "--time-stamp-precision", "nano",
         "-B", "32768", "-Z", "root", "-w", path, "tcp"]
    }

    /// tcpdump in the client's namespace next to netfault's own capture, both writing files;
    /// the frames are compared one by one (both captures see the same frames in the same order).
    static func compareWithTcpdump(bytes: Int) throws -> (ours: Int, tcpdump: Int, unmatched: Int, maxDifference: Double) {
        let directory = NSTemporaryDirectory() + "netfault-bench-timeline-\(ProcessInfo.processInfo.processIdentifier)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let tcpdumpFile = "\(directory)/tcpdump.pcap"
        let scenario = Scenario("bench-timeline", "timeline benchmark", timeLimit: 60) {
            Host("client")
            Host("server")
            Link("client", "server", subnet: "10.77.251.0/24")
            Command("tcpdump", on: "client", tcpdump(writingTo: tcpdumpFile))
            // tcpdump has its socket open well within this (it prints nothing we could wait for).
            Wait(1)
            Peer("server", on: "server", .listen(port: 5001), .accept, .readToEnd, .close)
            WaitFor(.listener(on: "server", port: 5001), in: .listen, timeout: 2)
            Peer("client", on: "client", .connect(to: "server", port: 5001), .write(bytes: bytes, writes: max(1, bytes / 65536)),
                 .close)
            WaitFor(exitOf: "server", timeout: 50)
            // The last ACKs, then the scenario's end stops tcpdump with SIGTERM, which makes it flush.
            Wait(0.2)
        }
        try ScenarioRunner.check(scenario)
        let result = ScenarioRunner.run(scenario, options: RunOptions(sampleInterval: 0.05, pcapDirectory: directory))
        guard result.error == nil else { throw EnvironmentError("bench timeline: the transfer did not complete: \(result.error!)") }
        guard result.captureDropped == 0 else { throw EnvironmentError("bench timeline: the capture dropped \(result.captureDropped) frames") }
        let ours = try PcapFile.read("\(directory)/bench-timeline/client.pcapng")
        let theirs = try PcapFile.read(tcpdumpFile)
        let recorded = result.segments.filter { $0.host == "client" && $0.window != nil }.count
        guard ours.count == recorded else {
            throw EnvironmentError("bench timeline: \(recorded) segments in the result but \(ours.count) frames in the file")
        }
        // Two sockets may receive frames stamped on different CPUs in different orders: pair
        // each frame with tcpdump's copy of the same bytes (retransmissions differ in their
        // TCP timestamp option), the nearest in time.
        var theirsByBytes: [ArraySlice<UInt8>: [Int64]] = [:]
        for index in theirs.records.indices { theirsByBytes[theirs.bytes(index), default: []].append(theirs.records[index].timestamp) }
        var maxDifference: Int64 = 0
        var unmatched = 0
        for index in ours.records.indices {
            let stamp = ours.records[index].timestamp
            guard let candidates = theirsByBytes[ours.bytes(index)], !candidates.isEmpty,
                  let nearest = candidates.indices.min(by: { abs(candidates[$0] - stamp) < abs(candidates[$1] - stamp) }) else {
                unmatched += 1
                continue
            }
            maxDifference = max(maxDifference, abs(candidates[nearest] - stamp))
            theirsByBytes[ours.bytes(index)]!.remove(at: nearest)
        }
        return (recorded, theirs.count, unmatched, Double(maxDifference) / 1e9)
    }
}
