import Foundation
import NetfaultKernel

/// `netfault bench timeline`: (1) each capture's instants against tcpdump's own capture of
/// the same run, on the same host: every segment matched both ways, instant differences
/// (median, p99, largest; target ≤ 10 µs); (2) what recording costs a bulk transfer:
/// throughput without a capture, with the BPF capture (the default), with netfault's
/// libpcap capture, and with tcpdump on both hosts, each round in its own order
/// (`BenchStatistics.roundOrders`), medians compared (target for the BPF capture ≤ 10 %).
public enum TimelineBenchmark {
    /// One capture's frames against tcpdump's.
    public struct Comparison: Codable, Sendable {
        /// Frames of the client the capture recorded (both directions; the BPF capture's after
        /// its GSO records were cut into segments).
        public var frames: Int
        /// tcpdump's count of the client's frames in the same run.
        public var tcpdumpFrames: Int
        /// Frames of the capture with no frame of tcpdump's with the same headers (target 0).
        public var framesNotInTcpdump: Int
        /// tcpdump's frames the capture has no frame for: segments missing (target 0).
        public var tcpdumpFramesMissing: Int
        /// capture − tcpdump over the matched frames, median, µs.
        public var medianDifferenceMicroseconds: Double
        /// The 99th percentile of capture − tcpdump, µs.
        public var p99DifferenceMicroseconds: Double
        /// The largest capture − tcpdump, µs.
        public var maxDifferenceMicroseconds: Double
        /// The smallest capture − tcpdump (negative: the capture's instant was earlier), µs.
        public var minDifferenceMicroseconds: Double
        /// The largest |capture − tcpdump|, µs (the issue's bound: ≤ 10).
        public var maxAbsoluteDifferenceMicroseconds: Double
        /// What tcpdump said at its end about packets "dropped by kernel" (its ring was full):
        /// frames of ours not in tcpdump's are those, not ours too many. nil: it did not say.
        public var tcpdumpDroppedByKernel: Int?
        /// The run's `captureNote`: for the BPF capture, how many segments kept their packet's
        /// instant for want of their own departure (nil: every segment had its own).
        public var captureNote: String?
    }

    /// What `netfault bench timeline --json` writes.
    public struct Measurement: Codable, Sendable {
        /// The BPF capture (tc egress, GSO records cut in userspace) against tcpdump.
        public var bpf: Comparison
        /// netfault's libpcap capture (`--pcap`, and the fallback) against tcpdump.
        public var libpcap: Comparison
        /// Bytes per throughput transfer.
        public var bytes: Int
        /// Rounds, each running every variant once.
        public var rounds: Int
        /// Each round's throughput per variant ("none", "bpf", "libpcap", "tcpdump"), Mbit/s, round by round.
        public var roundMbps: [String: [Double]]
        /// Median throughput without any capture, Mbit/s.
        public var withoutCaptureMbps: Double
        /// Median throughput with the BPF capture, Mbit/s.
        public var withBPFCaptureMbps: Double
        /// 1 − BPF/without, in percent (target ≤ 10).
        public var bpfCaptureCostPercent: Double
        /// The 95 % confidence interval of `bpfCaptureCostPercent`, [low, high], by bootstrap
        /// over the rounds (`BenchStatistics.ratioInterval`); nil without rounds.
        public var bpfCaptureCostIntervalPercent: [Double]?
        /// Whether that interval is within the 10 % target ("met"), beyond it ("not met"), or
        /// straddles it ("unresolved").
        public var bpfCaptureCostVerdict: BenchStatistics.Verdict?
        /// Median throughput with netfault's libpcap capture, Mbit/s.
        public var withLibpcapCaptureMbps: Double
        /// 1 − libpcap/without, in percent.
        public var libpcapCaptureCostPercent: Double
        /// The baseline: tcpdump capturing the same way on both hosts instead of netfault.
        public var withTcpdumpMbps: Double
        /// 1 − with tcpdump/without, in percent.
        public var tcpdumpCostPercent: Double
        /// Each variant's cost paired round by round: the median over rounds of 1 − variant/none
        /// of the same round, in percent ("bpf", "libpcap", "tcpdump"). Robust to load that
        /// changes between rounds (the machine is shared), which the medians' ratio is not.
        public var pairedCostPercent: [String: Double]
        /// The 1-minute load average before the first and after the last round (/proc/loadavg):
        /// the machine is shared, and throughput depends on what else runs.
        public var loadAverage: [Double]
        /// `uname -r`.
        public var kernel: String
        /// What a bulk transfer's capture adds to a run after it: seconds to build the timeline
        /// from the BPF capture's frames and make its JSON records (`TimelineBuilder.build`, then
        /// `SegmentRecord.records`), the median over the BPF rounds, each built again by the
        /// bench from the frames the run handed over. nil without rounds.
        public var timelineBuildSeconds: Double?
        /// The BPF capture's programs in one more transfer after the rounds, counted by the
        /// kernel's run-time accounting (`ProgramCost.counting`, which the throughput rounds must
        /// not pay): each program's runs and run time, summed over the hosts (`capture_egress`
        /// once per packet, `capture_departure` once per segment handed to a device). Empty
        /// without rounds.
        public var capturePrograms: [ProgramCost]
        /// Their run time over that transfer's duration, in percent of one CPU; nil without rounds.
        public var captureProgramCPUPercent: Double?
        /// The CPU the BPF capture's reader threads took (each host's ring and the departures'
        /// ring, from the scenario's start to the last read after it) over the transfer's
        /// duration, in percent of one CPU: the median over the BPF rounds; nil without rounds.
        /// Without IRQ time accounting (CONFIG_IRQ_TIME_ACCOUNTING, off on this machine's
        /// kernel) it includes the softirq work, such as receiving the transfer's segments,
        /// that ran while a reader was on its CPU.
        public var captureReaderCPUPercent: Double?
    }

    /// Compares each capture's instants with tcpdump's on a `compareBytes` transfer, then
    /// runs `rounds` rounds of `bytes` (none, BPF, libpcap, tcpdump, each round in its own order; needs root).
    public static func run(bytes: Int, rounds: Int, compareBytes: Int = 5_000_000) throws -> Measurement {
        let loadBefore = loadAverage()
        let bpf = try compareWithTcpdump(bytes: compareBytes, method: .bpf)
        let libpcap = try compareWithTcpdump(bytes: compareBytes, method: .libpcap)
        var seconds: [Recorder: [Double]] = [:]
        var buildSeconds: [Double] = [], readerShares: [Double] = []
        for order in BenchStatistics.roundOrders(Recorder.allCases, rounds: rounds) {
            for recorder in order {
                let (transferSeconds, frames, result) = try transfer(bytes: bytes, recorder: recorder)
                seconds[recorder, default: []].append(transferSeconds)
                if recorder == .bpf, let frames {
                    buildSeconds.append(timelineBuildSeconds(frames.captures, zero: frames.zero))
                    readerShares.append(result.captureReaderCPUSeconds / transferSeconds * 100)
                }
            }
        }
        var programs: [ProgramCost] = [], programCPUPercent: Double?
        if rounds > 0 {
            let (transferSeconds, _, result) = try ProgramCost.counting { try transfer(bytes: bytes, recorder: .bpf) }
            programs = summedByProgram(result.capturePrograms)
            // Over the whole scenario (setup included), against the transfer's time: the
            // programs run on the scenario's segments, nearly all of them in the transfer.
            let nanoseconds = programs.reduce(UInt64(0)) { $0 + $1.nanoseconds }
            programCPUPercent = Double(nanoseconds) / 1e9 / transferSeconds * 100
        }
        func mbps(_ recorder: Recorder) -> Double { Double(bytes) * 8 / BenchStatistics.median(seconds[recorder] ?? []) / 1e6 }
        // Throughput ratios over the rounds; a cost of c % is a ratio of 1 − c/100.
        let bpfRatio = BenchStatistics.ratioInterval((seconds[.bpf] ?? []).map { 1 / $0 }, over: (seconds[.none] ?? []).map { 1 / $0 })
        let bpfCost = bpfRatio.map { (1 - $0.upperBound) * 100...(1 - $0.lowerBound) * 100 }
        func cost(_ recorder: Recorder) -> Double { (1 - mbps(recorder) / mbps(.none)) * 100 }
        // The none transfer ran within the same round as the others: same load, or nearly.
        func paired(_ recorder: Recorder) -> Double {
            let ratios = zip(seconds[recorder] ?? [], seconds[.none] ?? []).map { $0.1 / $0.0 }
            return (1 - BenchStatistics.median(ratios)) * 100
        }
        return Measurement(bpf: bpf, libpcap: libpcap, bytes: bytes, rounds: rounds,
                           roundMbps: Dictionary(uniqueKeysWithValues: seconds.map { entry in
                               (entry.key.rawValue, entry.value.map { Double(bytes) * 8 / $0 / 1e6 })
                           }),
                           withoutCaptureMbps: mbps(.none), withBPFCaptureMbps: mbps(.bpf), bpfCaptureCostPercent: cost(.bpf),
                           bpfCaptureCostIntervalPercent: bpfCost.map { [$0.lowerBound, $0.upperBound] },
                           bpfCaptureCostVerdict: bpfCost.map { BenchStatistics.verdict($0, atMost: 10) },
                           withLibpcapCaptureMbps: mbps(.libpcap), libpcapCaptureCostPercent: cost(.libpcap),
                           withTcpdumpMbps: mbps(.tcpdump), tcpdumpCostPercent: cost(.tcpdump),
                           pairedCostPercent: [Recorder.bpf, .libpcap, .tcpdump].reduce(into: [:]) { $0[$1.rawValue] = paired($1) },
                           loadAverage: [loadBefore, loadAverage()], kernel: MachineInfo.kernelRelease,
                           timelineBuildSeconds: buildSeconds.isEmpty ? nil : BenchStatistics.median(buildSeconds),
                           capturePrograms: programs, captureProgramCPUPercent: programCPUPercent,
                           captureReaderCPUPercent: readerShares.isEmpty ? nil : BenchStatistics.median(readerShares))
    }

    /// Seconds to build the timeline of `captures` and its JSON records, as a run does after its capture stops.
    static func timelineBuildSeconds(_ captures: [TimelineBuilder.HostCapture], zero: Int64) -> Double {
        let start = MonotonicClock.now()
        let records = SegmentRecord.records(TimelineBuilder.build(captures, zero: zero, decisions: []))
        withExtendedLifetime(records) {}
        return Double(MonotonicClock.now() - start) / 1e9
    }

    /// Each program's runs and run time summed over the hosts that ran it, by name.
    static func summedByProgram(_ costs: [ProgramCost]) -> [ProgramCost] {
        var summed: [String: ProgramCost] = [:]
        for cost in costs {
            summed[cost.program, default: ProgramCost(program: cost.program, runs: 0, nanoseconds: 0)].runs += cost.runs
            summed[cost.program]!.nanoseconds += cost.nanoseconds
        }
        return summed.values.sorted { $0.program < $1.program }
    }

    /// /proc/loadavg's first field (0 when unreadable).
    static func loadAverage() -> Double {
        (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8)).flatMap { $0.split(separator: " ").first.flatMap { Double($0) } } ?? 0
    }

    enum Recorder: String, CaseIterable {
        case none, bpf, libpcap, tcpdump
    }

    /// One bulk transfer; seconds from the server's accept to its last read, for the BPF
    /// capture the frames it handed over (with the run's zero) before its timeline was built,
    /// and the run's result.
    static func transfer(bytes: Int, recorder: Recorder) throws
        -> (seconds: Double, frames: (captures: [TimelineBuilder.HostCapture], zero: Int64)?, result: ScenarioResult) {
        let scenario = BulkTransfer.scenario("bench-timeline-bulk", subnet: "10.77.252.0/24", bytes: bytes) {
            if recorder == .tcpdump {
                for host in ["client", "server"] {
                    Command("tcpdump-\(host)", on: host, tcpdump(writingTo: "/dev/null"))
                }
                Wait(1)
            }
        }
        let handed = Frames()
        let observer: @Sendable ([TimelineBuilder.HostCapture], Int64) -> Void = { captures, zero in
            handed.lock.withLock { handed.all = (captures, zero) }
        }
        let (seconds, result) = try BulkTransfer.run(scenario, bytes: bytes, capture: recorder == .bpf || recorder == .libpcap,
                                                     captureMethod: recorder == .libpcap ? .libpcap : .bpf, what: "bench timeline",
                                                     framesObserver: recorder == .bpf ? observer : nil)
        if recorder == .bpf, result.capture != "bpf" {
            throw EnvironmentError("bench timeline: the BPF capture did not run: \(result.captureNote ?? "no capture")")
        }
        return (seconds, handed.lock.withLock { handed.all }, result)
    }

    /// tcpdump set up as netfault's own capture is: the any device, SLL2, the same snap length,
    /// nanosecond stamps, a 32 MiB ring, TCP only. -Z root: Debian's tcpdump would otherwise
    /// give up root before opening the file.
    static func tcpdump(writingTo path: String) -> [String] {
        ["tcpdump", "-i", "any", "-y", "LINUX_SLL2", "-s", "\(PacketCapture.defaultSnapLength)", "--time-stamp-precision", "nano",
         "-B", "32768", "-Z", "root", "-w", path, "tcp"]
    }

    /// Holds what the runner hands the bench before it builds the timeline.
    private final class Frames: @unchecked Sendable {
        let lock = NSLock()
        var client: CapturedFrames?
        var all: (captures: [TimelineBuilder.HostCapture], zero: Int64)?
    }

    /// tcpdump in the client's namespace next to netfault's capture (`method`); the client's
    /// frames are compared one by one with tcpdump's file.
    static func compareWithTcpdump(bytes: Int, method: CaptureMethod) throws -> Comparison {
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
            // The last ACKs, then the scenario's end stops tcpdump with SIGTERM, which makes it
            // flush. 1.5 s: tcpdump reads a TPACKET_V3 ring whose blocks the kernel hands over
            // when full or after a 1 s timeout; what is in a block still open when tcpdump stops
            // is lost (with 0.2 s, 5–20 % of the frames at the end were never in its file).
            Wait(1.5)
        }
        try ScenarioRunner.check(scenario)
        let frames = Frames()
        var options = RunOptions(sampleInterval: 0.05)
        options.captureMethod = method
        options.framesObserver = { captures, _ in
            frames.lock.withLock { frames.client = captures.first { $0.host == "client" }?.frames }
        }
        let result = ScenarioRunner.run(scenario, options: options)
        guard result.error == nil else { throw EnvironmentError("bench timeline: the transfer did not complete: \(result.error!)") }
        guard result.captureDropped == 0 else { throw EnvironmentError("bench timeline: the capture dropped \(result.captureDropped) frames") }
        guard result.capture == method.rawValue else {
            throw EnvironmentError("bench timeline: the \(method.rawValue) capture did not run: \(result.captureNote ?? "no capture")")
        }
        guard let ours = frames.lock.withLock({ frames.client }) else { throw EnvironmentError("bench timeline: no frames of the client") }
        var comparison = compare(ours, with: try PcapFile.read(tcpdumpFile))
        comparison.tcpdumpDroppedByKernel = result.processes.first { $0.name == "tcpdump" }.flatMap { process in
            Self.droppedByKernel(process.stderr.head + process.stderr.tail)
        }
        comparison.captureNote = result.captureNote
        return comparison
    }

    /// A frame as both captures have it: direction, length and headers (network header
    /// through the TCP options, TCP checksum left out: the BPF capture sees it before the
    /// kernel computes it; the cooked header's link-layer address and interface are left
    /// out too: the BPF capture does not see the sender's).
    private struct FrameKey: Hashable {
        let outgoing: Bool
        let length: Int
        let headers: [UInt8]
    }

    private static func keys(_ frames: CapturedFrames) -> [(key: FrameKey, time: Int64)] {
        frames.records.indices.compactMap { index in
            let bytes = frames.bytes(index)
            guard bytes.count > 20, let decoded = FrameDecoder.decode(bytes, linkType: frames.linkType), !decoded.isLoopback,
                  let headers = GSOSegments.comparableHeaders(bytes.dropFirst(20)) else {
                return nil
            }
            return (FrameKey(outgoing: decoded.direction == .out, length: frames.records[index].length, headers: headers),
                    frames.records[index].timestamp)
        }
    }

    /// "N packets dropped by kernel" in tcpdump's closing words: N.
    static func droppedByKernel(_ stderr: String) -> Int? {
        for line in stderr.split(separator: "\n") where line.hasSuffix("packets dropped by kernel") || line.hasSuffix("packet dropped by kernel") {
            if let number = line.split(separator: " ").first.flatMap({ Int($0) }) { return number }
        }
        return nil
    }

    /// Pairs each of our frames with tcpdump's copy of the same headers nearest in time (two
    /// sockets may get frames stamped on different CPUs in different orders; retransmissions
    /// differ in their TCP timestamp option).
    static func compare(_ ours: CapturedFrames, with theirs: CapturedFrames) -> Comparison {
        let ourFrames = keys(ours), theirFrames = keys(theirs)
        var pool: [FrameKey: [Int64]] = [:]
        for frame in theirFrames { pool[frame.key, default: []].append(frame.time) }
        var differences: [Int64] = []
        var unmatched = 0
        for frame in ourFrames {
            guard let candidates = pool[frame.key], !candidates.isEmpty,
                  let nearest = candidates.indices.min(by: { abs(candidates[$0] - frame.time) < abs(candidates[$1] - frame.time) }) else {
                unmatched += 1
                continue
            }
            differences.append(frame.time - candidates[nearest])
            pool[frame.key]!.remove(at: nearest)
        }
        let sorted = differences.sorted()
        func microseconds(_ quantile: Double) -> Double {
            sorted.isEmpty ? 0 : Double(sorted[min(sorted.count - 1, Int(Double(sorted.count - 1) * quantile))]) / 1000
        }
        return Comparison(frames: ourFrames.count, tcpdumpFrames: theirFrames.count, framesNotInTcpdump: unmatched,
                          tcpdumpFramesMissing: pool.values.reduce(0) { $0 + $1.count },
                          medianDifferenceMicroseconds: microseconds(0.5), p99DifferenceMicroseconds: microseconds(0.99),
                          maxDifferenceMicroseconds: microseconds(1), minDifferenceMicroseconds: microseconds(0),
                          maxAbsoluteDifferenceMicroseconds: Double(sorted.map { abs($0) }.max() ?? 0) / 1000)
    }
}
