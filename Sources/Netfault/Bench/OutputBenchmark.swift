import Foundation
import NetfaultKernel

/// `netfault bench output`: a program writing N bytes to stdout as a scenario's Command
/// (netfault reading, keeping head and tail) against the same program writing to
/// /dev/null outside any scenario, alternated round by round; plus netfault's memory growth.
public enum OutputBenchmark {
    /// What `netfault bench output --json` writes.
    public struct Measurement: Codable, Sendable {
        /// Bytes the program writes per round.
        public var bytes: Int
        /// Rounds, each running both variants once.
        public var rounds: Int
        /// The program: `head -c N /dev/zero | tr '\0' x` (as the issue measured it).
        public var program: String
        /// Median MB/s (10^6 bytes) of the program inside a scenario, its stdout read by netfault.
        public var insideMBps: Double
        /// Median MB/s of the same program writing to /dev/null, outside.
        public var outsideMBps: Double
        /// insideMBps / outsideMBps (target ≥ 0.8 at 2 GB).
        public var ratio: Double
        /// Median MB/s of the program piped into `cat > /dev/null` outside: what any pipe
        /// reader gets (a pipe costs the writer a copy that /dev/null does not).
        public var pipedToCatMBps: Double
        /// The largest growth of netfault's resident memory over a scenario round: the peak
        /// during it (VmHWM, reset before) less the resident size before (target ≤ 64 MiB).
        public var rssGrowthMiB: Double
        /// netfault's own CPU time (all its threads, not its children) per GB read, median.
        public var cpuSecondsPerGB: Double
        /// `uname -r`.
        public var kernel: String
    }

    static func shellCommand(bytes: Int) -> String { "head -c \(bytes) /dev/zero | tr '\\0' x" }

    /// Seconds the program took inside a scenario, and netfault's memory growth over the round.
    public static func measureInside(bytes: Int) throws -> (seconds: Double, growth: Int, cpu: Double) {
        let scenario = Scenario("bench-output", "output benchmark", timeLimit: 3600) {
            Host("writer")
            Command("writer", on: "writer", ["/bin/sh", "-c", shellCommand(bytes: bytes)])
            WaitFor(exitOf: "writer", timeout: 3600)
        }
        let errors = ScenarioValidator.validate(scenario)
        if !errors.isEmpty { throw BenchmarkError(errors.map(\.description).joined(separator: "; ")) }
        ProcessMemory.resetPeak()
        let before = ProcessMemory.current()?.resident ?? 0
        let cpuBefore = ProcessMemory.cpuSeconds()
        let result = ScenarioRunner.run(scenario, options: RunOptions(capture: false))
        let cpu = ProcessMemory.cpuSeconds() - cpuBefore
        let peak = ProcessMemory.current()?.peak ?? 0
        guard let process = result.processes.first, let duration = process.duration, result.error == nil else {
            throw BenchmarkError("the scenario failed: \(result.error ?? "no process recorded")")
        }
        guard process.exitStatus == 0, process.stdout.bytes == bytes else {
            throw BenchmarkError("the writer exited \(process.exitStatus.map(String.init) ?? "?") after \(process.stdout.bytes) of \(bytes) bytes")
        }
        return (duration, max(0, peak - before), cpu)
    }

    /// Seconds the same program takes writing to /dev/null, outside any namespace.
    public static func measureOutside(bytes: Int, throughCat: Bool = false) throws -> Double {
        let process = Foundation.Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", shellCommand(bytes: bytes) + (throughCat ? " | cat" : "")]
        process.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        let start = MonotonicClock.now()
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw BenchmarkError("the writer exited \(process.terminationStatus) outside") }
        return Double(MonotonicClock.now() - start) / 1e9
    }

    /// Alternates which side goes first, so machine noise hits both alike; medians.
    public static func run(bytes: Int, rounds: Int) throws -> Measurement {
        var inside: [Double] = [], outside: [Double] = [], piped: [Double] = [], cpu: [Double] = [], growth = 0
        for round in 0..<rounds {
            if round % 2 == 0 { outside.append(try measureOutside(bytes: bytes)) }
            piped.append(try measureOutside(bytes: bytes, throughCat: true))
            let measured = try measureInside(bytes: bytes)
            inside.append(measured.seconds)
            cpu.append(measured.cpu)
            growth = max(growth, measured.growth)
            if round % 2 == 1 { outside.append(try measureOutside(bytes: bytes)) }
        }
        let insideRate = Double(bytes) / BenchStatistics.median(inside) / 1e6, outsideRate = Double(bytes) / BenchStatistics.median(outside) / 1e6
        return Measurement(bytes: bytes, rounds: rounds, program: shellCommand(bytes: bytes), insideMBps: insideRate,
                           outsideMBps: outsideRate, ratio: insideRate / outsideRate,
                           pipedToCatMBps: Double(bytes) / BenchStatistics.median(piped) / 1e6,
                           rssGrowthMiB: Double(growth) / 1_048_576,
                           cpuSecondsPerGB: BenchStatistics.median(cpu) / (Double(bytes) / 1e9), kernel: MachineInfo.kernelRelease)
    }

    struct BenchmarkError: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }
}
